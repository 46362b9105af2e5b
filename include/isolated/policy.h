/* The policy language: INI files (inih) describing one mode, with site
 * variables from host.conf referenced as ${name}. See isolated.policy(5). */
#ifndef ISOLATED_POLICY_H
#define ISOLATED_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/cpuset.h"
#include "isolated/util.h"

/* What research method a policy implements; validation depends on it. */
enum mode_type {
	MODE_TYPE_VANILLA,
	MODE_TYPE_RT_ONLY,
	MODE_TYPE_DEDICATED,
	MODE_TYPE_OUTSOURCING,
};

/* Kernel features a mode requires ([mode] requires = ...). */
#define POLICY_REQ_PREEMPT_RT 0x1u /* PREEMPT_RT or threadirqs */
#define POLICY_REQ_RTNET 0x2u	   /* net.core.rtnet_prio (RT poll_list patch) */

enum sched_kind {
	SCHED_KIND_UNSET = 0,
	SCHED_KIND_OTHER,
	SCHED_KIND_FIFO,
	SCHED_KIND_RR,
};

struct sched_spec {
	enum sched_kind kind;
	int prio; /* 1..99 for FIFO/RR, 0 otherwise */
};

enum term_kind {
	TERM_ANY,     /* "*" */
	TERM_COMM,    /* comm:GLOB        the thread's comm */
	TERM_PCOMM,   /* pcomm:GLOB       the process's comm */
	TERM_CMDLINE, /* cmdline:GLOB     the process's command line */
	TERM_VM,      /* vm:NAME          threads of QEMU "-name NAME" / "guest=NAME", and its vhost-PID workers */
	TERM_VCPU,    /* vcpu:LIST        threads "CPU N/KVM" or "CPU N/TCG", N in LIST */
	TERM_VHOST,   /* vhost            threads "vhost-PID" */
	TERM_CGROUP,  /* cgroup:GLOB */
	TERM_KTHREAD, /* kthread:yes|no */
	TERM_PERCPU,  /* percpu:LIST      kernel threads "NAME/N" (ksoftirqd/6), N in LIST */
	TERM_NIC,     /* nic:IF           IRQs of that interface's device */
	TERM_ACTION,  /* action:GLOB      an IRQ action name */
	TERM_IRQ,     /* irq:LIST         IRQ numbers ("24-31,40") */
};

struct match_term {
	enum term_kind kind;
	bool negate;	   /* "!" prefix */
	char *arg;	   /* the glob, name (after variable expansion); NULL for ANY/VHOST */
	struct cpuset set; /* TERM_VCPU, TERM_PERCPU, TERM_IRQ: the numbers */
	bool yes;	   /* TERM_KTHREAD */
};

struct rule {
	char *name; /* section name after "irq " / "thread " */
	bool is_irq;
	unsigned line;		  /* line of the section header */
	struct match_term *terms; /* all must hold */
	size_t n_terms;
	char *match_text; /* expanded, as written */
	bool has_cpus;
	struct cpuset cpus;
	char *cpus_text; /* expanded, as written */
	unsigned cpus_line;
	struct sched_spec sched; /* thread rules: sched = */
	unsigned sched_line;
	struct sched_spec thread; /* irq rules: thread = (priority of irq/N-name) */
	unsigned thread_line;
};

struct sysctl_setting {
	char *name;
	char *value; /* expanded */
	unsigned line;
};

/* [sysfs]: one attribute (a key with cpu${rt_cpus} is one per CPU). */
struct sysfs_setting {
	char *path;  /* under /sys, expanded: "devices/system/cpu/cpu6/power/pm_qos_resume_latency_us" */
	char *value; /* expanded, trimmed */
	unsigned line;
};

/* Which part of the host a policy governs ([mode] scope = ..., or
 * isoctl --scope). Outside the host scope, IRQ rules and [cpumask] are not
 * applied (they are host-wide) and thread rules see only the threads in
 * scope; [sysctl] still applies. */
enum scope_kind {
	SCOPE_HOST = 0, /* "host": everything (the default) */
	SCOPE_PROCESS,	/* "process:PID": that process and its descendants */
	SCOPE_CGROUP,	/* "cgroup:PATH": tasks in that cgroup or below it */
};

struct scope {
	enum scope_kind kind;
	int pid;      /* SCOPE_PROCESS */
	char *cgroup; /* SCOPE_CGROUP: "/machine.slice", no trailing "/" */
};

struct var {
	char *name;
	char *value; /* fully expanded */
	char *file;  /* where it was defined; NULL for built-ins */
	unsigned line;
};

/* Site variables: host.conf plus the built-ins online_cpus and, unless set,
 * housekeeping_cpus = online_cpus minus rt_cpus. */
struct hostconf {
	char *file;
	struct var *vars;
	size_t n_vars;
};

/* [partition]: CPUs taken out of the scheduler's load balancing at run
 * time by a cpuset partition that holds the threads of the named [thread]
 * rules (isolated.policy(5)). */
struct partition_spec {
	bool set;
	unsigned line;
	struct cpuset cpus; /* cpus = */
	char **rules;	    /* threads = rule names, strv, each a [thread] rule */
	char *name;	    /* name = the cgroup isolated creates: "isolated-rt" */
	char *parent;	    /* parent = (v1) the cpuset it is made in: "/" */
};

/* [modprobe]: the options of one kernel module, for an "options MODULE
 * PARAMS" line of /etc/modprobe.d/isolated.conf (isoctl boot apply). */
struct modprobe_option {
	char *module;  /* as written: "kvm_intel" or "kvm-intel" */
	char **params; /* strv "key=value" or "key" */
	unsigned line;
};

struct policy {
	char *file; /* path as opened */
	char *name; /* [mode] name (defaults to the file's basename minus .conf) */
	char *summary;
	enum mode_type type;
	unsigned requires; /* POLICY_REQ_* */
	bool strict;	   /* "not movable" becomes an error */
	struct scope scope;
	unsigned scope_line;
	/* [cpumask]: irq_default = CPUS (proc/irq/default_smp_affinity, where
	 * new IRQs start), workqueue = CPUS (sys/devices/virtual/workqueue/cpumask,
	 * unbound workqueue workers). */
	bool has_irq_default;
	struct cpuset irq_default;
	bool has_wq_cpumask;
	struct cpuset wq_cpumask;
	/* [irqbalance]: banned = CPUS (IRQBALANCE_BANNED_CPULIST gets these
	 * besides the ones it bans already; the IRQs the [irq] rules put on
	 * them go into --banirq=), host-wide like [cpumask]. */
	bool has_irqbalance;
	struct cpuset irqbalance_banned;
	struct sysctl_setting *sysctls;
	size_t n_sysctls;
	struct sysfs_setting *sysfs; /* file order, CPUs of a key in order */
	size_t n_sysfs;
	char **cmdline_require; /* strv of "key=value" / "key", expanded */
	char **cmdline_recommend;
	unsigned cmdline_line;
	struct rule *irq_rules; /* file order */
	size_t n_irq_rules;
	struct rule *thread_rules;
	size_t n_thread_rules;
	struct partition_spec partition;
	/* Boot-time artifacts, host-wide: isoctl boot apply writes them, apply
	 * and plan never touch them. [systemd] cpu_affinity = CPUS: systemd's
	 * CPUAffinity= for PID 1 and every service it starts. */
	bool has_systemd_affinity;
	struct cpuset systemd_affinity;
	unsigned systemd_line; /* of cpu_affinity */
	/* [modprobe] MODULE = PARAMS, file order. */
	struct modprobe_option *modprobe;
	size_t n_modprobe;
	struct cpuset rt_cpus; /* from ${rt_cpus}, may be empty */
	struct cpuset housekeeping_cpus;
	const struct hostconf *hc; /* borrowed */
};

/* Load host.conf (INI, keys at top level or in [host]). A missing file is
 * -ENOENT with a diag line. online: the host's online CPUs. Every error is a
 * diag line; returns -EINVAL if there were any, *ret untouched. */
int hostconf_load(const char *path, const struct cpuset *online, struct hostconf **ret, struct diag *d);
/* A host.conf built from NAME=VALUE strings (tests, --set). */
int hostconf_from_strv(char *const *assignments, const struct cpuset *online, struct hostconf **ret, struct diag *d);
void hostconf_free(struct hostconf *hc);
const char *hostconf_get(const struct hostconf *hc, const char *name);

/* The i-th of the sysctls [sysctl] checks the values of, and of
 * kernel.watchdog_cpumask (a CPU list the shipped dedicated mode sets);
 * NULL past the last: what a snapshot dump copies besides the known ones,
 * so that a plan against it is the host's. */
const char *policy_dump_sysctl(size_t i);

/* Load and validate one policy file. All errors at once as
 * "FILE:LINE: message" diag lines; -EINVAL if any (nothing returned).
 * When running as root, files not owned by root or group/world-writable are
 * refused (-EPERM), as sudo does. */
int policy_load(const char *path, const struct hostconf *hc, const struct cpuset *online, struct policy **ret,
		struct diag *d);
void policy_free(struct policy *p);

/* The policy files (*.conf, not host.conf) of a directory, sorted; strv of
 * full paths. */
int policy_list_dir(const char *dir, char ***ret);
/* Find the file of mode NAME in dir: dir/NAME.conf. A mode name is a name:
 * [A-Za-z0-9_-]+, anything else -EINVAL. */
int policy_find(const char *dir, const char *name, char **ret_path);

const char *policy_mode_type_name(enum mode_type t);
/* "fifo:50", "rr:10", "other", "" for unset; into buf. */
const char *policy_sched_format(const struct sched_spec *s, char *buf, size_t len);
int policy_sched_parse(const char *s, struct sched_spec *ret, char *err, size_t errlen);
bool policy_sched_is_rt(const struct sched_spec *s);
/* "host", "process:PID", "cgroup:/PATH". -EINVAL with a message. ret is
 * overwritten only on success (free its cgroup with policy_scope_done). */
int policy_scope_parse(const char *s, struct scope *ret, char *err, size_t errlen);
/* "host", "process:1234", "cgroup:/machine.slice" into buf. */
const char *policy_scope_format(const struct scope *s, char *buf, size_t len);
void policy_scope_done(struct scope *s);
/* Replace p's scope with a copy of s (isoctl --scope). -ENOMEM. */
int policy_set_scope(struct policy *p, const struct scope *s);

#endif
