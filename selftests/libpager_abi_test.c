// SPDX-License-Identifier: GPL-2.0
/*
 * libpager's binary interface can grow (Documentation/libpager.rst,
 * "Growing the interface"): a program built against 1.0.0's structs
 * (libpager_abi_old.h) creates an object, has a fault served and reads
 * its counters, and nothing is read or written past the end of its
 * structs; a struct longer than the library's is taken if what the
 * library does not know of it is zero, and refused with E2BIG otherwise;
 * one shorter than 1.0.0's is refused with EINVAL.  And pager_conn_open()
 * takes any family version from 1 on, refusing 0 in words.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <netlink/genl/family.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "libpager_abi_old.h"

#define PAGES	16
#define SEED	33

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The family version libpager is told, or -1 for the kernel's: libpager's
 * call of libnl's genl_family_get_version() resolves to this one, since
 * the test links libpager statically and defines it.
 */
static int fake_version = -1;

uint8_t genl_family_get_version(struct genl_family *family)
{
	static uint8_t (*real)(struct genl_family *);

	if (fake_version >= 0)
		return fake_version;
	if (!real)
		real = (uint8_t (*)(struct genl_family *))
			dlsym(RTLD_NEXT, "genl_family_get_version");
	return real(family);
}

TEST(conn_open_takes_every_family_version_from_1)
{
	static const unsigned int versions[] = { 1, 2, 7, 255 };
	struct pager_conn *conn;
	unsigned int i;

	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_LE(1, pager_conn_family_version(conn));	/* the kernel's */
	pager_conn_close(conn);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		fake_version = versions[i];
		ASSERT_EQ(0, pager_conn_open(&conn)) TH_LOG("version %u", versions[i]);
		EXPECT_EQ(versions[i], pager_conn_family_version(conn));
		EXPECT_STREQ("", pager_conn_error());
		pager_conn_close(conn);
	}
	/* 0 is what libnl reports when the kernel gives none. */
	fake_version = 0;
	EXPECT_EQ(-EPROTONOSUPPORT, pager_conn_open(&conn));
	EXPECT_NE(NULL, strstr(pager_conn_error(), "reports version 0"))
		TH_LOG("%s", pager_conn_error());
	EXPECT_NE(NULL, strstr(pager_conn_error(), "version 1 or later"))
		TH_LOG("%s", pager_conn_error());
	fake_version = -1;
}

/* A struct of the old layout with bytes after it that are not its own. */
#define TRAILER	0xa5a5a5a5a5a5a5a5ull

static struct {
	struct pager_ops_1_0 ops;
	uint64_t trailer[8];
} old_ops = {
	/* pattern_read() as 1.0.0's header would have declared it */
	.ops = { .read = pattern_read, .write = refuse_write },
	.trailer = { TRAILER, TRAILER, TRAILER, TRAILER, TRAILER, TRAILER, TRAILER, TRAILER },
};

static bool trailer_intact(const uint64_t *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] != TRAILER)
			return false;
	return true;
}

/* The old program: create, a fault served, its counters and attributes. */
TEST(a_program_of_the_old_layout_works)
{
	struct {
		struct pager_attr_1_0 attr;
		uint64_t trailer[8];
	} attr = { .attr = { .cluster = 4 } };
	struct {
		struct pager_stats_1_0 st;
		uint64_t trailer[8];
	} st;
	struct pager_stats now;
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	pthread_t server;
	void *ret;
	char *p;

	memset(attr.trailer, 0xa5, sizeof(attr.trailer));
	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create_1_0(conn, PAGES * PAGE, &old_ops.ops, &attr.attr, &b, &pager));
	ASSERT_EQ(0, pthread_create(&server, NULL, serve_thread, conn));

	p = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, pager_fd(pager), 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(check_pattern(p + 5 * PAGE, SEED, 5 * PAGE, PAGE));
	EXPECT_LE(1, atomic_load(&b.reads));

	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, pager_stats_1_0(pager, &st.st));
	EXPECT_TRUE(trailer_intact(st.trailer, 8));	/* nothing written past it */
	EXPECT_EQ(PAGES * PAGE, st.st.size);
	EXPECT_NE(0, st.st.manager);
	EXPECT_LE(1, st.st.faults);
	EXPECT_LE(1, st.st.requests);
	EXPECT_LE(1, st.st.supplies);
	EXPECT_EQ(1, st.st.mappings);
	EXPECT_EQ(0, st.st.errors);

	/* Its attributes reached the kernel, and new ones do. */
	ASSERT_EQ(0, pager_stats(pager, &now));
	EXPECT_EQ(4, now.cluster);
	EXPECT_EQ(getpid(), now.manager_pid);
	attr.attr = (struct pager_attr_1_0){ .cluster = 8, .resident_limit = 12 };
	ASSERT_EQ(0, pager_set_attr_1_0(pager, &attr.attr));
	ASSERT_EQ(0, pager_stats(pager, &now));
	EXPECT_EQ(8, now.cluster);
	EXPECT_EQ(12, now.resident_limit);

	munmap(p, PAGES * PAGE);
	ASSERT_EQ(0, pager_destroy(pager));
	pthread_join(server, &ret);
	EXPECT_EQ(NULL, ret);
	pager_conn_close(conn);
}

/* Today's structs, with room after them for a newer header's fields. */
struct newer_ops {
	struct pager_ops ops;
	void (*added)(struct pager *pager);
};

struct newer_attr {
	struct pager_attr attr;
	uint64_t added;
};

static void added_callback(struct pager *pager)
{
}

/*
 * A newer program's struct: taken when what the library does not know is
 * zero, refused with E2BIG when it asks for more (every function that
 * takes one); shorter than 1.0.0's, refused with EINVAL.
 */
TEST(a_struct_longer_or_shorter_than_the_librarys)
{
	struct newer_ops ops = { .ops = { .read = pattern_read, .write = refuse_write } };
	struct newer_attr attr = { .attr = { .cluster = 2 } };
	struct pager *const sentinel = (struct pager *)0x1;
	struct pager *pager = sentinel, *made;
	struct pager_conn *conn;
	struct pager_stats st;
	struct behaviour b;
	int fds;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	fds = count_fds();

	/* Zero beyond the library's struct: the same as without it. */
	ASSERT_EQ(0, pager_create_sized(conn, PAGE, &ops.ops, sizeof(ops), &attr.attr,
					sizeof(attr), &b, &made));
	ASSERT_EQ(0, pager_set_attr_sized(made, &attr.attr, sizeof(attr)));
	ASSERT_EQ(0, pager_stats(made, &st));
	EXPECT_EQ(2, st.cluster);

	/* Something the library cannot honour. */
	ops.added = added_callback;
	attr.added = 1;
	EXPECT_EQ(-E2BIG, pager_create_sized(conn, PAGE, &ops.ops, sizeof(ops), NULL, 0,
					     &b, &pager));
	EXPECT_EQ(-E2BIG, pager_create_sized(conn, PAGE, &pattern_ops, sizeof(pattern_ops),
					     &attr.attr, sizeof(attr), &b, &pager));
	EXPECT_EQ(-E2BIG, pager_adopt_sized(conn, pager_id(made), &ops.ops, sizeof(ops),
					    NULL, 0, &b, &pager));
	EXPECT_EQ(-E2BIG, pager_adopt_sized(conn, pager_id(made), &pattern_ops,
					    sizeof(pattern_ops), &attr.attr, sizeof(attr),
					    &b, &pager));
	EXPECT_EQ(-E2BIG, pager_register_default_sized(conn, &ops.ops, sizeof(ops), NULL, 0,
						       (pager_assign_fn)1, NULL));
	EXPECT_EQ(-E2BIG, pager_register_default_sized(conn, &pattern_ops,
						       sizeof(pattern_ops), &attr.attr,
						       sizeof(attr), (pager_assign_fn)1, NULL));
	EXPECT_EQ(-E2BIG, pager_set_attr_sized(made, &attr.attr, sizeof(attr)));
	/* The refused set did not replace the one in force. */
	ASSERT_EQ(0, pager_stats(made, &st));
	EXPECT_EQ(2, st.cluster);

	/* Shorter than any libpager's. */
	EXPECT_EQ(-EINVAL, pager_create_sized(conn, PAGE, &pattern_ops,
					      sizeof(struct pager_ops_1_0) - sizeof(void *),
					      NULL, 0, &b, &pager));
	EXPECT_EQ(-EINVAL, pager_create_sized(conn, PAGE, &pattern_ops, sizeof(pattern_ops),
					      &attr.attr, sizeof(struct pager_attr_1_0) - 8,
					      &b, &pager));
	EXPECT_EQ(-EINVAL, pager_set_attr_sized(made, &attr.attr,
						sizeof(struct pager_attr_1_0) - 8));
	EXPECT_EQ(-EINVAL, pager_stats_sized(made, &st, sizeof(struct pager_stats_1_0) - 8));
	EXPECT_EQ(sentinel, pager);		/* untouched on failure */
	EXPECT_EQ(fds + 1, count_fds());	/* only made's descriptor */
	pager_conn_close(conn);
}

/* A newer program's longer pager_stats: what the library has not is zero. */
TEST(stats_zero_what_the_library_does_not_have)
{
	struct {
		struct pager_stats st;
		uint64_t added[8];
	} st;
	struct pager_conn *conn;
	struct pager *pager;
	struct behaviour b;
	unsigned int i;

	behaviour_init(&b, SEED);
	ASSERT_EQ(0, pager_conn_open(&conn));
	ASSERT_EQ(0, pager_create(conn, 2 * PAGE, &pattern_ops, NULL, &b, &pager));
	memset(&st, 0xff, sizeof(st));
	ASSERT_EQ(0, pager_stats_sized(pager, &st.st, sizeof(st)));
	EXPECT_EQ(2 * PAGE, st.st.size);
	EXPECT_EQ(getpid(), st.st.manager_pid);
	EXPECT_EQ(0, st.st.faults);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, st.added[i]) TH_LOG("added[%u]", i);
	pager_conn_close(conn);
}

TEST_HARNESS_MAIN
