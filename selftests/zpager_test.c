// SPDX-License-Identifier: GPL-2.0
/*
 * daemons/zpager end to end: pages never written read as zeros without
 * zpager holding anything; a client in a cgroup eight times smaller than
 * what it writes gets every byte back, decompressed by zpager; and the
 * statistics account for every page: compressed, kept raw, or zero.
 */
#include "kselftest_harness.h"
#include "helpers.h"

#define OBJ_SIZE	(32u << 20)

FIXTURE(z) {
	char sock[64], cg[PATH_MAX];
	struct daemon_proc dp;
};

FIXTURE_SETUP(z)
{
	char size[32];
	char *argv[] = { "zpager", size, self->sock, NULL };

	self->cg[0] = '\0';
	snprintf(size, sizeof(size), "%u", OBJ_SIZE);
	snprintf(self->sock, sizeof(self->sock), "/tmp/zpager-test-%d.sock", getpid());
	ASSERT_EQ(0, daemon_spawn(&self->dp, argv));
	ASSERT_NE(NULL, daemon_wait_line(&self->dp, "serving"))
		TH_LOG("zpager said: %s", self->dp.all);
}

FIXTURE_TEARDOWN(z)
{
	if (self->dp.pid > 0)
		daemon_stop(&self->dp, SIGKILL);
	if (self->cg[0])
		rmdir(self->cg);
	unlink(self->sock);
}

/*
 * What page @i holds: every eighth page zeros, every eighth (another) one
 * incompressible, the others 256 bytes of noise then a repeated record.
 */
enum kind { K_ZERO, K_RANDOM, K_TEXT };

static enum kind kind_of(size_t i)
{
	return i % 8 == 3 ? K_ZERO : i % 8 == 5 ? K_RANDOM : K_TEXT;
}

static void fill_page(char *p, size_t i)
{
	size_t off;

	switch (kind_of(i)) {
	case K_ZERO:
		memset(p, 0, PAGE);
		break;
	case K_RANDOM:
		fill_pattern(p, 11, i * PAGE, PAGE);
		break;
	case K_TEXT:
		memset(p, 0, PAGE);
		fill_pattern(p, 12, i * PAGE, 256);
		for (off = 256; off < PAGE; off += 32)
			snprintf(p + off, 32, "page %-8zu of a zpager test", i);
		break;
	}
}

static bool page_ok(const char *p, size_t i)
{
	char want[PAGE];

	fill_page(want, i);
	return !memcmp(p, want, PAGE);
}

TEST_F(z, pages_never_written_read_as_zeros)
{
	uint64_t size;
	char *p;
	int fd;

	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd);
	EXPECT_EQ(OBJ_SIZE, size);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(all_zero(p, 64 * PAGE));
	EXPECT_TRUE(all_zero(p + size - PAGE, PAGE));
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	EXPECT_LE(65, stat_of(self->dp.stats, "zero_fills"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "supplies"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "stored_pages"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "bytes_read"));
	EXPECT_NE(NULL, strstr(self->dp.stats, "ratio=n/a"));
	munmap(p, size);
	close(fd);
}

TEST_F_TIMEOUT(z, eight_times_the_memory_limit_and_back, 600)
{
	size_t npages = OBJ_SIZE / PAGE, i, text = 0, random = 0, zero = 0;
	long long stored, compressed, bytes_read;
	int status, fd;
	uint64_t size;
	pid_t pid;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	ASSERT_EQ(0, memcg_create(self->cg, sizeof(self->cg), "zpager", "4M"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *p;

		if (memcg_enter(self->cg))
			_exit(10);
		fd = daemon_object(self->sock, &size);
		if (fd < 0)
			_exit(11);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(12);
		for (i = 0; i < npages; i++)
			fill_page(p + i * PAGE, i);
		for (i = 0; i < npages; i++) {
			if (!page_ok(p + i * PAGE, i)) {
				fprintf(stderr, "page %zu read back wrong\n", i);
				_exit(13);
			}
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("client killed by signal %d", WTERMSIG(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* Read back while most pages were out: zpager decompressed them. */
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	bytes_read = stat_of(self->dp.stats, "bytes_read");
	EXPECT_LE((long long)OBJ_SIZE / 2, bytes_read) TH_LOG("%s", self->dp.stats);

	/* Everything back in zpager, then every page is accounted for. */
	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	for (i = 0; i < npages; i++) {
		text += kind_of(i) == K_TEXT;
		random += kind_of(i) == K_RANDOM;
		zero += kind_of(i) == K_ZERO;
	}
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	stored = stat_of(self->dp.stats, "stored_pages");
	compressed = stat_of(self->dp.stats, "compressed_bytes");
	EXPECT_EQ(text + random, stored);
	EXPECT_EQ(zero, stat_of(self->dp.stats, "zero_pages"));
	EXPECT_EQ(stored * PAGE, stat_of(self->dp.stats, "stored_bytes"));
	EXPECT_LE((long long)npages, stat_of(self->dp.stats, "returns"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "return_failures"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
	/* Noise does not compress: raw pages at full size, 256 bytes a text page. */
	EXPECT_LE((long long)(random * PAGE + text * 256), compressed);
	/* The records do: under a quarter of a page each. */
	EXPECT_GE((long long)(random * PAGE + text * PAGE / 4), compressed);
	EXPECT_NE(NULL, strstr(self->dp.stats, " ratio="));
	EXPECT_LT(1.5, strtod(strstr(self->dp.stats, " ratio=") + 7, NULL));

	EXPECT_EQ(0, daemon_stop(&self->dp, SIGTERM)) TH_LOG("%s", self->dp.all);
	EXPECT_NE(NULL, strstr(self->dp.all, "zpager: stopped"));
}

TEST_F(z, errors)
{
	char *bad_size[] = { "zpager", "12Q", "/tmp/zpager-unused.sock", NULL };
	char *zero_size[] = { "zpager", "0", "/tmp/zpager-unused.sock", NULL };
	char *in_use[] = { "zpager", "1M", self->sock, NULL };
	char *help[] = { "zpager", "-h", NULL };
	struct daemon_proc dp;
	int status;

	ASSERT_EQ(0, daemon_spawn(&dp, help));
	status = daemon_wait(&dp);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(dp.all, "usage: zpager"));
	ASSERT_EQ(0, daemon_spawn(&dp, bad_size));
	status = daemon_wait(&dp);
	EXPECT_EQ(2, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(dp.all, "not '12Q'")) TH_LOG("%s", dp.all);
	ASSERT_EQ(0, daemon_spawn(&dp, zero_size));
	status = daemon_wait(&dp);
	EXPECT_EQ(2, WEXITSTATUS(status));
	ASSERT_EQ(0, daemon_spawn(&dp, in_use));
	status = daemon_wait(&dp);
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(dp.all, "is in use")) TH_LOG("%s", dp.all);
}

TEST_HARNESS_MAIN
