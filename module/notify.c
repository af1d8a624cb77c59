// SPDX-License-Identifier: GPL-2.0
/*
 * The messages the kernel sends a manager.  They are apart from the
 * handlers of the managers' messages (netlink.c) because the fault path,
 * writeback, pageout and the objects all have something to tell a manager:
 * this file sits below all of them and calls none of them.
 */

#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <net/genetlink.h>

#include "extpager.h"
#include "genl.h"

/*
 * DATA_RETURN's data, the last attribute: @req's pages themselves, not a
 * copy.  They stay in writeback until the manager acknowledges them, and
 * the message holds a reference on each until it is read or dropped.  A
 * page written to meanwhile (no stable pages here) is dirty again and goes
 * back once more, as with any disk.
 */
static void extpager_attach_run(struct sk_buff *skb,
				const struct extpager_request *req)
{
	struct nlattr *attr = skb_put(skb, NLA_HDRLEN);
	unsigned int i;

	BUILD_BUG_ON(EXTPAGER_RETURN_PAGES > MAX_SKB_FRAGS);
	BUILD_BUG_ON(NLA_HDRLEN + EXTPAGER_RETURN_PAGES * PAGE_SIZE > U16_MAX);
	attr->nla_type = EXTPAGER_A_OBJECT_DATA;
	attr->nla_len = NLA_HDRLEN + req->nr * PAGE_SIZE;
	for (i = 0; i < req->nr; i++) {
		folio_get(req->folios[i]);
		skb_add_rx_frag(skb, i, folio_page(req->folios[i], 0), 0,
				PAGE_SIZE, PAGE_SIZE);
	}
	nlmsg_hdr(skb)->nlmsg_len = skb->len;
}

/* Send @cmd about @obj, and about @req if non-NULL, to its manager. */
int extpager_notify(struct extpager_object *obj, u8 cmd,
		    const struct extpager_request *req)
{
	size_t size = 6 * nla_total_size(sizeof(u64));
	/* Returns are sent by writeback: no I/O to find the memory. */
	gfp_t gfp = GFP_NOIO | __GFP_NOWARN;
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&obj->lock);
	if (!obj->manager)
		return -ENOTCONN;
	if (cmd == EXTPAGER_CMD_DATA_RETURN)
		size += NLA_HDRLEN;
	/*
	 * A dying object's final returns and its TERMINATE are sent once and
	 * never again: failed, the manager would lose the data, or wait for
	 * the end forever.  They are small.
	 */
	if (cmd == EXTPAGER_CMD_TERMINATE ||
	    (cmd == EXTPAGER_CMD_DATA_RETURN && obj->dying))
		gfp = GFP_NOIO | __GFP_NOFAIL;
	skb = genlmsg_new(size, gfp);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &extpager_nl_family, 0, cmd);
	if (!hdr || nla_put_u32(skb, EXTPAGER_A_OBJECT_ID, obj->id))
		goto too_big;
	if (cmd == EXTPAGER_CMD_INIT &&
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_SIZE, i_size_read(&obj->vfs_inode)))
		goto too_big;
	/* DATA_EVICTED names a run, and asks nothing. */
	if (req && cmd != EXTPAGER_CMD_DATA_EVICTED &&
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_REQUEST_ID, req->id))
		goto too_big;
	if (req &&
	    (nla_put_uint(skb, EXTPAGER_A_OBJECT_OFFSET, (u64)req->index << PAGE_SHIFT) ||
	     nla_put_uint(skb, EXTPAGER_A_OBJECT_LENGTH, (u64)req->nr << PAGE_SHIFT)))
		goto too_big;
	if (cmd == EXTPAGER_CMD_DATA_REQUEST &&
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_ACCESS,
			req->write ? EXTPAGER_ACCESS_WRITE : EXTPAGER_ACCESS_READ))
		goto too_big;
	if (req && req->clean &&
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_RETURN_FLAGS, EXTPAGER_RETURN_FLAGS_CLEAN))
		goto too_big;
	genlmsg_end(skb, hdr);
	if (cmd == EXTPAGER_CMD_DATA_RETURN)
		extpager_attach_run(skb, req);
	return genlmsg_unicast(obj->net, skb, obj->portid);

too_big:
	nlmsg_free(skb);
	return -EMSGSIZE;
}

/*
 * A dying object's final DATA_RETURN of @req, or its TERMINATE: sent once,
 * so not to be lost to a full receive queue.  It waits for room, as
 * writeback waits for a busy disk, return_timeout_ms at most and killably
 * (a wait for userspace: a stopped manager holds the last close that
 * long); but not in the manager's own process, whose exit or munmap() may
 * be this last close, and which may be the one thread that would read.
 * Under obj->lock, dropped while it waits: nothing the lock guards is
 * this object's any more but the manager, which is looked at again.
 */
int extpager_notify_final(struct extpager_object *obj, u8 cmd,
			  const struct extpager_request *req)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(READ_ONCE(return_timeout_ms));
	int err;

	lockdep_assert_held(&obj->lock);
	while ((err = extpager_notify(obj, cmd, req)) == -EAGAIN &&
	       obj->manager->pid != task_tgid(current) &&
	       time_before(jiffies, deadline) && !fatal_signal_pending(current)) {
		mutex_unlock(&obj->lock);
		/* As for requests that wait for room: the socket says nothing. */
		msleep(EXTPAGER_RESEND_MS);
		mutex_lock(&obj->lock);
	}
	return err;
}

/* LOCK_COMPLETED: lock request @cookie over pages [first, last] is done. */
int extpager_notify_lock_completed(struct extpager_object *obj, u32 cookie,
				   pgoff_t first, pgoff_t last, int error)
{
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&obj->lock);
	if (!obj->manager)
		return -ENOTCONN;
	skb = genlmsg_new(5 * nla_total_size(sizeof(u64)), GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &extpager_nl_family, 0,
			  EXTPAGER_CMD_LOCK_COMPLETED);
	if (!hdr ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_ID, obj->id) ||
	    nla_put_u32(skb, EXTPAGER_A_OBJECT_REQUEST_ID, cookie) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_OFFSET, (u64)first << PAGE_SHIFT) ||
	    nla_put_uint(skb, EXTPAGER_A_OBJECT_LENGTH, (u64)(last - first + 1) << PAGE_SHIFT) ||
	    (error && nla_put_u32(skb, EXTPAGER_A_OBJECT_ERROR, -error))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_unicast(obj->net, skb, obj->portid);
}

#ifdef EXTPAGER_HAVE_CHANNEL
#include <linux/io_uring/cmd.h>

/* A FETCH completes, in its ring's task: its descriptor is written. */
static void extpager_fetch_done(struct io_tw_req tw_req, io_tw_token_t tw)
{
	struct io_uring_cmd *cmd = io_uring_cmd_from_tw(tw_req);

	io_uring_cmd_done(cmd, extpager_fetch_pdu(cmd)->result,
			  IO_URING_CMD_TASK_WORK_ISSUE_FLAGS);
}

COMPAT_URING_CMD_TW(extpager_fetch_done);

/*
 * Complete @ch's FETCH on tag @t with @result: the tag, or -errno.  From
 * any context: the completion runs in the ring's task, as ublk's.  Under
 * mgr->lock.
 */
void extpager_complete_fetch(struct extpager_channel *ch, unsigned int t,
			     int result)
{
	struct io_uring_cmd *cmd = ch->tags[t].cmd;

	lockdep_assert_held(&ch->mgr->lock);
	ch->tags[t].cmd = NULL;
	ch->fetching--;
	extpager_fetch_pdu(cmd)->result = result;
	io_uring_cmd_complete_in_task(cmd, extpager_fetch_done);
}
#else
/* Without the channel (compat.h) no FETCH is ever left waiting. */
void extpager_complete_fetch(struct extpager_channel *ch, unsigned int t,
			     int result)
{
	WARN_ON_ONCE(1);
}
#endif

/*
 * Hand data request or unlock @req to a FETCH waiting on one of the
 * manager's data channels: on the channel with the fewest requests handed
 * out (each is a serving thread; one whose every tag waits is idle), the
 * channels taking turns among equals.  -EAGAIN if none waits: the request
 * goes over netlink.  Under obj->lock.
 */
int extpager_channel_send(struct extpager_object *obj,
			  const struct extpager_request *req)
{
	struct extpager_manager *mgr = obj->manager;
	struct extpager_channel *ch, *best = NULL;
	struct extpager_tag *tag;
	unsigned int t;

	lockdep_assert_held(&obj->lock);
	if (!mgr || list_empty_careful(&mgr->channels))
		return -EAGAIN;
	spin_lock(&mgr->lock);
	list_for_each_entry(ch, &mgr->channels, node)
		if (ch->fetching && (!best || ch->busy < best->busy))
			best = ch;
	if (best) {
		ch = best;
		for (t = 0; !ch->tags[t].cmd; t++)
			;
		tag = &ch->tags[t];
		tag->object = obj->id;
		tag->request = req->id;
		tag->unlock = req->kind == EXTPAGER_REQ_UNLOCK;
		tag->index = req->index;
		tag->nr = req->nr;
		ch->descs[t] = (struct extpager_channel_desc) {
			.object_id	= obj->id,
			.request_id	= req->id,
			.offset		= (u64)req->index << PAGE_SHIFT,
			.length		= (u64)req->nr << PAGE_SHIFT,
			.cmd		= tag->unlock ? EXTPAGER_CMD_DATA_UNLOCK :
							EXTPAGER_CMD_DATA_REQUEST,
			.access		= req->write || tag->unlock ?
					  EXTPAGER_ACCESS_WRITE : EXTPAGER_ACCESS_READ,
		};
		extpager_complete_fetch(ch, t, t);
		ch->busy++;
		atomic_long_inc(&obj->stats.channel_requests);
		/* The next request tries the next channel first. */
		list_move_tail(&ch->node, &mgr->channels);
	}
	spin_unlock(&mgr->lock);
	return best ? 0 : -EAGAIN;
}

/*
 * The manager's socket is released: its FETCHes fail with -ENOTCONN, and
 * so will later ones.  Its objects are unbound already.
 */
void extpager_channels_detach(struct extpager_manager *mgr)
{
	struct extpager_channel *ch;
	unsigned int t;

	spin_lock(&mgr->lock);
	mgr->gone = true;
	list_for_each_entry(ch, &mgr->channels, node)
		for (t = 0; t < ch->nr_tags; t++)
			if (ch->tags[t].cmd)
				extpager_complete_fetch(ch, t, -ENOTCONN);
	spin_unlock(&mgr->lock);
}
