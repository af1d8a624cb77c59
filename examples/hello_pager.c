// SPDX-License-Identifier: GPL-2.0
/*
 * hello_pager: a manager that hands its object out on a unix socket, as a
 * long-lived service does, and stops cleanly on SIGTERM or SIGINT.  The
 * object's first page says hello; the pages clients write come back to
 * the manager, which keeps them in memory.  On stopping, it gets back what
 * the clients wrote and not yet returned, prints page 1, and destroys the
 * object.  hello_client.c is a client.
 *
 *   cc hello_pager.c $(pkg-config --cflags --libs libpager) -o hello_pager
 *   ./hello_pager /tmp/hello.sock
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libpager.h>

#define PAGES	4

static char *store;	/* the object's data: callbacks about one page never overlap */

static int hello_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		      enum pager_access access, unsigned int *flags)
{
	memcpy(buf, store + offset, len);
	return 0;
}

static int hello_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		       unsigned int flags)
{
	memcpy(store + offset, data, len);
	return 0;
}

static const struct pager_ops hello_ops = {
	.read	= hello_read,
	.write	= hello_write,
};

static void *serve(void *conn)
{
	return (void *)(intptr_t)pager_serve(conn, 2);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "hello_pager: %s: %s %s\n", what, strerror(-err), pager_conn_error());
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	long page = sysconf(_SC_PAGESIZE);
	uint64_t size = PAGES * page;
	struct pager_conn *conn;
	struct pager *pager;
	struct pollfd pfd[2];
	pthread_t server;
	sigset_t stop;
	void *served;
	int err, fd, c;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: hello_pager SOCKET\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	store = calloc(PAGES, page);
	if (!store)
		return 1;
	strcpy(store, "Hello from the pager!");

	/*
	 * Blocked before any thread starts: libpager's threads inherit the
	 * mask, so the signals come only through the signalfd below.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	err = pager_conn_open(&conn);
	if (err)
		return fail("connecting to extpager", err);
	err = pager_create(conn, size, &hello_ops, NULL, NULL, &pager);
	if (err)
		return fail("creating the object", err);
	err = -pthread_create(&server, NULL, serve, conn);
	if (err)
		return fail("starting the server", err);

	pfd[0].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pfd[1].fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (pfd[0].fd < 0 || pfd[1].fd < 0 ||
	    bind(pfd[0].fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(pfd[0].fd, 16)) {
		perror("hello_pager");
		return 1;
	}
	pfd[0].events = pfd[1].events = POLLIN;
	printf("hello_pager: serving on %s\n", argv[1]);
	fflush(stdout);

	/* Each client gets the object's descriptor and its size. */
	while (poll(pfd, 2, -1) > 0 && !pfd[1].revents) {
		c = accept(pfd[0].fd, NULL, NULL);
		if (c < 0)
			continue;
		err = pager_send_fd(c, pager_fd(pager), &size, sizeof(size));
		if (err)
			fprintf(stderr, "hello_pager: a client: %s\n", strerror(-err));
		close(c);
	}

	/*
	 * Stop: no new clients; get back the pages the clients wrote (the
	 * server thread stores them); destroy the object, so that the clients'
	 * later faults fail at once and pager_serve() returns.
	 */
	close(pfd[0].fd);
	unlink(argv[1]);
	err = pager_sync(pager, 0, 0);
	if (err)
		return fail("getting the clients' pages back", err);
	printf("hello_pager: page 1: \"%.*s\"\n", (int)page, store + page);
	/* The descriptor after the object: its last close would free @pager. */
	fd = pager_fd(pager);
	err = pager_destroy(pager);
	if (err)
		return fail("destroying the object", err);
	close(fd);
	pthread_join(server, &served);
	pager_conn_close(conn);
	if (served)
		return fail("serving", (intptr_t)served);
	printf("hello_pager: stopped\n");
	return 0;
}
