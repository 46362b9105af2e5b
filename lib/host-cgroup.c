/* The cpuset cgroups of a [partition] through the host seam: their files
 * and directories, and which cgroup a thread is in, read and written on
 * the running kernel (cgroupfs, checked to be one) or emulated on a tree
 * (the files a kernel would show afterwards, its refusals, and the
 * partition states it computes). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "host-internal.h"
#include "isolated/cgroup.h"
#include "isolated/cpuset.h"
#include "isolated/host.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"

/* ---- Where things are ---- */

int host_cpuset_hierarchy(const struct host *h, enum cgroup_kind *ret, const char **ret_mount)
{
	char *root = NULL, *unified = NULL;
	struct stat st;
	bool v1;

	(void)host_read(h, "sys/fs/cgroup/cgroup.controllers", &root, NULL);
	(void)host_read(h, "sys/fs/cgroup/unified/cgroup.controllers", &unified, NULL);
	v1 = host_lstat(h, "sys/fs/cgroup/cpuset/cpuset.cpus", &st) == 0;
	*ret = cgroup_pick(root, v1, unified, ret_mount);
	free(root);
	free(unified);
	return 0;
}

/* "sys/fs/cgroup/REL" */
static int rel_path(char *buf, size_t len, const char *rel)
{
	return util_path(buf, len, "sys/fs/cgroup/%s", rel);
}

/* Is REL a directory target (cgroup_target_check)? -EINVAL: no target. */
static int rel_is_dir(const char *rel, bool *ret)
{
	char t[PATH_MAX], why[128];

	if (util_path(t, sizeof(t), CGROUP_TARGET_PREFIX "%s", rel) < 0)
		return -EINVAL;
	return cgroup_target_check(t, ret, why, sizeof(why));
}

/* The text of a file, its trailing newline stripped. */
static int read_line(const struct host *h, const char *path, char **ret)
{
	size_t len;
	int r = host_read(h, path, ret, &len);

	if (r >= 0 && len && (*ret)[len - 1] == '\n')
		(*ret)[len - 1] = '\0';
	return r;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A cgroup directory of the tree or the kernel is v1 when it has "tasks". */
static bool dir_is_v1(const struct host *h, const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	return util_path(p, sizeof(p), "%s/tasks", dir) == 0 && host_lstat(h, p, &st) == 0;
}

/* The names in directory fd (not "." and ".."); fd stays open. */
static int list_fd(int fd, char ***ret)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r = 0;
	struct dirent *de;
	DIR *d;

	*ret = NULL;
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	while (r >= 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = strv_push_dup(ret, de->d_name);
	if (r >= 0 && errno)
		r = -errno;
	closedir(d);
	if (r < 0) {
		strv_free(*ret);
		*ret = NULL;
	}
	return r;
}

/* ---- Reading ---- */

int host_read_cgroup_target(const struct host *h, const char *rel, char **ret)
{
	char path[PATH_MAX], p[PATH_MAX], *type = NULL;
	struct stat st;
	bool dir;
	int r;

	r = rel_is_dir(rel, &dir);
	if (r == 0)
		r = rel_path(path, sizeof(path), rel);
	if (r < 0)
		return r;
	if (!dir)
		return read_line(h, path, ret);
	r = host_lstat(h, path, &st);
	if (r == -ENOENT) {
		*ret = strdup("absent");
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (util_path(p, sizeof(p), "%s/cgroup.type", path) == 0 && read_line(h, p, &type) == 0 &&
	    strcmp(type, "threaded") == 0)
		*ret = strdup("threaded");
	else
		*ret = strdup("present");
	free(type);
	return *ret ? 0 : -ENOMEM;
}

int host_read_cpus_isolated(const struct host *h, char **ret)
{
	enum cgroup_kind kind;
	const char *mount = NULL;
	char path[PATH_MAX];
	int r;

	r = host_cpuset_hierarchy(h, &kind, &mount);
	if (r < 0)
		return r;
	if (kind != CGROUP_V2)
		return -ENOENT;
	r = util_path(path, sizeof(path), "%s/cpuset.cpus.isolated", mount);
	return r < 0 ? r : read_line(h, path, ret);
}

int host_read_thread_cpuset(const struct host *h, pid_t tgid, pid_t tid, char **ret)
{
	char path[PATH_MAX], *buf = NULL;
	enum cgroup_kind kind;
	const char *mount;
	int r;

	r = util_path(path, sizeof(path), "proc/%d/task/%d/cgroup", (int)tgid, (int)tid);
	if (r < 0)
		return r;
	r = host_read(h, path, &buf, NULL);
	if (r == -ENOENT || r == -ESRCH || (r >= 0 && !*buf))
		r = -ESRCH;
	if (r >= 0)
		r = host_cpuset_hierarchy(h, &kind, &mount);
	if (r >= 0)
		r = cgroup_task_path(buf, kind, ret);
	if (r >= 0 && !*ret)
		r = -ENOENT;
	free(buf);
	return r;
}

/* ---- The running kernel ---- */

/* Open a cgroupfs file to write, refusing anything not on cgroupfs. */
static int kernel_open_cg(const struct host *h, const char *path)
{
	struct statfs sfs;
	int fd = host_openat(h, path, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);

	if (fd < 0)
		return fd;
	if (fstatfs(fd, &sfs) < 0 || (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC)) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

static int kernel_write_cg(const struct host *h, const char *path, const char *text)
{
	int fd = kernel_open_cg(h, path), r;
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return r;
}

/* The words of a that b lacks, each with sign before it: "+cpuset". */
static char *word_diff(const char *a, const char *b, char sign)
{
	struct sbuf out = {0};

	for (const char *p = a; *p;) {
		size_t k;

		p += strspn(p, " ");
		k = strcspn(p, " ");
		if (!k)
			break;
		if (!cgroup_has_word(b, p, k)) {
			if (out.len)
				sbuf_addc(&out, ' ');
			sbuf_addc(&out, sign);
			sbuf_add(&out, p, k);
		}
		p += k;
	}
	return out.len ? sbuf_take(&out) : strdup("");
}

/* cgroup.subtree_control takes "+ctl" and "-ctl": the difference between
 * what it has and value. */
static int kernel_subtree_control(const struct host *h, const char *path, const char *value)
{
	char *cur = NULL, *add = NULL, *del = NULL, *text = NULL;
	int r = read_line(h, path, &cur);

	if (r < 0)
		return r;
	add = word_diff(value, cur, '+');
	del = word_diff(cur, value, '-');
	if (!add || !del)
		r = -ENOMEM;
	else if (*add || *del)
		r = (text = util_sprintf("%s%s%s", add, *add && *del ? " " : "", del)) ? kernel_write_cg(h, path, text)
										       : -ENOMEM;
	free(cur);
	free(add);
	free(del);
	free(text);
	return r;
}

/* The threads of cgroup dir moved into its parent, so that it can go. */
static int kernel_evacuate(const struct host *h, const char *dir, bool v1)
{
	char from[PATH_MAX], to[PATH_MAX], *buf = NULL, *parent;
	const char *list = v1 ? "tasks" : "cgroup.threads";
	int r;

	if (util_path(from, sizeof(from), "%s/%s", dir, list) < 0 || util_path(to, sizeof(to), "%s", dir) < 0)
		return -ENAMETOOLONG;
	parent = strrchr(to, '/');
	if (!parent)
		return -EINVAL;
	if (util_path(parent, sizeof(to) - (size_t)(parent - to), "/%s", list) < 0)
		return -ENAMETOOLONG;
	r = read_line(h, from, &buf);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && r >= 0; t = strtok_r(NULL, "\n", &save)) {
		r = kernel_write_cg(h, to, t);
		if (r == -ESRCH)
			r = 0; /* it exited meanwhile */
	}
	free(buf);
	return r;
}

static int kernel_dir(const struct host *h, const char *path, const char *value)
{
	char name[NAME_MAX + 1], p[PATH_MAX];
	struct statfs sfs;
	int dfd, r = 0;

	dfd = host_open_parent(h, path, name);
	if (dfd < 0)
		return dfd;
	if (fstatfs(dfd, &sfs) < 0 || (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC))
		r = -EXDEV;
	else if (strcmp(value, "absent") == 0) {
		r = kernel_evacuate(h, path, dir_is_v1(h, path));
		if (r >= 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			r = -errno;
	} else {
		if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
			r = -errno;
		if (r == 0 && strcmp(value, "threaded") == 0)
			r = util_path(p, sizeof(p), "%s/cgroup.type", path) < 0 ? -ENAMETOOLONG
										: kernel_write_cg(h, p, "threaded\n");
	}
	close(dfd);
	return r;
}

/* ---- The tree emulator ---- */

/* The kernel's order of the v2 controllers (cgroup_subsys.h), as
 * cgroup.controllers and cgroup.subtree_control print them. */
static const char *const controller_order[] = {"cpuset",  "cpu",  "io",	  "memory", "perf_event",
					       "hugetlb", "pids", "rdma", "misc",   NULL};

static size_t controller_rank(const char *w, size_t k)
{
	size_t i;

	for (i = 0; controller_order[i]; i++)
		if (strlen(controller_order[i]) == k && strncmp(controller_order[i], w, k) == 0)
			break;
	return i;
}

/* The words of value in the kernel's order, one line. */
static char *controllers_line(const char *value)
{
	struct sbuf out = {0};

	for (size_t rank = 0; rank <= ARRAY_SIZE(controller_order); rank++)
		for (const char *p = value; *p;) {
			size_t k;

			p += strspn(p, " ");
			k = strcspn(p, " ");
			if (!k)
				break;
			if (controller_rank(p, k) == rank) {
				if (out.len)
					sbuf_addc(&out, ' ');
				sbuf_add(&out, p, k);
			}
			p += k;
		}
	sbuf_addc(&out, '\n');
	return sbuf_take(&out);
}

/* The cpu list of a file of the tree (empty when the file is). */
static int tree_cpus(const struct host *h, const char *path, struct cpuset *ret)
{
	char *buf = NULL, msg[128];
	int r = read_line(h, path, &buf);

	if (r >= 0)
		r = cpuset_parse_list(buf, ret, msg, sizeof(msg));
	free(buf);
	return r;
}

/* dir/file's cpu list */
static int tree_dir_cpus(const struct host *h, const char *dir, const char *file, struct cpuset *ret)
{
	char p[PATH_MAX];

	return util_path(p, sizeof(p), "%s/%s", dir, file) < 0 ? -ENAMETOOLONG : tree_cpus(h, p, ret);
}

static int rewrite_to(struct rewrite *rw, const char *dir, const char *file, char *content)
{
	if (!content)
		return -ENOMEM;
	rw->new = content;
	rw->new_len = strlen(content);
	return util_path(rw->path, sizeof(rw->path), "%s/%s", dir, file);
}

static char *list_line(const struct cpuset *c)
{
	char *l = NULL, *line;

	if (cpuset_format_list(c, &l) < 0)
		return NULL;
	line = util_sprintf("%s\n", l);
	free(l);
	return line;
}

/* The parent directory of a cgroup directory path, in buf. */
static int parent_of(char *buf, size_t len, const char *dir)
{
	const char *s = strrchr(dir, '/');

	if (!s || (size_t)(s - dir) >= len)
		return -EINVAL;
	memcpy(buf, dir, (size_t)(s - dir));
	buf[s - dir] = '\0';
	return 0;
}

/* Is dir the root of its hierarchy (no cgroup.type: v2; no cpuset.cpus
 * in its parent: v1)? */
static bool tree_is_root(const struct host *h, const char *dir)
{
	char p[PATH_MAX], parent[PATH_MAX];
	struct stat st;

	if (dir_is_v1(h, dir))
		return parent_of(parent, sizeof(parent), dir) < 0 ||
		       util_path(p, sizeof(p), "%s/cpuset.cpus", parent) < 0 || host_lstat(h, p, &st) < 0;
	return util_path(p, sizeof(p), "%s/cgroup.type", dir) < 0 || host_lstat(h, p, &st) < 0;
}

/* A new cgroup's files, as the kernel shows them in a fresh one. */
static int tree_mkdir(const struct host *h, const char *path, bool threaded)
{
	char parent[PATH_MAX], name[NAME_MAX + 1], p[PATH_MAX], *ctl = NULL, *eff = NULL, *mems = NULL;
	static const char *const v1_files[][2] = {
	    {"cgroup.clone_children", "0\n"},
	    {"cgroup.procs", ""},
	    {"cpuset.cpu_exclusive", "0\n"},
	    {"cpuset.cpus", "\n"},
	    {"cpuset.effective_cpus", "\n"},
	    {"cpuset.effective_mems", "\n"},
	    {"cpuset.mem_exclusive", "0\n"},
	    {"cpuset.mem_hardwall", "0\n"},
	    {"cpuset.memory_migrate", "0\n"},
	    {"cpuset.memory_pressure", "0\n"},
	    {"cpuset.memory_spread_page", "0\n"},
	    {"cpuset.memory_spread_slab", "0\n"},
	    {"cpuset.mems", "\n"},
	    {"cpuset.sched_load_balance", "1\n"},
	    {"cpuset.sched_relax_domain_level", "-1\n"},
	    {"notify_on_release", "0\n"},
	    {"tasks", ""},
	};
	struct stat st;
	bool v1, exclusive;
	int dfd, r = 0;

	if (parent_of(parent, sizeof(parent), path) < 0)
		return -EINVAL;
	v1 = dir_is_v1(h, parent);
	if (!v1 && util_path(p, sizeof(p), "%s/cgroup.controllers", parent) == 0 && host_lstat(h, p, &st) < 0)
		return -ENOENT; /* not a cgroup */
	dfd = host_open_parent(h, path, name);
	if (dfd < 0)
		return dfd;
	if (mkdirat(dfd, name, 0755) < 0)
		r = -errno;
	close(dfd);
	if (r < 0)
		return r;
	if (v1) {
		for (size_t i = 0; i < ARRAY_SIZE(v1_files) && r >= 0; i++)
			r = util_path(p, sizeof(p), "%s/%s", path, v1_files[i][0]) < 0
				? -ENAMETOOLONG
				: util_write_new_at(h->root_fd, p, v1_files[i][1], strlen(v1_files[i][1]));
		return r;
	}
	/* v2: the parent's subtree_control is what the child may use. */
	exclusive = util_path(p, sizeof(p), "%s/cpuset.cpus.isolated", parent) == 0 && host_lstat(h, p, &st) == 0;
	if (!tree_is_root(h, parent))
		exclusive =
		    util_path(p, sizeof(p), "%s/cpuset.cpus.exclusive", parent) == 0 && host_lstat(h, p, &st) == 0;
	if (util_path(p, sizeof(p), "%s/cgroup.subtree_control", parent) < 0 || host_read(h, p, &ctl, NULL) < 0 ||
	    util_path(p, sizeof(p), "%s/cpuset.cpus.effective", parent) < 0 || host_read(h, p, &eff, NULL) < 0 ||
	    util_path(p, sizeof(p), "%s/cpuset.mems.effective", parent) < 0 || host_read(h, p, &mems, NULL) < 0)
		r = -ENOENT;
	{
		const char *files[][2] = {
		    {"cgroup.type", threaded ? "threaded\n" : "domain\n"},
		    {"cgroup.controllers", ctl ? ctl : "\n"},
		    {"cgroup.subtree_control", "\n"},
		    {"cgroup.threads", ""},
		    {threaded ? NULL : "cgroup.procs", ""},
		    {"cpuset.cpus", "\n"},
		    {"cpuset.cpus.effective", eff ? eff : "\n"},
		    {exclusive ? "cpuset.cpus.exclusive" : NULL, "\n"},
		    {exclusive ? "cpuset.cpus.exclusive.effective" : NULL, "\n"},
		    {"cpuset.cpus.partition", "member\n"},
		    {"cpuset.mems", "\n"},
		    {"cpuset.mems.effective", mems ? mems : "\n"},
		};
		for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++)
			if (files[i][0])
				r = util_path(p, sizeof(p), "%s/%s", path, files[i][0]) < 0
					? -ENAMETOOLONG
					: util_write_new_at(h->root_fd, p, files[i][1], strlen(files[i][1]));
	}
	free(ctl);
	free(eff);
	free(mems);
	return r;
}

/* The threads (v2) or tasks (v1) of a cgroup, as a list of tids. */
static int tree_members(const struct host *h, const char *dir, bool v1, char **ret)
{
	char p[PATH_MAX];

	if (util_path(p, sizeof(p), "%s/%s", dir, v1 ? "tasks" : "cgroup.threads") < 0)
		return -ENAMETOOLONG;
	return host_read(h, p, ret, NULL);
}

static int tree_move(struct host *h, pid_t tgid, pid_t tid, const char *to_dir);

/* Remove a cgroup we made: its threads to the parent, then its files. The
 * kernel refuses one with children (EBUSY). */
static int tree_rmdir(struct host *h, const char *path)
{
	char parent[PATH_MAX], name[NAME_MAX + 1], *members = NULL, **entries = NULL;
	bool v1 = dir_is_v1(h, path);
	struct stat st;
	int dfd, fd, r;

	if (host_lstat(h, path, &st) == -ENOENT)
		return 0;
	if (parent_of(parent, sizeof(parent), path) < 0)
		return -EINVAL;
	r = tree_members(h, path, v1, &members);
	for (char *save = NULL, *t = r >= 0 ? strtok_r(members, "\n", &save) : NULL; t && r >= 0;
	     t = strtok_r(NULL, "\n", &save)) {
		long tid;

		if (util_parse_long(t, 1, INT32_MAX, &tid) == 0)
			r = tree_move(h, 0, (pid_t)tid, parent);
		if (r == -ESRCH)
			r = 0; /* exited meanwhile: the kernel drops it from the list */
	}
	free(members);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		return r;
	fd = host_openat(h, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	r = list_fd(fd, &entries);
	for (size_t i = 0; r >= 0 && entries && entries[i]; i++) {
		if (fstatat(fd, entries[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			r = -EBUSY;
	}
	for (size_t i = 0; r >= 0 && entries && entries[i]; i++)
		if (unlinkat(fd, entries[i], 0) < 0 && errno != ENOENT)
			r = -errno;
	strv_free(entries);
	close(fd);
	if (r < 0)
		return r;
	dfd = host_open_parent(h, path, name);
	if (dfd < 0)
		return dfd;
	r = unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	close(dfd);
	return r;
}

/* The cpu lists of a partition's files and the root's cpuset.cpus.isolated
 * after dir's cpuset.cpus.partition becomes value: "isolated" is valid when
 * its CPUs (cpuset.cpus.exclusive, else cpuset.cpus) are not empty, are
 * within each ancestor's cpuset.cpus.exclusive below the root (a remote
 * partition) and leave the root a CPU; else "isolated invalid (REASON)"
 * with the kernel's reasons. */
static int tree_partition(struct host *h, const char *dir, const char *value)
{
	struct cpuset cpus = CPUSET_INIT, anc = CPUSET_INIT, root_eff = CPUSET_INIT, iso = CPUSET_INIT;
	char cur[PATH_MAX], root[PATH_MAX], *old = NULL, *state = NULL;
	const char *reason = NULL;
	struct rewrite rw[3] = {0};
	size_t n = 0;
	bool was_valid;
	int r;

	if (strcmp(value, "isolated") && strcmp(value, "member") && strcmp(value, "root"))
		return -EINVAL;
	if (strcmp(value, "root") == 0)
		return -EOPNOTSUPP; /* isolated makes only isolated partitions: not emulated */
	/* the root: the topmost directory with no cgroup.type */
	if (util_path(root, sizeof(root), "%s", dir) < 0)
		return -ENAMETOOLONG;
	while (!tree_is_root(h, root))
		if (parent_of(root, sizeof(root), root) < 0)
			return -EINVAL;
	if (util_path(cur, sizeof(cur), "%s/cpuset.cpus.isolated", root) < 0)
		return -ENAMETOOLONG;
	r = tree_cpus(h, cur, &iso);
	if (r == -ENOENT)
		r = -EINVAL; /* no isolated partitions below 6.7 (remote ones) */
	if (r >= 0)
		r = util_path(cur, sizeof(cur), "%s/cpuset.cpus.partition", dir) < 0 ? -ENAMETOOLONG
										     : read_line(h, cur, &old);
	if (r < 0)
		goto out;
	was_valid = strcmp(old, "isolated") == 0;
	r = tree_dir_cpus(h, dir, "cpuset.cpus.exclusive", &cpus);
	if (r >= 0 && cpuset_empty(&cpus))
		r = tree_dir_cpus(h, dir, "cpuset.cpus", &cpus);
	if (r >= 0)
		r = tree_dir_cpus(h, root, "cpuset.cpus.effective", &root_eff);
	if (r < 0)
		goto out;
	if (strcmp(value, "isolated") == 0) {
		if (cpuset_empty(&cpus))
			reason = "cpuset.cpus and cpuset.cpus.exclusive are empty";
		else if (!cpuset_subset(&cpus, &root_eff) || cpuset_subset(&root_eff, &cpus))
			reason = "Invalid cpu list in cpuset.cpus.exclusive";
		if (util_path(cur, sizeof(cur), "%s", dir) < 0) {
			r = -ENAMETOOLONG;
			goto out;
		}
		while (!reason && parent_of(cur, sizeof(cur), cur) == 0 && strcmp(cur, root) != 0) {
			cpuset_zero(&anc);
			r = tree_dir_cpus(h, cur, "cpuset.cpus.exclusive", &anc);
			if (r < 0)
				goto out;
			if (!cpuset_subset(&cpus, &anc))
				reason = "Invalid cpu list in cpuset.cpus.exclusive";
		}
		state = reason ? util_sprintf("isolated invalid (%s)\n", reason) : strdup("isolated\n");
	} else
		state = strdup("member\n");
	if (was_valid)
		r = cpuset_andnot(&iso, &iso, &cpus);
	if (r >= 0 && !reason && strcmp(value, "isolated") == 0)
		r = cpuset_or(&iso, &iso, &cpus);
	if (r >= 0)
		r = rewrite_to(&rw[n++], dir, "cpuset.cpus.partition", state);
	state = NULL;
	if (r >= 0)
		r = rewrite_to(&rw[n++], root, "cpuset.cpus.isolated", list_line(&iso));
	if (r >= 0 && util_path(cur, sizeof(cur), "%s/cpuset.cpus.exclusive.effective", dir) == 0)
		r = util_path(rw[n].path, sizeof(rw[n].path), "%s", cur) < 0 ? -ENAMETOOLONG : 0;
	if (r >= 0) {
		struct cpuset none = CPUSET_INIT;

		rw[n].new = list_line(!reason && strcmp(value, "isolated") == 0 ? &cpus : &none);
		r = rw[n].new ? 0 : -ENOMEM;
		if (r >= 0) {
			rw[n].new_len = strlen(rw[n].new);
			n++;
		}
	}
	for (size_t i = 0; i < n && r >= 0; i++)
		r = rewrite_read(h, &rw[i]);
	if (r >= 0)
		r = tree_put_all(h, rw, n);
out:
	rewrites_done(rw, ARRAY_SIZE(rw));
	free(state);
	free(old);
	cpuset_free(&cpus);
	cpuset_free(&anc);
	cpuset_free(&root_eff);
	cpuset_free(&iso);
	return r;
}

/* cpuset.cpus.exclusive: refused (EINVAL) when it overlaps a sibling's. */
static int tree_exclusive_ok(const struct host *h, const char *dir, const struct cpuset *want)
{
	char parent[PATH_MAX], **entries = NULL;
	const char *self = base_name(dir);
	struct stat st;
	int fd, r;

	if (parent_of(parent, sizeof(parent), dir) < 0)
		return -EINVAL;
	fd = host_openat(h, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	r = list_fd(fd, &entries);
	for (size_t i = 0; r >= 0 && entries && entries[i]; i++) {
		char sib[PATH_MAX];
		struct cpuset x = CPUSET_INIT;

		if (strcmp(entries[i], self) == 0 || fstatat(fd, entries[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || util_path(sib, sizeof(sib), "%s/%s", parent, entries[i]) < 0)
			continue;
		if (tree_dir_cpus(h, sib, "cpuset.cpus.exclusive", &x) == 0 && cpuset_intersects(&x, want))
			r = -EINVAL;
		cpuset_free(&x);
	}
	strv_free(entries);
	close(fd);
	return r;
}

static int tree_file(struct host *h, const char *path, const char *value)
{
	const char *file = base_name(path);
	char dir[PATH_MAX], msg[128];
	struct rewrite rw = {0};
	struct cpuset want = CPUSET_INIT;
	int r;

	r = tree_writable(h, path);
	if (r < 0)
		return r;
	if (parent_of(dir, sizeof(dir), path) < 0)
		return -EINVAL;
	if (strcmp(file, "cpuset.cpus.partition") == 0)
		return tree_partition(h, dir, value);
	if (strcmp(file, "cgroup.subtree_control") == 0)
		rw.new = controllers_line(value);
	else if (strcmp(file, "cpuset.sched_load_balance") == 0 || strcmp(file, "cpuset.cpu_exclusive") == 0) {
		if (strcmp(value, "0") && strcmp(value, "1"))
			return -EINVAL;
		rw.new = util_sprintf("%s\n", value);
	} else {
		r = cpuset_parse_list(value, &want, msg, sizeof(msg));
		if (r >= 0 && strcmp(file, "cpuset.cpus.exclusive") == 0)
			r = tree_exclusive_ok(h, dir, &want);
		if (r >= 0)
			rw.new = list_line(&want);
		cpuset_free(&want);
		if (r < 0)
			return r;
	}
	if (!rw.new)
		return -ENOMEM;
	rw.new_len = strlen(rw.new);
	r = util_path(rw.path, sizeof(rw.path), "%s", path);
	if (r >= 0)
		r = rewrite_read(h, &rw);
	if (r >= 0)
		r = tree_put_all(h, &rw, 1);
	rewrites_done(&rw, 1);
	return r;
}

/* ---- Writing ---- */

int host_write_cgroup_target(struct host *h, const char *rel, const char *value)
{
	char path[PATH_MAX], target[PATH_MAX], why[128];
	bool dir;
	int r;

	r = rel_is_dir(rel, &dir);
	if (r == 0)
		r = rel_path(path, sizeof(path), rel);
	if (r == 0 && (cgroup_value_check(value, why, sizeof(why)) < 0 ||
		       (dir && strcmp(value, "absent") && strcmp(value, "present") && strcmp(value, "threaded"))))
		r = -EINVAL;
	if (r == 0)
		r = util_path(target, sizeof(target), CGROUP_TARGET_PREFIX "%s", rel);
	if (r == 0)
		r = host_fault(h, target);
	if (r < 0)
		return r;
	if (!h->is_tree) {
		if (dir)
			return kernel_dir(h, path, value);
		if (strcmp(base_name(path), "cgroup.subtree_control") == 0)
			return kernel_subtree_control(h, path, value);
		{
			char *line = util_sprintf("%s\n", value);

			r = line ? kernel_write_cg(h, path, line) : -ENOMEM;
			free(line);
			return r;
		}
	}
	if (!dir)
		return tree_file(h, path, value);
	if (strcmp(value, "absent") == 0)
		return tree_rmdir(h, path);
	{
		struct stat st;

		if (host_lstat(h, path, &st) == 0)
			return 0;
	}
	return tree_mkdir(h, path, strcmp(value, "threaded") == 0);
}

/* A list of tids (one a line) with tid added or removed, sorted. */
static char *tid_list(const char *old, pid_t tid, bool add)
{
	struct sbuf out = {0};
	bool done = !add;
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", (int)tid);
	for (const char *p = old; p && *p;) {
		size_t k = strcspn(p, "\n");
		long v = 0;
		char num[16];

		if (k && k < sizeof(num)) {
			memcpy(num, p, k);
			num[k] = '\0';
			(void)util_parse_long(num, 0, INT32_MAX, &v);
			if (!done && v > tid) {
				sbuf_adds(&out, buf);
				sbuf_addc(&out, '\n');
				done = true;
			}
			if (v != tid) {
				sbuf_adds(&out, num);
				sbuf_addc(&out, '\n');
			} else if (add)
				done = true;
		}
		p += k + (p[k] == '\n');
	}
	if (!done) {
		sbuf_adds(&out, buf);
		sbuf_addc(&out, '\n');
	}
	return out.len ? sbuf_take(&out) : strdup("");
}

/* The text of a task's cgroup file with the cpuset hierarchy's line's
 * path replaced by path. */
static char *cgroup_text_with(const char *old, enum cgroup_kind kind, const char *path)
{
	struct sbuf out = {0};

	for (const char *line = old; line && *line;) {
		size_t len = strcspn(line, "\n");
		char *one = strndup(line, len), *cur = NULL;

		if (!one)
			return NULL;
		if (cgroup_task_path(one, kind, &cur) == 0 && cur) {
			const char *c2 = strchr(strchr(one, ':') + 1, ':');
			sbuf_add(&out, one, (size_t)(c2 + 1 - one));
			sbuf_adds(&out, path);
			sbuf_addc(&out, '\n');
		} else {
			sbuf_add(&out, one, len);
			sbuf_addc(&out, '\n');
		}
		free(cur);
		free(one);
		line += len + (line[len] == '\n');
	}
	return sbuf_take(&out);
}

/* Move tid (of the tree) into cgroup directory to_dir: its line leaves the
 * old cgroup's member list and joins the new one's; its cgroup file (and
 * its process's, for a leader) shows the new path. */
static int tree_move(struct host *h, pid_t tgid, pid_t tid, const char *to_dir)
{
	char p[PATH_MAX], *text = NULL, *cur = NULL, from_dir[PATH_MAX], **pids = NULL, *newtext = NULL;
	bool v1 = dir_is_v1(h, to_dir);
	enum cgroup_kind kind;
	const char *mount;
	struct rewrite rw[4] = {0};
	size_t n = 0;
	int r, fd;

	r = host_cpuset_hierarchy(h, &kind, &mount);
	if (r < 0 || !mount)
		return r < 0 ? r : -ENOENT;
	/* Not given (a thread left in a cgroup being removed): the proc/
	 * directory whose task/ has tid. */
	fd = tgid ? -1 : host_openat(h, "proc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	r = tgid ? 0 : fd < 0 ? fd : list_fd(fd, &pids);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; r >= 0 && pids && pids[i] && !tgid; i++) {
		struct stat st;
		long v;

		if (util_parse_long(pids[i], 1, INT32_MAX, &v) == 0 &&
		    util_path(p, sizeof(p), "proc/%s/task/%d", pids[i], (int)tid) == 0 && host_lstat(h, p, &st) == 0)
			tgid = (pid_t)v;
	}
	strv_free(pids);
	if (r < 0)
		return r;
	if (!tgid)
		return -ESRCH;
	r = util_path(p, sizeof(p), "proc/%d/task/%d/cgroup", (int)tgid, (int)tid);
	if (r >= 0)
		r = host_read(h, p, &text, NULL);
	if (r >= 0)
		r = cgroup_task_path(text, kind, &cur);
	if (r >= 0 && !cur)
		r = -ENOENT;
	if (r >= 0)
		r = cgroup_file_path(from_dir, sizeof(from_dir), mount, cur, "x");
	if (r < 0)
		goto out;
	from_dir[strlen(from_dir) - 2] = '\0';
	if (strcmp(from_dir, to_dir) == 0)
		goto out;
	{
		const char *list = v1 ? "tasks" : "cgroup.threads";
		char *to_path = (char *)to_dir + strlen(mount);

		if (!*to_path)
			to_path = "/";
		/* the member lists */
		if (util_path(rw[n].path, sizeof(rw[n].path), "%s/%s", from_dir, list) < 0 ||
		    (r = rewrite_read(h, &rw[n])) < 0)
			goto out;
		rw[n].new = tid_list(rw[n].old, tid, false);
		n++;
		if (util_path(rw[n].path, sizeof(rw[n].path), "%s/%s", to_dir, list) < 0 ||
		    (r = rewrite_read(h, &rw[n])) < 0)
			goto out;
		rw[n].new = tid_list(rw[n].old, tid, true);
		n++;
		newtext = cgroup_text_with(text, kind, to_path);
		if (util_path(rw[n].path, sizeof(rw[n].path), "%s", p) < 0 || (r = rewrite_read(h, &rw[n])) < 0)
			goto out;
		rw[n].new = newtext ? strdup(newtext) : NULL;
		n++;
		if (tid == tgid) {
			if (util_path(rw[n].path, sizeof(rw[n].path), "proc/%d/cgroup", (int)tgid) < 0)
				goto out;
			if ((r = rewrite_read(h, &rw[n])) == 0) {
				rw[n].new = cgroup_text_with(rw[n].old, kind, to_path);
				n++;
			} else if (r == -ENOENT)
				r = 0;
			else
				goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!rw[i].new) {
				r = -ENOMEM;
				goto out;
			}
			rw[i].new_len = strlen(rw[i].new);
		}
		r = tree_put_all(h, rw, n);
	}
out:
	rewrites_done(rw, ARRAY_SIZE(rw));
	free(text);
	free(cur);
	free(newtext);
	return r;
}

int host_set_thread_cpuset(struct host *h, pid_t tgid, pid_t tid, const char *path)
{
	char dir[PATH_MAX], list[PATH_MAX], num[16];
	enum cgroup_kind kind;
	const char *mount;
	int r;

	if (tid <= 0 || tgid <= 0 || !cgroup_path_ok(path))
		return -EINVAL;
	r = host_fault_thread(h, tid, "cgroup");
	if (r < 0)
		return r;
	r = host_cpuset_hierarchy(h, &kind, &mount);
	if (r < 0)
		return r;
	if (!mount)
		return -ENOENT;
	r = strcmp(path, "/") == 0 ? util_path(dir, sizeof(dir), "%s", mount)
				   : util_path(dir, sizeof(dir), "%s%s", mount, path);
	if (r < 0)
		return r;
	if (h->is_tree)
		return tree_move(h, tgid, tid, dir);
	r = util_path(list, sizeof(list), "%s/%s", dir, kind == CGROUP_V1 ? "tasks" : "cgroup.threads");
	if (r < 0)
		return r;
	snprintf(num, sizeof(num), "%d\n", (int)tid);
	return kernel_write_cg(h, list, num);
}
