/* Unit tests of paths below a hostile directory (lib/path.c): a table of
 * paths through symbolic links in and out of a tree, "..", loops, FIFOs and
 * directories, each opened with openat2 and with the walk that stands in
 * for it, which must agree; reads of regular files only; atomic replacement
 * (a reader never sees a torn value); mkdir -p inside the tree. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/path.h"
#include "isolated/util.h"
#include "tree-files.h"

struct fixture {
	char *base;    /* temp dir */
	char *root;    /* base/root: the tree */
	char *outside; /* base/outside: what the tree must not reach */
	int root_fd;
};

static void put_mode(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, content, strlen(content)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void link_at(const char *dir, const char *rel, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];

	f->base = strdup("/tmp/test-path.XXXXXX");
	assert_non_null(mkdtemp(f->base));
	f->root = util_sprintf("%s/root", f->base);
	f->outside = util_sprintf("%s/outside", f->base);
	mkdirs(f->base, "root/a/b");
	mkdirs(f->base, "root/run/isolated");
	mkdirs(f->base, "outside");
	put_mode(f->root, "a/b/file", "in\n", 0644);
	put_mode(f->root, "a/b/ro", "ro\n", 0440);
	put_mode(f->outside, "secret", "secret\n", 0600);
	link_at(f->root, "a/in", "b");		      /* a/in -> a/b */
	link_at(f->root, "a/up", "../a/b");	      /* up and back in */
	link_at(f->root, "abs", f->outside);	      /* absolute: out */
	link_at(f->root, "rel", "../outside");	      /* relative: out */
	link_at(f->root, "a/deep", "../../outside"); /* from a subdirectory: out */
	link_at(f->root, "loop1", "loop2");
	link_at(f->root, "loop2", "loop1");
	link_at(f->root, "tofile", "a/b/file");
	link_at(f->root, "tosecret", "rel/secret");
	snprintf(path, sizeof(path), "%s/fifo", f->root);
	assert_int_equal(mkfifo(path, 0644), 0);
	f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->root_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->root_fd);
	rm_rf(f->base);
	free(f->base);
	free(f->root);
	free(f->outside);
	free(f);
	return 0;
}

typedef int (*open_fn)(int dirfd, const char *path, int flags, mode_t mode, unsigned how);

static const struct open_case {
	const char *path;
	int flags;
	unsigned how;
	int want; /* 0: opens; else -errno */
} open_cases[] = {
    {"a/b/file", O_RDONLY, PATH_BENEATH, 0},
    {"a/in/file", O_RDONLY, PATH_BENEATH, 0},
    {"a/up/file", O_RDONLY, PATH_BENEATH, 0},
    {"a/b/../b/file", O_RDONLY, PATH_BENEATH, 0},
    {"a/./b//file", O_RDONLY, PATH_BENEATH, 0},
    {"tofile", O_RDONLY, PATH_BENEATH, 0},
    {"a", O_RDONLY | O_DIRECTORY, PATH_BENEATH, 0},
    {".", O_RDONLY | O_DIRECTORY, PATH_BENEATH, 0},
    {"a/..", O_RDONLY | O_DIRECTORY, PATH_BENEATH, 0},
    {"abs/secret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"rel/secret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"a/deep/secret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"tosecret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"../outside/secret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"a/../../outside/secret", O_RDONLY, PATH_BENEATH, -EXDEV},
    {"..", O_RDONLY | O_DIRECTORY, PATH_BENEATH, -EXDEV},
    {"abs", O_RDONLY | O_DIRECTORY, PATH_BENEATH, -EXDEV},
    {"rel/new", O_WRONLY | O_CREAT | O_EXCL, PATH_BENEATH, -EXDEV},
    {"loop1/x", O_RDONLY, PATH_BENEATH, -ELOOP},
    {"loop1", O_RDONLY, PATH_BENEATH, -ELOOP},
    {"tofile", O_RDONLY | O_NOFOLLOW, PATH_BENEATH, -ELOOP},
    {"a/in/file", O_RDONLY, PATH_BENEATH | PATH_NO_SYMLINKS, -ELOOP},
    {"tofile", O_RDONLY, PATH_BENEATH | PATH_NO_SYMLINKS, -ELOOP},
    {"a/b/file/x", O_RDONLY, PATH_BENEATH, -ENOTDIR},
    {"a/b/none", O_RDONLY, PATH_BENEATH, -ENOENT},
    {"none/x", O_RDONLY, PATH_BENEATH, -ENOENT},
    {"a/b/new", O_WRONLY | O_CREAT | O_EXCL, PATH_BENEATH, 0},
    {"a/b/file", O_WRONLY | O_CREAT | O_EXCL, PATH_BENEATH, -EEXIST},
    {"/etc/passwd", O_RDONLY, PATH_BENEATH, -EINVAL},
    {"", O_RDONLY, PATH_BENEATH, -EINVAL},
    /* Without PATH_BENEATH: what openat does. */
    {"rel/secret", O_RDONLY, 0, 0},
    {"abs/secret", O_RDONLY, 0, 0},
};

static void run_open_cases(struct fixture *f, open_fn fn, const char *name)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		int fd = fn(f->root_fd, c->path, c->flags, 0644, c->how);

		if ((c->want == 0) != (fd >= 0) || (c->want < 0 && fd != c->want))
			fail_msg("%s(\"%s\", how %u): got %d (%s), expected %d (%s)", name, c->path, c->how, fd,
				 fd < 0 ? strerror(-fd) : "an fd", c->want, c->want < 0 ? strerror(-c->want) : "an fd");
		if (fd >= 0)
			close(fd);
		/* a file created by a case goes, so that both functions see the
		 * same tree */
		if (c->flags & O_CREAT) {
			snprintf(path, sizeof(path), "%s/a/b/new", f->root);
			unlink(path);
		}
	}
	/* Nothing was created outside. */
	snprintf(path, sizeof(path), "%s/new", f->outside);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_open_openat2(void **state)
{
	run_open_cases(*state, path_open, "path_open");
}

static void test_open_walk(void **state)
{
	run_open_cases(*state, path_open_walk, "path_open_walk");
}

/* A mount point inside the tree is a way out of it too (a tree with the
 * real /proc mounted in it). Needs a mount namespace of our own: as root. */
static void test_mount_point(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		printf("# not root: the mount point case needs a mount namespace\n");
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/a/b/mnt", f->root);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mkdir(path, 0755) < 0 || mount("none", path, "tmpfs", 0, NULL) < 0)
			_exit(2);
		put_mode(path, "x", "x\n", 0644);
		{
			/* The fd from before the unshare sees the old namespace's mounts. */
			int root = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
			int a = path_open(root, "a/b/mnt/x", O_RDONLY, 0, PATH_BENEATH);
			int b = path_open_walk(root, "a/b/mnt/x", O_RDONLY, 0, PATH_BENEATH);
			int c = path_open_walk(root, "a/b/mnt", O_RDONLY | O_DIRECTORY, 0, PATH_BENEATH);

			if (a != -EXDEV || b != -EXDEV || c != -EXDEV) {
				dprintf(2, "# mount point: openat2 %d, walk %d, walk to it %d (want %d)\n", a, b, c, -EXDEV);
				_exit(1);
			}
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_open_parent(void **state)
{
	struct fixture *f = *state;
	char name[NAME_MAX + 1];
	struct stat st;
	int fd;

	fd = path_open_parent(f->root_fd, "a/in/file", PATH_BENEATH, name);
	assert_true(fd >= 0);
	assert_string_equal(name, "file");
	assert_int_equal(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	close(fd);
	fd = path_open_parent(f->root_fd, "top", PATH_BENEATH, name);
	assert_true(fd >= 0);
	assert_string_equal(name, "top");
	close(fd);
	assert_int_equal(path_open_parent(f->root_fd, "rel/secret", PATH_BENEATH, name), -EXDEV);
	assert_int_equal(path_open_parent(f->root_fd, "a/", PATH_BENEATH, name), -EINVAL);
	assert_int_equal(path_open_parent(f->root_fd, "a/..", PATH_BENEATH, name), -EINVAL);
	assert_int_equal(path_open_parent(f->root_fd, "", PATH_BENEATH, name), -EINVAL);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(path_read(f->root_fd, "a/in/file", PATH_BENEATH, 1024, &buf, &len), 0);
	assert_string_equal(buf, "in\n");
	assert_int_equal(len, 3);
	free(buf);
	/* A FIFO with no writer: refused at once, not waited on. */
	assert_int_equal(path_read(f->root_fd, "fifo", PATH_BENEATH, 1024, &buf, &len), -PATH_ENOTREG);
	assert_int_equal(path_read(f->root_fd, "a", PATH_BENEATH, 1024, &buf, &len), -EISDIR);
	assert_int_equal(path_read(f->root_fd, "tosecret", PATH_BENEATH, 1024, &buf, &len), -EXDEV);
	assert_int_equal(path_read(f->root_fd, "a/b/file", PATH_BENEATH, 2, &buf, &len), -EFBIG);
	assert_string_equal(path_strerror(EXDEV), "leads out of the tree (a symbolic link or mount point on the way)");
	assert_string_equal(path_strerror(PATH_ENOTREG), "not a regular file");
}

static char *slurp(const char *dir, const char *rel)
{
	char path[PATH_MAX], *buf = NULL;
	int dfd;

	snprintf(path, sizeof(path), "%s", dir);
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	if (util_read_at(dfd, rel, 1 << 20, &buf, NULL) < 0)
		buf = NULL;
	close(dfd);
	return buf;
}

static size_t count_entries(const char *dir)
{
	char cmd[PATH_MAX + 64], line[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	return (size_t)strtoul(line, NULL, 10);
}

static void test_replace(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], *buf;
	struct stat st;
	int scratch;

	/* Beside the file: a stale temporary file is removed first, and none
	 * is left. */
	put_mode(f->root, "a/b/.file.isolated~", "stale", 0600);
	assert_int_equal(path_replace(f->root_fd, "a/in/file", PATH_BENEATH, "one\n", 4, -1), 0);
	buf = slurp(f->root, "a/b/file");
	assert_string_equal(buf, "one\n");
	free(buf);
	snprintf(path, sizeof(path), "%s/a/b/.file.isolated~", f->root);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/a/b/file", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* Through a scratch directory: the mode is kept, nothing stays there. */
	scratch = path_open(f->root_fd, "run/isolated", O_PATH | O_DIRECTORY, 0, PATH_BENEATH);
	assert_true(scratch >= 0);
	assert_int_equal(path_replace(f->root_fd, "a/b/ro", PATH_BENEATH, "two\n", 4, scratch), 0);
	buf = slurp(f->root, "a/b/ro");
	assert_string_equal(buf, "two\n");
	free(buf);
	snprintf(path, sizeof(path), "%s/a/b/ro", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	snprintf(path, sizeof(path), "%s/run/isolated", f->root);
	assert_int_equal(count_entries(path), 0);
	/* What a killed writer left there, swept by the lock holder. */
	put_mode(path, "tree-write.123.4", "x", 0600);
	put_mode(path, "journal", "keep", 0644);
	path_sweep_scratch(scratch);
	assert_int_equal(count_entries(path), 1);
	snprintf(path, sizeof(path), "%s/run/isolated/journal", f->root);
	unlink(path);

	/* Refusals change nothing and create nothing. */
	assert_int_equal(path_replace(f->root_fd, "a/b/none", PATH_BENEATH, "x", 1, scratch), -ENOENT);
	snprintf(path, sizeof(path), "%s/a/b/none", f->root);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(path_replace(f->root_fd, "tofile", PATH_BENEATH, "x", 1, scratch), -ELOOP);
	assert_int_equal(path_replace(f->root_fd, "fifo", PATH_BENEATH, "x", 1, scratch), -PATH_ENOTREG);
	assert_int_equal(path_replace(f->root_fd, "a", PATH_BENEATH, "x", 1, scratch), -EISDIR);
	assert_int_equal(path_replace(f->root_fd, "rel/secret", PATH_BENEATH, "x", 1, scratch), -EXDEV);
	buf = slurp(f->outside, "secret");
	assert_string_equal(buf, "secret\n");
	free(buf);
	snprintf(path, sizeof(path), "%s/run/isolated", f->root);
	assert_int_equal(count_entries(path), 0);
	close(scratch);
}

/* A reader never sees anything but one of the two values, however the
 * writes and reads interleave (the property, not a timing: any interleaving
 * must pass). */
static void test_replace_atomic(void **state)
{
	struct fixture *f = *state;
	static const char *const values[] = {"1\n", "4294967295\n"};
	pid_t pid;
	int status, torn = 0;

	assert_int_equal(path_replace(f->root_fd, "a/b/file", PATH_BENEATH, values[0], strlen(values[0]), -1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 4000; i++) {
			const char *v = values[i % 2];

			if (path_replace(f->root_fd, "a/b/file", PATH_BENEATH, v, strlen(v), -1) < 0)
				_exit(1);
		}
		_exit(0);
	}
	for (int i = 0; i < 4000; i++) {
		char *buf = NULL;

		if (path_read(f->root_fd, "a/b/file", PATH_BENEATH, 64, &buf, NULL) < 0 ||
		    (strcmp(buf, values[0]) != 0 && strcmp(buf, values[1]) != 0))
			torn++;
		free(buf);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(torn, 0);
}

static void test_mkdirs(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct stat st;
	mode_t old = umask(077);
	int fd;

	fd = path_mkdirs(f->root_fd, "a/in/x/y", 0755, PATH_BENEATH, true);
	umask(old);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/a/b/x/y", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(path_mkdirs(f->root_fd, "rel/made", 0755, PATH_BENEATH, false), -EXDEV);
	snprintf(path, sizeof(path), "%s/made", f->outside);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(path_mkdirs(f->root_fd, "a/b/file/z", 0755, PATH_BENEATH, false), -ENOTDIR);
	/* No symbolic link at all where the dump writes. */
	assert_int_equal(path_mkdirs(f->root_fd, "a/in/q", 0755, PATH_BENEATH | PATH_NO_SYMLINKS, false), -ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_openat2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mount_point, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
