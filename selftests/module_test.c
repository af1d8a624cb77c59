// SPDX-License-Identifier: GPL-2.0
/*
 * The module registers its generic netlink family on load and removes it on
 * unload.  Runs in the VM with extpager.ko loaded (scripts/vm).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/extpager.h>

#include "kselftest_harness.h"
#include "libpager.h"

TEST(family_registered)
{
	struct pager_conn *conn;

	ASSERT_EQ(0, pager_conn_open(&conn));
	EXPECT_EQ((unsigned int)EXTPAGER_FAMILY_VERSION, pager_conn_family_version(conn));
	EXPECT_LT(0, pager_conn_family_id(conn));
	pager_conn_close(conn);
}

/* The module's version is the project's one (VERSION, through Kbuild). */
TEST(module_version_is_the_project_version)
{
	char buf[64] = "";
	FILE *f = fopen("/sys/module/extpager/version", "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ(EXTPAGER_VERSION "\n", buf);
}

TEST(unload_removes_family_and_reload_restores_it)
{
	const char *ko = getenv("EXTPAGER_KO");
	struct pager_conn *conn;
	int fd;

	if (!ko)
		SKIP(return, "EXTPAGER_KO is not set: not run by scripts/vm");
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %m", ko);

	ASSERT_EQ(0, syscall(SYS_delete_module, "extpager", O_NONBLOCK))
		TH_LOG("rmmod extpager: %m");
	EXPECT_EQ(-ENOENT, pager_conn_open(&conn));
	/* A newcomer is told what to do, not only ENOENT. */
	EXPECT_NE(NULL, strstr(pager_conn_error(), "is extpager.ko loaded?"))
		TH_LOG("%s", pager_conn_error());

	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "", 0))
		TH_LOG("insmod %s: %m", ko);
	close(fd);
	ASSERT_EQ(0, pager_conn_open(&conn));
	pager_conn_close(conn);
}

TEST_HARNESS_MAIN
