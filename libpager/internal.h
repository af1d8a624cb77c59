/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBPAGER_INTERNAL_H
#define LIBPAGER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <liburing.h>
#include <linux/extpager.h>
#include <linux/extpager_channel.h>

#include "libpager.h"
#include "testing.h"

#define PAGER_API __attribute__((visibility("default")))

/* Datagrams received ahead of a return to find a request behind it. */
#define PAGER_LOOKAHEAD	8

/* An event from the kernel, queued to be handled. */
struct pager_event {
	struct pager_event *next;
	/* What pager__classify() found: the object and bytes it is about. */
	uint8_t cmd;
	uint32_t id;
	bool running;
	uint64_t first, last;
	struct nlmsghdr *nlh;
	void *buf;	/* the receive buffer @nlh lies in, if it took one */
};

struct pager_conn {
	struct nl_sock *sk;
	int family_id;
	unsigned int family_version;
	unsigned int orphan_lifetime_ms;	/* for objects created from now */
	uint32_t portid;
	pthread_mutex_t lock;		/* the socket, the queue, the list */
	struct pager_event *queue, **queue_tail;
	struct pager *pagers;
	int wake_fd;			/* an eventfd: events were queued */
	int poll_fd;			/* epoll of the socket and wake_fd */
	pthread_mutex_t dispatch_lock;	/* events handled in place, in turn */
	void *recv_buf;			/* datagrams, under lock */
	void *spare_bufs[PAGER_LOOKAHEAD];	/* receive buffers to come, under lock */
	unsigned int nr_spare;
	void *buf;			/* the run buffer of pager_dispatch() */
	unsigned int receivers;		/* see pager__receiving() */
	pthread_cond_t cond;		/* lock requests completed, receivers left */
	struct pager_lock_wait *lock_waits;
	uint32_t next_cookie;
	/* As the default pager (pager_register_default()), under lock. */
	bool is_default;
	struct pager_ops default_ops;
	struct pager_attr default_attr;
	pager_assign_fn assign;
	void *assign_arg;
};

/* A pager_lock_request() waiting for its LOCK_COMPLETED. */
struct pager_lock_wait {
	struct pager_lock_wait *next;
	uint32_t cookie;
	int done;
	int error;
};

struct pager {
	struct pager *next;
	struct pager_conn *conn;
	/* Copies, of the library's size: the caller's may be smaller. */
	struct pager_ops ops;
	struct pager_attr attr;		/* what READY sent last, under conn->lock */
	void *priv;
	uint32_t id;
	int fd;
	unsigned int refs;		/* under conn->lock */
	/* Which of pager_destroy() and TERMINATE came first, under conn->lock. */
	bool destroying, terminating;
	pthread_cond_t released;	/* a reference went */
};

/*
 * A request whose callback said PAGER_LATER (pager_defer()): what its
 * answer needs, and nothing of its struct pager, which pager_destroy() or
 * TERMINATE may free before the answer comes.
 */
struct pager_request {
	struct pager_conn *conn;
	uint32_t object_id;
	uint32_t request_id;
	uint64_t offset;
	size_t len;
	uint8_t cmd;	/* DATA_REQUEST, DATA_UNLOCK or DATA_RETURN */
};

/* A data channel and its ring, one per serving thread (channel.c). */
struct pager_channel {
	struct io_uring ring;
	int fd;
	int epoll_fd;			/* what else the ring waits for */
	int wake_fd;			/* in it, an eventfd to reset, or -1 */
	const struct extpager_channel_desc *descs;
	void *buf;			/* the run buffers, one per tag */
};

/* channel.c */
bool pager__channel_forced(void);
int pager__channel_open(struct pager_conn *conn, int poll_fd, int wake_fd,
			struct pager_channel *ch);
void pager__channel_close(struct pager_channel *ch);
int pager__channel_run(struct pager_conn *conn, struct pager_channel *ch);

/* conn.c, besides testing.h's */
int pager__watch(int epoll_fd, int fd);
int pager__call_locked(struct pager_conn *conn, struct nl_msg *msg,
		       pager_reply_fn reply, void *arg);
int pager__send_locked(struct pager_conn *conn, struct nl_msg *msg);
typedef void (*pager_event_fn)(struct pager_event *ev, void *arg);
int pager__recv(struct pager_conn *conn, int block, pager_event_fn fn, void *arg);
void pager__receiving(struct pager_conn *conn, int delta);
void pager__free_event(struct pager_conn *conn, struct pager_event *ev);
void pager__classify(struct pager_event *ev);
bool pager__may_overtake(const struct pager_event *head,
			 const struct pager_event *ev);

/* pager.c, besides testing.h's */
void pager__handle(struct pager_conn *conn, struct nlmsghdr *nlh, void *buf);
void pager__lock_completed(struct pager_conn *conn, struct nlattr **tb);
int pager__channel_request(struct pager_conn *conn,
			   const struct extpager_channel_desc *d, void *buf,
			   unsigned int *flags);
void pager__channel_fail(struct pager_conn *conn,
			 const struct extpager_channel_desc *d, int err);

/* serve.c */
int pager__recv_here_until(struct pager_conn *conn, const int *done);

#endif /* LIBPAGER_INTERNAL_H */
