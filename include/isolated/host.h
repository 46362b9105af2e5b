/* The one seam to the kernel. Every read of kernel state goes through a
 * struct host: either the running kernel (root "/") or a tree laid out like /
 * in the kernel's own file formats. Paths are always relative ("proc/cmdline")
 * and opened with openat() against host->root_fd. */
#ifndef ISOLATED_HOST_H
#define ISOLATED_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/cpuset.h"

struct host {
	int root_fd;	 /* O_PATH|O_DIRECTORY fd of "/" or of the tree */
	bool is_tree;	 /* false: the running kernel */
	char *root_path; /* "/" or the tree directory as given */
};

/* root NULL: the running kernel. Otherwise a tree directory. -errno. */
int host_open(const char *root, struct host **ret);
void host_free(struct host *h);

/* Read a file of the host. Limit 16 MiB. -ENOENT when missing. */
int host_read(const struct host *h, const char *path, char **ret, size_t *ret_len);
/* "kernel.timer_migration" -> "proc/sys/kernel/timer_migration". Rejects
 * names with "/", "..", or characters outside [a-z0-9_.-] (-EINVAL). */
int host_sysctl_path(const char *name, char *buf, size_t len);
/* The sysctl's value, stripped of the trailing newline. -ENOENT if the
 * kernel has no such sysctl. */
int host_read_sysctl(const struct host *h, const char *name, char **ret);

/* Flags from /proc/PID/stat field 9 (include/linux/sched.h). */
#define HOST_PF_KTHREAD 0x00200000UL
#define HOST_PF_NO_SETAFFINITY 0x04000000UL

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
	pid_t tid, tgid, ppid;
	char *comm;	 /* the thread's comm */
	char *proc_comm; /* comm of the thread group leader */
	char *cmdline;	 /* the process's argv joined with spaces; "" for kernel threads */
	char *cgroup;	 /* cgroup v2 path ("0::" line), else the first line's path */
	unsigned long flags;
	bool kthread;	     /* PF_KTHREAD */
	bool no_setaffinity; /* PF_NO_SETAFFINITY */
	struct cpuset cpus;  /* Cpus_allowed_list */
	int policy;	     /* SCHED_OTHER=0, FIFO=1, RR=2, BATCH=3, IDLE=5, DEADLINE=6 */
	int rt_priority;     /* 0 for non-RT */
};

struct sysctl_value {
	const char *name; /* static string from host_known_sysctls */
	char *value;	  /* NULL when the kernel has no such sysctl */
};

struct host_state {
	struct cpuset online;		  /* sys/devices/system/cpu/online */
	struct cpuset possible;		  /* sys/devices/system/cpu/possible (or online) */
	char *cmdline;			  /* proc/cmdline, stripped */
	char *osrelease;		  /* proc/sys/kernel/osrelease */
	char *kversion;			  /* proc/sys/kernel/version */
	bool preempt_rt;		  /* sys/kernel/realtime == 1 or PREEMPT_RT in kversion */
	bool has_grub;			  /* etc/default/grub exists */
	char *grub_cmdline_linux;	  /* GRUB_CMDLINE_LINUX, unquoted; NULL if unset */
	char *grub_cmdline_linux_default; /* GRUB_CMDLINE_LINUX_DEFAULT, unquoted */
	struct sysctl_value *sysctls;	  /* one per host_known_sysctls entry */
	size_t n_sysctls;
	struct irq_info *irqs; /* sorted by irq number */
	size_t n_irqs;
	struct task_info *tasks; /* sorted by tgid, then tid */
	size_t n_tasks;
};

/* The sysctls the modes touch or check, NULL-terminated. */
extern const char *const host_known_sysctls[];

/* Read everything above. Tasks that vanish while being read are skipped.
 * -errno with a message in err naming the file. */
int host_snapshot(const struct host *h, struct host_state **ret, char *err, size_t errlen);
void host_state_free(struct host_state *s);
/* Value of a known sysctl in a snapshot, NULL if absent. */
const char *host_state_sysctl(const struct host_state *s, const char *name);
const struct task_info *host_state_task(const struct host_state *s, pid_t tid);

/* Copy the files host_snapshot reads from h into dir (created if missing,
 * must be empty), so that host_open(dir) gives the same host_state. */
int host_dump(const struct host *h, const char *dir, char *err, size_t errlen);

#endif
