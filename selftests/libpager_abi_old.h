/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libpager's structs as 1.0.0 first laid them out, frozen: what a program
 * built against that libpager.h passes the library, by way of the macros
 * below, as that header's pager_create() and others do.  Renamed (_1_0) so
 * that a test can hold them beside today's.  Never change this file: when
 * libpager.h's structs grow, it is what proves the old programs still work.
 */
#ifndef LIBPAGER_ABI_OLD_H
#define LIBPAGER_ABI_OLD_H

#include <stddef.h>
#include <stdint.h>

#include "libpager.h"

struct pager_ops_1_0 {
	int (*read)(struct pager *pager, uint64_t offset, size_t len, void *buf,
		    enum pager_access access, unsigned int *flags);
	int (*write)(struct pager *pager, uint64_t offset, size_t len,
		     const void *data, unsigned int flags);
	int (*unlock)(struct pager *pager, uint64_t offset, size_t len);
	void (*terminate)(struct pager *pager);
	void (*evict)(struct pager *pager, uint64_t offset, size_t len);
	uint64_t (*extent)(struct pager *pager);
};

struct pager_attr_1_0 {
	unsigned int cluster;
	int no_cache;
	uint64_t resident_limit;
};

struct pager_stats_1_0 {
	uint64_t size;
	uint32_t manager;
	uint64_t resident;
	uint64_t mappings;
	uint64_t faults;
	uint64_t requests;
	uint64_t requested_pages;
	uint64_t supplies;
	uint64_t zero_fills;
	uint64_t errors;
	uint64_t timeouts;
	uint64_t unlocks;
	uint64_t returns;
	uint64_t return_failures;
	uint64_t resident_limit;
	uint64_t held;
	uint64_t defaulted;
	uint64_t default_faults;
	uint64_t default_failures;
	uint64_t redelivered;
};

/* The old header's macros, with its sizes. */
#define pager_create_1_0(conn, size, ops, attr, priv, pagerp)			\
	pager_create_sized(conn, size, (const struct pager_ops *)(ops),		\
			   sizeof(struct pager_ops_1_0),			\
			   (const struct pager_attr *)(attr),			\
			   sizeof(struct pager_attr_1_0), priv, pagerp)
#define pager_set_attr_1_0(pager, attr)						\
	pager_set_attr_sized(pager, (const struct pager_attr *)(attr),		\
			     sizeof(struct pager_attr_1_0))
#define pager_stats_1_0(pager, stats)						\
	pager_stats_sized(pager, (struct pager_stats *)(stats),			\
			  sizeof(struct pager_stats_1_0))

#endif /* LIBPAGER_ABI_OLD_H */
