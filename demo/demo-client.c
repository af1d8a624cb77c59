// SPDX-License-Identifier: GPL-2.0
/*
 * The client of `make demo` (scripts/demo): it gets filepager's object
 * from its socket, maps it, reads the file through the mapping, writes
 * every page, reads it all back and msyncs.  With --check it tells
 * whether a file holds what it wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libpager.h>

static const char usage[] =
"usage: demo-client SOCKET       map filepager's object, read it, write it\n"
"       demo-client --check FILE  whether FILE holds what the client wrote\n";

/*
 * What the client writes: a 64-byte line of text for each 64 bytes,
 * naming its page; @line gets the one at @off (a multiple of 64).
 */
static void line_at(uint64_t off, long page, char line[64])
{
	char text[80];

	snprintf(text, sizeof(text), "page %llu, line %llu: written by demo-client",
		 (unsigned long long)(off / page), (unsigned long long)(off % page / 64));
	memset(line, ' ', 64);
	memcpy(line, text, strlen(text));
	line[63] = '\n';
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int get_object(const char *path, uint64_t *size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "demo-client: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = pager_recv_fd(s, size, sizeof(*size));
	close(s);
	if (fd < 0)
		fprintf(stderr, "demo-client: receiving the object: %s\n", strerror(-fd));
	return fd;
}

static int run(const char *sock)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t size, len, off, bad = 0;
	char first[61], line[64];
	volatile char *p;
	double t;
	int fd;

	fd = get_object(sock, &size);
	if (fd < 0)
		return 1;
	len = (size + page - 1) / page * page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("demo-client: mmap");
		return 1;
	}
	close(fd);
	printf("client: got the object from filepager: %llu bytes, mapped MAP_SHARED\n",
	       (unsigned long long)size);

	for (off = 0; off < sizeof(first) - 1 && off < size && p[off] != '\n'; off++)
		first[off] = p[off];
	first[off] = '\0';
	printf("client: the file begins, as read through the mapping: \"%s\"\n", first);

	t = now();
	for (off = 0; off < size; off++)
		(void)p[off];
	printf("client: read all %llu MiB through the mapping in %.1f s\n",
	       (unsigned long long)(size >> 20), now() - t);

	t = now();
	for (off = 0; off < size; off += 64) {
		line_at(off, page, line);
		memcpy((char *)p + off, line, size - off < 64 ? size - off : 64);
	}
	printf("client: wrote every page (\"page N, line M: written by demo-client\") in %.1f s\n",
	       now() - t);

	t = now();
	for (off = 0; off < size; off += 64) {
		line_at(off, page, line);
		bad += !!memcmp((char *)p + off, line, size - off < 64 ? size - off : 64);
	}
	printf("client: read it all back in %.1f s: %s\n", now() - t,
	       bad ? "WRONG DATA" : "every byte as written");

	t = now();
	if (msync((void *)p, len, MS_SYNC)) {
		perror("demo-client: msync");
		return 1;
	}
	printf("client: msync(MS_SYNC) returned after %.1f s: filepager has stored every dirty page\n",
	       now() - t);
	return bad ? 1 : 0;
}

static int check(const char *path)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t off = 0, bad = 0, first_bad = 0;
	char buf[1 << 16], line[64];
	ssize_t n, i;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "demo-client: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++, off++) {
			if (off % 64 == 0)
				line_at(off, page, line);
			if (buf[i] != line[off % 64] && !bad++)
				first_bad = off;
		}
	}
	close(fd);
	if (n < 0) {
		fprintf(stderr, "demo-client: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (bad)
		printf("%llu of %llu bytes differ from what the client wrote, the first at byte %llu\n",
		       (unsigned long long)bad, (unsigned long long)off,
		       (unsigned long long)first_bad);
	else
		printf("all %llu bytes of the file are what the client wrote\n",
		       (unsigned long long)off);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
		return run(argv[1]);
	if (argc == 3 && !strcmp(argv[1], "--check"))
		return check(argv[2]);
	fputs(usage, argc == 2 ? stdout : stderr);
	return argc == 2 ? 0 : 2;
}
