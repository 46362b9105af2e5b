/* Paths below a directory that may be hostile: opens that cannot leave it
 * (openat2, or a walk one component at a time), reads of regular files
 * only, and atomic replacement of a file's content. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolated/path.h"
#include "isolated/util.h"

/* As many symbolic links as the kernel follows in one lookup. */
#define PATH_MAX_LINKS 40
/* Directories deep: far beyond any tree (proc/PID/task/TID/x is 5). */
#define PATH_MAX_DEPTH 256

const char *path_strerror(int errnum)
{
	switch (errnum) {
	case EXDEV:
		return "leads out of the tree (a symbolic link or mount point on the way)";
	case PATH_ENOTREG:
		return "not a regular file";
	case ELOOP:
		return "a symbolic link where none may be (or a loop of them)";
	default:
		return strerror(errnum);
	}
}

static bool valid_rel(const char *path)
{
	return path && path[0] != '\0' && path[0] != '/';
}

static int plain_open(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd = openat(dirfd, path, flags | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

/* Set once openat2 answered ENOSYS (kernels before 5.6): a cache of what
 * the kernel can do, not state of ours. */
static int openat2_missing;

int path_open(int dirfd, const char *path, int flags, mode_t mode, unsigned how)
{
	struct open_how oh = {0};
	int fd;

	if (!valid_rel(path))
		return -EINVAL;
	if (!(how & PATH_BENEATH))
		return plain_open(dirfd, path, flags, mode);
	if (__atomic_load_n(&openat2_missing, __ATOMIC_RELAXED))
		return path_open_walk(dirfd, path, flags, mode, how);

	oh.flags = (unsigned long long)(flags | O_CLOEXEC);
	oh.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
	oh.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	if (how & PATH_NO_SYMLINKS)
		oh.resolve |= RESOLVE_NO_SYMLINKS;
	/* EAGAIN: a rename raced with the lookup; the kernel asks to retry. */
	for (int i = 0; i < 16; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &oh, sizeof(oh));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			break;
	}
	if (errno == ENOSYS)
		__atomic_store_n(&openat2_missing, 1, __ATOMIC_RELAXED);
	/* EPERM: a seccomp filter that does not know openat2, or the file's
	 * own answer, which the walk then gets from openat too. */
	if (errno == ENOSYS || errno == EPERM)
		return path_open_walk(dirfd, path, flags, mode, how);
	return -errno;
}

/* ---- The walk ---- */

struct walk_state {
	int fds[PATH_MAX_DEPTH + 1]; /* fds[0] is the caller's dirfd (not ours to close) */
	size_t depth;
	dev_t dev;
	unsigned links;
	/* What is left to resolve: components separated by '/'. Symbolic
	 * link targets are put in front of it. */
	char rest[2 * PATH_MAX];
};

static void walk_done(struct walk_state *w)
{
	for (size_t i = 1; i <= w->depth; i++)
		close(w->fds[i]);
	w->depth = 0;
}

/* The next component of w->rest into name; false when there is none. */
static bool next_component(struct walk_state *w, char name[NAME_MAX + 1], bool *ret_last, int *ret_err)
{
	char *p = w->rest, *slash;
	size_t n;

	while (*p == '/')
		p++;
	if (!*p)
		return false;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n > NAME_MAX) {
		*ret_err = -ENAMETOOLONG;
		return false;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	while (*p == '/')
		p++;
	memmove(w->rest, p, strlen(p) + 1);
	*ret_last = w->rest[0] == '\0';
	return true;
}

/* name, a symbolic link in the current directory: its target goes in front
 * of what is left. */
static int expand_link(struct walk_state *w, const char *name, unsigned how)
{
	char target[PATH_MAX];
	size_t rest = strlen(w->rest);
	ssize_t n;

	if (how & PATH_NO_SYMLINKS)
		return -ELOOP;
	if (++w->links > PATH_MAX_LINKS)
		return -ELOOP;
	n = readlinkat(w->fds[w->depth], name, target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	target[n] = '\0';
	if (target[0] == '/')
		return -EXDEV; /* absolute: resolved from the real root, out of the tree */
	if ((size_t)n + 1 + rest + 1 > sizeof(w->rest))
		return -ENAMETOOLONG;
	memmove(w->rest + n + 1, w->rest, rest + 1);
	memcpy(w->rest, target, (size_t)n);
	w->rest[n] = '/';
	return 0;
}

/* The walk's state for PATH below DIRFD (its file system is the tree's). */
static int walk_begin(int dirfd, const char *path, struct walk_state **ret)
{
	struct walk_state *w;
	struct stat st;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	/* Not calloc: 9 KiB zeroed per open is most of the walk's cost; only
	 * fds[0..depth] and the string are ever read. */
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fds[0] = dirfd;
	w->depth = 0;
	w->links = 0;
	w->dev = st.st_dev;
	strcpy(w->rest, path);
	*ret = w;
	return 0;
}

/* One loop over the components, each branch one case of the walk: it stays
 * in one piece so that the order of the checks (dots, lstat, link, mount
 * point, last component, directory, depth) can be read at once. */
int path_open_walk(int dirfd, const char *path, int flags, mode_t mode, unsigned how)
{
	struct walk_state *w = NULL;
	struct stat st;
	char name[NAME_MAX + 1];
	bool last = false;
	int r, fd = -1;

	if (!valid_rel(path))
		return -EINVAL;
	if (!(how & PATH_BENEATH))
		return plain_open(dirfd, path, flags, mode);
	r = walk_begin(dirfd, path, &w);
	if (r < 0)
		return r;
	for (;;) {
		int cur = w->fds[w->depth];

		if (!next_component(w, name, &last, &r)) {
			/* Only "." and ".." left: the directory reached. */
			if (r == 0)
				r = plain_open(cur, ".", flags & ~(O_CREAT | O_EXCL), 0);
			fd = r;
			break;
		}
		if (strcmp(name, ".") == 0) {
			if (last) {
				fd = r = plain_open(cur, ".", flags & ~(O_CREAT | O_EXCL), 0);
				break;
			}
			continue;
		}
		if (strcmp(name, "..") == 0) {
			if (w->depth == 0) {
				r = -EXDEV;
				break;
			}
			close(w->fds[w->depth--]);
			if (last) {
				fd = r = plain_open(w->fds[w->depth], ".", flags & ~(O_CREAT | O_EXCL), 0);
				break;
			}
			continue;
		}
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			if (r == -ENOENT && last && (flags & O_CREAT)) {
				fd = r = plain_open(cur, name, flags | O_NOFOLLOW, mode);
				break;
			}
			break;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			r = expand_link(w, name, how);
			if (r < 0)
				break;
			continue;
		}
		if (st.st_dev != w->dev) {
			r = -EXDEV; /* a mount point */
			break;
		}
		if (last) {
			/* O_NOFOLLOW: if it was swapped for a link since, ELOOP. */
			fd = r = plain_open(cur, name, flags | O_NOFOLLOW, mode);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = -ENOTDIR;
			break;
		}
		if (w->depth == PATH_MAX_DEPTH) {
			r = -ENAMETOOLONG;
			break;
		}
		r = plain_open(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
		if (r < 0)
			break;
		w->fds[++w->depth] = r;
		r = 0;
	}
	/* What was opened must be on the tree's file system too (the last
	 * component may have been swapped for a mount point meanwhile). */
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != w->dev)) {
		r = -EXDEV;
		close(fd);
	}
	walk_done(w);
	free(w);
	return r;
}

/* ---- On top of path_open ---- */

int path_open_parent(int dirfd, const char *path, unsigned how, char name[NAME_MAX + 1])
{
	const char *slash, *base;
	char dir[PATH_MAX];
	size_t n;

	if (!valid_rel(path))
		return -EINVAL;
	n = strlen(path);
	if (path[n - 1] == '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	if (strlen(base) > NAME_MAX)
		return -ENAMETOOLONG;
	if (!slash) {
		strcpy(dir, ".");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	strcpy(name, base);
	return path_open(dirfd, dir, O_RDONLY | O_DIRECTORY, 0, how);
}

/* mkdir of path's last component (its parent exists). 0 when made or there. */
static int mkdir_one(int dirfd, const char *path, mode_t mode, unsigned how, bool sync)
{
	char name[NAME_MAX + 1];
	int pfd, fd, r = 0;

	pfd = path_open_parent(dirfd, path, how, name);
	if (pfd == -EINVAL) /* ends in "." or "..": nothing to make */
		return 0;
	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, name, mode) == 0) {
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, mode) < 0 || (sync && fsync(pfd) < 0))
			r = -errno;
		if (fd >= 0)
			close(fd);
	} else if (errno != EEXIST) {
		r = -errno;
	}
	close(pfd);
	return r;
}

int path_mkdirs(int dirfd, const char *path, mode_t mode, unsigned how, bool sync)
{
	char buf[PATH_MAX];
	size_t n;
	int r;

	if (!valid_rel(path))
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		r = mkdir_one(dirfd, buf, mode, how, sync);
		*p = '/';
		if (r < 0)
			return r;
	}
	r = mkdir_one(dirfd, buf, mode, how, sync);
	if (r < 0)
		return r;
	return path_open(dirfd, buf, O_RDONLY | O_DIRECTORY, 0, how);
}

int path_open_read(int dirfd, const char *path, unsigned how)
{
	struct stat st;
	int fd, r;

	fd = path_open(dirfd, path, O_RDONLY | O_NOCTTY | ((how & PATH_BENEATH) ? O_NONBLOCK : 0), 0, how);
	if (fd < 0)
		return fd;
	if (how & PATH_BENEATH) {
		r = fstat(fd, &st) < 0		? -errno
		    : S_ISDIR(st.st_mode)	? -EISDIR
		    : !S_ISREG(st.st_mode)	? -PATH_ENOTREG
						: 0;
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int path_read(int dirfd, const char *path, unsigned how, size_t max, char **ret, size_t *ret_len)
{
	int fd, r;

	fd = path_open_read(dirfd, path, how);
	if (fd < 0)
		return fd;
	r = util_read_fd(fd, max, ret, ret_len);
	close(fd);
	return r;
}

#define SCRATCH_PREFIX "tree-write."

int path_replace(int dirfd, const char *path, unsigned how, const char *buf, size_t len, int scratch_fd)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct stat st;
	int pfd, tfd, fd = -1, r;

	pfd = path_open_parent(dirfd, path, how, name);
	if (pfd < 0)
		return pfd;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		r = -ELOOP;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -PATH_ENOTREG;
		goto out;
	}
	/* As an open for writing would: root may, others need the bit. */
	if (faccessat(pfd, name, W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	if (scratch_fd >= 0) {
		static unsigned long seq;

		tfd = scratch_fd;
		snprintf(tmp, sizeof(tmp), SCRATCH_PREFIX "%d.%lu", (int)getpid(),
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	} else {
		tfd = pfd;
		if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.isolated~", name) >= sizeof(tmp)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		/* what a write killed before its rename left */
		if (unlinkat(tfd, tmp, 0) < 0 && errno != ENOENT) {
			r = -errno;
			goto out;
		}
	}
	fd = openat(tfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = util_write_all(fd, buf, len);
	if (r == 0 && fchmod(fd, st.st_mode & 07777) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(tfd, tmp, pfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(tfd, tmp, 0);
out:
	close(pfd);
	return r;
}

void path_sweep_scratch(int scratch_fd)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(scratch_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strncmp(de->d_name, SCRATCH_PREFIX, strlen(SCRATCH_PREFIX)) == 0)
			(void)unlinkat(scratch_fd, de->d_name, 0);
	closedir(d);
}
