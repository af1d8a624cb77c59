// SPDX-License-Identifier: GPL-2.0
/*
 * One node of make check-dsm: dsmpager across two kernels.  Each guest of
 * `scripts/vm pair` runs this (through selftests/dsm/run.sh) as node
 * $EPVM_NODE: its own nbdkit memory export as home store, its dsmpager
 * joined over TCP to the other guest's, the object mapped here.  The two
 * programs agree on what to do next through files in $EPVM_PAIR_DIR, a
 * directory both guests see (barriers, and each case's verdict).  The
 * cases are dsmpager_test's, on two kernels (selftests/dsm.h):
 *
 *  1. a pattern written on node 0 is read on node 1, then the other way;
 *  2. the two nodes ping-pong one count: never backwards, none lost;
 *  3. false sharing: each counts in its half of one page, no update lost;
 *  4. node 1's writer and dsmpager are killed mid-write: node 0's home
 *     pages hold the last round node 1's msync returned for (or the next),
 *     and node 1's home pages fail with SIGBUS.
 *
 * A case fails if either node's checks fail.  Node 0 prints the TAP for
 * both and the closing "N passed, M failed, K skipped" line; node 1 prints
 * its findings as comments.  Both exit non-zero if a case failed.
 *
 * Environment: EPVM_NODE (0 or 1), EPVM_ADDR and EPVM_PEER_ADDR (this
 * node's address and the other's; node i listens on port DSM_PORT + i,
 * default 7300, so that both may be 127.0.0.1), EPVM_PAIR_DIR;
 * DSM_TIMEOUT, the seconds to wait at a barrier (default 600: two guests
 * under TCG on a loaded host can be minutes apart).
 */
#include <stdarg.h>

#include "helpers.h"
#include "dsm.h"

#define NODES		2
#define SIZE		(2u << 20)
/* Small: under TCG every turn crosses two guests' network stacks. */
#define PING_PONG	100
#define COUNTS		100
/* Case 4's pages: the writer's, past those the other cases use. */
#define KILL_FIRST	64
#define KILL_PAGES	32

static unsigned int self, peer;
static const char *dir;
static unsigned int timeout_s = 600;
static size_t page;
static struct dsm_node node;
static char conf[80];

/* The current case's first failure on this node, or "". */
static char why[512];
/* Something this node cannot go on from: the peer is gone or stuck. */
static bool broken;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# node %u: ", self);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

/* The case fails, for this reason (the first one given is kept). */
static void fail(const char *fmt, ...)
{
	char msg[sizeof(why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("%s", msg);
	if (!why[0])
		snprintf(why, sizeof(why), "%s", msg);
}

static void path_of(char *buf, size_t len, const char *name, unsigned int node)
{
	snprintf(buf, len, "%s/%s.%u", dir, name, node);
}

/* Post barrier @name with @text: written aside, then renamed, so whole. */
static int post(const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	path_of(path, sizeof(path), name, self);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, path)) {
		say("cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Wait for the peer's barrier @name, its text in @text (of @len bytes), or
 * for @stop() to say there is no point (if not NULL).  The peer giving up
 * (its "abort") or the timeout is fatal to the run.  0, 1 if stopped,
 * -errno.
 */
static int await(const char *name, char *text, size_t len, bool (*stop)(void))
{
	char path[PATH_MAX], gone[PATH_MAX], buf[512] = "";
	double deadline = now_s() + timeout_s;
	FILE *f;
	size_t n;

	path_of(path, sizeof(path), name, peer);
	path_of(gone, sizeof(gone), "abort", peer);
	while (access(path, F_OK)) {
		if (!access(gone, F_OK)) {
			f = fopen(gone, "r");
			n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
			buf[n] = '\0';
			if (f)
				fclose(f);
			fail("node %u gave up (%s), waiting at barrier '%s'", peer, buf, name);
			broken = true;
			return -ECONNABORTED;
		}
		if (stop && stop())
			return 1;
		if (now_s() > deadline) {
			fail("timed out after %u s waiting for node %u at barrier '%s' (%s)",
			     timeout_s, peer, name, path);
			broken = true;
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	if (text) {
		f = fopen(path, "r");
		n = f ? fread(text, 1, len - 1, f) : 0;
		text[n] = '\0';
		if (f)
			fclose(f);
	}
	return 0;
}

/* Both nodes reach barrier @name. */
static int meet(const char *name)
{
	if (broken)
		return -ECONNABORTED;
	return post(name, "") ?: await(name, NULL, 0, NULL);
}

/* --- the cases -------------------------------------------------------------- */

static uint64_t *word(size_t off)
{
	return (uint64_t *)(node.map + off);
}

static void case_pattern(void)
{
	long bad;

	/* Untouched: zeros, from either home. */
	if (*word(0) || *word(page))
		fail("untouched pages 0 and 1 are not zeros");
	if (meet("pattern-zeros"))
		return;
	if (self == 0)
		fill_pattern(node.map, 21, 0, SIZE);
	if (meet("pattern-written"))
		return;
	if (self == 1) {
		bad = dsm_bad_page(node.map, 21, 0, SIZE, page);
		if (bad >= 0)
			fail("page %ld is not what node 0 wrote", bad);
		fill_pattern(node.map, 22, 0, SIZE / 2);
	}
	if (meet("pattern-rewritten"))
		return;
	if (self == 0) {
		bad = dsm_bad_page(node.map, 22, 0, SIZE / 2, page);
		if (bad >= 0)
			fail("page %ld is not what node 1 wrote over it", bad);
		bad = dsm_bad_page(node.map, 21, SIZE / 2, SIZE / 2, page);
		if (bad >= 0)
			fail("page %ld is no longer what node 0 wrote", bad);
	}
}

static void case_ping_pong(void)
{
	struct dsm_writer w = { .word = word(0), .rounds = PING_PONG, .parity = self };

	if (self == 0)
		*w.word = 0;
	if (meet("ping-pong-ready"))
		return;
	dsm_ping_pong(&w);
	if (w.backwards)
		fail("the count went backwards %llu times", (unsigned long long)w.backwards);
	if (meet("ping-pong-done"))
		return;
	if (*w.word != 2 * PING_PONG)
		fail("the count ended at %llu, not %u", (unsigned long long)*w.word,
		     2 * PING_PONG);
}

static void case_false_sharing(void)
{
	size_t off = 3 * page;
	struct dsm_half h = { .word = word(off + self * page / 2), .rounds = COUNTS };
	unsigned int i;

	if (self == 0)
		*word(off) = *word(off + page / 2) = 0;
	if (meet("false-sharing-ready"))
		return;
	dsm_count_up(&h);
	if (h.lost)
		fail("%llu of this node's updates were undone", (unsigned long long)h.lost);
	if (meet("false-sharing-done"))
		return;
	for (i = 0; i < NODES; i++)
		if (*word(off + i * page / 2) != COUNTS)
			fail("node %u's half holds %llu, not %u", i,
			     (unsigned long long)*word(off + i * page / 2), COUNTS);
}

/* The writer's last acknowledged round, where node 0 reads it. */
static void record_round(uint64_t round, void *arg)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/acked", dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)round) < 0 || fclose(f) ||
	    rename(tmp, path))
		_exit(2);
}

static uint64_t acked_round(void)
{
	char path[PATH_MAX];
	unsigned long long round = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/acked", dir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &round) != 1)
			round = 0;
		fclose(f);
	}
	return round;
}

static pid_t writer;

/* Node 1's writer ended by itself: node 0 need not wait for round 3. */
static bool writer_ended(void)
{
	int status;

	if (waitpid(writer, &status, WNOHANG) != writer)
		return false;
	writer = 0;
	fail("the writer ended before it was killed (%s %d: an msync failed, or its record)",
	     WIFEXITED(status) ? "exit" : "signal",
	     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return true;
}

/* Node 1's writer stored three rounds, or ended without. */
static bool writer_done(void)
{
	char path[PATH_MAX];

	if (acked_round() >= 3)
		return true;
	path_of(path, sizeof(path), "kill-killed", peer);
	return !access(path, F_OK);
}

static void kill_node1(void)
{
	if (post("kill-ready", "") || await("kill-ready", NULL, 0, NULL))
		return;
	writer = fork();
	if (writer < 0) {
		fail("fork: %s", strerror(errno));
		post("kill-killed", "");
		return;
	}
	if (!writer)
		dsm_round_writer(node.map + KILL_FIRST * page, KILL_PAGES, page,
				 record_round, NULL);
	/* Until node 0 says so, or the writer fails. */
	if (await("kill-now", NULL, 0, writer_ended) < 0)
		return;
	kill(node.dp.pid, SIGKILL);
	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
	daemon_wait(&node.dp);
	say("killed the writer and dsmpager after round %llu was stored",
	    (unsigned long long)acked_round());
	post("kill-killed", "");
}

static void check_node0(void)
{
	char *m = node.map + KILL_FIRST * page;
	uint64_t done, held = 0;
	long bad;

	if (post("kill-ready", "") || await("kill-ready", NULL, 0, NULL))
		return;
	/* Three rounds stored, then the kill, most likely mid-round. */
	if (await("kill-killed", NULL, 0, writer_done) < 0)
		return;
	post("kill-now", "");
	if (await("kill-killed", NULL, 0, NULL))
		return;
	done = acked_round();
	if (done < 3) {
		fail("node 1 stored %llu rounds, not 3", (unsigned long long)done);
		return;
	}
	bad = dsm_bad_round(m, KILL_PAGES, NODES, page, done, &held);
	if (bad >= 0)
		fail("page %ld holds round %llu; round %llu was stored at its home (here)",
		     KILL_FIRST + bad, (unsigned long long)held, (unsigned long long)done);
	/* The pages node 1 was home to went with it: SIGBUS, not stale data. */
	catch_sigbus();
	if (!touch(m + page, false, NULL))
		fail("page %u, whose home is dead, can still be read", KILL_FIRST + 1);
}

static void case_kill(void)
{
	if (self == 0)
		check_node0();
	else
		kill_node1();
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "pattern_crosses_guests", case_pattern },
	{ "ping_pong_in_order", case_ping_pong },
	{ "false_sharing_loses_no_update", case_false_sharing },
	/* Last: node 1's dsmpager is gone after it. */
	{ "killed_node_loses_nothing_acknowledged", case_kill },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* Write the membership; start nbdkit and dsmpager; map the object. */
static int setup(void)
{
	const char *addr = getenv("EPVM_ADDR"), *peer_addr = getenv("EPVM_PEER_ADDR");
	const char *p = getenv("DSM_PORT");
	unsigned int port = p ? atoi(p) : 7300, i;
	char tag[16];
	FILE *f;
	int err;

	snprintf(conf, sizeof(conf), "/tmp/dsm-pair-%u.conf", self);
	f = fopen(conf, "w");
	if (!f) {
		fail("%s: %s", conf, strerror(errno));
		return -errno;
	}
	fprintf(f, "# make check-dsm: node %u of a pair of guests\nsize %uM\n", self,
		SIZE >> 20);
	for (i = 0; i < NODES; i++)
		fprintf(f, "node %u %s:%u\n", i, i == self ? addr : peer_addr, port + i);
	if (fclose(f)) {
		fail("%s: %s", conf, strerror(errno));
		return -EIO;
	}
	snprintf(tag, sizeof(tag), "pair-%u", self);
	dsm_node_init(&node, tag);
	err = dsm_nbdkit(&node);
	if (err) {
		fail("nbdkit did not start: %s", strerror(-err));
		return err;
	}
	/* The other guest may boot minutes later. */
	if (meet("up"))
		return -ECONNABORTED;
	err = dsm_spawn(&node, conf, self, timeout_s);
	if (!err)
		err = dsm_map(&node, SIZE);
	if (err) {
		fail("dsmpager did not serve (%s); it said:\n%s", strerror(-err), node.dp.all);
		return err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *env[] = { "EPVM_NODE", "EPVM_ADDR", "EPVM_PEER_ADDR", "EPVM_PAIR_DIR" };
	unsigned int i, passed = 0, failed = 0;
	char text[sizeof(why)], name[32];
	bool up;

	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		if (!getenv(env[i])) {
			fprintf(stderr, "dsm_pair: %s is not set (see selftests/dsm/run.sh)\n",
				env[i]);
			return 2;
		}
	}
	self = atoi(getenv("EPVM_NODE"));
	if (self >= NODES || (getenv("EPVM_NODES") && atoi(getenv("EPVM_NODES")) != NODES)) {
		fprintf(stderr, "dsm_pair: a pair only: EPVM_NODE 0 or 1 of EPVM_NODES 2\n");
		return 2;
	}
	peer = 1 - self;
	dir = getenv("EPVM_PAIR_DIR");
	if (getenv("DSM_TIMEOUT"))
		timeout_s = atoi(getenv("DSM_TIMEOUT"));
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	up = !setup();
	if (!up) {
		/* The peer must not wait out its timeouts for this one. */
		post("abort", why);
		broken = true;
	}
	if (self == 0)
		printf("TAP version 13\n1..%zu\n", NCASES);
	for (i = 0; i < NCASES; i++) {
		if (up && !broken) {
			why[0] = '\0';
			cases[i].run();
		} else if (up || i > 0) {
			/* (Case 1 keeps the reason setup failed.) */
			why[0] = '\0';
			fail("not run: the pair broke up");
		}
		/* The verdicts cross: a case fails if it failed on either node. */
		snprintf(name, sizeof(name), "verdict-%u", i + 1);
		text[0] = '\0';
		if (!broken && !post(name, why[0] ? why : "ok"))
			await(name, text, sizeof(text), NULL);
		if (broken && !text[0])
			snprintf(text, sizeof(text), "unknown: the pair broke up");
		if (!why[0] && !strcmp(text, "ok")) {
			passed++;
			if (self == 0)
				printf("ok %u %s\n", i + 1, cases[i].name);
			continue;
		}
		failed++;
		/* (Its own reason, it said already.) */
		if (self == 0) {
			if (strcmp(text, "ok"))
				printf("# node 1: %s\n", text);
			printf("not ok %u %s\n", i + 1, cases[i].name);
		}
	}
	/* Neither stops its dsmpager while the other still uses it. */
	if (!broken)
		meet("end");
	dsm_stop(&node);
	unlink(conf);
	if (self == 0)
		printf("%u passed, %u failed, 0 skipped\n", passed, failed);
	else
		say("%u passed, %u failed", passed, failed);
	return failed ? 1 : 0;
}
