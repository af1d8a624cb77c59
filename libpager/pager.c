// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory objects and serving the kernel's requests for their pages, the
 * Linux counterpart of the Hurd's libpager.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "internal.h"

/*
 * Runs of at most this many pages of libpager's own buffers go inline;
 * longer ones, and any of a caller's, by address.
 */
#define PAGER_INLINE_PAGES	1

/* Workers call it at once: whoever caches the value stores the same one. */
static long page_size(void)
{
	static long size;
	long now = __atomic_load_n(&size, __ATOMIC_RELAXED);

	if (!now) {
		now = sysconf(_SC_PAGESIZE);
		__atomic_store_n(&size, now, __ATOMIC_RELAXED);
	}
	return now;
}

/*
 * A pager is freed when its last reference goes: the connection's list
 * holds one, and each event being handled one.  pager_destroy() waits for
 * the handlers of its pager to finish (but its caller's own).
 */
static __thread struct pager *handling;

/*
 * The request whose read, write or unlock callback runs in this thread, for
 * pager_defer(); and the handle pager_defer() made for it, if it did.
 */
static __thread struct pager_request *calling;
static __thread struct pager_request *deferred;

/* Before a callback that may defer @cmd's answer. */
static void defer_begin(struct pager_request *req, struct pager *pager, uint8_t cmd,
			uint32_t req_id, uint64_t offset, size_t len)
{
	*req = (struct pager_request){
		.conn = pager->conn, .object_id = pager->id, .request_id = req_id,
		.offset = offset, .len = len, .cmd = cmd,
	};
	calling = req;
	deferred = NULL;
}

/*
 * After it, which returned @ret: PAGER_LATER if it deferred its answer,
 * which then is the handle's.  Saying so without a handle is a bug in the
 * pager; the request fails now rather than time out.
 */
static int defer_end(int ret)
{
	bool made = deferred;

	calling = NULL;
	deferred = NULL;
	if (ret == PAGER_LATER && !made)
		return -EIO;
	return ret;
}

static struct pager *find_pager(struct pager_conn *conn, uint32_t id)
{
	struct pager *p;

	pthread_mutex_lock(&conn->lock);
	for (p = conn->pagers; p && p->id != id; p = p->next)
		;
	if (p)
		p->refs++;
	pthread_mutex_unlock(&conn->lock);
	return p;
}

static void put_pager(struct pager *pager)
{
	struct pager_conn *conn = pager->conn;
	unsigned int refs;

	pthread_mutex_lock(&conn->lock);
	refs = --pager->refs;
	pthread_cond_broadcast(&pager->released);
	pthread_mutex_unlock(&conn->lock);
	if (!refs) {
		pthread_cond_destroy(&pager->released);
		free(pager);
	}
}

/* Forget @pager; pager_serve() returns once the last one is gone. */
static void unlink_pager(struct pager *pager)
{
	struct pager_conn *conn = pager->conn;
	struct pager **pp;
	uint64_t one = 1;
	bool listed = false;

	pthread_mutex_lock(&conn->lock);
	for (pp = &conn->pagers; *pp; pp = &(*pp)->next) {
		if (*pp == pager) {
			*pp = pager->next;
			listed = true;
			break;
		}
	}
	pthread_mutex_unlock(&conn->lock);
	(void)!write(conn->wake_fd, &one, sizeof(one));
	if (listed)
		put_pager(pager);
}

struct create_reply {
	uint32_t id;
	int fd;
};

static void create_reply(struct nlattr **tb, void *arg)
{
	struct create_reply *r = arg;

	if (tb[EXTPAGER_A_OBJECT_ID])
		r->id = nla_get_u32(tb[EXTPAGER_A_OBJECT_ID]);
	if (tb[EXTPAGER_A_OBJECT_FD])
		r->fd = nla_get_u32(tb[EXTPAGER_A_OBJECT_FD]);
}

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/*
 * The structs as 1.0.0 laid them out: the least a caller may pass.  Fields
 * added since are zero (absent) when a caller's struct ends before them.
 */
#define PAGER_OPS_SIZE_1_0	offsetofend(struct pager_ops, extent)
#define PAGER_ATTR_SIZE_1_0	offsetofend(struct pager_attr, resident_limit)
#define PAGER_STATS_SIZE_1_0	offsetofend(struct pager_stats, redelivered)

/*
 * Copy the caller's struct @src of @usize bytes into @dst, the library's
 * of @ksize, as the kernel's copy_struct_from_user() does: a shorter one
 * is zero-extended (what it lacks is absent), a longer one is taken if
 * what the library does not know of it is zero, and refused with -E2BIG
 * otherwise: it asks for something this library cannot do.  One shorter
 * than 1.0.0's, @min, is no such struct (-EINVAL).
 */
static int copy_struct_in(void *dst, size_t ksize, const void *src, size_t usize,
			  size_t min)
{
	size_t i;

	if (usize < min)
		return -EINVAL;
	for (i = ksize; i < usize; i++)
		if (((const unsigned char *)src)[i])
			return -E2BIG;
	memset(dst, 0, ksize);
	memcpy(dst, src, usize < ksize ? usize : ksize);
	return 0;
}

/* The caller's callbacks, of @size bytes, checked into @ops. */
static int get_ops(struct pager_ops *ops, const struct pager_ops *uops, size_t size)
{
	int err;

	if (!uops)
		return -EINVAL;
	err = copy_struct_in(ops, sizeof(*ops), uops, size, PAGER_OPS_SIZE_1_0);
	if (!err && !ops->read)
		err = -EINVAL;
	return err;
}

/* The caller's attributes, of @size bytes or NULL (the defaults), into @attr. */
static int get_attr(struct pager_attr *attr, const struct pager_attr *uattr,
		    size_t size)
{
	int err = 0;

	if (uattr)
		err = copy_struct_in(attr, sizeof(*attr), uattr, size, PAGER_ATTR_SIZE_1_0);
	else
		memset(attr, 0, sizeof(*attr));
	if (!err && attr->cluster > EXTPAGER_MAX_RUN)
		err = -EINVAL;
	return err;
}

/* A pager for @ops, not yet listed in @conn: its id and fd are to come. */
static struct pager *new_pager(struct pager_conn *conn, const struct pager_ops *ops,
			       const struct pager_attr *attr, void *priv, int *err)
{
	struct pager *pager;

	*err = -ENOMEM;
	pager = calloc(1, sizeof(*pager));
	if (!pager)
		return NULL;
	pager->conn = conn;
	pager->ops = *ops;
	pager->attr = *attr;
	pager->priv = priv;
	pager->fd = -1;
	pager->refs = 1;
	pthread_cond_init(&pager->released, NULL);
	return pager;
}

/* Where the connection's events find it; pager_serve() serves it. */
static void list_pager(struct pager *pager)
{
	struct pager_conn *conn = pager->conn;

	pthread_mutex_lock(&conn->lock);
	pager->next = conn->pagers;
	conn->pagers = pager;
	pthread_mutex_unlock(&conn->lock);
}

PAGER_API int pager_create_sized(struct pager_conn *conn, uint64_t size,
				 const struct pager_ops *ops, size_t ops_size,
				 const struct pager_attr *attr, size_t attr_size,
				 void *priv, struct pager **pagerp)
{
	struct create_reply r = { .fd = -1 };
	struct pager_ops o;
	struct pager_attr a;
	unsigned int lifetime;
	struct pager *pager;
	struct nl_msg *msg;
	int err;

	err = get_ops(&o, ops, ops_size) ?: get_attr(&a, attr, attr_size);
	if (err)
		return err;
	pager = new_pager(conn, &o, &a, priv, &err);
	if (!pager)
		return err;
	/* As big as the pager says its data is, in whole pages. */
	if (!size && o.extent)
		size = (o.extent(pager) + page_size() - 1) / page_size() * page_size();
	pthread_mutex_lock(&conn->lock);
	lifetime = conn->orphan_lifetime_ms;
	pthread_mutex_unlock(&conn->lock);
	msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_CREATE, 0);
	/* Without a write callback nothing could take a dirty page back. */
	if (!msg || nla_put_u64(msg, EXTPAGER_A_OBJECT_SIZE, size) ||
	    (lifetime && nla_put_u32(msg, EXTPAGER_A_OBJECT_ORPHAN_MS, lifetime)) ||
	    (!o.write && nla_put_u8(msg, EXTPAGER_A_OBJECT_READ_ONLY, 1))) {
		nlmsg_free(msg);
		err = -ENOMEM;
	} else {
		err = pager__call(conn, msg, create_reply, &r);
	}
	if (!err && (!r.id || r.fd < 0))
		err = -EPROTO;
	if (err) {
		put_pager(pager);
		return err;
	}
	pager->id = r.id;
	pager->fd = r.fd;
	list_pager(pager);
	*pagerp = pager;
	return 0;
}

PAGER_API int pager_adopt_sized(struct pager_conn *conn, uint32_t id,
				const struct pager_ops *ops, size_t ops_size,
				const struct pager_attr *attr, size_t attr_size,
				void *priv, struct pager **pagerp)
{
	struct create_reply r = { .fd = -1 };
	struct pager_ops o;
	struct pager_attr a;
	struct pager *pager;
	struct nl_msg *msg;
	int err;

	if (!id)
		return -EINVAL;
	err = get_ops(&o, ops, ops_size) ?: get_attr(&a, attr, attr_size);
	if (err)
		return err;
	pager = new_pager(conn, &o, &a, priv, &err);
	if (!pager)
		return err;
	msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_ADOPT, 0);
	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id)) {
		nlmsg_free(msg);
		put_pager(pager);
		return -ENOMEM;
	}
	pager->id = id;
	/* Listed first: INIT and the returns follow the reply at once. */
	list_pager(pager);
	err = pager__call(conn, msg, create_reply, &r);
	if (!err && r.fd < 0)
		err = -EPROTO;
	if (err) {
		unlink_pager(pager);	/* frees it */
		return err;
	}
	pager->fd = r.fd;
	*pagerp = pager;
	return 0;
}

static struct nl_msg *id_msg(struct pager_conn *conn, uint32_t id, uint8_t cmd,
			     size_t payload)
{
	struct nl_msg *msg = pager__msg(conn, cmd, payload);

	if (msg && nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static struct nl_msg *object_msg(struct pager *pager, uint8_t cmd, size_t payload)
{
	return id_msg(pager->conn, pager->id, cmd, payload);
}

PAGER_API int pager_register_default_sized(struct pager_conn *conn,
					   const struct pager_ops *ops, size_t ops_size,
					   const struct pager_attr *attr, size_t attr_size,
					   pager_assign_fn assign, void *arg)
{
	struct pager_ops o;
	struct pager_attr a;
	struct nl_msg *msg;
	int err;

	err = get_ops(&o, ops, ops_size) ?: get_attr(&a, attr, attr_size);
	if (err)
		return err;
	if (!assign)
		return -EINVAL;
	pthread_mutex_lock(&conn->lock);
	if (conn->is_default) {
		pthread_mutex_unlock(&conn->lock);
		return -EALREADY;
	}
	/* Set first: an object's INIT may follow the kernel's answer at once. */
	conn->is_default = true;
	conn->default_ops = o;
	conn->default_attr = a;
	conn->assign = assign;
	conn->assign_arg = arg;
	pthread_mutex_unlock(&conn->lock);

	msg = pager__msg(conn, EXTPAGER_CMD_DEFAULT_PAGER_SET, 0);
	err = msg ? pager__call(conn, msg, NULL, NULL) : -ENOMEM;
	if (err) {
		pthread_mutex_lock(&conn->lock);
		conn->is_default = false;
		pthread_mutex_unlock(&conn->lock);
	}
	return err;
}

PAGER_API int pager_create_anonymous(struct pager_conn *conn, uint64_t size,
				     uint32_t *idp)
{
	struct create_reply r = { .fd = -1 };
	struct nl_msg *msg;
	int err;

	msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_CREATE_ANON, 0);
	if (!msg || nla_put_u64(msg, EXTPAGER_A_OBJECT_SIZE, size)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = pager__call(conn, msg, create_reply, &r);
	if (!err && (!r.id || r.fd < 0))
		err = -EPROTO;
	if (!err && idp)
		*idp = r.id;
	return err ?: r.fd;
}

/*
 * INIT of an object @conn did not create: the kernel gives the default
 * pager an anonymous object.  Returns its pager, listed, with a reference
 * for the caller as find_pager(); or NULL if @conn is no default pager, or
 * could not take the object, which is then destroyed: its faults fail now
 * rather than wait for a READY.
 */
static struct pager *assign_pager(struct pager_conn *conn, uint32_t id,
				  struct nlattr **tb)
{
	struct pager_attr attr;
	struct pager_ops ops;
	pager_assign_fn assign;
	struct pager *pager = NULL;
	struct nl_msg *msg;
	bool is_default;
	void *arg;
	int err;

	pthread_mutex_lock(&conn->lock);
	is_default = conn->is_default;
	ops = conn->default_ops;
	attr = conn->default_attr;
	assign = conn->assign;
	arg = conn->assign_arg;
	pthread_mutex_unlock(&conn->lock);
	if (!is_default)
		return NULL;
	if (tb[EXTPAGER_A_OBJECT_SIZE])
		pager = new_pager(conn, &ops, &attr, NULL, &err);
	if (pager) {
		pager->id = id;
		err = assign(pager, pager__uint(tb[EXTPAGER_A_OBJECT_SIZE]),
			     &pager->priv, arg);
		if (!err) {
			pager->refs++;
			list_pager(pager);
			return pager;
		}
		put_pager(pager);
	}
	msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_DESTROY, 0);
	if (msg && !nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id))
		pager__send(conn, msg);
	else
		nlmsg_free(msg);
	return NULL;
}

PAGER_API int pager_fd(const struct pager *pager)
{
	return pager->fd;
}

PAGER_API uint32_t pager_id(const struct pager *pager)
{
	return pager->id;
}

PAGER_API void *pager_priv(const struct pager *pager)
{
	return pager->priv;
}

PAGER_API int pager_destroy(struct pager *pager)
{
	struct nl_msg *msg = object_msg(pager, EXTPAGER_CMD_OBJECT_DESTROY, 0);
	struct pager_conn *conn = pager->conn;
	bool terminated;
	int err;

	if (!msg)
		return -ENOMEM;
	/* -ENOENT: the kernel destroyed or forgot it already; so be it. */
	err = pager__call(conn, msg, NULL, NULL);
	if (err && err != -ENOENT)
		return err;
	pthread_mutex_lock(&conn->lock);
	pager->refs++;
	pager->destroying = true;
	terminated = pager->terminating;
	pthread_mutex_unlock(&conn->lock);
	unlink_pager(pager);
	pthread_mutex_lock(&conn->lock);
	while (pager->refs > 1 + (handling == pager))
		pthread_cond_wait(&pager->released, &conn->lock);
	pthread_mutex_unlock(&conn->lock);
	put_pager(pager);
	return terminated ? -ENOENT : 0;
}

struct supply_reply {
	uint32_t supplied;
};

static void supply_reply(struct nlattr **tb, void *arg)
{
	struct supply_reply *r = arg;

	if (tb[EXTPAGER_A_OBJECT_PAGES_SUPPLIED])
		r->supplied = nla_get_u32(tb[EXTPAGER_A_OBJECT_PAGES_SUPPLIED]);
}

/*
 * DATA_SUPPLY of @len bytes at @offset of object @id, answering request
 * @req_id, or a prefetch if it is 0; NULL with *@err set if it cannot be
 * built.  Short runs of libpager's @own buffers travel inline; the rest is
 * copied by the kernel straight from @data (one copy) when the message is
 * sent, so that a caller's buffer it cannot read is EFAULT, not a crash here.
 */
static struct nl_msg *supply_msg(struct pager_conn *conn, uint32_t id,
				 uint32_t req_id, uint64_t offset, size_t len,
				 const void *data, bool own, unsigned int flags,
				 int *errp)
{
	struct nl_msg *msg;
	bool inline_data;
	size_t off;
	int err;

	inline_data = own && len <= PAGER_INLINE_PAGES * (size_t)page_size();
	msg = id_msg(conn, id, EXTPAGER_CMD_DATA_SUPPLY,
		     inline_data ? len / page_size() * NLA_HDRLEN + len : 0);
	*errp = -ENOMEM;
	if (!msg)
		return NULL;
	err = nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, offset);
	if (req_id)
		err = err ?: nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, req_id);
	if (flags & (PAGER_READONLY | PAGER_PRECIOUS))
		err = err ?: nla_put_u32(msg, EXTPAGER_A_OBJECT_FLAGS,
					 (flags & PAGER_READONLY ?
					  EXTPAGER_SUPPLY_FLAGS_READONLY : 0) |
					 (flags & PAGER_PRECIOUS ?
					  EXTPAGER_SUPPLY_FLAGS_PRECIOUS : 0));
	if (inline_data) {
		for (off = 0; !err && off < len; off += page_size())
			err = nla_put(msg, EXTPAGER_A_OBJECT_DATA, page_size(),
				      (const char *)data + off);
	} else {
		err = err ?: nla_put_u64(msg, EXTPAGER_A_OBJECT_DATA_ADDR,
					 (uintptr_t)data);
		err = err ?: nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, len);
	}
	if (err) {
		nlmsg_free(msg);
		*errp = -EMSGSIZE;
		return NULL;
	}
	return msg;
}

/* Send supply_msg(): unacknowledged for a request, as other answers. */
static int supply(struct pager *pager, uint32_t req_id, uint64_t offset,
		  size_t len, const void *data, bool own, unsigned int flags)
{
	struct supply_reply r = { 0 };
	struct nl_msg *msg;
	int err;

	msg = supply_msg(pager->conn, pager->id, req_id, offset, len, data, own, flags,
			 &err);
	if (!msg)
		return err;
	if (req_id)
		return pager__send(pager->conn, msg);
	err = pager__call(pager->conn, msg, supply_reply, &r);
	return err ?: (int)r.supplied;
}

PAGER_API int pager_offer(struct pager *pager, uint64_t offset, size_t len,
			  const void *data, unsigned int flags)
{
	/* supply() sends whole pages of @data: never read past its end. */
	if (!len || len % page_size() || offset % page_size())
		return -EINVAL;
	return supply(pager, 0, offset, len, data, false, flags);
}

/*
 * A message answering request @req_id of object @id, about [@offset,
 * @offset + @len) for a read (@len 0: no run), with @error if not 0.
 */
static struct nl_msg *answer_msg(struct pager_conn *conn, uint32_t id, uint8_t cmd,
				 uint32_t req_id, uint64_t offset, size_t len,
				 int error)
{
	struct nl_msg *msg = id_msg(conn, id, cmd, 0);

	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, req_id) ||
	    (len && (nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, offset) ||
		     nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, len))) ||
	    (error && nla_put_u32(msg, EXTPAGER_A_OBJECT_ERROR, error))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Answer request @req_id with zeros (@error 0) or an error. */
static int answer(struct pager *pager, uint8_t cmd, uint32_t req_id,
		  uint64_t offset, size_t len, int error)
{
	struct nl_msg *msg = answer_msg(pager->conn, pager->id, cmd, req_id,
					offset, len, error);

	return msg ? pager__send(pager->conn, msg) : -ENOMEM;
}

static void stats_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *st[EXTPAGER_A_STATS_MAX + 1] = { 0 };
	struct pager_stats *s = arg;

#define GET(tbl, attr, field) do { if (tbl[attr]) s->field = pager__uint(tbl[attr]); } while (0)
	GET(tb, EXTPAGER_A_OBJECT_SIZE, size);
	GET(tb, EXTPAGER_A_OBJECT_MANAGER, manager);
	GET(tb, EXTPAGER_A_OBJECT_RESIDENT, resident);
	GET(tb, EXTPAGER_A_OBJECT_MAPPINGS, mappings);
	if (tb[EXTPAGER_A_OBJECT_STATS])
		nla_parse_nested(st, EXTPAGER_A_STATS_MAX, tb[EXTPAGER_A_OBJECT_STATS], NULL);
	GET(st, EXTPAGER_A_STATS_FAULTS, faults);
	GET(st, EXTPAGER_A_STATS_REQUESTS, requests);
	GET(st, EXTPAGER_A_STATS_REQUESTED_PAGES, requested_pages);
	GET(st, EXTPAGER_A_STATS_SUPPLIES, supplies);
	GET(st, EXTPAGER_A_STATS_ZERO_FILLS, zero_fills);
	GET(st, EXTPAGER_A_STATS_ERRORS, errors);
	GET(st, EXTPAGER_A_STATS_TIMEOUTS, timeouts);
	GET(st, EXTPAGER_A_STATS_UNLOCKS, unlocks);
	GET(st, EXTPAGER_A_STATS_RETURNS, returns);
	GET(st, EXTPAGER_A_STATS_RETURN_FAILURES, return_failures);
	GET(tb, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, resident_limit);
	GET(tb, EXTPAGER_A_OBJECT_HELD, held);
	GET(st, EXTPAGER_A_STATS_DEFAULTED, defaulted);
	GET(st, EXTPAGER_A_STATS_DEFAULT_FAULTS, default_faults);
	GET(st, EXTPAGER_A_STATS_DEFAULT_FAILURES, default_failures);
	GET(st, EXTPAGER_A_STATS_REDELIVERED, redelivered);
	GET(st, EXTPAGER_A_STATS_CHANNEL_REQUESTS, channel_requests);
	GET(tb, EXTPAGER_A_OBJECT_CLUSTER, cluster);
	GET(tb, EXTPAGER_A_OBJECT_MANAGER_PID, manager_pid);
#undef GET
}

/* Object @id's counters: its manager's, or with CAP_SYS_ADMIN any object's. */
int pager__stats(struct pager_conn *conn, uint32_t id, struct pager_stats *stats)
{
	struct nl_msg *msg = pager__msg(conn, EXTPAGER_CMD_OBJECT_GET, 0);

	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_ID, id)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	memset(stats, 0, sizeof(*stats));
	return pager__call(conn, msg, stats_reply, stats);
}

/*
 * As the kernel's copy_struct_to_user(): a caller's shorter struct gets
 * what it has room for, a longer one zeros where this library has nothing.
 */
PAGER_API int pager_stats_sized(struct pager *pager, struct pager_stats *stats,
				size_t size)
{
	struct pager_stats s;
	int err;

	if (size < PAGER_STATS_SIZE_1_0)
		return -EINVAL;
	err = pager__stats(pager->conn, pager->id, &s);
	memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
	if (size > sizeof(s))
		memset((char *)stats + sizeof(s), 0, size - sizeof(s));
	return err;
}

/*
 * Call the read callback for request @req_id over [@offset, @offset + *@len)
 * into @buf: returns 0 (the data is in @buf, its flags in *@flags),
 * PAGER_UNAVAILABLE, -errno, or PAGER_LATER (a handle answers later).
 * Pages past the object's extent fail, as past the end of a file: that
 * tail is answered here, and *@len cut to what is left to answer (maybe
 * nothing).
 */
static int read_run(struct pager *pager, uint32_t req_id, uint64_t offset,
		    size_t *len, enum pager_access access, void *buf,
		    unsigned int *flags)
{
	struct pager_request req;

	*flags = 0;
	if (pager->ops.extent) {
		uint64_t end = pager->ops.extent(pager);

		end = (end + page_size() - 1) / page_size() * page_size();
		if (end < offset + *len) {
			uint64_t from = end > offset ? end : offset;

			answer(pager, EXTPAGER_CMD_DATA_ERROR, req_id, from,
			       offset + *len - from, ENXIO);
			*len = from - offset;
			if (!*len)
				return 0;
		}
	}
	if (!buf)
		return -ENOMEM;
	defer_begin(&req, pager, EXTPAGER_CMD_DATA_REQUEST, req_id, offset, *len);
	return defer_end(pager->ops.read(pager, offset, *len, buf, access, flags));
}

/* Answer request @req_id over netlink with what read_run() returned. */
static void answer_run(struct pager *pager, uint32_t req_id, uint64_t offset,
		       size_t len, int ret, const void *buf, unsigned int flags)
{
	if (ret == 0) {
		ret = supply(pager, req_id, offset, len, buf, true, flags);
		/* Not sent: the faults must not wait for the timeout. */
		if (ret < 0)
			answer(pager, EXTPAGER_CMD_DATA_ERROR, req_id, offset, len, -ret);
	} else if (ret == PAGER_UNAVAILABLE) {
		answer(pager, EXTPAGER_CMD_DATA_UNAVAILABLE, req_id, offset, len, 0);
	} else if (ret != PAGER_LATER) {
		answer(pager, EXTPAGER_CMD_DATA_ERROR, req_id, offset, len,
		       ret < 0 ? -ret : EIO);
	}
}

static void handle_request(struct pager *pager, struct nlattr **tb, void *buf)
{
	uint32_t req_id = nla_get_u32(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	uint64_t offset = pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]);
	size_t len = pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]);
	enum pager_access access = PAGER_ACCESS_READ;
	unsigned int flags;
	int ret;

	if (tb[EXTPAGER_A_OBJECT_ACCESS] &&
	    nla_get_u32(tb[EXTPAGER_A_OBJECT_ACCESS]) == EXTPAGER_ACCESS_WRITE)
		access = PAGER_ACCESS_WRITE;
	ret = read_run(pager, req_id, offset, &len, access, buf, &flags);
	if (len)
		answer_run(pager, req_id, offset, len, ret, buf, flags);
}

/* The unlock callback's answer to @req_id: 0 grants, PAGER_LATER, or -errno. */
static int unlock_answer(struct pager *pager, uint32_t req_id, uint64_t offset,
			 size_t len)
{
	struct pager_request req;

	if (!pager->ops.unlock)
		return 0;
	defer_begin(&req, pager, EXTPAGER_CMD_DATA_UNLOCK, req_id, offset, len);
	return defer_end(pager->ops.unlock(pager, offset, len));
}

static struct nl_msg *unlock_msg(struct pager_conn *conn, uint32_t id,
				 uint32_t req_id, int grant)
{
	struct nl_msg *msg = answer_msg(conn, id, EXTPAGER_CMD_UNLOCK_REPLY, req_id,
					0, 0, 0);

	if (msg && nla_put_u8(msg, EXTPAGER_A_OBJECT_GRANT, grant)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* UNLOCK_REPLY to unlock @req_id: @grant it or not. */
static void unlock_reply(struct pager *pager, uint32_t req_id, int grant)
{
	struct nl_msg *msg = unlock_msg(pager->conn, pager->id, req_id, grant);

	if (msg)
		pager__send(pager->conn, msg);
}

/*
 * A request or unlock a data channel handed out, described by @d: call the
 * callbacks as for its netlink twin, and return the answer to commit (see
 * uapi/linux/extpager_channel.h), with its flags in *@flags and the data
 * in @buf.  An answer sent over netlink (a run cut at the extent) commits
 * EXTPAGER_CHANNEL_NONE.
 */
int pager__channel_request(struct pager_conn *conn,
			   const struct extpager_channel_desc *d, void *buf,
			   unsigned int *flags)
{
	struct pager *pager = find_pager(conn, d->object_id);
	size_t len = d->length;
	unsigned int pflags;
	int ret;

	*flags = 0;
	if (!pager)
		return -ENXIO;
	handling = pager;
	if (d->cmd == EXTPAGER_CMD_DATA_UNLOCK) {
		ret = unlock_answer(pager, d->request_id, d->offset, len);
		/* Any refusal denies, as over netlink. */
		ret = ret == PAGER_LATER ? EXTPAGER_CHANNEL_NONE : ret ? -EACCES : 0;
		goto out;
	}
	ret = read_run(pager, d->request_id, d->offset, &len,
		       d->access == EXTPAGER_ACCESS_WRITE ? PAGER_ACCESS_WRITE :
							    PAGER_ACCESS_READ,
		       buf, &pflags);
	if (len != d->length) {
		if (len)
			answer_run(pager, d->request_id, d->offset, len, ret, buf, pflags);
		ret = EXTPAGER_CHANNEL_NONE;
	} else if (ret == PAGER_LATER) {
		/* The tag goes back at once; the answer comes over netlink. */
		ret = EXTPAGER_CHANNEL_NONE;
	} else if (ret == 0) {
		ret = EXTPAGER_CHANNEL_SUPPLY;
		*flags = (pflags & PAGER_READONLY ? EXTPAGER_SUPPLY_FLAGS_READONLY : 0) |
			 (pflags & PAGER_PRECIOUS ? EXTPAGER_SUPPLY_FLAGS_PRECIOUS : 0);
	} else if (ret == PAGER_UNAVAILABLE) {
		ret = EXTPAGER_CHANNEL_UNAVAILABLE;
	} else if (ret > 0 || ret < -4095) {
		ret = -EIO;
	}
out:
	handling = NULL;
	put_pager(pager);
	return ret;
}

/*
 * The channel refused the answer to @d with @err: answer it over netlink
 * instead, with an error (a denial, for an unlock).
 */
void pager__channel_fail(struct pager_conn *conn,
			 const struct extpager_channel_desc *d, int err)
{
	struct pager *pager = find_pager(conn, d->object_id);

	if (!pager)
		return;
	if (d->cmd != EXTPAGER_CMD_DATA_UNLOCK)
		answer(pager, EXTPAGER_CMD_DATA_ERROR, d->request_id, d->offset,
		       d->length, -err);
	else
		unlock_reply(pager, d->request_id, 0);
	put_pager(pager);
}

static void handle_unlock(struct pager *pager, struct nlattr **tb)
{
	uint32_t req_id = nla_get_u32(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	int ret = unlock_answer(pager, req_id, pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]),
				pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]));

	if (ret != PAGER_LATER)
		unlock_reply(pager, req_id, ret == 0);
}

/* DATA_RETURN: the run travels inline, in one attribute, stored from there. */
static void handle_return(struct pager *pager, struct nlattr **tb)
{
	struct nlattr *data = tb[EXTPAGER_A_OBJECT_DATA];
	uint32_t req_id = nla_get_u32(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	uint64_t offset = pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]);
	size_t len = pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]);
	struct pager_request req;
	struct nl_msg *msg;
	int ret;

	if (!data || (size_t)nla_len(data) != len) {
		ret = -EPROTO;
	} else if (!pager->ops.write) {
		ret = -EOPNOTSUPP;
	} else {
		defer_begin(&req, pager, EXTPAGER_CMD_DATA_RETURN, req_id, offset, len);
		ret = pager->ops.write(pager, offset, len, nla_data(data),
					tb[EXTPAGER_A_OBJECT_RETURN_FLAGS] &&
					(nla_get_u32(tb[EXTPAGER_A_OBJECT_RETURN_FLAGS]) &
					 EXTPAGER_RETURN_FLAGS_CLEAN) ? PAGER_CLEAN : 0);
		ret = defer_end(ret);
		if (ret == PAGER_LATER)
			return;
	}

	msg = answer_msg(pager->conn, pager->id, EXTPAGER_CMD_RETURN_ACK, req_id,
			 0, 0, ret < 0 ? -ret : 0);
	if (msg)
		pager__send(pager->conn, msg);
	/* else the return times out and stays dirty */
}

static struct nl_msg *ready_msg(struct pager *pager, const struct pager_attr *attr)
{
	struct nl_msg *msg = object_msg(pager, EXTPAGER_CMD_READY, 0);

	if (!msg || nla_put_u8(msg, EXTPAGER_A_OBJECT_MAY_CACHE, !attr->no_cache) ||
	    nla_put_u32(msg, EXTPAGER_A_OBJECT_CLUSTER, attr->cluster ?: 1) ||
	    nla_put_u64(msg, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, attr->resident_limit) ||
	    nla_put_u8(msg, EXTPAGER_A_OBJECT_NOTIFY_EVICT, !!pager->ops.evict)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * READY with the attributes last set.  pager->attr is read, and READY
 * sent, under conn->lock, as pager_set_attr() stores and sends: the READYs
 * leave in the order the attributes were set, each whole, so the kernel
 * ends up with the last ones whichever thread sends last.
 */
static void handle_init(struct pager *pager)
{
	struct pager_conn *conn = pager->conn;
	struct nl_msg *msg;

	pthread_mutex_lock(&conn->lock);
	msg = ready_msg(pager, &pager->attr);
	if (msg)
		pager__send_locked(conn, msg);
	pthread_mutex_unlock(&conn->lock);
}

PAGER_API int pager_set_attr_sized(struct pager *pager, const struct pager_attr *attr,
				   size_t attr_size)
{
	struct pager_conn *conn = pager->conn;
	struct pager_attr a;
	struct nl_msg *msg;
	int err;

	err = get_attr(&a, attr, attr_size);
	if (err)
		return err;
	pthread_mutex_lock(&conn->lock);
	msg = ready_msg(pager, &a);
	err = msg ? pager__call_locked(conn, msg, NULL, NULL) : -ENOMEM;
	/* Only what the kernel took: an INIT must not send a refused set. */
	if (!err)
		pager->attr = a;
	pthread_mutex_unlock(&conn->lock);
	return err;
}

void pager__lock_completed(struct pager_conn *conn, struct nlattr **tb)
{
	uint32_t cookie = nla_get_u32(tb[EXTPAGER_A_OBJECT_REQUEST_ID]);
	struct pager_lock_wait *w;
	uint64_t one = 1;

	pthread_mutex_lock(&conn->lock);
	for (w = conn->lock_waits; w; w = w->next) {
		if (w->cookie == cookie) {
			w->done = 1;
			w->error = tb[EXTPAGER_A_OBJECT_ERROR] ?
				   -(int)nla_get_u32(tb[EXTPAGER_A_OBJECT_ERROR]) : 0;
		}
	}
	pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->lock);
	/*
	 * Its requester may be receiving by itself, in poll(), while the
	 * answer came to another thread's pager_dispatch().
	 */
	(void)!write(conn->wake_fd, &one, sizeof(one));
}

PAGER_API int pager_lock_request(struct pager *pager, uint64_t offset, uint64_t len,
				 enum pager_return should_return, unsigned int flags)
{
	struct pager_conn *conn = pager->conn;
	struct pager_lock_wait w = { 0 }, **pp;
	struct nl_msg *msg;
	uint32_t kflags = 0;
	int err;

	if (should_return > PAGER_RETURN_ALL ||
	    (flags & ~(PAGER_LOCK_FLUSH | PAGER_LOCK_WRITE_PROTECT)))
		return -EINVAL;
	/* Its LOCK_COMPLETED would queue behind the callback that waits for it. */
	if (handling)
		return -EDEADLK;
	if (!len) {
		struct pager_stats st;

		err = pager__stats(pager->conn, pager->id, &st);
		if (err)
			return err;
		if (offset >= st.size)
			return -ERANGE;
		len = st.size - offset;
	}
	if (flags & PAGER_LOCK_FLUSH)
		kflags |= EXTPAGER_LOCK_FLAGS_FLUSH;
	if (flags & PAGER_LOCK_WRITE_PROTECT)
		kflags |= EXTPAGER_LOCK_FLAGS_WRITE_PROTECT;

	pthread_mutex_lock(&conn->lock);
	w.cookie = ++conn->next_cookie;
	w.next = conn->lock_waits;
	conn->lock_waits = &w;
	pthread_mutex_unlock(&conn->lock);

	msg = object_msg(pager, EXTPAGER_CMD_LOCK_REQUEST, 0);
	if (!msg || nla_put_u32(msg, EXTPAGER_A_OBJECT_REQUEST_ID, w.cookie) ||
	    nla_put_u64(msg, EXTPAGER_A_OBJECT_OFFSET, offset) ||
	    nla_put_u64(msg, EXTPAGER_A_OBJECT_LENGTH, len) ||
	    nla_put_u32(msg, EXTPAGER_A_OBJECT_SHOULD_RETURN, should_return) ||
	    nla_put_u32(msg, EXTPAGER_A_OBJECT_LOCK_FLAGS, kflags)) {
		nlmsg_free(msg);
		err = -ENOMEM;
	} else {
		err = pager__call(conn, msg, NULL, NULL);
	}

	pthread_mutex_lock(&conn->lock);
	while (!err && !w.done) {
		if (conn->receivers)
			pthread_cond_wait(&conn->cond, &conn->lock);
		else	/* nobody serves the connection: the returns are ours to store */
			err = pager__recv_here_until(conn, &w.done);
	}
	for (pp = &conn->lock_waits; *pp; pp = &(*pp)->next) {
		if (*pp == &w) {
			*pp = w.next;
			break;
		}
	}
	pthread_mutex_unlock(&conn->lock);
	return err ?: w.error;
}

PAGER_API int pager_sync(struct pager *pager, uint64_t offset, uint64_t len)
{
	return pager_lock_request(pager, offset, len, PAGER_RETURN_DIRTY, 0);
}

PAGER_API int pager_flush(struct pager *pager, uint64_t offset, uint64_t len)
{
	return pager_lock_request(pager, offset, len, PAGER_RETURN_NONE,
				  PAGER_LOCK_FLUSH);
}

PAGER_API int pager_return(struct pager *pager, uint64_t offset, uint64_t len)
{
	return pager_lock_request(pager, offset, len, PAGER_RETURN_ALL,
				  PAGER_LOCK_FLUSH);
}

/* One event from the kernel; @buf is the handling thread's run buffer. */
void pager__handle(struct pager_conn *conn, struct nlmsghdr *nlh, void *buf)
{
	struct genlmsghdr *ghdr = nlmsg_data(nlh);
	struct nlattr *tb[EXTPAGER_A_OBJECT_MAX + 1];
	struct pager *pager;

	pager__parse(nlh, tb);
	if (!tb[EXTPAGER_A_OBJECT_ID])
		return;
	if (ghdr->cmd == EXTPAGER_CMD_LOCK_COMPLETED && tb[EXTPAGER_A_OBJECT_REQUEST_ID]) {
		pager__lock_completed(conn, tb);
		return;
	}
	pager = find_pager(conn, nla_get_u32(tb[EXTPAGER_A_OBJECT_ID]));
	if (!pager && ghdr->cmd == EXTPAGER_CMD_INIT)
		pager = assign_pager(conn, nla_get_u32(tb[EXTPAGER_A_OBJECT_ID]), tb);
	if (!pager)
		return;
	handling = pager;
	switch (ghdr->cmd) {
	case EXTPAGER_CMD_INIT:
		handle_init(pager);
		break;
	case EXTPAGER_CMD_DATA_REQUEST:
		handle_request(pager, tb, buf);
		break;
	case EXTPAGER_CMD_DATA_UNLOCK:
		handle_unlock(pager, tb);
		break;
	case EXTPAGER_CMD_DATA_RETURN:
		handle_return(pager, tb);
		break;
	case EXTPAGER_CMD_DATA_EVICTED:
		if (pager->ops.evict && tb[EXTPAGER_A_OBJECT_OFFSET] &&
		    tb[EXTPAGER_A_OBJECT_LENGTH])
			pager->ops.evict(pager, pager__uint(tb[EXTPAGER_A_OBJECT_OFFSET]),
					  pager__uint(tb[EXTPAGER_A_OBJECT_LENGTH]));
		break;
	case EXTPAGER_CMD_TERMINATE:
		pthread_mutex_lock(&conn->lock);
		pager->terminating = !pager->destroying;
		pthread_mutex_unlock(&conn->lock);
		unlink_pager(pager);
		if (pager->terminating && pager->ops.terminate)
			pager->ops.terminate(pager);
		break;
	}
	handling = NULL;
	put_pager(pager);
}

/* --- answers that come later ------------------------------------------- */

PAGER_API struct pager_request *pager_defer(void)
{
	if (!calling)
		return NULL;
	if (!deferred) {
		deferred = malloc(sizeof(*deferred));
		if (deferred)
			*deferred = *calling;
	}
	return deferred;
}

/*
 * Send @msg, built for @req, and wait for the kernel's word on it: a later
 * answer must learn whether it still counted.  An object that is gone, or
 * another manager's now, waits for no answer of ours either.
 */
static int answer_late(struct pager_request *req, struct nl_msg *msg)
{
	int err = msg ? pager__call(req->conn, msg, NULL, NULL) : -ENOMEM;

	return err == -ENOENT || err == -EPERM ? -ESTALE : err;
}

PAGER_API int pager_answer(struct pager_request *req, int ret, const void *buf,
			   unsigned int flags)
{
	struct pager_conn *conn;
	struct nl_msg *msg;
	int err;

	if (!req || (ret > 0 && (ret != PAGER_UNAVAILABLE ||
				 req->cmd != EXTPAGER_CMD_DATA_REQUEST)) ||
	    ret < -4095 || (req->cmd == EXTPAGER_CMD_DATA_REQUEST && !ret && !buf))
		return -EINVAL;
	conn = req->conn;
	switch (req->cmd) {
	case EXTPAGER_CMD_DATA_REQUEST:
		if (ret == PAGER_UNAVAILABLE || ret < 0) {
			msg = answer_msg(conn, req->object_id,
					 ret < 0 ? EXTPAGER_CMD_DATA_ERROR :
						   EXTPAGER_CMD_DATA_UNAVAILABLE,
					 req->request_id, req->offset, req->len,
					 ret < 0 ? -ret : 0);
			err = answer_late(req, msg);
			break;
		}
		msg = supply_msg(conn, req->object_id, req->request_id, req->offset,
				 req->len, buf, false, flags, &err);
		if (msg)
			err = answer_late(req, msg);
		/* Not supplied, but still waited for: fail it now, not at the timeout. */
		if (err && err != -ESTALE) {
			msg = answer_msg(conn, req->object_id, EXTPAGER_CMD_DATA_ERROR,
					 req->request_id, req->offset, req->len, -err);
			if (msg)
				pager__send(conn, msg);
		}
		break;
	case EXTPAGER_CMD_DATA_UNLOCK:
		err = answer_late(req, unlock_msg(conn, req->object_id,
						  req->request_id, ret == 0));
		break;
	default:
		err = answer_late(req, answer_msg(conn, req->object_id,
						  EXTPAGER_CMD_RETURN_ACK,
						  req->request_id, 0, 0, -ret));
		break;
	}
	free(req);
	return err;
}
