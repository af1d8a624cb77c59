/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpager's seams for extpager's own selftests, and nothing else: raw
 * protocol messages over a libpager connection, and the events the kernel
 * sent to a connection nobody serves.  These functions are in libpager.a
 * only: libpager.so.1 does not export them (libpager.map), and neither
 * this header nor they are installed.  A test that needs more of the
 * library's insides adds a function here, never reaches into its structs.
 */
#ifndef LIBPAGER_TESTING_H
#define LIBPAGER_TESTING_H

#include <stdint.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/extpager.h>

#include "libpager.h"

/*
 * A message for @cmd of the extpager family, with room for @payload bytes
 * of attributes besides the usual; NULL if out of memory.
 */
struct nl_msg *pager__msg(struct pager_conn *conn, uint8_t cmd, size_t payload);

/* Called with a reply's attributes, parsed as OBJECT's (tb[EXTPAGER_A_OBJECT_MAX + 1]). */
typedef void (*pager_reply_fn)(struct nlattr **tb, void *arg);

/*
 * Send @msg (consumed) and wait for the kernel's acknowledgement, passing
 * each reply to @reply (may be NULL).  Returns 0 or the kernel's -errno,
 * whose words pager_conn_error() then has.  Events that come meanwhile are
 * queued, as for any call.
 */
int pager__call(struct pager_conn *conn, struct nl_msg *msg,
		pager_reply_fn reply, void *arg);

/* Send @msg (consumed) without asking for an acknowledgement. */
int pager__send(struct pager_conn *conn, struct nl_msg *msg);

/*
 * pager_stats() of object @id, which need not be a pager of @conn's (the
 * kernel shows any object to CAP_SYS_ADMIN), into the whole of *@stats.
 */
int pager__stats(struct pager_conn *conn, uint32_t id, struct pager_stats *stats);

/*
 * The connection's netlink socket itself, for a test that shrinks or
 * breaks it (pager_conn_fd() is the epoll descriptor an event loop polls).
 */
int pager__socket_fd(struct pager_conn *conn);

/* The value of an attribute of kind uint (4 or 8 bytes). */
uint64_t pager__uint(const struct nlattr *attr);

/* Parse @nlh's attributes into @tb, EXTPAGER_A_OBJECT_MAX + 1 of them. */
void pager__parse(struct nlmsghdr *nlh, struct nlattr **tb);

/*
 * The next event the kernel sent to @conn, which nobody serves: one a call
 * queued while it waited for its answer, else one received within @ms
 * milliseconds (-1: no limit).  Returns it in a buffer of its own length,
 * the caller's to free(); NULL with errno ETIMEDOUT, or another errno.
 */
struct nlmsghdr *pager__take_event(struct pager_conn *conn, int ms);

/*
 * Queue a copy of @nlh, an event as the kernel would send it, behind what
 * @conn has queued: pager_serve() and pager_dispatch() handle it as one
 * received.  Returns 0 or -ENOMEM.
 */
int pager__inject(struct pager_conn *conn, const struct nlmsghdr *nlh);

#endif /* LIBPAGER_TESTING_H */
