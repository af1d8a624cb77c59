// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family through which managers talk to the module.
 */

#include <net/genetlink.h>
#include <linux/extpager.h>

#include "extpager.h"

static struct genl_family extpager_genl_family __ro_after_init = {
	.name		= EXTPAGER_FAMILY_NAME,
	.version	= EXTPAGER_FAMILY_VERSION,
	.module		= THIS_MODULE,
	.netnsok	= true,
};

int __init extpager_genl_init(void)
{
	return genl_register_family(&extpager_genl_family);
}

void extpager_genl_exit(void)
{
	genl_unregister_family(&extpager_genl_family);
}
