// SPDX-License-Identifier: GPL-2.0
/*
 * daemons/nbdpager end to end, against nbdkit's file plugin on a file in
 * the guest's tmpfs, on a unix socket, behind its error filter (errors
 * injected while a trigger file exists) and its delay filter (latency, so
 * that requests overlap): the export as the mapping shows it, its holes
 * answered without being read; writes under memory pressure reaching the
 * export (read back through libnbd); read errors as SIGBUS, write errors
 * as msync errors, and nothing else; a server killed and restarted on the
 * same socket survived, and one that stays away failing faults once the
 * retries run out.
 */
#include <libnbd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SIZE		(8u << 20)
/* Data in [0, 2M) and [3M, SIZE); [2M, 3M) a hole. */
#define HOLE		(2u << 20)
#define HOLE_LEN	(1u << 20)

struct nbdkit {
	pid_t pid;
	char sock[64], img[64], rerr[64], werr[64], pidfile[64];
	const char *delay;	/* delay-read= */
	const char *threads;	/* its --threads: requests it runs at once */
	const char *tls_psk;	/* if set, TLS is required with these keys */
};

/*
 * Start nbdkit on k->sock and wait until it takes connections: it writes
 * its pid file then (a probe connection would make it complain).
 */
static int nbdkit_start(struct nbdkit *k)
{
	char rfile[96], wfile[96], img[96], psk[96];
	int i;

	snprintf(img, sizeof(img), "file=%s", k->img);
	snprintf(rfile, sizeof(rfile), "error-pread-file=%s", k->rerr);
	snprintf(wfile, sizeof(wfile), "error-pwrite-file=%s", k->werr);
	snprintf(psk, sizeof(psk), "--tls-psk=%s", k->tls_psk);
	unlink(k->sock);
	unlink(k->pidfile);
	k->pid = fork();
	if (k->pid < 0)
		return -errno;
	if (!k->pid) {
		char *argv[24] = { "nbdkit", "-f", "-U", k->sock, "-P", k->pidfile,
				   "-t", (char *)(k->threads ?: "16") };
		int n = 8;

		/* nbdkit's options come before the plugin's. */
		if (k->tls_psk) {
			argv[n++] = "--tls=require";
			argv[n++] = psk;
		}
		argv[n++] = "--filter=error";
		argv[n++] = "--filter=delay";
		argv[n++] = "file";
		argv[n++] = img;
		argv[n++] = "error-pread-rate=100%";
		argv[n++] = rfile;
		argv[n++] = "error-pwrite-rate=100%";
		argv[n++] = wfile;
		argv[n++] = (char *)(k->delay ?: "delay-read=2ms");
		argv[n++] = "delay-write=2ms";
		execvp("nbdkit", argv);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {	/* 60 s: a slow guest */
		if (!access(k->pidfile, F_OK))
			return 0;
		if (waitpid(k->pid, NULL, WNOHANG) == k->pid) {
			k->pid = 0;
			return -ECHILD;
		}
		usleep(100000);
	}
	return -ETIMEDOUT;
}

static void nbdkit_kill(struct nbdkit *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	k->pid = 0;
}

/* Create @path: the error filter injects errors while it exists. */
static int trigger(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The export's bytes, read through libnbd: whether they are @want's. */
static bool export_equals(const char *sock, const char *want, size_t len)
{
	struct nbd_handle *h = nbd_create();
	char uri[128], *buf = malloc(len);
	bool same = false;

	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s", sock);
	if (h && buf && !nbd_connect_uri(h, uri) && nbd_get_size(h) == (int64_t)len &&
	    !nbd_pread(h, buf, len, 0, 0))
		same = !memcmp(buf, want, len);
	else
		fprintf(stderr, "# reading the export: %s\n", nbd_get_error());
	nbd_close(h);
	free(buf);
	return same;
}

FIXTURE(nbd) {
	struct nbdkit k;
	char uri[128], sock[64], cg[PATH_MAX];
	struct daemon_proc dp;
	char *model;		/* what the export must hold */
};

static int nbdpager_start(struct daemon_proc *dp, const char *uri, const char *sock,
			  const char *retry)
{
	char *argv[] = { "nbdpager", (char *)retry, (char *)uri, (char *)sock, NULL };

	if (daemon_spawn(dp, argv))
		return -1;
	return daemon_wait_line(dp, "serving") ? 0 : -1;
}

FIXTURE_SETUP(nbd)
{
	size_t off;
	int fd;

	self->cg[0] = '\0';
	snprintf(self->k.sock, sizeof(self->k.sock), "/tmp/nbdkit-%d.sock", getpid());
	snprintf(self->k.img, sizeof(self->k.img), "/tmp/nbdkit-%d.img", getpid());
	snprintf(self->k.rerr, sizeof(self->k.rerr), "/tmp/nbdkit-%d.rerr", getpid());
	snprintf(self->k.werr, sizeof(self->k.werr), "/tmp/nbdkit-%d.werr", getpid());
	snprintf(self->k.pidfile, sizeof(self->k.pidfile), "/tmp/nbdkit-%d.pid", getpid());
	snprintf(self->sock, sizeof(self->sock), "/tmp/nbdpager-%d.sock", getpid());
	snprintf(self->uri, sizeof(self->uri), "nbd+unix:///?socket=%s", self->k.sock);
	self->model = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->model);
	fill_pattern(self->model, 11, 0, SIZE);
	memset(self->model + HOLE, 0, HOLE_LEN);
	/* A sparse file: the hole is one in tmpfs too, and block status says so. */
	fd = open(self->k.img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	for (off = 0; off < SIZE; off += HOLE_LEN)
		if (off != HOLE)
			ASSERT_EQ(HOLE_LEN, pwrite(fd, self->model + off, HOLE_LEN, off));
	close(fd);
	ASSERT_EQ(0, nbdkit_start(&self->k)) TH_LOG("nbdkit did not start");
	ASSERT_EQ(0, nbdpager_start(&self->dp, self->uri, self->sock, "--retry-ms=15000"))
		TH_LOG("nbdpager said: %s", self->dp.all);
	catch_sigbus();
}

FIXTURE_TEARDOWN(nbd)
{
	if (self->dp.pid > 0)
		daemon_stop(&self->dp, SIGKILL);
	nbdkit_kill(&self->k);
	if (self->cg[0])
		rmdir(self->cg);
	unlink(self->k.img);
	unlink(self->k.rerr);
	unlink(self->k.werr);
	unlink(self->k.pidfile);
	unlink(self->k.sock);
	unlink(self->sock);
}

static char *map_object(const char *sock, int prot)
{
	uint64_t size = 0;
	char *p;
	int fd = daemon_object(sock, &size);

	if (fd < 0 || size != SIZE)
		return MAP_FAILED;
	p = mmap(NULL, SIZE, prot, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

TEST_F(nbd, the_export_through_the_mapping_holes_unread)
{
	long long zero_fills, bytes_read;
	char *p = map_object(self->sock, PROT_READ);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->model, SIZE));
	munmap(p, SIZE);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	zero_fills = stat_of(self->dp.stats, "zero_fills");
	bytes_read = stat_of(self->dp.stats, "bytes_read");
	/* The hole's 256 pages were answered unavailable, but for the runs
	 * that reached into it from the data around it (zeroed locally). */
	EXPECT_LE((long long)(HOLE_LEN / PAGE) - 2 * 16, zero_fills);
	EXPECT_LE((long long)(HOLE_LEN / PAGE), stat_of(self->dp.stats, "hole_pages"));
	/* Only the data crossed the network. */
	EXPECT_GE((long long)(SIZE - HOLE_LEN), bytes_read);
	EXPECT_LE((long long)(SIZE - HOLE_LEN), bytes_read);
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
}

TEST_F_TIMEOUT(nbd, writes_under_memory_pressure_reach_the_export, 900)
{
	uint64_t size;
	int fd, status;

	if (!have_cgroup2())
		SKIP(return, "no cgroup v2 here");
	/* A quarter of the object: pages are returned while it is written. */
	ASSERT_EQ(0, memcg_create_high(self->cg, sizeof(self->cg), "nbdpager", "2M"));
	fd = daemon_object(self->sock, &size);
	ASSERT_LE(0, fd);
	status = memcg_round_trip(self->cg, fd, SIZE, 23);
	close(fd);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the client's status: %#x", status);
	fill_pattern(self->model, 23, 0, SIZE);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	EXPECT_LT(0, stat_of(self->dp.stats, "returns"));
	EXPECT_LE((long long)SIZE, stat_of(self->dp.stats, "bytes_written"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "return_failures"));
	/* The client msync'd: the export has it all, as another client sees it. */
	EXPECT_TRUE(export_equals(self->k.sock, self->model, SIZE));
	EXPECT_EQ(0, daemon_stop(&self->dp, SIGTERM)) TH_LOG("%s", self->dp.all);
	EXPECT_NE(NULL, strstr(self->dp.all, "nbdpager: stopped"));
}

TEST_F(nbd, read_errors_are_sigbus_and_nothing_else)
{
	char *p = map_object(self->sock, PROT_READ);
	void *where = NULL;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, trigger(self->k.rerr));
	EXPECT_EQ(1, touch(p + 5 * PAGE, false, &where));
	EXPECT_EQ(p + 5 * PAGE, (char *)where);
	/* A hole is not read: no error there. */
	EXPECT_EQ(0, touch(p + HOLE + 100 * PAGE, false, NULL));
	unlink(self->k.rerr);
	/* A later fault asks again, and gets the data. */
	EXPECT_EQ(0, touch(p + 5 * PAGE, false, NULL));
	EXPECT_TRUE(check_pattern(p + 5 * PAGE, 11, 5 * PAGE, PAGE));
	munmap(p, SIZE);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	EXPECT_LE(1, stat_of(self->dp.stats, "errors"));
	EXPECT_LE(1, stat_of(self->dp.stats, "nbd_errors"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "reconnects"));
}

TEST_F(nbd, write_errors_are_msync_errors)
{
	char *p = map_object(self->sock, PROT_READ | PROT_WRITE);
	int i;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 8; i++) {
		memset(p + i * 3 * PAGE, 0x5a, 200);
		memset(self->model + i * 3 * PAGE, 0x5a, 200);
	}
	ASSERT_EQ(0, trigger(self->k.werr));
	errno = 0;
	EXPECT_EQ(-1, msync(p, SIZE, MS_SYNC));
	EXPECT_EQ(EIO, errno);
	unlink(self->k.werr);
	/* The pages stayed dirty: the next msync stores them. */
	EXPECT_EQ(0, msync(p, SIZE, MS_SYNC)) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(export_equals(self->k.sock, self->model, SIZE));
	munmap(p, SIZE);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	EXPECT_LE(1, stat_of(self->dp.stats, "return_failures"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
}

/*
 * nbdkit killed with faults and stores to come: they wait, and are served
 * once nbdkit is back on the same socket, well within --retry-ms.
 */
TEST_F_TIMEOUT(nbd, a_severed_connection_is_survived, 300)
{
	char *p = map_object(self->sock, PROT_READ | PROT_WRITE);
	int status, i;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p, 11, 0, PAGE));
	nbdkit_kill(&self->k);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Faults that wait for the new server, then a store. */
		if (!check_pattern(p + (4u << 20), 11, 4u << 20, 1u << 20))
			_exit(1);
		memset(p + (5u << 20), 0xa5, PAGE);
		_exit(msync(p, SIZE, MS_SYNC) ? 2 : 0);
	}
	ASSERT_NE(NULL, daemon_wait_line(&self->dp, "lost the connection"))
		TH_LOG("%s", self->dp.all);
	sleep(1);
	ASSERT_EQ(0, nbdkit_start(&self->k));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the client's status: %#x", status);
	memset(self->model + (5u << 20), 0xa5, PAGE);
	EXPECT_TRUE(export_equals(self->k.sock, self->model, SIZE));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, touch(p + (6u << 20) + i * 16 * PAGE, false, NULL));
	munmap(p, SIZE);
	ASSERT_NE(NULL, daemon_stats(&self->dp));
	TH_LOG("%s", self->dp.stats);
	EXPECT_LE(1, stat_of(self->dp.stats, "reconnects"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "errors"));
	EXPECT_EQ(0, stat_of(self->dp.stats, "return_failures"));
}

/* A server that stays away: faults fail once --retry-ms has passed. */
TEST_F_TIMEOUT(nbd, a_server_that_stays_away_fails_faults, 300)
{
	struct daemon_proc dp;
	char sock[80];
	uint64_t size;
	void *where;
	char *p;
	int fd;

	snprintf(sock, sizeof(sock), "%s.2", self->sock);
	ASSERT_EQ(0, nbdpager_start(&dp, self->uri, sock, "--retry-ms=500"))
		TH_LOG("%s", dp.all);
	fd = daemon_object(sock, &size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, p);
	nbdkit_kill(&self->k);
	EXPECT_EQ(1, touch(p + 7 * PAGE, false, &where));
	EXPECT_NE(NULL, daemon_wait_line(&dp, "failing requests until it is back"))
		TH_LOG("%s", dp.all);
	/* It keeps trying: a server back later is used again. */
	ASSERT_EQ(0, nbdkit_start(&self->k));
	EXPECT_NE(NULL, daemon_wait_line(&dp, "reconnected")) TH_LOG("%s", dp.all);
	EXPECT_EQ(0, touch(p + 7 * PAGE, false, NULL));
	EXPECT_TRUE(check_pattern(p + 7 * PAGE, 11, 7 * PAGE, PAGE));
	munmap(p, SIZE);
	EXPECT_EQ(0, daemon_stop(&dp, SIGTERM)) TH_LOG("%s", dp.all);
}

struct toucher {
	pthread_t t;
	volatile char *p;
};

static void *touch_page(void *arg)
{
	struct toucher *t = arg;

	(void)*t->p;
	return NULL;
}

/*
 * Eight faults at once on a server that takes a second for each read: they
 * are in flight together, so they take about a second, not eight.
 */
TEST_F_TIMEOUT(nbd, requests_are_in_flight_together, 300)
{
	char *argv[] = { "nbdpager", "--cluster=1", self->uri, NULL, NULL };
	struct toucher t[8];
	struct nbdkit slow = self->k;
	struct daemon_proc dp;
	char sock[80];
	double start, took;
	uint64_t size;
	char *p;
	int fd, i;

	strcat(slow.sock, ".slow");
	strcat(slow.pidfile, ".slow");
	slow.delay = "delay-read=1000ms";
	ASSERT_EQ(0, nbdkit_start(&slow));
	snprintf(sock, sizeof(sock), "%s.slow", self->sock);
	snprintf(self->uri, sizeof(self->uri), "nbd+unix:///?socket=%s", slow.sock);
	argv[3] = sock;
	ASSERT_EQ(0, daemon_spawn(&dp, argv));
	ASSERT_NE(NULL, daemon_wait_line(&dp, "serving")) TH_LOG("%s", dp.all);
	fd = daemon_object(sock, &size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, p);
	start = now_s();
	for (i = 0; i < 8; i++) {
		t[i].p = p + (size_t)i * 64 * PAGE;
		ASSERT_EQ(0, pthread_create(&t[i].t, NULL, touch_page, &t[i]));
	}
	for (i = 0; i < 8; i++)
		pthread_join(t[i].t, NULL);
	took = now_s() - start;
	TH_LOG("8 faults on a server taking 1 s a read: %.2f s", took);
	EXPECT_LT(took, 5.0);
	EXPECT_GE(took, 1.0);
	for (i = 0; i < 8; i++)
		EXPECT_TRUE(check_pattern(p + (size_t)i * 64 * PAGE, 11, (size_t)i * 64 * PAGE, PAGE));
	munmap(p, SIZE);
	EXPECT_EQ(0, daemon_stop(&dp, SIGTERM)) TH_LOG("%s", dp.all);
	nbdkit_kill(&slow);
	unlink(slow.sock);
	unlink(slow.pidfile);
}

/*
 * 64 faults at once, one page each, on a server that takes 2 s for each
 * read and runs 128 requests at once: with its one serving thread,
 * nbdpager has them all in flight together (the callbacks answer later),
 * so they take about 2 s.  Eight callbacks each waiting for its command
 * had at most 8 out, and took 16 s.
 */
TEST_F_TIMEOUT(nbd, all_faults_in_flight_with_one_serving_thread, 300)
{
	enum { N = 64 };
	char *argv[] = { "nbdpager", "--cluster=1", self->uri, NULL, NULL };
	struct toucher t[N];
	struct nbdkit slow = self->k;
	struct daemon_proc dp;
	char sock[80];
	double start, took;
	uint64_t size;
	char *p;
	int fd, i;

	strcat(slow.sock, ".many");
	strcat(slow.pidfile, ".many");
	slow.delay = "delay-read=2000ms";
	slow.threads = "128";
	ASSERT_EQ(0, nbdkit_start(&slow));
	snprintf(sock, sizeof(sock), "%s.many", self->sock);
	snprintf(self->uri, sizeof(self->uri), "nbd+unix:///?socket=%s", slow.sock);
	argv[3] = sock;
	ASSERT_EQ(0, daemon_spawn(&dp, argv));
	ASSERT_NE(NULL, daemon_wait_line(&dp, "serving")) TH_LOG("%s", dp.all);
	fd = daemon_object(sock, &size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, p);
	start = now_s();
	for (i = 0; i < N; i++) {
		/* Pages with data: [0, 2M) and [3M, 5M), past the hole. */
		t[i].p = p + (size_t)i * 16 * PAGE + (i >= N / 2 ? HOLE_LEN : 0);
		ASSERT_EQ(0, pthread_create(&t[i].t, NULL, touch_page, &t[i]));
	}
	for (i = 0; i < N; i++)
		pthread_join(t[i].t, NULL);
	took = now_s() - start;
	TH_LOG("%d faults on a server taking 2 s a read: %.2f s", N, took);
	EXPECT_LT(took, 10.0);
	EXPECT_GE(took, 2.0);
	for (i = 0; i < N; i++)
		EXPECT_TRUE(check_pattern((char *)t[i].p, 11, (char *)t[i].p - p, PAGE));
	munmap(p, SIZE);
	ASSERT_NE(NULL, daemon_stats(&dp));
	TH_LOG("%s", dp.stats);
	EXPECT_LE(N, stat_of(dp.stats, "most_in_flight"));
	EXPECT_EQ(0, stat_of(dp.stats, "errors"));
	EXPECT_EQ(0, daemon_stop(&dp, SIGTERM)) TH_LOG("%s", dp.all);
	nbdkit_kill(&slow);
	unlink(slow.sock);
	unlink(slow.pidfile);
}

/*
 * A TLS export whose URI names a pre-shared key file, which libnbd reads
 * only when its caller allows local files: served, and written back.
 */
TEST_F(nbd, a_tls_export_with_a_key_file_is_served)
{
	struct nbdkit tls = self->k;	/* another server of the same file */
	char psk[64], uri[256], sock[64];
	unsigned char key[32];
	struct daemon_proc dp;
	uint64_t size;
	size_t i;
	FILE *f;
	char *p;
	int fd;

	snprintf(tls.sock, sizeof(tls.sock), "/tmp/nbdkit-tls-%d.sock", getpid());
	snprintf(tls.pidfile, sizeof(tls.pidfile), "/tmp/nbdkit-tls-%d.pid", getpid());
	snprintf(psk, sizeof(psk), "/tmp/nbdkit-tls-%d.psk", getpid());
	snprintf(sock, sizeof(sock), "/tmp/nbdpager-tls-%d.sock", getpid());
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(key), read(fd, key, sizeof(key)));
	close(fd);
	f = fopen(psk, "w");
	ASSERT_NE(NULL, f);
	fputs("alice:", f);
	for (i = 0; i < sizeof(key); i++)
		fprintf(f, "%02x", key[i]);
	fputs("\n", f);
	fclose(f);
	tls.tls_psk = psk;
	ASSERT_EQ(0, nbdkit_start(&tls)) TH_LOG("nbdkit with TLS did not start");
	snprintf(uri, sizeof(uri), "nbds+unix://alice@/?socket=%s&tls-psk-file=%s",
		 tls.sock, psk);

	ASSERT_EQ(0, nbdpager_start(&dp, uri, sock, "--retry-ms=15000"))
		TH_LOG("nbdpager said: %s", dp.all);
	fd = daemon_object(sock, &size);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SIZE, size);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p, 11, 0, PAGE));
	fill_pattern(p + PAGE, 12, PAGE, PAGE);
	fill_pattern(self->model + PAGE, 12, PAGE, PAGE);
	EXPECT_EQ(0, msync(p, SIZE, MS_SYNC));
	EXPECT_TRUE(export_equals(self->k.sock, self->model, SIZE));
	munmap(p, SIZE);
	close(fd);
	EXPECT_EQ(0, daemon_stop(&dp, SIGTERM)) TH_LOG("%s", dp.all);
	nbdkit_kill(&tls);
	unlink(tls.sock);
	unlink(tls.pidfile);
	unlink(psk);
	unlink(sock);
}

TEST_F(nbd, help_and_errors)
{
	char *help[] = { "nbdpager", "--help", NULL };
	char *version[] = { "nbdpager", "--version", NULL };
	char *no_server[] = { "nbdpager", "nbd+unix:///?socket=/nonexistent.sock",
			      "/tmp/nbdpager-x.sock", NULL };
	char *bad_cluster[] = { "nbdpager", "--cluster=0", self->uri, "/tmp/x.sock", NULL };
	/* Gone: the requests in flight are not the threads'. */
	char *threads[] = { "nbdpager", "--threads=8", self->uri, "/tmp/x.sock", NULL };
	char *in_use[] = { "nbdpager", self->uri, self->sock, NULL };
	struct daemon_proc dp;

	EXPECT_EQ(0, daemon_run(&dp, help));
	EXPECT_NE(NULL, strstr(dp.all, "usage: nbdpager"));
	EXPECT_EQ(0, daemon_run(&dp, version));
	EXPECT_NE(NULL, strstr(dp.all, "nbdpager " EXTPAGER_VERSION));
	EXPECT_EQ(1, daemon_run(&dp, no_server));
	EXPECT_NE(NULL, strstr(dp.all, "/nonexistent.sock")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, daemon_run(&dp, bad_cluster));
	EXPECT_NE(NULL, strstr(dp.all, "--cluster wants")) TH_LOG("%s", dp.all);
	EXPECT_EQ(2, daemon_run(&dp, threads));
	EXPECT_NE(NULL, strstr(dp.all, "usage: nbdpager")) TH_LOG("%s", dp.all);
	EXPECT_EQ(1, daemon_run(&dp, in_use));
	EXPECT_NE(NULL, strstr(dp.all, "is in use")) TH_LOG("%s", dp.all);
}

TEST_HARNESS_MAIN
