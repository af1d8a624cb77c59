// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The connection to the module: a generic netlink socket bound to the
 * extpager family.
 */
#include <errno.h>
#include <stdlib.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>

#include <linux/extpager.h>

#include "libpager.h"

#define PAGER_API __attribute__((visibility("default")))

struct pager_conn {
	struct nl_sock *sk;
	int family_id;
	unsigned int family_version;
};

/* libnl reports its own NLE_* codes; map the ones opening can produce. */
static int nle_to_errno(int nle)
{
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

static int resolve_family(struct pager_conn *conn)
{
	struct nl_cache *cache;
	struct genl_family *family;
	int err;

	err = genl_ctrl_alloc_cache(conn->sk, &cache);
	if (err < 0)
		return nle_to_errno(err);
	family = genl_ctrl_search_by_name(cache, EXTPAGER_FAMILY_NAME);
	if (!family) {
		err = -ENOENT;
	} else {
		conn->family_id = genl_family_get_id(family);
		conn->family_version = genl_family_get_version(family);
		err = conn->family_version == EXTPAGER_FAMILY_VERSION ? 0 : -EPROTONOSUPPORT;
		genl_family_put(family);
	}
	nl_cache_free(cache);
	return err;
}

PAGER_API int pager_conn_open(struct pager_conn **connp)
{
	struct pager_conn *conn;
	int err;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->sk = nl_socket_alloc();
	if (!conn->sk) {
		err = -ENOMEM;
		goto free_conn;
	}
	err = genl_connect(conn->sk);
	if (err < 0) {
		err = nle_to_errno(err);
		goto free_sock;
	}
	err = resolve_family(conn);
	if (err)
		goto free_sock;
	*connp = conn;
	return 0;

free_sock:
	nl_socket_free(conn->sk);
free_conn:
	free(conn);
	return err;
}

PAGER_API void pager_conn_close(struct pager_conn *conn)
{
	if (!conn)
		return;
	nl_socket_free(conn->sk);
	free(conn);
}

PAGER_API int pager_conn_family_id(const struct pager_conn *conn)
{
	return conn->family_id;
}

PAGER_API unsigned int pager_conn_family_version(const struct pager_conn *conn)
{
	return conn->family_version;
}
