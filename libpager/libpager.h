/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpager: write extpager memory-object managers.
 *
 * Every function returns 0 or a positive value on success and a negative
 * errno on failure.  Documentation/libpager.rst describes the library.
 */
#ifndef LIBPAGER_H
#define LIBPAGER_H

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to the extpager module: one generic netlink socket. */
struct pager_conn;

/*
 * Open a connection.  Fails with -ENOENT when the module is not loaded and
 * with -EPROTONOSUPPORT when it speaks another version of the protocol.
 * Thread-safe.
 */
int pager_conn_open(struct pager_conn **connp);

/* Close a connection.  Not to be called while another thread uses it. */
void pager_conn_close(struct pager_conn *conn);

/* The family's generic netlink id and version, as the kernel reported them. */
int pager_conn_family_id(const struct pager_conn *conn);
unsigned int pager_conn_family_version(const struct pager_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* LIBPAGER_H */
