/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What dsmpager's tests share: a node (its nbdkit memory export as home
 * store, its dsmpager, its mapping of the object) and the writers and
 * checks of the cases, so that dsmpager_test (two nodes in one kernel)
 * and dsm_pair (one node in each of two guests, make check-dsm) test the
 * same things the same way.  Include after helpers.h.
 */
#ifndef EXTPAGER_SELFTEST_DSM_H
#define EXTPAGER_SELFTEST_DSM_H

struct dsm_node {
	pid_t nbdkit;
	char nbd_sock[64], nbd_pid[64], sock[64];
	struct daemon_proc dp;
	char *map;
	size_t size;
};

/* Name @n's files after @tag (unique on this machine). */
static inline void dsm_node_init(struct dsm_node *n, const char *tag)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->nbd_sock, sizeof(n->nbd_sock), "/tmp/dsm-%s.nbd", tag);
	snprintf(n->nbd_pid, sizeof(n->nbd_pid), "/tmp/dsm-%s.pid", tag);
	snprintf(n->sock, sizeof(n->sock), "/tmp/dsm-%s.sock", tag);
}

/* The node's home store: nbdkit's memory plugin on a unix socket. */
static inline int dsm_nbdkit(struct dsm_node *n)
{
	int i;

	unlink(n->nbd_sock);
	unlink(n->nbd_pid);
	n->nbdkit = fork();
	if (n->nbdkit < 0)
		return -errno;
	if (!n->nbdkit) {
		execlp("nbdkit", "nbdkit", "-f", "-U", n->nbd_sock, "-P", n->nbd_pid,
		       "memory", "16M", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {	/* 60 s: a slow guest */
		if (!access(n->nbd_pid, F_OK))
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

/*
 * Start node @id of membership @conf; it waits up to @wait_s for the
 * others.  dsm_map() then waits for it to serve.
 */
static inline int dsm_spawn(struct dsm_node *n, const char *conf, unsigned int id,
			    unsigned int wait_s)
{
	char config[96], node[16], store[96], wait[24];
	char *argv[] = { "dsmpager", config, node, store, wait, n->sock, NULL };

	snprintf(config, sizeof(config), "--config=%s", conf);
	snprintf(node, sizeof(node), "--node=%u", id);
	snprintf(store, sizeof(store), "--store=nbd+unix:///?socket=%s", n->nbd_sock);
	snprintf(wait, sizeof(wait), "--wait=%u", wait_s);
	return daemon_spawn(&n->dp, argv);
}

/*
 * Once the node serves, map its object (which must be @size bytes)
 * read-write in n->map.  -ENODEV: the daemon ended first (its output is
 * in n->dp.all).
 */
static inline int dsm_map(struct dsm_node *n, size_t size)
{
	uint64_t got;
	int fd;

	if (!daemon_wait_line(&n->dp, "serving"))
		return -ENODEV;
	fd = daemon_object(n->sock, &got);
	if (fd < 0)
		return fd;
	if (got != size) {
		close(fd);
		return -EINVAL;
	}
	n->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (n->map == MAP_FAILED) {
		n->map = NULL;
		return -errno;
	}
	n->size = size;
	return 0;
}

/* Unmap, stop the daemon cleanly (unless it is gone already), kill nbdkit. */
static inline void dsm_stop(struct dsm_node *n)
{
	if (n->map)
		munmap(n->map, n->size);
	n->map = NULL;
	if (n->dp.pid > 0)
		daemon_stop(&n->dp, SIGTERM);
	if (n->nbdkit > 0) {
		kill(n->nbdkit, SIGKILL);
		waitpid(n->nbdkit, NULL, 0);
	}
	n->nbdkit = 0;
	unlink(n->nbd_sock);
	unlink(n->nbd_pid);
}

/* The first page of [@off, @off + @len) that is not @seed's pattern, or -1. */
static inline long dsm_bad_page(const char *map, uint64_t seed, size_t off, size_t len,
				size_t page)
{
	size_t p;

	for (p = off; p < off + len; p += page)
		if (!check_pattern(map + p, seed, p, page))
			return p / page;
	return -1;
}

/* --- ping-pong: two writers take turns on one word ------------------------ */

struct dsm_writer {
	volatile uint64_t *word;
	uint64_t rounds;
	unsigned int parity;	/* writes when the count has it */
	uint64_t backwards;	/* the count went down */
	int done;
};

/*
 * Take turns: add one when the count has our parity, until it reaches
 * 2 * rounds (or 300 s pass: then the final count is short).
 */
static inline void *dsm_ping_pong(void *arg)
{
	struct dsm_writer *w = arg;
	uint64_t v, last = 0;
	double deadline = now_s() + 300;

	for (;;) {
		v = *w->word;
		if (v < last)
			w->backwards++;
		last = v;
		if (v >= 2 * w->rounds || now_s() > deadline)
			break;
		if (v % 2 == w->parity) {
			*w->word = v + 1;
			last = v + 1;
		} else {
			sched_yield();
		}
	}
	w->done = 1;
	return NULL;
}

/* --- false sharing: two counters in one page --------------------------------- */

struct dsm_half {
	volatile uint64_t *word;
	uint64_t rounds, lost;
};

/* Count up in our word; another node counts in the same page. */
static inline void *dsm_count_up(void *arg)
{
	struct dsm_half *h = arg;
	uint64_t i;

	for (i = 0; i < h->rounds; i++) {
		if (*h->word != i)
			h->lost++;
		*h->word = i + 1;
		if (i % 8 == 0)
			sched_yield();
	}
	return NULL;
}

/* --- a node killed mid-write ---------------------------------------------- */

/*
 * Write the round number into each of @pages pages at @map, msync them
 * (which returns once every page's home stored it), tell @acked, and
 * again, until killed.  Exits 1 if an msync fails.
 */
static inline void dsm_round_writer(char *map, size_t pages, size_t page,
				    void (*acked)(uint64_t round, void *arg), void *arg)
{
	uint64_t round;
	size_t p;

	for (round = 1;; round++) {
		for (p = 0; p < pages; p++)
			*(volatile uint64_t *)(map + p * page) = round;
		if (msync(map, pages * page, MS_SYNC))
			_exit(1);
		acked(round, arg);
	}
}

/*
 * After the writer and its node were killed, @done being the last round it
 * was told of: the first of every @step pages from @map's first (@pages in
 * all) that does not hold @done or the round after it (-1 if none), and
 * what it holds in *@held.  Less is a lost write the home acknowledged;
 * more, or anything else, is not what the writer wrote.
 */
static inline long dsm_bad_round(const char *map, size_t pages, size_t step, size_t page,
				 uint64_t done, uint64_t *held)
{
	size_t p;

	for (p = 0; p < pages; p += step) {
		*held = *(const volatile uint64_t *)(map + p * page);
		if (*held < done || *held > done + 1)
			return p;
	}
	return -1;
}

#endif /* EXTPAGER_SELFTEST_DSM_H */
