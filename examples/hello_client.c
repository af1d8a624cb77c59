// SPDX-License-Identifier: GPL-2.0
/*
 * hello_client: a client of hello_pager.  It gets the object's descriptor
 * from the manager's unix socket, maps it, prints what page 0 says, and
 * writes a line into page 1 for the manager to get back.
 *
 *   cc hello_client.c $(pkg-config --cflags --libs libpager) -o hello_client
 *   ./hello_client /tmp/hello.sock
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libpager.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	long page = sysconf(_SC_PAGESIZE);
	uint64_t size;
	int s, fd;
	char *p;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: hello_client SOCKET\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("hello_client: connect");
		return 1;
	}
	/* The descriptor and the 8 bytes sent with it: the object's size. */
	fd = pager_recv_fd(s, &size, sizeof(size));
	close(s);
	if (fd < 0) {
		fprintf(stderr, "hello_client: receiving the object: %s\n", strerror(-fd));
		return 1;
	}
	/* The mapping keeps the object; the descriptor is no longer needed. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED || size < 2 * (uint64_t)page) {
		perror("hello_client: mmap");
		return 1;
	}
	/* The fault on page 0 asks the manager for it. */
	printf("hello_client: page 0: \"%.*s\"\n", (int)page, p);
	snprintf(p + page, page, "Hello back from client %d", (int)getpid());
	munmap(p, size);
	return 0;
}
