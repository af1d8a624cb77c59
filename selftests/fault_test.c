// SPDX-License-Identifier: GPL-2.0
/*
 * The fault path: contents, sharing, one request per page, zero-fill,
 * one-shot errors, read-only supply and unlock, beyond-size access,
 * destroy and TERMINATE.  A manager thread serves a known pattern.
 */
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define OBJ_PAGES	1024	/* 4 MiB */

FIXTURE(obj) {
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	size_t size;
	int fd;
};

FIXTURE_VARIANT(obj) {
	unsigned int cluster;
};

FIXTURE_VARIANT_ADD(obj, single) { .cluster = 1 };
FIXTURE_VARIANT_ADD(obj, cluster16) { .cluster = 16 };

FIXTURE_SETUP(obj)
{
	struct pager_attr attr = { .cluster = variant->cluster };

	catch_sigbus();
	behaviour_init(&self->b, 42);
	self->size = OBJ_PAGES * PAGE;
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, self->size, &pattern_ops, &attr,
				  &self->b, &self->pager)) TH_LOG("%s", pager_conn_error());
	self->fd = pager_fd(self->pager);
	ASSERT_EQ(0, pthread_create(&self->server, NULL, serve_thread, self->conn));
}

FIXTURE_TEARDOWN(obj)
{
	/* Exiting the test's process releases everything. */
}

static char *map(int fd, size_t size, int flags)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

TEST_F(obj, contents_shared)
{
	struct pager_stats st;
	char *p = map(self->fd, self->size, MAP_SHARED);
	size_t off;

	ASSERT_NE(NULL, p);
	for (off = 0; off < self->size; off += PAGE)
		ASSERT_TRUE(check_pattern(p + off, 42, off, PAGE)) TH_LOG("page %zu", off / PAGE);
	ASSERT_EQ(0, settled_stats(self->pager, &st));
	EXPECT_EQ(OBJ_PAGES, st.supplies);
	EXPECT_EQ(OBJ_PAGES, st.requested_pages);	/* no page asked twice */
	EXPECT_EQ(OBJ_PAGES, st.resident);
	if (variant->cluster > 1)
		EXPECT_GE(OBJ_PAGES / 4, st.requests);	/* clustered */
	munmap(p, self->size);
}

TEST_F(obj, contents_private)
{
	char *priv = map(self->fd, self->size, MAP_PRIVATE);
	char *shared = map(self->fd, self->size, MAP_SHARED);
	size_t off;

	ASSERT_NE(NULL, priv);
	ASSERT_NE(NULL, shared);
	for (off = 0; off < self->size; off += PAGE)
		ASSERT_TRUE(check_pattern(priv + off, 42, off, PAGE));
	/* Copy-on-write: private writes stay private. */
	memset(priv + 5 * PAGE, 0xab, PAGE);
	EXPECT_TRUE(check_pattern(shared + 5 * PAGE, 42, 5 * PAGE, PAGE));
	EXPECT_EQ((char)0xab, priv[5 * PAGE + 17]);
}

TEST_F(obj, shared_writes_seen_by_another_process)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	pid_t pid;
	int status;

	ASSERT_NE(NULL, p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *q = map(self->fd, self->size, MAP_SHARED);

		memset(q + 9 * PAGE, 0x5a, PAGE);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ((char)0x5a, p[9 * PAGE]);
	EXPECT_EQ((char)0x5a, p[10 * PAGE - 1]);
	EXPECT_TRUE(check_pattern(p + 8 * PAGE, 42, 8 * PAGE, PAGE));
}

struct faulter {
	char *addr;
	size_t len;
	int bad;
};

static void *fault_range(void *arg)
{
	struct faulter *f = arg;
	size_t off;

	for (off = 0; off < f->len; off += PAGE)
		if (touch(f->addr + off, false, NULL))
			f->bad++;
	return NULL;
}

/* 8 threads in 2 processes fault one page: exactly one DATA_REQUEST. */
TEST_F(obj, one_request_per_page)
{
	struct faulter f[4];
	pthread_t t[4];
	struct pager_stats st;
	char *p = map(self->fd, self->size, MAP_SHARED);
	pid_t pid;
	int i, status, bad = 0;

	if (variant->cluster != 1)
		SKIP(return, "counts requests of one page");
	ASSERT_NE(NULL, p);
	atomic_store(&self->b.held, 1);	/* everyone waits on the one request */
	pid = fork();
	ASSERT_LE(0, pid);
	for (i = 0; i < 4; i++) {
		f[i] = (struct faulter){ .addr = p + 5 * PAGE, .len = PAGE };
		pthread_create(&t[i], NULL, fault_range, &f[i]);
	}
	/* Answered once all 8 are in the fault, however slowly threads start. */
	if (pid) {
		for (i = 0; i < 2000 && !pager_stats(self->pager, &st) && st.faults < 8; i++)
			usleep(10 * 1000);
		atomic_store(&self->b.held, 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += f[i].bad;
	}
	if (!pid)
		_exit(bad || !check_pattern(p + 5 * PAGE, 42, 5 * PAGE, PAGE));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(check_pattern(p + 5 * PAGE, 42, 5 * PAGE, PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(1, st.requests);
	EXPECT_EQ(1, atomic_load(&self->b.reads));
	EXPECT_LE(8, st.faults);
}

/* Many pages in parallel: no lost wakeup, no page asked twice. */
TEST_F(obj, parallel_pages)
{
	struct faulter f[8];
	pthread_t t[8];
	struct pager_stats st;
	char *p = map(self->fd, self->size, MAP_SHARED);
	size_t chunk = self->size / 8;
	int i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 8; i++) {
		f[i] = (struct faulter){ .addr = p + i * chunk, .len = chunk };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fault_range, &f[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, f[i].bad);
	}
	EXPECT_TRUE(check_pattern(p, 42, 0, self->size));
	ASSERT_EQ(0, settled_stats(self->pager, &st));
	EXPECT_EQ(OBJ_PAGES, st.requested_pages);
	EXPECT_EQ(OBJ_PAGES, st.supplies);
}

/* A child by fork and a process that got the fd over a unix socket share the cache. */
TEST_F(obj, cache_shared_by_fork_and_scm_rights)
{
	struct pager_stats st;
	int sv[2], status;
	pid_t stranger, child;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	stranger = fork();	/* has no fd for the object until it is sent one */
	ASSERT_LE(0, stranger);
	if (!stranger) {
		int fd;
		char *q;

		close(self->fd);
		fd = pager_recv_fd(sv[1], NULL, 0);
		q = fd < 0 ? NULL : map(fd, self->size, MAP_SHARED);
		_exit(!q || !check_pattern(q, 42, 0, 100 * PAGE));
	}
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		char *q = map(self->fd, self->size, MAP_SHARED);

		_exit(!q || !check_pattern(q, 42, 0, 100 * PAGE));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, pager_send_fd(sv[0], self->fd, NULL, 0));
	ASSERT_EQ(stranger, waitpid(stranger, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, settled_stats(self->pager, &st));
	/* The second reader asked for nothing: one cache. */
	EXPECT_EQ(st.requested_pages, st.supplies);
	EXPECT_LE(100, st.supplies);
	EXPECT_GE(100 + 2 * variant->cluster, st.supplies);	/* read-ahead windows */
}

TEST_F(obj, zero_fill)
{
	struct pager_stats st;
	char *p = map(self->fd, self->size, MAP_SHARED);

	if (variant->cluster != 1)
		SKIP(return, "zero-fills whole single-page requests");
	ASSERT_NE(NULL, p);
	self->b.zero_first = 10;
	self->b.zero_last = 19;
	EXPECT_TRUE(all_zero(p + 10 * PAGE, 10 * PAGE));
	EXPECT_TRUE(check_pattern(p + 20 * PAGE, 42, 20 * PAGE, PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(10, st.zero_fills);
}

/* DATA_ERROR: the faulting access gets SIGBUS at its address, once. */
TEST_F(obj, error_is_one_shot_sigbus)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	struct pager_stats st;
	void *where = NULL;

	ASSERT_NE(NULL, p);
	self->b.error_page = 7;
	EXPECT_EQ(1, touch(p + 7 * PAGE + 123, false, &where));
	EXPECT_EQ(p + 7 * PAGE + 123, where);
	/* Not remembered: the next fault asks again and gets the data. */
	EXPECT_EQ(0, touch(p + 7 * PAGE + 123, false, NULL));
	EXPECT_TRUE(check_pattern(p + 7 * PAGE, 42, 7 * PAGE, PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_LE(1, st.errors);
}

TEST_F(obj, readonly_supply_unlock_granted)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	struct pager_stats st;

	ASSERT_NE(NULL, p);
	self->b.readonly = true;
	EXPECT_TRUE(check_pattern(p + 3 * PAGE, 42, 3 * PAGE, PAGE));
	EXPECT_EQ(0, atomic_load(&self->b.unlocks));
	EXPECT_EQ(0, touch(p + 3 * PAGE, true, NULL));
	EXPECT_EQ(1, atomic_load(&self->b.unlocks));
	EXPECT_EQ(0, touch(p + 3 * PAGE + 8, true, NULL));	/* writable now */
	EXPECT_EQ(1, atomic_load(&self->b.unlocks));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(1, st.unlocks);
}

TEST_F(obj, readonly_supply_unlock_denied)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	void *where = NULL;

	ASSERT_NE(NULL, p);
	self->b.readonly = true;
	self->b.deny_unlock = true;
	EXPECT_TRUE(check_pattern(p + 3 * PAGE, 42, 3 * PAGE, PAGE));
	EXPECT_EQ(1, touch(p + 3 * PAGE + 40, true, &where));
	EXPECT_EQ(p + 3 * PAGE + 40, where);
	EXPECT_TRUE(check_pattern(p + 3 * PAGE, 42, 3 * PAGE, PAGE));
	/* A private mapping copies instead of asking. */
	char *q = map(self->fd, self->size, MAP_PRIVATE);

	EXPECT_EQ(0, touch(q + 3 * PAGE, true, NULL));
	EXPECT_EQ(1, atomic_load(&self->b.unlocks));
}

TEST_F(obj, beyond_size_is_sigbus)
{
	char *p = mmap(NULL, self->size + 2 * PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	void *where = NULL;

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, touch(p + self->size - 1, false, NULL));
	EXPECT_EQ(1, touch(p + self->size + 5, false, &where));
	EXPECT_EQ(p + self->size + 5, where);
}

TEST_F(obj, destroy_makes_every_fault_sigbus)
{
	char *p = map(self->fd, self->size, MAP_SHARED);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, touch(p, false, NULL));
	ASSERT_EQ(0, pager_destroy(self->pager));
	EXPECT_EQ(1, touch(p, false, NULL));			/* was cached */
	EXPECT_EQ(1, touch(p + 50 * PAGE, false, NULL));	/* was not */
}

/* TERMINATE comes after the last mapping and the last fd are gone. */
TEST_F(obj, terminate_after_last_unmap_and_close)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	void *ret;
	int i;

	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, touch(p, false, NULL));
	close(self->fd);
	usleep(100 * 1000);
	EXPECT_EQ(0, atomic_load(&self->b.terminated));
	munmap(p, self->size);
	for (i = 0; i < 100 && !atomic_load(&self->b.terminated); i++)
		usleep(10 * 1000);
	EXPECT_EQ(1, atomic_load(&self->b.terminated));
	pthread_join(self->server, &ret);	/* the loop ends with its last object */
	EXPECT_EQ(NULL, ret);
}

/* may_cache (READY): without it, pages go when the last mapping does. */
TEST(may_cache)
{
	struct pager_attr attrs[2] = { { .cluster = 1 }, { .cluster = 1, .no_cache = 1 } };
	struct pager_conn *conn;
	struct pager *pagers[2];
	struct pager_stats st;
	struct behaviour b;
	pthread_t server;
	int i;

	behaviour_init(&b, 77);
	ASSERT_EQ(0, pager_conn_open(&conn));
	/* First the objects: pager_serve() returns when there are none. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pager_create(conn, 64 * PAGE, &pattern_ops, &attrs[i], &b,
					  &pagers[i]));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	for (i = 0; i < 2; i++) {
		char *p = map(pager_fd(pagers[i]), 64 * PAGE, MAP_SHARED);

		ASSERT_NE(NULL, p);
		ASSERT_TRUE(check_pattern(p, 77, 0, 10 * PAGE));
		munmap(p, 64 * PAGE);
		ASSERT_EQ(0, pager_stats(pagers[i], &st));
		EXPECT_EQ(attrs[i].no_cache ? 0 : 10, st.resident);
	}
}

/* Unsolicited supply: placed where nothing is cached, skipped elsewhere. */
TEST_F(obj, offer_prefetches_and_skips_cached_pages)
{
	char *p = map(self->fd, self->size, MAP_SHARED);
	size_t len = 40 * PAGE;
	struct pager_stats st;
	char *data = malloc(len);

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, data);
	memset(data, 0x77, len);
	EXPECT_TRUE(check_pattern(p + 20 * PAGE, 42, 20 * PAGE, PAGE));	/* cached */
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	/* Pages 0..39 by address: all but the cached ones are placed. */
	EXPECT_EQ(40 - st.resident, pager_offer(self->pager, 0, len, data, 0));
	/* One page inline, already cached now: skipped. */
	EXPECT_EQ(0, pager_offer(self->pager, 3 * PAGE, PAGE, data, 0));
	/* Then faults find the offered data without asking. */
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ((char)0x77, p[0]);
	EXPECT_EQ((char)0x77, p[39 * PAGE + 100]);
	EXPECT_TRUE(check_pattern(p + 20 * PAGE, 42, 20 * PAGE, PAGE));
	EXPECT_EQ(0, pager_offer(self->pager, 0, PAGE, data, 0));
	free(data);
	{
		struct pager_stats after;

		ASSERT_EQ(0, pager_stats(self->pager, &after));
		EXPECT_EQ(st.requests, after.requests);
	}
}

TEST_HARNESS_MAIN
