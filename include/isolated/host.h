/* The one seam to the kernel. Every read of kernel state goes through a
 * struct host: either the running kernel (root "/") or a tree laid out like /
 * in the kernel's own file formats. Paths are always relative ("proc/cmdline")
 * and opened with openat() against host->root_fd. What a snapshot of a host
 * holds is in isolated/snapshot.h; copying a host into a tree, dump.h. */
#ifndef ISOLATED_HOST_H
#define ISOLATED_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "isolated/cgroup.h"
#include "isolated/cpuset.h"
#include "isolated/path.h"

struct host_fault;

struct host {
	int root_fd;	 /* O_PATH|O_DIRECTORY fd of "/" or of the tree */
	bool is_tree;	 /* false: the running kernel */
	char *root_path; /* "/" or the tree directory as given */
	/* Tree backend only: writes to fail on purpose (host_options.faults,
	 * host_set_faults). */
	struct host_fault *faults;
	size_t n_faults;
	bool restart_units;	 /* host_options.restart_units */
	bool irqbalance_pending; /* written, not yet restarted */
	/* Why the last host_write_irqbalance failed, "" if it did not. */
	char irqbalance_err[512];
};

/* How a host is opened (host_open_ex). */
struct host_options {
	/* Faults to inject into a tree's writes (see host_set_faults); NULL:
	 * none. Ignored for the running kernel. The front doors take it from
	 * the environment variable HOST_FAULTS_ENV; the engine reads none. */
	const char *faults;
	/* A tree's irqbalance writes restart irqbalance.service too, as on the
	 * running kernel (a test's stand-in unit under a real systemd). The
	 * front doors set it when HOST_RESTART_ENV is "1". */
	bool restart_units;
};
#define HOST_FAULTS_ENV "ISOLATED_TREE_FAULTS"
#define HOST_RESTART_ENV "ISOLATED_TREE_RESTART_UNITS"
/* The options the front doors take from the environment (the two above). */
struct host_options host_options_from_env(void);

/* root NULL: the running kernel. Otherwise a tree directory. -errno;
 * -EINVAL when a tree's opt->faults is malformed. opt NULL: no options. */
int host_open_ex(const char *root, const struct host_options *opt, struct host **ret);
/* host_open_ex without options. */
int host_open(const char *root, struct host **ret);
void host_free(struct host *h);

/* A tree may be hostile (DESIGN.md, invariant 8): every path of a tree,
 * read or written, resolves inside it -- a symbolic link or mount point
 * that leads out of it is -EXDEV, and only regular files are read or
 * replaced (PATH_ENOTREG otherwise), never blocking on a FIFO. See
 * isolated/path.h; path_strerror() words these errnos. On the running
 * kernel paths resolve as the kernel resolves them. */
unsigned host_resolve(const struct host *h);
/* openat() of a path of the host, resolved as above. fd or -errno. */
int host_openat(const struct host *h, const char *path, int flags, mode_t mode);
/* The directory of path's last component (O_RDONLY|O_DIRECTORY) and that
 * component into name, for *at() calls that must not be redirected. */
int host_open_parent(const struct host *h, const char *path, char name[NAME_MAX + 1]);
/* lstat() of a path of the host (the last component not followed). */
int host_lstat(const struct host *h, const char *path, struct stat *ret);

/* Open a file of the host to read it, as host_read does (on a tree: a
 * regular file only, never blocking). The fd or -errno. */
int host_open_read(const struct host *h, const char *path);
/* Read a file of the host. -ENOENT when missing, -EFBIG when larger than
 * any kernel makes that file (host.c's read_limits: 4 KiB for a stat, 8 MiB
 * for a cmdline, ...). */
int host_read(const struct host *h, const char *path, char **ret, size_t *ret_len);
/* "kernel.timer_migration" -> "proc/sys/kernel/timer_migration". Rejects
 * names with "/", "..", or characters outside [a-z0-9_.-] (-EINVAL). */
int host_sysctl_path(const char *name, char *buf, size_t len);
/* The sysctl's value, stripped of the trailing newline. -ENOENT if the
 * kernel has no such sysctl. */
int host_read_sysctl(const struct host *h, const char *name, char **ret);
/* A sysfs attribute's value (action_sysfs_value of sys/PATH: the bracketed
 * choice, or the text trimmed). -EINVAL for a path [sysfs] may not set
 * (action_sysfs_path_check), -ENOENT if the kernel has none. */
int host_read_sysfs(const struct host *h, const char *path, char **ret);
/* The value of an irqbalance target in the host's defaults file now
 * (irqbalance_value). -ENOENT when the host has none, -EINVAL when the
 * file does not say. */
int host_read_irqbalance(const struct host *h, const char *target, char **ret);

/* Flags from /proc/PID/stat field 9 (include/linux/sched.h). */
#define HOST_PF_KTHREAD 0x00200000UL
#define HOST_PF_NO_SETAFFINITY 0x04000000UL

/* The fields of a task, file by file, as a snapshot reads them (struct
 * host_needs and host_snapshot_threads_ex in snapshot.h) and as
 * host_read_thread_ex reads them back. */
#define HOST_TASK_COMM 0x01u	/* proc/P/task/T/comm (else stat's comm) */
#define HOST_TASK_STAT 0x02u	/* proc/P/task/T/stat: ppid, flags, policy, priorities, starttime */
#define HOST_TASK_CPUS 0x04u	/* Cpus_allowed_list: proc/P/task/T/status, or sched_getaffinity() */
#define HOST_TASK_TGID 0x08u	/* status's Tgid: on a tree it wins over the directory's */
#define HOST_TASK_PCOMM 0x10u	/* proc/P/comm */
#define HOST_TASK_CMDLINE 0x20u /* proc/P/cmdline */
#define HOST_TASK_CGROUP 0x40u	/* proc/P/cgroup */
#define HOST_TASK_ALL 0x7fu
/* Not a file of the task: the process a "vhost-PID" thread serves, read
 * (its comm and cmdline) for a vm: term (host_thread_filter). */
#define HOST_TASK_OWNER 0x80u
/* Not in HOST_TASK_ALL: proc/P/task/T/cgroup, the thread's cgroup in the
 * cpuset hierarchy (a [partition]'s plan reads it; host_needs.cgroups). */
#define HOST_TASK_CPUSET 0x100u
/* A process's files, shared by its threads. */
#define HOST_TASK_PROCESS (HOST_TASK_PCOMM | HOST_TASK_CMDLINE | HOST_TASK_CGROUP)

/* ---- The write side of the seam. ----
 *
 * Every change isolated makes to a host goes through these (host-write.c).
 * On the running kernel they are the real writes and system calls; on a
 * tree (host-tree.c) they rewrite the files the kernel would show
 * afterwards, in the kernel's formats, so a snapshot of the tree reads back
 * what was written:
 *   sysctl          proc/sys/A/B (value + "\n"); a file with no write bit is
 *                   -EACCES, as /proc/sys does for read-only sysctls even
 *                   for root
 *   IRQ affinity    proc/irq/N/smp_affinity_list, and proc/irq/N/smp_affinity
 *                   (hex, keeping the width the file had); the effective
 *                   affinity is left as it is (the IRQ has not fired yet)
 *   cpumask knobs   proc/irq/default_smp_affinity,
 *                   sys/devices/virtual/workqueue/cpumask (hex, width kept)
 *   thread affinity Cpus_allowed and Cpus_allowed_list in
 *                   proc/TGID/task/TID/status (and proc/TID/status when
 *                   TID == TGID and that file exists); a PF_NO_SETAFFINITY
 *                   thread (stat flags) is -EINVAL as in the kernel; no
 *                   online CPU in the set is -EINVAL
 *   sysfs           sys/PATH (value + "\n"), or, where the file lists its
 *                   choices with the one in force in brackets ("always
 *                   madvise [never]"), the brackets moved to value (a value
 *                   not listed is -EINVAL, as the kernel says); no write bit
 *                   is -EACCES. On the kernel, a file that is not on sysfs
 *                   (a symlink out of /sys) is -EXDEV, and nothing written
 *   irqbalance      etc/default/irqbalance (or etc/sysconfig/irqbalance),
 *                   the same edit on both (irqbalance_write); the unit is
 *                   restarted on the kernel only (host_restart_irqbalance)
 *   thread sched    stat fields 18 (priority: -1-rt_priority for FIFO/RR,
 *                   20+nice otherwise), 40 (rt_priority), 41 (policy), in
 *                   proc/TGID/task/TID/stat (and proc/TID/stat likewise)
 * A thread that does not exist (no task directory) is -ESRCH on both
 * backends. On a tree, a set with no online CPU is -EINVAL for every kind
 * (for an IRQ the kernel would pick CPUs itself; a tree cannot). A tid or
 * tgid <= 0 is -EINVAL (0 would be the caller). All return 0 or -errno and
 * write nothing on failure. */

/* Faults (host_options.faults, from ISOLATED_TREE_FAULTS at the front
 * doors): "TARGET=ERRNO[ TARGET=ERRNO...]" (space or comma separated), for
 * example "irq/151=EIO tid/2205/sched=EPERM
 * kernel.numa_balancing=EACCES cpumask/workqueue=EINVAL". TARGET is
 * "irq/N", "tid/N" (any write to the thread), "tid/N/affinity",
 * "tid/N/sched", a sysctl name, "cpumask/irq_default",
 * "cpumask/workqueue" or "sysfs/PATH". ERRNO is a name (EIO) or a number. A write to a
 * faulted target fails with that errno and changes nothing. Only trees
 * honour faults; the kernel backend ignores them. -EINVAL on a malformed
 * spec (nothing set). */
int host_set_faults(struct host *h, const char *spec);

int host_write_sysctl(struct host *h, const char *name, const char *value);
/* PATH under /sys, as action_sysfs_path_check allows (else -EINVAL). */
int host_write_sysfs(struct host *h, const char *path, const char *value);
int host_write_irq_affinity(struct host *h, unsigned irq, const struct cpuset *cpus);
/* An irqbalance target ("irqbalance/banned_cpus", "irqbalance/banned_irqs")
 * set to value in the host's defaults file (irqbalance_write, irqbalance.h),
 * the same file edit on both backends. -ENOENT when the host has no
 * defaults file; host_irqbalance_error says why the file could not be
 * read or edited (NULL for an injected fault or a bad target). irqbalance
 * reads the file when it starts: host_restart_irqbalance, once the
 * transaction's writes are done, has it restarted. */
int host_write_irqbalance(struct host *h, const char *target, const char *value);

/* ---- cpuset cgroups ([partition], host-cgroup.c) ----
 * rel: a cgroup target's path below sys/fs/cgroup (cgroup_target_check in
 * cgroup.h). A file's value is written as one line (cgroup.subtree_control
 * as the "+ctl"/"-ctl" that make it value); a directory's "present" and
 * "threaded" create it (a threaded cgroup: "threaded" into its
 * cgroup.type), "absent" removes it, its remaining threads moved into its
 * parent first. On the running kernel only cgroupfs is written (else
 * -EXDEV). Reads give a file's line, a directory's state. */
int host_cpuset_hierarchy(const struct host *h, enum cgroup_kind *ret, const char **ret_mount);
int host_read_cgroup_target(const struct host *h, const char *rel, char **ret);
/* The CPUs the kernel keeps out of load balancing for isolated partitions
 * now: the v2 hierarchy's cpuset.cpus.isolated ("6-7", "" for none), its
 * newline stripped. -ENOENT when the cpuset controller is not on v2 or the
 * kernel has no such file (before Linux 6.7). */
int host_read_cpus_isolated(const struct host *h, char **ret);
int host_write_cgroup_target(struct host *h, const char *rel, const char *value);
/* A thread's cgroup in the cpuset hierarchy ("/a/b"): read (-ESRCH when
 * it is gone), and set by writing its tid into that cgroup's
 * cgroup.threads (v2) or tasks (v1). */
int host_read_thread_cpuset(const struct host *h, pid_t tgid, pid_t tid, char **ret);
int host_set_thread_cpuset(struct host *h, pid_t tgid, pid_t tid, const char *path);
const char *host_irqbalance_error(const struct host *h);
/* After host_write_irqbalance changed the file: on the running kernel (or a
 * tree opened with restart_units), irqbalance.service restarted through
 * systemd's D-Bus API (TryRestartUnit: only if it runs; nothing when
 * systemd does not run the host). 0 when nothing was pending; -errno with
 * host_irqbalance_error saying why. */
int host_restart_irqbalance(struct host *h);

enum host_cpumask {
	HOST_CPUMASK_IRQ_DEFAULT, /* proc/irq/default_smp_affinity */
	HOST_CPUMASK_WORKQUEUE,	  /* sys/devices/virtual/workqueue/cpumask */
};
int host_write_cpumask(struct host *h, enum host_cpumask which, const struct cpuset *cpus);
/* sched_setaffinity(tid). */
int host_set_thread_affinity(struct host *h, pid_t tgid, pid_t tid, const struct cpuset *cpus);
/* sched_setscheduler(tid, policy, prio): policy SCHED_OTHER/FIFO/RR/BATCH/IDLE
 * (0,1,2,3,5), prio 1..99 for FIFO/RR and 0 otherwise. The nice value is
 * left as it is. */
int host_set_thread_sched(struct host *h, pid_t tgid, pid_t tid, int policy, int prio);

/* ---- Single reads, for verification. ----
 * The cpusets passed in must be initialised (CPUSET_INIT); on success their
 * old contents are replaced, on failure they are untouched. ret_effective and
 * ret_has_effective may be NULL. */
int host_read_irq_affinity(const struct host *h, unsigned irq, struct cpuset *ret_affinity,
			   struct cpuset *ret_effective, bool *ret_has_effective);
int host_read_cpumask(const struct host *h, enum host_cpumask which, struct cpuset *ret);

struct thread_now {
	struct cpuset cpus; /* Cpus_allowed_list */
	int policy, rt_priority;
	unsigned long long starttime;
	unsigned long flags;
	char comm[64];
};
/* -ESRCH when the thread does not exist. ret->cpus is initialised by the
 * call (cpuset_free it afterwards). */
int host_read_thread(const struct host *h, pid_t tgid, pid_t tid, struct thread_now *ret);
/* The same, its status (ret->cpus) read only with HOST_TASK_CPUS in fields:
 * a scheduling change is read back from stat alone. */
int host_read_thread_ex(const struct host *h, pid_t tgid, pid_t tid, unsigned fields, struct thread_now *ret);
/* The boot id (proc/sys/kernel/random/boot_id), allocated; -ENOENT if the
 * host has none (a tree captured without it). */
int host_read_boot_id(const struct host *h, char **ret);

#endif
