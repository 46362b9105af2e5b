/* Unit tests of the selectors (lib/match.c): the VM name of a QEMU command
 * line, thread terms against hand-built tasks and IRQ terms against
 * hand-built IRQs. Tables: one row per case, a name to find the failing one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/plan.h"
#include "isolated/procfmt.h"

/* ---- match_vm_name ---- */

struct vm_case {
	const char *cmdline;
	const char *want; /* NULL: no name */
};

static const struct vm_case vm_cases[] = {
    {"/usr/bin/qemu-system-x86_64 -name guest=rtvm,debug-threads=on -S -machine q35", "rtvm"},
    {"qemu-system-x86_64 -name rtvm -m 1024", "rtvm"},
    {"qemu-system-x86_64 -name rtvm,process=x", "rtvm"},
    {"qemu-system-x86_64 -name rtvm,debug-threads=on", "rtvm"},
    {"qemu-system-x86_64 --name guest=a", "a"},
    {"qemu-system-x86_64 --name a", "a"},
    /* guest= need not be the first part */
    {"qemu-system-x86_64 -name debug-threads=on,guest=rtvm", "rtvm"},
    {"qemu-system-x86_64 -name process=qemu-rtvm,guest=rtvm,debug-threads=on", "rtvm"},
    /* a first part with "=" that is not guest= is no name */
    {"qemu-system-x86_64 -name process=x", NULL},
    {"qemu-system-x86_64 -name debug-threads=on", NULL},
    /* "guest=" with nothing after it */
    {"qemu-system-x86_64 -name guest=", NULL},
    {"qemu-system-x86_64 -name guest=,debug-threads=on", NULL},
    /* no -name at all, -name as the last argument */
    {"qemu-system-x86_64 -m 1024 -smp 2", NULL},
    {"qemu-system-x86_64 -m 1024 -name", NULL},
    {"", NULL},
    /* not an option: a word containing "name" */
    {"qemu-system-x86_64 -hostname guest=x", NULL},
    {"qemu-system-x86_64 name guest=x", NULL},
    /* the last -name wins */
    {"qemu -name guest=first -name guest=second", "second"},
    /* libvirt's JSON -object arguments before -name (quotes balanced) */
    {"/usr/bin/qemu-system-x86_64 -object "
     "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"file\":\"/var/lib/libvirt/qemu/domain-1-rtvm/k.aes\"} "
     "-name guest=rtvm,debug-threads=on",
     "rtvm"},
    {"/usr/bin/qemu-system-x86_64 -name guest=rtvm,debug-threads=on -S -object "
     "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\",\"size\":4294967296}",
     "rtvm"},
};

static void test_vm_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vm_cases); i++) {
		char *got = match_vm_name(vm_cases[i].cmdline);

		if (!vm_cases[i].want && got)
			fail_msg("\"%s\": got \"%s\", want none", vm_cases[i].cmdline, got);
		if (vm_cases[i].want && (!got || strcmp(got, vm_cases[i].want) != 0))
			fail_msg("\"%s\": got %s%s%s, want \"%s\"", vm_cases[i].cmdline, got ? "\"" : "",
				 got ? got : "none", got ? "\"" : "", vm_cases[i].want);
		free(got);
	}
	assert_null(match_vm_name(NULL));
}

/* Regression: match_vm_name once re-split the joined command line honouring
 * quotes, so one unbalanced double quote anywhere in QEMU's argv (a guest's
 * -append) hid "-name guest=rtvm" and the VM's threads matched no vm: term. */
static void test_vm_name_unbalanced_quote(void **state)
{
	char *got;

	(void)state;
	got = match_vm_name("qemu-system-x86_64 -name guest=rtvm,debug-threads=on -kernel /boot/vmlinuz -append "
			    "root=/dev/vda console=ttyS0 systemd.setenv=MOTD=\"hello");
	if (!got)
		fail_msg("an unbalanced quote elsewhere in the command line hides -name guest=rtvm");
	assert_string_equal(got, "rtvm");
	free(got);
}

/* ---- match_thread ---- */

#define QEMU_RTVM "/usr/bin/qemu-system-x86_64 -name guest=rtvm,debug-threads=on -S -m 4096"
#define QEMU_BE1 "/usr/bin/qemu-system-x86_64 -name be1 -S -m 8192"
#define CG_RTVM "/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope/libvirt/vcpu0"

/* Sorted by tgid, then tid, as host_snapshot leaves them. */
static const struct {
	pid_t tid, tgid;
	const char *comm, *proc_comm, *cmdline, *cgroup;
	bool kthread;
} task_defs[] = {
    {1, 1, "systemd", "systemd", "/sbin/init splash", "/init.scope", false},
    {2, 2, "kthreadd", "kthreadd", "", "/", true},
    {45, 45, "irq/45-eth1-TxRx-0", "irq/45-eth1-TxRx-0", "", "/", true},
    {2201, 2201, "qemu-system-x86", "qemu-system-x86", QEMU_RTVM, "/machine.slice/rtvm.scope/libvirt/emulator", false},
    {2202, 2201, "CPU 0/KVM", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    {2203, 2201, "CPU 1/KVM", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    {2204, 2201, "CPU 10/KVM", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    {2205, 2201, "CPU 1/KVMx", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    {2206, 2201, "CPU 1/TCG", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    /* Linux >= 6.4: the vhost worker is a thread of QEMU itself */
    {2208, 2201, "vhost-2201", "qemu-system-x86", QEMU_RTVM, CG_RTVM, false},
    /* before 6.4: a kernel thread named after its owner, in its own group
     * sorted after the owner's threads */
    {2207, 2207, "vhost-2201", "vhost-2201", "", "/", true},
    /* owner is a non-leader thread of rtvm: found by the scan */
    {2209, 2209, "vhost-2203", "vhost-2203", "", "/", true},
    {2301, 2301, "qemu-system-x86", "qemu-system-x86", QEMU_BE1, "/machine.slice/be1.scope", false},
    {2302, 2301, "CPU 1/KVM", "qemu-system-x86", QEMU_BE1, "/machine.slice/be1.scope", false},
    {2309, 2309, "vhost-2301", "vhost-2301", "", "/", true},
    {3000, 3000, "vhost-99999", "vhost-99999", "", "/", true}, /* owner gone */
    {3001, 3001, "vhost-3001", "vhost-3001", "", "/", true},   /* names itself */
    {3002, 3002, "vhost-12x", "vhost-12x", "", "/", true},
    {3003, 3003, "vhost-", "vhost-", "", "/", true},
    {3004, 3004, "vhost-0", "vhost-0", "", "/", true},
};

enum {
	T_SYSTEMD,
	T_KTHREADD,
	T_IRQ45,
	T_QEMU,
	T_CPU0,
	T_CPU1,
	T_CPU10,
	T_CPU1X,
	T_CPU1TCG,
	T_VHOST_USER,
	T_VHOST_KT,
	T_VHOST_NONLEADER,
	T_BE1,
	T_BE1_CPU1,
	T_BE1_VHOST,
	T_VHOST_GONE,
	T_VHOST_SELF,
	T_VHOST_12X,
	T_VHOST_EMPTY,
	T_VHOST_0,
	N_TASKS
};

struct term_def {
	enum term_kind kind;
	bool negate;
	const char *arg; /* glob/name; for VCPU/IRQ the cpu list; for KTHREAD "yes"/"no" */
};

#define MAX_TERMS 4

struct thread_case {
	const char *name;
	struct term_def terms[MAX_TERMS]; /* up to the first with arg == NULL and kind == 0 unused: n below */
	size_t n;
	size_t task;
	bool want;
};

#define T1(k, neg, a) {{k, neg, a}}, 1
#define T2(k1, n1, a1, k2, n2, a2) {{k1, n1, a1}, {k2, n2, a2}}, 2

static const struct thread_case thread_cases[] = {
    {"any", T1(TERM_ANY, false, NULL), T_SYSTEMD, true},
    {"any kthread", T1(TERM_ANY, false, NULL), T_KTHREADD, true},
    {"!any", T1(TERM_ANY, true, NULL), T_SYSTEMD, false},

    {"comm exact", T1(TERM_COMM, false, "systemd"), T_SYSTEMD, true},
    {"comm exact other", T1(TERM_COMM, false, "systemd"), T_KTHREADD, false},
    {"comm glob", T1(TERM_COMM, false, "CPU */KVM"), T_CPU10, true},
    {"comm glob class", T1(TERM_COMM, false, "CPU [01]/KVM"), T_CPU1, true},
    {"comm glob class no", T1(TERM_COMM, false, "CPU [01]/KVM"), T_CPU10, false},
    {"comm glob ?", T1(TERM_COMM, false, "CPU ?/KVM"), T_CPU10, false},
    {"comm glob whole string", T1(TERM_COMM, false, "CPU"), T_CPU0, false},
    {"comm irq thread", T1(TERM_COMM, false, "irq/*-eth1-*"), T_IRQ45, true},
    {"comm empty", T1(TERM_COMM, false, ""), T_SYSTEMD, false},
    {"comm NULL arg", T1(TERM_COMM, false, NULL), T_SYSTEMD, false},
    {"!comm", T1(TERM_COMM, true, "CPU*"), T_CPU0, false},
    {"!comm other", T1(TERM_COMM, true, "CPU*"), T_QEMU, true},

    {"pcomm of a thread", T1(TERM_PCOMM, false, "qemu-system-*"), T_CPU0, true},
    {"pcomm of leader", T1(TERM_PCOMM, false, "qemu-system-*"), T_QEMU, true},
    {"pcomm no", T1(TERM_PCOMM, false, "qemu-system-*"), T_SYSTEMD, false},
    {"pcomm not comm", T1(TERM_PCOMM, false, "CPU*"), T_CPU0, false},
    {"pcomm empty", T1(TERM_PCOMM, false, ""), T_CPU0, false},

    {"cmdline", T1(TERM_CMDLINE, false, "*-name guest=rtvm,*"), T_CPU1, true},
    {"cmdline other vm", T1(TERM_CMDLINE, false, "*-name guest=rtvm,*"), T_BE1_CPU1, false},
    {"cmdline kthread empty", T1(TERM_CMDLINE, false, "*"), T_KTHREADD, true},
    {"cmdline empty arg", T1(TERM_CMDLINE, false, ""), T_KTHREADD, false},
    {"cmdline prefix", T1(TERM_CMDLINE, false, "/sbin/init*"), T_SYSTEMD, true},

    {"vm leader", T1(TERM_VM, false, "rtvm"), T_QEMU, true},
    {"vm vcpu", T1(TERM_VM, false, "rtvm"), T_CPU0, true},
    {"vm -name NAME form", T1(TERM_VM, false, "be1"), T_BE1_CPU1, true},
    {"vm other", T1(TERM_VM, false, "rtvm"), T_BE1_CPU1, false},
    {"vm not a prefix", T1(TERM_VM, false, "rt"), T_CPU0, false},
    {"vm not a glob", T1(TERM_VM, false, "rt*"), T_CPU0, false},
    {"vm empty", T1(TERM_VM, false, ""), T_CPU0, false},
    {"vm NULL", T1(TERM_VM, false, NULL), T_CPU0, false},
    {"vm not qemu", T1(TERM_VM, false, "rtvm"), T_SYSTEMD, false},
    {"vm vhost user thread", T1(TERM_VM, false, "rtvm"), T_VHOST_USER, true},
    {"vm vhost kthread via owner", T1(TERM_VM, false, "rtvm"), T_VHOST_KT, true},
    {"vm vhost kthread other vm", T1(TERM_VM, false, "be1"), T_VHOST_KT, false},
    {"vm vhost kthread of be1", T1(TERM_VM, false, "be1"), T_BE1_VHOST, true},
    {"vm vhost kthread of be1 not rtvm", T1(TERM_VM, false, "rtvm"), T_BE1_VHOST, false},
    {"vm vhost owner is a non-leader", T1(TERM_VM, false, "rtvm"), T_VHOST_NONLEADER, true},
    {"vm vhost owner gone", T1(TERM_VM, false, "rtvm"), T_VHOST_GONE, false},
    {"vm vhost names itself", T1(TERM_VM, false, "rtvm"), T_VHOST_SELF, false},
    {"vm plain kthread", T1(TERM_VM, false, "rtvm"), T_KTHREADD, false},
    {"!vm", T1(TERM_VM, true, "rtvm"), T_VHOST_KT, false},
    {"!vm other", T1(TERM_VM, true, "rtvm"), T_SYSTEMD, true},

    {"vcpu 1 KVM", T1(TERM_VCPU, false, "1"), T_CPU1, true},
    {"vcpu 1 TCG", T1(TERM_VCPU, false, "1"), T_CPU1TCG, true},
    {"vcpu 1 not 10", T1(TERM_VCPU, false, "1"), T_CPU10, false},
    {"vcpu 10", T1(TERM_VCPU, false, "1,10"), T_CPU10, true},
    {"vcpu 1 not KVMx", T1(TERM_VCPU, false, "1"), T_CPU1X, false},
    {"vcpu range", T1(TERM_VCPU, false, "0-1"), T_CPU0, true},
    {"vcpu not in list", T1(TERM_VCPU, false, "1"), T_CPU0, false},
    {"vcpu empty list", T1(TERM_VCPU, false, ""), T_CPU0, false},
    {"vcpu leader", T1(TERM_VCPU, false, "0-63"), T_QEMU, false},
    {"vcpu vhost", T1(TERM_VCPU, false, "0-63"), T_VHOST_USER, false},
    {"!vcpu", T1(TERM_VCPU, true, "1"), T_CPU1, false},
    {"!vcpu 0", T1(TERM_VCPU, true, "1"), T_CPU0, true},

    {"vhost user thread", T1(TERM_VHOST, false, NULL), T_VHOST_USER, true},
    {"vhost kthread", T1(TERM_VHOST, false, NULL), T_VHOST_KT, true},
    {"vhost owner gone", T1(TERM_VHOST, false, NULL), T_VHOST_GONE, true},
    {"vhost-12x", T1(TERM_VHOST, false, NULL), T_VHOST_12X, false},
    {"vhost-", T1(TERM_VHOST, false, NULL), T_VHOST_EMPTY, false},
    {"vhost-0", T1(TERM_VHOST, false, NULL), T_VHOST_0, false},
    {"vhost vcpu", T1(TERM_VHOST, false, NULL), T_CPU0, false},
    {"!vhost", T1(TERM_VHOST, true, NULL), T_CPU0, true},

    {"cgroup", T1(TERM_CGROUP, false, "/machine.slice/*"), T_CPU0, true},
    {"cgroup escaped", T1(TERM_CGROUP, false, "*rtvm.scope/libvirt/vcpu0"), T_CPU1, true},
    {"cgroup no", T1(TERM_CGROUP, false, "/machine.slice/*"), T_SYSTEMD, false},
    {"cgroup empty", T1(TERM_CGROUP, false, ""), T_SYSTEMD, false},

    {"kthread:yes kthread", T1(TERM_KTHREAD, false, "yes"), T_KTHREADD, true},
    {"kthread:yes user", T1(TERM_KTHREAD, false, "yes"), T_SYSTEMD, false},
    {"kthread:no user", T1(TERM_KTHREAD, false, "no"), T_SYSTEMD, true},
    {"kthread:no kthread", T1(TERM_KTHREAD, false, "no"), T_KTHREADD, false},
    {"!kthread:yes user", T1(TERM_KTHREAD, true, "yes"), T_SYSTEMD, true},
    {"!kthread:yes kthread", T1(TERM_KTHREAD, true, "yes"), T_KTHREADD, false},

    /* conjunctions: every term must hold */
    {"vm+vcpu", T2(TERM_VM, false, "rtvm", TERM_VCPU, false, "1"), T_CPU1, true},
    {"vm+vcpu wrong vcpu", T2(TERM_VM, false, "rtvm", TERM_VCPU, false, "1"), T_CPU0, false},
    {"vm+vcpu wrong vm", T2(TERM_VM, false, "rtvm", TERM_VCPU, false, "1"), T_BE1_CPU1, false},
    {"vm+vhost user", T2(TERM_VM, false, "rtvm", TERM_VHOST, false, NULL), T_VHOST_USER, true},
    {"vm+vhost kthread", T2(TERM_VM, false, "rtvm", TERM_VHOST, false, NULL), T_VHOST_KT, true},
    {"vm+vhost be1", T2(TERM_VM, false, "rtvm", TERM_VHOST, false, NULL), T_BE1_VHOST, false},
    {"vm+vhost vcpu", T2(TERM_VM, false, "rtvm", TERM_VHOST, false, NULL), T_CPU0, false},
    {"vm+!vcpu", T2(TERM_VM, false, "rtvm", TERM_VCPU, true, "0-63"), T_QEMU, true},
    {"vm+!vcpu on vcpu", T2(TERM_VM, false, "rtvm", TERM_VCPU, true, "0-63"), T_CPU10, false},
    {"*+!kthread:yes", T2(TERM_ANY, false, NULL, TERM_KTHREAD, true, "yes"), T_KTHREADD, false},
    {"pcomm+comm", T2(TERM_PCOMM, false, "qemu*", TERM_COMM, false, "CPU 1/*"), T_CPU1TCG, true},
    {"pcomm+comm first fails", T2(TERM_PCOMM, false, "kvm*", TERM_COMM, false, "CPU 1/*"), T_CPU1, false},
    {"four terms",
     {{TERM_VM, false, "rtvm"},
      {TERM_COMM, false, "CPU 1/KVM"},
      {TERM_VCPU, false, "0-2"},
      {TERM_KTHREAD, true, "yes"}},
     4,
     T_CPU1,
     true},
    {"four terms last fails",
     {{TERM_VM, false, "rtvm"},
      {TERM_COMM, false, "CPU 1/KVM"},
      {TERM_VCPU, false, "0-2"},
      {TERM_KTHREAD, false, "yes"}},
     4,
     T_CPU1,
     false},

    /* IRQ terms in a thread rule never match */
    {"nic in thread rule", T1(TERM_NIC, false, "eth1"), T_IRQ45, false},
    {"action in thread rule", T1(TERM_ACTION, false, "*"), T_IRQ45, false},
    {"irq in thread rule", T1(TERM_IRQ, false, "0-1000"), T_IRQ45, false},
    {"any+irq in thread rule", T2(TERM_ANY, false, NULL, TERM_IRQ, false, "45"), T_IRQ45, false},
};

struct match_env {
	struct host_state s;
	struct task_info tasks[N_TASKS];
};

static int env_setup(void **state)
{
	struct match_env *e = calloc(1, sizeof(*e));
	char err[128];

	assert_non_null(e);
	_Static_assert(ARRAY_SIZE(task_defs) == N_TASKS, "task table and enum differ");
	for (size_t i = 0; i < N_TASKS; i++) {
		struct task_info *t = &e->tasks[i];

		t->tid = task_defs[i].tid;
		t->tgid = task_defs[i].tgid;
		t->ppid = task_defs[i].kthread ? 2 : 1;
		t->comm = strdup(task_defs[i].comm);
		t->proc_comm = strdup(task_defs[i].proc_comm);
		t->cmdline = strdup(task_defs[i].cmdline);
		t->cgroup = strdup(task_defs[i].cgroup);
		assert_true(t->comm && t->proc_comm && t->cmdline && t->cgroup);
		t->kthread = task_defs[i].kthread;
		t->flags = t->kthread ? 0x00208040 : 0x00400100;
		assert_int_equal(cpuset_parse_list("0-3", &t->cpus, err, sizeof(err)), 0);
		if (i > 0) /* the order host_state_task relies on */
			assert_true(t->tgid > t[-1].tgid || (t->tgid == t[-1].tgid && t->tid > t[-1].tid));
	}
	e->s.tasks = e->tasks;
	e->s.n_tasks = N_TASKS;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct match_env *e = *state;

	for (size_t i = 0; i < N_TASKS; i++) {
		free(e->tasks[i].comm);
		free(e->tasks[i].proc_comm);
		free(e->tasks[i].cmdline);
		free(e->tasks[i].cgroup);
		cpuset_free(&e->tasks[i].cpus);
	}
	free(e);
	return 0;
}

/* A rule from term definitions; free with rule_done. */
static void rule_build(struct rule *r, bool is_irq, const struct term_def *defs, size_t n)
{
	char err[128];

	memset(r, 0, sizeof(*r));
	r->name = strdup("test");
	r->is_irq = is_irq;
	r->terms = calloc(n ? n : 1, sizeof(*r->terms));
	assert_non_null(r->terms);
	r->n_terms = n;
	for (size_t i = 0; i < n; i++) {
		struct match_term *m = &r->terms[i];

		m->kind = defs[i].kind;
		m->negate = defs[i].negate;
		switch (m->kind) {
		case TERM_VCPU:
		case TERM_IRQ:
			assert_int_equal(cpuset_parse_list(defs[i].arg, &m->set, err, sizeof(err)), 0);
			m->arg = strdup(defs[i].arg);
			break;
		case TERM_KTHREAD:
			m->yes = strcmp(defs[i].arg, "yes") == 0;
			m->arg = strdup(defs[i].arg);
			break;
		default:
			m->arg = defs[i].arg ? strdup(defs[i].arg) : NULL;
			break;
		}
	}
}

static void rule_done(struct rule *r)
{
	for (size_t i = 0; i < r->n_terms; i++) {
		free(r->terms[i].arg);
		cpuset_free(&r->terms[i].set);
	}
	free(r->terms);
	free(r->name);
}

static void test_thread_table(void **state)
{
	struct match_env *e = *state;
	unsigned failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(thread_cases); i++) {
		const struct thread_case *c = &thread_cases[i];
		const struct task_info *t = &e->tasks[c->task];
		struct rule r;
		bool got;

		rule_build(&r, false, c->terms, c->n);
		got = match_thread(&r, t, &e->s);
		if (got != c->want) {
			print_error("thread case \"%s\": task %d \"%s\": got %s, want %s\n", c->name, (int)t->tid,
				    t->comm, got ? "match" : "no match", c->want ? "match" : "no match");
			failed++;
		}
		rule_done(&r);
	}
	if (failed)
		fail_msg("%u thread case(s) failed", failed);
}

/* What host_state_task must find for the vm: term of vhost kthreads. */
static void test_state_task(void **state)
{
	struct match_env *e = *state;

	for (size_t i = 0; i < N_TASKS; i++) {
		const struct task_info *t = host_state_task(&e->s, e->tasks[i].tid);

		assert_non_null(t);
		assert_ptr_equal(t, &e->tasks[i]);
	}
	assert_null(host_state_task(&e->s, 99999));
	assert_null(host_state_task(&e->s, 0));
}

static void test_thread_rule_shape(void **state)
{
	struct match_env *e = *state;
	const struct term_def any = {TERM_ANY, false, NULL};
	struct rule r;

	/* an irq rule never selects a thread, whatever its terms */
	rule_build(&r, true, &any, 1);
	assert_false(match_thread(&r, &e->tasks[T_SYSTEMD], &e->s));
	rule_done(&r);
	/* a rule without terms selects nothing */
	rule_build(&r, false, NULL, 0);
	assert_false(match_thread(&r, &e->tasks[T_SYSTEMD], &e->s));
	rule_done(&r);
	/* the owner lookup needs no other task when the thread is QEMU's own */
	rule_build(&r, false, &(struct term_def){TERM_VM, false, "rtvm"}, 1);
	{
		struct host_state empty = {0};

		assert_true(match_thread(&r, &e->tasks[T_VHOST_USER], &empty));
		assert_false(match_thread(&r, &e->tasks[T_VHOST_KT], &empty));
	}
	rule_done(&r);
}

/* ---- match_thread3: the event path's three-valued selector ---- */

/* The fields a thread term may read, and the vhost owner. */
static const unsigned fields3[] = {HOST_TASK_COMM,    HOST_TASK_STAT,	HOST_TASK_TGID, HOST_TASK_PCOMM,
				   HOST_TASK_CMDLINE, HOST_TASK_CGROUP, HOST_TASK_OWNER};
#define ALL3                                                                                                           \
	(HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_TGID | HOST_TASK_PCOMM | HOST_TASK_CMDLINE | HOST_TASK_CGROUP |   \
	 HOST_TASK_OWNER)

/* t as the event path sees it with only the fields in have read: what is
 * not read is garbage, so a verdict that peeks at it shows. */
static void view_of(const struct task_info *t, unsigned have, struct task_info *v)
{
	*v = *t;
	v->have = have;
	if (!(have & HOST_TASK_COMM))
		v->comm = (char *)"CPU 1/KVM";
	if (!(have & HOST_TASK_STAT))
		v->kthread = !t->kthread;
	if (!(have & HOST_TASK_TGID))
		v->tgid = 2207;
	if (!(have & HOST_TASK_PCOMM))
		v->proc_comm = NULL;
	if (!(have & HOST_TASK_CMDLINE))
		v->cmdline = (char *)QEMU_RTVM;
	if (!(have & HOST_TASK_CGROUP))
		v->cgroup = NULL;
}

static const struct task_info *owner_of(const struct match_env *e, const struct task_info *t)
{
	long n = procfmt_vhost_owner(t->comm);

	return n > 0 ? host_state_task(&e->s, (pid_t)n) : NULL;
}

/* Every case of the table, with every subset of its fields read: the
 * verdict is the full one or UNKNOWN; UNKNOWN asks for fields not read
 * yet; reading what it asks for decides in at most as many steps as there
 * are fields; with everything read it is match_thread's. */
static void test_thread3_table(void **state)
{
	struct match_env *e = *state;
	unsigned failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(thread_cases); i++) {
		const struct thread_case *c = &thread_cases[i];
		const struct task_info *t = &e->tasks[c->task];
		const struct task_info *owner = owner_of(e, t);
		struct rule r;

		rule_build(&r, false, c->terms, c->n);
		for (unsigned sub = 0; sub < (1u << ARRAY_SIZE(fields3)); sub++) {
			unsigned have = 0, need = 0, steps = 0;
			enum match3 v;
			struct task_info view;

			for (size_t k = 0; k < ARRAY_SIZE(fields3); k++)
				if (sub & (1u << k))
					have |= fields3[k];
			for (;;) {
				view_of(t, have, &view);
				v = match_thread3(&r, &view, owner, &need);
				if (v != MATCH_UNKNOWN)
					break;
				if (need == 0 || (need & have) || (need & ~ALL3) || ++steps > ARRAY_SIZE(fields3)) {
					print_error("thread case \"%s\", fields %#x: UNKNOWN asks for %#x\n", c->name,
						    have, need);
					failed++;
					break;
				}
				have |= need;
			}
			if (v != MATCH_UNKNOWN && v != (c->want ? MATCH_YES : MATCH_NO)) {
				print_error("thread case \"%s\", fields %#x: got %s, want %s\n", c->name, have,
					    v == MATCH_YES ? "match" : "no match", c->want ? "match" : "no match");
				failed++;
			}
			if (sub == (1u << ARRAY_SIZE(fields3)) - 1 && v == MATCH_UNKNOWN) {
				print_error("thread case \"%s\": undecided with every field read\n", c->name);
				failed++;
			}
		}
		rule_done(&r);
	}
	if (failed)
		fail_msg("%u three-valued case(s) failed", failed);
}

/* What decides early, and what it asks for. */
struct case3 {
	const char *name;
	struct term_def terms[MAX_TERMS];
	size_t n;
	size_t task;
	unsigned have;
	enum match3 want;
	unsigned need; /* when UNKNOWN */
};

static const struct case3 cases3[] = {
    {"* needs nothing", T1(TERM_ANY, false, NULL), T_SYSTEMD, 0, MATCH_YES, 0},
    {"comm unread", T1(TERM_COMM, false, "CPU*"), T_CPU0, 0, MATCH_UNKNOWN, HOST_TASK_COMM},
    {"comm read", T1(TERM_COMM, false, "CPU*"), T_CPU0, HOST_TASK_COMM, MATCH_YES, 0},
    {"!comm unread stays unknown", T1(TERM_COMM, true, "CPU*"), T_CPU0, 0, MATCH_UNKNOWN, HOST_TASK_COMM},
    /* the cheap term decides the rule whatever the dear one would say */
    {"vm+vcpu: wrong vcpu from comm", T2(TERM_VM, false, "rtvm", TERM_VCPU, false, "1"), T_CPU0, HOST_TASK_COMM,
     MATCH_NO, 0},
    {"vm+vcpu: right vcpu, vm from cmdline", T2(TERM_VM, false, "rtvm", TERM_VCPU, false, "1"), T_CPU1, HOST_TASK_COMM,
     MATCH_UNKNOWN, HOST_TASK_CMDLINE},
    {"vm+vhost: a kworker", T2(TERM_VM, false, "rtvm", TERM_VHOST, false, NULL), T_KTHREADD, HOST_TASK_COMM, MATCH_NO,
     0},
    {"vm: cmdline decides yes", T1(TERM_VM, false, "rtvm"), T_CPU1, HOST_TASK_CMDLINE, MATCH_YES, 0},
    {"vm: cmdline says no, not a vhost worker", T1(TERM_VM, false, "rtvm"), T_SYSTEMD,
     HOST_TASK_CMDLINE | HOST_TASK_COMM, MATCH_NO, 0},
    {"vm: cmdline says no, comm unread", T1(TERM_VM, false, "rtvm"), T_SYSTEMD, HOST_TASK_CMDLINE, MATCH_UNKNOWN,
     HOST_TASK_COMM},
    {"vm: a vhost kthread needs its owner", T1(TERM_VM, false, "rtvm"), T_VHOST_KT,
     HOST_TASK_CMDLINE | HOST_TASK_COMM | HOST_TASK_TGID, MATCH_UNKNOWN, HOST_TASK_OWNER},
    {"vm: its owner says yes, own cmdline unread", T1(TERM_VM, false, "rtvm"), T_VHOST_KT,
     HOST_TASK_COMM | HOST_TASK_TGID | HOST_TASK_OWNER, MATCH_YES, 0},
    {"vm: a vhost worker of its own process needs no owner", T1(TERM_VM, false, "rtvm"), T_VHOST_SELF,
     HOST_TASK_CMDLINE | HOST_TASK_COMM | HOST_TASK_TGID, MATCH_NO, 0},
    {"vm: on a tree the tgid is status's", T1(TERM_VM, false, "rtvm"), T_VHOST_SELF, HOST_TASK_CMDLINE | HOST_TASK_COMM,
     MATCH_UNKNOWN, HOST_TASK_TGID},
    {"vm: empty name needs nothing", T1(TERM_VM, false, ""), T_CPU0, 0, MATCH_NO, 0},
    {"kthread needs stat", T1(TERM_KTHREAD, false, "yes"), T_KTHREADD, HOST_TASK_COMM, MATCH_UNKNOWN, HOST_TASK_STAT},
    {"pcomm", T1(TERM_PCOMM, false, "qemu*"), T_CPU0, HOST_TASK_COMM, MATCH_UNKNOWN, HOST_TASK_PCOMM},
    {"cgroup", T1(TERM_CGROUP, false, "/machine.slice/*"), T_CPU0, HOST_TASK_COMM, MATCH_UNKNOWN, HOST_TASK_CGROUP},
    {"cmdline", T1(TERM_CMDLINE, false, "*qemu*"), T_CPU0, HOST_TASK_COMM, MATCH_UNKNOWN, HOST_TASK_CMDLINE},
    {"two unknown terms ask for both", T2(TERM_PCOMM, false, "qemu*", TERM_CGROUP, false, "/m*"), T_CPU0, 0,
     MATCH_UNKNOWN, HOST_TASK_PCOMM | HOST_TASK_CGROUP},
    {"irq term in a thread rule: no, unread", T1(TERM_IRQ, false, "0-100"), T_IRQ45, 0, MATCH_NO, 0},
};

static void test_thread3_cases(void **state)
{
	struct match_env *e = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases3); i++) {
		const struct case3 *c = &cases3[i];
		const struct task_info *t = &e->tasks[c->task];
		struct task_info view;
		unsigned need = 0xdead;
		struct rule r;
		enum match3 v;

		rule_build(&r, false, c->terms, c->n);
		view_of(t, c->have, &view);
		const struct task_info *owner = c->have & HOST_TASK_OWNER ? owner_of(e, t) : NULL;

		v = match_thread3(&r, &view, owner, &need);
		if (v != c->want || (v == MATCH_UNKNOWN && need != c->need))
			fail_msg("\"%s\": got %d need %#x, want %d need %#x", c->name, v, need, c->want, c->need);
		assert_int_equal(match_thread3(&r, &view, owner, NULL), v); /* ret_need may be NULL */
		rule_done(&r);
	}
}

static void test_rule_fields(void **state)
{
	struct rule r;
	const struct term_def terms[] = {
	    {TERM_VCPU, false, "1"}, {TERM_CGROUP, true, "/x"}, {TERM_KTHREAD, false, "no"}, {TERM_IRQ, false, "1"}};

	(void)state;
	rule_build(&r, false, terms, ARRAY_SIZE(terms));
	assert_int_equal(match_rule_fields(&r), HOST_TASK_COMM | HOST_TASK_CGROUP | HOST_TASK_STAT);
	rule_done(&r);
	rule_build(&r, false, &(struct term_def){TERM_VM, false, "a"}, 1);
	assert_int_equal(match_rule_fields(&r), HOST_TASK_CMDLINE | HOST_TASK_COMM | HOST_TASK_TGID | HOST_TASK_OWNER);
	rule_done(&r);
	rule_build(&r, false, &(struct term_def){TERM_ANY, false, NULL}, 1);
	assert_int_equal(match_rule_fields(&r), 0);
	rule_done(&r);
	/* IRQ rules read no thread */
	rule_build(&r, true, terms, 1);
	assert_int_equal(match_rule_fields(&r), 0);
	rule_done(&r);
}

/* ---- match_irq ---- */

static const char *const acts_eth1[] = {"eth1-TxRx-0", NULL};
static const char *const acts_virtio[] = {"virtio2-input.0", "virtio2-output.0", NULL};
static const char *const acts_shared[] = {"ahci[0000:00:1f.2]", "eth0", "i801_smbus", NULL};

static const struct {
	unsigned irq;
	const char *const *actions;
	const char *nic;
} irq_defs[] = {
    {9, NULL, NULL},
    {30, acts_eth1, "eth1"},
    {31, acts_virtio, "eth2"},
    {40, acts_shared, NULL},
};

enum { I9, I30, I31, I40, N_IRQS };

struct irq_case {
	const char *name;
	struct term_def terms[MAX_TERMS];
	size_t n;
	size_t irq;
	bool want;
};

static const struct irq_case irq_cases[] = {
    {"any", T1(TERM_ANY, false, NULL), I9, true},
    {"!any", T1(TERM_ANY, true, NULL), I9, false},

    {"nic", T1(TERM_NIC, false, "eth1"), I30, true},
    {"nic other", T1(TERM_NIC, false, "eth1"), I31, false},
    {"nic not a glob", T1(TERM_NIC, false, "eth*"), I30, false},
    {"nic prefix", T1(TERM_NIC, false, "eth"), I30, false},
    {"nic NULL nic", T1(TERM_NIC, false, "eth1"), I9, false},
    {"nic empty arg", T1(TERM_NIC, false, ""), I30, false},
    {"nic NULL arg", T1(TERM_NIC, false, NULL), I30, false},
    {"!nic", T1(TERM_NIC, true, "eth1"), I30, false},
    {"!nic NULL nic", T1(TERM_NIC, true, "eth1"), I9, true},
    {"!nic other", T1(TERM_NIC, true, "eth1"), I31, true},

    {"action exact", T1(TERM_ACTION, false, "eth1-TxRx-0"), I30, true},
    {"action glob", T1(TERM_ACTION, false, "eth1-*"), I30, true},
    {"action first of two", T1(TERM_ACTION, false, "*-input.*"), I31, true},
    {"action second of two", T1(TERM_ACTION, false, "*-output.*"), I31, true},
    {"action middle of three", T1(TERM_ACTION, false, "eth0"), I40, true},
    {"action bracket needs escaping", T1(TERM_ACTION, false, "ahci\\[*"), I40, true},
    {"action none", T1(TERM_ACTION, false, "eth1-*"), I40, false},
    {"action no actions", T1(TERM_ACTION, false, "*"), I9, false},
    {"action empty arg", T1(TERM_ACTION, false, ""), I30, false},
    {"!action", T1(TERM_ACTION, true, "*-output.*"), I31, false},
    {"!action other", T1(TERM_ACTION, true, "*-output.*"), I30, true},

    {"irq in set", T1(TERM_IRQ, false, "24-31,40"), I30, true},
    {"irq last", T1(TERM_IRQ, false, "24-31,40"), I40, true},
    {"irq not in set", T1(TERM_IRQ, false, "24-31,40"), I9, false},
    {"irq empty set", T1(TERM_IRQ, false, ""), I9, false},
    {"!irq", T1(TERM_IRQ, true, "24-31,40"), I9, true},
    {"!irq in set", T1(TERM_IRQ, true, "24-31,40"), I31, false},

    {"nic+action", T2(TERM_NIC, false, "eth2", TERM_ACTION, false, "*input*"), I31, true},
    {"nic+!irq", T2(TERM_NIC, false, "eth2", TERM_IRQ, true, "31"), I31, false},
    {"action+irq", T2(TERM_ACTION, false, "eth*", TERM_IRQ, false, "0-35"), I40, false},

    /* thread terms in an irq rule never match */
    {"comm in irq rule", T1(TERM_COMM, false, "*"), I30, false},
    {"kthread in irq rule", T1(TERM_KTHREAD, false, "yes"), I30, false},
    {"vhost in irq rule", T1(TERM_VHOST, false, NULL), I30, false},
};

static void test_irq_table(void **state)
{
	struct irq_info irqs[N_IRQS];
	unsigned failed = 0;

	(void)state;
	memset(irqs, 0, sizeof(irqs));
	for (size_t i = 0; i < N_IRQS; i++) {
		irqs[i].irq = irq_defs[i].irq;
		irqs[i].actions = (char **)irq_defs[i].actions;
		irqs[i].nic = (char *)irq_defs[i].nic;
	}
	for (size_t i = 0; i < ARRAY_SIZE(irq_cases); i++) {
		const struct irq_case *c = &irq_cases[i];
		struct rule r;
		bool got;

		rule_build(&r, true, c->terms, c->n);
		got = match_irq(&r, &irqs[c->irq]);
		if (got != c->want) {
			print_error("irq case \"%s\": irq %u: got %s, want %s\n", c->name, irqs[c->irq].irq,
				    got ? "match" : "no match", c->want ? "match" : "no match");
			failed++;
		}
		rule_done(&r);
	}
	if (failed)
		fail_msg("%u irq case(s) failed", failed);

	/* a thread rule never selects an IRQ; a rule without terms nothing */
	{
		struct rule r;

		rule_build(&r, false, &(struct term_def){TERM_ANY, false, NULL}, 1);
		assert_false(match_irq(&r, &irqs[I30]));
		rule_done(&r);
		rule_build(&r, true, NULL, 0);
		assert_false(match_irq(&r, &irqs[I30]));
		rule_done(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vm_name),
	    cmocka_unit_test(test_vm_name_unbalanced_quote),
	    cmocka_unit_test_setup_teardown(test_thread_table, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_state_task, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_thread_rule_shape, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_thread3_table, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_thread3_cases, env_setup, env_teardown),
	    cmocka_unit_test(test_rule_fields),
	    cmocka_unit_test(test_irq_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
