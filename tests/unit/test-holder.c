/* Unit tests of the holder (daemon/holder.c) on copies of the kvm16 tree in
 * /dev/shm: bus methods give the documents and the errors isoctl would,
 * the mode held follows apply / revert, the confirmation timer takes an
 * unconfirmed mode back, only the caller that applied may confirm, an
 * interrupted transaction is undone at start, a thread renamed to an RT
 * vCPU name gets the RT rule at once, drift is found and enforced, and
 * revert-on-stop reverts. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon.h"
#include "isolated/apply.h"
#include "isolated/busapi.h"
#include "isolated/journal.h"
#include "isolated/modes.h"
#include "isolated/util.h"

#define FIXTURES TEST_DATADIR "/../fixtures"
#define POLICIES TEST_DATADIR "/../../policies"

/* ---- Trees ---- */

static const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");

	if (t && *t)
		return t;
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static int sh(const char *fmt, ...) ISO_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	r = system(cmd);
	free(cmd);
	return r;
}

static char *read_file(const char *root, const char *rel)
{
	char *path = util_sprintf("%s/%s", root, rel), *buf = NULL;
	size_t len = 0;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_non_null(path);
	assert_true(dfd >= 0);
	assert_int_equal(util_read_at(dfd, rel, 1 << 20, &buf, &len), 0);
	close(dfd);
	free(path);
	return buf;
}

static void write_file(const char *root, const char *rel, const char *content)
{
	char *path = util_sprintf("%s/%s", root, rel);
	FILE *f;

	assert_non_null(path);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* The value of "Key:" in a status file, stripped. */
static char *status_field(const char *root, pid_t tgid, pid_t tid, const char *key)
{
	char rel[128], *buf, *p, *end, *out;

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", tgid, tid);
	buf = read_file(root, rel);
	p = strstr(buf, key);
	assert_non_null(p);
	p += strlen(key);
	while (*p == ':' || *p == '\t' || *p == ' ')
		p++;
	end = strchr(p, '\n');
	out = strndup(p, end ? (size_t)(end - p) : strlen(p));
	free(buf);
	return out;
}

/* Another program's write: the vCPU thread 2205 of rtvm pinned from one
 * CPU list to another, in the tree. */
static void repin_vcpu(const char *root, const char *from, const char *to)
{
	char *st = read_file(root, "proc/2201/task/2205/status"), want[64], *p;

	snprintf(want, sizeof(want), "Cpus_allowed_list:\t%s", from);
	p = strstr(st, want);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p + strlen("Cpus_allowed_list:\t"), to, strlen(to));
	write_file(root, "proc/2201/task/2205/status", st);
	free(st);
}

/* stat fields 40 (rt_priority) and 41 (policy) of a tree thread. */
static void thread_sched(const char *root, pid_t tgid, pid_t tid, int *ret_policy, int *ret_prio)
{
	char rel[128], *buf, *p;
	int field = 3;
	long v[64] = {0};

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", tgid, tid);
	buf = read_file(root, rel);
	p = strrchr(buf, ')');
	assert_non_null(p);
	p += 2;
	/* p is at field 3 (state). */
	for (char *save = NULL, *t = strtok_r(p, " \n", &save); t && field < 64; t = strtok_r(NULL, " \n", &save))
		v[field++] = strtol(t, NULL, 10);
	*ret_prio = (int)v[40];
	*ret_policy = (int)v[41];
	free(buf);
}

/* ---- A holder on a tree ---- */

struct seen {
	unsigned mode_changed, drift, state_changed;
	char mode[64], previous[64];
};

static void on_mode_changed(void *userdata, const char *mode, const char *previous)
{
	struct seen *s = userdata;

	s->mode_changed++;
	snprintf(s->mode, sizeof(s->mode), "%s", mode);
	snprintf(s->previous, sizeof(s->previous), "%s", previous);
}

static void on_drift(void *userdata, json_object *report)
{
	struct seen *s = userdata;

	assert_non_null(report);
	s->drift++;
}

static void on_state_changed(void *userdata)
{
	struct seen *s = userdata;

	s->state_changed++;
}

struct fx {
	char *tree, *orig;
	char *policies; /* a private copy when a test adds policies */
	struct daemon_config cfg;
	sd_event *ev;
	struct holder *h;
	struct seen seen;
};

static char *copy_tree(const char *name)
{
	char *d = util_sprintf("%s/test-holder.XXXXXX", tmp_base());

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	assert_int_equal(sh("cp -a '%s/%s/.' '%s/'", FIXTURES, name, d), 0);
	return d;
}

/* rt_vcpus 0-3, so a thread renamed "CPU 3/KVM" in rtvm is an RT vCPU. */
static void fx_tree(struct fx *f)
{
	f->tree = copy_tree("kvm16");
	assert_int_equal(sh("sed -i 's/^rt_vcpus = .*/rt_vcpus = 0-3/' '%s/etc/isolated/host.conf'", f->tree), 0);
	/* The original as it is before anything runs: for "put back exactly". */
	f->orig = util_sprintf("%s.orig", f->tree);
	assert_int_equal(sh("cp -a '%s' '%s'", f->tree, f->orig), 0);
}

static void fx_config(struct fx *f)
{
	f->cfg.root = f->tree;
	f->cfg.hostconf_path = util_sprintf("%s/etc/isolated/host.conf", f->tree);
	f->cfg.hostconf_given = true;
	f->cfg.rescan_interval = 2;
	assert_int_equal(strv_push_dup(&f->cfg.policy_dirs, f->policies ? f->policies : POLICIES), 0);
}

static void fx_holder(struct fx *f)
{
	static const struct holder_events ev = {
	    .mode_changed = on_mode_changed, .drift = on_drift, .state_changed = on_state_changed};
	struct holder_events e = ev;

	if (!f->ev)
		assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(holder_new(&f->cfg, f->ev, &f->h), 0);
	e.userdata = &f->seen;
	holder_set_events(f->h, &e);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unsetenv("ISOLATED_CRASH_AFTER");
	fx_tree(f);
	fx_config(f);
	fx_holder(f);
	*state = f;
	return 0;
}

/* kvm16 with a cgroup v2 tree (gen-kvm16.py --variant v2), rt_vcpus 0-3. */
static int setup_v2(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unsetenv("ISOLATED_CRASH_AFTER");
	f->tree = util_sprintf("%s/test-holder.XXXXXX", tmp_base());
	assert_non_null(mkdtemp(f->tree));
	assert_int_equal(
	    sh("rmdir '%s' && python3 '%s/gen-kvm16.py' --variant v2 '%s' >/dev/null", f->tree, FIXTURES, f->tree), 0);
	assert_int_equal(sh("sed -i 's/^rt_vcpus = .*/rt_vcpus = 0-3/' '%s/etc/isolated/host.conf'", f->tree), 0);
	f->orig = util_sprintf("%s.orig", f->tree);
	assert_int_equal(sh("cp -a '%s' '%s'", f->tree, f->orig), 0);
	fx_config(f);
	fx_holder(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	holder_free(f->h);
	sd_event_unref(f->ev);
	sh("rm -rf '%s' '%s'", f->tree, f->orig);
	if (f->policies)
		sh("rm -rf '%s'", f->policies);
	free(f->tree);
	free(f->orig);
	free(f->policies);
	free(f->cfg.hostconf_path);
	free(f->cfg.mode);
	strv_free(f->cfg.policy_dirs);
	free(f);
	return 0;
}

static bool same_as_orig(const struct fx *f)
{
	return sh("diff -r '%s' '%s' >/dev/null", f->orig, f->tree) == 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *do_apply(struct fx *f, const char *mode, const struct holder_apply_opts *o, const struct caller *c)
{
	struct holder_apply_opts none = {0};
	struct op_error e = {0};
	json_object *doc = NULL;
	int r = holder_apply(f->h, mode, o ? o : &none, c, &doc, &e);

	if (r < 0)
		fail_msg("holder_apply %s: %d %s: %s", mode, r, e.name, e.message);
	op_error_done(&e);
	return doc;
}

static void do_revert(struct fx *f)
{
	struct op_error e = {0};
	json_object *doc = NULL;

	if (holder_revert(f->h, false, false, &doc, &e) < 0)
		fail_msg("holder_revert: %s: %s", e.name, e.message);
	assert_string_equal(jstr(doc, "result"), "applied");
	json_object_put(doc);
}

/* Run the loop until cond or about 10 s. */
#define RUN_UNTIL(f, cond)                                                                                             \
	do {                                                                                                           \
		for (int i_ = 0; i_ < 1000 && !(cond); i_++)                                                           \
			assert_true(sd_event_run((f)->ev, 10000) >= 0);                                                \
	} while (0)

/* ---- Tests ---- */

static void test_apply_status_plan_revert(void **state)
{
	struct fx *f = *state;
	struct op_error e = {0};
	json_object *doc, *held = NULL;
	char *v;

	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_string_equal(holder_state(f->h), "idle");
	assert_true(same_as_orig(f));

	doc = do_apply(f, "dedicated", NULL, NULL);
	assert_non_null(doc);
	assert_string_equal(jstr(doc, "result"), "applied");
	assert_string_equal(jstr(doc, "mode"), "dedicated");
	assert_string_equal(jstr(doc, "previous_mode"), "vanilla");
	json_object_put(doc);
	assert_string_equal(holder_mode(f->h), "dedicated");
	assert_string_equal(holder_state(f->h), "holding");
	assert_int_equal(f->seen.mode_changed, 1);
	assert_string_equal(f->seen.mode, "dedicated");
	assert_string_equal(f->seen.previous, "vanilla");
	assert_true(f->seen.state_changed >= 1);
	assert_non_null(strstr(holder_status_text(f->h), "Holding dedicated ("));
	v = read_file(f->tree, "proc/sys/kernel/timer_migration");
	assert_string_equal(v, "0\n");
	free(v);
	v = status_field(f->tree, 2201, 2205, "Cpus_allowed_list");
	assert_string_equal(v, "6-7");
	free(v);

	/* A dry run changes nothing, the mode held included. */
	{
		struct holder_apply_opts dry = {.dry_run = true};

		doc = do_apply(f, "rt-only", &dry, NULL);
		assert_string_equal(jstr(doc, "result"), "dry-run");
		json_object_put(doc);
		assert_string_equal(holder_mode(f->h), "dedicated");
		assert_int_equal(f->seen.mode_changed, 1);
	}

	assert_int_equal(holder_status(f->h, &doc, &e), 0);
	assert_true(json_object_object_get_ex(doc, "isolated", &held));
	assert_string_equal(jstr(held, "mode"), "dedicated");
	json_object_put(doc);

	assert_int_equal(holder_plan(f->h, "rt-only", NULL, &doc, &e), 0);
	assert_string_equal(jstr(doc, "mode"), "rt-only");
	json_object_put(doc);

	assert_int_equal(holder_list_modes(f->h, &doc, &e), 0);
	assert_true(json_object_is_type(doc, json_type_array) || json_object_is_type(doc, json_type_object));
	json_object_put(doc);

	do_revert(f);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_string_equal(holder_state(f->h), "idle");
	assert_int_equal(f->seen.mode_changed, 2);
	assert_string_equal(f->seen.mode, "vanilla");
	assert_string_equal(f->seen.previous, "dedicated");
	assert_true(same_as_orig(f));
}

static void expect_error(struct fx *f, const char *mode, const char *scope, const char *name, const char *needle)
{
	struct holder_apply_opts o = {.scope = scope};
	struct op_error e = {0};
	json_object *doc = NULL;
	int r = holder_apply(f->h, mode, &o, NULL, &doc, &e);

	assert_true(r < 0);
	assert_null(doc);
	assert_non_null(e.name);
	assert_string_equal(e.name, name);
	assert_non_null(e.message);
	if (!strstr(e.message, needle))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, needle);
	op_error_done(&e);
	assert_null(e.message);
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct op_error e = {0};
	json_object *doc = NULL;

	/* A policy directory with one broken mode. */
	holder_free(f->h);
	f->h = NULL;
	f->policies = util_sprintf("%s.policies", f->tree);
	assert_int_equal(sh("mkdir '%s' && cp '%s'/*.conf '%s'/", f->policies, POLICIES, f->policies), 0);
	write_file(f->policies, "broken.conf", "[mode]\nname = broken\ntype = nonsense\n");
	strv_free(f->cfg.policy_dirs);
	f->cfg.policy_dirs = NULL;
	assert_int_equal(strv_push_dup(&f->cfg.policy_dirs, f->policies), 0);
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);

	expect_error(f, "nosuch", NULL, ISOLATED_BUS_ERROR_POLICY, "isoctl: unknown mode \"nosuch\"");
	expect_error(f, "../etc", NULL, ISOLATED_BUS_ERROR_ARGUMENT, "invalid mode name");
	expect_error(f, "broken", NULL, ISOLATED_BUS_ERROR_POLICY, "broken.conf:3:");
	expect_error(f, "dedicated", "process:notapid", ISOLATED_BUS_ERROR_ARGUMENT, "--scope process:notapid");
	assert_int_equal(holder_plan(f->h, "nosuch", NULL, &doc, &e), -EINVAL);
	assert_string_equal(e.name, ISOLATED_BUS_ERROR_POLICY);
	op_error_done(&e);
	/* Nothing was changed by any of them. */
	assert_int_equal(f->seen.mode_changed, 0);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_true(same_as_orig(f));
}

static void test_confirm_timeout(void **state)
{
	struct fx *f = *state;
	struct holder_apply_opts o = {.confirm_usec = 300000};
	struct caller c = {.uid = 1000, .pid = 1, .session = "7"};
	json_object *doc;
	char *v;
	int policy, prio;

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "rt-only", NULL, NULL));
	doc = do_apply(f, "dedicated", &o, &c);
	assert_string_equal(jstr(doc, "result"), "applied");
	json_object_put(doc);
	assert_string_equal(holder_mode(f->h), "dedicated");
	assert_string_equal(holder_state(f->h), "awaiting-confirmation");
	assert_non_null(strstr(holder_status_text(f->h), "then back to rt-only"));
	f->seen.mode_changed = 0;

	RUN_UNTIL(f, f->seen.mode_changed > 0);
	assert_int_equal(f->seen.mode_changed, 1);
	assert_string_equal(f->seen.mode, "rt-only");
	assert_string_equal(f->seen.previous, "dedicated");
	assert_string_equal(holder_mode(f->h), "rt-only");
	assert_string_equal(holder_state(f->h), "holding");
	/* rt-only again: CPUs shared, the vCPU FIFO 70. */
	v = status_field(f->tree, 2201, 2205, "Cpus_allowed_list");
	assert_string_equal(v, "0-15");
	free(v);
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(policy, 1);
	assert_int_equal(prio, 70);
	v = read_file(f->tree, "proc/sys/kernel/timer_migration");
	assert_string_equal(v, "1\n");
	free(v);

	do_revert(f);
	assert_true(same_as_orig(f));
}

static void test_confirm_owner(void **state)
{
	struct fx *f = *state;
	struct holder_apply_opts o = {.confirm_usec = 60ULL * 1000000};
	struct caller owner = {.uid = 1000, .pid = 1, .session = "7"};
	struct caller other_uid = {.uid = 1001, .pid = 1, .session = "7"};
	struct caller other_session = {.uid = 1000, .pid = 1, .session = "8"};
	struct op_error e = {0};
	json_object *doc = NULL;

	assert_int_equal(holder_start(f->h), 0);
	/* Nothing to confirm yet. */
	assert_true(holder_confirm(f->h, &owner, &doc, &e) < 0);
	assert_string_equal(e.name, ISOLATED_BUS_ERROR_NOT_PENDING);
	op_error_done(&e);

	json_object_put(do_apply(f, "dedicated", &o, &owner));
	assert_string_equal(holder_state(f->h), "awaiting-confirmation");

	assert_true(holder_confirm(f->h, &other_uid, &doc, &e) < 0);
	assert_string_equal(e.name, ISOLATED_BUS_ERROR_NOT_OWNER);
	op_error_done(&e);
	assert_true(holder_confirm(f->h, &other_session, &doc, &e) < 0);
	assert_string_equal(e.name, ISOLATED_BUS_ERROR_NOT_OWNER);
	op_error_done(&e);
	assert_string_equal(holder_state(f->h), "awaiting-confirmation");

	assert_int_equal(holder_confirm(f->h, &owner, &doc, &e), 0);
	assert_string_equal(jstr(doc, "confirmed"), "dedicated");
	json_object_put(doc);
	assert_string_equal(holder_state(f->h), "holding");
	assert_string_equal(holder_mode(f->h), "dedicated");

	assert_true(holder_confirm(f->h, &owner, &doc, &e) < 0);
	assert_string_equal(e.name, ISOLATED_BUS_ERROR_NOT_PENDING);
	op_error_done(&e);
	do_revert(f);
	assert_true(same_as_orig(f));
}

/* The deadline passed while the daemon was down: the next start goes back. */
static void test_confirm_expired_while_down(void **state)
{
	struct fx *f = *state;
	struct holder_apply_opts o = {.confirm_usec = 1};
	struct caller c = {.uid = 0};

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "dedicated", &o, &c));
	/* "Crash" before the loop runs: the timer never fires. */
	holder_free(f->h);
	f->h = NULL;
	usleep(2000);
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_string_equal(holder_state(f->h), "idle");
	assert_true(same_as_orig(f));
}

/* A confirmation window whose deadline does not fit in the journal's 64-bit
 * microseconds is refused, and nothing is applied: now + UINT64_MAX as a
 * signed number is in the past (applied, then taken back at once), now +
 * INT64_MAX overflows. The bus refuses more than 24 h before this; the
 * holder does not rely on it. */
static void test_confirm_overflow(void **state)
{
	static const unsigned long long huge[] = {INT64_MAX, INT64_MAX - 1000, (unsigned long long)INT64_MAX + 1,
						  UINT64_MAX};
	struct fx *f = *state;
	struct caller c = {.uid = 0};

	assert_int_equal(holder_start(f->h), 0);
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		struct holder_apply_opts o = {.confirm_usec = huge[i]};
		struct op_error e = {0};
		json_object *doc = NULL;
		int r = holder_apply(f->h, "dedicated", &o, &c, &doc, &e);

		if (r >= 0)
			fail_msg("confirm_usec %llu: applied (%s)", huge[i], json_object_to_json_string(doc));
		assert_string_equal(e.name, ISOLATED_BUS_ERROR_ARGUMENT);
		assert_non_null(strstr(e.message, "confirm-within"));
		assert_null(doc);
		op_error_done(&e);
		assert_string_equal(holder_mode(f->h), "vanilla");
		assert_string_equal(holder_state(f->h), "idle");
	}
	assert_int_equal(f->seen.mode_changed, 0);
	assert_true(same_as_orig(f));
}

/* A child applies with ISOLATED_CRASH_AFTER and is killed mid-transaction;
 * a new holder's start undoes it. */
static void crash_child(struct fx *f, const char *point, const char *mode)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct holder *h = NULL;
		struct op_error e = {0};
		json_object *doc = NULL;
		sd_event *ev = NULL;

		setenv("ISOLATED_CRASH_AFTER", point, 1);
		if (sd_event_new(&ev) < 0 || holder_new(&f->cfg, ev, &h) < 0 || holder_start(h) < 0)
			_exit(3);
		if (strcmp(mode, "vanilla") == 0)
			holder_revert(h, false, false, &doc, &e);
		else
			holder_apply(h, mode, &(struct holder_apply_opts){0}, NULL, &doc, &e);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

static bool journal_has_txn(const struct fx *f)
{
	struct host *h = NULL;
	struct journal *j = NULL;
	char err[256];
	bool r;

	assert_int_equal(host_open(f->tree, &h), 0);
	assert_int_equal(journal_load(h, &j, err, sizeof(err)), 0);
	r = j->has_txn;
	journal_free(j);
	host_free(h);
	return r;
}

static void test_recovery_at_start(void **state)
{
	struct fx *f = *state;

	/* The first apply, killed after its 5th write: nothing held, the
	 * start undoes the 5 writes. */
	holder_free(f->h);
	f->h = NULL;
	crash_child(f, "5", "dedicated");
	assert_false(same_as_orig(f));
	assert_true(journal_has_txn(f));
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_string_equal(holder_state(f->h), "idle");
	assert_true(same_as_orig(f));

	/* dedicated held, a revert killed after 3 writes: the start undoes the
	 * revert's writes and holds dedicated again. */
	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	holder_free(f->h);
	f->h = NULL;
	crash_child(f, "3", "vanilla");
	assert_true(journal_has_txn(f));
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "dedicated");
	assert_string_equal(holder_state(f->h), "holding");
	assert_false(journal_has_txn(f));
	do_revert(f);
	assert_true(same_as_orig(f));
}

/* QEMU names its vCPU threads after creating them: the comm event. */
static void test_thread_renamed(void **state)
{
	struct fx *f = *state;
	struct thread_ref refs[] = {{2201, 2211}};
	char *v, *stat, *p;
	int policy, prio;

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	v = status_field(f->tree, 2201, 2211, "Cpus_allowed_list");
	assert_string_equal(v, "0-5,8-15");
	free(v);

	/* "worker" becomes "CPU 3/KVM": comm and stat's (comm). */
	write_file(f->tree, "proc/2201/task/2211/comm", "CPU 3/KVM\n");
	stat = read_file(f->tree, "proc/2201/task/2211/stat");
	p = strstr(stat, "(worker)");
	assert_non_null(p);
	{
		char *fixed = util_sprintf("%.*s(CPU 3/KVM)%s", (int)(p - stat), stat, p + strlen("(worker)"));

		write_file(f->tree, "proc/2201/task/2211/stat", fixed);
		free(fixed);
	}
	free(stat);

	holder_threads(f->h, refs, 1);
	v = status_field(f->tree, 2201, 2211, "Cpus_allowed_list");
	assert_string_equal(v, "6-7");
	free(v);
	thread_sched(f->tree, 2201, 2211, &policy, &prio);
	assert_int_equal(policy, 1);
	assert_int_equal(prio, 51);
	/* Everything else as it was: the other vCPUs still RT, a housekeeping
	 * thread still on housekeeping CPUs. */
	v = status_field(f->tree, 2201, 2205, "Cpus_allowed_list");
	assert_string_equal(v, "6-7");
	free(v);
	v = status_field(f->tree, 2201, 2212, "Cpus_allowed_list");
	assert_string_equal(v, "0-5,8-15");
	free(v);

	/* Revert puts the renamed thread back as it was before dedicated. */
	do_revert(f);
	v = status_field(f->tree, 2201, 2211, "Cpus_allowed_list");
	assert_string_equal(v, "0-15");
	free(v);
	thread_sched(f->tree, 2201, 2211, &policy, &prio);
	assert_int_equal(policy, 0);
}

/* Rename "CPU NAME/KVM" in a tree: its comm and stat's (comm). */
static void rename_thread(struct fx *f, pid_t tgid, pid_t tid, const char *from, const char *to)
{
	char path[PATH_MAX], old[64], *stat, *p, *fixed;

	snprintf(path, sizeof(path), "proc/%d/task/%d/comm", (int)tgid, (int)tid);
	fixed = util_sprintf("%s\n", to);
	write_file(f->tree, path, fixed);
	free(fixed);
	snprintf(path, sizeof(path), "proc/%d/task/%d/stat", (int)tgid, (int)tid);
	stat = read_file(f->tree, path);
	snprintf(old, sizeof(old), "(%s)", from);
	p = strstr(stat, old);
	assert_non_null(p);
	fixed = util_sprintf("%.*s(%s)%s", (int)(p - stat), stat, to, p + strlen(old));
	write_file(f->tree, path, fixed);
	free(fixed);
	free(stat);
}

/* The event path leaves out a thread no rule can match, having read its
 * comm, and writes no journal for it; but one the journal holds is read
 * in full and restored when no rule wants it any more. */
static void test_thread_renamed_away(void **state)
{
	struct fx *f = *state;
	struct thread_ref vcpu0 = {2201, 2205}, worker = {2201, 2211};
	char path[PATH_MAX];
	struct stat before, after;
	int policy, prio;

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "rt-only", NULL, NULL));
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(policy, 1);
	assert_int_equal(prio, 70);

	/* An unmatched thread: nothing written, not even the journal. */
	snprintf(path, sizeof(path), "%s/run/isolated/journal", f->tree);
	assert_int_equal(stat(path, &before), 0);
	holder_threads(f->h, &worker, 1);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

	/* vCPU 0 renamed: rt-only's rules cannot match it now (its comm
	 * tells), but the journal holds it: back to what it was. */
	rename_thread(f, 2201, 2205, "CPU 0/KVM", "worker-0");
	holder_threads(f->h, &vcpu0, 1);
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(policy, 0);
	assert_int_equal(prio, 0);
	/* and once restored it is not the journal's: the next event for it
	 * leaves it out like any other */
	holder_threads(f->h, &vcpu0, 1);
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(policy, 0);

	/* renamed back: RT again */
	rename_thread(f, 2201, 2205, "worker-0", "CPU 0/KVM");
	holder_threads(f->h, &vcpu0, 1);
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(policy, 1);
	assert_int_equal(prio, 70);
	do_revert(f);
}

/* The thread's cgroup in the tree's cgroup v2 line. */
static bool in_cgroup(struct fx *f, pid_t tgid, pid_t tid, const char *suffix)
{
	char path[PATH_MAX], *line;
	bool yes;

	snprintf(path, sizeof(path), "proc/%d/task/%d/cgroup", (int)tgid, (int)tid);
	line = read_file(f->tree, path);
	yes = strstr(line, suffix) != NULL;
	free(line);
	return yes;
}

/* A new vCPU thread of the RT VM while dedicated holds a partition: the
 * event path pins it at once, and the re-plan it arms moves it into the
 * partition, which the event path alone cannot (it reads no cgroups). */
static void test_thread_into_partition(void **state)
{
	struct fx *f = *state;
	struct thread_ref worker = {2201, 2211};

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	assert_true(in_cgroup(f, 2201, 2205, "/libvirt/isolated-rt\n"));
	assert_true(in_cgroup(f, 2201, 2211, "/libvirt/emulator\n"));

	rename_thread(f, 2201, 2211, "worker", "CPU 3/KVM");
	holder_threads(f->h, &worker, 1);
	for (int i = 0; i < 20 && !in_cgroup(f, 2201, 2211, "/libvirt/isolated-rt\n"); i++)
		assert_true(sd_event_run(f->ev, 100000) >= 0);
	assert_true(in_cgroup(f, 2201, 2211, "/libvirt/isolated-rt\n"));
	{
		char *v = status_field(f->tree, 2201, 2211, "Cpus_allowed_list");

		assert_string_equal(v, "6-7");
		free(v);
	}
	do_revert(f);
	assert_true(in_cgroup(f, 2201, 2211, "/libvirt/emulator\n"));
}

/* Nothing held: the event path does nothing at all. */
static void test_threads_idle(void **state)
{
	struct fx *f = *state;
	struct thread_ref refs[] = {{2201, 2205}};

	assert_int_equal(holder_start(f->h), 0);
	holder_threads(f->h, refs, 1);
	holder_rescan(f->h, "test");
	holder_devices_changed(f->h, "test");
	assert_int_equal(sd_event_run(f->ev, 100000), 0);
	assert_true(same_as_orig(f));
}

/* What isoctl --direct does: a transaction of its own on the tree. */
static void direct_apply(struct fx *f, const char *mode)
{
	struct host *h = NULL;
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct apply_result *res = NULL;
	struct apply_opts o = {0};
	struct cpuset online = CPUSET_INIT;
	struct diag d = {0};
	char err[512], *buf;

	assert_int_equal(host_open(f->tree, &h), 0);
	buf = read_file(f->tree, "sys/devices/system/cpu/online");
	assert_int_equal(cpuset_parse_list(buf, &online, err, sizeof(err)), 0);
	free(buf);
	assert_int_equal(hostconf_load(f->cfg.hostconf_path, &online, &hc, &d), 0);
	assert_int_equal(modes_load(f->cfg.policy_dirs, hc, &online, mode, &p, &d), MODES_OK);
	assert_int_equal(apply_mode(h, p, &o, &res, err, sizeof(err)), 0);
	assert_false(res->failed);
	apply_result_free(res);
	policy_free(p);
	hostconf_free(hc);
	cpuset_free(&online);
	diag_free(&d);
	host_free(h);
}

/* isoctl --direct switched the mode behind the daemon: the next re-plan
 * (or verify) follows the journal instead of undoing the administrator's
 * choice. */
static void test_adopts_direct_changes(void **state)
{
	struct fx *f = *state;
	struct op_error e = {0};
	json_object *doc = NULL;
	char *v;
	int policy, prio;

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	direct_apply(f, "rt-only");
	holder_rescan(f->h, "test");
	RUN_UNTIL(f, strcmp(holder_mode(f->h), "rt-only") == 0);
	assert_string_equal(holder_mode(f->h), "rt-only");
	assert_string_equal(holder_state(f->h), "holding");
	/* rt-only is what is in force, not dedicated re-applied. */
	v = status_field(f->tree, 2201, 2205, "Cpus_allowed_list");
	assert_string_equal(v, "0-15");
	free(v);
	thread_sched(f->tree, 2201, 2205, &policy, &prio);
	assert_int_equal(prio, 70);

	direct_apply(f, "vanilla");
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_string_equal(holder_mode(f->h), "vanilla");
	assert_string_equal(holder_state(f->h), "idle");
	assert_true(same_as_orig(f));
}

/* Another program moves the RT vCPU: verify finds it; with enforce it is
 * put back. */
static void test_drift(void **state)
{
	struct fx *f = *state;
	struct op_error e = {0};
	json_object *doc = NULL, *en = NULL;
	char *v;

	assert_int_equal(holder_start(f->h), 0);
	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	repin_vcpu(f->tree, "6-7", "0-1");

	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	assert_true(json_object_object_get_ex(doc, "enforced", &en));
	assert_false(json_object_get_boolean(en));
	json_object_put(doc);
	assert_int_equal(f->seen.drift, 1);
	assert_string_equal(holder_state(f->h), "drifted");

	/* enforce = yes: the same pass puts it back. */
	holder_free(f->h);
	f->h = NULL;
	f->cfg.enforce = true;
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	assert_true(json_object_object_get_ex(doc, "enforced", &en));
	assert_true(json_object_get_boolean(en));
	json_object_put(doc);
	assert_string_equal(holder_state(f->h), "holding");
	v = status_field(f->tree, 2201, 2205, "Cpus_allowed_list");
	assert_string_equal(v, "6-7");
	free(v);
	do_revert(f);
	assert_true(same_as_orig(f));
}

/* mode = in the configuration is applied at start; the journal's mode is
 * held by a later start without it; revert-on-stop reverts. */
/* The value of a path of keys ("isolated", "mode") in o, as JSON text. */
static const char *jpath(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
		return "(absent)";
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* The summary follows what is held, from memory; its generation changes
 * exactly when it does, not for reads. */
static void test_summary(void **state)
{
	struct fx *f = *state;
	struct holder_apply_opts o = {.confirm_usec = 60ULL * 1000000};
	struct caller c = {.uid = 1000, .pid = 1, .session = "7"};
	struct op_error e = {0};
	json_object *doc = NULL, *sum;
	unsigned long long g;

	assert_int_equal(holder_start(f->h), 0);
	sum = holder_summary(f->h);
	assert_string_equal(jpath(sum, "summary", NULL), "true");
	assert_string_equal(jpath(sum, "isolated", "mode"), "\"vanilla\"");
	assert_string_equal(jpath(sum, "isolated", "state"), "\"idle\"");
	assert_string_equal(jpath(sum, "isolated", "applied_at"), "null");
	assert_string_equal(jpath(sum, "isolated", "scope"), "null");
	assert_string_equal(jpath(sum, "isolated", "managed"), "0");
	assert_string_equal(jpath(sum, "isolated", "confirm"), "null");
	g = holder_generation(f->h);

	json_object_put(do_apply(f, "dedicated", NULL, NULL));
	assert_true(holder_generation(f->h) != g);
	g = holder_generation(f->h);
	sum = holder_summary(f->h);
	assert_string_equal(jpath(sum, "isolated", "mode"), "\"dedicated\"");
	assert_string_equal(jpath(sum, "isolated", "scope"), "\"host\"");
	assert_string_equal(jpath(sum, "isolated", "state"), "\"holding\"");
	assert_string_equal(jpath(sum, "isolated", "managed"), "166");
	assert_string_equal(jpath(sum, "isolated", "drift"), "0");
	assert_true(
	    json_object_get_int64(json_object_object_get(json_object_object_get(sum, "isolated"), "applied_at")) > 0);

	/* reads change nothing */
	assert_int_equal(holder_status(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_int_equal(holder_plan(f->h, "rt-only", NULL, &doc, &e), 0);
	json_object_put(doc);
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_int_equal(holder_generation(f->h), g);

	/* drift found and left: the count and the state */
	repin_vcpu(f->tree, "6-7", "0-1");
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_true(holder_generation(f->h) != g);
	g = holder_generation(f->h);
	sum = holder_summary(f->h);
	assert_string_equal(jpath(sum, "isolated", "state"), "\"drifted\"");
	assert_string_equal(jpath(sum, "isolated", "drift"), "1");
	/* the same drift again: the same summary */
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_int_equal(holder_generation(f->h), g);
	/* put back by hand: no drift any more */
	repin_vcpu(f->tree, "0-1", "6-7");
	assert_int_equal(holder_verify(f->h, &doc, &e), 0);
	json_object_put(doc);
	assert_string_equal(jpath(holder_summary(f->h), "isolated", "state"), "\"holding\"");

	/* awaiting confirmation: the deadline and where it goes back to */
	json_object_put(do_apply(f, "rt-only", &o, &c));
	sum = holder_summary(f->h);
	assert_string_equal(jpath(sum, "isolated", "mode"), "\"rt-only\"");
	assert_string_equal(jpath(sum, "isolated", "state"), "\"awaiting-confirmation\"");
	assert_string_equal(jpath(sum, "isolated", "drift"), "0");
	assert_string_equal(jpath(json_object_object_get(sum, "isolated"), "confirm", "previous_mode"),
			    "\"dedicated\"");
	assert_string_equal(jpath(json_object_object_get(sum, "isolated"), "confirm", "uid"), "1000");
	do_revert(f);
	sum = holder_summary(f->h);
	assert_string_equal(jpath(sum, "isolated", "mode"), "\"vanilla\"");
	assert_string_equal(jpath(sum, "isolated", "applied_at"), "null");
	assert_true(same_as_orig(f));
}

static void test_start_mode_and_stop(void **state)
{
	struct fx *f = *state;
	char *v;

	holder_free(f->h);
	f->h = NULL;
	f->cfg.mode = strdup("dedicated");
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "dedicated");
	assert_string_equal(holder_state(f->h), "holding");
	v = read_file(f->tree, "proc/sys/kernel/timer_migration");
	assert_string_equal(v, "0\n");
	free(v);
	/* Stop without revert-on-stop: the mode stays. */
	assert_int_equal(holder_stop(f->h), 0);
	holder_free(f->h);
	f->h = NULL;
	assert_false(same_as_orig(f));

	free(f->cfg.mode);
	f->cfg.mode = NULL;
	f->cfg.revert_on_stop = true;
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	assert_string_equal(holder_mode(f->h), "dedicated");
	assert_int_equal(holder_stop(f->h), 0);
	assert_true(same_as_orig(f));
}

/* A missing host.conf: revert and status still work, apply says what
 * isoctl says. */
static void test_no_hostconf(void **state)
{
	struct fx *f = *state;
	struct op_error e = {0};
	json_object *doc = NULL;

	holder_free(f->h);
	f->h = NULL;
	free(f->cfg.hostconf_path);
	f->cfg.hostconf_path = util_sprintf("%s/etc/isolated/nonexistent.conf", f->tree);
	f->cfg.hostconf_given = false;
	fx_holder(f);
	assert_int_equal(holder_start(f->h), 0);
	expect_error(f, "dedicated", NULL, ISOLATED_BUS_ERROR_POLICY, "nonexistent.conf: not found: copy ");
	assert_int_equal(holder_status(f->h, &doc, &e), 0);
	json_object_put(doc);
	do_revert(f);
	assert_true(same_as_orig(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_apply_status_plan_revert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_expired_while_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_at_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thread_renamed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thread_renamed_away, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thread_into_partition, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopts_direct_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_mode_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_hostconf, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
