// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Serving a connection: in the calling thread, or with worker threads.
 *
 * With workers, the calling thread receives and the workers handle.  The
 * events wait in one list, in the order they came; a worker takes the
 * first one that no earlier event, waiting or running, overlaps.  Two
 * events overlap if they are about the same object and share a page; INIT,
 * TERMINATE and any other event without a run cover the whole object.  So
 * events about different pages are handled in parallel, of one object as
 * well as of several, while those about one page are handled one after the
 * other in the kernel's order: a DATA_RETURN is stored before a later
 * DATA_REQUEST for its page is read, a return sent again (after a timeout)
 * is stored after the first, and TERMINATE comes after everything the
 * object's events did.  Hashing events to per-worker queues would do as
 * much only for runs of one page: runs straddle any fixed block.
 *
 * In both, a request or unlock may come out of the connection's queue
 * before a return ahead of it (see next_event() in conn.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "internal.h"

/*
 * How far down the list a worker looks for an event it may take, which
 * bounds the time it holds the pool's lock.  Looking no further is safe:
 * the first event not running waits only for running ones.
 */
#define SERVE_WINDOW	64

struct serve_pool {
	struct pager_conn *conn;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* an event came or may be free to run */
	int event_fd;			/* the same, for workers with a channel */
	unsigned int starting;		/* workers opening their channel */
	int error;			/* one could not, and had to */
	struct pager_event *head, **tail;
	unsigned int waiting;		/* events no worker took yet */
	unsigned int idle;		/* workers waiting on cond */
	bool stop;			/* drain the list, then exit */
};

struct serve_worker {
	struct serve_pool *pool;
	pthread_t thread;
	void *buf;			/* its run buffer */
	bool channel;			/* @ch is open */
	struct pager_channel ch;
};

/* Wake the workers that wait in their channel's ring.  Under pool->lock. */
static void wake_channels(struct serve_pool *pool)
{
	uint64_t one = 1;

	if (pool->event_fd >= 0)
		(void)!write(pool->event_fd, &one, sizeof(one));
}

/* The buffer a read callback fills: the longest run the kernel asks for. */
static void *run_buf(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return aligned_alloc(page, EXTPAGER_MAX_RUN * page);
}

static bool has_pagers(struct pager_conn *conn)
{
	bool ret;

	pthread_mutex_lock(&conn->lock);
	ret = conn->pagers || conn->is_default;
	pthread_mutex_unlock(&conn->lock);
	return ret;
}

/* --- in the calling thread --------------------------------------------- */

static void handle_here(struct pager_event *ev, void *arg)
{
	struct pager_conn *conn = arg;

	if (!conn->buf)
		conn->buf = run_buf();
	pager__handle(conn, ev->nlh, conn->buf);
	pager__free_event(conn, ev);
}

/*
 * Receive and handle in the calling thread until *@done (set under
 * conn->lock, by the LOCK_COMPLETED a pager_lock_request() waits for),
 * another thread serves @conn, or an error.  Events are handled in place
 * by one thread at a time, in their order: a pager_dispatch() in another
 * thread waits meanwhile.  Called and returns with conn->lock held.
 */
int pager__recv_here_until(struct pager_conn *conn, const int *done)
{
	int err = 0;

	pthread_mutex_unlock(&conn->lock);
	pthread_mutex_lock(&conn->dispatch_lock);
	pthread_mutex_lock(&conn->lock);
	while (err >= 0 && !*done && !conn->receivers) {
		pthread_mutex_unlock(&conn->lock);
		err = pager__recv(conn, 1, handle_here, conn);
		pthread_mutex_lock(&conn->lock);
	}
	pthread_mutex_unlock(&conn->dispatch_lock);
	return err < 0 ? err : 0;
}

PAGER_API int pager_dispatch(struct pager_conn *conn)
{
	uint64_t count;
	int ret;

	pthread_mutex_lock(&conn->dispatch_lock);
	/* First: what another thread's call queues from now on wakes the poller. */
	(void)!read(conn->wake_fd, &count, sizeof(count));
	ret = pager__recv(conn, 0, handle_here, conn);
	pthread_mutex_unlock(&conn->dispatch_lock);
	return ret;
}

/*
 * With a data channel, its ring waits for the channel, the socket and the
 * wake eventfd at once; if the channel stops working, the socket alone
 * serves, as without one.
 */
static int serve_here(struct pager_conn *conn)
{
	struct pager_channel ch;
	bool channel, polled = true;
	int err;

	err = pager__channel_open(conn, nl_socket_get_fd(conn->sk), conn->wake_fd, &ch);
	if (err && pager__channel_forced())
		return err;
	channel = !err;
	err = 0;
	pager__receiving(conn, 1);
	while (has_pagers(conn)) {
		/* The socket, when the ring saw it (or the wake eventfd) ready. */
		if (polled) {
			err = pager__recv(conn, !channel, handle_here, conn);
			if (err < 0)
				break;
		}
		if (!channel)
			continue;
		err = pager__channel_run(conn, &ch);
		polled = err != 0;
		if (err < 0) {
			pager__channel_close(&ch);
			channel = false;
		}
		err = 0;
	}
	pager__receiving(conn, -1);
	if (channel)
		pager__channel_close(&ch);
	return err < 0 ? err : 0;
}

/* --- with workers ------------------------------------------------------- */

/* The receiving thread hands @ev over.  */
static void enqueue(struct pager_event *ev, void *arg)
{
	struct serve_pool *pool = arg;

	pager__classify(ev);
	ev->running = false;
	ev->next = NULL;
	pthread_mutex_lock(&pool->lock);
	*pool->tail = ev;
	pool->tail = &ev->next;
	pool->waiting++;
	if (pool->idle)
		pthread_cond_signal(&pool->cond);
	wake_channels(pool);
	pthread_mutex_unlock(&pool->lock);
}

/* The first event that may run now, or NULL.  Under pool->lock. */
static struct pager_event *pick(struct serve_pool *pool)
{
	struct pager_event *ev;
	unsigned int n = 0;

	for (ev = pool->head; ev && n < SERVE_WINDOW; ev = ev->next, n++)
		if (!ev->running && pager__may_overtake(pool->head, ev))
			return ev;
	return NULL;
}

static void unlink_event(struct serve_pool *pool, struct pager_event *ev)
{
	struct pager_event **pp;

	for (pp = &pool->head; *pp != ev; pp = &(*pp)->next)
		;
	*pp = ev->next;
	if (pool->tail == &ev->next)
		pool->tail = pp;
}

/*
 * Run @ev, which pick() found.  Under pool->lock, dropped meanwhile.  A
 * worker that finishes an event looks for the next one itself, so an event
 * its own unblocked is never left waiting; one that takes an event while
 * more wait wakes another, which may find one free to run.
 */
static void run_event(struct serve_worker *w, struct pager_event *ev)
{
	struct serve_pool *pool = w->pool;

	ev->running = true;
	pool->waiting--;
	if (pool->waiting && pool->idle)
		pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	pager__handle(pool->conn, ev->nlh, w->buf);
	pthread_mutex_lock(&pool->lock);
	unlink_event(pool, ev);
	if (pool->stop && !pool->head) {
		pthread_cond_broadcast(&pool->cond);
		wake_channels(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	pager__free_event(pool->conn, ev);
	pthread_mutex_lock(&pool->lock);
}

/*
 * Each worker opens its channel itself: a ring is fastest used only by the
 * thread that made it (IORING_SETUP_SINGLE_ISSUER).  One that cannot serves
 * the pool alone, unless the channel is required.
 */
static void *serve_worker(void *arg)
{
	struct serve_worker *w = arg;
	struct serve_pool *pool = w->pool;
	struct pager_event *ev;
	bool done;
	int err;

	err = pool->event_fd < 0 ? -EMFILE :
	      pager__channel_open(pool->conn, pool->event_fd, -1, &w->ch);
	w->channel = !err;
	pthread_mutex_lock(&pool->lock);
	if (err && pager__channel_forced())
		pool->error = err;
	pool->starting--;
	pthread_cond_broadcast(&pool->cond);
	for (;;) {
		ev = pick(pool);
		if (ev) {
			/* The channel's answers go before a callback's wait. */
			if (w->channel)
				io_uring_submit(&w->ch.ring);
			run_event(w, ev);
			continue;
		}
		if (pool->stop && !pool->head)
			break;
		if (!w->channel) {
			pool->idle++;
			pthread_cond_wait(&pool->cond, &pool->lock);
			pool->idle--;
			continue;
		}
		/* Its ring waits for its channel and for the pool's events. */
		pthread_mutex_unlock(&pool->lock);
		if (pager__channel_run(pool->conn, &w->ch) < 0) {
			pager__channel_close(&w->ch);
			w->channel = false;
		}
		pthread_mutex_lock(&pool->lock);
	}
	done = w->channel;
	pthread_mutex_unlock(&pool->lock);
	if (done)
		pager__channel_close(&w->ch);
	return NULL;
}

static int serve_workers(struct pager_conn *conn, unsigned int nthreads)
{
	struct serve_pool pool = { .conn = conn };
	struct serve_worker *w;
	unsigned int i, n;
	int err = 0;

	w = calloc(nthreads, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pool.tail = &pool.head;
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.cond, NULL);
	pool.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (n = 0; n < nthreads; n++) {
		w[n].pool = &pool;
		w[n].buf = run_buf();
		if (!w[n].buf) {
			err = -ENOMEM;
			break;
		}
		pool.starting++;
		err = -pthread_create(&w[n].thread, NULL, serve_worker, &w[n]);
		if (err) {
			pool.starting--;
			free(w[n].buf);
			break;
		}
	}
	pthread_mutex_lock(&pool.lock);
	while (pool.starting)
		pthread_cond_wait(&pool.cond, &pool.lock);
	err = err ?: pool.error;
	pthread_mutex_unlock(&pool.lock);
	pager__receiving(conn, 1);
	while (!err && has_pagers(conn)) {
		err = pager__recv(conn, 1, enqueue, &pool);
		if (err > 0)
			err = 0;
	}
	pager__receiving(conn, -1);
	/* The workers handle what was received before they exit. */
	pthread_mutex_lock(&pool.lock);
	pool.stop = true;
	pthread_cond_broadcast(&pool.cond);
	wake_channels(&pool);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		free(w[i].buf);
	}
	if (pool.event_fd >= 0)
		close(pool.event_fd);
	pthread_cond_destroy(&pool.cond);
	pthread_mutex_destroy(&pool.lock);
	free(w);
	return err;
}

PAGER_API int pager_serve(struct pager_conn *conn, unsigned int nthreads)
{
	if (!nthreads)
		return -EINVAL;
	if (nthreads == 1)
		return serve_here(conn);
	return serve_workers(conn, nthreads);
}
