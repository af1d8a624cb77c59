/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the daemons share: one object per daemon, handed to clients over a
 * unix socket (each connection gets the object's descriptor and the 8-byte
 * size of its data), served from one thread that polls the listening
 * socket, the connection to the module and a signalfd; or with
 * pager_serve() in a thread of its own (and its workers, if any) while
 * that thread polls the rest: nbdpager, whose answers come later.
 * SIGUSR1 prints a line of statistics; SIGTERM and SIGINT stop the daemon
 * cleanly.
 * Documentation/daemons.rst describes the daemons.
 */
#ifndef EXTPAGER_DAEMON_H
#define EXTPAGER_DAEMON_H

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libpager.h>

struct daemon {
	const char *name;
	const char *sock_path;
	struct pager_conn *conn;
	struct pager *pager;
	uint64_t data_size;		/* sent with the descriptor */
	/*
	 * Before stopping, return the dirty pages still in the clients'
	 * mappings (an fsync of the object, from a thread of its own while
	 * this one stores what comes back).
	 */
	bool flush_on_exit;
	/* The daemon's own counts, appended to the statistics line. */
	void (*print_stats)(struct daemon *d, FILE *f);
	/* Make what was stored durable before exiting: 0 or -errno. */
	int (*sync)(struct daemon *d);
	/*
	 * Once the object is destroyed and no callback runs, before the
	 * connection closes: answer every request deferred with pager_defer().
	 */
	void (*quiesce)(struct daemon *d);
	/*
	 * 0: callbacks run in daemon_run()'s thread (pager_dispatch()).  N:
	 * in pager_serve(conn, N), in a thread of its own (with N > 1, in N
	 * workers, so that one slow callback does not hold up the others).
	 */
	unsigned int threads;

	int listen_fd, claim_fd, sig_fd, flush_fd, served_fd;
	int flush_err, serve_err;
	pthread_t server;
	unsigned long clients;
};

static void daemon_err(const struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", d->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void daemon_say(const struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", d->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A libpager failure: the errno, the kernel's explanation if it gave one. */
static void daemon_pager_err(const struct daemon *d, const char *what, int err)
{
	const char *msg = pager_conn_error();

	daemon_err(d, "%s: %s%s%s%s", what, strerror(-err), *msg ? " (" : "", msg,
		   *msg ? ")" : "");
}

/* A decimal number in [min, max]. */
static int daemon_parse_uint(const char *s, unsigned long min, unsigned long max,
			     unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

/* A size: digits and an optional K, M or G (powers of 1024); not zero. */
static inline int daemon_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmg";
	unsigned long long v;
	unsigned int shift = 0;
	const char *unit;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unit = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
	if (unit) {
		shift = 10 * (unit - units + 1);
		end++;
	}
	if (*end || !v || v > (UINT64_MAX >> 1) >> shift)
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * The options every daemon's getopt_long() loop shares, as `case` labels:
 * 'h' (-h, --help), 'V' (--version), 'c' (--cluster=PAGES, into
 * @attr->cluster, if @attr) and anything unknown.  Returns the exit
 * status (0 after --help or --version, 2 on a usage error), or -1 to go
 * on parsing.
 */
static int daemon_option(const struct daemon *d, int c, const char *usage,
			 struct pager_attr *attr)
{
	unsigned long cluster;

	switch (c) {
	case 'c':
		if (!attr)
			break;
		if (daemon_parse_uint(optarg, 1, 256, &cluster)) {
			daemon_err(d, "--cluster wants 1 to 256 pages, not '%s'", optarg);
			return 2;
		}
		attr->cluster = cluster;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return 0;
	case 'V':
		printf("%s %s\n", d->name, EXTPAGER_VERSION);
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}

/* Open the connection to the module, saying why it failed. */
static int daemon_connect(struct daemon *d)
{
	int err = pager_conn_open(&d->conn);

	if (err == -ENOENT)
		daemon_err(d, "the extpager module is not loaded: %s%s%s "
			   "(load extpager.ko first)", strerror(-err),
			   *pager_conn_error() ? ": " : "", pager_conn_error());
	else if (err)
		daemon_pager_err(d, "cannot connect to the extpager module", err);
	return err;
}

/*
 * Claim d->sock_path among extpager's daemons: bind an abstract socket named
 * after the path's directory (device and inode, whatever names lead there)
 * and file name.  The kernel releases it when the daemon dies, so finding
 * the path served takes no connection, which the serving daemon would count
 * as a client.
 */
static int daemon_claim(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	const char *base;
	struct stat st;
	socklen_t len;
	int fd, n;

	base = strrchr(d->sock_path, '/');
	snprintf(dir, sizeof(dir), "%.*s", base ? (int)(base - d->sock_path) + 1 : 1,
		 base ? d->sock_path : ".");
	base = base ? base + 1 : d->sock_path;
	if (stat(dir, &st)) {
		n = -errno;
		daemon_err(d, "%s: %s", dir, strerror(errno));
		return n;
	}
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "extpager-daemon:%llx:%llx:%s",
		     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, base);
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	      ((size_t)n < sizeof(sa.sun_path) - 1 ? (size_t)n : sizeof(sa.sun_path) - 2);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len)) {
		n = -errno;
		if (n == -EADDRINUSE)
			daemon_err(d, "%s is in use: another server listens on it",
				   d->sock_path);
		else
			daemon_err(d, "claiming %s: %s", d->sock_path, strerror(-n));
		if (fd >= 0)
			close(fd);
		return n;
	}
	d->claim_fd = fd;
	return 0;
}

/*
 * Listen on d->sock_path.  A socket file nobody listens on is left over
 * from a daemon that died: it is replaced.  One another extpager daemon
 * serves (daemon_claim()) or somebody else answers on, or anything that is
 * not a socket, is an error.
 */
static int daemon_listen(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe, err;

	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		daemon_err(d, "%s: socket path longer than %zu bytes", d->sock_path,
			   sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	err = daemon_claim(d);
	if (err)
		return err;
	strcpy(sa.sun_path, d->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		daemon_err(d, "socket: %s", strerror(errno));
		return err;
	}
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	if (err == -EADDRINUSE) {
		if (lstat(d->sock_path, &st) || !S_ISSOCK(st.st_mode)) {
			daemon_err(d, "%s exists and is not a socket", d->sock_path);
			close(fd);
			return -EEXIST;
		}
		/* Not one of ours: only a stranger would count this as a client. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			daemon_err(d, "%s is in use: another server listens on it",
				   d->sock_path);
			close(probe);
			close(fd);
			return -EADDRINUSE;
		}
		if (probe >= 0 && errno == ECONNREFUSED) {
			unlink(d->sock_path);
			err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		}
		if (probe >= 0)
			close(probe);
	}
	if (!err && listen(fd, 64))
		err = -errno;
	if (err) {
		daemon_err(d, "%s: %s", d->sock_path, strerror(-err));
		close(fd);
		return err;
	}
	d->listen_fd = fd;
	return 0;
}

/*
 * Take SIGTERM, SIGINT and SIGUSR1 through a signalfd (blocked in every
 * thread, created later) and start listening.
 */
static int daemon_start(struct daemon *d)
{
	sigset_t set;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* A client that hangs up before it got its descriptor is no reason to die. */
	signal(SIGPIPE, SIG_IGN);
	d->listen_fd = d->claim_fd = d->flush_fd = d->served_fd = -1;
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (d->sig_fd < 0) {
		int err = -errno;

		daemon_err(d, "signalfd: %s", strerror(-err));
		return err;
	}
	return daemon_listen(d);
}

static void daemon_stop_listening(struct daemon *d)
{
	if (d->listen_fd < 0)
		return;
	close(d->listen_fd);
	d->listen_fd = -1;
	unlink(d->sock_path);
	close(d->claim_fd);	/* after the unlink: the next daemon binds afresh */
	d->claim_fd = -1;
}

/* One line: the kernel's counters for the object, then the daemon's own. */
static void daemon_print_stats(struct daemon *d)
{
	struct pager_stats st;
	int err = pager_stats(d->pager, &st);

	if (err) {
		daemon_pager_err(d, "statistics", err);
		return;
	}
	printf("%s: faults=%llu requests=%llu requested_pages=%llu supplies=%llu "
	       "zero_fills=%llu errors=%llu timeouts=%llu unlocks=%llu returns=%llu "
	       "return_failures=%llu resident=%llu mappings=%llu clients=%lu", d->name,
	       (unsigned long long)st.faults, (unsigned long long)st.requests,
	       (unsigned long long)st.requested_pages, (unsigned long long)st.supplies,
	       (unsigned long long)st.zero_fills, (unsigned long long)st.errors,
	       (unsigned long long)st.timeouts, (unsigned long long)st.unlocks,
	       (unsigned long long)st.returns, (unsigned long long)st.return_failures,
	       (unsigned long long)st.resident, (unsigned long long)st.mappings,
	       d->clients);
	if (d->print_stats)
		d->print_stats(d, stdout);
	putchar('\n');
	fflush(stdout);
}

/* Each connection gets the object's descriptor and the data's size. */
static void daemon_accept(struct daemon *d)
{
	uint64_t size = d->data_size;
	int c, err;

	while ((c = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		err = pager_send_fd(c, pager_fd(d->pager), &size, sizeof(size));
		if (err)
			daemon_err(d, "sending the object to a client: %s", strerror(-err));
		else
			d->clients++;
		close(c);
	}
	/* Out of descriptors, say: the next poll() tries again. */
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		daemon_err(d, "accept: %s", strerror(errno));
}

static void *daemon_flusher(void *arg)
{
	struct daemon *d = arg;
	uint64_t one = 1;

	d->flush_err = fsync(pager_fd(d->pager)) ? errno : 0;
	(void)!write(d->flush_fd, &one, sizeof(one));
	return NULL;
}

/*
 * fsync() of the object returns its dirty pages and waits for this thread
 * to store them: it must run in another one.  Returns whether it started.
 */
static bool daemon_start_flush(struct daemon *d)
{
	pthread_t t;
	int err;

	d->flush_fd = eventfd(0, EFD_CLOEXEC);
	err = d->flush_fd < 0 ? errno : pthread_create(&t, NULL, daemon_flusher, d);
	if (err) {
		daemon_err(d, "cannot return the clients' dirty pages: %s", strerror(err));
		return false;
	}
	pthread_detach(t);
	daemon_say(d, "stopping: storing the dirty pages still in the clients' mappings");
	return true;
}

static void *daemon_server(void *arg)
{
	struct daemon *d = arg;
	uint64_t one = 1;

	d->serve_err = pager_serve(d->conn, d->threads);
	(void)!write(d->served_fd, &one, sizeof(one));
	return NULL;
}

/* pager_serve() in a thread of its own; d->served_fd says when it returned. */
static int daemon_start_server(struct daemon *d)
{
	int err;

	d->served_fd = eventfd(0, EFD_CLOEXEC);
	err = d->served_fd < 0 ? errno : pthread_create(&d->server, NULL, daemon_server, d);
	if (err) {
		daemon_err(d, "cannot start serving: %s", strerror(err));
		return -err;
	}
	return 0;
}

/*
 * Serve until SIGTERM or SIGINT; then stop listening, return the dirty
 * pages (flush_on_exit), sync, print the statistics and destroy the object.
 * Returns the exit status.
 */
static int daemon_run(struct daemon *d)
{
	bool stopping = false, flushing = false;
	struct signalfd_siginfo si;
	bool served = false;
	struct pollfd pfd[4];
	int n, status = 0;

	if (d->threads && daemon_start_server(d))
		return 1;
	for (;;) {
		/* First: calls (statistics) queue the events they see. */
		n = d->threads ? 0 : pager_dispatch(d->conn);
		if (n == -ENOBUFS) {
			/* Requests were lost: their faults time out and retry. */
			daemon_err(d, "the kernel's messages overran the socket");
		} else if (n < 0) {
			daemon_pager_err(d, "serving", n);
			status = 1;
			break;
		}
		if (stopping && !flushing)
			break;

		pfd[0] = (struct pollfd){
			.fd = d->threads ? d->served_fd : pager_conn_fd(d->conn),
			.events = POLLIN,
		};
		pfd[1] = (struct pollfd){ .fd = d->sig_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		pfd[3] = (struct pollfd){ .fd = flushing ? d->flush_fd : -1, .events = POLLIN };
		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			daemon_err(d, "poll: %s", strerror(errno));
			status = 1;
			break;
		}
		if (d->threads && (pfd[0].revents & POLLIN)) {
			/* The object is still ours: pager_serve() only returns on an error. */
			served = true;
			daemon_pager_err(d, "serving", d->serve_err ? d->serve_err : -EPIPE);
			status = 1;
			break;
		}
		if ((pfd[1].revents & POLLIN) &&
		    read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				daemon_print_stats(d);
			} else if (!stopping) {
				stopping = true;
				daemon_stop_listening(d);
				flushing = d->flush_on_exit && daemon_start_flush(d);
			} else if (flushing) {
				daemon_say(d, "second %s: not waiting for the dirty pages",
					   strsignal(si.ssi_signo));
				flushing = false;
			}
		}
		if (pfd[3].revents & POLLIN) {
			flushing = false;
			if (d->flush_err) {
				daemon_err(d, "returning the dirty pages: %s",
					   strerror(d->flush_err));
				status = 1;
			}
		}
		if ((pfd[2].revents & POLLIN) && d->listen_fd >= 0)
			daemon_accept(d);
	}

	daemon_stop_listening(d);
	if (d->sync && (n = d->sync(d))) {
		daemon_err(d, "sync: %s", strerror(-n));
		status = 1;
	}
	daemon_print_stats(d);
	/* Later faults fail at once rather than waiting for a manager. */
	n = pager_destroy(d->pager);
	if (n)
		daemon_pager_err(d, "destroying the object", n);
	/*
	 * The last object destroyed, pager_serve() returns.  If it could not
	 * be, the workers still serve the connection: it stays open until the
	 * process exits.
	 */
	if (d->threads && (served || !n))
		pthread_join(d->server, NULL);
	if (!d->threads || served || !n) {
		if (d->quiesce)
			d->quiesce(d);
		pager_conn_close(d->conn);
	}
	daemon_say(d, "stopped");
	return status;
}

#endif /* EXTPAGER_DAEMON_H */
