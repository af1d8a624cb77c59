// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A data channel: the kernel's data requests and unlocks, and their
 * answers, as io_uring commands (uapi/linux/extpager_channel.h), through
 * liburing.  Each serving thread has one channel and one ring, its own to
 * make and use: every tag keeps a FETCH outstanding; a completed FETCH is a
 * request, answered by COMMIT_AND_FETCH on its tag, which also waits for
 * the tag's next one.
 * The ring also polls what else the thread serves (the netlink socket, or
 * the worker pool's eventfd), so one io_uring_enter() waits for all.
 *
 * Requests that find no FETCH waiting come over netlink, as every other
 * message does, so the netlink socket is always served too.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "internal.h"

/* Tags per channel: faults one serving thread can have handed to it. */
#define CHANNEL_TAGS	4

/*
 * A command's user_data: its tag, and what it was, to know what to do if it
 * fails.  The poll's is POLL_DATA.
 */
enum { SENT_FETCH, SENT_ANSWER, SENT_NONE };
#define USER_DATA(tag, sent)	((uint64_t)(sent) << 16 | (tag))
#define POLL_DATA		(1ULL << 32)

static void opened(struct nlattr **tb, void *arg)
{
	int *fd = arg;

	if (tb[EXTPAGER_A_OBJECT_FD])
		*fd = nla_get_u32(tb[EXTPAGER_A_OBJECT_FD]);
}

/* $LIBPAGER_TRANSPORT: "netlink" or "channel" forces one; unset, either. */
static int transport(void)
{
	const char *t = getenv("LIBPAGER_TRANSPORT");

	if (!t || !*t)
		return 0;
	if (!strcmp(t, "netlink"))
		return -1;
	if (!strcmp(t, "channel"))
		return 1;
	return 0;
}

bool pager__channel_forced(void)
{
	return transport() > 0;
}

static void prep_cmd(struct pager_channel *ch, unsigned int op, unsigned int tag,
		     int result, unsigned int flags, const void *addr)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ch->ring);
	struct extpager_channel_cmd *cmd;

	/* The ring has room for every tag and the poll: never NULL. */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, ch->fd, NULL, 0, 0);
	sqe->cmd_op = op;
	sqe->user_data = USER_DATA(tag, op == EXTPAGER_CHANNEL_FETCH ? SENT_FETCH :
				   result == EXTPAGER_CHANNEL_NONE ? SENT_NONE :
								     SENT_ANSWER);
	cmd = (struct extpager_channel_cmd *)sqe->cmd;
	memset(cmd, 0, sizeof(*cmd));
	cmd->tag = tag;
	cmd->result = result;
	cmd->flags = flags;
	cmd->addr = (uintptr_t)addr;
}

/*
 * The ring polls an epoll set of the fds, not the fds themselves: a poll
 * holds its file until the ring's teardown, which runs in the background,
 * and the kernel must see the manager's socket go as soon as its process
 * does.  An epoll set holds none of its files.
 */
static void prep_poll(struct pager_channel *ch)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ch->ring);

	io_uring_prep_poll_multishot(sqe, ch->epoll_fd, POLLIN);
	sqe->user_data = POLL_DATA;
}

/*
 * Open a data channel on @conn, its ring also polling @poll_fd and, if not
 * -1, @wake_fd, an eventfd it resets.  -errno if the kernel or the
 * environment offers none (or LIBPAGER_TRANSPORT says netlink): the caller
 * serves over netlink alone.
 */
int pager__channel_open(struct pager_conn *conn, int poll_fd, int wake_fd,
			struct pager_channel *ch)
{
	/*
	 * Only this thread submits, and a request need not interrupt it: it
	 * waits in the ring.  (IORING_SETUP_DEFER_TASKRUN measured no faster.)
	 */
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
	};
	long page = sysconf(_SC_PAGESIZE);
	struct nl_msg *msg;
	unsigned int t;
	int err;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	ch->wake_fd = wake_fd;
	if (transport() < 0)
		return -EOPNOTSUPP;
	ch->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (ch->epoll_fd < 0)
		return -errno;
	err = pager__watch(ch->epoll_fd, poll_fd);
	if (!err && wake_fd >= 0)
		err = pager__watch(ch->epoll_fd, wake_fd);
	if (err)
		goto close_epoll;
	err = -ENOMEM;
	/* A buffer per tag, touched only as far as runs go. */
	ch->buf = aligned_alloc(page, CHANNEL_TAGS * EXTPAGER_MAX_RUN * page);
	if (!ch->buf)
		goto close_epoll;
	err = io_uring_queue_init_params(2 * CHANNEL_TAGS + 2, &ch->ring, &p);
	if (err == -EINVAL) {	/* before Linux 6.0 */
		p = (struct io_uring_params){ .flags = IORING_SETUP_COOP_TASKRUN };
		err = io_uring_queue_init_params(2 * CHANNEL_TAGS + 2, &ch->ring, &p);
	}
	if (err)
		goto free_buf;
	msg = pager__msg(conn, EXTPAGER_CMD_CHANNEL_OPEN, 0);
	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_TAGS, CHANNEL_TAGS)) {
		nlmsg_free(msg);
		err = -ENOMEM;
		goto exit_ring;
	}
	err = pager__call(conn, msg, opened, &ch->fd);
	if (!err && ch->fd < 0)
		err = -EPROTO;
	if (err)
		goto exit_ring;
	ch->descs = mmap(NULL, page, PROT_READ, MAP_SHARED, ch->fd, 0);
	if (ch->descs == MAP_FAILED) {
		err = -errno;
		goto close_fd;
	}
	for (t = 0; t < CHANNEL_TAGS; t++)
		prep_cmd(ch, EXTPAGER_CHANNEL_FETCH, t, 0, 0, NULL);
	prep_poll(ch);
	err = io_uring_submit(&ch->ring);
	if (err < 0)
		goto unmap;
	return 0;

unmap:
	munmap((void *)ch->descs, page);
close_fd:
	close(ch->fd);
exit_ring:
	io_uring_queue_exit(&ch->ring);
free_buf:
	free(ch->buf);
close_epoll:
	close(ch->epoll_fd);
	return err;
}

/*
 * Close @ch: the ring's teardown cancels its FETCHes, and a request the
 * kernel handed to it and that was not answered goes over netlink.
 */
void pager__channel_close(struct pager_channel *ch)
{
	io_uring_queue_exit(&ch->ring);
	munmap((void *)ch->descs, sysconf(_SC_PAGESIZE));
	close(ch->fd);
	close(ch->epoll_fd);
	free(ch->buf);
}

/*
 * Submit the answers prepared, wait until the kernel hands a request to @ch
 * or the polled fds are ready, and prepare the answers to the requests:
 * one io_uring_enter() a request.  Returns 1 if the polled fds were ready,
 * else 0, or -errno if the channel no longer works (-ENOTCONN: the kernel
 * forgot the manager).
 */
int pager__channel_run(struct pager_conn *conn, struct pager_channel *ch)
{
	size_t run = EXTPAGER_MAX_RUN * sysconf(_SC_PAGESIZE);
	struct io_uring_cqe *cqe;
	unsigned int flags, tag, sent;
	uint64_t data, count;
	int res, err, answer, polled = 0;
	void *buf;

	err = io_uring_submit_and_wait(&ch->ring, 1);
	if (err < 0 && err != -EINTR)
		return err;
	while (!io_uring_peek_cqe(&ch->ring, &cqe)) {
		data = cqe->user_data;
		res = cqe->res;
		flags = cqe->flags;
		io_uring_cqe_seen(&ch->ring, cqe);
		if (data == POLL_DATA) {
			if (!(flags & IORING_CQE_F_MORE))
				prep_poll(ch);
			if (ch->wake_fd >= 0)
				(void)!read(ch->wake_fd, &count, sizeof(count));
			polled = 1;
			continue;
		}
		tag = data & 0xffff;
		sent = data >> 16;
		if (res < 0) {
			/* The channel is gone, or broken. */
			if (res == -ENOTCONN || res == -ECANCELED || sent == SENT_FETCH)
				return res;
			/*
			 * An answer refused: the request timed out (ESTALE),
			 * or it failed on its way, and then its faults must
			 * not wait for the timeout: fail them over netlink.
			 * Then release the tag; if that failed, the tag was
			 * idle already: fetch.
			 */
			if (sent == SENT_ANSWER) {
				if (res != -ESTALE)
					pager__channel_fail(conn, &ch->descs[tag], res);
				prep_cmd(ch, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, tag,
					 EXTPAGER_CHANNEL_NONE, 0, NULL);
			} else {
				prep_cmd(ch, EXTPAGER_CHANNEL_FETCH, tag, 0, 0, NULL);
			}
			continue;
		}
		buf = (char *)ch->buf + tag * run;
		answer = pager__channel_request(conn, &ch->descs[tag], buf, &flags);
		prep_cmd(ch, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, tag, answer, flags, buf);
	}
	/* The caller serves something else now: the answers go first. */
	if (polled) {
		err = io_uring_submit(&ch->ring);
		if (err < 0)
			return err;
	}
	return polled;
}
