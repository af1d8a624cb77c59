// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpager: serve an NBD export as a memory object, through libnbd.
 * Faults read the export (holes answered unavailable, so that zeros never
 * cross the network); dirty pages the kernel returns are written to it.
 * Clients get the object from a unix socket.  Documentation/daemons.rst.
 *
 * A round trip to the server must not hold up the thread serving the
 * kernel, so the callbacks answer later (pager_defer()): each hands an
 * operation to the I/O thread and returns PAGER_LATER.  The I/O thread
 * alone uses libnbd: it issues the operation's asynchronous commands on
 * one connection, moves the connection along, answers with pager_answer()
 * once the last command completed, and replaces the connection when it is
 * lost.  One serving thread then suffices, and the requests in flight are
 * bounded by the kernel (max_requests) and the server, not by threads.
 */
#include <getopt.h>
#include <libnbd.h>
#include <semaphore.h>
#include <time.h>

#include "daemon.h"

static const char usage[] =
"usage: nbdpager [--cluster=PAGES] [--retry-ms=MS] [--sync] URI SOCKET\n"
"\n"
"Serve the NBD export URI (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=\n"
"PATH, or any URI libnbd takes) as an extpager memory object of its size rounded\n"
"up to pages: faults read the export, pages that block status says read as zeros\n"
"are answered without reading them, dirty pages the kernel returns are written\n"
"to it.  Each connection to the unix socket SOCKET gets the object's descriptor\n"
"(SCM_RIGHTS) and the export's size in bytes (a native uint64_t).  A read-only\n"
"export gives a read-only object.  Every fault and store is answered when its\n"
"commands complete, so all of them can be in flight at once.\n"
"\n"
"  --cluster=PAGES  pages asked for around a fault, 1 to 256 (default 16)\n"
"  --retry-ms=MS    how long to try to reconnect to a lost server before failing\n"
"                   the faults and stores that wait for it, 0 to 600000\n"
"                   (default 10000)\n"
"  --sync           write with FUA (or a flush after each write): a client's\n"
"                   msync(MS_SYNC) or fsync returns once its pages are on the\n"
"                   server's stable storage\n"
"  -h, --help       this text\n"
"  --version        the version of extpager it belongs to\n"
"\n"
"SIGUSR1 prints a line of statistics.  SIGTERM or SIGINT stops: no new clients,\n"
"the dirty pages still in the clients' mappings are returned and written, the\n"
"export is flushed, the statistics printed, and the object destroyed.\n";

/* The most pages one block status describes for a read. */
#define STATUS_PAGES	256

enum step { STEP_STATUS, STEP_READ, STEP_WRITE, STEP_FLUSH };

/*
 * A fault's read, a store's write or a flush: the commands it takes, one
 * after the other, then its answer.  Owned by the I/O thread once queued.
 */
struct op {
	struct op *next;		/* in one queue, or none while in flight */
	struct op *wnext;		/* in nbdpager.writing while a write is out */
	enum step step;			/* the command to issue next, or out */
	bool is_write;			/* a store, counted in bytes_written */
	bool fua, flush_after;
	/* Answered with pager_answer(), or, for a flush at exit, posted. */
	struct pager_request *req;
	sem_t *waiter;
	int *result;
	uint64_t offset;		/* the run's */
	size_t len;			/* the run's (a write's: up to the export's end) */
	char *buf;			/* a read's whole run; a write's copy */
	/* A read: pages [first, last) are read, @rlen bytes of them. */
	size_t npages, first, last, rlen;
	/* The command out: the connection it went on, its result. */
	struct nbdpager *np;
	struct nbd_handle *h;
	int err;			/* 0 or an errno */
	bool completed;			/* else freed unanswered: the connection went */
	/* STEP_STATUS: how far the reply reached, which pages have data. */
	uint64_t status_len, covered;
	bool data[STATUS_PAGES];
};

struct queue {
	struct op *head, **tail;
};

struct nbdpager {
	struct daemon d;
	const char *uri;
	uint64_t size;			/* the export's, in bytes */
	unsigned long retry_ms;
	bool sync;
	/* What the server offers; the same on every connection. */
	bool can_fua, can_flush, holes, read_only;

	/* Operations for the I/O thread, and its stop; under @lock. */
	pthread_mutex_t lock;
	struct queue incoming;
	bool stopping;
	int wake_fd;			/* eventfd: something came in */
	pthread_t io;

	/* The I/O thread's alone. */
	struct nbd_handle *nbd;		/* NULL while lost */
	bool failed;			/* the retries ran out */
	struct queue waiting;		/* to issue, in order */
	struct queue done;		/* commands libnbd is done with */
	struct op *writing;		/* writes out, which later ones must not pass */
	uint64_t in_flight;

	uint64_t bytes_read, bytes_written, hole_pages, flushes, reconnects, nbd_errors;
	uint64_t most_in_flight;
};

static size_t page_size;

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t counted(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void q_init(struct queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void q_push(struct queue *q, struct op *op)
{
	op->next = NULL;
	*q->tail = op;
	q->tail = &op->next;
}

static struct op *q_pop(struct queue *q)
{
	struct op *op = q->head;

	if (op) {
		q->head = op->next;
		if (!q->head)
			q->tail = &q->head;
	}
	return op;
}

/* Move @from's operations to the end of @to. */
static void q_append(struct queue *to, struct queue *from)
{
	if (!from->head)
		return;
	*to->tail = from->head;
	to->tail = from->tail;
	q_init(from);
}

/* --- the connection ------------------------------------------------------ */

/* Connect to the export; NULL and a message on failure. */
static struct nbd_handle *nbd_open(struct nbdpager *np, bool quiet)
{
	struct nbd_handle *h = nbd_create();
	int64_t size;

	if (!h) {
		daemon_err(&np->d, "%s", nbd_get_error());
		return NULL;
	}
	/*
	 * Asked for before connecting: which pages are holes.  The URI is the
	 * administrator's, so its tls-psk-file may name a file to read.
	 */
	if (nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
	    nbd_set_uri_allow_local_file(h, true) == -1 ||
	    nbd_connect_uri(h, np->uri) == -1)
		goto fail;
	size = nbd_get_size(h);
	if (size < 0)
		goto fail;
	if (np->size && (uint64_t)size != np->size) {
		daemon_err(&np->d, "%s: the export's size changed from %llu to %lld bytes",
			   np->uri, (unsigned long long)np->size, (long long)size);
		nbd_close(h);
		return NULL;
	}
	if (np->size)
		return h;	/* the same server: it offers what it offered */
	np->size = size;
	np->can_fua = nbd_can_fua(h) == 1;
	np->can_flush = nbd_can_flush(h) == 1;
	np->read_only = nbd_is_read_only(h) == 1;
	np->holes = nbd_can_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
	return h;
fail:
	if (!quiet)
		daemon_err(&np->d, "%s: %s", np->uri, nbd_get_error());
	nbd_close(h);
	return NULL;
}

static void io_wake(struct nbdpager *np)
{
	uint64_t one = 1;

	(void)!write(np->wake_fd, &one, sizeof(one));
}

/* Hand @op to the I/O thread. */
static void op_submit(struct nbdpager *np, struct op *op)
{
	pthread_mutex_lock(&np->lock);
	q_push(&np->incoming, op);
	pthread_mutex_unlock(&np->lock);
	io_wake(np);
}

/*
 * Answer @op with @ret, as its callback would have returned it, and free
 * it.  An answer the kernel no longer waits for (-ESTALE: the request
 * timed out, or the object is gone) is nobody's to hear of.
 */
static void op_finish(struct nbdpager *np, struct op *op, int ret)
{
	if (!ret && op->is_write)
		count(&np->bytes_written, op->len);
	if (op->req) {
		pager_answer(op->req, ret, op->buf, 0);
	} else {
		*op->result = ret;
		sem_post(op->waiter);
	}
	free(op->buf);
	free(op);
}

/* Answer every operation of @q with -EIO: there is no server to ask. */
static void fail_all(struct nbdpager *np, struct queue *q)
{
	struct op *op;

	while ((op = q_pop(q)))
		op_finish(np, op, -EIO);
}

static int op_complete(void *arg, int *error)
{
	struct op *op = arg;

	op->err = *error;
	op->completed = true;
	return 1;	/* retired: nobody asks for it by its cookie */
}

/*
 * libnbd is done with the command: its result is looked at by io_done(),
 * outside libnbd, which may not be called from its callbacks.
 */
static void op_free(void *arg)
{
	struct op *op = arg;

	if (!op->completed)
		op->err = ENOTCONN;	/* freed without a reply: the connection went */
	op->np->in_flight--;
	q_push(&op->np->done, op);
}

/*
 * base:allocation's extents: a page with a byte not known to read as zero
 * has data.  The pages past the extents the reply described (a server may
 * describe only a prefix of the run) are counted as data afterwards.
 */
static int op_extents(void *arg, const char *context, uint64_t offset, uint32_t *entries,
		      size_t nr_entries, int *error)
{
	struct op *op = arg;
	uint64_t pos = offset, end, first, last;
	size_t i;

	if (strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION))
		return 0;
	for (i = 0; i + 1 < nr_entries; i += 2, pos = end) {
		end = pos + entries[i];
		if (end > op->covered)
			op->covered = end;
		if ((entries[i + 1] & LIBNBD_STATE_ZERO) || end <= op->offset)
			continue;
		first = pos > op->offset ? (pos - op->offset) / page_size : 0;
		last = (end - op->offset + page_size - 1) / page_size;
		for (; first < last && first < op->npages; first++)
			op->data[first] = true;
	}
	return 0;
}

static bool overlap(const struct op *a, const struct op *b)
{
	return a->offset < b->offset + b->len && b->offset < a->offset + a->len;
}

/*
 * A write may not pass an earlier one of the same pages still out (a
 * return sent again after a timeout, or issued again after a loss): the
 * server may run commands in flight together in any order.
 */
static bool write_held(struct nbdpager *np, const struct op *op)
{
	const struct op *w;

	for (w = np->writing; w; w = w->wnext)
		if (overlap(w, op))
			return true;
	return false;
}

static void write_done(struct nbdpager *np, struct op *op)
{
	struct op **w;

	for (w = &np->writing; *w; w = &(*w)->wnext) {
		if (*w == op) {
			*w = op->wnext;
			return;
		}
	}
}

/* Issue @op's next command on the connection. */
static void io_issue(struct nbdpager *np, struct op *op)
{
	nbd_completion_callback done = {
		.callback = op_complete, .user_data = op, .free = op_free,
	};
	struct nbd_handle *h = np->nbd;
	int64_t cookie = -1;

	op->np = np;
	op->h = h;
	op->err = 0;
	op->completed = false;
	np->in_flight++;	/* op_free() counts it out, even if the call fails */
	switch (op->step) {
	case STEP_STATUS:
		op->covered = op->offset;
		memset(op->data, 0, sizeof(op->data));
		cookie = nbd_aio_block_status(h, op->status_len, op->offset,
					      (nbd_extent_callback){
						.callback = op_extents, .user_data = op,
					      }, done, 0);
		break;
	case STEP_READ:
		cookie = nbd_aio_pread(h, op->buf + op->first * page_size, op->rlen,
				       op->offset + op->first * page_size, done, 0);
		break;
	case STEP_WRITE:
		op->wnext = np->writing;
		np->writing = op;
		cookie = nbd_aio_pwrite(h, op->buf, op->len, op->offset, done,
					op->fua ? LIBNBD_CMD_FLAG_FUA : 0);
		break;
	case STEP_FLUSH:
		cookie = nbd_aio_flush(h, done, 0);
		break;
	}
	/* Already freed, so on np->done: its result is this refusal. */
	if (cookie == -1) {
		op->err = nbd_get_errno() ? nbd_get_errno() : EIO;
		op->completed = true;
	} else if (np->in_flight > counted(&np->most_in_flight)) {
		__atomic_store_n(&np->most_in_flight, np->in_flight, __ATOMIC_RELAXED);
	}
}

/* Issue what waits, but the writes an earlier one holds back. */
static void io_issue_waiting(struct nbdpager *np)
{
	struct queue held;
	struct op *op;

	q_init(&held);
	while ((op = q_pop(&np->waiting))) {
		if (op->step == STEP_WRITE && write_held(np, op))
			q_push(&held, op);
		else
			io_issue(np, op);
	}
	q_append(&np->waiting, &held);
}

/* @op's command succeeded: on to the next, or answer. */
static void op_advance(struct nbdpager *np, struct op *op)
{
	size_t p, off;

	switch (op->step) {
	case STEP_STATUS:
		for (p = 0; p < op->npages; p++)
			if (op->offset + (p + 1) * page_size > op->covered)
				op->data[p] = true;
		while (op->first < op->npages && !op->data[op->first])
			op->first++;
		while (op->last > op->first && !op->data[op->last - 1])
			op->last--;
		if (op->first == op->last) {
			count(&np->hole_pages, op->npages);
			op_finish(np, op, PAGER_UNAVAILABLE);
			return;
		}
		op->rlen = (op->last - op->first) * page_size;
		if (op->rlen > op->status_len - op->first * page_size)
			op->rlen = op->status_len - op->first * page_size;
		op->step = STEP_READ;
		q_push(&np->waiting, op);
		return;
	case STEP_READ:
		off = op->first * page_size + op->rlen;
		memset(op->buf, 0, op->first * page_size);
		memset(op->buf + off, 0, op->len - off);
		count(&np->bytes_read, op->rlen);
		count(&np->hole_pages, op->npages - (op->last - op->first));
		op_finish(np, op, 0);
		return;
	case STEP_WRITE:
		if (op->flush_after) {
			count(&np->flushes, 1);
			op->step = STEP_FLUSH;
			q_push(&np->waiting, op);
			return;
		}
		op_finish(np, op, 0);
		return;
	case STEP_FLUSH:
		op_finish(np, op, 0);
		return;
	}
}

/*
 * Look at the commands libnbd is done with.  One the connection's loss
 * ended is issued again on the next connection, ahead of what waits
 * (reads and writes of whole runs are idempotent); unless the daemon
 * stops, when it fails.  A server's error is the answer.
 */
static void io_done(struct nbdpager *np, bool stopping)
{
	struct queue lost;
	struct op *op;

	q_init(&lost);
	while ((op = q_pop(&np->done))) {
		if (op->step == STEP_WRITE)
			write_done(np, op);
		if (!op->err) {
			op_advance(np, op);
		} else if (!op->completed || np->nbd != op->h || nbd_aio_is_dead(op->h) == 1 ||
			   nbd_aio_is_closed(op->h) == 1) {
			if (stopping)
				op_finish(np, op, -EIO);
			else
				q_push(&lost, op);
		} else {
			count(&np->nbd_errors, 1);
			/* A fault gets SIGBUS, a store stays dirty: msync reports it. */
			op_finish(np, op, -op->err);
		}
	}
	q_append(&lost, &np->waiting);
	np->waiting = lost;
	if (!np->waiting.head)
		q_init(&np->waiting);
}

/* Take what came in; whether the daemon stops. */
static bool io_take(struct nbdpager *np)
{
	uint64_t n;
	bool stop;

	(void)!read(np->wake_fd, &n, sizeof(n));
	pthread_mutex_lock(&np->lock);
	q_append(&np->waiting, &np->incoming);
	stop = np->stopping;
	pthread_mutex_unlock(&np->lock);
	return stop;
}

/*
 * The connection was lost: try again every 100 ms for --retry-ms, the
 * operations waiting meanwhile; then fail them and those that come, and
 * go on trying every second, so that a server that comes back later is
 * used again.  Returns when connected, or when the daemon stops.
 */
static void io_reconnect(struct nbdpager *np)
{
	uint64_t deadline = now_ms() + np->retry_ms, next = 0, now;
	struct pollfd pfd = { .fd = np->wake_fd, .events = POLLIN };
	struct nbd_handle *h;

	daemon_say(&np->d, "lost the connection to %s: reconnecting", np->uri);
	for (;;) {
		if (io_take(np))
			return;
		now = now_ms();
		if (now >= next) {
			h = nbd_open(np, true);
			if (h) {
				np->nbd = h;
				np->failed = false;
				count(&np->reconnects, 1);
				daemon_say(&np->d, "reconnected to %s", np->uri);
				return;
			}
			if (!np->failed && now_ms() >= deadline) {
				np->failed = true;
				daemon_err(&np->d, "%s: %s: failing requests until it is back",
					   np->uri, nbd_get_error());
			}
			now = now_ms();
			next = now + (np->failed ? 1000 : 100);
		}
		if (np->failed)
			fail_all(np, &np->waiting);
		poll(&pfd, 1, next > now ? next - now : 0);
	}
}

/*
 * The I/O thread: issues the operations' commands, moves the connection's
 * state machine along when its socket is ready, answers what completed,
 * and replaces a lost connection.
 */
static void *io_thread(void *arg)
{
	struct nbdpager *np = arg;
	struct pollfd pfd[2];
	unsigned int dir;

	for (;;) {
		if (io_take(np))
			break;
		if (nbd_aio_is_dead(np->nbd) == 1 || nbd_aio_is_closed(np->nbd) == 1) {
			io_done(np, false);	/* what completed before */
			/* Frees its commands: io_done() issues them again. */
			nbd_close(np->nbd);
			np->nbd = NULL;
			io_done(np, false);
			io_reconnect(np);
			if (!np->nbd)
				break;	/* stopping */
			continue;
		}
		io_issue_waiting(np);
		io_done(np, false);	/* commands refused at once */

		dir = nbd_aio_get_direction(np->nbd);
		pfd[0] = (struct pollfd){
			.fd = nbd_aio_get_fd(np->nbd),
			.events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
				  ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0),
		};
		pfd[1] = (struct pollfd){ .fd = np->wake_fd, .events = POLLIN };
		if (poll(pfd, 2, -1) < 0) {
			if (errno != EINTR)
				daemon_err(&np->d, "poll: %s", strerror(errno));
			continue;
		}
		/* Errors show as a dead handle, above. */
		if ((dir & LIBNBD_AIO_DIRECTION_READ) &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			nbd_aio_notify_read(np->nbd);
		else if ((dir & LIBNBD_AIO_DIRECTION_WRITE) &&
			 (pfd[0].revents & (POLLOUT | POLLHUP | POLLERR)))
			nbd_aio_notify_write(np->nbd);
		io_done(np, false);
	}

	/* Stopping: the object is gone, but every handle must be answered. */
	if (np->nbd) {
		nbd_shutdown(np->nbd, 0);
		nbd_close(np->nbd);
		np->nbd = NULL;
	}
	io_done(np, true);
	fail_all(np, &np->waiting);
	io_take(np);
	fail_all(np, &np->waiting);
	return NULL;
}

/* --- the pager's callbacks ----------------------------------------------- */

/* A new operation over [@offset, @offset + @len), with a buffer for the run. */
static struct op *op_new(uint64_t offset, size_t len)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->buf = malloc(len);
	if (!op->buf) {
		free(op);
		return NULL;
	}
	op->offset = offset;
	op->len = len;
	return op;
}

/* Taken last: a handle taken is a request answered only through it. */
static int op_defer(struct nbdpager *np, struct op *op)
{
	op->req = pager_defer();
	if (!op->req) {
		free(op->buf);
		free(op);
		return -ENOMEM;
	}
	op_submit(np, op);
	return PAGER_LATER;
}

/*
 * One block status for the run, then one read of the pages from its first
 * with data to its last with data; the holes around them are zeroed here,
 * and a run of holes only is answered unavailable.  Holes between pages
 * with data are read: one round trip costs less than several.  The run
 * is read into a buffer of its own: the callback's is libpager's again
 * once it returned.
 */
static int nbd_read_cb(struct pager *pager, uint64_t offset, size_t len, void *buf,
		       enum pager_access access, unsigned int *flags)
{
	struct nbdpager *np = pager_priv(pager);
	uint64_t avail = offset < np->size ? np->size - offset : 0;
	struct op *op;

	if (!avail) {
		count(&np->hole_pages, len / page_size);
		return PAGER_UNAVAILABLE;
	}
	op = op_new(offset, len);
	if (!op)
		return -ENOMEM;
	op->npages = len / page_size;
	op->last = op->npages;
	op->status_len = len < avail ? len : avail;
	op->rlen = op->status_len;
	op->step = np->holes && op->npages <= STATUS_PAGES ? STEP_STATUS : STEP_READ;
	return op_defer(np, op);
}

/*
 * Acknowledged once the server acknowledged the write: with --sync, once it
 * is on stable storage (FUA, or a flush after it if the server has no FUA).
 * The data is copied: the callback's is libpager's again once it returned.
 */
static int nbd_write_cb(struct pager *pager, uint64_t offset, size_t len, const void *data,
			unsigned int flags)
{
	struct nbdpager *np = pager_priv(pager);
	struct op *op;

	/* Unmodified since read from the export: it has them. */
	if (flags & PAGER_CLEAN)
		return 0;
	/* The tail of the last page is not the export's. */
	if (offset >= np->size)
		return 0;
	if (len > np->size - offset)
		len = np->size - offset;
	op = op_new(offset, len);
	if (!op)
		return -ENOMEM;
	memcpy(op->buf, data, len);
	op->is_write = true;
	op->step = STEP_WRITE;
	op->fua = np->sync && np->can_fua;
	op->flush_after = np->sync && !op->fua && np->can_flush;
	return op_defer(np, op);
}

static const struct pager_ops nbd_ops = {
	.read	= nbd_read_cb,
	.write	= nbd_write_cb,
};

/* A read-only export: no shared writable mapping, nothing returned. */
static const struct pager_ops nbd_ro_ops = {
	.read	= nbd_read_cb,
};

static void nbd_stats(struct daemon *d, FILE *f)
{
	struct nbdpager *np = (struct nbdpager *)d;

	fprintf(f, " bytes_read=%llu bytes_written=%llu hole_pages=%llu flushes=%llu "
		"reconnects=%llu nbd_errors=%llu most_in_flight=%llu",
		(unsigned long long)counted(&np->bytes_read),
		(unsigned long long)counted(&np->bytes_written),
		(unsigned long long)counted(&np->hole_pages),
		(unsigned long long)counted(&np->flushes),
		(unsigned long long)counted(&np->reconnects),
		(unsigned long long)counted(&np->nbd_errors),
		(unsigned long long)counted(&np->most_in_flight));
}

/* What was written reaches the server's stable storage: a flush. */
static int nbd_sync(struct daemon *d)
{
	struct nbdpager *np = (struct nbdpager *)d;
	struct op *op;
	sem_t done;
	int ret;

	if (!np->can_flush || np->read_only)
		return 0;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	sem_init(&done, 0, 0);
	op->step = STEP_FLUSH;
	op->waiter = &done;
	op->result = &ret;
	count(&np->flushes, 1);
	op_submit(np, op);
	while (sem_wait(&done) && errno == EINTR)
		;
	sem_destroy(&done);
	return ret;
}

/* The object is destroyed: answer what is still out, then close. */
static void nbd_quiesce(struct daemon *d)
{
	struct nbdpager *np = (struct nbdpager *)d;

	pthread_mutex_lock(&np->lock);
	np->stopping = true;
	pthread_mutex_unlock(&np->lock);
	io_wake(np);
	pthread_join(np->io, NULL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster", required_argument, NULL, 'c' },
		{ "retry-ms", required_argument, NULL, 'r' },
		{ "sync", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	struct nbdpager np = {
		.d = {
			.name = "nbdpager",
			.flush_on_exit = true,
			.print_stats = nbd_stats,
			.sync = nbd_sync,
			.quiesce = nbd_quiesce,
			/* Its own thread: the callbacks do not wait. */
			.threads = 1,
		},
		.retry_ms = 10000,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct pager_attr attr = { .cluster = 16 };
	struct daemon *d = &np.d;
	unsigned long val;
	int c, err, status;

	page_size = sysconf(_SC_PAGESIZE);
	q_init(&np.incoming);
	q_init(&np.waiting);
	q_init(&np.done);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (daemon_parse_uint(optarg, 0, 600000, &val)) {
				daemon_err(d, "--retry-ms wants 0 to 600000, not '%s'", optarg);
				return 2;
			}
			np.retry_ms = val;
			break;
		case 's':
			np.sync = true;
			break;
		default:
			status = daemon_option(d, c, usage, &attr);
			if (status >= 0)
				return status;
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}
	np.uri = argv[optind];
	d->sock_path = argv[optind + 1];

	np.nbd = nbd_open(&np, false);
	if (!np.nbd)
		return 1;
	if (!np.size) {
		daemon_err(d, "%s is empty: an object needs at least a page", np.uri);
		return 1;
	}
	d->data_size = np.size;
	np.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (np.wake_fd < 0) {
		daemon_err(d, "eventfd: %s", strerror(errno));
		return 1;
	}

	if (daemon_connect(d))
		return 1;
	err = pager_create(d->conn, (np.size + page_size - 1) / page_size * page_size,
			   np.read_only ? &nbd_ro_ops : &nbd_ops, &attr, &np, &d->pager);
	if (err) {
		daemon_pager_err(d, "creating the object", err);
		return 1;
	}
	/* First: the threads inherit its mask, which keeps the signals out. */
	if (daemon_start(d))
		return 1;
	err = pthread_create(&np.io, NULL, io_thread, &np);
	if (err) {
		daemon_err(d, "cannot start the I/O thread: %s", strerror(err));
		return 1;
	}
	daemon_say(d, "serving %s (%llu bytes%s) on %s", np.uri,
		   (unsigned long long)np.size, np.read_only ? ", read-only" : "",
		   d->sock_path);
	return daemon_run(d);
}
