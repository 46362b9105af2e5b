/* The cpuset hierarchy of a snapshot (host_needs.cgroups): which kind of
 * hierarchy has the cpuset controller, where it is mounted, its cgroups
 * and the few files of each that a [partition]'s plan reads. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/cgroup.h"
#include "isolated/host.h"
#include "isolated/util.h"
#include "snapshot-internal.h"

/* Enough for any host's cgroups: a tree of more is refused, not walked. */
#define CGROUP_MAX_DIRS 65536
#define CGROUP_MAX_DEPTH 32

const char *const cgroup_read_files_v2[] = {
    "cgroup.type",
    "cgroup.controllers",
    "cgroup.subtree_control",
    "cpuset.cpus",
    "cpuset.cpus.exclusive",
    "cpuset.cpus.partition",
    "cpuset.cpus.effective",
    "cpuset.cpus.isolated",
    "cpuset.mems",
    "cpuset.mems.effective",
    NULL,
};

const char *const cgroup_read_files_v1[] = {
    "cpuset.cpus", "cpuset.mems", "cpuset.sched_load_balance", "cpuset.cpu_exclusive", NULL,
};

int cgroup_file_path(char *buf, size_t len, const char *mount, const char *path, const char *file)
{
	if (strcmp(path, "/") == 0)
		return util_path(buf, len, "%s/%s", mount, file);
	return util_path(buf, len, "%s%s/%s", mount, path, file);
}

/* Which hierarchy has the cpuset controller (host_cpuset_hierarchy). Not
 * copied into a dump: the walk of the hierarchy reads (and dumps) the
 * file that decided, so the dump decides the same. */
static int detect(struct walk *w, struct cgroup_tree *t)
{
	const char *mount;
	int r = host_cpuset_hierarchy(w->h, &t->kind, &mount);

	if (r >= 0 && mount && !(t->mount = strdup(mount)))
		r = walk_fail(w, -ENOMEM, "out of memory");
	return r;
}

/* The cgroup at path (in the hierarchy) and the ones below it, pre-order. */
static int walk_dir(struct walk *w, struct host_state *s, const char *path, unsigned depth)
{
	const char *const *files = s->cgroups.kind == CGROUP_V2 ? cgroup_read_files_v2 : cgroup_read_files_v1;
	char file[PATH_MAX], dir[PATH_MAX], **subs = NULL;
	int r;

	if (strv_len(s->cgroups.dirs) >= CGROUP_MAX_DIRS || depth > CGROUP_MAX_DEPTH)
		return walk_fail(w, -E2BIG, "%s: more than %d cgroups or %d levels", s->cgroups.mount, CGROUP_MAX_DIRS,
				 CGROUP_MAX_DEPTH);
	r = strv_push_dup(&s->cgroups.dirs, path);
	if (r < 0)
		return walk_fail(w, r, "out of memory");
	for (size_t i = 0; files[i]; i++) {
		r = cgroup_file_path(file, sizeof(file), s->cgroups.mount, path, files[i]);
		if (r >= 0)
			r = walk_add_file(w, s, file);
		if (r < 0)
			return w->err && w->err[0] ? r : walk_fail(w, r, "%s: %s", file, strerror(-r));
	}
	r = strcmp(path, "/") == 0 ? util_path(dir, sizeof(dir), "%s", s->cgroups.mount)
				   : util_path(dir, sizeof(dir), "%s%s", s->cgroups.mount, path);
	if (r >= 0)
		r = walk_list(w, dir, LIST_DIRS_MKDIR, dir, &subs);
	/* A cgroup removed while we walk is no cgroup. */
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return w->err && w->err[0] ? r : walk_fail(w, r, "%s: %s", dir, strerror(-r));
	for (size_t i = 0; subs && subs[i] && r >= 0; i++) {
		char sub[PATH_MAX];

		if (!cgroup_name_ok(subs[i], strlen(subs[i])))
			continue; /* no cgroup isolated could name */
		r = util_path(sub, sizeof(sub), "%s/%s", strcmp(path, "/") == 0 ? "" : path, subs[i]);
		if (r < 0)
			r = walk_fail(w, r, "%s/%s: name too long", dir, subs[i]);
		else
			r = walk_dir(w, s, sub, depth + 1);
	}
	strv_free(subs);
	return r;
}

int walk_cgroups(struct walk *w, struct host_state *s)
{
	char file[PATH_MAX];
	struct host_file *f;
	int r;

	r = detect(w, &s->cgroups);
	if (r < 0 || s->cgroups.kind == CGROUP_NONE)
		return r;
	r = walk_dir(w, s, "/", 0);
	if (r < 0)
		return r;
	if (s->cgroups.kind == CGROUP_V2 &&
	    cgroup_file_path(file, sizeof(file), s->cgroups.mount, "/", "cpuset.cpus.isolated") == 0)
		for (size_t i = 0; i < s->n_files; i++) {
			f = &s->files[i];
			if (strcmp(f->path, file) == 0)
				s->cgroups.isolated = f->value != NULL;
		}
	return 0;
}
