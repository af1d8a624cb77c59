// SPDX-License-Identifier: GPL-2.0
/*
 * dsmpager: one memory object shared, coherently, by several machines: the
 * Mach NetMemServer in Linux idiom.  Each machine runs a dsmpager; its
 * clients map the object as any other daemon's.  Pages follow Li and
 * Hudak's Ivy: many readers or one writer, writes invalidate.  Every page
 * has a home node (page number modulo the number of nodes) that keeps its
 * directory entry (who holds it writable, who holds read-only copies),
 * serialises the requests for it, and keeps its data in an NBD export.
 *
 * The directory is the home's own view and is allowed to be too large: a
 * node that dropped a clean copy is still listed, and its recall finds
 * nothing to do.  It is never too small: a node is removed only when it
 * said it has no copy (a recall done, or a request for the page, which a
 * kernel sends only for a page it does not have).
 *
 * Nodes speak a small message protocol over one TCP connection per pair
 * (struct wire).  Every node has one thread per connection that receives
 * and handles, one that sends, and one that delivers the messages a node
 * sends itself; handling never waits for another node, so no cycle of
 * nodes can deadlock.  A recall runs pager_lock_request() in a thread of
 * its own, since it waits for the kernel, which waits for the returns.
 * One mutex covers all the state; the home's NBD reads and writes are done
 * under it (a local server answers in microseconds).
 * Documentation/daemons.rst describes the protocol, with a diagram.
 */
#include <endian.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>

#include <libnbd.h>

#include "daemon.h"

static const char usage[] =
"usage: dsmpager --config=FILE --node=ID --store=URI [--wait=SECONDS] SOCKET\n"
"\n"
"Serve one memory object shared by every node that FILE names, coherent across\n"
"them: any number of nodes may hold a page read-only, or one node writable.\n"
"This node is ID.  The pages this node is home to (page number modulo the\n"
"number of nodes) are kept in the NBD export URI.  Each connection to the unix\n"
"socket SOCKET gets the object's descriptor (SCM_RIGHTS) and its size in bytes\n"
"(a native uint64_t); map it MAP_SHARED.\n"
"\n"
"FILE has one setting per line ('#' starts a comment):\n"
"  size BYTES          the object's size (suffixes K, M, G); the same everywhere\n"
"  node ID HOST:PORT   each node, IDs 0, 1, ... (at most 64); the node listens\n"
"                      on PORT, the others connect to HOST:PORT\n"
"\n"
"  --config=FILE    the membership, as above\n"
"  --node=ID        which node of FILE this is\n"
"  --store=URI      the NBD export holding this node's home pages, at their\n"
"                   offsets in the object (it must be at least the object's size)\n"
"  --wait=SECONDS   how long to wait for every other node at start (default 60)\n"
"  -h, --help       this text\n"
"  --version        the version of extpager it belongs to\n"
"\n"
"SIGUSR1 prints a line of statistics.  SIGTERM or SIGINT stops: the dirty pages\n"
"still in the clients' mappings are returned to their homes, and the object is\n"
"destroyed.  A node that stops or loses its connection to another is gone for\n"
"good to it: the pages that node is home to then fail (SIGBUS).\n";

#define MAX_NODES	64
#define WIRE_MAGIC	0x4d5344524547503eULL	/* ">PGERDSM" */
#define WIRE_VERSION	1

/* What the nodes say to each other. */
enum wire_type {
	WIRE_HELLO = 1,	/* first, both ways: page = size, seq = magic */
	WIRE_FETCH,	/* to the home: the page, for reading or writing */
	WIRE_GRANT,	/* from the home: the page (data unless ZERO or UNLOCK) */
	WIRE_RECALL,	/* from the home: give the page up (WRITE) or write-protect it */
	WIRE_RECALLED,	/* to the home: done */
	WIRE_PUT,	/* to the home: a modified page (data) */
	WIRE_STORED,	/* from the home: the page is in its store (err) */
};

#define WIRE_WRITE	(1u << 0)	/* FETCH/GRANT: writable; RECALL: invalidate */
#define WIRE_UNLOCK	(1u << 1)	/* FETCH/GRANT: the asker has a read-only copy */
#define WIRE_ZERO	(1u << 2)	/* GRANT: the page is zeros, no data follows */
#define WIRE_STALE	(1u << 3)	/* GRANT of an unlock: the copy was invalidated */

/* Little-endian on the wire; a page of data follows where the type says. */
struct wire {
	uint8_t type;
	uint8_t flags;
	uint16_t node;		/* the sender */
	int32_t err;		/* GRANT, RECALLED, STORED: 0 or -errno */
	uint64_t page;		/* HELLO: the object's size in bytes */
	uint64_t seq;		/* an answer carries its question's; HELLO: magic */
	uint32_t nodes;		/* HELLO: how many nodes the sender's FILE has */
	uint32_t page_size;	/* HELLO */
};

/* A message waiting to be sent. */
struct out {
	struct out *next;
	struct wire w;
	char data[];		/* a page if wire_has_data(&w) */
};

struct node {
	char host[256];
	char port[16];
	int fd;			/* -1: this node, or not connected */
	bool up;		/* taking messages: connected, or this node */
	struct out *head, *tail;
	pthread_cond_t more;	/* head was NULL and is not */
	pthread_t rx, tx;
	struct dsmpager *dp;
};

/* A request for a page, queued at its home; the first is being served. */
struct op {
	struct op *next;
	uint16_t node;
	uint8_t flags;
	uint64_t seq;
};

/* The home's directory entry of a page. */
struct dir {
	uint64_t copies;	/* nodes with a read-only copy */
	int writer;		/* the node with it writable, or -1 */
	uint64_t recalling;	/* nodes the first op waits for */
	uint64_t recall_seq;
	struct op *head, *tail;
};

/* A data request of the kernel's, waiting for its pages' grants. */
struct fetch {
	struct pager_request *req;
	void *buf;
	uint64_t first;
	size_t npages, left;
	bool write;
	int err;
};

/* A return of the kernel's, waiting for its pages to be stored. */
struct put {
	struct pager_request *req;
	size_t left;
	int err;
};

/* This node's requests about a page, as its requester. */
struct local {
	struct fetch *fetch;
	uint64_t fetch_seq;
	struct pager_request *unlock;
	uint64_t unlock_seq;
	struct put *put;
	uint64_t put_seq;
};

/* An answer to give the kernel once the lock is dropped. */
struct answer {
	struct answer *next;
	struct pager_request *req;
	int ret;
	void *buf;		/* freed after */
	unsigned int flags;
};

struct dsmpager {
	struct daemon d;
	pthread_mutex_t lock;
	unsigned int self, nnodes;
	struct node nodes[MAX_NODES];
	uint64_t size, npages;
	const char *store_uri;
	struct nbd_handle *store;
	struct dir *dir;	/* indexed by page; only home pages used */
	struct local *local;	/* indexed by page */
	uint64_t seq;
	void *zero_page;
	bool stopping;			/* the object is going: recall nothing */
	unsigned int recalls_running;
	pthread_cond_t recalls_idle;	/* recalls_running fell to 0 */
	/* Counters, under lock. */
	uint64_t fetches, grants_in, recalls_in, puts_out;
	uint64_t served, recalls_out, stores, loads, zero_grants;
};

static size_t page_size;

static unsigned int home_of(const struct dsmpager *dp, uint64_t page)
{
	return page % dp->nnodes;
}

static bool wire_has_data(const struct wire *w)
{
	return w->type == WIRE_PUT ||
	       (w->type == WIRE_GRANT && !w->err && !(w->flags & (WIRE_ZERO | WIRE_UNLOCK)));
}

static uint64_t bit(unsigned int node)
{
	return 1ULL << node;
}

/* --- sending ----------------------------------------------------------- */

/*
 * Queue a message to @to (this node included); @data is a page or NULL.
 * Under lock.  -ENOTCONN: @to is gone, the message is dropped.
 */
static int send_msg(struct dsmpager *dp, unsigned int to, uint8_t type, uint8_t flags,
		    uint64_t page, uint64_t seq, int err, const void *data)
{
	struct node *n = &dp->nodes[to];
	struct out *o;

	if (!n->up)
		return -ENOTCONN;
	o = malloc(sizeof(*o) + (data ? page_size : 0));
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->w = (struct wire){
		.type = type, .flags = flags, .node = dp->self, .err = err,
		.page = page, .seq = seq,
	};
	if (data)
		memcpy(o->data, data, page_size);
	if (n->tail)
		n->tail->next = o;
	else
		n->head = o;
	n->tail = o;
	pthread_cond_signal(&n->more);
	return 0;
}

static void wire_encode(struct wire *w)
{
	w->node = htole16(w->node);
	w->err = (int32_t)htole32((uint32_t)w->err);
	w->page = htole64(w->page);
	w->seq = htole64(w->seq);
	w->nodes = htole32(w->nodes);
	w->page_size = htole32(w->page_size);
}

static void wire_decode(struct wire *w)
{
	w->node = le16toh(w->node);
	w->err = (int32_t)le32toh((uint32_t)w->err);
	w->page = le64toh(w->page);
	w->seq = le64toh(w->seq);
	w->nodes = le32toh(w->nodes);
	w->page_size = le32toh(w->page_size);
}

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

/* --- the home: directory and store --------------------------------------- */

static void serve_next(struct dsmpager *dp, uint64_t page);

/* Load a page from the store: 0, or 1 if it is zeros, or -errno. */
static int store_load(struct dsmpager *dp, uint64_t page, void *buf)
{
	if (nbd_pread(dp->store, buf, page_size, page * page_size, 0) == -1) {
		daemon_err(&dp->d, "reading page %llu from %s: %s", (unsigned long long)page,
			   dp->store_uri, nbd_get_error());
		return -EIO;
	}
	dp->loads++;
	return !memcmp(buf, dp->zero_page, page_size);
}

/*
 * The first op's recalls are done: grant it.  A reader joins the copies;
 * a writer becomes the only holder.  A requester gone meanwhile gets
 * nothing and is recorded nowhere.
 */
static void grant(struct dsmpager *dp, uint64_t page, char *buf)
{
	struct dir *e = &dp->dir[page];
	struct op *op = e->head;
	uint8_t flags = op->flags & (WIRE_WRITE | WIRE_UNLOCK);
	int ret = 0;

	if (!(op->flags & WIRE_UNLOCK)) {
		ret = buf ? store_load(dp, page, buf) : -ENOMEM;
		if (ret < 0) {
			/* The fault fails (SIGBUS); the entry is as it was. */
			send_msg(dp, op->node, WIRE_GRANT, flags, page, op->seq, ret, NULL);
			return;
		}
		if (ret == 1) {
			flags |= WIRE_ZERO;
			dp->zero_grants++;
		}
	}
	if (send_msg(dp, op->node, WIRE_GRANT, flags, page, op->seq, 0,
		     (flags & (WIRE_ZERO | WIRE_UNLOCK)) ? NULL : buf))
		return;
	dp->served++;
	if (op->flags & WIRE_WRITE) {
		e->writer = op->node;
		e->copies = 0;
	} else {
		e->copies |= bit(op->node);
	}
}

/* Pop the first op, granted or not, and serve the next. */
static void op_done(struct dsmpager *dp, uint64_t page)
{
	struct dir *e = &dp->dir[page];
	struct op *op = e->head;

	e->head = op->next;
	if (!e->head)
		e->tail = NULL;
	free(op);
	serve_next(dp, page);
}

static void recalls_done(struct dsmpager *dp, uint64_t page)
{
	char *buf = malloc(page_size);

	grant(dp, page, buf);
	free(buf);
	op_done(dp, page);
}

/*
 * Serve the first op of the page: recall every copy in its way (the writer,
 * to write-protect and return it, for a reader; everyone else, to
 * invalidate, for a writer), then grant.
 */
static void serve_next(struct dsmpager *dp, uint64_t page)
{
	struct dir *e = &dp->dir[page];
	uint64_t holders, targets;
	struct op *op;
	unsigned int n;

	op = e->head;
	if (!op)
		return;
	holders = e->copies | (e->writer >= 0 ? bit(e->writer) : 0);
	if ((op->flags & WIRE_UNLOCK) && !(holders & bit(op->node))) {
		/*
		 * Its copy was invalidated while it asked: the kernel has
		 * dropped it, and the write faults the page in again.
		 */
		send_msg(dp, op->node, WIRE_GRANT, WIRE_WRITE | WIRE_UNLOCK | WIRE_STALE,
			 page, op->seq, 0, NULL);
		op_done(dp, page);
		return;
	}
	if (op->flags & WIRE_WRITE)
		targets = holders & ~bit(op->node);
	else
		targets = e->writer >= 0 && e->writer != op->node ? bit(e->writer) : 0;
	e->recalling = 0;
	e->recall_seq = ++dp->seq;
	for (n = 0; n < dp->nnodes; n++) {
		if (!(targets & bit(n)))
			continue;
		if (send_msg(dp, n, WIRE_RECALL, op->flags & WIRE_WRITE, page,
			     e->recall_seq, 0, NULL)) {
			/* Gone: it holds nothing any more. */
			e->copies &= ~bit(n);
			if (e->writer == (int)n)
				e->writer = -1;
			continue;
		}
		e->recalling |= bit(n);
		dp->recalls_out++;
	}
	if (!e->recalling)
		recalls_done(dp, page);
}

/* @node has no copy of the page: it asked for it, or it is gone. */
static void holds_nothing(struct dsmpager *dp, uint64_t page, unsigned int node)
{
	struct dir *e = &dp->dir[page];

	e->copies &= ~bit(node);
	if (e->writer == (int)node)
		e->writer = -1;
	/*
	 * A recall of it is done: it may even be stuck behind the kernel's
	 * request that the page's next op answers (its folio is locked).
	 */
	if (e->recalling & bit(node)) {
		e->recalling &= ~bit(node);
		if (!e->recalling)
			recalls_done(dp, page);
	}
}

static void home_fetch(struct dsmpager *dp, const struct wire *w)
{
	struct dir *e = &dp->dir[w->page];
	struct op *op = malloc(sizeof(*op));
	bool idle;

	if (!op)
		return;		/* its fault times out: SIGBUS */
	*op = (struct op){ .node = w->node, .flags = w->flags, .seq = w->seq };
	idle = !e->head;
	if (e->tail)
		e->tail->next = op;
	else
		e->head = op;
	e->tail = op;
	/* A kernel asks only for a page it does not have. */
	if (!(w->flags & WIRE_UNLOCK))
		holds_nothing(dp, w->page, w->node);
	if (idle)
		serve_next(dp, w->page);
}

static void home_recalled(struct dsmpager *dp, const struct wire *w)
{
	struct dir *e = &dp->dir[w->page];

	if (w->seq != e->recall_seq || !(e->recalling & bit(w->node)))
		return;		/* a recall already settled by the node's own fetch */
	/* Its modified page may not have come home: say so, it cannot be undone. */
	if (w->err)
		daemon_err(&dp->d, "node %u failed to give up page %llu: %s", w->node,
			   (unsigned long long)w->page, strerror(-w->err));
	if (e->head->flags & WIRE_WRITE) {
		e->copies &= ~bit(w->node);
	} else {
		/* Write-protected: a reader now. */
		e->copies |= bit(w->node);
	}
	if (e->writer == w->node)
		e->writer = -1;
	e->recalling &= ~bit(w->node);
	if (!e->recalling)
		recalls_done(dp, w->page);
}

static void home_put(struct dsmpager *dp, const struct wire *w, const void *data)
{
	int err = 0;

	if (nbd_pwrite(dp->store, data, page_size, w->page * page_size, 0) == -1) {
		daemon_err(&dp->d, "writing page %llu to %s: %s", (unsigned long long)w->page,
			   dp->store_uri, nbd_get_error());
		err = -EIO;
	} else {
		dp->stores++;
	}
	send_msg(dp, w->node, WIRE_STORED, 0, w->page, w->seq, err, NULL);
}

/* --- the requester --------------------------------------------------------- */

static void answer_later(struct answer **list, struct pager_request *req, int ret,
			 void *buf, unsigned int flags)
{
	struct answer *a = malloc(sizeof(*a));

	/*
	 * Without memory the handle leaks, and its request times out: the
	 * fault gets SIGBUS, a return goes to the default pager.
	 */
	if (!a) {
		free(buf);
		return;
	}
	*a = (struct answer){ .next = *list, .req = req, .ret = ret, .buf = buf,
			      .flags = flags };
	*list = a;
}

static void answer_all(struct answer *list)
{
	struct answer *a;

	while ((a = list)) {
		list = a->next;
		pager_answer(a->req, a->ret, a->buf, a->flags);
		free(a->buf);
		free(a);
	}
}

/* A page of a fetch is settled: with data (@data), zeros, or an error. */
static void fetch_page_done(struct dsmpager *dp, uint64_t page, const void *data,
			    int err, struct answer **answers)
{
	struct fetch *f = dp->local[page].fetch;
	char *dst = (char *)f->buf + (page - f->first) * page_size;

	dp->local[page].fetch = NULL;
	if (err)
		f->err = f->err ?: err;
	else if (data)
		memcpy(dst, data, page_size);
	else
		memset(dst, 0, page_size);
	if (--f->left)
		return;
	/*
	 * Never PAGER_UNAVAILABLE, even for zeros: the kernel's zero-fill
	 * would be writable, and a write must ask the home first.
	 */
	if (f->err)
		answer_later(answers, f->req, f->err, f->buf, 0);
	else
		answer_later(answers, f->req, 0, f->buf, f->write ? 0 : PAGER_READONLY);
	free(f);
}

static void put_page_done(struct dsmpager *dp, uint64_t page, int err,
			  struct answer **answers)
{
	struct put *p = dp->local[page].put;

	dp->local[page].put = NULL;
	p->err = p->err ?: err;
	if (--p->left)
		return;
	answer_later(answers, p->req, p->err, NULL, 0);
	free(p);
}

static void got_grant(struct dsmpager *dp, const struct wire *w, const void *data,
		      struct answer **answers)
{
	struct local *l = &dp->local[w->page];

	dp->grants_in++;
	if (w->flags & WIRE_UNLOCK) {
		if (!l->unlock || l->unlock_seq != w->seq)
			return;
		/* A stale grant unlocks nothing: the kernel's copy is gone. */
		answer_later(answers, l->unlock, w->err, NULL, 0);
		l->unlock = NULL;
		return;
	}
	if (!l->fetch || l->fetch_seq != w->seq)
		return;		/* for a request the kernel gave up */
	fetch_page_done(dp, w->page, (w->flags & WIRE_ZERO) ? NULL : data, w->err, answers);
}

static void *recall_thread(void *arg);

struct recall {
	struct dsmpager *dp;
	struct wire w;
};

static void got_recall(struct dsmpager *dp, const struct wire *w)
{
	struct recall *r;
	pthread_t t;

	dp->recalls_in++;
	/*
	 * Waiting for the page ourselves: nothing to give up.  (The kernel's
	 * folio is locked until the home answers, so a lock request would
	 * wait for the op behind this one.)  Stopping: the object's dirty
	 * pages went home already, and it is about to be destroyed.
	 */
	if (dp->local[w->page].fetch || dp->stopping)
		goto done;
	r = malloc(sizeof(*r));
	if (r) {
		r->dp = dp;
		r->w = *w;
		if (!pthread_create(&t, NULL, recall_thread, r)) {
			pthread_detach(t);
			dp->recalls_running++;
			return;
		}
		free(r);
	}
	/* The home waits for it: coherence is lost, but nothing hangs. */
	daemon_err(&dp->d, "cannot recall page %llu: out of memory",
		   (unsigned long long)w->page);
done:
	send_msg(dp, w->node, WIRE_RECALLED, 0, w->page, w->seq, 0, NULL);
}

/*
 * Write-protect the page and return it if modified (a reader came), or
 * also drop it (a writer came); then say so.  The lock request waits for
 * the returns to be stored at their home: RECALLED follows STORED.
 */
static void *recall_thread(void *arg)
{
	struct recall *r = arg;
	struct dsmpager *dp = r->dp;
	unsigned int flags = PAGER_LOCK_WRITE_PROTECT;
	int err;

	if (r->w.flags & WIRE_WRITE)
		flags |= PAGER_LOCK_FLUSH;
	/* -EBUSY: max_requests lock requests run on the object already. */
	while ((err = pager_lock_request(dp->d.pager, r->w.page * page_size, page_size,
					 PAGER_RETURN_DIRTY, flags)) == -EBUSY)
		usleep(1000);
	if (err)
		daemon_pager_err(&dp->d, "recalling a page", err);
	pthread_mutex_lock(&dp->lock);
	send_msg(dp, r->w.node, WIRE_RECALLED, 0, r->w.page, r->w.seq, err, NULL);
	if (!--dp->recalls_running)
		pthread_cond_broadcast(&dp->recalls_idle);
	pthread_mutex_unlock(&dp->lock);
	free(r);
	return NULL;
}

/* --- messages in ----------------------------------------------------------- */

static void handle(struct dsmpager *dp, const struct wire *w, const void *data,
		   struct answer **answers)
{
	switch (w->type) {
	case WIRE_FETCH:
		home_fetch(dp, w);
		break;
	case WIRE_RECALLED:
		home_recalled(dp, w);
		break;
	case WIRE_PUT:
		home_put(dp, w, data);
		break;
	case WIRE_GRANT:
		got_grant(dp, w, data, answers);
		break;
	case WIRE_RECALL:
		got_recall(dp, w);
		break;
	case WIRE_STORED:
		if (dp->local[w->page].put && dp->local[w->page].put_seq == w->seq)
			put_page_done(dp, w->page, w->err, answers);
		break;
	}
}

/* Whether a message from @from is one this node can take. */
static bool wire_valid(const struct dsmpager *dp, const struct wire *w, unsigned int from)
{
	if (w->node != from || w->page >= dp->npages || w->err > 0 || w->err < -4095)
		return false;
	switch (w->type) {
	case WIRE_FETCH:
	case WIRE_RECALLED:
	case WIRE_PUT:
		return home_of(dp, w->page) == dp->self;
	case WIRE_GRANT:
	case WIRE_RECALL:
	case WIRE_STORED:
		return home_of(dp, w->page) == from;
	}
	return false;
}

/*
 * @node is gone: it holds nothing (the pages it was home to fail), and what
 * this node waited from it fails.  Under lock.
 */
static void node_lost(struct dsmpager *dp, unsigned int node, struct answer **answers)
{
	struct node *n = &dp->nodes[node];
	struct out *o;
	struct op **pp, *op;
	uint64_t page;

	if (!n->up)
		return;
	daemon_err(&dp->d, "lost node %u (%s:%s): the pages it is home to fail now",
		   node, n->host, n->port);
	n->up = false;
	shutdown(n->fd, SHUT_RDWR);
	while ((o = n->head)) {
		n->head = o->next;
		free(o);
	}
	n->tail = NULL;
	pthread_cond_signal(&n->more);
	for (page = 0; page < dp->npages; page++) {
		struct local *l = &dp->local[page];

		if (home_of(dp, page) == node) {
			if (l->fetch)
				fetch_page_done(dp, page, NULL, -EIO, answers);
			if (l->unlock)
				answer_later(answers, l->unlock, -EIO, NULL, 0);
			l->unlock = NULL;
			if (l->put)
				put_page_done(dp, page, -EIO, answers);
			continue;
		}
		if (home_of(dp, page) != dp->self)
			continue;
		/* Its queued requests go; one being served is granted to nobody. */
		for (pp = &dp->dir[page].head; (op = *pp);) {
			if (op->node == node && op != dp->dir[page].head) {
				*pp = op->next;
				free(op);
			} else {
				pp = &op->next;
			}
		}
		dp->dir[page].tail = NULL;
		for (op = dp->dir[page].head; op; op = op->next)
			dp->dir[page].tail = op;
		holds_nothing(dp, page, node);
	}
}

static void *rx_thread(void *arg)
{
	struct node *n = arg;
	struct dsmpager *dp = n->dp;
	struct answer *answers = NULL;
	unsigned int from = n - dp->nodes;
	char *data = malloc(page_size);
	struct wire w;
	int err;

	for (;;) {
		err = data ? read_all(n->fd, &w, sizeof(w)) : -ENOMEM;
		if (!err) {
			wire_decode(&w);
			if (!wire_valid(dp, &w, from))
				err = -EPROTO;
		}
		if (!err && wire_has_data(&w))
			err = read_all(n->fd, data, page_size);
		pthread_mutex_lock(&dp->lock);
		if (err)
			node_lost(dp, from, &answers);
		else
			handle(dp, &w, data, &answers);
		pthread_mutex_unlock(&dp->lock);
		answer_all(answers);
		answers = NULL;
		if (err)
			break;
	}
	free(data);
	return NULL;
}

/*
 * Send what is queued for the node; for this node, handle it here, in the
 * order it was queued, as if it had come over the network.
 */
static void *tx_thread(void *arg)
{
	struct node *n = arg;
	struct dsmpager *dp = n->dp;
	struct answer *answers = NULL;
	struct out *o;
	size_t len;
	int err;

	pthread_mutex_lock(&dp->lock);
	for (;;) {
		while (n->up && !n->head)
			pthread_cond_wait(&n->more, &dp->lock);
		if (!n->up)
			break;
		o = n->head;
		n->head = o->next;
		if (!n->head)
			n->tail = NULL;
		if (n->fd < 0) {
			handle(dp, &o->w, o->data, &answers);
			err = 0;
		} else {
			pthread_mutex_unlock(&dp->lock);
			/* The page follows the header in struct out. */
			len = sizeof(o->w) + (wire_has_data(&o->w) ? page_size : 0);
			wire_encode(&o->w);
			err = write_all(n->fd, &o->w, len);
			pthread_mutex_lock(&dp->lock);
		}
		free(o);
		if (err)
			node_lost(dp, n - dp->nodes, &answers);
		if (answers) {
			pthread_mutex_unlock(&dp->lock);
			answer_all(answers);
			answers = NULL;
			pthread_mutex_lock(&dp->lock);
		}
	}
	pthread_mutex_unlock(&dp->lock);
	return NULL;
}

/* --- the pager's callbacks ------------------------------------------------- */

/* Whether every page of the run has its home up.  Under lock. */
static bool homes_up(const struct dsmpager *dp, uint64_t first, size_t npages)
{
	size_t i;

	for (i = 0; i < npages && i < dp->nnodes; i++)
		if (!dp->nodes[home_of(dp, first + i)].up)
			return false;
	return true;
}

/*
 * Each page of the run is fetched from its home; the kernel is answered
 * when all have come: read-only for a read, so that the first write asks
 * (unlock), writable for a write.
 */
static int dsm_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		    enum pager_access access, unsigned int *flags)
{
	struct dsmpager *dp = pager_priv(pager);
	struct answer *answers = NULL;
	struct fetch *f;
	uint64_t page;
	bool up;

	pthread_mutex_lock(&dp->lock);
	up = homes_up(dp, offset / page_size, len / page_size);
	pthread_mutex_unlock(&dp->lock);
	if (!up)
		return -EIO;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->buf = malloc(len)) || !(f->req = pager_defer())) {
		if (f)
			free(f->buf);
		free(f);
		return -ENOMEM;
	}
	f->first = offset / page_size;
	f->npages = f->left = len / page_size;
	f->write = access == PAGER_ACCESS_WRITE;
	pthread_mutex_lock(&dp->lock);
	for (page = f->first; page < f->first + f->npages; page++) {
		struct local *l = &dp->local[page];

		/* An earlier request the kernel gave up: only this one is waited for. */
		if (l->fetch)
			fetch_page_done(dp, page, NULL, -ETIMEDOUT, &answers);
		l->fetch = f;
		l->fetch_seq = ++dp->seq;
		dp->fetches++;
		if (send_msg(dp, home_of(dp, page), WIRE_FETCH, f->write ? WIRE_WRITE : 0,
			     page, l->fetch_seq, 0, NULL))
			fetch_page_done(dp, page, NULL, -EIO, &answers);
	}
	pthread_mutex_unlock(&dp->lock);
	answer_all(answers);
	return PAGER_LATER;
}

/* Modified pages go to their homes; stored there, they are the kernel's no more. */
static int dsm_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		     unsigned int flags)
{
	struct dsmpager *dp = pager_priv(pager);
	struct answer *answers = NULL;
	uint64_t page, first = offset / page_size;
	struct put *p;
	bool up;

	/* Unmodified: the home has them. */
	if (flags & PAGER_CLEAN)
		return 0;
	pthread_mutex_lock(&dp->lock);
	up = homes_up(dp, first, len / page_size);
	pthread_mutex_unlock(&dp->lock);
	if (!up)
		return -EIO;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->req = pager_defer())) {
		free(p);
		return -ENOMEM;
	}
	p->left = len / page_size;
	pthread_mutex_lock(&dp->lock);
	for (page = first; page < first + len / page_size; page++) {
		struct local *l = &dp->local[page];

		if (l->put)
			put_page_done(dp, page, -ETIMEDOUT, &answers);
		l->put = p;
		l->put_seq = ++dp->seq;
		dp->puts_out++;
		if (send_msg(dp, home_of(dp, page), WIRE_PUT, 0, page, l->put_seq, 0,
			     (const char *)data + (page - first) * page_size))
			put_page_done(dp, page, -EIO, &answers);
	}
	pthread_mutex_unlock(&dp->lock);
	answer_all(answers);
	return PAGER_LATER;
}

/* A write to a read-only copy: the home invalidates the others first. */
static int dsm_unlock(struct pager *pager, uint64_t offset, size_t len)
{
	struct dsmpager *dp = pager_priv(pager);
	uint64_t page = offset / page_size;
	struct answer *answers = NULL;
	struct local *l = &dp->local[page];
	struct pager_request *req;
	bool up;

	pthread_mutex_lock(&dp->lock);
	up = homes_up(dp, page, 1);
	pthread_mutex_unlock(&dp->lock);
	if (!up)
		return -EIO;
	req = pager_defer();
	if (!req)
		return -ENOMEM;
	pthread_mutex_lock(&dp->lock);
	if (l->unlock)
		answer_later(&answers, l->unlock, -ETIMEDOUT, NULL, 0);
	l->unlock = req;
	l->unlock_seq = ++dp->seq;
	dp->fetches++;
	if (send_msg(dp, home_of(dp, page), WIRE_FETCH, WIRE_WRITE | WIRE_UNLOCK, page,
		     l->unlock_seq, 0, NULL)) {
		answer_later(&answers, req, -EIO, NULL, 0);
		l->unlock = NULL;
	}
	pthread_mutex_unlock(&dp->lock);
	answer_all(answers);
	return PAGER_LATER;
}

static const struct pager_ops dsm_ops = {
	.read	= dsm_read,
	.write	= dsm_write,
	.unlock	= dsm_unlock,
};

static void dsm_stats(struct daemon *d, FILE *f)
{
	struct dsmpager *dp = (struct dsmpager *)d;

	pthread_mutex_lock(&dp->lock);
	fprintf(f, " fetches=%llu grants=%llu recalls=%llu puts=%llu served=%llu "
		"recalls_sent=%llu zero_grants=%llu loads=%llu stores=%llu",
		(unsigned long long)dp->fetches, (unsigned long long)dp->grants_in,
		(unsigned long long)dp->recalls_in, (unsigned long long)dp->puts_out,
		(unsigned long long)dp->served, (unsigned long long)dp->recalls_out,
		(unsigned long long)dp->zero_grants, (unsigned long long)dp->loads,
		(unsigned long long)dp->stores);
	pthread_mutex_unlock(&dp->lock);
}

/*
 * Before the object is destroyed, its dirty pages returned (flush_on_exit):
 * recalls from now on find nothing to give up, and those running finish.
 */
static int dsm_sync(struct daemon *d)
{
	struct dsmpager *dp = (struct dsmpager *)d;

	pthread_mutex_lock(&dp->lock);
	dp->stopping = true;
	while (dp->recalls_running)
		pthread_cond_wait(&dp->recalls_idle, &dp->lock);
	pthread_mutex_unlock(&dp->lock);
	return nbd_flush(dp->store, 0) == -1 && nbd_can_flush(dp->store) == 1 ? -EIO : 0;
}

/* No callback runs any more: stop talking, then answer what is still out. */
static void dsm_quiesce(struct daemon *d)
{
	struct dsmpager *dp = (struct dsmpager *)d;
	struct answer *answers = NULL;
	unsigned int i;
	uint64_t page;

	pthread_mutex_lock(&dp->lock);
	for (i = 0; i < dp->nnodes; i++) {
		dp->nodes[i].up = false;
		if (dp->nodes[i].fd >= 0)
			shutdown(dp->nodes[i].fd, SHUT_RDWR);
		pthread_cond_signal(&dp->nodes[i].more);
	}
	pthread_mutex_unlock(&dp->lock);
	for (i = 0; i < dp->nnodes; i++) {
		pthread_join(dp->nodes[i].tx, NULL);
		if (i != dp->self)
			pthread_join(dp->nodes[i].rx, NULL);
	}
	for (page = 0; page < dp->npages; page++) {
		struct local *l = &dp->local[page];

		if (l->fetch)
			fetch_page_done(dp, page, NULL, -EIO, &answers);
		if (l->put)
			put_page_done(dp, page, -EIO, &answers);
		if (l->unlock)
			answer_later(&answers, l->unlock, -EIO, NULL, 0);
		l->unlock = NULL;
	}
	answer_all(answers);
}

/* --- membership and connections ---------------------------------------------- */

/* FILE's settings; says what is wrong, with the line, and returns -EINVAL. */
static int parse_config(struct dsmpager *dp, const char *path)
{
	char line[512], word[16], num[32], host[300], *colon;
	unsigned int id, lineno = 0;
	uint64_t size = 0, seen = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		daemon_err(&dp->d, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "#\n")] = 0;
		if (sscanf(line, "%15s", word) != 1)
			continue;
		if (!strcmp(word, "size") && sscanf(line, "%*s %31s %15s", num, word) == 1) {
			if (daemon_parse_size(num, &size))
				goto bad;
		} else if (!strcmp(word, "node") &&
			   sscanf(line, "%*s %u %299s %15s", &id, host, word) == 2) {
			colon = strrchr(host, ':');
			if (id >= MAX_NODES || (seen & bit(id)) || !colon || colon == host ||
			    strlen(colon + 1) >= sizeof(dp->nodes[0].port) ||
			    colon - host >= (long)sizeof(dp->nodes[0].host))
				goto bad;
			*colon = 0;
			strcpy(dp->nodes[id].host, host);
			strcpy(dp->nodes[id].port, colon + 1);
			seen |= bit(id);
		} else {
			goto bad;
		}
	}
	fclose(f);
	for (dp->nnodes = 0; dp->nnodes < MAX_NODES && (seen & bit(dp->nnodes)); dp->nnodes++)
		;
	if (!dp->nnodes || seen != (dp->nnodes == MAX_NODES ? ~0ULL : bit(dp->nnodes) - 1)) {
		daemon_err(&dp->d, "%s: the nodes must be numbered 0, 1, ... without a gap",
			   path);
		return -EINVAL;
	}
	if (!size || size % page_size) {
		daemon_err(&dp->d, "%s: 'size' must be a positive multiple of %zu bytes",
			   path, page_size);
		return -EINVAL;
	}
	dp->size = size;
	dp->npages = size / page_size;
	return 0;
bad:
	daemon_err(&dp->d, "%s:%u: expected 'size BYTES[K|M|G]' or 'node ID HOST:PORT' "
		   "(IDs below %d, each once)", path, lineno, MAX_NODES);
	fclose(f);
	return -EINVAL;
}

/*
 * A node that stops answering is lost within about 30 s, not at the TCP
 * retransmission timeout's 15 minutes; and small messages are not held back.
 */
static void tune_socket(int fd)
{
	int one = 1, idle = 5, intvl = 2, cnt = 5;
	unsigned int user_timeout = 30000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

static void hello_init(const struct dsmpager *dp, struct wire *w)
{
	*w = (struct wire){
		.type = WIRE_HELLO, .flags = WIRE_VERSION, .node = dp->self,
		.page = dp->size, .seq = WIRE_MAGIC, .nodes = dp->nnodes,
		.page_size = page_size,
	};
	wire_encode(w);
}

/*
 * Exchange HELLOs on @fd (@first: this side speaks first) and check that
 * the other side is @expect (or any node above this one, for -1) with the
 * same membership.  Returns its node, or -errno.
 */
static int hello(struct dsmpager *dp, int fd, bool first, int expect)
{
	struct wire mine, theirs;
	int err;

	hello_init(dp, &mine);
	err = first ? write_all(fd, &mine, sizeof(mine)) : 0;
	err = err ?: read_all(fd, &theirs, sizeof(theirs));
	if (err)
		return err;
	wire_decode(&theirs);
	if (theirs.type != WIRE_HELLO || theirs.seq != WIRE_MAGIC) {
		daemon_err(&dp->d, "a connection that does not speak dsmpager's protocol");
		return -EPROTO;
	}
	if (theirs.flags != WIRE_VERSION || theirs.nodes != dp->nnodes ||
	    theirs.page != dp->size || theirs.page_size != page_size ||
	    (expect >= 0 ? theirs.node != expect :
	     theirs.node <= dp->self || theirs.node >= dp->nnodes)) {
		daemon_err(&dp->d, "node %u disagrees: it says version %u, node %u of %u, "
			   "%llu bytes in pages of %u; this is version %u, node %u of %u, "
			   "%llu bytes in pages of %zu", expect >= 0 ? expect : theirs.node,
			   theirs.flags, theirs.node, theirs.nodes,
			   (unsigned long long)theirs.page, theirs.page_size, WIRE_VERSION,
			   dp->self, dp->nnodes, (unsigned long long)dp->size, page_size);
		return -EPROTO;
	}
	if (!first && (err = write_all(fd, &mine, sizeof(mine))))
		return err;
	return theirs.node;
}

static int node_socket(struct dsmpager *dp, unsigned int id, bool passive,
		       struct addrinfo **aip)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	int err = getaddrinfo(dp->nodes[id].host, dp->nodes[id].port, &hints, aip);

	if (err) {
		daemon_err(&dp->d, "node %u: %s:%s: %s", id, dp->nodes[id].host,
			   dp->nodes[id].port, gai_strerror(err));
		return -EINVAL;
	}
	return 0;
}

/*
 * Connect to every node below this one and take a connection from every
 * node above, within @wait_s seconds.  The listening socket is closed
 * then: the membership is fixed for the daemon's life.
 */
static int connect_nodes(struct dsmpager *dp, unsigned int wait_s)
{
	time_t deadline = time(NULL) + wait_s;
	unsigned int id, left = dp->nnodes - 1 - dp->self;
	struct addrinfo *ai;
	int fd, lfd = -1, one = 1, n;
	struct pollfd pfd;

	if (left) {
		if (node_socket(dp, dp->self, true, &ai))
			return -EINVAL;
		lfd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, MAX_NODES)) {
			daemon_err(&dp->d, "listening on %s:%s: %s", dp->nodes[dp->self].host,
				   dp->nodes[dp->self].port, strerror(errno));
			freeaddrinfo(ai);
			return -errno;
		}
		freeaddrinfo(ai);
	}
	for (id = 0; id < dp->self; id++) {
		if (node_socket(dp, id, false, &ai))
			return -EINVAL;
		for (;;) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen))
				break;
			n = errno;
			if (fd >= 0)
				close(fd);
			if (time(NULL) >= deadline) {
				daemon_err(&dp->d, "node %u at %s:%s: %s (waited %u s)", id,
					   dp->nodes[id].host, dp->nodes[id].port, strerror(n),
					   wait_s);
				freeaddrinfo(ai);
				return -ETIMEDOUT;
			}
			usleep(200000);
		}
		freeaddrinfo(ai);
		n = hello(dp, fd, true, id);
		if (n < 0) {
			close(fd);
			return n;
		}
		dp->nodes[id].fd = fd;
	}
	while (left) {
		pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
		n = time(NULL) < deadline ? poll(&pfd, 1, (deadline - time(NULL)) * 1000) : 0;
		if (n <= 0) {
			daemon_err(&dp->d, "%u node(s) above %u did not connect within %u s",
				   left, dp->self, wait_s);
			close(lfd);
			return -ETIMEDOUT;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		n = hello(dp, fd, false, -1);
		if (n < 0 || dp->nodes[n].fd >= 0) {
			if (n >= 0)
				daemon_err(&dp->d, "node %d connected twice", n);
			close(fd);
			continue;
		}
		dp->nodes[n].fd = fd;
		left--;
	}
	if (lfd >= 0)
		close(lfd);
	for (id = 0; id < dp->nnodes; id++) {
		if (dp->nodes[id].fd >= 0)
			tune_socket(dp->nodes[id].fd);
		dp->nodes[id].up = true;
	}
	return 0;
}

/* After daemon_start(): the threads inherit its signal mask. */
static int start_threads(struct dsmpager *dp)
{
	unsigned int id;
	int err;

	for (id = 0; id < dp->nnodes; id++) {
		struct node *n = &dp->nodes[id];

		err = pthread_create(&n->tx, NULL, tx_thread, n);
		if (!err && id != dp->self)
			err = pthread_create(&n->rx, NULL, rx_thread, n);
		if (err) {
			daemon_err(&dp->d, "cannot start a thread: %s", strerror(err));
			return -err;
		}
	}
	return 0;
}

static int open_store(struct dsmpager *dp)
{
	int64_t size;

	dp->store = nbd_create();
	if (!dp->store || nbd_connect_uri(dp->store, dp->store_uri) == -1) {
		daemon_err(&dp->d, "%s: %s", dp->store_uri, nbd_get_error());
		return -EIO;
	}
	size = nbd_get_size(dp->store);
	if (size < 0 || (uint64_t)size < dp->size || nbd_is_read_only(dp->store) == 1) {
		daemon_err(&dp->d, "%s: the store must be writable and hold %llu bytes; "
			   "it has %lld%s", dp->store_uri, (unsigned long long)dp->size,
			   (long long)size, nbd_is_read_only(dp->store) == 1 ? ", read-only" : "");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	static struct dsmpager dp = {
		.d = {
			.name = "dsmpager",
			.flush_on_exit = true,
			.print_stats = dsm_stats,
			.sync = dsm_sync,
			.quiesce = dsm_quiesce,
			/* Callbacks do not wait for the network, but answers do. */
			.threads = 2,
		},
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.recalls_idle = PTHREAD_COND_INITIALIZER,
	};
	/* One page a request: each page has its own home. */
	struct pager_attr attr = { .cluster = 1 };
	const char *config = NULL, *node = NULL;
	unsigned long val, wait_s = 60;
	struct daemon *d = &dp.d;
	unsigned int id;
	int c, err, status;

	page_size = sysconf(_SC_PAGESIZE);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 's':
			dp.store_uri = optarg;
			break;
		case 'w':
			if (daemon_parse_uint(optarg, 0, 86400, &wait_s)) {
				daemon_err(d, "--wait wants 0 to 86400 seconds, not '%s'", optarg);
				return 2;
			}
			break;
		default:
			status = daemon_option(d, c, usage, NULL);
			if (status >= 0)
				return status;
		}
	}
	if (argc - optind != 1 || !config || !node || !dp.store_uri) {
		if (argc - optind == 1)
			daemon_err(d, "--config, --node and --store are required");
		fputs(usage, stderr);
		return 2;
	}
	d->sock_path = argv[optind];
	if (parse_config(&dp, config))
		return 1;
	if (daemon_parse_uint(node, 0, dp.nnodes - 1, &val)) {
		daemon_err(d, "--node wants a node of %s, 0 to %u, not '%s'", config,
			   dp.nnodes - 1, node);
		return 2;
	}
	dp.self = val;
	d->data_size = dp.size;
	for (id = 0; id < dp.nnodes; id++) {
		dp.nodes[id].fd = -1;
		dp.nodes[id].dp = &dp;
		pthread_cond_init(&dp.nodes[id].more, NULL);
	}
	dp.dir = calloc(dp.npages, sizeof(*dp.dir));
	dp.local = calloc(dp.npages, sizeof(*dp.local));
	dp.zero_page = calloc(1, page_size);
	if (!dp.dir || !dp.local || !dp.zero_page) {
		daemon_err(d, "no memory for %llu pages", (unsigned long long)dp.npages);
		return 1;
	}
	for (val = 0; val < dp.npages; val++)
		dp.dir[val].writer = -1;
	if (open_store(&dp))
		return 1;
	daemon_say(d, "node %u of %u: waiting for the others", dp.self, dp.nnodes);
	if (connect_nodes(&dp, wait_s))
		return 1;

	if (daemon_connect(d))
		return 1;
	err = pager_create(d->conn, dp.size, &dsm_ops, &attr, &dp, &d->pager);
	if (err) {
		daemon_pager_err(d, "creating the object", err);
		return 1;
	}
	if (daemon_start(d) || start_threads(&dp))
		return 1;
	daemon_say(d, "serving node %u of %u (%llu bytes, home pages in %s) on %s",
		   dp.self, dp.nnodes, (unsigned long long)dp.size, dp.store_uri,
		   d->sock_path);
	return daemon_run(d);
}
