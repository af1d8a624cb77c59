// SPDX-License-Identifier: GPL-2.0
/*
 * defpager, the default pager daemon (daemons/defpager.c), run as a child
 * with a swap file in /tmp: an anonymous object four times a cgroup's
 * memory limit round-trips through the swap file; a byte flipped in the
 * swap file makes the page's next read fail with SIGBUS, never return the
 * data, and the daemon counts it; a full swap refuses returns with ENOSPC
 * and a terminated object's slots are reused; bad requests get an errno;
 * SIGTERM exits cleanly with the final statistics.  Run as root, it is the
 * system's default pager and serves the anonymous objects clients create
 * through the kernel.
 */
#include <limits.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "../daemons/defpager.h"

struct daemon {
	pid_t pid;
	FILE *log;		/* its standard error */
	char swap[64], sock[64];
	char ready[512];	/* its "ready:" line */
	bool mismatch_logged;	/* it logged a checksum mismatch */
};

struct dstats {
	long objects, assigned, slots_used, slots_total, pages_written, pages_read;
	long zero_fills, checksum_failures, io_errors, enospc;
};

static long stat_field(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

/*
 * Read the daemon's log up to a line holding @what (copied to @line),
 * echoing it to ours.  False if the daemon's log ended first.
 */
static bool dp_wait_line(struct daemon *d, const char *what, char *line, size_t len)
{
	while (fgets(line, len, d->log)) {
		fprintf(stderr, "#   %s", line);
		if (strstr(line, "checksum mismatch"))
			d->mismatch_logged = true;
		if (strstr(line, what))
			return true;
	}
	return false;
}

/* Wait for the daemon to log @what. */
static bool dp_wait(struct daemon *d, const char *what)
{
	char line[512];

	return dp_wait_line(d, what, line, sizeof(line));
}

static void parse_stats(const char *line, struct dstats *st)
{
	st->objects = stat_field(line, "objects");
	st->assigned = stat_field(line, "assigned");
	st->slots_used = stat_field(line, "slots_used");
	st->slots_total = stat_field(line, "slots_total");
	st->pages_written = stat_field(line, "pages_written");
	st->pages_read = stat_field(line, "pages_read");
	st->zero_fills = stat_field(line, "zero_fills");
	st->checksum_failures = stat_field(line, "checksum_failures");
	st->io_errors = stat_field(line, "io_errors");
	st->enospc = stat_field(line, "enospc");
}

/*
 * Run the daemon with @argv (NULL-terminated, without argv[0]), its
 * standard output and error going to the returned stream.
 */
static FILE *dp_spawn(char *const *argv, pid_t *pid)
{
	char exe[PATH_MAX], *args[16] = { "defpager" };
	int pipefd[2], i;
	ssize_t n;

	/* build/selftests/defpager_test -> build/daemons/defpager */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	strncat(exe, "/../daemons/defpager", sizeof(exe) - strlen(exe) - 1);
	for (i = 0; argv[i] && i < 14; i++)
		args[i + 1] = argv[i];
	if (pipe2(pipefd, O_CLOEXEC))
		return NULL;
	*pid = fork();
	if (*pid < 0)
		return NULL;
	if (!*pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(exe, args);
		fprintf(stderr, "exec %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	return fdopen(pipefd[0], "r");
}

/* Start the daemon with a swap file of @swap_size; true once it is ready. */
static bool dp_start(struct daemon *d, const char *swap_size)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->swap, sizeof(d->swap), "/tmp/defpager-test-%d.swap", getpid());
	snprintf(d->sock, sizeof(d->sock), "/tmp/defpager-test-%d.sock", getpid());
	d->log = dp_spawn((char *[]){ "--verbose", "--swap", d->swap,
					  "--swap-size", (char *)swap_size,
					  "--socket", d->sock, NULL }, &d->pid);
	return d->log && dp_wait_line(d, "ready:", d->ready, sizeof(d->ready));
}

/* The daemon's statistics (SIGUSR1); false if it did not answer. */
static bool dp_stats(struct daemon *d, struct dstats *st)
{
	char line[512];

	if (kill(d->pid, SIGUSR1) || !dp_wait_line(d, "stats (SIGUSR1)", line, sizeof(line)))
		return false;
	parse_stats(line, st);
	return true;
}

/*
 * SIGTERM: returns its wait status, the final statistics in @st (objects
 * -1 if it printed none).
 */
static int dp_stop(struct daemon *d, struct dstats *st)
{
	char line[512];
	int status = -1;

	st->objects = -1;
	kill(d->pid, SIGTERM);
	if (dp_wait_line(d, "stats (exit)", line, sizeof(line)))
		parse_stats(line, st);
	while (fgets(line, sizeof(line), d->log))
		fprintf(stderr, "#   %s", line);
	waitpid(d->pid, &status, 0);
	fclose(d->log);
	d->pid = 0;
	return status;
}

static int daemon_connect(struct daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(addr.sun_path, d->sock);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		if (sock >= 0)
			close(sock);
		return -errno;
	}
	return sock;
}

/*
 * Send @len bytes of request on @sock; returns the object's descriptor,
 * or the daemon's -errno.
 */
static int daemon_request(int sock, const void *req, size_t len)
{
	struct defpager_reply reply = { 0 };
	int fd;

	if (send(sock, req, len, 0) != (ssize_t)len)
		return -errno;
	fd = pager_recv_fd(sock, &reply, sizeof(reply));
	if (fd == -EBADMSG)	/* a reply without a descriptor */
		return reply.error ?: -EPROTO;
	if (fd >= 0 && reply.error) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* A new anonymous object of @size bytes: its descriptor, or -errno. */
static int dp_object(struct daemon *d, uint64_t size)
{
	struct defpager_request req = { .size = size };
	int sock = daemon_connect(d), fd;

	if (sock < 0)
		return sock;
	fd = daemon_request(sock, &req, sizeof(req));
	close(sock);
	return fd;
}

/*
 * Drop the object's clean pages: those of a mapping that is gone go with
 * POSIX_FADV_DONTNEED.  Returns how many are still cached (mincore).
 */
static long drop_cache(int fd, size_t size)
{
	unsigned char vec[4096];
	size_t pages = size / PAGE, i;
	long resident = 0;
	char *p;

	if (pages > sizeof(vec) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return -1;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (mincore(p, size, vec))
		resident = -1;
	for (i = 0; resident >= 0 && i < pages; i++)
		resident += vec[i] & 1;
	munmap(p, size);
	return resident;
}

/* The slot of @swap_fd holding page @index of pattern @seed, or -1; -2 if several. */
static long find_slot(int swap_fd, uint64_t seed, uint64_t index)
{
	char *buf = malloc(PAGE);
	long slot, found = -1;

	for (slot = 0; buf && pread(swap_fd, buf, PAGE, slot * PAGE) == (ssize_t)PAGE; slot++) {
		if (!check_pattern(buf, seed, index * PAGE, PAGE))
			continue;
		found = found == -1 ? slot : -2;
	}
	free(buf);
	return found;
}

FIXTURE(defpager) {
	struct daemon d;
	char cg[64];
};

FIXTURE_SETUP(defpager)
{
	self->d.pid = 0;
	self->cg[0] = '\0';
}

FIXTURE_TEARDOWN(defpager)
{
	struct dstats st;

	if (self->d.pid > 0)
		dp_stop(&self->d, &st);
	if (self->d.swap[0])
		unlink(self->d.swap);
	if (self->cg[0])
		rmdir(self->cg);
}

/* A clean stop: exit status 0, nothing left, the final statistics. */
#define EXPECT_CLEAN_STOP(d) do {						\
	struct dstats _st;							\
	int _status = dp_stop(d, &_st);					\
										\
	EXPECT_TRUE(WIFEXITED(_status) && WEXITSTATUS(_status) == 0)		\
		TH_LOG("daemon wait status %#x", _status);			\
	EXPECT_EQ(0, _st.objects);						\
	EXPECT_EQ(0, _st.slots_used);						\
	EXPECT_EQ(-1, access((d)->sock, F_OK));					\
} while (0)

/*
 * A client in a cgroup with memory.max 4 MiB writes a 16 MiB object
 * through a shared mapping and reads it back: at least 12 MiB must come
 * back from the swap file, and every byte is what was written.
 */
TEST_F_TIMEOUT(defpager, object_four_times_the_memory_limit_round_trips, 300)
{
	/*
	 * Each page goes to the daemon and comes back: some 6 ms a page on
	 * the debug kernel under TCG, whatever the kernel's version.
	 */
	const size_t limit = 4 << 20, size = 16 << 20;
	struct dstats st;
	int fd, status, err;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	err = memcg_create(self->cg, sizeof(self->cg), "defpager", "4M");
	ASSERT_EQ(0, err);
	ASSERT_TRUE(dp_start(&self->d, "40M"));
	fd = dp_object(&self->d, size);
	ASSERT_LE(0, fd) TH_LOG("request: %s", strerror(-fd));

	status = memcg_round_trip(self->cg, fd, size, 4);
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("child killed by signal %d", WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(1, st.objects);
	EXPECT_LE(size / PAGE, st.pages_written);
	EXPECT_EQ(size / PAGE, st.slots_used);
	/* What the limit kept out of memory came from the swap file. */
	EXPECT_LE((size - limit) / PAGE, st.pages_read);
	EXPECT_EQ(0, st.checksum_failures);
	EXPECT_EQ(0, st.io_errors);
	EXPECT_EQ(0, st.enospc);

	/* The last descriptor goes: the object terminates, its slots are freed. */
	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.slots_used);
	EXPECT_CLEAN_STOP(&self->d);
}

/*
 * Run as root, the daemon is the system's default pager: an anonymous
 * object a client creates through the kernel (not on the daemon's socket)
 * is assigned to it, names it as its manager, and four times the client's
 * memory limit of it round-trips through the swap file.
 */
TEST_F_TIMEOUT(defpager, the_system_default_pager_serves_anonymous_objects, 300)
{
	const size_t limit = 4 << 20, size = 16 << 20;
	struct pager_conn *conn;
	struct object_info oi;
	struct dstats st;
	int fd, status;
	uint32_t id;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	ASSERT_EQ(0, memcg_create(self->cg, sizeof(self->cg), "defpager", "4M"));
	ASSERT_TRUE(dp_start(&self->d, "40M"));
	ASSERT_NE(NULL, strstr(self->d.ready, "the system's default pager"));
	ASSERT_EQ(0, pager_conn_open(&conn));
	fd = pager_create_anonymous(conn, size, &id);
	pager_conn_close(conn);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", strerror(-fd), pager_conn_error());
	ASSERT_EQ(0, object_info_id(id, &oi));
	EXPECT_EQ(self->d.pid, oi.manager_pid);
	EXPECT_STREQ("defpager", oi.manager_comm);

	status = memcg_round_trip(self->cg, fd, size, 4);
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("child killed by signal %d", WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(1, st.assigned);
	EXPECT_EQ(1, st.objects);
	EXPECT_LE(size / PAGE, st.pages_written);
	EXPECT_LE((size - limit) / PAGE, st.pages_read);
	EXPECT_EQ(0, st.checksum_failures);

	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	EXPECT_CLEAN_STOP(&self->d);
}

/*
 * Pages go to the swap file (msync), leave memory (munmap, FADV_DONTNEED),
 * and one of them is corrupted there by a single bit: reading it gets
 * SIGBUS, each time, and the daemon logs and counts it; the other pages
 * read back intact, and pages never written read as zeros.
 */
TEST_F(defpager, corrupted_swap_page_is_sigbus_never_data)
{
	const size_t pages = 16, written = 8, bad = 5, size = pages * PAGE;
	struct dstats st;
	long slot, failures;
	void *where;
	size_t i;
	char *p, c;
	int fd, swap_fd;

	ASSERT_TRUE(dp_start(&self->d, "1M"));
	fd = dp_object(&self->d, size);
	ASSERT_LE(0, fd) TH_LOG("request: %s", strerror(-fd));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < written; i++)
		fill_pattern(p + i * PAGE, 3, i * PAGE, PAGE);
	ASSERT_EQ(0, msync(p, size, MS_SYNC));
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, drop_cache(fd, size));
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(written, st.slots_used);
	EXPECT_EQ(0, st.checksum_failures);

	/* One bit of the bad page's slot flips. */
	swap_fd = open(self->d.swap, O_RDWR);
	ASSERT_LE(0, swap_fd);
	slot = find_slot(swap_fd, 3, bad);
	ASSERT_LE(0, slot) TH_LOG("page %zu is in no single slot of %s", bad, self->d.swap);
	ASSERT_EQ(1, pread(swap_fd, &c, 1, slot * PAGE + 1234));
	c ^= 0x10;
	ASSERT_EQ(1, pwrite(swap_fd, &c, 1, slot * PAGE + 1234));
	close(swap_fd);

	catch_sigbus();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < written; i++)
		if (i != bad)
			EXPECT_TRUE(check_pattern(p + i * PAGE, 3, i * PAGE, PAGE))
				TH_LOG("page %zu", i);
	for (i = written; i < pages; i++)
		EXPECT_TRUE(all_zero(p + i * PAGE, PAGE)) TH_LOG("page %zu", i);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(0, st.checksum_failures);

	/*
	 * How many reads one fault costs is the kernel's business (a fault
	 * may ask again before it gives up): each counts at least one.
	 */
	where = NULL;
	EXPECT_EQ(1, touch(p + bad * PAGE + 8, false, &where));
	EXPECT_EQ(p + bad * PAGE + 8, where);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_LE(1, st.checksum_failures);
	EXPECT_TRUE(self->d.mismatch_logged);
	failures = st.checksum_failures;
	/* Not remembered as an error, not cached: asked again, failed again. */
	where = NULL;
	EXPECT_EQ(1, touch(p + bad * PAGE, false, &where));
	EXPECT_EQ(p + bad * PAGE, where);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_LT(failures, st.checksum_failures);
	EXPECT_EQ(written - 1, st.pages_read);

	munmap(p, size);
	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	EXPECT_CLEAN_STOP(&self->d);
}

/*
 * A swap of 16 slots full, 16 more dirty pages are refused with ENOSPC,
 * which msync reports, and stay in memory.  Once the object terminates,
 * its slots serve the next object, whose pages go out and come back.
 */
TEST_F(defpager, full_swap_refuses_with_enospc_until_slots_are_freed)
{
	const size_t slots = 16, size = 4 * slots * PAGE;
	char swap_size[32];
	struct dstats st;
	size_t i;
	char *p;
	int fd;

	snprintf(swap_size, sizeof(swap_size), "%zu", slots * PAGE);
	ASSERT_TRUE(dp_start(&self->d, swap_size));
	fd = dp_object(&self->d, size);
	ASSERT_LE(0, fd) TH_LOG("request: %s", strerror(-fd));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < slots; i++)
		fill_pattern(p + i * PAGE, 5, i * PAGE, PAGE);
	ASSERT_EQ(0, msync(p, size, MS_SYNC));
	for (i = slots; i < 2 * slots; i++)
		fill_pattern(p + i * PAGE, 5, i * PAGE, PAGE);
	EXPECT_EQ(-1, msync(p, size, MS_SYNC));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(slots, st.slots_total);
	EXPECT_EQ(slots, st.slots_used);
	EXPECT_LE(1, st.enospc);
	/* Refused pages stay dirty in memory, intact. */
	for (i = 0; i < 2 * slots; i++)
		EXPECT_TRUE(check_pattern(p + i * PAGE, 5, i * PAGE, PAGE)) TH_LOG("page %zu", i);

	munmap(p, size);
	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.slots_used);

	fd = dp_object(&self->d, slots * PAGE);
	ASSERT_LE(0, fd) TH_LOG("request: %s", strerror(-fd));
	p = mmap(NULL, slots * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < slots; i++)
		fill_pattern(p + i * PAGE, 6, i * PAGE, PAGE);
	ASSERT_EQ(0, msync(p, slots * PAGE, MS_SYNC));
	ASSERT_EQ(0, munmap(p, slots * PAGE));
	ASSERT_EQ(0, drop_cache(fd, slots * PAGE));
	p = mmap(NULL, slots * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < slots; i++)
		EXPECT_TRUE(check_pattern(p + i * PAGE, 6, i * PAGE, PAGE)) TH_LOG("page %zu", i);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(slots, st.slots_used);
	EXPECT_EQ(slots, st.pages_read);
	EXPECT_EQ(0, st.checksum_failures);
	munmap(p, slots * PAGE);
	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	EXPECT_CLEAN_STOP(&self->d);
}

/*
 * Only the daemon's user may ask (its socket is mode 0600); sizes it
 * cannot serve and malformed requests get an errno, no object.
 */
TEST_F(defpager, bad_requests_get_an_errno)
{
	struct defpager_request req;
	uint32_t short_req = 4096;
	struct dstats st;
	struct stat sb;
	int sock, fd;

	ASSERT_TRUE(dp_start(&self->d, "1M"));
	ASSERT_EQ(0, stat(self->d.sock, &sb));
	EXPECT_TRUE(S_ISSOCK(sb.st_mode));
	EXPECT_EQ(0600, sb.st_mode & 07777);
	sock = daemon_connect(&self->d);
	ASSERT_LE(0, sock);
	req.size = 0;
	EXPECT_EQ(-EINVAL, daemon_request(sock, &req, sizeof(req)));
	req.size = PAGE + 1;
	EXPECT_EQ(-EINVAL, daemon_request(sock, &req, sizeof(req)));
	req.size = DEFPAGER_MAX_SIZE + PAGE;
	EXPECT_EQ(-EFBIG, daemon_request(sock, &req, sizeof(req)));
	EXPECT_EQ(-EBADMSG, daemon_request(sock, &short_req, sizeof(short_req)));
	/* The connection still serves a good request. */
	req.size = 4 * PAGE;
	fd = daemon_request(sock, &req, sizeof(req));
	ASSERT_LE(0, fd) TH_LOG("request: %s", strerror(-fd));
	close(sock);
	ASSERT_TRUE(dp_stats(&self->d, &st));
	EXPECT_EQ(1, st.objects);
	close(fd);
	ASSERT_TRUE(dp_wait(&self->d, "terminated"));
	EXPECT_CLEAN_STOP(&self->d);
}

/* Run the daemon to its end: its exit status, its output in @out. */
static int dp_run(char *const *argv, char *out, size_t len)
{
	size_t got = 0, n;
	int status = -1;
	pid_t pid;
	FILE *f = dp_spawn(argv, &pid);

	if (!f)
		return -1;
	while (got + 1 < len && (n = fread(out + got, 1, len - 1 - got, f)) > 0)
		got += n;
	out[got] = '\0';
	fclose(f);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * --help succeeds; a bad command line, swap file or socket path says what
 * is wrong.
 */
TEST(command_line)
{
	const char *not_socket = "/tmp/defpager-test-not-a-socket";
	char out[4096];
	int fd;

	EXPECT_EQ(0, dp_run((char *[]){ "--help", NULL }, out, sizeof(out)));
	/* Its name, not the path it was run as. */
	EXPECT_NE(NULL, strstr(out, "usage: defpager --swap")) TH_LOG("%s", out);
	EXPECT_EQ(0, dp_run((char *[]){ "--version", NULL }, out, sizeof(out)));
	EXPECT_STREQ("defpager " EXTPAGER_VERSION "\n", out);
	EXPECT_EQ(2, dp_run((char *[]){ "--swap", "/tmp/x", NULL }, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "are required")) TH_LOG("%s", out);
	EXPECT_EQ(2, dp_run((char *[]){ "-s", "/tmp/x", "-S", "12Q", "-l", "/tmp/y", NULL },
				out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "'12Q' is not a size")) TH_LOG("%s", out);
	EXPECT_EQ(1, dp_run((char *[]){ "-s", "/nonexistent/swap", "-S", "1M", "-l",
					    "/tmp/y", NULL }, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "/nonexistent/swap: No such file or directory"))
		TH_LOG("%s", out);
	/* A file that is not a socket is not taken for one left behind. */
	fd = open(not_socket, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(1, dp_run((char *[]){ "-s", "/tmp/defpager-test-cl.swap", "-S", "1M",
					 "-l", (char *)not_socket, NULL }, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "exists and is not a socket")) TH_LOG("%s", out);
	EXPECT_EQ(0, access(not_socket, F_OK));
	unlink(not_socket);
	unlink("/tmp/defpager-test-cl.swap");
}

TEST_HARNESS_MAIN
