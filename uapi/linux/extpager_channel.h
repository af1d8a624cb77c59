/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * extpager's data channel: data requests and unlocks, and their answers,
 * over io_uring passthrough commands (IORING_OP_URING_CMD) on a file
 * descriptor that the generic netlink command channel-open returns.
 * Documentation/extpager.rst describes it message by message.
 *
 * A channel has as many tags as channel-open asked for.  For each tag, the manager keeps a
 * FETCH outstanding; when a fault needs pages and the manager has a FETCH
 * waiting on any of its channels, the kernel writes the request into the
 * tag's descriptor (the channel's mmap()ed array of struct
 * extpager_channel_desc, read-only) and completes the FETCH with the tag as
 * its result.  The manager answers with COMMIT_AND_FETCH on the same tag,
 * which applies the answer and waits for the tag's next request.  Requests
 * that find no FETCH waiting go over generic netlink, as without a channel.
 */
#ifndef _UAPI_LINUX_EXTPAGER_CHANNEL_H
#define _UAPI_LINUX_EXTPAGER_CHANNEL_H

#include <linux/types.h>
#include <linux/extpager.h>

/* The commands: sqe->cmd_op. */
#define EXTPAGER_CHANNEL_FETCH			1
#define EXTPAGER_CHANNEL_COMMIT_AND_FETCH	2

/* Answers to a data request: struct extpager_channel_cmd's result. */
/* The run's data is at addr: length bytes, page n at addr + n pages. */
#define EXTPAGER_CHANNEL_SUPPLY		0
/* No data: the run reads as zeros (data-unavailable). */
#define EXTPAGER_CHANNEL_UNAVAILABLE	1
/*
 * No answer here: the tag is released and the request stays pending, to be
 * answered over generic netlink by its request id, or to time out.
 */
#define EXTPAGER_CHANNEL_NONE		2
/*
 * A negative errno fails the run (data-error): its faults get SIGBUS.  To
 * a data-unlock, EXTPAGER_CHANNEL_SUPPLY (0) grants write access and a
 * negative errno denies it; EXTPAGER_CHANNEL_NONE works as for requests.
 */

/* The command, in the sqe's cmd area (a 64-byte sqe suffices). */
struct extpager_channel_cmd {
	__u16 tag;
	__u16 flags;	/* COMMIT: enum extpager_supply_flags, with SUPPLY */
	__s32 result;	/* COMMIT: the answer to the tag's request */
	__u64 addr;	/* COMMIT with SUPPLY: the data */
};

/*
 * A request, as the kernel writes it into the tag's descriptor before it
 * completes the tag's FETCH.
 */
struct extpager_channel_desc {
	__u32 object_id;
	__u32 request_id;	/* as in data-request, for netlink answers */
	__u64 offset;		/* bytes, page aligned */
	__u64 length;		/* bytes, at most max-run pages */
	__u8 cmd;		/* EXTPAGER_CMD_DATA_REQUEST or _DATA_UNLOCK */
	__u8 access;		/* enum extpager_access; write for an unlock */
	__u8 pad[6];
};

#endif /* _UAPI_LINUX_EXTPAGER_CHANNEL_H */
