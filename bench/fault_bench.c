// SPDX-License-Identifier: GPL-2.0
/*
 * fault_bench: what a page fault costs when extpager's manager supplies the
 * page, next to userfaultfd doing the same job and to page-cache hits.
 *
 * Every row touches (reads one byte of) each page of a fresh mapping once
 * and times that read with clock_gettime(), so a row's figures are the cost
 * of one first touch as the faulting thread sees it:
 *
 *   extpager 1-page           cluster=1: every touch is a major fault, one
 *                             DATA_REQUEST to a manager thread (pager_serve)
 *                             whose read callback memsets the page
 *   extpager 16-page cluster  cluster=16: one request brings in a run of
 *                             pages, so most touches are minor faults
 *   userfaultfd 1-page        anonymous MAP_PRIVATE memory registered for
 *                             missing pages; a handler thread answers each
 *                             fault with a one-page UFFDIO_COPY
 *   userfaultfd 16-page       the handler copies the aligned 16-page block
 *                             around the fault in one UFFDIO_COPY
 *   extpager cached (minor)   an object fully populated through a first
 *                             mapping, then touched through a new one: page
 *                             cache hits and fault-around, no manager
 *   tmpfs cached (minor)      the same on a populated memfd, the baseline
 *                             for the line above
 *
 * The two extpager fault cases run over each of libpager's transports,
 * forced with LIBPAGER_TRANSPORT (which pager_serve() reads as it starts):
 * "netlink", every request a generic netlink message, and "channel", the
 * io_uring data channel.  The cached case makes no request while timed and
 * leaves the choice to libpager ("default").
 *
 * Each case runs with 1 faulting thread and with 2, the threads touching
 * disjoint halves of the range in order, and with 1 thread again "pinned":
 * every thread of the row (the faulting one, the manager or userfaultfd
 * handler, and the main thread) on CPU 0, as under `taskset -c 0`, so that
 * the figure is the CPU time of a fault without the cross-CPU wakeups.
 *
 * Every row runs RUNS times, the rows taking turns (round-robin, not RUNS
 * in a row), so that a slow spell of the machine (under TCG, one run may
 * differ from the next by half) spreads over all of them; each column is
 * the median of its RUNS figures, each column on its own.  Columns: the
 * median and 99th percentile of the per-touch time in microseconds (both
 * threads' touches together), touches per second over the whole row (wall
 * time from the first thread's start to the last thread's end), and
 * "upcalls": the requests the kernel sent the manager (extpager, from
 * pager_stats(), over either transport) or the fault messages the
 * userfaultfd handler read.  The timer's own cost, printed in the header,
 * is included in every per-touch figure.
 *
 * The "ratio:" lines compare this run's figures, as ratios of the medians:
 * a 1-page extpager fault against a 1-page userfaultfd fault (per-touch
 * medians; below 1 is faster), what clustering gains (touches per second,
 * clustered extpager against 1-page userfaultfd: the median of a clustered
 * run is a minor fault), how 1-page faults scale to 2 threads (touches per
 * second), and what a cached extpager page costs against a cached tmpfs
 * page (medians).  The last lines are those with a target, each saying
 * whether this run met it.
 *
 * The figures only mean something relative to each other on one machine
 * (under TCG everything is slow, the kernel paths more than user code).
 * Nothing is asserted about them: a target not met is printed, not failed;
 * the program fails only when something cannot be set up (a forced
 * transport that pager_serve() cannot use included) or a touched page
 * holds the wrong data.
 *
 * Usage: fault_bench [PAGES]   (pages per row, a multiple of 32; 4096)
 * FAULT_BENCH_ONLY=<case name prefix> runs only those rows, for profiling;
 * the prefix may go on into the transport ("extpager 1-page channel").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "libpager.h"

#ifndef __maybe_unused
#define __maybe_unused	__attribute__((__unused__))
#endif

/*
 * RUNS runs of the 24 rows at 4096 pages take about three minutes under
 * TCG, most of it the 1-page rows (~200-400 us a fault, more while the
 * host is busy): within what make bench may take, so no fewer pages.
 */
#define DEFAULT_PAGES	4096
#define RUNS		5	/* of each row, in turns */
/*
 * Pages past the timed range: one of them is touched before timing so that
 * the manager's READY (Mach's memory_object_init), the handler thread's
 * start and its buffers are not charged to the first timed touch.  Far
 * enough from the timed range that a 16-page read-around stays out of it.
 */
#define TAIL_PAGES	64
#define BLOCK_PAGES	16	/* the clustered cases' run */
#define MAX_THREADS	2
/* How long the manager may take to see its object terminated. */
#define JOIN_TIMEOUT_S	10

static size_t page;
static size_t npages;		/* timed pages per row */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Every page of every case holds this byte, so a touch can be checked. */
static unsigned char page_byte(size_t index)
{
	return (unsigned char)(index * 37 + 11);
}

static size_t region_size(void)
{
	return (npages + TAIL_PAGES) * page;
}

/* --- pinning ------------------------------------------------------------- */

static cpu_set_t cpu0;		/* CPU 0 alone */
static cpu_set_t unpinned;	/* what the program was started with */
static bool pinned;		/* the row being run is pinned to CPU 0 */

/*
 * Pin the main thread to CPU 0, or give it back its own CPUs.  What it
 * does in a pinned row (the untimed warm-up touch, populating) is on CPU 0
 * as well, and the threads it creates would inherit CPU 0 even without
 * start_thread() saying so.
 */
static int pin_main(bool pin)
{
	if (sched_setaffinity(0, sizeof(cpu_set_t), pin ? &cpu0 : &unpinned)) {
		fprintf(stderr, "fault_bench: sched_setaffinity(%s): %s\n",
			pin ? "CPU 0" : "the CPUs it started with", strerror(errno));
		return -1;
	}
	pinned = pin;
	return 0;
}

/*
 * Every thread of a row is made here: in a pinned row it starts on CPU 0,
 * its affinity set before it runs.  Returns pthread_create()'s error.
 */
static int start_thread(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err;

	err = pthread_attr_init(&attr);
	if (err)
		return err;
	if (pinned)
		err = pthread_attr_setaffinity_np(&attr, sizeof(cpu0), &cpu0);
	if (!err)
		err = pthread_create(tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return err;
}

/* --- timing the touches ----------------------------------------------- */

struct result {
	double median_us, p99_us, per_s;
	uint64_t upcalls;
	bool have_upcalls;
};

struct toucher {
	const char *base;
	size_t first, count;		/* pages */
	uint64_t *lat;			/* ns per touch */
	unsigned char *seen;		/* the byte each touch read */
	uint64_t start, end;
	pthread_barrier_t *barrier;
};

static void *touch_range(void *arg)
{
	struct toucher *t = arg;
	size_t i;

	pthread_barrier_wait(t->barrier);
	t->start = now_ns();
	for (i = 0; i < t->count; i++) {
		const volatile char *p = t->base + (t->first + i) * page;
		uint64_t t0 = now_ns();

		t->seen[i] = *p;
		t->lat[i] = now_ns() - t0;
	}
	t->end = now_ns();
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile (0 < q <= 1) of the @n sorted samples: nearest rank. */
static uint64_t quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * n + 0.999999);

	return sorted[rank ? rank - 1 : 0];
}

/*
 * Touch pages [0, npages) of @base from @nthreads threads, each its own
 * contiguous share, and fill @r.  Returns 0, or -1 with a message.
 */
static int measure(const char *base, int nthreads, struct result *r)
{
	struct toucher t[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t barrier;
	uint64_t *lat, start = UINT64_MAX, end = 0;
	const volatile char *warm;
	unsigned char *seen, v;
	size_t i, bad = 0, share = npages / nthreads;
	int k, err;

	/* Written before timing, so that storing samples does not fault. */
	lat = malloc(npages * sizeof(*lat));
	seen = malloc(npages);
	if (!lat || !seen) {
		fprintf(stderr, "fault_bench: out of memory\n");
		free(lat);
		free(seen);
		return -1;
	}
	memset(lat, 0xff, npages * sizeof(*lat));
	memset(seen, 0xff, npages);

	/* Untimed warm-up touch in the tail; a second read tells a race. */
	i = npages + TAIL_PAGES - 1;
	warm = base + i * page;
	v = *warm;
	if (v != page_byte(i)) {
		fprintf(stderr, "fault_bench: warm-up page %zu read as %#x (then %#x), not %#x\n",
			i, v, (unsigned char)*warm, page_byte(i));
		goto fail;
	}

	pthread_barrier_init(&barrier, NULL, nthreads);
	for (k = 0; k < nthreads; k++) {
		t[k] = (struct toucher){
			.base = base, .first = k * share, .count = share,
			.lat = lat + k * share, .seen = seen + k * share,
			.barrier = &barrier,
		};
		err = start_thread(&tid[k], touch_range, &t[k]);
		if (err) {
			/* The barrier would never open: nothing can be undone. */
			fprintf(stderr, "fault_bench: pthread_create: %s\n", strerror(err));
			exit(EXIT_FAILURE);
		}
	}
	for (k = 0; k < nthreads; k++) {
		pthread_join(tid[k], NULL);
		if (t[k].start < start)
			start = t[k].start;
		if (t[k].end > end)
			end = t[k].end;
	}
	pthread_barrier_destroy(&barrier);

	for (i = 0; i < npages; i++) {
		if (seen[i] == page_byte(i))
			continue;
		if (!bad++)
			fprintf(stderr, "fault_bench: page %zu read as %#x, not %#x\n",
				i, seen[i], page_byte(i));
	}
	if (bad) {
		fprintf(stderr, "fault_bench: %zu of %zu pages held the wrong data\n",
			bad, npages);
		goto fail;
	}
	qsort(lat, npages, sizeof(*lat), cmp_u64);
	r->median_us = quantile(lat, npages, 0.5) / 1e3;
	r->p99_us = quantile(lat, npages, 0.99) / 1e3;
	r->per_s = npages / ((end - start) / 1e9);
	free(lat);
	free(seen);
	return 0;

fail:
	free(lat);
	free(seen);
	return -1;
}

/* --- extpager ------------------------------------------------------------ */

static int bench_read(struct pager *pager __maybe_unused, uint64_t offset,
		      size_t len, void *buf,
		      enum pager_access access __maybe_unused,
		      unsigned int *flags __maybe_unused)
{
	size_t off;

	for (off = 0; off < len; off += page)
		memset((char *)buf + off, page_byte((offset + off) / page), page);
	return 0;
}

static const struct pager_ops bench_ops = {
	.read	= bench_read,
};

/* LIBPAGER_TRANSPORT's values; NULL leaves the choice to libpager. */
#define NETLINK		"netlink"
#define CHANNEL		"channel"

/* A connection, one object on it, and a thread serving it. */
struct manager {
	struct pager_conn *conn;
	struct pager *pager;
	pthread_t server;
	int fd;
	const char *transport;	/* LIBPAGER_TRANSPORT for pager_serve() */
};

static void *serve_thread(void *arg)
{
	/* Copied: @arg goes when manager_stop() gives up waiting. */
	struct pager_conn *conn = ((struct manager *)arg)->conn;
	const char *transport = ((struct manager *)arg)->transport;
	int err;

	err = pager_serve(conn, 1);
	if (err) {
		/*
		 * The faults it leaves unanswered would wait request_timeout_ms
		 * and then get SIGBUS: give up at once, saying why.  A forced
		 * transport that cannot be used ends here, as pager_serve()
		 * starts.
		 */
		fprintf(stderr, "fault_bench: pager_serve (LIBPAGER_TRANSPORT=%s): %s (errno %d)\n",
			transport ?: "unset", strerror(-err), -err);
		exit(EXIT_FAILURE);
	}
	return NULL;
}

static int manager_start(struct manager *m, unsigned int cluster, const char *transport)
{
	struct pager_attr attr = { .cluster = cluster };
	int err;

	err = pager_conn_open(&m->conn);
	if (err) {
		fprintf(stderr, "fault_bench: pager_conn_open: %s%s\n", strerror(-err),
			err == -ENOENT ? " (is extpager.ko loaded?)" : "");
		return -1;
	}
	err = pager_create(m->conn, region_size(), &bench_ops, &attr, NULL, &m->pager);
	if (err) {
		fprintf(stderr, "fault_bench: pager_create: %s: %s\n", strerror(-err),
			pager_conn_error());
		pager_conn_close(m->conn);
		return -1;
	}
	m->fd = pager_fd(m->pager);
	/*
	 * Read by pager_serve() as it starts, in the thread made below; no
	 * other thread runs now (the last row's were joined) to read it.
	 */
	m->transport = transport;
	if (transport ? setenv("LIBPAGER_TRANSPORT", transport, 1) :
			unsetenv("LIBPAGER_TRANSPORT")) {
		perror("fault_bench: setenv(LIBPAGER_TRANSPORT)");
		err = -1;
	} else {
		err = start_thread(&m->server, serve_thread, m);
		if (err)
			fprintf(stderr, "fault_bench: pthread_create: %s\n", strerror(err));
	}
	if (err) {
		close(m->fd);
		pager_conn_close(m->conn);
		return -1;
	}
	return 0;
}

/*
 * The requests the kernel has sent for the object so far.  Asked before
 * the object goes: libpager frees the pager when TERMINATE comes.
 */
static int manager_requests(struct manager *m, uint64_t *requests)
{
	struct pager_stats st;
	int err = pager_stats(m->pager, &st);

	if (err) {
		fprintf(stderr, "fault_bench: pager_stats: %s: %s\n", strerror(-err),
			pager_conn_error());
		return -1;
	}
	*requests = st.requests;
	return 0;
}

/*
 * Closing the last fd (once every mapping is gone) terminates the object,
 * which ends pager_serve(): the thread can be joined.  (Had pager_serve()
 * failed, serve_thread() would have ended the program.)
 */
static int manager_stop(struct manager *m)
{
	struct timespec deadline;
	int err;

	close(m->fd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_TIMEOUT_S;
	err = pthread_timedjoin_np(m->server, NULL, &deadline);
	if (err) {
		/* Leave the thread and its connection: the process ends soon. */
		fprintf(stderr, "fault_bench: the manager did not see its object terminated: %s\n",
			strerror(err));
		return -1;
	}
	pager_conn_close(m->conn);
	return 0;
}

static char *map_fd(int fd, int prot)
{
	char *p = mmap(NULL, region_size(), prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		perror("fault_bench: mmap");
		return NULL;
	}
	return p;
}

/* Major faults: a fresh object, every page asked of the manager. */
static int run_extpager(unsigned int cluster, const char *transport, int nthreads,
			struct result *r)
{
	struct manager m;
	char *p;
	int err = -1;

	if (manager_start(&m, cluster, transport))
		return -1;
	p = map_fd(m.fd, PROT_READ);
	if (p) {
		err = measure(p, nthreads, r);
		if (!err)
			err = manager_requests(&m, &r->upcalls);
		r->have_upcalls = true;
		munmap(p, region_size());
	}
	if (manager_stop(&m))
		err = -1;
	return err;
}

static int run_netlink_1(int nthreads, struct result *r)
{
	return run_extpager(1, NETLINK, nthreads, r);
}

static int run_channel_1(int nthreads, struct result *r)
{
	return run_extpager(1, CHANNEL, nthreads, r);
}

static int run_netlink_16(int nthreads, struct result *r)
{
	return run_extpager(BLOCK_PAGES, NETLINK, nthreads, r);
}

static int run_channel_16(int nthreads, struct result *r)
{
	return run_extpager(BLOCK_PAGES, CHANNEL, nthreads, r);
}

/* Fill (@write) or read every page of @fd through a mapping then dropped. */
static int populate(int fd, int prot, bool write)
{
	char *p = map_fd(fd, prot);
	size_t i, bad = 0;

	if (!p)
		return -1;
	for (i = 0; i < npages + TAIL_PAGES; i++) {
		if (write)
			memset(p + i * page, page_byte(i), page);
		else
			bad += (unsigned char)*(volatile char *)(p + i * page) != page_byte(i);
	}
	munmap(p, region_size());
	if (bad) {
		fprintf(stderr, "fault_bench: %zu pages held the wrong data while populating\n",
			bad);
		return -1;
	}
	return 0;
}

/*
 * Minor faults: the object is populated through a first mapping (clustered,
 * to be quick), which is unmapped; the pages stay cached (the object may
 * cache, the default) and a second mapping finds them there.  Upcalls are
 * the requests during the timed touches: 0 unless pages were dropped; so
 * the transport, libpager's choice, only serves the populating.
 */
static int run_extpager_cached(int nthreads, struct result *r)
{
	struct manager m;
	uint64_t before = 0;
	char *p;
	int err = -1;

	if (manager_start(&m, BLOCK_PAGES, NULL))
		return -1;
	if (!populate(m.fd, PROT_READ, false) && !manager_requests(&m, &before)) {
		p = map_fd(m.fd, PROT_READ);
		if (p) {
			err = measure(p, nthreads, r);
			if (!err)
				err = manager_requests(&m, &r->upcalls);
			r->upcalls -= before;
			r->have_upcalls = true;
			munmap(p, region_size());
		}
	}
	if (manager_stop(&m))
		err = -1;
	return err;
}

/* --- tmpfs ---------------------------------------------------------------- */

static int run_tmpfs_cached(int nthreads, struct result *r)
{
	int fd, err = -1;
	char *p;

	fd = memfd_create("fault_bench", MFD_CLOEXEC);
	if (fd < 0) {
		perror("fault_bench: memfd_create");
		return -1;
	}
	if (ftruncate(fd, region_size())) {
		perror("fault_bench: ftruncate");
	} else if (!populate(fd, PROT_READ | PROT_WRITE, true)) {
		p = map_fd(fd, PROT_READ);
		if (p) {
			err = measure(p, nthreads, r);
			munmap(p, region_size());
		}
	}
	close(fd);
	return err;
}

/* --- userfaultfd ---------------------------------------------------------- */

static int uffd_open(void)
{
	int fd;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
#ifdef USERFAULTFD_IOC_NEW
	/* Where vm.unprivileged_userfaultfd says no, the device may say yes. */
	if (fd < 0) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev >= 0) {
			fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
			close(dev);
		}
	}
#endif
	return fd;
}

struct uffd_handler {
	int uffd;
	int stop_fd;		/* eventfd: the run is over */
	char *base;
	const char *src;	/* what the region should hold */
	size_t size;
	size_t block;		/* bytes copied per fault */
	uint64_t faults;	/* fault messages read */
};

static void uffd_die(const char *what)
{
	/* A fault left unanswered would hang its thread: give up at once. */
	fprintf(stderr, "fault_bench: %s: %s\n", what, strerror(errno));
	exit(EXIT_FAILURE);
}

static int uffd_copy(struct uffd_handler *h, size_t off, size_t len)
{
	struct uffdio_copy copy = {
		.dst = (uintptr_t)h->base + off,
		.src = (uintptr_t)h->src + off,
		.len = len,
	};

	return ioctl(h->uffd, UFFDIO_COPY, &copy);
}

/*
 * Supply the block around the page at @off.  Part of the block may be
 * there already (EEXIST, or EAGAIN when the copy stopped short at such a
 * page): then make sure of the faulting page alone, waking its waiters
 * ourselves if someone else supplied it.
 */
static void uffd_resolve(struct uffd_handler *h, size_t off)
{
	size_t start = off / h->block * h->block;
	size_t len = h->size - start < h->block ? h->size - start : h->block;
	struct uffdio_range range = { .start = (uintptr_t)h->base + off, .len = page };

	if (!uffd_copy(h, start, len))
		return;
	if (errno != EEXIST && errno != EAGAIN)
		uffd_die("UFFDIO_COPY");
	if (!uffd_copy(h, off, page))
		return;
	if (errno != EEXIST)
		uffd_die("UFFDIO_COPY");
	if (ioctl(h->uffd, UFFDIO_WAKE, &range))
		uffd_die("UFFDIO_WAKE");
}

static void *uffd_thread(void *arg)
{
	struct uffd_handler *h = arg;
	struct pollfd pfd[2] = {
		{ .fd = h->uffd, .events = POLLIN },
		{ .fd = h->stop_fd, .events = POLLIN },
	};
	struct uffd_msg msg[16];
	ssize_t n;
	int i;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			uffd_die("poll");
		}
		if (pfd[1].revents & POLLIN)
			return NULL;
		n = read(h->uffd, msg, sizeof(msg));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			uffd_die("read(userfaultfd)");
		}
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			h->faults++;
			uffd_resolve(h, (msg[i].arg.pagefault.address & ~(uint64_t)(page - 1)) -
					(uintptr_t)h->base);
		}
	}
}

static int uffd_setup(struct uffd_handler *h)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)h->base, .len = h->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	h->uffd = uffd_open();
	if (h->uffd < 0) {
		perror("fault_bench: userfaultfd (syscall and /dev/userfaultfd)");
		return -1;
	}
	if (ioctl(h->uffd, UFFDIO_API, &api)) {
		perror("fault_bench: UFFDIO_API");
		goto close_uffd;
	}
	if (ioctl(h->uffd, UFFDIO_REGISTER, &reg)) {
		perror("fault_bench: UFFDIO_REGISTER");
		goto close_uffd;
	}
	if (!(reg.ioctls & (1ull << _UFFDIO_COPY))) {
		fprintf(stderr, "fault_bench: UFFDIO_COPY is not offered for the region\n");
		goto close_uffd;
	}
	h->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (h->stop_fd < 0) {
		perror("fault_bench: eventfd");
		goto close_uffd;
	}
	return 0;

close_uffd:
	close(h->uffd);
	return -1;
}

static int run_uffd(size_t block_pages, int nthreads, struct result *r)
{
	struct uffd_handler h = { .size = region_size(), .block = block_pages * page };
	uint64_t one = 1;
	pthread_t tid;
	char *src;
	size_t i;
	int err = -1;

	h.base = MAP_FAILED;
	src = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED) {
		perror("fault_bench: mmap");
		goto unmap;
	}
	for (i = 0; i < npages + TAIL_PAGES; i++)
		memset(src + i * page, page_byte(i), page);
	h.src = src;
	/*
	 * Mapped only now: next to @src it would share its VMA, and with THP
	 * "always" a huge page faulted in at @src's start would reach back
	 * into the region, whose pages would then never be missing.
	 */
	h.base = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h.base == MAP_FAILED) {
		perror("fault_bench: mmap");
		goto unmap;
	}
	if (uffd_setup(&h))
		goto unmap;
	err = start_thread(&tid, uffd_thread, &h);
	if (err) {
		fprintf(stderr, "fault_bench: pthread_create: %s\n", strerror(err));
		err = -1;
	} else {
		err = measure(h.base, nthreads, r);
		(void)!write(h.stop_fd, &one, sizeof(one));
		pthread_join(tid, NULL);
		r->upcalls = h.faults;
		r->have_upcalls = true;
	}
	close(h.stop_fd);
	close(h.uffd);
unmap:
	if (src != MAP_FAILED)
		munmap(src, h.size);
	if (h.base != MAP_FAILED)
		munmap(h.base, h.size);
	return err;
}

static int run_uffd_1(int nthreads, struct result *r)
{
	return run_uffd(1, nthreads, r);
}

static int run_uffd_16(int nthreads, struct result *r)
{
	return run_uffd(BLOCK_PAGES, nthreads, r);
}

/* --- the table ------------------------------------------------------------ */

enum {
	EXTPAGER_NETLINK_1,
	EXTPAGER_CHANNEL_1,
	UFFD_1,
	EXTPAGER_NETLINK_16,
	EXTPAGER_CHANNEL_16,
	UFFD_16,
	EXTPAGER_CACHED,
	TMPFS_CACHED,
	NR_CASES
};

static const struct bench_case {
	const char *name;
	const char *transport;	/* the table's column */
	int (*run)(int nthreads, struct result *r);
} cases[NR_CASES] = {
	[EXTPAGER_NETLINK_1]	= { "extpager 1-page",		NETLINK,   run_netlink_1 },
	[EXTPAGER_CHANNEL_1]	= { "extpager 1-page",		CHANNEL,   run_channel_1 },
	[UFFD_1]		= { "userfaultfd 1-page",	"-",	   run_uffd_1 },
	[EXTPAGER_NETLINK_16]	= { "extpager 16-page cluster",	NETLINK,   run_netlink_16 },
	[EXTPAGER_CHANNEL_16]	= { "extpager 16-page cluster",	CHANNEL,   run_channel_16 },
	[UFFD_16]		= { "userfaultfd 16-page",	"-",	   run_uffd_16 },
	[EXTPAGER_CACHED]	= { "extpager cached (minor)",	"default", run_extpager_cached },
	[TMPFS_CACHED]		= { "tmpfs cached (minor)",	"-",	   run_tmpfs_cached },
};

/* How each case runs: its rows, in this order. */
enum { ONE, TWO, PINNED, NR_VARIANTS };

static const struct variant {
	int nthreads;
	bool pinned;		/* every thread on CPU 0 */
} variants[NR_VARIANTS] = {
	[ONE]		= { 1, false },
	[TWO]		= { 2, false },
	[PINNED]	= { 1, true },
};

/*
 * What the ratio lines compare: a case and variant against another, by
 * their per-touch medians or (@rate) by touches per second, what
 * clustering saves being amortised over a run.  Those with a target come
 * last, so that the output ends with one line per target.
 */
static const struct ratio {
	const char *name;
	int num, num_v, den, den_v;
	bool rate;
	const char *op;		/* "<=" or ">=" @target; NULL: no target */
	double target;
} ratios[] = {
#define MEDIAN(name, num, num_v, den, den_v)	{ name, num, num_v, den, den_v, false, NULL, 0 }
#define RATE(name, num, num_v, den, den_v)	{ name, num, num_v, den, den_v, true, NULL, 0 }
	/* What a 1-page fault costs against userfaultfd's, and the channel's saving. */
	MEDIAN("netlink-1page/uffd-1page.median", EXTPAGER_NETLINK_1, ONE, UFFD_1, ONE),
	MEDIAN("netlink-1page/uffd-1page.median.2threads", EXTPAGER_NETLINK_1, TWO, UFFD_1, TWO),
	MEDIAN("netlink-1page/uffd-1page.median.pinned",
	       EXTPAGER_NETLINK_1, PINNED, UFFD_1, PINNED),
	MEDIAN("channel-1page/uffd-1page.median.2threads", EXTPAGER_CHANNEL_1, TWO, UFFD_1, TWO),
	MEDIAN("channel-1page/netlink-1page.median",
	       EXTPAGER_CHANNEL_1, ONE, EXTPAGER_NETLINK_1, ONE),
	MEDIAN("channel-1page/netlink-1page.median.pinned",
	       EXTPAGER_CHANNEL_1, PINNED, EXTPAGER_NETLINK_1, PINNED),
	/* What clustering gains. */
	RATE("netlink-16page/uffd-1page.per_s", EXTPAGER_NETLINK_16, ONE, UFFD_1, ONE),
	RATE("netlink-16page/uffd-1page.per_s.2threads", EXTPAGER_NETLINK_16, TWO, UFFD_1, TWO),
	RATE("channel-16page/uffd-1page.per_s.2threads", EXTPAGER_CHANNEL_16, TWO, UFFD_1, TWO),
	/* How 1-page faults scale to 2 threads, next to the channel's target. */
	RATE("netlink-1page.2threads/1thread.per_s",
	     EXTPAGER_NETLINK_1, TWO, EXTPAGER_NETLINK_1, ONE),
	RATE("uffd-1page.2threads/1thread.per_s", UFFD_1, TWO, UFFD_1, ONE),
	MEDIAN("extpager-cached/tmpfs-cached.median.2threads",
	       EXTPAGER_CACHED, TWO, TMPFS_CACHED, TWO),
#undef MEDIAN
#undef RATE
	/* The targets. */
	{ "channel-1page/uffd-1page.median",
	  EXTPAGER_CHANNEL_1, ONE, UFFD_1, ONE, false, "<=", 0.8 },
	{ "channel-1page/uffd-1page.median.pinned",
	  EXTPAGER_CHANNEL_1, PINNED, UFFD_1, PINNED, false, "<=", 0.8 },
	{ "channel-16page/uffd-1page.per_s",
	  EXTPAGER_CHANNEL_16, ONE, UFFD_1, ONE, true, ">=", 4 },
	{ "channel-1page.2threads/1thread.per_s",
	  EXTPAGER_CHANNEL_1, TWO, EXTPAGER_CHANNEL_1, ONE, true, ">=", 1.8 },
	{ "extpager-cached/tmpfs-cached.median",
	  EXTPAGER_CACHED, ONE, TMPFS_CACHED, ONE, false, "<=", 1.05 },
};

/* The median cost of the timer itself, which every touch includes. */
static double timer_overhead_us(void)
{
	enum { N = 4096 };
	static uint64_t d[N];
	int i;

	for (i = 0; i < N; i++) {
		uint64_t t0 = now_ns();

		d[i] = now_ns() - t0;
	}
	qsort(d, N, sizeof(d[0]), cmp_u64);
	return quantile(d, N, 0.5) / 1e3;
}

/*
 * Fail early, with the reason, if extpager, either forced transport,
 * userfaultfd or CPU 0 is missing.  A transport is tried on an object
 * closed at once: pager_serve() opens its channel, if any, before it
 * serves anything, and ends with the object.
 */
static int probe(void)
{
	static const char *const transports[] = { NETLINK, CHANNEL };
	struct pager_conn *conn;
	struct manager m;
	unsigned int i;
	int err, fd;

	err = pager_conn_open(&conn);
	if (err) {
		fprintf(stderr, "fault_bench: cannot talk to extpager: %s%s\n", strerror(-err),
			err == -ENOENT ? " (the module is not loaded)" :
			err == -EPROTONOSUPPORT ?
			" (module and libpager speak different protocol versions)" : "");
		return -1;
	}
	pager_conn_close(conn);
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (manager_start(&m, 1, transports[i]) || manager_stop(&m))
			return -1;
	fd = uffd_open();
	if (fd < 0) {
		perror("fault_bench: userfaultfd (syscall and /dev/userfaultfd)");
		return -1;
	}
	close(fd);
	if (pin_main(true) || pin_main(false))
		return -1;
	return 0;
}

/* FAULT_BENCH_ONLY=<prefix of "case transport">, to profile some rows. */
static bool selected(int c)
{
	const char *only = getenv("FAULT_BENCH_ONLY");
	char label[64];

	if (!only)
		return true;
	snprintf(label, sizeof(label), "%s %s", cases[c].name, cases[c].transport);
	return !strncmp(label, only, strlen(only));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *x)
{
	qsort(x, RUNS, sizeof(x[0]), cmp_double);
	return x[RUNS / 2];
}

/* The median of each figure over the runs, each figure on its own. */
static struct result median(const struct result *runs)
{
	double m[RUNS], p[RUNS], s[RUNS], u[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		m[i] = runs[i].median_us;
		p[i] = runs[i].p99_us;
		s[i] = runs[i].per_s;
		u[i] = runs[i].upcalls;
	}
	return (struct result){
		.median_us = median_of(m), .p99_us = median_of(p), .per_s = median_of(s),
		.upcalls = median_of(u), .have_upcalls = runs[0].have_upcalls,
	};
}

static void print_ratio(const struct ratio *q, struct result med[NR_CASES][NR_VARIANTS])
{
	const struct result *num = &med[q->num][q->num_v], *den = &med[q->den][q->den_v];
	double v = q->rate ? num->per_s / den->per_s : num->median_us / den->median_us;
	bool met;

	printf("ratio: %s %.3f", q->name, v);
	if (q->op) {
		met = !strcmp(q->op, "<=") ? v <= q->target : v >= q->target;
		printf(" (target %s %g): %s", q->op, q->target, met ? "met" : "NOT MET");
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct result runs[NR_CASES][NR_VARIANTS][RUNS];
	static struct result med[NR_CASES][NR_VARIANTS];
	struct utsname un;
	char upcalls[24];
	uint64_t start;
	unsigned int i;
	int c, v, n;

	page = sysconf(_SC_PAGESIZE);
	npages = argc == 2 ? strtoul(argv[1], NULL, 0) : DEFAULT_PAGES;
	/* Whole clusters per thread, so that no run straddles two threads. */
	if (argc > 2 || !npages || npages % (MAX_THREADS * BLOCK_PAGES)) {
		fprintf(stderr, "usage: %s [PAGES]   (a multiple of %d, default %d)\n",
			argv[0], MAX_THREADS * BLOCK_PAGES, DEFAULT_PAGES);
		return 2;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_getaffinity(0, sizeof(unpinned), &unpinned)) {
		perror("fault_bench: sched_getaffinity");
		return 1;
	}
	if (probe())
		return 1;

	uname(&un);
	printf("fault_bench: %zu pages of %zu KiB per row, %d runs of each row in turns, medians of the runs\n",
	       npages, page / 1024, RUNS);
	printf("fault_bench: kernel %s, %ld CPUs, timer %.3f us per touch (included)\n",
	       un.release, sysconf(_SC_NPROCESSORS_ONLN), timer_overhead_us());
	fflush(stdout);
	start = now_ns();
	for (n = 0; n < RUNS; n++) {
		for (c = 0; c < NR_CASES; c++) {
			if (!selected(c))
				continue;
			for (v = 0; v < NR_VARIANTS; v++) {
				if (pin_main(variants[v].pinned))
					return 1;
				if (cases[c].run(variants[v].nthreads, &runs[c][v][n])) {
					fprintf(stderr, "fault_bench: %s (%s), %d thread(s)%s, run %d: failed\n",
						cases[c].name, cases[c].transport,
						variants[v].nthreads,
						variants[v].pinned ? " on CPU 0" : "", n + 1);
					return 1;
				}
			}
		}
		/* Progress, on stderr: the table comes when all runs are done. */
		fprintf(stderr, "fault_bench: run %d of %d done, %.0f s\n", n + 1, RUNS,
			(now_ns() - start) / 1e9);
	}
	if (pin_main(false))
		return 1;

	printf("%-26s %-9s %7s %6s %10s %10s %12s %9s\n", "case", "transport", "threads",
	       "pinned", "median us", "p99 us", "faults/s", "upcalls");
	for (c = 0; c < NR_CASES; c++) {
		if (!selected(c))
			continue;
		for (v = 0; v < NR_VARIANTS; v++) {
			struct result *r = &med[c][v];

			*r = median(runs[c][v]);
			if (r->have_upcalls)
				snprintf(upcalls, sizeof(upcalls), "%llu",
					 (unsigned long long)r->upcalls);
			else
				snprintf(upcalls, sizeof(upcalls), "-");
			printf("%-26s %-9s %7d %6s %10.2f %10.2f %12.0f %9s\n", cases[c].name,
			       cases[c].transport, variants[v].nthreads,
			       variants[v].pinned ? "cpu0" : "-", r->median_us, r->p99_us,
			       r->per_s, upcalls);
		}
	}
	if (getenv("FAULT_BENCH_ONLY"))
		return 0;
	printf("\n");
	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
		print_ratio(&ratios[i], med);
	return 0;
}
