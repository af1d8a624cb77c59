/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/extpager.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_EXTPAGER_H
#define _UAPI_LINUX_EXTPAGER_H

#define EXTPAGER_FAMILY_NAME	"extpager"
#define EXTPAGER_FAMILY_VERSION	1

#define EXTPAGER_MAX_RUN	256

/**
 * enum extpager_access - The access the faulting thread wants.
 */
enum extpager_access {
	EXTPAGER_ACCESS_READ,
	EXTPAGER_ACCESS_WRITE,
};

/**
 * enum extpager_supply_flags
 * @EXTPAGER_SUPPLY_FLAGS_READONLY: The pages are locked against writing: the
 *   first write through a shared mapping sends data-unlock and waits for the
 *   manager.
 * @EXTPAGER_SUPPLY_FLAGS_PRECIOUS: The manager keeps no copy: the pages are
 *   returned (data-return with the clean flag) before they are dropped, even
 *   if unmodified.
 */
enum extpager_supply_flags {
	EXTPAGER_SUPPLY_FLAGS_READONLY = 1,
	EXTPAGER_SUPPLY_FLAGS_PRECIOUS = 2,
};

/**
 * enum extpager_return_flags
 * @EXTPAGER_RETURN_FLAGS_CLEAN: The pages were not modified since they were
 *   supplied: they come back because they are precious or a lock-request asked
 *   for all.
 */
enum extpager_return_flags {
	EXTPAGER_RETURN_FLAGS_CLEAN = 1,
};

/**
 * enum extpager_should_return - What a lock-request returns from its range.
 * @EXTPAGER_SHOULD_RETURN_DIRTY: Modified pages, and those the default pager
 *   holds.
 * @EXTPAGER_SHOULD_RETURN_ALL: Every resident page, the unmodified ones with
 *   the clean flag.
 */
enum extpager_should_return {
	EXTPAGER_SHOULD_RETURN_NONE,
	EXTPAGER_SHOULD_RETURN_DIRTY,
	EXTPAGER_SHOULD_RETURN_ALL,
};

/**
 * enum extpager_lock_flags
 * @EXTPAGER_LOCK_FLAGS_FLUSH: Drop the range's pages from memory once
 *   returned. Modified pages that were not returned stay: a flush never
 *   discards data.
 * @EXTPAGER_LOCK_FLAGS_WRITE_PROTECT: Lock the range's pages against writing,
 *   as if supplied with the readonly flag: the next write sends data-unlock.
 */
enum extpager_lock_flags {
	EXTPAGER_LOCK_FLAGS_FLUSH = 1,
	EXTPAGER_LOCK_FLAGS_WRITE_PROTECT = 2,
};

enum {
	EXTPAGER_A_OBJECT_ID = 1,
	EXTPAGER_A_OBJECT_FD,
	EXTPAGER_A_OBJECT_SIZE,
	EXTPAGER_A_OBJECT_MANAGER,
	EXTPAGER_A_OBJECT_MAY_CACHE,
	EXTPAGER_A_OBJECT_CLUSTER,
	EXTPAGER_A_OBJECT_REQUEST_ID,
	EXTPAGER_A_OBJECT_OFFSET,
	EXTPAGER_A_OBJECT_LENGTH,
	EXTPAGER_A_OBJECT_ACCESS,
	EXTPAGER_A_OBJECT_DATA,
	EXTPAGER_A_OBJECT_DATA_ADDR,
	EXTPAGER_A_OBJECT_FLAGS,
	EXTPAGER_A_OBJECT_ERROR,
	EXTPAGER_A_OBJECT_GRANT,
	EXTPAGER_A_OBJECT_PAGES_SUPPLIED,
	EXTPAGER_A_OBJECT_PAGES_SKIPPED,
	EXTPAGER_A_OBJECT_READY,
	EXTPAGER_A_OBJECT_RESIDENT,
	EXTPAGER_A_OBJECT_MAPPINGS,
	EXTPAGER_A_OBJECT_STATS,
	EXTPAGER_A_OBJECT_RETURN_FLAGS,
	EXTPAGER_A_OBJECT_SHOULD_RETURN,
	EXTPAGER_A_OBJECT_LOCK_FLAGS,
	EXTPAGER_A_OBJECT_RESIDENT_LIMIT,
	EXTPAGER_A_OBJECT_HELD,
	EXTPAGER_A_OBJECT_NOTIFY_EVICT,
	EXTPAGER_A_OBJECT_ORPHAN_MS,

	__EXTPAGER_A_OBJECT_MAX,
	EXTPAGER_A_OBJECT_MAX = (__EXTPAGER_A_OBJECT_MAX - 1)
};

enum {
	EXTPAGER_A_STATS_FAULTS = 1,
	EXTPAGER_A_STATS_REQUESTS,
	EXTPAGER_A_STATS_REQUESTED_PAGES,
	EXTPAGER_A_STATS_SUPPLIES,
	EXTPAGER_A_STATS_ZERO_FILLS,
	EXTPAGER_A_STATS_ERRORS,
	EXTPAGER_A_STATS_TIMEOUTS,
	EXTPAGER_A_STATS_UNLOCKS,
	EXTPAGER_A_STATS_RETURNS,
	EXTPAGER_A_STATS_RETURN_FAILURES,
	EXTPAGER_A_STATS_DEFAULTED,
	EXTPAGER_A_STATS_DEFAULT_FAULTS,
	EXTPAGER_A_STATS_DEFAULT_FAILURES,
	EXTPAGER_A_STATS_REDELIVERED,

	__EXTPAGER_A_STATS_MAX,
	EXTPAGER_A_STATS_MAX = (__EXTPAGER_A_STATS_MAX - 1)
};

enum {
	EXTPAGER_CMD_OBJECT_CREATE = 1,
	EXTPAGER_CMD_OBJECT_DESTROY,
	EXTPAGER_CMD_OBJECT_GET,
	EXTPAGER_CMD_READY,
	EXTPAGER_CMD_DATA_SUPPLY,
	EXTPAGER_CMD_DATA_UNAVAILABLE,
	EXTPAGER_CMD_DATA_ERROR,
	EXTPAGER_CMD_UNLOCK_REPLY,
	EXTPAGER_CMD_INIT,
	EXTPAGER_CMD_DATA_REQUEST,
	EXTPAGER_CMD_DATA_UNLOCK,
	EXTPAGER_CMD_TERMINATE,
	EXTPAGER_CMD_DATA_RETURN,
	EXTPAGER_CMD_RETURN_ACK,
	EXTPAGER_CMD_LOCK_REQUEST,
	EXTPAGER_CMD_LOCK_COMPLETED,
	EXTPAGER_CMD_OBJECT_ADOPT,
	EXTPAGER_CMD_DATA_EVICTED,
	EXTPAGER_CMD_DEFAULT_PAGER_SET,
	EXTPAGER_CMD_OBJECT_CREATE_ANON,

	__EXTPAGER_CMD_MAX,
	EXTPAGER_CMD_MAX = (__EXTPAGER_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_EXTPAGER_H */
