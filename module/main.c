// SPDX-License-Identifier: GPL-2.0
/*
 * extpager: Mach's external pager for Linux.
 *
 * A process maps a memory object; its page faults are served by the
 * object's manager, a userspace process, over generic netlink.  See
 * Documentation/extpager.rst.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "extpager.h"
#include "genl.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int param_set_positive(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, INT_MAX);
}

static const struct kernel_param_ops positive_uint_ops = {
	.set	= param_set_positive,
	.get	= param_get_uint,
};

unsigned int request_timeout_ms = 30000;
module_param_cb(request_timeout_ms, &positive_uint_ops, &request_timeout_ms, 0644);
MODULE_PARM_DESC(request_timeout_ms,
		 "How long a fault waits for its manager before SIGBUS, in ms (default 30000)");

unsigned int return_timeout_ms = 30000;
module_param_cb(return_timeout_ms, &positive_uint_ops, &return_timeout_ms, 0644);
MODULE_PARM_DESC(return_timeout_ms,
		 "How long returned dirty pages wait for the manager to acknowledge them, in ms (default 30000)");

unsigned int max_requests = 1024;
module_param_cb(max_requests, &positive_uint_ops, &max_requests, 0644);
MODULE_PARM_DESC(max_requests,
		 "Outstanding data requests per object; more faults wait for a slot (default 1024)");

unsigned int max_returns = 8;
module_param_cb(max_returns, &positive_uint_ops, &max_returns, 0644);
MODULE_PARM_DESC(max_returns,
		 "Returns (of up to 8 pages) waiting for acknowledgment per object; more writeback waits (default 8)");

bool unprivileged;
module_param(unprivileged, bool, 0644);
MODULE_PARM_DESC(unprivileged,
		 "Let managers without CAP_SYS_ADMIN create objects (default N)");

bool unprivileged_kernel_faults;
module_param(unprivileged_kernel_faults, bool, 0644);
MODULE_PARM_DESC(unprivileged_kernel_faults,
		 "Let kernel accesses to the missing pages of unprivileged managers' objects wait for the manager (default N: they fail with EFAULT)");

unsigned int max_objects_per_user = 64;
module_param(max_objects_per_user, uint, 0644);
MODULE_PARM_DESC(max_objects_per_user,
		 "Objects each unprivileged user may have (default 64)");

unsigned long default_pager_max_pages = 262144;
module_param(default_pager_max_pages, ulong, 0644);
MODULE_PARM_DESC(default_pager_max_pages,
		 "Pages the default pager may hold for all objects together (default 262144, 1 GiB of 4 KiB pages)");

atomic_long_t default_pager_pages;

unsigned int max_orphan_lifetime_ms = 300000;
module_param(max_orphan_lifetime_ms, uint, 0644);
MODULE_PARM_DESC(max_orphan_lifetime_ms,
		 "Longest an object's orphan-ms may be: how long a recoverable orphan waits for adoption (default 300000)");

atomic_long_t orphan_pages_dropped;

static int orphan_pages_dropped_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&orphan_pages_dropped));
}

static const struct kernel_param_ops orphan_pages_dropped_ops = {
	.get	= orphan_pages_dropped_get,
};

module_param_cb(orphan_pages_dropped, &orphan_pages_dropped_ops, NULL, 0444);
MODULE_PARM_DESC(orphan_pages_dropped,
		 "Dirty pages dropped with recoverable objects nobody adopted in time (read-only)");

static int default_pager_pages_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&default_pager_pages));
}

static const struct kernel_param_ops default_pager_pages_ops = {
	.get	= default_pager_pages_get,
};

module_param_cb(default_pager_pages, &default_pager_pages_ops, NULL, 0444);
MODULE_PARM_DESC(default_pager_pages,
		 "Pages the default pager holds now, for all objects (read-only)");

struct workqueue_struct *extpager_wq;
struct workqueue_struct *extpager_default_wq;

static int __init extpager_init(void)
{
	int err;

	/*
	 * WQ_MEM_RECLAIM: the default pager ends writeback that reclaim
	 * waits on.  On a workqueue of its own: lock requests and
	 * redeliveries wait for writeback to end, and under memory pressure
	 * a WQ_MEM_RECLAIM workqueue may have only its rescuer, which runs
	 * one work at a time (Documentation/core-api/workqueue.rst).
	 */
	extpager_default_wq = alloc_workqueue("extpager-default",
					      WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!extpager_default_wq)
		return -ENOMEM;
	extpager_wq = alloc_workqueue("extpager", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!extpager_wq) {
		destroy_workqueue(extpager_default_wq);
		return -ENOMEM;
	}

	err = extpager_fs_init();
	if (err) {
		pr_err("cannot set up the object filesystem: %d\n", err);
		goto destroy_wq;
	}
	err = extpager_managers_init();
	if (err) {
		pr_err("cannot watch netlink sockets: %d\n", err);
		goto fs_exit;
	}
	err = genl_register_family(&extpager_nl_family);
	if (err) {
		pr_err("cannot register the generic netlink family: %d\n", err);
		goto managers_exit;
	}
	return 0;

managers_exit:
	extpager_managers_exit();
fs_exit:
	extpager_fs_exit();
destroy_wq:
	destroy_workqueue(extpager_wq);
	destroy_workqueue(extpager_default_wq);
	return err;
}

static void __exit extpager_exit(void)
{
	genl_unregister_family(&extpager_nl_family);
	/* Lock requests may hold the last reference to an object. */
	destroy_workqueue(extpager_wq);
	/* Empty: an object's release flushes its default_work. */
	destroy_workqueue(extpager_default_wq);
	extpager_managers_exit();
	extpager_fs_exit();
}

module_init(extpager_init);
module_exit(extpager_exit);

MODULE_DESCRIPTION("External pagers: page faults served by userspace managers");
MODULE_VERSION(EXTPAGER_VERSION);
MODULE_LICENSE("GPL");
