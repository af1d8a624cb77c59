// SPDX-License-Identifier: GPL-2.0
/*
 * Paging out: the default pager (a stopped manager loses nothing, a killed
 * one's object is adopted with every dirty page), precious pages, lock
 * requests, and the resident limit.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "helpers.h"

/*
 * A manager's store, in memory shared across fork(): what a manager process
 * stored survives it, as a file would.
 */
struct shstore {
	size_t size;
	int fail;			/* errno for returns, 0 to store */
	unsigned int precious;		/* supply with PAGER_PRECIOUS */
	unsigned int delay_ms;		/* before each store */
	uint64_t extent;		/* for sh_extent_ops */
	atomic_int reads;		/* read callbacks */
	atomic_int writes;		/* write callbacks */
	atomic_int clean_writes;	/* of which PAGER_CLEAN */
	atomic_int unlocks;
	atomic_int stored_pages;
	atomic_int evicted_pages;	/* evict callbacks' pages */
	char data[];
};

static struct shstore *shstore_new(size_t size, uint64_t seed)
{
	struct shstore *s = mmap(NULL, sizeof(*s) + size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	s->size = size;
	fill_pattern(s->data, seed, 0, size);
	return s;
}

static int sh_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		   enum pager_access access, unsigned int *flags)
{
	struct shstore *s = pager_priv(pager);

	atomic_fetch_add(&s->reads, 1);
	memcpy(buf, s->data + offset, len);
	if (s->precious)
		*flags |= PAGER_PRECIOUS;
	return 0;
}

static int sh_write(struct pager *pager, uint64_t offset, size_t len,
		    const void *data, unsigned int flags)
{
	struct shstore *s = pager_priv(pager);

	if (s->delay_ms)
		usleep(s->delay_ms * 1000);
	if (s->fail)
		return -s->fail;
	memcpy(s->data + offset, data, len);
	atomic_fetch_add(&s->stored_pages, len / PAGE);
	if (flags & PAGER_CLEAN)
		atomic_fetch_add(&s->clean_writes, 1);
	atomic_fetch_add(&s->writes, 1);
	return 0;
}

static int sh_unlock(struct pager *pager, uint64_t offset, size_t len)
{
	struct shstore *s = pager_priv(pager);

	atomic_fetch_add(&s->unlocks, 1);
	return 0;
}

static void sh_evict(struct pager *pager, uint64_t offset, size_t len)
{
	struct shstore *s = pager_priv(pager);

	atomic_fetch_add(&s->evicted_pages, len / PAGE);
}

static const struct pager_ops sh_ops = {
	.read	= sh_read,
	.write	= sh_write,
	.unlock	= sh_unlock,
};

static uint64_t sh_extent(struct pager *pager)
{
	struct shstore *s = pager_priv(pager);

	return s->extent;
}

/* The same, with an extent of its own. */
static const struct pager_ops sh_extent_ops = {
	.read	= sh_read,
	.write	= sh_write,
	.extent	= sh_extent,
};

/* The same, told of evictions. */
static const struct pager_ops sh_evict_ops = {
	.read	= sh_read,
	.write	= sh_write,
	.unlock	= sh_unlock,
	.evict	= sh_evict,
};

/*
 * A manager in a process of its own, to stop or kill: it creates an object
 * of @s->size bytes, passes its fd and id back, and serves it.
 */
/* As spawn_manager(), its objects kept @lifetime_ms after it dies. */
static pid_t spawn_recoverable_manager(struct shstore *s, int *fd, uint32_t *id,
				       unsigned int lifetime_ms)
{
	struct pager_attr attr = { .cluster = 16 };
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = fork();
	if (!pid) {
		struct pager_conn *conn;
		struct pager *pager;
		uint32_t myid;

		close(sv[0]);
		if (pager_conn_open(&conn))
			_exit(2);
		pager_conn_set_orphan_lifetime(conn, lifetime_ms);
		if (pager_create(conn, s->size, &sh_ops, &attr, s, &pager))
			_exit(2);
		myid = pager_id(pager);
		if (pager_send_fd(sv[1], pager_fd(pager), NULL, 0) ||
		    write(sv[1], &myid, sizeof(myid)) != sizeof(myid))
			_exit(3);
		close(pager_fd(pager));
		_exit(pager_serve(conn, 1) ? 4 : 0);
	}
	close(sv[1]);
	*fd = pager_recv_fd(sv[0], NULL, 0);
	if (*fd < 0 || read(sv[0], id, sizeof(*id)) != sizeof(*id)) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	return pid;
}

static pid_t spawn_manager(struct shstore *s, int *fd, uint32_t *id)
{
	return spawn_recoverable_manager(s, fd, id, 0);
}

/* Wait up to @secs for the default pager to hold nothing. */
static long wait_default_pager_empty(int secs)
{
	long held = -1;
	int i;

	for (i = 0; i < secs * 10; i++) {
		held = param_get("default_pager_pages");
		if (!held)
			break;
		usleep(100 * 1000);
	}
	return held;
}

struct fault_wait {
	char *addr;
	int sigbus;
	atomic_int done;
};

static void *fault_waiter(void *arg)
{
	struct fault_wait *w = arg;

	w->sigbus = touch(w->addr, false, NULL);
	atomic_store(&w->done, 1);
	return NULL;
}

static long sysctl_get(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	if (fd >= 0)
		close(fd);
	return atol(buf);
}

static int sysctl_set(const char *name, long value)
{
	char path[128], text[32];

	snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
	snprintf(text, sizeof(text), "%ld", value);
	return write_file(path, text);
}

FIXTURE(po) {
	long return_timeout_ms, request_timeout_ms, default_pager_max_pages;
	long dirty_bytes, dirty_background_bytes;
};

FIXTURE_SETUP(po)
{
	self->return_timeout_ms = param_get("return_timeout_ms");
	self->request_timeout_ms = param_get("request_timeout_ms");
	self->default_pager_max_pages = param_get("default_pager_max_pages");
	self->dirty_bytes = sysctl_get("dirty_bytes");
	self->dirty_background_bytes = sysctl_get("dirty_background_bytes");
}

/* In the parent: the knobs come back even if the test dies of a signal. */
FIXTURE_TEARDOWN_PARENT(po)
{
	param_set("return_timeout_ms", self->return_timeout_ms);
	param_set("request_timeout_ms", self->request_timeout_ms);
	param_set("default_pager_max_pages", self->default_pager_max_pages);
	/* Setting the _bytes knobs to 0 gives the _ratio ones back. */
	sysctl_set("dirty_bytes", self->dirty_bytes);
	sysctl_set("dirty_background_bytes", self->dirty_background_bytes);
	if (!self->dirty_bytes)
		sysctl_set("dirty_ratio", 20);
	if (!self->dirty_background_bytes)
		sysctl_set("dirty_background_ratio", 10);
}

/*
 * A manager stopped while a client writes eight times the dirty limit:
 * the writer is throttled while returns wait, they time out into the
 * default pager, so the writer finishes; after SIGCONT the held pages are
 * redelivered, and the store has every byte.
 */
TEST_F_TIMEOUT(po, a_stopped_manager_loses_nothing, 300)
{
	const size_t size = 8 << 20;
	struct shstore *s;
	uint32_t id;
	pid_t mgr;
	char *p;
	int fd;

	s = shstore_new(size, 20);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, param_set("return_timeout_ms", 500));
	mgr = spawn_manager(s, &fd, &id);
	ASSERT_LT(0, mgr);

	/* Every page cached first: a stopped manager supplies nothing. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, 20, 0, size));
	ASSERT_EQ(0, sysctl_set("dirty_background_bytes", 256 << 10));
	ASSERT_EQ(0, sysctl_set("dirty_bytes", 1 << 20));
	ASSERT_EQ(0, kill(mgr, SIGSTOP));
	fill_pattern(p, 21, 0, size);
	EXPECT_LT(0, param_get("default_pager_pages"))
		TH_LOG("nothing went to the default pager");
	EXPECT_EQ(0, atomic_load(&s->writes));	/* it was stopped */
	/*
	 * Clean pages dropped, the manager still stopped: what is read back
	 * can only come from the default pager (or still be cached).
	 */
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_TRUE(check_pattern(p, 21, 0, size));

	ASSERT_EQ(0, kill(mgr, SIGCONT));
	EXPECT_EQ(0, wait_default_pager_empty(120));
	EXPECT_EQ(0, msync(p, size, MS_SYNC));
	EXPECT_TRUE(check_pattern(s->data, 21, 0, size));
	EXPECT_TRUE(check_pattern(p, 21, 0, size));
	munmap(p, size);
	close(fd);
	waitpid(mgr, NULL, 0);
}

/*
 * A page the default pager holds and that is written again: the held copy
 * is stale from then on, and must never come back over the newer data.
 */
TEST_F_TIMEOUT(po, a_page_rewritten_while_held_keeps_the_new_data, 120)
{
	const size_t size = 16 * PAGE;
	struct shstore *s = shstore_new(size, 80);
	uint32_t id;
	pid_t mgr;
	char *p;
	int fd, i;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, param_set("return_timeout_ms", 300));
	mgr = spawn_manager(s, &fd, &id);
	ASSERT_LT(0, mgr);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, 80, 0, size));
	ASSERT_EQ(0, kill(mgr, SIGSTOP));
	memset(p + 2 * PAGE, 0x11, PAGE);
	ASSERT_EQ(0, sync_file_range(fd, 2 * PAGE, PAGE, SYNC_FILE_RANGE_WRITE));
	for (i = 0; i < 100 && param_get("default_pager_pages") < 1; i++)
		usleep(50 * 1000);
	ASSERT_EQ(1, param_get("default_pager_pages"));	/* 0x11 is held */
	memset(p + 2 * PAGE, 0x22, PAGE);
	ASSERT_EQ(0, kill(mgr, SIGCONT));
	EXPECT_EQ(0, wait_default_pager_empty(30));
	ASSERT_EQ(0, msync(p, size, MS_SYNC));
	/* Dropped from memory: the next read asks for it again. */
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_EQ(0x22, p[2 * PAGE + 5]);
	EXPECT_EQ(0x22, s->data[2 * PAGE + 5]);
	munmap(p, size);
	close(fd);
	waitpid(mgr, NULL, 0);
}

/*
 * A default pager that can take nothing (default_pager_max_pages 0): the
 * pages of a return that times out stay dirty in memory, counted, and
 * fsync says so; once the manager answers, they reach it.
 */
TEST_F_TIMEOUT(po, what_the_default_pager_cannot_take_stays_dirty, 120)
{
	const size_t size = 16 * PAGE;
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s = shstore_new(size, 90);
	pthread_t server;
	char *p;
	int i;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, param_set("return_timeout_ms", 200));
	ASSERT_EQ(0, param_set("default_pager_max_pages", 0));
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &sh_ops, NULL, s, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x44, PAGE);
	s->delay_ms = 1000;		/* the ack comes too late */
	EXPECT_EQ(-1, msync(p, size, MS_SYNC));
	EXPECT_EQ(ENOSPC, errno);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, pager_stats(pager, &st));
		if (st.default_failures)
			break;
		usleep(100 * 1000);
	}
	EXPECT_LE(1, st.default_failures);
	EXPECT_EQ(0, st.held);
	EXPECT_EQ(0x44, p[100]);	/* still there, dirty */
	/* Once the manager is done with the late store, it gets the page. */
	s->delay_ms = 0;
	ASSERT_EQ(0, param_set("return_timeout_ms", 10000));
	for (i = 0; i < 100 && !atomic_load(&s->writes); i++)
		usleep(50 * 1000);
	EXPECT_EQ(0, pager_sync(pager, 0, 0));
	EXPECT_EQ(0x44, s->data[100]);
	munmap(p, size);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/* Try to adopt @id on a connection of its own. */
static int adopt_elsewhere(uint32_t id, struct shstore *s)
{
	struct pager_conn *conn;
	struct pager *pager;
	int err;

	err = pager_conn_open(&conn);
	if (!err)
		err = pager_adopt(conn, id, &sh_ops, NULL, s, &pager);
	pager_conn_close(conn);
	return err;
}

/*
 * A manager killed while it stores returns: its object is orphaned, a
 * second manager adopts it and receives every page the first did not
 * store, from the page cache and the default pager alike.
 */
TEST_F_TIMEOUT(po, a_killed_manager_s_object_is_adopted_with_every_dirty_page, 120)
{
	const size_t size = 4 << 20;
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s;
	pthread_t server;
	uint32_t id;
	int fd;
	pid_t mgr;
	char *p;

	s = shstore_new(size, 30);
	ASSERT_NE(NULL, s);
	s->delay_ms = 20;
	mgr = spawn_manager(s, &fd, &id);
	ASSERT_LT(0, mgr);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill_pattern(p, 31, 0, size);
	/* Start the returns, and kill the manager while they arrive. */
	ASSERT_EQ(0, sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	while (!atomic_load(&s->writes))
		usleep(1000);
	ASSERT_EQ(0, kill(mgr, SIGKILL));
	waitpid(mgr, NULL, 0);
	/* It died with pages still to store. */
	EXPECT_GT(size / PAGE, atomic_load(&s->stored_pages));

	s->delay_ms = 0;
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_adopt(conn, id, &sh_ops, NULL, s, &pager));
	EXPECT_EQ(id, pager_id(pager));
	EXPECT_LE(0, pager_fd(pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	/* Adopted: it cannot be adopted again while managed. */
	EXPECT_EQ(-EBUSY, adopt_elsewhere(id, s));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "has a manager"));
	EXPECT_EQ(0, msync(p, size, MS_SYNC));
	EXPECT_TRUE(check_pattern(s->data, 31, 0, size));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(0, st.held);
	EXPECT_EQ(0, wait_default_pager_empty(10));
	/* The new manager serves faults too. */
	ASSERT_EQ(0, pager_flush(pager, 0, 0));
	EXPECT_TRUE(check_pattern(p, 31, 0, size));
	munmap(p, size);
	close(fd);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/* A new manager adopts @id and serves it from @s in a thread. */
static int adopt_and_serve(uint32_t id, struct shstore *s, struct pager_conn **conn,
			   struct pager **pager, pthread_t *server)
{
	int err = pager_conn_open(conn);

	if (!err)
		err = pager_adopt(*conn, id, &sh_ops, NULL, s, pager);
	if (!err)
		err = -pthread_create(server, NULL, serve_thread, *conn);
	return err;
}

/*
 * Map @s's object (pattern @seed), served by a manager process whose objects
 * are kept @lifetime_ms after it dies, read its first @faulted bytes, and
 * SIGKILL the manager: a recoverable orphan, mapped read-write here.
 */
static char *recoverable_orphan(struct __test_metadata *_metadata,
				struct shstore *s, uint64_t seed,
				unsigned int lifetime_ms, size_t faulted,
				int *fd, uint32_t *id)
{
	pid_t mgr = spawn_recoverable_manager(s, fd, id, lifetime_ms);
	char *p;

	ASSERT_LT(0, mgr);
	p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, seed, 0, faulted));
	ASSERT_EQ(0, kill(mgr, SIGKILL));
	waitpid(mgr, NULL, 0);
	return p;
}

/*
 * A recoverable object's manager is SIGKILLed; the client then writes and
 * goes away.  The object outlives both, and a new manager adopts it and is
 * returned every byte the client wrote.
 */
TEST_F_TIMEOUT(po, a_recoverable_orphan_keeps_every_byte_after_its_last_client, 120)
{
	const size_t size = 1 << 20;
	struct pager_conn *conn;
	struct pager *pager;
	struct shstore *s;
	pthread_t server;
	uint32_t id;
	int fd;
	char *p;

	s = shstore_new(size, 40);
	ASSERT_NE(NULL, s);
	p = recoverable_orphan(_metadata, s, 40, 60000, size, &fd, &id);

	/* The client writes every (cached) page and goes, orphan and all. */
	fill_pattern(p, 41, 0, size);
	munmap(p, size);
	close(fd);

	ASSERT_EQ(0, adopt_and_serve(id, s, &conn, &pager, &server))
		TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(0, fsync(pager_fd(pager)));
	EXPECT_TRUE(check_pattern(s->data, 41, 0, size));
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/*
 * A fault on a missing page of a recoverable orphan waits for the manager
 * that adopts it, and gets its data, not SIGBUS.
 */
TEST_F_TIMEOUT(po, a_fault_on_a_recoverable_orphan_waits_for_its_adopter, 120)
{
	const size_t size = 1 << 20;
	struct pager_conn *conn;
	struct pager *pager;
	struct shstore *s;
	struct fault_wait w = {};
	pthread_t server, t;
	uint32_t id;
	int fd;
	char *p;

	catch_sigbus();
	s = shstore_new(size, 42);
	ASSERT_NE(NULL, s);
	p = recoverable_orphan(_metadata, s, 42, 60000, PAGE, &fd, &id);

	w.addr = p + 100 * PAGE;
	ASSERT_EQ(0, pthread_create(&t, NULL, fault_waiter, &w));
	usleep(500 * 1000);
	EXPECT_EQ(0, atomic_load(&w.done));

	ASSERT_EQ(0, adopt_and_serve(id, s, &conn, &pager, &server))
		TH_LOG("%s", pager_conn_error());
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.sigbus);
	EXPECT_TRUE(check_pattern(p + 100 * PAGE, 42, 100 * PAGE, PAGE));
	munmap(p, size);
	close(fd);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/*
 * Nobody adopts a recoverable orphan within its lifetime: it goes with its
 * dirty pages, and the module counts them (orphan_pages_dropped).
 */
TEST_F_TIMEOUT(po, an_orphan_nobody_adopts_in_time_is_dropped_and_counted, 120)
{
	const size_t size = 64 * 4096;
	long before = param_get("orphan_pages_dropped"), after = before;
	struct shstore *s;
	uint32_t id;
	int fd, i;
	char *p;

	ASSERT_LE(0, before);
	s = shstore_new(size, 43);
	ASSERT_NE(NULL, s);
	p = recoverable_orphan(_metadata, s, 43, 500, size, &fd, &id);
	fill_pattern(p, 44, 0, size);
	munmap(p, size);
	close(fd);
	for (i = 0; i < 100 && after == before; i++) {
		usleep(100 * 1000);
		after = param_get("orphan_pages_dropped");
	}
	EXPECT_EQ(size / PAGE, after - before);
	EXPECT_EQ(-ENOENT, adopt_elsewhere(id, s));
	EXPECT_TRUE(check_pattern(s->data, 43, 0, size));	/* never returned */
}

FIXTURE(lock) {
	struct pager_conn *conn;
	struct pager *pager;
	struct shstore *s;
	pthread_t server;
	char *map;
	size_t size;
};

FIXTURE_SETUP(lock)
{
	self->size = 64 * PAGE;
	self->s = shstore_new(self->size, 40);
	ASSERT_NE(NULL, self->s);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, self->size, &sh_ops, NULL, self->s,
				  &self->pager));
	ASSERT_EQ(0, pthread_create(&self->server, NULL, serve_thread, self->conn));
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
	/* Page 3 dirty, page 5 clean, both resident. */
	memset(self->map + 3 * PAGE, 0x33, PAGE);
	ASSERT_TRUE(check_pattern(self->map + 5 * PAGE, 40, 5 * PAGE, PAGE));
}

FIXTURE_TEARDOWN(lock)
{
	munmap(self->map, self->size);
	close(pager_fd(self->pager));
	pthread_join(self->server, NULL);
	pager_conn_close(self->conn);
}

static uint64_t resident(struct pager *pager)
{
	struct pager_stats st;

	return pager_stats(pager, &st) ? ~0ull : st.resident;
}

TEST_F_TIMEOUT(lock, sync_returns_the_dirty_pages_and_keeps_them, 90)
{
	uint64_t before = resident(self->pager);

	ASSERT_EQ(0, pager_sync(self->pager, 0, 0));
	/* LOCK_COMPLETED came after the store. */
	EXPECT_EQ(1, atomic_load(&self->s->writes));
	EXPECT_EQ(0, atomic_load(&self->s->clean_writes));
	EXPECT_EQ(0x33, self->s->data[3 * PAGE + 9]);
	EXPECT_EQ(before, resident(self->pager));
	/* Clean now: nothing more to return. */
	ASSERT_EQ(0, pager_sync(self->pager, 0, self->size));
	EXPECT_EQ(1, atomic_load(&self->s->writes));
}

/*
 * Syncs from another thread than the server's, each right after the server
 * stored a return: every LOCK_COMPLETED reaches its waiter, however it and
 * the server's receives interleave.
 */
TEST_F_TIMEOUT(lock, every_sync_beside_a_serving_thread_completes, 90)
{
	int i;

	for (i = 0; i < 200; i++) {
		self->map[3 * PAGE] = i;
		ASSERT_EQ(0, pager_sync(self->pager, 3 * PAGE, PAGE));
		ASSERT_EQ(i + 1, atomic_load(&self->s->writes));
		ASSERT_EQ((char)i, self->s->data[3 * PAGE]);
	}
}

TEST_F_TIMEOUT(lock, return_all_with_flush_returns_clean_pages_too_and_drops_them, 90)
{
	ASSERT_EQ(0, pager_return(self->pager, 0, 0));
	EXPECT_LE(2, atomic_load(&self->s->writes));
	EXPECT_LE(1, atomic_load(&self->s->clean_writes));
	EXPECT_EQ(0x33, self->s->data[3 * PAGE + 9]);
	EXPECT_EQ(0, resident(self->pager));
	/* And they come back from the manager. */
	EXPECT_EQ(0x33, self->map[3 * PAGE + 9]);
	EXPECT_TRUE(check_pattern(self->map + 5 * PAGE, 40, 5 * PAGE, PAGE));
}

TEST_F_TIMEOUT(lock, flush_without_return_drops_clean_pages_and_keeps_dirty_ones, 90)
{
	struct pager_stats before, after;

	ASSERT_EQ(0, pager_stats(self->pager, &before));
	ASSERT_EQ(0, pager_flush(self->pager, 0, 0));
	EXPECT_EQ(0, atomic_load(&self->s->writes));
	EXPECT_EQ(1, resident(self->pager));	/* the dirty page */
	EXPECT_EQ(0x33, self->map[3 * PAGE + 9]);
	EXPECT_TRUE(check_pattern(self->map + 5 * PAGE, 40, 5 * PAGE, PAGE));
	ASSERT_EQ(0, settled_stats(self->pager, &after));
	EXPECT_LT(before.requests, after.requests);	/* page 5 asked again */
}

TEST_F_TIMEOUT(lock, write_protect_makes_the_next_write_ask_unlock, 90)
{
	ASSERT_EQ(0, pager_lock_request(self->pager, 3 * PAGE, 3 * PAGE,
					PAGER_RETURN_NONE, PAGER_LOCK_WRITE_PROTECT));
	EXPECT_EQ(0, atomic_load(&self->s->unlocks));
	self->map[5 * PAGE] = 1;
	EXPECT_EQ(1, atomic_load(&self->s->unlocks));
	self->map[5 * PAGE + 1] = 1;
	EXPECT_EQ(1, atomic_load(&self->s->unlocks));
	self->map[7 * PAGE] = 1;	/* outside the range */
	EXPECT_EQ(1, atomic_load(&self->s->unlocks));
}

TEST_F_TIMEOUT(lock, a_refused_store_fails_the_sync, 90)
{
	self->s->fail = EIO;
	EXPECT_EQ(-EIO, pager_sync(self->pager, 0, 0));
	self->s->fail = 0;
	EXPECT_EQ(0, pager_sync(self->pager, 0, 0));
	EXPECT_EQ(0x33, self->s->data[3 * PAGE + 9]);
}

TEST_F_TIMEOUT(lock, bad_ranges_are_refused_and_change_nothing, 90)
{
	EXPECT_EQ(-ERANGE, pager_lock_request(self->pager, self->size, PAGE,
					      PAGER_RETURN_DIRTY, 0));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "past size"));
	EXPECT_EQ(-ERANGE, pager_lock_request(self->pager, 0, self->size + PAGE,
					      PAGER_RETURN_DIRTY, 0));
	EXPECT_EQ(-EINVAL, pager_lock_request(self->pager, 1, PAGE,
					      PAGER_RETURN_DIRTY, 0));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "not page aligned"));
	EXPECT_EQ(-EINVAL, pager_lock_request(self->pager, 0, PAGE, 7, 0));
	EXPECT_EQ(0, atomic_load(&self->s->writes));
	EXPECT_EQ(2, resident(self->pager));
}

/* Precious pages come back, marked clean, before they are dropped. */
TEST_F_TIMEOUT(lock, precious_pages_are_returned_even_when_clean, 90)
{
	munmap(self->map, self->size);
	self->map = mmap(NULL, self->size, PROT_READ, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->s->precious = 1;
	ASSERT_TRUE(check_pattern(self->map + 20 * PAGE, 40, 20 * PAGE, PAGE));
	memset(self->s->data + 20 * PAGE, 0, PAGE);	/* "keeps no copy" */
	munmap(self->map, self->size);
	ASSERT_EQ(0, posix_fadvise(pager_fd(self->pager), 0, 0, POSIX_FADV_DONTNEED));
	ASSERT_EQ(0, pager_sync(self->pager, 0, 0));	/* returns are in */
	EXPECT_LE(1, atomic_load(&self->s->clean_writes));
	EXPECT_TRUE(check_pattern(self->s->data + 20 * PAGE, 40, 20 * PAGE, PAGE));
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

/*
 * With a resident limit of 64 pages, a client writes 512: the kernel
 * evicts in CLOCK order and returns what it evicts; the manager holds every
 * byte and the object ends within its limit.
 */
TEST(the_resident_limit_bounds_an_object)
{
	const size_t limit = 64, size = 8 * limit * PAGE;
	struct pager_attr attr = { .cluster = 16, .resident_limit = limit };
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s;
	pthread_t server;
	size_t off;
	char *p;
	int i;

	s = shstore_new(size, 50);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &sh_ops, &attr, s, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < size; off += PAGE)
		fill_pattern(p + off, 51, off, PAGE);
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, pager_stats(pager, &st));
		if (st.resident <= limit)
			break;
		usleep(100 * 1000);
	}
	EXPECT_GE(limit, st.resident);
	EXPECT_LE(size / PAGE - limit, st.returns) TH_LOG("evicted without returns");
	EXPECT_EQ(0, msync(p, size, MS_SYNC));
	EXPECT_TRUE(check_pattern(s->data, 51, 0, size));
	EXPECT_TRUE(check_pattern(p, 51, 0, size));
	munmap(p, size);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/* sh_read(), by a manager that maps memory as it answers, as malloc does. */
static int sh_read_mapping(struct pager *pager, uint64_t offset, size_t len,
			   void *buf, enum pager_access access,
			   unsigned int *flags)
{
	void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -errno;
	munmap(m, PAGE);
	return sh_read(pager, offset, len, buf, access, flags);
}

static const struct pager_ops sh_mapping_ops = {
	.read	= sh_read_mapping,
	.write	= sh_write,
};

/*
 * A manager thread in the faulting process needs that process's mmap_lock
 * to map memory.  No fault may wait for it holding that lock, not even a
 * retried one that finds its page evicted again by the resident limit: the
 * request would time out, and the reader get SIGBUS.
 */
TEST_F_TIMEOUT(po, a_fault_waits_for_an_in_process_manager_without_mmap_lock, 120)
{
	const size_t limit = 16, size = 32 * limit * PAGE;
	struct pager_attr attr = { .cluster = 16, .resident_limit = limit };
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s;
	pthread_t server;
	char *p;
	int i;

	s = shstore_new(size, 90);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, param_set("request_timeout_ms", 2000));
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &sh_mapping_ops, &attr, s, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 8; i++)
		ASSERT_TRUE(check_pattern(p, 90, 0, size));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(0, st.timeouts);
	EXPECT_EQ(0, st.errors);
	munmap(p, size);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/*
 * With an evict callback, the manager hears of the clean pages the kernel
 * drops, and of no dirty page; without one, it hears nothing.
 */
TEST(evictions_of_clean_pages_are_told)
{
	const size_t size = 32 * PAGE;
	const struct pager_ops *ops[] = { &sh_evict_ops, &sh_ops };
	struct pager_conn *conn;
	struct pager *pager;
	pthread_t server;
	unsigned int i;
	int n;
	char *p;

	for (i = 0; i < 2; i++) {
		struct shstore *s = shstore_new(size, 70);

		ASSERT_NE(NULL, s);
		ASSERT_EQ(0, pager_conn_open(&conn));
		ASSERT_EQ(0, pager_create(conn, size, ops[i], NULL, s, &pager));
		ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(pager), 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_TRUE(check_pattern(p, 70, 0, 10 * PAGE));	/* 10 clean */
		p[12 * PAGE] = 1;					/* 1 dirty */
		ASSERT_EQ(0, pager_flush(pager, 0, 0));
		/* The notices follow the flush: give them time to arrive. */
		for (n = 0; n < 100 && atomic_load(&s->evicted_pages) < 10 * (i == 0); n++)
			usleep(20 * 1000);
		usleep(100 * 1000);
		EXPECT_EQ(i == 0 ? 10 : 0, atomic_load(&s->evicted_pages));
		munmap(p, size);
		close(pager_fd(pager));
		pthread_join(server, NULL);
		pager_conn_close(conn);
	}
}

/* pager_set_attr(): a limit set on a populated object takes effect. */
TEST(set_attr_changes_the_resident_limit)
{
	const size_t size = 128 * PAGE;
	struct pager_attr attr = { .cluster = 16 };
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s = shstore_new(size, 95);
	pthread_t server;
	char *p;
	int i;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &sh_ops, &attr, s, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, 95, 0, size));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(size / PAGE, st.resident);
	EXPECT_EQ(0, st.resident_limit);

	attr.resident_limit = 32;
	attr.cluster = EXTPAGER_MAX_RUN + 1;
	EXPECT_EQ(-EINVAL, pager_set_attr(pager, &attr));
	attr.cluster = 16;
	ASSERT_EQ(0, pager_set_attr(pager, &attr));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, pager_stats(pager, &st));
		if (st.resident <= 32)
			break;
		usleep(50 * 1000);
	}
	EXPECT_EQ(32, st.resident_limit);
	EXPECT_GE(32, st.resident);
	EXPECT_TRUE(check_pattern(p, 95, 0, size));	/* asked for again */
	munmap(p, size);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

/*
 * The extent callback: an object created with size 0 takes its size from
 * it, and pages past a shrunk extent fault with SIGBUS without a read.
 */
TEST(the_extent_bounds_the_object)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct shstore *s = shstore_new(16 * PAGE, 96);
	pthread_t server;
	void *where;
	char *p;
	int reads;

	ASSERT_NE(NULL, s);
	catch_sigbus();
	s->extent = 13 * PAGE + 100;		/* 14 pages, the last partly */
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, 0, &sh_extent_ops, NULL, s, &pager));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(14 * PAGE, st.size);
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, 14 * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p + 13 * PAGE, 96, 13 * PAGE, PAGE));
	s->extent = 10 * PAGE;			/* the data shrank */
	reads = atomic_load(&s->reads);
	EXPECT_EQ(1, touch(p + 12 * PAGE + 8, false, &where));
	EXPECT_EQ(p + 12 * PAGE + 8, (char *)where);
	EXPECT_EQ(reads, atomic_load(&s->reads));	/* never asked */
	EXPECT_TRUE(check_pattern(p + 9 * PAGE, 96, 9 * PAGE, PAGE));
	munmap(p, 14 * PAGE);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
}

TEST(adoption_is_refused_to_others)
{
	long saved_unpriv = param_get("unprivileged");
	struct shstore *s = shstore_new(PAGE, 60);
	struct pager_conn *conn;
	struct pager *pager;
	int status, fd;
	uint32_t id;
	pid_t pid;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(-ENOENT, pager_adopt(conn, 0x7fffffff, &sh_ops, NULL, s, &pager));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "no object"));
	ASSERT_EQ(0, pager_create(conn, PAGE, &sh_ops, NULL, s, &pager));

	/* Orphan it: its creator's connection closes, the fd keeps it. */
	fd = dup(pager_fd(pager));
	id = pager_id(pager);
	pager_conn_close(conn);
	ASSERT_EQ(0, param_set("unprivileged", 1));
	pid = fork();
	if (!pid) {
		struct pager_conn *c;
		struct pager *mine;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    pager_conn_open(&c))
			_exit(2);
		_exit(pager_adopt(c, id, &sh_ops, NULL, s, &mine) == -EPERM &&
		      strstr(pager_conn_error(), "another user") ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(0, pager_adopt(conn, id, &sh_ops, NULL, s, &pager));
	close(pager_fd(pager));
	close(fd);
	pager_conn_close(conn);
	EXPECT_EQ(0, param_set("unprivileged", saved_unpriv));
}

TEST_HARNESS_MAIN
