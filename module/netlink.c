// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink side: the managers' messages, whose handlers genl.h
 * (generated from Documentation/netlink/specs/extpager.yaml) declares.  The
 * messages the kernel sends them are notify.c's.
 *
 * Handlers run in the sender's context (netlink delivers to a kernel socket
 * synchronously), which is what lets DATA_SUPPLY copy straight from the
 * manager's memory.  The family has parallel_ops: objects lock themselves.
 * A manager is its socket's netns and port id: the object records both.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>
#include <net/genetlink.h>

#include "extpager.h"
#include "genl.h"
#include "trace.h"

/* Every command on an object checks that the sender manages it. */
int extpager_nl_pre_doit(const struct genl_split_ops *ops, struct sk_buff *skb,
			 struct genl_info *info)
{
	struct nlattr *attr = info->attrs[EXTPAGER_A_OBJECT_ID];
	struct extpager_object *obj;
	bool destroyed, owned;
	u32 id;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_ID))
		return -EINVAL;
	id = nla_get_u32(attr);
	obj = extpager_object_get(id);
	if (!obj) {
		NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr, "no object %u", id);
		return -ENOENT;
	}
	destroyed = READ_ONCE(obj->destroyed);
	owned = extpager_object_managed_by(obj, info);
	if (destroyed || !owned) {
		if (destroyed)
			NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr,
						"object %u is destroyed", id);
		else
			NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr,
						"object %u is not managed by this socket", id);
		extpager_object_put(obj);
		return destroyed ? -ENOENT : -EPERM;
	}
	info->user_ptr[0] = obj;
	extpager_resend_now(obj);
	return 0;
}

void extpager_nl_post_doit(const struct genl_split_ops *ops,
			   struct sk_buff *skb, struct genl_info *info)
{
	extpager_object_put(info->user_ptr[0]);
}

/* The range [offset, offset + len) of @obj, checked, as pages [*first, *last]. */
static int extpager_nl_range(struct extpager_object *obj, struct genl_info *info,
			     u64 len, pgoff_t *first, pgoff_t *last)
{
	struct nlattr *attr = info->attrs[EXTPAGER_A_OBJECT_OFFSET];
	u64 size = i_size_read(&obj->vfs_inode);
	u64 offset;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_OFFSET))
		return -EINVAL;
	offset = nla_get_uint(attr);
	if (!PAGE_ALIGNED(offset)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "offset is not page aligned");
		return -EINVAL;
	}
	if (!len || !PAGE_ALIGNED(len)) {
		NL_SET_ERR_MSG(info->extack,
			       "length is not a positive multiple of the page size");
		return -EINVAL;
	}
	/* Short: a formatted extack message holds 79 characters at most. */
	if (offset >= size || len > size - offset) {
		NL_SET_ERR_MSG_FMT(info->extack, "range %llu+%llu past size %llu",
				   offset, len, size);
		return -ERANGE;
	}
	*first = offset >> PAGE_SHIFT;
	*last = (offset + len - 1) >> PAGE_SHIFT;
	return 0;
}

/* The run [offset, offset + len) of @obj, checked, in pages. */
static int extpager_nl_run(struct extpager_object *obj, struct genl_info *info,
			   u64 len, pgoff_t *index, unsigned int *nr)
{
	pgoff_t last;
	int err;

	if (len > (u64)EXTPAGER_MAX_RUN << PAGE_SHIFT) {
		NL_SET_ERR_MSG_FMT(info->extack, "run longer than %u pages",
				   EXTPAGER_MAX_RUN);
		return -E2BIG;
	}
	err = extpager_nl_range(obj, info, len, index, &last);
	if (err)
		return err;
	*nr = last - *index + 1;
	return 0;
}

/*
 * Creating or adopting objects, or opening a data channel, needs
 * CAP_SYS_ADMIN (@admin: the sender has it) or extpager.unprivileged.
 */
static int extpager_nl_may_manage(struct genl_info *info, bool admin)
{
	if (admin || READ_ONCE(unprivileged))
		return 0;
	NL_SET_ERR_MSG(info->extack,
		       "managing objects needs CAP_SYS_ADMIN (or extpager.unprivileged=1)");
	return -EPERM;
}

/*
 * Reply with @file's fd, installed O_CLOEXEC, and what it is: an object
 * (id and size) or, if @tags, a data channel of that many tags.  As
 * net/handshake's accept, the fd exists only if the reply went out.  An
 * @adopted object's manager hears of it after the reply, so that it knows
 * the object before its events, and before fd_install(), which lets
 * another thread close the last file.  Consumes @file.
 */
static int extpager_nl_reply_file(struct genl_info *info, struct file *file,
				  u32 tags, bool adopted)
{
	struct extpager_object *obj = tags ? NULL : EXTPAGER_OBJ(file_inode(file));
	struct sk_buff *reply;
	void *hdr;
	int fd, err;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto put_file;
	}
	err = -ENOMEM;
	reply = genlmsg_new(3 * nla_total_size(sizeof(u32)) + nla_total_size(sizeof(u64)),
			    GFP_KERNEL);
	if (!reply)
		goto put_fd;
	hdr = genlmsg_iput(reply, info);
	if (!hdr || nla_put_u32(reply, EXTPAGER_A_OBJECT_FD, fd) ||
	    (obj && (nla_put_u32(reply, EXTPAGER_A_OBJECT_ID, obj->id) ||
		     nla_put_uint(reply, EXTPAGER_A_OBJECT_SIZE,
				  i_size_read(&obj->vfs_inode)))) ||
	    (tags && nla_put_u32(reply, EXTPAGER_A_OBJECT_TAGS, tags))) {
		nlmsg_free(reply);
		err = -EMSGSIZE;
		goto put_fd;
	}
	genlmsg_end(reply, hdr);
	err = genlmsg_reply(reply, info);
	if (err)
		goto put_fd;
	if (adopted)
		extpager_object_adopted(obj);
	fd_install(fd, file);
	return 0;

put_fd:
	put_unused_fd(fd);
put_file:
	/* Refused means not adopted: the object waits for a manager again. */
	if (adopted)
		extpager_object_unadopt(obj);
	fput(file);
	return err;
}

/*
 * OBJECT_CREATE, or with @anonymous OBJECT_CREATE_ANON: an object for the
 * default pager, which anyone may create as anyone may create a memfd.
 */
static int extpager_nl_create(struct sk_buff *skb, struct genl_info *info,
			      bool anonymous)
{
	bool admin = netlink_capable(skb, CAP_SYS_ADMIN);
	unsigned int orphan_lifetime_ms = 0;
	bool read_only = false;
	struct file *file;
	u64 size;
	int err;

	/* Only OBJECT_CREATE's policy has them: the anonymous one's is shorter. */
	if (!anonymous) {
		if (info->attrs[EXTPAGER_A_OBJECT_ORPHAN_MS])
			orphan_lifetime_ms =
				nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_ORPHAN_MS]);
		if (info->attrs[EXTPAGER_A_OBJECT_READ_ONLY])
			read_only = nla_get_u8(info->attrs[EXTPAGER_A_OBJECT_READ_ONLY]);
	}
	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_SIZE))
		return -EINVAL;
	size = nla_get_uint(info->attrs[EXTPAGER_A_OBJECT_SIZE]);
	if (!size || !PAGE_ALIGNED(size) || size > MAX_LFS_FILESIZE) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[EXTPAGER_A_OBJECT_SIZE],
				    "size must be a positive multiple of the page size");
		return -EINVAL;
	}
	err = anonymous ? 0 : extpager_nl_may_manage(info, admin);
	if (err)
		return err;
	file = extpager_object_create(info, size, anonymous, !admin,
				      orphan_lifetime_ms, read_only);
	if (IS_ERR(file))
		return PTR_ERR(file);
	return extpager_nl_reply_file(info, file, 0, false);
}

int extpager_nl_object_create_doit(struct sk_buff *skb, struct genl_info *info)
{
	return extpager_nl_create(skb, info, false);
}

int extpager_nl_object_create_anon_doit(struct sk_buff *skb, struct genl_info *info)
{
	return extpager_nl_create(skb, info, true);
}

/*
 * DEFAULT_PAGER_SET needs CAP_SYS_ADMIN, whatever extpager.unprivileged
 * says: the default pager holds every user's anonymous memory.
 */
int extpager_nl_default_pager_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	/*
	 * Its policy is the empty one, which ynl-gen cannot express (genetlink
	 * parses nothing for an op without attributes): refuse any here.
	 */
	if (genlmsg_len(info->genlhdr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, genlmsg_data(info->genlhdr),
				    "default-pager-set takes no attributes");
		return -EINVAL;
	}
	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(info->extack, "becoming the default pager needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	return extpager_default_pager_set(info);
}

int extpager_nl_object_destroy_doit(struct sk_buff *skb, struct genl_info *info)
{
	extpager_object_destroy(info->user_ptr[0]);
	return 0;
}

/*
 * OBJECT_ADOPT: a new manager takes an orphaned object over.  As creation,
 * it needs CAP_SYS_ADMIN or extpager.unprivileged; without CAP_SYS_ADMIN,
 * only the user who created the object may adopt it.
 */
int extpager_nl_object_adopt_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[EXTPAGER_A_OBJECT_ID];
	struct extpager_object *obj;
	bool admin = netlink_capable(skb, CAP_SYS_ADMIN);
	struct file *file;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_ID))
		return -EINVAL;
	obj = extpager_object_get(nla_get_u32(attr));
	if (!obj) {
		NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr, "no object %u",
					nla_get_u32(attr));
		return -ENOENT;
	}
	err = extpager_nl_may_manage(info, admin);
	if (!err && !admin && !uid_eq(obj->owner, current_euid())) {
		NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr,
					"object %u belongs to another user", obj->id);
		err = -EPERM;
	}
	if (err) {
		extpager_object_put(obj);
		return err;
	}
	/* The file takes over our reference to the object. */
	file = extpager_object_adopt(obj, info, admin);
	if (IS_ERR(file)) {
		extpager_object_put(obj);
		return PTR_ERR(file);
	}
	return extpager_nl_reply_file(info, file, 0, true);
}

/* CHANNEL_OPEN: a data channel for the sender's socket. */
int extpager_nl_channel_open_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct file *file;
	u32 tags;
	int err;

	err = extpager_nl_may_manage(info, netlink_capable(skb, CAP_SYS_ADMIN));
	if (err)
		return err;
	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_TAGS))
		return -EINVAL;
	tags = nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_TAGS]);
	file = extpager_channel_open(info, tags);
	if (IS_ERR(file))
		return PTR_ERR(file);
	return extpager_nl_reply_file(info, file, tags, false);
}

static int extpager_nl_fill(struct sk_buff *skb, struct extpager_object *obj,
			    const struct genl_info *info, int flags)
{
	char comm[TASK_COMM_LEN] = "";
	struct extpager_stats *s = &obj->stats;
	u32 manager, manager_pid = 0;
	struct nlattr *nest;
	u8 ready, may_cache;
	u32 cluster;
	void *hdr;

	hdr = genlmsg_iput(skb, info);
	if (!hdr)
		return -EMSGSIZE;
	mutex_lock(&obj->lock);
	manager = obj->manager ? obj->portid : 0;
	if (obj->manager) {
		manager_pid = pid_vnr(obj->manager->pid);
		strscpy(comm, obj->manager->comm);
	}
	ready = obj->ready;
	may_cache = obj->may_cache;
	cluster = obj->cluster;
	mutex_unlock(&obj->lock);

	if (nla_put_u32(skb, EXTPAGER_A_OBJECT_ID, obj->id) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_SIZE, i_size_read(&obj->vfs_inode)) ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_MANAGER, manager) ||
	    nla_put_u8(skb, EXTPAGER_A_OBJECT_READY, ready) ||
	    nla_put_u8(skb, EXTPAGER_A_OBJECT_MAY_CACHE, may_cache) ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_CLUSTER, cluster) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_RESIDENT, obj->vfs_inode.i_mapping->nrpages) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_MAPPINGS, atomic_read(&obj->mappings)) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_RESIDENT_LIMIT, READ_ONCE(obj->resident_limit)) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_HELD, extpager_nr_held(obj)) ||
	    nla_put_u8(skb, EXTPAGER_A_OBJECT_NOTIFY_EVICT, READ_ONCE(obj->notify_evict)) ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_ORPHAN_MS, obj->orphan_lifetime_ms) ||
	    nla_put_u8(skb, EXTPAGER_A_OBJECT_READ_ONLY, obj->read_only) ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_MANAGER_PID, manager_pid) ||
	    nla_put_string(skb, EXTPAGER_A_OBJECT_MANAGER_COMM, comm))
		goto cancel;
	nest = nla_nest_start(skb, EXTPAGER_A_OBJECT_STATS);
	if (!nest ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_FAULTS, atomic_long_read(&s->faults)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_REQUESTS, atomic_long_read(&s->requests)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_REQUESTED_PAGES,
			 atomic_long_read(&s->requested_pages)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_SUPPLIES, atomic_long_read(&s->supplies)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_ZERO_FILLS, atomic_long_read(&s->zero_fills)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_ERRORS, atomic_long_read(&s->errors)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_TIMEOUTS, atomic_long_read(&s->timeouts)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_UNLOCKS, atomic_long_read(&s->unlocks)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_RETURNS, atomic_long_read(&s->returns)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_RETURN_FAILURES,
			 atomic_long_read(&s->return_failures)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_DEFAULTED, atomic_long_read(&s->defaulted)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_DEFAULT_FAULTS,
			 atomic_long_read(&s->default_faults)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_DEFAULT_FAILURES,
			 atomic_long_read(&s->default_failures)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_REDELIVERED, atomic_long_read(&s->redelivered)) ||
	    nla_put_uint(skb, EXTPAGER_A_STATS_CHANNEL_REQUESTS,
			 atomic_long_read(&s->channel_requests)))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Managers see their own objects; CAP_SYS_ADMIN sees every object. */
static bool extpager_visible(struct sk_buff *skb, struct extpager_object *obj,
			     const struct genl_info *info)
{
	return netlink_capable(skb, CAP_SYS_ADMIN) ||
	       extpager_object_managed_by(obj, info);
}

int extpager_nl_object_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[EXTPAGER_A_OBJECT_ID];
	struct extpager_object *obj;
	struct sk_buff *reply;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_ID))
		return -EINVAL;
	obj = extpager_object_get(nla_get_u32(attr));
	/* A destroyed object is no one's: refused as every command on it is. */
	if (obj && READ_ONCE(obj->destroyed)) {
		NL_SET_ERR_MSG_ATTR_FMT(info->extack, attr, "object %u is destroyed", obj->id);
		err = -ENOENT;
		goto put;
	}
	if (!obj || !extpager_visible(skb, obj, info)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such object of this manager");
		err = obj ? -EPERM : -ENOENT;
		goto put;
	}
	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply) {
		err = -ENOMEM;
		goto put;
	}
	err = extpager_nl_fill(reply, obj, info, 0);
	if (err) {
		nlmsg_free(reply);
		goto put;
	}
	err = genlmsg_reply(reply, info);
put:
	if (obj)
		extpager_object_put(obj);
	return err;
}

int extpager_nl_object_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_info *info = genl_info_dump(cb);
	struct extpager_object *obj;
	unsigned long id;
	int err = 0;

	xa_for_each_start(&extpager_objects, id, obj, cb->args[0]) {
		obj = extpager_object_get(id);
		if (!obj)
			continue;
		if (!READ_ONCE(obj->destroyed) && extpager_visible(cb->skb, obj, info))
			err = extpager_nl_fill(skb, obj, info, NLM_F_MULTI);
		extpager_object_put(obj);
		if (err)
			break;
		cb->args[0] = id + 1;
	}
	return err == -EMSGSIZE && skb->len ? skb->len : err ?: skb->len;
}

int extpager_nl_ready_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct extpager_object *obj = info->user_ptr[0];

	mutex_lock(&obj->lock);
	if (info->attrs[EXTPAGER_A_OBJECT_MAY_CACHE])
		obj->may_cache = nla_get_u8(info->attrs[EXTPAGER_A_OBJECT_MAY_CACHE]);
	if (info->attrs[EXTPAGER_A_OBJECT_CLUSTER])
		obj->cluster = nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_CLUSTER]);
	if (info->attrs[EXTPAGER_A_OBJECT_RESIDENT_LIMIT])
		WRITE_ONCE(obj->resident_limit,
			   nla_get_uint(info->attrs[EXTPAGER_A_OBJECT_RESIDENT_LIMIT]));
	if (info->attrs[EXTPAGER_A_OBJECT_NOTIFY_EVICT])
		WRITE_ONCE(obj->notify_evict,
			   nla_get_u8(info->attrs[EXTPAGER_A_OBJECT_NOTIFY_EVICT]));
	obj->ready = true;
	wake_up_all(&obj->wait);
	mutex_unlock(&obj->lock);
	/* What waited for an adopting manager goes now. */
	extpager_resend_now(obj);
	extpager_limit_resident(obj);
	extpager_manager_answers(obj);
	return 0;
}

int extpager_nl_data_supply_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct extpager_object *obj = info->user_ptr[0];
	struct nlattr *addr = info->attrs[EXTPAGER_A_OBJECT_DATA_ADDR];
	struct nlattr *len_attr = info->attrs[EXTPAGER_A_OBJECT_LENGTH];
	struct nlattr *req_attr = info->attrs[EXTPAGER_A_OBJECT_REQUEST_ID];
	struct extpager_source src = { .info = info };
	unsigned int nr, n_inline = 0, skipped = 0;
	struct sk_buff *reply;
	struct nlattr *attr;
	pgoff_t index;
	void *hdr;
	u32 flags;
	u64 len;
	int rem, err;

	nla_for_each_attr_type(attr, EXTPAGER_A_OBJECT_DATA, genlmsg_data(info->genlhdr),
			       genlmsg_len(info->genlhdr), rem) {
		if (nla_len(attr) != PAGE_SIZE) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "each data attribute must hold exactly one page");
			return -EINVAL;
		}
		n_inline++;
	}
	if (!n_inline == !addr) {
		NL_SET_ERR_MSG(info->extack,
			       "supply the data either inline (data) or by address (data-addr)");
		return -EINVAL;
	}
	if (addr) {
		if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_LENGTH))
			return -EINVAL;
		len = nla_get_uint(len_attr);
	} else {
		len = (u64)n_inline << PAGE_SHIFT;
		if (len_attr && nla_get_uint(len_attr) != len) {
			NL_SET_ERR_MSG_ATTR(info->extack, len_attr,
					    "length does not match the inline data");
			return -EINVAL;
		}
	}
	err = extpager_nl_run(obj, info, len, &index, &nr);
	if (err)
		return err;
	attr = info->attrs[EXTPAGER_A_OBJECT_FLAGS];
	flags = attr ? nla_get_u32(attr) : 0;

	if (addr) {
		src.uaddr = u64_to_user_ptr(nla_get_uint(addr));
		/* Fault the source in now: the copy runs with folios locked. */
		if (!access_ok(src.uaddr, len) || fault_in_readable(src.uaddr, len)) {
			NL_SET_ERR_MSG_ATTR(info->extack, addr,
					    "data-addr does not point at readable memory");
			return -EFAULT;
		}
	}

	/* An answer has nothing to report but failure: that is the ack's. */
	if (req_attr) {
		err = extpager_supply_request(obj, nla_get_u32(req_attr), index, nr,
					      &src, flags, info->extack);
		extpager_limit_resident(obj);
		return err;
	}

	reply = genlmsg_new(2 * nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	err = extpager_prefetch(obj, index, nr, &src, flags, &skipped);
	extpager_limit_resident(obj);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	hdr = genlmsg_iput(reply, info);
	if (!hdr ||
	    nla_put_u32(reply, EXTPAGER_A_OBJECT_PAGES_SUPPLIED, nr - skipped) ||
	    nla_put_u32(reply, EXTPAGER_A_OBJECT_PAGES_SKIPPED, skipped)) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/* DATA_UNAVAILABLE and DATA_ERROR: the run they name, checked, answered. */
static int extpager_nl_nodata(struct genl_info *info, int err)
{
	struct extpager_object *obj = info->user_ptr[0];
	unsigned int nr;
	pgoff_t index;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_REQUEST_ID) ||
	    GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_LENGTH))
		return -EINVAL;
	ret = extpager_nl_run(obj, info,
			      nla_get_uint(info->attrs[EXTPAGER_A_OBJECT_LENGTH]),
			      &index, &nr);
	if (ret)
		return ret;
	ret = extpager_answer_nodata(obj, nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_REQUEST_ID]),
				     index, nr, err, info->extack);
	if (!ret && !err)
		extpager_limit_resident(obj);
	return ret;
}

int extpager_nl_data_unavailable_doit(struct sk_buff *skb, struct genl_info *info)
{
	return extpager_nl_nodata(info, 0);
}

int extpager_nl_data_error_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_ERROR))
		return -EINVAL;
	return extpager_nl_nodata(info, -(int)nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_ERROR]));
}

int extpager_nl_unlock_reply_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct extpager_object *obj = info->user_ptr[0];
	u32 id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_REQUEST_ID) ||
	    GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_GRANT))
		return -EINVAL;
	id = nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_REQUEST_ID]);
	err = extpager_unlock_reply(obj, id,
				    nla_get_u8(info->attrs[EXTPAGER_A_OBJECT_GRANT]));
	if (err)
		NL_SET_ERR_MSG_FMT(info->extack,
				   "unlock request %u is not pending: answered or timed out", id);
	return err;
}

int extpager_nl_return_ack_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *error = info->attrs[EXTPAGER_A_OBJECT_ERROR];
	struct extpager_object *obj = info->user_ptr[0];
	u32 id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_REQUEST_ID))
		return -EINVAL;
	id = nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_REQUEST_ID]);
	err = extpager_return_ack(obj, id, error ? -(int)nla_get_u32(error) : 0);
	if (err)
		NL_SET_ERR_MSG_FMT(info->extack,
				   "return %u is not pending: acknowledged or moved to the default pager",
				   id);
	/*
	 * Even a late answer: the manager is back, give it what is held, once
	 * its returns have drained.  Not sooner: redelivery would take the
	 * slots of the writeback keeping it busy, and push that writeback to
	 * the default pager in turn.
	 */
	if (!READ_ONCE(obj->nr_returns))
		extpager_manager_answers(obj);
	/* Acknowledged pages are clean: the resident limit can drop them. */
	extpager_limit_resident(obj);
	return err;
}

int extpager_nl_lock_request_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct extpager_object *obj = info->user_ptr[0];
	struct nlattr *should_return = info->attrs[EXTPAGER_A_OBJECT_SHOULD_RETURN];
	struct nlattr *flags = info->attrs[EXTPAGER_A_OBJECT_LOCK_FLAGS];
	u32 what = should_return ? nla_get_u32(should_return) : EXTPAGER_SHOULD_RETURN_NONE;
	pgoff_t first, last;
	int err;

	/* A read-only object's pages are never dirty, nor made so to go back. */
	if (obj->read_only && what == EXTPAGER_SHOULD_RETURN_ALL)
		what = EXTPAGER_SHOULD_RETURN_DIRTY;
	if (GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_REQUEST_ID) ||
	    GENL_REQ_ATTR_CHECK(info, EXTPAGER_A_OBJECT_LENGTH))
		return -EINVAL;
	err = extpager_nl_range(obj, info,
				nla_get_uint(info->attrs[EXTPAGER_A_OBJECT_LENGTH]),
				&first, &last);
	if (err)
		return err;
	return extpager_lock_request(obj,
				     nla_get_u32(info->attrs[EXTPAGER_A_OBJECT_REQUEST_ID]),
				     first, last, what, flags ? nla_get_u32(flags) : 0,
				     info->extack);
}
