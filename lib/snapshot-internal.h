/* Shared by the snapshot (snapshot.c, snapshot-threads.c) and the dump
 * (dump.c): the walk over a host that a snapshot reads through. Not part of
 * the engine's API. */
#ifndef ISOLATED_SNAPSHOT_INTERNAL_H
#define ISOLATED_SNAPSHOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/snapshot.h"
#include "isolated/util.h"

/* A snapshot walks the host through these helpers. When dst_fd >= 0 (a dump)
 * every file read is also copied to the same relative path under dst_fd, so a
 * snapshot of the dump reads exactly what the original snapshot read. */
struct walk {
	const struct host *h;
	int dst_fd;
	char *err;
	size_t errlen;
	pid_t self; /* left out of readings of the running kernel; 0 for a tree */
	/* Tasks' CPUs by sched_getaffinity() (walk_cpus_syscall), in a mask
	 * of ncpus CPUs. */
	bool cpus_syscall;
	unsigned ncpus;
	/* Whose line of a task's cgroup file HOST_TASK_CPUSET reads. */
	enum cgroup_kind cgroup_kind;
};

/* The message of a failure into w->err; returns r. */
int walk_fail(struct walk *w, int r, const char *fmt, ...) ISO_PRINTF(3, 4);
/* A file of the host, copied into the dump when dumping; the error of the
 * read without a message. */
int walk_read(struct walk *w, const char *path, char **ret, size_t *ret_len);
/* The same, a missing file *ret NULL; any other error with a message. */
int walk_read_opt(struct walk *w, const char *path, char **ret, size_t *ret_len);

enum list_kind {
	LIST_ALL,	 /* every entry; the dump creates nothing */
	LIST_DIRS_MKDIR, /* subdirectories only; the dump creates them empty */
	LIST_ALL_TOUCH,	 /* every entry; the dump creates them as empty files */
};

/* The entries of a host directory, sorted, mirrored into the dump as kind
 * says. */
int walk_list(struct walk *w, const char *path, enum list_kind kind, const char *dump_path, char ***ret);
/* A CPU list of file path; -errno with a message. */
int walk_parse_cpus(struct walk *w, const char *path, const char *text, struct cpuset *ret);

static inline void chomp(char *s, size_t *len)
{
	if (*len > 0 && s[*len - 1] == '\n')
		s[--*len] = '\0';
}

/* Read path into a new file of s (a missing file: value NULL), as the
 * snapshot's files are read (snapshot.c). -errno with a message. */
int walk_add_file(struct walk *w, struct host_state *s, const char *path);
/* The cpuset hierarchy into s->cgroups, its files into s->files
 * (snapshot-cgroup.c). -errno with a message. */
int walk_cgroups(struct walk *w, struct host_state *s);
void cgroup_tree_done(struct cgroup_tree *t);

/* Whether tasks' CPUs come from sched_getaffinity() (snapshot.c). */
void walk_cpus_syscall(struct walk *w, const struct host_state *s);
/* The snapshot n asks for, read through w (snapshot.c). */
int walk_snapshot(struct walk *w, const struct host_needs *n, struct host_state **ret);
/* Every task of the host, its fields as fields says, into s
 * (snapshot-threads.c). */
int walk_tasks(struct walk *w, unsigned fields, struct host_state *s);

#endif
