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

#include "extpager.h"

static int __init extpager_init(void)
{
	int err;

	err = extpager_genl_init();
	if (err) {
		pr_err("cannot register the generic netlink family: %d\n", err);
		return err;
	}
	return 0;
}

static void __exit extpager_exit(void)
{
	extpager_genl_exit();
}

module_init(extpager_init);
module_exit(extpager_exit);

MODULE_DESCRIPTION("External pagers: page faults served by userspace managers");
MODULE_LICENSE("GPL");
