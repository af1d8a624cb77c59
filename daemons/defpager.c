// SPDX-License-Identifier: GPL-2.0
/*
 * defpager: a default pager, as in Mach.  It serves anonymous (temporary)
 * memory objects, backed by a swap file it manages itself.
 *
 * Clients ask for an object of a given size over a unix socket and get its
 * file descriptor (daemons/defpager.h).  An object starts as zeros: a page
 * never written reads as zeros (PAGER_UNAVAILABLE).  A dirty page the
 * kernel returns gets a slot of the swap file, kept in the object's table
 * (page -> slot) until the object terminates; the slot's checksum (CRC32C
 * of the data, the object and the page) stays in the daemon's memory, and a
 * read whose data does not match fails (the client gets SIGBUS) rather
 * than hand back corrupted data.  With the swap full, returns are refused
 * with ENOSPC: the kernel keeps the pages dirty and tries again later.
 *
 * One thread: a poll loop over the listening socket, the clients, the
 * extpager connection and a signalfd (SIGTERM/SIGINT stop, SIGUSR1 prints
 * the statistics).  Documentation/defpager.rst describes it.
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libpager.h"
#include "defpager.h"

/* Clients connected at once; more wait in the listen backlog. */
#define MAX_CLIENTS	64
/* Slot numbers of LEAF_ENTRIES consecutive pages form a leaf of a table. */
#define LEAF_ENTRIES	512

static size_t page;
static bool verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line: whoever reads the log sees whole lines. */
	fprintf(stderr, "defpager: %s\n", line);
}

/* --- CRC32C (Castagnoli), slicing by 8 ---------------------------------- */

static uint32_t crc32c_table[8][256];

static uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t w;

	crc = ~crc;
	for (; len && ((uintptr_t)p & 7); len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		w = le64toh(w) ^ crc;
		crc = crc32c_table[7][w & 0xff] ^
		      crc32c_table[6][(w >> 8) & 0xff] ^
		      crc32c_table[5][(w >> 16) & 0xff] ^
		      crc32c_table[4][(w >> 24) & 0xff] ^
		      crc32c_table[3][(w >> 32) & 0xff] ^
		      crc32c_table[2][(w >> 40) & 0xff] ^
		      crc32c_table[1][(w >> 48) & 0xff] ^
		      crc32c_table[0][w >> 56];
	}
	for (; len; len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Build the tables and check them against the standard check value. */
static int crc32c_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc32c_table[j][i] = (crc32c_table[j - 1][i] >> 8) ^
					     crc32c_table[0][crc32c_table[j - 1][i] & 0xff];
	return crc32c(0, "123456789", 9) == 0xe3069283 ? 0 : -1;
}

/* --- the swap file --------------------------------------------------------- */

static struct swap {
	const char *path;
	int fd;
	uint32_t nslots;
	uint32_t used;
	uint32_t cursor;	/* where the next free slot is looked for */
	uint64_t *bitmap;	/* allocated slots */
	uint32_t *crc;		/* each allocated slot's checksum */
	void *bounce;		/* a page-aligned page, for O_DIRECT */
	bool direct;
	bool full_said;		/* "swap full" logged since slots were last freed */
} swap;

static struct {
	uint64_t objects, created, assigned;
	uint64_t written, read, zero_fills, zero_returns;
	uint64_t checksum_failures, io_errors, full_refusals;
} stats;

static void print_stats(const char *when)
{
	say("stats (%s): objects=%" PRIu64 " created=%" PRIu64 " assigned=%" PRIu64
	    " slots_used=%" PRIu32 " slots_total=%" PRIu32
	    " pages_written=%" PRIu64 " pages_read=%" PRIu64
	    " zero_fills=%" PRIu64 " zero_returns=%" PRIu64
	    " checksum_failures=%" PRIu64 " io_errors=%" PRIu64
	    " enospc=%" PRIu64, when, stats.objects, stats.created, stats.assigned,
	    swap.used, swap.nslots, stats.written, stats.read,
	    stats.zero_fills, stats.zero_returns, stats.checksum_failures,
	    stats.io_errors, stats.full_refusals);
}

static int swap_open(const char *path, uint64_t size)
{
	int flags = O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC;
	uint64_t nslots = size / page;

	/*
	 * Paged-out memory must not land in the page cache again: O_DIRECT
	 * where the filesystem has it.
	 */
	swap.fd = open(path, flags | O_DIRECT, 0600);
	swap.direct = swap.fd >= 0;
	if (swap.fd < 0 && errno == EINVAL)
		swap.fd = open(path, flags, 0600);
	if (swap.fd < 0) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	/* Reserve the space now: a full disk must not fail a page-out later. */
	if (fallocate(swap.fd, 0, 0, nslots * page)) {
		int why = errno;

		if (ftruncate(swap.fd, nslots * page)) {
			say("%s: cannot size it to %" PRIu64 " bytes: %s", path,
			    nslots * page, strerror(errno));
			return -1;
		}
		say("%s: space not reserved (fallocate: %s): page-outs fail if the filesystem fills up",
		    path, strerror(why));
	}
	swap.path = path;
	swap.nslots = nslots;
	swap.bitmap = calloc((nslots + 63) / 64, sizeof(uint64_t));
	swap.crc = calloc(nslots, sizeof(uint32_t));
	swap.bounce = aligned_alloc(page, page);
	if (!swap.bitmap || !swap.crc || !swap.bounce) {
		say("out of memory for %" PRIu64 " slots", nslots);
		return -1;
	}
	return 0;
}

/* A free slot; the caller checked there is one. */
static uint32_t slot_alloc(void)
{
	uint32_t words = (swap.nslots + 63) / 64, w = swap.cursor / 64, i, slot;
	uint64_t free_bits;

	for (i = 0; i <= words; i++, w = (w + 1) % words) {
		free_bits = ~swap.bitmap[w];
		if (i == 0)	/* the first word from the cursor on */
			free_bits &= ~0ull << (swap.cursor % 64);
		if (!free_bits)
			continue;
		slot = w * 64 + __builtin_ctzll(free_bits);
		if (slot >= swap.nslots)
			continue;
		swap.bitmap[w] |= 1ull << (slot % 64);
		swap.used++;
		swap.cursor = slot + 1 < swap.nslots ? slot + 1 : 0;
		return slot;
	}
	abort();
}

static void slot_free(uint32_t slot)
{
	swap.bitmap[slot / 64] &= ~(1ull << (slot % 64));
	swap.used--;
	swap.full_said = false;
}

/* What a slot's checksum covers besides the data: whose page it holds. */
static uint32_t page_crc(const void *data, uint64_t serial, uint64_t index)
{
	uint64_t tag[2] = { htole64(serial), htole64(index) };

	return crc32c(crc32c(0, data, page), tag, sizeof(tag));
}

static int slot_write(uint32_t slot, const void *data, uint64_t serial, uint64_t index)
{
	const void *src = data;
	ssize_t n;

	if (swap.direct && ((uintptr_t)data % page)) {
		memcpy(swap.bounce, data, page);
		src = swap.bounce;
	}
	n = pwrite(swap.fd, src, page, (off_t)slot * page);
	if (n != (ssize_t)page) {
		say("%s: writing slot %" PRIu32 ": %s", swap.path, slot,
		    n < 0 ? strerror(errno) : "short write");
		stats.io_errors++;
		return -EIO;
	}
	swap.crc[slot] = page_crc(data, serial, index);
	stats.written++;
	return 0;
}

/* --- anonymous objects ----------------------------------------------------- */

struct anon {
	struct anon *prev, *next;	/* the live objects */
	uint64_t serial;		/* never reused, unlike the kernel's id */
	uint32_t id;			/* the kernel's, for the log */
	uint64_t pages;
	uint64_t stored;		/* pages with a slot */
	uint32_t **dir;			/* leaves of slot + 1, 0: none */
	size_t ndir;
};

static struct anon *live;
static uint64_t next_serial = 1;

/* The slot entry of page @index, or NULL; with @create, allocates the leaf. */
static uint32_t *entry(struct anon *a, uint64_t index, bool create)
{
	uint32_t **leaf = &a->dir[index / LEAF_ENTRIES];

	if (!*leaf && create)
		*leaf = calloc(LEAF_ENTRIES, sizeof(uint32_t));
	return *leaf ? &(*leaf)[index % LEAF_ENTRIES] : NULL;
}

static bool is_zero(const void *data)
{
	const uint64_t *w = data;
	size_t i;

	for (i = 0; i < page / 8; i++)
		if (w[i])
			return false;
	return true;
}

static int slot_read(struct anon *a, uint32_t slot, uint64_t index, void *buf)
{
	void *dst = swap.direct && ((uintptr_t)buf % page) ? swap.bounce : buf;
	uint32_t crc;
	ssize_t n;

	n = pread(swap.fd, dst, page, (off_t)slot * page);
	if (n != (ssize_t)page) {
		say("%s: reading slot %" PRIu32 " (object %" PRIu32 " page %" PRIu64 "): %s",
		    swap.path, slot, a->id, index, n < 0 ? strerror(errno) : "short read");
		stats.io_errors++;
		return -EIO;
	}
	if (dst != buf)
		memcpy(buf, dst, page);
	crc = page_crc(buf, a->serial, index);
	if (crc != swap.crc[slot]) {
		say("object %" PRIu32 " page %" PRIu64 ": checksum mismatch in slot %" PRIu32
		    " (stored %08" PRIx32 ", read %08" PRIx32 "): failed with EIO",
		    a->id, index, slot, swap.crc[slot], crc);
		stats.checksum_failures++;
		return -EIO;
	}
	stats.read++;
	return 0;
}

static int anon_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct anon *a = pager_priv(pager);
	uint64_t first = offset / page, n = len / page, i, zeros = 0;
	uint32_t *e;
	int err;

	if (first + n > a->pages)	/* the kernel checks; so does the table */
		return -ERANGE;
	for (i = 0; i < n; i++) {
		char *p = (char *)buf + i * page;

		e = entry(a, first + i, false);
		if (!e || !*e) {
			memset(p, 0, page);
			zeros++;
			continue;
		}
		/* A bad page fails the whole run: a run is answered as one. */
		err = slot_read(a, *e - 1, first + i, p);
		if (err)
			return err;
	}
	stats.zero_fills += zeros;
	return zeros == n ? PAGER_UNAVAILABLE : 0;
}

static int anon_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		      unsigned int flags)
{
	struct anon *a = pager_priv(pager);
	uint64_t first = offset / page, n = len / page, i, needed = 0;
	uint32_t *e;
	bool fresh;
	int err;

	if (first + n > a->pages)
		return -ERANGE;
	/* All or nothing: a return that does not fit stores none of its pages. */
	for (i = 0; i < n; i++) {
		e = entry(a, first + i, false);
		if ((!e || !*e) && !is_zero((const char *)data + i * page))
			needed++;
	}
	if (needed > swap.nslots - swap.used) {
		if (!swap.full_said)
			say("swap full (%" PRIu32 " slots): pages stay dirty in their clients until slots are freed",
			    swap.nslots);
		swap.full_said = true;
		stats.full_refusals++;
		return -ENOSPC;
	}
	for (i = 0; i < n; i++) {
		const char *p = (const char *)data + i * page;

		/* A zero page needs no slot: it reads as zeros without one. */
		if (is_zero(p)) {
			e = entry(a, first + i, false);
			if (e && *e) {
				slot_free(*e - 1);
				*e = 0;
				a->stored--;
			}
			stats.zero_returns++;
			continue;
		}
		e = entry(a, first + i, true);
		if (!e)
			return -ENOMEM;
		fresh = !*e;
		if (fresh) {
			*e = slot_alloc() + 1;
			a->stored++;
		}
		err = slot_write(*e - 1, p, a->serial, first + i);
		if (err) {
			/* The page stays dirty in the kernel, which tries again. */
			if (fresh) {
				slot_free(*e - 1);
				*e = 0;
				a->stored--;
			}
			return err;
		}
	}
	return 0;
}

static void anon_free(struct anon *a)
{
	uint64_t index;
	size_t d;

	for (d = 0; d < a->ndir; d++) {
		if (!a->dir[d])
			continue;
		for (index = 0; index < LEAF_ENTRIES; index++)
			if (a->dir[d][index])
				slot_free(a->dir[d][index] - 1);
		free(a->dir[d]);
	}
	free(a->dir);
	if (a->prev)
		a->prev->next = a->next;
	else
		live = a->next;
	if (a->next)
		a->next->prev = a->prev;
	stats.objects--;
	free(a);
}

static void anon_terminate(struct pager *pager)
{
	struct anon *a = pager_priv(pager);

	if (verbose)
		say("object %" PRIu32 " terminated: %" PRIu64 " slots freed", a->id, a->stored);
	anon_free(a);
}

static const struct pager_ops anon_ops = {
	.read		= anon_read,
	.write		= anon_write,
	.terminate	= anon_terminate,
};

static struct pager_attr anon_attr = { .cluster = 1 };

/* The table of an object of @size bytes, not yet live. */
static int anon_new(uint64_t size, struct anon **ap)
{
	struct anon *a;

	if (!size || size % page)
		return -EINVAL;
	if (size > DEFPAGER_MAX_SIZE)
		return -EFBIG;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pages = size / page;
	a->ndir = (a->pages + LEAF_ENTRIES - 1) / LEAF_ENTRIES;
	a->dir = calloc(a->ndir, sizeof(*a->dir));
	if (!a->dir) {
		free(a);
		return -ENOMEM;
	}
	*ap = a;
	return 0;
}

/* @a is @pager's table: serve it until the object terminates. */
static void anon_live(struct anon *a, struct pager *pager)
{
	a->serial = next_serial++;
	a->id = pager_id(pager);
	a->next = live;
	if (live)
		live->prev = a;
	live = a;
	stats.objects++;
}

/*
 * A new object of @size bytes: its descriptor in *@fd, the caller's to
 * close, and the kernel's id for it in *@id.
 */
static int anon_create(struct pager_conn *conn, uint64_t size, int *fd, uint32_t *id)
{
	struct pager *pager;
	struct anon *a;
	int err;

	err = anon_new(size, &a);
	if (err)
		return err;
	err = pager_create(conn, size, &anon_ops, &anon_attr, a, &pager);
	if (err) {
		say("cannot create an object of %" PRIu64 " bytes: %s%s%s", size,
		    strerror(-err), *pager_conn_error() ? ": " : "", pager_conn_error());
		free(a->dir);
		free(a);
		return err;
	}
	anon_live(a, pager);
	stats.created++;
	*fd = pager_fd(pager);
	*id = a->id;
	return 0;
}

/* As the system's default pager: the kernel gives us an anonymous object. */
static int anon_assign(struct pager *pager, uint64_t size, void **privp, void *arg)
{
	struct anon *a;
	int err;

	err = anon_new(size, &a);
	if (err) {
		say("object %" PRIu32 " of %" PRIu64 " bytes refused: %s", pager_id(pager),
		    size, strerror(-err));
		return err;
	}
	anon_live(a, pager);
	stats.assigned++;
	if (verbose)
		say("object %" PRIu32 ": %" PRIu64 " bytes, assigned by the kernel", a->id, size);
	*privp = a;
	return 0;
}

/* --- clients ----------------------------------------------------------------- */

/*
 * Serve what client @sock sent.  Returns false when the client is to be
 * dropped: it hung up, or its reply could not be sent.
 */
static bool serve_client(struct pager_conn *conn, int sock, bool *created)
{
	struct defpager_request req;
	struct defpager_reply reply = { 0 };
	uint32_t id = 0;
	int fd = -1, err;
	ssize_t n;

	/* SOCK_SEQPACKET: MSG_TRUNC gives a message's whole length. */
	n = recv(sock, &req, sizeof(req), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (n != sizeof(req)) {
		reply.error = -EBADMSG;
	} else {
		reply.error = anon_create(conn, req.size, &fd, &id);
		*created = true;
	}
	if (fd >= 0) {
		err = pager_send_fd(sock, fd, &reply, sizeof(reply));
		if (verbose || err)
			say("object %" PRIu32 ": %" PRIu64 " bytes%s%s", id, req.size,
			    err ? ", not sent: " : "", err ? strerror(-err) : "");
		/* Ours is closed: the client's is the object's only descriptor. */
		close(fd);
	} else {
		if (verbose)
			say("request for %" PRIu64 " bytes refused: %s",
			    n == sizeof(req) ? req.size : 0, strerror(-reply.error));
		err = send(sock, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT) ==
		      sizeof(reply) ? 0 : -errno;
	}
	return !err;
}

/* --- set-up ------------------------------------------------------------------ */

/*
 * Listen on @path, a socket of mode 0600.  A socket file left by a daemon
 * that is gone is replaced; one that a live daemon answers on is not, nor
 * is a file that is not a socket (whose connect() is refused as well).
 */
static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t mask;
	int sock, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		say("--socket: %s: longer than %zu bytes", path, sizeof(addr.sun_path) - 1);
		return -1;
	}
	strcpy(addr.sun_path, path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		say("socket: %s", strerror(errno));
		return -1;
	}
	/* Only the daemon's user may ask, until an administrator says otherwise. */
	mask = umask(0177);
	err = bind(sock, (struct sockaddr *)&addr, sizeof(addr));
	if (err && errno == EADDRINUSE && (lstat(path, &st) || !S_ISSOCK(st.st_mode))) {
		errno = EEXIST;
	} else if (err && errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) &&
		    errno == ECONNREFUSED && !unlink(path))
			err = bind(sock, (struct sockaddr *)&addr, sizeof(addr));
		else
			errno = EADDRINUSE;
		if (probe >= 0)
			close(probe);
	}
	umask(mask);
	if (err || listen(sock, 16)) {
		say("%s: %s", path,
		    errno == EADDRINUSE ? "in use: another daemon is listening there" :
		    errno == EEXIST ? "exists and is not a socket" : strerror(errno));
		close(sock);
		return -1;
	}
	return sock;
}

/* Bytes, or with a binary K, M, G or T suffix. */
static int parse_size(const char *s, uint64_t *size)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *unit;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end && (unit = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (unit - units + 1);
		end++;
	}
	if (*end || v > (ULLONG_MAX >> shift))
		return -1;
	*size = (uint64_t)v << shift;
	return 0;
}

static void usage(void)
{
	printf(
		"usage: defpager --swap=FILE --swap-size=SIZE [--socket=PATH] [OPTIONS]\n"
		"\n"
		"A default pager: serves anonymous memory objects, paged out to FILE.\n"
		"Run with CAP_SYS_ADMIN, it is the system's default pager: it serves\n"
		"the anonymous objects that clients create through the kernel.\n"
		"\n"
		"  -s, --swap=FILE       the swap file: created, or truncated (mode 0600)\n"
		"  -S, --swap-size=SIZE  its size in bytes, or with a K, M, G or T suffix\n"
		"  -l, --socket=PATH     also a unix socket clients ask for objects on\n"
		"                        (created mode 0600; see daemons/defpager.h);\n"
		"                        required when not the system's default pager\n"
		"  -c, --cluster=N       pages read around a fault, 1 to 256 (default 1:\n"
		"                        a corrupted page fails its whole run)\n"
		"      --mlock           lock the daemon's memory, so that paging out\n"
		"                        never waits for paging in the daemon itself\n"
		"  -v, --verbose         log every object created and terminated, and\n"
"                        every request refused\n"
		"  -h, --help            this help\n"
		"      --version         the version of extpager it belongs to\n"
		"\n"
		"SIGUSR1 logs the statistics; SIGTERM or SIGINT syncs the swap file and\n"
		"exits.  The log goes to standard error.\n");
}

/* --- the loop ---------------------------------------------------------------- */

enum { PFD_SIGNAL, PFD_LISTEN, PFD_CONN, PFD_CLIENTS };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "swap",	required_argument, NULL, 's' },
		{ "swap-size",	required_argument, NULL, 'S' },
		{ "socket",	required_argument, NULL, 'l' },
		{ "cluster",	required_argument, NULL, 'c' },
		{ "mlock",	no_argument,	   NULL, 'M' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ }
	};
	struct pollfd pfd[PFD_CLIENTS + MAX_CLIENTS];
	const char *swap_path = NULL, *sock_path = NULL;
	uint64_t swap_size = 0;
	bool have_size = false, lock = false, running = true, registered;
	struct pager_conn *conn;
	struct signalfd_siginfo si;
	int nclients = 0, sig_fd, sock = -1, opt, err, status = 0, i;
	sigset_t sigs;
	char *end;
	long v;

	page = sysconf(_SC_PAGESIZE);
	while ((opt = getopt_long(argc, argv, "s:S:l:c:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			swap_path = optarg;
			break;
		case 'S':
			if (parse_size(optarg, &swap_size)) {
				say("--swap-size: '%s' is not a size (bytes, or with a K, M, G or T suffix)",
				    optarg);
				return 2;
			}
			have_size = true;
			break;
		case 'l':
			sock_path = optarg;
			break;
		case 'c':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 256) {
				say("--cluster: '%s' is not a number from 1 to 256", optarg);
				return 2;
			}
			anon_attr.cluster = v;
			break;
		case 'M':
			lock = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage();
			return 0;
		case 'V':
			puts("defpager " EXTPAGER_VERSION);
			return 0;
		default:
			say("see --help");
			return 2;
		}
	}
	if (optind < argc) {
		say("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (!swap_path || !have_size) {
		say("--swap and --swap-size are required (see --help)");
		return 2;
	}
	/* Slot numbers, plus one, fit 32 bits. */
	if (swap_size < page || swap_size / page >= UINT32_MAX) {
		say("--swap-size: %" PRIu64 " bytes: from one page (%zu bytes) to %" PRIu32
		    " pages", swap_size, page, UINT32_MAX - 1);
		return 2;
	}
	if (crc32c_init()) {
		say("CRC32C self-check failed");
		return 1;
	}

	/* Blocked before anything can take a while: a SIGTERM is never lost. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* A log reader that goes away must not take the pager with it. */
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		say("signalfd: %s", strerror(errno));
		return 1;
	}
	if (lock && mlockall(MCL_CURRENT | MCL_FUTURE)) {
		say("--mlock: %s", strerror(errno));
		return 1;
	}
	err = pager_conn_open(&conn);
	if (err) {
		say("cannot reach the extpager module: %s%s", strerror(-err),
		    err == -ENOENT ? " (is extpager.ko loaded?)" : "");
		return 1;
	}
	if (swap_open(swap_path, swap_size)) {
		pager_conn_close(conn);
		return 1;
	}
	if (sock_path) {
		sock = listen_on(sock_path);
		if (sock < 0) {
			pager_conn_close(conn);
			return 1;
		}
	}
	/* Last: from now on the kernel counts on us. */
	err = pager_register_default(conn, &anon_ops, &anon_attr, anon_assign, NULL);
	registered = !err;
	if (err)
		say("not the system's default pager: %s%s%s", strerror(-err),
		    *pager_conn_error() ? ": " : "", pager_conn_error());
	if (err && !sock_path) {
		say("nothing to serve: no --socket either (see --help)");
		pager_conn_close(conn);
		return 1;
	}
	say("ready: %s%s%s%sswap %s: %" PRIu32 " slots of %zu bytes%s",
	    registered ? "the system's default pager, " : "",
	    sock_path ? "socket " : "", sock_path ?: "", sock_path ? ", " : "", swap_path,
	    swap.nslots, page, swap.direct ? "" : " (buffered: no O_DIRECT there)");

	pfd[PFD_SIGNAL] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
	pfd[PFD_LISTEN] = (struct pollfd){ .fd = sock, .events = POLLIN };
	pfd[PFD_CONN] = (struct pollfd){ .fd = pager_conn_fd(conn), .events = POLLIN };
	/* An INIT may have come before the registration's answer: queued. */
	if (registered)
		pager_dispatch(conn);
	while (running) {
		bool created = false;

		/* With every client slot taken, new ones wait in the backlog. */
		pfd[PFD_LISTEN].fd = nclients < MAX_CLIENTS ? sock : -1;	/* -1: none */
		if (poll(pfd, PFD_CLIENTS + nclients, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("poll: %s", strerror(errno));
			status = 1;
			break;
		}
		while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				print_stats("SIGUSR1");
			} else {
				say("%s: shutting down", strsignal(si.ssi_signo));
				running = false;
			}
		}
		if (!running)
			break;
		for (i = 0; i < nclients; i++) {
			if (!pfd[PFD_CLIENTS + i].revents)
				continue;
			if (serve_client(conn, pfd[PFD_CLIENTS + i].fd, &created))
				continue;
			close(pfd[PFD_CLIENTS + i].fd);
			pfd[PFD_CLIENTS + i] = pfd[PFD_CLIENTS + --nclients];
			i--;
		}
		if (pfd[PFD_LISTEN].revents) {
			int c;

			while (nclients < MAX_CLIENTS &&
			       (c = accept4(sock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
				pfd[PFD_CLIENTS + nclients++] =
					(struct pollfd){ .fd = c, .events = POLLIN };
		}
		/*
		 * pager_create() queues the kernel's events that arrive while
		 * it waits for its answer: the socket may not show them.
		 */
		if (created || pfd[PFD_CONN].revents) {
			err = pager_dispatch(conn);
			/* ENOBUFS: events were lost; their requests time out. */
			if (err == -ENOBUFS) {
				say("extpager connection overrun: some requests were lost");
			} else if (err < 0 && err != -EINTR) {
				say("extpager connection: %s", strerror(-err));
				status = 1;
				break;
			}
		}
	}

	print_stats("exit");
	if (stats.objects)
		say("%" PRIu64 " objects still in use: their clients' faults on pages not in memory get SIGBUS",
		    stats.objects);
	if (fsync(swap.fd)) {
		say("%s: fsync: %s", swap.path, strerror(errno));
		status = 1;
	}
	for (i = 0; i < nclients; i++)
		close(pfd[PFD_CLIENTS + i].fd);
	if (sock_path) {
		close(sock);
		unlink(sock_path);
	}
	pager_conn_close(conn);
	while (live)
		anon_free(live);
	close(swap.fd);
	free(swap.bitmap);
	free(swap.crc);
	free(swap.bounce);
	close(sig_fd);
	return status;
}
