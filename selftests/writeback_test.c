// SPDX-License-Identifier: GPL-2.0
/*
 * The return path: dirty pages go back to the manager (DATA_RETURN) when
 * the kernel writes them back; msync waits for the manager to store them
 * and reports a store it refused; closing the object returns them before
 * TERMINATE; and under a cgroup memory limit far below what is written,
 * every byte reaches the manager and reads back.
 */
#include "kselftest_harness.h"
#include "helpers.h"

/* A manager backed by memory: reads serve it, returns store into it. */
struct store {
	pthread_mutex_t lock;
	char *data;
	size_t size;
	int fail;		/* errno for returns, 0 to store */
	unsigned int delay_ms;	/* before storing */
	atomic_int writes;
	atomic_int terminated;
	atomic_int writes_at_terminate;
};

static int store_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		      enum pager_access access, unsigned int *flags)
{
	struct store *s = pager_priv(pager);

	pthread_mutex_lock(&s->lock);
	memcpy(buf, s->data + offset, len);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int store_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		       unsigned int flags)
{
	struct store *s = pager_priv(pager);

	if (s->delay_ms)
		usleep(s->delay_ms * 1000);
	if (s->fail)
		return -s->fail;
	pthread_mutex_lock(&s->lock);
	memcpy(s->data + offset, data, len);
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->writes, 1);
	return 0;
}

static void store_terminate(struct pager *pager)
{
	struct store *s = pager_priv(pager);

	atomic_store(&s->writes_at_terminate, atomic_load(&s->writes));
	atomic_store(&s->terminated, 1);
}

static const struct pager_ops store_ops = {
	.read		= store_read,
	.write		= store_write,
	.terminate	= store_terminate,
};

FIXTURE(wb) {
	struct pager_conn *conn;
	struct pager *pager;
	struct store s;
	pthread_t server;
	char *map;
};

FIXTURE_VARIANT(wb) {
	size_t pages;
};

FIXTURE_VARIANT_ADD(wb, small) { .pages = 64 };

FIXTURE_SETUP(wb)
{
	struct pager_attr attr = { .cluster = 16 };

	memset(&self->s, 0, sizeof(self->s));
	pthread_mutex_init(&self->s.lock, NULL);
	self->s.size = variant->pages * PAGE;
	self->s.data = malloc(self->s.size);
	ASSERT_NE(NULL, self->s.data);
	fill_pattern(self->s.data, 1, 0, self->s.size);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, self->s.size, &store_ops, &attr,
				  &self->s, &self->pager));
	ASSERT_EQ(0, pthread_create(&self->server, NULL, serve_thread, self->conn));
	self->map = mmap(NULL, self->s.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(wb)
{
}

TEST_F(wb, msync_waits_until_the_manager_stored_the_pages)
{
	struct pager_stats st;

	self->s.delay_ms = 300;
	memset(self->map + 3 * PAGE, 0xa5, PAGE);
	memset(self->map + 10 * PAGE, 0x5a, PAGE);
	ASSERT_EQ(0, msync(self->map, self->s.size, MS_SYNC));
	/* Stored before msync returned. */
	EXPECT_EQ((char)0xa5, self->s.data[3 * PAGE + 7]);
	EXPECT_EQ((char)0x5a, self->s.data[11 * PAGE - 1]);
	EXPECT_TRUE(check_pattern(self->s.data + 4 * PAGE, 1, 4 * PAGE, PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(2, st.returns);
	EXPECT_EQ(0, st.return_failures);
	/* Clean now: nothing more to return. */
	ASSERT_EQ(0, msync(self->map, self->s.size, MS_SYNC));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(2, st.returns);
}

TEST_F(wb, a_refused_store_fails_msync_and_the_page_stays_dirty)
{
	struct pager_stats st;

	self->s.fail = ENOSPC;
	memset(self->map + 4 * PAGE, 0x42, PAGE);
	EXPECT_EQ(-1, msync(self->map, self->s.size, MS_SYNC));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_TRUE(check_pattern(self->s.data + 4 * PAGE, 1, 4 * PAGE, PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_LE(1, st.return_failures)
		TH_LOG("returns %llu failures %llu stores %d mapped byte %#x",
		       (unsigned long long)st.returns,
		       (unsigned long long)st.return_failures,
		       atomic_load(&self->s.writes), self->map[4 * PAGE + 100]);
	/* Still dirty: once the manager can store, the data arrives. */
	self->s.fail = 0;
	EXPECT_EQ(0, msync(self->map, self->s.size, MS_SYNC));
	EXPECT_EQ(0x42, self->s.data[4 * PAGE + 100]);
}

TEST_F(wb, closing_returns_dirty_pages_before_terminate)
{
	void *ret;
	int i;

	memset(self->map, 0x77, 20 * PAGE);
	munmap(self->map, self->s.size);
	close(pager_fd(self->pager));
	for (i = 0; i < 500 && !atomic_load(&self->s.terminated); i++)
		usleep(10 * 1000);
	ASSERT_EQ(1, atomic_load(&self->s.terminated));
	EXPECT_LE(1, atomic_load(&self->s.writes_at_terminate));
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0x77, self->s.data[i * PAGE + i]) TH_LOG("page %d", i);
	EXPECT_TRUE(check_pattern(self->s.data + 20 * PAGE, 1, 20 * PAGE, PAGE));
	pthread_join(self->server, &ret);
}

/*
 * A client in a cgroup with memory.max 4 MiB writes 32 MiB through the
 * mapping: the kernel must return pages to make room, the manager gets
 * every byte, and reading everything back gives exactly what was written.
 */
TEST(writes_eight_times_the_memory_limit)
{
	const size_t limit = 4 << 20, size = 8 * limit;
	char cg[PATH_MAX];
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct store s = { .size = size };
	struct pager_attr attr = { .cluster = 16 };
	pthread_t server;
	int status;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	pthread_mutex_init(&s.lock, NULL);
	s.data = malloc(size);
	ASSERT_NE(NULL, s.data);
	fill_pattern(s.data, 1, 0, size);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &store_ops, &attr, &s, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));

	ASSERT_EQ(0, memcg_create(cg, sizeof(cg), "wb", "4M"));

	status = memcg_round_trip(cg, pager_fd(pager), size, 2);
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("child killed by signal %d", WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	rmdir(cg);
	/* The manager holds exactly what was written. */
	EXPECT_TRUE(check_pattern(s.data, 2, 0, size));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_LE(size / PAGE, st.returns);
	EXPECT_EQ(0, st.return_failures);
	/*
	 * A manager that keeps up gets its pages itself: writeback waits
	 * for a return slot rather than spill into the default pager.
	 */
	EXPECT_EQ(0, st.defaulted);
}

TEST_HARNESS_MAIN
