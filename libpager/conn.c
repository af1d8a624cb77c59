// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The connection to the module: a generic netlink socket bound to the
 * extpager family.  Calls send one message and wait for its acknowledgement;
 * events the kernel sends meanwhile are queued for the serving thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Large enough for any message the kernel sends a manager. */
#define PAGER_RECV_BUF	(64 * 1024)
/*
 * Events longer than this (returns, which carry their pages) are not copied
 * out of the receive buffer: they take it, and a spare replaces it.
 */
#define PAGER_COPY_MAX	4096

static __thread char pager_errmsg[256];

PAGER_API const char *pager_conn_error(void)
{
	return pager_errmsg;
}

/* libnl reports its own NLE_* codes; map the ones set-up can produce. */
static int nle_to_errno(int nle)
{
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

static int resolve_family(struct pager_conn *conn)
{
	struct nl_cache *cache;
	struct genl_family *family;
	int err;

	err = genl_ctrl_alloc_cache(conn->sk, &cache);
	if (err < 0)
		return nle_to_errno(err);
	family = genl_ctrl_search_by_name(cache, EXTPAGER_FAMILY_NAME);
	if (!family) {
		snprintf(pager_errmsg, sizeof(pager_errmsg),
			 "the %s generic netlink family is not registered: is extpager.ko loaded?",
			 EXTPAGER_FAMILY_NAME);
		err = -ENOENT;
	} else {
		conn->family_id = genl_family_get_id(family);
		conn->family_version = genl_family_get_version(family);
		/*
		 * The family evolves by adding commands and attributes,
		 * which libpager does not send unless it knows them: any
		 * version from the first on speaks what libpager needs.
		 * Version 0 (or none reported) is no extpager family.
		 */
		err = conn->family_version >= EXTPAGER_FAMILY_VERSION ? 0 : -EPROTONOSUPPORT;
		if (err)
			snprintf(pager_errmsg, sizeof(pager_errmsg),
				 "the kernel's %s family reports version %u; libpager needs version %u or later",
				 EXTPAGER_FAMILY_NAME, conn->family_version,
				 EXTPAGER_FAMILY_VERSION);
		genl_family_put(family);
	}
	nl_cache_free(cache);
	return err;
}

/* Add @fd to @epoll_fd, for reading. */
int pager__watch(int epoll_fd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

PAGER_API int pager_conn_open(struct pager_conn **connp)
{
	struct pager_conn *conn;
	int one = 1, rcvbuf = 4 << 20, fd, err;

	pager_errmsg[0] = '\0';
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	pthread_mutex_init(&conn->lock, NULL);
	pthread_mutex_init(&conn->dispatch_lock, NULL);
	pthread_cond_init(&conn->cond, NULL);
	conn->queue_tail = &conn->queue;
	conn->sk = nl_socket_alloc();
	if (!conn->sk) {
		err = -ENOMEM;
		goto free_conn;
	}
	/* Answers to the kernel's requests go unacknowledged (pager__send()). */
	nl_socket_disable_auto_ack(conn->sk);
	err = genl_connect(conn->sk);
	if (err < 0) {
		err = nle_to_errno(err);
		goto free_sock;
	}
	err = resolve_family(conn);
	if (err)
		goto free_sock;
	fd = nl_socket_get_fd(conn->sk);
	/* The kernel's reason for a refusal, without an echo of the request. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/*
	 * A full socket is the kernel's to handle: it learns that its send
	 * failed (a return goes to its default pager).  No ENOBUFS for us.
	 */
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	/* Requests queue up here while the manager is busy. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	conn->portid = nl_socket_get_local_port(conn->sk);
	conn->recv_buf = malloc(PAGER_RECV_BUF);
	if (!conn->recv_buf) {
		err = -ENOMEM;
		goto free_sock;
	}
	conn->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (conn->wake_fd < 0) {
		err = -errno;
		goto free_sock;
	}
	/*
	 * What an event loop polls: events wait in the socket, or in the
	 * queue when another thread's call received them with its answer.
	 */
	conn->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	err = conn->poll_fd < 0 ? -errno : pager__watch(conn->poll_fd, fd);
	err = err ?: pager__watch(conn->poll_fd, conn->wake_fd);
	if (err) {
		if (conn->poll_fd >= 0)
			close(conn->poll_fd);
		close(conn->wake_fd);
		goto free_sock;
	}
	*connp = conn;
	return 0;

free_sock:
	free(conn->recv_buf);
	nl_socket_free(conn->sk);
free_conn:
	free(conn);
	return err;
}

PAGER_API void pager_conn_close(struct pager_conn *conn)
{
	struct pager_event *ev;
	struct pager *p;

	if (!conn)
		return;
	while ((p = conn->pagers)) {
		conn->pagers = p->next;
		free(p);
	}
	while ((ev = conn->queue)) {
		conn->queue = ev->next;
		free(ev->buf);
		free(ev);
	}
	nl_socket_free(conn->sk);
	close(conn->wake_fd);
	close(conn->poll_fd);
	free(conn->recv_buf);
	while (conn->nr_spare)
		free(conn->spare_bufs[--conn->nr_spare]);
	free(conn->buf);
	pthread_mutex_destroy(&conn->lock);
	pthread_mutex_destroy(&conn->dispatch_lock);
	pthread_cond_destroy(&conn->cond);
	free(conn);
}

PAGER_API int pager_conn_fd(const struct pager_conn *conn)
{
	return conn->poll_fd;
}

int pager__socket_fd(struct pager_conn *conn)
{
	return nl_socket_get_fd(conn->sk);
}

PAGER_API int pager_conn_family_id(const struct pager_conn *conn)
{
	return conn->family_id;
}

PAGER_API unsigned int pager_conn_family_version(const struct pager_conn *conn)
{
	return conn->family_version;
}

PAGER_API void pager_conn_set_orphan_lifetime(struct pager_conn *conn,
					      unsigned int ms)
{
	pthread_mutex_lock(&conn->lock);
	conn->orphan_lifetime_ms = ms;
	pthread_mutex_unlock(&conn->lock);
}

/* A message for @cmd with room for @payload bytes of attributes. */
struct nl_msg *pager__msg(struct pager_conn *conn, uint8_t cmd, size_t payload)
{
	struct nl_msg *msg = nlmsg_alloc_size(NLMSG_SPACE(GENL_HDRLEN + payload + 256));

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, conn->family_id,
				0, 0, cmd, EXTPAGER_FAMILY_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* Attributes of kind uint are 4 or 8 bytes long. */
uint64_t pager__uint(const struct nlattr *attr)
{
	return nla_len(attr) == 8 ? nla_get_u64((struct nlattr *)attr) :
				    nla_get_u32((struct nlattr *)attr);
}

void pager__parse(struct nlmsghdr *nlh, struct nlattr **tb)
{
	memset(tb, 0, (EXTPAGER_A_OBJECT_MAX + 1) * sizeof(*tb));
	genlmsg_parse(nlh, 0, tb, EXTPAGER_A_OBJECT_MAX, NULL);
}

static void save_errmsg(struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off = sizeof(*e);
	struct nlattr *attr;
	int rem;

	pager_errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	attr = (struct nlattr *)((char *)e + NLMSG_ALIGN(off));
	rem = (int)nlh->nlmsg_len - (int)((char *)attr - (char *)nlh);
	for (; nla_ok(attr, rem); attr = nla_next(attr, &rem)) {
		if (nla_type(attr) == NLMSGERR_ATTR_MSG)
			snprintf(pager_errmsg, sizeof(pager_errmsg), "%s",
				 (char *)nla_data(attr));
		/* GENL_REQ_ATTR_CHECK() names the attribute, in no words. */
		else if (nla_type(attr) == NLMSGERR_ATTR_MISS_TYPE && !pager_errmsg[0])
			snprintf(pager_errmsg, sizeof(pager_errmsg),
				 "missing attribute %u", nla_get_u32(attr));
	}
}

/*
 * Queue the event @nlh, which lies in the receive buffer, alone in its
 * datagram if @alone.  Under conn->lock.
 */
static int queue_event(struct pager_conn *conn, struct nlmsghdr *nlh, bool alone)
{
	bool take = alone && nlh->nlmsg_len > PAGER_COPY_MAX;
	struct pager_event *ev = malloc(sizeof(*ev) + (take ? 0 : nlh->nlmsg_len));
	void *fresh;

	if (!ev)
		return 0;	/* the request times out in the kernel */
	ev->next = NULL;
	ev->buf = NULL;
	ev->cmd = 0;		/* not classified yet */
	if (take) {
		fresh = conn->nr_spare ? conn->spare_bufs[--conn->nr_spare] :
					 malloc(PAGER_RECV_BUF);
		if (!fresh) {
			free(ev);
			return 0;
		}
		ev->buf = conn->recv_buf;
		ev->nlh = nlh;
		conn->recv_buf = fresh;
	} else {
		ev->nlh = (struct nlmsghdr *)(ev + 1);
		memcpy(ev->nlh, nlh, nlh->nlmsg_len);
	}
	*conn->queue_tail = ev;
	conn->queue_tail = &ev->next;
	return 1;
}

/*
 * @ev is handled: a receive buffer it took is kept as a spare, as many as
 * a lookahead can take at once, or goes.
 */
void pager__free_event(struct pager_conn *conn, struct pager_event *ev)
{
	if (ev->buf) {
		pthread_mutex_lock(&conn->lock);
		if (conn->nr_spare < PAGER_LOOKAHEAD) {
			conn->spare_bufs[conn->nr_spare++] = ev->buf;
			ev->buf = NULL;
		}
		pthread_mutex_unlock(&conn->lock);
		free(ev->buf);
	}
	free(ev);
}

/*
 * Receive one datagram.  Events are queued (and the serving thread woken);
 * if it answers call @seq, *@answer gets 0 or the kernel's -errno and a
 * reply goes to @reply.  Returns 1 if answered, 0 if not, or -errno if
 * nothing could be received.  Under conn->lock.
 */
static int recv_one(struct pager_conn *conn, int flags, uint32_t seq,
		    pager_reply_fn reply, void *arg, int *answer)
{
	char *buf = conn->recv_buf;
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	struct nlmsghdr *nlh;
	uint64_t one = 1;
	int len, answered = 0, queued = 0;

	len = recv(nl_socket_get_fd(conn->sk), buf, PAGER_RECV_BUF, flags);
	if (len < 0)
		return -errno;
	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (!seq || nlh->nlmsg_seq != seq) {
			if (nlh->nlmsg_type == conn->family_id && !nlh->nlmsg_seq)
				queued += queue_event(conn, nlh, nlh == (void *)buf &&
						      NLMSG_ALIGN(nlh->nlmsg_len) >= (unsigned int)len);
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			save_errmsg(nlh);
			*answer = e->error;
			answered = 1;
		} else if (nlh->nlmsg_type == conn->family_id && reply) {
			pager__parse(nlh, tb);
			reply(tb, arg);
		}
	}
	if (queued && seq)
		(void)!write(conn->wake_fd, &one, sizeof(one));
	return answered;
}

/* pager__call() under conn->lock, which a caller holds to order its sends. */
int pager__call_locked(struct pager_conn *conn, struct nl_msg *msg,
		       pager_reply_fn reply, void *arg)
{
	int err, answer = 0;
	uint32_t seq;

	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	err = nl_send_auto(conn->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (err < 0)
		return nle_to_errno(err);
	do
		err = recv_one(conn, 0, seq, reply, arg, &answer);
	while (err == 0 || err == -EINTR);
	if (err > 0)
		err = answer;
	if (!err)
		pager_errmsg[0] = '\0';
	return err;
}

/*
 * Send @msg (consumed) and wait for its acknowledgement, passing a reply
 * to @reply.  Returns 0 or the kernel's -errno.
 */
int pager__call(struct pager_conn *conn, struct nl_msg *msg,
		pager_reply_fn reply, void *arg)
{
	int err;

	pthread_mutex_lock(&conn->lock);
	err = pager__call_locked(conn, msg, reply, arg);
	pthread_mutex_unlock(&conn->lock);
	return err;
}

/* pager__send() under conn->lock. */
int pager__send_locked(struct pager_conn *conn, struct nl_msg *msg)
{
	int err = nl_send_auto(conn->sk, msg);

	nlmsg_free(msg);
	return err < 0 ? nle_to_errno(err) : 0;
}

/*
 * Send @msg (consumed) without waiting.  The kernel handles it before
 * sendmsg() returns and sends back only a failure, which the serving loop
 * skips: an answer the kernel refuses (say, too late) changes nothing.
 */
int pager__send(struct pager_conn *conn, struct nl_msg *msg)
{
	int err;

	pthread_mutex_lock(&conn->lock);
	err = pager__send_locked(conn, msg);
	pthread_mutex_unlock(&conn->lock);
	return err;
}

/*
 * Note which object and bytes @ev is about, once: a cmd of 0 (UNSPEC,
 * never an event's) says it is still to be done.
 */
void pager__classify(struct pager_event *ev)
{
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	uint64_t offset, len;

	if (ev->cmd)
		return;
	ev->cmd = ((struct genlmsghdr *)nlmsg_data(ev->nlh))->cmd;
	pager__parse(ev->nlh, tb);
	ev->id = tb[EXTPAGER_A_OBJECT_ID] ? nla_get_u32(tb[EXTPAGER_A_OBJECT_ID]) : 0;
	ev->first = 0;
	ev->last = UINT64_MAX;
	if (ev->cmd != EXTPAGER_CMD_DATA_REQUEST && ev->cmd != EXTPAGER_CMD_DATA_UNLOCK &&
	    ev->cmd != EXTPAGER_CMD_DATA_RETURN && ev->cmd != EXTPAGER_CMD_DATA_EVICTED)
		return;
	if (!tb[EXTPAGER_A_OBJECT_OFFSET] || !tb[EXTPAGER_A_OBJECT_LENGTH])
		return;
	offset = pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]);
	len = pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]);
	if (len && offset + len - 1 >= offset) {
		ev->first = offset;
		ev->last = offset + len - 1;
	}
}

/*
 * Whether @a and @b must be handled in the order they came: they are about
 * the same object and share a page.  INIT, TERMINATE and any other event
 * without a run cover the whole object.
 */
static bool overlap(const struct pager_event *a, const struct pager_event *b)
{
	return a->id == b->id && a->first <= b->last && b->first <= a->last;
}

/*
 * Whether classified @ev, queued behind @head, may be handled before the
 * events from @head up to it: none of them is about its pages.
 */
bool pager__may_overtake(const struct pager_event *head,
			 const struct pager_event *ev)
{
	for (; head != ev; head = head->next)
		if (overlap(head, ev))
			return false;
	return true;
}

static struct pager_event *unlink_event(struct pager_conn *conn,
					struct pager_event **pp)
{
	struct pager_event *ev = *pp;

	*pp = ev->next;
	if (!ev->next)
		conn->queue_tail = pp;
	return ev;
}

/*
 * A request or an unlock, queued behind the first event, that may go
 * before it: no event before it is about its pages.  Under conn->lock.
 */
static struct pager_event **urgent_event(struct pager_conn *conn)
{
	struct pager_event **pp;

	pager__classify(conn->queue);
	for (pp = &conn->queue->next; *pp; pp = &(*pp)->next) {
		pager__classify(*pp);
		if (((*pp)->cmd == EXTPAGER_CMD_DATA_REQUEST ||
		     (*pp)->cmd == EXTPAGER_CMD_DATA_UNLOCK) &&
		    pager__may_overtake(conn->queue, *pp))
			return pp;
	}
	return NULL;
}

/*
 * The next event to handle, or NULL.  Storing a return takes long, and a
 * fault may be waiting for a request that came after it: so before a
 * return, up to PAGER_LOOKAHEAD datagrams the socket holds are received,
 * and a request or unlock about other pages goes first.  Requests that
 * never stop coming could put a return off until it times out; its pages
 * then go to the kernel's default pager, as any late return's.  Under
 * conn->lock.
 */
static struct pager_event *next_event(struct pager_conn *conn)
{
	struct pager_event **pp;
	int n, answer;

	if (!conn->queue)
		return NULL;
	if (((struct genlmsghdr *)nlmsg_data(conn->queue->nlh))->cmd !=
	    EXTPAGER_CMD_DATA_RETURN)
		return unlink_event(conn, &conn->queue);
	for (n = 0; n < PAGER_LOOKAHEAD; n++)
		if (recv_one(conn, MSG_DONTWAIT, 0, NULL, NULL, &answer) < 0)
			break;
	pp = urgent_event(conn);
	return unlink_event(conn, pp ? pp : &conn->queue);
}

struct nlmsghdr *pager__take_event(struct pager_conn *conn, int ms)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(conn->sk), .events = POLLIN };
	struct pager_event *ev;
	struct nlmsghdr *nlh;
	int err, answer;

	for (;;) {
		pthread_mutex_lock(&conn->lock);
		ev = conn->queue ? unlink_event(conn, &conn->queue) : NULL;
		err = ev ? 0 : recv_one(conn, MSG_DONTWAIT, 0, NULL, NULL, &answer);
		pthread_mutex_unlock(&conn->lock);
		if (ev)
			break;
		if (err == -EAGAIN) {
			err = poll(&pfd, 1, ms);
			if (!err)
				err = -ETIMEDOUT;
			else if (err < 0 && errno != EINTR)
				err = -errno;
		}
		if (err < 0 && err != -EAGAIN && err != -EINTR) {
			errno = -err;
			return NULL;
		}
	}
	/* Exactly its length: a copy into any fixed buffer could overflow. */
	nlh = malloc(ev->nlh->nlmsg_len);
	if (nlh)
		memcpy(nlh, ev->nlh, ev->nlh->nlmsg_len);
	pager__free_event(conn, ev);
	if (!nlh)
		errno = ENOMEM;
	return nlh;
}

int pager__inject(struct pager_conn *conn, const struct nlmsghdr *nlh)
{
	struct pager_event *ev = calloc(1, sizeof(*ev) + nlh->nlmsg_len);
	uint64_t one = 1;

	if (!ev)
		return -ENOMEM;
	ev->nlh = (struct nlmsghdr *)(ev + 1);
	memcpy(ev->nlh, nlh, nlh->nlmsg_len);
	pthread_mutex_lock(&conn->lock);
	*conn->queue_tail = ev;
	conn->queue_tail = &ev->next;
	pthread_mutex_unlock(&conn->lock);
	/* A thread serving @conn may be waiting in poll(). */
	(void)!write(conn->wake_fd, &one, sizeof(one));
	return 0;
}

/*
 * Pass the kernel's events to @fn, which owns them then: the queued ones,
 * then what the socket holds.  With @block, wait (without holding the
 * lock) until there is one, and return once something was passed.  Returns
 * how many were, or -errno.  One poll() and one recv() per event when idle:
 * no call just to learn that nothing is there.
 */
static int recv_events(struct pager_conn *conn, int block, pager_event_fn fn,
		       void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = nl_socket_get_fd(conn->sk), .events = POLLIN },
		{ .fd = conn->wake_fd, .events = POLLIN },
	};
	struct pager_event *ev;
	int n = 0, err, answer;
	uint64_t count;

	for (;;) {
		pthread_mutex_lock(&conn->lock);
		ev = next_event(conn);
		pthread_mutex_unlock(&conn->lock);
		if (ev) {
			fn(ev, arg);
			n++;
			continue;
		}
		if (block && n)
			return n;
		if (block) {
			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				return -errno;
			/* Woken: events were queued, or an object went. */
			if (pfd[1].revents & POLLIN) {
				(void)!read(conn->wake_fd, &count, sizeof(count));
				block = 0;
			}
		}
		pthread_mutex_lock(&conn->lock);
		err = recv_one(conn, MSG_DONTWAIT, 0, NULL, NULL, &answer);
		pthread_mutex_unlock(&conn->lock);
		if (err == -EAGAIN && !block)
			return n;
		if (err < 0 && err != -EAGAIN && err != -EINTR && err != -ENOBUFS)
			return err;
	}
}

/*
 * Count a thread in or out of receiving for @conn (@delta 1 or -1): a
 * pager_lock_request() waits for the receiving threads to handle its
 * LOCK_COMPLETED, or receives itself if there are none.  A serving loop
 * counts for as long as it serves, not only while in pager__recv(): a
 * request made between two of its receives would otherwise compete with
 * it for the answer, and could wait in poll() for one already handled.
 */
void pager__receiving(struct pager_conn *conn, int delta)
{
	pthread_mutex_lock(&conn->lock);
	conn->receivers += delta;
	if (!conn->receivers)
		pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->lock);
}

/* recv_events(), counted. */
int pager__recv(struct pager_conn *conn, int block, pager_event_fn fn, void *arg)
{
	int ret;

	pager__receiving(conn, 1);
	ret = recv_events(conn, block, fn, arg);
	pager__receiving(conn, -1);
	return ret;
}
