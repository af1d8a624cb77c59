/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the selftests: a manager serving a known pattern with
 * configurable misbehaviour, catching SIGBUS, module parameters, a cgroup
 * with a memory limit, running the daemons, and raw access to the protocol
 * through libpager's test seams (libpager/testing.h: the selftests link
 * libpager statically).
 */
#ifndef EXTPAGER_SELFTEST_HELPERS_H
#define EXTPAGER_SELFTEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <netlink/genl/genl.h>
#include <linux/extpager.h>
#include <linux/extpager_channel.h>

#include "../libpager/testing.h"

#define PAGE		((size_t)sysconf(_SC_PAGESIZE))

/* The word at byte @off of object @seed: every page differs. */
static inline uint64_t pattern(uint64_t seed, uint64_t off)
{
	return (seed << 40) ^ (off * 0x9e3779b97f4a7c15ull);
}

static inline void fill_pattern(void *buf, uint64_t seed, uint64_t offset, size_t len)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern(seed, offset + i * 8);
}

/* Whether [addr, addr + len) holds object @seed's pattern from @offset. */
static inline bool check_pattern(const void *addr, uint64_t seed, uint64_t offset, size_t len)
{
	const volatile uint64_t *w = addr;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern(seed, offset + i * 8))
			return false;
	return true;
}

static inline bool all_zero(const void *addr, size_t len)
{
	const volatile uint64_t *w = addr;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* --- catching SIGBUS -------------------------------------------------- */

static __thread sigjmp_buf bus_jmp;
static __thread void *volatile bus_addr;
static __thread volatile bool bus_armed;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	if (!bus_armed)
		abort();
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

static inline void catch_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = bus_handler, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Read (or write) the byte at @p.  Returns 0, or 1 with *@where set to
 * si_addr if the access got SIGBUS.
 */
static inline int touch(volatile char *p, bool write, void **where)
{
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = false;
		if (where)
			*where = bus_addr;
		return 1;
	}
	bus_armed = true;
	if (write)
		*p = *p + 1;
	else
		(void)*p;
	bus_armed = false;
	return 0;
}

/* --- module parameters ------------------------------------------------ */

static inline long param_get(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/extpager/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return strtol(buf, NULL, 10);
}

static inline int param_set(const char *name, long value)
{
	char path[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/sys/module/extpager/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	err = fprintf(f, "%ld", value) < 0 ? -EIO : 0;
	if (fclose(f))
		err = -errno;
	return err;
}

/* --- a manager serving a pattern -------------------------------------- */

struct behaviour {
	uint64_t seed;
	unsigned int delay_ms;		/* before answering a request ... */
	long delay_from;		/* ... for a page from this one on */
	long zero_first, zero_last;	/* pages answered unavailable */
	long error_page;		/* failed once, then served */
	bool readonly;			/* supply read-only */
	bool deny_unlock;
	atomic_int held;		/* while set, read callbacks wait */
	atomic_int reads;		/* read callbacks */
	atomic_int unlocks;		/* unlock callbacks */
	atomic_int terminated;
	atomic_int errors_given;
};

static inline void behaviour_init(struct behaviour *b, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	b->seed = seed;
	b->zero_first = b->zero_last = b->error_page = -1;
}

static int pattern_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
			enum pager_access access, unsigned int *flags)
{
	struct behaviour *b = pager_priv(pager);
	long first = offset / PAGE, last = (offset + len) / PAGE - 1;

	atomic_fetch_add(&b->reads, 1);
	while (atomic_load(&b->held))
		usleep(1000);
	if (b->delay_ms && last >= b->delay_from)
		usleep(b->delay_ms * 1000);
	if (b->error_page >= first && b->error_page <= last &&
	    atomic_fetch_add(&b->errors_given, 1) == 0)
		return -EIO;
	if (b->zero_first >= 0 && first >= b->zero_first && last <= b->zero_last)
		return PAGER_UNAVAILABLE;
	fill_pattern(buf, b->seed, offset, len);
	if (b->readonly)
		*flags |= PAGER_READONLY;
	return 0;
}

static int pattern_unlock(struct pager *pager, uint64_t offset, size_t len)
{
	struct behaviour *b = pager_priv(pager);

	atomic_fetch_add(&b->unlocks, 1);
	return b->deny_unlock ? -EACCES : 0;
}

static void pattern_terminate(struct pager *pager)
{
	struct behaviour *b = pager_priv(pager);

	atomic_store(&b->terminated, 1);
}

/*
 * Refuses every return, as a store that fails would: the pages stay dirty.
 * (Without a write callback the object would be read-only.)
 */
static int refuse_write(struct pager *pager, uint64_t offset, size_t len,
			const void *data, unsigned int flags)
{
	return -EOPNOTSUPP;
}

static const struct pager_ops pattern_ops = {
	.read		= pattern_read,
	.write		= refuse_write,
	.unlock		= pattern_unlock,
	.terminate	= pattern_terminate,
};

/* What OBJECT_GET says of an object. */
struct object_info {
	uint32_t manager, manager_pid;
	char manager_comm[16];
	bool read_only;
	long channel_requests;
};

static void got_object_info(struct nlattr **tb, void *arg)
{
	struct nlattr *st[EXTPAGER_A_STATS_MAX + 1] = { 0 };
	struct object_info *oi = arg;

	if (tb[EXTPAGER_A_OBJECT_MANAGER])
		oi->manager = nla_get_u32(tb[EXTPAGER_A_OBJECT_MANAGER]);
	if (tb[EXTPAGER_A_OBJECT_MANAGER_PID])
		oi->manager_pid = nla_get_u32(tb[EXTPAGER_A_OBJECT_MANAGER_PID]);
	if (tb[EXTPAGER_A_OBJECT_MANAGER_COMM])
		nla_strlcpy(oi->manager_comm, tb[EXTPAGER_A_OBJECT_MANAGER_COMM],
			    sizeof(oi->manager_comm));
	if (tb[EXTPAGER_A_OBJECT_READ_ONLY])
		oi->read_only = nla_get_u8(tb[EXTPAGER_A_OBJECT_READ_ONLY]);
	if (tb[EXTPAGER_A_OBJECT_STATS])
		nla_parse_nested(st, EXTPAGER_A_STATS_MAX, tb[EXTPAGER_A_OBJECT_STATS], NULL);
	if (st[EXTPAGER_A_STATS_CHANNEL_REQUESTS])
		oi->channel_requests = pager__uint(st[EXTPAGER_A_STATS_CHANNEL_REQUESTS]);
}

/* OBJECT_GET of object @id, asked over a connection of its own. */
static inline int object_info_id(uint32_t id, struct object_info *oi)
{
	struct pager_conn *conn;
	struct nl_msg *msg;
	int err;

	memset(oi, 0, sizeof(*oi));
	oi->channel_requests = -1;
	err = pager_conn_open(&conn);
	if (err)
		return err;
	msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_GET, 0);
	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id)) {
		nlmsg_free(msg);
		err = -ENOMEM;
	} else {
		err = pager__call(conn, msg, got_object_info, oi);
	}
	pager_conn_close(conn);
	return err;
}

static inline int object_info(struct pager *pager, struct object_info *oi)
{
	return object_info_id(pager_id(pager), oi);
}

/* Whether the running kernel has function @name (as /proc/kallsyms lists it). */
static inline bool kernel_has_symbol(const char *name)
{
	char line[256], want[128];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	snprintf(want, sizeof(want), " %s\n", name);
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return found;
}

/*
 * Before 6.4 (no per-VMA locks) a write that waits for the manager's
 * unlock holds the process's mmap_lock: a manager thread of the same
 * process that needs it (a starting thread maps its stack) waits for the
 * write (Documentation/extpager.rst, "Kernels").
 */
static inline bool kernel_has_vma_locks(void)
{
	return kernel_has_symbol("lock_vma_under_rcu");
}

/* Whether libpager must serve over the data channel (run_tests.sh's default). */
static inline bool forced_channel(void)
{
	const char *t = getenv("LIBPAGER_TRANSPORT");

	return t && !strcmp(t, "channel");
}

static inline void *serve_thread(void *conn)
{
	return (void *)(intptr_t)pager_serve(conn, 1);
}

/* --- a cgroup v2 memory limit ------------------------------------------- */

static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static inline bool have_cgroup2(void)
{
	return !access("/sys/fs/cgroup/cgroup.subtree_control", W_OK);
}

/*
 * Create the cgroup /sys/fs/cgroup/extpager-@tag-<pid> (path in @cg) with
 * memory.max @max ("4M"); rmdir() it when done.
 */
static inline int memcg_create(char *cg, size_t len, const char *tag, const char *max)
{
	char path[PATH_MAX + 16];
	int err;

	err = write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	if (err)
		return err;
	snprintf(cg, len, "/sys/fs/cgroup/extpager-%s-%d", tag, getpid());
	if (mkdir(cg, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	return write_file(path, max);
}

/*
 * The same with memory.high @high and no memory.max: reclaim throttles the
 * cgroup's tasks instead of OOM-killing them when what it would reclaim is
 * still being written back, which nothing bounds for extpager's pages (no
 * cgroup writeback: see Documentation/extpager.rst) nor for tmpfs's swap-in.
 */
static inline int memcg_create_high(char *cg, size_t len, const char *tag,
				    const char *high)
{
	char path[PATH_MAX + 16];
	int err = memcg_create(cg, len, tag, "max");

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/memory.high", cg);
	return write_file(path, high);
}

/* Move the calling process into @cg: what it faults in is charged there. */
static inline int memcg_enter(const char *cg)
{
	char path[PATH_MAX + 16], pid[16];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

/*
 * In a child in cgroup @cg, write pattern @seed over the @size bytes of
 * object @fd through a shared mapping, msync them and read them back.
 * Its wait status: exit 0 if every byte read back is what was written.
 */
static inline int memcg_round_trip(const char *cg, int fd, size_t size, uint64_t seed)
{
	pid_t child = fork();
	int status = -1;

	if (!child) {
		char *p;
		size_t off;

		if (memcg_enter(cg))
			_exit(10);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(11);
		for (off = 0; off < size; off += PAGE)
			fill_pattern(p + off, seed, off, PAGE);
		if (msync(p, size, MS_SYNC))
			_exit(12);
		for (off = 0; off < size; off += PAGE)
			if (!check_pattern(p + off, seed, off, PAGE))
				_exit(13);
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return -1;
	return status;
}

/* --- the daemons --------------------------------------------------------- */

struct daemon_proc {
	pid_t pid;
	FILE *out;		/* its stdout and stderr */
	char line[1024];	/* the last line read */
	char stats[1024];	/* the last statistics line read */
	char all[8192];		/* everything it printed, as far as it fits */
};

/* Start build/daemons/@argv[0] (next to build/selftests/) with @argv. */
static inline int daemon_spawn(struct daemon_proc *dp, char *const argv[])
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int pfd[2];

	if (n < 0 || !strrchr(exe, '/'))
		return -ENOENT;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/../daemons/%s", exe, argv[0]);
	memset(dp, 0, sizeof(*dp));
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	dp->pid = fork();
	if (dp->pid < 0)
		return -errno;
	if (!dp->pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(path, argv);
		_exit(127);
	}
	close(pfd[1]);
	dp->out = fdopen(pfd[0], "r");
	return dp->out ? 0 : -errno;
}

/* The daemon's next line of output, or NULL once it closed its output. */
static inline const char *daemon_line(struct daemon_proc *dp)
{
	size_t n;

	if (!dp->out || !fgets(dp->line, sizeof(dp->line), dp->out))
		return NULL;
	n = strlen(dp->all);
	snprintf(dp->all + n, sizeof(dp->all) - n, "%s", dp->line);
	if (strstr(dp->line, " faults="))
		strcpy(dp->stats, dp->line);
	return dp->line;
}

/* Read up to the first line containing @what; NULL if the daemon ends first. */
static inline const char *daemon_wait_line(struct daemon_proc *dp, const char *what)
{
	const char *line;

	while ((line = daemon_line(dp)))
		if (strstr(line, what))
			return line;
	return NULL;
}

/* Its statistics, now (SIGUSR1): dp->stats, or NULL. */
static inline const char *daemon_stats(struct daemon_proc *dp)
{
	if (kill(dp->pid, SIGUSR1))
		return NULL;
	return daemon_wait_line(dp, " faults=") ? dp->stats : NULL;
}

/* The value of "@key=" in a statistics line, or -1. */
static inline long long stat_of(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

/* Read the rest of its output and reap it: its wait status. */
static inline int daemon_wait(struct daemon_proc *dp)
{
	int status = -1;

	while (daemon_line(dp))
		;
	if (dp->out)
		fclose(dp->out);
	dp->out = NULL;
	if (dp->pid > 0 && waitpid(dp->pid, &status, 0) != dp->pid)
		status = -1;
	dp->pid = 0;
	return status;
}

/* Run it to its end: its exit status (-1 if it did not exit), its output in dp->all. */
static inline int daemon_run(struct daemon_proc *dp, char *const argv[])
{
	int status;

	if (daemon_spawn(dp, argv))
		return -1;
	status = daemon_wait(dp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Stop it with @sig (SIGTERM: cleanly; SIGKILL) and reap it. */
static inline int daemon_stop(struct daemon_proc *dp, int sig)
{
	if (dp->pid > 0)
		kill(dp->pid, sig);
	return daemon_wait(dp);
}

/* Connect to a daemon's socket: the object's descriptor, *@size its data's. */
static inline int daemon_object(const char *sock, uint64_t *size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		fd = -errno;
		close(s);
		return fd;
	}
	fd = pager_recv_fd(s, size, sizeof(*size));
	close(s);
	return fd;
}

/* --- raw protocol access ----------------------------------------------- */

struct event {
	uint8_t cmd;
	uint32_t id, req_id;
	uint64_t offset, len;
};

/*
 * Wait up to @ms for the kernel's next event on @conn (not served): one that
 * a call queued while it waited for its answer, or one from the socket.
 * libpager hands it over in a buffer of its own length.
 */
static inline int next_event(struct pager_conn *conn, int ms, struct event *ev)
{
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	struct nlmsghdr *nlh = pager__take_event(conn, ms);

	if (!nlh)
		return -errno;
	pager__parse(nlh, tb);
	memset(ev, 0, sizeof(*ev));
	ev->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (tb[EXTPAGER_A_OBJECT_ID])
		ev->id = nla_get_u32(tb[EXTPAGER_A_OBJECT_ID]);
	if (tb[EXTPAGER_A_OBJECT_REQUEST_ID])
		ev->req_id = nla_get_u32(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	if (tb[EXTPAGER_A_OBJECT_OFFSET])
		ev->offset = pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]);
	if (tb[EXTPAGER_A_OBJECT_LENGTH])
		ev->len = pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]);
	free(nlh);
	return 0;
}

/* Wait for an event of kind @cmd, skipping others. */
static inline int wait_event_cmd(struct pager_conn *conn, uint8_t cmd, int ms,
				 struct event *ev)
{
	int err;

	while (!(err = next_event(conn, ms, ev)))
		if (ev->cmd == cmd)
			return 0;
	return err;
}

/* RETURN_ACK of return @ev, by hand: it is stored. */
static inline int ack_return(struct pager_conn *conn, const struct event *ev)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_RETURN_ACK, 0);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, ev->id);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev->req_id);
	return pager__call(conn, msg, NULL, NULL);
}

/*
 * The object's counters once no request is in flight: async read-ahead
 * asks for pages no fault waits on.  Gives up after 5 s.
 */
static inline int settled_stats(struct pager *pager, struct pager_stats *st)
{
	int i, err;

	for (i = 0; i < 500; i++) {
		err = pager_stats(pager, st);
		if (err || st->requested_pages ==
			   st->supplies + st->zero_fills + st->errors + st->timeouts)
			return err;
		usleep(10 * 1000);
	}
	return 0;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* EXTPAGER_SELFTEST_HELPERS_H */
