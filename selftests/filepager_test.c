// SPDX-License-Identifier: GPL-2.0
/*
 * daemons/filepager end to end: a client sees the file through its
 * mapping; two processes in a cgroup far smaller than the file read and
 * write it at random through shared mappings, and once they are gone and
 * the object is fsync'd the file holds exactly what they wrote; SIGTERM
 * stores what the clients' mappings still hold dirty; and the daemon's
 * errors say what is wrong.
 */
#include "kselftest_harness.h"
#include "helpers.h"

/* Not a multiple of the page size: the last page is partly past the end. */
#define FILE_SIZE	((16u << 20) + 1000)
#define OPS		6000		/* per writer */

FIXTURE(fp) {
	char file[64], sock[64], cg[PATH_MAX];
	struct daemon_proc dp;
	size_t size, obj_size;
	char *model;		/* what the file must hold, shared with the writers */
	int fd;
};

FIXTURE_SETUP(fp)
{
	char *argv[] = { "filepager", self->file, self->sock, NULL };
	size_t done;
	ssize_t n;
	int fd;

	self->fd = -1;
	self->cg[0] = '\0';
	snprintf(self->file, sizeof(self->file), "/tmp/filepager-test-%d.dat", getpid());
	snprintf(self->sock, sizeof(self->sock), "/tmp/filepager-test-%d.sock", getpid());
	self->size = FILE_SIZE;
	self->obj_size = (FILE_SIZE + PAGE - 1) / PAGE * PAGE;
	/* Zeros past the end, as the object reads there. */
	self->model = mmap(NULL, self->obj_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->model);
	fill_pattern(self->model, 7, 0, self->size);
	fd = open(self->file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	for (done = 0; done < self->size; done += n) {
		n = write(fd, self->model + done, self->size - done);
		ASSERT_LT(0, n);
	}
	close(fd);
	ASSERT_EQ(0, daemon_spawn(&self->dp, argv));
	ASSERT_NE(NULL, daemon_wait_line(&self->dp, "serving"))
		TH_LOG("filepager said: %s", self->dp.all);
}

FIXTURE_TEARDOWN(fp)
{
	if (self->dp.pid > 0)
		daemon_stop(&self->dp, SIGKILL);
	if (self->cg[0])
		rmdir(self->cg);
	unlink(self->file);
	unlink(self->sock);
}

/* Whether the file holds @len bytes of @want. */
static bool file_equals(const char *path, const char *want, size_t len)
{
	char *buf = malloc(len + 1);
	size_t done = 0;
	ssize_t n = 1;
	bool same;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		return false;
	while (done <= len && (n = read(fd, buf + done, len + 1 - done)) > 0)
		done += n;
	close(fd);
	same = n >= 0 && done == len && !memcmp(buf, want, len);
	free(buf);
	return same;
}

TEST_F(fp, the_file_is_visible_through_the_mapping)
{
	struct stat st;
	uint64_t size = 0;
	char *p;
	int fd;

	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(self->size, size);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(self->obj_size, st.st_size);
	p = mmap(NULL, self->obj_size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p, 7, 0, self->size - 1000));
	EXPECT_EQ(0, memcmp(p, self->model, self->size));
	/* Past the end of the file: zeros. */
	EXPECT_TRUE(all_zero(p + self->size, self->obj_size - self->size));
	munmap(p, self->obj_size);
	close(fd);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	EXPECT_LE(self->size, stat_of(self->dp.stats, "bytes_read"));
	EXPECT_EQ(1, stat_of(self->dp.stats, "clients"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Writer @me of two: random pages, reading (and checking) or writing the
 * words it owns (every other one, so the two write the same pages), or
 * reading the other's.  Returns 0, or the page whose words were wrong + 1.
 */
static long writer(const char *sock, const char *cg, char *model, size_t size, int me)
{
	size_t words = size / 8, npages = (size + PAGE - 1) / PAGE, wpp = PAGE / 8;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (me + 1), len, *m = (uint64_t *)model;
	volatile uint64_t *p;
	size_t page, w, i;
	int fd;

	if (memcg_enter(cg))
		return -1;
	fd = daemon_object(sock, &len);
	if (fd < 0 || len != size)
		return -2;
	p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -3;
	close(fd);
	for (i = 0; i < OPS; i++) {
		page = xorshift(&seed) % npages;
		switch (xorshift(&seed) % 3) {
		case 0:
			for (w = page * wpp + me; w < (page + 1) * wpp && w < words; w += 2)
				if (p[w] != m[w])
					return page + 1;
			break;
		case 1:
			for (w = page * wpp + me; w < (page + 1) * wpp && w < words; w += 2)
				p[w] = m[w] = xorshift(&seed);
			break;
		default:
			for (w = page * wpp + !me; w < (page + 1) * wpp && w < words; w += 2)
				(void)p[w];
			break;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(fp, two_writers_under_memory_pressure, 600)
{
	long long returned, requested;
	int i, status, fd;
	uint64_t size;
	pid_t pid[2];
	struct stat st;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	/* A quarter of the file: pages are evicted, returned and asked again. */
	ASSERT_EQ(0, memcg_create(self->cg, sizeof(self->cg), "filepager", "4M"));
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			long r = writer(self->sock, self->cg, self->model, self->size, i);

			if (r)
				fprintf(stderr, "writer %d: %s %ld\n", i,
					r > 0 ? "wrong data on page" : "set-up failed", r > 0 ? r - 1 : r);
			_exit(r ? 1 : 0);
		}
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status)) TH_LOG("writer %d killed by signal %d", i,
						     WTERMSIG(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("writer %d", i);
	}

	/* Under pressure, while they ran: dirty pages went back, pages came again. */
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	returned = stat_of(self->dp.stats, "returns");
	requested = stat_of(self->dp.stats, "requested_pages");
	TH_LOG("%s", self->dp.stats);
	EXPECT_LT(0, returned);
	EXPECT_LT((long long)(self->obj_size / PAGE), requested);
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "return_failures"));
	EXPECT_EQ(2, stat_of(self->dp.stats, "clients"));

	/* The mappings are gone; fsync returns what is still dirty. */
	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	EXPECT_TRUE(file_equals(self->file, self->model, self->size));
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(self->size, st.st_size);

	EXPECT_EQ(0, daemon_stop(&self->dp, SIGTERM)) TH_LOG("%s", self->dp.all);
	EXPECT_LE(returned, stat_of(self->dp.stats, "returns"));
	EXPECT_LT(0, stat_of(self->dp.stats, "bytes_written"));
	EXPECT_NE(NULL, strstr(self->dp.all, "filepager: stopped"));
	/* It removed its socket. */
	EXPECT_NE(0, access(self->sock, F_OK));
}

/*
 * A client writes and keeps its mapping: SIGTERM returns the dirty pages
 * (an fsync of the object from the daemon) before the daemon exits.
 */
TEST_F(fp, sigterm_stores_what_the_mappings_hold)
{
	uint64_t size;
	char *p;
	int fd, i;

	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->obj_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 64; i++) {
		memset(p + i * 37 * PAGE, 0xc3, 100);
		memset(self->model + i * 37 * PAGE, 0xc3, 100);
	}
	/* Past the end of the file: not written to it, which does not grow. */
	p[self->size + 10] = 1;
	EXPECT_EQ(0, daemon_stop(&self->dp, SIGTERM)) TH_LOG("%s", self->dp.all);
	EXPECT_NE(NULL, strstr(self->dp.all, "storing the dirty pages"));
	EXPECT_LE(64, stat_of(self->dp.stats, "returns"));
	EXPECT_TRUE(file_equals(self->file, self->model, self->size));
	munmap(p, self->obj_size);
	close(fd);
}

static int run(char *const argv[], struct daemon_proc *dp)
{
	int status;

	if (daemon_spawn(dp, argv))
		return -1;
	status = daemon_wait(dp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(fp, help_and_errors)
{
	char *help[] = { "filepager", "--help", NULL };
	char *missing[] = { "filepager", "/nonexistent/file", self->sock, NULL };
	char *in_use[] = { "filepager", self->file, self->sock, NULL };
	char *not_sock[] = { "filepager", self->file, self->file, NULL };
	char *bad_cluster[] = { "filepager", "--cluster=300", self->file, self->sock, NULL };
	char stale[80];
	char *stale_argv[] = { "filepager", self->file, stale, NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct daemon_proc dp;
	long long clients;
	uint64_t size;
	int s, fd;

	ASSERT_NE(NULL, daemon_stats(&self->dp));
	clients = stat_of(self->dp.stats, "clients");
	EXPECT_EQ(0, run(help, &dp));
	EXPECT_NE(NULL, strstr(dp.all, "usage: filepager"));
	EXPECT_EQ(1, run(missing, &dp));
	EXPECT_NE(NULL, strstr(dp.all, "/nonexistent/file: No such file or directory"))
		TH_LOG("%s", dp.all);
	EXPECT_EQ(1, run(in_use, &dp));
	EXPECT_NE(NULL, strstr(dp.all, "is in use")) TH_LOG("%s", dp.all);
	EXPECT_EQ(1, run(not_sock, &dp));
	EXPECT_NE(NULL, strstr(dp.all, "is not a socket")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, run(bad_cluster, &dp));
	EXPECT_NE(NULL, strstr(dp.all, "--cluster")) TH_LOG("%s", dp.all);
	/*
	 * The running one still serves, and the second one did not connect to
	 * find it: only this client reached it, after anything that did.
	 */
	fd = daemon_object(self->sock, &size);
	EXPECT_LE(0, fd);
	close(fd);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	EXPECT_EQ(clients + 1, stat_of(self->dp.stats, "clients"));
	EXPECT_EQ(NULL, strstr(self->dp.all, "sending the object")) TH_LOG("%s", self->dp.all);

	/* A socket nobody listens on, left by a daemon that died, is replaced. */
	snprintf(stale, sizeof(stale), "%s.stale", self->sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	close(s);
	ASSERT_EQ(0, daemon_spawn(&dp, stale_argv));
	EXPECT_NE(NULL, daemon_wait_line(&dp, "serving")) TH_LOG("%s", dp.all);
	fd = daemon_object(stale, &size);
	EXPECT_LE(0, fd);
	EXPECT_EQ(self->size, size);
	close(fd);
	EXPECT_EQ(0, daemon_stop(&dp, SIGINT)) TH_LOG("%s", dp.all);
	unlink(stale);
}

TEST_HARNESS_MAIN
