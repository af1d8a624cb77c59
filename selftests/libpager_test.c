// SPDX-License-Identifier: GPL-2.0
/*
 * libpager's public functions, one group at a time, with their error paths:
 * connections, objects (create, accessors, offer, stats, destroy) and
 * serving (pager_dispatch() in a loop of the test's own, pager_serve() in
 * the calling thread and with workers).  The workers must run callbacks
 * for different pages of one object in parallel, keep the kernel's order
 * for each page, and leave no thread behind; under load (4 workers, 8
 * client threads) no request may be lost or handled twice.
 */
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define PAGES	64
#define SEED	21

/* The threads of this process. */
static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The number of threads once it is @n.  A joined thread may still be listed
 * for a moment after pthread_join() returned (the kernel wakes the joiner
 * before it releases the task), and nothing signals when it is gone: look
 * again for up to 5 s.  A thread left running stays listed, and fails.
 */
static int settled_tasks(int n)
{
	int i, now = count_tasks();

	for (i = 0; i < 500 && now != n; i++) {
		usleep(10 * 1000);
		now = count_tasks();
	}
	return now;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* pager_serve() in a thread of its own. */
struct server {
	struct pager_conn *conn;
	unsigned int nthreads;
	int ret;
	pthread_t thread;
};

static void *server_main(void *arg)
{
	struct server *s = arg;

	s->ret = pager_serve(s->conn, s->nthreads);
	return NULL;
}

static int server_start(struct server *s, struct pager_conn *conn, unsigned int nthreads)
{
	s->conn = conn;
	s->nthreads = nthreads;
	s->ret = 1;
	return pthread_create(&s->thread, NULL, server_main, s);
}

/* Wait for the eventfd @efd to be written (by a callback or a thread). */
static int wait_efd(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, 10000) != 1)
		return -ETIMEDOUT;
	return read(efd, &v, sizeof(v)) == sizeof(v) ? 0 : -errno;
}

static void post_efd(int efd)
{
	uint64_t one = 1;

	(void)!write(efd, &one, sizeof(one));
}

/* Destroy @pager's object behind libpager's back, as another path could. */
static int raw_destroy(struct pager_conn *conn, struct pager *pager)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_DESTROY, 0);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	return pager__call(conn, msg, NULL, NULL);
}

struct client {
	char *map;
	int pages;
	int done;		/* eventfd */
	int bad;
};

static void *client_touch(void *arg)
{
	struct client *c = arg;
	int i;

	for (i = 0; i < c->pages; i++)
		c->bad += !check_pattern(c->map + i * 4 * PAGE, SEED, i * 4 * PAGE, PAGE);
	post_efd(c->done);
	return NULL;
}

/*
 * Serve @conn with pager_dispatch() until the eventfd @done is written.
 * Returns how many events were handled, or -errno.
 */
static int dispatch_until(struct pager_conn *conn, int done)
{
	struct pollfd pfd[2] = {
		{ .fd = pager_conn_fd(conn), .events = POLLIN },
		{ .fd = done, .events = POLLIN },
	};
	int n, handled = 0;

	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			return -errno;
		n = pager_dispatch(conn);
		if (n < 0)
			return n;
		handled += n;
		if (pfd[1].revents & POLLIN)
			return handled;
	}
}

/* --- connections ------------------------------------------------------- */

TEST(conn_open_close_and_accessors)
{
	struct pager_conn *a, *b;
	int proto = 0, domain = 0, fd, poll_fd;
	socklen_t len = sizeof(int);

	ASSERT_EQ(0, pager_conn_open(&a));
	EXPECT_STREQ("", pager_conn_error());
	ASSERT_EQ(0, pager_conn_open(&b));
	EXPECT_LT(0, pager_conn_family_id(a));
	EXPECT_EQ(pager_conn_family_id(a), pager_conn_family_id(b));
	EXPECT_EQ((unsigned int)EXTPAGER_FAMILY_VERSION, pager_conn_family_version(a));

	/* Each connection is a generic netlink socket of its own... */
	fd = pager__socket_fd(a);
	EXPECT_NE(fd, pager__socket_fd(b));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len));
	EXPECT_EQ(AF_NETLINK, domain);
	EXPECT_EQ(NETLINK_GENERIC, proto);
	/* ... polled through a close-on-exec descriptor of its own. */
	EXPECT_NE(pager_conn_fd(a), pager_conn_fd(b));
	EXPECT_EQ(FD_CLOEXEC, fcntl(pager_conn_fd(a), F_GETFD) & FD_CLOEXEC);

	poll_fd = pager_conn_fd(a);
	pager_conn_close(a);
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));	/* the socket is closed */
	EXPECT_EQ(-1, fcntl(poll_fd, F_GETFD));
	pager_conn_close(b);
	pager_conn_close(NULL);
	/* -ENOENT without the module: module_test unloads it. */
}

struct errmsg_probe {
	char seen[256];
};

static void *read_errmsg(void *arg)
{
	struct errmsg_probe *p = arg;

	snprintf(p->seen, sizeof(p->seen), "%s", pager_conn_error());
	return NULL;
}

TEST(conn_error_is_the_kernels_word_per_thread)
{
	struct errmsg_probe probe = { "unset" };
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t t;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(-EINVAL, pager_create(conn, 0, &pattern_ops, NULL, &b, &pager));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "size")) TH_LOG("%s", pager_conn_error());
	/* Another thread has its own, empty. */
	ASSERT_EQ(0, pthread_create(&t, NULL, read_errmsg, &probe));
	pthread_join(t, NULL);
	EXPECT_STREQ("", probe.seen);
	/* A call that succeeds clears it. */
	ASSERT_EQ(0, pager_create(conn, PAGE, &pattern_ops, NULL, &b, &pager));
	EXPECT_STREQ("", pager_conn_error());
	pager_conn_close(conn);
}

/* Whether the eventfd @efd is written within @ms. */
static bool efd_within(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* Poll pager_conn_fd() for up to @ms, then pager_dispatch(): what it handled. */
static int poll_dispatch(struct pager_conn *conn, int ms)
{
	struct pollfd pfd = { .fd = pager_conn_fd(conn), .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	return pager_dispatch(conn);
}

/*
 * An event loop polls pager_conn_fd(): a request that another call
 * received along with its own answer (here pager_stats(), between two
 * polls) makes it readable all the same, and pager_dispatch() serves it,
 * rather than the fault waiting for some later datagram or its timeout.
 */
TEST(dispatch_is_woken_by_what_other_calls_received)
{
	struct client c = { .pages = 1 };
	struct pager_conn *conn;
	struct pager_stats st;
	struct pager *pager;
	struct behaviour b;
	pthread_t t;
	int i;

	catch_sigbus();
	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	c.done = eventfd(0, EFD_CLOEXEC);
	c.map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, c.map);
	/* INIT, sent as the object was mapped: the loop answers it. */
	ASSERT_EQ(1, poll_dispatch(conn, 10000));

	ASSERT_EQ(0, pthread_create(&t, NULL, client_touch, &c));
	for (i = 0; i < 1000 && !pager_stats(pager, &st) && !st.requests; i++)
		usleep(10 * 1000);
	ASSERT_EQ(1, st.requests);
	/* Sent before this call's answer: it is queued, not in the socket. */
	usleep(100 * 1000);
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(1, poll_dispatch(conn, 10000));
	EXPECT_TRUE(efd_within(c.done, 10000));
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.bad);
	EXPECT_EQ(1, atomic_load(&b.reads));
	pager_conn_close(conn);
}

/* A write callback that takes a while, and notes whether two ever overlap. */
static atomic_int writing, overlapped;

static int slow_write(struct pager *pager, uint64_t offset, size_t len,
		      const void *data, unsigned int flags)
{
	if (atomic_fetch_add(&writing, 1))
		atomic_store(&overlapped, 1);
	usleep(20 * 1000);
	atomic_fetch_sub(&writing, 1);
	return 0;
}

static const struct pager_ops slow_write_ops = {
	.read	= pattern_read,
	.write	= slow_write,
};

/* A read callback that asks for a lock request first, as it may not. */
static atomic_int sync_in_read_ret = 1;

static int sync_in_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
			enum pager_access access, unsigned int *flags)
{
	atomic_store(&sync_in_read_ret, pager_sync(pager, 0, 0));
	return pattern_read(pager, offset, len, buf, access, flags);
}

static const struct pager_ops sync_in_read_ops = {
	.read	= sync_in_read,
};

struct syncing {
	struct pager *pager;
	int err;
	int done;		/* eventfd */
};

static void *sync_main(void *arg)
{
	struct syncing *s = arg;

	s->err = pager_sync(s->pager, 0, 0);
	post_efd(s->done);
	return NULL;
}

/*
 * A lock request from another thread while a pager_dispatch() loop runs:
 * one of them handles the returns it brings, never both at once (their
 * callbacks would share a buffer and overtake each other); and from a
 * callback, whose thread its LOCK_COMPLETED would wait for, it is
 * refused with -EDEADLK rather than hang.
 */
TEST(dispatch_and_lock_requests_take_turns)
{
	struct client c = { .pages = 1 };
	struct syncing s = { 0 };
	struct pager_conn *conn;
	struct pager *pager, *other;
	struct behaviour b;
	pthread_t t;
	char *p, *data;
	int i;

	behaviour_init(&b, SEED);
	data = malloc(PAGES * PAGE);
	ASSERT_NE(NULL, data);
	fill_pattern(data, SEED, 0, PAGES * PAGE);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &slow_write_ops, NULL, &b, &pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(1, poll_dispatch(conn, 10000));	/* INIT */
	ASSERT_EQ(PAGES, pager_offer(pager, 0, PAGES * PAGE, data, 0));
	for (i = 0; i < PAGES; i += 2)		/* a return each */
		p[i * PAGE] = 1;

	s.pager = pager;
	s.done = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, pthread_create(&t, NULL, sync_main, &s));
	while (!efd_within(s.done, 0))
		ASSERT_LE(0, poll_dispatch(conn, 50));
	pthread_join(t, NULL);
	EXPECT_EQ(0, s.err);
	EXPECT_EQ(0, atomic_load(&overlapped));

	/* From a read callback: refused, and the read still answered. */
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &sync_in_read_ops, NULL, &b, &other));
	c.done = eventfd(0, EFD_CLOEXEC);
	c.map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(other), 0);
	ASSERT_NE(MAP_FAILED, c.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, client_touch, &c));
	while (!efd_within(c.done, 0))
		ASSERT_LE(0, poll_dispatch(conn, 50));
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.bad);
	EXPECT_EQ(-EDEADLK, atomic_load(&sync_in_read_ret));
	munmap(p, PAGES * PAGE);
	free(data);
	pager_conn_close(conn);
}

/* Closing the connection orphans its objects: their faults get SIGBUS. */
TEST(conn_close_orphans_the_objects)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct client c = { .pages = 1 };
	pthread_t t;

	catch_sigbus();
	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	c.done = eventfd(0, EFD_CLOEXEC);
	c.map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, c.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, client_touch, &c));
	EXPECT_LE(2, dispatch_until(conn, c.done));
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.bad);

	pager_conn_close(conn);
	EXPECT_EQ(1, touch(c.map + 40 * PAGE, false, NULL));	/* not cached */
	EXPECT_TRUE(check_pattern(c.map, SEED, 0, PAGE));	/* cached */
	close(c.done);
}

/* --- objects ----------------------------------------------------------- */

TEST(create_refuses_bad_arguments)
{
	static const struct pager_ops no_read = { .unlock = pattern_unlock };
	struct pager_attr too_long = { .cluster = EXTPAGER_MAX_RUN + 1 };
	struct pager_attr longest = { .cluster = EXTPAGER_MAX_RUN };
	struct pager *const sentinel = (struct pager *)0x1;
	struct pager_conn *conn;
	struct pager *pager = sentinel;
	struct behaviour b;
	int fds;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	fds = count_fds();
	EXPECT_EQ(-EINVAL, pager_create(conn, PAGE, NULL, NULL, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_create(conn, PAGE, &no_read, NULL, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_create(conn, PAGE, &pattern_ops, &too_long, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_create(conn, 0, &pattern_ops, NULL, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_create(conn, PAGE + 1, &pattern_ops, NULL, &b, &pager));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "multiple of the page size"))
		TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(-EINVAL, pager_create(conn, -(uint64_t)PAGE, &pattern_ops, NULL, &b, &pager));
	EXPECT_EQ(sentinel, pager);		/* untouched on failure */
	EXPECT_EQ(fds, count_fds());		/* and no descriptor left */

	ASSERT_EQ(0, pager_create(conn, PAGE, &pattern_ops, &longest, &b, &pager));
	EXPECT_EQ(fds + 1, count_fds());
	pager_conn_close(conn);
}

TEST(create_gives_an_object_and_its_accessors)
{
	struct pager_conn *conn;
	struct pager *one, *two;
	struct behaviour b1, b2;
	struct object_info oi;
	struct pager_stats st;
	char comm[16] = "";
	struct stat sb;
	FILE *f;
	char *p;

	behaviour_init(&b1, 1);
	behaviour_init(&b2, 2);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b1, &one));
	ASSERT_EQ(0, pager_create(conn, 2 * PAGE, &pattern_ops, NULL, &b2, &two));
	EXPECT_NE(0, pager_id(one));
	EXPECT_NE(pager_id(one), pager_id(two));
	EXPECT_NE(pager_fd(one), pager_fd(two));
	EXPECT_EQ(&b1, pager_priv(one));
	EXPECT_EQ(&b2, pager_priv(two));

	/* The descriptor: the object's size, close-on-exec. */
	ASSERT_EQ(0, fstat(pager_fd(one), &sb));
	EXPECT_EQ(PAGES * PAGE, sb.st_size);
	EXPECT_EQ(FD_CLOEXEC, fcntl(pager_fd(one), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(pager_fd(one), F_GETFL) & O_ACCMODE);

	/* OBJECT_GET names the manager as a user would look for it. */
	ASSERT_EQ(0, object_info(one, &oi));
	EXPECT_FALSE(oi.read_only);
	EXPECT_EQ(getpid(), oi.manager_pid);
	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	EXPECT_STREQ(comm, oi.manager_comm);

	/* Fresh counters: nothing asked, nothing cached, managed. */
	ASSERT_EQ(0, pager_stats(one, &st));
	EXPECT_EQ(PAGES * PAGE, st.size);
	EXPECT_NE(0, st.manager);
	EXPECT_EQ(0, st.resident);
	EXPECT_EQ(0, st.mappings);
	EXPECT_EQ(0, st.faults + st.requests + st.supplies + st.returns);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, pager_fd(one), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pager_stats(one, &st));
	EXPECT_EQ(1, st.mappings);
	munmap(p, PAGE);
	pager_conn_close(conn);
}

/*
 * Without a write callback nothing could take a dirty page back, so the
 * object is read-only, as a file opened O_RDONLY: a writer under a memory
 * limit gets EACCES at mmap() rather than being OOM-killed later.
 */
TEST(no_write_callback_makes_the_object_read_only)
{
	static const struct pager_ops read_only_ops = { .read = pattern_read };
	size_t size = PAGES * PAGE;
	struct pager_conn *conn;
	struct object_info oi;
	struct pager_stats st;
	struct pager *pager;
	struct behaviour b;
	struct server s;
	char *map, *priv;
	int fd;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, size, &read_only_ops, NULL, &b, &pager));
	ASSERT_EQ(0, server_start(&s, conn, 1));
	fd = pager_fd(pager);
	ASSERT_EQ(0, object_info(pager, &oi));
	EXPECT_TRUE(oi.read_only);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_TRUE(check_pattern(map, SEED, 0, 2 * PAGE));
	EXPECT_EQ(-1, mprotect(map, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);

	/* A private mapping is copied on write; the object is untouched. */
	priv = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	memset(priv + PAGE, 0x5a, PAGE);
	EXPECT_EQ(0x5a, priv[PAGE]);
	EXPECT_TRUE(check_pattern(map + PAGE, SEED, PAGE, PAGE));
	EXPECT_EQ(0, msync(map, size, MS_SYNC));
	ASSERT_EQ(0, settled_stats(pager, &st));
	EXPECT_EQ(0, st.returns + st.return_failures);

	/*
	 * Nor do the manager's own requests dirty a page to hand it back: a
	 * precious supply is an ordinary page, and pager_return() returns
	 * nothing, it drops.
	 */
	EXPECT_EQ(1, pager_offer(pager, 9 * PAGE, PAGE, map, PAGER_PRECIOUS));
	EXPECT_EQ(0, pager_sync(pager, 0, 0));
	EXPECT_EQ(0, pager_return(pager, 0, 0));
	ASSERT_EQ(0, settled_stats(pager, &st));
	EXPECT_EQ(0, st.returns + st.return_failures);
	EXPECT_EQ(0, st.resident);

	munmap(priv, size);
	munmap(map, size);
	close(fd);
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, s.ret);
	pager_conn_close(conn);
}

/*
 * An object the kernel destroyed without libpager: its counters and offers
 * are refused, and pager_destroy() frees the pager.
 */
TEST(a_destroyed_object)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct behaviour b;
	char *data = calloc(1, PAGE);

	ASSERT_NE(NULL, data);
	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, raw_destroy(conn, pager));

	/* No one's now: every command on it is refused, OBJECT_GET included. */
	EXPECT_EQ(-ENOENT, pager_stats(pager, &st));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "destroyed")) TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(-ENOENT, pager_offer(pager, 0, PAGE, data, 0));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "destroyed")) TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(0, pager_destroy(pager));
	/* pager_serve() has nothing left to serve. */
	EXPECT_EQ(0, pager_serve(conn, 1));
	EXPECT_EQ(0, atomic_load(&b.terminated));
	pager_conn_close(conn);
	free(data);
}

/* --- served objects: in the calling thread, and with workers ----------- */

FIXTURE(served) {
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct server s;
	int tasks;
	char *map;
};

FIXTURE_VARIANT(served) {
	unsigned int nthreads;
};

FIXTURE_VARIANT_ADD(served, one_thread) { .nthreads = 1 };
FIXTURE_VARIANT_ADD(served, four_workers) { .nthreads = 4 };

FIXTURE_SETUP(served)
{
	catch_sigbus();
	behaviour_init(&self->b, SEED);
	self->tasks = count_tasks();
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &pattern_ops, NULL,
				  &self->b, &self->pager));
	ASSERT_EQ(0, server_start(&self->s, self->conn, variant->nthreads));
	self->map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(served)
{
	/* Exiting the test's process releases everything. */
}

/* Bad offers are refused before anything is sent, or by the kernel. */
TEST_F(served, offer_refuses_bad_runs)
{
	size_t len = (EXTPAGER_MAX_RUN + 1) * PAGE;
	char *data = calloc(1, len);
	struct pager_stats st;

	ASSERT_NE(NULL, data);
	EXPECT_EQ(-EINVAL, pager_offer(self->pager, 0, 0, data, 0));
	EXPECT_EQ(-EINVAL, pager_offer(self->pager, 0, 100, data, 0));
	EXPECT_EQ(-EINVAL, pager_offer(self->pager, PAGE / 2, PAGE, data, 0));
	EXPECT_EQ(-ERANGE, pager_offer(self->pager, PAGES * PAGE, PAGE, data, 0));
	EXPECT_EQ(-ERANGE, pager_offer(self->pager, (PAGES - 1) * PAGE, 2 * PAGE, data, 0));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "past size")) TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(-E2BIG, pager_offer(self->pager, 0, len, data, 0));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(0, st.resident);		/* none of them placed a page */
	free(data);
}

/* Offered pages are there without a request; read-only ones ask to unlock. */
TEST_F(served, offer_places_pages_read_only_on_request)
{
	char *data = malloc(4 * PAGE);
	struct pager_stats st;

	ASSERT_NE(NULL, data);
	fill_pattern(data, 99, 0, 4 * PAGE);
	EXPECT_EQ(4, pager_offer(self->pager, 8 * PAGE, 4 * PAGE, data, PAGER_READONLY));
	EXPECT_EQ(0, pager_offer(self->pager, 8 * PAGE, PAGE, data, 0));	/* cached */
	EXPECT_TRUE(check_pattern(self->map + 8 * PAGE, 99, 0, 4 * PAGE));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(0, st.requests);
	EXPECT_EQ(0, atomic_load(&self->b.reads));
	if (!kernel_has_vma_locks()) {
		free(data);
		SKIP(return, "no per-VMA locks (before 6.4): the write's wait for the unlock holds mmap_lock, which this process's manager may need");
	}
	EXPECT_EQ(0, touch(self->map + 9 * PAGE, true, NULL));
	EXPECT_EQ(1, atomic_load(&self->b.unlocks));
	free(data);
}

TEST_F(served, stats_count_faults_requests_and_supplies)
{
	struct pager_stats st;
	int i;

	for (i = 0; i < 5; i++)
		ASSERT_TRUE(check_pattern(self->map + i * 10 * PAGE, SEED, i * 10 * PAGE, PAGE));
	ASSERT_EQ(0, settled_stats(self->pager, &st));
	EXPECT_LE(5, st.faults);
	EXPECT_LE(5, st.requests);
	EXPECT_EQ(st.requests, atomic_load(&self->b.reads));
	EXPECT_EQ(st.requested_pages, st.supplies);
	EXPECT_EQ(st.supplies, st.resident);
	EXPECT_EQ(0, st.errors + st.zero_fills + st.timeouts);
}

/*
 * Lock requests from another thread than the server's, each right after
 * the server handled a request: every LOCK_COMPLETED reaches its waiter,
 * however it and the server's receives interleave.
 */
TEST_F(served, every_lock_request_beside_the_server_completes)
{
	int i;

	for (i = 0; i < 200; i++) {
		ASSERT_TRUE(check_pattern(self->map, SEED, 0, PAGE));
		ASSERT_EQ(0, pager_flush(self->pager, 0, PAGE));
	}
}

/* A write callback that refuses every return: the pages stay dirty. */
TEST_F(served, a_refusing_write_callback_keeps_pages_dirty)
{
	struct pager_stats st;

	memset(self->map + 2 * PAGE, 0x5a, PAGE);
	EXPECT_EQ(-1, msync(self->map, PAGES * PAGE, MS_SYNC));
	EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_LE(1, st.return_failures);
	EXPECT_EQ(0, st.returns);
}

/* pager_serve() returns once the last object is destroyed; no thread stays. */
TEST_F(served, serve_returns_when_the_last_object_is_destroyed)
{
	EXPECT_TRUE(check_pattern(self->map, SEED, 0, PAGE));
	if (variant->nthreads > 1)
		EXPECT_EQ(self->tasks + 1 + variant->nthreads, count_tasks());
	ASSERT_EQ(0, pager_destroy(self->pager));
	pthread_join(self->s.thread, NULL);
	EXPECT_EQ(0, self->s.ret);
	EXPECT_EQ(self->tasks, settled_tasks(self->tasks));
	EXPECT_EQ(1, touch(self->map + PAGE, false, NULL));
	EXPECT_EQ(0, atomic_load(&self->b.terminated));
}

/* A read callback that destroys its own object when asked for page 7. */
struct self_destroy {
	struct behaviour b;
	int err;
	int destroyed;		/* eventfd: pager_destroy() returned */
};

static int destroy_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
			enum pager_access access, unsigned int *flags)
{
	struct self_destroy *d = pager_priv(pager);

	fill_pattern(buf, d->b.seed, offset, len);
	if (offset != 7 * PAGE)
		return 0;
	d->err = pager_destroy(pager);
	post_efd(d->destroyed);
	return 0;		/* the supply is refused: the object is gone */
}

static const struct pager_ops destroy_ops = {
	.read		= destroy_read,
	.terminate	= pattern_terminate,
};

/* A callback may destroy its own object; serving goes on until it is done. */
TEST_F(served, a_callback_destroys_its_object)
{
	struct self_destroy d = { .err = 1 };
	struct pager *pager;
	char *p;

	behaviour_init(&d.b, 5);
	d.destroyed = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &destroy_ops, NULL, &d, &pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p, 5, 0, PAGE));
	EXPECT_EQ(1, touch(p + 7 * PAGE, false, NULL));
	/* The fault fails before pager_destroy() returns: wait for that. */
	ASSERT_EQ(0, wait_efd(d.destroyed));
	EXPECT_EQ(0, d.err);
	EXPECT_EQ(1, touch(p, false, NULL));		/* destroyed: even cached pages */
	EXPECT_EQ(0, atomic_load(&d.b.terminated));
	/* The fixture's object is still served. */
	EXPECT_TRUE(check_pattern(self->map + 3 * PAGE, SEED, 3 * PAGE, PAGE));
	ASSERT_EQ(0, pager_destroy(self->pager));
	pthread_join(self->s.thread, NULL);
	EXPECT_EQ(0, self->s.ret);
	EXPECT_EQ(self->tasks, settled_tasks(self->tasks));
	close(d.destroyed);
}

/* A read callback that holds on until told, to destroy its object meanwhile. */
struct held {
	struct behaviour b;
	int entered;		/* eventfd: the callback is running */
	int release;		/* eventfd: let it return */
	atomic_int returned;
};

static int held_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct held *h = pager_priv(pager);

	fill_pattern(buf, h->b.seed, offset, len);
	if (offset != 5 * PAGE)
		return 0;
	post_efd(h->entered);
	wait_efd(h->release);
	atomic_store(&h->returned, 1);
	return 0;
}

static const struct pager_ops held_ops = { .read = held_read };

struct destroyer {
	struct pager *pager;
	int ret;
	int returned_then;	/* whether the callback had returned */
};

static void *destroy_main(void *arg)
{
	struct destroyer *d = arg;
	struct held *h = pager_priv(d->pager);

	d->ret = pager_destroy(d->pager);
	d->returned_then = atomic_load(&h->returned);
	return NULL;
}

static void *fault_page5(void *arg)
{
	return (void *)(intptr_t)touch((char *)arg + 5 * PAGE, false, NULL);
}

/* pager_destroy() returns only once its object's callbacks have. */
TEST_F(served, destroy_waits_for_running_callbacks)
{
	struct destroyer d = { 0 };
	struct held h = { 0 };
	pthread_t faulter, destroyer;
	void *sigbus;
	char *p;

	behaviour_init(&h.b, 6);
	h.entered = eventfd(0, EFD_CLOEXEC);
	h.release = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &held_ops, NULL, &h, &d.pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(d.pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pthread_create(&faulter, NULL, fault_page5, p));
	ASSERT_EQ(0, wait_efd(h.entered));
	ASSERT_EQ(0, pthread_create(&destroyer, NULL, destroy_main, &d));
	/* The kernel's destroy fails the waiting fault ... */
	pthread_join(faulter, &sigbus);
	EXPECT_EQ(1, (intptr_t)sigbus);
	/* ... but pager_destroy() waits for the callback. */
	EXPECT_EQ(EBUSY, pthread_tryjoin_np(destroyer, NULL));
	post_efd(h.release);
	pthread_join(destroyer, NULL);
	EXPECT_EQ(0, d.ret);
	EXPECT_EQ(1, d.returned_then);
	close(h.entered);
	close(h.release);
}

/* A connection whose socket is gone: pager_serve() fails, leaving no thread. */
TEST(serve_fails_when_the_socket_is_gone)
{
	static const unsigned int nthreads[] = { 1, 4 };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), tasks = count_tasks();
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct behaviour b;
	int i, ret;

	ASSERT_LE(0, null);
	behaviour_init(&b, 8);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pager_conn_open(&conn));
		ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
		/* The socket closes: the object is orphaned. */
		ASSERT_LE(0, dup3(null, pager__socket_fd(conn), O_CLOEXEC));
		ret = pager_serve(conn, nthreads[i]);
		/* Over the channel, opening it fails first, with its own errno. */
		EXPECT_EQ(forced_channel() ? ret : -ENOTSOCK, ret);
		EXPECT_GT(0, ret);
		EXPECT_GT(0, pager_stats(pager, &st));
		EXPECT_EQ(tasks, settled_tasks(tasks));
		pager_conn_close(conn);
	}
	close(null);
}

/* --- pager_dispatch() in a loop of one's own ---------------------------- */

TEST(dispatch_serves_from_a_poll_loop)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct behaviour b;
	struct client c = { .pages = 6 };
	pthread_t t;
	int handled;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	EXPECT_EQ(0, pager_dispatch(conn));	/* nothing waits */
	c.done = eventfd(0, EFD_CLOEXEC);
	c.map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, c.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, client_touch, &c));
	handled = dispatch_until(conn, c.done);
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.bad);
	EXPECT_LE(1 + c.pages, handled);		/* INIT and the requests */
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(st.requests, atomic_load(&b.reads));
	close(c.done);
	pager_conn_close(conn);
}

struct flusher {
	struct pager *pager;
	char *map;
	int done;		/* eventfd */
	int err;
};

static void *flush_loop(void *arg)
{
	struct flusher *f = arg;
	int i;

	for (i = 0; i < 200 && !f->err; i++) {
		if (!check_pattern(f->map, SEED, 0, PAGE))
			f->err = -EIO;
		else
			f->err = pager_flush(f->pager, 0, PAGE);
	}
	post_efd(f->done);
	return NULL;
}

/*
 * The same beside a pager_dispatch() loop, which may take a LOCK_COMPLETED
 * while its requester waits to receive it.
 */
TEST(every_lock_request_beside_a_dispatch_loop_completes)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct flusher f = { 0 };
	pthread_t t;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	f.pager = pager;
	f.done = eventfd(0, EFD_CLOEXEC);
	f.map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, f.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, flush_loop, &f));
	EXPECT_LE(0, dispatch_until(conn, f.done));
	pthread_join(t, NULL);
	EXPECT_EQ(0, f.err);
	close(f.done);
	pager_conn_close(conn);
}

/* --- pager_serve() ------------------------------------------------------ */

TEST(serve_refuses_no_thread_and_returns_without_objects)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	int tasks = count_tasks();

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(0, pager_serve(conn, 1));
	EXPECT_EQ(0, pager_serve(conn, 4));
	ASSERT_EQ(0, pager_create(conn, PAGE, &pattern_ops, NULL, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_serve(conn, 0));
	EXPECT_EQ(tasks, settled_tasks(tasks));
	pager_conn_close(conn);
}

struct ending {
	struct behaviour b;
	int terminated;		/* eventfd */
};

static void ending_terminate(struct pager *pager)
{
	struct ending *e = pager_priv(pager);

	atomic_fetch_add(&e->b.terminated, 1);
	post_efd(e->terminated);
}

static const struct pager_ops ending_ops = {
	.read		= pattern_read,
	.terminate	= ending_terminate,
};

/* TERMINATE of each object; the loop ends with the last one. */
TEST_F(served, serve_returns_after_the_last_terminate)
{
	struct ending e[2];
	struct pager *pager[2];
	char *p[2];
	int i;

	ASSERT_EQ(0, pager_destroy(self->pager));	/* the fixture's */
	pthread_join(self->s.thread, NULL);
	for (i = 0; i < 2; i++) {
		behaviour_init(&e[i].b, 30 + i);
		e[i].terminated = eventfd(0, EFD_CLOEXEC);
		ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &ending_ops, NULL,
					  &e[i], &pager[i]));
	}
	ASSERT_EQ(0, server_start(&self->s, self->conn, variant->nthreads));
	for (i = 0; i < 2; i++) {
		p[i] = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager[i]), 0);
		ASSERT_NE(MAP_FAILED, p[i]);
		EXPECT_TRUE(check_pattern(p[i] + PAGE, 30 + i, PAGE, PAGE));
	}
	munmap(p[0], PAGES * PAGE);
	close(pager_fd(pager[0]));
	ASSERT_EQ(0, wait_efd(e[0].terminated));
	/* One object left: still serving it. */
	EXPECT_EQ(EBUSY, pthread_tryjoin_np(self->s.thread, NULL));
	EXPECT_TRUE(check_pattern(p[1] + 9 * PAGE, 31, 9 * PAGE, PAGE));
	munmap(p[1], PAGES * PAGE);
	close(pager_fd(pager[1]));
	pthread_join(self->s.thread, NULL);
	EXPECT_EQ(0, self->s.ret);
	EXPECT_EQ(1, atomic_load(&e[0].b.terminated));
	EXPECT_EQ(1, atomic_load(&e[1].b.terminated));
	EXPECT_EQ(self->tasks, settled_tasks(self->tasks));
	close(e[0].terminated);
	close(e[1].terminated);
}

/* A terminate that takes a while: started and finished said by eventfds. */
struct slow_end {
	struct behaviour b;
	int started, finished;
};

static void slow_terminate(struct pager *pager)
{
	struct slow_end *e = pager_priv(pager);

	post_efd(e->started);
	usleep(300 * 1000);
	post_efd(e->finished);
}

static const struct pager_ops slow_end_ops = {
	.read		= pattern_read,
	.terminate	= slow_terminate,
};

/*
 * pager_destroy() while terminate runs: it waits for terminate to return
 * and says -ENOENT, so that the caller knows terminate ran and does not
 * free priv a second time.
 */
TEST_F(served, destroy_during_terminate_says_it_ran)
{
	struct slow_end e;
	struct pager *pager;

	behaviour_init(&e.b, 33);
	e.started = eventfd(0, EFD_CLOEXEC);
	e.finished = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &slow_end_ops, NULL, &e, &pager));
	close(pager_fd(pager));
	ASSERT_TRUE(efd_within(e.started, 10000));
	EXPECT_EQ(-ENOENT, pager_destroy(pager));
	EXPECT_TRUE(efd_within(e.finished, 0));
	close(e.started);
	close(e.finished);
}

/* --- workers: parallel, ordered ---------------------------------------- */

/*
 * Read callbacks that wait for each other: each returns once @want are
 * running at once.  The wait is bounded (10 s) only so that a broken
 * serving loop fails the test instead of hanging it.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int inside, most, want;
	bool open;
	uint64_t seed;
};

static int gate_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct gate *g = pager_priv(pager);
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&g->lock);
	g->inside++;
	if (g->inside > g->most)
		g->most = g->inside;
	if (g->inside >= g->want) {
		g->open = true;
		pthread_cond_broadcast(&g->cond);
	}
	while (!g->open && pthread_cond_timedwait(&g->cond, &g->lock, &deadline) != ETIMEDOUT)
		;
	g->inside--;
	pthread_mutex_unlock(&g->lock);
	fill_pattern(buf, g->seed, offset, len);
	return 0;
}

static const struct pager_ops gate_ops = { .read = gate_read };

struct faulter {
	char *addr;
	uint64_t offset;
	bool good;
};

static void *fault_check(void *arg)
{
	struct faulter *f = arg;

	f->good = !touch(f->addr, false, NULL) && check_pattern(f->addr, 12, f->offset, PAGE);
	return NULL;
}

TEST(workers_serve_pages_of_one_object_in_parallel)
{
	struct gate g = { .want = 4, .seed = 12 };
	struct pager_conn *conn;
	struct pager *pager;
	struct faulter f[4];
	struct server s;
	pthread_t t[4];
	char *p;
	int i;

	catch_sigbus();
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.cond, NULL);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &gate_ops, NULL, &g, &pager));
	ASSERT_EQ(0, server_start(&s, conn, 4));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 4; i++) {
		f[i] = (struct faulter){ .addr = p + i * 16 * PAGE, .offset = i * 16 * PAGE };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fault_check, &f[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_TRUE(f[i].good) TH_LOG("fault %d", i);
	}
	pthread_mutex_lock(&g.lock);	/* read-ahead may still be read */
	EXPECT_EQ(4, g.most);
	pthread_mutex_unlock(&g.lock);
	munmap(p, PAGES * PAGE);
	close(pager_fd(pager));
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, s.ret);
	pager_conn_close(conn);
}

/*
 * Events injected where the kernel's land (the connection's queue), so
 * that their order is ours to choose, as the kernel's might be when a
 * return times out and goes again.  What each callback saw goes to a log.
 */
enum { E_RETURN1, E_READ5, E_RETURN2, E_READ40, E_UNLOCK6, E_TERMINATE, E_COUNT };

struct order {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *store;			/* the manager's copy of the object */
	int seq;
	int start[E_COUNT], end[E_COUNT];
	bool read40_started;
	bool read5_saw_return1;
};

static void mark(struct order *o, int *at)
{
	pthread_mutex_lock(&o->lock);
	*at = ++o->seq;
	pthread_mutex_unlock(&o->lock);
}

static int order_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		      enum pager_access access, unsigned int *flags)
{
	struct order *o = pager_priv(pager);
	int e = offset == 5 * PAGE ? E_READ5 : E_READ40;

	mark(o, &o->start[e]);
	if (e == E_READ40) {
		pthread_mutex_lock(&o->lock);
		o->read40_started = true;
		pthread_cond_broadcast(&o->cond);
		pthread_mutex_unlock(&o->lock);
	} else {
		o->read5_saw_return1 = check_pattern(o->store + offset, 1, offset, PAGE);
	}
	memcpy(buf, o->store + offset, len);
	mark(o, &o->end[e]);
	return 0;
}

static int order_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		       unsigned int flags)
{
	struct order *o = pager_priv(pager);
	int e = offset == 0 ? E_RETURN1 : E_RETURN2;
	struct timespec deadline;

	mark(o, &o->start[e]);
	if (e == E_RETURN1) {
		/* Hold on until the unrelated read runs: it must not wait for us. */
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		pthread_mutex_lock(&o->lock);
		while (!o->read40_started &&
		       pthread_cond_timedwait(&o->cond, &o->lock, &deadline) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&o->lock);
	}
	memcpy(o->store + offset, data, len);
	mark(o, &o->end[e]);
	return 0;
}

static int order_unlock(struct pager *pager, uint64_t offset, size_t len)
{
	struct order *o = pager_priv(pager);

	mark(o, &o->start[E_UNLOCK6]);
	mark(o, &o->end[E_UNLOCK6]);
	return 0;
}

static void order_terminate(struct pager *pager)
{
	struct order *o = pager_priv(pager);

	mark(o, &o->start[E_TERMINATE]);
	mark(o, &o->end[E_TERMINATE]);
}

static const struct pager_ops order_ops = {
	.read		= order_read,
	.write		= order_write,
	.unlock		= order_unlock,
	.terminate	= order_terminate,
};

/* Queue an event for object @id: @pages pages from @page, data of @seed. */
static void inject(struct pager_conn *conn, uint8_t cmd, uint32_t id, uint32_t req,
		   long page, long pages, uint64_t seed)
{
	bool data = cmd == EXTPAGER_CMD_DATA_RETURN;
	struct nl_msg *msg = pager__msg(conn, cmd, data ? NLA_HDRLEN + pages * PAGE : 0);
	struct nlattr *attr;

	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id);
	if (cmd != EXTPAGER_CMD_TERMINATE) {
		nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, page * PAGE);
		nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, pages * PAGE);
	}
	if (data) {	/* the run in one attribute, as the kernel sends it */
		attr = nla_reserve(msg, EXTPAGER_A_OBJECT_DATA, pages * PAGE);
		fill_pattern(nla_data(attr), seed, page * PAGE, pages * PAGE);
	}
	pager__inject(conn, nlmsg_hdr(msg));
	nlmsg_free(msg);
}

/*
 * Served by @nthreads threads, events about one page keep their order, and
 * a request about other pages does not wait for a return: the fault that
 * sent it waits, nobody waits for the return.
 */
static void serve_in_order(struct __test_metadata *_metadata, unsigned int nthreads)
{
	struct order o = { 0 };
	struct pager_conn *conn;
	struct pager *pager;
	uint32_t id;
	int i, tasks = count_tasks();

	pthread_mutex_init(&o.lock, NULL);
	pthread_cond_init(&o.cond, NULL);
	o.store = malloc(PAGES * PAGE);
	ASSERT_NE(NULL, o.store);
	fill_pattern(o.store, 0, 0, PAGES * PAGE);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &order_ops, NULL, &o, &pager));
	id = pager_id(pager);

	inject(conn, EXTPAGER_CMD_DATA_RETURN, id, 101, 0, 8, 1);	/* pages 0-7 */
	inject(conn, EXTPAGER_CMD_DATA_REQUEST, id, 102, 5, 1, 0);	/* page 5 */
	inject(conn, EXTPAGER_CMD_DATA_RETURN, id, 103, 4, 2, 2);	/* pages 4-5 */
	inject(conn, EXTPAGER_CMD_DATA_REQUEST, id, 104, 40, 1, 0);	/* page 40 */
	inject(conn, EXTPAGER_CMD_DATA_UNLOCK, id, 105, 6, 1, 0);	/* page 6 */
	inject(conn, EXTPAGER_CMD_TERMINATE, id, 0, 0, 0, 0);
	EXPECT_EQ(0, pager_serve(conn, nthreads));
	EXPECT_EQ(tasks, settled_tasks(tasks));

	for (i = 0; i < E_COUNT; i++)
		ASSERT_NE(0, o.end[i]) TH_LOG("event %d was not handled", i);
	/* Page 40 did not wait for the return of pages 0-7 ... */
	EXPECT_LT(o.start[E_READ40], o.end[E_RETURN1]);
	/* ... the events about pages 4-6 did, in the order they came. */
	EXPECT_LT(o.end[E_RETURN1], o.start[E_READ5]);
	EXPECT_LT(o.end[E_READ5], o.start[E_RETURN2]);
	EXPECT_LT(o.end[E_RETURN1], o.start[E_UNLOCK6]);
	EXPECT_TRUE(o.read5_saw_return1);
	/* ... and TERMINATE after all of them. */
	for (i = 0; i < E_TERMINATE; i++)
		EXPECT_LT(o.end[i], o.start[E_TERMINATE]) TH_LOG("event %d", i);
	/* The later return of pages 4-5 is what the store holds. */
	EXPECT_TRUE(check_pattern(o.store, 1, 0, 4 * PAGE));
	EXPECT_TRUE(check_pattern(o.store + 4 * PAGE, 2, 4 * PAGE, 2 * PAGE));
	EXPECT_TRUE(check_pattern(o.store + 6 * PAGE, 1, 6 * PAGE, 2 * PAGE));
	pager_conn_close(conn);
	free(o.store);
}

TEST(workers_keep_each_pages_order)
{
	serve_in_order(_metadata, 4);
}

TEST(one_thread_keeps_each_pages_order_and_answers_requests_first)
{
	serve_in_order(_metadata, 1);
}

/* --- pager_set_attr() against the serving threads ------------------------ */

struct marker {
	atomic_int held;	/* a worker waits in the gate */
	atomic_int go;		/* ... until this is set */
	int efd;		/* written by each evict callback past the gate */
};

/* Page 0's EVICTED is the gate; any other is a marker. */
static void marker_evict(struct pager *pager, uint64_t offset, size_t len)
{
	struct marker *m = pager_priv(pager);

	if (offset) {
		post_efd(m->efd);
		return;
	}
	atomic_store(&m->held, 1);
	while (!atomic_load(&m->go))
		;
	atomic_store(&m->go, 0);
}

static int zero_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	return PAGER_UNAVAILABLE;
}

static const struct pager_ops marker_ops = {
	.read	= zero_read,
	.evict	= marker_evict,
};

/* A busy wait of up to @max_ns: a fine-grained, varied delay. */
static void spin_ns(long max_ns)
{
	double until = now_s() + (rand() % (max_ns + 1)) / 1e9;

	while (now_s() < until)
		;
}

/* Queue an event @cmd about @id's @pages pages from @page, as if received. */
static void inject_event(struct pager_conn *conn, uint8_t cmd, uint32_t id,
			 long page, long pages)
{
	struct nl_msg *msg = pager__msg(conn, cmd, 0);

	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id);
	if (pages) {
		nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, page * PAGE);
		nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, pages * PAGE);
	}
	pager__inject(conn, nlmsg_hdr(msg));
	nlmsg_free(msg);
}

/*
 * The object's INIT (re-sent here, as if the kernel sent it: libpager
 * answers each with READY and the attributes it holds) and pager_set_attr()
 * at nearly the same moment: once both are done, the kernel must hold
 * exactly the attributes of the last pager_set_attr().  With the attributes
 * read outside the lock that orders READYs, an INIT that read the old set
 * could send it after pager_set_attr()'s READY, undoing it.
 * The workers keep the order of events about the same pages (INIT is about
 * all of them): an EVICTED of page 0 before the INIT holds a worker until
 * the test lets it go, so that the INIT starts at a known moment, and one
 * of page 1 after it says when the INIT was handled.
 */
TEST(set_attr_wins_over_the_init_being_served)
{
	const int rounds = 2000;
	struct marker m = { .efd = eventfd(0, EFD_CLOEXEC) };
	struct pager_attr attr = { .cluster = 1 };
	double until = now_s() + 15;	/* within the harness's 30 s */
	struct pager_conn *conn;
	struct pager_stats st;
	struct pager *pager;
	struct server srv;
	int r, stale = 0;
	uint32_t id;

	srand(getpid());
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &marker_ops, &attr, &m, &pager));
	id = pager_id(pager);
	ASSERT_EQ(0, server_start(&srv, conn, 4));
	for (r = 0; r < rounds && now_s() < until; r++) {
		inject_event(conn, EXTPAGER_CMD_DATA_EVICTED, id, 0, 1);
		inject_event(conn, EXTPAGER_CMD_INIT, id, 0, 0);
		inject_event(conn, EXTPAGER_CMD_DATA_EVICTED, id, 1, 1);
		while (!atomic_load(&m.held))
			;
		atomic_store(&m.held, 0);

		/* Each round's set differs from every other's. */
		attr = (struct pager_attr){
			.cluster = 1 + r % EXTPAGER_MAX_RUN,
			.resident_limit = 1000 + r,
			.no_cache = r & 1,
		};
		atomic_store(&m.go, 1);
		spin_ns(40 * 1000);
		ASSERT_EQ(0, pager_set_attr(pager, &attr)) TH_LOG("%s", pager_conn_error());
		ASSERT_EQ(0, wait_efd(m.efd));

		ASSERT_EQ(0, pager_stats(pager, &st));
		if (st.cluster != attr.cluster || st.resident_limit != attr.resident_limit) {
			if (!stale++)
				TH_LOG("round %d: the kernel holds cluster %u, limit %llu; the last set was %u, %llu",
				       r, st.cluster, (unsigned long long)st.resident_limit,
				       attr.cluster, (unsigned long long)attr.resident_limit);
		}
	}
	TH_LOG("%d rounds, %d ended with a stale set", r, stale);
	EXPECT_LE(100, r);
	EXPECT_EQ(0, stale);
	ASSERT_EQ(0, pager_destroy(pager));
	pthread_join(srv.thread, NULL);
	EXPECT_EQ(0, srv.ret);
	pager_conn_close(conn);
	close(m.efd);
}

/* --- under load ---------------------------------------------------------- */

#define LOAD_CLIENTS	8
#define LOAD_OWN	8		/* pages each client writes alone */
#define LOAD_SHARED	16		/* pages every client reads and writes */
#define LOAD_PAGES	(LOAD_CLIENTS * LOAD_OWN + LOAD_SHARED)
#define LOAD_ROUNDS	4
#define LOAD_OBJECTS	2

/*
 * A manager backed by memory.  The store takes no lock: libpager runs the
 * events about one page one after the other, and those about different
 * pages touch different bytes.  @busy catches two at once on a page.
 */
struct load_store {
	char *data;
	atomic_int busy[LOAD_PAGES];
	atomic_int overlaps;
	atomic_int reads, read_pages, writes, write_pages;
	atomic_int inside, most;
	atomic_int terminated;
};

static void load_enter(struct load_store *s, uint64_t offset, size_t len)
{
	int n = atomic_fetch_add(&s->inside, 1) + 1, most = atomic_load(&s->most);
	size_t i;

	while (n > most && !atomic_compare_exchange_weak(&s->most, &most, n))
		;
	for (i = offset / PAGE; i < (offset + len) / PAGE; i++)
		if (atomic_exchange(&s->busy[i], 1))
			atomic_fetch_add(&s->overlaps, 1);
}

static void load_leave(struct load_store *s, uint64_t offset, size_t len)
{
	size_t i;

	for (i = offset / PAGE; i < (offset + len) / PAGE; i++)
		atomic_store(&s->busy[i], 0);
	atomic_fetch_sub(&s->inside, 1);
}

static int load_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct load_store *s = pager_priv(pager);

	load_enter(s, offset, len);
	memcpy(buf, s->data + offset, len);
	atomic_fetch_add(&s->reads, 1);
	atomic_fetch_add(&s->read_pages, len / PAGE);
	load_leave(s, offset, len);
	return 0;
}

static int load_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		       unsigned int flags)
{
	struct load_store *s = pager_priv(pager);

	load_enter(s, offset, len);
	memcpy(s->data + offset, data, len);
	atomic_fetch_add(&s->writes, 1);
	atomic_fetch_add(&s->write_pages, len / PAGE);
	load_leave(s, offset, len);
	return 0;
}

static void load_terminate(struct pager *pager)
{
	struct load_store *s = pager_priv(pager);

	atomic_store(&s->terminated, 1);
}

static const struct pager_ops load_ops = {
	.read		= load_read,
	.write		= load_write,
	.terminate	= load_terminate,
};

/* What client @t writes in @round: in its own pages, and its word of shared ones. */
static uint64_t load_seed(int object, int t, int round)
{
	return 1000 + object * 100 + t * 10 + round;
}

struct load_client {
	int t;
	int fd[LOAD_OBJECTS];
	pthread_barrier_t *barrier;
	int bad_own, bad_shared, bad_untouched, sigbus, errors;
};

static void *load_client_main(void *arg)
{
	struct load_client *c = arg;
	size_t size = LOAD_PAGES * PAGE, own = c->t * LOAD_OWN * PAGE;
	size_t shared = LOAD_CLIENTS * LOAD_OWN * PAGE, off;
	char *p[LOAD_OBJECTS];
	uint64_t *w;
	int r, o;

	for (r = 0; r < LOAD_ROUNDS; r++) {
		for (o = 0; o < LOAD_OBJECTS; o++) {
			p[o] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd[o], 0);
			if (p[o] == MAP_FAILED) {
				c->errors++;
				return NULL;
			}
		}
		for (o = 0; o < LOAD_OBJECTS; o++) {
			/* What the last round left must have come back. */
			uint64_t prev = r ? load_seed(o, c->t, r - 1) : o;

			if (touch(p[o] + own, false, NULL)) {
				c->sigbus++;
				continue;
			}
			c->bad_own += !check_pattern(p[o] + own, prev, own, LOAD_OWN * PAGE);
			fill_pattern(p[o] + own, load_seed(o, c->t, r), own, LOAD_OWN * PAGE);
			for (off = shared; off < size; off += PAGE) {
				w = (uint64_t *)(p[o] + off);
				c->bad_shared += w[c->t] != (r ? load_seed(o, c->t, r - 1) :
								 pattern(o, off + c->t * 8));
				c->bad_untouched += !check_pattern(w + LOAD_CLIENTS, o,
						off + LOAD_CLIENTS * 8, PAGE - LOAD_CLIENTS * 8);
				w[c->t] = load_seed(o, c->t, r);
			}
			if (msync(p[o], size, MS_SYNC))
				c->errors++;
		}
		/* Everyone synced: unmapped, the clean pages go (no_cache). */
		pthread_barrier_wait(c->barrier);
		for (o = 0; o < LOAD_OBJECTS; o++)
			munmap(p[o], size);
		pthread_barrier_wait(c->barrier);
	}
	return NULL;
}

TEST(four_workers_eight_clients)
{
	struct pager_attr attr[LOAD_OBJECTS] = {
		{ .cluster = 1, .no_cache = 1 },
		{ .cluster = 4, .no_cache = 1 },
	};
	struct load_store store[LOAD_OBJECTS];
	struct load_client c[LOAD_CLIENTS];
	struct pager *pager[LOAD_OBJECTS];
	struct pager_stats st;
	struct pager_conn *conn;
	pthread_barrier_t barrier;
	pthread_t t[LOAD_CLIENTS];
	struct server s;
	size_t size = LOAD_PAGES * PAGE, off;
	int i, o, tasks = count_tasks();

	catch_sigbus();
	ASSERT_EQ(0, pager_conn_open(&conn));
	for (o = 0; o < LOAD_OBJECTS; o++) {
		memset(&store[o], 0, sizeof(store[o]));
		store[o].data = malloc(size);
		ASSERT_NE(NULL, store[o].data);
		fill_pattern(store[o].data, o, 0, size);
		ASSERT_EQ(0, pager_create(conn, size, &load_ops, &attr[o], &store[o], &pager[o]));
	}
	ASSERT_EQ(0, server_start(&s, conn, 4));
	pthread_barrier_init(&barrier, NULL, LOAD_CLIENTS);
	for (i = 0; i < LOAD_CLIENTS; i++) {
		c[i] = (struct load_client){ .t = i, .barrier = &barrier };
		for (o = 0; o < LOAD_OBJECTS; o++)
			c[i].fd[o] = pager_fd(pager[o]);
		ASSERT_EQ(0, pthread_create(&t[i], NULL, load_client_main, &c[i]));
	}
	for (i = 0; i < LOAD_CLIENTS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, c[i].errors + c[i].sigbus) TH_LOG("client %d", i);
		EXPECT_EQ(0, c[i].bad_own) TH_LOG("client %d", i);
		EXPECT_EQ(0, c[i].bad_shared) TH_LOG("client %d", i);
		EXPECT_EQ(0, c[i].bad_untouched) TH_LOG("client %d", i);
	}
	pthread_barrier_destroy(&barrier);

	for (o = 0; o < LOAD_OBJECTS; o++) {
		struct load_store *ls = &store[o];

		ASSERT_EQ(0, settled_stats(pager[o], &st));
		TH_LOG("object %d: %llu requests (%llu pages), %llu pages returned, "
		       "%d callbacks at once at most", o, (unsigned long long)st.requests,
		       (unsigned long long)st.requested_pages,
		       (unsigned long long)st.returns, atomic_load(&ls->most));
		/* Every request handled once, every page supplied, every return stored. */
		EXPECT_EQ(st.requests, atomic_load(&ls->reads));
		EXPECT_EQ(st.requested_pages, atomic_load(&ls->read_pages));
		EXPECT_EQ(st.requested_pages, st.supplies);
		EXPECT_EQ(st.returns, atomic_load(&ls->write_pages));
		EXPECT_EQ(0, st.errors + st.zero_fills + st.timeouts + st.return_failures);
		EXPECT_LE(LOAD_ROUNDS * LOAD_PAGES, st.requested_pages);
		EXPECT_LE(LOAD_ROUNDS * LOAD_PAGES, st.returns);
		EXPECT_EQ(0, atomic_load(&ls->overlaps));
		/* The store holds every client's last round. */
		for (i = 0; i < LOAD_CLIENTS; i++) {
			off = i * LOAD_OWN * PAGE;
			EXPECT_TRUE(check_pattern(ls->data + off, load_seed(o, i, LOAD_ROUNDS - 1),
						  off, LOAD_OWN * PAGE)) TH_LOG("client %d", i);
			for (off = LOAD_CLIENTS * LOAD_OWN * PAGE; off < size; off += PAGE)
				EXPECT_EQ(load_seed(o, i, LOAD_ROUNDS - 1),
					  ((uint64_t *)(ls->data + off))[i]);
		}
		close(pager_fd(pager[o]));
	}
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, s.ret);
	for (o = 0; o < LOAD_OBJECTS; o++) {
		EXPECT_EQ(1, atomic_load(&store[o].terminated));
		free(store[o].data);
	}
	EXPECT_EQ(tasks, settled_tasks(tasks));
	pager_conn_close(conn);
}

/* --- answers that come later ------------------------------------------- */

/*
 * A pager whose read, write and unlock callbacks all defer: each queues its
 * handle, with a copy of a write's pages, for the test's thread to answer.
 */
struct later_req {
	struct pager_request *req;
	char kind;			/* 'r', 'w' or 'u' */
	uint64_t offset;
	size_t len;
	char *data;			/* a write's pages */
};

#define LATER_MAX	64

struct later {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct later_req q[LATER_MAX];
	int n;
};

static void later_push(struct later *l, struct later_req r)
{
	pthread_mutex_lock(&l->lock);
	if (l->n < LATER_MAX)
		l->q[l->n++] = r;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

/* Wait up to 10 s for @n handles to be queued. */
static int later_wait(struct later *l, int n)
{
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&l->lock);
	while (l->n < n && !ret)
		ret = pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	n = l->n;
	pthread_mutex_unlock(&l->lock);
	return ret ? -ret : n;
}

/* The oldest handle queued, if any: kind 0 if none. */
static struct later_req later_try(struct later *l)
{
	struct later_req r = { 0 };

	pthread_mutex_lock(&l->lock);
	if (l->n) {
		r = l->q[0];
		memmove(l->q, l->q + 1, --l->n * sizeof(r));
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* The same, waiting up to 10 s for one. */
static struct later_req later_take(struct later *l)
{
	later_wait(l, 1);
	return later_try(l);
}

static int later_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		      enum pager_access access, unsigned int *flags)
{
	struct pager_request *req = pager_defer();

	if (!req)
		return -ENOMEM;
	/* A second call in the same callback is the same handle. */
	if (pager_defer() != req)
		return -EPROTO;
	later_push(pager_priv(pager), (struct later_req){ req, 'r', offset, len, NULL });
	return PAGER_LATER;
}

static int later_write(struct pager *pager, uint64_t offset, size_t len,
		       const void *data, unsigned int flags)
{
	struct pager_request *req = pager_defer();
	char *copy = malloc(len);

	if (!req || !copy) {
		free(copy);
		if (req)
			pager_answer(req, -ENOMEM, NULL, 0);
		return -ENOMEM;
	}
	memcpy(copy, data, len);
	later_push(pager_priv(pager), (struct later_req){ req, 'w', offset, len, copy });
	return PAGER_LATER;
}

static int later_unlock(struct pager *pager, uint64_t offset, size_t len)
{
	struct pager_request *req = pager_defer();

	if (!req)
		return -ENOMEM;
	later_push(pager_priv(pager), (struct later_req){ req, 'u', offset, len, NULL });
	return PAGER_LATER;
}

static const struct pager_ops later_ops = {
	.read	= later_read,
	.write	= later_write,
	.unlock	= later_unlock,
};

/* A client's access to one page, in a thread of its own: it may wait long. */
struct access {
	volatile char *p;
	bool write;
	int sigbus;
	pthread_t thread;
};

static void *access_main(void *arg)
{
	struct access *a = arg;

	a->sigbus = touch(a->p, a->write, NULL);
	return NULL;
}

static int access_start(struct access *a, char *p, bool write)
{
	a->p = p;
	a->write = write;
	a->sigbus = -1;
	return pthread_create(&a->thread, NULL, access_main, a);
}

/*
 * msync() of the page at @p (errno in @err), or pager_sync() of @pager
 * (its return), in a thread of its own.
 */
struct syncer {
	char *p;
	struct pager *pager;
	int err;
	int done;			/* eventfd */
	pthread_t thread;
};

static void *syncer_main(void *arg)
{
	struct syncer *s = arg;

	if (s->p)
		s->err = msync(s->p, PAGE, MS_SYNC) ? errno : 0;
	else
		s->err = pager_sync(s->pager, 0, 0);
	post_efd(s->done);
	return NULL;
}

static int syncer_start(struct syncer *s, char *p)
{
	s->p = p;
	s->err = -1;
	s->done = eventfd(0, EFD_CLOEXEC);
	if (s->done < 0)
		return -errno;
	return pthread_create(&s->thread, NULL, syncer_main, s);
}

static int sync_start(struct syncer *s, struct pager *pager)
{
	s->pager = pager;
	return syncer_start(s, NULL);
}

FIXTURE(later) {
	struct pager_conn *conn;
	struct pager *pager;
	struct later l;
	struct server s;
	char *map;
	char *buf;			/* what the test supplies from */
};

FIXTURE_VARIANT(later) {
	unsigned int nthreads;
};

FIXTURE_VARIANT_ADD(later, one_thread) { .nthreads = 1 };
FIXTURE_VARIANT_ADD(later, four_workers) { .nthreads = 4 };

FIXTURE_SETUP(later)
{
	catch_sigbus();
	pthread_mutex_init(&self->l.lock, NULL);
	pthread_cond_init(&self->l.cond, NULL);
	self->l.n = 0;
	self->buf = malloc(PAGES * PAGE);
	ASSERT_NE(NULL, self->buf);
	fill_pattern(self->buf, SEED, 0, PAGES * PAGE);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &later_ops, NULL,
				  &self->l, &self->pager));
	ASSERT_EQ(0, server_start(&self->s, self->conn, variant->nthreads));
	self->map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(later)
{
	/* Exiting the test's process releases everything. */
}

/* Take the next handle, which must be a @kind for page @page alone. */
#define TAKE(kind_, page_) ({							\
	struct later_req r_ = later_take(&self->l);				\
	ASSERT_EQ(kind_, r_.kind);						\
	ASSERT_EQ((uint64_t)(page_) * PAGE, r_.offset);				\
	ASSERT_EQ(PAGE, r_.len);						\
	r_; })

/* Read faults answered later, from this thread: data, zeros and an error. */
TEST_F(later, a_deferred_read_is_supplied_zeroed_or_failed)
{
	struct later_req r;
	struct access a;

	ASSERT_EQ(0, access_start(&a, self->map + 3 * PAGE, false));
	r = TAKE('r', 3);
	/* The fault waits for the answer, however long the pager takes. */
	usleep(100 * 1000);
	EXPECT_EQ(-1, a.sigbus);
	EXPECT_EQ(0, pager_answer(r.req, 0, self->buf + 3 * PAGE, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(0, a.sigbus);
	EXPECT_TRUE(check_pattern(self->map + 3 * PAGE, SEED, 3 * PAGE, PAGE));

	ASSERT_EQ(0, access_start(&a, self->map + 5 * PAGE, false));
	r = TAKE('r', 5);
	EXPECT_EQ(0, pager_answer(r.req, PAGER_UNAVAILABLE, NULL, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(0, a.sigbus);
	EXPECT_TRUE(all_zero(self->map + 5 * PAGE, PAGE));

	ASSERT_EQ(0, access_start(&a, self->map + 7 * PAGE, false));
	r = TAKE('r', 7);
	/* Not an answer to a read: refused, and the handle still stands. */
	EXPECT_EQ(-EINVAL, pager_answer(r.req, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, pager_answer(r.req, PAGER_LATER, NULL, 0));
	EXPECT_EQ(0, pager_answer(r.req, -EIO, NULL, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(1, a.sigbus);
	EXPECT_EQ(-EINVAL, pager_answer(NULL, 0, NULL, 0));
	EXPECT_EQ(NULL, pager_defer());		/* outside a callback */
}

/*
 * A caller's buffer that cannot be read: pager_answer() says EFAULT and
 * fails the request at once (an error, not a timeout: its fault gets
 * SIGBUS now), and pager_offer() from it says EFAULT; libpager itself
 * never reads it.
 */
TEST_F(later, an_unreadable_buffer_is_efault)
{
	char *bad = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pager_stats st;
	struct later_req r;
	struct access a;

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, access_start(&a, self->map + 3 * PAGE, false));
	r = TAKE('r', 3);
	EXPECT_EQ(-EFAULT, pager_answer(r.req, 0, bad, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(1, a.sigbus);
	EXPECT_EQ(-EFAULT, pager_offer(self->pager, 4 * PAGE, PAGE, bad, 0));
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(1, st.errors);
	EXPECT_EQ(0, st.timeouts);
	EXPECT_EQ(0, st.supplies);
	munmap(bad, PAGE);
}

/*
 * Eight faults at once, each deferred: the serving threads take the next
 * request while the earlier ones wait, and answers in reverse order reach
 * the right faults.
 */
TEST_F(later, many_deferred_reads_are_answered_out_of_order)
{
	struct later_req r[8];
	struct access a[8];
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, access_start(&a[i], self->map + (10 + 3 * i) * PAGE, false));
	ASSERT_EQ(8, later_wait(&self->l, 8));
	for (i = 0; i < 8; i++) {
		r[i] = later_take(&self->l);
		ASSERT_EQ('r', r[i].kind);
	}
	for (i = 7; i >= 0; i--)
		EXPECT_EQ(0, pager_answer(r[i].req, 0, self->buf + r[i].offset, 0));
	for (i = 0; i < 8; i++) {
		pthread_join(a[i].thread, NULL);
		EXPECT_EQ(0, a[i].sigbus);
		EXPECT_TRUE(check_pattern(self->map + (10 + 3 * i) * PAGE, SEED,
					  (10 + 3 * i) * PAGE, PAGE));
	}
}

/*
 * A request deferred from a data channel gives its tag back at once: one
 * serving thread's channel (4 tags) takes 8 requests deferred one after
 * the other, which it could not if each kept its tag until answered.
 */
TEST_F(later, a_deferred_channel_request_frees_its_tag)
{
	struct later_req r[8];
	struct object_info oi = { 0 };
	struct access a[8];
	int i;

	if (!forced_channel() || variant->nthreads != 1)
		SKIP(return, "one serving thread with its data channel only");
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, access_start(&a[i], self->map + (50 + i) * PAGE, false));
		r[i] = TAKE('r', 50 + i);
	}
	ASSERT_EQ(0, object_info(self->pager, &oi));
	EXPECT_EQ(8, oi.channel_requests);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0, pager_answer(r[i].req, 0, self->buf + r[i].offset, 0));
		pthread_join(a[i].thread, NULL);
		EXPECT_EQ(0, a[i].sigbus);
		EXPECT_TRUE(check_pattern(self->map + (50 + i) * PAGE, SEED,
					  (50 + i) * PAGE, PAGE));
	}
}

TEST_F(later, a_deferred_unlock_is_granted_or_denied)
{
	struct later_req r;
	struct access a;
	int page;

	if (!kernel_has_vma_locks())
		SKIP(return, "no per-VMA locks (before 6.4): the write's wait for the unlock holds mmap_lock, which this process's manager may need");
	for (page = 20; page <= 21; page++) {
		ASSERT_EQ(0, access_start(&a, self->map + page * PAGE, false));
		r = TAKE('r', page);
		EXPECT_EQ(0, pager_answer(r.req, 0, self->buf + page * PAGE, PAGER_READONLY));
		pthread_join(a.thread, NULL);
		ASSERT_EQ(0, a.sigbus);
	}

	ASSERT_EQ(0, access_start(&a, self->map + 20 * PAGE, true));
	r = TAKE('u', 20);
	EXPECT_EQ(-EINVAL, pager_answer(r.req, PAGER_UNAVAILABLE, NULL, 0));
	EXPECT_EQ(0, pager_answer(r.req, 0, NULL, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(0, a.sigbus);
	EXPECT_EQ((char)(self->buf[20 * PAGE] + 1), self->map[20 * PAGE]);

	ASSERT_EQ(0, access_start(&a, self->map + 21 * PAGE, true));
	r = TAKE('u', 21);
	EXPECT_EQ(0, pager_answer(r.req, -EACCES, NULL, 0));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(1, a.sigbus);
	EXPECT_EQ(self->buf[21 * PAGE], self->map[21 * PAGE]);
}

/*
 * A grant answers the page that asked.  Page 0 is flushed while its writer
 * waits for the unlock, and read in again, read-only: the late grant must
 * not make that new copy writable (a DSM manager has handed write access
 * to another machine by then).  The writer's retry asks again.
 */
TEST_F(later, a_late_grant_leaves_the_copy_read_in_since_locked)
{
	struct pager_stats st = { 0 };
	struct later_req old, r;
	struct access w, a;
	char *view;

	if (!kernel_has_vma_locks())
		SKIP(return, "no per-VMA locks (before 6.4): the write's wait for the unlock holds mmap_lock, which this process's manager may need");
	/* The new copy is read through a view of its own, not the writer's. */
	view = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, access_start(&a, self->map, false));
	r = TAKE('r', 0);
	EXPECT_EQ(0, pager_answer(r.req, 0, self->buf, PAGER_READONLY));
	pthread_join(a.thread, NULL);
	ASSERT_EQ(0, a.sigbus);

	ASSERT_EQ(0, access_start(&w, self->map, true));
	old = TAKE('u', 0);
	/* Not from a callback: the serving threads answer its LOCK_COMPLETED. */
	ASSERT_EQ(0, pager_flush(self->pager, 0, PAGE));
	/* Flushed indeed: reading it asks for it again. */
	ASSERT_EQ(0, access_start(&a, view, false));
	r = TAKE('r', 0);
	EXPECT_EQ(0, pager_answer(r.req, 0, self->buf, PAGER_READONLY));
	pthread_join(a.thread, NULL);
	ASSERT_EQ(0, a.sigbus);

	EXPECT_EQ(0, pager_answer(old.req, 0, NULL, 0));
	/* The writer found its page gone and wrote again: the new copy asks. */
	r = TAKE('u', 0);
	EXPECT_EQ(-1, w.sigbus);
	EXPECT_EQ(self->buf[0], view[0]);
	EXPECT_EQ(0, pager_answer(r.req, 0, NULL, 0));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.sigbus);
	EXPECT_EQ((char)(self->buf[0] + 1), view[0]);
	EXPECT_TRUE(check_pattern(view + 8, SEED, 8, PAGE - 8));
	EXPECT_EQ(0, later_try(&self->l).kind);
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(2, st.unlocks);
	munmap(view, PAGE);
}

/*
 * A deferred store: msync() waits for its answer, succeeds once it is
 * stored with the written data, and reports a failure; pager_sync() waits
 * for a deferred store too.
 */
TEST_F(later, msync_and_sync_wait_for_a_deferred_store)
{
	struct later_req r;
	struct access a;
	struct syncer s;

	ASSERT_EQ(0, access_start(&a, self->map + 30 * PAGE, true));
	r = TAKE('r', 30);
	EXPECT_EQ(0, pager_answer(r.req, 0, self->buf + 30 * PAGE, 0));
	pthread_join(a.thread, NULL);
	ASSERT_EQ(0, a.sigbus);

	ASSERT_EQ(0, syncer_start(&s, self->map + 30 * PAGE));
	r = TAKE('w', 30);
	EXPECT_EQ((char)(self->buf[30 * PAGE] + 1), r.data[0]);
	EXPECT_TRUE(check_pattern(r.data + 8, SEED, 30 * PAGE + 8, PAGE - 8));
	EXPECT_FALSE(efd_within(s.done, 200));
	EXPECT_EQ(0, pager_answer(r.req, 0, NULL, 0));
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, s.err);
	close(s.done);
	free(r.data);

	self->map[30 * PAGE + 1] = 0x42;
	ASSERT_EQ(0, syncer_start(&s, self->map + 30 * PAGE));
	r = TAKE('w', 30);
	EXPECT_EQ(0x42, r.data[1]);
	EXPECT_EQ(0, pager_answer(r.req, -EIO, NULL, 0));
	free(r.data);
	/*
	 * fsync returns the dirty pages and then writes back what is still
	 * dirty: a refused page goes twice.  Refuse it as long as it comes.
	 */
	while (!efd_within(s.done, 50)) {
		r = later_try(&self->l);
		if (r.kind) {
			EXPECT_EQ('w', r.kind);
			EXPECT_EQ(0, pager_answer(r.req, -EIO, NULL, 0));
			free(r.data);
		}
	}
	pthread_join(s.thread, NULL);
	EXPECT_EQ(EIO, s.err);
	close(s.done);

	/* Still dirty: pager_sync() returns it again, and waits for its answer. */
	ASSERT_EQ(0, sync_start(&s, self->pager));
	r = TAKE('w', 30);
	EXPECT_EQ(0x42, r.data[1]);
	EXPECT_FALSE(efd_within(s.done, 200));
	EXPECT_EQ(0, pager_answer(r.req, 0, NULL, 0));
	pthread_join(s.thread, NULL);
	EXPECT_EQ(0, s.err);
	close(s.done);
	free(r.data);
}

/*
 * An answer the kernel no longer waits for: the request timed out (its
 * fault got SIGBUS), or its object was destroyed meanwhile.
 */
TEST_F(later, an_answer_after_the_timeout_or_destroy_is_stale)
{
	long saved = param_get("request_timeout_ms");
	struct later_req r;
	struct access a;

	ASSERT_LT(0, saved);
	ASSERT_EQ(0, param_set("request_timeout_ms", 500));
	ASSERT_EQ(0, access_start(&a, self->map + 40 * PAGE, false));
	r = later_take(&self->l);
	pthread_join(a.thread, NULL);
	EXPECT_EQ(0, param_set("request_timeout_ms", saved));
	ASSERT_EQ('r', r.kind);
	EXPECT_EQ(1, a.sigbus);
	EXPECT_EQ(-ESTALE, pager_answer(r.req, 0, self->buf + 40 * PAGE, 0));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "not pending")) TH_LOG("%s", pager_conn_error());

	ASSERT_EQ(0, access_start(&a, self->map + 41 * PAGE, false));
	r = TAKE('r', 41);
	ASSERT_EQ(0, pager_destroy(self->pager));
	pthread_join(a.thread, NULL);
	EXPECT_EQ(1, a.sigbus);
	EXPECT_EQ(-ESTALE, pager_answer(r.req, 0, self->buf + 41 * PAGE, 0));
	pthread_join(self->s.thread, NULL);
	EXPECT_EQ(0, self->s.ret);
}

TEST_HARNESS_MAIN
