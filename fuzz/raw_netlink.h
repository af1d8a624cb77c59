/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The extpager generic netlink family over a bare AF_NETLINK socket, as
 * extpager_fuzz and extpager_faults speak it: messages built and
 * attributes read byte by byte.
 *
 * Not libnl, as libpager uses: the fuzzer must send what no valid client
 * would (wrong sizes, cut headers, odd flags), and the fault injector
 * needs one message to be one piece of the kernel's work, with no library
 * allocating, retrying or answering around it.  Each program keeps its own
 * sending and receiving loop; what they build and parse with is here.
 */
#ifndef EXTPAGER_RAW_NETLINK_H
#define EXTPAGER_RAW_NETLINK_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/extpager.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int family;		/* extpager's, from resolve_family() */
static uint32_t seq;		/* the last message's sequence number */

/*
 * A message in the caller's buffer: a fuzzer's may be a megabyte, and
 * replies are built while another message waits for its answer.
 */
struct msg {
	char *b;
	size_t len;
	size_t size;		/* of b */
	int nest;		/* offset of the open nest, or -1 */
};

static inline void msg_init(struct msg *m, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	struct genlmsghdr *g = (struct genlmsghdr *)(nlh + 1);

	memset(m->b, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	g->cmd = cmd;
	g->version = EXTPAGER_FAMILY_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_len = m->len;
	m->nest = -1;
}

/*
 * nlmsg_len follows every attribute, so the message can be sent as it
 * stands; one that would not fit in the buffer is left out.
 */
static inline void put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);

	if (m->len + NLA_HDRLEN + NLA_ALIGN(len) > m->size)
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy(a + 1, data, len);
	memset((char *)(a + 1) + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
	((struct nlmsghdr *)m->b)->nlmsg_len = m->len;
}

static inline void put_u8(struct msg *m, uint16_t t, uint8_t v) { put(m, t, &v, 1); }
static inline void put_u32(struct msg *m, uint16_t t, uint32_t v) { put(m, t, &v, 4); }
static inline void put_u64(struct msg *m, uint16_t t, uint64_t v) { put(m, t, &v, 8); }

static inline void nest_start(struct msg *m, uint16_t type)
{
	m->nest = m->len;
	put(m, type | NLA_F_NESTED, NULL, 0);
}

static inline void nest_end(struct msg *m)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->nest);

	a->nla_len = m->len - m->nest;
	m->nest = -1;
}

/* 0 or -errno: the kernel handles the message before sendto() returns. */
static inline int nl_send(int fd, const void *data, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/*
 * Each attribute that lies whole within the @rem bytes at @head; @rem (an
 * int) counts down.  The kernel's answers to malformed messages are read
 * with it too, so nothing past the end is trusted.
 */
#define attr_for_each(a, head, rem)						\
	for ((a) = (head);							\
	     (rem) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN && (a)->nla_len <= (rem); \
	     (rem) -= NLA_ALIGN((a)->nla_len),					\
	     (a) = (struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))

static inline struct nlattr *genl_attrs(struct nlmsghdr *nlh)
{
	return (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

/* @tb[type] is the first attribute of each type up to @max, or NULL. */
static inline void parse_attrs(struct nlmsghdr *nlh, struct nlattr **tb, int max)
{
	int rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct nlattr *a;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	attr_for_each(a, genl_attrs(nlh), rem) {
		int t = a->nla_type & NLA_TYPE_MASK;

		if (t <= max && !tb[t])
			tb[t] = a;
	}
}

/*
 * An unsigned attribute of the widths the kernel sends (nla_put_u8(), and
 * nla_put_uint()'s 4 or 8 bytes); 0 if absent.
 */
static inline uint64_t get_uint(const struct nlattr *a)
{
	int len = a ? a->nla_len - NLA_HDRLEN : 0;
	uint64_t v = 0;

	if (len == 1)
		v = *(const uint8_t *)(a + 1);
	else if (len == 4)
		v = *(const uint32_t *)(a + 1);
	else if (len >= 8)
		memcpy(&v, a + 1, 8);
	return v;
}

/* extpager's family id, asked of the controller on @fd; -1 if it has none. */
static inline int resolve_family(int fd)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		char attrs[64];
	} req = { 0 };
	static char r[8192];
	struct nlattr *a = (struct nlattr *)req.attrs;
	struct nlmsghdr *nlh;
	int n;

	req.n.nlmsg_type = GENL_ID_CTRL;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof(EXTPAGER_FAMILY_NAME);
	strcpy((char *)(a + 1), EXTPAGER_FAMILY_NAME);
	req.n.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a->nla_len);
	if (nl_send(fd, &req, req.n.nlmsg_len))
		return -1;
	n = recv(fd, r, sizeof(r), 0);
	nlh = (struct nlmsghdr *)r;
	if (n < 0 || !NLMSG_OK(nlh, n) || nlh->nlmsg_type != GENL_ID_CTRL)
		return -1;
	n = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	attr_for_each(a, genl_attrs(nlh), n)
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *)(a + 1);
	return -1;
}

#endif
