// SPDX-License-Identifier: GPL-2.0
/*
 * kill_stress: a manager-kill campaign (Documentation/testing.rst, "The
 * manager-kill campaign").
 *
 * A writer in a memory-limited cgroup writes pages that say which page and
 * which generation they are through a shared mapping of a recoverable
 * object.  Its manager, a process of its own, stores returns in a file.  The
 * supervisor (this process) SIGKILLs the manager again and again, at chosen
 * moments that hooks in the manager make sure are reached; a new manager
 * adopts the orphan each time, sometimes two race to.  At the end every
 * page must hold the last generation written, read through the mapping and
 * from the file.
 *
 *   kill_stress [--kills=N] [--seed=S] [--pages=N] [--memory-high=SIZE]
 *
 * STRESS_KILLS and STRESS_SEED are the defaults of --kills and --seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libpager.h"

#define PAGE		4096ul
/*
 * A manager at its hook waits HOOK_WAIT_MS for the kill, which comes at
 * once.  To catch a read and a write callback running together, each
 * waits up to COINCIDE_MS for the other: short, so that the writer's
 * stalls stay the kernel's, not the hook's.  The supervisor waits AIM_MS
 * for a hook to be reached, and kills the manager anyway after that.
 */
#define HOOK_WAIT_MS	15000
#define COINCIDE_MS	1000
#define AIM_MS		5000
#define ADOPT_WAIT_MS	60000
/* The orphan-ms of the object: far beyond any gap between two managers. */
#define ORPHAN_MS	120000

/* The moments a kill is aimed at. */
enum moment {
	AT_RANDOM,	/* after a random delay: whatever is going on */
	IN_STORE,	/* inside the write callback, half the run in the file */
	AFTER_ADOPT,	/* pager_adopt() returned, nothing served yet */
	BOTH_IN_FLIGHT,	/* a read and a write callback running at once */
	NR_MOMENTS,
};

static const char *const moment_name[NR_MOMENTS] = {
	[AT_RANDOM]	 = "at-random",
	[IN_STORE]	 = "in-store",
	[AFTER_ADOPT]	 = "after-adoption",
	[BOTH_IN_FLIGHT] = "requests-and-returns-in-flight",
};

/* Shared by the supervisor, the writer and the managers (MAP_SHARED). */
struct ctl {
	/* The current manager's hook, and whether it was reached. */
	atomic_int moment;
	atomic_int hit;
	atomic_int reads_in_flight;
	atomic_int writes_in_flight;
	/* Adoption: a racing pair waits for @go; each posts its result. */
	atomic_int go;
	atomic_int adopt_done[2];
	atomic_int adopt_result[2];
	atomic_int adopt_busy_retries;
	/* The writer. */
	atomic_int stop;
	atomic_int writer_ready;
	atomic_long page_writes;
	atomic_long pages_checked;
	atomic_long pages_bad_online;
	atomic_long sigbus;
	atomic_long max_stall_ns;
	atomic_long final_checked;
	atomic_long final_bad;
	atomic_int msync_errno;
	/* The managers. */
	atomic_long stores;
	atomic_long reads;
	/* The generation each page last got, written by the writer only. */
	uint32_t gen[];
};

static struct ctl *ctl;
static long t_start;
static bool verbose;
static size_t npages;
static int store_fd;
/* The supervisor's descriptor of the object, closed in the managers: a
 * manager holding one would keep its own object from terminating. */
static int obj_fd = -1;

/* --- random numbers, from the seed only ---------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return splitmix(s) % n;
}

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000l + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* --- the pattern ----------------------------------------------------------- */

/* Page @index at generation @gen (0: never written, all zeros). */
static uint64_t word(uint64_t index, uint32_t gen, size_t i)
{
	if (!gen)
		return 0;
	if (i == 0)
		return 0x5354524553530000ull | (index & 0xffff);	/* "STRESS" */
	if (i == 1)
		return (index << 32) | gen;
	return (index * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)gen << 20) ^ i;
}

static void fill_page(volatile uint64_t *w, uint64_t index, uint32_t gen)
{
	size_t i;

	for (i = 0; i < PAGE / 8; i++)
		w[i] = word(index, gen, i);
}

static bool page_ok(const volatile uint64_t *w, uint64_t index, uint32_t gen)
{
	size_t i;

	for (i = 0; i < PAGE / 8; i++)
		if (w[i] != word(index, gen, i))
			return false;
	return true;
}

/* What a bad page holds instead, in words. */
static void describe_bad(const char *where, const volatile uint64_t *w, uint64_t index,
			 uint32_t gen)
{
	fprintf(stderr, "stress: %s: page %" PRIu64 " should be generation %u, has header "
		"%016" PRIx64 " %016" PRIx64 "\n", where, index, gen, w[0], w[1]);
}

/* --- the managers -------------------------------------------------------- */

/* Wait up to @ms for @cond to hold; whether it did. */
#define WAIT_FOR(cond, ms) ({						\
	long __end = now_ns() + (ms) * 1000000l;			\
	bool __ok;							\
	while (!(__ok = (cond)) && now_ns() < __end)			\
		sleep_ms(1);						\
	__ok;								\
})

/*
 * The hook has been reached: the supervisor kills this process now.  Only
 * the first callback to get here waits for it; the others go on.
 */
static void hook_hit(void)
{
	if (!atomic_exchange(&ctl->hit, 1))
		WAIT_FOR(false, HOOK_WAIT_MS);
}

static int mgr_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		    enum pager_access access, unsigned int *flags)
{
	ssize_t n;

	atomic_fetch_add(&ctl->reads_in_flight, 1);
	if (atomic_load(&ctl->moment) == BOTH_IN_FLIGHT &&
	    WAIT_FOR(atomic_load(&ctl->writes_in_flight) > 0, COINCIDE_MS))
		hook_hit();
	n = pread(store_fd, buf, len, offset);
	atomic_fetch_sub(&ctl->reads_in_flight, 1);
	atomic_fetch_add(&ctl->reads, 1);
	if (n < 0)
		return -errno;
	if ((size_t)n < len)
		memset((char *)buf + n, 0, len - n);
	return 0;
}

static int mgr_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		     unsigned int flags)
{
	size_t half = len / 2 / PAGE * PAGE ?: len / 2;
	int moment = atomic_load(&ctl->moment);
	int err = 0;

	atomic_fetch_add(&ctl->writes_in_flight, 1);
	if (moment == BOTH_IN_FLIGHT &&
	    WAIT_FOR(atomic_load(&ctl->reads_in_flight) > 0, COINCIDE_MS))
		hook_hit();
	/* In two parts, so that a kill in between leaves a torn store. */
	if (pwrite(store_fd, data, half, offset) != (ssize_t)half)
		err = -EIO;
	if (moment == IN_STORE)
		hook_hit();
	if (!err && pwrite(store_fd, (const char *)data + half, len - half,
			   offset + half) != (ssize_t)(len - half))
		err = -EIO;
	atomic_fetch_sub(&ctl->writes_in_flight, 1);
	atomic_fetch_add(&ctl->stores, 1);
	return err;
}

static const struct pager_ops mgr_ops = {
	.read	= mgr_read,
	.write	= mgr_write,
};

/* Four pages per request, so that a request is a run, as returns are. */
static const struct pager_attr mgr_attr = { .cluster = 4 };

/* Three serving threads: a read and a write callback can wait together. */
static void serve(struct pager_conn *conn)
{
	int err = pager_serve(conn, 3);

	if (err)
		fprintf(stderr, "stress: manager %d: pager_serve: %s (%s)\n", getpid(),
			strerror(-err), pager_conn_error());
	_exit(err ? 1 : 0);
}

/* The first manager: create the object, send its fd over @sock. */
static void manager_create(int sock)
{
	struct pager_conn *conn;
	struct pager *pager;
	uint32_t id;
	int err;

	err = pager_conn_open(&conn);
	if (err) {
		fprintf(stderr, "stress: pager_conn_open: %s\n", pager_conn_error());
		_exit(2);
	}
	pager_conn_set_orphan_lifetime(conn, ORPHAN_MS);
	err = pager_create(conn, npages * PAGE, &mgr_ops, &mgr_attr, NULL, &pager);
	if (err) {
		fprintf(stderr, "stress: pager_create: %s\n", pager_conn_error());
		_exit(2);
	}
	id = pager_id(pager);
	if (pager_send_fd(sock, pager_fd(pager), &id, sizeof(id)))
		_exit(3);
	close(pager_fd(pager));
	close(sock);
	serve(conn);
}

/* An adopter, slot @slot: after @ctl->go, adopt @id, post the result. */
static void manager_adopt(uint32_t id, int slot, bool race)
{
	struct pager_conn *conn;
	struct pager *pager;
	int err, tries = 0;

	err = pager_conn_open(&conn);
	if (err) {
		fprintf(stderr, "stress: pager_conn_open: %s\n", pager_conn_error());
		_exit(2);
	}
	pager_conn_set_orphan_lifetime(conn, ORPHAN_MS);
	while (!atomic_load(&ctl->go))
		;	/* both adopters leave at once */
	for (;;) {
		err = pager_adopt(conn, id, &mgr_ops, &mgr_attr, NULL, &pager);
		/*
		 * A lone adopter comes after the last manager was reaped: its
		 * socket is gone, so the object cannot have a manager.  Count
		 * any EBUSY it sees; the report fails on it.
		 */
		if (err != -EBUSY || race || ++tries > 100)
			break;
		atomic_fetch_add(&ctl->adopt_busy_retries, 1);
		sleep_ms(10);
	}
	/* A race's loser getting EBUSY is the expected outcome: counted only. */
	if (err && !(race && err == -EBUSY))
		fprintf(stderr, "stress: adopter %d: pager_adopt: %s (%s)\n", getpid(),
			strerror(-err), pager_conn_error());
	atomic_store(&ctl->adopt_result[slot], err);
	atomic_store(&ctl->adopt_done[slot], 1);
	if (err)
		_exit(race && err == -EBUSY ? 0 : 2);
	close(pager_fd(pager));
	if (atomic_load(&ctl->moment) == AFTER_ADOPT)
		hook_hit();
	serve(conn);
}

/* --- the writer ---------------------------------------------------------- */

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Check every page of @p against its generation; the bad ones' count. */
static long check_all(volatile char *p, const char *where)
{
	/* volatile: kept across a SIGBUS's siglongjmp */
	volatile long bad = 0;
	volatile size_t i;

	for (i = 0; i < npages; i++) {
		volatile uint64_t *w = (volatile uint64_t *)(p + i * PAGE);

		if (sigsetjmp(bus_jmp, 1)) {
			atomic_fetch_add(&ctl->sigbus, 1);
			bad++;
			continue;
		}
		if (!page_ok(w, i, ctl->gen[i])) {
			if (bad < 10)
				describe_bad(where, w, i, ctl->gen[i]);
			bad++;
		}
		atomic_fetch_add(&ctl->final_checked, 1);
	}
	return bad;
}

static int enter_cgroup(const char *cg)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d", getpid()) < 0 || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

/*
 * Write random pages, each after checking it still holds what it last got,
 * until told to stop; then msync, check every page, drop them all from
 * memory and check them again as the manager gives them back.
 */
static void writer(int fd, const char *cg, uint64_t wseed)
{
	/* Static: kept across a SIGBUS's siglongjmp. */
	static uint64_t seed, run, next;
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile char *p;
	long bad;

	seed = wseed;
	if (enter_cgroup(cg))
		_exit(2);
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("stress: mmap");
		_exit(2);
	}
	atomic_store(&ctl->writer_ready, 1);
	while (!atomic_load(&ctl->stop)) {
		/* Runs of up to 16 pages: faults that take clusters, and
		 * returns of several pages. */
		/* volatile: read after a SIGBUS's siglongjmp */
		volatile uint64_t i = run ? next : below(&seed, npages);
		volatile uint64_t *volatile w = (volatile uint64_t *)(p + i * PAGE);
		volatile uint32_t gen = ctl->gen[i];
		volatile long t0 = now_ns();
		long stall;

		run = run ? run - 1 : below(&seed, 16);
		next = (i + 1) % npages;

		/* Counted, and the same page checked and written again. */
		if (sigsetjmp(bus_jmp, 1)) {
			atomic_fetch_add(&ctl->sigbus, 1);
			fprintf(stderr, "stress: %.3f: writer: SIGBUS on page %" PRIu64 "\n",
				(now_ns() - t_start) / 1e9, i);
			if (atomic_load(&ctl->sigbus) > 100)
				_exit(3);
		} else {
			if (!page_ok(w, i, gen)) {
				describe_bad("writer", w, i, gen);
				atomic_fetch_add(&ctl->pages_bad_online, 1);
			}
			atomic_fetch_add(&ctl->pages_checked, 1);
		}
		fill_page(w, i, gen + 1);
		ctl->gen[i] = gen + 1;
		atomic_fetch_add(&ctl->page_writes, 1);
		stall = now_ns() - t0;
		if (stall > atomic_load(&ctl->max_stall_ns))
			atomic_store(&ctl->max_stall_ns, stall);
	}
	if (msync((void *)p, npages * PAGE, MS_SYNC))
		atomic_store(&ctl->msync_errno, errno);
	bad = check_all(p, "mapping");
	/* msync left every page clean: all go, and come back from the manager. */
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		bad++;
	bad += check_all(p, "mapping after dropping the cache");
	atomic_store(&ctl->final_bad, bad);
	_exit(0);
}

/* --- the supervisor ------------------------------------------------------ */

static pid_t children[4];

static void reap_all(void)
{
	size_t i;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("stress: FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	reap_all();
	exit(1);
}

static pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

struct adopt_arg {
	uint32_t id;
	int slot;
	bool race;
};

static void run_adopter(void *arg)
{
	struct adopt_arg *a = arg;

	close(obj_fd);
	manager_adopt(a->id, a->slot, a->race);
}

static long param_get(const char *name)
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
	return atol(buf);
}

static struct {
	long kills, adoptions, races, race_won, race_lost_busy;
	long chosen[NR_MOMENTS], hit[NR_MOMENTS];
} st;

/*
 * Start one adopter, or two racing, for @id; return the one that won once
 * it has.  Exactly one of two may win, and the other must get EBUSY.
 */
static pid_t adopt(uint32_t id, bool race)
{
	struct adopt_arg a[2] = { { id, 0, race }, { id, 1, race } };
	int n = race ? 2 : 1, i, winners = 0;
	pid_t pid[2], won = 0;
	long end;

	atomic_store(&ctl->go, 0);
	for (i = 0; i < 2; i++) {
		atomic_store(&ctl->adopt_done[i], 0);
		atomic_store(&ctl->adopt_result[i], 0);
	}
	for (i = 0; i < n; i++)
		children[1 + i] = pid[i] = spawn(run_adopter, &a[i]);
	atomic_store(&ctl->go, 1);
	end = now_ns() + ADOPT_WAIT_MS * 1000000l;
	for (i = 0; i < n; i++)
		while (!atomic_load(&ctl->adopt_done[i]))
			if (now_ns() > end)
				fail("adopter %d did not adopt object %u in %d s", pid[i], id,
				     ADOPT_WAIT_MS / 1000);
			else
				sleep_ms(1);
	for (i = 0; i < n; i++) {
		int err = atomic_load(&ctl->adopt_result[i]);

		if (!err) {
			winners++;
			won = pid[i];
		} else if (race && err == -EBUSY) {
			st.race_lost_busy++;
			waitpid(pid[i], NULL, 0);
			children[1 + i] = 0;
		} else {
			fail("adopting object %u: %s", id, strerror(-err));
		}
	}
	if (winners != 1)
		fail("%d of %d adopters adopted object %u", winners, n, id);
	if (race)
		st.races++, st.race_won++;
	st.adoptions++;
	return won;
}

/*
 * Returns need writeback: while a hook waits for a store, a thread of the
 * supervisor starts it every 50 ms, so that the supervisor itself never
 * waits in the kernel while it watches for the hook.  The longest
 * sync_file_range() is reported.
 */
static atomic_int kick_on, kick_stop;
static atomic_long kick_max_ns;

static void *kicker(void *arg)
{
	int fd = *(int *)arg;

	while (!atomic_load(&kick_stop)) {
		if (atomic_load(&kick_on)) {
			long t = now_ns();

			sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			t = now_ns() - t;
			if (t > atomic_load(&kick_max_ns))
				atomic_store(&kick_max_ns, t);
		}
		sleep_ms(50);
	}
	return NULL;
}

/* Kill @mgr at the moment @ctl->moment names; whether its hook was hit. */
static bool kill_at(pid_t mgr, uint64_t *rng)
{
	int moment = atomic_load(&ctl->moment);
	bool hit = false;
	int status;

	if (moment == AT_RANDOM) {
		sleep_ms(below(rng, 300));
	} else {
		long end = now_ns() + AIM_MS * 1000000l;

		atomic_store(&kick_on, moment != AFTER_ADOPT);
		while (!(hit = atomic_load(&ctl->hit)) && now_ns() < end)
			sleep_ms(1);
		atomic_store(&kick_on, 0);
	}
	if (verbose)
		printf("stress: %.3f: kill %ld: manager %d, %s, %s\n", (now_ns() - t_start) / 1e9,
		       st.kills + 1, mgr, moment_name[moment], hit ? "hit" : "not hit");
	if (kill(mgr, SIGKILL) || waitpid(mgr, &status, 0) != mgr)
		fail("killing manager %d: %s", mgr, strerror(errno));
	if (!WIFSIGNALED(status))
		fail("manager %d exited (status %d) before it was killed", mgr,
		     WEXITSTATUS(status));
	st.kills++;
	return hit;
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g': v <<= 10;	/* fall through */
	case 'M': case 'm': v <<= 10;	/* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	}
	if (*end || !v)
		fail("bad size '%s'", s);
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: kill_stress [--kills=N] [--seed=S] [--pages=N] "
		"[--memory-high=SIZE]\n");
	exit(2);
}

static char cg[PATH_MAX];

static void make_cgroup(size_t high)
{
	char path[PATH_MAX + 32];
	FILE *f;

	f = fopen("/sys/fs/cgroup/cgroup.subtree_control", "w");
	if (!f || fputs("+memory", f) < 0 || fclose(f))
		fail("enabling the memory controller: %s", strerror(errno));
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/extpager-stress-%d", getpid());
	if (mkdir(cg, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", cg, strerror(errno));
	/* memory.high throttles a writer that outruns writeback; max would
	 * OOM-kill it (Documentation/extpager.rst, the return path). */
	snprintf(path, sizeof(path), "%s/memory.high", cg);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%zu", high) < 0 || fclose(f))
		fail("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kills", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'p' },
		{ "memory-high", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *env;
	long kills = 50, t0, t1, end, dropped0, missed = 0;
	uint64_t seed, rng, wseed;
	size_t high = 2 << 20, ctl_size, i;
	char store_path[] = "/tmp/extpager-stress-XXXXXX";
	int sv[2], fd, status, opt, k, moment;
	uint32_t id;
	pthread_t kick_thread;
	pid_t mgr, wr;
	bool ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_start = now_ns();
	verbose = getenv("STRESS_VERBOSE");
	npages = 2048;
	seed = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	env = getenv("STRESS_KILLS");
	if (env && *env)
		kills = strtol(env, NULL, 0);
	env = getenv("STRESS_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 0);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'k': kills = strtol(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'p': npages = strtoul(optarg, NULL, 0); break;
		case 'm': high = parse_size(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || kills < 1 || npages < 1)
		usage();
	printf("stress: seed %" PRIu64 " (replay: --seed=%" PRIu64 "), %ld kills, %zu pages, "
	       "writer's memory.high %zu KiB, request_timeout_ms %ld\n", seed, seed, kills,
	       npages, high >> 10, param_get("request_timeout_ms"));
	rng = seed;
	wseed = splitmix(&rng);

	ctl_size = sizeof(*ctl) + npages * sizeof(ctl->gen[0]);
	ctl = mmap(NULL, ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	store_fd = mkstemp(store_path);
	if (store_fd < 0 || ftruncate(store_fd, npages * PAGE))
		fail("the store file %s: %s", store_path, strerror(errno));
	unlink(store_path);
	make_cgroup(high);
	dropped0 = param_get("orphan_pages_dropped");

	/* The first manager creates the object and hands it over. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		fail("socketpair: %s", strerror(errno));
	fflush(NULL);
	mgr = fork();
	if (!mgr) {
		close(sv[0]);
		manager_create(sv[1]);
	}
	children[1] = mgr;
	close(sv[1]);
	fd = pager_recv_fd(sv[0], &id, sizeof(id));
	if (fd < 0)
		fail("the first manager did not send the object: %s", strerror(-fd));
	close(sv[0]);
	obj_fd = fd;
	st.chosen[AT_RANDOM]++;

	fflush(NULL);
	wr = fork();
	if (!wr)
		writer(fd, cg, wseed);
	children[0] = wr;
	while (!atomic_load(&ctl->writer_ready))
		sleep_ms(1);

	if (pthread_create(&kick_thread, NULL, kicker, &fd))
		fail("pthread_create failed");
	t0 = now_ns();
	for (k = 0; k < kills; k++) {
		bool race;

		if (kill_at(mgr, &rng))
			st.hit[atomic_load(&ctl->moment)]++;
		else if (atomic_load(&ctl->moment) != AT_RANDOM)
			missed++;
		children[1] = 0;

		/* The next manager's moment, set before it exists; the last
		 * manager has none and serves to the end. */
		moment = k + 1 < kills ? (int)below(&rng, NR_MOMENTS) : -1;
		atomic_store(&ctl->moment, moment);
		atomic_store(&ctl->hit, 0);
		atomic_store(&ctl->reads_in_flight, 0);
		atomic_store(&ctl->writes_in_flight, 0);
		if (moment >= 0)
			st.chosen[moment]++;
		race = !below(&rng, 4);
		mgr = adopt(id, race);
		if (verbose)
			printf("stress: %.3f: adopted by %d%s, %ld page writes\n",
			       (now_ns() - t_start) / 1e9, mgr, race ? " (race)" : "",
			       atomic_load(&ctl->page_writes));
		children[1] = mgr;
		for (i = 2; i < 4; i++)
			children[i] = 0;
		if ((k + 1) % 50 == 0 || k + 1 == kills)
			printf("stress: %d kills, %ld s, %ld page writes\n", k + 1,
			       (now_ns() - t0) / 1000000000l, atomic_load(&ctl->page_writes));
	}
	t1 = now_ns();
	atomic_store(&kick_stop, 1);
	pthread_join(kick_thread, NULL);
	sleep_ms(300);
	atomic_store(&ctl->stop, 1);
	if (waitpid(wr, &status, 0) != wr || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the writer died (wait status %#x)", status);
	children[0] = 0;

	/* The final sync: every page in the manager's file. */
	if (fsync(fd))
		fail("fsync: %s", strerror(errno));
	{
		static uint64_t buf[PAGE / 8];
		long file_bad = 0;

		for (i = 0; i < npages; i++) {
			if (pread(store_fd, buf, PAGE, i * PAGE) != (ssize_t)PAGE)
				fail("reading the store: %s", strerror(errno));
			if (!page_ok(buf, i, ctl->gen[i])) {
				if (file_bad < 10)
					describe_bad("file", buf, i, ctl->gen[i]);
				file_bad++;
			}
		}
		close(fd);
		/* The last client gone, the manager is told and exits. */
		end = now_ns() + ADOPT_WAIT_MS * 1000000l;
		while (!waitpid(mgr, &status, WNOHANG))
			if (now_ns() > end)
				fail("the last manager did not see its object terminate");
			else
				sleep_ms(10);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("the last manager ended with wait status %#x", status);
		children[1] = 0;
		rmdir(cg);

		printf("stress: kills: %ld in %.1f s (and %.1f s for the checks at the end)\n",
		       st.kills, (t1 - t0) / 1e9, (now_ns() - t1) / 1e9);
		for (k = 0; k < NR_MOMENTS; k++)
			printf("stress:   %s: %ld aimed, %ld hit\n", moment_name[k],
			       st.chosen[k], k == AT_RANDOM ? st.chosen[k] : st.hit[k]);
		printf("stress: hooks missed (killed at their timeout): %ld\n", missed);
		printf("stress: adoptions: %ld (EBUSY retries of a lone adopter: %d)\n",
		       st.adoptions, atomic_load(&ctl->adopt_busy_retries));
		printf("stress: adoption races: %ld, each with 1 winner; losers got EBUSY: %ld\n",
		       st.races, st.race_lost_busy);
		printf("stress: page writes: %ld; stores: %ld; reads: %ld\n",
		       atomic_load(&ctl->page_writes), atomic_load(&ctl->stores),
		       atomic_load(&ctl->reads));
		printf("stress: pages verified: %ld while writing, %ld through the mapping, "
		       "%zu in the file\n", atomic_load(&ctl->pages_checked),
		       atomic_load(&ctl->final_checked), npages);
		printf("stress: pages lost: %ld while writing, %ld through the mapping, "
		       "%ld in the file\n", atomic_load(&ctl->pages_bad_online),
		       atomic_load(&ctl->final_bad), file_bad);
		printf("stress: writer's longest stall: %.3f s\n",
		       atomic_load(&ctl->max_stall_ns) / 1e9);
		printf("stress: longest sync_file_range(SYNC_FILE_RANGE_WRITE): %.3f s\n",
		       atomic_load(&kick_max_ns) / 1e9);
		printf("stress: SIGBUS: %ld\n", atomic_load(&ctl->sigbus));
		printf("stress: msync: %s\n", atomic_load(&ctl->msync_errno) ?
		       strerror(atomic_load(&ctl->msync_errno)) : "ok");
		printf("stress: orphan_pages_dropped: +%ld\n",
		       param_get("orphan_pages_dropped") - dropped0);

		ok = !atomic_load(&ctl->pages_bad_online) && !atomic_load(&ctl->final_bad) &&
		     !file_bad && !atomic_load(&ctl->sigbus) && !atomic_load(&ctl->msync_errno) &&
		     !atomic_load(&ctl->adopt_busy_retries) &&
		     param_get("orphan_pages_dropped") == dropped0;
		for (k = IN_STORE; k < NR_MOMENTS; k++)
			if (kills >= 20 && !st.hit[k]) {
				printf("stress: the %s moment was never hit\n", moment_name[k]);
				ok = false;
			}
	}
	printf("stress: %s (seed %" PRIu64 ")\n", ok ? "PASS" : "FAIL", seed);
	return ok ? 0 : 1;
}
