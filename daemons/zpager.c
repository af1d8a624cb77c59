// SPDX-License-Identifier: GPL-2.0
/*
 * zpager: an anonymous memory object whose pages, when the kernel returns
 * them, are kept LZ4-compressed in the daemon's memory and decompressed
 * when faulted on again.  Documentation/daemons.rst.
 */
#include <ctype.h>
#include <getopt.h>
#include <lz4.h>

#include "daemon.h"

static const char usage[] =
"usage: zpager [--cluster=PAGES] SIZE SOCKET\n"
"\n"
"Serve an anonymous extpager memory object of SIZE bytes (a number with an\n"
"optional K, M or G suffix, rounded up to pages).  Pages never written read\n"
"as zeros; dirty pages the kernel returns (evicted, flushed) are kept\n"
"LZ4-compressed in zpager's memory, and decompressed when faulted on again.\n"
"Each connection to the unix socket SOCKET gets the object's descriptor\n"
"(SCM_RIGHTS) and its size in bytes (a native uint64_t).  The data lives as\n"
"long as zpager does.\n"
"\n"
"  --cluster=PAGES  pages asked for around a fault, 1 to 256 (default 16)\n"
"  -h, --help       this text\n"
"  --version        the version of extpager it belongs to\n"
"\n"
"SIGUSR1 prints a line of statistics, with the compression ratio.  SIGTERM\n"
"or SIGINT prints them and stops; the object is destroyed (the clients'\n"
"later accesses get SIGBUS).\n";

enum zstate {
	Z_EMPTY,	/* never written: zeros, and nothing held */
	Z_ZERO,		/* written with zeros: nothing held */
	Z_LZ4,		/* compressed */
	Z_RAW,		/* did not compress: held as it is */
};

struct zpage {
	void *data;
	uint32_t len;
	uint8_t state;
};

struct zpager {
	struct daemon d;
	struct zpage *pages;
	size_t page_size;
	char *scratch;			/* LZ4_compressBound(page) */
	uint64_t stored_pages;		/* Z_LZ4 and Z_RAW */
	uint64_t zero_pages;		/* Z_ZERO */
	uint64_t compressed_bytes;	/* what they hold */
	uint64_t bytes_read, bytes_written;
};

static bool page_is_zero(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static void zpage_drop(struct zpager *z, struct zpage *zp)
{
	if (zp->state == Z_LZ4 || zp->state == Z_RAW) {
		z->stored_pages--;
		z->compressed_bytes -= zp->len;
	} else if (zp->state == Z_ZERO) {
		z->zero_pages--;
	}
	free(zp->data);
	zp->data = NULL;
	zp->len = 0;
	zp->state = Z_EMPTY;
}

/* Keep one page, compressed if that saves anything. */
static int zpage_store(struct zpager *z, struct zpage *zp, const char *src)
{
	size_t ps = z->page_size;
	int clen;
	void *data;

	if (page_is_zero(src, ps)) {
		zpage_drop(z, zp);
		zp->state = Z_ZERO;
		z->zero_pages++;
		return 0;
	}
	clen = LZ4_compress_default(src, z->scratch, ps, LZ4_compressBound(ps));
	if (clen <= 0 || (size_t)clen >= ps)
		clen = ps;
	data = malloc(clen);
	if (!data)
		return -ENOMEM;		/* the page stays dirty in the kernel */
	memcpy(data, (size_t)clen == ps ? src : z->scratch, clen);
	zpage_drop(z, zp);
	zp->data = data;
	zp->len = clen;
	zp->state = (size_t)clen == ps ? Z_RAW : Z_LZ4;
	z->stored_pages++;
	z->compressed_bytes += clen;
	return 0;
}

static int z_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		  enum pager_access access, unsigned int *flags)
{
	struct zpager *z = pager_priv(pager);
	size_t ps = z->page_size, i, n = len / ps, held = 0;
	struct zpage *zp = &z->pages[offset / ps];
	char *dst = buf;

	for (i = 0; i < n; i++)
		held += zp[i].state == Z_LZ4 || zp[i].state == Z_RAW;
	if (!held)
		return PAGER_UNAVAILABLE;	/* the kernel zero-fills */
	for (i = 0; i < n; i++, dst += ps) {
		switch (zp[i].state) {
		case Z_LZ4:
			if (LZ4_decompress_safe(zp[i].data, dst, zp[i].len, ps) != (int)ps)
				return -EIO;
			break;
		case Z_RAW:
			memcpy(dst, zp[i].data, ps);
			break;
		default:
			memset(dst, 0, ps);
			continue;
		}
		z->bytes_read += ps;
	}
	return 0;
}

static int z_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		   unsigned int flags)
{
	struct zpager *z = pager_priv(pager);
	size_t ps = z->page_size, i;
	int err;

	for (i = 0; i < len / ps; i++) {
		err = zpage_store(z, &z->pages[offset / ps + i], (const char *)data + i * ps);
		if (err)
			return err;
		z->bytes_written += ps;
	}
	return 0;
}

static const struct pager_ops z_ops = {
	.read	= z_read,
	.write	= z_write,
};

static void z_stats(struct daemon *d, FILE *f)
{
	struct zpager *z = (struct zpager *)d;
	uint64_t stored = z->stored_pages * z->page_size;

	fprintf(f, " bytes_read=%llu bytes_written=%llu stored_pages=%llu zero_pages=%llu "
		"stored_bytes=%llu compressed_bytes=%llu", (unsigned long long)z->bytes_read,
		(unsigned long long)z->bytes_written, (unsigned long long)z->stored_pages,
		(unsigned long long)z->zero_pages, (unsigned long long)stored,
		(unsigned long long)z->compressed_bytes);
	if (z->compressed_bytes)
		fprintf(f, " ratio=%.2f", (double)stored / z->compressed_bytes);
	else
		fprintf(f, " ratio=n/a");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	struct zpager z = {
		.d = {
			.name = "zpager",
			.print_stats = z_stats,
		},
	};
	struct pager_attr attr = { .cluster = 16 };
	struct daemon *d = &z.d;
	uint64_t size;
	int c, err, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		status = daemon_option(d, c, usage, &attr);
		if (status >= 0)
			return status;
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (daemon_parse_size(argv[optind], &size)) {
		daemon_err(d, "SIZE wants a positive number of bytes (K, M or G suffix), "
			   "not '%s'", argv[optind]);
		return 2;
	}
	d->sock_path = argv[optind + 1];
	z.page_size = sysconf(_SC_PAGESIZE);
	size = (size + z.page_size - 1) / z.page_size * z.page_size;
	d->data_size = size;
	z.pages = calloc(size / z.page_size, sizeof(*z.pages));
	z.scratch = malloc(LZ4_compressBound(z.page_size));
	if (!z.pages || !z.scratch) {
		daemon_err(d, "no memory for a %llu-byte object's page table",
			   (unsigned long long)size);
		return 1;
	}

	if (daemon_connect(d))
		return 1;
	err = pager_create(d->conn, size, &z_ops, &attr, &z, &d->pager);
	if (err) {
		daemon_pager_err(d, "creating the object", err);
		return 1;
	}
	if (daemon_start(d))
		return 1;
	daemon_say(d, "serving %llu bytes on %s", (unsigned long long)size, d->sock_path);
	return daemon_run(d);
}
