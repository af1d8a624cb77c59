// SPDX-License-Identifier: GPL-2.0
/*
 * The requests to a manager, whatever carries them: their ids, deadlines,
 * the queue of those waiting for room in the manager's socket, and how
 * they fail.  The fault path, writeback and the objects all make or end
 * requests, so the registry sits below them and calls none of them back.
 * The faults in flight are registered here too: failing a request is what
 * marks them (see fault.c).
 */

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "extpager.h"
#include "genl.h"
#include "trace.h"

static void extpager_timeout_fn(struct work_struct *work);
static void extpager_resend_fn(struct work_struct *work);

/* Unless the manager sends something first (extpager_resend_now()). */
#define EXTPAGER_RESEND_DELAY	msecs_to_jiffies(EXTPAGER_RESEND_MS)

unsigned long extpager_timeout(void)
{
	return msecs_to_jiffies(READ_ONCE(request_timeout_ms));
}

void extpager_object_init_requests(struct extpager_object *obj)
{
	xa_init_flags(&obj->requests, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&obj->deadlines);
	INIT_DELAYED_WORK(&obj->timeout_work, extpager_timeout_fn);
	INIT_LIST_HEAD(&obj->unsent);
	INIT_DELAYED_WORK(&obj->resend_work, extpager_resend_fn);
	INIT_LIST_HEAD(&obj->faults);
	INIT_LIST_HEAD(&obj->sigbus);
	init_waitqueue_head(&obj->wait);
}

struct extpager_request *
extpager_request_alloc(enum extpager_request_kind kind, pgoff_t index,
		       unsigned int nr, gfp_t gfp)
{
	struct extpager_request *req;

	req = kzalloc(struct_size(req, folios, nr), gfp);
	if (!req)
		return NULL;
	req->kind = kind;
	req->index = index;
	req->nr = nr;
	req->pending = nr;
	req->result = 1;
	INIT_LIST_HEAD(&req->deadline_node);
	INIT_LIST_HEAD(&req->unsent_node);
	return req;
}

/* The fault @current is taking on @obj, if any.  Under obj->lock. */
struct extpager_fault *extpager_current_fault(struct extpager_object *obj)
{
	struct extpager_fault *f;

	list_for_each_entry(f, &obj->faults, node)
		if (f->task == current)
			return f;
	return NULL;
}

/* Fault @f runs from now: errors on its page reach it. */
void extpager_register_fault(struct extpager_object *obj,
			     struct extpager_fault *f)
{
	mutex_lock(&obj->lock);
	list_add(&f->node, &obj->faults);
	mutex_unlock(&obj->lock);
}

/* Fault @f is over: its error, if any, is the caller's to read. */
void extpager_unregister_fault(struct extpager_object *obj,
			       struct extpager_fault *f)
{
	mutex_lock(&obj->lock);
	list_del(&f->node);
	mutex_unlock(&obj->lock);
}

/* The error that reached the fault @current is taking on page @index, or 0. */
int extpager_fault_error(struct extpager_object *obj, pgoff_t index)
{
	struct extpager_fault *f;
	int err = 0;

	mutex_lock(&obj->lock);
	f = extpager_current_fault(obj);
	if (f && f->index == index)
		err = f->error;
	mutex_unlock(&obj->lock);
	return err;
}

/* A data request or a return is answered or failed in full.  Under obj->lock. */
void extpager_retire(struct extpager_object *obj,
		     struct extpager_request *req)
{
	xa_erase(&obj->requests, req->id);
	list_del_init(&req->deadline_node);
	list_del_init(&req->unsent_node);
	if (req->kind == EXTPAGER_REQ_DATA)
		obj->nr_requests--;
	else if (req->kind == EXTPAGER_REQ_RETURN)
		obj->nr_returns--;
	wake_up_all(&obj->wait);
}

/*
 * Make the timeout work run at @when at the latest.  Requests and returns
 * have timeouts of their own, so a new deadline may be the earliest.
 * Under obj->lock.
 */
static void extpager_arm_timeout(struct extpager_object *obj, unsigned long when)
{
	if (delayed_work_pending(&obj->timeout_work) &&
	    !time_before(when, obj->timeout_at))
		return;
	obj->timeout_at = when;
	mod_delayed_work(system_wq, &obj->timeout_work,
			 max_t(long, when - jiffies, 1));
}

/* Start the clock on @req.  Under obj->lock. */
void extpager_set_deadline(struct extpager_object *obj,
			   struct extpager_request *req,
			   unsigned long timeout)
{
	req->deadline = jiffies + timeout;
	extpager_arm_timeout(obj, req->deadline);
	list_add_tail(&req->deadline_node, &obj->deadlines);
}

/*
 * A return failed (the manager refused or did not answer, or is gone): its
 * pages stay dirty, and fsync reports @err.  Under writeback the folios
 * cannot be truncated, so they are redirtied before writeback ends.
 */
void extpager_return_failed(struct extpager_object *obj,
			    struct extpager_request *req, int err)
{
	unsigned int i;

	mapping_set_error(obj->vfs_inode.i_mapping, err);
	atomic_long_add(req->nr, &obj->stats.return_failures);
	trace_extpager_error(obj->id, req->id, req->index, req->nr, err);
	for (i = 0; i < req->nr; i++) {
		folio_mark_dirty(req->folios[i]);
		folio_end_writeback(req->folios[i]);
	}
}

/*
 * The manager's receive queue is full (-EAGAIN: it is busy reading the
 * returns ahead), or the message could not be allocated: nothing the
 * manager did, so the message waits and goes again.
 */
bool extpager_transient(int err)
{
	return err == -EAGAIN || err == -ENOMEM;
}

/*
 * Send data request or unlock @req to the manager: through a FETCH waiting
 * on one of its data channels, or else over netlink.  Under obj->lock.
 */
static int extpager_send(struct extpager_object *obj,
			 const struct extpager_request *req)
{
	if (!req->behind && !extpager_channel_send(obj, req))
		return 0;
	return extpager_notify(obj, req->kind == EXTPAGER_REQ_UNLOCK ?
			       EXTPAGER_CMD_DATA_UNLOCK : EXTPAGER_CMD_DATA_REQUEST,
			       req);
}

/*
 * Send INIT, DATA_REQUESTs and DATA_UNLOCKs that waited for room, in the
 * order they were made, until the queue is full again.  Under obj->lock.
 */
static void extpager_resend(struct extpager_object *obj)
{
	struct extpager_request *req, *tmp;
	int err;

	lockdep_assert_held(&obj->lock);
	if (!obj->manager)
		return;		/* an orphan's wait for adoption */
	if (obj->init_unsent) {
		err = extpager_notify(obj, EXTPAGER_CMD_INIT, NULL);
		if (extpager_transient(err))
			goto later;
		obj->init_unsent = false;
	}
	/* An adopting manager hears of what waited once it is READY. */
	if (!obj->ready)
		return;
	list_for_each_entry_safe(req, tmp, &obj->unsent, unsent_node) {
		err = extpager_send(obj, req);
		if (extpager_transient(err))
			goto later;
		/* Otherwise the manager is gone: fail_all() or the deadline ends it. */
		list_del_init(&req->unsent_node);
	}
	return;
later:
	mod_delayed_work(system_wq, &obj->resend_work, EXTPAGER_RESEND_DELAY);
}

static void extpager_resend_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(to_delayed_work(work),
						   struct extpager_object,
						   resend_work);

	mutex_lock(&obj->lock);
	extpager_resend(obj);
	mutex_unlock(&obj->lock);
}

/*
 * The manager sent something (it reads its queue), or became READY: try
 * what waits now.
 */
void extpager_resend_now(struct extpager_object *obj)
{
	if (!list_empty_careful(&obj->unsent) || READ_ONCE(obj->init_unsent))
		mod_delayed_work(system_wq, &obj->resend_work, 0);
}

static bool extpager_backlog(struct extpager_object *obj)
{
	return obj->init_unsent || !list_empty(&obj->unsent);
}

/*
 * Send data request or unlock @req, or keep it for later if the manager's
 * receive queue is full, behind any that wait already.  Either way it stays
 * pending, with its deadline.  -errno only if the manager cannot get it.
 * Under obj->lock.
 */
int extpager_deliver(struct extpager_object *obj,
		     struct extpager_request *req)
{
	int err = -EAGAIN;

	/*
	 * A recoverable orphan's requests wait for the adopting manager.  So
	 * does one sent while the manager's socket is being released:
	 * netlink_release() unhashes it (ECONNREFUSED) before NETLINK_URELEASE
	 * tells us, which then holds the request for adoption, or fails it.
	 */
	if (!extpager_backlog(obj) && obj->manager)
		err = extpager_send(obj, req);
	if (!extpager_transient(err) && err != -ECONNREFUSED)
		return err;
	list_add_tail(&req->unsent_node, &obj->unsent);
	if (!delayed_work_pending(&obj->resend_work))
		mod_delayed_work(system_wq, &obj->resend_work, EXTPAGER_RESEND_DELAY);
	return 0;
}

/*
 * Request @id was handed to a data channel that was closed before it was
 * answered: it goes to the manager again, unless it is answered, failed,
 * or waits for an adopting manager meanwhile.
 */
void extpager_send_again(struct extpager_object *obj, u32 id)
{
	struct extpager_request *req;

	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	/* If the manager is gone, extpager_fail_all() or the deadline ends it. */
	if (req && req->kind != EXTPAGER_REQ_RETURN && list_empty(&req->unsent_node) &&
	    (req->kind == EXTPAGER_REQ_UNLOCK ? req->result == 1 : req->pending))
		extpager_deliver(obj, req);
	mutex_unlock(&obj->lock);
}

/* Mach's memory_object_init, once per manager.  Under obj->lock. */
void extpager_send_init(struct extpager_object *obj)
{
	lockdep_assert_held(&obj->lock);
	if (obj->init_sent || !obj->manager)
		return;
	obj->init_sent = true;
	obj->init_unsent = extpager_transient(extpager_notify(obj, EXTPAGER_CMD_INIT,
							      NULL));
	if (obj->init_unsent)
		mod_delayed_work(system_wq, &obj->resend_work, EXTPAGER_RESEND_DELAY);
}

/*
 * Fail the folios of a run (NULL entries are skipped): the faults on them
 * get SIGBUS.  The caller holds their locks; obj->lock is not held.
 */
void extpager_fail_folios(struct extpager_object *obj, struct folio **folios,
			  pgoff_t index, unsigned int nr, int err)
{
	struct extpager_fault *f;
	unsigned int i;

	mutex_lock(&obj->lock);
	list_for_each_entry(f, &obj->faults, node)
		if (f->index - index < nr && folios[f->index - index])
			f->error = err;
	mutex_unlock(&obj->lock);
	for (i = 0; i < nr; i++)
		if (folios[i])
			folio_unlock(folios[i]);
}

/*
 * Take pages [index, index + nr) of data request @id: the caller then holds
 * their folio locks and must fill or fail them, or give them back with
 * extpager_unclaim(); then extpager_claim_done().  Fails, changing nothing,
 * unless every one of them is still waiting in that request.
 */
int extpager_claim(struct extpager_object *obj, u32 id, pgoff_t index,
		   unsigned int nr, struct folio **folios,
		   struct netlink_ext_ack *extack)
{
	struct extpager_request *req;
	unsigned int i, first;
	int err = 0;

	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	if (!req || req->kind != EXTPAGER_REQ_DATA) {
		NL_SET_ERR_MSG_FMT(extack,
				   "request %u is not pending: answered, timed out or failed",
				   id);
		err = -ESTALE;
		goto out;
	}
	if (index < req->index || index + nr > req->index + req->nr) {
		NL_SET_ERR_MSG_FMT(extack,
				   "pages %lu+%u are not in request %u (%lu+%u)",
				   index, nr, id, req->index, req->nr);
		err = -ERANGE;
		goto out;
	}
	first = index - req->index;
	for (i = 0; i < nr; i++) {
		if (!req->folios[first + i]) {
			NL_SET_ERR_MSG_FMT(extack,
					   "page %lu of request %u is already answered",
					   index + i, id);
			err = -ESTALE;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		folios[i] = req->folios[first + i];
		req->folios[first + i] = NULL;
	}
	req->pending -= nr;
out:
	mutex_unlock(&obj->lock);
	return err;
}

/*
 * Give claimed folios [index, index + nr) back to request @id, still
 * locked, for a later claim.  -ESTALE if the request has gone meanwhile (it
 * timed out, or the object's manager went): the caller fails them.
 */
int extpager_unclaim(struct extpager_object *obj, u32 id, pgoff_t index,
		     unsigned int nr, struct folio **folios)
{
	struct extpager_request *req;
	unsigned int i;
	int err = 0;

	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	if (req && req->kind == EXTPAGER_REQ_DATA) {
		for (i = 0; i < nr; i++)
			req->folios[index - req->index + i] = folios[i];
		req->pending += nr;
	} else {
		err = -ESTALE;
	}
	mutex_unlock(&obj->lock);
	return err;
}

/*
 * The claims on request @id are over: it goes once every page is answered.
 * Until then it keeps its slot, so that pages can be given back to it.
 */
void extpager_claim_done(struct extpager_object *obj, u32 id)
{
	struct extpager_request *req;

	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	if (req && req->kind == EXTPAGER_REQ_DATA && !req->pending)
		extpager_retire(obj, req);
	else
		req = NULL;
	mutex_unlock(&obj->lock);
	kfree(req);
}

/* Fail every data request and return of @obj in @list. */
static void extpager_fail_list(struct extpager_object *obj,
			       struct list_head *list, int err)
{
	struct extpager_request *req, *tmp;

	list_for_each_entry_safe(req, tmp, list, deadline_node) {
		/* Unlinked first: the next entry's list_del() writes through ->prev. */
		list_del_init(&req->deadline_node);
		if (req->kind == EXTPAGER_REQ_RETURN) {
			/*
			 * Unanswered, or the manager is gone: the default
			 * pager takes the pages, unless they are to be sent
			 * again (dying) or dropped (destroyed).
			 */
			if (READ_ONCE(obj->dying) || READ_ONCE(obj->destroyed)) {
				extpager_return_failed(obj, req, err);
				kfree(req);
			} else {
				extpager_to_default(obj, req);
			}
			continue;
		}
		if (err == -ETIMEDOUT) {
			atomic_long_add(req->pending, &obj->stats.timeouts);
			trace_extpager_timeout(obj->id, req->id, req->index, req->nr, 0);
		} else {
			atomic_long_add(req->pending, &obj->stats.errors);
			trace_extpager_error(obj->id, req->id, req->index, req->nr, err);
		}
		extpager_fail_folios(obj, req->folios, req->index, req->nr, err);
		kfree(req);
	}
}

static void extpager_timeout_fn(struct work_struct *work)
{
	struct extpager_object *obj = container_of(to_delayed_work(work),
						   struct extpager_object,
						   timeout_work);
	struct extpager_request *req, *tmp;
	unsigned long next = 0;
	LIST_HEAD(expired);

	/* Requests and returns have timeouts of their own: look at them all. */
	mutex_lock(&obj->lock);
	list_for_each_entry_safe(req, tmp, &obj->deadlines, deadline_node) {
		if (time_before(jiffies, req->deadline)) {
			if (!next || time_before(req->deadline, next))
				next = req->deadline;
			continue;
		}
		if (req->kind == EXTPAGER_REQ_RETURN)
			WRITE_ONCE(obj->returns_late, true);
		extpager_retire(obj, req);
		list_add_tail(&req->deadline_node, &expired);
	}
	if (next)
		extpager_arm_timeout(obj, next);
	mutex_unlock(&obj->lock);
	extpager_fail_list(obj, &expired, -ETIMEDOUT);
}

/*
 * The manager is gone, or the object destroyed: fail every request (new
 * ones fail by themselves once obj->manager is NULL).  With @hold, the
 * object is recoverable: its data requests and unlocks wait instead, their
 * deadlines running, to be sent again in the order they were made to the
 * manager that adopts it; only its returns go, to the default pager.
 */
static void extpager_end_requests(struct extpager_object *obj, bool hold)
{
	struct extpager_request *req;
	unsigned long id;
	LIST_HEAD(failed);

	mutex_lock(&obj->lock);
	xa_for_each(&obj->requests, id, req) {
		if (hold && req->kind != EXTPAGER_REQ_RETURN) {
			list_move_tail(&req->unsent_node, &obj->unsent);
		} else if (req->kind == EXTPAGER_REQ_UNLOCK) {
			/* Its waiters free it. */
			xa_erase(&obj->requests, id);
			list_del_init(&req->unsent_node);
			req->result = -EIO;
		} else {
			extpager_retire(obj, req);
			list_add_tail(&req->deadline_node, &failed);
		}
	}
	obj->init_unsent = false;
	wake_up_all(&obj->wait);
	mutex_unlock(&obj->lock);
	extpager_fail_list(obj, &failed, -EIO);
}

void extpager_fail_all(struct extpager_object *obj)
{
	extpager_end_requests(obj, false);
}

void extpager_hold_requests(struct extpager_object *obj)
{
	extpager_end_requests(obj, true);
}

/* The object is being freed: no fault can be in flight any more. */
void extpager_free_requests(struct extpager_object *obj)
{
	WARN_ON_ONCE(!xa_empty(&obj->requests));
	xa_destroy(&obj->requests);
}
