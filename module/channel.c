// SPDX-License-Identifier: GPL-2.0
/*
 * Data channels: data requests and unlocks, and their answers, as io_uring
 * passthrough commands (uapi/linux/extpager_channel.h), the way ublk
 * carries block requests.  A request completes a FETCH the manager left
 * waiting (notify.c), with no message to build or parse; the answer,
 * COMMIT_AND_FETCH, copies a supply straight from the manager's buffer
 * into the locked folios and waits for the tag's next request, in one
 * io_uring_enter().  The requests themselves are request.c's, whatever
 * carries them: a tag only names one, and every answer is checked against
 * the registry as a netlink answer is.
 *
 * A tag is idle, fetching or busy (struct extpager_tag), under the
 * manager's spinlock.  A FETCH is cancelable before it is published, so
 * that a request may complete it at once; the ring's cancellation and a
 * request both take it under that lock, and only one of them completes it.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <net/genetlink.h>

#include "extpager.h"

#ifdef EXTPAGER_HAVE_CHANNEL
#include <linux/io_uring/cmd.h>

/*
 * Leave a FETCH waiting on idle tag @t.  Its result comes with the tag's
 * next request, or is -ENOTCONN once the manager's socket is gone.
 */
static int extpager_fetch(struct extpager_channel *ch, struct io_uring_cmd *cmd,
			  unsigned int t, unsigned int issue_flags)
{
	struct extpager_manager *mgr = ch->mgr;
	struct extpager_tag *tag = &ch->tags[t];
	int err = 0;

	extpager_fetch_pdu(cmd)->tag = t;
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
	spin_lock(&mgr->lock);
	if (mgr->gone) {
		err = -ENOTCONN;
	} else if (tag->cmd || tag->object) {
		err = -EBUSY;
	} else {
		tag->cmd = cmd;
		ch->fetching++;
	}
	spin_unlock(&mgr->lock);
	/* Not published: done here, which also makes it no longer cancelable. */
	if (err)
		io_uring_cmd_done(cmd, err, issue_flags);
	return -EIOCBQUEUED;
}

/*
 * The ring is going: a FETCH that no request completed yet ends, in the
 * ring's task like every completion: the teardown runs in a kworker, and
 * a ring with IORING_SETUP_DEFER_TASKRUN posts completions from its task
 * only (Linux 6.12 warns otherwise).
 */
static void extpager_fetch_cancel(struct extpager_channel *ch,
				  struct io_uring_cmd *cmd)
{
	unsigned int t = extpager_fetch_pdu(cmd)->tag;

	spin_lock(&ch->mgr->lock);
	if (ch->tags[t].cmd == cmd)
		extpager_complete_fetch(ch, t, -ECANCELED);
	spin_unlock(&ch->mgr->lock);
}

/* Apply @c, the answer to the request @tag handed out. */
static int extpager_channel_answer(struct extpager_channel *ch,
				   const struct extpager_tag *tag,
				   const struct extpager_channel_cmd *c)
{
	struct extpager_source src = {};
	struct extpager_object *obj;
	size_t len = (size_t)tag->nr << PAGE_SHIFT;
	int err;

	if (c->result == EXTPAGER_CHANNEL_NONE)
		return 0;
	obj = extpager_object_get(tag->object);
	if (!obj)
		return -ESTALE;
	/* Destroyed, or adopted: the request is not this manager's to answer. */
	err = -ESTALE;
	if (READ_ONCE(obj->manager) != ch->mgr)
		goto put;
	/* The manager is at work: what waits for room in its socket goes. */
	extpager_resend_now(obj);
	if (tag->unlock) {
		err = extpager_unlock_reply(obj, tag->request, !c->result);
		goto put;
	}
	switch (c->result) {
	case EXTPAGER_CHANNEL_SUPPLY:
		src.uaddr = u64_to_user_ptr(c->addr);
		/* Fault the source in now: the copy runs with folios locked. */
		err = -EFAULT;
		if (!access_ok(src.uaddr, len) || fault_in_readable(src.uaddr, len))
			break;
		err = extpager_supply_request(obj, tag->request, tag->index, tag->nr,
					      &src, c->flags, NULL);
		break;
	case EXTPAGER_CHANNEL_UNAVAILABLE:
		err = extpager_answer_nodata(obj, tag->request, tag->index, tag->nr,
					     0, NULL);
		break;
	default:
		err = extpager_answer_nodata(obj, tag->request, tag->index, tag->nr,
					     c->result, NULL);
		goto put;
	}
	if (!err)
		extpager_limit_resident(obj);
put:
	extpager_object_put(obj);
	return err;
}

/* Whether @c is an answer a request (or, with @unlock, an unlock) may get. */
static bool extpager_answer_valid(const struct extpager_channel_cmd *c, bool unlock)
{
	if (c->flags & ~(EXTPAGER_SUPPLY_FLAGS_READONLY | EXTPAGER_SUPPLY_FLAGS_PRECIOUS))
		return false;
	/* Flags go with a supply's data, and an unlock has none. */
	if (c->flags && (c->result != EXTPAGER_CHANNEL_SUPPLY || unlock))
		return false;
	if (c->result == EXTPAGER_CHANNEL_NONE || c->result == EXTPAGER_CHANNEL_SUPPLY)
		return true;
	if (c->result == EXTPAGER_CHANNEL_UNAVAILABLE)
		return !unlock;
	return c->result < 0 && c->result >= -MAX_ERRNO;
}

/*
 * COMMIT_AND_FETCH: answer the request tag @t handed out, then wait for the
 * tag's next one.  A command that fails leaves the tag as it was, busy with
 * its request: EXTPAGER_CHANNEL_NONE releases it whatever the request's
 * state.
 */
static int extpager_commit(struct extpager_channel *ch, struct io_uring_cmd *cmd,
			   unsigned int t, const struct extpager_channel_cmd *c,
			   unsigned int issue_flags)
{
	struct extpager_manager *mgr = ch->mgr;
	struct extpager_tag *tag = &ch->tags[t], handed;
	int err = 0;

	spin_lock(&mgr->lock);
	handed = *tag;
	if (tag->cmd || !tag->object || !extpager_answer_valid(c, tag->unlock)) {
		err = -EINVAL;
	} else {
		tag->object = 0;	/* answering: no second commit meanwhile */
		ch->busy--;
	}
	spin_unlock(&mgr->lock);
	if (err)
		return err;

	err = extpager_channel_answer(ch, &handed, c);
	if (err) {
		spin_lock(&mgr->lock);
		if (!tag->cmd && !tag->object) {
			*tag = handed;
			ch->busy++;
		}
		spin_unlock(&mgr->lock);
		return err;
	}
	return extpager_fetch(ch, cmd, t, issue_flags);
}

static int extpager_channel_uring_cmd(struct io_uring_cmd *cmd,
				      unsigned int issue_flags)
{
	struct extpager_channel *ch = cmd->file->private_data;
	const struct extpager_channel_cmd *sqe =
		io_uring_sqe_cmd(cmd->sqe, struct extpager_channel_cmd);
	struct extpager_channel_cmd c;
	unsigned int t;

	if (unlikely(issue_flags & IO_URING_F_CANCEL)) {
		extpager_fetch_cancel(ch, cmd);
		return 0;
	}
	/* The sqe is the manager's memory: read each field once. */
	c.tag = READ_ONCE(sqe->tag);
	c.flags = READ_ONCE(sqe->flags);
	c.result = READ_ONCE(sqe->result);
	c.addr = READ_ONCE(sqe->addr);
	if (c.tag >= ch->nr_tags)
		return -EINVAL;
	t = array_index_nospec(c.tag, ch->nr_tags);

	switch (cmd->cmd_op) {
	case EXTPAGER_CHANNEL_FETCH:
		if (c.flags || c.result || c.addr)
			return -EINVAL;
		return extpager_fetch(ch, cmd, t, issue_flags);
	case EXTPAGER_CHANNEL_COMMIT_AND_FETCH:
		return extpager_commit(ch, cmd, t, &c, issue_flags);
	default:
		return -EOPNOTSUPP;
	}
}

/* The descriptors, read-only: the manager reads a tag's on its FETCH's CQE. */
static int extpager_channel_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct extpager_channel *ch = file->private_data;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vm_flags_clear(vma, VM_MAYWRITE);
	return remap_vmalloc_range(vma, ch->descs, vma->vm_pgoff);
}

/*
 * Every command holds the file: no FETCH waits any more.  Requests handed
 * out and not answered go to the manager again, another way.
 */
static int extpager_channel_release(struct inode *inode, struct file *file)
{
	struct extpager_channel *ch = file->private_data;
	struct extpager_manager *mgr = ch->mgr;
	struct extpager_object *obj;
	unsigned int t;

	spin_lock(&mgr->lock);
	list_del(&ch->node);
	spin_unlock(&mgr->lock);
	for (t = 0; t < ch->nr_tags; t++) {
		WARN_ON_ONCE(ch->tags[t].cmd);
		if (!ch->tags[t].object)
			continue;
		obj = extpager_object_get(ch->tags[t].object);
		if (!obj)
			continue;
		if (READ_ONCE(obj->manager) == mgr)
			extpager_send_again(obj, ch->tags[t].request);
		extpager_object_put(obj);
	}
	extpager_manager_put(mgr);
	vfree(ch->descs);
	kfree(ch);
	return 0;
}

static const struct file_operations extpager_channel_fops = {
	.owner		= THIS_MODULE,
	.uring_cmd	= extpager_channel_uring_cmd,
	.mmap		= extpager_channel_mmap,
	.release	= extpager_channel_release,
	.llseek		= noop_llseek,
};

/* CHANNEL_OPEN: a data channel of @nr_tags tags for the socket of @info. */
struct file *extpager_channel_open(const struct genl_info *info,
				   unsigned int nr_tags)
{
	struct extpager_channel *ch;
	struct file *file;
	int err = -ENOMEM;

	ch = kzalloc(struct_size(ch, tags, nr_tags), GFP_KERNEL_ACCOUNT);
	if (!ch)
		return ERR_PTR(-ENOMEM);
	ch->nr_tags = nr_tags;
	ch->descs = vmalloc_user(array_size(nr_tags, sizeof(*ch->descs)));
	if (!ch->descs)
		goto free;
	ch->mgr = extpager_manager_hold(info);
	if (!ch->mgr)
		goto free;
	file = anon_inode_getfile("[extpager-channel]", &extpager_channel_fops, ch,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		extpager_manager_put(ch->mgr);
		goto free;
	}
	spin_lock(&ch->mgr->lock);
	list_add_tail(&ch->node, &ch->mgr->channels);
	spin_unlock(&ch->mgr->lock);
	return file;

free:
	vfree(ch->descs);
	kfree(ch);
	return ERR_PTR(err);
}

#else /* !EXTPAGER_HAVE_CHANNEL: see compat.h */

struct file *extpager_channel_open(const struct genl_info *info,
				   unsigned int nr_tags)
{
	NL_SET_ERR_MSG(info->extack,
		       "no data channel on this kernel (io_uring commands cannot be cancelled): use netlink");
	return ERR_PTR(-EOPNOTSUPP);
}

#endif
