// SPDX-License-Identifier: GPL-2.0
/*
 * Time and death: requests that time out, managers that die with faults
 * pending, a full receive queue, a supply whose source moves, privilege,
 * and the YNL CLI listing objects from the spec.
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define PAGES	64

/* A manager that answers INIT and nothing else. */
static void ready_by_hand(struct __test_metadata *_metadata,
			  struct pager_conn *conn, struct pager *pager)
{
	struct event ev;
	struct nl_msg *msg;

	ASSERT_EQ(0, wait_event_cmd(conn, EXTPAGER_CMD_INIT, 5000, &ev));
	msg = pager__msg(conn, EXTPAGER_CMD_READY, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	ASSERT_EQ(0, pager__call(conn, msg, NULL, NULL));
}

/* An object mapped by this process whose manager is played by hand. */
static char *unserved_object(struct __test_metadata *_metadata, struct behaviour *b,
			     struct pager_conn **conn, struct pager **pager)
{
	char *p;

	ASSERT_EQ(0, pager_conn_open(conn));
	ASSERT_EQ(0, pager_create(*conn, PAGES * PAGE, &pattern_ops, NULL, b, pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(*pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ready_by_hand(_metadata, *conn, *pager);
	return p;
}

/* Answer request @ev with DATA_UNAVAILABLE, by hand. */
static int answer_unavailable(struct pager_conn *conn, struct pager *pager,
			      const struct event *ev)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_DATA_UNAVAILABLE, 0);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev->req_id);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, ev->offset);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, ev->len);
	return pager__call(conn, msg, NULL, NULL);
}

struct waiter {
	char *addr;
	int sigbus;
	void *where;
	double done;
};

static void *wait_fault(void *arg)
{
	struct waiter *w = arg;

	w->sigbus = touch(w->addr, false, &w->where);
	w->done = now_s();
	return NULL;
}

TEST(timeout_is_sigbus_and_the_late_answer_is_refused)
{
	long saved = param_get("request_timeout_ms");
	struct pager_conn *conn;
	struct pager *pager;
	struct pager_stats st;
	struct behaviour b;
	struct waiter w;
	struct event ev;
	pthread_t t;
	char *p;
	double start;

	catch_sigbus();
	behaviour_init(&b, 1);
	ASSERT_LT(0, saved);
	ASSERT_EQ(0, param_set("request_timeout_ms", 500));
	p = unserved_object(_metadata, &b, &conn, &pager);

	w = (struct waiter){ .addr = p + 3 * PAGE + 5 };
	start = now_s();
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_fault, &w));
	ASSERT_EQ(0, wait_event_cmd(conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
	pthread_join(t, NULL);
	EXPECT_EQ(1, w.sigbus);
	EXPECT_EQ(p + 3 * PAGE + 5, w.where);
	EXPECT_LE(0.4, w.done - start);		/* it did wait for the manager */

	/* The answer comes too late: refused, and it changes nothing. */
	EXPECT_EQ(-ESTALE, answer_unavailable(conn, pager, &ev));
	ASSERT_EQ(0, pager_stats(pager, &st));
	EXPECT_EQ(1, st.timeouts);
	EXPECT_EQ(0, st.zero_fills);
	EXPECT_EQ(0, param_set("request_timeout_ms", saved));
}

TEST(timeout_parameter_refuses_zero)
{
	long saved = param_get("request_timeout_ms");

	EXPECT_EQ(-EINVAL, param_set("request_timeout_ms", 0));
	EXPECT_EQ(saved, param_get("request_timeout_ms"));
}

/*
 * A manager process is SIGKILLed while faults wait on it: they all get
 * SIGBUS at once, later faults on missing pages too, cached pages stay
 * readable.
 */
TEST(manager_killed_with_faults_pending)
{
	struct waiter w[4];
	pthread_t t[4];
	int sv[2], fd, i;
	double killed;
	pid_t pid;
	char *p;

	catch_sigbus();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pager_conn *conn;
		struct pager *pager;
		struct behaviour b;

		behaviour_init(&b, 9);
		/* Serve page 0 at once, hold every other request. */
		b.delay_ms = 60 * 1000;
		b.delay_from = 1;
		if (pager_conn_open(&conn) ||
		    pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager) ||
		    pager_send_fd(sv[1], pager_fd(pager), NULL, 0))
			_exit(1);
		pager_serve(conn, 1);
		_exit(0);
	}
	fd = pager_recv_fd(sv[0], NULL, 0);
	ASSERT_LE(0, fd);
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, 9, 0, PAGE));

	for (i = 0; i < 4; i++) {
		w[i] = (struct waiter){ .addr = p + (1 + i) * PAGE };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wait_fault, &w[i]));
	}
	usleep(500 * 1000);	/* the manager holds one request, the rest queue */
	killed = now_s();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(1, w[i].sigbus) TH_LOG("fault %d", i);
		EXPECT_GT(1.0, w[i].done - killed) TH_LOG("fault %d took %.2fs", i,
							w[i].done - killed);
	}
	waitpid(pid, NULL, 0);
	EXPECT_TRUE(check_pattern(p, 9, 0, PAGE));		/* cached */
	EXPECT_EQ(1, touch(p + 20 * PAGE, false, NULL));	/* missing */
	munmap(p, PAGES * PAGE);
	close(fd);
}

static pid_t as_user(uid_t uid)
{
	pid_t pid = fork();

	if (!pid && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		_exit(99);
	return pid;
}

static int child_status(pid_t pid)
{
	int status;

	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(unprivileged_managers)
{
	long saved_unpriv = param_get("unprivileged");
	long saved_max = param_get("max_objects_per_user");
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pid_t pid;

	behaviour_init(&b, 3);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, param_set("unprivileged", 0));

	/* By default only CAP_SYS_ADMIN creates objects. */
	pid = as_user(65534);
	if (!pid) {
		struct pager_conn *c;
		struct pager *mine;

		if (pager_conn_open(&c))
			_exit(2);
		_exit(pager_create(c, PAGE, &pattern_ops, NULL, &b, &mine) == -EPERM &&
		      strstr(pager_conn_error(), "CAP_SYS_ADMIN") ? 0 : 1);
	}
	EXPECT_EQ(0, child_status(pid));

	/* Allowed, a user gets max_objects_per_user, and never another's object. */
	ASSERT_EQ(0, param_set("unprivileged", 1));
	ASSERT_EQ(0, param_set("max_objects_per_user", 2));
	pid = as_user(65534);
	if (!pid) {
		struct pager_conn *c;
		struct pager *mine[3];
		struct nl_msg *msg;

		if (pager_conn_open(&c) ||
		    pager_create(c, PAGE, &pattern_ops, NULL, &b, &mine[0]) ||
		    pager_create(c, PAGE, &pattern_ops, NULL, &b, &mine[1]))
			_exit(2);
		if (pager_create(c, PAGE, &pattern_ops, NULL, &b, &mine[2]) != -EDQUOT)
			_exit(3);
		msg = pager__msg(c, EXTPAGER_CMD_OBJECT_DESTROY, 0);
		nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
		if (pager__call(c, msg, NULL, NULL) != -EPERM)
			_exit(4);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(0, param_set("unprivileged", saved_unpriv));
	EXPECT_EQ(0, param_set("max_objects_per_user", saved_max));
}

/*
 * A kernel access to page @off of @p (write(2) from the mapping into a
 * pipe): 0 if it read the pattern, or -errno.
 */
static int kernel_access(const char *p, uint64_t seed, uint64_t off)
{
	char *buf = malloc(PAGE);
	int pfd[2], ret = -ENOMEM;

	if (buf && !pipe(pfd)) {
		ret = write(pfd[1], p + off, PAGE) == (ssize_t)PAGE ? 0 : -errno;
		if (!ret && (read(pfd[0], buf, PAGE) != (ssize_t)PAGE ||
			     !check_pattern(buf, seed, off, PAGE)))
			ret = -EIO;
		close(pfd[0]);
		close(pfd[1]);
	}
	free(buf);
	return ret;
}

/* A manager and its own client, as an unprivileged user: an exit status. */
static int unprivileged_client(struct behaviour *b, bool kernel_faults)
{
	struct pager_stats st;
	struct pager_conn *c;
	struct pager *pager;
	pthread_t t;
	char *p;

	if (pager_conn_open(&c) || pager_create(c, 2 * PAGE, &pattern_ops, NULL, b, &pager))
		return 2;
	if (pthread_create(&t, NULL, serve_thread, c))
		return 3;
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	if (p == MAP_FAILED)
		return 4;
	if (kernel_faults)
		return kernel_access(p, b->seed, 0) ? 5 : 0;
	/* Not in memory: EFAULT, and the manager never hears of it. */
	if (kernel_access(p, b->seed, 0) != -EFAULT)
		return 6;
	if (pager_stats(pager, &st) || st.requests)
		return 7;
	/* Touched from user mode, it is in memory, and serves the kernel too. */
	if (!check_pattern(p, b->seed, 0, PAGE))
		return 8;
	return kernel_access(p, b->seed, 0) ? 9 : 0;
}

/*
 * Kernel accesses to missing pages of an unprivileged manager's object do
 * not wait for it (as userfaultfd's UFFD_USER_MODE_ONLY), unless
 * unprivileged_kernel_faults; a privileged manager's object waits as ever.
 */
TEST(unprivileged_managers_take_user_faults_only)
{
	long saved_unpriv = param_get("unprivileged");
	long saved_kernel = param_get("unprivileged_kernel_faults");
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	pid_t pid;
	char *p;

	ASSERT_LE(0, saved_kernel);
	behaviour_init(&b, 5);
	ASSERT_EQ(0, param_set("unprivileged", 1));
	ASSERT_EQ(0, param_set("unprivileged_kernel_faults", 0));
	pid = as_user(65534);
	if (!pid)
		_exit(unprivileged_client(&b, false));
	EXPECT_EQ(0, child_status(pid));

	ASSERT_EQ(0, param_set("unprivileged_kernel_faults", 1));
	pid = as_user(65534);
	if (!pid)
		_exit(unprivileged_client(&b, true));
	EXPECT_EQ(0, child_status(pid));

	ASSERT_EQ(0, param_set("unprivileged_kernel_faults", 0));
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, kernel_access(p, b.seed, 0));
	munmap(p, PAGE);
	close(pager_fd(pager));
	EXPECT_EQ(0, pthread_join(server, NULL));
	pager_conn_close(conn);

	EXPECT_EQ(0, param_set("unprivileged", saved_unpriv));
	EXPECT_EQ(0, param_set("unprivileged_kernel_faults", saved_kernel));
}

/* max_requests bounds what a slow manager can pin: faults beyond it wait. */
TEST(outstanding_requests_are_capped)
{
	long saved = param_get("max_requests");
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct waiter w[4];
	struct event ev[4];
	pthread_t t[4];
	int i, n = 0;
	char *p;

	catch_sigbus();
	behaviour_init(&b, 11);
	ASSERT_EQ(0, param_set("max_requests", 2));
	p = unserved_object(_metadata, &b, &conn, &pager);
	for (i = 0; i < 4; i++) {
		w[i] = (struct waiter){ .addr = p + 10 * i * PAGE };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wait_fault, &w[i]));
	}
	/* Two requests come; the other faults wait for a slot. */
	while (n < 4 && !wait_event_cmd(conn, EXTPAGER_CMD_DATA_REQUEST, 1000, &ev[n]))
		n++;
	EXPECT_EQ(2, n);
	/* Each answer frees a slot for one more. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, answer_unavailable(conn, pager, &ev[i]));
		if (n < 4)
			ASSERT_EQ(0, wait_event_cmd(conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev[n++]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].sigbus);
	}
	EXPECT_EQ(0, param_set("max_requests", saved));
}

/* The tracepoints show a fault's request and supply in tracefs. */
TEST(tracepoints)
{
	const char *events = "/sys/kernel/tracing/events/extpager/enable";
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	char line[512], want[32];
	int req = 0, sup = 0;
	FILE *f;
	char *p;

	if (access(events, W_OK))
		SKIP(return, "no tracefs with extpager events");
	behaviour_init(&b, 12);
	f = fopen("/sys/kernel/tracing/trace", "w");	/* clears it */
	ASSERT_NE(NULL, f);
	fclose(f);
	f = fopen(events, "w");
	ASSERT_NE(NULL, f);
	fputs("1", f);
	fclose(f);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p + 6 * PAGE, 12, 6 * PAGE, PAGE));
	f = fopen("/sys/kernel/tracing/trace", "r");
	ASSERT_NE(NULL, f);
	snprintf(want, sizeof(want), "object=%u ", pager_id(pager));
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, want) || !strstr(line, "index=6 pages=1"))
			continue;
		req += !!strstr(line, "extpager_request:");
		sup += !!strstr(line, "extpager_supply:");
	}
	fclose(f);
	f = fopen(events, "w");
	fputs("0", f);
	fclose(f);
	EXPECT_EQ(1, req);
	EXPECT_EQ(1, sup);
}

/* Answer data request @ev of any object with DATA_UNAVAILABLE, by hand. */
static int answer_unavailable_id(struct pager_conn *conn, const struct event *ev)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_DATA_UNAVAILABLE, 0);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, ev->id);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev->req_id);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, ev->offset);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, ev->len);
	return pager__call(conn, msg, NULL, NULL);
}

/*
 * For tests that outlive the harness's default 30 s under KASAN and a
 * loaded TCG host: Python, or several timeouts of the module's in a row.
 */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

/*
 * Fill @conn's receive queue: it gets the smallest receive buffer, and
 * pages @first and @first + 1, offered and written, go back in one
 * DATA_RETURN that nobody reads, which alone fills it.  Any call on @conn
 * must come before: its ack would find the queue full.
 */
static void fill_queue(struct __test_metadata *_metadata, struct pager_conn *conn,
		       struct pager *pager, char *p, size_t first)
{
	char data[2 * 4096] = "";
	int zero = 0;

	ASSERT_EQ(4096, PAGE);
	ASSERT_EQ(0, setsockopt(pager__socket_fd(conn), SOL_SOCKET, SO_RCVBUF, &zero,
				sizeof(zero)));
	pager_offer(pager, first * PAGE, 2 * PAGE, data, 0);
	p[first * PAGE] = 1;
	p[(first + 1) * PAGE] = 1;
	ASSERT_EQ(0, sync_file_range(pager_fd(pager), first * PAGE, 2 * PAGE,
				     SYNC_FILE_RANGE_WRITE));
}

struct full_waiter {
	struct waiter w;
	atomic_int done;
};

static void *wait_fault_flag(void *arg)
{
	struct full_waiter *f = arg;

	wait_fault(&f->w);
	atomic_store(&f->done, 1);
	return NULL;
}

/*
 * The manager's receive queue is full of returns it has not read: a fault
 * that finds it so waits (INIT of an object mapped meanwhile too), and its
 * request goes out once the manager reads again; a manager that never
 * reads again fails the fault when request_timeout_ms passes, not before.
 */
TEST_F_TIMEOUT(slow, a_full_manager_socket_delays_requests_and_init, 300)
{
	long saved = param_get("request_timeout_ms");
	struct pager *pager, *other;
	struct pager_conn *conn;
	struct full_waiter f[2] = {};
	struct behaviour b;
	int n = 0;
	struct event ev;
	pthread_t t[2];
	double start;
	char *p, *q;

	catch_sigbus();
	ASSERT_LT(0, saved);
	ASSERT_EQ(0, param_set("request_timeout_ms", 3000));
	behaviour_init(&b, 14);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &other));
	p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ready_by_hand(_metadata, conn, pager);

	fill_queue(_metadata, conn, pager, p, 0);
	f[0].w.addr = p + 20 * PAGE;
	ASSERT_EQ(0, pthread_create(&t[0], NULL, wait_fault_flag, &f[0]));
	/* INIT for the other object finds the queue full as well. */
	q = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(other), 0);
	ASSERT_NE(MAP_FAILED, q);
	f[1].w.addr = q + 7 * PAGE;
	ASSERT_EQ(0, pthread_create(&t[1], NULL, wait_fault_flag, &f[1]));
	usleep(500 * 1000);
	EXPECT_EQ(0, atomic_load(&f[0].done));
	EXPECT_EQ(0, atomic_load(&f[1].done));

	/* The manager reads again: the return, then what waited for room. */
	while (!(atomic_load(&f[0].done) && atomic_load(&f[1].done)) && n++ < 20 &&
	       !next_event(conn, 5000, &ev)) {
		struct nl_msg *msg;

		switch (ev.cmd) {
		case EXTPAGER_CMD_DATA_RETURN:
			EXPECT_EQ(0, ack_return(conn, &ev));
			break;
		case EXTPAGER_CMD_INIT:
			EXPECT_EQ(pager_id(other), ev.id);
			msg = pager__msg(conn, EXTPAGER_CMD_READY, 0);
			nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, ev.id);
			EXPECT_EQ(0, pager__call(conn, msg, NULL, NULL));
			break;
		case EXTPAGER_CMD_DATA_REQUEST:
			EXPECT_EQ(0, answer_unavailable_id(conn, &ev));
			break;
		}
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	EXPECT_EQ(0, f[0].w.sigbus);
	EXPECT_EQ(0, f[1].w.sigbus);
	EXPECT_EQ(0, p[20 * PAGE]);
	EXPECT_EQ(0, q[7 * PAGE]);

	/* A manager that never reads again: the fault fails in its time. */
	fill_queue(_metadata, conn, pager, p, 2);
	f[0] = (struct full_waiter){ .w.addr = p + 30 * PAGE };
	start = now_s();
	ASSERT_EQ(0, pthread_create(&t[0], NULL, wait_fault_flag, &f[0]));
	pthread_join(t[0], NULL);
	EXPECT_EQ(1, f[0].w.sigbus);
	EXPECT_LE(2.9, f[0].w.done - start);

	pager_conn_close(conn);
	EXPECT_EQ(0, param_set("request_timeout_ms", saved));
}

/*
 * A lock request completes while the manager's receive queue is full (of
 * a return it has not read): its LOCK_COMPLETED waits for room rather than
 * be lost, and reaches the manager once it reads again.
 */
TEST(a_full_manager_socket_delays_lock_completed)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct nl_msg *msg;
	struct event ev;
	int completed = 0;
	char *p;

	behaviour_init(&b, 16);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ready_by_hand(_metadata, conn, pager);
	fill_queue(_metadata, conn, pager, p, 0);

	/*
	 * Nothing to return: it completes at once.  Unacknowledged, as the
	 * ack would find the queue full too.
	 */
	msg = pager__msg(conn, EXTPAGER_CMD_LOCK_REQUEST, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, 77);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, 10 * PAGE);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, 2 * PAGE);
	ASSERT_EQ(0, pager__send(conn, msg));
	usleep(500 * 1000);

	while (!completed && !next_event(conn, 10000, &ev)) {
		if (ev.cmd == EXTPAGER_CMD_LOCK_COMPLETED) {
			EXPECT_EQ(77, ev.req_id);
			completed = 1;
		} else if (ev.cmd == EXTPAGER_CMD_DATA_RETURN) {
			EXPECT_EQ(0, ack_return(conn, &ev));
		}
	}
	EXPECT_EQ(1, completed);
	pager_conn_close(conn);
}

/*
 * The last close of an object whose manager's receive queue is full (of a
 * return it has not read), by a client, not the manager: its final returns
 * and TERMINATE wait for room rather than being lost, and the manager,
 * reading again, gets every dirty page and then TERMINATE.
 */
TEST_F_TIMEOUT(slow, the_last_close_waits_for_room_for_its_returns, 300)
{
	char *data = calloc(16, PAGE);
	bool returned[PAGES] = { false };
	int go[2], status, n = 0, i;
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	bool terminated = false;
	struct event ev;
	uint64_t pg;
	pid_t pid;
	char *p;

	ASSERT_NE(NULL, data);
	behaviour_init(&b, 17);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ready_by_hand(_metadata, conn, pager);
	ASSERT_EQ(16, pager_offer(pager, 4 * PAGE, 16 * PAGE, data, 0));
	fill_queue(_metadata, conn, pager, p, 0);
	for (i = 4; i < 20; i += 2)		/* eight returns of a page */
		p[i * PAGE] = 1;

	/* The child holds the last mapping: its exit is the last close. */
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c;

		close(go[1]);
		_exit(read(go[0], &c, 1));	/* 0: the parent closed its end */
	}
	close(go[0]);
	munmap(p, PAGES * PAGE);
	close(pager_fd(pager));
	close(go[1]);

	while (!terminated && n++ < 40 && !next_event(conn, 10000, &ev)) {
		if (ev.cmd == EXTPAGER_CMD_DATA_RETURN)
			for (pg = ev.offset / PAGE; pg < (ev.offset + ev.len) / PAGE; pg++)
				returned[pg] = true;
		terminated = ev.cmd == EXTPAGER_CMD_TERMINATE;
	}
	EXPECT_TRUE(terminated);
	for (i = 4; i < 20; i += 2)
		EXPECT_TRUE(returned[i]) TH_LOG("page %d was not returned", i);
	EXPECT_TRUE(returned[0] && returned[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	pager_conn_close(conn);
	free(data);
}

/*
 * A source that keeps going away: two anonymous pages under userfaultfd,
 * and whenever one is faulted in the other is zapped.  A supply from the
 * page-straddling address between them finds, after the kernel faulted the
 * source in, its first page gone again.
 */
struct fleeting {
	int uffd;
	char *buf;
	atomic_int faults;
};

static void *fleeting_serve(void *arg)
{
	struct fleeting *s = arg;
	struct uffd_msg msg;
	char page[4096];

	while (read(s->uffd, &msg, sizeof(msg)) == sizeof(msg)) {
		unsigned long k = (msg.arg.pagefault.address - (uintptr_t)s->buf) / PAGE;
		struct uffdio_copy copy = {
			.dst = (uintptr_t)s->buf + k * PAGE,
			.src = (uintptr_t)page,
			.len = PAGE,
		};

		if (msg.event != UFFD_EVENT_PAGEFAULT || k > 1)
			break;
		madvise(s->buf + (1 - k) * PAGE, PAGE, MADV_DONTNEED);
		fill_pattern(page, 15, k * PAGE, PAGE);
		atomic_fetch_add(&s->faults, 1);
		if (ioctl(s->uffd, UFFDIO_COPY, &copy))
			break;
	}
	return NULL;
}

/*
 * DATA_SUPPLY by data-addr whose source page is gone again when the kernel
 * copies it (reclaimed, swapped out or migrated after the kernel faulted it
 * in): the kernel copies it again with faults enabled, and the fault gets
 * the data, not SIGBUS.
 */
TEST(a_supply_whose_source_page_went_is_copied_again)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct fleeting src = {};
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct waiter w;
	struct event ev;
	struct nl_msg *msg;
	pthread_t t, server;
	char *p;

	catch_sigbus();
	behaviour_init(&b, 15);
	src.uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (src.uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(src.uffd, UFFDIO_API, &api));
	src.buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src.buf);
	reg.range.start = (uintptr_t)src.buf;
	reg.range.len = 2 * PAGE;
	ASSERT_EQ(0, ioctl(src.uffd, UFFDIO_REGISTER, &reg));
	ASSERT_EQ(0, pthread_create(&server, NULL, fleeting_serve, &src));

	p = unserved_object(_metadata, &b, &conn, &pager);
	w = (struct waiter){ .addr = p + 3 * PAGE };
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_fault, &w));
	ASSERT_EQ(0, wait_event_cmd(conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
	msg = pager__msg(conn, EXTPAGER_CMD_DATA_SUPPLY, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev.req_id);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, ev.offset);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, PAGE);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_DATA_ADDR, (uintptr_t)src.buf + PAGE / 2);
	EXPECT_EQ(0, pager__call(conn, msg, NULL, NULL)) TH_LOG("%s", pager_conn_error());
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.sigbus);
	EXPECT_TRUE(check_pattern(p + 3 * PAGE, 15, PAGE / 2, PAGE));
	/* Faulted in twice: by the kernel's fault-in, then by its second copy. */
	EXPECT_LE(4, atomic_load(&src.faults));

	pthread_cancel(server);		/* in read(), a cancellation point */
	pthread_join(server, NULL);
	close(src.uffd);
	pager_conn_close(conn);
}

/*
 * A data request and a return are both pending when the manager dies, the
 * last client goes, or both deadlines pass in one run of the timeout work:
 * the kernel fails them together, in the order of their ids or deadlines.
 * Each order, each way.  The debug kernel's KASAN sees a request freed
 * while the list still links it; here, the faulter gets SIGBUS, the
 * written page survives, and nothing hangs.
 */
enum pending_end { END_KILL, END_CLOSE, END_TIMEOUT };

FIXTURE(pending_pair) {
	long saved_request_ms, saved_return_ms;
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pid_t faulter;
	char *p;
};

FIXTURE_VARIANT(pending_pair) {
	enum pending_end end;
	bool request_first;
};

FIXTURE_VARIANT_ADD(pending_pair, kill_request_first) { END_KILL, true };
FIXTURE_VARIANT_ADD(pending_pair, kill_return_first) { END_KILL, false };
FIXTURE_VARIANT_ADD(pending_pair, close_request_first) { END_CLOSE, true };
FIXTURE_VARIANT_ADD(pending_pair, close_return_first) { END_CLOSE, false };
FIXTURE_VARIANT_ADD(pending_pair, timeout_request_first) { END_TIMEOUT, true };
FIXTURE_VARIANT_ADD(pending_pair, timeout_return_first) { END_TIMEOUT, false };

/* Both timeouts in the TIMEOUT variants, long enough to set both up. */
#define PAIR_TIMEOUT_MS	5000

FIXTURE_SETUP(pending_pair)
{
	self->saved_request_ms = param_get("request_timeout_ms");
	self->saved_return_ms = param_get("return_timeout_ms");
	ASSERT_LT(0, self->saved_request_ms);
	ASSERT_LT(0, self->saved_return_ms);
	if (variant->end == END_TIMEOUT) {
		ASSERT_EQ(0, param_set("request_timeout_ms", PAIR_TIMEOUT_MS));
		ASSERT_EQ(0, param_set("return_timeout_ms", PAIR_TIMEOUT_MS));
	}
	catch_sigbus();
	behaviour_init(&self->b, 13);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &pattern_ops, NULL,
				  &self->b, &self->pager));
	self->p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->p);
	ready_by_hand(_metadata, self->conn, self->pager);
}

FIXTURE_TEARDOWN(pending_pair)
{
	if (self->faulter > 0) {
		kill(self->faulter, SIGKILL);
		waitpid(self->faulter, NULL, 0);
	}
	pager_conn_close(self->conn);
	param_set("request_timeout_ms", self->saved_request_ms);
	param_set("return_timeout_ms", self->saved_return_ms);
}

static void *write_fault(void *arg)
{
	struct waiter *w = arg;

	w->sigbus = touch(w->addr, true, &w->where);
	return NULL;
}

/* Dirty page 0 and start its writeback, unacknowledged: a pending return. */
static double pending_return(struct __test_metadata *_metadata,
			     FIXTURE_DATA(pending_pair) *self)
{
	struct waiter w = { .addr = self->p };
	struct event ev;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, write_fault, &w));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
	ASSERT_EQ(0, answer_unavailable(self->conn, self->pager, &ev));
	pthread_join(t, NULL);
	ASSERT_EQ(0, w.sigbus);
	ASSERT_EQ(1, self->p[0]);
	/* Starts writeback and does not wait for it. */
	ASSERT_EQ(0, sync_file_range(pager_fd(self->pager), 0, PAGE,
				     SYNC_FILE_RANGE_WRITE));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_RETURN, 5000, &ev));
	return now_s();
}

/* A child process faults page 5 in and waits: a pending data request. */
static double pending_request(struct __test_metadata *_metadata,
			      FIXTURE_DATA(pending_pair) *self)
{
	struct event ev;

	self->faulter = fork();
	ASSERT_LE(0, self->faulter);
	if (!self->faulter) {
		/* Only the manager's own socket: its close releases it. */
		close(pager__socket_fd(self->conn));
		_exit(touch(self->p + 5 * PAGE, false, NULL) ? 1 : 0);
	}
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
	ASSERT_EQ(5 * PAGE, ev.offset);
	return now_s();
}

struct hog {
	int cpu;
	double until;
};

static void *hog_cpu(void *arg)
{
	struct hog *h = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	if (!sched_setaffinity(0, sizeof(set), &set))
		while (now_s() < h->until)
			;
	return NULL;
}

/*
 * Keep every CPU from running anything but us until @until: the timeout
 * work, queued when the first deadline passes, runs after the second.
 * SCHED_FIFO with RT throttling off, which stops the kernel's workers.
 */
static void hog_all_cpus(struct __test_metadata *_metadata, double until)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct sched_param top = { .sched_priority = 2 }, hp = { .sched_priority = 1 };
	struct sched_param normal = { 0 };
	char saved[32] = "";
	pthread_attr_t attr;
	pthread_t t[64];
	struct hog h[64];
	FILE *f;

	ASSERT_GE(64, ncpu);
	f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(saved, sizeof(saved), f));
	fclose(f);
	ASSERT_EQ(0, write_file("/proc/sys/kernel/sched_rt_runtime_us", "-1"));
	/* Above the hogs until each is started, then off the CPUs. */
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &top));
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &hp);
	for (i = 0; i < ncpu; i++) {
		h[i] = (struct hog){ .cpu = i, .until = until };
		ASSERT_EQ(0, pthread_create(&t[i], &attr, hog_cpu, &h[i]));
	}
	for (i = 0; i < ncpu; i++)
		pthread_join(t[i], NULL);
	pthread_attr_destroy(&attr);
	sched_setscheduler(0, SCHED_OTHER, &normal);
	EXPECT_EQ(0, write_file("/proc/sys/kernel/sched_rt_runtime_us", saved));
}

TEST_F_TIMEOUT(pending_pair, fail_together_in_either_order, 120)
{
	double first, second, ended;
	struct event ev;
	int status, fd;

	if (variant->request_first) {
		first = pending_request(_metadata, self);
		second = pending_return(_metadata, self);
	} else {
		first = pending_return(_metadata, self);
		second = pending_request(_metadata, self);
	}

	switch (variant->end) {
	case END_KILL:
		/* As a SIGKILLed manager's: the socket is released. */
		pager_conn_close(self->conn);
		self->conn = NULL;
		break;
	case END_CLOSE:
		/* The faulter is killed, and the last file and mapping go. */
		ASSERT_EQ(0, kill(self->faulter, SIGKILL));
		ASSERT_EQ(self->faulter, waitpid(self->faulter, &status, 0));
		self->faulter = 0;
		ASSERT_EQ(0, munmap(self->p, PAGES * PAGE));
		fd = pager_fd(self->pager);
		ASSERT_EQ(0, close(fd));
		/* The last close evicts the object: TERMINATE follows. */
		EXPECT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_TERMINATE, 30000, &ev));
		return;
	case END_TIMEOUT:
		/* Both deadlines pass before the timeout work can run. */
		if (now_s() - first > PAIR_TIMEOUT_MS / 1000.0 - 1)
			SKIP(return, "setting up took %.1f s: the first deadline is too near",
			     now_s() - first);
		hog_all_cpus(_metadata, second + PAIR_TIMEOUT_MS / 1000.0 + 0.5);
		break;
	}

	/* The faulter gets SIGBUS, soon. */
	ASSERT_EQ(self->faulter, waitpid(self->faulter, &status, 0));
	ended = now_s();
	self->faulter = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_GT(PAIR_TIMEOUT_MS / 1000.0 + 30, ended - second);
	/* The written page is still there: in the cache or the default pager. */
	EXPECT_EQ(1, self->p[0]);
}

/* The kernel's YNL CLI, driven by our spec, lists objects and counters. */
TEST_F_TIMEOUT(slow, ynl_cli_lists_objects, 300)
{
	const char *ksrc = getenv("EXTPAGER_KSRC");
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	char cmd[1024], out[65536], want[64];
	pthread_t server;
	size_t n = 0;
	FILE *f;
	char *p;

	if (!ksrc)
		SKIP(return, "EXTPAGER_KSRC is not set: not run by scripts/check");
	behaviour_init(&b, 5);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(check_pattern(p, 5, 0, 3 * PAGE));

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %1$s/tools/net/ynl/cli.py --schema %1$s/Documentation/netlink/genetlink.yaml "
		 "--spec Documentation/netlink/specs/extpager.yaml --dump object-get 2>&1", ksrc);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (n < sizeof(out) - 1 && fgets(out + n, sizeof(out) - n, f))
		n += strlen(out + n);
	EXPECT_EQ(0, pclose(f)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "'id': %u,", pager_id(pager));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "'supplies': 3")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "'requests': 3")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
