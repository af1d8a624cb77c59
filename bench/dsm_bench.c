// SPDX-License-Identifier: GPL-2.0
/*
 * dsm_bench: what daemons/dsmpager's coherence costs, between two guests
 * (scripts/vm pair) and, for comparison, between two nodes in one guest.
 *
 * Each node runs this program: it starts an nbdkit memory export as its
 * home store and a dsmpager (build/daemons/dsmpager) for its node of a
 * two-node configuration, and maps the object.  The two programs talk over
 * a TCP connection of their own (node 0 listens, node 1 connects), which
 * carries the barriers and the results, never the grid's data: the DSM
 * carries that.  Two measurements, RUNS times each, taking turns:
 *
 *   ping-pong  a count in one page, incremented by node 0 when even and by
 *              node 1 when odd (as dsmpager_test's ping_pong): every
 *              increment needs the page from the other node.  Node 0 times
 *              each of its round trips; a transfer is half of one.  For
 *              scale, the round trip of 8 bytes, and of a page answered
 *              by 8 bytes, over the control connection (plain TCP between
 *              the same two kernels).
 *   jacobi     Jacobi relaxation over a DIM x DIM grid of doubles, one row
 *              per page, two grids in the object swapped each iteration,
 *              ITERS iterations with a barrier after each.  "1 node": node
 *              0 computes every row (still through dsmpager; node 1 only
 *              serves its home pages); "2 nodes": each node its half of the
 *              rows, so the rows at the border move every iteration.  Both
 *              are timed from the first iteration to the last barrier, by
 *              node 0; "in memory" is the same code on malloc()ed grids.
 *              After each run, both nodes hash the whole final grid through
 *              their mappings; every hash must equal the in-memory run's,
 *              or the program fails.
 *
 * Every figure is the median of its RUNS runs.  Nothing about speed is
 * asserted: the program fails only when something cannot be set up, a
 * peer goes away, or a grid's hash is wrong.
 *
 * Roles: in a guest of `scripts/vm pair`, from EPVM_NODE, EPVM_ADDR and
 * EPVM_PEER_ADDR: node 0 first runs the whole benchmark with both nodes
 * in its own guest on 127.0.0.1 (the "one guest" column; node 1's guest
 * waits meanwhile), then between the guests, and prints both.  With
 * --local (no pair needed), the one-guest column only.
 *
 * Usage: dsm_bench [--local] [ROUNDS [ITERS]]   (200 round trips, 100 iterations)
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "../selftests/helpers.h"
#include "../selftests/dsm.h"

#define RUNS		5	/* of each measurement, in turns */
#define DIM		512	/* the grid's rows and columns */
#define CTL_PORT	7000	/* between guests: the control connection */
#define DSM_PORT	7001	/* and node i's dsmpager, DSM_PORT + i */
#define WAIT_S		1800	/* for the peer: node 0 runs the one-guest column first */

static size_t page, stride;	/* bytes per row: a page or more */
static unsigned int rounds = 200, iters = 100;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile of @n values, sorted in place: nearest rank. */
static double quantile(double *v, size_t n, double q)
{
	size_t rank = (size_t)(q * n + 0.999999);

	qsort(v, n, sizeof(*v), cmp_double);
	return v[rank ? rank - 1 : 0];
}

/* --- the control connection ---------------------------------------------- */

static int ctl = -1;

static int send_all(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(ctl, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int recv_all(void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = recv(ctl, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Both nodes got here: each says so and hears the other. */
static int barrier(void)
{
	char c = 'b';

	if (send_all(&c, 1) || recv_all(&c, 1) || c != 'b') {
		fprintf(stderr, "dsm_bench: the other node went away\n");
		return -1;
	}
	return 0;
}

/* Node 0 listens on @addr:@port, node 1 connects (for up to WAIT_S s). */
static int ctl_open(unsigned int node, const char *addr, unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, s, i;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "dsm_bench: not an IPv4 address: %s\n", addr);
		return -1;
	}
	if (!node) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1)) {
			fprintf(stderr, "dsm_bench: listening on %s:%u: %s\n", addr, port,
				strerror(errno));
			return -1;
		}
		ctl = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		close(s);
	} else {
		for (i = 0; i < WAIT_S * 10; i++) {
			ctl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (ctl < 0 || !connect(ctl, (struct sockaddr *)&sa, sizeof(sa)))
				break;
			close(ctl);
			ctl = -1;
			usleep(100000);
		}
	}
	if (ctl < 0) {
		fprintf(stderr, "dsm_bench: no connection to node 0 at %s:%u\n", addr, port);
		return -1;
	}
	/* Barriers and round trips are single small messages: no batching. */
	setsockopt(ctl, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* --- one node: its store, its dsmpager, the object ------------------------ */

struct setup {
	unsigned int node;
	const char *addr[2];	/* each node's, as the other reaches it */
	unsigned int ctl_port, dsm_port;
};

/* The membership file of this node's dsmpager. */
static char conf[64];

/* This node's store, dsmpager and mapping, as the selftests start them. */
static int node_start(const struct setup *su, struct dsm_node *n)
{
	/* The two grids, then the ping-pong page, rounded up to a MiB. */
	size_t size = ((2 * DIM * stride + page) + (1 << 20) - 1) & ~(size_t)((1 << 20) - 1);
	char tag[32];
	FILE *f;
	int i, err;

	snprintf(tag, sizeof(tag), "bench-%d", getpid());
	dsm_node_init(n, tag);
	snprintf(conf, sizeof(conf), "/tmp/dsm-%s.conf", tag);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "size %zu\n", size);
	for (i = 0; i < 2; i++)
		fprintf(f, "node %d %s:%u\n", i, su->addr[i], su->dsm_port + i);
	if (fclose(f))
		return -1;
	if (dsm_nbdkit(n)) {
		fprintf(stderr, "dsm_bench: nbdkit did not start in 60 s (is it installed?)\n");
		return -1;
	}
	err = dsm_spawn(n, conf, su->node, 300);
	err = err ?: dsm_map(n, size);
	if (err) {
		fprintf(stderr, "dsm_bench: node %u: dsmpager: %s\n%s", su->node, strerror(-err),
			n->dp.all);
		return -1;
	}
	return 0;
}

static void node_stop(struct dsm_node *n)
{
	dsm_stop(n);
	unlink(conf);
}

/* --- jacobi ---------------------------------------------------------------- */

static double *row(char *grid, unsigned int r)
{
	return (double *)(grid + (size_t)r * stride);
}

/* The fixed edges (a hot top row), and an interior that is not uniform. */
static double initial(unsigned int r, unsigned int c)
{
	if (!r)
		return 1.0;
	if (!c)
		return 0.5;
	return (double)((r * 31 + c * 17) % 101) / 101.0;
}

static void grid_init(char *grid, unsigned int lo, unsigned int hi)
{
	unsigned int r, c;

	for (r = lo; r < hi; r++)
		for (c = 0; c < DIM; c++)
			row(grid, r)[c] = initial(r, c);
}

/* Rows [@lo, @hi) of @out from @in; edges (row 0, DIM - 1, columns) stay. */
static void relax(char *in, char *out, unsigned int lo, unsigned int hi)
{
	unsigned int r, c;

	if (lo < 1)
		lo = 1;
	if (hi > DIM - 1)
		hi = DIM - 1;
	for (r = lo; r < hi; r++) {
		const double *up = row(in, r - 1), *mid = row(in, r), *down = row(in, r + 1);
		double *o = row(out, r);

		for (c = 1; c < DIM - 1; c++)
			o[c] = 0.25 * (up[c] + down[c] + mid[c - 1] + mid[c + 1]);
	}
}

/* FNV-1a over the grid's values: the same only if every bit is. */
static uint64_t grid_hash(char *grid)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	unsigned int r;
	size_t i;

	for (r = 0; r < DIM; r++) {
		p = (const unsigned char *)row(grid, r);
		for (i = 0; i < DIM * sizeof(double); i++)
			h = (h ^ p[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* The plain run: its time in seconds, its hash in *@hash. */
static double jacobi_memory(uint64_t *hash)
{
	char *g[2];
	double t;
	unsigned int it;

	g[0] = aligned_alloc(page, DIM * stride);
	g[1] = aligned_alloc(page, DIM * stride);
	if (!g[0] || !g[1]) {
		fprintf(stderr, "dsm_bench: out of memory\n");
		exit(1);
	}
	grid_init(g[0], 0, DIM);
	grid_init(g[1], 0, DIM);
	t = now_s();
	for (it = 0; it < iters; it++)
		relax(g[it % 2], g[1 - it % 2], 0, DIM);
	t = now_s() - t;
	*hash = grid_hash(g[iters % 2]);
	free(g[0]);
	free(g[1]);
	return t;
}

/*
 * Run Jacobi on @workers nodes (1: node 0 does every row) over the object
 * at @map; check both nodes' hashes against @want.  Node 0's time in
 * seconds in *@secs.
 */
static int jacobi_dsm(unsigned int node, char *map, unsigned int workers, uint64_t want,
		      double *secs)
{
	char *g[2] = { map, map + DIM * stride };
	unsigned int lo, hi, it;
	uint64_t mine, theirs;
	double t;

	if (workers == 1) {
		lo = 0;
		hi = node ? 0 : DIM;
	} else {
		lo = node ? DIM / 2 : 0;
		hi = node ? DIM : DIM / 2;
	}
	/* Each node first writes its rows, so that it starts as their owner. */
	grid_init(g[0], lo, hi);
	grid_init(g[1], lo, hi);
	if (barrier())
		return -1;
	t = now_s();
	for (it = 0; it < iters; it++) {
		relax(g[it % 2], g[1 - it % 2], lo, hi);
		/* One worker needs no one's rows: no barrier to pay for. */
		if (workers > 1 && barrier())
			return -1;
	}
	*secs = now_s() - t;
	/* The idle node waits for the last row before it reads the grid. */
	if (workers == 1 && barrier())
		return -1;
	mine = grid_hash(g[iters % 2]);
	/* Both done reading before the next run writes. */
	if (barrier())
		return -1;
	if (node)
		return send_all(&mine, sizeof(mine));
	if (recv_all(&theirs, sizeof(theirs))) {
		fprintf(stderr, "dsm_bench: the other node went away\n");
		return -1;
	}
	if (mine != want || theirs != want) {
		fprintf(stderr, "dsm_bench: jacobi on %u node%s: grid hash %016llx on node 0, "
			"%016llx on node 1, %016llx in memory\n", workers, workers > 1 ? "s" : "",
			(unsigned long long)mine, (unsigned long long)theirs,
			(unsigned long long)want);
		return -1;
	}
	return 0;
}

/* --- ping-pong and TCP ----------------------------------------------------- */

/*
 * Run @k: the count goes from 2 * rounds * k to 2 * rounds * (k + 1).
 * Node 0 puts the times of its rounds - 1 round trips, in µs, in @rt.
 */
static int ping_pong(unsigned int node, volatile uint64_t *word, unsigned int k, double *rt)
{
	uint64_t v, end = 2ull * rounds * (k + 1);
	double t, last = 0;
	unsigned int n = 0;

	if (barrier())
		return -1;
	for (;;) {
		v = *word;
		if (v >= end)
			break;
		if (v % 2 != node) {
			usleep(50);
			continue;
		}
		if (!node) {
			t = now_s();
			if (last)
				rt[n++] = (t - last) * 1e6;
			last = t;
		}
		*word = v + 1;
	}
	return barrier();
}

/* Node 0 times @rounds round trips of @len bytes, answered by 8 (µs, in @rt). */
static int tcp_rtt(unsigned int node, size_t len, double *rt)
{
	static char buf[1 << 16];
	uint64_t ack = 0;
	unsigned int i;
	double t;

	for (i = 0; i < rounds; i++) {
		if (!node) {
			t = now_s();
			if (send_all(buf, len) || recv_all(&ack, sizeof(ack)))
				return -1;
			rt[i] = (now_s() - t) * 1e6;
		} else if (recv_all(buf, len) || send_all(&ack, sizeof(ack))) {
			return -1;
		}
	}
	return 0;
}

/* --- a whole session: both measurements, RUNS times --------------------------- */

enum { PP, TCP8, TCPPAGE, NR_LAT };
enum { MEM, ONE, TWO, NR_JAC };

struct figures {
	double med[NR_LAT], p90[NR_LAT];	/* µs: per transfer, per round trip */
	double jac[NR_JAC];			/* s */
};

static const char *const lat_names[NR_LAT] = {
	[PP]		= "ping-pong, per transfer",
	[TCP8]		= "tcp round trip, 8 B",
	[TCPPAGE]	= "tcp round trip, page + 8 B",
};

static const char *const jac_names[NR_JAC] = {
	[MEM]	= "in memory, no DSM",
	[ONE]	= "1 node",
	[TWO]	= "2 nodes",
};

static double median_runs(double *x)
{
	return quantile(x, RUNS, 0.5);
}

/* This node's part of every run; node 0 fills @fig. */
static int session(const struct setup *su, uint64_t want, struct figures *fig)
{
	double runs_med[NR_LAT][RUNS], runs_p90[NR_LAT][RUNS], runs_jac[NR_JAC][RUNS];
	double *rt = calloc(rounds, sizeof(*rt));
	struct dsm_node ns = { 0 };
	uint64_t hash;
	int k, i, err = -1;

	if (!rt || ctl_open(su->node, su->addr[0], su->ctl_port))
		goto out_free;
	if (node_start(su, &ns))
		goto out;
	for (k = 0; k < RUNS; k++) {
		if (ping_pong(su->node, (volatile uint64_t *)(ns.map + 2 * DIM * stride), k, rt))
			goto out;
		if (!su->node) {
			/* Half of each round trip; one round trip fewer than writes. */
			for (i = 0; i < (int)rounds - 1; i++)
				rt[i] /= 2;
			runs_med[PP][k] = quantile(rt, rounds - 1, 0.5);
			runs_p90[PP][k] = quantile(rt, rounds - 1, 0.9);
		}
		if (tcp_rtt(su->node, 8, rt))
			goto out;
		if (!su->node) {
			runs_med[TCP8][k] = quantile(rt, rounds, 0.5);
			runs_p90[TCP8][k] = quantile(rt, rounds, 0.9);
		}
		if (tcp_rtt(su->node, page, rt))
			goto out;
		if (!su->node) {
			runs_med[TCPPAGE][k] = quantile(rt, rounds, 0.5);
			runs_p90[TCPPAGE][k] = quantile(rt, rounds, 0.9);
			runs_jac[MEM][k] = jacobi_memory(&hash);
			if (hash != want) {
				fprintf(stderr, "dsm_bench: jacobi in memory is not deterministic\n");
				goto out;
			}
		}
		if (jacobi_dsm(su->node, ns.map, 1, want, &runs_jac[ONE][k]) ||
		    jacobi_dsm(su->node, ns.map, 2, want, &runs_jac[TWO][k]))
			goto out;
		if (!su->node)
			fprintf(stderr, "dsm_bench: run %d of %d done\n", k + 1, RUNS);
	}
	if (!su->node) {
		for (i = 0; i < NR_LAT; i++) {
			fig->med[i] = median_runs(runs_med[i]);
			fig->p90[i] = median_runs(runs_p90[i]);
		}
		for (i = 0; i < NR_JAC; i++)
			fig->jac[i] = median_runs(runs_jac[i]);
	}
	/* Stop together: a dsmpager returns its dirty pages to the other's home. */
	err = barrier();
out:
	node_stop(&ns);
	close(ctl);
	ctl = -1;
out_free:
	free(rt);
	return err;
}

/* Both nodes in this guest, on 127.0.0.1: node 1 in a child. */
static int session_local(uint64_t want, struct figures *fig)
{
	unsigned int base = 20000 + getpid() % 20000;
	struct setup su = {
		.addr = { "127.0.0.1", "127.0.0.1" }, .ctl_port = base, .dsm_port = base + 1,
	};
	int status, err;
	pid_t child;

	fflush(NULL);
	child = fork();
	if (child < 0)
		return -1;
	if (!child) {
		su.node = 1;
		_exit(session(&su, want, NULL) ? 1 : 0);
	}
	err = session(&su, want, fig);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		err = -1;
	return err;
}

static void print_figures(const char *where[], struct figures *fig[], int n)
{
	int i, w;

	printf("%-30s", "latency, us: median / p90");
	for (w = 0; w < n; w++)
		printf(" %21s", where[w]);
	printf("\n");
	for (i = 0; i < NR_LAT; i++) {
		printf("%-30s", lat_names[i]);
		for (w = 0; w < n; w++)
			printf(" %10.1f %10.1f", fig[w]->med[i], fig[w]->p90[i]);
		printf("\n");
	}
	printf("jacobi %ux%u, %u iterations, s\n", DIM, DIM, iters);
	for (i = 0; i < NR_JAC; i++) {
		printf("  %-28s", jac_names[i]);
		for (w = 0; w < n; w++)
			printf(" %21.3f", fig[w]->jac[i]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct figures local, pair, *figs[2] = { &local, &pair };
	const char *where[2] = { "one guest", "two guests" };
	const char *env_node = getenv("EPVM_NODE");
	struct setup su = { .ctl_port = CTL_PORT, .dsm_port = DSM_PORT };
	bool only_local = argc > 1 && !strcmp(argv[1], "--local");
	uint64_t want;
	double t_mem;

	if (only_local) {
		argc--;
		argv++;
	}
	if (argc > 1)
		rounds = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		iters = strtoul(argv[2], NULL, 0);
	if (argc > 3 || rounds < 2 || !iters ||
	    (!only_local && (!env_node || !getenv("EPVM_ADDR") || !getenv("EPVM_PEER_ADDR")))) {
		fprintf(stderr, "usage: %s [--local] [ROUNDS [ITERS]]   (200 and 100; ROUNDS >= 2)\n"
			"in a guest of scripts/vm pair (EPVM_NODE, EPVM_ADDR, EPVM_PEER_ADDR),\n"
			"or with --local: both nodes in this machine\n", argv[0]);
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	stride = (DIM * sizeof(double) + page - 1) & ~(page - 1);
	/* The figure every DSM run's grid must match, bit for bit. */
	t_mem = jacobi_memory(&want);

	if (!only_local) {
		su.node = strtoul(env_node, NULL, 0);
		su.addr[su.node] = getenv("EPVM_ADDR");
		su.addr[!su.node] = getenv("EPVM_PEER_ADDR");
		if (su.node > 1) {
			fprintf(stderr, "dsm_bench: EPVM_NODE is 0 or 1, not %s\n", env_node);
			return 2;
		}
		if (su.node)
			return session(&su, want, NULL) ? 1 : 0;
	}
	printf("dsm_bench: two dsmpager nodes, nbdkit memory stores; ping-pong %u round trips, "
	       "jacobi %ux%u doubles (a row a page), %u iterations (%.3f s in memory); "
	       "%d runs in turns, medians of the runs\n", rounds, DIM, DIM, iters, t_mem, RUNS);
	fprintf(stderr, "dsm_bench: both nodes in this guest, over 127.0.0.1\n");
	if (session_local(want, &local))
		return 1;
	if (!only_local) {
		fprintf(stderr, "dsm_bench: node 0 at %s, node 1 at %s\n", su.addr[0], su.addr[1]);
		if (session(&su, want, &pair))
			return 1;
	}
	printf("jacobi grid hash %016llx: both nodes', after every run, equal the in-memory run's\n",
	       (unsigned long long)want);
	print_figures(where, figs, only_local ? 1 : 2);
	printf("\n");
	printf("ratio: ping-pong transfer/tcp-rtt one-guest %.3f\n",
	       local.med[PP] / local.med[TCP8]);
	printf("ratio: jacobi speedup 2-nodes/1-node one-guest %.3f\n", local.jac[ONE] / local.jac[TWO]);
	if (only_local)
		return 0;
	printf("ratio: ping-pong transfer/tcp-rtt two-guests %.3f\n", pair.med[PP] / pair.med[TCP8]);
	printf("ratio: ping-pong transfer two-guests/one-guest %.3f\n", pair.med[PP] / local.med[PP]);
	printf("ratio: jacobi speedup 2-guests/1-guest %.3f\n", pair.jac[ONE] / pair.jac[TWO]);
	return 0;
}
