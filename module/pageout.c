// SPDX-License-Identifier: GPL-2.0
/*
 * Paging data out: lock requests, the resident limit and the notices of
 * evicted pages.  The default pager, which takes the returns a manager
 * does not, is store.c's.
 */

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/errseq.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "extpager.h"
#include "genl.h"
#include "trace.h"

static void extpager_shrink_fn(struct work_struct *work);
static void extpager_evict_fn(struct work_struct *work);

void extpager_pageout_init(struct extpager_object *obj)
{
	INIT_WORK(&obj->shrink_work, extpager_shrink_fn);
	xa_init(&obj->evicted);
	INIT_WORK(&obj->evict_work, extpager_evict_fn);
}

/* The object is being evicted: its page cache is gone. */
void extpager_pageout_exit(struct extpager_object *obj)
{
	cancel_work_sync(&obj->shrink_work);
	cancel_work_sync(&obj->evict_work);
	xa_destroy(&obj->evicted);
}

/* A lock request, worked through in the background. */
struct extpager_lock {
	struct work_struct work;
	struct extpager_object *obj;	/* pinned */
	u32 cookie;
	pgoff_t first, last;
	u32 should_return;
	u32 flags;
};

/*
 * Before the returns: lock each cached page of the range against writing
 * (write-protect), and mark each unmodified one dirty and clean, to go back
 * too (should-return all).  Under the folio lock, which ->page_mkwrite()
 * tests PG_checked under; truncation may race.
 */
static void extpager_lock_pages(struct extpager_lock *lock)
{
	struct extpager_object *obj = lock->obj;
	struct address_space *mapping = obj->vfs_inode.i_mapping;
	bool all = lock->should_return == EXTPAGER_SHOULD_RETURN_ALL;
	bool protect = lock->flags & EXTPAGER_LOCK_FLAGS_WRITE_PROTECT;
	struct folio_batch fbatch;
	pgoff_t index = lock->first;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, lock->last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			folio_lock(folio);
			if (folio->mapping != mapping)
				goto unlock;
			if (protect)
				folio_set_checked(folio);
			/* Held pages are not the manager's data: not clean. */
			if (all && folio_test_uptodate(folio) &&
			    !folio_test_dirty(folio) && !folio_test_writeback(folio) &&
			    !xa_load(&obj->held, folio->index) &&
			    !xa_is_err(xa_store(&obj->clean, folio->index,
						xa_mk_value(1), GFP_KERNEL)))
				folio_mark_dirty(folio);
unlock:
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	/* Writable PTEs go: the next write faults into ->page_mkwrite(). */
	if (protect)
		unmap_mapping_pages(mapping, lock->first,
				    lock->last - lock->first + 1, false);
}

static void extpager_lock_fn(struct work_struct *work)
{
	struct extpager_lock *lock = container_of(work, struct extpager_lock, work);
	struct extpager_object *obj = lock->obj;
	struct address_space *mapping = obj->vfs_inode.i_mapping;
	unsigned long deadline;
	int err = 0, ret;

	if ((lock->flags & EXTPAGER_LOCK_FLAGS_WRITE_PROTECT) ||
	    lock->should_return == EXTPAGER_SHOULD_RETURN_ALL)
		extpager_lock_pages(lock);
	if (lock->should_return != EXTPAGER_SHOULD_RETURN_NONE) {
		/*
		 * Only the failures of this request's returns are its own:
		 * errors from before, seen or not, are not (a raw sample).
		 */
		errseq_t since = READ_ONCE(mapping->wb_err);

		ret = extpager_return_range(obj, lock->first, lock->last);
		err = errseq_check(&mapping->wb_err, since) ?: ret;
	}
	if (lock->flags & EXTPAGER_LOCK_FLAGS_FLUSH) {
		/* -EBUSY: dirty pages stayed, as they must; not an error. */
		ret = invalidate_inode_pages2_range(mapping, lock->first, lock->last);
		if (ret != -EBUSY)
			err = err ?: ret;
	}

	/*
	 * The manager waits for LOCK_COMPLETED: like a request, it waits for
	 * room in a full receive queue (the returns it caused fill it),
	 * request_timeout_ms at most.
	 */
	deadline = jiffies + extpager_timeout();
	for (;;) {
		mutex_lock(&obj->lock);
		ret = extpager_notify_lock_completed(obj, lock->cookie, lock->first,
						     lock->last, err);
		mutex_unlock(&obj->lock);
		if (!extpager_transient(ret) || time_after(jiffies, deadline))
			break;
		msleep(EXTPAGER_RESEND_MS);
	}
	mutex_lock(&obj->lock);
	obj->nr_locks--;
	mutex_unlock(&obj->lock);
	extpager_object_put(obj);
	kfree(lock);
}

/*
 * LOCK_REQUEST over pages [first, last].  It runs in a worker: its returns
 * must be acknowledged by the very manager that sent it, which is waiting
 * for this handler to finish.  At most max_requests per object at a time.
 */
int extpager_lock_request(struct extpager_object *obj, u32 cookie, pgoff_t first,
			  pgoff_t last, u32 should_return, u32 flags,
			  struct netlink_ext_ack *extack)
{
	struct extpager_lock *lock;

	lock = kmalloc(sizeof(*lock), GFP_KERNEL);
	if (!lock)
		return -ENOMEM;
	mutex_lock(&obj->lock);
	if (obj->nr_locks >= READ_ONCE(max_requests)) {
		mutex_unlock(&obj->lock);
		kfree(lock);
		NL_SET_ERR_MSG(extack, "max_requests lock requests are in progress already");
		return -EBUSY;
	}
	obj->nr_locks++;
	mutex_unlock(&obj->lock);

	ihold(&obj->vfs_inode);
	INIT_WORK(&lock->work, extpager_lock_fn);
	lock->obj = obj;
	lock->cookie = cookie;
	lock->first = first;
	lock->last = last;
	lock->should_return = should_return;
	lock->flags = flags;
	queue_work(extpager_wq, &lock->work);
	return 0;
}

/*
 * Whether the CLOCK hand gives @folio a second chance: it was faulted on or
 * written since the hand last passed (or, on 7.2 with MGLRU, added to the
 * page cache in a fault: folio_add_lru() marks those accessed).  Its
 * mappings go, so that the next access faults and marks it again.  Zapping
 * a young PTE marks the folio accessed: that is the unmap, not an access,
 * so the mark is cleared after it, else no folio that was mapped would ever
 * be evicted.
 */
static bool extpager_second_chance(struct address_space *mapping,
				   struct folio *folio)
{
	if (!folio_test_clear_referenced(folio))
		return false;
	unmap_mapping_pages(mapping, folio->index, 1, false);
	folio_clear_referenced(folio);
	return true;
}

/* Start returning dirty pages [index, index + nr). */
static void extpager_write_run(struct address_space *mapping, pgoff_t index,
			       unsigned long nr)
{
	filemap_fdatawrite_range(mapping, (loff_t)index << PAGE_SHIFT,
				 ((loff_t)(index + nr) << PAGE_SHIFT) - 1);
}

/*
 * Evict down to the resident limit in second-chance (CLOCK) order, as the
 * Mach pageout daemon does: clean pages are dropped, dirty ones returned
 * (and dropped on a later pass, once acknowledged).  Two sweeps at most.
 */
static void extpager_shrink_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(work, struct extpager_object,
						   shrink_work);
	struct address_space *mapping = obj->vfs_inode.i_mapping;
	unsigned long limit = READ_ONCE(obj->resident_limit);
	unsigned long budget = 2 * mapping->nrpages;
	pgoff_t index = obj->clock_hand, dirty = 0;
	unsigned long nr_dirty = 0;
	struct folio_batch fbatch;
	bool wrapped = false;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (limit && mapping->nrpages > limit && budget) {
		if (!filemap_get_folios(mapping, &index, ULONG_MAX, &fbatch)) {
			if (wrapped)
				break;
			wrapped = true;
			index = 0;
			continue;
		}
		for (i = 0; i < folio_batch_count(&fbatch) && budget; i++, budget--) {
			struct folio *folio = fbatch.folios[i];

			obj->clock_hand = folio->index + 1;
			if (mapping->nrpages <= limit)
				break;
			if (extpager_second_chance(mapping, folio))
				continue;
			if (folio_test_dirty(folio)) {
				/* Returned as contiguous runs where they are. */
				if (nr_dirty && folio->index != dirty + nr_dirty) {
					extpager_write_run(mapping, dirty, nr_dirty);
					nr_dirty = 0;
				}
				if (!nr_dirty)
					dirty = folio->index;
				nr_dirty++;
				continue;
			}
			if (!folio_test_writeback(folio))
				invalidate_inode_pages2_range(mapping, folio->index,
							      folio->index);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	if (nr_dirty)
		extpager_write_run(mapping, dirty, nr_dirty);
}

/* Pages were added: enforce the object's resident limit, if it has one. */
void extpager_limit_resident(struct extpager_object *obj)
{
	unsigned long limit = READ_ONCE(obj->resident_limit);

	if (limit && obj->vfs_inode.i_mapping->nrpages > limit)
		queue_work(extpager_wq, &obj->shrink_work);
}

/*
 * Reclaim or an invalidation is dropping clean page @index, which had the
 * manager's notify_evict when it was supplied.  This runs where memory may
 * be short and locks are held: note the page without sleeping (a notice
 * that cannot be noted is lost: it is only a notice) and tell the manager
 * from a worker.
 */
void extpager_note_eviction(struct extpager_object *obj, pgoff_t index)
{
	if (xa_is_err(xa_store(&obj->evicted, index, xa_mk_value(1),
			       GFP_NOWAIT | __GFP_NOWARN)))
		return;
	queue_work(extpager_wq, &obj->evict_work);
}

/* DATA_EVICTED, one message per run of contiguous dropped pages. */
static void extpager_evict_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(work, struct extpager_object,
						   evict_work);
	struct extpager_request run = { .kind = EXTPAGER_REQ_DATA };
	unsigned long index;
	void *entry;

	mutex_lock(&obj->lock);
	xa_for_each(&obj->evicted, index, entry) {
		xa_erase(&obj->evicted, index);
		if (run.nr && index == run.index + run.nr &&
		    run.nr < EXTPAGER_MAX_RUN) {
			run.nr++;
			continue;
		}
		if (run.nr)
			extpager_notify(obj, EXTPAGER_CMD_DATA_EVICTED, &run);
		run.index = index;
		run.nr = 1;
	}
	if (run.nr)
		extpager_notify(obj, EXTPAGER_CMD_DATA_EVICTED, &run);
	mutex_unlock(&obj->lock);
}
