// SPDX-License-Identifier: GPL-2.0
/*
 * The fault path.  Faults go through filemap_fault(), whose readahead and
 * read_folio ask the manager for the pages (DATA_REQUEST) and return with
 * the folios locked; the manager's answer fills and unlocks them.  So
 * filemap_fault() waits for userspace without mmap_lock (it drops it and
 * retries), and the folio lock is Mach's busy page: any number of faults on
 * one page wait for one request.  A one-page request takes a shorter way
 * of the same kind (extpager_fault_missing()).
 *
 * Errors are one-shot, as Mach's data_error: they reach the faults waiting
 * when they come and not later ones.  Each fault is registered in
 * obj->faults while it runs; an error marks the registered faults on its
 * pages, and a marked fault's read_folio fails at once instead of asking
 * again.  filemap_fault() then returns VM_FAULT_RETRY with mmap_lock
 * dropped, so the SIGBUS is owed (obj->sigbus) and paid on the retry.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/genetlink.h>

#include "extpager.h"
#include "genl.h"
#include "trace.h"

/* A SIGBUS owed to a fault that filemap_fault() is retrying. */
struct extpager_sigbus {
	struct list_head node;
	struct task_struct *task;
	pgoff_t index;
	unsigned long expires;	/* if the task never retries */
};

/* No manager, and none to wait for: an orphan nobody may recover. */
static bool extpager_unmanaged(struct extpager_object *obj)
{
	return !READ_ONCE(obj->manager) && !READ_ONCE(obj->orphaned);
}

static bool extpager_may_ask(struct extpager_object *obj)
{
	return extpager_unmanaged(obj) ||
	       (READ_ONCE(obj->ready) &&
		READ_ONCE(obj->nr_requests) < READ_ONCE(max_requests));
}

/*
 * Send data request @req, once the manager is ready and the object has a
 * request slot free: both waits are bounded by request_timeout_ms.  On
 * failure the request's folios are failed.  Consumes @req; but with
 * @nowait, if it would wait, returns -EAGAIN and leaves @req alone.
 */
static int extpager_ask(struct extpager_object *obj,
			struct extpager_request *req, bool nowait)
{
	unsigned long deadline = jiffies + extpager_timeout();
	struct extpager_fault *f;
	long left;
	int err;

	/* The kernel's default pager had none of these pages: they are zeros. */
	if (obj->internal) {
		extpager_zero_fill(obj, req->folios, req->index, req->nr, 0);
		kfree(req);
		return 0;
	}

	for (;;) {
		mutex_lock(&obj->lock);
		if (extpager_unmanaged(obj)) {
			err = -EIO;
			goto unlock_fail;
		}
		if (obj->manager && obj->ready &&
		    obj->nr_requests < READ_ONCE(max_requests))
			break;
		mutex_unlock(&obj->lock);
		if (nowait)
			return -EAGAIN;
		left = wait_event_killable_timeout(obj->wait, extpager_may_ask(obj),
						   max_t(long, deadline - jiffies, 1));
		if (left <= 0) {
			err = left ? -EINTR : -ETIMEDOUT;
			goto fail;
		}
	}

	err = xa_alloc_cyclic(&obj->requests, &req->id, req, xa_limit_32b,
			      &obj->next_request_id, GFP_KERNEL);
	if (err < 0)
		goto unlock_fail;
	f = extpager_current_fault(obj);
	req->write = f && f->write;
	extpager_set_deadline(obj, req, extpager_timeout());
	obj->nr_requests++;

	err = extpager_deliver(obj, req);
	if (err) {
		extpager_retire(obj, req);
		goto unlock_fail;
	}
	atomic_long_inc(&obj->stats.requests);
	atomic_long_add(req->nr, &obj->stats.requested_pages);
	trace_extpager_request(obj->id, req->id, req->index, req->nr,
			       req->write ? EXTPAGER_ACCESS_WRITE : EXTPAGER_ACCESS_READ);
	mutex_unlock(&obj->lock);
	return 0;

unlock_fail:
	mutex_unlock(&obj->lock);
fail:
	atomic_long_add(req->nr, &obj->stats.errors);
	trace_extpager_error(obj->id, req->id, req->index, req->nr, err);
	extpager_fail_folios(obj, req->folios, req->index, req->nr, err);
	kfree(req);
	return 0;
}

/*
 * Fill locked @folio from the default pager if it holds the page; then the
 * folio is unlocked, or failed, and true returned.
 */
static bool extpager_from_default(struct extpager_object *obj,
				  struct folio *folio)
{
	int ret = extpager_unhold(obj, folio);

	if (!ret)
		return false;
	if (ret > 0) {
		atomic_long_inc(&obj->stats.default_faults);
		folio_unlock(folio);
	} else {
		extpager_fail_folios(obj, &folio, folio->index, 1, ret);
	}
	return true;
}

/*
 * Ask for the readahead window in runs of at most EXTPAGER_MAX_RUN pages;
 * a page the default pager holds is filled from it and ends a run.
 */
static void extpager_readahead(struct readahead_control *ractl)
{
	struct extpager_object *obj = EXTPAGER_OBJ(ractl->mapping->host);
	struct extpager_request *req = NULL;
	struct folio *folio;
	unsigned int room = 0;

	while ((folio = readahead_folio(ractl))) {
		if (extpager_from_default(obj, folio)) {
			if (req)
				extpager_ask(obj, req, false);
			req = NULL;
			continue;
		}
		if (!req) {
			/* readahead_count() still counts @folio. */
			room = min_t(unsigned int, readahead_count(ractl),
				     EXTPAGER_MAX_RUN);
			req = extpager_request_alloc(EXTPAGER_REQ_DATA, folio->index,
						     room, GFP_KERNEL);
			if (!req) {
				/* Left locked and not uptodate: read_folio() asks. */
				folio_unlock(folio);
				continue;
			}
			req->nr = 0;
			req->pending = 0;
		}
		req->folios[req->nr++] = folio;
		req->pending++;
		if (req->nr == room) {
			extpager_ask(obj, req, false);
			req = NULL;
		}
	}
	if (req)
		extpager_ask(obj, req, false);
}

static int extpager_read_folio(struct file *file, struct folio *folio)
{
	struct extpager_object *obj = EXTPAGER_OBJ(folio->mapping->host);
	struct extpager_request *req;
	int err;

	/* A fault an error has reached fails instead of asking again. */
	err = extpager_fault_error(obj, folio->index);
	if (err) {
		folio_unlock(folio);
		return err;
	}
	if (extpager_from_default(obj, folio))
		return 0;

	req = extpager_request_alloc(EXTPAGER_REQ_DATA, folio->index, 1, GFP_KERNEL);
	if (!req) {
		folio_unlock(folio);
		return -ENOMEM;
	}
	req->folios[0] = folio;
	extpager_ask(obj, req, false);
	return 0;
}

/*
 * Copy one page of a supply into @folio, from an inline attribute or from
 * the sender's memory.  With @atomic, page faults are disabled (the caller
 * holds folio locks, and the source may be a mapping of this very object):
 * the caller faults the source in first.
 */
static int extpager_copy_page(struct folio *folio, const struct nlattr *attr,
			      const void __user *uaddr, bool atomic)
{
	void *dst = kmap_local_folio(folio, 0);
	unsigned long left = 0;

	if (attr) {
		memcpy(dst, nla_data(attr), PAGE_SIZE);
	} else if (atomic) {
		pagefault_disable();
		left = __copy_from_user_inatomic(dst, uaddr, PAGE_SIZE);
		pagefault_enable();
	} else {
		left = copy_from_user(dst, uaddr, PAGE_SIZE);
	}
	kunmap_local(dst);
	flush_dcache_folio(folio);
	return left ? -EFAULT : 0;
}

/*
 * @folio, locked, is filled: make it uptodate with the supply's flags.  A
 * precious page is dirty at once, so that it is returned before it can be
 * dropped, and its return says it is clean; but a read-only object's
 * manager takes nothing back, so there it is an ordinary page.
 */
static void extpager_supplied(struct extpager_object *obj, struct folio *folio,
			      u32 flags)
{
	if (flags & EXTPAGER_SUPPLY_FLAGS_READONLY)
		folio_set_checked(folio);
	/* Private: reclaim asks ->release_folio() before it drops the page. */
	if (READ_ONCE(obj->notify_evict) && !folio_test_private(folio))
		folio_attach_private(folio, obj);
	folio_mark_uptodate(folio);
	if ((flags & EXTPAGER_SUPPLY_FLAGS_PRECIOUS) && !obj->read_only &&
	    !xa_is_err(xa_store(&obj->clean, folio->index, xa_mk_value(1),
				GFP_KERNEL)))
		folio_mark_dirty(folio);
	folio_unlock(folio);
}

static const struct nlattr *extpager_next_inline(struct extpager_source *src)
{
	struct nlattr *attr;

	if (!src->attr) {
		src->attr = genlmsg_data(src->info->genlhdr);
		src->rem = genlmsg_len(src->info->genlhdr);
	} else {
		src->attr = nla_next(src->attr, &src->rem);
	}
	for (attr = src->attr; nla_ok(attr, src->rem); attr = nla_next(attr, &src->rem))
		if (nla_type(attr) == EXTPAGER_A_OBJECT_DATA)
			return src->attr = attr;
	return NULL;
}

/* Page @n of the source into @folio; inline pages are taken in order. */
static int extpager_copy_nth(struct extpager_source *src, unsigned int n,
			     struct folio *folio, bool atomic)
{
	if (src->uaddr)
		return extpager_copy_page(folio, NULL, src->uaddr + ((size_t)n << PAGE_SHIFT),
					  atomic);
	return extpager_copy_page(folio, extpager_next_inline(src), NULL, atomic);
}

/*
 * Runs of up to this many pages claim their folios into an array on the
 * stack: a one-page answer, the common one, allocates nothing.
 */
#define EXTPAGER_STACK_RUN	8

static struct folio **extpager_folio_array(unsigned int nr, struct folio **stack)
{
	return nr <= EXTPAGER_STACK_RUN ? stack : kcalloc(nr, sizeof(*stack), GFP_KERNEL);
}

static void extpager_folio_array_free(struct folio **folios, struct folio **stack)
{
	if (folios != stack)
		kfree(folios);
}

/*
 * Answer request @id with the supply's pages; see extpager_claim().  The
 * source was faulted in, but a page of it may have been reclaimed, swapped
 * out or migrated since, and the copy into the locked folios runs with page
 * faults disabled: no fault may wait for a folio lock held here.  When it
 * fails, as userfaultfd's UFFDIO_COPY does, give the pages back to the
 * request, copy that source page with faults enabled into a page of our
 * own, and claim the rest again.  A source that has really gone (unmapped
 * meanwhile) leaves what is not yet supplied pending.
 */
int extpager_supply_request(struct extpager_object *obj, u32 id,
			    pgoff_t index, unsigned int nr,
			    struct extpager_source *src, u32 flags,
			    struct netlink_ext_ack *extack)
{
	struct folio *stack[EXTPAGER_STACK_RUN], **folios;
	unsigned int done = 0, bounced = UINT_MAX, i;
	struct folio *bounce = NULL;
	int err;

	folios = extpager_folio_array(nr, stack);
	if (!folios)
		return -ENOMEM;
	for (;;) {
		err = extpager_claim(obj, id, index + done, nr - done, folios, extack);
		if (err)
			break;
		for (i = 0; done < nr; i++, done++) {
			if (done == bounced) {
				copy_highpage(folio_page(folios[i], 0), folio_page(bounce, 0));
				flush_dcache_folio(folios[i]);
			} else if (extpager_copy_nth(src, done, folios[i], true)) {
				break;
			}
			extpager_supplied(obj, folios[i], flags);
		}
		if (done == nr)
			break;
		if (extpager_unclaim(obj, id, index + done, nr - done, folios + i)) {
			/* Timed out, or failed with the object, meanwhile. */
			err = -ETIMEDOUT;
			atomic_long_add(nr - done, &obj->stats.errors);
			extpager_fail_folios(obj, folios + i, index + done, nr - done, err);
			break;
		}
		if (!bounce)
			bounce = folio_alloc(GFP_KERNEL, 0);
		err = -ENOMEM;
		if (!bounce)
			break;
		err = extpager_copy_nth(src, done, bounce, false);
		if (err) {
			NL_SET_ERR_MSG(extack, "data-addr became unreadable during the supply");
			break;
		}
		bounced = done;
	}
	if (bounce)
		folio_put(bounce);
	extpager_claim_done(obj, id);
	atomic_long_add(done, &obj->stats.supplies);
	trace_extpager_supply(obj->id, id, index, done, 0);
	extpager_folio_array_free(folios, stack);
	return err;
}

/* An unsolicited supply: prefetch, leaving cached pages alone. */
int extpager_prefetch(struct extpager_object *obj, pgoff_t index,
		      unsigned int nr, struct extpager_source *src,
		      u32 flags, unsigned int *skipped)
{
	struct inode *inode = &obj->vfs_inode;
	struct address_space *mapping = inode->i_mapping;
	gfp_t gfp = mapping_gfp_mask(mapping);
	unsigned int i, supplied = 0;
	struct folio *folio;
	int err = 0;

	for (i = 0; i < nr; i++) {
		folio = filemap_get_folio(mapping, index + i);
		if (!IS_ERR(folio)) {
			folio_put(folio);
			if (!src->uaddr)
				extpager_next_inline(src);
			(*skipped)++;
			continue;
		}
		folio = filemap_alloc_folio(gfp, 0, NULL);
		if (!folio) {
			err = -ENOMEM;
			break;
		}
		err = extpager_copy_nth(src, i, folio, false);
		if (err) {
			folio_put(folio);
			break;
		}
		/* Against truncation by OBJECT_DESTROY. */
		filemap_invalidate_lock_shared(mapping);
		if (index + i < DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE))
			err = filemap_add_folio(mapping, folio, index + i, gfp);
		else
			err = -EEXIST;
		filemap_invalidate_unlock_shared(mapping);
		if (!err && extpager_unhold(obj, folio)) {
			/* The default pager's copy is newer than the manager's. */
			folio_unlock(folio);
			(*skipped)++;
		} else if (!err) {
			extpager_supplied(obj, folio, flags);
			supplied++;
		} else if (err == -EEXIST) {
			(*skipped)++;
			err = 0;
		}
		folio_put(folio);
		if (err)
			break;
	}
	atomic_long_add(supplied, &obj->stats.supplies);
	trace_extpager_supply(obj->id, 0, index, supplied, 0);
	return err;
}

/*
 * Fill @folios, locked, pages [index, index + nr) of request @id, with
 * zeros: the manager has no data for them (or, for an object of the
 * kernel's default pager, nobody ever wrote them).
 */
void extpager_zero_fill(struct extpager_object *obj, struct folio **folios,
			pgoff_t index, unsigned int nr, u32 id)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		folio_zero_range(folios[i], 0, PAGE_SIZE);
		extpager_supplied(obj, folios[i], 0);
	}
	atomic_long_add(nr, &obj->stats.zero_fills);
	trace_extpager_zero_fill(obj->id, id, index, nr, 0);
}

/*
 * Answer pages [index, index + nr) of request @id without data: with zeros
 * if @err is 0 (data-unavailable), else by failing them with @err
 * (data-error).  Fails, changing nothing, as extpager_claim().
 */
int extpager_answer_nodata(struct extpager_object *obj, u32 id, pgoff_t index,
			   unsigned int nr, int err, struct netlink_ext_ack *extack)
{
	struct folio *stack[EXTPAGER_STACK_RUN], **folios;
	int ret;

	folios = extpager_folio_array(nr, stack);
	if (!folios)
		return -ENOMEM;
	ret = extpager_claim(obj, id, index, nr, folios, extack);
	if (ret)
		goto out;
	extpager_claim_done(obj, id);
	if (err) {
		atomic_long_add(nr, &obj->stats.errors);
		trace_extpager_error(obj->id, id, index, nr, err);
		extpager_fail_folios(obj, folios, index, nr, err);
	} else {
		extpager_zero_fill(obj, folios, index, nr, id);
	}
out:
	extpager_folio_array_free(folios, stack);
	return ret;
}

/*
 * DATA_UNLOCK: a write hit a page the manager supplied read-only
 * (PG_checked).  Ask once per folio; every writer waits for the answer,
 * for at most request_timeout_ms.  ->page_mkwrite has no retry path, so
 * this wait holds the mmap or VMA lock, as FUSE's does.
 *
 * The request names the folio that asked, not its index: a lock request
 * can flush that folio while its writers wait (they hold no folio lock),
 * and a new read-only copy can take its place, which a late grant must
 * not make writable behind the manager's back.  folios[0] stays valid
 * while the request is in obj->requests: it is there only while it has
 * waiters, and each holds a reference on the folio (wp_page_shared() and
 * do_shared_fault() hold one across ->page_mkwrite).
 */
static int extpager_unlock(struct extpager_object *obj, struct folio *folio)
{
	struct extpager_request *req = NULL, *new, *r;
	unsigned long id;
	long left;
	int err;

	new = extpager_request_alloc(EXTPAGER_REQ_UNLOCK, folio->index, 1, GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->folios[0] = folio;

	mutex_lock(&obj->lock);
	if (!folio_test_checked(folio)) {
		err = 0;	/* granted meanwhile */
		goto unlock;
	}
	if (extpager_unmanaged(obj)) {
		err = -EIO;
		goto unlock;
	}
	xa_for_each(&obj->requests, id, r) {
		if (r->kind == EXTPAGER_REQ_UNLOCK && r->folios[0] == folio) {
			req = r;
			break;
		}
	}
	if (!req) {
		err = xa_alloc_cyclic(&obj->requests, &new->id, new, xa_limit_32b,
				      &obj->next_request_id, GFP_KERNEL);
		if (err < 0)
			goto unlock;
		/*
		 * A page being returned: the manager hears of the unlock after
		 * the return, on the socket that carries it, not on a channel.
		 */
		new->behind = folio_test_writeback(folio);
		err = extpager_deliver(obj, new);
		if (err) {
			xa_erase(&obj->requests, new->id);
			goto unlock;
		}
		atomic_long_inc(&obj->stats.unlocks);
		trace_extpager_unlock(obj->id, new->id, new->index, 1, 1);
		req = new;
		new = NULL;
	}
	req->waiters++;
	mutex_unlock(&obj->lock);
	kfree(new);

	left = wait_event_killable_timeout(obj->wait, READ_ONCE(req->result) != 1,
					   extpager_timeout());

	mutex_lock(&obj->lock);
	err = req->result;
	if (err == 1) {
		err = left < 0 ? -EINTR : -ETIMEDOUT;
		if (!left)
			atomic_long_inc(&obj->stats.timeouts);
	}
	if (!--req->waiters) {
		if (req->result == 1)
			xa_erase(&obj->requests, req->id);
		list_del_init(&req->unsent_node);
		kfree(req);
	}
	mutex_unlock(&obj->lock);
	return err;

unlock:
	mutex_unlock(&obj->lock);
	kfree(new);
	return err;
}

/* UNLOCK_REPLY: the manager's answer to a DATA_UNLOCK. */
int extpager_unlock_reply(struct extpager_object *obj, u32 id, bool grant)
{
	struct extpager_request *req;

	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	if (!req || req->kind != EXTPAGER_REQ_UNLOCK) {
		mutex_unlock(&obj->lock);
		return -ESTALE;
	}
	xa_erase(&obj->requests, id);
	list_del_init(&req->unsent_node);
	/* The folio that asked: not a copy that replaced it since (see above). */
	if (grant)
		folio_clear_checked(req->folios[0]);
	req->result = grant ? 0 : -EACCES;
	trace_extpager_unlock(obj->id, id, req->index, 1, req->result);
	wake_up_all(&obj->wait);
	mutex_unlock(&obj->lock);
	return 0;
}

static void extpager_owe_sigbus(struct extpager_object *obj, pgoff_t index)
{
	struct extpager_sigbus *s;

	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return;		/* the retried fault asks again */
	s->task = current;
	s->index = index;
	s->expires = jiffies + HZ;
	mutex_lock(&obj->lock);
	list_add(&s->node, &obj->sigbus);
	mutex_unlock(&obj->lock);
}

static bool extpager_take_sigbus(struct extpager_object *obj, pgoff_t index)
{
	struct extpager_sigbus *s, *tmp;
	bool owed = false;

	if (list_empty_careful(&obj->sigbus))
		return false;
	mutex_lock(&obj->lock);
	list_for_each_entry_safe(s, tmp, &obj->sigbus, node) {
		if (s->task == current && s->index == index)
			owed = true;
		else if (time_before(jiffies, s->expires))
			continue;
		list_del(&s->node);
		kfree(s);
	}
	mutex_unlock(&obj->lock);
	return owed;
}

/* The object is being freed: no fault can be in flight any more. */
void extpager_free_sigbus(struct extpager_object *obj)
{
	struct extpager_sigbus *s, *tmp;

	list_for_each_entry_safe(s, tmp, &obj->sigbus, node)
		kfree(s);
}

/*
 * A page not in the cache, of an object whose manager is asked for one
 * page at a time (cluster 1): the readahead machinery costs more than it
 * gives, so take the short way.  Insert a locked folio and fill it, from
 * the default pager or by asking the manager.  If it is filled at once (the
 * default pager, or a manager that ran on this CPU meanwhile), map it;
 * else drop the mmap (or VMA) lock, wait for the folio and have the fault
 * retried, as filemap_fault() does for a read_folio.  Never wait for the
 * manager holding the lock: a request that would wait for READY or a slot
 * is sent once the lock is dropped.  0 if the page is there, or coming, or
 * if the fault may not drop its lock: filemap_fault() then handles it.
 * Unlike filemap_fault(), it counts the major fault in vmstat but not in
 * the memcg's events, whose counter modules cannot reach.
 */
static vm_fault_t extpager_fault_missing(struct vm_fault *vmf,
					 struct extpager_object *obj)
{
	struct file *file = vmf->vma->vm_file;
	struct address_space *mapping = file->f_mapping;
	struct extpager_request *req = NULL;
	pgoff_t index = vmf->pgoff;
	struct folio *folio;
	int err;

	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY) ||
	    (vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		return 0;
	folio = filemap_get_folio(mapping, index);
	if (!IS_ERR(folio)) {
		folio_put(folio);
		return 0;
	}
	folio = filemap_alloc_folio(vmf->gfp_mask, 0, NULL);
	if (!folio)
		return VM_FAULT_OOM;
	/* Against truncation by OBJECT_DESTROY. */
	filemap_invalidate_lock_shared(mapping);
	if (index < DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE))
		err = filemap_add_folio(mapping, folio, index, vmf->gfp_mask);
	else
		err = -ERANGE;
	filemap_invalidate_unlock_shared(mapping);
	if (err) {
		folio_put(folio);
		/* Inserted meanwhile, or beyond the end: filemap_fault() sees to it. */
		return err == -ENOMEM ? VM_FAULT_OOM : 0;
	}
	count_vm_event(PGMAJFAULT);

	if (!extpager_from_default(obj, folio)) {
		req = extpager_request_alloc(EXTPAGER_REQ_DATA, index, 1, GFP_KERNEL);
		if (!req) {
			/* Left locked and not uptodate: the retry's read_folio() asks. */
			folio_unlock(folio);
		} else {
			req->folios[0] = folio;
			if (extpager_ask(obj, req, true) != -EAGAIN)
				req = NULL;
		}
	}
	/*
	 * A manager on this CPU, just woken, may answer now: let it (any
	 * preemption point would), and then if the folio is filled and still
	 * this object's page, map it without a retry.
	 */
	if (!req)
		cond_resched();
	if (!req && folio_trylock(folio)) {
		if (folio_test_uptodate(folio) && folio->mapping == mapping) {
			vmf->page = folio_file_page(folio, index);
			return VM_FAULT_LOCKED | VM_FAULT_MAJOR;
		}
		folio_unlock(folio);
	}

	get_file(file);
	release_fault_lock(vmf);
	if (req)
		extpager_ask(obj, req, false);
	folio_wait_locked_killable(folio);
	folio_put(folio);
	fput(file);
	return VM_FAULT_RETRY | VM_FAULT_MAJOR;
}

/*
 * Whether fault @flags may wait for @obj's manager.  A kernel access (a
 * syscall's copy_from_user(), get_user_pages()) to an object whose manager
 * is unprivileged may not, unless unprivileged_kernel_faults: as
 * userfaultfd's UFFD_USER_MODE_ONLY, which an unprivileged user must ask
 * for.  Waiting there would let the manager stop the kernel at a point of
 * its choosing for up to request_timeout_ms, which is what the exploits
 * of kernel races need.
 */
static bool extpager_may_wait(struct extpager_object *obj, enum fault_flag flags)
{
	return (flags & FAULT_FLAG_USER) || !READ_ONCE(obj->unprivileged_manager) ||
	       READ_ONCE(unprivileged_kernel_faults);
}

/*
 * A fault that may not wait for the manager: served from the cache alone.
 * A page that is not in memory, or is locked (being filled, or flushed by
 * a lock request), fails it: the syscall gets EFAULT.
 */
static vm_fault_t extpager_fault_cached(struct vm_fault *vmf)
{
	struct address_space *mapping = vmf->vma->vm_file->f_mapping;
	struct folio *folio = filemap_get_folio(mapping, vmf->pgoff);

	if (IS_ERR(folio))
		return VM_FAULT_SIGBUS;
	if (folio_trylock(folio)) {
		if (folio_test_uptodate(folio) && folio->mapping == mapping) {
			folio_set_referenced(folio);	/* CLOCK */
			vmf->page = folio_file_page(folio, vmf->pgoff);
			return VM_FAULT_LOCKED;
		}
		folio_unlock(folio);
	}
	folio_put(folio);
	return VM_FAULT_SIGBUS;
}

static vm_fault_t extpager_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct extpager_object *obj = EXTPAGER_OBJ(file_inode(file));
	struct extpager_fault fault = {
		.task	= current,
		.index	= vmf->pgoff,
		.write	= vmf->flags & FAULT_FLAG_WRITE,
	};
	unsigned int cluster = READ_ONCE(obj->cluster);
	enum fault_flag flags = vmf->flags;
	vm_fault_t ret;

	atomic_long_inc(&obj->stats.faults);
	if ((flags & FAULT_FLAG_TRIED) && extpager_take_sigbus(obj, vmf->pgoff))
		return VM_FAULT_SIGBUS;
	if (!extpager_may_wait(obj, flags))
		return extpager_fault_cached(vmf);

	/* The manager's cluster size is the read-around window. */
	if (file->f_ra.ra_pages != cluster)
		file->f_ra.ra_pages = cluster;

	extpager_register_fault(obj, &fault);

	/*
	 * filemap_fault() waits without mmap_lock on a fault's first try
	 * only.  A retry can find its page evicted again (the resident
	 * limit) and ask anew; waiting for the manager holding mmap_lock, it
	 * would deadlock with a manager thread of this process that needs it
	 * (malloc's mprotect()) until request_timeout_ms.  A fault may retry
	 * any number of times (see enum fault_flag), so every try that may
	 * is a first try to filemap_fault(), as to handle_userfault().
	 */
	if (flags & FAULT_FLAG_ALLOW_RETRY)
		vmf->flags &= ~FAULT_FLAG_TRIED;
	ret = cluster == 1 ? extpager_fault_missing(vmf, obj) : 0;
	if (!ret)
		ret = filemap_fault(vmf);
	vmf->flags = flags;

	extpager_unregister_fault(obj, &fault);

	if (fault.error && (ret & VM_FAULT_RETRY))
		extpager_owe_sigbus(obj, vmf->pgoff);
	if (!(ret & (VM_FAULT_ERROR | VM_FAULT_RETRY)) && vmf->page)
		folio_set_referenced(page_folio(vmf->page));	/* CLOCK */
	return ret;
}

/*
 * Fault-around maps cached pages without ->fault: with a resident limit,
 * the CLOCK needs to see the faulting page's access too.
 */
static vm_fault_t extpager_map_pages(struct vm_fault *vmf, pgoff_t start,
				     pgoff_t end)
{
	struct address_space *mapping = vmf->vma->vm_file->f_mapping;
	struct extpager_object *obj = EXTPAGER_OBJ(mapping->host);
	vm_fault_t ret = filemap_map_pages(vmf, start, end);
	struct folio *folio;

	if ((ret & VM_FAULT_NOPAGE) && READ_ONCE(obj->resident_limit)) {
		folio = filemap_get_folio(mapping, vmf->pgoff);
		if (!IS_ERR(folio)) {
			folio_set_referenced(folio);
			folio_put(folio);
		}
	}
	return ret;
}

static vm_fault_t extpager_page_mkwrite(struct vm_fault *vmf)
{
	struct folio *folio = page_folio(vmf->page);
	struct inode *inode = file_inode(vmf->vma->vm_file);
	int err;

	/*
	 * PG_checked: supplied read-only, Mach's page lock.  Every writer
	 * waits for the unlock, kernel accesses too: do_page_mkwrite() hides
	 * the fault's flags from us (see unprivileged_kernel_faults).
	 */
	if (folio_test_checked(folio)) {
		err = extpager_unlock(EXTPAGER_OBJ(inode), folio);
		if (err)
			return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	}
	folio_lock(folio);
	if (folio->mapping != inode->i_mapping || folio_test_checked(folio)) {
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	/* Modified: its return is no longer the manager's own data. */
	xa_erase(&EXTPAGER_OBJ(inode)->clean, folio->index);
	/* And the default pager's copy of the page is stale now. */
	extpager_forget_held(EXTPAGER_OBJ(inode), folio);
	folio_set_referenced(folio);
	folio_mark_dirty(folio);
	return VM_FAULT_LOCKED;
}

static void extpager_vm_open(struct vm_area_struct *vma)
{
	atomic_inc(&EXTPAGER_OBJ(file_inode(vma->vm_file))->mappings);
}

/*
 * Without may_cache, clean pages go when the last mapping does.  Not
 * invalidate_mapping_pages(): it leaves pages that per-CPU LRU batches
 * still hold.  Dirty pages stay (its -EBUSY).
 */
static void extpager_vm_close(struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(vma->vm_file);
	struct extpager_object *obj = EXTPAGER_OBJ(inode);

	if (atomic_dec_and_test(&obj->mappings) && !READ_ONCE(obj->may_cache))
		invalidate_inode_pages2(inode->i_mapping);
}

const struct vm_operations_struct extpager_vm_ops = {
	.open		= extpager_vm_open,
	.close		= extpager_vm_close,
	.fault		= extpager_fault,
	.map_pages	= extpager_map_pages,
	.page_mkwrite	= extpager_page_mkwrite,
};

/*
 * A clean page supplied with notify_evict set is being dropped (reclaim,
 * an invalidation, POSIX_FADV_DONTNEED): the manager hears of it.
 */
static bool extpager_release_folio(struct folio *folio, gfp_t gfp)
{
	struct extpager_object *obj = EXTPAGER_OBJ(folio->mapping->host);

	/* invalidate_inode_pages2() asks before it finds the page dirty. */
	if (folio_test_dirty(folio))
		return false;
	folio_detach_private(folio);
	if (!READ_ONCE(obj->dying) && !READ_ONCE(obj->destroyed))
		extpager_note_eviction(obj, folio->index);
	return true;
}

/* Truncation (destroy, the object's end) is no eviction: no notice. */
static void extpager_invalidate_folio(struct folio *folio, size_t offset,
				      size_t len)
{
	if (offset == 0 && len == folio_size(folio))
		folio_detach_private(folio);
}

const struct address_space_operations extpager_aops = {
	.read_folio	= extpager_read_folio,
	.release_folio	= extpager_release_folio,
	.invalidate_folio = extpager_invalidate_folio,
	.readahead	= extpager_readahead,
	.writepages	= extpager_writepages,
	.dirty_folio	= filemap_dirty_folio,
	.migrate_folio	= filemap_migrate_folio,
};
