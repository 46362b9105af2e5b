/* The cpuset cgroups of a [partition]: how isolated names their files and
 * directories as targets, what their values are and how they compare, and
 * how the cpuset hierarchy is told apart (v2, v1, none). Pure functions on
 * strings: reads nothing, writes nothing. */
#ifndef ISOLATED_CGROUP_H
#define ISOLATED_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

enum cgroup_kind {
	CGROUP_NONE, /* no cpuset controller mounted */
	CGROUP_V1,   /* the cpuset controller on a v1 hierarchy (sys/fs/cgroup/cpuset) */
	CGROUP_V2,   /* on the unified hierarchy (sys/fs/cgroup, or sys/fs/cgroup/unified) */
};

/* "none", "v1", "v2". */
const char *cgroup_kind_name(enum cgroup_kind k);

/* Which hierarchy has the cpuset controller, from what a host shows:
 * root_ctl the text of sys/fs/cgroup/cgroup.controllers (NULL: absent),
 * v1 whether sys/fs/cgroup/cpuset/cpuset.cpus exists, unified_ctl the
 * text of sys/fs/cgroup/unified/cgroup.controllers. In that order: the
 * unified hierarchy at sys/fs/cgroup (systemd's default), a v1 cpuset
 * hierarchy (systemd's hybrid and legacy layouts), the unified one at
 * sys/fs/cgroup/unified holding cpuset. *ret_mount: the hierarchy's
 * directory relative to the root ("sys/fs/cgroup/cpuset"), static; NULL
 * for none. */
enum cgroup_kind cgroup_pick(const char *root_ctl, bool v1, const char *unified_ctl, const char **ret_mount);

/* Targets of kind "cgroup" are "cgroup/REL", REL relative to /sys/fs/cgroup:
 *   a file:      "cgroup/machine.slice/cpuset.cpus.exclusive",
 *                "cgroup/cpuset/cpuset.sched_load_balance" (v1 root),
 *                the file one of cgroup_files;
 *   a directory: "cgroup/machine.slice/.../isolated-rt", whose last name
 *                starts with "isolated" (isolated creates and removes no
 *                other directory): values "absent", "present" and, on v2,
 *                "threaded" (created, then made a threaded cgroup).
 * Names are of letters, digits and "_.:@-\" (systemd escapes '-' in unit
 * names as "\x2d"), not "." or "..". */
#define CGROUP_TARGET_PREFIX "cgroup/"
extern const char *const cgroup_files[];
/* 0 when target is one of the above (*ret_dir: a directory), else -EINVAL
 * with why (to follow "TARGET is not "). */
int cgroup_target_check(const char *target, bool *ret_dir, char *why, size_t whylen);
/* REL of "cgroup/REL"; NULL for a string of another kind. */
const char *cgroup_target_rel(const char *target);
/* The name of a cgroup isolated creates: "isolated", or "isolated-" /
 * "isolated." / "isolated_" and more of "[A-Za-z0-9_.-]", 64 at most. */
bool cgroup_own_name(const char *name);
/* One path component of a cgroup (see above). */
bool cgroup_name_ok(const char *name, size_t len);
/* A path within a hierarchy as /proc/PID/cgroup shows it: "/" or "/a/b",
 * each component cgroup_name_ok. */
bool cgroup_path_ok(const char *path);

/* Values of cgroup targets: one line of printable characters. CPU lists
 * compare as sets ("6,7" is "6-7"), the other values as sets of words
 * ("cpu cpuset" is "cpuset cpu": cgroup.subtree_control). */
int cgroup_value_check(const char *value, char *why, size_t whylen);
/* Is word (len bytes) one of the words of list (separated by spaces or
 * newlines: cgroup.controllers, cgroup.subtree_control)? Whole words:
 * "cpu" is not in "cpuset". */
bool cgroup_has_word(const char *list, const char *word, size_t len);
/* The order cgroup targets are written in (restored in reverse): a
 * directory before its files, its files before its subdirectories (so
 * an ancestor's cpuset.cpus.exclusive before its child's), the files of
 * one cgroup as cgroup_files lists them (cpuset.cpus.partition after the
 * CPUs it is made of). As strcmp. */
int cgroup_target_cmp(const char *a, const char *b);
bool cgroup_value_equal(const char *a, const char *b);

/* The path of the cpuset hierarchy in the text of /proc/PID/task/TID/cgroup:
 * the "N:...cpuset...:PATH" line (v1), the "0::PATH" line (v2). Allocated
 * into *ret; NULL when there is no such line. -ENOMEM. */
int cgroup_task_path(const char *text, enum cgroup_kind kind, char **ret);

/* A partition's state as cpuset.cpus.partition reads it (one line, a
 * trailing newline allowed): "member", "root", "isolated", or the latter
 * two followed by " invalid (REASON)" when the kernel cannot keep the
 * partition (Linux 6.1 on; 5.x wrote "root invalid" without a reason).
 * reason points into the text ("" with reason_len 0 when none is given).
 * -EINVAL for anything else; *ret untouched then. */
enum cgroup_partition_type {
	CGROUP_PARTITION_MEMBER,
	CGROUP_PARTITION_ROOT,
	CGROUP_PARTITION_ISOLATED,
};
struct cgroup_partition_state {
	enum cgroup_partition_type type;
	bool invalid;
	const char *reason;
	size_t reason_len;
};
int cgroup_partition_parse(const char *text, struct cgroup_partition_state *ret);

#endif
