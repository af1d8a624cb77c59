// SPDX-License-Identifier: GPL-2.0
/*
 * pager_send_fd() and pager_recv_fd(): an object's descriptor and the
 * manager's bytes cross a unix socket and the received descriptor maps the
 * same object, close-on-exec; the failures are told apart (not a socket, a
 * message without a descriptor, a peer that closed, a bad descriptor), and
 * a message carrying several descriptors leaks none.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "helpers.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

FIXTURE(sock) {
	int sv[2];
};

FIXTURE_SETUP(sock)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->sv));
}

FIXTURE_TEARDOWN(sock)
{
	close(self->sv[0]);
	close(self->sv[1]);
}

TEST_F(sock, an_objects_fd_and_data_cross_and_map_the_same_pages)
{
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	struct stat a, c;
	pthread_t server;
	uint64_t sent = 0x1122334455667788ull, got = 0;
	char *p;
	int fd;

	behaviour_init(&b, 5);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, 16 * PAGE, &pattern_ops, NULL, &b, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));

	ASSERT_EQ(0, pager_send_fd(self->sv[0], pager_fd(pager), &sent, sizeof(sent)));
	fd = pager_recv_fd(self->sv[1], &got, sizeof(got));
	ASSERT_LE(0, fd);
	EXPECT_NE(pager_fd(pager), fd);
	EXPECT_EQ(sent, got);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, fstat(fd, &c));
	ASSERT_EQ(0, fstat(pager_fd(pager), &a));
	EXPECT_EQ(a.st_ino, c.st_ino);
	EXPECT_EQ(a.st_dev, c.st_dev);
	p = mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p, 5, 0, 16 * PAGE));
	munmap(p, 16 * PAGE);
	close(fd);
	close(pager_fd(pager));
	pthread_join(server, NULL);
	EXPECT_EQ(1, atomic_load(&b.terminated));
	pager_conn_close(conn);
}

/* No data: one byte goes anyway, and the receiver need not take any. */
TEST_F(sock, no_data)
{
	char byte = 'x';
	int fd;

	ASSERT_EQ(0, pager_send_fd(self->sv[0], self->sv[0], NULL, 0));
	ASSERT_EQ(0, pager_send_fd(self->sv[0], self->sv[0], NULL, 0));
	fd = pager_recv_fd(self->sv[1], NULL, 0);
	ASSERT_LE(0, fd);
	close(fd);
	fd = pager_recv_fd(self->sv[1], &byte, 1);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, byte);
	close(fd);
}

TEST_F(sock, not_a_socket)
{
	int pipefd[2];
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-ENOTSOCK, pager_send_fd(pipefd[1], 0, &c, 1));
	EXPECT_EQ(-ENOTSOCK, pager_recv_fd(pipefd[0], &c, 1));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(sock, a_message_without_a_descriptor)
{
	char c = 0;

	ASSERT_EQ(1, write(self->sv[0], "m", 1));
	EXPECT_EQ(-EBADMSG, pager_recv_fd(self->sv[1], &c, 1));
	EXPECT_EQ('m', c);
}

TEST_F(sock, the_peer_closed)
{
	char c;

	close(self->sv[0]);
	EXPECT_EQ(-ECONNRESET, pager_recv_fd(self->sv[1], &c, 1));
	/* No SIGPIPE: the harness would report this test killed. */
	EXPECT_EQ(-EPIPE, pager_send_fd(self->sv[1], 0, &c, 1));
	self->sv[0] = socket(AF_UNIX, SOCK_STREAM, 0);
}

TEST_F(sock, a_bad_descriptor)
{
	char c = 0;

	EXPECT_EQ(-EBADF, pager_send_fd(self->sv[0], -1, &c, 1));
	/* Nothing was sent. */
	ASSERT_EQ(1, write(self->sv[0], "n", 1));
	EXPECT_EQ(-EBADMSG, pager_recv_fd(self->sv[1], &c, 1));
	EXPECT_EQ('n', c);
}

/* A page of data travels with the descriptor and arrives in one call. */
TEST_F(sock, a_page_of_data)
{
	char *out = malloc(PAGE), *in = calloc(1, PAGE);
	int fd;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	fill_pattern(out, 3, 0, PAGE);
	ASSERT_EQ(0, pager_send_fd(self->sv[0], self->sv[0], out, PAGE));
	fd = pager_recv_fd(self->sv[1], in, PAGE);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(check_pattern(in, 3, 0, PAGE));
	close(fd);
	free(out);
	free(in);
}

TEST_F(sock, extra_descriptors_are_closed)
{
	int fds[3], before, fd;
	char c = 'z', cbuf[CMSG_SPACE(sizeof(fds))] = { 0 };
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct stat a, b;

	fds[0] = open("/dev/null", O_RDONLY);
	fds[1] = open("/dev/zero", O_RDONLY);
	fds[2] = dup(fds[1]);
	ASSERT_LE(0, fds[2]);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ASSERT_EQ(1, sendmsg(self->sv[0], &mh, 0));

	before = open_fds();
	fd = pager_recv_fd(self->sv[1], &c, 1);
	ASSERT_LE(0, fd);
	/* The first one is kept, the two others closed. */
	EXPECT_EQ(before + 1, open_fds());
	ASSERT_EQ(0, fstat(fd, &a));
	ASSERT_EQ(0, fstat(fds[0], &b));
	EXPECT_EQ(b.st_rdev, a.st_rdev);
	close(fd);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
}

TEST_HARNESS_MAIN
