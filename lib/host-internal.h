/* Shared by the files of the host seam (host.c, host-write.c, host-tree.c,
 * host-fault.c); not part of the engine's API. */
#ifndef ISOLATED_HOST_INTERNAL_H
#define ISOLATED_HOST_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

#include "isolated/host.h"

/* The file of a cpumask knob, NULL for no such knob (host.c). */
const char *host_cpumask_path(enum host_cpumask which);

/* ---- Faults (host-fault.c) ----
 * The injected errno (negative) of a write to a target, 0 when none or on
 * the running kernel: a sysctl's name or another target of
 * host_set_faults; an IRQ; a cpumask knob; a thread's "affinity" or
 * "sched" (or any write to it). */
int host_fault(const struct host *h, const char *target);
int host_fault_irq(const struct host *h, unsigned irq);
int host_fault_cpumask(const struct host *h, enum host_cpumask which);
int host_fault_thread(const struct host *h, pid_t tid, const char *what);
/* Drop the faults set by host_set_faults (host_free does this). */
void host_faults_free(struct host *h);

/* ---- The tree emulator (host-tree.c) ----
 * The writes of host.h on a tree, their arguments checked by the caller
 * (host-write.c). path: the sysctl's or the cpumask knob's file. */
int host_tree_write_sysctl(struct host *h, const char *path, const char *value);
int host_tree_write_sysfs(struct host *h, const char *path, const char *value);
int host_tree_write_irq_affinity(struct host *h, unsigned irq, const struct cpuset *cpus);
int host_tree_write_cpumask(struct host *h, const char *path, const struct cpuset *cpus);
int host_tree_set_thread_affinity(struct host *h, pid_t tgid, pid_t tid, const struct cpuset *cpus);
int host_tree_set_thread_sched(struct host *h, pid_t tgid, pid_t tid, int policy, int prio);

/* The emulator's file rewrites, for its parts in other files (the cgroup
 * emulator in host-cgroup.c). One file of a tree write: its old content,
 * kept to undo, and the new. */
struct rewrite {
	char path[PATH_MAX];
	char *old, *new;
	size_t old_len, new_len;
};
/* Read the file a rewrite replaces. */
int rewrite_read(const struct host *h, struct rewrite *rw);
/* All files or none, each seen old or new whenever we are killed. */
int tree_put_all(const struct host *h, struct rewrite *rw, size_t n);
void rewrites_done(struct rewrite *rw, size_t n);
/* A tree file root may write: -EACCES without a write bit, -EINVAL for
 * anything but a regular file. */
int tree_writable(const struct host *h, const char *path);

#endif
