// SPDX-License-Identifier: GPL-2.0
/*
 * filepager: serve a regular file or a block device as a memory object.
 * Faults read the file; dirty pages the kernel returns are written to it.
 * Clients get the object from a unix socket.  Documentation/daemons.rst.
 */
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "daemon.h"

static const char usage[] =
"usage: filepager [--cluster=PAGES] [--sync] FILE SOCKET\n"
"\n"
"Serve FILE (a regular file or a block device) as an extpager memory object\n"
"of its size rounded up to pages: faults read the file (zeros past its end),\n"
"dirty pages the kernel returns are written to it (not past its end).  Each\n"
"connection to the unix socket SOCKET gets the object's descriptor (SCM_RIGHTS)\n"
"and the file's size in bytes (a native uint64_t); map it MAP_SHARED to share\n"
"the file.  The file's size is read once, at start.\n"
"\n"
"  --cluster=PAGES  pages asked for around a fault, 1 to 256 (default 16)\n"
"  --sync           open FILE with O_DSYNC: a client's msync(MS_SYNC) or fsync\n"
"                   returns once its pages are on stable storage\n"
"  -h, --help       this text\n"
"  --version        the version of extpager it belongs to\n"
"\n"
"SIGUSR1 prints a line of statistics.  SIGTERM or SIGINT stops: no new clients,\n"
"the dirty pages still in the clients' mappings are returned and written, the\n"
"file is fdatasync'd, the statistics printed, and the object destroyed (the\n"
"clients' later accesses get SIGBUS).\n";

struct filepager {
	struct daemon d;
	int fd;
	uint64_t size;			/* the file's, in bytes */
	uint64_t bytes_read, bytes_written;
};

static int file_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		     enum pager_access access, unsigned int *flags)
{
	struct filepager *fp = pager_priv(pager);
	size_t done = 0;
	ssize_t n;

	while (done < len && offset + done < fp->size) {
		n = pread(fp->fd, (char *)buf + done, len - done, offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;	/* the faults get SIGBUS, a later one asks again */
		if (n == 0)
			break;		/* the file shrank under us */
		done += n;
	}
	fp->bytes_read += done;
	memset((char *)buf + done, 0, len - done);
	return 0;
}

static int file_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		      unsigned int flags)
{
	struct filepager *fp = pager_priv(pager);
	size_t done = 0;
	ssize_t n;

	/* The tail of the last page is not the file's: it never grows. */
	if (offset >= fp->size)
		return 0;
	if (len > fp->size - offset)
		len = fp->size - offset;
	while (done < len) {
		n = pwrite(fp->fd, (const char *)data + done, len - done, offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;	/* the pages stay dirty; msync reports it */
		done += n;
	}
	fp->bytes_written += done;
	return 0;
}

static const struct pager_ops file_ops = {
	.read	= file_read,
	.write	= file_write,
};

static void file_stats(struct daemon *d, FILE *f)
{
	struct filepager *fp = (struct filepager *)d;

	fprintf(f, " bytes_read=%llu bytes_written=%llu",
		(unsigned long long)fp->bytes_read, (unsigned long long)fp->bytes_written);
}

static int file_sync(struct daemon *d)
{
	struct filepager *fp = (struct filepager *)d;

	return fdatasync(fp->fd) ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster", required_argument, NULL, 'c' },
		{ "sync", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	struct filepager fp = {
		.d = {
			.name = "filepager",
			.flush_on_exit = true,
			.print_stats = file_stats,
			.sync = file_sync,
		},
	};
	struct pager_attr attr = { .cluster = 16 };
	struct daemon *d = &fp.d;
	int c, err, status, flags = O_RDWR | O_CLOEXEC;
	long page = sysconf(_SC_PAGESIZE);
	const char *path;
	struct stat st;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			flags |= O_DSYNC;
			break;
		default:
			status = daemon_option(d, c, usage, &attr);
			if (status >= 0)
				return status;
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}
	path = argv[optind];
	d->sock_path = argv[optind + 1];

	fp.fd = open(path, flags);
	if (fp.fd < 0 || fstat(fp.fd, &st)) {
		daemon_err(d, "%s: %s", path, strerror(errno));
		return 1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fp.fd, BLKGETSIZE64, &fp.size)) {
			daemon_err(d, "%s: size: %s", path, strerror(errno));
			return 1;
		}
	} else if (S_ISREG(st.st_mode)) {
		fp.size = st.st_size;
	} else {
		daemon_err(d, "%s is neither a regular file nor a block device", path);
		return 1;
	}
	if (!fp.size) {
		daemon_err(d, "%s is empty: an object needs at least a page", path);
		return 1;
	}
	d->data_size = fp.size;

	if (daemon_connect(d))
		return 1;
	err = pager_create(d->conn, (fp.size + page - 1) / page * page, &file_ops,
			   &attr, &fp, &d->pager);
	if (err) {
		daemon_pager_err(d, "creating the object", err);
		return 1;
	}
	if (daemon_start(d))
		return 1;
	daemon_say(d, "serving %s (%llu bytes) on %s", path,
		   (unsigned long long)fp.size, d->sock_path);
	return daemon_run(d);
}
