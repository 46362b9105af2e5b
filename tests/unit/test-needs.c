/* Unit tests of lib/needs.c and the lean reads it drives: what each policy
 * needs of a host, that a plan of the lean snapshot is the plan of the
 * full one (every fixture tree, every mode, every scope), that the event
 * path's filter changes no plan, and that what is not needed is not read:
 * files a read would trip on (a symbolic link out of the tree, which a
 * tree read refuses) stand in for a counter of opens. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/apply.h"
#include "isolated/needs.h"
#include "isolated/plan.h"
#include "isolated/policy.h"
#include "isolated/report.h"
#include "isolated/util.h"

#define FIXTURES TEST_DATADIR "/../fixtures"
#define POLICIES TEST_DATADIR "/../../policies"

static const char *const trees[] = {"kvm16", "kvm16-rt", "vm2"};

/* A copy of a fixture tree, in memory when there is a tmpfs. */
static char *copy_fixture(const char *name)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *d = util_sprintf("%s/test-needs.XXXXXX", base), cmd[PATH_MAX * 2 + 32];

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", FIXTURES, name, d);
	assert_int_equal(system(cmd), 0);
	return d;
}

static void rm_tree(char *d)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* Replace root/rel (a file or directory) by a symbolic link out of the
 * tree: a tree read of it fails with EXDEV, so a read that succeeds proves
 * it was not read. */
static void poison(const char *root, const char *rel)
{
	char path[PATH_MAX], cmd[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(symlink("/proc/self/status", path), 0);
}

static struct host_state *snap(const struct host *h, const struct host_needs *n)
{
	struct host_state *s = NULL;
	char err[512] = "";
	int r = host_snapshot_ex(h, n, &s, err, sizeof(err));

	if (r < 0)
		fail_msg("host_snapshot_ex: %d %s", r, err);
	return s;
}

/* ---- policies ---- */

struct pol {
	struct hostconf *hc;
	struct policy *p;
};

static void pol_done(struct pol *x)
{
	policy_free(x->p);
	hostconf_free(x->hc);
	*x = (struct pol){0};
}

/* file with the tree's host.conf, or (tree_conf false) with one that fits
 * every tree (CPU 1 as the RT CPU) plus extra; false when it does not load
 * there (a 16-CPU policy on a 2-CPU tree). */
static bool pol_load(struct pol *x, const char *root, const struct cpuset *online, const char *file, bool tree_conf,
		     const char *extra)
{
	char *const generic[] = {(char *)"rt_cpus=1",
				 (char *)"rt_nic=eth1",
				 (char *)"rt_vm=rtvm",
				 (char *)"rt_vcpus=0-1",
				 (char *)"empty=",
				 (char *)"rtnet_prio=50",
				 (char *)(extra ? extra : "x_unused=1"),
				 NULL};
	struct diag d = {0};
	int r;

	*x = (struct pol){0};
	if (tree_conf) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/etc/isolated/host.conf", root);
		r = hostconf_load(path, online, &x->hc, &d);
	} else {
		r = hostconf_from_strv(generic, online, &x->hc, &d);
	}
	if (r < 0)
		fail_msg("host.conf for %s: %d %s", file, r, d.n ? d.lines[0] : "");
	diag_free(&d);
	r = policy_load(file, x->hc, online, &x->p, &d);
	diag_free(&d);
	if (r < 0) {
		hostconf_free(x->hc);
		x->hc = NULL;
		return false;
	}
	return true;
}

/* ---- needs_of_policy ---- */

static void test_needs_of_shipped(void **state)
{
	struct cpuset online = CPUSET_INIT;
	struct host_needs n;
	struct pol x;
	char *root = copy_fixture("kvm16");

	(void)state;
	assert_int_equal(cpuset_set_range(&online, 0, 15), 0);

	assert_true(pol_load(&x, root, &online, POLICIES "/vanilla.conf", true, NULL));
	needs_of_policy(x.p, &n);
	assert_int_equal(n.tasks, 0);
	assert_int_equal(n.irqs, 0);
	assert_true(n.boot_id);
	needs_done(&n);
	pol_done(&x);

	/* sysctls alone: no task, no IRQ */
	assert_true(pol_load(&x, root, &online, TEST_DATADIR "/plan/sysctl.conf", false, NULL));
	needs_of_policy(x.p, &n);
	assert_int_equal(n.tasks, 0);
	assert_int_equal(n.irqs, 0);
	/* ... but over a journal with thread and IRQ targets, their values */
	needs_add_journal(&n, NULL);
	assert_int_equal(n.tasks, HOST_TASK_STAT | HOST_TASK_CPUS);
	assert_int_equal(n.irqs, HOST_IRQ_ALL);
	needs_done(&n);
	pol_done(&x);

	/* dedicated: vm: terms read the cmdline (and a vhost owner's); no
	 * cgroup: no term, no scope asks for it */
	assert_true(pol_load(&x, root, &online, POLICIES "/dedicated.conf", true, NULL));
	needs_of_policy(x.p, &n);
	assert_int_equal(n.irqs, HOST_IRQ_ALL);
	assert_int_equal(n.tasks, HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_CPUS | HOST_TASK_TGID | HOST_TASK_PCOMM |
				      HOST_TASK_CMDLINE | HOST_TASK_CPUSET);
	/* its [partition]: the cpuset hierarchy */
	assert_true(n.cgroups);
	/* the sysctls beyond the known ones and the [sysfs] attributes are
	 * files of the needs */
	assert_true(strv_contains(n.files, "proc/sys/vm/stat_interval"));
	assert_true(strv_contains(n.files, "sys/kernel/mm/ksm/run"));
	assert_true(strv_contains(n.files, "sys/devices/system/cpu/cpu7/power/pm_qos_resume_latency_us"));
	assert_false(strv_contains(n.files, "proc/sys/kernel/timer_migration"));
	needs_done(&n);
	pol_done(&x);

	/* rt-only sets priorities, never CPUs */
	assert_true(pol_load(&x, root, &online, POLICIES "/rt-only.conf", true, NULL));
	needs_of_policy(x.p, &n);
	assert_int_equal(n.irqs, HOST_IRQ_ALL);
	assert_int_equal(n.tasks & (HOST_TASK_CPUS | HOST_TASK_CGROUP), 0);
	assert_true(n.tasks & HOST_TASK_CMDLINE);
	needs_done(&n);
	pol_done(&x);

	/* outside the host scope IRQ rules are not planned; a cgroup scope
	 * reads cgroups, a process scope the tasks' ppid chains */
	assert_true(pol_load(&x, root, &online, TEST_DATADIR "/plan/scope.conf", false, "scope=cgroup:/machine.slice"));
	needs_of_policy(x.p, &n);
	assert_int_equal(n.irqs, HOST_IRQ_LIST);
	assert_true(n.tasks & HOST_TASK_CGROUP);
	needs_done(&n);
	pol_done(&x);
	assert_true(pol_load(&x, root, &online, TEST_DATADIR "/plan/scope.conf", false, "scope=process:2201"));
	needs_of_policy(x.p, &n);
	assert_true(n.tasks & HOST_TASK_STAT);
	assert_int_equal(n.tasks & HOST_TASK_CGROUP, 0);
	needs_done(&n);
	pol_done(&x);

	cpuset_free(&online);
	rm_tree(root);
}

/* ---- lean snapshot == full snapshot, as far as plans see ---- */

static char *plan_text(const struct host *h, const struct policy *p, const struct host_state *s, bool threads_only)
{
	struct plan *pl = NULL;
	json_object *doc;
	char err[512] = "", *text;
	int r;

	r = threads_only ? plan_build_threads(p, s, &pl, err, sizeof(err)) : plan_build(p, s, &pl, err, sizeof(err));
	if (r < 0)
		return util_sprintf("error %d: %s", r, err);
	doc = report_plan(h, pl, s);
	assert_non_null(doc);
	text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
	assert_non_null(text);
	json_object_put(doc);
	plan_free(pl);
	return text;
}

/* The policies to try on every tree: the shipped modes with the tree's
 * host.conf, the test policies with the generic one, the scope policy in
 * every kind of scope. */
struct pcase {
	const char *file;
	bool tree_conf;
	const char *extra;
};

static const struct pcase pcases[] = {
    {POLICIES "/vanilla.conf", true, NULL},
    {POLICIES "/dedicated.conf", true, NULL},
    {POLICIES "/rt-only.conf", true, NULL},
    {POLICIES "/outsourcing.conf", true, NULL},
    {POLICIES "/examples/webserver-2cpu.conf", false, NULL},
    {TEST_DATADIR "/policies/terms.conf", false, NULL},
    {TEST_DATADIR "/plan/cpumask.conf", false, NULL},
    {TEST_DATADIR "/plan/deadline.conf", false, NULL},
    {TEST_DATADIR "/plan/dedicated.conf", false, NULL},
    {TEST_DATADIR "/plan/irq.conf", false, NULL},
    {TEST_DATADIR "/plan/outsourcing.conf", false, NULL},
    {TEST_DATADIR "/plan/requires-rt.conf", false, NULL},
    {TEST_DATADIR "/plan/sysctl.conf", false, NULL},
    {TEST_DATADIR "/plan/unmatched.conf", false, NULL},
    {TEST_DATADIR "/plan/scope.conf", false, "scope=host"},
    {TEST_DATADIR "/plan/scope.conf", false, "scope=process:1"},
    {TEST_DATADIR "/plan/scope.conf", false, "scope=process:2201"},
    {TEST_DATADIR "/plan/scope.conf", false, "scope=cgroup:/machine.slice"},
    {TEST_DATADIR "/plan/scope.conf", false, "scope=cgroup:/system.slice"},
};

static void test_plan_lean_equals_full(void **state)
{
	size_t ran = 0;

	(void)state;
	for (size_t ti = 0; ti < ARRAY_SIZE(trees); ti++) {
		char *root = copy_fixture(trees[ti]);
		struct host *h = NULL;
		struct host_state *full;

		assert_int_equal(host_open(root, &h), 0);
		full = snap(h, &host_needs_all);
		for (size_t pi = 0; pi < ARRAY_SIZE(pcases); pi++) {
			const struct pcase *c = &pcases[pi];
			struct host_needs n;
			struct host_state *lean, *added;
			char *a, *b, *d;
			struct pol x;

			if (!pol_load(&x, root, &full->online, c->file, c->tree_conf, c->extra))
				continue;
			needs_of_policy(x.p, &n);
			lean = snap(h, &n);
			assert_true(host_state_has(lean, &n));
			/* only what was asked for */
			assert_int_equal(lean->have.tasks & ~(n.tasks | HOST_TASK_STAT), 0);
			assert_int_equal(lean->n_tasks, n.tasks ? full->n_tasks : 0);
			assert_int_equal(lean->n_irqs, n.irqs ? full->n_irqs : 0);
			/* the system files first, the rest added: the same */
			added = snap(h, &(struct host_needs){0});
			assert_int_equal(added->n_tasks + added->n_irqs, 0);
			assert_int_equal(host_snapshot_add(h, added, &n, NULL, 0), 0);
			/* A full snapshot has every file a policy could name only
			 * once asked: the policy's (sysctls beyond the known
			 * ones, sysfs attributes) are added to it. */
			assert_int_equal(host_snapshot_add(h, full, &(struct host_needs){.files = n.files}, NULL, 0),
					 0);

			a = plan_text(h, x.p, full, false);
			b = plan_text(h, x.p, lean, false);
			d = plan_text(h, x.p, added, false);
			if (strcmp(a, b) != 0 || strcmp(a, d) != 0)
				fail_msg(
				    "%s on %s (%s): the plan of the lean snapshot differs:\n--- full\n%s\n--- lean\n%s",
				    c->file, trees[ti], c->extra ? c->extra : "", a, strcmp(a, b) ? b : d);
			free(a);
			free(b);
			free(d);
			host_state_free(lean);
			host_state_free(added);
			needs_done(&n);
			pol_done(&x);
			ran++;
		}
		host_state_free(full);
		host_free(h);
		rm_tree(root);
	}
	/* most cases load on most trees (vm2 has 2 CPUs: not kvm16's host.conf) */
	assert_true(ran >= ARRAY_SIZE(trees) * ARRAY_SIZE(pcases) - 6);
}

/* ---- the event path: the filter changes no plan ---- */

static int filtered(const struct host *h, const struct host_state *base, const struct policy *p,
		    const struct thread_ref *refs, size_t n, struct host_state **ret)
{
	struct host_thread_filter f;
	char err[512] = "";
	int r;

	needs_thread_filter(p, &f);
	r = host_snapshot_threads_ex(h, base, refs, n, p->scope.kind == SCOPE_PROCESS, &f, ret, err, sizeof(err));
	if (r < 0)
		print_error("host_snapshot_threads_ex: %d %s\n", r, err);
	return r;
}

static void test_threads_lean_equals_full(void **state)
{
	size_t ran = 0, left_out = 0, asked = 0;

	(void)state;
	for (size_t ti = 0; ti < ARRAY_SIZE(trees); ti++) {
		char *root = copy_fixture(trees[ti]);
		struct host *h = NULL;
		struct host_state *base;
		struct thread_ref *refs;

		assert_int_equal(host_open(root, &h), 0);
		base = snap(h, &host_needs_all);
		refs = calloc(base->n_tasks, sizeof(*refs));
		assert_non_null(refs);
		for (size_t i = 0; i < base->n_tasks; i++)
			refs[i] = (struct thread_ref){base->tasks[i].tgid, base->tasks[i].tid};

		for (size_t pi = 0; pi < ARRAY_SIZE(pcases); pi++) {
			const struct pcase *c = &pcases[pi];
			bool anc;
			struct pol x;

			if (!pol_load(&x, root, &base->online, c->file, c->tree_conf, c->extra))
				continue;
			if (x.p->n_thread_rules == 0) {
				pol_done(&x);
				continue;
			}
			anc = x.p->scope.kind == SCOPE_PROCESS;
			/* every thread at once, then each alone */
			for (size_t k = 0; k <= base->n_tasks; k++) {
				const struct thread_ref *r = k == 0 ? refs : &refs[k - 1];
				size_t n = k == 0 ? base->n_tasks : 1;
				struct host_state *full = NULL, *lean = NULL;
				char err[256], *a, *b;

				assert_int_equal(host_snapshot_threads(h, base, r, n, anc, &full, err, sizeof(err)), 0);
				assert_int_equal(filtered(h, base, x.p, r, n, &lean), 0);
				a = plan_text(h, x.p, full, true);
				b = plan_text(h, x.p, lean, true);
				if (strcmp(a, b) != 0)
					fail_msg("%s on %s (%s), thread %d of %d: the filter changed the plan:\n--- "
						 "full\n%s\n--- lean\n%s",
						 c->file, trees[ti], c->extra ? c->extra : "", (int)r->tid,
						 (int)r->tgid, a, b);
				if (k > 0 && strstr(c->file, "rt-only")) {
					asked++;
					left_out += !host_state_task(lean, r->tid);
				}
				free(a);
				free(b);
				host_state_free(full);
				host_state_free(lean);
			}
			pol_done(&x);
			ran++;
		}
		free(refs);
		host_state_free(base);
		host_free(h);
		rm_tree(root);
	}
	assert_true(ran >= 20);
	/* rt-only leaves alone every thread but rtvm's vCPUs and vhost */
	assert_true(asked > 500 && left_out > asked * 9 / 10);
	printf("# %zu policy/tree pairs; rt-only: %zu of %zu threads asked for alone left out by the filter\n", ran,
	       left_out, asked);
}

/* ---- what is not needed is not read ---- */

/* A sysctl-only mode plans and applies on a tree whose processes cannot
 * be read at all: no /proc/PID is opened. Before needs, apply_mode's
 * snapshot read every task and failed here. */
static void test_sysctl_only_reads_no_proc_pid(void **state)
{
	char *root = copy_fixture("kvm16"), *clean = copy_fixture("kvm16");
	struct apply_opts o = {0};
	struct apply_result *res = NULL;
	struct host *h = NULL, *hc = NULL;
	struct host_state *s = NULL, *ref;
	struct host_needs n;
	char err[512] = "", *a, *b;
	struct pol x;

	(void)state;
	poison(root, "proc/1");
	poison(root, "proc/2201");
	poison(root, "proc/812/task/813/stat");
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(host_open(clean, &hc), 0);
	/* the full snapshot trips on them */
	assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), -EXDEV);

	ref = snap(hc, &host_needs_all);
	assert_true(pol_load(&x, root, &ref->online, TEST_DATADIR "/plan/sysctl.conf", false, NULL));
	needs_of_policy(x.p, &n);
	s = snap(h, &n);
	assert_int_equal(s->n_tasks, 0);
	a = plan_text(hc, x.p, ref, false);
	b = plan_text(hc, x.p, s, false);
	assert_string_equal(a, b);
	free(a);
	free(b);
	host_state_free(s);

	/* apply, then revert: the journal holds sysctls only */
	assert_int_equal(apply_mode(h, x.p, &o, &res, err, sizeof(err)), 0);
	assert_false(res->failed);
	assert_true(res->counts[STEP_DONE] > 0);
	apply_result_free(res);
	res = NULL;
	{
		struct policy *v = NULL;
		struct pol vx;

		assert_true(pol_load(&vx, root, &ref->online, POLICIES "/vanilla.conf", false, NULL));
		v = vx.p;
		assert_int_equal(apply_mode(h, v, &o, &res, err, sizeof(err)), 0);
		assert_false(res->failed);
		assert_true(res->journal_removed);
		apply_result_free(res);
		pol_done(&vx);
	}

	host_state_free(ref);
	pol_done(&x);
	host_free(h);
	host_free(hc);
	rm_tree(root);
	rm_tree(clean);
}

/* The event path: a thread no rule can match costs its comm, and nothing
 * of it or its process is read but what decides. */
static void test_unmatched_thread_reads_comm_only(void **state)
{
	char *root = copy_fixture("kvm16");
	struct host *h = NULL;
	struct host_state *base, *s = NULL;
	struct host_thread_filter f;
	struct pol x;
	char err[512] = "";
	/* irqbalance's gmain thread and rtvm's vCPU 1 */
	const struct thread_ref gmain = {812, 813}, vcpu = {2201, 2206};

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	base = snap(h, &host_needs_all);
	assert_true(pol_load(&x, root, &base->online, POLICIES "/rt-only.conf", true, NULL));
	needs_thread_filter(x.p, &f);

	/* gmain: "vcpu:" and "vhost" fail on its comm; everything else of it
	 * and of its process is unreadable */
	poison(root, "proc/812/task/813/stat");
	poison(root, "proc/812/task/813/status");
	poison(root, "proc/812/cmdline");
	poison(root, "proc/812/comm");
	poison(root, "proc/812/cgroup");
	assert_int_equal(host_snapshot_threads_ex(h, base, &gmain, 1, false, &f, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_tasks, 0);
	host_state_free(s);
	/* without the filter it is read, and trips */
	assert_int_equal(host_snapshot_threads(h, base, &gmain, 1, false, &s, err, sizeof(err)), -EXDEV);
	/* CPU 1/KVM: its comm says vcpu:0-1; whether it is rtvm's, its
	 * cmdline (the process's comm, cgroup and status are not needed: rt-only
	 * sets priorities) */
	poison(root, "proc/2201/cgroup");
	poison(root, "proc/2201/task/2206/status");
	assert_int_equal(host_snapshot_threads_ex(h, base, &vcpu, 1, false, &f, &s, err, sizeof(err)), -EXDEV);
	/* its status is read once it is taken: apply compares a journal's CPUs */
	assert_non_null(strstr(err, "proc/2201/task/2206/status"));
	host_state_free(base);
	pol_done(&x);
	host_free(h);
	rm_tree(root);
}

static bool keep_813(void *userdata, pid_t tid)
{
	(void)userdata;
	return tid == 813;
}

static void test_keep(void **state)
{
	char *root = copy_fixture("kvm16");
	struct host *h = NULL;
	struct host_state *base, *s = NULL;
	struct host_thread_filter f;
	struct pol x;
	char err[512] = "";
	const struct thread_ref refs[] = {{812, 813}, {812, 812}};

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	base = snap(h, &host_needs_all);
	assert_true(pol_load(&x, root, &base->online, POLICIES "/rt-only.conf", true, NULL));
	needs_thread_filter(x.p, &f);
	assert_int_equal(host_snapshot_threads_ex(h, base, refs, 2, false, &f, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_tasks, 0);
	host_state_free(s);
	f.keep = keep_813;
	assert_int_equal(host_snapshot_threads_ex(h, base, refs, 2, false, &f, &s, err, sizeof(err)), 0);
	/* 813 in full (as much as the filter's fields), its leader as context */
	assert_int_equal(s->n_tasks, 2);
	assert_false(host_state_task(s, 813)->context_only);
	assert_true(host_state_task(s, 812)->context_only);
	assert_string_equal(host_state_task(s, 813)->comm, host_state_task(base, 813)->comm);
	assert_true(cpuset_equal(&host_state_task(s, 813)->cpus, &host_state_task(base, 813)->cpus));
	host_state_free(s);
	host_state_free(base);
	pol_done(&x);
	host_free(h);
	rm_tree(root);
}

/* status: the journal's values now from the snapshot status shows are the
 * values read one by one. */
static void test_status_from_snapshot(void **state)
{
	char *root = copy_fixture("kvm16");
	struct apply_opts o = {0};
	struct apply_result *res = NULL;
	struct apply_status *a = NULL, *b = NULL;
	struct host *h = NULL;
	struct host_state *s;
	char err[512] = "";
	struct pol x;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	s = snap(h, &host_needs_all);
	assert_true(pol_load(&x, root, &s->online, POLICIES "/dedicated.conf", true, NULL));
	host_state_free(s);
	assert_int_equal(apply_mode(h, x.p, &o, &res, err, sizeof(err)), 0);
	apply_result_free(res);
	/* one thread drifts, one exits */
	{
		char cmd[PATH_MAX + 128];

		snprintf(
		    cmd, sizeof(cmd),
		    "sed -i 's/^Cpus_allowed_list:.*/Cpus_allowed_list:\t0-15/' '%s/proc/2201/task/2205/status' && "
		    "rm -rf '%s/proc/2301/task/2305'",
		    root, root);
		assert_int_equal(system(cmd), 0);
	}
	s = snap(h, &needs_status);
	assert_int_equal(apply_status(h, &a, err, sizeof(err)), 0);
	assert_int_equal(apply_status_in(h, s, &b, err, sizeof(err)), 0);
	assert_int_equal(a->n_targets, b->n_targets);
	assert_true(a->n_targets > 100);
	assert_int_equal(a->n_drift, b->n_drift);
	assert_int_equal(a->n_gone, b->n_gone);
	assert_true(a->n_drift >= 1);
	assert_true(a->n_gone >= 1);
	for (size_t i = 0; i < a->n_targets; i++) {
		const char *x1 = a->targets[i].now, *x2 = b->targets[i].now;

		if ((!x1) != (!x2) || (x1 && strcmp(x1, x2) != 0))
			fail_msg("%s: read %s, from the snapshot %s", a->targets[i].e->target, x1 ? x1 : "(gone)",
				 x2 ? x2 : "(gone)");
		assert_int_equal(a->targets[i].drift, b->targets[i].drift);
	}
	apply_status_free(a);
	apply_status_free(b);
	/* a snapshot without the tasks: read one by one */
	host_state_free(s);
	s = snap(h, &(struct host_needs){.boot_id = true, .irqs = HOST_IRQ_ALL});
	assert_int_equal(apply_status_in(h, s, &b, err, sizeof(err)), 0);
	assert_true(b->n_drift >= 1);
	apply_status_free(b);
	host_state_free(s);
	pol_done(&x);
	host_free(h);
	rm_tree(root);
}

/* ---- what an event costs (printed, not asserted) ---- */

static double cpu_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int idle_fds[2];
static volatile pid_t idle_tid;

static void *idle_thread(void *arg)
{
	char c;

	(void)arg;
	idle_tid = gettid();
	(void)!read(idle_fds[0], &c, 1);
	return NULL;
}

/* CPU per call of the event path's snapshot, with and without the
 * filter, for an unmatched thread (under rt-only: "vm:rtvm vcpu:" and
 * "vm:rtvm vhost") and a matched one: on kvm16 in /dev/shm, and on the
 * running kernel (a thread of this process, and this process as QEMU's
 * stand-in is not possible: unmatched only). */
static void test_bench_event_path(void **state)
{
	char *root = copy_fixture("kvm16");
	const struct thread_ref unmatched = {812, 813}, matched = {2201, 2206};
	struct host *h = NULL, *k = NULL;
	struct host_state *base, *kbase, *s;
	struct host_thread_filter f;
	struct pol x, kx;
	char err[512];
	const int n = 2000;
	pthread_t th;
	pid_t tid = 0;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	base = snap(h, &host_needs_all);
	assert_true(pol_load(&x, root, &base->online, POLICIES "/rt-only.conf", true, NULL));
	needs_thread_filter(x.p, &f);
	for (int lean = 0; lean <= 1; lean++)
		for (int m = 0; m <= 1; m++) {
			const struct thread_ref *r = m ? &matched : &unmatched;
			double t0 = cpu_usec();

			for (int i = 0; i < n; i++) {
				assert_int_equal(
				    lean ? host_snapshot_threads_ex(h, base, r, 1, false, &f, &s, err, sizeof(err))
					 : host_snapshot_threads(h, base, r, 1, false, &s, err, sizeof(err)),
				    0);
				host_state_free(s);
			}
			printf("# kvm16 tree, rt-only, %s thread, %s: %.1f us CPU per event\n",
			       m ? "matched" : "unmatched", lean ? "filtered" : "full read", (cpu_usec() - t0) / n);
		}

	/* the running kernel: a thread of ours */
	assert_int_equal(pipe(idle_fds), 0);
	assert_int_equal(pthread_create(&th, NULL, idle_thread, NULL), 0);
	for (int i = 0; i < 5000 && !idle_tid; i++)
		usleep(1000);
	tid = idle_tid;
	assert_true(tid > 0);
	assert_int_equal(host_open(NULL, &k), 0);
	kbase = snap(k, &(struct host_needs){.boot_id = true, .irqs = HOST_IRQ_LIST});
	assert_true(pol_load(&kx, root, &kbase->online, POLICIES "/rt-only.conf", false, NULL));
	needs_thread_filter(kx.p, &f);
	for (int lean = 0; lean <= 1; lean++) {
		const struct thread_ref r = {getpid(), tid};
		double t0 = cpu_usec();

		for (int i = 0; i < n; i++) {
			assert_int_equal(
			    lean ? host_snapshot_threads_ex(k, kbase, &r, 1, false, &f, &s, err, sizeof(err))
				 : host_snapshot_threads(k, kbase, &r, 1, false, &s, err, sizeof(err)),
			    0);
			assert_int_equal(s->n_tasks, lean ? 0 : 2);
			host_state_free(s);
		}
		printf("# running kernel, rt-only, unmatched thread, %s: %.1f us CPU per event\n",
		       lean ? "filtered" : "full read", (cpu_usec() - t0) / n);
	}
	assert_int_equal(write(idle_fds[1], "x", 1), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(idle_fds[0]);
	close(idle_fds[1]);
	pol_done(&kx);
	host_state_free(kbase);
	host_free(k);
	pol_done(&x);
	host_state_free(base);
	host_free(h);
	rm_tree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_needs_of_shipped),
	    cmocka_unit_test(test_plan_lean_equals_full),
	    cmocka_unit_test(test_threads_lean_equals_full),
	    cmocka_unit_test(test_sysctl_only_reads_no_proc_pid),
	    cmocka_unit_test(test_unmatched_thread_reads_comm_only),
	    cmocka_unit_test(test_keep),
	    cmocka_unit_test(test_status_from_snapshot),
	    cmocka_unit_test(test_bench_event_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
