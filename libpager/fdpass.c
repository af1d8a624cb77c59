// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Passing an object's descriptor, the capability to map it, to a client
 * over a unix socket (SCM_RIGHTS), with a few bytes of the manager's own
 * protocol alongside.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

PAGER_API int pager_send_fd(int sock, int fd, const void *data, size_t len)
{
	char zero = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	/* Ancillary data rides on at least one byte of a stream socket. */
	if (!data || !len) {
		iov.iov_base = &zero;
		iov.iov_len = 1;
	}
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/* A library must not kill its caller with SIGPIPE: -EPIPE instead. */
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* The descriptor went with the first part; the rest follows alone. */
	while ((size_t)n < iov.iov_len) {
		ssize_t m = send(sock, (const char *)iov.iov_base + n,
				 iov.iov_len - n, MSG_NOSIGNAL);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return -errno;
		n += m;
	}
	return 0;
}

/* Close every descriptor @cm carries but the first; return the first. */
static int keep_first_fd(struct cmsghdr *cm, int fd)
{
	size_t i, nr = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	int extra;

	for (i = 0; i < nr; i++) {
		memcpy(&extra, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		if (fd < 0)
			fd = extra;
		else
			close(extra);
	}
	return fd;
}

PAGER_API int pager_recv_fd(int sock, void *data, size_t len)
{
	/* Room for a few descriptors: any beyond the first are closed. */
	char byte, cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	if (!data || !len) {
		iov.iov_base = &byte;
		iov.iov_len = 1;
	}
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			fd = keep_first_fd(cm, fd);
	if (fd >= 0)
		return fd;
	/* Nothing at all: the peer closed its end. */
	return n == 0 ? -ECONNRESET : -EBADMSG;
}
