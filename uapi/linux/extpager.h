/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * extpager: Mach's external pager for Linux.
 *
 * The one header shared by the kernel module and userspace.  The protocol is
 * a generic netlink family; Documentation/extpager.rst describes it.
 */
#ifndef _UAPI_LINUX_EXTPAGER_H
#define _UAPI_LINUX_EXTPAGER_H

#define EXTPAGER_FAMILY_NAME		"extpager"
#define EXTPAGER_FAMILY_VERSION		1

#endif /* _UAPI_LINUX_EXTPAGER_H */
