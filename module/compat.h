/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module is written against the newest kernel it supports (Debian
 * sid's 7.2); this header gives older ones what they lack, as
 * wireguard-linux-compat's compat.h does.  Each backfill hangs on a
 * feature test, never on the version (distribution kernels backport):
 * a macro the new API defines, or an EXTPAGER_HAVE_* that Kbuild sets
 * after reading the kernel's headers.
 */
#ifndef _EXTPAGER_COMPAT_H
#define _EXTPAGER_COMPAT_H

#include <linux/fs.h>
#include <linux/io_uring/cmd.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>

/* 7.0 renamed <linux/pagevec.h>, which by then held only folio_batch. */
#ifdef EXTPAGER_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
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
#define filemap_alloc_folio_noprof(gfp, order, ...) \
	filemap_alloc_folio_noprof(gfp, order)
#endif

/*
 * vma_flags_t (bit numbers, not masks) came with the helper that builds
 * them; before it, shmem_kernel_file_setup() took a vm_flags_t mask.
 */
#ifndef mk_vma_flags
#define VMA_NORESERVE_BIT	ilog2(VM_NORESERVE)
#define mk_vma_flags(bit)	BIT(bit)
#endif

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

#endif /* _EXTPAGER_COMPAT_H */
