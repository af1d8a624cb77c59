// SPDX-License-Identifier: GPL-2.0
/*
 * nbdpager: serve an NBD export as a memory object, through libnbd.
 * Faults read the export (holes answered unavailable, so that zeros never
 * cross the network); dirty pages the kernel returns are written to it.
 * Clients get the object from a unix socket.  Documentation/daemons.rst.
 *
 * libnbd's synchronous calls on one handle run one at a time, so the
 * callbacks, in pager_serve()'s workers, issue asynchronous commands on one
 * connection and wait for their completion: an I/O thread drives the
 * connection, and replaces it when it is lost.
 */
#include <getopt.h>
#include <libnbd.h>
#include <semaphore.h>
#include <time.h>

#include "daemon.h"

static const char usage[] =
"usage: nbdpager [--cluster=PAGES] [--threads=N] [--retry-ms=MS] [--sync] URI SOCKET\n"
"\n"
"Serve the NBD export URI (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=\n"
"PATH, or any URI libnbd takes) as an extpager memory object of its size rounded\n"
"up to pages: faults read the export, pages that block status says read as zeros\n"
"are answered without reading them, dirty pages the kernel returns are written\n"
"to it.  Each connection to the unix socket SOCKET gets the object's descriptor\n"
"(SCM_RIGHTS) and the export's size in bytes (a native uint64_t).  A read-only\n"
"export gives a read-only object.\n"
"\n"
"  --cluster=PAGES  pages asked for around a fault, 1 to 256 (default 16)\n"
"  --threads=N      callbacks run at once, so requests in flight, 1 to 64\n"
"                   (default 8)\n"
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

struct nbdpager {
	struct daemon d;
	const char *uri;
	uint64_t size;			/* the export's, in bytes */
	unsigned long retry_ms;
	bool sync;
	/* What the server offers; the same on every connection. */
	bool can_fua, can_flush, holes, read_only;

	/*
	 * The connection.  Commands are issued on it under @lock, and only
	 * the I/O thread closes it, under @lock too.  @lock is never taken
	 * inside libnbd's callbacks, which run with the handle's own lock.
	 */
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a new connection, or given up */
	struct nbd_handle *nbd;		/* NULL while lost */
	bool failed;			/* the retries ran out */
	bool stopping;
	int wake_fd;			/* eventfd: a command was issued */
	pthread_t io;

	uint64_t bytes_read, bytes_written, hole_pages, flushes, reconnects, nbd_errors;
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
	/* Asked for before connecting: which pages are holes. */
	if (nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
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
		return h;	/* the same server: workers read what it offers */
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

/* Sleep up to @ms, or until the daemon stops: whether it stops. */
static bool io_nap(struct nbdpager *np, unsigned int ms)
{
	struct pollfd pfd = { .fd = np->wake_fd, .events = POLLIN };
	uint64_t n;
	bool stop;

	if (poll(&pfd, 1, ms) > 0)
		(void)!read(np->wake_fd, &n, sizeof(n));
	pthread_mutex_lock(&np->lock);
	stop = np->stopping;
	pthread_mutex_unlock(&np->lock);
	return stop;
}

/*
 * The connection was lost: try again every 100 ms for --retry-ms; then fail
 * what waits, and go on trying every second, so that a server that comes
 * back later is used again.
 */
static void io_reconnect(struct nbdpager *np)
{
	uint64_t deadline = now_ms() + np->retry_ms;
	struct nbd_handle *h;
	bool said = false;

	daemon_say(&np->d, "lost the connection to %s: reconnecting", np->uri);
	for (;;) {
		h = nbd_open(np, true);
		if (h) {
			pthread_mutex_lock(&np->lock);
			np->nbd = h;
			np->failed = false;
			pthread_cond_broadcast(&np->changed);
			pthread_mutex_unlock(&np->lock);
			count(&np->reconnects, 1);
			daemon_say(&np->d, "reconnected to %s", np->uri);
			return;
		}
		if (!said && now_ms() >= deadline) {
			said = true;
			daemon_err(&np->d, "%s: %s: failing requests until it is back",
				   np->uri, nbd_get_error());
			pthread_mutex_lock(&np->lock);
			np->failed = true;
			pthread_cond_broadcast(&np->changed);
			pthread_mutex_unlock(&np->lock);
		}
		if (io_nap(np, said ? 1000 : 100))
			return;
	}
}

/*
 * The I/O thread: moves the connection's state machine along when its
 * socket is ready (the completions of the workers' commands), and when a
 * worker issued a command, which may wait to be written.
 */
static void *io_thread(void *arg)
{
	struct nbdpager *np = arg;
	struct pollfd pfd[2];
	struct nbd_handle *h;
	unsigned int dir;
	uint64_t n;

	for (;;) {
		pthread_mutex_lock(&np->lock);
		h = np->nbd;
		if (np->stopping) {
			pthread_mutex_unlock(&np->lock);
			break;
		}
		if (h && (nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1)) {
			/* The workers take h only under the lock: gone for them. */
			np->nbd = NULL;
			pthread_mutex_unlock(&np->lock);
			/* Frees its commands: their waiters see the loss. */
			nbd_close(h);
			io_reconnect(np);
			continue;
		}
		pthread_mutex_unlock(&np->lock);
		if (!h) {	/* stopping during a reconnection */
			io_nap(np, 100);
			continue;
		}

		dir = nbd_aio_get_direction(h);
		pfd[0] = (struct pollfd){
			.fd = nbd_aio_get_fd(h),
			.events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
				  ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0),
		};
		pfd[1] = (struct pollfd){ .fd = np->wake_fd, .events = POLLIN };
		if (poll(pfd, 2, -1) < 0) {
			if (errno != EINTR)
				daemon_err(&np->d, "poll: %s", strerror(errno));
			continue;
		}
		if (pfd[1].revents & POLLIN)
			(void)!read(np->wake_fd, &n, sizeof(n));
		/* Errors show as a dead handle, above. */
		if ((dir & LIBNBD_AIO_DIRECTION_READ) &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			nbd_aio_notify_read(h);
		else if ((dir & LIBNBD_AIO_DIRECTION_WRITE) &&
			 (pfd[0].revents & (POLLOUT | POLLHUP | POLLERR)))
			nbd_aio_notify_write(h);
	}
	return NULL;
}

/* --- commands ------------------------------------------------------------ */

enum cmd { CMD_READ, CMD_WRITE, CMD_FLUSH, CMD_STATUS };

/* One command, on the stack of the worker that waits for it. */
struct req {
	sem_t done;		/* posted by libnbd's free: it is done with us */
	int err;		/* the command's result: 0 or an errno */
	/* CMD_STATUS: pages [0, npages) of the run, whether each has data. */
	uint64_t offset, covered;
	size_t npages;
	bool data[256];
};

static int req_complete(void *arg, int *error)
{
	struct req *r = arg;

	r->err = *error;
	return 1;	/* retired: nobody asks for it by its cookie */
}

static void req_free(void *arg)
{
	struct req *r = arg;

	sem_post(&r->done);
}

/*
 * base:allocation's extents: a page with a byte not known to read as zero
 * has data.  The pages past the extents the reply described (a server may
 * describe only a prefix of the run) are counted as data by the caller.
 */
static int req_extents(void *arg, const char *context, uint64_t offset, uint32_t *entries,
		       size_t nr_entries, int *error)
{
	struct req *r = arg;
	uint64_t pos = offset, end, first, last;
	size_t i;

	if (strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION))
		return 0;
	for (i = 0; i + 1 < nr_entries; i += 2, pos = end) {
		end = pos + entries[i];
		if (end > r->covered)
			r->covered = end;
		if ((entries[i + 1] & LIBNBD_STATE_ZERO) || end <= r->offset)
			continue;
		first = pos > r->offset ? (pos - r->offset) / page_size : 0;
		last = (end - r->offset + page_size - 1) / page_size;
		for (; first < last && first < r->npages; first++)
			r->data[first] = true;
	}
	return 0;
}

/*
 * Run one command and wait for it.  A command the connection's loss ended
 * runs again on the next connection; once the retries ran out (and from
 * then on, until the server is back), -EIO.  A server's error is returned
 * as it is.
 */
static int nbd_run(struct nbdpager *np, enum cmd cmd, const void *buf, size_t len,
		   uint64_t offset, uint32_t flags, struct req *r)
{
	nbd_completion_callback done = {
		.callback = req_complete, .user_data = r, .free = req_free,
	};
	struct nbd_handle *h, *dead = NULL;
	int64_t cookie = -1;
	bool lost;

	for (;;) {
		pthread_mutex_lock(&np->lock);
		while ((!np->nbd || np->nbd == dead) && !np->failed && !np->stopping)
			pthread_cond_wait(&np->changed, &np->lock);
		h = np->nbd;
		if (!h || h == dead) {
			pthread_mutex_unlock(&np->lock);
			return -EIO;
		}
		sem_init(&r->done, 0, 0);
		r->err = ENOTCONN;	/* freed without completing: the connection went */
		r->covered = offset;
		memset(r->data, 0, sizeof(r->data));
		switch (cmd) {
		case CMD_READ:
			cookie = nbd_aio_pread(h, (void *)buf, len, offset, done, 0);
			break;
		case CMD_WRITE:
			cookie = nbd_aio_pwrite(h, buf, len, offset, done, flags);
			break;
		case CMD_FLUSH:
			cookie = nbd_aio_flush(h, done, 0);
			break;
		case CMD_STATUS:
			cookie = nbd_aio_block_status(h, len, offset,
						      (nbd_extent_callback){
							.callback = req_extents,
							.user_data = r,
						      }, done, 0);
			break;
		}
		/* libnbd frees the callback (req_free) even when the call fails. */
		if (cookie == -1)
			r->err = nbd_get_errno() ? nbd_get_errno() : EIO;
		pthread_mutex_unlock(&np->lock);
		io_wake(np);
		while (sem_wait(&r->done) && errno == EINTR)
			;
		sem_destroy(&r->done);
		if (!r->err)
			return 0;

		pthread_mutex_lock(&np->lock);
		lost = np->nbd != h || nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1;
		pthread_mutex_unlock(&np->lock);
		if (!lost) {
			count(&np->nbd_errors, 1);
			return -r->err;
		}
		/* Wait for a connection other than this one. */
		dead = h;
		io_wake(np);
	}
}

/* --- the pager's callbacks ----------------------------------------------- */

/*
 * One block status for the run, then one read of the pages from its first
 * with data to its last with data; the holes around them are zeroed here,
 * and a run of holes only is answered unavailable.  Holes between pages
 * with data are read: one round trip costs less than several.
 */
static int nbd_read_cb(struct pager *pager, uint64_t offset, size_t len, void *buf,
		       enum pager_access access, unsigned int *flags)
{
	struct nbdpager *np = pager_priv(pager);
	size_t npages = len / page_size, first = 0, last = npages, p, n;
	uint64_t avail = offset < np->size ? np->size - offset : 0;
	struct req r;
	int err;

	if (np->holes && avail && npages <= sizeof(r.data)) {
		r.offset = offset;
		r.npages = npages;
		err = nbd_run(np, CMD_STATUS, NULL, len < avail ? len : avail, offset, 0, &r);
		if (err)
			return err;
		for (p = 0; p < npages; p++)
			if (offset + (p + 1) * page_size > r.covered)
				r.data[p] = true;
		while (first < npages && !r.data[first])
			first++;
		while (last > first && !r.data[last - 1])
			last--;
	}
	if (first == last || !avail) {
		count(&np->hole_pages, npages);
		return PAGER_UNAVAILABLE;
	}
	n = (last - first) * page_size;
	if (n > avail - first * page_size)
		n = avail - first * page_size;
	err = nbd_run(np, CMD_READ, (char *)buf + first * page_size, n,
		      offset + first * page_size, 0, &r);
	if (err)
		return err;	/* the faults get SIGBUS, a later one asks again */
	memset(buf, 0, first * page_size);
	memset((char *)buf + first * page_size + n, 0, len - first * page_size - n);
	count(&np->bytes_read, n);
	count(&np->hole_pages, npages - (last - first));
	return 0;
}

/*
 * Acknowledged once the server acknowledged the write: with --sync, once it
 * is on stable storage (FUA, or a flush after it if the server has no FUA).
 */
static int nbd_write_cb(struct pager *pager, uint64_t offset, size_t len, const void *data,
			unsigned int flags)
{
	struct nbdpager *np = pager_priv(pager);
	bool fua = np->sync && np->can_fua;
	struct req r;
	int err;

	/* Unmodified since read from the export: it has them. */
	if (flags & PAGER_CLEAN)
		return 0;
	/* The tail of the last page is not the export's. */
	if (offset >= np->size)
		return 0;
	if (len > np->size - offset)
		len = np->size - offset;
	err = nbd_run(np, CMD_WRITE, data, len, offset, fua ? LIBNBD_CMD_FLAG_FUA : 0, &r);
	if (!err && np->sync && !fua && np->can_flush) {
		err = nbd_run(np, CMD_FLUSH, NULL, 0, 0, 0, &r);
		count(&np->flushes, 1);
	}
	if (err)
		return err;	/* the pages stay dirty; msync and fsync report it */
	count(&np->bytes_written, len);
	return 0;
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
		"reconnects=%llu nbd_errors=%llu",
		(unsigned long long)counted(&np->bytes_read),
		(unsigned long long)counted(&np->bytes_written),
		(unsigned long long)counted(&np->hole_pages),
		(unsigned long long)counted(&np->flushes),
		(unsigned long long)counted(&np->reconnects),
		(unsigned long long)counted(&np->nbd_errors));
}

/* What was written reaches the server's stable storage: a flush. */
static int nbd_sync(struct daemon *d)
{
	struct nbdpager *np = (struct nbdpager *)d;
	struct req r;

	if (!np->can_flush || np->read_only)
		return 0;
	count(&np->flushes, 1);
	return nbd_run(np, CMD_FLUSH, NULL, 0, 0, 0, &r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
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
			.threads = 8,
		},
		.retry_ms = 10000,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.changed = PTHREAD_COND_INITIALIZER,
	};
	struct pager_attr attr = { .cluster = 16 };
	struct daemon *d = &np.d;
	unsigned long val;
	int c, err, status;

	page_size = sysconf(_SC_PAGESIZE);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (daemon_parse_uint(optarg, 1, 256, &val)) {
				daemon_err(d, "--cluster wants 1 to 256 pages, not '%s'", optarg);
				return 2;
			}
			attr.cluster = val;
			break;
		case 't':
			if (daemon_parse_uint(optarg, 1, 64, &val)) {
				daemon_err(d, "--threads wants 1 to 64, not '%s'", optarg);
				return 2;
			}
			d->threads = val;
			break;
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
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			puts("nbdpager " EXTPAGER_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
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
	daemon_say(d, "serving %s (%llu bytes%s) on %s with %u threads", np.uri,
		   (unsigned long long)np.size, np.read_only ? ", read-only" : "",
		   d->sock_path, d->threads);
	status = daemon_run(d);

	pthread_mutex_lock(&np.lock);
	np.stopping = true;
	pthread_cond_broadcast(&np.changed);
	pthread_mutex_unlock(&np.lock);
	io_wake(&np);
	pthread_join(np.io, NULL);
	if (np.nbd) {
		nbd_shutdown(np.nbd, 0);
		nbd_close(np.nbd);
	}
	return status;
}
