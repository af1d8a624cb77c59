/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints, in /sys/kernel/tracing/events/extpager/.  index and pages
 * count PAGE_SIZE pages from the object's start.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM extpager

#if !defined(_EXTPAGER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _EXTPAGER_TRACE_H

#include <linux/tracepoint.h>

/* @value: the access for a request, -errno for an error, see unlock. */
DECLARE_EVENT_CLASS(extpager_run,
		    TP_PROTO(u32 obj, u32 req, pgoff_t index, unsigned int nr, int value),
		    TP_ARGS(obj, req, index, nr, value),
		    TP_STRUCT__entry(__field(u32, obj)
				     __field(u32, req)
				     __field(pgoff_t, index)
				     __field(unsigned int, nr)
				     __field(int, value)),
		    TP_fast_assign(__entry->obj = obj;
				   __entry->req = req;
				   __entry->index = index;
				   __entry->nr = nr;
				   __entry->value = value;),
		    TP_printk("object=%u request=%u index=%lu pages=%u value=%d",
			      __entry->obj, __entry->req, __entry->index,
			      __entry->nr, __entry->value)
);

#define EXTPAGER_RUN_EVENT(name)						\
	DEFINE_EVENT(extpager_run, name,					\
		     TP_PROTO(u32 obj, u32 req, pgoff_t index, unsigned int nr,	\
			      int value),					\
		     TP_ARGS(obj, req, index, nr, value))

/* A DATA_REQUEST was sent; value is enum extpager_access. */
EXTPAGER_RUN_EVENT(extpager_request);
/* Pages were supplied; req is 0 for a prefetch. */
EXTPAGER_RUN_EVENT(extpager_supply);
/* Pages were answered with DATA_UNAVAILABLE and read as zeros. */
EXTPAGER_RUN_EVENT(extpager_zero_fill);
/* Pages failed, by DATA_ERROR or in the kernel; value is -errno. */
EXTPAGER_RUN_EVENT(extpager_error);
/* A request timed out; its pending pages fail. */
EXTPAGER_RUN_EVENT(extpager_timeout);
/* A DATA_UNLOCK was sent (value 1), granted (0) or denied (-EACCES). */
EXTPAGER_RUN_EVENT(extpager_unlock);

#endif /* _EXTPAGER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
