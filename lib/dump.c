/* A host copied into a new tree (isoctl snapshot DIR): the files a
 * snapshot reads, copied by its walk as it reads them, and the files a bug
 * report needs besides, into a directory that nobody else can write. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/dump.h"
#include "isolated/policy.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"
#include "snapshot-internal.h"

/* A file of the host a policy may set, copied with its write bit (a plan of
 * the dump says "read-only" where the host would). Files that cannot be
 * read (write-only attributes, a device that says EIO) are left out. */
static int dump_knob(struct walk *w, const char *path)
{
	struct stat st;
	char *buf;
	int r, fd;

	r = walk_read(w, path, &buf, NULL);
	if (r < 0) {
		if (w->err && w->errlen)
			w->err[0] = '\0';
		/* A failure to write the dump is fatal; the host's is not. */
		return r == -ENOSPC || r == -EDQUOT || r == -EROFS ? r : 0;
	}
	free(buf);
	fd = host_openat(w->h, path, O_PATH, 0);
	if (fd < 0)
		return 0;
	r = fstat(fd, &st) == 0 && !(st.st_mode & 0222) ? fchmodat(w->dst_fd, path, 0444, 0) : 0;
	close(fd);
	return r < 0 ? walk_fail(w, -errno, "%s: %s", path, path_strerror(errno)) : 0;
}

/* The regular files of dir (depth levels of directories below it: 0 is
 * its files alone), as dump_knob copies them. A missing dir is fine. */
static int dump_knob_dir(struct walk *w, const char *dir, unsigned depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = host_openat(w->h, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while (r >= 0 && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    util_path(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			r = dump_knob(w, path);
		else if (S_ISDIR(st.st_mode) && depth > 0)
			r = dump_knob_dir(w, path, depth - 1);
	}
	closedir(d);
	return r;
}

/* What [sysctl] checks and [sysfs] may set: so that a mode planned against
 * the dump plans as on the host. */
static int dump_knobs(struct walk *w, const struct host_state *s)
{
	static const struct {
		const char *dir;
		unsigned depth;
	} dirs[] = {
	    {"sys/kernel/mm/transparent_hugepage", 1},
	    {"sys/kernel/mm/ksm", 0},
	    {"sys/devices/virtual/workqueue", 1},
	};
	char path[PATH_MAX], **mods = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0, fd;

	for (size_t i = 0; policy_dump_sysctl(i) && r >= 0; i++)
		if (host_sysctl_path(policy_dump_sysctl(i), path, sizeof(path)) == 0)
			r = dump_knob(w, path);
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && r >= 0; i++)
		r = dump_knob_dir(w, dirs[i].dir, dirs[i].depth);
	for (int c = cpuset_next(&s->possible, -1); c >= 0 && r >= 0; c = cpuset_next(&s->possible, c)) {
		static const char *const sub[] = {"cpufreq", "power"};

		for (size_t j = 0; j < ARRAY_SIZE(sub) && r >= 0; j++)
			if (util_path(path, sizeof(path), "sys/devices/system/cpu/cpu%d/%s", c, sub[j]) == 0)
				r = dump_knob_dir(w, path, 0);
	}
	/* module/NAME/parameters: listed first, the walk opens each. */
	fd = r >= 0 ? host_openat(w->h, "sys/module", O_RDONLY | O_DIRECTORY, 0) : -1;
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && !d)
		close(fd);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strv_push_dup(&mods, de->d_name) < 0)
			r = walk_fail(w, -ENOMEM, "out of memory");
	if (d)
		closedir(d);
	for (size_t i = 0; mods && mods[i] && r >= 0; i++)
		if (util_path(path, sizeof(path), "sys/module/%s/parameters", mods[i]) == 0)
			r = dump_knob_dir(w, path, 0);
	strv_free(mods);
	return r;
}

/* Files a user's bug report needs that the snapshot does not parse. */
static int dump_extras(struct walk *w, const struct host_state *s)
{
	char path[PATH_MAX], *buf;
	int r;

	/* Read by isoctl check (other tuners) and isoctl itself (host.conf),
	 * so that a replayed snapshot checks and plans as the host did. */
	static const char *const etc[] = {
	    "etc/default/irqbalance",
	    "etc/sysconfig/irqbalance",
	    "etc/tuned/active_profile",
	    "etc/isolated/host.conf",
	};

	for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
		r = walk_read_opt(w, etc[i], &buf, NULL);
		if (r < 0)
			return r;
		free(buf);
	}
	for (size_t i = 0; i < s->n_irqs; i++) {
		static const char *const files[] = {"smp_affinity", "effective_affinity"};
		for (size_t j = 0; j < ARRAY_SIZE(files); j++) {
			r = util_path(path, sizeof(path), "proc/irq/%u/%s", s->irqs[i].irq, files[j]);
			if (r < 0)
				return walk_fail(w, r, "proc/irq/%u/%s: %s", s->irqs[i].irq, files[j],
						 path_strerror(-r));
			r = walk_read_opt(w, path, &buf, NULL);
			if (r < 0)
				return r;
			free(buf);
		}
	}
	return 0;
}

/* mkdir -p of the directories above dir (not dir itself), as the user
 * named them. */
static int mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int dir_is_empty(int fd)
{
	struct dirent *de;
	int r = 1, dfd;
	DIR *d;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			r = 0;
			break;
		}
	closedir(d);
	return r;
}

/* The directory a dump goes into (DESIGN.md, invariant 8): made by us, or
 * one the caller alone owns, empty, and not a symbolic link. Then nobody
 * else can put or swap anything in it while we write. The fd or -errno
 * with a message. */
static int dump_open_dir(struct walk *w, const char *dir)
{
	struct stat st;
	int fd, r;

	if (!*dir)
		return walk_fail(w, -EINVAL, "an empty directory name");
	r = mkdir_parents(dir);
	if (r < 0)
		return walk_fail(w, r, "%s: cannot create its parent directories: %s", dir, path_strerror(-r));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		return walk_fail(w, -ELOOP, "%s is a symbolic link: name the directory itself", dir);
	if (fd < 0)
		return walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	if (fstat(fd, &st) < 0)
		r = walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	else if (st.st_uid != geteuid())
		r = walk_fail(w, -EPERM,
			      "%s is owned by uid %u, not by you (uid %u): a snapshot goes into a new directory or "
			      "an empty one you own",
			      dir, (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		r = walk_fail(w, -EPERM,
			      "%s is writable by %s (mode %04o): others could swap files in it while it is written",
			      dir, (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	else if ((r = dir_is_empty(fd)) == 0)
		r = walk_fail(w, -ENOTEMPTY, "%s: directory is not empty", dir);
	else if (r < 0)
		r = walk_fail(w, r, "%s: %s", dir, path_strerror(-r));
	else
		r = 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Everything a snapshot reads, the cpuset hierarchy and each thread's
 * cgroup in it too: what a [partition]'s plan reads. */
static const struct host_needs dump_needs = {
    .boot_id = true, .irqs = HOST_IRQ_ALL, .tasks = HOST_TASK_ALL | HOST_TASK_CPUSET, .cgroups = true};

int host_dump(const struct host *h, const char *dir, char *err, size_t errlen)
{
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0, CGROUP_NONE};
	struct host_state *s = NULL;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	w.dst_fd = dump_open_dir(&w, dir);
	if (w.dst_fd < 0)
		return w.dst_fd;
	/* Where the journal of a tree lives (run/isolated/), so that the dump
	 * can be applied to like the host. */
	r = util_mkdir_p_at(w.dst_fd, "run");
	if (r < 0)
		r = walk_fail(&w, r, "%s/run: %s", dir, path_strerror(-r));
	if (r >= 0)
		r = walk_snapshot(&w, &dump_needs, &s);
	if (r >= 0)
		r = dump_extras(&w, s);
	if (r >= 0)
		r = dump_knobs(&w, s);
	host_state_free(s);
	close(w.dst_fd);
	return r < 0 ? r : 0;
}
