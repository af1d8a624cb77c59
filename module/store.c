// SPDX-License-Identifier: GPL-2.0
/*
 * The default pager is what keeps a slow or dead manager from holding
 * memory hostage or losing data.  A return the manager does not acknowledge
 * in time, that cannot be sent, or whose manager is gone moves its pages
 * into a shmem file of the object's own, the store: the page-cache folios
 * become clean and reclaimable, and the store's pages can go to swap.  A
 * fault on a held page is served from the store, and the page is dirty
 * again; when a manager answers again (or adopts the object), the held
 * pages are brought back the same way and written back to it.  Held pages
 * are still the manager's data: nothing here ever drops them, except
 * OBJECT_DESTROY.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "extpager.h"
#include "genl.h"

/* Pages redelivered between two waits for their returns. */
#define EXTPAGER_REDELIVER_BATCH	EXTPAGER_MAX_RUN

/* Passes of extpager_return_range() before it gives up on held pages. */
#define EXTPAGER_RETURN_PASSES		8

static void extpager_default_fn(struct work_struct *work);
static void extpager_redeliver_fn(struct work_struct *work);

void extpager_store_init(struct extpager_object *obj)
{
	xa_init(&obj->held);
	xa_init(&obj->clean);
	INIT_LIST_HEAD(&obj->to_default);
	INIT_WORK(&obj->default_work, extpager_default_fn);
	INIT_WORK(&obj->redeliver_work, extpager_redeliver_fn);
}

/* The object is being evicted: its page cache is gone, and so is @held's use. */
void extpager_store_exit(struct extpager_object *obj)
{
	cancel_work_sync(&obj->redeliver_work);
	flush_work(&obj->default_work);
	extpager_discard_held(obj);
	xa_destroy(&obj->clean);
	if (obj->store)
		fput(obj->store);
	obj->store = NULL;
}

/* Drop everything the default pager holds for @obj (OBJECT_DESTROY). */
void extpager_discard_held(struct extpager_object *obj)
{
	unsigned long n = 0, index;
	void *entry;

	xa_for_each(&obj->held, index, entry)
		if (xa_erase(&obj->held, index))
			n++;
	atomic_long_sub(n, &default_pager_pages);
	atomic_long_sub(n, &obj->nr_held);
	if (n && obj->store)
		shmem_truncate_range(file_inode(obj->store), 0, -1);
}

/* Forget the store's copy of page @index.  Under its folio lock. */
static void extpager_drop_held(struct extpager_object *obj, pgoff_t index)
{
	loff_t pos = (loff_t)index << PAGE_SHIFT;

	xa_erase(&obj->held, index);
	shmem_truncate_range(file_inode(obj->store), pos, pos + PAGE_SIZE - 1);
	atomic_long_dec(&default_pager_pages);
	atomic_long_dec(&obj->nr_held);
}

/*
 * Locked @folio is about to be modified: the default pager's copy of it,
 * if any, is stale from now on.  A hold in progress ends with writeback.
 */
void extpager_forget_held(struct extpager_object *obj, struct folio *folio)
{
	if (!xa_load(&obj->held, folio->index))
		return;
	folio_wait_writeback(folio);
	if (xa_load(&obj->held, folio->index))
		extpager_drop_held(obj, folio->index);
}

static struct file *extpager_store(struct extpager_object *obj)
{
	struct file *store;

	mutex_lock(&obj->lock);
	store = obj->store;
	mutex_unlock(&obj->lock);
	if (store)
		return store;
	/* Sized as the object; NORESERVE: pages are charged as written. */
	store = shmem_kernel_file_setup("extpager-default",
					i_size_read(&obj->vfs_inode),
					mk_vma_flags(VMA_NORESERVE_BIT));
	if (IS_ERR(store))
		return store;
	store->f_flags |= O_LARGEFILE;	/* objects may be larger than 2 GiB */
	mutex_lock(&obj->lock);
	if (!obj->store) {
		obj->store = store;
		store = NULL;
	}
	mutex_unlock(&obj->lock);
	if (store)
		fput(store);
	return obj->store;
}

/*
 * Copy return @req's pages into the store and end their writeback: they are
 * clean in the page cache, and held.  A page the store cannot take (its
 * limit, no memory) stays dirty, and fsync reports it.
 */
static void extpager_hold(struct extpager_object *obj,
			  struct extpager_request *req)
{
	struct bio_vec bvec[EXTPAGER_RETURN_PAGES];
	loff_t pos = (loff_t)req->index << PAGE_SHIFT;
	unsigned int i, stored = 0, failed = 0;
	struct iov_iter iter;
	struct file *store;
	ssize_t ret = -ENOSPC;

	if (atomic_long_add_return(req->nr, &default_pager_pages) >
	    READ_ONCE(default_pager_max_pages))
		goto out;
	store = extpager_store(obj);
	if (IS_ERR(store)) {
		ret = PTR_ERR(store);
		goto out;
	}
	for (i = 0; i < req->nr; i++)
		bvec_set_folio(&bvec[i], req->folios[i], PAGE_SIZE, 0);
	iov_iter_bvec(&iter, ITER_SOURCE, bvec, req->nr, req->nr * PAGE_SIZE);
	ret = vfs_iter_write(store, &iter, &pos, 0);
	if (ret > 0)
		stored = ret >> PAGE_SHIFT;
out:
	atomic_long_sub(req->nr - stored, &default_pager_pages);
	for (i = 0; i < req->nr; i++) {
		struct folio *folio = req->folios[i];
		void *old = NULL;

		/* Still under writeback: no fault or redelivery can race. */
		if (i < stored)
			old = xa_store(&obj->held, folio->index, xa_mk_value(1),
				       GFP_KERNEL);
		if (i < stored && !xa_is_err(old)) {
			if (old)	/* held before: counted once */
				atomic_long_dec(&default_pager_pages);
			else
				atomic_long_inc(&obj->nr_held);
			xa_erase(&obj->clean, folio->index);
			atomic_long_inc(&obj->stats.defaulted);
		} else {
			if (i < stored)
				atomic_long_dec(&default_pager_pages);
			folio_mark_dirty(folio);
			atomic_long_inc(&obj->stats.default_failures);
			failed++;
		}
	}
	/* Before writeback ends: an fsync waiting for it must see the error. */
	if (failed) {
		pr_warn_ratelimited("object %u: the default pager could not take %u dirty pages (%zd): they stay in memory\n",
				    obj->id, failed, ret < 0 ? ret : -ENOSPC);
		mapping_set_error(obj->vfs_inode.i_mapping, -ENOSPC);
	}
	for (i = 0; i < req->nr; i++)
		folio_end_writeback(req->folios[i]);
}

static void extpager_default_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(work, struct extpager_object,
						   default_work);
	struct extpager_request *req, *tmp;
	LIST_HEAD(list);

	mutex_lock(&obj->lock);
	list_splice_init(&obj->to_default, &list);
	mutex_unlock(&obj->lock);
	list_for_each_entry_safe(req, tmp, &list, deadline_node) {
		list_del(&req->deadline_node);
		extpager_hold(obj, req);
		kfree(req);
	}
}

/*
 * Hand return @req, whose folios are in writeback, to the default pager.
 * Writing to shmem allocates and may sleep long: it happens in a worker,
 * never in the writeback or reclaim that sent the return.  No error is
 * recorded: fsync redelivers held pages, and fails only if they stay held.
 * Consumes @req.
 */
void extpager_to_default(struct extpager_object *obj,
			 struct extpager_request *req)
{
	mutex_lock(&obj->lock);
	list_add_tail(&req->deadline_node, &obj->to_default);
	mutex_unlock(&obj->lock);
	queue_work(extpager_default_wq, &obj->default_work);
}

/*
 * If the default pager holds locked @folio's page, fill the folio from it
 * and drop the store's copy: the page is dirty again, to be returned.
 * Returns 1 if it did, 0 if the page is not held, or -errno.
 */
int extpager_unhold(struct extpager_object *obj, struct folio *folio)
{
	loff_t pos = (loff_t)folio->index << PAGE_SHIFT;
	struct iov_iter iter;
	struct bio_vec bvec;
	struct file *store;
	ssize_t ret;

	if (!xa_load(&obj->held, folio->index))
		return 0;
	mutex_lock(&obj->lock);
	store = obj->store;	/* set before any page was held */
	mutex_unlock(&obj->lock);
	bvec_set_folio(&bvec, folio, PAGE_SIZE, 0);
	iov_iter_bvec(&iter, ITER_DEST, &bvec, 1, PAGE_SIZE);
	ret = vfs_iter_read(store, &iter, &pos, 0);
	if (ret != PAGE_SIZE)
		return ret < 0 ? ret : -EIO;
	folio_mark_uptodate(folio);
	folio_mark_dirty(folio);
	extpager_drop_held(obj, folio->index);
	return 1;
}

/*
 * Bring the held pages in [first, last] back into the page cache, dirty,
 * and return them, a batch at a time so that memory use stays bounded.
 * Each batch waits for its returns (return_timeout_ms at most: a return
 * that fails goes back to the default pager).  Returns the first error.
 */
int extpager_redeliver_range(struct extpager_object *obj, pgoff_t first,
			     pgoff_t last)
{
	struct address_space *mapping = obj->vfs_inode.i_mapping;
	pgoff_t index = first, at, done;
	unsigned int n;
	void *entry;
	int err = 0, ret = 0;

	while (index <= last && !err) {
		n = 0;
		xa_for_each_range(&obj->held, at, entry, index, last) {
			struct folio *folio;

			/* Against OBJECT_DESTROY's truncation, as prefetch. */
			filemap_invalidate_lock_shared(mapping);
			if (READ_ONCE(obj->destroyed))
				folio = ERR_PTR(-ENOENT);
			else
				folio = filemap_grab_folio(mapping, at);
			filemap_invalidate_unlock_shared(mapping);
			if (IS_ERR(folio)) {
				ret = PTR_ERR(folio);
				break;
			}
			/* A return in flight may be about to hold the page. */
			folio_wait_writeback(folio);
			if (!xa_load(&obj->held, at)) {
				ret = 0;	/* a fault took it meanwhile */
			} else if (folio_test_uptodate(folio)) {
				/* Written since it was held: the store's copy is stale. */
				extpager_drop_held(obj, at);
				xa_erase(&obj->clean, at);
				folio_mark_dirty(folio);
				ret = 1;
			} else {
				ret = extpager_unhold(obj, folio);
			}
			folio_unlock(folio);
			folio_put(folio);
			if (ret < 0)
				break;
			atomic_long_add(ret, &obj->stats.redelivered);
			done = at;
			if (++n == EXTPAGER_REDELIVER_BATCH)
				break;
		}
		err = min(ret, 0);
		if (!n)
			break;
		ret = filemap_write_and_wait_range(mapping, (loff_t)index << PAGE_SHIFT,
						   ((loff_t)done << PAGE_SHIFT) + PAGE_SIZE - 1);
		err = err ?: ret;
		if (done == ULONG_MAX)
			break;
		index = done + 1;
	}
	return err;
}

/*
 * Return every dirty page in [first, last], those the default pager holds
 * included, and wait for the acknowledgements: fsync and lock requests.
 * Background writeback of the pages brought back may find the manager's
 * slots full and hand some to the default pager again meanwhile, so a few
 * passes.  -EIO if pages stay held (the manager does not answer).
 */
int extpager_return_range(struct extpager_object *obj, pgoff_t first,
			  pgoff_t last)
{
	struct address_space *mapping = obj->vfs_inode.i_mapping;
	loff_t start = (loff_t)first << PAGE_SHIFT;
	loff_t end = last >= (LLONG_MAX >> PAGE_SHIFT) ? LLONG_MAX :
		     ((loff_t)last << PAGE_SHIFT) + PAGE_SIZE - 1;
	int pass;

	for (pass = 0; pass < EXTPAGER_RETURN_PASSES; pass++) {
		extpager_redeliver_range(obj, first, last);
		filemap_fdatawrite_range(mapping, start, end);
		filemap_fdatawait_range_keep_errors(mapping, start, end);
		if (!extpager_held_in(obj, first, last))
			return 0;
	}
	return -EIO;
}

/* Whether the default pager holds a page in [first, last]. */
bool extpager_held_in(struct extpager_object *obj, pgoff_t first, pgoff_t last)
{
	return xa_find(&obj->held, &first, last, XA_PRESENT);
}

unsigned long extpager_nr_held(struct extpager_object *obj)
{
	return atomic_long_read(&obj->nr_held);
}

/* The manager answered: if the default pager holds pages, return them. */
void extpager_manager_answers(struct extpager_object *obj)
{
	if (atomic_long_read(&obj->nr_held) && READ_ONCE(obj->manager))
		queue_work(extpager_wq, &obj->redeliver_work);
}

/* A manager answers again, or adopted the object: return what is held. */
static void extpager_redeliver_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(work, struct extpager_object,
						   redeliver_work);

	extpager_redeliver_range(obj, 0, ULONG_MAX);
	filemap_fdatawrite(obj->vfs_inode.i_mapping);
}
