/* SPDX-License-Identifier: GPL-2.0 */
/*
 * extpager's internal interfaces, grouped by the file that defines them.
 * Each file calls only the files below it: main, netlink (the messages
 * received), object, fault, pageout, writeback, request (the registry of
 * requests, whatever carries them), store (the kernel's default pager),
 * notify (the messages sent).
 *
 * Locks, outermost first:
 *   mmap_lock or the VMA lock       faults and ->page_mkwrite
 *   the mapping's invalidate lock   readahead and read_folio (shared),
 *                                   OBJECT_DESTROY's truncation (exclusive)
 *   folio locks                     a data request holds those of its pages
 *                                   until they are answered or failed
 *   extpager_managers_lock (mutex)  the managers, their lists of objects,
 *                                   obj->manager (with obj->lock)
 *   extpager_object.lock (mutex)    everything else in the object
 *   extpager_manager.lock (spin)    the manager's data channels and their
 *                                   tags; a request is handed to a FETCH,
 *                                   or a FETCH failed, under it
 * Writeback is waited for under a folio lock (a page about to be written
 * waits for its return).  Neither mutex is held while copying from
 * userspace, waiting for a folio or for writeback, or waiting for a manager.
 *
 * Every wait for a manager (userspace) is bounded, and killable:
 *   - a fault's answer: on the folio lock in filemap_fault(), without
 *     mmap_lock (every try that may retry is a first try, see fault.c);
 *     request_timeout_ms at most, then the timeout work fails the request;
 *   - READY and a request slot (extpager_ask()): in readahead or read_folio,
 *     under the invalidate lock and the run's folio locks, or in a one-page
 *     fault's own path under its folio lock; without mmap_lock when the
 *     fault may retry; request_timeout_ms at most;
 *   - DATA_UNLOCK's answer: in ->page_mkwrite, which cannot retry, so under
 *     mmap_lock or the VMA lock, as FUSE's waits; request_timeout_ms at most;
 *   - a return slot (max_returns): in ->writepages, nothing of ours held;
 *     return_timeout_ms at most.  Returned pages stay in writeback until
 *     RETURN_ACK, return_timeout_ms at most, then go to the default pager;
 *   - fsync and lock requests wait for that writeback, a few passes
 *     (EXTPAGER_RETURN_PASSES) of return_timeout_ms at most;
 *   - room in the manager's full receive queue: for INIT, DATA_REQUEST and
 *     DATA_UNLOCK, the fault's own wait above; for LOCK_COMPLETED, the lock
 *     request's worker, nothing held, request_timeout_ms at most.
 * A kernel-mode fault on an unprivileged manager's object waits for none
 * of these (unprivileged_kernel_faults, fault.c).  Writeback that waits for
 * a manager ends by the default pager's work at the latest, on a workqueue
 * of its own: the works that wait for writeback cannot hold it up.
 * The kernel never waits for a data channel: a request that finds no FETCH
 * waiting goes over netlink, and a FETCH waits in the manager's ring.
 * A supply copies from the manager's memory into claimed, locked folios
 * with page faults disabled; it takes faults only with no folio claimed.
 */
#ifndef _EXTPAGER_H
#define _EXTPAGER_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <uapi/linux/extpager_channel.h>

#include "compat.h"

struct genl_info;
struct io_uring_cmd;
struct net;
struct netlink_ext_ack;
struct nlattr;
struct writeback_control;

/*
 * A manager: the generic netlink socket, named by netns and port id, that
 * created objects or opened data channels.  It leaves extpager_managers
 * when the socket is released (NETLINK_URELEASE); its channels keep the
 * structure, detached, until they are closed.
 */
struct extpager_manager {
	struct list_head node;		/* in extpager_managers */
	struct net *net;
	u32 portid;
	struct pid *pid;		/* the process that made it, for OBJECT_GET */
	char comm[TASK_COMM_LEN];
	struct list_head objects;
	refcount_t refs;		/* the list's and each channel's */
	spinlock_t lock;		/* @channels, @gone, the channels' tags */
	struct list_head channels;
	unsigned int next_channel;	/* where the next request looks first */
	bool gone;			/* the socket is released */
};

/*
 * A tag of a data channel (channel.c): idle, fetching (@cmd, a FETCH
 * waiting for a request) or busy (a request handed out, @object).
 */
struct extpager_tag {
	struct io_uring_cmd *cmd;
	u32 object;			/* the request's object, 0 if none */
	u32 request;
	bool unlock;			/* a DATA_UNLOCK, not a DATA_REQUEST */
	pgoff_t index;
	unsigned int nr;
};

/* A data channel, the file channel-open returned. */
struct extpager_channel {
	struct list_head node;		/* in mgr->channels */
	struct extpager_manager *mgr;
	struct extpager_channel_desc *descs;	/* mmap()ed by the manager */
	unsigned int nr_tags;
	unsigned int fetching;		/* tags with a FETCH waiting */
	unsigned int busy;		/* tags with a request handed out */
	struct extpager_tag tags[];
};

/* What a FETCH keeps in its io_uring_cmd. */
struct extpager_fetch_pdu {
	int result;			/* what it completes with */
	u16 tag;
};

#define extpager_fetch_pdu(cmd)	io_uring_cmd_to_pdu(cmd, struct extpager_fetch_pdu)

struct extpager_stats {
	atomic_long_t faults;
	atomic_long_t requests;
	atomic_long_t requested_pages;
	atomic_long_t supplies;
	atomic_long_t zero_fills;
	atomic_long_t errors;
	atomic_long_t timeouts;
	atomic_long_t unlocks;
	atomic_long_t returns;
	atomic_long_t return_failures;
	atomic_long_t defaulted;
	atomic_long_t default_faults;
	atomic_long_t default_failures;
	atomic_long_t redelivered;
	atomic_long_t channel_requests;
};

/*
 * A memory object.  It is the inode of a file on extpager's pseudo
 * filesystem: its pages are that inode's page cache, and it lives as long
 * as a file descriptor or a mapping refers to it.
 */
struct extpager_object {
	struct inode vfs_inode;
	u32 id;				/* in extpager_objects */
	kuid_t owner;			/* who created it */
	/* Anonymous, of the kernel's default pager: missing pages are zeros. */
	bool internal;
	/*
	 * Its manager lacked CAP_SYS_ADMIN when it created or adopted it:
	 * kernel accesses do not wait for it (unprivileged_kernel_faults).
	 * Written under @lock, read without.
	 */
	bool unprivileged_manager;

	struct mutex lock;		/* guards all of the below */
	struct extpager_manager *manager; /* NULL once orphaned or destroyed */
	u32 portid;			/* the manager's, valid with @manager */
	struct net *net;		/* likewise; the manager's socket pins it */
	struct list_head manager_node;
	bool init_sent;			/* INIT is owed: sent, or in @unsent */
	bool init_unsent;		/* INIT waits for room, ahead of @unsent */
	bool ready;			/* READY received: faults may proceed */
	bool may_cache;
	bool read_only;			/* its files are opened O_RDONLY */
	bool notify_evict;		/* DATA_EVICTED for dropped clean pages */
	bool destroyed;
	bool dying;			/* being evicted: returns are final */
	/*
	 * Recoverable: its manager gone, the object pins itself (an inode
	 * reference) and waits @orphan_lifetime_ms to be adopted.
	 */
	unsigned int orphan_lifetime_ms;	/* 0: not recoverable */
	bool orphaned;			/* pinned, waiting for adoption */
	struct delayed_work orphan_work;
	unsigned int cluster;		/* pages per fault's request */
	unsigned int nr_requests;	/* outstanding data requests */
	unsigned int nr_returns;	/* returns waiting for RETURN_ACK */
	bool returns_late;		/* one timed out, none acked since */
	struct xarray requests;		/* id -> struct extpager_request */
	u32 next_request_id;
	struct list_head deadlines;	/* data requests and returns */
	struct delayed_work timeout_work;
	unsigned long timeout_at;	/* when it runs, if pending */
	/* Requests and unlocks that found the manager's receive queue full. */
	struct list_head unsent;
	struct delayed_work resend_work;
	struct list_head faults;	/* struct extpager_fault in flight */
	struct list_head sigbus;	/* struct extpager_sigbus to deliver */
	wait_queue_head_t wait;		/* ready, request slots, unlocks */
	unsigned int nr_locks;		/* lock requests in progress */
	unsigned long resident_limit;	/* pages, 0 for none */

	/*
	 * The default pager (store.c): a shmem file holding the pages whose
	 * return failed.  A page is in @held while @store has its data; the
	 * folio lock, or writeback, of the page's page-cache folio orders
	 * changes to that.
	 */
	struct file *store;		/* created on first use, under @lock */
	struct xarray held;
	atomic_long_t nr_held;
	struct list_head to_default;	/* returns to move into @store */
	struct work_struct default_work;
	struct work_struct redeliver_work;
	/* Dirty pages not written since supplied: their returns say clean. */
	struct xarray clean;
	pgoff_t clock_hand;		/* the resident limit's CLOCK */
	struct work_struct shrink_work;
	/* Pages dropped, to tell the manager about (notify_evict). */
	struct xarray evicted;
	struct work_struct evict_work;

	atomic_t mappings;
	struct extpager_stats stats;
};

static inline struct extpager_object *EXTPAGER_OBJ(struct inode *inode)
{
	return container_of(inode, struct extpager_object, vfs_inode);
}

/* Drops the reference extpager_object_get() or ihold() took. */
static inline void extpager_object_put(struct extpager_object *obj)
{
	iput(&obj->vfs_inode);
}

enum extpager_request_kind {
	EXTPAGER_REQ_DATA,		/* DATA_REQUEST: pages to supply */
	EXTPAGER_REQ_UNLOCK,		/* DATA_UNLOCK: write access to grant */
	EXTPAGER_REQ_RETURN,		/* DATA_RETURN: pages to store */
};

/*
 * Pages per DATA_RETURN: the message carries them in one attribute (at most
 * 64 KiB), and the manager receives each message whole.
 */
#define EXTPAGER_RETURN_PAGES	8

/*
 * A question to the manager, named by its id.  A data request holds the
 * locks of its folios, which are in the page cache and not uptodate: the
 * answer fills and unlocks them.  Pages are answered one run at a time;
 * folios[i] is NULL once page index + i is answered.  A return holds its
 * folios in writeback until the manager acknowledges them all.
 */
struct extpager_request {
	u32 id;
	enum extpager_request_kind kind;
	bool write;			/* the fault that caused it */
	bool clean;			/* return: no page was modified */
	bool overflow;			/* return: max_returns are in flight */
	bool behind;			/* unlock: must follow a return, on netlink */
	pgoff_t index;
	unsigned int nr;
	unsigned int pending;		/* data: folios not yet answered */
	unsigned long deadline;
	struct list_head deadline_node;
	struct list_head unsent_node;	/* in obj->unsent until delivered */
	int result;			/* unlock: 1 pending, 0 granted, -errno */
	unsigned int waiters;		/* unlock: faults waiting for it */
	struct folio *folios[];
};

/* main.c */

/* Module parameters, documented in Documentation/extpager.rst. */
extern unsigned int request_timeout_ms;
extern unsigned int return_timeout_ms;
extern unsigned int max_requests;
extern unsigned int max_returns;
extern bool unprivileged;
extern bool unprivileged_kernel_faults;
extern unsigned int max_objects_per_user;
extern unsigned long default_pager_max_pages;
extern atomic_long_t default_pager_pages;
extern unsigned int max_orphan_lifetime_ms;
extern atomic_long_t orphan_pages_dropped;

/* Every object's background work; drained before the module goes. */
extern struct workqueue_struct *extpager_wq;
extern struct workqueue_struct *extpager_default_wq;

/* channel.c */
struct file *extpager_channel_open(const struct genl_info *info,
				   unsigned int nr_tags);

/* object.c */
extern struct xarray extpager_objects;
int extpager_fs_init(void);
void extpager_fs_exit(void);
int extpager_managers_init(void);
void extpager_managers_exit(void);
int extpager_default_pager_set(const struct genl_info *info);
struct file *extpager_object_create(const struct genl_info *info, loff_t size,
				    bool anonymous, bool quota,
				    unsigned int orphan_lifetime_ms, bool read_only);
bool extpager_object_managed_by(struct extpager_object *obj,
				const struct genl_info *info);
struct extpager_object *extpager_object_get(u32 id);
void extpager_object_destroy(struct extpager_object *obj);
struct file *extpager_object_adopt(struct extpager_object *obj,
				   const struct genl_info *info, bool privileged);
void extpager_object_adopted(struct extpager_object *obj);
void extpager_object_unadopt(struct extpager_object *obj);
struct extpager_manager *extpager_manager_hold(const struct genl_info *info);
void extpager_manager_put(struct extpager_manager *mgr);

/* fault.c */
extern const struct vm_operations_struct extpager_vm_ops;
extern const struct address_space_operations extpager_aops;

/*
 * A supply's pages: inline attributes, taken in order, or a user address,
 * page n at @uaddr + n pages.
 */
struct extpager_source {
	struct genl_info *info;
	struct nlattr *attr;	/* the current inline page, or NULL */
	int rem;
	const u8 __user *uaddr;
};

int extpager_supply_request(struct extpager_object *obj, u32 id,
			    pgoff_t index, unsigned int nr,
			    struct extpager_source *src, u32 flags,
			    struct netlink_ext_ack *extack);
int extpager_prefetch(struct extpager_object *obj, pgoff_t index,
		      unsigned int nr, struct extpager_source *src,
		      u32 flags, unsigned int *skipped);
void extpager_zero_fill(struct extpager_object *obj, struct folio **folios,
			pgoff_t index, unsigned int nr, u32 id);
void extpager_free_sigbus(struct extpager_object *obj);
int extpager_unlock_reply(struct extpager_object *obj, u32 id, bool grant);
int extpager_answer_nodata(struct extpager_object *obj, u32 id, pgoff_t index,
			   unsigned int nr, int err, struct netlink_ext_ack *extack);

/* pageout.c */
void extpager_pageout_init(struct extpager_object *obj);
void extpager_pageout_exit(struct extpager_object *obj);
int extpager_lock_request(struct extpager_object *obj, u32 cookie, pgoff_t first,
			  pgoff_t last, u32 should_return, u32 flags,
			  struct netlink_ext_ack *extack);
void extpager_limit_resident(struct extpager_object *obj);
void extpager_note_eviction(struct extpager_object *obj, pgoff_t index);

/* writeback.c */
int extpager_writepages(struct address_space *mapping,
			struct writeback_control *wbc);
int extpager_return_ack(struct extpager_object *obj, u32 id, int error);

/* request.c */

/*
 * A fault in flight, registered in obj->faults while it runs, so that an
 * error on its page reaches it (see fault.c).
 */
struct extpager_fault {
	struct list_head node;
	struct task_struct *task;
	pgoff_t index;
	bool write;
	int error;
};

unsigned long extpager_timeout(void);
void extpager_object_init_requests(struct extpager_object *obj);
struct extpager_request *
extpager_request_alloc(enum extpager_request_kind kind, pgoff_t index,
		       unsigned int nr, gfp_t gfp);
struct extpager_fault *extpager_current_fault(struct extpager_object *obj);
void extpager_register_fault(struct extpager_object *obj,
			     struct extpager_fault *f);
void extpager_unregister_fault(struct extpager_object *obj,
			       struct extpager_fault *f);
int extpager_fault_error(struct extpager_object *obj, pgoff_t index);
void extpager_retire(struct extpager_object *obj,
		     struct extpager_request *req);
void extpager_set_deadline(struct extpager_object *obj,
			   struct extpager_request *req,
			   unsigned long timeout);
void extpager_return_failed(struct extpager_object *obj,
			    struct extpager_request *req, int err);
void extpager_resend_now(struct extpager_object *obj);
int extpager_deliver(struct extpager_object *obj,
		     struct extpager_request *req);
void extpager_send_again(struct extpager_object *obj, u32 id);
/*
 * How soon a message that found the manager's receive queue full is tried
 * again, in ms.
 */
#define EXTPAGER_RESEND_MS	10
bool extpager_transient(int err);
void extpager_send_init(struct extpager_object *obj);
void extpager_fail_folios(struct extpager_object *obj, struct folio **folios,
			  pgoff_t index, unsigned int nr, int err);
int extpager_claim(struct extpager_object *obj, u32 id, pgoff_t index,
		   unsigned int nr, struct folio **folios,
		   struct netlink_ext_ack *extack);
int extpager_unclaim(struct extpager_object *obj, u32 id, pgoff_t index,
		     unsigned int nr, struct folio **folios);
void extpager_claim_done(struct extpager_object *obj, u32 id);
void extpager_fail_all(struct extpager_object *obj);
void extpager_hold_requests(struct extpager_object *obj);
void extpager_free_requests(struct extpager_object *obj);

/* store.c */
void extpager_store_init(struct extpager_object *obj);
void extpager_store_exit(struct extpager_object *obj);
void extpager_discard_held(struct extpager_object *obj);
void extpager_forget_held(struct extpager_object *obj, struct folio *folio);
void extpager_to_default(struct extpager_object *obj,
			 struct extpager_request *req);
int extpager_unhold(struct extpager_object *obj, struct folio *folio);
int extpager_redeliver_range(struct extpager_object *obj, pgoff_t first,
			     pgoff_t last);
int extpager_return_range(struct extpager_object *obj, pgoff_t first,
			  pgoff_t last);
bool extpager_held_in(struct extpager_object *obj, pgoff_t first, pgoff_t last);
unsigned long extpager_nr_held(struct extpager_object *obj);
void extpager_manager_answers(struct extpager_object *obj);

/* notify.c */
int extpager_notify(struct extpager_object *obj, u8 cmd,
		    const struct extpager_request *req);
int extpager_notify_final(struct extpager_object *obj, u8 cmd,
			  const struct extpager_request *req);
int extpager_notify_lock_completed(struct extpager_object *obj, u32 cookie,
				   pgoff_t first, pgoff_t last, int error);
int extpager_channel_send(struct extpager_object *obj,
			  const struct extpager_request *req);
void extpager_complete_fetch(struct extpager_channel *ch, unsigned int t,
			     int result);
void extpager_channels_detach(struct extpager_manager *mgr);

#endif /* _EXTPAGER_H */
