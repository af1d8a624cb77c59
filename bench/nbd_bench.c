// SPDX-License-Identifier: GPL-2.0
/*
 * nbd_bench: what reading an NBD export through nbdpager's mapping costs,
 * next to reading the same data with libnbd directly, from the same nbdkit
 * in the same VM run: the overhead extpager adds.
 *
 * nbdkit's memory plugin serves an export of SIZE bytes on a unix socket
 * in the guest's tmpfs, written all through first (so that it has no
 * holes, which nbdpager would answer without reading).  Each row reads
 * the export from its start, one unit after the other, into memory, and
 * times each unit with clock_gettime():
 *
 *   1-page     units of one page, over the first PAGES pages: the latency
 *              of one fault (nbdpager --cluster=1: every touch a request)
 *   16-page    units of 16 pages, over the whole export: sequential
 *              throughput (nbdpager's default --cluster=16, the mapping
 *              read end to end)
 *
 * and each row is read three ways:
 *
 *   libnbd pread         nbd_pread() of the unit, on a connection of its own
 *   libnbd status+pread  nbd_block_status() then nbd_pread() of the unit:
 *                        the two commands nbdpager sends for a fault
 *   nbdpager             build/daemons/nbdpager started on the export, its
 *                        object mapped; a unit is memcpy()d out of the
 *                        mapping (its first touch faults the run in); a
 *                        fresh nbdpager, so a fresh object, for every run
 *
 * Columns: the median and 99th percentile of the per-unit time in
 * microseconds, and MiB/s over the whole row (wall time).  Every row runs
 * RUNS times, the three ways taking turns, and each figure is the median
 * of its runs.  The "ratio:" lines are nbdpager's figures over libnbd's
 * (per-unit medians: above 1 is slower; MiB/s: below 1 is slower), against
 * plain pread and against the same two commands.
 *
 * Figures only compare within one run (under TCG the kernel's paths cost
 * more than user code).  Nothing is asserted: the program fails only when
 * something cannot be set up or a unit reads back wrong.
 *
 * Usage: nbd_bench [SIZE_MIB [PAGES]]   (32 and 1024)
 */
#include <libnbd.h>

#include "../selftests/helpers.h"

#define RUNS		5	/* of each row and way, in turns */
#define CLUSTER		16	/* the 16-page row's unit, nbdpager's default */

static size_t page;
static char dir[64];		/* the sockets' */
static char nbdkit_sock[96], pager_sock[96], uri[160];

struct result {
	double median_us, p99_us, mibs;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile of @n sorted samples: nearest rank. */
static uint64_t quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * n + 0.999999);

	return sorted[rank ? rank - 1 : 0];
}

/* Fill @r from @n per-unit times of @unit bytes, taking @total_ns in all. */
static void summarise(uint64_t *lat, size_t n, size_t unit, uint64_t total_ns,
		      struct result *r)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	r->median_us = quantile(lat, n, 0.5) / 1e3;
	r->p99_us = quantile(lat, n, 0.99) / 1e3;
	r->mibs = (double)n * unit / (1 << 20) / (total_ns / 1e9);
}

/* --- nbdkit ---------------------------------------------------------------- */

static pid_t nbdkit_pid;

/* nbdkit's memory plugin on nbdkit_sock; ready once it wrote its pid file. */
static int nbdkit_start(size_t size)
{
	char pidfile[96], sz[32];
	int i;

	snprintf(pidfile, sizeof(pidfile), "%s/nbdkit.pid", dir);
	snprintf(sz, sizeof(sz), "size=%zu", size);
	nbdkit_pid = fork();
	if (nbdkit_pid < 0)
		return -1;
	if (!nbdkit_pid) {
		execlp("nbdkit", "nbdkit", "-f", "-U", nbdkit_sock, "-P", pidfile,
		       "memory", sz, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {	/* 60 s: a slow guest */
		if (!access(pidfile, F_OK))
			return 0;
		if (waitpid(nbdkit_pid, NULL, WNOHANG) == nbdkit_pid) {
			fprintf(stderr, "nbd_bench: nbdkit did not start (is it installed?)\n");
			nbdkit_pid = 0;
			return -1;
		}
		usleep(100000);
	}
	fprintf(stderr, "nbd_bench: nbdkit did not start in 60 s\n");
	return -1;
}

static struct nbd_handle *nbd_connect(void)
{
	struct nbd_handle *h = nbd_create();

	if (h && nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) != -1 &&
	    nbd_connect_uri(h, uri) != -1)
		return h;
	fprintf(stderr, "nbd_bench: %s: %s\n", uri, nbd_get_error());
	nbd_close(h);
	return NULL;
}

/* The export's bytes: fill_pattern()'s, so that every unit can be checked. */
static int fill_export(size_t size)
{
	struct nbd_handle *h = nbd_connect();
	size_t off, chunk = 1 << 20;
	char *buf = malloc(chunk);
	int err = -1;

	if (!h || !buf)
		goto out;
	for (off = 0; off < size; off += chunk) {
		fill_pattern(buf, 7, off, chunk);
		if (nbd_pwrite(h, buf, chunk, off, 0) == -1) {
			fprintf(stderr, "nbd_bench: writing the export: %s\n", nbd_get_error());
			goto out;
		}
	}
	err = nbd_flush(h, 0) == -1 ? -1 : 0;
out:
	free(buf);
	nbd_close(h);
	return err;
}

/* --- the three ways -------------------------------------------------------- */

static int extent_seen(void *arg, const char *context, uint64_t offset, uint32_t *entries,
		       size_t nr_entries, int *error)
{
	return 0;
}

/*
 * Read @n units of @unit bytes from the export's start with libnbd, each
 * preceded by a block status if @status, into @buf.
 */
static int run_libnbd(bool status, size_t unit, size_t n, char *buf, uint64_t *lat,
		      uint64_t *total)
{
	struct nbd_handle *h = nbd_connect();
	nbd_extent_callback seen = { .callback = extent_seen };
	uint64_t start, t0;
	size_t i;

	if (!h)
		return -1;
	start = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if ((status && nbd_block_status(h, unit, i * unit, seen, 0) == -1) ||
		    nbd_pread(h, buf + i * unit, unit, i * unit, 0) == -1) {
			fprintf(stderr, "nbd_bench: libnbd: %s\n", nbd_get_error());
			nbd_close(h);
			return -1;
		}
		lat[i] = now_ns() - t0;
	}
	*total = now_ns() - start;
	nbd_close(h);
	return 0;
}

static int run_pread(size_t unit, size_t n, char *buf, uint64_t *lat, uint64_t *total)
{
	return run_libnbd(false, unit, n, buf, lat, total);
}

static int run_status_pread(size_t unit, size_t n, char *buf, uint64_t *lat, uint64_t *total)
{
	return run_libnbd(true, unit, n, buf, lat, total);
}

/* A fresh nbdpager with --cluster=@unit pages, its object mapped. */
static int run_nbdpager(size_t unit, size_t n, char *buf, uint64_t *lat, uint64_t *total)
{
	char cluster[32];
	char *argv[] = { "nbdpager", cluster, uri, pager_sock, NULL };
	struct daemon_proc dp;
	uint64_t size, start, t0;
	int fd, err = -1;
	size_t i;
	char *p;

	snprintf(cluster, sizeof(cluster), "--cluster=%zu", unit / page);
	if (daemon_spawn(&dp, argv) || !daemon_wait_line(&dp, "serving")) {
		fprintf(stderr, "nbd_bench: nbdpager did not start: %s\n", dp.all);
		daemon_stop(&dp, SIGKILL);
		return -1;
	}
	fd = daemon_object(pager_sock, &size);
	if (fd < 0) {
		fprintf(stderr, "nbd_bench: nbdpager's object: %s\n", strerror(-fd));
		goto out;
	}
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("nbd_bench: mmap");
		goto out;
	}
	start = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		memcpy(buf + i * unit, p + i * unit, unit);
		lat[i] = now_ns() - t0;
	}
	*total = now_ns() - start;
	munmap(p, size);
	err = 0;
out:
	if (daemon_stop(&dp, SIGTERM)) {
		fprintf(stderr, "nbd_bench: nbdpager did not stop cleanly: %s\n", dp.all);
		err = -1;
	}
	return err;
}

enum { PREAD, STATUS_PREAD, NBDPAGER, NR_WAYS };

static const struct way {
	const char *name;
	int (*run)(size_t unit, size_t n, char *buf, uint64_t *lat, uint64_t *total);
} ways[NR_WAYS] = {
	[PREAD]		= { "libnbd pread",		run_pread },
	[STATUS_PREAD]	= { "libnbd status+pread",	run_status_pread },
	[NBDPAGER]	= { "nbdpager",			run_nbdpager },
};

enum { ONE_PAGE, SEQUENTIAL, NR_ROWS };

static const char *const row_names[NR_ROWS] = {
	[ONE_PAGE]	= "1-page",
	[SEQUENTIAL]	= "16-page",
};

static double median_of(double *x)
{
	qsort(x, RUNS, sizeof(x[0]), cmp_double);
	return x[RUNS / 2];
}

static struct result median(const struct result *runs)
{
	double m[RUNS], p[RUNS], s[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		m[i] = runs[i].median_us;
		p[i] = runs[i].p99_us;
		s[i] = runs[i].mibs;
	}
	return (struct result){
		.median_us = median_of(m), .p99_us = median_of(p), .mibs = median_of(s),
	};
}

static void cleanup(void)
{
	char path[96];

	if (nbdkit_pid > 0) {
		kill(nbdkit_pid, SIGTERM);
		waitpid(nbdkit_pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/nbdkit.pid", dir);
	unlink(path);
	unlink(nbdkit_sock);
	unlink(pager_sock);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static struct result runs[NR_ROWS][NR_WAYS][RUNS];
	struct result med[NR_ROWS][NR_WAYS];
	size_t size, pages, unit[NR_ROWS], n[NR_ROWS];
	uint64_t *lat, total;
	int r, w, k, status = 1;
	char *buf;

	page = sysconf(_SC_PAGESIZE);
	size = (argc > 1 ? strtoul(argv[1], NULL, 0) : 32) << 20;
	pages = argc > 2 ? strtoul(argv[2], NULL, 0) : 1024;
	if (argc > 3 || !size || !pages || pages * page > size) {
		fprintf(stderr, "usage: %s [SIZE_MIB [PAGES]]   (32 and 1024; PAGES fit in SIZE)\n",
			argv[0]);
		return 2;
	}
	unit[ONE_PAGE] = page;
	n[ONE_PAGE] = pages;
	unit[SEQUENTIAL] = CLUSTER * page;
	n[SEQUENTIAL] = size / unit[SEQUENTIAL];
	buf = malloc(size);
	lat = malloc(n[ONE_PAGE] > n[SEQUENTIAL] ? n[ONE_PAGE] * sizeof(*lat) :
						      n[SEQUENTIAL] * sizeof(*lat));
	if (!buf || !lat) {
		fprintf(stderr, "nbd_bench: out of memory\n");
		return 1;
	}
	/* Written before timing, so that storing samples does not fault. */
	memset(buf, 0, size);
	memset(lat, 0, (n[ONE_PAGE] > n[SEQUENTIAL] ? n[ONE_PAGE] : n[SEQUENTIAL]) *
		       sizeof(*lat));

	snprintf(dir, sizeof(dir), "/tmp/nbd-bench-%d", getpid());
	if (mkdir(dir, 0700)) {
		perror("nbd_bench: mkdir");
		return 1;
	}
	snprintf(nbdkit_sock, sizeof(nbdkit_sock), "%s/nbdkit.sock", dir);
	snprintf(pager_sock, sizeof(pager_sock), "%s/nbdpager.sock", dir);
	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s", nbdkit_sock);
	if (nbdkit_start(size) || fill_export(size))
		goto out;

	printf("nbd_bench: nbdkit memory plugin, %zu MiB on a unix socket; 1-page row: %zu pages, "
	       "16-page row: the whole export; %d runs of each in turns, medians of the runs\n",
	       size >> 20, pages, RUNS);
	fflush(stdout);
	for (k = 0; k < RUNS; k++) {
		for (r = 0; r < NR_ROWS; r++) {
			for (w = 0; w < NR_WAYS; w++) {
				memset(buf, 0, n[r] * unit[r]);
				if (ways[w].run(unit[r], n[r], buf, lat, &total))
					goto out;
				if (!check_pattern(buf, 7, 0, n[r] * unit[r])) {
					fprintf(stderr, "nbd_bench: %s, %s: read back wrong\n",
						row_names[r], ways[w].name);
					goto out;
				}
				summarise(lat, n[r], unit[r], total, &runs[r][w][k]);
			}
		}
		fprintf(stderr, "nbd_bench: run %d of %d done\n", k + 1, RUNS);
	}

	printf("%-8s %-20s %10s %10s %10s\n", "row", "way", "median us", "p99 us", "MiB/s");
	for (r = 0; r < NR_ROWS; r++) {
		for (w = 0; w < NR_WAYS; w++) {
			med[r][w] = median(runs[r][w]);
			printf("%-8s %-20s %10.1f %10.1f %10.1f\n", row_names[r], ways[w].name,
			       med[r][w].median_us, med[r][w].p99_us, med[r][w].mibs);
		}
	}
	printf("\n");
	for (r = 0; r < NR_ROWS; r++) {
		printf("ratio: nbdpager/pread.%s.median %.3f\n", row_names[r],
		       med[r][NBDPAGER].median_us / med[r][PREAD].median_us);
		printf("ratio: nbdpager/status+pread.%s.median %.3f\n", row_names[r],
		       med[r][NBDPAGER].median_us / med[r][STATUS_PREAD].median_us);
		printf("ratio: nbdpager/pread.%s.mibs %.3f\n", row_names[r],
		       med[r][NBDPAGER].mibs / med[r][PREAD].mibs);
		printf("ratio: nbdpager/status+pread.%s.mibs %.3f\n", row_names[r],
		       med[r][NBDPAGER].mibs / med[r][STATUS_PREAD].mibs);
	}
	status = 0;
out:
	cleanup();
	free(buf);
	free(lat);
	return status;
}
