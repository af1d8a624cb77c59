// SPDX-License-Identifier: GPL-2.0
/*
 * ram_pager: a complete manager and its client.  The object lives in the
 * manager's memory: pages never written read as zeros, dirty pages the
 * kernel returns are kept.  The client, a child process, writes a line
 * into page 3 and checks that page 0 reads as zeros; the manager serves
 * with two worker threads until the object is gone (the client exited),
 * then prints what page 3 holds.
 *
 *   cc ram_pager.c $(pkg-config --cflags --libs libpager)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpager.h>

#define PAGES	16

struct ram {
	long page;
	char *data;
	bool written[PAGES];	/* callbacks about one page never overlap */
};

static int ram_read(struct pager *pager, uint64_t offset, size_t len, void *buf,
		    enum pager_access access, unsigned int *flags)
{
	struct ram *ram = pager_priv(pager);
	size_t first = offset / ram->page, i;
	bool any = false;

	for (i = first; i < first + len / ram->page; i++)
		any |= ram->written[i];
	if (!any)
		return PAGER_UNAVAILABLE;	/* zeros, and nothing copied */
	memcpy(buf, ram->data + offset, len);
	return 0;
}

static int ram_write(struct pager *pager, uint64_t offset, size_t len, const void *data,
		     unsigned int flags)
{
	struct ram *ram = pager_priv(pager);
	size_t first = offset / ram->page, i;

	memcpy(ram->data + offset, data, len);
	for (i = first; i < first + len / ram->page; i++)
		ram->written[i] = true;
	return 0;
}

static const struct pager_ops ram_ops = {
	.read	= ram_read,
	.write	= ram_write,
};

static const char line[] = "written by the client, kept by the manager";

/* The client: any process holding the object's descriptor. */
static int client(int fd, long page)
{
	size_t size = PAGES * page;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	size_t i;

	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < (size_t)page; i++)
		if (p[i])
			return 2;
	memcpy(p + 3 * page, line, sizeof(line));
	/* Back to the manager now; closing would send it too. */
	if (msync(p, size, MS_SYNC))
		return 3;
	return 0;
}

int main(void)
{
	struct ram ram = { .page = sysconf(_SC_PAGESIZE) };
	struct pager_conn *conn;
	struct pager *pager;
	int err, status = 0;
	pid_t pid;

	ram.data = calloc(PAGES, ram.page);
	if (!ram.data)
		return 1;
	err = pager_conn_open(&conn);
	if (!err)
		err = pager_create(conn, PAGES * ram.page, &ram_ops, NULL, &ram, &pager);
	if (err) {
		fprintf(stderr, "ram_pager: %s %s\n", strerror(-err), pager_conn_error());
		return 1;
	}

	/* Hand the descriptor out (here by fork; SCM_RIGHTS works too). */
	pid = fork();
	if (pid == 0)
		_exit(client(pager_fd(pager), ram.page));
	close(pager_fd(pager));
	if (pid < 0)
		return 1;

	/* Serve until the object is gone: the client exited. */
	err = pager_serve(conn, 2);
	pager_conn_close(conn);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ram_pager: the client failed (status %#x)\n", status);
		return 1;
	}
	if (err) {
		fprintf(stderr, "ram_pager: pager_serve: %s\n", strerror(-err));
		return 1;
	}
	if (strcmp(ram.data + 3 * ram.page, line)) {
		fprintf(stderr, "ram_pager: page 3 did not come back\n");
		return 1;
	}
	printf("ram_pager: page 3: \"%s\"\n", ram.data + 3 * ram.page);
	return 0;
}
