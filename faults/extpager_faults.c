// SPDX-License-Identifier: GPL-2.0
/*
 * extpager_faults: fail every kernel allocation of an operation in turn,
 * syzkaller's way.  For n = 1, 2, ... the task about to do the operation
 * writes n to /proc/thread-self/fail-nth, does it, and reads fail-nth
 * back: 0 means the n-th allocation was failed.  The first n at which no
 * failure was injected and the operation succeeded ends the sweep: n - 1
 * failure points were reached.
 *
 * After each injected failure the operation must have failed cleanly (an
 * errno in the netlink acknowledgement or from the system call; a fault:
 * SIGBUS, or a retry that completes) or succeeded, and the object must
 * stay usable: the operation done again without injection works, and its
 * pages read back what they hold.  faults/run sets up the debugfs knobs
 * (only tasks that ask fail) and scans kmemleak at the end; scripts/vm
 * fails on a splat and on a module that does not unload.
 *
 * This program is the manager of its objects (raw generic netlink, so
 * that the injected failure hits the kernel's work for one message) and,
 * in a second thread, their client (faults, writes, msync, munmap).
 *
 * Exit status: 0 if every failure was clean; 1 otherwise; 2 on a set-up
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../fuzz/raw_netlink.h"

#define PG		4096UL
#define OBJ_PAGES	64
#define MAX_N		2000	/* more failure points than any operation has */
#define MAX_ERRNO	134
#define WAIT_MS		60000	/* what a loaded TCG guest may take, and more */

static int violations;

static void violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("faults: VIOLATION: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	violations++;
}

static void die(const char *what)
{
	fprintf(stderr, "faults: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- fail-nth ---------------------------------------------------------------- */

static __thread int nth_fd = -1;

static void nth_set(unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (nth_fd < 0) {
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
		if (nth_fd < 0)
			die("/proc/thread-self/fail-nth");
	}
	if (pwrite(nth_fd, b, len, 0) != len)
		die("write fail-nth");
}

/* Whether the failure asked for by nth_set() was injected; disarms it. */
static bool nth_hit(void)
{
	char b[16] = "";

	if (pread(nth_fd, b, sizeof(b) - 1, 0) <= 0)
		die("read fail-nth");
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		die("write fail-nth");
	return atoi(b) == 0;
}

/* --- objects ----------------------------------------------------------------- */

struct obj {
	uint32_t id;
	int fd;
	char *map;
	uint8_t store[OBJ_PAGES * PG];	/* the manager's copy */
	uint8_t expect[OBJ_PAGES * PG];	/* what the mapping must read */
	bool terminated;
	/* Requests the test answers itself (manual), the last of each. */
	bool manual;
	uint32_t req_id, unlock_id, ret_id;
	uint64_t req_off, req_len, unlock_off;
	bool req_seen, unlock_seen, ret_seen;
	bool lock_done;		/* LOCK_COMPLETED of lock_want came */
	uint32_t lock_want, lock_err;
};

#define MAX_OBJS 8
static struct obj *objs[MAX_OBJS];
static uint32_t gen, lock_cookie;

static struct obj *obj_find(uint32_t id)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i] && objs[i]->id == id)
			return objs[i];
	return NULL;
}

/* --- netlink ------------------------------------------------------------------ */

/*
 * A message's buffer, on the builder's stack: event() builds answers while
 * an attempt's message waits for its acknowledgement.
 */
#define MSG_ON_STACK	{ .b = (char [3 * PG]){ 0 }, .size = 3 * PG }

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1, size = 4 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("netlink socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	/* The extack's message, for the report of a refusal. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

static int nl_fd;		/* the manager's socket */
static uint8_t answer_cmd[4096];	/* by sequence number */

/* An answer to a request, without NLM_F_ACK as libpager sends them. */
static void answer(struct msg *m)
{
	int err;

	answer_cmd[seq % 4096] = ((struct genlmsghdr *)(m->b + NLMSG_HDRLEN))->cmd;
	err = nl_send(nl_fd, m->b, m->len);

	if (err)
		violation("an answer (command %u) not sent: %s",
			  ((struct genlmsghdr *)(m->b + NLMSG_HDRLEN))->cmd, strerror(-err));
}

static void supply(struct obj *o, uint32_t req, uint64_t off, uint64_t len, uint16_t flags)
{
	struct msg m = MSG_ON_STACK;

	msg_init(&m, EXTPAGER_CMD_DATA_SUPPLY, flags);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	if (req)
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
	put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, off);
	put_u64(&m, EXTPAGER_A_OBJECT_DATA_ADDR, (uintptr_t)o->store + off);
	put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, len);
	answer(&m);
}

/*
 * Every event from the kernel: INIT, requests, unlocks and returns are
 * answered at once unless the object is manual (the test answers them).
 */
static void event(struct nlmsghdr *nlh)
{
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	uint32_t id, req;
	uint64_t off, len;
	struct msg m = MSG_ON_STACK;
	struct obj *o;

	parse_attrs(nlh, tb, EXTPAGER_A_OBJECT_MAX);
	id = get_uint(tb[EXTPAGER_A_OBJECT_ID]);
	req = get_uint(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	off = get_uint(tb[EXTPAGER_A_OBJECT_OFFSET]);
	len = get_uint(tb[EXTPAGER_A_OBJECT_LENGTH]);
	o = obj_find(id);
	if (!o)
		return;
	switch (g->cmd) {
	case EXTPAGER_CMD_INIT:
		msg_init(&m, EXTPAGER_CMD_READY, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		answer(&m);
		break;
	case EXTPAGER_CMD_DATA_REQUEST:
		if (off + len > sizeof(o->store) || !len) {
			violation("a request for %#llx+%#llx", (unsigned long long)off,
				  (unsigned long long)len);
			break;
		}
		if (o->manual) {
			o->req_id = req;
			o->req_off = off;
			o->req_len = len;
			o->req_seen = true;
		} else {
			supply(o, req, off, len, 0);
		}
		break;
	case EXTPAGER_CMD_DATA_UNLOCK:
		if (o->manual) {
			o->unlock_id = req;
			o->unlock_off = off;
			o->unlock_seen = true;
			break;
		}
		msg_init(&m, EXTPAGER_CMD_UNLOCK_REPLY, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		put_u8(&m, EXTPAGER_A_OBJECT_GRANT, 1);
		answer(&m);
		break;
	case EXTPAGER_CMD_DATA_RETURN:
		if (!tb[EXTPAGER_A_OBJECT_DATA] || off + len > sizeof(o->store) ||
		    (uint64_t)(tb[EXTPAGER_A_OBJECT_DATA]->nla_len - NLA_HDRLEN) != len) {
			violation("a malformed return of %#llx+%#llx", (unsigned long long)off,
				  (unsigned long long)len);
			break;
		}
		memcpy(o->store + off, tb[EXTPAGER_A_OBJECT_DATA] + 1, len);
		if (o->manual) {
			o->ret_id = req;
			o->ret_seen = true;
			break;
		}
		msg_init(&m, EXTPAGER_CMD_RETURN_ACK, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		answer(&m);
		break;
	case EXTPAGER_CMD_LOCK_COMPLETED:
		/* Not an earlier one's, whose acknowledgement was lost. */
		if (req == o->lock_want) {
			o->lock_done = true;
			o->lock_err = get_uint(tb[EXTPAGER_A_OBJECT_ERROR]);
		}
		break;
	case EXTPAGER_CMD_TERMINATE:
		o->terminated = true;
		break;
	default:
		break;
	}
}

/*
 * Handle what @fd has queued, waiting up to @ms for something.  The
 * acknowledgement of @want (0: none), if it came, goes to *@err, a reply
 * carrying a descriptor to *@fdp.
 */
static bool nl_recv(int fd, int ms, uint32_t want, int *err, int *fdp, uint32_t *idp)
{
	static char rbuf[256 * 1024];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool got = false;
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return false;
	for (;;) {
		struct nlmsghdr *nlh;

		n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* An acknowledgement the kernel could not allocate. */
			if (errno == ENOBUFS && want) {
				*err = -ENOBUFS;
				got = true;
				continue;
			}
			if (errno == ENOBUFS) {
				violation("events lost: the receive queue overran");
				continue;
			}
			return got;
		}
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int e = *(int *)NLMSG_DATA(nlh);

				if (want && nlh->nlmsg_seq == want) {
					*err = e;
					got = true;
				} else if (e && !(e == -ENOENT &&
						    answer_cmd[nlh->nlmsg_seq % 4096] ==
						    EXTPAGER_CMD_RETURN_ACK)) {
					/*
					 * Only an acknowledgement of a dying
					 * object's final return may find it
					 * gone: nothing waited for it.
					 */
					violation("an answer (seq %u, command %u) refused: %s",
						  nlh->nlmsg_seq,
						  answer_cmd[nlh->nlmsg_seq % 4096],
						  strerror(-e));
				}
			} else if (nlh->nlmsg_type == family && nlh->nlmsg_seq) {
				struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];

				parse_attrs(nlh, tb, EXTPAGER_A_OBJECT_MAX);
				if (tb[EXTPAGER_A_OBJECT_FD] && fdp && nlh->nlmsg_seq == want)
					*fdp = get_uint(tb[EXTPAGER_A_OBJECT_FD]);
				else if (tb[EXTPAGER_A_OBJECT_FD])
					close(get_uint(tb[EXTPAGER_A_OBJECT_FD]));
				if (idp && nlh->nlmsg_seq == want)
					*idp = get_uint(tb[EXTPAGER_A_OBJECT_ID]);
			} else if (nlh->nlmsg_type == family && fd == nl_fd) {
				event(nlh);
			}
		}
	}
}

/*
 * Whether the last call's acknowledgement was lost: the kernel could not
 * allocate it (the socket's error is then ENOBUFS).  The command was done
 * then, and succeeded: only one allocation fails, and it was this one.
 */
static bool ack_lost, inj_ack_lost;

/*
 * Send @m with NLM_F_ACK on @fd, failing the @nth allocation (0: none).
 * Returns the acknowledgement's errno (or sendmsg()'s); *@hit says whether
 * a failure was injected.
 */
static int call(int fd, struct msg *m, unsigned int nth, bool *hit, int *fdp, uint32_t *idp)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	int err = 1;
	long until;

	nlh->nlmsg_flags |= NLM_F_ACK;
	ack_lost = false;
	if (fdp)
		*fdp = -1;
	if (nth)
		nth_set(nth);
	err = nl_send(fd, m->b, m->len);
	if (hit)
		*hit = nth ? nth_hit() : false;
	if (err)
		return err;
	err = 1;
	until = now_ms() + WAIT_MS;
	while (err == 1 && now_ms() < until)
		nl_recv(fd, 100, nlh->nlmsg_seq, &err, fdp, idp);
	ack_lost = err == -ENOBUFS;
	/* A reply sent ahead of the acknowledgement is read by now. */
	if (ack_lost)
		nl_recv(fd, 0, nlh->nlmsg_seq, &err, fdp, idp);
	err = ack_lost ? -ENOBUFS : err;
	if (nth)
		inj_ack_lost = ack_lost;
	if (err == 1) {
		violation("no acknowledgement of command %u",
			  ((struct genlmsghdr *)(nlh + 1))->cmd);
		return -ETIMEDOUT;
	}
	return err;
}

/* --- the client thread ------------------------------------------------------ */

enum job_kind { J_READ, J_WRITE, J_MSYNC, J_UNMAP_CLOSE };
struct job {
	enum job_kind kind;
	struct obj *o;
	uint64_t off;
	uint64_t val;		/* J_WRITE: written; J_READ: read */
	unsigned int nth;
	/* Results */
	bool hit, sigbus;
	int err;
	volatile bool done;
};

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static struct job *job;
static __thread sigjmp_buf jb;
static __thread void *volatile bus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	bus_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static void run_job(struct job *j)
{
	volatile char *p = j->o->map + j->off;

	if (j->nth)
		nth_set(j->nth);
	if (sigsetjmp(jb, 1)) {
		j->sigbus = true;
		if (bus_addr != p)
			violation("SIGBUS at %p, not at the faulting address %p", bus_addr, p);
	} else {
		switch (j->kind) {
		case J_READ:
			j->val = *(volatile uint64_t *)p;
			break;
		case J_WRITE:
			*(volatile uint64_t *)p = j->val;
			break;
		case J_MSYNC:
			j->err = msync(j->o->map, OBJ_PAGES * PG, MS_SYNC) ? -errno : 0;
			break;
		case J_UNMAP_CLOSE:
			munmap(j->o->map, OBJ_PAGES * PG);
			close(j->o->fd);
			j->o->map = NULL;
			j->o->fd = -1;
			break;
		}
	}
	if (j->nth)
		j->hit = nth_hit();
}

static void *client(void *arg)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&job_lock);
		while (!job)
			pthread_cond_wait(&job_cond, &job_lock);
		j = job;
		job = NULL;
		pthread_mutex_unlock(&job_lock);
		run_job(j);
		__atomic_store_n(&j->done, true, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void job_start(struct job *j)
{
	j->done = false;
	j->hit = j->sigbus = false;
	j->err = 0;
	pthread_mutex_lock(&job_lock);
	job = j;
	pthread_cond_signal(&job_cond);
	pthread_mutex_unlock(&job_lock);
}

/* Serve the manager's socket until *@flag (or the job) is done. */
static bool serve_until(volatile bool *flag, const char *what)
{
	long until = now_ms() + WAIT_MS;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (now_ms() > until) {
			violation("%s: not done after %d s", what, WAIT_MS / 1000);
			/* Blocked tasks to the log, for the report. */
			int fd = open("/proc/sysrq-trigger", O_WRONLY);

			if (fd >= 0 && write(fd, "w", 1) < 0)
				perror("sysrq");
			exit(1);
		}
		nl_recv(nl_fd, 20, 0, NULL, NULL, NULL);
	}
	return true;
}

static void job_run(struct job *j, const char *what)
{
	job_start(j);
	serve_until(&j->done, what);
}

/* The client reads page @pg of @o and checks it; true if it read right. */
static bool check_page(struct obj *o, unsigned int pg, const char *what)
{
	struct job j = { .kind = J_READ, .o = o, .off = pg * PG };
	uint64_t want;

	job_run(&j, what);
	memcpy(&want, o->expect + pg * PG, 8);
	if (j.sigbus) {
		violation("%s: SIGBUS reading back page %u of object %u", what, pg, o->id);
		return false;
	}
	if (j.val != want) {
		violation("%s: page %u of object %u reads %#llx, not %#llx", what, pg, o->id,
			  (unsigned long long)j.val, (unsigned long long)want);
		return false;
	}
	return true;
}

static void client_write(struct obj *o, unsigned int pg, uint64_t val, const char *what)
{
	struct job j = { .kind = J_WRITE, .o = o, .off = pg * PG, .val = val };

	job_run(&j, what);
	if (j.sigbus)
		violation("%s: SIGBUS writing page %u of object %u", what, pg, o->id);
	memcpy(o->expect + pg * PG, &val, 8);
}

/* --- objects made and unmade without injection -------------------------------- */

static void obj_fill(struct obj *o)
{
	uint64_t *w = (uint64_t *)o->store;
	size_t i;

	gen++;
	for (i = 0; i < sizeof(o->store) / 8; i++)
		w[i] = ((uint64_t)gen << 40) ^ ((uint64_t)o->id << 24) ^ i;
	memcpy(o->expect, o->store, sizeof(o->store));
}

static struct obj *obj_slot(void)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (!objs[i]) {
			objs[i] = calloc(1, sizeof(struct obj));
			if (!objs[i])
				die("calloc");
			objs[i]->fd = -1;
			return objs[i];
		}
	fprintf(stderr, "faults: out of object slots\n");
	exit(2);
}

static void obj_free(struct obj *o)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i] == o)
			objs[i] = NULL;
	free(o);
}

static bool obj_map(struct obj *o)
{
	o->map = mmap(NULL, OBJ_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (o->map == MAP_FAILED) {
		o->map = NULL;
		violation("mmap of object %u: %s", o->id, strerror(errno));
		return false;
	}
	return true;
}

/* A created (or adopted) object: @o's id and fd set from the reply. */
static struct obj *obj_new(uint8_t cmd)
{
	struct obj *o = obj_slot();
	struct msg m = MSG_ON_STACK;
	int err;

	msg_init(&m, cmd, 0);
	put_u64(&m, EXTPAGER_A_OBJECT_SIZE, OBJ_PAGES * PG);
	err = call(nl_fd, &m, 0, NULL, &o->fd, &o->id);
	if (err || o->fd < 0) {
		fprintf(stderr, "faults: creating an object: %s\n", strerror(-err));
		exit(2);
	}
	obj_fill(o);
	if (!obj_map(o))
		exit(1);
	return o;
}

/* The last reference gone: the object must terminate. */
static void obj_close(struct obj *o, const char *what)
{
	if (o->map)
		munmap(o->map, OBJ_PAGES * PG);
	if (o->fd >= 0)
		close(o->fd);
	o->map = NULL;
	o->fd = -1;
	serve_until(&o->terminated, what);
	obj_free(o);
}

static int obj_get(struct obj *o, unsigned int nth, bool *hit)
{
	struct msg m = MSG_ON_STACK;

	msg_init(&m, EXTPAGER_CMD_OBJECT_GET, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	return call(nl_fd, &m, nth, hit, NULL, NULL);
}

/* Usable: known to the kernel, and its pages @a and @b read back right. */
static void check_usable(struct obj *o, unsigned int a, unsigned int b, const char *what)
{
	int err = obj_get(o, 0, NULL);

	if (err)
		violation("%s: OBJECT_GET of object %u: %s", what, o->id, strerror(-err));
	check_page(o, a, what);
	if (b != a)
		check_page(o, b, what);
}

/* --- the sweeps ---------------------------------------------------------------- */

/*
 * One attempt at an operation with its @nth allocation failed: returns
 * the operation's errno (0 if it succeeded), *@hit whether the failure
 * was injected.  An attempt checks what it can of its own result; the
 * sweep checks the rest.
 */
typedef int (*attempt_fn)(unsigned int nth, bool *hit);

struct result {
	const char *name;
	unsigned int points, succeeded, sigbus, ack_lost;
	unsigned long err[MAX_ERRNO + 1];
};

static struct result results[32];
static unsigned int n_results;
static struct result *cur;

static void sweep(const char *name, attempt_fn fn)
{
	struct result *r = &results[n_results++];
	long start = now_ms();
	unsigned int n;

	r->name = name;
	cur = r;
	for (n = 1; n <= MAX_N; n++) {
		bool hit = false;
		int err;

		long t0 = now_ms();

		inj_ack_lost = false;
		err = fn(n, &hit);
		/* Something waited for a timeout: say which attempt. */
		if (now_ms() - t0 > 10000)
			printf("faults: %s: attempt %u took %.1f s (%s, %s)\n", name, n,
			       (now_ms() - t0) / 1000.0, hit ? "injected" : "not injected",
			       err ? strerror(-err) : "succeeded");

		if (!hit) {
			if (err)
				violation("%s: failed without an injected failure: %s", name,
					  strerror(-err));
			break;
		}
		r->points++;
		if (!err)
			r->succeeded++;
		else if (err == -ENOBUFS && inj_ack_lost)
			r->ack_lost++;
		else
			r->err[-err < MAX_ERRNO ? -err : MAX_ERRNO]++;
	}
	if (n > MAX_N)
		violation("%s: still injecting after %u attempts", name, MAX_N);
	{
		char line[1024];
		int len = snprintf(line, sizeof(line), "faults: %s: %u failure points, ", name,
				   r->points);
		int e;

		len += snprintf(line + len, sizeof(line) - len, "succeeded anyway %u",
				r->succeeded - r->sigbus);
		if (r->ack_lost)
			len += snprintf(line + len, sizeof(line) - len,
					", done but acknowledgement lost %u", r->ack_lost);
		if (r->sigbus)
			len += snprintf(line + len, sizeof(line) - len, ", SIGBUS %u", r->sigbus);
		for (e = 1; e <= MAX_ERRNO; e++)
			if (r->err[e])
				len += snprintf(line + len, sizeof(line) - len, ", %s %lu",
						e < MAX_ERRNO ? strerrorname_np(e) : "other",
						r->err[e]);
		printf("%s (%.1f s)\n", line, (now_ms() - start) / 1000.0);
		fflush(stdout);
	}
}

/* The objects the attempts work on. */
static struct obj *main_obj;

/* Commands that create: the object, if one came, must work and terminate. */
static int attempt_create(uint8_t cmd, unsigned int nth, bool *hit)
{
	struct obj *o = obj_slot();
	struct msg m = MSG_ON_STACK;
	int err;

	msg_init(&m, cmd, 0);
	put_u64(&m, EXTPAGER_A_OBJECT_SIZE, OBJ_PAGES * PG);
	err = call(nl_fd, &m, nth, hit, &o->fd, &o->id);
	if (!err && o->fd < 0)
		violation("%s acknowledged without a descriptor", cur->name);
	if (o->fd < 0) {
		obj_free(o);
		return err;
	}
	obj_fill(o);
	if (cmd == EXTPAGER_CMD_OBJECT_CREATE_ANON)
		memset(o->expect, 0, sizeof(o->expect));	/* anonymous: zeros */
	if (obj_map(o)) {
		client_write(o, 1, 0x5eed ^ nth, cur->name);
		check_usable(o, 0, 1, cur->name);
	}
	if (cmd == EXTPAGER_CMD_OBJECT_CREATE) {
		obj_close(o, cur->name);
	} else {
		/* An anonymous object's manager is the kernel: no TERMINATE to us. */
		munmap(o->map, OBJ_PAGES * PG);
		close(o->fd);
		obj_free(o);
	}
	return err;
}

static int attempt_object_create(unsigned int nth, bool *hit)
{
	return attempt_create(EXTPAGER_CMD_OBJECT_CREATE, nth, hit);
}

static int attempt_object_create_anon(unsigned int nth, bool *hit)
{
	return attempt_create(EXTPAGER_CMD_OBJECT_CREATE_ANON, nth, hit);
}

static int attempt_ready(unsigned int nth, bool *hit)
{
	struct msg m = MSG_ON_STACK;
	int err;

	msg_init(&m, EXTPAGER_CMD_READY, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, main_obj->id);
	put_u32(&m, EXTPAGER_A_OBJECT_CLUSTER, 1 + nth % 4);
	put_u8(&m, EXTPAGER_A_OBJECT_MAY_CACHE, 1);
	err = call(nl_fd, &m, nth, hit, NULL, NULL);
	check_usable(main_obj, nth % OBJ_PAGES, 0, cur->name);
	return err;
}

static int attempt_object_get(unsigned int nth, bool *hit)
{
	int err = obj_get(main_obj, nth, hit);

	check_usable(main_obj, nth % OBJ_PAGES, 0, cur->name);
	return err;
}

/* A dirty page, then a lock request that returns and flushes it. */
static int attempt_lock_request(unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct msg m = MSG_ON_STACK;
	int err;

	client_write(o, pg, 0x10c0000 + nth, cur->name);
	o->lock_done = false;
	o->lock_want = ++lock_cookie;
	msg_init(&m, EXTPAGER_CMD_LOCK_REQUEST, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, o->lock_want);
	put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, 0);
	put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, OBJ_PAGES * PG);
	put_u32(&m, EXTPAGER_A_OBJECT_SHOULD_RETURN, EXTPAGER_SHOULD_RETURN_DIRTY);
	put_u32(&m, EXTPAGER_A_OBJECT_LOCK_FLAGS, EXTPAGER_LOCK_FLAGS_FLUSH);
	err = call(nl_fd, &m, nth, hit, NULL, NULL);
	if (!err || ack_lost) {
		serve_until(&o->lock_done, "LOCK_COMPLETED");
		if (!o->lock_err && memcmp(o->store + pg * PG, o->expect + pg * PG, PG))
			violation("%s: completed without error, page %u not returned", cur->name, pg);
	}
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return err;
}

/* A page flushed, so that the next touch asks the manager. */
static void flush_page(struct obj *o, unsigned int pg)
{
	struct msg m = MSG_ON_STACK;
	int err;

	o->lock_done = false;
	o->lock_want = ++lock_cookie;
	msg_init(&m, EXTPAGER_CMD_LOCK_REQUEST, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, o->lock_want);
	put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, pg * PG);
	put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, PG);
	put_u32(&m, EXTPAGER_A_OBJECT_SHOULD_RETURN, EXTPAGER_SHOULD_RETURN_DIRTY);
	put_u32(&m, EXTPAGER_A_OBJECT_LOCK_FLAGS, EXTPAGER_LOCK_FLAGS_FLUSH);
	err = call(nl_fd, &m, 0, NULL, NULL, NULL);
	if (err)
		violation("flushing page %u: %s", pg, strerror(-err));
	else
		serve_until(&o->lock_done, "LOCK_COMPLETED");
}

/*
 * The answer to a fault's request, sent with its @nth allocation failed;
 * refused, it is sent again without.  The fault then completes with what
 * the answer says.
 */
enum answer_kind { A_SUPPLY, A_UNAVAILABLE, A_ERROR };

static int attempt_answer(enum answer_kind kind, unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct job j = { .kind = J_READ, .o = o, .off = pg * PG };
	uint64_t want;
	int err, err2 = 0;
	struct msg m = MSG_ON_STACK;

	flush_page(o, pg);
	o->manual = true;
	o->req_seen = false;
	job_start(&j);
	serve_until(&o->req_seen, cur->name);
	o->manual = false;
	for (int i = 0; i < 2; i++) {
		static const uint8_t cmds[] = {
			[A_SUPPLY] = EXTPAGER_CMD_DATA_SUPPLY,
			[A_UNAVAILABLE] = EXTPAGER_CMD_DATA_UNAVAILABLE,
			[A_ERROR] = EXTPAGER_CMD_DATA_ERROR,
		};

		msg_init(&m, cmds[kind], 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, o->req_id);
		put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, o->req_off);
		if (kind == A_SUPPLY) {
			put_u64(&m, EXTPAGER_A_OBJECT_DATA_ADDR, (uintptr_t)o->store + o->req_off);
		}
		put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, o->req_len);
		if (kind == A_ERROR)
			put_u32(&m, EXTPAGER_A_OBJECT_ERROR, EIO);
		if (i == 0) {
			err = call(nl_fd, &m, nth, hit, NULL, NULL);
			if (!err || ack_lost)
				break;
		} else {
			err2 = call(nl_fd, &m, 0, NULL, NULL, NULL);
		}
	}
	if (err2)
		violation("%s: the answer sent again after %s: %s", cur->name, strerror(-err),
			  strerror(-err2));
	serve_until(&j.done, cur->name);
	if (kind == A_UNAVAILABLE)
		memset(o->expect + o->req_off, 0, o->req_len);
	memcpy(&want, o->expect + pg * PG, 8);
	if (kind == A_ERROR) {
		if (!j.sigbus)
			violation("%s: the fault did not get SIGBUS", cur->name);
	} else if (j.sigbus) {
		violation("%s: the fault got SIGBUS", cur->name);
	} else if (j.val != want) {
		violation("%s: page %u reads %#llx, not %#llx", cur->name, pg,
			  (unsigned long long)j.val, (unsigned long long)want);
	}
	if (kind == A_UNAVAILABLE)	/* the manager's copy is zeros too */
		memset(o->store + o->req_off, 0, o->req_len);
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return err;
}

static int attempt_data_supply(unsigned int nth, bool *hit)
{
	return attempt_answer(A_SUPPLY, nth, hit);
}

static int attempt_data_unavailable(unsigned int nth, bool *hit)
{
	return attempt_answer(A_UNAVAILABLE, nth, hit);
}

static int attempt_data_error(unsigned int nth, bool *hit)
{
	return attempt_answer(A_ERROR, nth, hit);
}

/* A page supplied read-only, written: the unlock's grant under injection. */
static int attempt_unlock_reply(unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct job j = { .kind = J_WRITE, .o = o, .off = pg * PG, .val = 0x0e110c + nth };
	struct msg m = MSG_ON_STACK;
	int err, err2 = 0;

	/* The page in again, read-only: a prefetch after a flush. */
	flush_page(o, pg);
	o->unlock_seen = false;
	msg_init(&m, EXTPAGER_CMD_DATA_SUPPLY, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, pg * PG);
	put_u64(&m, EXTPAGER_A_OBJECT_DATA_ADDR, (uintptr_t)o->store + pg * PG);
	put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, PG);
	put_u32(&m, EXTPAGER_A_OBJECT_FLAGS, EXTPAGER_SUPPLY_FLAGS_READONLY);
	err = call(nl_fd, &m, 0, NULL, NULL, NULL);
	if (err)
		violation("%s: a read-only prefetch: %s", cur->name, strerror(-err));
	o->manual = true;
	job_start(&j);
	serve_until(&o->unlock_seen, cur->name);
	o->manual = false;
	msg_init(&m, EXTPAGER_CMD_UNLOCK_REPLY, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, o->unlock_id);
	put_u8(&m, EXTPAGER_A_OBJECT_GRANT, 1);
	err = call(nl_fd, &m, nth, hit, NULL, NULL);
	if (err && !ack_lost) {
		((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
		err2 = call(nl_fd, &m, 0, NULL, NULL, NULL);
	}
	if (err2)
		violation("%s: the grant sent again after %s: %s", cur->name, strerror(-err),
			  strerror(-err2));
	serve_until(&j.done, cur->name);
	if (j.sigbus)
		violation("%s: the granted write got SIGBUS", cur->name);
	else
		memcpy(o->expect + pg * PG, (uint64_t[]){ j.val }, 8);
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return err;
}

/* A dirty page written back by msync(); its RETURN_ACK under injection. */
static int attempt_return_ack(unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct job j = { .kind = J_MSYNC, .o = o };
	struct msg m = MSG_ON_STACK;
	int err, err2 = 0;

	/* Nothing else dirty: the one return below is the page written. */
	job_run(&j, cur->name);
	client_write(o, pg, 0xacc0000 + nth, cur->name);
	o->manual = true;
	o->ret_seen = false;
	job_start(&j);
	serve_until(&o->ret_seen, cur->name);
	o->manual = false;
	msg_init(&m, EXTPAGER_CMD_RETURN_ACK, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, o->ret_id);
	err = call(nl_fd, &m, nth, hit, NULL, NULL);
	if (err && !ack_lost) {
		((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
		err2 = call(nl_fd, &m, 0, NULL, NULL, NULL);
	}
	if (err2)
		violation("%s: the acknowledgement sent again after %s: %s", cur->name,
			  strerror(-err), strerror(-err2));
	serve_until(&j.done, cur->name);
	if (j.err)
		violation("%s: msync: %s", cur->name, strerror(-j.err));
	if (memcmp(o->store + pg * PG, o->expect + pg * PG, PG))
		violation("%s: page %u not returned", cur->name, pg);
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return err;
}

/* A fault, the faulting task's allocations failed. */
static int attempt_fault(unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct job j = { .kind = J_READ, .o = o, .off = pg * PG, .nth = nth };
	uint64_t want;

	flush_page(o, pg);
	job_run(&j, cur->name);
	*hit = j.hit;
	memcpy(&want, o->expect + pg * PG, 8);
	if (j.sigbus)
		cur->sigbus++;
	else if (j.val != want)
		violation("%s: page %u reads %#llx, not %#llx", cur->name, pg,
			  (unsigned long long)j.val, (unsigned long long)want);
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return 0;
}

/* A write fault and its page's write-back by msync(): the writer's allocations. */
static int attempt_return(unsigned int nth, bool *hit)
{
	struct obj *o = main_obj;
	unsigned int pg = nth % OBJ_PAGES;
	struct job j = { .kind = J_MSYNC, .o = o, .nth = nth };

	client_write(o, pg, 0x4e7000 + nth, cur->name);
	job_run(&j, cur->name);
	*hit = j.hit;
	if (j.sigbus)
		violation("%s: msync got SIGBUS", cur->name);
	if (j.err) {
		/* Failed: the page stays dirty, and the next msync returns it. */
		struct job again = { .kind = J_MSYNC, .o = o };

		job_run(&again, cur->name);
		if (again.err)
			violation("%s: msync again after %s: %s", cur->name, strerror(-j.err),
				  strerror(-again.err));
	}
	if (memcmp(o->store + pg * PG, o->expect + pg * PG, PG))
		violation("%s: page %u not returned by msync", cur->name, pg);
	check_usable(o, pg, (pg + 1) % OBJ_PAGES, cur->name);
	return j.err;
}

/* Teardown: munmap and close of the last reference; TERMINATE must come. */
static int attempt_teardown(unsigned int nth, bool *hit)
{
	struct obj *o = obj_new(EXTPAGER_CMD_OBJECT_CREATE);
	struct job j = { .kind = J_UNMAP_CLOSE, .o = o, .nth = nth };
	struct msg m = MSG_ON_STACK;
	int err;

	client_write(o, 3, 0x7ea4 + nth, cur->name);
	check_page(o, 5, cur->name);
	job_run(&j, cur->name);
	*hit = j.hit;
	serve_until(&o->terminated, cur->name);
	/* Its dirty page was returned before TERMINATE. */
	if (memcmp(o->store + 3 * PG, o->expect + 3 * PG, PG))
		violation("%s: the dirty page was not returned before TERMINATE", cur->name);
	msg_init(&m, EXTPAGER_CMD_OBJECT_GET, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	err = call(nl_fd, &m, 0, NULL, NULL, NULL);
	if (err != -ENOENT)
		violation("%s: OBJECT_GET after TERMINATE: %s", cur->name, strerror(-err));
	obj_free(o);
	return 0;
}

static int attempt_object_destroy(unsigned int nth, bool *hit)
{
	struct obj *o = obj_new(EXTPAGER_CMD_OBJECT_CREATE);
	struct msg m = MSG_ON_STACK;
	int err, err2;
	struct job j = { .kind = J_READ, .o = o, .off = 2 * PG };

	check_page(o, 2, cur->name);
	msg_init(&m, EXTPAGER_CMD_OBJECT_DESTROY, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	err = call(nl_fd, &m, nth, hit, NULL, NULL);
	if (err && !ack_lost) {
		check_usable(o, 2, 4, cur->name);
		((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
		err2 = call(nl_fd, &m, 0, NULL, NULL, NULL);
		if (err2)
			violation("%s: destroy again after %s: %s", cur->name, strerror(-err),
				  strerror(-err2));
	}
	/* Destroyed: its pages are gone, a fault gets SIGBUS, OBJECT_GET ENOENT. */
	job_run(&j, cur->name);
	if (!j.sigbus)
		violation("%s: a fault on a destroyed object did not get SIGBUS", cur->name);
	err2 = obj_get(o, 0, NULL);
	if (err2 != -ENOENT)
		violation("%s: OBJECT_GET of a destroyed object: %s", cur->name, strerror(-err2));
	munmap(o->map, OBJ_PAGES * PG);
	close(o->fd);
	obj_free(o);
	return err;
}

/* An object orphaned by its manager's socket closing, adopted. */
static int attempt_object_adopt(unsigned int nth, bool *hit)
{
	int other = nl_open(), fd = -1, err, err2;
	struct obj *o = obj_slot();
	struct msg m = MSG_ON_STACK;
	uint32_t id = 0;

	msg_init(&m, EXTPAGER_CMD_OBJECT_CREATE, 0);
	put_u64(&m, EXTPAGER_A_OBJECT_SIZE, OBJ_PAGES * PG);
	put_u32(&m, EXTPAGER_A_OBJECT_ORPHAN_MS, 600000);
	err = call(other, &m, 0, NULL, &o->fd, &o->id);
	if (err || o->fd < 0) {
		fprintf(stderr, "faults: creating a recoverable object: %s\n", strerror(-err));
		exit(2);
	}
	close(other);
	obj_fill(o);
	msg_init(&m, EXTPAGER_CMD_OBJECT_ADOPT, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, o->id);
	/* The orphaning happens in the socket's release: it may take a moment. */
	for (int i = 0; i < 100; i++) {
		err = call(nl_fd, &m, nth, hit, &fd, &id);
		if (err != -EBUSY || *hit)
			break;
		((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
		usleep(10000);
	}
	if (fd >= 0)
		close(fd);
	if (err && !ack_lost) {
		((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
		err2 = call(nl_fd, &m, 0, NULL, &fd, &id);
		if (err2)
			violation("%s: adopt again after %s: %s", cur->name, strerror(-err),
				  strerror(-err2));
		if (fd >= 0)
			close(fd);
	}
	if (obj_map(o)) {
		client_write(o, 1, 0xad0 + nth, cur->name);
		check_usable(o, 0, 1, cur->name);
	}
	obj_close(o, cur->name);
	return err;
}

static int attempt_channel_open(unsigned int nth, bool *hit)
{
	struct msg m = MSG_ON_STACK;
	int fd = -1, err;

	msg_init(&m, EXTPAGER_CMD_CHANNEL_OPEN, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_TAGS, 4);
	err = call(nl_fd, &m, nth, hit, &fd, NULL);
	if (!err && fd < 0)
		violation("%s acknowledged without a descriptor", cur->name);
	if (fd >= 0)
		close(fd);
	return err;
}

static int attempt_default_pager_set(unsigned int nth, bool *hit)
{
	int s = nl_open(), err, err2;
	struct msg m = MSG_ON_STACK;
	bool lost;

	msg_init(&m, EXTPAGER_CMD_DEFAULT_PAGER_SET, 0);
	err = call(s, &m, nth, hit, NULL, NULL);
	lost = ack_lost;
	/* Again, without injection: registered now, or already. */
	((struct nlmsghdr *)m.b)->nlmsg_seq = ++seq;
	err2 = call(s, &m, 0, NULL, NULL, NULL);
	if (err2 != (err && !lost ? 0 : -EALREADY))
		violation("%s: sent again after %s: %s", cur->name, strerror(-err),
			  strerror(-err2));
	close(s);
	return err;
}

/* --- main ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	attempt_fn fn;
} ops[] = {
	{ "OBJECT_CREATE", attempt_object_create },
	{ "READY", attempt_ready },
	{ "OBJECT_GET", attempt_object_get },
	{ "LOCK_REQUEST", attempt_lock_request },
	{ "DATA_SUPPLY", attempt_data_supply },
	{ "DATA_UNAVAILABLE", attempt_data_unavailable },
	{ "DATA_ERROR", attempt_data_error },
	{ "UNLOCK_REPLY", attempt_unlock_reply },
	{ "RETURN_ACK", attempt_return_ack },
	{ "OBJECT_DESTROY", attempt_object_destroy },
	{ "OBJECT_ADOPT", attempt_object_adopt },
	{ "OBJECT_CREATE_ANON", attempt_object_create_anon },
	{ "CHANNEL_OPEN", attempt_channel_open },
	{ "DEFAULT_PAGER_SET", attempt_default_pager_set },
	{ "fault", attempt_fault },
	{ "return", attempt_return },
	{ "teardown", attempt_teardown },
};

int main(int argc, char **argv)
{
	unsigned int total = 0, i;
	int a;
	long start = now_ms();
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	nl_fd = nl_open();
	family = resolve_family(nl_fd);
	if (family < 0) {
		fprintf(stderr, "faults: no extpager family: is extpager.ko loaded?\n");
		return 2;
	}
	if (access("/proc/thread-self/fail-nth", W_OK)) {
		fprintf(stderr, "faults: no /proc/thread-self/fail-nth: the kernel needs "
			"CONFIG_FAULT_INJECTION (scripts/vm --kernel=debug)\n");
		return 2;
	}
	if (pthread_create(&t, NULL, client, NULL))
		die("pthread_create");
	main_obj = obj_new(EXTPAGER_CMD_OBJECT_CREATE);
	check_usable(main_obj, 0, 1, "set-up");

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (a = 1; a < argc && strcmp(argv[a], ops[i].name); a++)
			;
		if (argc > 1 && a == argc)
			continue;
		sweep(ops[i].name, ops[i].fn);
		total += results[n_results - 1].points;
	}
	obj_close(main_obj, "teardown of the main object");
	printf("faults: total: %u failure points over %u operations in %.1f s\n", total,
	       n_results, (now_ms() - start) / 1000.0);
	if (violations) {
		printf("faults: FAIL: %d violations\n", violations);
		return 1;
	}
	printf("faults: PASS\n");
	return 0;
}
