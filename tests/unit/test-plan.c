/* Unit tests of the planner (lib/plan.c): small hand-made host trees in a
 * scratch directory, a policy from tests/data/plan/ and a host.conf, then
 * host_snapshot -> policy_load -> plan_build, checking the exact actions,
 * skips, warnings and counts. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/snapshot.h"
#include "isolated/plan.h"
#include "isolated/policy.h"
#include "isolated/util.h"
#include "tree-files.h"

#define PLAN_DATA TEST_DATADIR "/plan"

/* Flags of /proc/PID/stat field 9. */
#define F_USER 0x00400100UL    /* PF_FORKNOEXEC | PF_RANDOMIZE */
#define F_KTHREAD 0x00208040UL /* PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC */
#define F_PERCPU 0x04208040UL  /* + PF_NO_SETAFFINITY: ksoftirqd/N, migration/N */
#define F_WQ 0x04208060UL      /* + PF_WQ_WORKER: kworker */

/* ---- files ---- */

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	assert_non_null(f);
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* ---- trees ---- */

/* A thread. The one with tid == pid also gives the process its comm,
 * cmdline (words separated by single spaces become argv) and cgroup. */
struct ttask {
	int pid, tid;
	const char *comm;
	unsigned long flags;
	const char *cpus;
	int policy, prio;
	const char *cmdline; /* leader only; NULL: empty (kernel thread) */
};

/* More about a thread, for the tests that need it (a separate table keeps
 * the ttask lines short). */
struct textra {
	int tid;
	int ppid;		      /* 0: 2 for kernel threads, else 1 */
	const char *cgroup;	      /* leader only; NULL: "/" */
	unsigned long long starttime; /* 0: 100 */
};

struct tirq {
	unsigned irq;
	const char *actions;  /* as /proc/interrupts prints them: "a, b" */
	const char *nic;      /* NULL: none */
	const char *affinity; /* NULL: no smp_affinity_list */
};

struct tsysctl {
	const char *path; /* "proc/sys/kernel/timer_migration" */
	const char *value;
};

struct tree {
	unsigned ncpus;
	const char *irq_default; /* proc/irq/default_smp_affinity (hex); NULL: absent */
	const char *wq_cpumask;	 /* sys/devices/virtual/workqueue/cpumask (hex); NULL: absent */
	const char *cmdline;	 /* proc/cmdline */
	const char *osrelease;	 /* NULL: "6.1.0-18-amd64" */
	bool realtime;		 /* sys/kernel/realtime = 1 */
	const struct tsysctl *sysctls;
	size_t n_sysctls;
	const struct ttask *tasks;
	size_t n_tasks;
	const struct tirq *irqs;
	size_t n_irqs;
	const struct textra *extras;
	size_t n_extras;
};

#define N(a) a, ARRAY_SIZE(a)

static void put_task(const char *root, const struct ttask *t, const struct tree *tr)
{
	static const struct textra none;
	const struct textra *x = &none;
	int ppid;
	char rel[256];

	for (size_t i = 0; i < tr->n_extras; i++)
		if (tr->extras[i].tid == t->tid)
			x = &tr->extras[i];
	ppid = x->ppid ? x->ppid : (t->flags & HOST_PF_KTHREAD) ? 2 : 1;

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", t->pid, t->tid);
	putf(root, rel,
	     "%d (%s) S %d %d %d 0 -1 %lu 10 0 0 0 1 2 0 0 %d 0 1 0 %llu 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 "
	     "0 0 0 0 17 %d %d %d 0 0 0 0 0 0 0 0 0 0 0\n",
	     t->tid, t->comm, ppid, t->pid, t->pid, t->flags, t->policy ? -1 - t->prio : 20,
	     x->starttime ? x->starttime : 100, 0, t->prio, t->policy);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", t->pid, t->tid);
	putf(root, rel,
	     "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
	     "Cpus_allowed:\tf\nCpus_allowed_list:\t%s\nMems_allowed_list:\t0\n",
	     t->comm, t->pid, t->tid, ppid, t->cpus);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", t->pid, t->tid);
	putf(root, rel, "%s\n", t->comm);
	if (t->tid != t->pid)
		return;

	snprintf(rel, sizeof(rel), "proc/%d/comm", t->pid);
	putf(root, rel, "%s\n", t->comm);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", t->pid);
	putf(root, rel, "0::%s\n", x->cgroup ? x->cgroup : "/");
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", t->pid);
	if (!t->cmdline) {
		put(root, rel, "");
	} else {
		size_t n = strlen(t->cmdline);
		char *argv = malloc(n + 1);

		assert_non_null(argv);
		for (size_t i = 0; i <= n; i++)
			argv[i] = t->cmdline[i] == ' ' ? '\0' : t->cmdline[i];
		put_len(root, rel, argv, n + 1);
		free(argv);
	}
}

static void build_tree(const char *root, const struct tree *t)
{
	char *s = NULL, rel[256];
	size_t len = 0;
	FILE *f;

	mkdirs(root, "proc");
	putf(root, "sys/devices/system/cpu/online", "0-%u\n", t->ncpus - 1);
	putf(root, "sys/devices/system/cpu/possible", "0-%u\n", t->ncpus - 1);
	putf(root, "proc/cmdline", "%s\n", t->cmdline ? t->cmdline : "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro");
	putf(root, "proc/sys/kernel/osrelease", "%s\n", t->osrelease ? t->osrelease : "6.1.0-18-amd64");
	put(root, "proc/sys/kernel/version",
	    t->realtime ? "#1 SMP PREEMPT_RT Debian 6.1.76-1 (2024-02-01)\n" : "#1 SMP PREEMPT_DYNAMIC Debian\n");
	if (t->realtime)
		put(root, "sys/kernel/realtime", "1\n");
	for (size_t i = 0; i < t->n_sysctls; i++)
		put(root, t->sysctls[i].path, t->sysctls[i].value);
	if (t->irq_default)
		putf(root, "proc/irq/default_smp_affinity", "%s\n", t->irq_default);
	if (t->wq_cpumask)
		putf(root, "sys/devices/virtual/workqueue/cpumask", "%s\n", t->wq_cpumask);

	f = open_memstream(&s, &len);
	assert_non_null(f);
	fprintf(f, "          ");
	for (unsigned c = 0; c < t->ncpus; c++)
		fprintf(f, " CPU%-7u", c);
	fprintf(f, "\n");
	for (size_t i = 0; i < t->n_irqs; i++) {
		const struct tirq *q = &t->irqs[i];

		fprintf(f, "%4u:", q->irq);
		for (unsigned c = 0; c < t->ncpus; c++)
			fprintf(f, " %10u", c);
		fprintf(f, "  %s  %u-edge      %s\n", q->nic ? "PCI-MSIX-0000:01:00.0" : "IO-APIC", q->irq, q->actions);
		if (q->affinity) {
			snprintf(rel, sizeof(rel), "proc/irq/%u/smp_affinity_list", q->irq);
			putf(root, rel, "%s\n", q->affinity);
		}
		if (q->nic) {
			snprintf(rel, sizeof(rel), "sys/class/net/%s/device/msi_irqs/%u", q->nic, q->irq);
			put(root, rel, "msix\n");
			snprintf(rel, sizeof(rel), "sys/class/net/%s/device/config", q->nic);
			put(root, rel, "");
		}
	}
	fprintf(f, "NMI:");
	for (unsigned c = 0; c < t->ncpus; c++)
		fprintf(f, " %10u", 0u);
	fprintf(f, "   Non-maskable interrupts\nERR:          0\n");
	fclose(f);
	put(root, "proc/interrupts", s);
	free(s);

	for (size_t i = 0; i < t->n_tasks; i++)
		put_task(root, &t->tasks[i], t);
}

/* ---- the pipeline ---- */

struct ctx {
	char dir[256];	     /* scratch: host.conf, the policy, root/ */
	char root[PATH_MAX]; /* the tree */
	struct host *h;
	struct host_state *s;
	struct hostconf *hc;
	struct policy *p;
	struct plan *pl;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(c->dir, sizeof(c->dir), "/tmp/test-plan.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	*state = c;
	return 0;
}

/* Free everything but the scratch directory (a test may plan twice). */
static void ctx_reset(struct ctx *c)
{
	plan_free(c->pl);
	policy_free(c->p);
	hostconf_free(c->hc);
	host_state_free(c->s);
	host_free(c->h);
	c->pl = NULL;
	c->p = NULL;
	c->hc = NULL;
	c->s = NULL;
	c->h = NULL;
	if (c->root[0])
		nftw(c->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	c->root[0] = '\0';
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	ctx_reset(c);
	nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_error("%s\n", d->lines[i]);
}

/* Build the tree, snapshot it, load host.conf (hostconf text) and
 * tests/data/plan/POLICY.conf, plan. */
static const struct plan *plan_of(struct ctx *c, const struct tree *t, const char *policy, const char *hostconf)
{
	char path[PATH_MAX + 64], src[PATH_MAX], err[512] = "", *text;
	struct diag d = {0};
	size_t len;
	int r;

	ctx_reset(c);
	snprintf(c->root, sizeof(c->root), "%s/root", c->dir);
	mkdirs(c->dir, "root");
	build_tree(c->root, t);
	assert_int_equal(host_open(c->root, &c->h), 0);
	r = host_snapshot(c->h, &c->s, err, sizeof(err));
	if (r < 0)
		fail_msg("host_snapshot: %d %s", r, err);

	put(c->dir, "host.conf", hostconf);
	snprintf(path, sizeof(path), "%s/host.conf", c->dir);
	r = hostconf_load(path, &c->s->online, &c->hc, &d);
	if (r < 0) {
		print_diag(&d);
		fail_msg("hostconf_load: %d", r);
	}

	snprintf(src, sizeof(src), "%s/%s.conf", PLAN_DATA, policy);
	text = slurp(src, &len);
	snprintf(path, sizeof(path), "%s.conf", policy);
	put_len(c->dir, path, text, len);
	free(text);
	snprintf(path, sizeof(path), "%s/%s.conf", c->dir, policy);
	r = policy_load(path, c->hc, &c->s->online, &c->p, &d);
	if (r < 0) {
		print_diag(&d);
		fail_msg("policy_load(%s): %d", policy, r);
	}
	assert_int_equal(d.n, 0);
	diag_free(&d);

	r = plan_build(c->p, c->s, &c->pl, err, sizeof(err));
	if (r < 0)
		fail_msg("plan_build: %d %s", r, err);
	assert_non_null(c->pl);
	assert_ptr_equal(c->pl->policy, c->p);
	return c->pl;
}

/* ---- expectations ---- */

struct xaction {
	enum action_kind kind;
	const char *target, *label, *from, *to, *rule;
	bool rt;
};

struct xskip {
	enum action_kind kind;
	const char *target, *label;
	const char *reason; /* a trailing "*" makes it a prefix */
	const char *rule;
};

static void dump_plan(const struct plan *pl)
{
	for (size_t i = 0; i < pl->n_actions; i++) {
		const struct action *a = &pl->actions[i];

		print_error("  action %s %s [%s] %s -> %s rule=%s rt=%d\n", plan_action_kind_name(a->kind), a->target,
			    a->label, a->from, a->to, a->rule, a->rt);
	}
	for (size_t i = 0; i < pl->n_skips; i++) {
		const struct plan_skip *k = &pl->skips[i];

		print_error("  skip %s %s [%s] %s rule=%s\n", plan_action_kind_name(k->kind), k->target, k->label,
			    k->reason, k->rule);
	}
	for (size_t i = 0; pl->warnings && pl->warnings[i]; i++)
		print_error("  warning %s\n", pl->warnings[i]);
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool reason_eq(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (!got)
		return false;
	if (n > 0 && want[n - 1] == '*')
		return strncmp(got, want, n - 1) == 0;
	return strcmp(got, want) == 0;
}

static void expect_plan(const struct plan *pl, const struct xaction *xa, size_t nxa, const struct xskip *xs, size_t nxs,
			const char *const *warnings, size_t unchanged)
{
	bool ok = pl->n_actions == nxa && pl->n_skips == nxs && pl->unchanged == unchanged &&
		  strv_len(pl->warnings) == strv_len((char *const *)warnings);
	size_t counts[_ACTION_KIND_MAX] = {0};

	for (size_t i = 0; ok && i < nxa; i++) {
		const struct action *a = &pl->actions[i];

		ok = a->kind == xa[i].kind && str_eq(a->target, xa[i].target) && str_eq(a->label, xa[i].label) &&
		     str_eq(a->from, xa[i].from) && str_eq(a->to, xa[i].to) && str_eq(a->rule, xa[i].rule) &&
		     a->rt == xa[i].rt;
		if (!ok)
			print_error("action %zu differs: want %s %s [%s] %s -> %s rule=%s rt=%d\n", i,
				    plan_action_kind_name(xa[i].kind), xa[i].target, xa[i].label, xa[i].from, xa[i].to,
				    xa[i].rule, xa[i].rt);
		counts[xa[i].kind]++;
	}
	for (size_t i = 0; ok && i < nxs; i++) {
		const struct plan_skip *k = &pl->skips[i];

		ok = k->kind == xs[i].kind && str_eq(k->target, xs[i].target) && str_eq(k->label, xs[i].label) &&
		     reason_eq(k->reason, xs[i].reason) && str_eq(k->rule, xs[i].rule);
		if (!ok)
			print_error("skip %zu differs: want %s %s [%s] %s rule=%s\n", i,
				    plan_action_kind_name(xs[i].kind), xs[i].target, xs[i].label, xs[i].reason,
				    xs[i].rule);
	}
	for (size_t i = 0; ok && warnings && warnings[i]; i++) {
		ok = str_eq(pl->warnings[i], warnings[i]);
		if (!ok)
			print_error("warning %zu differs: want %s\n", i, warnings[i]);
	}
	for (size_t k = 0; ok && k < _ACTION_KIND_MAX; k++)
		ok = pl->counts[k] == counts[k];
	if (!ok) {
		print_error("plan: %zu actions (want %zu), %zu skips (want %zu), %zu unchanged (want %zu)\n",
			    pl->n_actions, nxa, pl->n_skips, nxs, pl->unchanged, unchanged);
		dump_plan(pl);
		fail_msg("the plan differs");
	}
}

/* ---- a fingerprint of a tree: every path, its type, mode, size, mtime and
 * contents ---- */

static FILE *fp_out;

static int fp_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	fprintf(fp_out, "%s %d %o %lld %lld.%09ld\n", path, type, (unsigned)st->st_mode, (long long)st->st_size,
		(long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (type == FTW_F) {
		size_t len;
		char *buf = slurp(path, &len);

		fwrite(buf, 1, len, fp_out);
		fputc('\0', fp_out);
		free(buf);
	}
	return 0;
}

static char *fingerprint(const char *root)
{
	char *s = NULL;
	size_t len = 0;

	fp_out = open_memstream(&s, &len);
	assert_non_null(fp_out);
	assert_int_equal(nftw(root, fp_one, 16, FTW_PHYS), 0);
	fclose(fp_out);
	fp_out = NULL;
	return s;
}

/* ---- 1. sysctls ---- */

static const struct tsysctl sysctls_some[] = {
    {"proc/sys/kernel/timer_migration", "0"}, /* no newline: equal to "0" */
    {"proc/sys/kernel/numa_balancing", "0\n"},
    {"proc/sys/kernel/sched_rt_period_us", "1000000\n"},
    {"proc/sys/kernel/sched_rt_runtime_us", "950000\n"},
};

static void test_sysctls(void **state)
{
	struct ctx *c = *state;
	const struct tree t = {.ncpus = 2, .sysctls = N(sysctls_some)};
	/* policy order, not host_known_sysctls' order */
	const struct xaction xa[] = {
	    {ACTION_SYSCTL, "kernel.sched_rt_period_us", "kernel.sched_rt_period_us", "1000000", "500000", "sysctl",
	     false},
	    {ACTION_SYSCTL, "kernel.sched_rt_runtime_us", "kernel.sched_rt_runtime_us", "950000", "-1", "sysctl",
	     false},
	};
	const struct xskip xs[] = {
	    {ACTION_SYSCTL, "net.core.rtnet_prio", "net.core.rtnet_prio",
	     "the kernel has no net.core.rtnet_prio (it needs the RT poll_list patch)", "sysctl"},
	};
	const struct plan *pl = plan_of(c, &t, "sysctl", "");

	expect_plan(pl, N(xa), N(xs), NULL, 2);
	assert_int_equal(pl->counts[ACTION_SYSCTL], 2);
	assert_null(pl->warnings);
}

static const struct tsysctl sysctls_other[] = {
    /* numa_balancing absent; everything else already as wanted */
    {"proc/sys/kernel/timer_migration", "0\n"},
    {"proc/sys/kernel/sched_rt_period_us", "500000\n"},
    {"proc/sys/kernel/sched_rt_runtime_us", "-1\n"},
    {"proc/sys/net/core/rtnet_prio", "50\n"},
};

static void test_sysctls_absent(void **state)
{
	struct ctx *c = *state;
	const struct tree t = {.ncpus = 2, .sysctls = N(sysctls_other)};
	const struct xskip xs[] = {
	    {ACTION_SYSCTL, "kernel.numa_balancing", "kernel.numa_balancing", "the kernel has no kernel.numa_balancing",
	     "sysctl"},
	};
	const struct plan *pl = plan_of(c, &t, "sysctl", "");

	expect_plan(pl, NULL, 0, N(xs), NULL, 4);
}

/* ---- 2, 3, 7. a dedicated mode on a 4-CPU host, rt_cpus = 3 ---- */

#define QEMU_RTVM "/usr/bin/qemu-system-x86_64 -name guest=rtvm,debug-threads=on -S -m 4096"

static const struct tsysctl ded_sysctls[] = {
    {"proc/sys/kernel/timer_migration", "1\n"},
    {"proc/sys/kernel/sched_rt_runtime_us", "950000\n"},
    {"proc/sys/kernel/sched_rt_period_us", "1000000\n"},
    {"proc/sys/kernel/numa_balancing", "0\n"},
};

/* Out of order on purpose: the plan sorts IRQs by number. */
static const struct tirq ded_irqs[] = {
    {30, "eth1-TxRx-0", "eth1", "0-3"}, {9, "acpi", NULL, "0-3"},	  {40, "eth0", "eth0", NULL},
    {8, "rtc0", NULL, "0-2"},		{31, "eth1-TxRx-1", "eth1", "3"},
};

static const struct ttask ded_tasks[] = {
    {1, 1, "systemd", F_USER, "0-3", 0, 0, "/sbin/init splash"},
    {2, 2, "kthreadd", F_KTHREAD, "0-3", 0, 0, NULL},
    {20, 20, "ksoftirqd/3", F_PERCPU, "3", 0, 0, NULL},
    {21, 21, "ksoftirqd/1", F_PERCPU, "1", 0, 0, NULL},
    {22, 22, "kworker/u8:0-events_unbound", F_WQ, "0-3", 0, 0, NULL},
    {100, 100, "qemu-system-x86", F_USER, "0-3", 0, 0, QEMU_RTVM},
    {100, 101, "CPU 0/KVM", F_USER, "0-3", 0, 0, NULL},
    {100, 105, "vhost-100", F_USER, "0-3", 0, 0, NULL},
    {100, 130, "CPU 1/KVM", F_USER, "0-2", 0, 0, NULL},
    {120, 120, "sshd", F_USER, "0-2", 0, 0, "sshd: /usr/sbin/sshd -D"},
    {125, 125, "rtapp", F_USER, "0-3", 1, 20, "/usr/bin/rtapp"},
};

static const struct tree ded_tree = {.ncpus = 4, .sysctls = N(ded_sysctls), .tasks = N(ded_tasks), .irqs = N(ded_irqs)};

#define DED_HOSTCONF "rt_cpus = 3\nrt_nic = eth1\nrt_vm = rtvm\nrt_vcpus = 0\n"

static void test_dedicated(void **state)
{
	struct ctx *c = *state;
	const struct xaction xa[] = {
	    /* sysctls in policy order */
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    {ACTION_SYSCTL, "kernel.sched_rt_runtime_us", "kernel.sched_rt_runtime_us", "950000", "-1", "sysctl",
	     false},
	    /* IRQs by number */
	    {ACTION_IRQ_AFFINITY, "irq/9", "acpi", "0-3", "0-2", "other", false},
	    {ACTION_IRQ_AFFINITY, "irq/30", "eth1-TxRx-0 (eth1)", "0-3", "3", "rt-nic", true},
	    /* threads by tgid, then tid (105 and 130 of process 100 before 120) */
	    {ACTION_THREAD_AFFINITY, "tid/1", "systemd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/2", "kthreadd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/100", "qemu-system-x86", "0-3", "0-2", "qemu", false},
	    {ACTION_THREAD_AFFINITY, "tid/101", "CPU 0/KVM (qemu-system-x86 100)", "0-3", "3", "rt-vcpu", true},
	    {ACTION_THREAD_AFFINITY, "tid/105", "vhost-100 (qemu-system-x86 100)", "0-3", "0-2", "qemu", false},
	    {ACTION_THREAD_AFFINITY, "tid/125", "rtapp", "0-3", "0-2", "other", false},
	    /* the RT vCPU gets rt-vcpu's sched only, not qemu's "other" */
	    {ACTION_THREAD_SCHED, "tid/101", "CPU 0/KVM (qemu-system-x86 100)", "other", "fifo:51", "rt-vcpu", true},
	};
	const struct xskip xs[] = {
	    {ACTION_IRQ_AFFINITY, "irq/40", "eth0 (eth0)",
	     "no smp_affinity_list: the kernel does not let this IRQ be moved", "other"},
	    {ACTION_THREAD_AFFINITY, "tid/20", "ksoftirqd/3",
	     "not movable: per-CPU kernel thread (PF_NO_SETAFFINITY), stays on 3", "other"},
	    {ACTION_THREAD_AFFINITY, "tid/22", "kworker/u8:0-events_unbound",
	     "not movable: kernel workqueue thread (PF_NO_SETAFFINITY) on 0-3; its CPUs follow the workqueue cpumask",
	     "other"},
	};
	/* numa_balancing; irq 8, 31; ksoftirqd/1 (inside 0-2); qemu's sched;
	 * CPU 1/KVM's cpus and sched; vhost-100's sched; sshd's cpus */
	const size_t unchanged = 9;
	const struct plan *pl;
	char *before, *after;

	/* one tree and one policy, planned twice: the plan reads only the
	 * snapshot and writes nothing */
	pl = plan_of(c, &ded_tree, "dedicated", DED_HOSTCONF);
	expect_plan(pl, N(xa), N(xs), NULL, unchanged);
	assert_int_equal(pl->counts[ACTION_SYSCTL], 2);
	assert_int_equal(pl->counts[ACTION_IRQ_AFFINITY], 2);
	assert_int_equal(pl->counts[ACTION_THREAD_AFFINITY], 6);
	assert_int_equal(pl->counts[ACTION_THREAD_SCHED], 1);

	/* the numeric fields */
	assert_int_equal(pl->actions[2].irq, 9);
	assert_int_equal(pl->actions[3].irq, 30);
	assert_int_equal(pl->actions[7].tid, 101);
	assert_int_equal(pl->actions[7].tgid, 100);
	assert_int_equal(pl->actions[10].tid, 101);
	assert_int_equal(pl->actions[10].tgid, 100);
	assert_int_equal(pl->actions[4].tid, 1);
	assert_int_equal(pl->actions[4].tgid, 1);

	before = fingerprint(c->root);
	{
		struct plan *again = NULL;
		char err[128];

		assert_int_equal(plan_build(c->p, c->s, &again, err, sizeof(err)), 0);
		expect_plan(again, N(xa), N(xs), NULL, unchanged);
		plan_free(again);
	}
	after = fingerprint(c->root);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* A thread already at its rule's cpus and sched: nothing to do. */
static void test_dedicated_settled(void **state)
{
	struct ctx *c = *state;
	static const struct tsysctl sysctls[] = {
	    {"proc/sys/kernel/timer_migration", "0\n"},
	    {"proc/sys/kernel/sched_rt_runtime_us", "-1\n"},
	    {"proc/sys/kernel/numa_balancing", "0"},
	};
	static const struct tirq irqs[] = {{30, "eth1-TxRx-0", "eth1", "3"}, {9, "acpi", NULL, "0-2"}};
	static const struct ttask tasks[] = {
	    {1, 1, "systemd", F_USER, "0-2", 0, 0, "/sbin/init"},
	    {3, 3, "ksoftirqd/0", F_PERCPU, "0", 0, 0, NULL},
	    {100, 100, "qemu-system-x86", F_USER, "0-2", 0, 0, QEMU_RTVM},
	    {100, 101, "CPU 0/KVM", F_USER, "3", 1, 51, NULL},
	};
	const struct tree t = {.ncpus = 4, .sysctls = N(sysctls), .tasks = N(tasks), .irqs = N(irqs)};
	const struct plan *pl = plan_of(c, &t, "dedicated", DED_HOSTCONF);

	/* 3 sysctls, 2 IRQs, systemd, ksoftirqd/0, qemu cpus + sched, vCPU cpus + sched */
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 11);
}

/* ---- 4. IRQ rules and IRQ threads ---- */

static const struct tirq irq_irqs[] = {
    {45, "eth1-TxRx-0", "eth1", "0-3"},
    {46, "eth1-TxRx-1", "eth1", "3"},
    {9, "acpi", NULL, "0-2"},
    {10, "i8042", NULL, NULL},
};

static const struct ttask irq_tasks_rt[] = {
    {1, 1, "systemd", F_USER, "0-2", 0, 0, "/sbin/init"},
    {30, 30, "app", F_USER, "0-2", 0, 0, "/usr/bin/app --rt"},
    {50, 50, "irq/45-eth1-TxRx-0", F_KTHREAD, "0-3", 1, 50, NULL},
    {51, 51, "irq/46-eth1-TxRx-1", F_KTHREAD, "3", 1, 60, NULL},
    {52, 52, "irq/9-acpi", F_KTHREAD, "0-3", 1, 50, NULL},
    {53, 53, "irq/99-gone", F_KTHREAD, "0-3", 1, 50, NULL}, /* IRQ 99 is not in /proc/interrupts */
    {60, 60, "irq/abc", F_KTHREAD, "0-2", 0, 0, NULL},
};

#define IRQ_HOSTCONF "rt_cpus = 3\nrt_nic = eth1\n"

static void test_irq_rt(void **state)
{
	struct ctx *c = *state;
	const struct tree t = {.ncpus = 4, .realtime = true, .tasks = N(irq_tasks_rt), .irqs = N(irq_irqs)};
	const struct xaction xa[] = {
	    {ACTION_IRQ_AFFINITY, "irq/45", "eth1-TxRx-0 (eth1)", "0-3", "3", "rt-nic", true},
	    /* not an IRQ thread of this host: thread rules apply */
	    {ACTION_THREAD_AFFINITY, "tid/53", "irq/99-gone", "0-3", "0-2", "all", false},
	    /* sorted by tid although the IRQ thread's action was planned first */
	    {ACTION_THREAD_SCHED, "tid/30", "app", "other", "fifo:10", "app", true},
	    {ACTION_THREAD_SCHED, "tid/50", "irq/45-eth1-TxRx-0", "fifo:50", "fifo:60", "rt-nic", true},
	};
	const struct xskip xs[] = {
	    {ACTION_IRQ_AFFINITY, "irq/10", "i8042", "no smp_affinity_list: the kernel does not let this IRQ be moved",
	     "other"},
	};
	/* irq 46 cpus, irq/46's sched, irq 9 cpus, systemd, irq/abc */
	const struct plan *pl = plan_of(c, &t, "irq", IRQ_HOSTCONF);

	assert_true(c->s->preempt_rt);
	expect_plan(pl, N(xa), N(xs), NULL, 5);
	assert_int_equal(pl->actions[3].irq, 45);
	assert_int_equal(pl->actions[3].tid, 50);
	assert_int_equal(pl->actions[3].tgid, 50);
	/* no thread-rule action for any irq/N thread of an IRQ of this host,
	 * although [thread all] matches them all */
	for (size_t i = 0; i < pl->n_actions; i++)
		if (pl->actions[i].tid == 50 || pl->actions[i].tid == 51 || pl->actions[i].tid == 52)
			assert_string_equal(pl->actions[i].rule, "rt-nic");
}

static const struct ttask irq_tasks_plain[] = {
    {1, 1, "systemd", F_USER, "0-2", 0, 0, "/sbin/init"},
    {30, 30, "app", F_USER, "0-2", 1, 10, "/usr/bin/app --rt"},
};

static void test_irq_no_thread(void **state)
{
	struct ctx *c = *state;
	const struct xaction xa[] = {
	    {ACTION_IRQ_AFFINITY, "irq/45", "eth1-TxRx-0 (eth1)", "0-3", "3", "rt-nic", true},
	};
	const char *no_rt = "no IRQ thread: the kernel is not PREEMPT_RT and was not booted with threadirqs";
	const char *no_thread = "this IRQ has no irq/N thread";
	const struct xskip xs_plain[] = {
	    {ACTION_IRQ_AFFINITY, "irq/10", "i8042", "no smp_affinity_list: *", "other"},
	    {ACTION_THREAD_SCHED, "irq/45", "eth1-TxRx-0 (eth1)", no_rt, "rt-nic"},
	    {ACTION_THREAD_SCHED, "irq/46", "eth1-TxRx-1 (eth1)", no_rt, "rt-nic"},
	};
	const struct xskip xs_threaded[] = {
	    {ACTION_IRQ_AFFINITY, "irq/10", "i8042", "no smp_affinity_list: *", "other"},
	    {ACTION_THREAD_SCHED, "irq/45", "eth1-TxRx-0 (eth1)", no_thread, "rt-nic"},
	    {ACTION_THREAD_SCHED, "irq/46", "eth1-TxRx-1 (eth1)", no_thread, "rt-nic"},
	};
	struct tree t = {.ncpus = 4, .tasks = N(irq_tasks_plain), .irqs = N(irq_irqs)};
	const struct plan *pl;

	/* unchanged: irq 46 and 9 cpus, systemd's cpus, app's sched */

	/* neither PREEMPT_RT nor threadirqs ("x=threadirqs" is not the parameter) */
	t.cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 x=threadirqs";
	pl = plan_of(c, &t, "irq", IRQ_HOSTCONF);
	assert_false(c->s->preempt_rt);
	expect_plan(pl, N(xa), N(xs_plain), NULL, 4);

	/* threadirqs: the kernel could have the thread, this IRQ has none */
	t.cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 threadirqs quiet";
	pl = plan_of(c, &t, "irq", IRQ_HOSTCONF);
	expect_plan(pl, N(xa), N(xs_threaded), NULL, 4);

	/* PREEMPT_RT without the threads */
	t.cmdline = NULL;
	t.realtime = true;
	pl = plan_of(c, &t, "irq", IRQ_HOSTCONF);
	expect_plan(pl, N(xa), N(xs_threaded), NULL, 4);
}

/* ---- 5. rules that match nothing ---- */

static const struct ttask few_tasks[] = {
    {1, 1, "systemd", F_USER, "0-3", 0, 0, "/sbin/init"},
    {2, 2, "kthreadd", F_KTHREAD, "0-3", 0, 0, NULL},
};
static const struct tirq few_irqs[] = {{9, "acpi", NULL, "0-3"}};

static void test_unmatched(void **state)
{
	struct ctx *c = *state;
	const struct tree t = {.ncpus = 4, .tasks = N(few_tasks), .irqs = N(few_irqs)};
	const struct xskip xs[] = {
	    {ACTION_IRQ_AFFINITY, "[irq rt-nic]", "nic:eth9", "RT rule matches no IRQ on this host", "rt-nic"},
	    {ACTION_THREAD_AFFINITY, "[thread rt-vcpu]", "vm:rtvm vcpu:1", "RT rule matches no thread on this host",
	     "rt-vcpu"},
	    {ACTION_THREAD_AFFINITY, "[thread rt-cpus]", "comm:nothing-here", "RT rule matches no thread on this host",
	     "rt-cpus"},
	};
	const char *const warnings[] = {
	    "[irq nothing] matches nothing (match = irq:200)",
	    "[thread batch] matches nothing (match = comm:nobody !kthread:yes)",
	    NULL,
	};
	const struct xskip named[] = {
	    xs[0],
	    xs[1],
	    xs[2],
	    {ACTION_THREAD_AFFINITY, "[thread rt-process]", "pcomm:lighttpd", "RT rule matches no thread on this host",
	     "rt-process"},
	};
	const struct plan *pl = plan_of(c, &t, "unmatched", "rt_cpus = 3\nrt_nic = eth9\nrt_vm = rtvm\nrt_vcpus = 1\n");

	expect_plan(pl, NULL, 0, N(xs), warnings, 0);
	pl = plan_of(c, &t, "unmatched",
		     "rt_cpus = 3\nrt_nic = eth9\nrt_vm = rtvm\nrt_vcpus = 1\nrt_process = lighttpd\n");
	expect_plan(pl, NULL, 0, N(named), warnings, 0);
}

/* ---- 6. kernel requirements ---- */

static void test_requirements(void **state)
{
	struct ctx *c = *state;
	static const struct tsysctl rtnet[] = {{"proc/sys/net/core/rtnet_prio", "0\n"}};
	const char *const want_rt[] = {
	    "mode requires-rt wants a PREEMPT_RT kernel (or threadirqs on the command line) for IRQ thread "
	    "priorities; this kernel is 6.1.0-18-amd64",
	    NULL,
	};
	const char *const want_rtnet[] = {
	    "mode outsourcing needs the RT poll_list kernel patch (net.core.rtnet_prio); this kernel does not have it",
	    NULL,
	};
	struct tree t = {.ncpus = 4, .tasks = N(few_tasks), .irqs = N(few_irqs)};
	const struct plan *pl;

	pl = plan_of(c, &t, "requires-rt", "rt_cpus = 3\n");
	expect_plan(pl, NULL, 0, NULL, 0, want_rt, 0);
	assert_non_null(strstr(pl->warnings[0], "PREEMPT_RT"));

	t.cmdline = "root=/dev/sda1 threadirqs";
	pl = plan_of(c, &t, "requires-rt", "rt_cpus = 3\n");
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 0);

	t.cmdline = NULL;
	t.realtime = true;
	t.osrelease = "6.1.0-18-rt-amd64";
	pl = plan_of(c, &t, "requires-rt", "rt_cpus = 3\n");
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 0);

	/* outsourcing needs rtnet_prio even without requires = rtnet */
	t.realtime = false;
	t.osrelease = NULL;
	pl = plan_of(c, &t, "outsourcing", "rt_cpus = 3\nrtnet_prio = 50\n");
	expect_plan(pl, NULL, 0, NULL, 0, want_rtnet, 0);
	assert_non_null(strstr(pl->warnings[0], "rtnet_prio"));

	t.sysctls = rtnet;
	t.n_sysctls = ARRAY_SIZE(rtnet);
	pl = plan_of(c, &t, "outsourcing", "rt_cpus = 3\nrtnet_prio = 50\n");
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 0);
}

/* ---- 9. [cpumask] ---- */

static const struct tsysctl tm_on[] = {{"proc/sys/kernel/timer_migration", "1\n"}};

static void test_cpumask(void **state)
{
	struct ctx *c = *state;
	const struct xaction xa[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    /* right after the sysctls, cpu lists both ways */
	    {ACTION_CPUMASK, "cpumask/irq_default", "default IRQ affinity", "0-3", "0-2", "cpumask", false},
	    {ACTION_CPUMASK, "cpumask/workqueue", "workqueue cpumask", "0-3", "0-2", "cpumask", false},
	    {ACTION_IRQ_AFFINITY, "irq/9", "acpi", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/1", "systemd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/2", "kthreadd", "0-3", "0-2", "other", false},
	};
	const struct xaction xa_settled[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    {ACTION_CPUMASK, "cpumask/workqueue", "workqueue cpumask", "1-3", "0-2", "cpumask", false},
	    {ACTION_IRQ_AFFINITY, "irq/9", "acpi", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/1", "systemd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/2", "kthreadd", "0-3", "0-2", "other", false},
	};
	const struct xaction xa_absent[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    {ACTION_IRQ_AFFINITY, "irq/9", "acpi", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/1", "systemd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/2", "kthreadd", "0-3", "0-2", "other", false},
	};
	const struct xskip xs_absent[] = {
	    {ACTION_CPUMASK, "cpumask/irq_default", "default IRQ affinity",
	     "the kernel has no /proc/irq/default_smp_affinity", "cpumask"},
	    {ACTION_CPUMASK, "cpumask/workqueue", "workqueue cpumask",
	     "no /sys/devices/virtual/workqueue/cpumask (kernel without unbound workqueue cpumask)", "cpumask"},
	};
	struct tree t = {.ncpus = 4, .sysctls = N(tm_on), .tasks = N(few_tasks), .irqs = N(few_irqs)};
	const struct plan *pl;

	t.irq_default = "f";
	t.wq_cpumask = "0000000f";
	pl = plan_of(c, &t, "cpumask", "rt_cpus = 3\n");
	expect_plan(pl, N(xa), NULL, 0, NULL, 0);
	assert_int_equal(pl->counts[ACTION_CPUMASK], 2);
	assert_int_equal(pl->actions[1].tid, 0);
	assert_int_equal(pl->actions[1].starttime, 0);

	/* the default IRQ affinity already right: unchanged, not an action */
	t.irq_default = "7";
	t.wq_cpumask = "e";
	pl = plan_of(c, &t, "cpumask", "rt_cpus = 3\n");
	expect_plan(pl, N(xa_settled), NULL, 0, NULL, 1);

	/* a kernel without the files: skips that say which file */
	t.irq_default = NULL;
	t.wq_cpumask = NULL;
	pl = plan_of(c, &t, "cpumask", "rt_cpus = 3\n");
	expect_plan(pl, N(xa_absent), N(xs_absent), NULL, 0);
}

/* ---- 10. scope ---- */

/* systemd (1) and kthreadd (2) are their own parents here: the walk must
 * stop there. 305 is a great-grandchild of 300 with a smaller pid (pids
 * wrapped), 350's parent is not in the snapshot. */
static const struct ttask scope_tasks[] = {
    {1, 1, "systemd", F_USER, "0-3", 0, 0, "/sbin/init"},
    {2, 2, "kthreadd", F_KTHREAD, "0-3", 0, 0, NULL},
    {20, 20, "ksoftirqd/0", F_PERCPU, "0", 0, 0, NULL},
    {300, 300, "parent", F_USER, "0-3", 0, 0, "/usr/bin/parent"},
    {300, 301, "parent-worker", F_USER, "0-3", 0, 0, NULL},
    {305, 305, "great-grandchild", F_USER, "0-3", 0, 0, "/usr/bin/ggc"},
    {310, 310, "child", F_USER, "0-3", 0, 0, "/usr/bin/child"},
    {320, 320, "grandchild", F_USER, "0-3", 0, 0, "/usr/bin/grandchild"},
    {320, 321, "gc-worker", F_USER, "0-2", 0, 0, NULL},
    {330, 330, "unrelated", F_USER, "0-3", 0, 0, "/usr/bin/unrelated"},
    {340, 340, "unrelated-kid", F_USER, "0-3", 0, 0, "/usr/bin/kid"},
    {350, 350, "orphan", F_USER, "0-3", 0, 0, "/usr/bin/orphan"},
};

static const struct textra scope_family[] = {
    {300, 1, NULL, 0},	 {301, 1, NULL, 0}, {310, 300, NULL, 0}, {320, 310, NULL, 0},  {321, 310, NULL, 0},
    {305, 320, NULL, 0}, {330, 1, NULL, 0}, {340, 330, NULL, 0}, {350, 9999, NULL, 0},
};

static const struct tree scope_tree = {.ncpus = 4,
				       .irq_default = "f",
				       .sysctls = N(tm_on),
				       .tasks = N(scope_tasks),
				       .irqs = N(few_irqs),
				       .extras = N(scope_family)};

/* No action or skip of the plan names one of these threads. */
static void expect_untouched(const struct plan *pl, const int *tids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char target[32];

		snprintf(target, sizeof(target), "tid/%d", tids[i]);
		for (size_t k = 0; k < pl->n_actions; k++)
			if (strcmp(pl->actions[k].target, target) == 0 || pl->actions[k].tgid == tids[i])
				fail_msg("%s is out of scope but has an action", target);
		for (size_t k = 0; k < pl->n_skips; k++)
			if (strcmp(pl->skips[k].target, target) == 0)
				fail_msg("%s is out of scope but has a skip", target);
	}
}

static void test_scope_process(void **state)
{
	struct ctx *c = *state;
	const struct xaction xa[] = {
	    /* sysctls apply in any scope */
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    /* 300, its thread, its child, and its grandchild's child */
	    {ACTION_THREAD_AFFINITY, "tid/300", "parent", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/301", "parent-worker (parent 300)", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/305", "great-grandchild", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/310", "child", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_SCHED, "tid/320", "grandchild", "other", "fifo:10", "rt-app", true},
	};
	const struct xskip xs[] = {
	    {ACTION_THREAD_AFFINITY, "[thread rt-missing]", "comm:nothing-here",
	     "RT rule matches no thread in scope process:300", "rt-missing"},
	};
	const char *const warnings[] = {
	    "scope process:300: IRQ rules, [cpumask] and [irqbalance] are host-wide and are not applied",
	    "[thread idle] matches nothing in scope process:300 (match = comm:nobody)",
	    NULL,
	};
	const struct xaction xa_child[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    {ACTION_THREAD_AFFINITY, "tid/305", "great-grandchild", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/310", "child", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_SCHED, "tid/320", "grandchild", "other", "fifo:10", "rt-app", true},
	};
	const struct xskip xs_child[] = {
	    {ACTION_THREAD_AFFINITY, "[thread rt-missing]", "comm:nothing-here",
	     "RT rule matches no thread in scope process:310", "rt-missing"},
	};
	const char *const warnings_child[] = {
	    "scope process:310: IRQ rules, [cpumask] and [irqbalance] are host-wide and are not applied",
	    "[thread idle] matches nothing in scope process:310 (match = comm:nobody)",
	    NULL,
	};
	static const int outside[] = {1, 2, 20, 330, 340, 350};
	static const int outside_child[] = {1, 2, 20, 300, 301, 330, 340, 350};
	struct plan *pl, *sentinel = (struct plan *)&c;
	struct scope sc = {SCOPE_PROCESS, 310, NULL};
	char err[128] = "";

	pl = (struct plan *)plan_of(c, &scope_tree, "scope", "rt_cpus = 3\nscope = process:300\n");
	assert_int_equal(c->p->scope.kind, SCOPE_PROCESS);
	/* gc-worker (321) is in scope and already on 0-2 */
	expect_plan(pl, N(xa), N(xs), warnings, 1);
	expect_untouched(pl, N(outside));

	/* isoctl --scope: the same policy, another process; its parent is out */
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), 0);
	expect_plan(pl, N(xa_child), N(xs_child), warnings_child, 1);
	expect_untouched(pl, N(outside_child));
	plan_free(pl);

	/* a process that is not in the snapshot, or a thread that is not a
	 * process: an error, no plan */
	sc.pid = 999;
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	pl = sentinel;
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "scope process:999: no such process");
	assert_ptr_equal(pl, sentinel);
	sc.pid = 301;
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "scope process:301: no such process");
	assert_ptr_equal(pl, sentinel);

	/* a process the snapshot leaves out (isoctl bench scopes the modes to
	 * itself, and isoctl does not read itself): its children are in scope */
	sc.pid = 9999;
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), 0);
	{
		static const int outside_9999[] = {1, 2, 20, 300, 301, 305, 310, 320, 321, 330, 340};
		bool has_350 = false;

		expect_untouched(pl, N(outside_9999));
		for (size_t k = 0; k < pl->n_actions; k++)
			has_350 |= strcmp(pl->actions[k].target, "tid/350") == 0;
		assert_true(has_350);
	}
	plan_free(pl);

	/* back to the host: [cpumask] and IRQ rules apply again, no warning */
	sc.kind = SCOPE_HOST;
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), 0);
	for (size_t i = 0; pl->warnings && pl->warnings[i]; i++)
		assert_null(strstr(pl->warnings[i], "scope"));
	assert_int_equal(pl->counts[ACTION_CPUMASK], 1);
	assert_int_equal(pl->counts[ACTION_IRQ_AFFINITY], 1);
	assert_int_equal(pl->actions[1].kind, ACTION_CPUMASK);
	plan_free(pl);
}

static const struct ttask cgroup_tasks[] = {
    {1, 1, "systemd", F_USER, "0-3", 0, 0, "/sbin/init"},
    {2, 2, "kthreadd", F_KTHREAD, "0-3", 0, 0, NULL},
    {400, 400, "qemu-system-x86", F_USER, "0-3", 0, 0, QEMU_RTVM},
    {400, 401, "CPU 0/KVM", F_USER, "0-3", 0, 0, NULL},
    {410, 410, "machined", F_USER, "0-3", 0, 0, "/usr/lib/systemd/systemd-machined"},
    {420, 420, "impostor", F_USER, "0-3", 0, 0, "/usr/bin/impostor"},
    {430, 430, "sshd", F_USER, "0-3", 0, 0, "sshd: /usr/sbin/sshd -D"},
};

static const struct textra cgroup_paths[] = {
    {1, 0, "/init.scope", 0},
    {400, 0, "/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope/libvirt/emulator", 0},
    {410, 0, "/machine.slice", 0},
    /* shares the prefix, but is not below /machine.slice */
    {420, 0, "/machine.slice-other/x.scope", 0},
    {430, 0, "/system.slice/ssh.service", 0},
};

static void test_scope_cgroup(void **state)
{
	struct ctx *c = *state;
	const struct tree t = {
	    .ncpus = 4, .sysctls = N(tm_on), .tasks = N(cgroup_tasks), .irqs = N(few_irqs), .extras = N(cgroup_paths)};
	const struct xaction xa[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "1", "0", "sysctl", false},
	    {ACTION_THREAD_AFFINITY, "tid/400", "qemu-system-x86", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/401", "CPU 0/KVM (qemu-system-x86 400)", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/410", "machined", "0-3", "0-2", "other", false},
	};
	const struct xskip xs[] = {
	    {ACTION_THREAD_AFFINITY, "[thread rt-app]", "comm:grandchild",
	     "RT rule matches no thread in scope cgroup:/machine.slice", "rt-app"},
	    {ACTION_THREAD_AFFINITY, "[thread rt-missing]", "comm:nothing-here",
	     "RT rule matches no thread in scope cgroup:/machine.slice", "rt-missing"},
	};
	const char *const warnings[] = {
	    "scope cgroup:/machine.slice: IRQ rules, [cpumask] and [irqbalance] are host-wide and are not applied",
	    "[thread idle] matches nothing in scope cgroup:/machine.slice (match = comm:nobody)",
	    NULL,
	};
	static const int outside[] = {1, 2, 420, 430};
	struct scope sc = {SCOPE_CGROUP, 0, "/"};
	struct plan *pl;
	char err[128];

	/* the trailing "/" of host.conf's value is dropped */
	pl = (struct plan *)plan_of(c, &t, "scope", "rt_cpus = 3\nscope = cgroup:/machine.slice/\n");
	assert_string_equal(c->s->tasks[2].cgroup, "/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope/libvirt/emulator");
	expect_plan(pl, N(xa), N(xs), warnings, 0);
	expect_untouched(pl, N(outside));

	/* cgroup:/ is every task (but still no IRQs and no cpumask) */
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	assert_int_equal(plan_build(c->p, c->s, &pl, err, sizeof(err)), 0);
	assert_int_equal(pl->counts[ACTION_THREAD_AFFINITY], 7);
	assert_int_equal(pl->counts[ACTION_IRQ_AFFINITY] + pl->counts[ACTION_CPUMASK], 0);
	assert_string_equal(pl->warnings[0],
			    "scope cgroup:/: IRQ rules, [cpumask] and [irqbalance] are host-wide and are not applied");
	plan_free(pl);
}

/* ---- 11. SCHED_DEADLINE, and the thread's start time ---- */

static void test_deadline(void **state)
{
	struct ctx *c = *state;
	static const struct tirq irqs[] = {{45, "eth1-TxRx-0", "eth1", "3"}, {46, "eth1-TxRx-1", "eth1", "3"}};
	static const struct ttask tasks[] = {
	    {1, 1, "systemd", F_USER, "0-2", 0, 0, "/sbin/init"},
	    {50, 50, "irq/45-eth1-TxRx-0", F_KTHREAD, "3", 1, 50, NULL},
	    {51, 51, "irq/46-eth1-TxRx-1", F_KTHREAD, "3", 6, 0, NULL},
	    {200, 200, "dl-a", F_USER, "0-3", 6, 0, "/usr/bin/dl-a"},
	    {210, 210, "dl-b", F_USER, "0-3", 1, 5, "/usr/bin/dl-b"},
	    {220, 220, "audio", F_USER, "0-3", 6, 0, "/usr/bin/audio"},
	    {230, 230, "video", F_USER, "0-2", 6, 0, "/usr/bin/video"},
	    {240, 240, "app", F_USER, "0-3", 0, 0, "/usr/bin/app"},
	    /* SCHED_EXT: no value isolated could put back */
	    {250, 250, "dl-ext", F_USER, "0-2", 7, 0, "/usr/bin/dl-ext"},
	};
	static const struct textra times[] = {
	    {50, 0, NULL, 5000},
	    {210, 0, NULL, 4294967296123ULL},
	    {240, 0, NULL, 777},
	};
	const struct tree t = {.ncpus = 4, .realtime = true, .tasks = N(tasks), .irqs = N(irqs), .extras = N(times)};
	const struct xaction xa[] = {
	    {ACTION_THREAD_AFFINITY, "tid/240", "app", "0-3", "0-2", "all", false},
	    {ACTION_THREAD_SCHED, "tid/50", "irq/45-eth1-TxRx-0", "fifo:50", "fifo:60", "rt-nic", true},
	    {ACTION_THREAD_SCHED, "tid/210", "dl-b", "fifo:5", "fifo:10", "dl-sched", true},
	};
	const struct xskip xs[] = {
	    {ACTION_THREAD_SCHED, "tid/51", "irq/46-eth1-TxRx-1", "SCHED_DEADLINE thread: isolated leaves it alone",
	     "rt-nic"},
	    {ACTION_THREAD_SCHED, "tid/200", "dl-a", "SCHED_DEADLINE thread: isolated leaves it alone", "dl-sched"},
	    {ACTION_THREAD_AFFINITY, "tid/220", "audio",
	     "SCHED_DEADLINE thread: isolated leaves it alone (the kernel refuses affinity changes that would break "
	     "deadline admission: EBUSY)",
	     "all"},
	    {ACTION_THREAD_SCHED, "tid/250", "dl-ext",
	     "scheduling policy 7 (SCHED_EXT is 7), which isolated could not put back: it leaves the thread alone",
	     "dl-sched"},
	};
	const struct plan *pl = plan_of(c, &t, "deadline", "rt_cpus = 3\nrt_nic = eth1\n");

	/* systemd and video (a deadline thread already where the rule wants it) */
	expect_plan(pl, N(xa), N(xs), NULL, 2);
	assert_int_equal(pl->actions[0].starttime, 777);
	assert_int_equal(pl->actions[0].tid, 240);
	assert_int_equal(pl->actions[1].starttime, 5000);
	assert_int_equal(pl->actions[1].irq, 45);
	assert_true(pl->actions[2].starttime == 4294967296123ULL);
	assert_int_equal(pl->actions[2].tgid, 210);
}

/* ---- 11. threads only: the daemon's event path ---- */

static struct host_state *partial(struct ctx *c, const struct thread_ref *refs, size_t n, bool ancestors)
{
	struct host_state *s = NULL;
	char err[256];
	int r;

	r = host_snapshot_threads(c->h, c->s, refs, n, ancestors, &s, err, sizeof(err));
	if (r < 0)
		fail_msg("host_snapshot_threads: %d %s", r, err);
	return s;
}

static void test_threads_only(void **state)
{
	struct ctx *c = *state;
	static const struct thread_ref refs[] = {{100, 101}, {100, 105}, {20, 20}, {2, 2}};
	const struct xaction xa[] = {
	    {ACTION_THREAD_AFFINITY, "tid/2", "kthreadd", "0-3", "0-2", "other", false},
	    {ACTION_THREAD_AFFINITY, "tid/101", "CPU 0/KVM (qemu-system-x86 100)", "0-3", "3", "rt-vcpu", true},
	    {ACTION_THREAD_AFFINITY, "tid/105", "vhost-100 (qemu-system-x86 100)", "0-3", "0-2", "qemu", false},
	    {ACTION_THREAD_SCHED, "tid/101", "CPU 0/KVM (qemu-system-x86 100)", "other", "fifo:51", "rt-vcpu", true},
	};
	/* the thread's own skip stays: it says why that thread is as it is */
	const struct xskip xs[] = {
	    {ACTION_THREAD_AFFINITY, "tid/20", "ksoftirqd/3",
	     "not movable: per-CPU kernel thread (PF_NO_SETAFFINITY), stays on 3", "other"},
	};
	struct host_state *s;
	struct plan *pl = NULL;
	char err[256] = "";

	plan_of(c, &ded_tree, "dedicated", DED_HOSTCONF);
	s = partial(c, refs, ARRAY_SIZE(refs), false);
	/* qemu-system-x86 (100) is there as context_only */
	assert_non_null(host_state_task(s, 100));
	assert_true(host_state_task(s, 100)->context_only);

	/* no sysctls, IRQs, cpumasks; no warnings; leader 100 not planned;
	 * vhost-100's sched ("other") unchanged */
	assert_int_equal(plan_build_threads(c->p, s, &pl, err, sizeof(err)), 0);
	expect_plan(pl, N(xa), N(xs), NULL, 1);
	assert_null(pl->warnings);
	plan_free(pl);

	/* plan_build on the partial: never the context_only leader */
	assert_int_equal(plan_build(c->p, s, &pl, err, sizeof(err)), 0);
	for (size_t i = 0; i < pl->n_actions; i++)
		assert_int_not_equal(pl->actions[i].tid, 100);
	plan_free(pl);
	host_state_free(s);

	/* the requirement and "matches nothing" warnings of a full plan are
	 * not the event path's */
	plan_of(c, &ded_tree, "requires-rt", "rt_cpus = 3\n");
	assert_non_null(c->pl->warnings);
	s = partial(c, refs, 1, false);
	assert_int_equal(plan_build_threads(c->p, s, &pl, err, sizeof(err)), 0);
	assert_null(pl->warnings);
	assert_int_equal(pl->n_skips, 0);
	assert_int_equal(pl->counts[ACTION_SYSCTL] + pl->counts[ACTION_IRQ_AFFINITY] + pl->counts[ACTION_CPUMASK], 0);
	plan_free(pl);
	host_state_free(s);
}

static void test_threads_only_scope(void **state)
{
	struct ctx *c = *state;
	/* 305 is 300's great-grandchild; 321 (in scope) is already on 0-2;
	 * 330 is not 300's */
	static const struct thread_ref refs[] = {{305, 305}, {320, 321}, {330, 330}};
	const struct xaction xa[] = {
	    {ACTION_THREAD_AFFINITY, "tid/305", "great-grandchild", "0-3", "0-2", "other", false},
	};
	struct scope sc = {SCOPE_PROCESS, 999, NULL};
	struct host_state *s;
	struct plan *pl = NULL;
	char err[256] = "";

	plan_of(c, &scope_tree, "scope", "rt_cpus = 3\nscope = process:300\n");
	s = partial(c, refs, ARRAY_SIZE(refs), true);
	assert_int_equal(plan_build_threads(c->p, s, &pl, err, sizeof(err)), 0);
	expect_plan(pl, N(xa), NULL, 0, NULL, 1);
	plan_free(pl);
	host_state_free(s);

	/* without the ancestors nothing proves 305 is 300's */
	s = partial(c, refs, 1, false);
	assert_int_equal(plan_build_threads(c->p, s, &pl, err, sizeof(err)), 0);
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 0);
	plan_free(pl);
	host_state_free(s);

	/* the scope's process is not in the partial snapshot: nothing in
	 * scope, no error (plan_build says ESRCH) */
	assert_int_equal(policy_set_scope(c->p, &sc), 0);
	s = partial(c, refs, ARRAY_SIZE(refs), true);
	assert_int_equal(plan_build_threads(c->p, s, &pl, err, sizeof(err)), 0);
	expect_plan(pl, NULL, 0, NULL, 0, NULL, 0);
	plan_free(pl);
	pl = NULL;
	assert_int_equal(plan_build(c->p, s, &pl, err, sizeof(err)), -ESRCH);
	host_state_free(s);
}

/* ---- 8. small things ---- */

static void test_misc(void **state)
{
	(void)state;
	plan_free(NULL);
	assert_string_equal(plan_action_kind_name(ACTION_SYSCTL), "sysctl");
	assert_string_equal(plan_action_kind_name(ACTION_IRQ_AFFINITY), "irq-affinity");
	assert_string_equal(plan_action_kind_name(ACTION_THREAD_AFFINITY), "thread-affinity");
	assert_string_equal(plan_action_kind_name(ACTION_THREAD_SCHED), "thread-sched");
	assert_string_equal(plan_action_kind_name(_ACTION_KIND_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sysctls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sysctls_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dedicated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dedicated_settled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq_rt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq_no_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmatched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requirements, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cpumask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_cgroup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_only_scope, setup, teardown),
	    cmocka_unit_test(test_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
