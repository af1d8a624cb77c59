/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * defpager's request protocol (Documentation/defpager.rst).  A client
 * connects to the daemon's unix socket (SOCK_SEQPACKET) and sends one
 * struct defpager_request per anonymous object it wants.  Each is answered
 * by a struct defpager_reply: error 0 with the object's file descriptor
 * attached (SCM_RIGHTS), or a negative errno and no descriptor.
 */
#ifndef DEFPAGER_H
#define DEFPAGER_H

#include <stdint.h>

struct defpager_request {
	uint64_t size;		/* bytes, a positive multiple of the page size */
};

struct defpager_reply {
	int32_t error;		/* 0, or -EINVAL, -EFBIG, -ENOMEM, ... */
};

/* The largest object the daemon serves (its page table stays small). */
#define DEFPAGER_MAX_SIZE	(1ull << 40)

#endif /* DEFPAGER_H */
