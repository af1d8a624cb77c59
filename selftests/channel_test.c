// SPDX-License-Identifier: GPL-2.0
/*
 * The data channel (uapi/linux/extpager_channel.h), driven by hand with
 * liburing: opening it, its descriptors, each answer, bad commands, a
 * commit after a timeout, requests given back when a channel or its ring
 * goes, a manager killed with requests handed out, more faulters than tags,
 * and libpager choosing its transport.
 */
#include <sched.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define PAGES	64
#define TAGS	2

static void got_fd(struct nlattr **tb, void *arg)
{
	if (tb[EXTPAGER_A_OBJECT_FD])
		*(int *)arg = nla_get_u32(tb[EXTPAGER_A_OBJECT_FD]);
}

/*
 * The module has the data channel where the kernel's io_uring commands can
 * be cancelled (io_uring_cmd_mark_cancelable(), Linux 6.7: module/compat.h):
 * known from the kernel, not from the module, so that a module that
 * refuses the channel where it should not fails instead of skipping.
 */
static bool kernel_has_channel(void)
{
	return kernel_has_symbol("io_uring_cmd_mark_cancelable");
}

#define NEED_CHANNEL() do {						\
	if (!kernel_has_channel())					\
		SKIP(return, "no data channel on this kernel (no cancelable io_uring commands)"); \
} while (0)

/* CHANNEL_OPEN with @tags (none if 0): the channel's fd, or -errno. */
static int channel_open(struct pager_conn *conn, unsigned int tags)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_CHANNEL_OPEN, 0);
	int fd = -1, err;

	if (!msg)
		return -ENOMEM;
	if (tags)
		nla_put_u32(msg, EXTPAGER_A_OBJECT_TAGS, tags);
	err = pager__call(conn, msg, got_fd, &fd);
	return err ?: fd;
}

/* The object's channel-requests counter, or -errno. */
static long channel_requests(struct pager *pager)
{
	struct object_info oi;
	int err = object_info(pager, &oi);

	return err ?: oi.channel_requests;
}

/* Answer request @ev over netlink with the page at @buf. */
static int supply_by_hand(struct pager_conn *conn, struct pager *pager,
			  const struct event *ev, const void *buf)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_DATA_SUPPLY, PAGE + NLA_HDRLEN);

	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(pager));
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev->req_id);
	nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, ev->offset);
	nla_put(msg, EXTPAGER_A_OBJECT_DATA, PAGE, buf);
	return pager__call(conn, msg, NULL, NULL);
}

/* A command on the channel, submitted at once. */
static int submit(struct io_uring *ring, int fd, unsigned int op, unsigned int tag,
		  int result, unsigned int flags, const void *addr)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct extpager_channel_cmd *cmd;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	sqe->user_data = tag;
	cmd = (struct extpager_channel_cmd *)sqe->cmd;
	memset(cmd, 0, sizeof(*cmd));
	cmd->tag = tag;
	cmd->result = result;
	cmd->flags = flags;
	cmd->addr = (uintptr_t)addr;
	return io_uring_submit(ring) == 1 ? 0 : -EIO;
}

/* The next completion within @ms: its result, or -ETIME if none came. */
static int complete(struct io_uring *ring, int ms, uint64_t *user_data)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000,
					.tv_nsec = (ms % 1000) * 1000000L };
	struct io_uring_cqe *cqe;
	int res;

	res = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (res)
		return res;
	res = cqe->res;
	if (user_data)
		*user_data = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

struct waiter {
	char *addr;
	bool write;
	int sigbus;
};

static void *wait_fault(void *arg)
{
	struct waiter *w = arg;

	w->sigbus = touch(w->addr, w->write, NULL);
	return NULL;
}

/* A store alone, not touch()'s read first: the fault is a write fault. */
static void *store_fault(void *arg)
{
	struct waiter *w = arg;

	*(volatile char *)w->addr = 1;
	return NULL;
}

/* A manager played by hand: an object, mapped, READY, and a channel. */
FIXTURE(chan) {
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	char *p;
	int fd;
	const struct extpager_channel_desc *descs;
	struct io_uring ring;
	char *buf;
};

FIXTURE_SETUP(chan)
{
	struct nl_msg *msg;
	struct event ev;

	NEED_CHANNEL();
	catch_sigbus();
	behaviour_init(&self->b, 7);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &pattern_ops, NULL, &self->b,
				  &self->pager));
	self->p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->p);
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_INIT, 5000, &ev));
	msg = pager__msg(self->conn, EXTPAGER_CMD_READY, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(self->pager));
	ASSERT_EQ(0, pager__call(self->conn, msg, NULL, NULL));

	self->fd = channel_open(self->conn, TAGS);
	ASSERT_LE(0, self->fd) TH_LOG("channel-open: %s", pager_conn_error());
	self->descs = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->descs);
	ASSERT_EQ(0, io_uring_queue_init(16, &self->ring, 0));
	self->buf = aligned_alloc(PAGE, PAGE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(chan)
{
	io_uring_queue_exit(&self->ring);
	munmap((void *)self->descs, PAGE);
	close(self->fd);
	munmap(self->p, PAGES * PAGE);
	pager_conn_close(self->conn);
	free(self->buf);
}

/* Fault on page @page in thread @t; wait for the request on a FETCH of tag @tag. */
static void fault_to_tag(struct __test_metadata *_metadata, FIXTURE_DATA(chan) *self,
			 pthread_t *t, struct waiter *w, unsigned int page,
			 bool write, unsigned int tag)
{
	const struct extpager_channel_desc *d = &self->descs[tag];
	uint64_t data = ~0ULL;

	*w = (struct waiter){ .addr = self->p + page * PAGE + 1, .write = write };
	ASSERT_EQ(0, pthread_create(t, NULL, write ? store_fault : wait_fault, w));
	ASSERT_EQ((int)tag, complete(&self->ring, 5000, &data));
	ASSERT_EQ(tag, data);
	EXPECT_EQ(pager_id(self->pager), d->object_id);
	EXPECT_NE(0, d->request_id);
	EXPECT_EQ(page * PAGE, d->offset);
	EXPECT_EQ(PAGE, d->length);
	EXPECT_EQ(EXTPAGER_CMD_DATA_REQUEST, d->cmd);
	EXPECT_EQ(write ? EXTPAGER_ACCESS_WRITE : EXTPAGER_ACCESS_READ, d->access);
}

TEST_F(chan, supply_unavailable_and_error_answer_faults)
{
	struct waiter w[3];
	struct event ev;
	pthread_t t[3];

	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 1, 0, 0, NULL));
	/* No request yet: the FETCHes wait. */
	EXPECT_EQ(-ETIME, complete(&self->ring, 200, NULL));

	/* Tag 0 is busy with the first request: the second goes to tag 1. */
	fault_to_tag(_metadata, self, &t[0], &w[0], 3, false, 0);
	fault_to_tag(_metadata, self, &t[1], &w[1], 5, true, 1);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 1,
			    EXTPAGER_CHANNEL_UNAVAILABLE, 0, NULL));
	fill_pattern(self->buf, 7, 3 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	pthread_join(t[0], NULL);
	EXPECT_EQ(0, w[0].sigbus);
	EXPECT_TRUE(check_pattern(self->p + 3 * PAGE, 7, 3 * PAGE, PAGE));
	pthread_join(t[1], NULL);
	EXPECT_EQ(0, w[1].sigbus);
	EXPECT_EQ(1, self->p[5 * PAGE + 1]);	/* zeros, then the write */
	EXPECT_EQ(0, self->p[5 * PAGE]);
	EXPECT_TRUE(all_zero(self->p + 5 * PAGE + 2, PAGE - 2));

	fault_to_tag(_metadata, self, &t[2], &w[2], 7, false, 0);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    -EIO, 0, NULL));
	pthread_join(t[2], NULL);
	EXPECT_EQ(1, w[2].sigbus);

	/* None of it went over netlink. */
	EXPECT_EQ(-ETIMEDOUT, next_event(self->conn, 100, &ev));
	EXPECT_EQ(3, channel_requests(self->pager));
}

TEST_F(chan, unlock_is_granted_or_denied_over_the_channel)
{
	const struct extpager_channel_desc *d = &self->descs[0];
	struct waiter w;
	pthread_t t;

	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	for (int page = 2; page <= 4; page += 2) {
		fault_to_tag(_metadata, self, &t, &w, page, false, 0);
		fill_pattern(self->buf, 7, page * PAGE, PAGE);
		ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH,
				    0, EXTPAGER_CHANNEL_SUPPLY,
				    EXTPAGER_SUPPLY_FLAGS_READONLY, self->buf));
		pthread_join(t, NULL);
		ASSERT_EQ(0, w.sigbus);

		w = (struct waiter){ .addr = self->p + page * PAGE, .write = true };
		ASSERT_EQ(0, pthread_create(&t, NULL, wait_fault, &w));
		ASSERT_EQ(0, complete(&self->ring, 5000, NULL));
		EXPECT_EQ(EXTPAGER_CMD_DATA_UNLOCK, d->cmd);
		EXPECT_EQ(page * PAGE, d->offset);
		/* Unavailable is no answer to an unlock. */
		EXPECT_EQ(-EINVAL, submit(&self->ring, self->fd,
					  EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
					  EXTPAGER_CHANNEL_UNAVAILABLE, 0, NULL) ?:
				   complete(&self->ring, 5000, NULL));
		ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH,
				    0, page == 2 ? 0 : -EACCES, 0, NULL));
		pthread_join(t, NULL);
		EXPECT_EQ(page == 2 ? 0 : 1, w.sigbus);
	}
}

TEST_F(chan, bad_commands_are_refused_and_change_nothing)
{
	struct waiter w;
	pthread_t t;

	/* A tag out of range, an unknown command, a FETCH with an answer. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, TAGS, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, 99, 0, 0, 0, NULL));
	EXPECT_EQ(-EOPNOTSUPP, complete(&self->ring, 5000, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	/* A commit for a tag that was handed nothing. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 1,
			    EXTPAGER_CHANNEL_NONE, 0, NULL));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	/* A second FETCH on a fetching tag. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	EXPECT_EQ(-EBUSY, complete(&self->ring, 5000, NULL));

	/* The first FETCH still works; bad answers leave its request as it is. */
	fault_to_tag(_metadata, self, &t, &w, 9, false, 0);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0x80, self->buf));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_UNAVAILABLE, EXTPAGER_SUPPLY_FLAGS_READONLY, NULL));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    -5000, 0, NULL));
	EXPECT_EQ(-EINVAL, complete(&self->ring, 5000, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, (void *)16));
	EXPECT_EQ(-EFAULT, complete(&self->ring, 5000, NULL));
	/* The tag is still busy with it. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	EXPECT_EQ(-EBUSY, complete(&self->ring, 5000, NULL));
	fill_pattern(self->buf, 7, 9 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.sigbus);
	EXPECT_TRUE(check_pattern(self->p + 9 * PAGE, 7, 9 * PAGE, PAGE));
}

TEST_F(chan, a_commit_after_the_timeout_is_refused)
{
	long saved = param_get("request_timeout_ms");
	struct waiter w, w2;
	pthread_t t, t2;

	ASSERT_LT(0, saved);
	ASSERT_EQ(0, param_set("request_timeout_ms", 500));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	fault_to_tag(_metadata, self, &t, &w, 11, false, 0);
	pthread_join(t, NULL);
	EXPECT_EQ(1, w.sigbus);
	EXPECT_EQ(0, param_set("request_timeout_ms", saved));

	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	EXPECT_EQ(-ESTALE, complete(&self->ring, 5000, NULL));
	/* Released with no answer: the tag takes the next request. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_NONE, 0, NULL));
	fault_to_tag(_metadata, self, &t2, &w2, 11, false, 0);
	fill_pattern(self->buf, 7, 11 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	pthread_join(t2, NULL);
	EXPECT_EQ(0, w2.sigbus);
	EXPECT_TRUE(check_pattern(self->p + 11 * PAGE, 7, 11 * PAGE, PAGE));
}

/*
 * The ring goes with a request it was handed and one it had not yet told
 * of, and then the channel: both come again over netlink.
 */
TEST_F(chan, requests_of_a_closed_channel_come_over_netlink)
{
	struct waiter w[2];
	struct event ev;
	pthread_t t[2];
	uint32_t ids[2];
	int i;

	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 1, 0, 0, NULL));
	fault_to_tag(_metadata, self, &t[0], &w[0], 20, false, 0);
	ids[0] = self->descs[0].request_id;
	w[1] = (struct waiter){ .addr = self->p + 30 * PAGE };
	ASSERT_EQ(0, pthread_create(&t[1], NULL, wait_fault, &w[1]));
	/* Handed to tag 1: its descriptor is written before the FETCH ends. */
	for (i = 0; i < 500 && self->descs[1].offset != 30 * PAGE; i++)
		usleep(10000);
	ASSERT_EQ(30 * PAGE, self->descs[1].offset);
	ids[1] = self->descs[1].request_id;
	EXPECT_EQ(2, channel_requests(self->pager));

	io_uring_queue_exit(&self->ring);
	munmap((void *)self->descs, PAGE);
	close(self->fd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
		EXPECT_TRUE(ev.req_id == ids[0] || ev.req_id == ids[1]);
		fill_pattern(self->buf, 7, ev.offset, PAGE);
		ASSERT_EQ(0, supply_by_hand(self->conn, self->pager, &ev, self->buf));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].sigbus);
	}
	EXPECT_TRUE(check_pattern(self->p + 20 * PAGE, 7, 20 * PAGE, PAGE));
	EXPECT_TRUE(check_pattern(self->p + 30 * PAGE, 7, 30 * PAGE, PAGE));
	/* The teardown closes them again: harmless. */
	ASSERT_EQ(0, io_uring_queue_init(4, &self->ring, 0));
	self->fd = channel_open(self->conn, 1);
	self->descs = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
}

/*
 * The kernel hands a request to the channel with the fewest requests out:
 * its serving thread is the one most likely idle.
 */
TEST_F(chan, requests_go_to_the_idlest_channel)
{
	const struct extpager_channel_desc *descs2;
	struct io_uring ring2;
	struct waiter w[3];
	pthread_t t[3];
	int fd2, i;

	fd2 = channel_open(self->conn, TAGS);
	ASSERT_LE(0, fd2);
	descs2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, descs2);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring2, 0));
	for (i = 0; i < TAGS; i++) {
		ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, i, 0, 0, NULL));
		ASSERT_EQ(0, submit(&ring2, fd2, EXTPAGER_CHANNEL_FETCH, i, 0, 0, NULL));
	}
	/* The first channel takes the first request, the second the next. */
	fault_to_tag(_metadata, self, &t[0], &w[0], 1, false, 0);
	w[1] = (struct waiter){ .addr = self->p + 2 * PAGE };
	ASSERT_EQ(0, pthread_create(&t[1], NULL, wait_fault, &w[1]));
	ASSERT_EQ(0, complete(&ring2, 5000, NULL));
	EXPECT_EQ(2 * PAGE, descs2[0].offset);
	fill_pattern(self->buf, 7, 2 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&ring2, fd2, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	pthread_join(t[1], NULL);
	/* Its turn or not, the first channel is busy: the second is idle. */
	w[2] = (struct waiter){ .addr = self->p + 3 * PAGE };
	ASSERT_EQ(0, pthread_create(&t[2], NULL, wait_fault, &w[2]));
	ASSERT_EQ(0, complete(&ring2, 5000, NULL));
	EXPECT_EQ(3 * PAGE, descs2[0].offset);
	EXPECT_EQ(-ETIME, complete(&self->ring, 100, NULL));
	fill_pattern(self->buf, 7, 3 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&ring2, fd2, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	fill_pattern(self->buf, 7, 1 * PAGE, PAGE);
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY, 0, self->buf));
	for (i = 0; i < 3; i += 2)
		pthread_join(t[i], NULL);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, w[i].sigbus);
		EXPECT_TRUE(check_pattern(self->p + (i + 1) * PAGE, 7, (i + 1) * PAGE, PAGE));
	}
	io_uring_queue_exit(&ring2);
	munmap((void *)descs2, PAGE);
	close(fd2);
}

struct syncer {
	int fd;
	int ret;
	atomic_int done;
};

static void *sync_object(void *arg)
{
	struct syncer *sy = arg;

	sy->ret = fsync(sy->fd);
	atomic_store(&sy->done, 1);
	return NULL;
}

/*
 * A write to a read-only page that is being returned: its DATA_UNLOCK goes
 * over netlink, behind the DATA_RETURN, not to the waiting FETCH.
 */
TEST_F(chan, an_unlock_behind_a_return_goes_over_netlink)
{
	struct syncer sy = { .fd = pager_fd(self->pager) };
	struct waiter w, wr;
	struct event ret, ev;
	pthread_t t, syncer, writer;
	struct nl_msg *msg;

	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	fault_to_tag(_metadata, self, &t, &w, 4, false, 0);
	fill_pattern(self->buf, 7, 4 * PAGE, PAGE);
	/* Precious: dirty from the start, returned clean. */
	ASSERT_EQ(0, submit(&self->ring, self->fd, EXTPAGER_CHANNEL_COMMIT_AND_FETCH, 0,
			    EXTPAGER_CHANNEL_SUPPLY,
			    EXTPAGER_SUPPLY_FLAGS_READONLY | EXTPAGER_SUPPLY_FLAGS_PRECIOUS,
			    self->buf));
	pthread_join(t, NULL);
	ASSERT_EQ(0, w.sigbus);

	ASSERT_EQ(0, pthread_create(&syncer, NULL, sync_object, &sy));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_RETURN, 5000, &ret));
	EXPECT_EQ(4 * PAGE, ret.offset);
	/* The page is in writeback until acknowledged: write to it now. */
	wr = (struct waiter){ .addr = self->p + 4 * PAGE, .write = true };
	ASSERT_EQ(0, pthread_create(&writer, NULL, wait_fault, &wr));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_UNLOCK, 5000, &ev));
	EXPECT_EQ(4 * PAGE, ev.offset);
	EXPECT_EQ(-ETIME, complete(&self->ring, 100, NULL));

	ASSERT_EQ(0, ack_return(self->conn, &ret));
	msg = pager__msg(self->conn, EXTPAGER_CMD_UNLOCK_REPLY, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, pager_id(self->pager));
	nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, ev.req_id);
	nla_put_u8(msg, EXTPAGER_A_OBJECT_GRANT, 1);
	ASSERT_EQ(0, pager__call(self->conn, msg, NULL, NULL));
	pthread_join(writer, NULL);
	EXPECT_EQ(0, wr.sigbus);
	/* fsync writes the page the writer dirtied again: store that too. */
	while (!atomic_load(&sy.done))
		if (!next_event(self->conn, 100, &ev) && ev.cmd == EXTPAGER_CMD_DATA_RETURN)
			ASSERT_EQ(0, ack_return(self->conn, &ev));
	pthread_join(syncer, NULL);
	EXPECT_EQ(0, sy.ret);
}

TEST(open_refuses_bad_tags)
{
	struct pager_conn *conn;
	void *p;
	int fd;

	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(-EINVAL, channel_open(conn, 0));	/* no tags at all */
	EXPECT_NE(0, pager_conn_error()[0]);
	EXPECT_GT(0, channel_open(conn, EXTPAGER_CHANNEL_MAX_DEPTH + 1));
	EXPECT_NE(0, pager_conn_error()[0]);
	NEED_CHANNEL();
	fd = channel_open(conn, EXTPAGER_CHANNEL_MAX_DEPTH);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* The descriptors are the kernel's to write. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0));
	munmap(p, PAGE);
	close(fd);
	pager_conn_close(conn);
}

/* With no object, a FETCH waits; when the socket goes, it ends. */
TEST(a_fetch_without_objects_waits_until_the_socket_goes)
{
	struct pager_conn *conn;
	struct io_uring ring;
	int fd;

	NEED_CHANNEL();

	ASSERT_EQ(0, pager_conn_open(&conn));
	fd = channel_open(conn, 1);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	ASSERT_EQ(0, submit(&ring, fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	EXPECT_EQ(-ETIME, complete(&ring, 300, NULL));
	pager_conn_close(conn);
	EXPECT_EQ(-ENOTCONN, complete(&ring, 5000, NULL));
	ASSERT_EQ(0, submit(&ring, fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOTCONN, complete(&ring, 5000, NULL));
	io_uring_queue_exit(&ring);
	close(fd);
}

/* A ring torn down with FETCHes waiting: cancelled, nothing left behind. */
/* Any kind of ring: the cancellation runs in the ring's teardown worker. */
FIXTURE(torn) {};
FIXTURE_SETUP(torn) {}
FIXTURE_TEARDOWN(torn) {}
FIXTURE_VARIANT(torn) {
	unsigned int flags;
};
FIXTURE_VARIANT_ADD(torn, plain) { .flags = 0 };
FIXTURE_VARIANT_ADD(torn, coop_taskrun) {
	.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN
};
FIXTURE_VARIANT_ADD(torn, defer_taskrun) {
	.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
};

TEST_F(torn, a_ring_torn_down_cancels_its_fetches)
{
	struct pager_conn *conn;
	struct io_uring ring;
	int fd, i, tries, res = 0;

	NEED_CHANNEL();

	ASSERT_EQ(0, pager_conn_open(&conn));
	fd = channel_open(conn, 4);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, variant->flags));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, submit(&ring, fd, EXTPAGER_CHANNEL_FETCH, i, 0, 0, NULL));
	EXPECT_EQ(-ETIME, complete(&ring, 100, NULL));
	io_uring_queue_exit(&ring);
	/*
	 * The same tags fetch again on a new ring once the old one's
	 * teardown, which runs in the background, cancelled them.
	 */
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	for (i = 0; i < 4; i++) {
		for (tries = 0; tries < 100; tries++) {
			ASSERT_EQ(0, submit(&ring, fd, EXTPAGER_CHANNEL_FETCH, i, 0, 0, NULL));
			res = complete(&ring, 100, NULL);
			if (res != -EBUSY)
				break;
			usleep(50 * 1000);
		}
		EXPECT_EQ(-ETIME, res) TH_LOG("tag %d", i);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	pager_conn_close(conn);
}

/*
 * A manager killed with a request handed out to its channel: the fault
 * fails at once; or, with a recoverable object, a new manager gets the
 * request and answers it.
 */
FIXTURE(killed) {
	int sv[2];
	pid_t child;
};

FIXTURE_VARIANT(killed) {
	unsigned int orphan_ms;
};

FIXTURE_VARIANT_ADD(killed, orphaned) { .orphan_ms = 0 };
FIXTURE_VARIANT_ADD(killed, adopted) { .orphan_ms = 30000 };

FIXTURE_SETUP(killed)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->sv));
}

FIXTURE_TEARDOWN(killed)
{
	close(self->sv[0]);
	close(self->sv[1]);
}

/* The child: a manager that takes one request on its channel and waits. */
static void killed_manager(int sock, unsigned int orphan_ms)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct io_uring ring;
	struct behaviour b;
	struct nl_msg *msg;
	struct event ev;
	uint32_t id;
	int fd;

	behaviour_init(&b, 3);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pager_conn_open(&conn))
		_exit(1);
	pager_conn_set_orphan_lifetime(conn, orphan_ms);
	if (pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager))
		_exit(2);
	id = pager_id(pager);
	fd = channel_open(conn, 1);
	if (fd < 0 || io_uring_queue_init(4, &ring, 0) ||
	    submit(&ring, fd, EXTPAGER_CHANNEL_FETCH, 0, 0, 0, NULL) ||
	    pager_send_fd(sock, pager_fd(pager), &id, sizeof(id)))
		_exit(3);
	if (wait_event_cmd(conn, EXTPAGER_CMD_INIT, 5000, &ev))
		_exit(4);
	msg = pager__msg(conn, EXTPAGER_CMD_READY, 0);
	nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id);
	if (pager__call(conn, msg, NULL, NULL))
		_exit(5);
	if (complete(&ring, 5000, NULL))
		_exit(6);
	(void)!write(sock, "r", 1);	/* it has the request: kill me */
	pause();
	_exit(7);
}

TEST_F(killed, a_manager_killed_with_a_request_handed_out)
{
	struct pager_conn *conn = NULL;
	struct pager *pager;
	struct behaviour b;
	struct waiter w;
	pthread_t t, server;
	uint32_t id;
	double start;
	char c;
	int fd, status;
	char *p;

	NEED_CHANNEL();

	catch_sigbus();
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child)
		killed_manager(self->sv[1], variant->orphan_ms);
	fd = pager_recv_fd(self->sv[0], &id, sizeof(id));
	ASSERT_LE(0, fd);
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	w = (struct waiter){ .addr = p + 6 * PAGE };
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_fault, &w));
	ASSERT_EQ(1, read(self->sv[0], &c, 1));
	start = now_s();
	kill(self->child, SIGKILL);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));

	if (variant->orphan_ms) {
		behaviour_init(&b, 3);
		ASSERT_EQ(0, pager_conn_open(&conn));
		ASSERT_EQ(0, pager_adopt(conn, id, &pattern_ops, NULL, &b, &pager));
		ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));
	}
	pthread_join(t, NULL);
	if (variant->orphan_ms) {
		EXPECT_EQ(0, w.sigbus);
		EXPECT_TRUE(check_pattern(p + 6 * PAGE, 3, 6 * PAGE, PAGE));
		close(pager_fd(pager));
	} else {
		EXPECT_EQ(1, w.sigbus);
		/* At once, not after request_timeout_ms. */
		EXPECT_GT(5.0, now_s() - start);
	}
	munmap(p, PAGES * PAGE);
	close(fd);
	if (conn) {
		pthread_join(server, NULL);
		pager_conn_close(conn);
	}
}

/* --- libpager over the channel ----------------------------------------- */

struct many {
	char *addr;
	uint64_t offset;
	int sigbus;
	bool ok;
};

static void *touch_many(void *arg)
{
	struct many *m = arg;

	m->sigbus = touch(m->addr, false, NULL);
	m->ok = !m->sigbus && check_pattern(m->addr, 5, m->offset, PAGE);
	return NULL;
}

FIXTURE(served) {
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	char *p;
};

FIXTURE_VARIANT(served) {
	const char *transport;
	unsigned int threads;
};

FIXTURE_VARIANT_ADD(served, channel) { .transport = "channel", .threads = 1 };
FIXTURE_VARIANT_ADD(served, channel_workers) { .transport = "channel", .threads = 3 };
FIXTURE_VARIANT_ADD(served, netlink) { .transport = "netlink", .threads = 1 };
FIXTURE_VARIANT_ADD(served, netlink_workers) { .transport = "netlink", .threads = 3 };

struct serve_args {
	struct pager_conn *conn;
	unsigned int threads;
};

static void *serve_n(void *arg)
{
	struct serve_args *a = arg;

	return (void *)(intptr_t)pager_serve(a->conn, a->threads);
}

static struct serve_args args;

FIXTURE_SETUP(served)
{
	if (!strcmp(variant->transport, "channel"))
		NEED_CHANNEL();
	catch_sigbus();
	behaviour_init(&self->b, 5);
	setenv("LIBPAGER_TRANSPORT", variant->transport, 1);
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &pattern_ops, NULL, &self->b,
				  &self->pager));
	self->p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->p);
	args = (struct serve_args){ .conn = self->conn, .threads = variant->threads };
	ASSERT_EQ(0, pthread_create(&self->server, NULL, serve_n, &args));
}

FIXTURE_TEARDOWN(served)
{
	void *ret;

	munmap(self->p, PAGES * PAGE);
	pager_destroy(self->pager);
	pthread_join(self->server, &ret);
	EXPECT_EQ(0, (intptr_t)ret);
	pager_conn_close(self->conn);
	unsetenv("LIBPAGER_TRANSPORT");
}

/*
 * More faulters than the channel has tags, while the manager is slow: the
 * rest go over netlink, and every fault gets its page.
 */
TEST_F(served, more_faulters_than_tags)
{
	struct many m[16];
	pthread_t t[16];
	struct pager_stats st;
	long via_channel;
	int i;

	self->b.delay_ms = 100;
	for (i = 0; i < 16; i++) {
		m[i] = (struct many){ .addr = self->p + (4 * i + 1) * PAGE,
				      .offset = (4 * i + 1) * PAGE };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, touch_many, &m[i]));
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		EXPECT_TRUE(m[i].ok) TH_LOG("page %d", 4 * i + 1);
	}
	ASSERT_EQ(0, settled_stats(self->pager, &st));
	via_channel = channel_requests(self->pager);
	EXPECT_EQ(16, st.requests);
	if (!strcmp(variant->transport, "netlink")) {
		EXPECT_EQ(0, via_channel);
	} else {
		EXPECT_LT(0, via_channel);
		/* 4 tags a serving thread: the others did not wait for one. */
		EXPECT_GT(16, via_channel);
	}
}

TEST_F(served, unlock_over_either_transport)
{
	if (variant->threads > 1 && !kernel_has_vma_locks())
		SKIP(return, "no per-VMA locks (before 6.4): the write's wait for the unlock holds mmap_lock, which this process's starting workers need");
	self->b.readonly = true;
	EXPECT_EQ(0, touch(self->p + 2 * PAGE, false, NULL));
	EXPECT_EQ(0, touch(self->p + 2 * PAGE, true, NULL));
	EXPECT_EQ(1, atomic_load(&self->b.unlocks));
	self->b.deny_unlock = true;
	EXPECT_EQ(0, touch(self->p + 3 * PAGE, false, NULL));
	EXPECT_EQ(1, touch(self->p + 3 * PAGE, true, NULL));
	EXPECT_EQ(2, atomic_load(&self->b.unlocks));
	EXPECT_EQ(strcmp(variant->transport, "netlink") ? 4 : 0,
		  channel_requests(self->pager));
}

/*
 * On @conn, where no channel opens: pager_serve() told to use the channel
 * fails (with @forced_err, if not 0), and otherwise serves a fault over
 * netlink.
 */
static void serves_over_netlink_only(struct __test_metadata *_metadata,
				     struct pager_conn *conn, int forced_err)
{
	struct serve_args args;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	void *ret;
	char *p;
	int err;

	behaviour_init(&b, 5);
	ASSERT_EQ(0, pager_create(conn, PAGES * PAGE, &pattern_ops, NULL, &b, &pager));
	setenv("LIBPAGER_TRANSPORT", "channel", 1);
	err = pager_serve(conn, 1);
	unsetenv("LIBPAGER_TRANSPORT");
	EXPECT_GT(0, err);
	if (forced_err)
		EXPECT_EQ(forced_err, err);
	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	args = (struct serve_args){ .conn = conn, .threads = 1 };
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_n, &args));
	EXPECT_EQ(0, touch(p + PAGE, false, NULL));
	EXPECT_TRUE(check_pattern(p + PAGE, 5, PAGE, PAGE));
	EXPECT_EQ(0, channel_requests(pager));
	munmap(p, PAGES * PAGE);
	pager_destroy(pager);
	pthread_join(server, &ret);
	EXPECT_EQ(0, (intptr_t)ret);
}

/* io_uring disabled by sysctl: libpager serves over netlink, unless forced. */
TEST(libpager_falls_back_to_netlink_without_io_uring)
{
	char saved[16] = "0";
	struct pager_conn *conn;
	FILE *f;

	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (!f)
		SKIP(return, "no kernel.io_uring_disabled");
	ASSERT_NE(NULL, fgets(saved, sizeof(saved), f));
	fclose(f);
	ASSERT_EQ(0, write_file("/proc/sys/kernel/io_uring_disabled", "2"));

	catch_sigbus();
	ASSERT_EQ(0, pager_conn_open(&conn));
	serves_over_netlink_only(_metadata, conn, 0);
	pager_conn_close(conn);
	EXPECT_EQ(0, write_file("/proc/sys/kernel/io_uring_disabled", saved));
}

/*
 * A kernel without the channel refuses CHANNEL_OPEN with EOPNOTSUPP and
 * says why; libpager then serves over netlink, unless told to use the
 * channel, when pager_serve() fails.
 */
TEST(without_the_channel_open_is_refused_and_libpager_uses_netlink)
{
	struct pager_conn *conn;

	if (kernel_has_channel())
		SKIP(return, "this kernel has the data channel");
	catch_sigbus();
	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ(-EOPNOTSUPP, channel_open(conn, 4));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "no data channel on this kernel"))
		TH_LOG("extack: '%s'", pager_conn_error());
	serves_over_netlink_only(_metadata, conn, -EOPNOTSUPP);
	pager_conn_close(conn);
}

TEST_HARNESS_MAIN
