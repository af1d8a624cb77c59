/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module is written against the newest kernel it supports (Debian
 * sid's 7.2); this header gives older ones (6.12, Debian's 6.1) what they
 * lack, as wireguard-linux-compat's compat.h does, so that the .c files
 * stay free of version tests.  Each backfill hangs on a feature test,
 * never on the version (distribution kernels backport: Debian's 6.1.192
 * has ITER_SOURCE and bvec_set_page): a macro the new API defines, or an
 * EXTPAGER_HAVE_* that module/compat-probe.sh found in the target's
 * headers at build time (compat-probe.h).
 *
 * Each backfill follows the kernel's own definition where it appeared (the
 * version is in its comment) and does what it does there, or says where
 * it cannot.
 */
#ifndef _EXTPAGER_COMPAT_H
#define _EXTPAGER_COMPAT_H

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/string.h>
#include <linux/writeback.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat-probe.h"

/* 7.0 renamed <linux/pagevec.h>, which by then held only folio_batch. */
#ifdef EXTPAGER_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif

/*
 * The data channel needs io_uring commands that can be cancelled (6.7's
 * io_uring_cmd_mark_cancelable()).  Without, CHANNEL_OPEN fails with
 * EOPNOTSUPP and managers use generic netlink (Documentation/extpager.rst).
 */
#ifdef EXTPAGER_HAVE_IO_URING_CMD_CANCEL
#define EXTPAGER_HAVE_CHANNEL 1
#endif

/* Generic netlink: split ops (6.2).  genl_compat.c has the per-command table. */
#ifndef EXTPAGER_HAVE_GENL_SPLIT_OPS
/* The hooks' type: before 6.2 the family's pre_doit/post_doit take genl_ops. */
#define genl_split_ops genl_ops
#endif

extern struct genl_family extpager_nl_family;

/* 6.6; before, genl_info has no family: the module has one. */
#ifndef EXTPAGER_HAVE_GENLMSG_IPUT
static inline void *genlmsg_iput(struct sk_buff *skb, const struct genl_info *info)
{
	return genlmsg_put(skb, info->snd_portid, info->snd_seq,
			   &extpager_nl_family, 0, info->genlhdr->cmd);
}
#endif

/*
 * 6.6: a dump's request as a genl_info.  Before, the core keeps none, so it
 * is filled in a compound literal that lives as long as the calling
 * function's block, which is how the dumpit uses it.
 */
#ifndef EXTPAGER_HAVE_GENL_INFO_DUMP
static inline const struct genl_info *
extpager_genl_info_dump(struct netlink_callback *cb, struct genl_info *info)
{
	info->snd_seq = cb->nlh->nlmsg_seq;
	info->snd_portid = NETLINK_CB(cb->skb).portid;
	info->nlhdr = (struct nlmsghdr *)cb->nlh;	/* 6.6 keeps it so too */
	info->genlhdr = nlmsg_data(cb->nlh);
	info->attrs = genl_dumpit_info(cb)->attrs;
	genl_info_net_set(info, sock_net(cb->skb->sk));
	info->extack = cb->extack;
	return info;
}

#define genl_info_dump(cb) extpager_genl_info_dump(cb, &(struct genl_info){})
#endif

/* 6.5: a const genl_info. */
#ifndef EXTPAGER_HAVE_GENL_INFO_NET_CONST
static inline struct net *extpager_genl_info_net(const struct genl_info *info)
{
	return read_pnet(&info->_net);
}

#define genl_info_net extpager_genl_info_net
#endif

/*
 * 6.2: formatted extack messages.  Before, extack holds only a pointer to
 * a constant string: the format itself is reported, without its arguments.
 */
#ifndef EXTPAGER_HAVE_NL_SET_ERR_MSG_FMT
#define NL_SET_ERR_MSG_FMT(extack, fmt, args...) NL_SET_ERR_MSG(extack, fmt)
#define NL_SET_ERR_MSG_ATTR_FMT(extack, attr, fmt, args...) \
	NL_SET_ERR_MSG_ATTR(extack, attr, fmt)
#endif

/*
 * 6.7: NLA_UINT, a u32 or a u64 as the sender chose.  Before, a binary
 * attribute whose length a validator checks, which the policy dump shows as
 * binary; the getter and putter are 6.7's.
 */
#ifndef EXTPAGER_HAVE_NLA_UINT
static inline int extpager_nla_validate_uint(const struct nlattr *attr,
					     struct netlink_ext_ack *extack)
{
	if (nla_len(attr) == sizeof(u32) || nla_len(attr) == sizeof(u64))
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr, "invalid uint attribute length");
	return -EINVAL;
}

#define NLA_UINT NLA_BINARY, .validation_type = NLA_VALIDATE_FUNCTION, \
	.validate = extpager_nla_validate_uint

static inline u64 nla_get_uint(const struct nlattr *nla)
{
	if (nla_len(nla) == sizeof(u32))
		return nla_get_u32(nla);
	return nla_get_u64(nla);
}

static inline int nla_put_uint(struct sk_buff *skb, int attrtype, u64 value)
{
	u64 tmp64 = value;
	u32 tmp32 = value;

	if (tmp64 == tmp32)
		return nla_put_u32(skb, attrtype, tmp32);
	return nla_put(skb, attrtype, sizeof(u64), &tmp64);
}
#endif

/* 6.10 */
#ifndef EXTPAGER_HAVE_NLA_FOR_EACH_ATTR_TYPE
struct extpager_nla_iter {
	struct nlattr **pos;
	int *rem;
	const struct nlattr *head;	/* until the first step */
	int len;
	int type;
};

/* Step *it->pos to the next well-formed attribute of it->type. */
static inline bool extpager_nla_iter_next(struct extpager_nla_iter *it)
{
	const struct nlattr *pos;

	if (it->head) {
		pos = it->head;
		*it->rem = it->len;
		it->head = NULL;
	} else {
		pos = nla_next(*it->pos, it->rem);
	}
	for (; nla_ok(pos, *it->rem); pos = nla_next(pos, it->rem)) {
		if (nla_type(pos) == it->type) {
			*it->pos = (struct nlattr *)pos;
			return true;
		}
	}
	return false;
}

#define nla_for_each_attr_type(pos, type, head, len, rem)			\
	for (struct extpager_nla_iter __it = { &(pos), &(rem), (head), (len), (type) }; \
	     extpager_nla_iter_next(&__it);)
#endif

/*
 * 6.8: strscpy(dst, src) sizes an array destination itself.  The function
 * the macro stands for is called as (strscpy).
 */
#ifndef EXTPAGER_HAVE_SIZED_STRSCPY
#define __extpager_strscpy0(dst, src) \
	((strscpy)(dst, src, sizeof(dst) + __must_be_array(dst)))
#define __extpager_strscpy1(dst, src, size) ((strscpy)(dst, src, size))
#define strscpy(dst, src, ...) \
	CONCATENATE(__extpager_strscpy, COUNT_ARGS(__VA_ARGS__))(dst, src, ##__VA_ARGS__)
#endif

/* 6.7 */
#ifndef EXTPAGER_HAVE_SIMPLE_INODE_INIT_TS
static inline struct timespec64 simple_inode_init_ts(struct inode *inode)
{
	struct timespec64 ts = current_time(inode);

	inode->i_atime = ts;
	inode->i_mtime = ts;
	inode->i_ctime = ts;
	return ts;
}
#endif

/* 6.4 */
#ifndef EXTPAGER_HAVE_BVEC_SET_FOLIO
static inline void bvec_set_folio(struct bio_vec *bv, struct folio *folio,
				  unsigned int len, unsigned int offset)
{
	bv->bv_page = &folio->page;
	bv->bv_len = len;
	bv->bv_offset = offset;
}
#endif

/*
 * 6.3: filemap_get_folio() returns ERR_PTR(-ENOENT), not NULL, when there
 * is no folio; the module tests IS_ERR().
 */
#ifndef EXTPAGER_HAVE_FILEMAP_GET_FOLIO_ERR_PTR
static inline struct folio *extpager_filemap_get_folio(struct address_space *mapping,
						       pgoff_t index)
{
	return __filemap_get_folio(mapping, index, 0, 0) ?: ERR_PTR(-ENOENT);
}

#define filemap_get_folio extpager_filemap_get_folio
#endif

/* 6.3 */
#ifndef EXTPAGER_HAVE_FILEMAP_GRAB_FOLIO
static inline struct folio *filemap_grab_folio(struct address_space *mapping,
					       pgoff_t index)
{
	return __filemap_get_folio(mapping, index, FGP_LOCK | FGP_ACCESSED | FGP_CREAT,
				   mapping_gfp_mask(mapping)) ?: ERR_PTR(-ENOMEM);
}
#endif

/*
 * Exported from 6.2 on.  Before, shmem_file_setup(), which differs only in
 * running the LSM's inode hooks: the store is still the module's alone.
 */
#ifndef EXTPAGER_HAVE_SHMEM_KERNEL_FILE_SETUP
#define shmem_kernel_file_setup shmem_file_setup
#endif

/* 6.4: without per-VMA locks a fault holds mmap_lock. */
#ifndef EXTPAGER_HAVE_RELEASE_FAULT_LOCK
static inline void release_fault_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->vma->vm_mm);
}
#endif

/*
 * 6.10: writeback_iter().  6.10's keeps its batch and its place in the
 * writeback_control, which older kernels lack; this one finds each next
 * folio from where the last one ended (one lookup per folio) and otherwise
 * does what 6.10's does: the same range, tags, nr_to_write and
 * writeback_index, the same checks before a folio is handed out (6.1's
 * write_cache_pages()), and stops a WB_SYNC_NONE pass at the first error.
 * The caller's *error keeps its first error for WB_SYNC_ALL.
 */
#ifndef EXTPAGER_HAVE_WRITEBACK_ITER
static inline pgoff_t extpager_wbc_end(struct writeback_control *wbc)
{
	return wbc->range_cyclic ? -1 : wbc->range_end >> PAGE_SHIFT;
}

static inline xa_mark_t extpager_wbc_tag(struct writeback_control *wbc)
{
	if (wbc->sync_mode == WB_SYNC_ALL || wbc->tagged_writepages)
		return PAGECACHE_TAG_TOWRITE;
	return PAGECACHE_TAG_DIRTY;
}

static inline bool extpager_folio_prepare_writeback(struct address_space *mapping,
						    struct writeback_control *wbc,
						    struct folio *folio)
{
	if (unlikely(folio->mapping != mapping) || !folio_test_dirty(folio))
		return false;
	if (folio_test_writeback(folio)) {
		if (wbc->sync_mode == WB_SYNC_NONE)
			return false;
		folio_wait_writeback(folio);
	}
	return folio_clear_dirty_for_io(folio);
}

static inline struct folio *writeback_iter(struct address_space *mapping,
					   struct writeback_control *wbc,
					   struct folio *folio, int *error)
{
	struct folio_batch fbatch;
	pgoff_t index;

	if (!folio) {
		*error = 0;
		index = wbc->range_cyclic ? mapping->writeback_index :
			wbc->range_start >> PAGE_SHIFT;
		if (wbc->sync_mode == WB_SYNC_ALL || wbc->tagged_writepages)
			tag_pages_for_writeback(mapping, index, extpager_wbc_end(wbc));
	} else {
		index = folio_next_index(folio);
		wbc->nr_to_write -= folio_nr_pages(folio);
		folio_put(folio);	/* the reference this function took */
		if (wbc->sync_mode == WB_SYNC_NONE &&
		    (*error || wbc->nr_to_write <= 0)) {
			if (wbc->range_cyclic)
				mapping->writeback_index = index;
			return NULL;
		}
	}
	folio_batch_init(&fbatch);
	for (;;) {
		pgoff_t at = index;

		cond_resched();
		if (index > extpager_wbc_end(wbc) ||
		    !filemap_get_folios_tag(mapping, &at, extpager_wbc_end(wbc),
					    extpager_wbc_tag(wbc), &fbatch))
			break;
		folio = fbatch.folios[0];
		folio_get(folio);
		folio_batch_release(&fbatch);
		folio_lock(folio);
		if (extpager_folio_prepare_writeback(mapping, wbc, folio))
			return folio;
		folio_unlock(folio);
		index = folio_next_index(folio);
		folio_put(folio);
		if (!index)	/* wrapped past the last index */
			break;
	}
	if (wbc->range_cyclic)
		mapping->writeback_index = 0;
	return NULL;
}
#endif

/* 6.18 named ->drop_inode()'s "always drop" inode_just_drop(). */
#ifndef EXTPAGER_HAVE_INODE_JUST_DROP
#define inode_just_drop generic_delete_inode
#endif

/*
 * 6.19 gave filemap_alloc_folio() a NUMA policy; NULL, the default one,
 * is what the module passes.
 */
#ifndef EXTPAGER_HAVE_FILEMAP_ALLOC_POLICY
#ifdef EXTPAGER_HAVE_FILEMAP_ALLOC_NOPROF	/* 6.10: allocation tagging */
#define filemap_alloc_folio_noprof(gfp, order, ...) \
	filemap_alloc_folio_noprof(gfp, order)
#else
#define filemap_alloc_folio(gfp, order, ...) filemap_alloc_folio(gfp, order)
#endif
#endif

/*
 * vma_flags_t (bit numbers, not masks) came with the helper that builds
 * them; before it, shmem_kernel_file_setup() took a vm_flags_t mask.
 */
#ifndef mk_vma_flags
#define VMA_NORESERVE_BIT	ilog2(VM_NORESERVE)
#define mk_vma_flags(bit)	BIT(bit)
#endif

#ifdef EXTPAGER_HAVE_CHANNEL
#include <linux/io_uring/cmd.h>

/* The io_uring command API, which changed in almost every release. */

/* 6.19 made the sqe's command a typed, size-checked accessor. */
#ifndef io_uring_sqe_cmd
#define io_uring_sqe_cmd(sqe, type) ((const type *)io_uring_sqe_cmd(sqe))
#endif

/* 6.18 dropped the second result, which only 32-byte CQEs carry. */
#ifndef EXTPAGER_HAVE_IO_URING_CMD_DONE3
#define io_uring_cmd_done(cmd, ret, issue_flags) \
	io_uring_cmd_done(cmd, ret, 0, issue_flags)
#endif

/*
 * 6.19 made a command's task work an ordinary io_uring task work, which
 * finds its command with io_uring_cmd_from_tw() and completes it with
 * IO_URING_CMD_TASK_WORK_ISSUE_FLAGS.  Before, the callback was given the
 * command and its issue flags: COMPAT_URING_CMD_TW(fn), after callback
 * @fn, makes such a callback that calls @fn, and
 * io_uring_cmd_complete_in_task() takes it in @fn's place.
 */
#ifdef IO_URING_CMD_TASK_WORK_ISSUE_FLAGS
#define COMPAT_URING_CMD_TW(fn) \
	static_assert(__same_type(&(fn), io_req_tw_func_t))
#else
struct io_tw_req {
	struct io_uring_cmd *cmd;
};

#define io_tw_token_t		unsigned int
#define io_uring_cmd_from_tw(tw_req)	((tw_req).cmd)
/* What io_uring_cmd_work() gives every callback (and TASK_DEAD, unused). */
#define IO_URING_CMD_TASK_WORK_ISSUE_FLAGS	IO_URING_F_COMPLETE_DEFER

#define COMPAT_URING_CMD_TW(fn)						\
static void fn##_compat(struct io_uring_cmd *cmd, unsigned int flags)	\
{									\
	fn((struct io_tw_req){ .cmd = cmd }, flags);			\
}

#define io_uring_cmd_complete_in_task(cmd, fn) \
	io_uring_cmd_complete_in_task(cmd, fn##_compat)
#endif
#endif /* EXTPAGER_HAVE_CHANNEL */

#endif /* _EXTPAGER_COMPAT_H */
