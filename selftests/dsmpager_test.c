// SPDX-License-Identifier: GPL-2.0
/*
 * daemons/dsmpager end to end in one kernel: two nodes, each a dsmpager
 * with its own object and its own nbdkit memory export as its home store,
 * joined over TCP on 127.0.0.1, each mapped by this test.  Two objects in
 * one kernel share nothing but what the protocol carries, so this is the
 * protocol as two machines run it (make check-dsm runs it across two
 * guests): a pattern written through one node read through the other;
 * two writers ping-ponging a page, every write seen in order; two writers
 * on the two halves of one page (false sharing) losing no update; and a
 * node killed while it writes losing nothing its home acknowledged.
 */
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "dsm.h"

#define NODES		2
#define SIZE		(1u << 20)
/* Page transfers: each costs a few ms under TCG, tens on the debug kernel. */
#define PING_ROUNDS	100
#define COUNT_ROUNDS	150

FIXTURE(dsm) {
	char conf[64];
	struct dsm_node n[NODES];
	size_t page;
};

FIXTURE_SETUP(dsm)
{
	unsigned int port = 20000 + getpid() % 20000;
	char tag[32];
	FILE *f;
	int i;

	self->page = sysconf(_SC_PAGESIZE);
	snprintf(self->conf, sizeof(self->conf), "/tmp/dsm-%d.conf", getpid());
	f = fopen(self->conf, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "# two nodes on one kernel\nsize %uM\n", SIZE >> 20);
	for (i = 0; i < NODES; i++)
		fprintf(f, "node %d 127.0.0.1:%u\n", i, port + i);
	fclose(f);
	for (i = 0; i < NODES; i++) {
		snprintf(tag, sizeof(tag), "%d-%d", getpid(), i);
		dsm_node_init(&self->n[i], tag);
		ASSERT_EQ(0, dsm_nbdkit(&self->n[i]));
	}
	for (i = 0; i < NODES; i++)
		ASSERT_EQ(0, dsm_spawn(&self->n[i], self->conf, i, 60));
	for (i = 0; i < NODES; i++)
		ASSERT_EQ(0, dsm_map(&self->n[i], SIZE))
			TH_LOG("node %d: %s", i, self->n[i].dp.all);
}

FIXTURE_TEARDOWN(dsm)
{
	int i;

	for (i = 0; i < NODES; i++)
		dsm_stop(&self->n[i]);
	unlink(self->conf);
}

/* Every page written through node 0 reads back through node 1, and back. */
TEST_F_TIMEOUT(dsm, pattern_crosses_nodes, 600)
{
	char *m0 = self->n[0].map, *m1 = self->n[1].map;
	const char *stats;

	/* Untouched: zeros, from either home. */
	ASSERT_EQ(0, m1[0]);
	ASSERT_EQ(0, m1[self->page]);
	fill_pattern(m0, 21, 0, SIZE);
	ASSERT_EQ(-1, dsm_bad_page(m1, 21, 0, SIZE, self->page));
	fill_pattern(m1, 22, 0, SIZE / 2);
	ASSERT_EQ(-1, dsm_bad_page(m0, 22, 0, SIZE / 2, self->page));
	ASSERT_EQ(-1, dsm_bad_page(m0, 21, SIZE / 2, SIZE / 2, self->page));
	/* Node 0 wrote every page, so it recalled node 1's copies. */
	stats = daemon_stats(&self->n[0].dp);
	ASSERT_NE(NULL, stats);
	EXPECT_LT(0, stat_of(stats, "recalls"));
	stats = daemon_stats(&self->n[1].dp);
	ASSERT_NE(NULL, stats);
	EXPECT_LT(0, stat_of(stats, "recalls"));
	EXPECT_LT(0, stat_of(stats, "stores"));
}

/*
 * Two writers on two nodes pass one count back and forth: each write
 * needs the page from the other node, and each must see the other's last.
 */
TEST_F_TIMEOUT(dsm, ping_pong_in_order, 600)
{
	struct dsm_writer w[2] = {
		{ .word = (uint64_t *)self->n[0].map, .rounds = PING_ROUNDS, .parity = 0 },
		{ .word = (uint64_t *)self->n[1].map, .rounds = PING_ROUNDS, .parity = 1 },
	};
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, dsm_ping_pong, &w[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, w[0].backwards);
	EXPECT_EQ(0, w[1].backwards);
	EXPECT_EQ(2 * PING_ROUNDS, *w[0].word);
	EXPECT_EQ(2 * PING_ROUNDS, *w[1].word);
}

/*
 * False sharing: each node writes its own half of one page, so the page
 * moves between them at every turn; no write may undo the other's.
 */
TEST_F_TIMEOUT(dsm, false_sharing_loses_no_update, 600)
{
	size_t off = 3 * self->page;
	struct dsm_half h[2] = {
		{ .word = (uint64_t *)(self->n[0].map + off), .rounds = COUNT_ROUNDS },
		{ .word = (uint64_t *)(self->n[1].map + off + self->page / 2), .rounds = COUNT_ROUNDS },
	};
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, dsm_count_up, &h[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, h[0].lost);
	EXPECT_EQ(0, h[1].lost);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(COUNT_ROUNDS, *(uint64_t *)(self->n[i].map + off));
		EXPECT_EQ(COUNT_ROUNDS, *(uint64_t *)(self->n[i].map + off + self->page / 2));
	}
}

static void store_round(uint64_t round, void *acked)
{
	*(_Atomic uint64_t *)acked = round;
}

/*
 * Node 1 writes a round number into every page and msyncs (which returns
 * when each page's home stored it), round after round, until it is killed
 * with its writer.  Every page node 0 is home to then holds the last round
 * node 1 completed, or the one it was writing.
 */
TEST_F_TIMEOUT(dsm, killed_node_loses_nothing_acknowledged, 600)
{
	_Atomic uint64_t *acked = mmap(NULL, sizeof(*acked), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *m0 = self->n[0].map, *m1 = self->n[1].map;
	size_t pages = 64;
	uint64_t done, held = 0;
	pid_t child;
	long bad;
	int i;

	ASSERT_NE(MAP_FAILED, acked);
	*acked = 0;
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		dsm_round_writer(m1, pages, self->page, store_round, (void *)acked);
	for (i = 0; i < 3000 && *acked < 3; i++)
		usleep(100000);
	ASSERT_LE(3, *acked);
	/* Mid-round, most likely: some pages written, not yet synced. */
	usleep(20000);
	kill(self->n[1].dp.pid, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	daemon_wait(&self->n[1].dp);
	done = *acked;
	bad = dsm_bad_round(m0, pages, NODES, self->page, done, &held);
	EXPECT_EQ(-1, bad) TH_LOG("page %ld holds round %llu, round %llu was stored", bad,
				  (unsigned long long)held, (unsigned long long)done);
	/* The pages node 1 was home to are gone with it: SIGBUS, not stale data. */
	catch_sigbus();
	EXPECT_EQ(1, touch(m0 + self->page, false, NULL));
	munmap((void *)acked, sizeof(*acked));
}

/*
 * --help and --version answer; a FILE that cannot be read or breaks the
 * rules is an error (1) naming the file and line, a bad command line a
 * usage error (2).  None of these needs the module or a peer.
 */
TEST(help_and_errors)
{
	const char *conf = "/tmp/dsm-cl.conf", *bad = "/tmp/dsm-cl-bad.conf";
	char *store = "--store=nbd+unix:///?socket=/tmp/dsm-cl.nbd";
	char *help[] = { "dsmpager", "--help", NULL };
	char *version[] = { "dsmpager", "--version", NULL };
	char *missing[] = { "dsmpager", "--config=/nonexistent.conf", "--node=0", store,
			    "/tmp/dsm-cl.sock", NULL };
	char *bad_line[] = { "dsmpager", "--config=/tmp/dsm-cl-bad.conf", "--node=0",
			     store, "/tmp/dsm-cl.sock", NULL };
	char *bad_node[] = { "dsmpager", "--config=/tmp/dsm-cl.conf", "--node=2", store,
			     "/tmp/dsm-cl.sock", NULL };
	char *cluster[] = { "dsmpager", "--cluster=4", "--config=/tmp/dsm-cl.conf",
			    "--node=0", store, "/tmp/dsm-cl.sock", NULL };
	char *no_store[] = { "dsmpager", "--config=/tmp/dsm-cl.conf", "--node=0",
			     "/tmp/dsm-cl.sock", NULL };
	struct daemon_proc dp;
	FILE *f;

	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fputs("size 1M\nnode 0 127.0.0.1:7070\nnode 1 127.0.0.1:7071\n", f);
	fclose(f);
	f = fopen(bad, "w");
	ASSERT_NE(NULL, f);
	fputs("size 1M\nnode 0 127.0.0.1:7070\nnod 1 127.0.0.1:7071\n", f);
	fclose(f);

	EXPECT_EQ(0, daemon_run(&dp, help));
	EXPECT_NE(NULL, strstr(dp.all, "usage: dsmpager")) TH_LOG("%s", dp.all);
	EXPECT_EQ(0, daemon_run(&dp, version));
	EXPECT_NE(NULL, strstr(dp.all, "dsmpager " EXTPAGER_VERSION)) TH_LOG("%s", dp.all);
	EXPECT_EQ(1, daemon_run(&dp, missing));
	EXPECT_NE(NULL, strstr(dp.all, "/nonexistent.conf: No such file")) TH_LOG("%s", dp.all);
	EXPECT_EQ(1, daemon_run(&dp, bad_line));
	EXPECT_NE(NULL, strstr(dp.all, "/tmp/dsm-cl-bad.conf:3:")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, daemon_run(&dp, bad_node));
	EXPECT_NE(NULL, strstr(dp.all, "--node wants")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, daemon_run(&dp, cluster));
	EXPECT_NE(NULL, strstr(dp.all, "usage: dsmpager")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, daemon_run(&dp, no_store));
	EXPECT_NE(NULL, strstr(dp.all, "are required")) TH_LOG("%s", dp.all);
	unlink(conf);
	unlink(bad);
}

TEST_HARNESS_MAIN
