// SPDX-License-Identifier: GPL-2.0
/*
 * Anonymous objects and the default pager's registration: with none
 * registered, the kernel's own default pager serves anonymous memory (zeros,
 * paged out to its store and back); one registered connection at a time
 * (CAP_SYS_ADMIN) gets every anonymous object created while its socket is
 * open, and may refuse one; anyone may create them.
 */
#include <poll.h>

#include "kselftest_harness.h"
#include "helpers.h"

/* A default pager whose pages all read @fill; it records what it is given. */
struct dflt {
	unsigned char fill;
	int refuse;		/* errno the assign callback returns, 0: take */
	uint64_t assigned_size;
	uint32_t assigned;
};

static int dflt_assign(struct pager *pager, uint64_t size, void **privp, void *arg)
{
	struct dflt *d = arg;

	if (d->refuse)
		return -d->refuse;
	d->assigned++;
	d->assigned_size = size;
	*privp = d;
	return 0;
}

static int dflt_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct dflt *d = pager_priv(pager);

	memset(buf, d->fill, len);
	return 0;
}

static const struct pager_ops dflt_ops = { .read = dflt_read };

/*
 * Serve @conn, as the default pager, until @child exits; its wait status,
 * or -1 if the connection failed.
 */
static int serve_until_exit(struct pager_conn *conn, pid_t child)
{
	struct pollfd pfd = { .fd = pager_conn_fd(conn), .events = POLLIN };
	int status, err = 0;

	while (waitpid(child, &status, WNOHANG) == 0) {
		poll(&pfd, 1, 50);
		err = pager_dispatch(conn);
		if (err < 0) {
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			return -1;
		}
	}
	return status;
}

/* In a child: map @fd's @size bytes and exit 0 if page @index reads @fill. */
static pid_t check_page(int fd, size_t size, size_t index, unsigned char fill)
{
	pid_t child = fork();
	void *where;
	char *p;

	if (child)
		return child;
	catch_sigbus();
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(10);
	if (touch(p + index * PAGE, false, &where))
		_exit(11);	/* SIGBUS */
	_exit(p[index * PAGE] == fill && p[index * PAGE + PAGE - 1] == fill ? 0 : 12);
}

#define EXPECT_EXIT0(status) \
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) \
		TH_LOG("child wait status %#x", status)

/*
 * No default pager registered: an anonymous object is the kernel's own.
 * It reads as zeros; 32 MiB written under memory.high 4 MiB go to the
 * kernel's default pager and come back intact; fsync has nothing to wait
 * for; nobody can adopt it.  Not memory.max: written with no round trip to
 * a manager, its pages are dirtied faster than writeback moves them, and
 * memory.max would OOM-kill the writer (see memcg_create_high()).
 */
FIXTURE(memcg) {
	char cg[64];
};

FIXTURE_SETUP(memcg)
{
	self->cg[0] = '\0';
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->cg[0])
		rmdir(self->cg);
}

TEST_F_TIMEOUT(memcg, kernel_default_pager_serves_anonymous_memory, 300)
{
	const size_t limit = 4 << 20, size = 32 << 20;
	struct pager_stats st;
	struct pager_conn *conn;
	struct pager *pager;
	int fd, status;
	pid_t child;
	uint32_t id;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	ASSERT_EQ(0, memcg_create_high(self->cg, sizeof(self->cg), "anon", "4M"));
	ASSERT_EQ(0, pager_conn_open(&conn));
	fd = pager_create_anonymous(conn, size, &id);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", strerror(-fd), pager_conn_error());

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		size_t off;
		char *p;

		if (memcg_enter(self->cg))
			_exit(10);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(11);
		if (!all_zero(p, size))
			_exit(12);
		for (off = 0; off < size; off += PAGE)
			fill_pattern(p + off, 9, off, PAGE);
		if (fsync(fd))
			_exit(13);
		for (off = 0; off < size; off += PAGE)
			if (!check_pattern(p + off, 9, off, PAGE))
				_exit(14);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EXIT0(status);

	ASSERT_EQ(0, pager__stats(conn, id, &st));
	EXPECT_EQ(0, st.manager);
	EXPECT_EQ(0, st.requests);
	/* What the limit kept out of memory went to the store and came back. */
	EXPECT_LE((size - limit) / PAGE, st.defaulted);
	EXPECT_LE((size - limit) / PAGE, st.default_faults);
	EXPECT_EQ(0, st.default_failures);

	EXPECT_EQ(-EBUSY, pager_adopt(conn, id, &dflt_ops, NULL, NULL, &pager));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "anonymous memory of the kernel"));
	close(fd);
	pager_conn_close(conn);
}

/*
 * One connection at a time is the default pager, from its registration to
 * its socket's close: it gets the anonymous objects created meanwhile,
 * with their size, and serves them; then the kernel's default pager does.
 */
TEST(one_default_pager_while_its_socket_is_open)
{
	const size_t size = 1 << 20;
	struct dflt d = { .fill = 7 };
	struct pager_conn *dp, *other, *client;
	struct pager_stats st;
	int fd, status;
	uint32_t id;

	ASSERT_EQ(0, pager_conn_open(&dp));
	ASSERT_EQ(0, pager_conn_open(&other));
	ASSERT_EQ(0, pager_conn_open(&client));
	ASSERT_EQ(-EINVAL, pager_register_default(dp, &dflt_ops, NULL, NULL, &d));
	ASSERT_EQ(0, pager_register_default(dp, &dflt_ops, NULL, dflt_assign, &d))
		TH_LOG("%s", pager_conn_error());
	EXPECT_EQ(-EALREADY, pager_register_default(dp, &dflt_ops, NULL, dflt_assign, &d));
	EXPECT_EQ(-EBUSY, pager_register_default(other, &dflt_ops, NULL, dflt_assign, &d));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "is the default pager already"));

	fd = pager_create_anonymous(client, size, &id);
	ASSERT_LE(0, fd) TH_LOG("%s", pager_conn_error());
	ASSERT_EQ(0, pager__stats(client, id, &st));
	EXPECT_NE(0, st.manager);
	status = serve_until_exit(dp, check_page(fd, size, 3, 7));
	EXPECT_EXIT0(status);
	EXPECT_EQ(1, d.assigned);
	EXPECT_EQ(size, d.assigned_size);
	close(fd);

	/* Gone with its socket: the other connection may take its place. */
	pager_conn_close(dp);
	fd = pager_create_anonymous(client, size, &id);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pager__stats(client, id, &st));
	EXPECT_EQ(0, st.manager);
	status = serve_until_exit(other, check_page(fd, size, 3, 0));
	EXPECT_EXIT0(status);
	close(fd);
	ASSERT_EQ(0, pager_register_default(other, &dflt_ops, NULL, dflt_assign, &d));
	pager_conn_close(other);
	pager_conn_close(client);
}

/* A default pager that refuses an object: its faults get SIGBUS at once. */
TEST(a_refused_anonymous_object_is_sigbus)
{
	struct dflt d = { .refuse = ENOMEM };
	struct pager_conn *dp, *client;
	int fd, status;

	ASSERT_EQ(0, pager_conn_open(&dp));
	ASSERT_EQ(0, pager_conn_open(&client));
	ASSERT_EQ(0, pager_register_default(dp, &dflt_ops, NULL, dflt_assign, &d));
	fd = pager_create_anonymous(client, PAGE, NULL);
	ASSERT_LE(0, fd);
	status = serve_until_exit(dp, check_page(fd, PAGE, 0, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 11)
		TH_LOG("child wait status %#x", status);
	EXPECT_EQ(0, d.assigned);
	close(fd);
	pager_conn_close(dp);
	pager_conn_close(client);
}

/*
 * Without CAP_SYS_ADMIN one cannot become the default pager, whatever
 * extpager.unprivileged says, but may create anonymous objects as memfds,
 * max_objects_per_user of them.
 */
TEST(anyone_creates_anonymous_objects_only_root_serves_them)
{
	long saved_unpriv = param_get("unprivileged");
	long saved_max = param_get("max_objects_per_user");
	int status;
	pid_t pid;

	ASSERT_EQ(0, param_set("unprivileged", 1));
	ASSERT_EQ(0, param_set("max_objects_per_user", 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pager_conn *c;
		int fd;
		char *p;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    pager_conn_open(&c))
			_exit(10);
		if (pager_register_default(c, &dflt_ops, NULL, dflt_assign, NULL) != -EPERM ||
		    !strstr(pager_conn_error(), "needs CAP_SYS_ADMIN"))
			_exit(11);
		fd = pager_create_anonymous(c, PAGE, NULL);
		if (fd < 0)
			_exit(12);
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || p[0])
			_exit(13);
		p[0] = 1;
		if (p[0] != 1)
			_exit(14);
		if (pager_create_anonymous(c, PAGE, NULL) != -EDQUOT ||
		    !strstr(pager_conn_error(), "max_objects_per_user"))
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EXIT0(status);
	EXPECT_EQ(0, param_set("unprivileged", saved_unpriv));
	EXPECT_EQ(0, param_set("max_objects_per_user", saved_max));
}

/* Sizes are checked as for object-create. */
TEST(bad_sizes_are_refused)
{
	struct pager_conn *conn;

	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(-EINVAL, pager_create_anonymous(conn, 0, NULL));
	EXPECT_EQ(-EINVAL, pager_create_anonymous(conn, PAGE + 1, NULL));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "multiple of the page size"));
	pager_conn_close(conn);
}

TEST_HARNESS_MAIN
