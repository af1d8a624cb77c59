// SPDX-License-Identifier: GPL-2.0
/*
 * Writeback: an object's dirty pages go back to its manager, which is its
 * disk.  Returns are requests as the fault path's are, but a slow manager
 * must not hold writeback, and the reclaim waiting for it, up for long:
 * they have limits of their own (max_returns, return_timeout_ms), and what
 * the manager does not take goes to the default pager (store.c).
 */

#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/writeback.h>

#include "extpager.h"
#include "genl.h"

/* RETURN_ACK: the manager stored a return (@error 0) or could not. */
int extpager_return_ack(struct extpager_object *obj, u32 id, int error)
{
	struct extpager_request *req;
	unsigned int i;

	/* Even a late answer: the manager is back. */
	WRITE_ONCE(obj->returns_late, false);
	mutex_lock(&obj->lock);
	req = xa_load(&obj->requests, id);
	if (!req || req->kind != EXTPAGER_REQ_RETURN) {
		mutex_unlock(&obj->lock);
		return -ESTALE;
	}
	extpager_retire(obj, req);
	mutex_unlock(&obj->lock);

	if (error) {
		extpager_return_failed(obj, req, error);
	} else {
		atomic_long_add(req->nr, &obj->stats.returns);
		for (i = 0; i < req->nr; i++) {
			xa_erase(&obj->clean, req->folios[i]->index);
			folio_end_writeback(req->folios[i]);
		}
	}
	kfree(req);
	return 0;
}

/*
 * Send return @req, whose folios are in writeback.  Writeback never waits
 * for the manager: the pages stay in writeback until RETURN_ACK, or go to
 * the default pager after return_timeout_ms, or at once if the message
 * cannot be sent or there is no manager.  Once the object is dying, a
 * return is final and its pages are clean at once.  Consumes @req.
 */
static void extpager_return(struct extpager_object *obj,
			    struct extpager_request *req)
{
	unsigned int i;
	int err;

	mutex_lock(&obj->lock);
	err = -ENOTCONN;
	if (!obj->manager && (obj->dying || obj->destroyed))
		goto unlock_fail;	/* nobody can ever see these pages again */
	if (!obj->manager)
		goto unlock_default;
	if (obj->dying) {
		/* Final: the data travels in the message, no ack is waited for. */
		err = extpager_notify_final(obj, EXTPAGER_CMD_DATA_RETURN, req);
		mutex_unlock(&obj->lock);
		atomic_long_add(req->nr, err ? &obj->stats.return_failures :
					       &obj->stats.returns);
		for (i = 0; i < req->nr; i++)
			folio_end_writeback(req->folios[i]);
		kfree(req);
		return;
	}
	err = xa_alloc_cyclic(&obj->requests, &req->id, req, xa_limit_32b,
			      &obj->next_request_id, GFP_NOIO);
	if (err < 0)
		goto unlock_fail;
	extpager_set_deadline(obj, req,
			      msecs_to_jiffies(READ_ONCE(return_timeout_ms)));
	obj->nr_returns++;
	/*
	 * No later request for these pages can overtake it, on whatever
	 * transport: they stay cached, in writeback, until it is acknowledged.
	 */
	err = extpager_notify(obj, EXTPAGER_CMD_DATA_RETURN, req);
	if (err) {
		/* -EAGAIN: the manager's socket is full; it is not keeping up. */
		extpager_retire(obj, req);
		goto unlock_default;
	}
	mutex_unlock(&obj->lock);
	return;

unlock_default:
	mutex_unlock(&obj->lock);
	extpager_to_default(obj, req);
	return;

unlock_fail:
	mutex_unlock(&obj->lock);
	extpager_return_failed(obj, req, err);
	kfree(req);
}

static bool extpager_return_slot(struct extpager_object *obj)
{
	return READ_ONCE(obj->nr_returns) < READ_ONCE(max_returns) ||
	       !READ_ONCE(obj->manager) || READ_ONCE(obj->dying);
}

/*
 * Whether a return may go to the manager now: at most max_returns are in
 * flight per object, as more would only queue in its socket ahead of its
 * data requests.  Writeback waits for a slot, as it waits for a busy disk,
 * return_timeout_ms at most: a manager that keeps acknowledging gets its
 * pages itself.  Once one of its returns has timed out, background
 * writeback (the flusher, which other objects' writeback shares) stops
 * waiting for it until it acknowledges again, and hands the pages to the
 * default pager instead; fsync still waits.
 */
static bool extpager_may_return(struct extpager_object *obj,
				struct writeback_control *wbc)
{
	bool background = wbc->sync_mode == WB_SYNC_NONE;
	long left;

	if (extpager_return_slot(obj))
		return true;
	if (background && READ_ONCE(obj->returns_late))
		return false;
	left = wait_event_killable_timeout(obj->wait, extpager_return_slot(obj),
					   msecs_to_jiffies(READ_ONCE(return_timeout_ms)));
	return left > 0 || !background;
}

static void extpager_send_run(struct extpager_object *obj,
			      struct extpager_request *req)
{
	if (req->overflow)
		extpager_to_default(obj, req);
	else
		extpager_return(obj, req);
}

/*
 * Writeback, from the flusher threads, fsync and sync: contiguous dirty
 * pages go back to the manager in runs of EXTPAGER_RETURN_PAGES, the
 * unmodified (precious) ones in runs of their own.
 */
int extpager_writepages(struct address_space *mapping,
			struct writeback_control *wbc)
{
	struct extpager_object *obj = EXTPAGER_OBJ(mapping->host);
	struct extpager_request *req = NULL;
	struct folio *folio = NULL;
	int err = 0;

	while ((folio = writeback_iter(mapping, wbc, folio, &err))) {
		bool clean = xa_load(&obj->clean, folio->index);

		if (req && (folio->index != req->index + req->nr ||
			    req->nr == EXTPAGER_RETURN_PAGES || req->clean != clean)) {
			extpager_send_run(obj, req);
			req = NULL;
		}
		if (!req) {
			/* A dying object's pages are dropped after this pass. */
			req = extpager_request_alloc(EXTPAGER_REQ_RETURN, folio->index,
						     EXTPAGER_RETURN_PAGES,
						     READ_ONCE(obj->dying) ?
						     GFP_NOIO | __GFP_NOFAIL :
						     GFP_NOIO | __GFP_NOWARN);
			if (!req) {
				folio_redirty_for_writepage(wbc, folio);
				folio_unlock(folio);
				err = -ENOMEM;
				continue;
			}
			req->nr = 0;
			req->clean = clean;
			req->overflow = !extpager_may_return(obj, wbc);
		}
		folio_start_writeback(folio);
		folio_unlock(folio);
		req->folios[req->nr++] = folio;
	}
	if (req)
		extpager_send_run(obj, req);
	return err;
}
