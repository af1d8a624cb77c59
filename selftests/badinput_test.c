// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input: every message a manager can get wrong is refused with an errno
 * and an extack message, and changes nothing.  Each test leaves a request
 * pending on an unserved connection, sends one bad message, and then
 * answers the request properly: the faulting thread must get exactly the
 * data of that answer.
 */
#include "kselftest_harness.h"
#include "helpers.h"

#define SEED	7
#define PAGES	64

FIXTURE(pending) {
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	char *map;
	pthread_t faulter;
	struct event req;
	int faulted;	/* 1: data right, -1: SIGBUS or wrong data */
};

static void *fault_page0(void *arg)
{
	FIXTURE_DATA(pending) *self = arg;

	if (touch(self->map, false, NULL) || !check_pattern(self->map, SEED, 0, PAGE))
		self->faulted = -1;
	else
		self->faulted = 1;
	return NULL;
}

/* Send @cmd on @conn with the attributes @build puts; returns -errno. */
static int call(struct pager_conn *conn, uint8_t cmd, size_t payload,
		void (*build)(struct nl_msg *msg, void *arg), void *arg)
{
	struct nl_msg *msg = pager__msg(conn, cmd, payload);

	if (!msg)
		return -ENOMEM;
	build(msg, arg);
	return pager__call(conn, msg, NULL, NULL);
}

struct args {
	uint32_t id, req;
	int64_t offset, len, addr;	/* -1: leave out; other negatives are huge */
	int inline_pages, inline_size;
	int64_t error, cluster, may_cache, grant, size, bogus;
};

#define ARGS(...) ((struct args){ .offset = -1, .len = -1, .addr = -1, .error = -1, \
				  .cluster = -1, .may_cache = -1, .grant = -1, \
				  .size = -1, .bogus = -1, __VA_ARGS__ })

static void build(struct nl_msg *msg, void *arg)
{
	struct args *a = arg;
	static char page[65536];
	int i;

	fill_pattern(page, SEED, 0, sizeof(page));
	if (a->id)
		nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, a->id);
	if (a->req)
		nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, a->req);
	if (a->offset != -1)
		nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, a->offset);
	if (a->len != -1)
		nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, a->len);
	if (a->addr != -1)
		nla_put_u64(msg, EXTPAGER_A_OBJECT_DATA_ADDR, a->addr);
	for (i = 0; i < a->inline_pages; i++)
		nla_put(msg, EXTPAGER_A_OBJECT_DATA, a->inline_size ?: PAGE, page + i * PAGE);
	if (a->error >= 0)
		nla_put_u32(msg, EXTPAGER_A_OBJECT_ERROR, a->error);
	if (a->cluster >= 0)
		nla_put_u32(msg, EXTPAGER_A_OBJECT_CLUSTER, a->cluster);
	if (a->may_cache >= 0)
		nla_put_u8(msg, EXTPAGER_A_OBJECT_MAY_CACHE, a->may_cache);
	if (a->grant >= 0)
		nla_put_u8(msg, EXTPAGER_A_OBJECT_GRANT, a->grant);
	if (a->size >= 0)
		nla_put_u64(msg, EXTPAGER_A_OBJECT_SIZE, a->size);
	if (a->bogus >= 0)
		nla_put_u32(msg, a->bogus, 0);
}

#define CALL(conn, cmd, ...) ({ struct args _a = ARGS(__VA_ARGS__); \
	call(conn, EXTPAGER_CMD_##cmd, 4 * 65536, build, &_a); })

/* The refusal comes with the kernel's explanation. */
#define EXPECT_REFUSED(err, expr) do {						\
	EXPECT_EQ(-(err), (expr));						\
	EXPECT_NE(0, strlen(pager_conn_error()))				\
		TH_LOG("no extack message for %s", #expr);			\
} while (0)

FIXTURE_SETUP(pending)
{
	behaviour_init(&self->b, SEED);
	catch_sigbus();
	ASSERT_EQ(0, pager_conn_open(&self->conn));
	ASSERT_EQ(0, pager_create(self->conn, PAGES * PAGE, &pattern_ops, NULL,
				  &self->b, &self->pager));
	self->map = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED,
			 pager_fd(self->pager), 0);
	ASSERT_NE(MAP_FAILED, self->map);
	/* Play the manager by hand: READY, then catch the fault's request. */
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_INIT, 5000, &self->req));
	ASSERT_EQ(0, CALL(self->conn, READY, .id = pager_id(self->pager), .cluster = 1));
	ASSERT_EQ(0, pthread_create(&self->faulter, NULL, fault_page0, self));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &self->req));
	ASSERT_EQ(0, self->req.offset);
	ASSERT_EQ(PAGE, self->req.len);
}

FIXTURE_TEARDOWN(pending)
{
	struct pager_stats st;
	uint32_t id = pager_id(self->pager);

	/* Nothing changed: the request is still there to be answered. */
	ASSERT_EQ(0, self->faulted);
	ASSERT_EQ(1, CALL(self->conn, DATA_SUPPLY, .id = id, .req = self->req.req_id,
			  .offset = 0, .inline_pages = 1) == 0);
	pthread_join(self->faulter, NULL);
	EXPECT_EQ(1, self->faulted);
	ASSERT_EQ(0, pager_stats(self->pager, &st));
	EXPECT_EQ(1, st.supplies);
	EXPECT_EQ(0, st.errors);
	EXPECT_EQ(0, st.zero_fills);
}

TEST_F(pending, create_with_a_bad_size)
{
	EXPECT_REFUSED(EINVAL, CALL(self->conn, OBJECT_CREATE, .size = 0));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, OBJECT_CREATE, .size = PAGE + 1));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, OBJECT_CREATE));
}

TEST_F(pending, unknown_object)
{
	EXPECT_REFUSED(ENOENT, CALL(self->conn, DATA_SUPPLY, .id = 0x7fffff00,
				    .offset = 0, .inline_pages = 1));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .offset = 0, .inline_pages = 1));
}

TEST_F(pending, another_managers_object)
{
	struct pager_conn *other;

	ASSERT_EQ(0, pager_conn_open(&other));
	EXPECT_REFUSED(EPERM, CALL(other, DATA_SUPPLY, .id = pager_id(self->pager),
				   .req = self->req.req_id, .offset = 0, .inline_pages = 1));
	EXPECT_REFUSED(EPERM, CALL(other, OBJECT_DESTROY, .id = pager_id(self->pager)));
	EXPECT_REFUSED(EPERM, CALL(other, READY, .id = pager_id(self->pager)));
	pager_conn_close(other);
}

TEST_F(pending, supply_offsets_and_lengths)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id;

	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r,
				    .offset = 100, .inline_pages = 1));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, DATA_SUPPLY, .id = id,
				    .offset = PAGES * PAGE, .inline_pages = 1));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, DATA_SUPPLY, .id = id, .offset = (PAGES - 1) * PAGE,
				    .inline_pages = 2));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r,
				    .offset = 0, .inline_pages = 1, .inline_size = 100));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .inline_pages = 1, .len = 2 * PAGE));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .inline_pages = 1, .addr = 4096, .len = PAGE));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0));
}

TEST_F(pending, supply_by_address)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id;
	char *big = malloc(300 * PAGE);

	EXPECT_REFUSED(E2BIG, CALL(self->conn, DATA_SUPPLY, .id = id, .offset = 0,
				   .addr = (uintptr_t)big, .len = 257 * PAGE));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .addr = (uintptr_t)big));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .addr = (uintptr_t)big, .len = 100));
	EXPECT_REFUSED(EFAULT, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .addr = 8, .len = PAGE));
	EXPECT_REFUSED(EFAULT, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .addr = -4096ull & 0x7fffffffffffffffull, .len = PAGE));
	free(big);
}

TEST_F(pending, stale_and_mismatched_answers)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id;

	EXPECT_REFUSED(ESTALE, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r + 1000,
				    .offset = 0, .inline_pages = 1));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r,
				    .offset = PAGE, .inline_pages = 1));
	EXPECT_REFUSED(ESTALE, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = r + 1000,
				    .offset = 0, .len = PAGE));
	EXPECT_REFUSED(ESTALE, CALL(self->conn, DATA_ERROR, .id = id, .req = r + 1000,
				    .offset = 0, .len = PAGE, .error = EIO));
	EXPECT_REFUSED(ESTALE, CALL(self->conn, UNLOCK_REPLY, .id = id, .req = r,
				    .grant = 1));
	/* A return that was never sent: the data request is no return. */
	EXPECT_REFUSED(ESTALE, CALL(self->conn, RETURN_ACK, .id = id, .req = r));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "return"));
	EXPECT_REFUSED(ESTALE, CALL(self->conn, RETURN_ACK, .id = id, .req = r + 1000));
}

TEST_F(pending, answers_missing_attributes)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id;

	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .offset = 0,
				    .len = PAGE));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = r,
				    .offset = 0));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = r,
				    .offset = 0, .len = PAGE + 1));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_ERROR, .id = id, .req = r,
				    .offset = 0, .len = PAGE));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, UNLOCK_REPLY, .id = id, .req = r));
}

/* The policy's ranges: netlink refuses with ERANGE. */
TEST_F(pending, policy_ranges)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id;

	EXPECT_REFUSED(ERANGE, CALL(self->conn, DATA_ERROR, .id = id, .req = r,
				    .offset = 0, .len = PAGE, .error = 0));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, DATA_ERROR, .id = id, .req = r,
				    .offset = 0, .len = PAGE, .error = 5000));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, READY, .id = id, .cluster = 0));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, READY, .id = id, .cluster = 257));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, READY, .id = id, .may_cache = 2));
	EXPECT_REFUSED(ERANGE, CALL(self->conn, UNLOCK_REPLY, .id = id, .req = r, .grant = 2));
	/* An attribute the command does not take. */
	EXPECT_REFUSED(EINVAL, CALL(self->conn, READY, .id = id, .bogus = EXTPAGER_A_OBJECT_ERROR));
	EXPECT_REFUSED(EINVAL, CALL(self->conn, DATA_SUPPLY, .id = id, .req = r, .offset = 0,
				    .inline_pages = 1, .bogus = 200));
}

/*
 * A formatted extack message holds 79 characters; the kernel cuts a longer
 * one and logs "truncated extack".  Each formatted refusal, with the widest
 * numbers it can carry, must arrive whole: exactly as written.
 */
#define EXPECT_MSG(err, expr, fmt, ...) do {					\
	char _want[256];							\
										\
	snprintf(_want, sizeof(_want), fmt, ##__VA_ARGS__);			\
	EXPECT_EQ(-(err), (expr));						\
	EXPECT_STREQ(_want, pager_conn_error());				\
} while (0)

/*
 * Whether this kernel's extack carries formatted messages (6.2 on, as
 * split generic netlink ops): 6.1's carries the format itself
 * (Documentation/extpager.rst, "Kernels").
 */
static bool formatted_extack(struct pager_conn *conn)
{
	CALL(conn, READY, .id = UINT32_MAX);
	return !strchr(pager_conn_error(), '%');
}

static void *fault_2pages(void *map)
{
	return (void *)(long)touch(map, false, NULL);
}

TEST_F(pending, refusal_messages_arrive_whole)
{
	uint32_t id = pager_id(self->pager), r = self->req.req_id, id2, anon;
	const uint64_t huge = -(uint64_t)PAGE;	/* page aligned, 20 digits */
	struct pager_conn *other;
	struct pager *p2;
	struct event ev;
	pthread_t t;
	void *ret;
	char *map;
	int fd;

	if (!formatted_extack(self->conn))
		SKIP(return, "this kernel's extack carries formats unexpanded");
	EXPECT_MSG(ENOENT, CALL(self->conn, READY, .id = UINT32_MAX), "no object %u", UINT32_MAX);
	EXPECT_MSG(ENOENT, CALL(self->conn, OBJECT_ADOPT, .id = UINT32_MAX),
		   "no object %u", UINT32_MAX);
	ASSERT_EQ(0, pager_conn_open(&other));
	EXPECT_MSG(EPERM, CALL(other, READY, .id = id),
		   "object %u is not managed by this socket", id);
	pager_conn_close(other);
	EXPECT_MSG(ERANGE, CALL(self->conn, LOCK_REQUEST, .id = id, .req = UINT32_MAX,
				.offset = huge, .len = huge),
		   "range %llu+%llu past size %llu", (unsigned long long)huge,
		   (unsigned long long)huge, (unsigned long long)PAGES * PAGE);
	EXPECT_MSG(E2BIG, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = r, .offset = 0,
			       .len = huge), "run longer than %u pages", EXTPAGER_MAX_RUN);
	EXPECT_MSG(ESTALE, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = UINT32_MAX,
				.offset = 0, .len = PAGE),
		   "request %u is not pending: answered, timed out or failed", UINT32_MAX);
	EXPECT_MSG(ERANGE, CALL(self->conn, DATA_UNAVAILABLE, .id = id, .req = r,
				.offset = (PAGES - 1) * PAGE, .len = PAGE),
		   "pages %u+1 are not in request %u (0+1)", PAGES - 1, r);
	EXPECT_MSG(ESTALE, CALL(self->conn, UNLOCK_REPLY, .id = id, .req = UINT32_MAX, .grant = 1),
		   "unlock request %u is not pending: answered or timed out", UINT32_MAX);
	EXPECT_MSG(ESTALE, CALL(self->conn, RETURN_ACK, .id = id, .req = UINT32_MAX),
		   "return %u is not pending: acknowledged or moved to the default pager",
		   UINT32_MAX);
	EXPECT_MSG(EBUSY, CALL(self->conn, OBJECT_ADOPT, .id = id),
		   "object %u has a manager: only orphans can be adopted", id);

	/* With no default pager registered, the kernel's own serves it. */
	fd = pager_create_anonymous(self->conn, PAGE, &anon);
	ASSERT_LE(0, fd) TH_LOG("%s", pager_conn_error());
	EXPECT_MSG(EBUSY, CALL(self->conn, OBJECT_ADOPT, .id = anon),
		   "object %u is anonymous memory of the kernel's default pager", anon);
	close(fd);

	/* A second request, of two pages, to answer one of them twice. */
	ASSERT_EQ(0, pager_create(self->conn, 2 * PAGE, &pattern_ops, NULL, &self->b, &p2));
	id2 = pager_id(p2);
	map = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, pager_fd(p2), 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_INIT, 5000, &ev));
	ASSERT_EQ(0, CALL(self->conn, READY, .id = id2, .cluster = 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, fault_2pages, map));
	ASSERT_EQ(0, wait_event_cmd(self->conn, EXTPAGER_CMD_DATA_REQUEST, 5000, &ev));
	ASSERT_EQ(2 * PAGE, ev.len);
	ASSERT_EQ(0, CALL(self->conn, DATA_SUPPLY, .id = id2, .req = ev.req_id, .offset = 0,
			  .inline_pages = 1));
	EXPECT_MSG(ESTALE, CALL(self->conn, DATA_SUPPLY, .id = id2, .req = ev.req_id,
				.offset = 0, .inline_pages = 1),
		   "page 0 of request %u is already answered", ev.req_id);
	ASSERT_EQ(0, CALL(self->conn, DATA_SUPPLY, .id = id2, .req = ev.req_id, .offset = PAGE,
			  .inline_pages = 1));
	pthread_join(t, &ret);
	EXPECT_EQ(NULL, ret);
	ASSERT_EQ(0, CALL(self->conn, OBJECT_DESTROY, .id = id2));
	EXPECT_MSG(ENOENT, CALL(self->conn, READY, .id = id2), "object %u is destroyed", id2);
	EXPECT_MSG(ENOENT, CALL(self->conn, OBJECT_ADOPT, .id = id2),
		   "object %u is destroyed", id2);
	munmap(map, 2 * PAGE);
}

/*
 * DEFAULT_PAGER_SET takes no attributes, and a socket registers once:
 * again from the default pager is EALREADY, from another socket EBUSY.
 */
static void put_nested(struct nl_msg *msg, void *arg)
{
	struct nlattr *nest = nla_nest_start(msg, EXTPAGER_A_OBJECT_STATS);

	nla_put_u32(msg, EXTPAGER_A_STATS_FAULTS, 1);
	nla_nest_end(msg, nest);
}

TEST(default_pager_set_takes_no_attributes_and_registers_once)
{
	struct pager_conn *dp, *other;

	ASSERT_EQ(0, pager_conn_open(&dp));
	ASSERT_EQ(0, pager_conn_open(&other));
	/*
	 * Refused with EINVAL and a message: the module's own on 6.12;
	 * genetlink's where it refuses them first (6.1's family policy, 7.2's
	 * rule for an op without one).
	 */
	EXPECT_REFUSED(EINVAL, CALL(dp, DEFAULT_PAGER_SET, .id = 1));
	EXPECT_REFUSED(EINVAL, CALL(dp, DEFAULT_PAGER_SET, .bogus = 200));
	EXPECT_REFUSED(EINVAL, call(dp, EXTPAGER_CMD_DEFAULT_PAGER_SET, 0, put_nested, NULL));
	/* None of those registered it. */
	ASSERT_EQ(0, CALL(other, DEFAULT_PAGER_SET)) TH_LOG("%s", pager_conn_error());
	pager_conn_close(other);

	ASSERT_EQ(0, CALL(dp, DEFAULT_PAGER_SET)) TH_LOG("%s", pager_conn_error());
	EXPECT_MSG(EALREADY, CALL(dp, DEFAULT_PAGER_SET),
		   "this socket is the default pager already");
	ASSERT_EQ(0, pager_conn_open(&other));
	EXPECT_EQ(-EBUSY, CALL(other, DEFAULT_PAGER_SET));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "is the default pager already"));
	pager_conn_close(other);
	pager_conn_close(dp);
}

TEST_HARNESS_MAIN
