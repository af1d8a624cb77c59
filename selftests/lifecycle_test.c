// SPDX-License-Identifier: GPL-2.0
/*
 * Time and death: requests that time out, managers that die with faults
 * pending, privilege, and the YNL CLI listing objects from the spec.
 */
#include <sys/prctl.h>

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

/* Python under KASAN and TCG outlives the harness's default 30 s. */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

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
