/* What a snapshot of a host holds, and the ways to take one: the whole
 * host (snapshot.c), only what a policy needs of it, or the threads the
 * daemon's event path asks for (snapshot-threads.c). Read through the seam
 * (isolated/host.h); the snapshot holds no fd and reads nothing later. */
#ifndef ISOLATED_SNAPSHOT_H
#define ISOLATED_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/cgroup.h"
#include "isolated/cpuset.h"
#include "isolated/host.h"

struct irq_info {
	unsigned irq;
	char *chip;		 /* "PCI-MSIX-0000:00:04.0", "IO-APIC", ... (may be "") */
	char *hwirq;		 /* "1-edge" (may be "") */
	char **actions;		 /* action names: strv, from /proc/irq/N/ dirs, else /proc/interrupts */
	char *nic;		 /* interface whose device owns this IRQ, or NULL */
	struct cpuset affinity;	 /* smp_affinity_list */
	struct cpuset effective; /* effective_affinity_list (empty if the kernel lacks it) */
	bool has_effective;
	bool has_affinity; /* false when smp_affinity_list could not be read */
};

struct task_info {
	/* HOST_TASK_* read (host_snapshot: HOST_TASK_ALL). A string of a
	 * field not read is NULL (but comm: stat's), a cpuset empty. */
	unsigned have;
	pid_t tid, tgid, ppid;
	char *comm;	 /* the thread's comm */
	char *proc_comm; /* comm of the thread group leader */
	char *cmdline;	 /* the process's argv joined with spaces; "" for kernel threads */
	char *cgroup;	 /* cgroup v2 path ("0::" line), else the first line's path */
	char *cpuset_cgroup; /* HOST_TASK_CPUSET: the thread's own, in the cpuset hierarchy */
	unsigned long flags;
	bool kthread;		      /* PF_KTHREAD */
	bool no_setaffinity;	      /* PF_NO_SETAFFINITY */
	struct cpuset cpus;	      /* Cpus_allowed_list */
	int policy;		      /* SCHED_OTHER=0, FIFO=1, RR=2, BATCH=3, IDLE=5, DEADLINE=6 */
	int rt_priority;	      /* 0 for non-RT */
	unsigned long long starttime; /* stat field 22: with tid, identifies the thread across tid reuse */
	/* Partial snapshots (host_snapshot_threads): read only so rules can be
	 * evaluated for the threads asked for (their process leader, a vhost
	 * worker's QEMU process, ancestors for a process scope). Plans never
	 * act on a context_only task. Always false in host_snapshot. Such a
	 * task is read from stat and its process's files only: cpus is empty
	 * and comm is stat's; an ancestor, from stat alone: proc_comm is its
	 * comm, cmdline and cgroup are "". */
	bool context_only;
};

struct sysctl_value {
	const char *name; /* static string from host_known_sysctls */
	char *value;	  /* NULL when the kernel has no such sysctl */
};

/* A file of the system a policy or a journal names beyond the known ones:
 * another sysctl ("proc/sys/vm/stat_interval"), a sysfs attribute. */
struct host_file {
	char *path;    /* relative to the host's root */
	char *value;   /* as read, without its trailing newline; NULL: absent */
	bool writable; /* it has a write bit (root cannot write /proc/sys or
			* sysfs files without one) */
};

/* What a snapshot reads (host_snapshot_ex). The system's files (CPUs,
 * command line, kernel version, sysctls, cpumask knobs, grub) are always
 * read: a dozen small files. */
#define HOST_IRQ_LIST 0x1u /* proc/interrupts: numbers, chip, hwirq, actions as printed */
#define HOST_IRQ_ALL 0x3u  /* and proc/irq/N/ (affinities, action names), sys/class/net (nic) */
struct host_needs {
	bool boot_id;	/* proc/sys/kernel/random/boot_id */
	unsigned irqs;	/* HOST_IRQ_*; 0: none */
	unsigned tasks; /* HOST_TASK_* of every task; 0: no proc/PID at all */
	/* The cpuset hierarchy (struct host_state.cgroups) and its files. */
	bool cgroups;
	/* More of the system's files (struct host_file), NULL-terminated;
	 * NULL: none. Owned by whoever filled it: needs_of_policy and
	 * needs_add_journal allocate it, needs_done frees it. */
	char **files;
};
/* Everything: what host_snapshot reads. */
extern const struct host_needs host_needs_all;

/* The cpuset hierarchy as host_needs.cgroups reads it: its kind, where it
 * is mounted, its cgroups; the files of each (cgroup_read_files) are in
 * host_state.files as "MOUNT/PATH/FILE" ("MOUNT/FILE" for the root). */
struct cgroup_tree {
	enum cgroup_kind kind;
	char *mount;   /* "sys/fs/cgroup", "sys/fs/cgroup/unified" (v2), "sys/fs/cgroup/cpuset" (v1); NULL: none */
	char **dirs;   /* "/" first, then every cgroup below it: "/machine.slice", ... sorted */
	bool isolated; /* v2: the kernel has isolated partitions (root's cpuset.cpus.isolated, 6.7) */
};
/* The files of a cgroup a snapshot reads, by kind (NULL-terminated). */
extern const char *const cgroup_read_files_v2[];
extern const char *const cgroup_read_files_v1[];
/* "MOUNT/PATH/FILE" of a cgroup's file in buf (PATH "/": "MOUNT/FILE").
 * -ENAMETOOLONG. */
int cgroup_file_path(char *buf, size_t len, const char *mount, const char *path, const char *file);

struct host_state {
	struct cpuset online;		  /* sys/devices/system/cpu/online */
	struct cpuset possible;		  /* sys/devices/system/cpu/possible (or online) */
	char *cmdline;			  /* proc/cmdline, stripped */
	char *boot_id;			  /* proc/sys/kernel/random/boot_id, stripped; NULL if absent */
	char *osrelease;		  /* proc/sys/kernel/osrelease */
	char *kversion;			  /* proc/sys/kernel/version */
	bool preempt_rt;		  /* sys/kernel/realtime == 1 or PREEMPT_RT in kversion */
	bool has_grub;			  /* etc/default/grub exists */
	char *grub_cmdline_linux;	  /* GRUB_CMDLINE_LINUX, unquoted; NULL if unset */
	char *grub_cmdline_linux_default; /* GRUB_CMDLINE_LINUX_DEFAULT, unquoted */
	struct sysctl_value *sysctls;	  /* one per host_known_sysctls entry */
	size_t n_sysctls;
	struct host_file *files; /* what needs.files asked, in no order */
	size_t n_files;
	/* proc/irq/default_smp_affinity and sys/devices/virtual/workqueue/cpumask
	 * (hex masks in the kernel), when present. */
	bool has_irq_default;
	struct cpuset irq_default;
	bool has_wq_cpumask;
	struct cpuset wq_cpumask;
	struct irq_info *irqs; /* sorted by irq number */
	size_t n_irqs;
	struct cgroup_tree cgroups; /* have.cgroups */
	struct task_info *tasks;    /* sorted by tgid, then tid */
	size_t n_tasks;
	/* What was read (host_snapshot: everything). */
	struct host_needs have;
	/* Private to the snapshot: a partial snapshot (host_snapshot_threads) whose
	 * fields but tasks are its base's, which host_state_free leaves alone. */
	bool borrowed;
};

/* The sysctls the modes touch or check, NULL-terminated. */
extern const char *const host_known_sysctls[];

/* Read everything above. Tasks that vanish while being read are skipped.
 * -errno with a message in err naming the file. */
int host_snapshot(const struct host *h, struct host_state **ret, char *err, size_t errlen);
/* Read what needs asks (HOST_TASK_STAT at least when tasks are read), and
 * nothing more: each file once. Tasks and IRQs come in the same order and
 * with the same values of what was read as in host_snapshot. On the
 * running kernel, when every possible CPU is online (CPUs 0..N-1), a
 * task's CPUs come from sched_getaffinity(), which then equals its
 * Cpus_allowed_list (the kernel gives the mask within the active CPUs),
 * instead of from its status file. */
int host_snapshot_ex(const struct host *h, const struct host_needs *needs, struct host_state **ret, char *err,
		     size_t errlen);
/* Read into s what needs asks that s lacks (s->have says what it has):
 * a snapshot of the system's files first, then, once a policy says what
 * it needs, its tasks and IRQs. Tasks (IRQs) that s has already, with
 * fewer fields than asked, are read again, all of them: add once. s is
 * unchanged on failure; a partial snapshot is -EINVAL. */
int host_snapshot_add(const struct host *h, struct host_state *s, const struct host_needs *needs, char *err,
		      size_t errlen);
/* s is a whole snapshot (not a partial one) holding all that needs asks. */
bool host_state_has(const struct host_state *s, const struct host_needs *needs);
void host_state_free(struct host_state *s);
/* Value of a sysctl in a snapshot (a known one, or one of its files),
 * NULL if absent or not read. */
const char *host_state_sysctl(const struct host_state *s, const char *name);
/* The file of s at path (one needs.files asked); NULL when not read.
 * ->value is NULL when the host has no such file. */
struct host_file *host_state_file(const struct host_state *s, const char *path);
const struct task_info *host_state_task(const struct host_state *s, pid_t tid);

/* One thread, as host_snapshot reads it. -ESRCH when it does not exist
 * (or exits while being read). ret is filled only on success; free its
 * strings with host_task_done(). */
int host_read_task(const struct host *h, pid_t tgid, pid_t tid, struct task_info *ret);
void host_task_done(struct task_info *t);

struct thread_ref {
	pid_t tgid, tid;
};

/* The daemon's event path: a snapshot that shares everything but tasks
 * with base (online CPUs, sysctls, IRQs ... are not read again and not
 * copied: the result borrows them, so base must outlive it;
 * host_state_free knows), and whose tasks are the threads in refs that
 * still exist, plus, marked context_only, what rules need to judge them:
 * each one's thread group leader, the QEMU process a vhost-PID worker
 * serves, and with ancestors the leaders' ppid chain up to pid 1 (for a
 * process scope). Duplicates in refs are fine. Threads that vanished are
 * skipped, not errors. Sorted like host_snapshot's tasks. Unlike
 * host_snapshot, the caller's own threads are read when asked for. A
 * tgid or tid <= 0 in refs is -EINVAL. Reads: per thread asked for, what
 * host_snapshot reads (stat, status or sched_getaffinity() as there, comm;
 * the process's comm, cmdline, cgroup once per process); the leader's
 * stat; a vhost owner's stat and process files; each ancestor's stat.
 * Each file once per call. */
int host_snapshot_threads(const struct host *h, const struct host_state *base, const struct thread_ref *refs, size_t n,
			  bool ancestors, struct host_state **ret, char *err, size_t errlen);

/* The event path, lean: which threads asked for are worth reading. */
enum host_want {
	HOST_WANT_NO,	/* leave it out: nothing would be done to it */
	HOST_WANT_YES,	/* read it in full (filter->fields) */
	HOST_WANT_MORE, /* undecided until the fields in *ret_more are read */
};
struct host_thread_filter {
	/* t holds the fields in t->have (its tgid is the one asked for until
	 * HOST_TASK_TGID); with HOST_TASK_OWNER in t->have, owner is the
	 * process a "vhost-PID" thread serves (tid = tgid = PID; comm, proc_comm
	 * and cmdline read), NULL when there is none. A MORE that asks for
	 * nothing new takes the thread. */
	enum host_want (*want)(void *userdata, const struct task_info *t, const struct task_info *owner,
			       unsigned *ret_more);
	void *userdata;
	/* Threads taken whatever want says (those the journal holds: a thread
	 * that no rule wants any more is restored); NULL: none. */
	bool (*keep)(void *keep_userdata, pid_t tid);
	void *keep_userdata;
	/* HOST_TASK_* of a thread taken (HOST_TASK_STAT always), and of the
	 * context read for it: a leader's or vhost owner's process files
	 * (fields & HOST_TASK_PROCESS). */
	unsigned fields;
};
/* host_snapshot_threads, reading of each thread asked for only what
 * filter->want needs to decide, cheapest file first (comm, stat, the
 * process's comm, cmdline, status, cgroup, the vhost owner's cmdline);
 * threads it leaves out are not in the result, and no context is read for
 * them. A thread no rule can match costs the files that tell so, often
 * its comm alone. Threads taken are read as filter->fields says, CPUs by
 * sched_getaffinity() as in host_snapshot_ex. filter NULL:
 * host_snapshot_threads. */
int host_snapshot_threads_ex(const struct host *h, const struct host_state *base, const struct thread_ref *refs,
			     size_t n, bool ancestors, const struct host_thread_filter *filter, struct host_state **ret,
			     char *err, size_t errlen);
/* The cgroup of process pid as a snapshot reads it (the v2 path, else the
 * first line's), for a task whose snapshot left it out. -ENOENT/-ESRCH
 * when the process is gone. */
int host_read_cgroup(const struct host *h, pid_t pid, char **ret);

#endif
