/* Unit tests of the journal (lib/journal.c, lib/journal-file.c): format/parse
 * round trips, every truncation and byte flip of a checkpoint rejected, every
 * prefix and flip of a file of records read as an earlier state or rejected,
 * each kind of defect with its message (format 2 and format 1), records
 * proportional to what changed, durable save/load on a tree, and the lock
 * between processes. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "isolated/journal.h"
#include "isolated/util.h"
#include "tree-files.h"

#define JOURNAL_DATA TEST_DATADIR "/journal"

/* ---- building journals ---- */

static struct journal_entry ent(enum action_kind kind, const char *target, const char *label, const char *rule,
				unsigned irq, pid_t tid, pid_t tgid, unsigned long long starttime, const char *pristine,
				const char *wanted, const char *before)
{
	return (struct journal_entry){
	    .kind = kind,
	    .target = (char *)target,
	    .label = (char *)label,
	    .rule = (char *)rule,
	    .irq = irq,
	    .tid = tid,
	    .tgid = tgid,
	    .starttime = starttime,
	    .pristine = (char *)pristine,
	    .wanted = (char *)wanted,
	    .before = (char *)before,
	};
}

static void add_target(struct journal *j, struct journal_entry e)
{
	assert_int_equal(journal_add_target(j, &e), 0);
}

static void add_step(struct journal *j, struct journal_entry e)
{
	assert_int_equal(journal_add_step(j, &e), 0);
}

static void set_str(char **p, const char *s)
{
	free(*p);
	*p = strdup(s);
	assert_non_null(*p);
}

/* A host in dedicated mode: targets of every kind, n_threads vCPU threads
 * (affinity and sched each), and an open transaction of n_steps writes. */
static struct journal *realistic(size_t n_threads, size_t n_steps, bool txn)
{
	struct journal *j = journal_new("2f1c9a0e-6b3d-4c55-9e8e-0d4c1a7b9f21");
	char target[32], label[96], cpus[16];

	assert_non_null(j);
	set_str(&j->mode, "dedicated");
	set_str(&j->scope, "host");
	j->applied_at = 1767225600;
	add_target(j, ent(ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "sysctl", 0, 0, 0, 0, "1",
			  "0", NULL));
	add_target(j, ent(ACTION_SYSCTL, "kernel.sched_rt_runtime_us", "kernel.sched_rt_runtime_us", "sysctl", 0, 0, 0,
			  0, "950000", "-1", NULL));
	add_target(
	    j, ent(ACTION_SYSCTL, "kernel.numa_balancing", "kernel.numa_balancing", NULL, 0, 0, 0, 0, "1", "0", NULL));
	add_target(j, ent(ACTION_CPUMASK, "cpumask/irq_default", "default IRQ affinity", "cpumask", 0, 0, 0, 0, "0-7",
			  "0-1", NULL));
	add_target(j, ent(ACTION_CPUMASK, "cpumask/workqueue", "unbound workqueues", "cpumask", 0, 0, 0, 0, "0-7",
			  "0-1", NULL));
	for (unsigned irq = 40; irq < 44; irq++) {
		snprintf(target, sizeof(target), "irq/%u", irq);
		snprintf(label, sizeof(label), "eth1-rx-%u", irq - 40);
		add_target(
		    j, ent(ACTION_IRQ_AFFINITY, target, label, "housekeeping-irqs", irq, 0, 0, 0, "0-7", "0-1", NULL));
	}
	for (size_t i = 0; i < n_threads; i++) {
		pid_t tid = 2205 + (pid_t)i;

		snprintf(target, sizeof(target), "tid/%d", tid);
		snprintf(label, sizeof(label), "CPU %zu/KVM (qemu-system-x86 2201)", i);
		snprintf(cpus, sizeof(cpus), "%zu", 2 + i);
		add_target(j, ent(ACTION_THREAD_AFFINITY, target, label, "rt-vcpu", 0, tid, 2201, 123456789ULL + i,
				  "0-7", cpus, NULL));
		add_target(j, ent(ACTION_THREAD_SCHED, target, label, "rt-vcpu", 0, tid, 2201, 123456789ULL + i,
				  "other", "fifo:50", NULL));
	}
	/* the sched of an IRQ thread keeps its IRQ */
	add_target(j, ent(ACTION_THREAD_SCHED, "tid/912", "irq/41-eth1-rx-1", "irq-threads", 41, 912, 912, 880,
			  "fifo:50", "fifo:60", NULL));
	if (!txn)
		return j;
	j->has_txn = true;
	set_str(&j->txn_mode, "rt-only");
	j->txn_started = 1767229200;
	j->txn_pid = 4321;
	for (size_t i = 0; i < n_steps; i++) {
		bool sched = i % 2;

		snprintf(target, sizeof(target), "tid/%zu", 3000 + i);
		add_step(j, ent(sched ? ACTION_THREAD_SCHED : ACTION_THREAD_AFFINITY, target, "vhost-2201", "rt-vhost",
				0, 3000 + (pid_t)i, 2201, 999 + i, sched ? "other" : "0-7", sched ? "fifo:55" : "2-3",
				sched ? "other" : "0-7"));
	}
	add_step(j, ent(ACTION_SYSCTL, "kernel.timer_migration", "kernel.timer_migration", "sysctl", 0, 0, 0, 0, "1",
			"1", "0"));
	add_step(j, ent(ACTION_IRQ_AFFINITY, "irq/40", "eth1-rx-0", NULL, 40, 0, 0, 0, "0-7", "0-7", "0-1"));
	return j;
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_entry_equal(const struct journal_entry *a, const struct journal_entry *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->target, b->target);
	assert_string_equal(a->label, b->label);
	assert_str_or_null_equal(a->rule, b->rule);
	assert_int_equal(a->irq, b->irq);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->tgid, b->tgid);
	assert_true(a->starttime == b->starttime);
	assert_string_equal(a->pristine, b->pristine);
	assert_string_equal(a->wanted, b->wanted);
	assert_str_or_null_equal(a->before, b->before);
}

static void assert_journal_equal(const struct journal *a, const struct journal *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_string_equal(a->mode, b->mode);
	assert_string_equal(a->scope, b->scope);
	assert_true(a->applied_at == b->applied_at);
	assert_int_equal(a->n_targets, b->n_targets);
	for (size_t i = 0; i < a->n_targets; i++)
		assert_entry_equal(&a->targets[i], &b->targets[i]);
	assert_int_equal(a->has_confirm, b->has_confirm);
	if (a->has_confirm) {
		assert_true(a->confirm_deadline == b->confirm_deadline);
		assert_string_equal(a->confirm_previous_mode, b->confirm_previous_mode);
		assert_string_equal(a->confirm_previous_scope, b->confirm_previous_scope);
		assert_int_equal(a->confirm_uid, b->confirm_uid);
		assert_str_or_null_equal(a->confirm_session, b->confirm_session);
	}
	assert_int_equal(a->has_txn, b->has_txn);
	if (!a->has_txn)
		return;
	assert_string_equal(a->txn_mode, b->txn_mode);
	assert_true(a->txn_started == b->txn_started);
	assert_int_equal(a->txn_pid, b->txn_pid);
	assert_int_equal(a->n_steps, b->n_steps);
	for (size_t i = 0; i < a->n_steps; i++)
		assert_entry_equal(&a->steps[i], &b->steps[i]);
}

static char *format(const struct journal *j, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(journal_format(j, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	*ret_len = len;
	return buf;
}

static struct journal *parse_ok(const char *buf, size_t len)
{
	struct journal *j = NULL;
	char err[256] = "";
	int r = journal_parse(buf, len, &j, err, sizeof(err));

	if (r < 0)
		fail_msg("parse failed (%d): %s", r, err);
	assert_non_null(j);
	return j;
}

/* format -> parse -> format: same bytes, same fields */
static void assert_round_trip(const struct journal *j)
{
	size_t len1, len2;
	char *a = format(j, &len1), *b;
	struct journal *p = parse_ok(a, len1);

	assert_journal_equal(j, p);
	b = format(p, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(a, b, len1);
	free(a);
	free(b);
	journal_free(p);
}

/* JSON sealed with a trailer computed here, with zlib, independently of
 * lib/journal.c: for files that are well-formed but wrong inside. */
static char *seal_len(const char *json, size_t n, size_t *ret_len)
{
	char *buf = malloc(n + 2 + 40);
	uLong crc;

	assert_non_null(buf);
	memcpy(buf, json, n);
	buf[n++] = '\n';
	crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)buf, (uInt)n);
	*ret_len = n + (size_t)snprintf(buf + n, 40, "end %zu %08lx\n", n, (unsigned long)crc);
	return buf;
}

static char *seal(const char *json, size_t *ret_len)
{
	return seal_len(json, strlen(json), ret_len);
}

/* A format-2 frame "K LENGTH PCRC HCRC\n" + payload, computed here with
 * zlib. */
static uint32_t crc_of(const char *buf, size_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)buf, (uInt)n);
}

static char *frame_len(char kind, const char *payload, size_t n, size_t *ret_len)
{
	char first[64], head[96];
	int f = snprintf(first, sizeof(first), "%c %zu %08lx", kind, n, (unsigned long)crc_of(payload, n));
	int hn = snprintf(head, sizeof(head), "%s %08lx\n", first, (unsigned long)crc_of(first, (size_t)f));
	char *buf = malloc((size_t)hn + n + 1);

	assert_non_null(buf);
	memcpy(buf, head, (size_t)hn);
	memcpy(buf + hn, payload, n);
	buf[(size_t)hn + n] = '\0';
	*ret_len = (size_t)hn + n;
	return buf;
}

/* JSON as the checkpoint of a format-2 file (the payload ends in a newline). */
static char *seal2_len(const char *json, size_t n, size_t *ret_len)
{
	char *payload = malloc(n + 1), *buf;

	assert_non_null(payload);
	memcpy(payload, json, n);
	payload[n] = '\n';
	buf = frame_len('c', payload, n + 1, ret_len);
	free(payload);
	return buf;
}

static char *seal2(const char *json, size_t *ret_len)
{
	return seal2_len(json, strlen(json), ret_len);
}

static struct journal sentinel_j;
#define SENTINEL (&sentinel_j)

/* Must fail with -EBADMSG, a one-line message containing want, *ret untouched. */
static void assert_parse_fails(const char *buf, size_t len, const char *want)
{
	struct journal *j = SENTINEL;
	char err[512] = "";
	/* an exact-size copy, so that ASan sees any read past len */
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = journal_parse(copy, len, &j, err, sizeof(err));
	free(copy);
	if (r != -EBADMSG || j != SENTINEL || (want && !strstr(err, want)))
		fail_msg("parse of %zu bytes: r=%d, err \"%s\", wanted \"%s\"", len, r, err, want ? want : "");
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
}

/* The same JSON as a format-1 file and as the checkpoint of a format-2
 * one: the same judgement. */
static void assert_json_fails(const char *json, const char *want)
{
	size_t len;
	char *buf = seal(json, &len);

	assert_parse_fails(buf, len, want);
	free(buf);
	buf = seal2(json, &len);
	assert_parse_fails(buf, len, want);
	free(buf);
}

/* A table of JSON bodies, sealed: want NULL parses, else fails saying want. */
struct json_case {
	const char *json, *want;
};

static void run_json_cases(const struct json_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *buf;

		if (cases[i].want) {
			assert_json_fails(cases[i].json, cases[i].want);
			continue;
		}
		buf = seal(cases[i].json, &len);
		journal_free(parse_ok(buf, len));
		free(buf);
		buf = seal2(cases[i].json, &len);
		journal_free(parse_ok(buf, len));
		free(buf);
	}
}

/* ---- in memory ---- */

static void test_new(void **state)
{
	struct journal *j = journal_new(NULL), *p;
	size_t len;
	char *buf;

	(void)state;
	assert_non_null(j);
	assert_int_equal(j->version, JOURNAL_VERSION);
	assert_string_equal(j->boot_id, "");
	assert_string_equal(j->mode, "vanilla");
	assert_string_equal(j->scope, "host");
	assert_int_equal(j->n_targets, 0);
	assert_false(j->has_txn);
	buf = format(j, &len);
	/* the exact layout, pinned: other tools and older readers see this */
	{
		static const char want_json[] =
		    "{\"format\":\"isolated-journal\",\"version\":2,\"boot_id\":\"\","
		    "\"mode\":\"vanilla\",\"scope\":\"host\",\"applied_at\":0,\"targets\":[]}";
		size_t wlen;
		char *want = seal2(want_json, &wlen);

		assert_string_equal(buf, want);
		assert_int_equal(len, wlen);
		free(want);
	}
	p = parse_ok(buf, len);
	assert_journal_equal(j, p);
	journal_free(p);
	free(buf);
	journal_free(j);
	journal_free(NULL);
}

static void test_round_trip(void **state)
{
	struct journal *j = realistic(3, 4, true), *c;
	struct journal_entry *e;

	(void)state;
	assert_round_trip(j);
	/* the same journal without its transaction */
	journal_clear_txn(j);
	assert_false(j->has_txn);
	assert_null(j->steps);
	assert_int_equal(j->n_steps, 0);
	assert_round_trip(j);
	/* an open transaction with no step yet */
	j->has_txn = true;
	set_str(&j->txn_mode, "vanilla");
	j->txn_pid = 1;
	j->txn_started = -5;
	j->applied_at = INT64_MAX;
	assert_round_trip(j);

	/* a copy is deep: changing it leaves the original alone */
	assert_int_equal(journal_copy(j, &c), 0);
	assert_journal_equal(j, c);
	e = journal_find(c, ACTION_THREAD_SCHED, "tid/2205");
	assert_non_null(e);
	set_str(&e->wanted, "rr:10");
	assert_string_equal(journal_find(j, ACTION_THREAD_SCHED, "tid/2205")->wanted, "fifo:50");
	journal_free(c);

	/* extreme numbers survive */
	e = journal_find(j, ACTION_THREAD_AFFINITY, "tid/2205");
	e->starttime = UINT64_MAX;
	e->tid = INT_MAX;
	set_str(&e->target, "tid/2147483647");
	e = journal_find(j, ACTION_IRQ_AFFINITY, "irq/40");
	e->irq = UINT_MAX;
	set_str(&e->target, "irq/4294967295");
	e = journal_find(j, ACTION_THREAD_SCHED, "tid/912");
	e->irq = UINT_MAX;
	assert_round_trip(j);
	journal_free(j);
}

static void test_escapes(void **state)
{
	static const char *const strings[] = {
	    "say \"hi\"",
	    "back\\slash",
	    "tab\there",
	    "new\nline",
	    "\x01\x1f\x7f",
	    "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\xa7",
	    "CPU 0/KVM (qemu-system-x86 2201)",
	    "a/b//c",
	    "\xff\xfe not UTF-8: a comm may be any bytes",
	    "",
	};
	struct journal *j = journal_new("x\"y\\z");

	(void)state;
	assert_non_null(j);
	/* Free text: labels, rules, modes, scopes, and sysctl values (any
	 * bytes but a newline). */
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		char target[32];
		const char *s = strings[i], *v = strchr(s, '\n') ? "1" : s;

		snprintf(target, sizeof(target), "tid/%zu", 100 + i);
		add_target(j,
			   ent(ACTION_THREAD_SCHED, target, s, s, 0, 100 + (pid_t)i, 100, i, "other", "fifo:1", NULL));
		snprintf(target, sizeof(target), "kernel.escape%zu", i);
		add_target(j, ent(ACTION_SYSCTL, target, s, NULL, 0, 0, 0, 0, v, v, NULL));
	}
	set_str(&j->mode, "mode \"quoted\" \xc3\xa9");
	set_str(&j->scope, "cgroup:/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope");
	j->has_txn = true;
	set_str(&j->txn_mode, "tab\tmode");
	j->txn_pid = 77;
	add_step(j, ent(ACTION_SYSCTL, "kernel.escape", "\"", "\\", 0, 0, 0, 0, "\t", "4096\t87380", "\xc3\xa9"));
	assert_round_trip(j);

	/* no "\/" (NOSLASHESCAPE), and the escapes of JSON */
	{
		size_t len;
		char *buf = format(j, &len);

		assert_non_null(strstr(buf, "\"cgroup:/machine.slice/machine-qemu\\\\x2d1\\\\x2drtvm.scope\""));
		assert_non_null(strstr(buf, "\"say \\\"hi\\\"\""));
		assert_non_null(strstr(buf, "\"tab\\there\""));
		assert_null(strstr(buf, "\\/"));
		free(buf);
	}
	journal_free(j);
}

static void test_entries(void **state)
{
	struct journal *j = realistic(2, 0, false);
	struct journal_entry e = {0}, *f;
	size_t n = j->n_targets;

	(void)state;
	/* (kind, target): a thread has two */
	f = journal_find(j, ACTION_THREAD_AFFINITY, "tid/2206");
	assert_non_null(f);
	assert_string_equal(f->wanted, "3");
	f = journal_find(j, ACTION_THREAD_SCHED, "tid/2206");
	assert_non_null(f);
	assert_string_equal(f->wanted, "fifo:50");
	assert_null(journal_find(j, ACTION_SYSCTL, "tid/2206"));
	assert_null(journal_find(j, ACTION_THREAD_SCHED, "tid/9999"));

	/* removing keeps the order of the rest */
	assert_string_equal(j->targets[1].target, "kernel.sched_rt_runtime_us");
	journal_remove_target(j, 1);
	assert_int_equal(j->n_targets, n - 1);
	assert_string_equal(j->targets[0].target, "kernel.timer_migration");
	assert_string_equal(j->targets[1].target, "kernel.numa_balancing");
	assert_null(journal_find(j, ACTION_SYSCTL, "kernel.sched_rt_runtime_us"));
	journal_remove_target(j, j->n_targets - 1);
	assert_int_equal(j->n_targets, n - 2);
	assert_null(journal_find(j, ACTION_THREAD_SCHED, "tid/912"));
	journal_remove_target(j, j->n_targets); /* out of range: nothing */
	assert_int_equal(j->n_targets, n - 2);
	while (j->n_targets)
		journal_remove_target(j, 0);
	assert_round_trip(j);

	/* entry copies are deep, done frees and clears */
	{
		struct journal_entry src =
		    ent(ACTION_IRQ_AFFINITY, "irq/9", "acpi", NULL, 9, 0, 0, 0, "0-3", "0", NULL);

		assert_int_equal(journal_entry_copy(&e, &src), 0);
		assert_ptr_not_equal(e.target, src.target);
		assert_entry_equal(&e, &src);
		journal_entry_done(&e);
		assert_null(e.target);
		assert_null(e.pristine);
		journal_entry_done(&e); /* twice is harmless */
	}
	journal_free(j);
}

/* Journals the engine could build but must never write: they would not
 * read back. */
static void test_format_invalid(void **state)
{
	static const struct {
		const char *what;
		bool step;
		struct journal_entry e;
	} cases[] = {
	    {"step without before", true, {ACTION_SYSCTL, "a.b", "a.b", NULL, 0, 0, 0, 0, "1", "0", NULL}},
	    {"target with before", false, {ACTION_SYSCTL, "a.c", "a.c", NULL, 0, 0, 0, 0, "1", "0", "1"}},
	    {"thread without tid",
	     false,
	     {ACTION_THREAD_SCHED, "tid/5", "x", NULL, 0, 0, 5, 1, "other", "fifo:1", NULL}},
	    {"empty target", false, {ACTION_SYSCTL, "", "x", NULL, 0, 0, 0, 0, "1", "0", NULL}},
	    {"no pristine", false, {ACTION_SYSCTL, "a.d", "x", NULL, 0, 0, 0, 0, NULL, "0", NULL}},
	    {"bad kind", false, {_ACTION_KIND_MAX, "a.e", "x", NULL, 0, 0, 0, 0, "1", "0", NULL}},
	    {"duplicate", false, {ACTION_SYSCTL, "kernel.timer_migration", "x", NULL, 0, 0, 0, 0, "1", "0", NULL}},
	    /* what the entries mean (test_meaning) */
	    {"tid not as its target says",
	     false,
	     {ACTION_THREAD_SCHED, "tid/../../../etc", "x", NULL, 0, 1, 1, 1, "fifo:99", "other", NULL}},
	    {"leading zero", false, {ACTION_THREAD_AFFINITY, "tid/05", "x", NULL, 0, 5, 5, 1, "0-1", "1", NULL}},
	    {"irq not as its target says",
	     false,
	     {ACTION_IRQ_AFFINITY, "irq/7", "x", NULL, 8, 0, 0, 0, "0-1", "1", NULL}},
	    {"not a sysctl name", false, {ACTION_SYSCTL, "a/b", "x", NULL, 0, 0, 0, 0, "1", "0", NULL}},
	    {"not a cpumask", false, {ACTION_CPUMASK, "cpumask/x", "x", NULL, 0, 0, 0, 0, "0-1", "1", NULL}},
	    {"irq on a sysctl", false, {ACTION_SYSCTL, "a.f", "x", NULL, 3, 0, 0, 0, "1", "0", NULL}},
	    {"irq on a thread's affinity",
	     false,
	     {ACTION_THREAD_AFFINITY, "tid/6", "x", NULL, 3, 6, 6, 1, "0-1", "1", NULL}},
	    {"tid on an IRQ", false, {ACTION_IRQ_AFFINITY, "irq/3", "x", NULL, 3, 7, 0, 0, "0-1", "1", NULL}},
	    {"cpus as sched", false, {ACTION_THREAD_SCHED, "tid/6", "x", NULL, 0, 6, 6, 1, "0-7", "other", NULL}},
	    {"sched as cpus", true, {ACTION_CPUMASK, "cpumask/workqueue", "x", NULL, 0, 0, 0, 0, "0-1", "1", "other"}},
	    {"sysctl with a newline", false, {ACTION_SYSCTL, "a.g", "x", NULL, 0, 0, 0, 0, "1\n", "0", NULL}},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct journal *j = realistic(1, 1, true);
		char *buf = (char *)SENTINEL;
		size_t len = 12345;

		/* added by hand: journal_add_* copies and would refuse NULLs */
		if (strcmp(cases[i].what, "duplicate") == 0) {
			/* refused when added: no journal in memory holds one */
			assert_int_equal(journal_add_target(j, &cases[i].e), -EEXIST);
			journal_free(j);
			continue;
		}
		if (cases[i].step)
			assert_int_equal(journal_add_step(j, &cases[i].e), 0);
		else if (cases[i].e.pristine)
			assert_int_equal(journal_add_target(j, &cases[i].e), 0);
		else {
			free(j->targets[0].pristine);
			j->targets[0].pristine = NULL;
		}
		if (journal_format(j, &buf, &len) != -EINVAL)
			fail_msg("%s: formatted", cases[i].what);
		assert_ptr_equal(buf, SENTINEL);
		assert_int_equal(len, 12345);
		journal_free(j);
	}
	{
		struct journal *j = realistic(0, 0, true);
		char *buf = (char *)SENTINEL;

		j->txn_pid = 0;
		assert_int_equal(journal_format(j, &buf, NULL), -EINVAL);
		j->txn_pid = 1;
		set_str(&j->mode, "");
		assert_int_equal(journal_format(j, &buf, NULL), -EINVAL);
		assert_ptr_equal(buf, SENTINEL);
		journal_free(j);
	}
}

/* ---- parsing damaged files ---- */

/* A file of one checkpoint cut anywhere: refused (there is no earlier state). */
static void test_truncation(void **state)
{
	struct journal *j = realistic(6, 5, true);
	size_t len;
	char *buf = format(j, &len);

	(void)state;
	assert_true(len > 2000);
	assert_true(j->n_targets >= 10);
	for (size_t n = 0; n < len; n++) {
		char want[96];

		if (n == 0)
			snprintf(want, sizeof(want), "empty file");
		else
			snprintf(want, sizeof(want), "truncated: the checkpoint is cut short (file is %zu bytes)", n);
		assert_parse_fails(buf, n, want);
	}
	/* and the whole of it does parse */
	journal_free(parse_ok(buf, len));
	free(buf);
	journal_free(j);
}

static char *read_data(const char *name, size_t *ret_len)
{
	int dfd = open(JOURNAL_DATA, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *file;

	assert_true(dfd >= 0);
	assert_int_equal(util_read_at(dfd, name, 1 << 20, &file, ret_len), 0);
	close(dfd);
	return file;
}

/* The same of a format-1 file (as an isolated before format 2 left it). */
static void test_truncation_v1(void **state)
{
	size_t len;
	char *buf = read_data("v1-dedicated", &len);
	const char *trailer = strstr(buf, "\nend ") + 1;
	size_t tstart = (size_t)(trailer - buf);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		char want[96];

		if (n == 0)
			snprintf(want, sizeof(want), "empty file");
		else if (n < tstart + 4)
			snprintf(want, sizeof(want), "truncated: no end line (file is %zu bytes)", n);
		else
			snprintf(want, sizeof(want), "truncated: incomplete end line");
		assert_parse_fails(buf, n, want);
	}
	journal_free(parse_ok(buf, len));
	free(buf);
}

static void test_flips(void **state)
{
	static const unsigned char masks[] = {0x01, 0x80, 0x20, 0xff};
	struct journal *j = realistic(1, 1, true);
	size_t len, rejected = 0, tried = 0;
	char *buf = format(j, &len);

	(void)state;
	for (size_t m = 0; m < ARRAY_SIZE(masks); m++)
		for (size_t i = 0; i < len; i++) {
			struct journal *p = SENTINEL;
			char err[256] = "";
			int r;

			buf[i] ^= (char)masks[m];
			r = journal_parse(buf, len, &p, err, sizeof(err));
			buf[i] ^= (char)masks[m];
			tried++;
			if (r == -EBADMSG) {
				assert_ptr_equal(p, SENTINEL);
				assert_true(err[0] != '\0');
				rejected++;
				continue;
			}
			/* only acceptable if it is the same journal */
			assert_int_equal(r, 0);
			{
				size_t plen;
				char *again = format(p, &plen);

				assert_int_equal(plen, len);
				assert_memory_equal(again, buf, len);
				free(again);
				journal_free(p);
			}
		}
	/* the CRC makes every single-byte change fatal */
	assert_int_equal(rejected, tried);
	free(buf);
	journal_free(j);

	/* and of a format-1 file */
	buf = read_data("v1-dedicated", &len);
	for (size_t m = 0; m < ARRAY_SIZE(masks); m++)
		for (size_t i = 0; i < len; i++) {
			struct journal *p = SENTINEL;
			char err[256] = "";
			int r;

			buf[i] ^= (char)masks[m];
			r = journal_parse(buf, len, &p, err, sizeof(err));
			buf[i] ^= (char)masks[m];
			assert_int_equal(r, -EBADMSG);
			assert_ptr_equal(p, SENTINEL);
			assert_true(err[0] != '\0');
		}
	free(buf);
}

/* A valid journal with one target and one step, to edit into defects. */
#define ENTRY_SYSCTL                                                                                                   \
	"{\"kind\":\"sysctl\",\"target\":\"kernel.timer_migration\",\"label\":\"kernel.timer_migration\","             \
	"\"pristine\":\"1\",\"wanted\":\"0\"}"
#define ENTRY_AB "{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"a.b\",\"pristine\":\"1\",\"wanted\":\"0\"}"
#define HEAD "\"format\":\"isolated-journal\",\"version\":1,\"boot_id\":\"b\",\"mode\":\"m\",\"scope\":\"host\","
#define J(targets, rest) "{" HEAD "\"applied_at\":0,\"targets\":[" targets "]" rest "}"
#define TXN(steps) ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"pid\":5,\"steps\":[" steps "]}"
#define STEP                                                                                                           \
	"{\"kind\":\"thread-sched\",\"target\":\"tid/5\",\"label\":\"t\",\"tid\":5,\"tgid\":5,\"starttime\":9,"        \
	"\"pristine\":\"other\",\"wanted\":\"fifo:1\",\"before\":\"other\"}"

static void test_errors(void **state)
{
	static const struct json_case cases[] = {
	    /* the base cases parse: the defects below are each one change */
	    {J(ENTRY_SYSCTL, TXN(STEP)), NULL},
	    {J("", ""), NULL},
	    {"[]", "not an isolated journal (the JSON is an array, not an object)"},
	    {"{}", "not an isolated journal (no \"format\")"},
	    {"{\"format\":\"other\"}", "not an isolated journal (format \"other\")"},
	    {"{\"format\":\"isolated-journal\",\"version\":0}", "bad version 0"},
	    {"{\"format\":\"isolated-journal\",\"version\":\"1\"}", "\"version\" is a string, expected an integer"},
	    {"{\"format\":\"isolated-journal\",\"version\":3,\"future\":[]}",
	     "written by a newer isolated (version 3)"},
	    {"{\"format\":\"isolated-journal\",\"version\":1.0}", "\"version\" is a fraction, expected an integer"},
	    {"{" HEAD "\"applied_at\":0,\"targets\":[],\"extra\":1}", "unknown key \"extra\""},
	    {"{" HEAD "\"targets\":[]}", "missing \"applied_at\""},
	    {"{" HEAD "\"applied_at\":0}", "missing \"targets\""},
	    {"{" HEAD "\"applied_at\":0,\"targets\":{}}", "\"targets\" is an object, expected an array"},
	    {J("", ",\"transaction\":[]"), "\"transaction\" is an array, expected an object"},
	    {"{\"format\":\"isolated-journal\",\"version\":1,\"boot_id\":\"b\",\"mode\":\"\",\"scope\":\"host\","
	     "\"applied_at\":0,\"targets\":[]}",
	     "empty \"mode\""},
	    {J("", ",") /* trailing comma */, "bad JSON at byte"},
	    {"{\"format\": }", "bad JSON at byte 11: "},
	    {"{\"format\":\"isolated-journal\"", "bad JSON at byte 29: unexpected end"},
	    {J("1", ""), "targets[0]: is an integer, expected an object"},
	    {J("{\"kind\":\"foo\"}", ""), "targets[0]: unknown kind \"foo\""},
	    {J("", TXN("{\"kind\":\"foo\"}")), "transaction.steps[0]: unknown kind \"foo\""},
	    {J(ENTRY_SYSCTL ",{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"a.b\",\"wanted\":\"0\"}", ""),
	     "targets[1]: missing \"pristine\""},
	    {J("{\"kind\":\"thread-sched\",\"target\":\"tid/5\",\"label\":\"t\",\"tid\":\"5\"}", ""),
	     "targets[0]: \"tid\" is a string, expected an integer"},
	    {J("{\"kind\":\"thread-sched\",\"target\":\"tid/5\",\"label\":\"t\",\"tgid\":5,\"starttime\":1,"
	       "\"pristine\":\"other\",\"wanted\":\"fifo:1\"}",
	       ""),
	     "targets[0]: missing \"tid\""},
	    {J("{\"kind\":\"thread-sched\",\"target\":\"tid/5\",\"label\":\"t\",\"tid\":0,\"tgid\":5,"
	       "\"starttime\":1,\"pristine\":\"other\",\"wanted\":\"fifo:1\"}",
	       ""),
	     "targets[0]: \"tid\" out of range: 0"},
	    {J("{\"kind\":\"thread-sched\",\"target\":\"tid/5\",\"label\":\"t\",\"tid\":5,\"tgid\":5,"
	       "\"starttime\":-1,\"pristine\":\"other\",\"wanted\":\"fifo:1\"}",
	       ""),
	     "targets[0]: \"starttime\" out of range: -1"},
	    {J("{\"kind\":\"irq-affinity\",\"target\":\"irq/1\",\"label\":\"t\",\"irq\":4294967296,"
	       "\"pristine\":\"0\",\"wanted\":\"1\"}",
	       ""),
	     "targets[0]: \"irq\" out of range: 4294967296"},
	    {J("{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"t\",\"tid\":5,\"pristine\":\"0\",\"wanted\":\"1\"}",
	       ""),
	     "targets[0]: \"tid\", \"tgid\" and \"starttime\" are only for threads"},
	    {J("{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"t\",\"rule\":null,\"pristine\":\"0\","
	       "\"wanted\":\"1\"}",
	       ""),
	     "targets[0]: \"rule\" is null, expected a string"},
	    {J("{\"kind\":\"sysctl\",\"target\":\"\",\"label\":\"t\",\"pristine\":\"0\",\"wanted\":\"1\"}", ""),
	     "targets[0]: empty \"target\""},
	    {J("{\"kind\":\"sysctl\",\"target\":\"a\\u0000b\",\"label\":\"t\",\"pristine\":\"0\",\"wanted\":\"1\"}",
	       ""),
	     "targets[0]: \"target\" contains a NUL byte"},
	    {J("{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"t\",\"pristine\":\"0\",\"wanted\":\"1\","
	       "\"before\":\"0\"}",
	       ""),
	     "targets[0]: \"before\" in a target"},
	    {J("{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"t\",\"pristine\":\"0\",\"wanted\":\"1\","
	       "\"colour\":\"0\"}",
	       ""),
	     "targets[0]: unknown key \"colour\""},
	    {J("", TXN("{\"kind\":\"sysctl\",\"target\":\"a.b\",\"label\":\"t\",\"pristine\":\"0\",\"wanted\":\"1\"}")),
	     "transaction.steps[0]: missing \"before\""},
	    {J(ENTRY_SYSCTL "," ENTRY_AB "," ENTRY_SYSCTL, ""),
	     "targets[2]: duplicate of targets[0] (sysctl kernel.timer_migration)"},
	    {J("", ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"steps\":[]}"), "transaction: missing \"pid\""},
	    {J("", ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"pid\":-3,\"steps\":[]}"),
	     "transaction: \"pid\" out of range: -3"},
	    {J("", ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"pid\":3,\"steps\":[],\"x\":1}"),
	     "transaction: unknown key \"x\""},
	};

	(void)state;
	run_json_cases(cases, ARRAY_SIZE(cases));
}

/* Defects of the file around the JSON: the trailer and what the CRC guards. */
/* ---- apply unless confirmed ---- */

#define CONFIRM(body) J(ENTRY_SYSCTL, ",\"confirm\":{" body "}")
#define CONFIRM_OK                                                                                                     \
	"\"deadline\":1767225660000000,\"previous_mode\":\"rt-only\",\"previous_scope\":\"host\",\"uid\":1000"

/* ---- what the entries mean ---- */

/* Entries of each kind, to vary one field at a time. */
#define V(p, w) "\"pristine\":\"" p "\",\"wanted\":\"" w "\""
#define VB(p, w, b) V(p, w) ",\"before\":\"" b "\""
#define SYSCTL_E(target, extra, vals) "{\"kind\":\"sysctl\",\"target\":\"" target "\",\"label\":\"l\"," extra vals "}"
#define MASK_E(target, extra, vals) "{\"kind\":\"cpumask\",\"target\":\"" target "\",\"label\":\"l\"," extra vals "}"
#define IRQ_E(target, extra, vals)                                                                                     \
	"{\"kind\":\"irq-affinity\",\"target\":\"" target "\",\"label\":\"l\"," extra vals "}"
#define THREAD_E(kind, target, tid, extra, vals)                                                                       \
	"{\"kind\":\"" kind "\",\"target\":\"" target "\",\"label\":\"l\",\"tid\":" tid ",\"tgid\":" tid               \
	",\"starttime\":1," extra vals "}"
#define SCHED_MSG "is not a scheduling value (other, batch, idle, fifo:N or rr:N with N in 1..99)"

/* The target is the canonical form of the entry's fields, the fields are
 * those of its kind, and the values parse as values of its kind: a journal
 * read back is acted on (revert writes pristine to the thread "tid" names),
 * so what it says must be what it means. */
static void test_meaning(void **state)
{
	static const struct json_case cases[] = {
	    /* issue 13, item 7: revert would set PID 1 to FIFO 99 */
	    {J(THREAD_E("thread-sched", "tid/../../../etc", "1", "", V("fifo:99", "other")), ""),
	     "targets[0]: target \"tid/../../../etc\" is not the canonical form tid/1 of its \"tid\""},
	    /* ... and a second entry for one thread passed the duplicate check */
	    {J(THREAD_E("thread-affinity", "tid/2205", "2205", "",
			V("0-7", "2")) "," THREAD_E("thread-affinity", "tid/02205", "2205", "", V("0-7", "3")),
	       ""),
	     "targets[1]: target \"tid/02205\" is not the canonical form tid/2205 of its \"tid\""},

	    /* targets, kind by kind */
	    {J(THREAD_E("thread-affinity", "tid/2205", "2205", "",
			V("0-7", "2")) "," THREAD_E("thread-sched", "tid/2205", "2205", "", V("other", "fifo:50")),
	       ""),
	     NULL},
	    {J(THREAD_E("thread-affinity", "tid/2205/sched", "2205", "", V("0-7", "2")), ""),
	     "targets[0]: target \"tid/2205/sched\" is not the canonical form tid/2205 of its \"tid\""},
	    {J(THREAD_E("thread-sched", "tid/+5", "5", "", V("other", "rr:1")), ""),
	     "targets[0]: target \"tid/+5\" is not the canonical form tid/5 of its \"tid\""},
	    {J(THREAD_E("thread-sched", "tid/6", "5", "", V("other", "rr:1")), ""),
	     "targets[0]: target \"tid/6\" is not the canonical form tid/5 of its \"tid\""},
	    {J(THREAD_E("thread-sched", "irq/5", "5", "", V("other", "rr:1")), ""),
	     "targets[0]: target \"irq/5\" is not the canonical form tid/5 of its \"tid\""},
	    {J("", TXN(THREAD_E("thread-sched", "tid/05", "5", "", VB("other", "fifo:1", "other")))),
	     "transaction.steps[0]: target \"tid/05\" is not the canonical form tid/5 of its \"tid\""},
	    {J(IRQ_E("irq/41", "\"irq\":41,", V("0-7", "0-1")), ""), NULL},
	    {J(IRQ_E("irq/41", "\"irq\":40,", V("0-7", "0-1")), ""),
	     "targets[0]: target \"irq/41\" is not the canonical form irq/40 of its \"irq\""},
	    {J(IRQ_E("irq/041", "\"irq\":41,", V("0-7", "0-1")), ""),
	     "targets[0]: target \"irq/041\" is not the canonical form irq/41 of its \"irq\""},
	    {J(IRQ_E("irq/41/../../../etc", "\"irq\":41,", V("0-7", "0-1")), ""),
	     "targets[0]: target \"irq/41/../../../etc\" is not the canonical form irq/41 of its \"irq\""},
	    /* IRQ 0: journal_format leaves "irq" out when it is 0 */
	    {J(IRQ_E("irq/0", "", V("0-7", "0-1")), ""), NULL},
	    {J(IRQ_E("irq/41", "", V("0-7", "0-1")), ""),
	     "targets[0]: target \"irq/41\" is not the canonical form irq/0 of its \"irq\""},
	    {J(SYSCTL_E("tid/../../../etc", "", V("1", "0")), ""),
	     "targets[0]: target \"tid/../../../etc\" is not a sysctl name"},
	    {J(SYSCTL_E("kernel/timer_migration", "", V("1", "0")), ""),
	     "targets[0]: target \"kernel/timer_migration\" is not a sysctl name"},
	    {J(SYSCTL_E("kernel..timer_migration", "", V("1", "0")), ""),
	     "targets[0]: target \"kernel..timer_migration\" is not a sysctl name"},
	    {J(SYSCTL_E("kernel.timer_migration\\n", "", V("1", "0")), ""),
	     "targets[0]: target \"kernel.timer_migration?\" is not a sysctl name"},
	    {J(MASK_E("cpumask/irq_default", "", V("0-7", "0-1")) "," MASK_E("cpumask/workqueue", "", V("0-7", "0-1")),
	       ""),
	     NULL},
	    {J(MASK_E("cpumask/irq_default/", "", V("0-7", "0-1")), ""),
	     "targets[0]: target \"cpumask/irq_default/\" is not cpumask/irq_default or cpumask/workqueue"},
	    {J(MASK_E("cpumask/../workqueue", "", V("0-7", "0-1")), ""),
	     "targets[0]: target \"cpumask/../workqueue\" is not cpumask/irq_default or cpumask/workqueue"},

	    /* the fields of a kind, even when 0 */
	    {J(SYSCTL_E("kernel.timer_migration", "\"irq\":3,", V("1", "0")), ""),
	     "targets[0]: \"irq\" is only for irq-affinity and thread-sched entries"},
	    {J(SYSCTL_E("kernel.timer_migration", "\"irq\":0,", V("1", "0")), ""),
	     "targets[0]: \"irq\" is only for irq-affinity and thread-sched entries"},
	    {J(MASK_E("cpumask/workqueue", "\"irq\":1,", V("0-7", "0-1")), ""),
	     "targets[0]: \"irq\" is only for irq-affinity and thread-sched entries"},
	    {J(THREAD_E("thread-affinity", "tid/5", "5", "\"irq\":41,", V("0-7", "2")), ""),
	     "targets[0]: \"irq\" is only for irq-affinity and thread-sched entries"},
	    /* the scheduling of an IRQ thread keeps its IRQ */
	    {J(THREAD_E("thread-sched", "tid/5", "5", "\"irq\":41,", V("fifo:50", "fifo:60")), ""), NULL},
	    {J(SYSCTL_E("kernel.timer_migration", "\"starttime\":0,", V("1", "0")), ""),
	     "targets[0]: \"tid\", \"tgid\" and \"starttime\" are only for threads"},
	    {J(MASK_E("cpumask/workqueue", "\"tid\":0,", V("0-7", "0-1")), ""),
	     "targets[0]: \"tid\", \"tgid\" and \"starttime\" are only for threads"},
	    {J(IRQ_E("irq/3", "\"irq\":3,\"tgid\":7,", V("0-7", "0-1")), ""),
	     "targets[0]: \"tid\", \"tgid\" and \"starttime\" are only for threads"},

	    /* values parse as values of the kind */
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("batch", "idle")) "," THREAD_E("thread-sched", "tid/6", "6",
											   "", V("rr:99", "fifo:1")),
	       ""),
	     NULL},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("0-7", "fifo:1")), ""),
	     "targets[0]: pristine \"0-7\" " SCHED_MSG},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("other", "fifo:100")), ""),
	     "targets[0]: wanted \"fifo:100\" " SCHED_MSG},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("deadline", "fifo:1")), ""),
	     "targets[0]: pristine \"deadline\" " SCHED_MSG},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("other", "FIFO:1")), ""),
	     "targets[0]: wanted \"FIFO:1\" " SCHED_MSG},
	    /* scheduling values compare as strings: one spelling each */
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("other", "fifo:050")), ""),
	     "targets[0]: wanted \"fifo:050\" is not the canonical form fifo:50"},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "", V("rr:+7", "other")), ""),
	     "targets[0]: pristine \"rr:+7\" is not the canonical form rr:7"},
	    {J("", TXN(THREAD_E("thread-sched", "tid/5", "5", "", VB("other", "fifo:1", "policy7:0")))),
	     "transaction.steps[0]: before \"policy7:0\" " SCHED_MSG},
	    {J(IRQ_E("irq/3", "\"irq\":3,", V("", "0-15:2/4")) "," MASK_E("cpumask/workqueue", "", V(" 0-3 ", "1,3")),
	       ""),
	     NULL},
	    {J(IRQ_E("irq/3", "\"irq\":3,", V("0-x", "0")), ""),
	     "targets[0]: pristine \"0-x\" is not a CPU list (unexpected 'x' at position 3 in \"0-x\")"},
	    {J(MASK_E("cpumask/workqueue", "", V("0-7", "all")), ""), "targets[0]: wanted \"all\" is not a CPU list"},
	    {J(THREAD_E("thread-affinity", "tid/5", "5", "", V("0-7", "other")), ""),
	     "targets[0]: wanted \"other\" is not a CPU list"},
	    {J("", TXN(THREAD_E("thread-affinity", "tid/5", "5", "", VB("0-7", "2", "3-1")))),
	     "transaction.steps[0]: before \"3-1\" is not a CPU list (range 3-1 in \"3-1\" is reversed)"},
	    {J(SYSCTL_E("net.ipv4.tcp_rmem", "", V("4096\\t87380\\t6291456", "")), ""), NULL},
	    {J(SYSCTL_E("kernel.timer_migration", "", V("1\\n2", "0")), ""),
	     "targets[0]: pristine \"1?2\" is not a sysctl value (it has a newline)"},
	    {J("", TXN(SYSCTL_E("kernel.timer_migration", "", VB("1", "0", "0\\n")))),
	     "transaction.steps[0]: before \"0?\" is not a sysctl value (it has a newline)"},
	};

	(void)state;
	run_json_cases(cases, ARRAY_SIZE(cases));
}

/* json-c keeps the last of two equal keys without a word: any object of the
 * file with a key twice is refused, the key spelled in any of JSON's ways. */
static void test_duplicate_keys(void **state)
{
	static const struct json_case cases[] = {
	    {"{" HEAD "\"mode\":\"n\",\"applied_at\":0,\"targets\":[]}", "duplicate key \"mode\" at byte "},
	    {"{" HEAD "\"applied_at\":0,\"targets\":[],\"targets\":[" ENTRY_SYSCTL "]}",
	     "duplicate key \"targets\" at byte "},
	    {J("{\"kind\":\"sysctl\",\"target\":\"kernel.timer_migration\",\"label\":\"l\",\"pristine\":\"1\","
	       "\"wanted\":\"0\",\"target\":\"kernel.numa_balancing\"}",
	       ""),
	     "targets[0]: duplicate key \"target\" at byte "},
	    {J(ENTRY_SYSCTL ",{\"kind\":\"sysctl\",\"target\":\"a.b\",\"\\u0074arget\":\"a.c\",\"label\":\"l\","
			    "\"pristine\":\"1\",\"wanted\":\"0\"}",
	       ""),
	     "targets[1]: duplicate key \"target\" at byte "},
	    {J(THREAD_E("thread-sched", "tid/5", "5", "\"t\\u0069d\":1,", V("other", "fifo:1")), ""),
	     "targets[0]: duplicate key \"tid\" at byte "},
	    {J(SYSCTL_E("a.b", "\"l\\u0061bel\":\"m\",", V("1", "0")), ""),
	     "targets[0]: duplicate key \"label\" at byte "},
	    {J("",
	       TXN(THREAD_E("thread-sched", "tid/5", "5", "\"before\":\"other\",", VB("other", "fifo:1", "other")))),
	     "transaction.steps[0]: duplicate key \"before\" at byte "},
	    {J("", ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"pid\":5,\"pid\":1,\"steps\":[]}"),
	     "transaction: duplicate key \"pid\" at byte "},
	    {J(ENTRY_SYSCTL, ",\"confirm\":{" CONFIRM_OK ",\"uid\":0}"), "confirm: duplicate key \"uid\" at byte "},
	    /* wherever the object is */
	    {J(SYSCTL_E("a.b", "\"rule\":{\"a\":1,\"b\":{},\"a\":2},", V("1", "0")), ""),
	     "targets[0].rule: duplicate key \"a\" at byte "},
	    {J("", ",\"x\":[[1,{\"a\":[]}],[{\"a\":1,\"a\":2}]]"), "x[1][0]: duplicate key \"a\" at byte "},
	    /* json-c's decoding: \/ is /, lone surrogates are U+FFFD, pairs are one character */
	    {J(SYSCTL_E("a.b", "\"rule\":{\"a\\/b\":1,\"a/b\":2},", V("1", "0")), ""),
	     "targets[0].rule: duplicate key \"a/b\" at byte "},
	    {J(SYSCTL_E("a.b", "\"rule\":{\"\\ud800\":1,\"\\udfff\":2},", V("1", "0")), ""),
	     "targets[0].rule: duplicate key \"???\" at byte "},
	    {J(SYSCTL_E("a.b", "\"rule\":{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2},", V("1", "0")), ""),
	     "targets[0].rule: duplicate key \"????\" at byte "},
	    /* a NUL would end the key for json-c: "target\u0000" would be "target" */
	    {J("{\"kind\":\"sysctl\",\"target\\u0000x\":\"a.b\",\"label\":\"l\",\"pristine\":\"1\",\"wanted\":\"0\"}",
	       ""),
	     "targets[0]: key with a NUL byte at byte "},
	    /* json-c's strict mode takes keys in single quotes (not values); journal_format
	     * never writes them */
	    {"{'format':\"isolated-journal\"}", "bad JSON at byte 1: a string in single quotes"},
	    {J(SYSCTL_E("a.b", "'rule':\"r\",", V("1", "0")), ""), "bad JSON at byte "},
	    {J(SYSCTL_E("a.b", "\"rule\":'r',", V("1", "0")), ""), "bad JSON at byte "},
	    /* what only looks like keys */
	    {J(ENTRY_SYSCTL "," ENTRY_AB, ""), NULL},
	    {J(SYSCTL_E("a.b", "\"rule\":\"\\\"target\\\":\\\"x\\\"}, {'it''s'\",", V("1", "0")), ""), NULL},
	    {J(SYSCTL_E("a.b", "\"rule\":\"target\",", V("1", "0")), ""), NULL},
	    {J(SYSCTL_E("a.b", "\"rule\":\"a\\\\\",", V("1", "0")) "," SYSCTL_E("a.c", "", V("1", "0")), ""), NULL},
	};

	(void)state;
	run_json_cases(cases, ARRAY_SIZE(cases));

	/* the byte is the second key's opening quote */
	{
		static const char json[] = J("", ",\"transaction\":{\"mode\":\"m\",\"started_at\":1,\"mode\":\"n\"}");
		char want[64];

		snprintf(want, sizeof(want), "transaction: duplicate key \"mode\" at byte %zu",
			 (size_t)(strstr(strstr(json, "\"started_at\""), "\"mode\"") - json));
		assert_json_fails(json, want);
	}

	/* objects of many keys (past the few compared one by one), with and
	 * without a duplicate of the first or of the last key */
	{
		static const size_t sizes[] = {15, 16, 17, 18, 40};

		for (size_t k = 0; k < ARRAY_SIZE(sizes); k++)
			for (size_t dup = 0; dup < 3; dup++) {
				char json[1024], want[64];
				size_t len = 0;

				len += (size_t)snprintf(json + len, sizeof(json) - len, "{\"targets\":[{");
				for (size_t i = 0; i < sizes[k]; i++)
					len += (size_t)snprintf(json + len, sizeof(json) - len, "\"k%zu\":0,", i);
				if (dup < 2)
					len += (size_t)snprintf(json + len, sizeof(json) - len, "\"k%zu\":1,",
								dup ? sizes[k] - 1 : 0);
				snprintf(json + len - 1, sizeof(json) - len + 1, "}]}");
				if (dup < 2)
					snprintf(want, sizeof(want), "targets[0]: duplicate key \"k%zu\" at byte ",
						 dup ? sizes[k] - 1 : 0);
				else
					snprintf(want, sizeof(want), "not an isolated journal (no \"format\")");
				assert_json_fails(json, want);
			}
	}

	/* linear: one object with 200 000 keys, the last one a duplicate of the first */
	{
		size_t n = 200000, cap = n * 16 + 64, len = 0;
		char *json = malloc(cap);

		assert_non_null(json);
		len += (size_t)snprintf(json + len, cap - len, "{");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(json + len, cap - len, "\"k%zu\":0,", i);
		snprintf(json + len, cap - len, "\"k0\":1}");
		assert_json_fails(json, "duplicate key \"k0\" at byte ");
		free(json);
	}
}

static void set_confirm(struct journal *j, const char *session)
{
	j->has_confirm = true;
	j->confirm_deadline = 1767225660123456LL;
	set_str(&j->confirm_previous_mode, "rt-only");
	set_str(&j->confirm_previous_scope, "process:4242");
	j->confirm_uid = 1000;
	free(j->confirm_session);
	j->confirm_session = session ? strdup(session) : NULL;
}

static void test_confirm(void **state)
{
	struct journal *j = realistic(2, 2, true), *p, *c;
	size_t len;
	char *buf;

	(void)state;
	/* absent: has_confirm false, and no key written */
	buf = format(j, &len);
	assert_null(strstr(buf, "confirm"));
	p = parse_ok(buf, len);
	assert_false(p->has_confirm);
	assert_null(p->confirm_previous_mode);
	journal_free(p);
	free(buf);

	set_confirm(j, "c4");
	assert_round_trip(j);
	buf = format(j, &len);
	p = parse_ok(buf, len);
	assert_true(p->has_confirm);
	assert_true(p->confirm_deadline == 1767225660123456LL);
	assert_string_equal(p->confirm_previous_mode, "rt-only");
	assert_string_equal(p->confirm_previous_scope, "process:4242");
	assert_int_equal(p->confirm_uid, 1000);
	assert_string_equal(p->confirm_session, "c4");
	journal_free(p);
	free(buf);

	/* no session: the key is left out */
	set_confirm(j, NULL);
	j->confirm_uid = 0;
	assert_round_trip(j);
	buf = format(j, &len);
	assert_non_null(strstr(buf, "\"confirm\""));
	assert_null(strstr(buf, "\"session\""));
	free(buf);

	/* copies are deep */
	set_confirm(j, "c4");
	assert_int_equal(journal_copy(j, &c), 0);
	assert_true(c->has_confirm);
	assert_ptr_not_equal(c->confirm_session, j->confirm_session);
	assert_string_equal(c->confirm_session, "c4");
	journal_clear_confirm(c);
	assert_false(c->has_confirm);
	assert_null(c->confirm_previous_mode);
	assert_null(c->confirm_session);
	assert_string_equal(j->confirm_previous_mode, "rt-only");
	assert_round_trip(c);
	journal_free(c);

	/* what could not be read back is not written */
	free(j->confirm_previous_scope);
	j->confirm_previous_scope = NULL;
	buf = (char *)SENTINEL;
	assert_int_equal(journal_format(j, &buf, &len), -EINVAL);
	assert_ptr_equal(buf, SENTINEL);
	set_str(&j->confirm_previous_scope, "host");
	set_str(&j->confirm_session, "");
	assert_int_equal(journal_format(j, &buf, &len), -EINVAL);
	journal_free(j);
}

static void test_confirm_errors(void **state)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
	    {CONFIRM(CONFIRM_OK), NULL},
	    {CONFIRM(CONFIRM_OK ",\"session\":\"7\""), NULL},
	    {J(ENTRY_SYSCTL, ",\"confirm\":[]"), "\"confirm\" is an array, expected an object"},
	    {J(ENTRY_SYSCTL, ",\"confirm\":null"), "\"confirm\" is null, expected an object"},
	    {CONFIRM("\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":0"), "confirm: missing \"deadline\""},
	    {CONFIRM("\"deadline\":\"soon\",\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":0"),
	     "confirm: \"deadline\" is a string, expected an integer"},
	    {CONFIRM("\"deadline\":1.5,\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":0"),
	     "confirm: \"deadline\" is a fraction, expected an integer"},
	    {CONFIRM("\"deadline\":1,\"previous_scope\":\"host\",\"uid\":0"), "confirm: missing \"previous_mode\""},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"\",\"previous_scope\":\"host\",\"uid\":0"),
	     "confirm: empty \"previous_mode\""},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":3,\"previous_scope\":\"host\",\"uid\":0"),
	     "confirm: \"previous_mode\" is an integer, expected a string"},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"a\",\"uid\":0"), "confirm: missing \"previous_scope\""},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"a\",\"previous_scope\":\"host\""), "confirm: missing \"uid\""},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":-1"),
	     "confirm: \"uid\" out of range: -1"},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":4294967295"),
	     "confirm: \"uid\" out of range: 4294967295"},
	    {CONFIRM("\"deadline\":1,\"previous_mode\":\"a\",\"previous_scope\":\"host\",\"uid\":\"0\""),
	     "confirm: \"uid\" is a string, expected an integer"},
	    {CONFIRM(CONFIRM_OK ",\"session\":7"), "confirm: \"session\" is an integer, expected a string"},
	    {CONFIRM(CONFIRM_OK ",\"session\":null"), "confirm: \"session\" is null, expected a string"},
	    {CONFIRM(CONFIRM_OK ",\"session\":\"\""), "confirm: empty \"session\""},
	    {CONFIRM(CONFIRM_OK ",\"owner\":\"me\""), "confirm: unknown key \"owner\""},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!cases[i].want) {
			size_t len;
			char *buf = seal(cases[i].json, &len);
			struct journal *j = parse_ok(buf, len);

			assert_true(j->has_confirm);
			assert_string_equal(j->confirm_previous_scope, "host");
			journal_free(j);
			free(buf);
			continue;
		}
		assert_json_fails(cases[i].json, cases[i].want);
	}
}

static void test_trailer_errors(void **state)
{
	static const char body[] = J(ENTRY_SYSCTL, TXN(STEP));
	size_t len;
	char *good = seal(body, &len), *buf;
	const char *nul_json = J(ENTRY_SYSCTL, "");

	(void)state;
	journal_free(parse_ok(good, len));
	assert_parse_fails("", 0, "empty file");
	assert_parse_fails("end 0 00000000\n", 15, "nothing before the end line");
	assert_parse_fails("\n", 1, "truncated: no end line (file is 1 bytes)");
	assert_parse_fails("{}\nend 3 ", 9, "truncated: incomplete end line");
	assert_parse_fails("{}\nend 3 XYZ\n", 13, "malformed end line \"end 3 XYZ\"");
	assert_parse_fails("{}\nend 03 1c8e5b24\n", 19, "malformed end line");
	assert_parse_fails("{}\nend 3  1c8e5b24\n", 19, "malformed end line");
	assert_parse_fails("{}\nend 3 1C8E5B24\n", 18, "malformed end line");
	assert_parse_fails("{}\nend 99999999999999999999999 1c8e5b24\n", 40, "malformed end line");
	assert_parse_fails("{}\nend 4 1c8e5b24\n", 18, "trailer says 4 bytes, found 3");
	assert_parse_fails("{}\nend 3 00000000\n", 18, "checksum mismatch: trailer 0x00000000, computed 0x");

	/* trailing garbage after a good trailer */
	buf = malloc(len + 32);
	assert_non_null(buf);
	memcpy(buf, good, len);
	memcpy(buf + len, "garbage\n", 8);
	assert_parse_fails(buf, len + 8, "8 bytes after the end line");
	memcpy(buf + len, "x", 1);
	assert_parse_fails(buf, len + 1, "1 bytes after the end line");
	/* a second trailer after the first */
	memcpy(buf + len, good + len - 20, 20);
	assert_parse_fails(buf, len + 20, NULL);
	free(buf);

	/* a raw NUL inside the JSON, with a valid checksum */
	{
		size_t n = strlen(nul_json), blen;
		char *raw = strdup(nul_json), *sealed;
		char *at = strstr(raw, "timer_migration");

		assert_non_null(raw);
		*at = '\0';
		sealed = seal_len(raw, n, &blen);
		assert_parse_fails(sealed, blen, "bad JSON at byte");
		free(sealed);
		free(raw);
	}
	free(good);
}

/* A journal written by an isolated before format 2, kept as a file: still
 * read, as the journal it was. (Written again, it is format 2: see
 * test_convert_v1.) */
static void test_sample(void **state)
{
	struct journal *j, *want = realistic(2, 2, true);
	size_t flen;
	char *file = read_data("v1-dedicated", &flen);

	(void)state;
	j = parse_ok(file, flen);
	assert_int_equal(j->version, 1);
	want->version = 1;
	assert_journal_equal(want, j);
	free(file);
	journal_free(j);
	journal_free(want);
}

/* ---- on disk ---- */

static char *make_root(bool with_run)
{
	char *d = strdup("/tmp/test-journal.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	if (with_run)
		mkdirs(d, "run");
	return d;
}

static char *read_rel(const char *root, const char *rel, size_t *ret_len)
{
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *buf = NULL;
	int r;

	assert_true(dfd >= 0);
	r = util_read_at(dfd, rel, 1 << 26, &buf, ret_len);
	close(dfd);
	return r < 0 ? NULL : buf;
}

/* An empty run/ again: the root itself stays, the host holds its fd. */
static void reset_run(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run", root);
	rm_rf(path);
	mkdirs(root, "run");
}

static bool exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Every path under root with its type, sorted, one a line. */
static char **listing;
static size_t listing_skip;

static int list_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	(void)type;
	assert_int_equal(strv_push(&listing, util_sprintf("%s %o", path + listing_skip, st->st_mode)), 0);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *tree_of(const char *root)
{
	char *out = strdup("");

	listing = NULL;
	listing_skip = strlen(root);
	assert_int_equal(nftw(root, list_one, 16, FTW_PHYS), 0);
	qsort(listing, strv_len(listing), sizeof(*listing), cmp_str);
	for (size_t i = 0; listing && listing[i]; i++) {
		char *n = util_sprintf("%s%s\n", out, listing[i]);

		assert_non_null(n);
		free(out);
		out = n;
	}
	strv_free(listing);
	listing = NULL;
	return out;
}

static void test_save_load(void **state)
{
	char *root = make_root(true), *buf, *file, err[512];
	struct journal *j = realistic(4, 3, true), *l = SENTINEL;
	struct host *h;
	size_t len, flen;
	mode_t old;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	strcpy(err, "junk");
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "");
	assert_ptr_equal(l, SENTINEL);

	/* 0644 and 0755 whatever the umask: anyone may read what isolated holds */
	old = umask(077);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(mode_of(root, JOURNAL_PATH), 0644);
	assert_int_equal(mode_of(root, JOURNAL_DIR), 0755);
	assert_false(exists(root, JOURNAL_PATH ".tmp"));
	buf = format(j, &len);
	file = read_rel(root, JOURNAL_PATH, &flen);
	assert_non_null(file);
	assert_int_equal(flen, len);
	assert_memory_equal(file, buf, len);
	free(file);
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), 0);
	assert_journal_equal(j, l);
	journal_free(l);

	/* the next save appends what changed: the file it had stays its start */
	journal_clear_txn(j);
	set_str(&j->mode, "rt-only");
	{
		size_t rlen = 0, glen;
		char *grown;

		assert_int_equal(journal_save_ex(h, j, &rlen, err, sizeof(err)), 0);
		grown = read_rel(root, JOURNAL_PATH, &glen);
		assert_non_null(grown);
		assert_int_equal(glen, len + rlen);
		assert_true(rlen > 0 && rlen < 200); /* the mode and the transaction dropped, no target */
		assert_memory_equal(grown, buf, len);
		assert_memory_equal(grown + len, "r ", 2);
		free(grown);
		/* nothing changed: nothing written */
		assert_int_equal(journal_save_ex(h, j, &rlen, err, sizeof(err)), 0);
		assert_int_equal(rlen, 0);
	}
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), 0);
	assert_journal_equal(j, l);
	journal_free(l);
	free(buf);

	/* a checkpoint over an existing file, with a stale temp file from a
	 * killed save */
	put(root, JOURNAL_PATH ".tmp", "half a journal");
	journal_forget_file(j);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
	assert_false(exists(root, JOURNAL_PATH ".tmp"));
	buf = format(j, &len);
	file = read_rel(root, JOURNAL_PATH, &flen);
	assert_int_equal(flen, len);
	assert_memory_equal(file, buf, len);
	free(file);
	free(buf);
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), 0);
	assert_journal_equal(j, l);
	journal_free(l);

	/* remove, twice */
	assert_int_equal(journal_remove(h, err, sizeof(err)), 0);
	assert_false(exists(root, JOURNAL_PATH));
	assert_true(exists(root, JOURNAL_DIR));
	assert_int_equal(journal_remove(h, err, sizeof(err)), 0);
	l = SENTINEL;
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), -ENOENT);
	assert_ptr_equal(l, SENTINEL);
	host_free(h);
	rm_rf(root);
	free(root);

	/* remove with no run/isolated at all */
	root = make_root(false);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_remove(h, err, sizeof(err)), 0);
	host_free(h);
	rm_rf(root);
	free(root);
	journal_free(j);
}

static void test_save_no_run(void **state)
{
	char *root = make_root(false), err[512] = "", want[PATH_MAX + 32], *before;
	struct journal *j = journal_new("b");
	struct host *h;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	before = tree_of(root);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s/run does not exist", root);
	assert_string_equal(err, want);
	{
		int fd = -1;

		err[0] = '\0';
		assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), -ENOENT);
		assert_int_equal(fd, -1);
		assert_string_equal(err, want);
	}
	{
		char *after = tree_of(root);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	host_free(h);
	rm_rf(root);
	free(root);
	journal_free(j);
}

static void test_load_corrupt(void **state)
{
	char *root = make_root(true), err[512] = "", want[PATH_MAX + 64], *buf, *after;
	struct journal *j = realistic(2, 0, false), *l = SENTINEL;
	struct host *h;
	size_t len, alen;

	(void)state;
	buf = format(j, &len);
	buf[len / 2] ^= 0x04;
	put_len(root, JOURNAL_PATH, buf, len);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), -EBADMSG);
	assert_ptr_equal(l, SENTINEL);
	snprintf(want, sizeof(want), "%s/" JOURNAL_PATH ": checkpoint at byte 0: checksum mismatch: header 0x", root);
	assert_memory_equal(err, want, strlen(want));
	/* untouched, byte for byte */
	after = read_rel(root, JOURNAL_PATH, &alen);
	assert_non_null(after);
	assert_int_equal(alen, len);
	assert_memory_equal(after, buf, len);
	free(after);

	/* cut short */
	put_len(root, JOURNAL_PATH, buf, 100);
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want), "%s/" JOURNAL_PATH ": truncated: the checkpoint is cut short (file is 100 bytes)",
		 root);
	assert_string_equal(err, want);
	assert_ptr_equal(l, SENTINEL);

	/* far too big to be ours: refused without reading it all */
	{
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%s/" JOURNAL_PATH, root);
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)65 << 20), 0);
		close(fd);
		assert_int_equal(journal_load(h, &l, err, sizeof(err)), -EFBIG);
		assert_non_null(strstr(err, JOURNAL_PATH ": larger than 64 MiB"));
		assert_ptr_equal(l, SENTINEL);
	}
	host_free(h);

	/* the path as the user gave it, "/" or not */
	{
		char *slash = util_sprintf("%s/", root);

		put_len(root, JOURNAL_PATH, buf, 100);
		assert_int_equal(host_open(slash, &h), 0);
		assert_int_equal(journal_load(h, &l, err, sizeof(err)), -EBADMSG);
		snprintf(want, sizeof(want), "%s/" JOURNAL_PATH ": truncated", root);
		assert_memory_equal(err, want, strlen(want));
		host_free(h);
		free(slash);
	}
	free(buf);
	rm_rf(root);
	free(root);
	journal_free(j);
}

/* Failures in the middle of a save leave the old journal and no temp file. */
static void test_save_failures(void **state)
{
	char *root = make_root(true), err[512] = "", *file;
	struct journal *j = realistic(2, 0, false), *big = realistic(40, 0, false);
	struct host *h;
	size_t len, flen;
	char *buf = format(j, &len);
	pid_t child;
	int status;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);

	/* the write fails (file size limit) */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct rlimit rl = {4096, 4096};
		char e[512] = "";
		int r;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		r = journal_save(h, big, e, sizeof(e));
		if (r != -EFBIG)
			_exit(11);
		if (!strstr(e, "cannot write ") || !strstr(e, JOURNAL_PATH ".tmp: File too large"))
			_exit(12);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(exists(root, JOURNAL_PATH ".tmp"));
	file = read_rel(root, JOURNAL_PATH, &flen);
	assert_non_null(file);
	assert_int_equal(flen, len);
	assert_memory_equal(file, buf, len);
	free(file);

	/* the rename fails: "journal" is a directory */
	reset_run(root);
	mkdirs(root, JOURNAL_PATH "/x");
	assert_int_equal(journal_save(h, j, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "cannot rename "));
	assert_non_null(strstr(err, JOURNAL_PATH ".tmp to journal: "));
	assert_false(exists(root, JOURNAL_PATH ".tmp"));
	assert_true(exists(root, JOURNAL_PATH "/x"));

	/* a stale temp that cannot be removed */
	reset_run(root);
	mkdirs(root, JOURNAL_PATH ".tmp/x");
	assert_int_equal(journal_save(h, j, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "cannot remove stale "));
	assert_false(exists(root, JOURNAL_PATH));

	/* the engine built a journal that would not read back: refused as a
	 * record (only what changed is checked, and it is what is wrong) and
	 * as a checkpoint, nothing written */
	{
		struct journal_entry e = j->targets[0];
		char *before;
		size_t blen;

		reset_run(root);
		assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
		before = read_rel(root, JOURNAL_PATH, &blen);
		assert_int_equal(journal_add_target(j, &e), -EEXIST);
		set_str(&j->targets[1].wanted, "1\n");
		journal_touch(j, &j->targets[1]);
		assert_int_equal(journal_save(h, j, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "targets[1]: wanted \"1?\" is not a sysctl value"));
		file = read_rel(root, JOURNAL_PATH, &flen);
		assert_int_equal(flen, blen);
		assert_memory_equal(file, before, blen);
		free(file);
		free(before);
		reset_run(root);
		assert_int_equal(journal_save(h, j, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "targets[1]: wanted \"1?\" is not a sysctl value"));
		assert_false(exists(root, JOURNAL_DIR));
	}
	free(buf);
	host_free(h);
	rm_rf(root);
	free(root);
	journal_free(j);
	journal_free(big);
}

/* ---- a file of records ---- */

/* The states of a journal saved five times on a tree: a checkpoint, then
 * a record each for the transaction committed, two threads gone and one
 * new, a value changed in place, a tid reused (dropped and added again),
 * and a confirmation set. texts[k]: the state after save k in canonical
 * form; ends[k]: the file's length after it. */
#define HISTORY 6
struct history {
	char *root;
	struct host *h;
	struct journal *j;
	char *texts[HISTORY];
	size_t ends[HISTORY];
};

static char *canonical(const struct journal *j)
{
	size_t len;

	return format(j, &len);
}

static void history_save(struct history *hs, size_t k)
{
	char err[512] = "";
	struct stat st;
	char path[PATH_MAX];

	if (journal_save(hs->h, hs->j, err, sizeof(err)) < 0)
		fail_msg("save %zu: %s", k, err);
	snprintf(path, sizeof(path), "%s/" JOURNAL_PATH, hs->root);
	assert_int_equal(stat(path, &st), 0);
	hs->ends[k] = (size_t)st.st_size;
	hs->texts[k] = canonical(hs->j);
}

static void history_make(struct history *hs)
{
	struct journal *j;
	struct journal_entry *e;

	hs->root = make_root(true);
	assert_int_equal(host_open(hs->root, &hs->h), 0);
	j = hs->j = realistic(4, 2, true);
	history_save(hs, 0);
	/* the transaction committed */
	journal_clear_txn(j);
	j->applied_at = 1767229300;
	history_save(hs, 1);
	/* two threads gone, one new */
	journal_kill_target(j, journal_find(j, ACTION_THREAD_AFFINITY, "tid/2206"));
	journal_kill_target(j, journal_find(j, ACTION_THREAD_SCHED, "tid/2206"));
	add_target(j, ent(ACTION_THREAD_AFFINITY, "tid/2300", "CPU 9/KVM (qemu-system-x86 2201)", "rt-vcpu", 0, 2300,
			  2201, 5555, "0-7", "6", NULL));
	journal_kill_target(j, journal_find(j, ACTION_THREAD_SCHED, "tid/2207"));
	history_save(hs, 2);
	/* a value changed in place */
	e = journal_find(j, ACTION_IRQ_AFFINITY, "irq/41");
	set_str(&e->wanted, "0-3");
	journal_touch(j, e);
	history_save(hs, 3);
	/* a tid reused: the old target dropped, the new one added */
	journal_kill_target(j, journal_find(j, ACTION_THREAD_AFFINITY, "tid/2205"));
	add_target(j, ent(ACTION_THREAD_AFFINITY, "tid/2205", "worker (qemu-system-x86 2201)", "other", 0, 2205, 2201,
			  777777, "0-7", "0-5", NULL));
	history_save(hs, 4);
	/* a confirmation pending */
	set_confirm(j, "4");
	history_save(hs, 5);
}

static void history_free(struct history *hs)
{
	for (size_t k = 0; k < HISTORY; k++)
		free(hs->texts[k]);
	journal_free(hs->j);
	host_free(hs->h);
	rm_rf(hs->root);
	free(hs->root);
}

/* Which state text is; -1 if none. */
static int history_state(const struct history *hs, const char *text)
{
	for (size_t k = 0; k < HISTORY; k++)
		if (strcmp(hs->texts[k], text) == 0)
			return (int)k;
	return -1;
}

/* Each save after the first appended one record of about what it changed,
 * and the file reads back as the journal in memory, order and all. */
static void test_records(void **state)
{
	struct history hs = {0};
	struct journal *l = NULL;
	char err[512];
	size_t flen;
	char *file;

	(void)state;
	history_make(&hs);
	file = read_rel(hs.root, JOURNAL_PATH, &flen);
	assert_int_equal(flen, hs.ends[HISTORY - 1]);
	assert_memory_equal(file, "c ", 2);
	/* the layout, pinned (tests/data/journal/v2-records.source): later
	 * versions must still read it */
	{
		size_t slen;
		char *sample;

		if (getenv("ISOLATED_WRITE_SAMPLE")) {
			FILE *f = fopen(getenv("ISOLATED_WRITE_SAMPLE"), "w");

			assert_non_null(f);
			assert_int_equal(fwrite(file, 1, flen, f), flen);
			assert_int_equal(fclose(f), 0);
		}
		sample = read_data("v2-records", &slen);
		assert_int_equal(slen, flen);
		assert_memory_equal(sample, file, flen);
		free(sample);
	}
	for (size_t k = 1; k < HISTORY; k++) {
		size_t rec = hs.ends[k] - hs.ends[k - 1];

		assert_memory_equal(file + hs.ends[k - 1], "r ", 2);
		/* a record is far smaller than the checkpoint */
		assert_true(rec < hs.ends[0] / 3);
		assert_true(hs.texts[k] && strcmp(hs.texts[k], hs.texts[k - 1]) != 0);
	}
	assert_int_equal(journal_load(hs.h, &l, err, sizeof(err)), 0);
	/* memory keeps the slots of dropped targets until compacted */
	assert_true(hs.j->n_targets > journal_n_live(hs.j));
	journal_compact(hs.j);
	assert_journal_equal(hs.j, l);
	{
		char *t = canonical(l);

		assert_string_equal(t, hs.texts[HISTORY - 1]);
		free(t);
	}
	journal_free(l);
	free(file);
	history_free(&hs);
}

/* Every prefix of the file: refused while the checkpoint is incomplete,
 * else the state after the last whole record (the cut one: a save killed
 * in its append, before the kernel write it guarded). Every byte flipped:
 * refused, or an earlier state (never anything else, never empty). */
static void test_records_damage(void **state)
{
	static const unsigned char masks[] = {0x01, 0x80, 0xff};
	struct history hs = {0};
	size_t flen, accepted = 0, rejected = 0;
	char *file;

	(void)state;
	history_make(&hs);
	file = read_rel(hs.root, JOURNAL_PATH, &flen);
	for (size_t n = 0; n <= flen; n++) {
		struct journal *p = SENTINEL;
		char err[512] = "", *copy = malloc(n ? n : 1), *t;
		size_t torn = 99, k = 0;
		int r;

		assert_non_null(copy);
		memcpy(copy, file, n);
		r = journal_parse_ex(copy, n, &p, &torn, err, sizeof(err));
		free(copy);
		if (n < hs.ends[0]) {
			if (r != -EBADMSG || p != SENTINEL || !err[0])
				fail_msg("prefix of %zu bytes (checkpoint %zu): r=%d", n, hs.ends[0], r);
			continue;
		}
		if (r < 0)
			fail_msg("prefix of %zu bytes: %s", n, err);
		while (k + 1 < HISTORY && hs.ends[k + 1] <= n)
			k++;
		t = canonical(p);
		if (strcmp(t, hs.texts[k]) != 0)
			fail_msg("prefix of %zu bytes: not the state after save %zu", n, k);
		assert_int_equal(torn, n - hs.ends[k]);
		free(t);
		journal_free(p);
	}
	/* NUL bytes after the last record (an append that died with the
	 * length already grown): the last state */
	{
		char *padded = calloc(1, flen + 64), *t;
		struct journal *p = NULL;
		char err[512] = "";

		assert_non_null(padded);
		memcpy(padded, file, flen);
		assert_int_equal(journal_parse(padded, flen + 64, &p, err, sizeof(err)), 0);
		t = canonical(p);
		assert_string_equal(t, hs.texts[HISTORY - 1]);
		free(t);
		journal_free(p);
		free(padded);
	}
	for (size_t m = 0; m < ARRAY_SIZE(masks); m++)
		for (size_t i = 0; i < flen; i++) {
			struct journal *p = SENTINEL;
			char err[512] = "", *t;
			int r, k;

			file[i] ^= (char)masks[m];
			r = journal_parse(file, flen, &p, err, sizeof(err));
			file[i] ^= (char)masks[m];
			if (r == -EBADMSG) {
				assert_ptr_equal(p, SENTINEL);
				assert_true(err[0] != '\0');
				assert_null(strchr(err, '\n'));
				rejected++;
				continue;
			}
			assert_int_equal(r, 0);
			t = canonical(p);
			k = history_state(&hs, t);
			if (k < 0)
				fail_msg("byte %zu ^ 0x%02x: read as a state the journal never had", i, masks[m]);
			free(t);
			journal_free(p);
			accepted++;
		}
	print_message("# %zu bytes, %zu flips refused, %zu read as an earlier state\n", flen, rejected, accepted);
	free(file);
	history_free(&hs);
}

/* A journal of format 1 on a running host (left by an isolated before this
 * one): read, and the next save writes format 2 in its place. */
static void test_convert_v1(void **state)
{
	char *root = make_root(true), err[512] = "", *file;
	struct journal *j = NULL, *l = NULL, *want = realistic(2, 2, true);
	struct host *h;
	size_t flen;
	char *v1 = read_data("v1-dedicated", &flen);

	(void)state;
	put_len(root, JOURNAL_PATH, v1, flen);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_load(h, &j, err, sizeof(err)), 0);
	want->version = 1;
	assert_journal_equal(want, j);
	journal_clear_txn(j);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
	file = read_rel(root, JOURNAL_PATH, &flen);
	assert_memory_equal(file, "c ", 2);
	assert_int_equal(flen, strlen(file)); /* one checkpoint, no NUL */
	assert_int_equal(journal_load(h, &l, err, sizeof(err)), 0);
	assert_int_equal(l->version, JOURNAL_VERSION);
	journal_clear_txn(want);
	want->version = JOURNAL_VERSION;
	assert_journal_equal(want, l);
	free(file);
	free(v1);
	journal_free(j);
	journal_free(l);
	journal_free(want);
	host_free(h);
	rm_rf(root);
	free(root);
}

/* What journal_refresh keeps and what it reads again. */
static void test_refresh(void **state)
{
	char *root = make_root(true), err[512] = "";
	struct journal *mine = NULL, *other = NULL;
	struct host *h;
	bool reloaded = true;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	/* no file: a new journal */
	assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), 0);
	assert_non_null(mine);
	assert_true(reloaded);
	assert_string_equal(mine->mode, "vanilla");
	set_str(&mine->mode, "dedicated");
	assert_int_equal(journal_save(h, mine, err, sizeof(err)), 0);
	/* unchanged since our save: kept */
	{
		struct journal *before = mine;

		assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), 0);
		assert_false(reloaded);
		assert_ptr_equal(mine, before);
	}
	/* another process appended (isoctl --direct): read again */
	assert_int_equal(journal_load(h, &other, err, sizeof(err)), 0);
	set_str(&other->mode, "rt-only");
	assert_int_equal(journal_save(h, other, err, sizeof(err)), 0);
	assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), 0);
	assert_true(reloaded);
	assert_string_equal(mine->mode, "rt-only");
	/* another process wrote a new checkpoint: read again */
	journal_forget_file(other);
	set_str(&other->mode, "outsourcing");
	assert_int_equal(journal_save(h, other, err, sizeof(err)), 0);
	assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), 0);
	assert_true(reloaded);
	assert_string_equal(mine->mode, "outsourcing");
	/* removed: a new journal */
	assert_int_equal(journal_remove(h, err, sizeof(err)), 0);
	assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), 0);
	assert_true(reloaded);
	assert_string_equal(mine->mode, "vanilla");
	/* damaged: the error, and the caller's journal left as it was */
	put(root, JOURNAL_PATH, "c 1 00000000 00000000\nx");
	assert_int_equal(journal_refresh(h, &mine, "b", &reloaded, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "checksum mismatch"));
	assert_string_equal(mine->mode, "vanilla");
	journal_free(mine);
	journal_free(other);
	host_free(h);
	rm_rf(root);
	free(root);
}

/* A save that rewrites most of the journal (a first apply's commit sets
 * every target) is written as a new checkpoint, not as a record as big. */
static void test_big_record_checkpoints(void **state)
{
	char *root = make_root(true), err[512] = "", *file, *want;
	struct journal *j = realistic(2, 0, false);
	struct host *h;
	size_t flen, wlen, rlen = 0;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
	/* a small change: a record */
	j->applied_at++;
	assert_int_equal(journal_save_ex(h, j, &rlen, err, sizeof(err)), 0);
	file = read_rel(root, JOURNAL_PATH, &flen);
	assert_non_null(strstr(file, "\nr "));
	free(file);
	/* 60 new targets, far more than the journal held: a checkpoint */
	for (int i = 0; i < 60; i++) {
		char target[32];

		snprintf(target, sizeof(target), "tid/%d", 5000 + i);
		add_target(j, ent(ACTION_THREAD_AFFINITY, target, "worker (qemu-system-x86 4999)", "other", 0, 5000 + i,
				  4999, 42, "0-7", "0-5", NULL));
	}
	assert_int_equal(journal_save_ex(h, j, &rlen, err, sizeof(err)), 0);
	file = read_rel(root, JOURNAL_PATH, &flen);
	want = format(j, &wlen);
	assert_int_equal(flen, wlen);
	assert_int_equal(rlen, wlen);
	assert_memory_equal(file, want, wlen);
	free(file);
	free(want);
	journal_free(j);
	host_free(h);
	rm_rf(root);
	free(root);
}

/* ---- the lock ---- */

static void read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void test_lock_contended(void **state)
{
	char *root = make_root(true), err[512] = "", *file, pidline[32], *before;
	struct host *h;
	int fd = -1, pfd[2], status;
	pid_t child;
	size_t len;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	before = tree_of(root);
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), 0);
	assert_true(fd >= 0);
	file = read_rel(root, JOURNAL_LOCK_PATH, &len);
	snprintf(pidline, sizeof(pidline), "%d\n", (int)getpid());
	assert_string_equal(file, pidline);
	free(file);
	assert_int_equal(mode_of(root, JOURNAL_LOCK_PATH) & 0600, 0600);

	/* another process: refused at once, told who holds it */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char e[512] = "";
		int cfd = -1, r;

		close(pfd[0]);
		r = journal_lock(h, false, &cfd, e, sizeof(e));
		if (write(pfd[1], e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(9);
		_exit(r == -EWOULDBLOCK && cfd == -1 ? 0 : 1);
	}
	close(pfd[1]);
	read_exact(pfd[0], err, sizeof(err));
	close(pfd[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		char want[128];

		snprintf(want, sizeof(want), "another isoctl or isolated (pid %d) is changing this host",
			 (int)getpid());
		assert_string_equal(err, want);
	}

	/* cleanup false keeps the file (and the pid in it) */
	journal_unlock(h, fd, false);
	assert_true(exists(root, JOURNAL_LOCK_PATH));

	/* taken again, and released with cleanup: the tree is as it was */
	fd = -1;
	assert_int_equal(journal_lock(h, true, &fd, err, sizeof(err)), 0);
	journal_unlock(h, fd, true);
	assert_false(exists(root, JOURNAL_LOCK_PATH));
	assert_false(exists(root, JOURNAL_DIR));
	{
		char *after = tree_of(root);

		assert_string_equal(before, after);
		free(after);
	}

	/* with a journal in the directory, cleanup removes only the lock */
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), 0);
	{
		struct journal *j = journal_new("b");

		assert_int_equal(journal_save(h, j, err, sizeof(err)), 0);
		journal_free(j);
	}
	journal_unlock(h, fd, true);
	assert_false(exists(root, JOURNAL_LOCK_PATH));
	assert_true(exists(root, JOURNAL_PATH));
	free(before);
	host_free(h);
	rm_rf(root);
	free(root);
}

/* A holder that wrote no pid (it has just taken the lock). */
static void test_lock_unknown_pid(void **state)
{
	char *root = make_root(true), err[512] = "", path[PATH_MAX];
	struct host *h;
	int raw, fd = -1;

	(void)state;
	assert_int_equal(host_open(root, &h), 0);
	mkdirs(root, JOURNAL_DIR);
	snprintf(path, sizeof(path), "%s/" JOURNAL_LOCK_PATH, root);
	raw = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(raw >= 0);
	/* flock belongs to the open file: a second open in this process conflicts */
	assert_int_equal(flock(raw, LOCK_EX), 0);
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), -EWOULDBLOCK);
	assert_string_equal(err, "another isoctl or isolated (unknown pid) is changing this host");
	assert_int_equal(fd, -1);
	close(raw);
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), 0);
	journal_unlock(h, fd, true);
	host_free(h);
	rm_rf(root);
	free(root);
}

/* Wait for the child to be asleep (in flock, after it said "ready"): makes
 * it likely the unlock below wakes a waiter rather than racing a late
 * arrival. Not an assertion: either order must pass. */
static void wait_asleep(pid_t pid)
{
	char path[64], *stat = NULL, *p;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 5000; i++) {
		int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool asleep = false;

		if (util_read_at(dfd, path + 1, 4096, &stat, &len) == 0) {
			p = strrchr(stat, ')');
			asleep = p && p[1] == ' ' && p[2] == 'S';
			free(stat);
		}
		close(dfd);
		if (asleep)
			return;
		usleep(1000);
	}
}

/* wait true blocks until the holder lets go; cleanup true while a waiter
 * is queued on the old file must still leave the waiter with a lock on the
 * file the path names. Pipes sequence the two processes: ready (child ->
 * parent: about to lock), order (parent -> child, written just before the
 * unlock, read without waiting by the child once it holds the lock), got
 * (child -> parent: holding it), done (parent -> child: let go). */
static void lock_wait(bool cleanup)
{
	char *root = make_root(true), err[512] = "", buf[64];
	int fd = -1, ready[2], order[2], got[2], done[2], status;
	struct host *h;
	pid_t child;

	/* a child that died early: EPIPE and a failed assertion, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(order, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(got, O_CLOEXEC), 0);
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char e[512] = "", c;
		struct stat a, b;
		int cfd = -1;

		/* the parent's lock came with fork (same open file): it must
		 * not be what keeps the lock held after the parent lets go */
		close(fd);
		if (write(ready[1], "r", 1) != 1)
			_exit(9);
		if (journal_lock(h, true, &cfd, e, sizeof(e)) < 0)
			_exit(1);
		/* the parent wrote "u" before unlocking: nothing there means
		 * the lock did not wait for it */
		if (read(order[0], &c, 1) != 1 || c != 'u')
			_exit(2);
		if (fstat(cfd, &a) < 0 || fstatat(h->root_fd, JOURNAL_LOCK_PATH, &b, 0) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev)
			_exit(3);
		if (write(got[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(9);
		journal_unlock(h, cfd, true);
		_exit(0);
	}
	close(ready[1]);
	close(order[0]);
	close(got[1]);
	close(done[0]);
	read_exact(ready[0], buf, 1);
	wait_asleep(child);
	assert_int_equal(write(order[1], "u", 1), 1);
	journal_unlock(h, fd, cleanup);
	read_exact(got[0], buf, 1);
	assert_int_equal(buf[0], 'g');
	/* the child holds it now: we are refused, and told the child's pid */
	fd = -1;
	assert_int_equal(journal_lock(h, false, &fd, err, sizeof(err)), -EWOULDBLOCK);
	snprintf(buf, sizeof(buf), "(pid %d)", (int)child);
	assert_non_null(strstr(err, buf));
	assert_int_equal(write(done[1], "d", 1), 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ready[0]);
	close(order[1]);
	close(got[0]);
	close(done[1]);
	/* the child cleaned up: nothing left */
	assert_false(exists(root, JOURNAL_DIR));
	host_free(h);
	rm_rf(root);
	free(root);
}

static void test_lock_wait(void **state)
{
	(void)state;
	lock_wait(false);
}

static void test_lock_wait_cleanup(void **state)
{
	(void)state;
	lock_wait(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_format_invalid),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_truncation_v1),
	    cmocka_unit_test(test_flips),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_meaning),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_confirm),
	    cmocka_unit_test(test_confirm_errors),
	    cmocka_unit_test(test_trailer_errors),
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_save_load),
	    cmocka_unit_test(test_save_no_run),
	    cmocka_unit_test(test_load_corrupt),
	    cmocka_unit_test(test_save_failures),
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_records_damage),
	    cmocka_unit_test(test_convert_v1),
	    cmocka_unit_test(test_refresh),
	    cmocka_unit_test(test_big_record_checkpoints),
	    cmocka_unit_test(test_lock_contended),
	    cmocka_unit_test(test_lock_unknown_pid),
	    cmocka_unit_test(test_lock_wait),
	    cmocka_unit_test(test_lock_wait_cleanup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
