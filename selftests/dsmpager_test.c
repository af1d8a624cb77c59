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

#define NODES		2
#define SIZE		(1u << 20)
/* Page transfers: each costs a few ms under TCG, tens on the debug kernel. */
#define PING_ROUNDS	100
#define COUNT_ROUNDS	150

struct node_proc {
	pid_t nbdkit;
	char nbd_sock[64], nbd_pid[64], sock[64];
	struct daemon_proc dp;
	char *map;
};

FIXTURE(dsm) {
	char conf[64];
	struct node_proc n[NODES];
	size_t page;
};

static int nbdkit_memory(struct node_proc *n)
{
	int i;

	unlink(n->nbd_sock);
	unlink(n->nbd_pid);
	n->nbdkit = fork();
	if (n->nbdkit < 0)
		return -errno;
	if (!n->nbdkit) {
		execlp("nbdkit", "nbdkit", "-f", "-U", n->nbd_sock, "-P", n->nbd_pid,
		       "memory", "16M", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {	/* 60 s: a slow guest */
		if (!access(n->nbd_pid, F_OK))
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

FIXTURE_SETUP(dsm)
{
	char node[16], store[96], config[80];
	unsigned int port = 20000 + getpid() % 20000;
	uint64_t size;
	FILE *f;
	int i, fd;

	self->page = sysconf(_SC_PAGESIZE);
	snprintf(self->conf, sizeof(self->conf), "/tmp/dsm-%d.conf", getpid());
	f = fopen(self->conf, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "# two nodes on one kernel\nsize %uM\n", SIZE >> 20);
	for (i = 0; i < NODES; i++)
		fprintf(f, "node %d 127.0.0.1:%u\n", i, port + i);
	fclose(f);
	for (i = 0; i < NODES; i++) {
		struct node_proc *n = &self->n[i];

		snprintf(n->nbd_sock, sizeof(n->nbd_sock), "/tmp/dsm-%d-%d.nbd", getpid(), i);
		snprintf(n->nbd_pid, sizeof(n->nbd_pid), "/tmp/dsm-%d-%d.pid", getpid(), i);
		snprintf(n->sock, sizeof(n->sock), "/tmp/dsm-%d-%d.sock", getpid(), i);
		ASSERT_EQ(0, nbdkit_memory(n));
	}
	for (i = 0; i < NODES; i++) {
		struct node_proc *n = &self->n[i];
		char *argv[] = { "dsmpager", config, node, store, n->sock, NULL };

		snprintf(config, sizeof(config), "--config=%s", self->conf);
		snprintf(node, sizeof(node), "--node=%d", i);
		snprintf(store, sizeof(store), "--store=nbd+unix:///?socket=%s", n->nbd_sock);
		ASSERT_EQ(0, daemon_spawn(&n->dp, argv));
	}
	for (i = 0; i < NODES; i++) {
		struct node_proc *n = &self->n[i];

		ASSERT_NE(NULL, daemon_wait_line(&n->dp, "serving"))
			TH_LOG("node %d: %s", i, n->dp.all);
		fd = daemon_object(n->sock, &size);
		ASSERT_LE(0, fd);
		ASSERT_EQ(SIZE, size);
		n->map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, n->map);
		close(fd);
	}
}

FIXTURE_TEARDOWN(dsm)
{
	int i;

	for (i = 0; i < NODES; i++) {
		struct node_proc *n = &self->n[i];

		if (n->map)
			munmap(n->map, SIZE);
		if (n->dp.pid > 0)
			daemon_stop(&n->dp, SIGTERM);
		if (n->nbdkit > 0) {
			kill(n->nbdkit, SIGKILL);
			waitpid(n->nbdkit, NULL, 0);
		}
		unlink(n->nbd_sock);
		unlink(n->nbd_pid);
	}
	unlink(self->conf);
}

/* The first page of [@off, @off + @len) that is not @seed's pattern, or -1. */
static long bad_page(const char *map, uint64_t seed, size_t off, size_t len, size_t page)
{
	size_t p;

	for (p = off; p < off + len; p += page)
		if (!check_pattern(map + p, seed, p, page))
			return p / page;
	return -1;
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
	ASSERT_EQ(-1, bad_page(m1, 21, 0, SIZE, self->page));
	fill_pattern(m1, 22, 0, SIZE / 2);
	ASSERT_EQ(-1, bad_page(m0, 22, 0, SIZE / 2, self->page));
	ASSERT_EQ(-1, bad_page(m0, 21, SIZE / 2, SIZE / 2, self->page));
	/* Node 0 wrote every page, so it recalled node 1's copies. */
	stats = daemon_stats(&self->n[0].dp);
	ASSERT_NE(NULL, stats);
	EXPECT_LT(0, stat_of(stats, "recalls"));
	stats = daemon_stats(&self->n[1].dp);
	ASSERT_NE(NULL, stats);
	EXPECT_LT(0, stat_of(stats, "recalls"));
	EXPECT_LT(0, stat_of(stats, "stores"));
}

struct writer {
	volatile uint64_t *word;
	uint64_t rounds;
	unsigned int parity;	/* writes when the count has it */
	uint64_t backwards;	/* the count went down */
	int done;
};

/* Take turns: add one when the count has our parity. */
static void *ping_pong(void *arg)
{
	struct writer *w = arg;
	uint64_t v, last = 0;
	double deadline = now_s() + 300;

	for (;;) {
		v = *w->word;
		if (v < last)
			w->backwards++;
		last = v;
		if (v >= 2 * w->rounds || now_s() > deadline)
			break;
		if (v % 2 == w->parity) {
			*w->word = v + 1;
			last = v + 1;
		} else {
			sched_yield();
		}
	}
	w->done = 1;
	return NULL;
}

/*
 * Two writers on two nodes pass one count back and forth: each write
 * needs the page from the other node, and each must see the other's last.
 */
TEST_F_TIMEOUT(dsm, ping_pong_in_order, 600)
{
	struct writer w[2] = {
		{ .word = (uint64_t *)self->n[0].map, .rounds = PING_ROUNDS, .parity = 0 },
		{ .word = (uint64_t *)self->n[1].map, .rounds = PING_ROUNDS, .parity = 1 },
	};
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, ping_pong, &w[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, w[0].backwards);
	EXPECT_EQ(0, w[1].backwards);
	EXPECT_EQ(2 * PING_ROUNDS, *w[0].word);
	EXPECT_EQ(2 * PING_ROUNDS, *w[1].word);
}

struct half {
	volatile uint64_t *word;
	uint64_t rounds, lost;
};

/* Count up in our word; another node counts in the same page. */
static void *count_up(void *arg)
{
	struct half *h = arg;
	uint64_t i;

	for (i = 0; i < h->rounds; i++) {
		if (*h->word != i)
			h->lost++;
		*h->word = i + 1;
		if (i % 8 == 0)
			sched_yield();
	}
	return NULL;
}

/*
 * False sharing: each node writes its own half of one page, so the page
 * moves between them at every turn; no write may undo the other's.
 */
TEST_F_TIMEOUT(dsm, false_sharing_loses_no_update, 600)
{
	size_t off = 3 * self->page;
	struct half h[2] = {
		{ .word = (uint64_t *)(self->n[0].map + off), .rounds = COUNT_ROUNDS },
		{ .word = (uint64_t *)(self->n[1].map + off + self->page / 2), .rounds = COUNT_ROUNDS },
	};
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, count_up, &h[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, h[0].lost);
	EXPECT_EQ(0, h[1].lost);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(COUNT_ROUNDS, *(uint64_t *)(self->n[i].map + off));
		EXPECT_EQ(COUNT_ROUNDS, *(uint64_t *)(self->n[i].map + off + self->page / 2));
	}
}

/*
 * Node 1 writes a round number into every page and msyncs (which returns
 * when each page's home stored it), round after round, until it is killed
 * with its writer.  Every page node 0 is home to then holds at least the
 * last round node 1 completed.
 */
TEST_F_TIMEOUT(dsm, killed_node_loses_nothing_acknowledged, 600)
{
	_Atomic uint64_t *acked = mmap(NULL, sizeof(*acked), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *m0 = self->n[0].map, *m1 = self->n[1].map;
	size_t pages = 64, p;
	uint64_t round, done;
	pid_t child;
	int i;

	ASSERT_NE(MAP_FAILED, acked);
	*acked = 0;
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		for (round = 1;; round++) {
			for (p = 0; p < pages; p++)
				*(uint64_t *)(m1 + p * self->page) = round;
			if (msync(m1, pages * self->page, MS_SYNC))
				_exit(1);
			*acked = round;
		}
	}
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
	for (p = 0; p < pages; p += NODES) {
		uint64_t v = *(uint64_t *)(m0 + p * self->page);

		EXPECT_LE(done, v) TH_LOG("page %zu holds round %llu, round %llu was stored",
					  p, (unsigned long long)v, (unsigned long long)done);
	}
	/* The pages node 1 was home to are gone with it: SIGBUS, not stale data. */
	catch_sigbus();
	EXPECT_EQ(1, touch(m0 + self->page, false, NULL));
	munmap((void *)acked, sizeof(*acked));
}

TEST_HARNESS_MAIN
