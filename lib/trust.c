/* trust_open (isolated/trust.h): as root, the path is walked from / one
 * component at a time, each directory and symlink checked before it is
 * used, and the file is opened relative to the last directory: what is
 * checked is what is opened. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "isolated/trust.h"
#include "isolated/util.h"

/* Symlinks followed in one walk at most: the kernel's limit. */
#define TRUST_MAX_LINKS 40

struct walk {
	int fd;		/* O_PATH of the directory reached */
	char *path;	/* its path from /, symlinks resolved: "/", "/etc/isolated" */
	struct stat st; /* its stat */
	char *cwd;	/* the working directory when the path was relative, else NULL */
	bool via_link;	/* the file's own name was a symlink */
	char *err;
	size_t errlen;
};

/* abs as messages name it: relative to the working directory when the
 * path given was relative and abs is below it. */
static const char *shown(const struct walk *w, const char *abs)
{
	size_t n = w->cwd ? strlen(w->cwd) : 0;

	if (n == 1) /* the working directory is / */
		return abs[1] ? abs + 1 : abs;
	if (n && strncmp(abs, w->cwd, n) == 0 && abs[n] == '/')
		return abs + n + 1;
	return abs;
}

static int walk_errno(struct walk *w, int r)
{
	util_set_err(w->err, w->errlen, "cannot open: %s", strerror(-r));
	return r;
}

/* The directory reached: root's, and writable by no one else unless it is
 * sticky (its entries are then checked as they are used). */
static int check_dir(struct walk *w)
{
	mode_t m = w->st.st_mode;

	if (w->st.st_uid != 0) {
		util_set_err(w->err, w->errlen, "refusing: directory %s is owned by uid %u", shown(w, w->path),
			     (unsigned)w->st.st_uid);
		return -EPERM;
	}
	if ((m & (S_IWGRP | S_IWOTH)) && !(m & S_ISVTX)) {
		util_set_err(w->err, w->errlen, "refusing: directory %s is writable by group or others (mode %04o)",
			     shown(w, w->path), (unsigned)(m & 07777));
		return -EPERM;
	}
	return 0;
}

/* Move to fd, the directory at path (both taken), and check it. */
static int walk_enter(struct walk *w, int fd, char *path)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	w->fd = fd;
	w->path = path;
	if (!path)
		return walk_errno(w, -ENOMEM);
	if (fstat(fd, &w->st) < 0)
		return walk_errno(w, -errno);
	return check_dir(w);
}

static int walk_root(struct walk *w)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return walk_errno(w, -errno);
	return walk_enter(w, fd, strdup("/"));
}

static int walk_parent(struct walk *w)
{
	char *slash = strrchr(w->path, '/');
	int fd;

	if (strcmp(w->path, "/") == 0)
		return 0; /* "/.." is "/" */
	fd = openat(w->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return walk_errno(w, -errno);
	return walk_enter(w, fd, slash == w->path ? strdup("/") : strndup(w->path, (size_t)(slash - w->path)));
}

static char *joined(const char *dir, const char *name)
{
	return util_sprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
}

/* The links of /proc (/proc/self/fd/N, /proc/PID/cwd) are the kernel's:
 * their text ("/memfd:x (deleted)", "socket:[7]") is no path to walk, and
 * they lead where the kernel says, not anyone who could write a directory. */
static bool on_procfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* name, a symlink in the directory reached (nfd: O_PATH of the link, st
 * its stat), with rest to follow: checked, and *todo becomes its target,
 * then rest. For a link of /proc *ret_kernel is set instead: the kernel
 * follows it. */
static int walk_link(struct walk *w, int nfd, const struct stat *st, const char *name, const char *rest, int *links,
		     char **todo, bool *ret_kernel)
{
	char target[PATH_MAX], *next;
	ssize_t n;

	if (++*links > TRUST_MAX_LINKS)
		return walk_errno(w, -ELOOP);
	/* In a sticky directory others can write to, the link is its owner's
	 * to replace. */
	if ((w->st.st_mode & (S_IWGRP | S_IWOTH)) && st->st_uid != 0) {
		char *link = joined(w->path, name);

		util_set_err(w->err, w->errlen,
			     "refusing: symlink %s is owned by uid %u in sticky directory %s (mode %04o)",
			     link ? shown(w, link) : name, (unsigned)st->st_uid, shown(w, w->path),
			     (unsigned)(w->st.st_mode & 07777));
		free(link);
		return -EPERM;
	}
	if (!*rest)
		w->via_link = true;
	n = readlinkat(nfd, "", target, sizeof(target));
	if (n < 0)
		return walk_errno(w, -errno);
	if ((size_t)n >= sizeof(target))
		return walk_errno(w, -ENAMETOOLONG);
	target[n] = '\0';
	if ((*ret_kernel = on_procfs(nfd))) {
		int dfd;

		if (!*rest)
			return 0;
		dfd = openat(w->fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return walk_errno(w, -errno);
		return walk_enter(w, dfd, target[0] == '/' ? strdup(target) : joined(w->path, target));
	}
	next = util_sprintf("%s%s%s", target, *rest ? "/" : "", rest);
	if (!next)
		return walk_errno(w, -ENOMEM);
	free(*todo);
	*todo = next;
	return target[0] == '/' ? walk_root(w) : 0;
}

/* The file: name in the directory reached (st: its stat, following a link
 * of /proc when follow), opened unless it is not regular (a FIFO would
 * block, a device act). */
static int walk_file(struct walk *w, const char *name, const struct stat *st, bool follow, int *ret_fd)
{
	int fd;

	if (!S_ISREG(st->st_mode)) {
		util_set_err(w->err, w->errlen, "not a regular file");
		return -EINVAL;
	}
	fd = openat(w->fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return walk_errno(w, -errno);
	*ret_fd = fd;
	return 0;
}

/* Walk todo (an absolute path; taken) to its file and open it. */
static int walk_open(struct walk *w, char *todo, int *ret_fd)
{
	int links = 0, r;

	if (!todo)
		return walk_errno(w, -ENOMEM);
	r = walk_root(w);
	for (size_t pos = 0; r == 0;) {
		bool last, kernel = false, done = false;
		char *name, *rest;
		struct stat st;
		size_t len;
		int nfd;

		while (todo[pos] == '/')
			pos++;
		len = strcspn(todo + pos, "/");
		rest = todo + pos + len;
		while (*rest == '/')
			rest++;
		last = !*rest;
		/* a path ending in "/" names the directory itself */
		name = len ? strndup(todo + pos, len) : strdup(".");
		if (!name) {
			r = walk_errno(w, -ENOMEM);
			break;
		}
		pos = (size_t)(rest - todo);
		if (!last && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
			r = strcmp(name, "..") == 0 ? walk_parent(w) : 0;
			free(name);
			continue;
		}
		nfd = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 || fstat(nfd, &st) < 0)
			r = walk_errno(w, -errno);
		else if (S_ISLNK(st.st_mode)) {
			r = walk_link(w, nfd, &st, name, rest, &links, &todo, &kernel);
			if (!kernel)
				pos = 0; /* todo is the link's target now */
			else if (last) {
				done = true;
				if (r == 0)
					r = fstatat(w->fd, name, &st, 0) < 0 ? walk_errno(w, -errno)
									     : walk_file(w, name, &st, true, ret_fd);
			}
		} else if (!last && !S_ISDIR(st.st_mode))
			r = walk_errno(w, -ENOTDIR);
		else if (!last) {
			r = walk_enter(w, nfd, joined(w->path, name));
			nfd = -1; /* taken */
		} else {
			done = true;
			r = walk_file(w, name, &st, false, ret_fd);
		}
		if (nfd >= 0)
			close(nfd);
		free(name);
		if (done)
			break;
	}
	free(todo);
	return r;
}

/* The file opened: regular; as root, root's, writable by no one else and,
 * when public, readable by others. */
static int check_file(int fd, unsigned flags, bool strict, bool via_link, struct stat *st, char *err, size_t errlen)
{
	const char *what = via_link ? "symlink target " : "";

	if (fstat(fd, st) < 0) {
		int r = -errno;

		util_set_err(err, errlen, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st->st_mode)) {
		util_set_err(err, errlen, "not a regular file");
		return -EINVAL;
	}
	if (!strict)
		return 0;
	if (st->st_uid != 0) {
		util_set_err(err, errlen, "refusing: %sowned by uid %u", what, (unsigned)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		util_set_err(err, errlen, "refusing: %swritable by group or others (mode %04o)", what,
			     (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if ((flags & TRUST_PUBLIC) && !(st->st_mode & S_IROTH)) {
		util_set_err(err, errlen,
			     "refusing: %snot readable by others (mode %04o): isolated shows what it reads, errors "
			     "included, to anyone who asks",
			     what, (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int trust_open(const char *path, unsigned flags, int *ret_fd, struct stat *ret_st, char *err, size_t errlen)
{
	struct walk w = {.fd = -1, .err = err, .errlen = errlen};
	bool strict = geteuid() == 0;
	struct stat st;
	int fd = -1, r;

	if (!strict) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		r = fd < 0 ? walk_errno(&w, -errno) : 0;
	} else if (path[0] == '/')
		r = walk_open(&w, strdup(path), &fd);
	else if (!(w.cwd = getcwd(NULL, 0)))
		r = walk_errno(&w, -errno);
	else
		r = walk_open(&w, util_sprintf("%s/%s", w.cwd, path), &fd);
	if (r == 0)
		r = check_file(fd, flags, strict, w.via_link, &st, err, errlen);
	if (w.fd >= 0)
		close(w.fd);
	free(w.path);
	free(w.cwd);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	if (ret_st)
		*ret_st = st;
	return 0;
}
