// SPDX-License-Identifier: GPL-2.0
/*
 * extpager_fuzz: a protocol fuzzer for extpager.ko.  It speaks raw generic
 * netlink (messages built by hand, so that it can send what libpager never
 * would) and the io_uring data channel, and mixes three kinds of traffic:
 *
 *   - legitimate: objects created, made ready, mapped, faulted (by a
 *     toucher thread), supplied, returned, lock-requested and destroyed;
 *     channels opened and served;
 *   - certainly invalid: a valid message of each command with exactly one
 *     defect the spec or Documentation/extpager.rst says is refused (a
 *     missing required attribute, a value out of the policy's range, an
 *     unknown attribute, a fixed-size attribute of the wrong size, an
 *     object that does not exist or is another socket's, an unaligned,
 *     empty, oversized or out-of-object range, a request id never issued,
 *     a second DEFAULT_PAGER_SET ...): the oracle, any of them accepted is
 *     a failure;
 *   - chaos: random attribute soups, nesting, duplicates, oversized
 *     attributes, truncated or overlong headers, odd flags and versions,
 *     random channel commands, tags, results and addresses.
 *
 * Alongside, two canary objects are read back and checked continuously:
 * one served by this socket (the fuzzer answers its requests correctly,
 * and aims only certainly invalid messages at it), one served by libpager
 * in a child process.  Each page holds a pattern of its offset.
 *
 * The messages are drawn from --seed; what the kernel answers (object and
 * request ids, the timing of faults) steers them too, so a rerun with the
 * same seed replays the same choices as far as the kernel answers alike.
 *
 * Exit status: 0 if no invalid message was accepted and both canaries
 * always read right; 1 otherwise; 2 on a set-up failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/extpager_channel.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libpager.h"
#include "raw_netlink.h"

#define PG		4096UL
#define MAX_OBJS	24
#define MAX_CHANS	4
#define CANARY_PAGES	64
#define BUF_PAGES	(EXTPAGER_MAX_RUN + 1)
#define MSG_MAX		(1 << 20)
#define MAX_ERRNO_HIST	160
#define CANARY_SEED	0x63616e617279ULL

/* --- randomness: two streams, both from the seed ------------------------- */

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t gen_state, srv_state;	/* the messages; serving decisions */
static uint64_t rnd(void) { return mix(&gen_state); }
static uint64_t rn(uint64_t n) { return n ? rnd() % n : 0; }
static bool chance(unsigned int pct) { return rn(100) < pct; }
static uint64_t srv(uint64_t n) { return n ? mix(&srv_state) % n : 0; }

/* The canaries' contents: a word of each 8 bytes, from the offset. */
static uint64_t pat(uint64_t off)
{
	uint64_t s = CANARY_SEED ^ (off / 8);

	return mix(&s);
}

static void fill_pat(void *buf, uint64_t off, size_t len)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pat(off + i * 8);
}

/* --- statistics ---------------------------------------------------------- */

#define NCMD	256
#define OTHER_TYPE	NCMD	/* a message not of the family's type */
struct cmd_hist {
	unsigned long sent, accepted, noack, invalid_sent, invalid_accepted;
	unsigned long err[MAX_ERRNO_HIST + 1];	/* last: larger errnos */
};
static struct cmd_hist hist[NCMD + 1];
/* Channel commands: served, invalid FETCH, invalid COMMIT_AND_FETCH, unknown. */
enum { CH_SERVED, CH_FETCH, CH_COMMIT, CH_UNKNOWN, CH_N };
static struct cmd_hist chist[CH_N];
static unsigned long messages, answers_refused, canary_served, uring_msgs;
static volatile unsigned long canary_checks;
static unsigned long invalid_accepted;
static volatile int canary_bad;
static char canary_why[256];
static bool verbose;

static const char *cmd_name(unsigned int cmd)
{
	static const char *const names[] = {
		[EXTPAGER_CMD_OBJECT_CREATE] = "object-create",
		[EXTPAGER_CMD_OBJECT_DESTROY] = "object-destroy",
		[EXTPAGER_CMD_OBJECT_GET] = "object-get",
		[EXTPAGER_CMD_READY] = "ready",
		[EXTPAGER_CMD_DATA_SUPPLY] = "data-supply",
		[EXTPAGER_CMD_DATA_UNAVAILABLE] = "data-unavailable",
		[EXTPAGER_CMD_DATA_ERROR] = "data-error",
		[EXTPAGER_CMD_UNLOCK_REPLY] = "unlock-reply",
		[EXTPAGER_CMD_INIT] = "init",
		[EXTPAGER_CMD_DATA_REQUEST] = "data-request",
		[EXTPAGER_CMD_DATA_UNLOCK] = "data-unlock",
		[EXTPAGER_CMD_TERMINATE] = "terminate",
		[EXTPAGER_CMD_DATA_RETURN] = "data-return",
		[EXTPAGER_CMD_RETURN_ACK] = "return-ack",
		[EXTPAGER_CMD_LOCK_REQUEST] = "lock-request",
		[EXTPAGER_CMD_LOCK_COMPLETED] = "lock-completed",
		[EXTPAGER_CMD_OBJECT_ADOPT] = "object-adopt",
		[EXTPAGER_CMD_DATA_EVICTED] = "data-evicted",
		[EXTPAGER_CMD_DEFAULT_PAGER_SET] = "default-pager-set",
		[EXTPAGER_CMD_OBJECT_CREATE_ANON] = "object-create-anon",
		[EXTPAGER_CMD_CHANNEL_OPEN] = "channel-open",
	};

	return cmd < sizeof(names) / sizeof(names[0]) && names[cmd] ? names[cmd] : NULL;
}

static void count(struct cmd_hist *h, int err, bool invalid)
{
	h->sent++;
	if (invalid)
		h->invalid_sent++;
	if (err == 0) {
		h->accepted++;
		if (invalid)
			h->invalid_accepted++;
	} else {
		h->err[-err < MAX_ERRNO_HIST ? -err : MAX_ERRNO_HIST]++;
	}
}

/* --- objects, channels ---------------------------------------------------- */

struct obj {
	bool used, destroyed, ro, canary;
	uint32_t id;
	int fd;
	uint64_t size;
	char *map;		/* NULL until mapped, or if it cannot be */
	bool unmapped;		/* to be mapped: map_pending() */
	uint32_t last_req;	/* a request id the kernel issued, maybe stale */
};
static struct obj objs[MAX_OBJS];
static pthread_mutex_t objs_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * Held by the toucher while it touches a map.  Its write to a page
 * supplied read-only waits for DATA_UNLOCK's answer in ->page_mkwrite,
 * which holds mmap_lock if the fault fell back to it (always on 6.1): an
 * mmap() or munmap() in this thread, the manager, would wait for that
 * answer, which only this thread gives, until request_timeout_ms, and the
 * canaries' requests with it.  So this thread maps and unmaps only while
 * the toucher is out of its maps, and else tries again later.
 */
static pthread_mutex_t touching = PTHREAD_MUTEX_INITIALIZER;

enum tag_state { TAG_IDLE, TAG_FETCHING, TAG_BUSY };
struct chan {
	bool used;
	int fd;
	unsigned int tags;
	const struct extpager_channel_desc *desc;
	enum tag_state state[EXTPAGER_CHANNEL_MAX_DEPTH];
};
static struct chan chans[MAX_CHANS];
static struct io_uring ring;

static int nl_fd;
static uint32_t my_portid;
static uint32_t foreign_id;	/* the child's canary: another socket's */
static uint32_t destroyed_ids[16];
static unsigned int n_destroyed;
static bool dp_registered;
static char *buf;		/* BUF_PAGES of data for supplies */
static char *canary_data;	/* what the canary holds */
static char *guard;		/* a PROT_NONE page: unreadable memory */
static struct obj *canary;

/* --- message building ----------------------------------------------------- */

/* NLA_UINT: 4 or 8 bytes, as the kernel's nla_put_uint() chooses. */
static void put_uint(struct msg *m, uint16_t t, uint64_t v)
{
	if (v <= UINT32_MAX && chance(50))
		put_u32(m, t, v);
	else
		put_u64(m, t, v);
}

/* --- sending and receiving ------------------------------------------------ */

static void handle(struct nlmsghdr *nlh, uint32_t want, int *result, bool *got);

/*
 * Read what is queued on the socket (nothing blocks: the kernel handles a
 * message before sendmsg() returns, so its answer is queued already) and
 * handle it; if @want, return the answer to that sequence number.
 */
static bool drain(uint32_t want, int *result)
{
	static char rbuf[256 * 1024];
	bool got = false;
	ssize_t n;

	for (;;) {
		struct nlmsghdr *nlh;

		n = recv(nl_fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {	/* overrun: answers lost */
				hist[0].noack++;
				continue;
			}
			break;
		}
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n))
			handle(nlh, want, result, &got);
	}
	return got;
}

/* Send @m and return its answer (0 or -errno), or 1 if none came. */
static int call(struct msg *m)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	int result = 1, err;

	err = nl_send(nl_fd, m->b, m->len);
	if (err)
		return err;
	messages++;
	if (!drain(nlh->nlmsg_seq, &result))
		return 1;
	return result;
}

/*
 * Send an answer without NLM_F_ACK, as libpager does: counted as accepted
 * until its refusal, if any, comes.  The command of each sequence number
 * is kept for that.
 */
static uint8_t answer_cmd[4096];

static void answer(struct msg *m)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	uint8_t cmd = ((struct genlmsghdr *)(nlh + 1))->cmd;

	if (nl_send(nl_fd, m->b, m->len))
		return;
	messages++;
	answer_cmd[nlh->nlmsg_seq % 4096] = cmd;
	count(&hist[cmd], 0, false);
}

/* Counted call of a message built by the caller. */
static int fire(struct msg *m, bool invalid, const char *what)
{
	struct genlmsghdr *g = (struct genlmsghdr *)(m->b + NLMSG_HDRLEN);
	int cmd = m->len >= NLMSG_HDRLEN + GENL_HDRLEN ? g->cmd : 0;
	int err;

	if (((struct nlmsghdr *)m->b)->nlmsg_type != family)
		cmd = OTHER_TYPE;
	err = call(m);

	if (err == 1) {
		hist[cmd].sent++;
		hist[cmd].noack++;
		if (invalid)
			hist[cmd].invalid_sent++;
		return err;
	}
	count(&hist[cmd], err, invalid);
	if (invalid && !err) {
		invalid_accepted++;
		fprintf(stderr, "fuzz: ACCEPTED an invalid %s: %s (message %lu)\n",
			cmd < NCMD && cmd_name(cmd) ? cmd_name(cmd) : "?", what, messages);
	}
	return err;
}

/* --- objects ------------------------------------------------------------ */

static struct obj *obj_find(uint32_t id)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].used && objs[i].id == id)
			return &objs[i];
	return NULL;
}

/* Map @o, if the toucher is out of its maps; else a later call does. */
static void map_pending(struct obj *o)
{
	if (!o->unmapped || pthread_mutex_trylock(&touching))
		return;
	o->map = mmap(NULL, o->size, o->ro ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED,
		      o->fd, 0);
	if (o->map == MAP_FAILED)
		o->map = NULL;
	o->unmapped = false;
	pthread_mutex_unlock(&touching);
}

static struct obj *obj_add(uint32_t id, int fd, uint64_t size, bool ro)
{
	struct obj *o = NULL;
	int i;

	for (i = 0; i < MAX_OBJS && !o; i++)
		if (!objs[i].used)
			o = &objs[i];
	if (!o) {
		close(fd);
		return NULL;
	}
	o->id = id;
	o->fd = fd;
	o->size = size;
	o->ro = ro;
	o->destroyed = false;
	o->canary = false;
	o->last_req = 0;
	o->map = NULL;
	o->unmapped = true;
	pthread_mutex_lock(&objs_lock);
	o->used = true;
	pthread_mutex_unlock(&objs_lock);
	map_pending(o);
	return o;
}

/* Unmap and close, if the toucher is not in it; else later. */
static bool obj_drop(struct obj *o)
{
	if (pthread_mutex_trylock(&touching))
		return false;
	if (o->map)
		munmap(o->map, o->size);
	close(o->fd);
	pthread_mutex_lock(&objs_lock);
	o->used = false;
	o->map = NULL;
	pthread_mutex_unlock(&objs_lock);
	pthread_mutex_unlock(&touching);
	return true;
}

static struct obj *pick_live(void)
{
	int i, start = rn(MAX_OBJS);

	for (i = 0; i < MAX_OBJS; i++) {
		struct obj *o = &objs[(start + i) % MAX_OBJS];

		if (o->used && !o->destroyed && !o->canary)
			return o;
	}
	return NULL;
}

static void remember_destroyed(uint32_t id)
{
	destroyed_ids[n_destroyed++ % 16] = id;
}

/* --- the data channel ------------------------------------------------------ */

#define UD(kind, c, tag)	((uint64_t)(kind) << 48 | (uint64_t)(c) << 32 | (tag))
enum { UD_LEGIT = 1, UD_INVALID, UD_CHAOS };

static void uring_cmd(int fd, unsigned int op, unsigned int tag, int result,
		      unsigned int flags, uint64_t addr, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	struct extpager_channel_cmd *cmd;

	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
		if (!sqe)
			return;
	}
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	sqe->user_data = ud;
	cmd = (struct extpager_channel_cmd *)sqe->cmd;
	memset(cmd, 0, sizeof(*cmd));
	cmd->tag = tag;
	cmd->result = result;
	cmd->flags = flags;
	cmd->addr = addr;
	if (io_uring_submit(&ring) >= 1) {
		uring_msgs++;
		messages++;
	}
}

static void chan_add(int fd, unsigned int tags)
{
	struct chan *c = NULL;
	void *desc;
	unsigned int i;

	for (i = 0; i < MAX_CHANS && !c; i++)
		if (!chans[i].used)
			c = &chans[i];
	if (!c || tags > EXTPAGER_CHANNEL_MAX_DEPTH) {
		close(fd);	/* a channel released at once, with nothing in it */
		return;
	}
	/* Not while the toucher may hold mmap_lock (see touching). */
	if (pthread_mutex_trylock(&touching)) {
		close(fd);
		return;
	}
	desc = mmap(NULL, tags * sizeof(struct extpager_channel_desc), PROT_READ,
		    MAP_SHARED, fd, 0);
	pthread_mutex_unlock(&touching);
	if (desc == MAP_FAILED) {
		close(fd);
		return;
	}
	c->used = true;
	c->fd = fd;
	c->tags = tags;
	c->desc = desc;
	for (i = 0; i < tags; i++) {
		c->state[i] = TAG_FETCHING;
		uring_cmd(fd, EXTPAGER_CHANNEL_FETCH, i, 0, 0, 0, UD(UD_LEGIT, c - chans, i));
	}
}

/* A supply's source: the canary's contents, or the data buffer. */
static uint64_t source(struct obj *o, uint64_t offset)
{
	return o && o->canary ? (uintptr_t)(canary_data + offset) : (uintptr_t)buf;
}

/* Answer the request a tag holds, as a manager would, or not. */
static void chan_serve(struct chan *c, unsigned int tag)
{
	const struct extpager_channel_desc *d = &c->desc[tag];
	struct obj *o = obj_find(d->object_id);
	uint64_t ud = UD(UD_LEGIT, c - chans, tag);
	int result = EXTPAGER_CHANNEL_SUPPLY;
	unsigned int flags = 0;

	if (o && o->canary) {
		canary_served++;
		uring_cmd(c->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, tag, 0, 0,
			  source(o, d->offset), ud);
		return;
	}
	if (o)
		o->last_req = d->request_id;
	if (d->cmd == EXTPAGER_CMD_DATA_UNLOCK) {
		result = srv(4) ? 0 : -EPERM;
	} else {
		switch (srv(10)) {
		case 0:
			result = EXTPAGER_CHANNEL_UNAVAILABLE;
			break;
		case 1:
			result = -(int)(1 + srv(4095));
			break;
		case 2:
			result = EXTPAGER_CHANNEL_NONE;	/* to time out */
			break;
		default:
			flags = srv(4) == 0 ? srv(4) : 0;
			break;
		}
	}
	uring_cmd(c->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, tag, result, flags,
		  source(o, 0), ud);
}

/* Random and certainly invalid channel commands. */
static void chan_chaos(void)
{
	struct chan *c = &chans[rn(MAX_CHANS)];
	unsigned int tag, op;
	uint64_t addrs[] = { 0, 8, (uintptr_t)guard, 0xffff800000000000ULL,
			     (uintptr_t)buf + 1, rnd() };

	if (!c->used)
		return;
	tag = rn(c->tags + 2);
	if (tag >= c->tags || chance(20)) {
		/* Certainly refused: no such tag, or a FETCH with arguments on
		 * a tag that fetches or holds a request. */
		if (tag < c->tags && c->state[tag] == TAG_IDLE)
			return;
		op = tag >= c->tags ? 1 + rn(2) : EXTPAGER_CHANNEL_FETCH;
		uring_cmd(c->fd, op, tag >= c->tags ? c->tags + rn(1000) : tag,
			  op == EXTPAGER_CHANNEL_FETCH ? 1 + rn(5) : 0, rn(4),
			  addrs[rn(6)], UD(UD_INVALID, c - chans,
					   op == EXTPAGER_CHANNEL_FETCH ? CH_FETCH : CH_COMMIT));
		return;
	}
	if (c->state[tag] == TAG_BUSY) {
		struct obj *o = obj_find(c->desc[tag].object_id);
		int bad[] = { 3, 4, 1000, INT32_MAX, -4096, INT32_MIN };

		if (o && o->canary)
			return;
		/* An answer that is none: EINVAL, the tag stays busy. */
		uring_cmd(c->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, tag, bad[rn(6)],
			  rn(4), addrs[rn(6)], UD(UD_INVALID, c - chans, CH_COMMIT));
		return;
	}
	/* An unknown command. */
	op = 3 + rn(1000);
	uring_cmd(c->fd, op, tag, rnd(), rnd(), addrs[rn(6)], UD(UD_CHAOS, c - chans, CH_UNKNOWN));
}

static void reap(void)
{
	struct io_uring_cqe *cqe;

	while (!io_uring_peek_cqe(&ring, &cqe)) {
		uint64_t ud = cqe->user_data;
		int res = cqe->res, kind = ud >> 48, ci = (ud >> 32) & 0xffff;
		unsigned int low = ud & 0xffffffff;
		struct chan *c = &chans[ci];

		io_uring_cqe_seen(&ring, cqe);
		if (kind == UD_INVALID || kind == UD_CHAOS) {
			count(&chist[low], res > 0 ? 0 : res, kind == UD_INVALID);
			if (kind == UD_INVALID && res >= 0) {
				invalid_accepted++;
				fprintf(stderr, "fuzz: ACCEPTED an invalid channel command (%d)\n",
					res);
			}
			continue;
		}
		count(&chist[CH_SERVED], res > 0 ? 0 : res, false);
		if (!c->used || low >= c->tags)
			continue;
		if (res >= 0 && (unsigned int)res < c->tags) {
			c->state[res] = TAG_BUSY;
			chan_serve(c, res);
		} else if (res == -EINVAL || res == -ESTALE || res == -EFAULT) {
			struct obj *o = obj_find(c->desc[low].object_id);

			/* Never expected: tell, for a canary's SIGBUS to follow. */
			if (o && o->canary)
				fprintf(stderr, "fuzz: the canary's commit of request %u failed: %s\n",
					c->desc[low].request_id, strerror(-res));
			/* A commit refused: release the tag. */
			uring_cmd(c->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, low,
				  EXTPAGER_CHANNEL_NONE, 0, 0, UD(UD_LEGIT, ci, low));
		} else {
			c->state[low] = TAG_IDLE;
		}
	}
}

/* --- events --------------------------------------------------------------- */

static void ready(struct obj *o, uint32_t id)
{
	static char b[4096];
	struct msg m = { .b = b, .size = sizeof(b) };

	msg_init(&m, EXTPAGER_CMD_READY, 0);
	put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
	if (o && o->canary) {
		/* Small: its pages are evicted and asked for all the time. */
		put_u32(&m, EXTPAGER_A_OBJECT_CLUSTER, 4);
		put_uint(&m, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, 8);
	} else {
		if (srv(2))
			put_u32(&m, EXTPAGER_A_OBJECT_CLUSTER, 1 + srv(EXTPAGER_MAX_RUN));
		if (srv(2))
			put_uint(&m, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, srv(3) ? srv(16) : 0);
		if (srv(2))
			put_u8(&m, EXTPAGER_A_OBJECT_MAY_CACHE, srv(2));
		if (srv(2))
			put_u8(&m, EXTPAGER_A_OBJECT_NOTIFY_EVICT, srv(2));
	}
	answer(&m);
}

static void serve_request(struct obj *o, uint32_t id, uint32_t req, uint64_t off, uint64_t len)
{
	static char b[MSG_MAX];	/* not malloc()ed: see touching */
	struct msg m = { .b = b, .size = sizeof(b) };
	unsigned int i, choice;

	if (o && o->canary) {
		canary_served++;
		msg_init(&m, EXTPAGER_CMD_DATA_SUPPLY, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		put_uint(&m, EXTPAGER_A_OBJECT_OFFSET, off);
		if (srv(2) && len <= 4 * PG) {
			for (i = 0; i < len / PG; i++)
				put(&m, EXTPAGER_A_OBJECT_DATA, canary_data + off + i * PG, PG);
		} else {
			put_uint(&m, EXTPAGER_A_OBJECT_DATA_ADDR, source(o, off));
			put_uint(&m, EXTPAGER_A_OBJECT_LENGTH, len);
		}
		answer(&m);
		return;
	}
	if (o)
		o->last_req = req;
	choice = srv(20);
	if (choice == 0)
		return;		/* it times out */
	if (choice < 3) {
		msg_init(&m, choice == 1 ? EXTPAGER_CMD_DATA_UNAVAILABLE : EXTPAGER_CMD_DATA_ERROR, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		put_uint(&m, EXTPAGER_A_OBJECT_OFFSET, off);
		put_uint(&m, EXTPAGER_A_OBJECT_LENGTH, len);
		if (choice == 2)
			put_u32(&m, EXTPAGER_A_OBJECT_ERROR, 1 + srv(4095));
		answer(&m);
		return;
	}
	/* Supplied, maybe in two parts, maybe read-only or precious. */
	for (i = 0; i < 2; i++) {
		uint64_t part = len > PG && choice < 8 ? (i ? len - PG : PG) : len;
		uint64_t at = i ? off + PG : off;

		if (i && part == len)
			break;
		msg_init(&m, EXTPAGER_CMD_DATA_SUPPLY, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		put_uint(&m, EXTPAGER_A_OBJECT_OFFSET, at);
		if (part == PG && srv(2)) {
			put(&m, EXTPAGER_A_OBJECT_DATA, buf, PG);
		} else {
			put_uint(&m, EXTPAGER_A_OBJECT_DATA_ADDR, (uintptr_t)buf);
			put_uint(&m, EXTPAGER_A_OBJECT_LENGTH, part);
		}
		if (srv(4) == 0)
			put_u32(&m, EXTPAGER_A_OBJECT_FLAGS, srv(4));
		answer(&m);
	}
}

static void handle(struct nlmsghdr *nlh, uint32_t want, int *result, bool *got)
{
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	uint32_t id, req;
	struct obj *o;
	static char ab[4096];
	struct msg m = { .b = ab, .size = sizeof(ab) };

	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
		int err = nlh->nlmsg_len >= NLMSG_HDRLEN + 4 ? *(int *)NLMSG_DATA(nlh) : 0;

		if (want && nlh->nlmsg_seq == want) {
			*result = err;
			*got = true;
		} else if (err) {
			/* An answer sent without ACK, refused after all. */
			struct cmd_hist *h = &hist[answer_cmd[nlh->nlmsg_seq % 4096]];

			answers_refused++;
			h->accepted--;
			h->err[-err < MAX_ERRNO_HIST ? -err : MAX_ERRNO_HIST]++;
		}
		return;
	}
	if (nlh->nlmsg_type != family || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	parse_attrs(nlh, tb, EXTPAGER_A_OBJECT_MAX);
	id = tb[EXTPAGER_A_OBJECT_ID] ? *(uint32_t *)(tb[EXTPAGER_A_OBJECT_ID] + 1) : 0;
	req = tb[EXTPAGER_A_OBJECT_REQUEST_ID] ?
	      *(uint32_t *)(tb[EXTPAGER_A_OBJECT_REQUEST_ID] + 1) : 0;
	o = obj_find(id);

	if (nlh->nlmsg_seq) {
		/* A reply (events have none): an fd that came is ours. */
		if (tb[EXTPAGER_A_OBJECT_FD]) {
			int fd = *(uint32_t *)(tb[EXTPAGER_A_OBJECT_FD] + 1);

			if (tb[EXTPAGER_A_OBJECT_TAGS] && !tb[EXTPAGER_A_OBJECT_ID])
				chan_add(fd, *(uint32_t *)(tb[EXTPAGER_A_OBJECT_TAGS] + 1));
			else if (tb[EXTPAGER_A_OBJECT_ID] && !o)
				obj_add(id, fd, get_uint(tb[EXTPAGER_A_OBJECT_SIZE]),
					(fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
			else
				close(fd);
		}
		return;
	}
	switch (g->cmd) {
	case EXTPAGER_CMD_INIT:
		ready(o, id);
		break;
	case EXTPAGER_CMD_DATA_REQUEST:
		serve_request(o, id, req, get_uint(tb[EXTPAGER_A_OBJECT_OFFSET]),
			      get_uint(tb[EXTPAGER_A_OBJECT_LENGTH]));
		break;
	case EXTPAGER_CMD_DATA_UNLOCK:
		if (o)
			o->last_req = req;
		msg_init(&m, EXTPAGER_CMD_UNLOCK_REPLY, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		put_u8(&m, EXTPAGER_A_OBJECT_GRANT, srv(4) != 0);
		answer(&m);
		break;
	case EXTPAGER_CMD_DATA_RETURN:
		if (o)
			o->last_req = req;
		if (srv(30) == 0)
			break;	/* unacknowledged: the default pager takes it */
		msg_init(&m, EXTPAGER_CMD_RETURN_ACK, 0);
		put_u32(&m, EXTPAGER_A_OBJECT_ID, id);
		put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, req);
		if (srv(10) == 0)
			put_u32(&m, EXTPAGER_A_OBJECT_ERROR, EIO);
		answer(&m);
		break;
	case EXTPAGER_CMD_TERMINATE:
		if (o && o->destroyed)
			obj_drop(o);
		break;
	default:
		break;
	}
}

/* --- the oracle's messages: valid but for one defect --------------------- */

enum defect {
	D_MISSING, D_RANGE, D_UNKNOWN, D_BADLEN, D_NOOBJ, D_FOREIGN, D_UNALIGNED,
	D_BADLENGTH, D_BEYOND, D_E2BIG, D_STALE, D_DUMP, D_BADCMD, D_NDEFECTS
};
static const char *const defect_names[] = {
	"missing attribute", "value out of range", "unknown attribute",
	"attribute of the wrong size", "no such object", "another socket's object",
	"unaligned offset", "bad length", "range beyond the object", "run too long",
	"request id never issued", "dump of a do-only command", "no such command",
};

/* The attributes a valid message of @cmd on @o carries, in order. */
struct attr_plan {
	uint16_t type;
	uint8_t kind;		/* 1 u8, 4 u32, 8 uint */
	bool required;
	uint64_t val;
	uint64_t bad;		/* a value its policy refuses, or 0 if none */
	bool has_bad;
};

static unsigned int plan(uint8_t cmd, struct obj *o, struct attr_plan *p)
{
	uint64_t pages = o ? o->size / PG : 1;
	uint64_t at = rn(pages), n = 1 + rn(pages - at > 8 ? 8 : pages - at);
	uint32_t req = 0xf0000000u + rn(0x0fffffff);	/* never issued */
	unsigned int k = 0;

#define A(t, kd, rq, v) (p[k++] = (struct attr_plan){ .type = EXTPAGER_A_OBJECT_##t, \
		.kind = kd, .required = rq, .val = v })
#define BAD(v) (p[k - 1].bad = (v), p[k - 1].has_bad = true)
	switch (cmd) {
	case EXTPAGER_CMD_OBJECT_CREATE:
		A(SIZE, 8, true, PG * (1 + rn(16)));
		if (chance(30))
			A(READ_ONLY, 1, false, rn(2)), BAD(2 + rn(254));
		break;
	case EXTPAGER_CMD_OBJECT_CREATE_ANON:
		A(SIZE, 8, true, PG * (1 + rn(16)));
		break;
	case EXTPAGER_CMD_CHANNEL_OPEN:
		A(TAGS, 4, true, 1 + rn(4)), BAD(chance(50) ? 0 : 65 + rn(1000));
		break;
	case EXTPAGER_CMD_OBJECT_ADOPT:
	case EXTPAGER_CMD_OBJECT_GET:
	case EXTPAGER_CMD_OBJECT_DESTROY:
		A(ID, 4, true, o->id), BAD(0);
		break;
	case EXTPAGER_CMD_READY:
		A(ID, 4, true, o->id), BAD(0);
		if (chance(50))
			A(CLUSTER, 4, false, 1 + rn(256)), BAD(chance(50) ? 0 : 257 + rn(10000));
		if (chance(50))
			A(MAY_CACHE, 1, false, 1), BAD(2 + rn(254));
		if (chance(50))
			A(NOTIFY_EVICT, 1, false, rn(2)), BAD(2 + rn(254));
		break;
	case EXTPAGER_CMD_DATA_SUPPLY:
		A(ID, 4, true, o->id), BAD(0);
		A(REQUEST_ID, 4, false, req);
		A(OFFSET, 8, true, at * PG);
		A(DATA_ADDR, 8, true, (uintptr_t)buf);
		A(LENGTH, 8, true, n * PG);
		if (chance(30))
			A(FLAGS, 4, false, rn(4)), BAD(4 << rn(28));
		break;
	case EXTPAGER_CMD_DATA_UNAVAILABLE:
	case EXTPAGER_CMD_DATA_ERROR:
		A(ID, 4, true, o->id), BAD(0);
		A(REQUEST_ID, 4, true, req);
		A(OFFSET, 8, true, at * PG);
		A(LENGTH, 8, true, n * PG);
		if (cmd == EXTPAGER_CMD_DATA_ERROR)
			A(ERROR, 4, true, 1 + rn(4095)), BAD(chance(50) ? 0 : 4096 + rn(100000));
		break;
	case EXTPAGER_CMD_UNLOCK_REPLY:
		A(ID, 4, true, o->id), BAD(0);
		A(REQUEST_ID, 4, true, req);
		A(GRANT, 1, true, rn(2)), BAD(2 + rn(254));
		break;
	case EXTPAGER_CMD_RETURN_ACK:
		A(ID, 4, true, o->id), BAD(0);
		A(REQUEST_ID, 4, true, req);
		if (chance(50))
			A(ERROR, 4, false, 1 + rn(4095)), BAD(chance(50) ? 0 : 4096 + rn(100000));
		break;
	case EXTPAGER_CMD_LOCK_REQUEST:
		A(ID, 4, true, o->id), BAD(0);
		A(REQUEST_ID, 4, true, rnd());
		A(OFFSET, 8, true, at * PG);
		A(LENGTH, 8, true, n * PG);
		if (chance(50))
			A(SHOULD_RETURN, 4, false, rn(3)), BAD(3 + rn(1000));
		if (chance(50))
			A(LOCK_FLAGS, 4, false, rn(4)), BAD(4 << rn(28));
		break;
	}
#undef A
#undef BAD
	return k;
}

/* Commands whose handler first checks that the object is the sender's. */
static bool pre_doit(uint8_t cmd)
{
	switch (cmd) {
	case EXTPAGER_CMD_OBJECT_DESTROY: case EXTPAGER_CMD_READY:
	case EXTPAGER_CMD_DATA_SUPPLY: case EXTPAGER_CMD_DATA_UNAVAILABLE:
	case EXTPAGER_CMD_DATA_ERROR: case EXTPAGER_CMD_UNLOCK_REPLY:
	case EXTPAGER_CMD_RETURN_ACK: case EXTPAGER_CMD_LOCK_REQUEST:
		return true;
	}
	return false;
}

static bool has_range(uint8_t cmd)
{
	return cmd == EXTPAGER_CMD_DATA_SUPPLY || cmd == EXTPAGER_CMD_DATA_UNAVAILABLE ||
	       cmd == EXTPAGER_CMD_DATA_ERROR || cmd == EXTPAGER_CMD_LOCK_REQUEST;
}

static void put_planned(struct msg *m, const struct attr_plan *a, uint64_t v, int size)
{
	char raw[16] = { 0 };

	if (size >= 0) {	/* the wrong size */
		memcpy(raw, &v, 8);
		put(m, a->type, raw, size);
	} else if (a->kind == 1) {
		put_u8(m, a->type, v);
	} else if (a->kind == 4) {
		put_u32(m, a->type, v);
	} else {
		put_uint(m, a->type, v);
	}
}

/*
 * One certainly invalid message: valid but for one defect, each of which
 * extpager.rst or the spec says is refused.  Aimed at our own live objects
 * and at the canary (a defect accepted there would show as a mismatch).
 */
static void invalid_message(struct msg *m)
{
	static const uint8_t cmds[] = {
		EXTPAGER_CMD_OBJECT_CREATE, EXTPAGER_CMD_OBJECT_DESTROY, EXTPAGER_CMD_OBJECT_GET,
		EXTPAGER_CMD_READY, EXTPAGER_CMD_DATA_SUPPLY, EXTPAGER_CMD_DATA_UNAVAILABLE,
		EXTPAGER_CMD_DATA_ERROR, EXTPAGER_CMD_UNLOCK_REPLY, EXTPAGER_CMD_RETURN_ACK,
		EXTPAGER_CMD_LOCK_REQUEST, EXTPAGER_CMD_OBJECT_ADOPT,
		EXTPAGER_CMD_OBJECT_CREATE_ANON, EXTPAGER_CMD_CHANNEL_OPEN,
	};
	uint8_t cmd = cmds[rn(sizeof(cmds))];
	struct attr_plan p[12];
	struct obj *o = chance(30) ? canary : pick_live();
	enum defect d = rn(D_NDEFECTS);
	unsigned int n, i, victim = 0, tries;
	char what[160];
	bool dump = false;

	if (!o)
		return;
	/* A destroyed canary is impossible; an object of ours must be live. */
	if (cmd == EXTPAGER_CMD_OBJECT_DESTROY && o->canary && d != D_MISSING &&
	    d != D_RANGE && d != D_BADLEN && d != D_UNKNOWN && d != D_NOOBJ && d != D_FOREIGN)
		d = D_NOOBJ;
	n = plan(cmd, o, p);
	/* Find a defect this command can have. */
	for (tries = 0; tries < 20; tries++, d = rn(D_NDEFECTS)) {
		bool ok = false;

		switch (d) {
		case D_MISSING:
			victim = rn(n);
			ok = p[victim].required;
			break;
		case D_RANGE:
			victim = rn(n);
			ok = p[victim].has_bad;
			break;
		case D_BADLEN:
			victim = rn(n);
			ok = true;
			break;
		case D_UNKNOWN:
		case D_DUMP:
		case D_BADCMD:
			ok = cmd != EXTPAGER_CMD_OBJECT_GET || d != D_DUMP;
			break;
		case D_NOOBJ:
		case D_FOREIGN:
			ok = pre_doit(cmd) && (d == D_NOOBJ || foreign_id);
			break;
		case D_UNALIGNED:
		case D_BEYOND:
		case D_BADLENGTH:
		case D_E2BIG:
			ok = has_range(cmd);
			break;
		case D_STALE:
			ok = cmd == EXTPAGER_CMD_DATA_UNAVAILABLE || cmd == EXTPAGER_CMD_DATA_ERROR ||
			     cmd == EXTPAGER_CMD_UNLOCK_REPLY || cmd == EXTPAGER_CMD_RETURN_ACK ||
			     cmd == EXTPAGER_CMD_DATA_SUPPLY;
			break;
		default:
			break;
		}
		if (ok)
			break;
	}
	if (tries == 20)
		return;
	/* ADOPT of an object that has a manager, ours or the child's: EBUSY. */
	if (cmd == EXTPAGER_CMD_OBJECT_ADOPT && d != D_MISSING && d != D_RANGE &&
	    d != D_BADLEN && d != D_UNKNOWN && d != D_DUMP && d != D_BADCMD)
		d = D_RANGE, victim = 0;	/* id 0 */
	if (d == D_DUMP)
		dump = true;
	msg_init(m, d == D_BADCMD ? (uint8_t[]){ 0, 9, 10, 11, 12, 13, 16, 18, 22, 99, 255 }[rn(11)]
				     : cmd,
		 NLM_F_ACK | (dump ? NLM_F_DUMP : 0));
	for (i = 0; i < n; i++) {
		uint64_t v = p[i].val;
		int size = -1;

		if (i == victim && d == D_MISSING)
			continue;
		if (i == victim && d == D_RANGE)
			v = p[i].bad;
		if (i == victim && d == D_BADLEN) {
			static const int wrong[] = { 0, 1, 2, 3, 5, 6, 7, 9, 12, 16 };

			do {
				size = wrong[rn(10)];
			} while (size == p[i].kind || (p[i].kind == 8 && size == 4));
		}
		if (p[i].type == EXTPAGER_A_OBJECT_ID) {
			if (d == D_NOOBJ)
				v = n_destroyed && chance(50) ?
				    destroyed_ids[rn(n_destroyed < 16 ? n_destroyed : 16)] :
				    0x80000000u + rn(0x7fffffff);
			if (d == D_FOREIGN)
				v = foreign_id;
		}
		if (p[i].type == EXTPAGER_A_OBJECT_OFFSET) {
			if (d == D_UNALIGNED)
				v += 1 + rn(PG - 1);
			if (d == D_BEYOND)
				v = chance(50) ? o->size + PG * rn(4) : -(uint64_t)PG * (1 + rn(4));
		}
		if (p[i].type == EXTPAGER_A_OBJECT_LENGTH) {
			if (d == D_BADLENGTH)
				v = chance(30) ? 0 : v + 1 + rn(PG - 1);
			if (d == D_E2BIG)
				v = chance(50) ? (EXTPAGER_MAX_RUN + 1 + rn(1000)) * PG : -(uint64_t)PG;
			/* Past the end, unless the offset already is. */
			if (d == D_BEYOND && cmd == EXTPAGER_CMD_LOCK_REQUEST && chance(50))
				v = o->size + PG;
		}
		put_planned(m, &p[i], v, size);
	}
	if (d == D_UNKNOWN) {
		/* Beyond the op's policy, or inside it but not the op's. */
		uint16_t t = chance(50) ? EXTPAGER_A_OBJECT_MAX + 1 + rn(1000) :
			     cmd == EXTPAGER_CMD_OBJECT_CREATE ? EXTPAGER_A_OBJECT_ID :
			     EXTPAGER_A_OBJECT_STATS;
		uint32_t zero = 0;

		if (t == EXTPAGER_A_OBJECT_STATS && cmd == EXTPAGER_CMD_CHANNEL_OPEN)
			t = EXTPAGER_A_OBJECT_SIZE;
		if (t == EXTPAGER_A_OBJECT_STATS && (cmd == EXTPAGER_CMD_OBJECT_DESTROY ||
						     cmd == EXTPAGER_CMD_OBJECT_GET ||
						     cmd == EXTPAGER_CMD_OBJECT_ADOPT ||
						     cmd == EXTPAGER_CMD_OBJECT_CREATE_ANON))
			t = EXTPAGER_A_OBJECT_MAX + 1;
		put(m, t, &zero, 4);
	}
	snprintf(what, sizeof(what), "%s (object %u%s)", defect_names[d], o->id,
		 o->canary ? ", the canary" : "");
	fire(m, true, what);
}

/* DEFAULT_PAGER_SET: once for real, then always refused. */
static void default_pager_set(struct msg *m)
{
	bool bad = chance(50);
	int err;

	msg_init(m, EXTPAGER_CMD_DEFAULT_PAGER_SET, NLM_F_ACK);
	if (bad) {
		if (chance(50)) {
			nest_start(m, EXTPAGER_A_OBJECT_STATS);
			put_u32(m, EXTPAGER_A_STATS_FAULTS, rnd());
			nest_end(m);
		} else {
			put_u32(m, 1 + rn(40), rnd());
		}
	}
	err = fire(m, bad || dp_registered,
		   bad ? "default-pager-set with an attribute" : "default-pager-set twice");
	if (!err)
		dp_registered = true;
}

/* --- legitimate traffic, and valid messages with random values ----------- */

static uint64_t some_offset(struct obj *o)
{
	uint64_t size = o ? o->size : PG;

	switch (rn(10)) {
	case 0: return rnd();
	case 1: return size;
	case 2: return -(uint64_t)PG;
	case 3: return rn(size);
	case 4: return (uint64_t)INT64_MAX + 1;
	default: return rn(size / PG) * PG;
	}
}

static uint64_t some_length(void)
{
	switch (rn(10)) {
	case 0: return 0;
	case 1: return rnd();
	case 2: return (EXTPAGER_MAX_RUN + rn(3)) * PG;
	case 3: return 1 + rn(PG * 2);
	case 4: return -(uint64_t)PG;
	default: return PG * (1 + rn(4));
	}
}

static uint64_t some_addr(void)
{
	switch (rn(8)) {
	case 0: return 0;
	case 1: return (uintptr_t)guard;
	case 2: return (uintptr_t)guard - PG;	/* the run crosses into the guard */
	case 3: return 0xffffffff81000000ULL;
	case 4: return 0x0000800000000000ULL;
	case 5: return (uintptr_t)buf + 1 + rn(PG);
	default: return (uintptr_t)buf;
	}
}

static uint32_t some_req(struct obj *o)
{
	switch (rn(4)) {
	case 0: return rnd();
	case 1: return 0;
	default: return o ? o->last_req + rn(3) : 1;
	}
}

static uint32_t some_id(void)
{
	struct obj *o;

	switch (rn(8)) {
	case 0: return rnd();
	case 1: return foreign_id;
	case 2: return n_destroyed ? destroyed_ids[rn(n_destroyed < 16 ? n_destroyed : 16)] : 0;
	default:
		o = pick_live();
		return o ? o->id : 1;
	}
}

static void legit(struct msg *m)
{
	struct obj *o = pick_live();
	uint8_t cmd;
	int i;

	switch (rn(16)) {
	case 0:
	case 1:
		msg_init(m, chance(80) ? EXTPAGER_CMD_OBJECT_CREATE : EXTPAGER_CMD_OBJECT_CREATE_ANON,
			 NLM_F_ACK);
		put_uint(m, EXTPAGER_A_OBJECT_SIZE, PG * (1 + rn(64)));
		cmd = ((struct genlmsghdr *)(m->b + NLMSG_HDRLEN))->cmd;
		if (cmd == EXTPAGER_CMD_OBJECT_CREATE && chance(20))
			put_u8(m, EXTPAGER_A_OBJECT_READ_ONLY, 1);
		if (cmd == EXTPAGER_CMD_OBJECT_CREATE && chance(10))
			put_u32(m, EXTPAGER_A_OBJECT_ORPHAN_MS, rn(1000));
		fire(m, false, "");
		return;
	case 2:
		if (!o || chance(50))
			return;
		msg_init(m, EXTPAGER_CMD_OBJECT_DESTROY, NLM_F_ACK);
		put_u32(m, EXTPAGER_A_OBJECT_ID, o->id);
		if (!fire(m, false, "")) {
			o->destroyed = true;
			remember_destroyed(o->id);
			obj_drop(o);
		}
		return;
	case 3:
		msg_init(m, EXTPAGER_CMD_OBJECT_GET, NLM_F_ACK | (chance(30) ? NLM_F_DUMP : 0));
		put_u32(m, EXTPAGER_A_OBJECT_ID, some_id());
		fire(m, false, "");
		return;
	case 4:
		for (i = 0; i < MAX_CHANS && chans[i].used; i++)
			;
		msg_init(m, EXTPAGER_CMD_CHANNEL_OPEN, NLM_F_ACK);
		put_u32(m, EXTPAGER_A_OBJECT_TAGS, 1 + rn(i < MAX_CHANS ? 8 : 64));
		fire(m, false, "");
		return;
	case 5:
		if (!o)
			return;
		msg_init(m, EXTPAGER_CMD_LOCK_REQUEST, NLM_F_ACK);
		put_u32(m, EXTPAGER_A_OBJECT_ID, chance(90) ? o->id : canary->id);
		put_u32(m, EXTPAGER_A_OBJECT_REQUEST_ID, rnd());
		put_uint(m, EXTPAGER_A_OBJECT_OFFSET, 0);
		put_uint(m, EXTPAGER_A_OBJECT_LENGTH, o->size);
		put_u32(m, EXTPAGER_A_OBJECT_SHOULD_RETURN, rn(3));
		put_u32(m, EXTPAGER_A_OBJECT_LOCK_FLAGS, rn(4));
		/* The canary is never dirty: whatever this asks, it loses nothing. */
		fire(m, false, "");
		return;
	case 6:
		default_pager_set(m);
		return;
	case 7:
		/* Objects' offers of their own, and adopting what has a manager. */
		msg_init(m, EXTPAGER_CMD_OBJECT_ADOPT, NLM_F_ACK);
		put_u32(m, EXTPAGER_A_OBJECT_ID, some_id());
		fire(m, false, "");
		return;
	default:
		break;
	}
	/* Structured: a command's own attributes, values from odd sets. */
	o = chance(90) ? o : NULL;
	cmd = (uint8_t[]){ EXTPAGER_CMD_READY, EXTPAGER_CMD_DATA_SUPPLY,
			   EXTPAGER_CMD_DATA_UNAVAILABLE, EXTPAGER_CMD_DATA_ERROR,
			   EXTPAGER_CMD_UNLOCK_REPLY, EXTPAGER_CMD_RETURN_ACK,
			   EXTPAGER_CMD_LOCK_REQUEST, EXTPAGER_CMD_DATA_SUPPLY }[rn(8)];
	msg_init(m, cmd, NLM_F_ACK);
	put_u32(m, EXTPAGER_A_OBJECT_ID, o ? o->id : some_id());
	switch (cmd) {
	case EXTPAGER_CMD_READY:
		if (chance(50))
			put_u32(m, EXTPAGER_A_OBJECT_CLUSTER, rn(300));
		if (chance(50))
			put_uint(m, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, chance(50) ? rn(32) : rnd());
		if (chance(30))
			put_u8(m, EXTPAGER_A_OBJECT_MAY_CACHE, rn(3));
		if (chance(30))
			put_u8(m, EXTPAGER_A_OBJECT_NOTIFY_EVICT, rn(3));
		break;
	case EXTPAGER_CMD_DATA_SUPPLY:
		if (chance(50))
			put_u32(m, EXTPAGER_A_OBJECT_REQUEST_ID, some_req(o));
		put_uint(m, EXTPAGER_A_OBJECT_OFFSET, some_offset(o));
		if (chance(50)) {
			int pages = rn(5), sz = chance(90) ? PG : rn(2 * PG);

			for (i = 0; i < pages; i++)
				put(m, EXTPAGER_A_OBJECT_DATA, buf, sz);
			if (chance(20))
				put_uint(m, EXTPAGER_A_OBJECT_LENGTH, some_length());
		} else {
			put_uint(m, EXTPAGER_A_OBJECT_DATA_ADDR, some_addr());
			if (chance(90))
				put_uint(m, EXTPAGER_A_OBJECT_LENGTH, some_length());
		}
		if (chance(30))
			put_u32(m, EXTPAGER_A_OBJECT_FLAGS, rn(8));
		break;
	case EXTPAGER_CMD_DATA_UNAVAILABLE:
	case EXTPAGER_CMD_DATA_ERROR:
	case EXTPAGER_CMD_LOCK_REQUEST:
		put_u32(m, EXTPAGER_A_OBJECT_REQUEST_ID, some_req(o));
		put_uint(m, EXTPAGER_A_OBJECT_OFFSET, some_offset(o));
		put_uint(m, EXTPAGER_A_OBJECT_LENGTH,
			 cmd == EXTPAGER_CMD_LOCK_REQUEST && chance(50) && o ? o->size : some_length());
		if (cmd == EXTPAGER_CMD_DATA_ERROR)
			put_u32(m, EXTPAGER_A_OBJECT_ERROR, chance(90) ? 1 + rn(4095) : rnd());
		if (cmd == EXTPAGER_CMD_LOCK_REQUEST) {
			put_u32(m, EXTPAGER_A_OBJECT_SHOULD_RETURN, rn(4));
			put_u32(m, EXTPAGER_A_OBJECT_LOCK_FLAGS, rn(5));
		}
		break;
	case EXTPAGER_CMD_UNLOCK_REPLY:
		put_u32(m, EXTPAGER_A_OBJECT_REQUEST_ID, some_req(o));
		put_u8(m, EXTPAGER_A_OBJECT_GRANT, rn(3));
		break;
	case EXTPAGER_CMD_RETURN_ACK:
		put_u32(m, EXTPAGER_A_OBJECT_REQUEST_ID, some_req(o));
		if (chance(30))
			put_u32(m, EXTPAGER_A_OBJECT_ERROR, rn(5000));
		break;
	}
	/* Never a valid supply, zero-fill or error for the canary. */
	if (*(uint32_t *)(m->b + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN) == canary->id &&
	    cmd != EXTPAGER_CMD_READY)
		return;
	fire(m, false, "");
}

/* --- chaos: what no valid message looks like ------------------------------- */

static void random_attrs(struct msg *m, int depth)
{
	int i, n = rn(8);

	for (i = 0; i < n; i++) {
		uint16_t t = chance(80) ? rn(EXTPAGER_A_OBJECT_MAX + 3) : rnd();
		char data[64];
		size_t len;
		uint64_t j;

		if (depth < 3 && chance(10)) {
			int start = m->len;

			put(m, t | NLA_F_NESTED, NULL, 0);
			random_attrs(m, depth + 1);
			((struct nlattr *)(m->b + start))->nla_len = m->len - start;
			continue;
		}
		if (chance(3)) {	/* oversized */
			len = 4096 + rn(60000);
			put(m, t, buf, len);
			continue;
		}
		len = (size_t[]){ 0, 1, 2, 4, 4, 8, 8, 3, 16, 63 }[rn(10)];
		for (j = 0; j < len; j++)
			data[j] = rn(4) ? rnd() : 0xff;
		put(m, t, data, len);
		if (chance(10))	/* duplicated */
			put(m, t, data, len);
	}
}

static void chaos(struct msg *m)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	struct genlmsghdr *g = (struct genlmsghdr *)(nlh + 1);
	uint8_t cmd = rn(EXTPAGER_CMD_MAX + 3);
	struct obj *o = pick_live();
	int err;

	/* The canary is never a target here: random values may be valid. */
	msg_init(m, cmd, NLM_F_ACK | (chance(5) ? NLM_F_DUMP : 0));
	if (chance(50) && o) {
		put_u32(m, EXTPAGER_A_OBJECT_ID, o->id);
	} else if (chance(30)) {
		uint32_t id = some_id();

		if (!canary || id != canary->id)
			put_u32(m, EXTPAGER_A_OBJECT_ID, id);
	}
	random_attrs(m, 0);
	if (chance(5))
		g->version = rnd();
	if (chance(5))
		g->reserved = rnd();
	switch (rn(20)) {
	case 0:		/* cut anywhere: the kernel drops or refuses it */
		m->len = rn(m->len + 1);
		nlh->nlmsg_len = chance(50) ? m->len : nlh->nlmsg_len;
		break;
	case 1:		/* a length longer than what was sent */
		nlh->nlmsg_len = m->len + 1 + rn(64);
		break;
	case 2:		/* an attribute's length past the message's end */
		if (m->len > NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN)
			((struct nlattr *)(g + 1))->nla_len = 0xffff;
		break;
	case 3:		/* no genetlink header */
		m->len = NLMSG_HDRLEN + rn(GENL_HDRLEN);
		nlh->nlmsg_len = m->len;
		break;
	case 4:		/* a control message, or a family that does not exist */
		nlh->nlmsg_type = chance(50) ? NLMSG_NOOP + rn(4) : family + 1000 + rn(1000);
		break;
	default:
		break;
	}
	if (m->len < sizeof(*nlh) || nlh->nlmsg_len != m->len) {
		/* No answer may come: send, count, and read what came. */
		err = nl_send(nl_fd, m->b, m->len);
		messages++;
		if (!err) {
			int result = 1;

			int h = nlh->nlmsg_type == family ? cmd : OTHER_TYPE;

			if (drain(nlh->nlmsg_seq, &result) && result != 1)
				count(&hist[h], result, false);
			else
				hist[h].sent++, hist[h].noack++;
		}
		return;
	}
	fire(m, false, "");
}

/* --- the canaries' readers ------------------------------------------------- */

static __thread sigjmp_buf jb;
static __thread volatile int in_touch;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (in_touch)
		siglongjmp(jb, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static volatile bool running = true;

/* Read back @map (the canary's contents at @size bytes) until stopped. */
static void canary_loop(const volatile uint64_t *map, uint64_t size, const char *who,
			volatile unsigned long *checks, volatile int *bad, char *why)
{
	static __thread uint64_t s = CANARY_SEED;	/* not clobbered by longjmp */
	uint64_t i;

	while (running && !*bad) {
		uint64_t page = mix(&s) % (size / PG);

		in_touch = 1;
		if (sigsetjmp(jb, 1)) {
			in_touch = 0;
			snprintf(why, 256, "%s: signal on page %" PRIu64, who, page);
			*bad = 1;
			break;
		}
		for (i = 0; i < PG / 8; i += 61) {
			uint64_t off = page * PG + i * 8, got = map[off / 8];

			if (got != pat(off)) {
				snprintf(why, 256, "%s: at %" PRIu64 " %#" PRIx64 ", not %#" PRIx64,
					 who, off, got, pat(off));
				*bad = 1;
				break;
			}
		}
		in_touch = 0;
		if (++(*checks) % 8 == 0)
			usleep(100);	/* leave the CPUs to the fuzzing */
	}
}

static void *canary_reader(void *arg)
{
	canary_loop((const volatile uint64_t *)canary->map, canary->size, "canary (this socket)",
		    &canary_checks, &canary_bad, canary_why);
	return NULL;
}

/* Touch the fuzz objects' pages: faults, dirty pages, returns. */
static void *toucher(void *arg)
{
	uint64_t s = gen_state ^ 0x746f756368ULL;

	while (running) {
		struct obj *o = &objs[mix(&s) % MAX_OBJS];
		volatile char *p;

		if (!o->used || o->canary || pthread_mutex_trylock(&touching))
			continue;
		if (o->used && o->map) {
			p = o->map + mix(&s) % o->size;
			in_touch = 1;
			if (!sigsetjmp(jb, 1)) {
				if (!o->ro && mix(&s) % 2)
					*p = 1;
				else
					(void)*p;
			}
			in_touch = 0;
		}
		pthread_mutex_unlock(&touching);
		usleep(200);
	}
	return NULL;
}

/* The other socket's canary, in a child, served by libpager. */
static int child_read(struct pager *pager, uint64_t offset, size_t len, void *b,
		      enum pager_access access, unsigned int *flags)
{
	fill_pat(b, offset, len);
	return 0;
}

static const struct pager_ops child_ops = { .read = child_read };

static void *child_serve(void *conn)
{
	pager_serve(conn, 1);
	return NULL;
}

static void *child_flush(void *pager)
{
	for (;;) {
		usleep(100000);
		pager_flush(pager, 0, CANARY_PAGES * PG);
	}
	return NULL;
}

static pid_t child_start(int *idpipe)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid)
		goto parent;

	{
		struct pager_attr attr = { .cluster = 4, .resident_limit = 8 };
		static volatile unsigned long checks;
		static volatile int bad;
		struct pager_conn *conn;
		struct pager *pager;
		static char why[256];
		pthread_t t;
		uint32_t id;
		void *map;

		close(p[0]);
		if (pager_conn_open(&conn) ||
		    pager_create(conn, CANARY_PAGES * PG, &child_ops, &attr, NULL, &pager)) {
			fprintf(stderr, "fuzz: child canary: %s\n", pager_conn_error());
			_exit(2);
		}
		id = pager_id(pager);
		map = mmap(NULL, CANARY_PAGES * PG, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
		if (map == MAP_FAILED || pthread_create(&t, NULL, child_serve, conn) ||
		    pthread_create(&t, NULL, child_flush, pager))
			_exit(2);
		if (write(p[1], &id, sizeof(id)) != sizeof(id))
			_exit(2);
		/* Read until killed; exit only on a mismatch. */
		canary_loop(map, CANARY_PAGES * PG, "canary (another process)",
			    &checks, &bad, why);
		fprintf(stderr, "fuzz: %s\n", why);
		_exit(1);
	}
parent:
	close(p[1]);
	*idpipe = p[0];
	return pid;
}

/* --- main ------------------------------------------------------------------ */

/* The canary's counters, to tell a timeout from an error. */
static void got_stats(struct nlmsghdr *nlh, void *arg)
{
	static const char *const names[] = {
		[EXTPAGER_A_STATS_FAULTS] = "faults", [EXTPAGER_A_STATS_REQUESTS] = "requests",
		[EXTPAGER_A_STATS_SUPPLIES] = "supplies", [EXTPAGER_A_STATS_ERRORS] = "errors",
		[EXTPAGER_A_STATS_TIMEOUTS] = "timeouts",
		[EXTPAGER_A_STATS_ZERO_FILLS] = "zero-fills",
		[EXTPAGER_A_STATS_DEFAULT_FAULTS] = "default-faults",
		[EXTPAGER_A_STATS_CHANNEL_REQUESTS] = "channel-requests",
	};
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1], *a;
	int rem;

	parse_attrs(nlh, tb, EXTPAGER_A_OBJECT_MAX);
	if (!tb[EXTPAGER_A_OBJECT_STATS])
		return;
	printf("canary (this socket) counters:");
	rem = tb[EXTPAGER_A_OBJECT_STATS]->nla_len - NLA_HDRLEN;
	attr_for_each(a, tb[EXTPAGER_A_OBJECT_STATS] + 1, rem)
		if (a->nla_type < sizeof(names) / sizeof(names[0]) && names[a->nla_type])
			printf(" %s %" PRIu64, names[a->nla_type], get_uint(a));
	printf("\n");
}

static void canary_stats(struct msg *m)
{
	static char r[16384];
	struct nlmsghdr *nlh = (struct nlmsghdr *)r;
	int n;

	drain(0, NULL);
	msg_init(m, EXTPAGER_CMD_OBJECT_GET, 0);
	put_u32(m, EXTPAGER_A_OBJECT_ID, canary->id);
	if (nl_send(nl_fd, m->b, m->len))
		return;
	while ((n = recv(nl_fd, r, sizeof(r), MSG_DONTWAIT)) > 0)
		for (nlh = (struct nlmsghdr *)r; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n))
			if (nlh->nlmsg_type == family && nlh->nlmsg_seq == seq)
				got_stats(nlh, NULL);
}

/*
 * A fault on the canary that never ends: requests time out after
 * request_timeout_ms, so a canary read that has not completed for
 * STALL_S is a hang.  Show the blocked tasks (sysrq w) in the kernel log.
 */
#define STALL_S	60

static bool canary_stalled(void)
{
	static unsigned long last_checks;
	static struct timespec since;
	struct timespec now;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (canary_checks != last_checks || !since.tv_sec) {
		last_checks = canary_checks;
		since = now;
		return false;
	}
	if (now.tv_sec - since.tv_sec < STALL_S)
		return false;
	snprintf(canary_why, sizeof(canary_why),
		 "canary (this socket): no read completed for %d s, a fault never ended", STALL_S);
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) != 1)
			perror("fuzz: sysrq");
		close(fd);
		fprintf(stderr, "fuzz: the blocked tasks are in the kernel log (sysrq w)\n");
	}
	return true;
}

static const char *errname(int e)
{
	static char b[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(b, sizeof(b), "E%d", e);
	return b;
}

static void print_hist(const char *name, const struct cmd_hist *h)
{
	int e;

	printf("  %-20s %9lu sent, %9lu accepted", name, h->sent, h->accepted);
	if (h->invalid_sent)
		printf(", invalid %lu (accepted %lu)", h->invalid_sent, h->invalid_accepted);
	if (h->noack)
		printf(", %lu unanswered", h->noack);
	printf("\n   ");
	for (e = 1; e <= MAX_ERRNO_HIST; e++)
		if (h->err[e])
			printf(" %s %lu", e == MAX_ERRNO_HIST ? "other" : errname(e), h->err[e]);
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: extpager_fuzz [--seed=N] [--messages=N] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ }
	};
	uint64_t seed = time(NULL) ^ getpid(), total = 1000000;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	struct sigaction act = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	int c, one = 1, big = 32 << 20, idpipe, status, i;
	struct timespec t0, t1;
	pthread_t reader, touch;
	bool reader_running = true, touch_running = true;
	char *mb = malloc(MSG_MAX);
	struct msg m = { .b = mb, .size = MSG_MAX };
	unsigned long next_report = 0, loops = 0;
	struct obj *co = NULL;
	pid_t child;
	double secs;
	uint32_t id;
	bool fail;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': total = strtoull(optarg, NULL, 0); break;
		case 'v': verbose = true; break;
		default: usage();
		}
	}
	gen_state = seed;
	srv_state = seed ^ 0x5e5e5e5eULL;
	printf("extpager_fuzz: seed %" PRIu64 ", %" PRIu64 " messages\n", seed, total);
	fflush(stdout);

	sigaction(SIGBUS, &act, NULL);
	sigaction(SIGSEGV, &act, NULL);
	buf = mmap(NULL, (BUF_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	canary_data = malloc(CANARY_PAGES * PG);
	if (buf == MAP_FAILED || !canary_data || !mb)
		return 2;
	guard = buf + BUF_PAGES * PG;
	mprotect(guard, PG, PROT_NONE);
	memset(buf, 0xa5, BUF_PAGES * PG);
	fill_pat(canary_data, 0, CANARY_PAGES * PG);

	child = child_start(&idpipe);
	if (child < 0 || read(idpipe, &foreign_id, sizeof(foreign_id)) != sizeof(foreign_id)) {
		fprintf(stderr, "fuzz: the other process's canary did not start\n");
		return 2;
	}

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl_fd < 0 || bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(nl_fd, (struct sockaddr *)&sa, &salen))
		return 2;
	my_portid = sa.nl_pid;
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(nl_fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		setsockopt(nl_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	family = resolve_family(nl_fd);
	if (family < 0) {
		fprintf(stderr, "fuzz: no extpager family: is the module loaded?\n");
		return 2;
	}
	if (io_uring_queue_init(256, &ring, 0)) {
		fprintf(stderr, "fuzz: io_uring_queue_init failed\n");
		return 2;
	}

	/* The canary of this socket: created, mapped, served by the loop. */
	msg_init(&m, EXTPAGER_CMD_OBJECT_CREATE, NLM_F_ACK);
	put_u64(&m, EXTPAGER_A_OBJECT_SIZE, CANARY_PAGES * PG);
	if (call(&m)) {
		fprintf(stderr, "fuzz: creating the canary failed\n");
		return 2;
	}
	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].used)
			co = &objs[i];
	if (!co || !co->map) {
		fprintf(stderr, "fuzz: the canary has no mapping\n");
		return 2;
	}
	canary = co;
	canary->canary = true;
	munmap(canary->map, canary->size);
	canary->map = mmap(NULL, canary->size, PROT_READ, MAP_SHARED, canary->fd, 0);
	id = canary->id;
	printf("canaries: object %u (this socket), object %u (process %d)\n", id, foreign_id,
	       child);
	fflush(stdout);
	pthread_create(&reader, NULL, canary_reader, NULL);
	pthread_create(&touch, NULL, toucher, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (messages < total && !canary_bad) {
		uint64_t r = rn(100);

		if (r < 30)
			invalid_message(&m);
		else if (r < 60)
			legit(&m);
		else if (r < 90)
			chaos(&m);
		else
			chan_chaos();
		/* Evict the canary now and then: its pages are asked for anew. */
		if (++loops % 256 == 0) {
			msg_init(&m, EXTPAGER_CMD_LOCK_REQUEST, NLM_F_ACK);
			put_u32(&m, EXTPAGER_A_OBJECT_ID, canary->id);
			put_u32(&m, EXTPAGER_A_OBJECT_REQUEST_ID, loops);
			put_u64(&m, EXTPAGER_A_OBJECT_OFFSET, 0);
			put_u64(&m, EXTPAGER_A_OBJECT_LENGTH, canary->size);
			put_u32(&m, EXTPAGER_A_OBJECT_LOCK_FLAGS, EXTPAGER_LOCK_FLAGS_FLUSH);
			fire(&m, false, "");
		}
		drain(0, NULL);
		reap();
		if (loops % 64 == 0 && canary_stalled()) {
			canary_bad = 1;
			break;
		}
		/* Closed, and mapped, once the toucher is out of its maps. */
		for (i = 0; i < MAX_OBJS; i++) {
			if (objs[i].used && objs[i].destroyed)
				obj_drop(&objs[i]);
			else if (objs[i].used)
				map_pending(&objs[i]);
		}
		if (messages >= next_report && waitpid(child, &status, WNOHANG) == child) {
			canary_bad = 1;
			snprintf(canary_why, sizeof(canary_why),
				 "canary (another process) failed (status %#x)", status);
			child = -1;
		}
		if (messages >= next_report) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("# %lu messages, %.0f s, canary checks %lu, invalid accepted %lu\n",
			       messages, t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
			       canary_checks, invalid_accepted);
			fflush(stdout);
			next_report += total / 10 ?: 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	running = false;
	/*
	 * Both may wait on a fault: serve until they are done.  The toucher's
	 * may be one that nobody answers, which lasts request_timeout_ms: the
	 * canary's requests must not wait for it.
	 */
	while (!canary_bad && (touch_running || reader_running)) {
		struct pollfd pfd = { .fd = nl_fd, .events = POLLIN };

		poll(&pfd, 1, 10);
		drain(0, NULL);
		reap();
		if (touch_running && !pthread_tryjoin_np(touch, NULL))
			touch_running = false;
		if (reader_running && !pthread_tryjoin_np(reader, NULL))
			reader_running = false;
		if (canary_stalled())
			canary_bad = 1;
	}

	/* The child's verdict: it reads until killed, unless it failed. */
	if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
		canary_bad = 1;
		snprintf(canary_why, sizeof(canary_why),
			 "canary (another process) failed (status %#x)", status);
	} else if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}

	printf("\nper command (netlink):\n");
	for (i = 0; i <= NCMD; i++) {
		char n[24];

		if (!hist[i].sent)
			continue;
		snprintf(n, sizeof(n), "%s", i == OTHER_TYPE ? "other nlmsg_type" : cmd_name(i) ?: "");
		if (!*n)
			snprintf(n, sizeof(n), "cmd %d", i);
		print_hist(n, &hist[i]);
	}
	printf("data channel (io_uring):\n");
	print_hist("fetch, commit", &chist[CH_SERVED]);
	print_hist("invalid fetch", &chist[CH_FETCH]);
	print_hist("invalid commit", &chist[CH_COMMIT]);
	print_hist("unknown cmd_op", &chist[CH_UNKNOWN]);
	printf("\nseed %" PRIu64 ": %lu messages (%lu over the channel) in %.1f s, %.0f/s\n",
	       seed, messages, uring_msgs, secs, messages / secs);
	printf("answers refused %lu, canary requests served %lu, canary checks %lu\n",
	       answers_refused, canary_served, canary_checks);
	fail = invalid_accepted || canary_bad;
	if (canary_bad) {
		printf("FAIL: canary mismatch: %s\n", canary_why);
		canary_stats(&m);
	}
	if (invalid_accepted)
		printf("FAIL: %lu certainly invalid messages were accepted\n", invalid_accepted);
	if (!fail)
		printf("PASS: every certainly invalid message refused, canaries intact\n");
	(void)verbose;
	(void)my_portid;
	return fail;
}
