// SPDX-License-Identifier: GPL-2.0
/*
 * return_bench: what paging out costs when the pages go back to an
 * extpager manager, next to tmpfs paging out to swap, under the same
 * cgroup memory limit in the same VM run.
 *
 * Each case runs a client in a fresh cgroup with memory.high LIMIT (which
 * throttles and reclaims, where memory.max would OOM-kill tmpfs's swap-in
 * under TCG) that
 *
 *   write pass    writes every page of an object of SIZE bytes through a
 *                 MAP_SHARED mapping, then msync(MS_SYNC)s it: most pages
 *                 are evicted on the way, so the figure (MiB/s) is the
 *                 rate at which dirty data is paged out and acknowledged
 *   refault pass  then reads every page again: the evicted ones come back
 *                 (from the manager, or from swap); the figure is the
 *                 mean cost of one page in microseconds
 *
 *   extpager      the manager is a thread of this program (outside the
 *                 cgroup) storing returns in memory; missing pages are
 *                 zero-filled (DATA_UNAVAILABLE), cluster 16
 *   tmpfs+swap    a tmpfs file; the VM has a swap disk (make bench starts
 *                 it with --swap)
 *
 * Each case runs RUNS times, the two cases taking turns, and the ratio line
 * compares the median write passes (target: extpager at least 80% of
 * tmpfs+swap): under TCG, one tmpfs+swap pass may differ from the next by
 * half.  Figures are only comparable within one run.  Nothing is asserted;
 * the program fails only if something cannot be set up or a page reads
 * back wrong.
 *
 * Usage: return_bench [SIZE_MIB [LIMIT_MIB]]   (64 and 16)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../selftests/helpers.h"

#define RUNS	5	/* of each case */

static size_t page;

struct result {
	double write_mibs;	/* write pass, MiB/s */
	double sync_share;	/* of the write pass, the msync's */
	double refault_us;	/* refault pass, per page */
};

/*
 * Run the two passes over @fd (@size bytes) in a child in a fresh cgroup
 * limited to @limit bytes; the child sends its figures through a pipe.
 */
static int run_client(int fd, size_t size, size_t limit, struct result *r)
{
	char cg[PATH_MAX], text[32];
	int pfd[2], status;
	pid_t child;

	snprintf(text, sizeof(text), "%zu", limit);
	if (memcg_create_high(cg, sizeof(cg), "return-bench", text) || pipe(pfd))
		return -1;
	child = fork();
	if (!child) {
		struct result res;
		size_t off;
		double t, t_sync;
		char *p;

		if (memcg_enter(cg))
			_exit(2);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(3);
		t = now_s();
		for (off = 0; off < size; off += page)
			memset(p + off, (int)(off / page) | 1, page);
		t_sync = now_s();
		if (msync(p, size, MS_SYNC))
			_exit(4);
		res.sync_share = (now_s() - t_sync) / (now_s() - t);
		res.write_mibs = size / (1 << 20) / (now_s() - t);
		t = now_s();
		for (off = 0; off < size; off += page)
			if (p[off + page - 1] != (char)((off / page) | 1))
				_exit(5);
		res.refault_us = (now_s() - t) * 1e6 / (size / page);
		if (write(pfd[1], &res, sizeof(res)) != sizeof(res))
			_exit(6);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], r, sizeof(*r)) != sizeof(*r))
		r->write_mibs = -1;
	close(pfd[0]);
	waitpid(child, &status, 0);
	rmdir(cg);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || r->write_mibs < 0) {
		fprintf(stderr, "return_bench: client failed (status %#x)\n", status);
		return -1;
	}
	return 0;
}

/* The manager: returns stored in memory, missing pages zero-filled. */
struct store {
	char *data;
	char *stored;		/* per page: returned at least once */
};

static int store_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		      enum pager_access access, unsigned int *flags)
{
	struct store *s = pager_priv(pager);
	size_t i;

	for (i = 0; i < len; i += page)
		if (!s->stored[(offset + i) / page])
			return PAGER_UNAVAILABLE;	/* the first touch */
	memcpy(buf, s->data + offset, len);
	return 0;
}

static int store_write(struct pager *pager, uint64_t offset, size_t len,
		       const void *data, unsigned int flags)
{
	struct store *s = pager_priv(pager);

	memcpy(s->data + offset, data, len);
	memset(s->stored + offset / page, 1, len / page);
	return 0;
}

static const struct pager_ops store_ops = {
	.read	= store_read,
	.write	= store_write,
};

static int run_extpager(size_t size, size_t limit, struct result *r,
			uint64_t *returns, uint64_t *defaulted)
{
	struct pager_attr attr = { .cluster = 16 };
	struct store s = { .data = malloc(size), .stored = calloc(size / page, 1) };
	struct pager_conn *conn;
	struct pager_stats st;
	struct pager *pager;
	pthread_t server;
	int err;

	if (!s.data || !s.stored)
		return -1;
	memset(s.data, 0, size);	/* the manager's memory, outside the cgroup */
	err = pager_conn_open(&conn);
	if (!err)
		err = pager_create(conn, size, &store_ops, &attr, &s, &pager);
	if (err) {
		fprintf(stderr, "return_bench: extpager: %s (%s)\n", strerror(-err),
			pager_conn_error());
		return -1;
	}
	pthread_create(&server, NULL, serve_thread, conn);
	err = run_client(pager_fd(pager), size, limit, r);
	if (!err && !pager_stats(pager, &st)) {
		*returns = st.returns;
		*defaulted = st.defaulted;
	}
	close(pager_fd(pager));
	pthread_join(server, NULL);
	pager_conn_close(conn);
	free(s.data);
	free(s.stored);
	return err;
}

static int run_tmpfs(size_t size, size_t limit, struct result *r)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/dev/shm/return-bench-%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, size)) {
		perror("return_bench: tmpfs file");
		return -1;
	}
	unlink(path);
	err = run_client(fd, size, limit, r);
	close(fd);
	return err;
}

static long swap_total_kib(void)
{
	char line[256];
	long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SwapTotal: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of each figure over the runs, each figure on its own. */
static struct result median(const struct result *runs)
{
	double w[RUNS], s[RUNS], f[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		w[i] = runs[i].write_mibs;
		s[i] = runs[i].sync_share;
		f[i] = runs[i].refault_us;
	}
	qsort(w, RUNS, sizeof(w[0]), cmp_double);
	qsort(s, RUNS, sizeof(s[0]), cmp_double);
	qsort(f, RUNS, sizeof(f[0]), cmp_double);
	return (struct result){ w[RUNS / 2], s[RUNS / 2], f[RUNS / 2] };
}

static void print_result(const char *name, const struct result *r)
{
	printf("%-18s write pass %8.1f MiB/s   refault %8.1f us/page   msync %2.0f%% of the write pass",
	       name, r->write_mibs, r->refault_us, 100 * r->sync_share);
}

int main(int argc, char **argv)
{
	size_t size = (argc > 1 ? atol(argv[1]) : 64) << 20;
	size_t limit = (argc > 2 ? atol(argv[2]) : 16) << 20;
	uint64_t returns = 0, defaulted = 0;
	struct result ep[RUNS], tm[RUNS], ep_med, tm_med;
	char name[32];
	int i;

	page = sysconf(_SC_PAGESIZE);
	if (!size || !limit || size % page) {
		fprintf(stderr, "usage: return_bench [SIZE_MIB [LIMIT_MIB]]\n");
		return 2;
	}
	if (!swap_total_kib()) {
		fprintf(stderr, "return_bench: no swap in this VM (scripts/vm run --swap=SIZE)\n");
		return 1;
	}
	printf("return_bench: %zu MiB written and read back under memory.high %zu MiB, swap %ld MiB, %d runs of each case\n",
	       size >> 20, limit >> 20, swap_total_kib() >> 10, RUNS);
	for (i = 0; i < RUNS; i++) {
		if (run_extpager(size, limit, &ep[i], &returns, &defaulted) ||
		    run_tmpfs(size, limit, &tm[i]))
			return 1;
		snprintf(name, sizeof(name), "extpager (%d)", i + 1);
		print_result(name, &ep[i]);
		printf("   (%llu pages returned, %llu to the default pager)\n",
		       (unsigned long long)returns, (unsigned long long)defaulted);
		snprintf(name, sizeof(name), "tmpfs+swap (%d)", i + 1);
		print_result(name, &tm[i]);
		printf("\n");
		fflush(stdout);
	}
	ep_med = median(ep);
	tm_med = median(tm);
	print_result("extpager median", &ep_med);
	printf("\n");
	print_result("tmpfs+swap median", &tm_med);
	printf("\n");
	printf("ratio of the medians: extpager / tmpfs+swap write pass %.2f (target >= 0.80: %s); refault %.2fx the time\n",
	       ep_med.write_mibs / tm_med.write_mibs,
	       ep_med.write_mibs >= 0.8 * tm_med.write_mibs ? "met" : "NOT MET",
	       ep_med.refault_us / tm_med.refault_us);
	return 0;
}
