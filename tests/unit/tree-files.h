/* Writing small trees laid out like / in a temp dir, for the unit tests of
 * the host seam and the planner. Test-only; assertions via cmocka. */
#ifndef TEST_TREE_FILES_H
#define TEST_TREE_FILES_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/util.h"

static inline void mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static inline void put_len(const char *root, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	int fd;

	if (slash) {
		assert_true((size_t)(slash - rel) < sizeof(dir));
		memcpy(dir, rel, (size_t)(slash - rel));
		dir[slash - rel] = '\0';
		mkdirs(root, dir);
	}
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	/* policy files must not be group/world-writable, whatever the umask */
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static inline void put(const char *root, const char *rel, const char *data)
{
	put_len(root, rel, data, strlen(data));
}

static inline void putf(const char *root, const char *rel, const char *fmt, ...) ISO_PRINTF(3, 4);
static inline void putf(const char *root, const char *rel, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	put(root, rel, s);
	free(s);
}

static inline int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A temp dir for a tree: /tmp/PREFIX.XXXXXX, allocated. */
static inline char *make_tree_dir(const char *prefix)
{
	char *d = NULL;

	assert_true(asprintf(&d, "/tmp/%s.XXXXXX", prefix) > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

/* A file's bytes under root, NULL when it cannot be read (absent). */
static inline char *read_in(const char *root, const char *rel)
{
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *buf = NULL;
	size_t len;
	int r;

	assert_true(dfd >= 0);
	r = util_read_at(dfd, rel, 1 << 20, &buf, &len);
	close(dfd);
	return r == 0 ? buf : NULL;
}

/* lstat's mode of root/rel, (mode_t)-1 when absent. */
static inline mode_t mode_in(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lstat(path, &st) < 0)
		return (mode_t)-1;
	return st.st_mode;
}

#endif
