/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpager: write extpager memory-object managers.
 *
 * A manager opens a connection, creates objects on it, hands their file
 * descriptors to clients, and serves the kernel's requests for their pages
 * through callbacks.  Functions return 0 (or a count) on success and a
 * negative errno on failure; pager_conn_error() then has the kernel's
 * explanation.  Documentation/libpager.rst describes the library.
 *
 * Thread safety: a connection and its pagers may be used from several
 * threads, each function's comment says how; only one thread at a time may
 * run pager_serve() or pager_dispatch() on a connection.  Callbacks run in
 * that thread, or concurrently in pager_serve()'s workers: see there.  A
 * callback may call any function but pager_serve(), pager_dispatch(),
 * pager_conn_close() and the lock requests (pager_lock_request(),
 * pager_sync(), pager_flush(), pager_return(): -EDEADLK), its own pager's
 * pager_destroy() included.
 *
 * Growing structs: struct pager_ops, pager_attr and pager_stats gain
 * fields at their end in later releases, never change or lose one.  The
 * functions that take one are called through a macro of the familiar name
 * (pager_create(), pager_stats(), ...) that passes the struct's size as
 * this header has it to a *_sized() function, which the library exports:
 * so a program built against an older header keeps working with a newer
 * library, and the other way round, as the kernel's extensible structs
 * do (clone3(), openat2(): copy_struct_from_user()).  The library reads a
 * shorter struct as if zero-extended: a field it lacks is absent (a NULL
 * callback, a default attribute).  A longer one is taken if every byte
 * the library does not know is zero, and refused with -E2BIG otherwise:
 * the program asks for a callback or attribute this library cannot honour.
 * One shorter than 1.0.0's layout is refused with -EINVAL.  pager_stats()
 * fills as much of the caller's struct as it has room for and zeroes what
 * it has no counter for: a zero field may mean "not reported".  So
 * initialise the structs you pass whole (= { ... } or memset), and take
 * no function's address but a _sized one's.
 */
#ifndef LIBPAGER_H
#define LIBPAGER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pager_conn;
struct pager;

/* A read callback's answer besides 0 and -errno: the run reads as zeros. */
#define PAGER_UNAVAILABLE	1

/* Flags a read callback may set, and pager_offer() takes. */
/* The pages are supplied read-only: the first write through a shared
 * mapping asks the unlock callback. */
#define PAGER_READONLY		(1u << 0)
/* The pager keeps no copy: the kernel returns the pages before it drops
 * them, even unmodified (the write callback then sees PAGER_CLEAN). */
#define PAGER_PRECIOUS		(1u << 1)

/* Flags the write callback gets: the pages were not modified since they
 * were supplied (precious, or returned by pager_return()). */
#define PAGER_CLEAN		(1u << 0)

enum pager_access {
	PAGER_ACCESS_READ,
	PAGER_ACCESS_WRITE,
};

struct pager_ops {
	/*
	 * The kernel wants @len bytes at @offset (both page aligned) for a
	 * fault that wants @access.  Fill @buf and return 0, or return
	 * PAGER_UNAVAILABLE (zeros) or -errno (the faults get SIGBUS).  May
	 * set PAGER_READONLY in *@flags.  Required.
	 */
	int (*read)(struct pager *pager, uint64_t offset, size_t len, void *buf,
		    enum pager_access access, unsigned int *flags);
	/*
	 * The kernel returns @len bytes at @offset (evicted, flushed or
	 * synced), dirty unless @flags has PAGER_CLEAN.  Store them and return
	 * 0, or return -errno: the pages then stay dirty and fsync/msync in
	 * the clients report it.  NULL: pager_create() makes the object
	 * read-only (no shared writable mapping: mmap and mprotect fail with
	 * EACCES), and returns (of an adopted object) are refused with
	 * -EOPNOTSUPP.
	 */
	int (*write)(struct pager *pager, uint64_t offset, size_t len,
		     const void *data, unsigned int flags);
	/*
	 * A write hit a page supplied read-only: return 0 to make it writable
	 * or -errno to deny (the writer gets SIGBUS).  NULL grants.
	 */
	int (*unlock)(struct pager *pager, uint64_t offset, size_t len);
	/*
	 * The object is gone: its last file descriptor and mapping were
	 * closed.  @pager is freed when this returns.  May be NULL.
	 */
	void (*terminate)(struct pager *pager);
	/*
	 * The kernel dropped @len bytes of clean pages at @offset from memory
	 * (the Hurd's notify_on_evict); the next fault on them calls read.
	 * Best effort, after the fact.  NULL: the kernel does not tell.
	 */
	void (*evict)(struct pager *pager, uint64_t offset, size_t len);
	/*
	 * The object's extent in bytes now (the Hurd's pager_report_extent):
	 * pages wholly beyond it are not read, their faults get SIGBUS as
	 * past the end of a file; and pager_create() with size 0 takes the
	 * object's size from it.  NULL: the object's size is its extent.
	 */
	uint64_t (*extent)(struct pager *pager);
};

/* Attributes sent with READY; zeroes mean the defaults. */
struct pager_attr {
	unsigned int cluster;	/* pages asked for around a fault (1..256), default 1 */
	int no_cache;		/* drop unmapped pages when the last mapping goes */
	uint64_t resident_limit; /* most pages kept in memory, 0: no limit */
};

/* The kernel's counters for an object (pager_stats()). */
struct pager_stats {
	uint64_t size;
	uint32_t manager;	/* the manager's port id, 0 once it is gone */
	uint64_t resident;	/* pages in the page cache */
	uint64_t mappings;
	uint64_t faults;
	uint64_t requests;
	uint64_t requested_pages;
	uint64_t supplies;
	uint64_t zero_fills;
	uint64_t errors;
	uint64_t timeouts;
	uint64_t unlocks;
	uint64_t returns;	/* pages returned and stored */
	uint64_t return_failures;	/* pages the write callback refused */
	uint64_t resident_limit;
	uint64_t held;		/* pages the kernel's default pager holds now */
	uint64_t defaulted;	/* pages moved into the default pager */
	uint64_t default_faults;	/* pages faulted in from it */
	uint64_t default_failures;	/* pages it could not take: still dirty */
	uint64_t redelivered;	/* pages it gave back to be returned */
	/* Added after 1.0.0's first layout: 0 from a library without them. */
	uint64_t channel_requests;	/* requests handed out over a data channel */
	uint32_t cluster;	/* pages asked for around a fault, as READY set it */
	uint32_t manager_pid;	/* the manager's process, 0 once it is gone */
};

/*
 * Open a connection.  -ENOENT: the module is not loaded;
 * -EPROTONOSUPPORT: its family reports version 0 or none (any version from
 * EXTPAGER_FAMILY_VERSION on is taken: the protocol grows by adding).
 * Either way pager_conn_error() says so in words.  Thread-safe.
 */
int pager_conn_open(struct pager_conn **connp);

/*
 * Close a connection (NULL: nothing) and free its pagers: its objects are
 * orphaned (see Documentation/).  Nothing else may be running on @conn.
 */
void pager_conn_close(struct pager_conn *conn);

/*
 * A descriptor to poll for readability before pager_dispatch(): readable
 * when events wait, in the connection's socket or received by another
 * thread's call along with its answer.  Thread-safe.
 */
int pager_conn_fd(const struct pager_conn *conn);

/*
 * Why the last call that failed in this thread failed: the kernel's extack
 * message, or libpager's own words (the module not loaded, a family it
 * does not speak), or "" if it gave none.  A call the kernel accepted
 * clears it; one refused before reaching the kernel (-EINVAL, say) leaves
 * it as it was.  Thread-safe: each thread has its own.
 */
const char *pager_conn_error(void);

/*
 * The family's generic netlink id and version, as the kernel reported them.
 * Thread-safe.
 */
int pager_conn_family_id(const struct pager_conn *conn);
unsigned int pager_conn_family_version(const struct pager_conn *conn);

/*
 * Objects this connection creates from now on are recoverable: when it is
 * closed (or its process dies), each waits up to @ms (at most the module's
 * max_orphan_lifetime_ms) to be adopted (pager_adopt()), keeping every
 * dirty page even after its last client has gone, and faults on its
 * missing pages wait for the new manager.  0, the default: orphans are not
 * kept.  Thread-safe.
 */
void pager_conn_set_orphan_lifetime(struct pager_conn *conn, unsigned int ms);

/*
 * Create an object of @size bytes (a positive multiple of the page size)
 * served by @ops, with a read callback (-EINVAL otherwise); libpager
 * keeps a copy of @ops and of @attr, which may be NULL.  Its file
 * descriptor (pager_fd()) belongs to the caller, who closes it when done
 * handing it out.  @ops_size and @attr_size are the sizes of the caller's
 * structs (see "Growing structs" above): pager_create() passes this
 * header's.  Thread-safe, also while the connection is served.
 */
int pager_create_sized(struct pager_conn *conn, uint64_t size,
		       const struct pager_ops *ops, size_t ops_size,
		       const struct pager_attr *attr, size_t attr_size,
		       void *priv, struct pager **pagerp);
#define pager_create(conn, size, ops, attr, priv, pagerp)			\
	pager_create_sized(conn, size, ops, sizeof(struct pager_ops),		\
			   attr, sizeof(struct pager_attr), priv, pagerp)

/* What pager_create() set up.  Thread-safe. */
int pager_fd(const struct pager *pager);
uint32_t pager_id(const struct pager *pager);
void *pager_priv(const struct pager *pager);

/*
 * Become the manager of orphaned object @id (its manager's connection was
 * closed or its process died), as pager_create() does for a new one.  The
 * kernel then returns every dirty page to @ops->write, those its default
 * pager held included.  -EPERM: another user's object, or no privilege;
 * -EBUSY: the object has a manager.  Thread-safe.
 */
int pager_adopt_sized(struct pager_conn *conn, uint32_t id,
		      const struct pager_ops *ops, size_t ops_size,
		      const struct pager_attr *attr, size_t attr_size,
		      void *priv, struct pager **pagerp);
#define pager_adopt(conn, id, ops, attr, priv, pagerp)				\
	pager_adopt_sized(conn, id, ops, sizeof(struct pager_ops),		\
			  attr, sizeof(struct pager_attr), priv, pagerp)

/*
 * Called when the kernel gives the default pager an anonymous object of
 * @size bytes, on the object's INIT (its first mapping): set *@privp, the
 * new pager's pager_priv(), and return 0; or return -errno to refuse the
 * object, which is then destroyed (its faults get SIGBUS).  @arg is
 * pager_register_default()'s.
 */
typedef int (*pager_assign_fn)(struct pager *pager, uint64_t size,
			       void **privp, void *arg);

/*
 * Become the system's default pager, as Mach's default memory manager: the
 * anonymous objects created while @conn stays open
 * (pager_create_anonymous()) are managed by it, with @ops and @attr, and
 * @assign is called for each.  Their pagers have no file descriptor
 * (pager_fd() is -1).  pager_serve() then serves until an error.  Needs
 * CAP_SYS_ADMIN (-EPERM); -EBUSY: another connection is the default pager.
 * Thread-safe; once per connection.
 */
int pager_register_default_sized(struct pager_conn *conn,
				 const struct pager_ops *ops, size_t ops_size,
				 const struct pager_attr *attr, size_t attr_size,
				 pager_assign_fn assign, void *arg);
#define pager_register_default(conn, ops, attr, assign, arg)			\
	pager_register_default_sized(conn, ops, sizeof(struct pager_ops),	\
				     attr, sizeof(struct pager_attr), assign, arg)

/*
 * Create an anonymous object of @size bytes (a positive multiple of the
 * page size): zero-filled memory, as a memfd's, managed by the default
 * pager, or by the kernel's own if none is registered.  Returns its file
 * descriptor (O_CLOEXEC), the caller's, and its id in *@idp if @idp is not
 * NULL; or -errno (-EDQUOT: the user has extpager.max_objects_per_user
 * objects).  Needs no privilege: this is for clients.  Thread-safe.
 */
int pager_create_anonymous(struct pager_conn *conn, uint64_t size, uint32_t *idp);

/*
 * Send new attributes (READY again; NULL: the defaults), kept for the
 * object's INIT if it is still to come.  Thread-safe, also against the
 * thread serving the connection: the kernel ends up with the attributes
 * of the last call that succeeded.
 */
int pager_set_attr_sized(struct pager *pager, const struct pager_attr *attr,
			 size_t attr_size);
#define pager_set_attr(pager, attr)						\
	pager_set_attr_sized(pager, attr, sizeof(struct pager_attr))

/*
 * Destroy the object (later faults get SIGBUS) and free @pager; an object
 * the kernel already destroyed or forgot is no error.  When it returns, no
 * callback of @pager runs any more (but the caller's own, if called from
 * one) nor will run: terminate is not called, unless the object's
 * TERMINATE was being handled already, when it returns -ENOENT after
 * terminate returned.  Thread-safe.
 */
int pager_destroy(struct pager *pager);

/*
 * Offer pages the kernel did not ask for (prefetch): @offset and @len page
 * aligned, @len positive (-EINVAL), the run inside the object (-ERANGE).
 * Pages already cached are left alone.  Returns how many pages were placed.
 * Thread-safe.
 */
int pager_offer(struct pager *pager, uint64_t offset, size_t len,
		const void *data, unsigned int flags);

/*
 * The kernel's counters for the object, into the @size bytes of @stats
 * (see "Growing structs" above; pager_stats() passes this header's).
 * Thread-safe.
 */
int pager_stats_sized(struct pager *pager, struct pager_stats *stats, size_t size);
#define pager_stats(pager, stats)						\
	pager_stats_sized(pager, stats, sizeof(struct pager_stats))

/* What pager_lock_request() returns from its range. */
enum pager_return {
	PAGER_RETURN_NONE,
	PAGER_RETURN_DIRTY,	/* modified pages, and the default pager's */
	PAGER_RETURN_ALL,	/* every resident page, unmodified ones PAGER_CLEAN */
};

/* pager_lock_request() flags. */
#define PAGER_LOCK_FLUSH	(1u << 0)	/* drop the pages once returned */
#define PAGER_LOCK_WRITE_PROTECT (1u << 1)	/* next write asks unlock */

/*
 * Mach's memory_object_lock_request over [@offset, @offset + @len), len 0
 * meaning to the end of the object: return pages as @should_return says
 * (to the write callback), then apply @flags.  A flush never discards
 * modified data: pages that are not returned stay.  Waits until the kernel
 * is done and every store it caused has been answered, dispatching the
 * connection's events itself if no thread runs pager_serve() on it (a
 * pager_dispatch() in another thread waits for it meanwhile: events are
 * handled by one thread at a time).  Returns 0, or -errno if a return
 * failed (refused, or left with the kernel's default pager).
 * Thread-safe; from a callback it returns -EDEADLK, as its completion
 * would wait for that callback.
 */
int pager_lock_request(struct pager *pager, uint64_t offset, uint64_t len,
		       enum pager_return should_return, unsigned int flags);

/* The Hurd's three: modified pages stored and kept; pages dropped (the
 * modified ones stay); every page returned and dropped. */
int pager_sync(struct pager *pager, uint64_t offset, uint64_t len);
int pager_flush(struct pager *pager, uint64_t offset, uint64_t len);
int pager_return(struct pager *pager, uint64_t offset, uint64_t len);

/*
 * Handle the kernel's messages that are waiting, without blocking, in the
 * calling thread.  Returns how many were handled, or -errno.  One thread at
 * a time per connection, and not while pager_serve() runs on it.
 */
int pager_dispatch(struct pager_conn *conn);

/*
 * Handle the kernel's messages until every object of the connection is
 * terminated or destroyed (never, for a default pager); returns 0 then, or
 * -errno (-EINVAL: @nthreads is 0).  @nthreads threads run the callbacks:
 * with 1, the calling thread does; with more, that many worker threads run
 * them concurrently while the calling thread receives, and have exited when
 * pager_serve() returns.
 * Workers handle events about different pages in parallel, of one object
 * too; events about one page are handled in the order the kernel sent them
 * (a DATA_RETURN before a later DATA_REQUEST for its page), and TERMINATE
 * after every earlier event of its object.  Callbacks must then be
 * thread-safe.  One call at a time per connection.
 * When the kernel offers one, each serving thread also takes data requests
 * and unlocks over an io_uring data channel of its own; the rest comes over
 * netlink.  LIBPAGER_TRANSPORT=netlink or =channel forces one transport.
 */
int pager_serve(struct pager_conn *conn, unsigned int nthreads);

/*
 * Send @fd (an object's descriptor: the capability to map it) over the
 * connected unix socket @sock, with @len bytes of @data (one zero byte if
 * @len is 0: a stream socket carries a descriptor only with data).
 * -EPIPE if the peer is gone (no SIGPIPE).  Thread-safe.
 */
int pager_send_fd(int sock, int fd, const void *data, size_t len);

/*
 * Receive one descriptor, made O_CLOEXEC, from the unix socket @sock, and
 * up to @len bytes into @data: all those of a pager_send_fd() of at most
 * @len bytes, if at most a page.  Returns the descriptor.  -ECONNRESET if
 * the peer closed its end, -EBADMSG if a message came without a descriptor
 * (its bytes are in @data).  Descriptors beyond the first of a message are
 * closed.  Thread-safe.
 */
int pager_recv_fd(int sock, void *data, size_t len);

/* --- answers that come later ------------------------------------------ */

/*
 * A read, write or unlock callback's answer besides those above: the
 * callback took a handle with pager_defer(), and pager_answer() of the
 * handle answers the kernel later.
 */
#define PAGER_LATER		2

/* A request whose answer comes later: what pager_answer() needs of it. */
struct pager_request;

/*
 * In a read, write or unlock callback, a handle for the request it was
 * called for, to be answered later with pager_answer() from any thread;
 * the callback then returns PAGER_LATER.  Called again in the same
 * callback, it returns the same handle.  NULL outside those callbacks, or
 * if out of memory (the callback should answer now then).  The callback's
 * @buf (read) and @data (write) are not valid after it returns: a deferred
 * read supplies from a buffer of the caller's, a deferred write copies
 * what it still needs.  Nothing in the handle refers to the struct pager,
 * which may be destroyed meanwhile; but it refers to the connection:
 * every handle is answered before pager_conn_close().
 */
struct pager_request *pager_defer(void);

/*
 * Answer @req as its callback would have by returning @ret, and free @req.
 * A read: 0 supplies @buf, the request's whole run, with @flags
 * (PAGER_READONLY, PAGER_PRECIOUS); PAGER_UNAVAILABLE gives zeros; -errno
 * fails the faults (SIGBUS).  An unlock: 0 grants, -errno denies.  A
 * write: 0 says the pages are stored, -errno that they were not (they stay
 * dirty, and fsync/msync report it).  @buf and @flags are only read for a
 * supply.  Waits for the kernel's word and returns 0, or -ESTALE if the
 * kernel waits no more (the request timed out and its faults got SIGBUS,
 * it was answered already, its object is gone or its manager another
 * connection now), or another -errno; pager_conn_error() says why.
 * -EINVAL: @req is NULL or @ret no answer to it; only then is @req not
 * consumed.  Thread-safe; also from a callback.
 */
int pager_answer(struct pager_request *req, int ret, const void *buf,
		 unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* LIBPAGER_H */
