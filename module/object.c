// SPDX-License-Identifier: GPL-2.0
/*
 * Memory objects: files on a private pseudo filesystem (as mm/secretmem.c),
 * so that their pages are ordinary page-cache pages shared by every process
 * that maps them.  The file descriptor is the capability, Mach's send right.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/backing-dev.h>
#include <linux/mount.h>
#include <linux/netlink.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "extpager.h"
#include "genl.h"

#define EXTPAGER_MAGIC	0x45585450	/* "EXTP" */

/*
 * Guards extpager_managers, their lists, obj->manager with obj->lock, and
 * the default pager.
 */
static DEFINE_MUTEX(extpager_managers_lock);
static LIST_HEAD(extpager_managers);
/* The registered default pager's socket, if any (DEFAULT_PAGER_SET). */
static struct net *extpager_default_net;
static u32 extpager_default_portid;
DEFINE_XARRAY_ALLOC1(extpager_objects);
static u32 extpager_next_id;
static struct vfsmount *extpager_mnt;
static struct kmem_cache *extpager_object_cachep;

static void extpager_orphan_expired(struct work_struct *work);

static struct inode *extpager_alloc_inode(struct super_block *sb)
{
	const size_t start = offsetofend(struct extpager_object, vfs_inode);
	struct extpager_object *obj;

	obj = alloc_inode_sb(sb, extpager_object_cachep, GFP_KERNEL);
	if (!obj)
		return NULL;
	/* The slab hands back evicted objects: all state starts from zero. */
	memset((char *)obj + start, 0, sizeof(*obj) - start);
	mutex_init(&obj->lock);
	INIT_LIST_HEAD(&obj->manager_node);
	obj->may_cache = true;
	obj->cluster = 1;
	INIT_DELAYED_WORK(&obj->orphan_work, extpager_orphan_expired);
	extpager_object_init_requests(obj);
	extpager_pageout_init(obj);
	extpager_store_init(obj);
	return &obj->vfs_inode;
}

static void extpager_free_inode(struct inode *inode)
{
	kmem_cache_free(extpager_object_cachep, EXTPAGER_OBJ(inode));
}

/*
 * Forget the manager, telling it @cmd first if non-zero.  obj->manager is
 * set only while the object is on that manager's list, and changes under
 * both locks: the manager's socket, and so its netns, outlive it.
 */
static void extpager_unbind(struct extpager_object *obj, u8 cmd)
{
	mutex_lock(&extpager_managers_lock);
	list_del_init(&obj->manager_node);
	mutex_lock(&obj->lock);
	if (cmd && obj->manager)
		extpager_notify(obj, cmd, NULL);
	obj->manager = NULL;
	mutex_unlock(&obj->lock);
	mutex_unlock(&extpager_managers_lock);
}

/* Dirty pages in @obj's page cache: what an unmanaged eviction drops. */
static unsigned long extpager_nr_dirty(struct extpager_object *obj)
{
	struct folio_batch fbatch;
	unsigned long n = 0;
	pgoff_t index = 0;

	folio_batch_init(&fbatch);
	while (filemap_get_folios_tag(obj->vfs_inode.i_mapping, &index, ULONG_MAX,
				      PAGECACHE_TAG_DIRTY, &fbatch)) {
		n += folio_batch_count(&fbatch);
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return n;
}

/*
 * The last file descriptor and mapping are gone.  As in Mach, the dirty
 * pages go back to the manager and then TERMINATE, without waiting for
 * acknowledgements: the manager may be the very process whose exit closed
 * the object.  The returns' data is in their messages, queued ahead of
 * TERMINATE; each waits for room in a full queue (extpager_notify_final()).
 */
static void extpager_evict_inode(struct inode *inode)
{
	struct extpager_object *obj = EXTPAGER_OBJ(inode);
	unsigned long lost;
	bool managed;

	if (obj->id) {
		mutex_lock(&obj->lock);
		obj->dying = true;		/* returns are final from now */
		managed = obj->manager;
		mutex_unlock(&obj->lock);
		/* A recoverable orphan's own pin may be the last reference. */
		if (current_work() != &obj->orphan_work.work)
			cancel_delayed_work_sync(&obj->orphan_work);
		cancel_delayed_work_sync(&obj->timeout_work);
		cancel_delayed_work_sync(&obj->resend_work);
		extpager_fail_all(obj);		/* returns in flight go again */
		/* Then nothing the works below wait for is in flight. */
		flush_work(&obj->default_work);
		cancel_work_sync(&obj->redeliver_work);
		cancel_work_sync(&obj->shrink_work);
		/* Recoverable, and nobody adopted it in time: never silent. */
		if (!managed && obj->orphan_lifetime_ms) {
			lost = extpager_nr_dirty(obj) + extpager_nr_held(obj);
			atomic_long_add(lost, &orphan_pages_dropped);
			if (lost)
				pr_warn("object %u: dropping %lu dirty pages: no manager adopted it\n",
					obj->id, lost);
		}
		/* Without a manager, nobody can see the pages again. */
		if (managed) {
			/* The default pager's pages too: they are the manager's. */
			extpager_redeliver_range(obj, 0, ULONG_MAX);
			filemap_fdatawrite(&inode->i_data);
		}
	}
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (!obj->id)
		return;

	extpager_pageout_exit(obj);
	extpager_store_exit(obj);
	mutex_lock(&obj->lock);
	if (obj->manager)
		extpager_notify_final(obj, EXTPAGER_CMD_TERMINATE, NULL);
	mutex_unlock(&obj->lock);
	extpager_unbind(obj, 0);
	extpager_free_sigbus(obj);
	extpager_free_requests(obj);
	xa_erase(&extpager_objects, obj->id);
}

static const struct super_operations extpager_sops = {
	.alloc_inode	= extpager_alloc_inode,
	.free_inode	= extpager_free_inode,
	.evict_inode	= extpager_evict_inode,
	.drop_inode	= inode_just_drop,
	.statfs		= simple_statfs,
};

static int extpager_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, EXTPAGER_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->ops = &extpager_sops;
	/*
	 * No SB_I_CGROUPWB, as FUSE and NFS: cgroup writeback throttles by
	 * memcg statistics flushed every 2 s, so a small cgroup's writer
	 * stalls for 2 s whenever a flush finds it over its dirty limit,
	 * however fast the manager acknowledges.  Pages are still charged to
	 * the writer's memcg; its reclaim wakes the flusher for dirty ones.
	 */
	fc->s_iflags |= SB_I_NOEXEC | SB_I_NODEV;
	return 0;
}

static struct file_system_type extpager_fs_type = {
	.name		= "extpager",
	.init_fs_context = extpager_init_fs_context,
	.kill_sb	= kill_anon_super,
};

static int extpager_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct extpager_object *obj = EXTPAGER_OBJ(file_inode(file));

	vma->vm_ops = &extpager_vm_ops;
	atomic_inc(&obj->mappings);

	/* Mach's memory_object_init: faults wait for the manager's READY. */
	mutex_lock(&obj->lock);
	extpager_send_init(obj);
	mutex_unlock(&obj->lock);
	return 0;
}

/*
 * fsync and msync(MS_SYNC): return the dirty pages, those the default
 * pager holds included, and wait until the manager has acknowledged them.
 * Reports a store the manager refused, and -EIO if pages stay with the
 * default pager (the manager did not answer in time, or is gone).
 */
static int extpager_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct extpager_object *obj = EXTPAGER_OBJ(file_inode(file));
	int held, err;

	/* Anonymous memory of the kernel's own: only its store's failures. */
	if (obj->internal)
		return file_check_and_advance_wb_err(file);
	held = extpager_return_range(obj, start >> PAGE_SHIFT, end >> PAGE_SHIFT);
	/* This file's view of the errors: a store the manager refused. */
	err = file_write_and_wait_range(file, start, end);
	return err ?: held;
}

static const struct file_operations extpager_fops = {
	.owner		= THIS_MODULE,
	.mmap		= extpager_mmap,
	.fsync		= extpager_fsync,
	.llseek		= noop_llseek,
};

/* Objects created by @uid that still exist, for max_objects_per_user. */
static unsigned int extpager_objects_of(kuid_t uid)
{
	struct extpager_object *obj;
	unsigned long id;
	unsigned int n = 0;

	xa_lock(&extpager_objects);
	xa_for_each(&extpager_objects, id, obj)
		n += uid_eq(obj->owner, uid);
	xa_unlock(&extpager_objects);
	return n;
}

/*
 * A read-only object's files are opened as a file is with O_RDONLY, so
 * that do_mmap() refuses shared writable mappings and clears VM_MAYWRITE:
 * nothing can dirty a page that the manager could not take back.
 */
static int extpager_open_flags(const struct extpager_object *obj)
{
	return obj->read_only ? O_RDONLY : O_RDWR;
}

/* The manager for socket @portid in @net.  Under extpager_managers_lock. */
static struct extpager_manager *extpager_manager(struct net *net, u32 portid)
{
	struct extpager_manager *mgr;

	list_for_each_entry(mgr, &extpager_managers, node)
		if (mgr->portid == portid && net_eq(mgr->net, net))
			return mgr;
	mgr = kzalloc(sizeof(*mgr), GFP_KERNEL);
	if (!mgr)
		return NULL;
	mgr->net = net;
	mgr->portid = portid;
	mgr->pid = get_task_pid(current, PIDTYPE_TGID);
	get_task_comm(mgr->comm, current);
	INIT_LIST_HEAD(&mgr->objects);
	refcount_set(&mgr->refs, 1);
	spin_lock_init(&mgr->lock);
	INIT_LIST_HEAD(&mgr->channels);
	list_add(&mgr->node, &extpager_managers);
	return mgr;
}

/* The manager that is the socket that sent @info, for a data channel. */
struct extpager_manager *extpager_manager_hold(const struct genl_info *info)
{
	struct extpager_manager *mgr;

	mutex_lock(&extpager_managers_lock);
	mgr = extpager_manager(genl_info_net(info), info->snd_portid);
	if (mgr)
		refcount_inc(&mgr->refs);
	mutex_unlock(&extpager_managers_lock);
	return mgr;
}

void extpager_manager_put(struct extpager_manager *mgr)
{
	if (refcount_dec_and_test(&mgr->refs)) {
		WARN_ON_ONCE(!list_empty(&mgr->channels));
		put_pid(mgr->pid);
		kfree(mgr);
	}
}

/* Make @mgr manage @obj.  Under extpager_managers_lock. */
static void extpager_bind(struct extpager_object *obj,
			  struct extpager_manager *mgr)
{
	mutex_lock(&obj->lock);
	obj->manager = mgr;
	obj->portid = mgr->portid;
	obj->net = mgr->net;
	mutex_unlock(&obj->lock);
	list_add_tail(&obj->manager_node, &mgr->objects);
}

/*
 * DEFAULT_PAGER_SET: the socket that sent @info becomes the default pager,
 * unless one is already: another (EBUSY) or this one (EALREADY, as
 * libpager's pager_register_default() says, for a manager that asks twice
 * has lost track of what it is).  Its manager record is made here, while
 * it is current, so that the anonymous objects it is given name it in
 * manager-pid and manager-comm, not the process that created them.
 */
int extpager_default_pager_set(const struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	int err = 0;

	mutex_lock(&extpager_managers_lock);
	if (extpager_default_net && (extpager_default_portid != info->snd_portid ||
				     !net_eq(extpager_default_net, net))) {
		NL_SET_ERR_MSG_FMT(info->extack, "port %u is the default pager already",
				   extpager_default_portid);
		err = -EBUSY;
	} else if (extpager_default_net) {
		NL_SET_ERR_MSG(info->extack, "this socket is the default pager already");
		err = -EALREADY;
	} else if (!extpager_manager(net, info->snd_portid)) {
		err = -ENOMEM;
	} else {
		extpager_default_net = net;
		extpager_default_portid = info->snd_portid;
		pr_info("port %u is the default pager\n", info->snd_portid);
	}
	mutex_unlock(&extpager_managers_lock);
	return err;
}

/*
 * Create an object of @size bytes, and return its file.  It is managed by
 * the socket that sent @info; or, if @anonymous, by the default pager,
 * the registered one or else the kernel's own.  With @quota, it counts
 * against its creator's max_objects_per_user (who, managing it, is then an
 * unprivileged manager).
 */
struct file *extpager_object_create(const struct genl_info *info, loff_t size,
				    bool anonymous, bool quota,
				    unsigned int orphan_lifetime_ms, bool read_only)
{
	struct extpager_manager *mgr = NULL;
	struct extpager_object *obj;
	struct inode *inode;
	struct file *file;
	int err;

	inode = new_inode(extpager_mnt->mnt_sb);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	obj = EXTPAGER_OBJ(inode);
	obj->owner = current_euid();
	obj->read_only = read_only;
	obj->unprivileged_manager = quota && !anonymous;
	obj->orphan_lifetime_ms = min(orphan_lifetime_ms,
				      READ_ONCE(max_orphan_lifetime_ms));
	inode->i_ino = get_next_ino();
	inode->i_mode = S_IFREG | 0600;
	inode->i_uid = current_fsuid();
	inode->i_gid = current_fsgid();
	inode->i_size = size;
	inode->i_fop = &extpager_fops;
	inode->i_mapping->a_ops = &extpager_aops;
	simple_inode_init_ts(inode);
	/* Only hashed inodes reach the flusher's dirty lists. */
	insert_inode_hash(inode);

	/* Reserved: lookups by id (adoption) find the object once it is bound. */
	err = xa_alloc_cyclic(&extpager_objects, &obj->id, NULL, xa_limit_31b,
			      &extpager_next_id, GFP_KERNEL);
	if (err < 0) {
		iput(inode);
		return ERR_PTR(err);
	}

	/* alloc_file_pseudo() leaves the reference fput() drops to us. */
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(inode, extpager_mnt, "[extpager]",
				 extpager_open_flags(obj), &extpager_fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		iput(inode);
		return file;
	}

	/* Counted and published under one lock: creations cannot overtake it. */
	mutex_lock(&extpager_managers_lock);
	if (quota && extpager_objects_of(obj->owner) >= READ_ONCE(max_objects_per_user)) {
		mutex_unlock(&extpager_managers_lock);
		NL_SET_ERR_MSG(info->extack,
			       "this user has max_objects_per_user objects already");
		fput(file);
		return ERR_PTR(-EDQUOT);
	}
	if (!anonymous)
		mgr = extpager_manager(genl_info_net(info), info->snd_portid);
	else if (extpager_default_net)
		mgr = extpager_manager(extpager_default_net, extpager_default_portid);
	else
		obj->internal = true;
	if (!mgr && !obj->internal) {
		mutex_unlock(&extpager_managers_lock);
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	if (mgr)
		extpager_bind(obj, mgr);
	xa_store(&extpager_objects, obj->id, obj, GFP_KERNEL);
	mutex_unlock(&extpager_managers_lock);
	return file;
}

/* Look up an object and pin it; NULL if there is none or it is going. */
struct extpager_object *extpager_object_get(u32 id)
{
	struct extpager_object *obj;
	struct inode *inode = NULL;

	rcu_read_lock();
	obj = xa_load(&extpager_objects, id);
	if (obj)
		inode = igrab(&obj->vfs_inode);
	rcu_read_unlock();
	return inode ? obj : NULL;
}

/* Whether the socket that sent @info manages @obj. */
bool extpager_object_managed_by(struct extpager_object *obj,
				const struct genl_info *info)
{
	bool managed;

	mutex_lock(&obj->lock);
	managed = obj->manager && obj->portid == info->snd_portid &&
		  net_eq(obj->net, genl_info_net(info));
	mutex_unlock(&obj->lock);
	return managed;
}

/*
 * @obj's manager is gone.  If it is recoverable (and not going already),
 * it pins itself and the module, and waits for a new manager: its faults
 * wait, its returns go to the default pager.  Under extpager_managers_lock.
 */
static bool extpager_orphan_pin(struct extpager_object *obj)
{
	if (!obj->orphan_lifetime_ms || READ_ONCE(obj->destroyed) ||
	    !igrab(&obj->vfs_inode))
		return false;
	__module_get(THIS_MODULE);
	mutex_lock(&obj->lock);
	obj->manager = NULL;
	obj->ready = false;
	obj->init_sent = false;
	obj->orphaned = true;
	mutex_unlock(&obj->lock);
	extpager_hold_requests(obj);
	/* On extpager_wq: the module's exit drains it after our module_put(). */
	queue_delayed_work(extpager_wq, &obj->orphan_work,
			   msecs_to_jiffies(obj->orphan_lifetime_ms));
	return true;
}

/* Adopted, or its time is up: the orphan no longer pins itself. */
static bool extpager_orphan_unpin(struct extpager_object *obj)
{
	bool pinned;

	mutex_lock(&obj->lock);
	pinned = obj->orphaned;
	obj->orphaned = false;
	mutex_unlock(&obj->lock);
	return pinned;
}

/*
 * Nobody adopted the orphan within its orphan_lifetime_ms: it is orphaned
 * as any other object, its faults fail, and its pages go with its last
 * reference, maybe the pin dropped here (extpager_evict_inode() counts them).
 */
static void extpager_orphan_expired(struct work_struct *work)
{
	struct extpager_object *obj = container_of(to_delayed_work(work),
						   struct extpager_object,
						   orphan_work);

	if (!extpager_orphan_unpin(obj))
		return;
	pr_warn("object %u: no manager adopted it within %u ms\n", obj->id,
		obj->orphan_lifetime_ms);
	extpager_fail_all(obj);
	iput(&obj->vfs_inode);
	module_put(THIS_MODULE);
}

/*
 * A netlink socket is being released.  If it managed objects, they are
 * orphaned: faults that wait fail now, and so will later ones on pages not
 * in the cache; cached pages stay readable.  The socket still pins its
 * netns here.
 */
static int extpager_netlink_event(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct extpager_manager *mgr, *tmp;
	struct extpager_object *obj, *next;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	mutex_lock(&extpager_managers_lock);
	if (extpager_default_net && extpager_default_portid == n->portid &&
	    net_eq(extpager_default_net, n->net)) {
		pr_info("port %u is no longer the default pager\n", n->portid);
		extpager_default_net = NULL;
	}
	list_for_each_entry_safe(mgr, tmp, &extpager_managers, node) {
		if (mgr->portid != n->portid || !net_eq(mgr->net, n->net))
			continue;
		list_for_each_entry_safe(obj, next, &mgr->objects, manager_node) {
			list_del_init(&obj->manager_node);
			if (extpager_orphan_pin(obj))
				continue;
			mutex_lock(&obj->lock);
			obj->manager = NULL;
			mutex_unlock(&obj->lock);
			extpager_fail_all(obj);
		}
		list_del(&mgr->node);
		extpager_channels_detach(mgr);
		extpager_manager_put(mgr);
	}
	mutex_unlock(&extpager_managers_lock);
	return NOTIFY_DONE;
}

static struct notifier_block extpager_netlink_notifier = {
	.notifier_call = extpager_netlink_event,
};

int __init extpager_managers_init(void)
{
	return netlink_register_notifier(&extpager_netlink_notifier);
}

/*
 * Every object and channel is gone (each file pins the module); managers
 * may remain.
 */
void extpager_managers_exit(void)
{
	struct extpager_manager *mgr, *tmp;

	netlink_unregister_notifier(&extpager_netlink_notifier);
	list_for_each_entry_safe(mgr, tmp, &extpager_managers, node) {
		WARN_ON_ONCE(!list_empty(&mgr->objects));
		extpager_manager_put(mgr);
	}
}

/*
 * OBJECT_DESTROY: drop every page and make every later fault fail, by
 * truncating the object to nothing.  Requests are failed first: truncation
 * waits for their locked folios.
 */
void extpager_object_destroy(struct extpager_object *obj)
{
	struct inode *inode = &obj->vfs_inode;

	extpager_unbind(obj, 0);
	mutex_lock(&obj->lock);
	obj->destroyed = true;
	mutex_unlock(&obj->lock);
	extpager_fail_all(obj);

	filemap_invalidate_lock(inode->i_mapping);
	truncate_setsize(inode, 0);
	filemap_invalidate_unlock(inode->i_mapping);
	/* The manager asked: this is the one way held pages are dropped. */
	flush_work(&obj->default_work);
	extpager_discard_held(obj);
}

/*
 * OBJECT_ADOPT: bind orphaned @obj to the socket that sent @info (with
 * CAP_SYS_ADMIN if @privileged) and open a file for it, which takes over
 * the caller's reference to @obj.
 */
struct file *extpager_object_adopt(struct extpager_object *obj,
				   const struct genl_info *info, bool privileged)
{
	struct extpager_manager *mgr;
	struct file *file;
	int err = 0;

	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(&obj->vfs_inode, extpager_mnt, "[extpager]",
				 extpager_open_flags(obj), &extpager_fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		return file;
	}
	mutex_lock(&extpager_managers_lock);
	mutex_lock(&obj->lock);
	if (obj->destroyed) {
		NL_SET_ERR_MSG_FMT(info->extack, "object %u is destroyed", obj->id);
		err = -ENOENT;
	} else if (obj->internal) {
		NL_SET_ERR_MSG_FMT(info->extack,
				   "object %u is anonymous memory of the kernel's default pager",
				   obj->id);
		err = -EBUSY;
	} else if (obj->manager) {
		NL_SET_ERR_MSG_FMT(info->extack,
				   "object %u has a manager: only orphans can be adopted",
				   obj->id);
		err = -EBUSY;
	}
	mutex_unlock(&obj->lock);
	mgr = err ? NULL : extpager_manager(genl_info_net(info), info->snd_portid);
	if (!err && !mgr)
		err = -ENOMEM;
	if (err) {
		mutex_unlock(&extpager_managers_lock);
		ihold(&obj->vfs_inode);		/* the caller's, again */
		fput(file);
		return ERR_PTR(err);
	}
	mutex_lock(&obj->lock);
	obj->ready = false;		/* the new manager answers INIT first */
	obj->init_sent = false;
	obj->init_unsent = false;
	WRITE_ONCE(obj->unprivileged_manager, !privileged);
	mutex_unlock(&obj->lock);
	extpager_bind(obj, mgr);
	mutex_unlock(&extpager_managers_lock);
	/* @file holds the object now, and the module. */
	if (extpager_orphan_unpin(obj)) {
		cancel_delayed_work(&obj->orphan_work);
		iput(&obj->vfs_inode);
		module_put(THIS_MODULE);
	}
	return file;
}

/*
 * OBJECT_ADOPT failed after extpager_object_adopt(): its reply could not be
 * sent, and the sender, told it failed, does not manage @obj.  @obj is an
 * orphan again, as if the sender's socket had closed, for another try.
 */
void extpager_object_unadopt(struct extpager_object *obj)
{
	mutex_lock(&extpager_managers_lock);
	list_del_init(&obj->manager_node);
	if (!extpager_orphan_pin(obj)) {
		mutex_lock(&obj->lock);
		obj->manager = NULL;
		mutex_unlock(&obj->lock);
		extpager_fail_all(obj);
	}
	mutex_unlock(&extpager_managers_lock);
}

/*
 * The adopting manager has its reply: INIT if the object is mapped, then
 * every dirty page, cached or held by the default pager, goes back to it.
 */
void extpager_object_adopted(struct extpager_object *obj)
{
	mutex_lock(&obj->lock);
	if (atomic_read(&obj->mappings))
		extpager_send_init(obj);
	mutex_unlock(&obj->lock);
	queue_work(extpager_wq, &obj->redeliver_work);
}

static void extpager_object_init_once(void *p)
{
	struct extpager_object *obj = p;

	inode_init_once(&obj->vfs_inode);
}

int __init extpager_fs_init(void)
{
	int err;

	extpager_object_cachep = kmem_cache_create("extpager_object",
						   sizeof(struct extpager_object), 0,
						   SLAB_ACCOUNT,
						   extpager_object_init_once);
	if (!extpager_object_cachep)
		return -ENOMEM;
	extpager_mnt = kern_mount(&extpager_fs_type);
	if (IS_ERR(extpager_mnt)) {
		err = PTR_ERR(extpager_mnt);
		goto free_cache;
	}
	/*
	 * A backing_dev_info of its own, so that dirty pages are accounted
	 * and the flusher threads write them back (to the managers).
	 */
	err = super_setup_bdi(extpager_mnt->mnt_sb);
	if (err)
		goto unmount;
	return 0;

unmount:
	kern_unmount(extpager_mnt);
free_cache:
	kmem_cache_destroy(extpager_object_cachep);
	return err;
}

void extpager_fs_exit(void)
{
	kern_unmount(extpager_mnt);
	rcu_barrier();		/* inodes are freed after a grace period */
	kmem_cache_destroy(extpager_object_cachep);
}
