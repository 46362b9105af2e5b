/* The fixture of the transaction tests (test-apply, test-confirm,
 * test-status): a copied kvm16 tree with its host.conf, the dedicated and
 * rt-only policies, full applies as isoctl makes them and threads-only
 * applies as the daemon's event path makes them. Test-only; assertions via
 * cmocka. */
#ifndef TEST_APPLY_ENV_H
#define TEST_APPLY_ENV_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/apply.h"
#include "isolated/journal.h"
#include "isolated/util.h"
#include "tree-files.h"

/* Each test file uses some of these. Not inline: inlined into the tests,
 * read_rel's buffer makes gcc 12 see dangling pointers that are not. */
#define TEST_UNUSED __attribute__((unused))

#define FIXTURES TEST_DATADIR "/../fixtures"
#define POLICIES TEST_DATADIR "/../../policies"

/* ---- the tree ---- */

static TEST_UNUSED char *copy_tree(const char *name)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *d = util_sprintf("%s/test-apply.XXXXXX", base), cmd[PATH_MAX * 2 + 32];

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", FIXTURES, name, d);
	assert_int_equal(system(cmd), 0);
	return d;
}

static TEST_UNUSED char *read_rel(const char *root, const char *rel, size_t *ret_len)
{
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0;

	assert_true(dfd >= 0);
	assert_int_equal(util_read_at(dfd, rel, 1 << 24, &buf, &len), 0);
	close(dfd);
	if (ret_len)
		*ret_len = len;
	return buf;
}

/* A thread renamed as the kernel would show it: stat's comm, comm and
 * status's Name. */
static TEST_UNUSED void rename_thread(const char *root, int pid, int tid, const char *comm)
{
	char rel[128], *buf, *open_paren, *close_paren, *status, *name, *nl;

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
	buf = read_rel(root, rel, NULL);
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	assert_non_null(open_paren);
	assert_non_null(close_paren);
	*open_paren = '\0';
	putf(root, rel, "%s(%s%s", buf, comm, close_paren);
	free(buf);

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
	putf(root, rel, "%s\n", comm);

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", pid, tid);
	status = read_rel(root, rel, NULL);
	name = strstr(status, "Name:\t");
	assert_ptr_equal(name, status);
	nl = strchr(name, '\n');
	assert_non_null(nl);
	putf(root, rel, "Name:\t%s%s", comm, nl);
	free(status);
}

/* ---- policies and applies ---- */

struct env {
	char *root;
	struct host *h;
	struct hostconf *hc;
	struct policy *dedicated, *rt_only;
	struct policy vanilla;
	struct host_state *base; /* the daemon's last full snapshot */
};

static TEST_UNUSED struct policy *load_policy(struct env *e, const char *name)
{
	struct cpuset online = CPUSET_INIT;
	struct policy *p = NULL;
	struct diag d = {0};
	char path[PATH_MAX];
	int r;

	assert_int_equal(cpuset_set_range(&online, 0, 15), 0);
	snprintf(path, sizeof(path), "%s/%s.conf", POLICIES, name);
	r = policy_load(path, e->hc, &online, &p, &d);
	for (size_t i = 0; i < d.n; i++)
		print_error("%s\n", d.lines[i]);
	assert_int_equal(r, 0);
	diag_free(&d);
	cpuset_free(&online);
	return p;
}

static TEST_UNUSED int setup(void **state)
{
	/* kvm16's host.conf, with vCPU 3 of rtvm also RT (a QEMU thread
	 * renamed "CPU 3/KVM" then matches rt-vcpu) */
	static char *const hostconf[] = {"rt_cpus=6-7", "rt_nic=eth1", "rt_vm=rtvm", "rt_vcpus=0-1,3", NULL};
	struct cpuset online = CPUSET_INIT;
	struct env *e = calloc(1, sizeof(*e));
	struct diag d = {0};

	assert_non_null(e);
	e->root = copy_tree("kvm16");
	assert_int_equal(host_open(e->root, &e->h), 0);
	assert_int_equal(cpuset_set_range(&online, 0, 15), 0);
	assert_int_equal(hostconf_from_strv(hostconf, &online, &e->hc, &d), 0);
	cpuset_free(&online);
	e->dedicated = load_policy(e, "dedicated");
	e->rt_only = load_policy(e, "rt-only");
	e->vanilla = (struct policy){.name = (char *)"vanilla", .type = MODE_TYPE_VANILLA};
	*state = e;
	return 0;
}

static TEST_UNUSED int teardown(void **state)
{
	struct env *e = *state;

	host_state_free(e->base);
	policy_free(e->dedicated);
	policy_free(e->rt_only);
	hostconf_free(e->hc);
	host_free(e->h);
	rm_rf(e->root);
	free(e->root);
	free(e);
	return 0;
}

static TEST_UNUSED void print_result(const struct apply_result *res, const char *err)
{
	print_error("apply: %s\n", err);
	for (size_t i = 0; res && i < res->n_steps; i++)
		print_error("  step %s %s %s -> %s: %s %s\n", plan_action_kind_name(res->steps[i].e.kind),
			    res->steps[i].e.target, res->steps[i].e.before, res->steps[i].e.wanted,
			    apply_outcome_name(res->steps[i].outcome),
			    res->steps[i].message ? res->steps[i].message : "");
	for (size_t i = 0; res && res->notices && res->notices[i]; i++)
		print_error("  notice %s\n", res->notices[i]);
}

/* A full apply, as isoctl does it (the engine takes its own snapshot). */
static TEST_UNUSED void apply_full(struct env *e, const struct policy *p, const struct apply_confirm *confirm)
{
	struct apply_opts o = {.confirm = confirm};
	struct apply_result *res = NULL;
	char err[1024];
	int r;

	r = apply_mode(e->h, p, &o, &res, err, sizeof(err));
	if (r < 0 || res->failed) {
		print_result(res, err);
		fail_msg("apply %s: %d", p->name, r);
	}
	apply_result_free(res);
	/* what the daemon keeps for its event path */
	host_state_free(e->base);
	e->base = NULL;
	assert_int_equal(host_snapshot(e->h, &e->base, err, sizeof(err)), 0);
}

/* The daemon's event path: a partial snapshot of refs, a threads-only
 * apply. Returns apply_mode's value; *ret the result (NULL on error). */
static TEST_UNUSED int apply_threads(struct env *e, const struct policy *p, const struct thread_ref *refs, size_t n,
				     struct apply_result **ret, char *err, size_t errlen)
{
	struct host_state *s = NULL;
	struct apply_opts o = {.threads_only = true};
	struct apply_result *res = NULL;
	int r;

	r = host_snapshot_threads(e->h, e->base, refs, n, p->scope.kind == SCOPE_PROCESS, &s, err, errlen);
	if (r < 0)
		fail_msg("host_snapshot_threads: %d %s", r, err);
	o.state = s;
	r = apply_mode(e->h, p, &o, &res, err, errlen);
	/* the state is the caller's: still whole */
	assert_true(s->borrowed);
	host_state_free(s);
	*ret = r < 0 && !res ? NULL : res;
	return r;
}

static TEST_UNUSED struct apply_result *apply_threads_ok(struct env *e, const struct policy *p,
							 const struct thread_ref *refs, size_t n)
{
	struct apply_result *res = NULL;
	char err[1024] = "";
	int r = apply_threads(e, p, refs, n, &res, err, sizeof(err));

	if (r < 0 || !res || res->failed) {
		print_result(res, err);
		fail_msg("threads-only apply: %d", r);
	}
	return res;
}

/* ---- the journal ---- */

static TEST_UNUSED struct journal *journal_of(struct env *e)
{
	struct journal *j = NULL;
	char err[512];

	if (journal_load(e->h, &j, err, sizeof(err)) < 0)
		fail_msg("journal_load: %s", err);
	return j;
}

#endif
