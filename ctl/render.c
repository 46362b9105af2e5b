/* isoctl's output, rendered from the JSON documents of isolated/report.h:
 * text for people, or the document itself with --json. The documents come
 * from the engine (direct mode) or from the daemon (the bus), so the output
 * is the same either way. Every reader here tolerates a missing or mistyped
 * field: a document from the bus is input. Every string of a document is
 * escaped once before the text is rendered (doc_escape): no renderer below
 * prints a control character a thread name or a file brought. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isolated/apply.h"
#include "isoctl.h"

/* ---- reading documents ---- */

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* NULL when null or not a string. */
static const char *string_of(json_object *v)
{
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* NULL when missing, null or not a string. */
static const char *str(json_object *o, const char *key)
{
	return string_of(get(o, key));
}

/* printf's rendering of a NULL string, for the fields the text always
 * printed as they were. */
static const char *raw(const char *s)
{
	return s ? s : "(null)";
}

static long long num(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_int) ? (long long)json_object_get_int64(v) : 0;
}

static size_t count(json_object *o, const char *key)
{
	long long n = num(o, key);

	return n > 0 ? (size_t)n : 0;
}

static bool flag(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static json_object *array(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static size_t alen(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

static json_object *at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* An array of strings, element i. */
static const char *sat(json_object *a, size_t i)
{
	return string_of(at(a, i));
}

/* Text shows names anyone may choose (a thread's comm, set with
 * prctl(PR_SET_NAME): "\e]0;pwned\a\e[2J" retitles and clears a terminal),
 * cgroup paths, IRQ and NIC names, lines of policies: every string and key
 * of the document becomes util_escape's, here, once, so that each renderer
 * may print its fields as they are. --json prints the document untouched
 * (json-c escapes control characters itself). -ENOMEM, the document then
 * half escaped: it must not be printed. */
static int doc_escape(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		char *e;
		int r;

		if (!util_escape_needed(s, false))
			return 0;
		if (!(e = util_escape(s, false)))
			return -ENOMEM;
		r = json_object_set_string(o, e); /* 1: set */
		free(e);
		return r == 1 ? 0 : -ENOMEM;
	}
	case json_type_array:
		for (size_t i = 0; i < alen(o); i++)
			if (doc_escape(at(o, i)) < 0)
				return -ENOMEM;
		return 0;
	case json_type_object: {
		char **keys = NULL;
		int r = 0;

		json_object_object_foreach(o, key, v)
		{
			if (r == 0 && util_escape_needed(key, false))
				r = strv_push_dup(&keys, key);
			if (r == 0)
				r = doc_escape(v);
		}
		/* A key is replaced, not renamed: json-c has no rename. */
		for (size_t i = 0; r == 0 && keys && keys[i]; i++) {
			char *e = util_escape(keys[i], false);
			json_object *val = json_object_get(get(o, keys[i]));

			json_object_object_del(o, keys[i]);
			if (!e || json_object_object_add(o, e, val) < 0) {
				json_object_put(val);
				r = -ENOMEM;
			}
			free(e);
		}
		strv_free(keys);
		return r;
	}
	default:
		return 0;
	}
}

static char *time_string(long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[64];

	if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		return strdup("?");
	return strdup(buf);
}

/* ---- kinds and outcomes, by their names in the documents ---- */

static const char *const kind_titles[_ACTION_KIND_MAX] = {
    [ACTION_SYSCTL] = "sysctl",
    [ACTION_IRQ_AFFINITY] = "IRQ affinity",
    [ACTION_THREAD_AFFINITY] = "thread affinity",
    [ACTION_THREAD_SCHED] = "thread scheduling",
    [ACTION_CPUMASK] = "cpumask",
    [ACTION_SYSFS] = "sysfs",
    [ACTION_IRQBALANCE] = "irqbalance",
    [ACTION_CGROUP] = "partition cgroups",
    [ACTION_THREAD_CGROUP] = "partition threads",
};

const char *kind_title(enum action_kind k)
{
	return k < _ACTION_KIND_MAX && kind_titles[k] ? kind_titles[k] : "?";
}

static int kind_of(const char *name)
{
	for (int k = 0; name && k < _ACTION_KIND_MAX; k++)
		if (strcmp(plan_action_kind_name((enum action_kind)k), name) == 0)
			return k;
	return -1;
}

static const char *kind_title_of(const char *name)
{
	int k = kind_of(name);

	return k < 0 ? "?" : kind_title((enum action_kind)k);
}

static int outcome_of(const char *name)
{
	for (int k = 0; name && k < _STEP_OUTCOME_MAX; k++)
		if (strcmp(apply_outcome_name((enum step_outcome)k), name) == 0)
			return k;
	return -1;
}

static size_t outcome_count(json_object *counts, enum step_outcome k)
{
	return count(counts, apply_outcome_name(k));
}

/* "tid/2205 CPU 0/KVM (qemu-system-x86 2201)"; sysctls and sysfs
 * attributes are their own name. */
static char *what(json_object *e)
{
	const char *target = raw(str(e, "target")), *label = str(e, "label");
	int kind = kind_of(str(e, "kind"));

	if (kind == ACTION_SYSCTL || kind == ACTION_SYSFS || kind == ACTION_IRQBALANCE || !label || !label[0])
		return strdup(target);
	return util_sprintf("%s %s", target, label);
}

/* A value as shown: irqbalance's empty lists ("bans none") as "none". */
static const char *value_of(json_object *o, const char *key)
{
	const char *v = str(o, key);

	return v && !*v && (kind_of(str(o, "kind")) == ACTION_IRQBALANCE || kind_of(str(o, "kind")) == ACTION_CGROUP)
		   ? "none"
		   : v;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- plan ---- */

static int plan_text(json_object *doc)
{
	/* In the order they are applied: host-wide defaults before IRQs and threads. */
	static const enum action_kind order[] = {ACTION_SYSCTL,	      ACTION_CPUMASK,	      ACTION_SYSFS,
						 ACTION_IRQ_AFFINITY, ACTION_THREAD_AFFINITY, ACTION_THREAD_SCHED,
						 ACTION_CGROUP,	      ACTION_THREAD_CGROUP,   ACTION_IRQBALANCE};
	json_object *acts = array(doc, "actions"), *skips = array(doc, "cannot"), *warns = array(doc, "warnings");
	json_object *counts = get(doc, "counts");
	const char *root = str(doc, "root"), *kernel = str(doc, "kernel"), *online = str(doc, "online_cpus");
	char sysfs[32] = "", irqb[40] = "", part[96] = "";
	size_t n_sysfs, n_irqb, n_cg, n_tcg;

	printf("Plan for mode %s (%s) on %s: kernel %s%s, CPUs online %s\n", raw(str(doc, "mode")),
	       raw(str(doc, "type")), root ? root : "this host", kernel ? kernel : "?",
	       flag(doc, "preempt_rt") ? " (PREEMPT_RT)" : "", online ? online : "?");
	for (size_t oi = 0; oi < ARRAY_SIZE(order); oi++) {
		const char *kname = plan_action_kind_name(order[oi]);
		size_t n = count(counts, kname);

		if (!n)
			continue;
		printf("\n%s: %zu change%s\n", kind_title(order[oi]), n, plural(n));
		for (size_t i = 0; i < alen(acts); i++) {
			json_object *a = at(acts, i);
			const char *kind = str(a, "kind");

			if (!kind || strcmp(kind, kname) != 0)
				continue;
			if (order[oi] == ACTION_SYSCTL || order[oi] == ACTION_SYSFS || order[oi] == ACTION_IRQBALANCE ||
			    order[oi] == ACTION_CGROUP)
				printf("  %-4s %-53s %12s -> %-12s [%s]\n", flag(a, "rt") ? "RT" : "",
				       raw(str(a, "target")), raw(value_of(a, "from")), raw(value_of(a, "to")),
				       raw(str(a, "rule")));
			else
				printf("  %-4s %-12s %-40s %12s -> %-12s [%s]\n", flag(a, "rt") ? "RT" : "",
				       raw(str(a, "target")), raw(str(a, "label")), raw(value_of(a, "from")),
				       raw(value_of(a, "to")), raw(str(a, "rule")));
		}
	}
	if (alen(skips)) {
		printf("\ncannot be done: %zu\n", alen(skips));
		for (size_t i = 0; i < alen(skips); i++) {
			json_object *k = at(skips, i);
			const char *t = str(k, "target"), *l = str(k, "label");
			size_t tl = t ? strlen(t) : 0, ll = l ? strlen(l) : 0;

			/* A sysctl's or sysfs attribute's label is its target again. */
			if (t && l && tl >= ll && strcmp(t + tl - ll, l) == 0)
				printf("  %-45s %s [%s]\n", raw(t), raw(str(k, "reason")), raw(str(k, "rule")));
			else
				printf("  %-12s %-32s %s [%s]\n", raw(t), raw(l), raw(str(k, "reason")),
				       raw(str(k, "rule")));
		}
	}
	if (alen(warns)) {
		printf("\nwarnings:\n");
		for (size_t i = 0; i < alen(warns); i++)
			printf("  %s\n", raw(sat(warns, i)));
	}
	/* sysfs only when there is some: the line as it was before [sysfs]. */
	n_sysfs = count(counts, plan_action_kind_name(ACTION_SYSFS));
	if (n_sysfs)
		snprintf(sysfs, sizeof(sysfs), "%zu sysfs, ", n_sysfs);
	n_irqb = count(counts, plan_action_kind_name(ACTION_IRQBALANCE));
	if (n_irqb)
		snprintf(irqb, sizeof(irqb), ", %zu irqbalance", n_irqb);
	n_cg = count(counts, plan_action_kind_name(ACTION_CGROUP));
	n_tcg = count(counts, plan_action_kind_name(ACTION_THREAD_CGROUP));
	if (n_cg || n_tcg)
		snprintf(part, sizeof(part), ", %zu partition cgroup, %zu partition thread", n_cg, n_tcg);
	printf("\n%zu change%s (%zu sysctl, %zu cpumask, %s%zu IRQ affinity, %zu thread affinity, %zu thread "
	       "scheduling%s%s), %zu cannot be done, %zu already as wanted\n",
	       alen(acts), plural(alen(acts)), count(counts, plan_action_kind_name(ACTION_SYSCTL)),
	       count(counts, plan_action_kind_name(ACTION_CPUMASK)), sysfs,
	       count(counts, plan_action_kind_name(ACTION_IRQ_AFFINITY)),
	       count(counts, plan_action_kind_name(ACTION_THREAD_AFFINITY)),
	       count(counts, plan_action_kind_name(ACTION_THREAD_SCHED)), part, irqb, alen(skips),
	       count(counts, "unchanged"));
	return EXIT_OK;
}

/* ---- apply, revert ---- */

static void step_text(json_object *st)
{
	char *w = what(st);
	const char *from = value_of(st, "from"), *to = value_of(st, "to"), *msg = str(st, "message");

	printf("  %-11s %-17s %-44s %10s -> %-10s%s%s\n", raw(str(st, "outcome")), kind_title_of(str(st, "kind")),
	       w ? w : raw(str(st, "target")), from ? from : "", to ? to : "", msg ? "  " : "", msg ? msg : "");
	free(w);
}

/* "unconfirmed: ..." for a mode applied with --confirm-within. */
static void confirm_text(json_object *conf, const char *indent)
{
	char *when;

	if (!conf || !json_object_is_type(conf, json_type_object))
		return;
	when = time_string(num(conf, "deadline_usec") / 1000000);
	printf("%sunconfirmed: back to %s at %s unless isoctl confirm comes first\n", indent,
	       raw(str(conf, "previous_mode")), when ? when : "?");
	free(when);
}

static void apply_text(json_object *doc, bool all)
{
	json_object *steps = array(doc, "steps"), *skips = array(doc, "cannot"), *warns = array(doc, "warnings");
	json_object *notes = array(doc, "notices"), *counts = get(doc, "counts");
	const char *mode = raw(str(doc, "mode")), *prev = str(doc, "previous_mode"), *root = str(doc, "root");
	const char *result = str(doc, "result");
	bool dry_run = result && strcmp(result, "dry-run") == 0, failed = result && strcmp(result, "failed") == 0;
	size_t writes = 0, conflicts;
	char head[128];

	for (size_t i = 0; i < alen(notes); i++)
		printf("note: %s\n", raw(sat(notes, i)));
	for (size_t i = 0; i < alen(steps); i++) {
		int o = outcome_of(str(at(steps, i), "outcome"));

		writes += flag(at(steps, i), "write") || o == STEP_UNDONE || o == STEP_FAILED;
	}
	if (strcmp(mode, "vanilla") == 0)
		printf("%s %s to vanilla on %s: %zu change%s\n", dry_run ? "Would revert" : "Reverting",
		       prev ? prev : "?", root ? root : "this host", writes, plural(writes));
	else
		printf("%s %s (from %s, scope %s) on %s: %zu change%s\n", dry_run ? "Would apply" : "Applying", mode,
		       prev ? prev : "?", raw(str(doc, "scope")), root ? root : "this host", writes, plural(writes));
	for (size_t i = 0; i < alen(steps); i++) {
		int o = outcome_of(str(at(steps, i), "outcome"));

		/* Without --all a real run lists only what did not simply work. */
		if (dry_run || all ||
		    (o != STEP_DONE && o != STEP_UNCHANGED && o != STEP_PENDING && o != STEP_UNDONE &&
		     o != STEP_NOT_DONE))
			step_text(at(steps, i));
	}
	if (alen(skips)) {
		printf("cannot be done: %zu (see isoctl plan %s)\n", alen(skips), mode);
		for (size_t i = 0; all && i < alen(skips); i++) {
			json_object *k = at(skips, i);

			printf("  %-12s %-32s %s\n", raw(str(k, "target")), raw(str(k, "label")),
			       raw(str(k, "reason")));
		}
	}
	for (size_t i = 0; i < alen(warns); i++)
		printf("warning: %s\n", raw(sat(warns, i)));
	if (dry_run) {
		printf("dry run: nothing was written\n");
		return;
	}
	if (failed) {
		size_t undone = outcome_count(counts, STEP_UNDONE);

		printf("failed: %zu change%s undone, %zu not attempted (--all lists them); the error is on stderr\n",
		       undone, plural(undone), outcome_count(counts, STEP_NOT_DONE));
		return;
	}
	conflicts = outcome_count(counts, STEP_CONFLICT);
	/* A revert that left a value alone has not put the host back. */
	snprintf(head, sizeof(head), "%s in force", mode);
	printf("%s: %zu done, %zu pending, %zu unchanged, %zu not movable, %zu gone, %zu conflict%s\n",
	       conflicts && strcmp(mode, "vanilla") == 0 ? "revert incomplete" : head,
	       outcome_count(counts, STEP_DONE), outcome_count(counts, STEP_PENDING),
	       outcome_count(counts, STEP_UNCHANGED), outcome_count(counts, STEP_NOT_MOVABLE),
	       outcome_count(counts, STEP_GONE), conflicts, plural(conflicts));
	if (conflicts && strcmp(mode, "vanilla") == 0)
		printf("conflicts were left alone: another tool changed them after isolated did; the journal keeps "
		       "their pristine values (isoctl status), isoctl revert --force restores them\n");
	else if (conflicts)
		printf("conflicts were left alone: another tool changed them after isolated did; "
		       "--force overwrites them\n");
	confirm_text(get(doc, "confirm"), "");
	if (flag(doc, "journal_removed"))
		printf("isolated holds nothing on this host any more\n");
}

/* Failed, or conflicts left alone: exit 1. The error goes to stderr after
 * the document, text or JSON. */
static int apply_status_of(json_object *doc)
{
	const char *result = str(doc, "result");
	bool failed = result && strcmp(result, "failed") == 0;

	if (failed)
		err_msg("%s", raw(str(doc, "error")));
	return failed || outcome_count(get(doc, "counts"), STEP_CONFLICT) ? EXIT_FAIL : EXIT_OK;
}

/* ---- status, verify ---- */

/* The document of a held mode has "applied_at" exactly when a journal is. */
static bool held_has_journal(json_object *held)
{
	return get(held, "applied_at") != NULL;
}

static void held_header(json_object *held)
{
	const char *mode = raw(str(held, "mode"));
	long long applied = num(held, "applied_at");
	json_object *txn = get(held, "interrupted_transaction");

	if (applied > 0) {
		char *when = time_string(applied);

		printf("mode        %s (scope %s), applied %s\n", mode, raw(str(held, "scope")), when ? when : "?");
		free(when);
	} else
		printf("mode        %s\n", mode);
	if (txn)
		printf("            INTERRUPTED: a transaction to %s (pid %lld) did not finish; the next isoctl apply "
		       "or revert undoes it\n",
		       str(held, "interrupted_transaction") ? str(held, "interrupted_transaction") : "?",
		       num(held, "interrupted_pid"));
	confirm_text(get(held, "confirm"), "            ");
}

static void held_nothing(json_object *held)
{
	const char *stale = str(held, "stale_journal_boot_id");

	printf("mode        vanilla (isolated holds nothing on this host)\n");
	if (stale)
		printf("            (a journal from another boot, %s, is left; the next apply or revert discards it)\n",
		       stale);
}

static void target_line(json_object *t)
{
	char *w = what(t);
	const char *now = value_of(t, "now");

	printf("%c %-17s %-44s %-12s %-12s %s\n", flag(t, "drift") ? '*' : ' ', kind_title_of(str(t, "kind")),
	       w ? w : raw(str(t, "target")), raw(value_of(t, "pristine")), raw(value_of(t, "wanted")),
	       now ? now : "(gone)");
	free(w);
}

static void targets_header(void)
{
	printf("\n  %-17s %-44s %-12s %-12s %s\n", "KIND", "TARGET", "PRISTINE", "WANTED", "NOW");
}

/* ---- partitions: status and check ---- */

const char partition_boot_only[] = "the tick (nohz_full=) and RCU callbacks (rcu_nocbs=) cannot be moved at run time: "
				   "only the boot command line gives them";

char *partition_gives(enum cgroup_kind kind, const char *cpus, const char *isolated_now)
{
	if (kind == CGROUP_V2 && isolated_now)
		return util_sprintf(
		    "cgroup v2: a partition takes CPUs %s out of load balancing at run time; isolated now: %s", cpus,
		    *isolated_now ? isolated_now : "none");
	if (kind == CGROUP_V2)
		return util_sprintf("cgroup v2 without isolated remote partitions (Linux 6.7): CPUs %s leave load "
				    "balancing only with isolcpus=",
				    cpus);
	if (kind == CGROUP_V1)
		return util_sprintf("cgroup v1 cpusets: a partition (sched_load_balance 0) takes CPUs %s out of load "
				    "balancing at run time",
				    cpus);
	return util_sprintf("no cpuset controller: CPUs %s leave load balancing only with isolcpus=", cpus);
}

/* One held partition: its state now, what it gives, what only boot does.
 * "partition   machine.slice/.../isolated-rt: isolated invalid (REASON):
 * CPUs 6-7 are load-balanced again". */
static void partition_text(json_object *p)
{
	const char *cpus = str(p, "cpus") ? str(p, "cpus") : "?", *state = str(p, "state");
	const char *broken = str(p, "broken"), *broken_now = str(p, "broken_now"), *h = str(p, "hierarchy");
	enum cgroup_kind kind = h && strcmp(h, "v1") == 0 ? CGROUP_V1 : CGROUP_V2;
	char *gives = partition_gives(kind, cpus, str(p, "isolated_now"));

	printf("partition   %s: ", raw(str(p, "cgroup")));
	if (kind == CGROUP_V1 && broken)
		printf("%s is %s again", broken, broken_now ? broken_now : "gone");
	else if (kind == CGROUP_V1)
		printf("sched_load_balance %s", state ? state : "(gone)");
	else
		printf("%s", state ? state : "(gone)");
	printf(": CPUs %s %s\n", cpus, flag(p, "holds") ? "out of load balancing" : "are load-balanced again");
	printf("            %s\n", gives ? gives : "?");
	printf("            %s\n", partition_boot_only);
	free(gives);
}

/* What isolated holds; false when the journal could not be read. */
static bool held_text(json_object *held, bool all)
{
	json_object *targets = array(held, "targets");
	size_t shown = 0, drift = count(held, "drift");

	if (get(held, "error")) {
		printf("mode        unknown: %s\n", raw(str(held, "error")));
		return false;
	}
	if (!held_has_journal(held)) {
		held_nothing(held);
		return true;
	}
	held_header(held);
	printf("managed     %zu targets, %zu drifted%s, %zu gone\n", alen(targets), drift, drift ? " (marked *)" : "",
	       count(held, "gone"));
	for (size_t i = 0; i < alen(array(held, "partitions")); i++)
		partition_text(at(array(held, "partitions"), i));
	targets_header();
	for (size_t i = 0; i < alen(targets); i++) {
		json_object *t = at(targets, i);

		if (!all && !flag(t, "drift") && str(t, "now") && shown >= 40)
			continue;
		shown++;
		target_line(t);
	}
	if (shown < alen(targets))
		printf("  ... %zu more, all as wanted (--all lists them)\n", alen(targets) - shown);
	return true;
}

static int status_text(json_object *doc, bool all)
{
	json_object *sys = get(doc, "sysctl"), *irqs = array(doc, "irqs"), *tasks = array(doc, "threads");
	json_object *grub = get(doc, "grub");
	const char *kernel = str(doc, "kernel"), *online = str(doc, "online_cpus"), *cmdline = str(doc, "cmdline");
	size_t tuned = count(doc, "threads_tuned");
	bool held_ok = held_text(get(doc, "isolated"), all);

	printf("\nkernel      %s%s\n", kernel ? kernel : "?", flag(doc, "preempt_rt") ? " (PREEMPT_RT)" : "");
	printf("online      %s\n", online ? online : "?");
	printf("cmdline     %s\n", cmdline ? cmdline : "");
	if (grub && json_object_is_type(grub, json_type_object)) {
		const char *lin = str(grub, "GRUB_CMDLINE_LINUX"), *def = str(grub, "GRUB_CMDLINE_LINUX_DEFAULT");

		printf("grub        GRUB_CMDLINE_LINUX=\"%s\" GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"\n", lin ? lin : "",
		       def ? def : "");
	}
	printf("\nsysctl\n");
	if (sys && json_object_is_type(sys, json_type_object)) {
		json_object_object_foreach(sys, name, v)
		{
			const char *value = string_of(v);

			printf("  %-30s %s\n", name, value ? value : "(absent)");
		}
	}
	printf("\n%-5s %-10s %-10s %-8s %s\n", "IRQ", "AFFINITY", "EFFECTIVE", "NIC", "ACTIONS");
	for (size_t i = 0; i < alen(irqs); i++) {
		json_object *q = at(irqs, i), *acts = array(q, "actions");
		const char *aff = str(q, "affinity"), *eff = str(q, "effective"), *nic = str(q, "nic");

		printf("%-5u %-10s %-10s %-8s ", (unsigned)num(q, "irq"), aff ? aff : "-", eff ? eff : "-",
		       nic ? nic : "-");
		for (size_t k = 0; k < alen(acts); k++)
			printf("%s%s", k ? "," : "", raw(sat(acts, k)));
		putchar('\n');
	}
	printf("\nthreads: %zu, of which %zu pinned or not SCHED_OTHER%s\n", count(doc, "threads_total"), tuned,
	       all || !tuned ? "" : " (--all lists every thread)");
	if (tuned || all) {
		printf("%-8s %-8s %-10s %-12s %-8s %s\n", "TID", "PID", "CPUS", "SCHED", "MOVABLE", "THREAD");
		for (size_t i = 0; i < alen(tasks); i++) {
			json_object *t = at(tasks, i);
			const char *cpus = str(t, "cpus"), *sched = str(t, "sched");
			long long tid = num(t, "tid"), tgid = num(t, "tgid");

			if (!all && !flag(t, "tuned"))
				continue;
			printf("%-8lld %-8lld %-10s %-12s %-8s %s%s%s%s\n", tid, tgid, cpus ? cpus : "?",
			       sched ? sched : "?", flag(t, "movable") ? "yes" : "no", raw(str(t, "comm")),
			       tid != tgid ? " (" : "", tid != tgid ? raw(str(t, "process")) : "",
			       tid != tgid ? ")" : "");
		}
	}
	return held_ok ? EXIT_OK : EXIT_FAIL;
}

/* The daemon's summary, which it gives a caller other than root: what is
 * held, no targets, no threads. */
static void summary_text(json_object *doc)
{
	json_object *held = get(doc, "isolated");
	size_t managed = count(held, "managed");

	if (held_has_journal(held))
		held_header(held);
	else
		held_nothing(held);
	printf("state       %s\n", raw(str(held, "state")));
	if (held_has_journal(held))
		printf("managed     %zu target%s, %zu drifted at the last verification\n", managed, plural(managed),
		       count(held, "drift"));
	printf("\n(the daemon's summary for users other than root: isoctl status --all asks it for every target "
	       "and thread)\n");
}

/* Without --all, status shows the threads that are tuned; the document has
 * them all. */
static void status_trim(json_object *doc)
{
	json_object *tasks = array(doc, "threads"), *kept;

	if (!tasks || !(kept = json_object_new_array()))
		return;
	for (size_t i = 0; i < alen(tasks); i++)
		if (flag(at(tasks, i), "tuned"))
			json_object_array_add(kept, json_object_get(at(tasks, i)));
	json_object_object_add(doc, "threads", kept);
}

static void verify_text(json_object *doc)
{
	json_object *targets = array(doc, "targets");
	size_t drift = count(doc, "drift"), managed = count(doc, "managed"), gone = count(doc, "gone");
	const char *mode = raw(str(doc, "mode"));

	if (!held_has_journal(doc)) {
		held_nothing(doc);
		printf("nothing to verify\n");
		return;
	}
	held_header(doc);
	if (!drift) {
		printf("no drift: %zu target%s as wanted, %zu gone\n", managed - (gone < managed ? gone : managed),
		       plural(managed - (gone < managed ? gone : managed)), gone);
		return;
	}
	printf("drift       %zu of %zu targets changed behind isolated's back\n", drift, managed);
	targets_header();
	for (size_t i = 0; i < alen(targets); i++)
		target_line(at(targets, i));
	if (flag(doc, "enforced"))
		printf("re-applied: the daemon enforces %s\n", mode);
	else
		printf("left as they are: isoctl apply %s --force puts them back\n", mode);
}

static int verify_status_of(json_object *doc)
{
	return count(doc, "drift") ? EXIT_FAIL : EXIT_OK;
}

/* ---- list, confirm ---- */

static void modes_text(json_object *doc)
{
	printf("%-16s %-12s %s\n", "MODE", "TYPE", "SUMMARY");
	for (size_t i = 0; i < alen(doc); i++) {
		json_object *m = at(doc, i);
		const char *summary = str(m, "summary");

		if (flag(m, "valid"))
			printf("%-16s %-12s %s\n", raw(str(m, "name")), raw(str(m, "type")), summary ? summary : "");
		else
			printf("%-16s %-12s %s\n", raw(str(m, "name")), "INVALID", "has errors: see isoctl check");
	}
}

/* ---- show ---- */

/* The policy as a file again, variables resolved, each header and key
 * under the comment the file has above it. */

/* The lines of s (split at "\n") as an array of strings; NULL: ENOMEM. */
static json_object *lines_of(const char *s)
{
	json_object *lines = json_object_new_array();

	for (const char *p = s; lines; p++) {
		size_t n = strcspn(p, "\n");
		json_object *l = json_object_new_string_len(p, (int)n);

		if (!l || json_object_array_add(lines, l) < 0) {
			json_object_put(l);
			json_object_put(lines);
			return NULL;
		}
		p += n;
		if (!*p)
			break;
	}
	return lines;
}

/* show's "why" strings as arrays of their lines, before the document is
 * escaped: a comment of several lines is printed as as many "#" lines, and
 * the escaping would make its newlines "\x0a". -ENOMEM. */
static int why_lines(json_object *doc)
{
	json_object *why = get(doc, "why"), *split;

	if (!why || !json_object_is_type(why, json_type_object))
		return 0;
	if (!(split = json_object_new_object()))
		return -ENOMEM;
	json_object_object_foreach(why, key, v)
	{
		const char *s = string_of(v);
		json_object *lines;

		if (!s)
			continue;
		if (!(lines = lines_of(s)) || json_object_object_add(split, key, lines) < 0) {
			json_object_put(lines);
			json_object_put(split);
			return -ENOMEM;
		}
	}
	if (json_object_object_add(doc, "why", split) < 0) {
		json_object_put(split);
		return -ENOMEM;
	}
	return 0;
}

/* The comment above the header "[section]" (key NULL) or its key. */
static void why_text(json_object *doc, const char *section, const char *key)
{
	json_object *lines;
	char *name;

	name = key ? util_sprintf("%s %s", section, key) : strdup(section);
	if (!name)
		return;
	lines = array(get(doc, "why"), name);
	free(name);
	for (size_t i = 0; i < alen(lines); i++) {
		const char *l = sat(lines, i);

		if (l && *l)
			printf("# %s\n", l);
		else
			printf("#\n");
	}
}

static void header_text(json_object *doc, const char *section)
{
	printf("\n");
	why_text(doc, section, NULL);
	printf("[%s]\n", section);
}

static void key_text(json_object *doc, const char *section, const char *key, const char *value)
{
	why_text(doc, section, key);
	printf("%s = %s\n", key, value);
}

static void rules_text(json_object *doc, const char *rules_key, const char *kind)
{
	json_object *rules = array(doc, rules_key);

	for (size_t i = 0; i < alen(rules); i++) {
		json_object *r = at(rules, i);
		const char *match = str(r, "match"), *cpus = str(r, "cpus"), *sched = str(r, "sched");
		const char *thread = str(r, "thread");
		char *section = util_sprintf("%s %s", kind, raw(str(r, "name")));

		if (!section)
			return;
		header_text(doc, section);
		key_text(doc, section, "match", match ? match : "");
		if (json_object_object_get_ex(r, "cpus", NULL))
			key_text(doc, section, "cpus", cpus ? cpus : "");
		if (sched)
			key_text(doc, section, "sched", sched);
		if (thread)
			key_text(doc, section, "thread", thread);
		free(section);
	}
}

/* A section of single keys ([sysctl], [cpumask], [irqbalance], [partition],
 * [systemd], [modprobe]) from an object of strings, in the document's
 * order; nothing when it is empty. */
static void keys_text(json_object *doc, const char *section)
{
	json_object *keys = get(doc, section);

	if (!keys || !json_object_is_type(keys, json_type_object) || !json_object_object_length(keys))
		return;
	header_text(doc, section);
	json_object_object_foreach(keys, name, v)
	{
		key_text(doc, section, name, raw(string_of(v)));
	}
}

/* [sysfs] expanded: one line per attribute, per CPU for cpu${rt_cpus}, the
 * comment of a key once above the CPUs it expands to (one line of the
 * file). */
static void sysfs_text(json_object *doc)
{
	json_object *sysfs = array(doc, "sysfs");

	if (!alen(sysfs))
		return;
	header_text(doc, "sysfs");
	for (size_t i = 0; i < alen(sysfs); i++) {
		json_object *a = at(sysfs, i);
		const char *path = raw(str(a, "path"));

		if (i == 0 || num(a, "line") != num(at(sysfs, i - 1), "line"))
			why_text(doc, "sysfs", path);
		printf("%s = %s\n", path, raw(str(a, "value")));
	}
}

static void show_text(json_object *doc)
{
	json_object *vars = get(doc, "variables");
	const char *hostconf = str(doc, "hostconf"), *summary = str(doc, "summary"), *req = str(doc, "requires");
	const char *require = str(doc, "cmdline_require"), *recommend = str(doc, "cmdline_recommend");

	printf("# %s, variables from %s resolved:\n", raw(str(doc, "file")), hostconf ? hostconf : "(none)");
	if (vars && json_object_is_type(vars, json_type_object)) {
		json_object_object_foreach(vars, name, v)
		{
			printf("#   %s = %s\n", name, raw(string_of(v)));
		}
	}
	header_text(doc, "mode");
	key_text(doc, "mode", "name", raw(str(doc, "name")));
	key_text(doc, "mode", "type", raw(str(doc, "type")));
	if (summary)
		key_text(doc, "mode", "summary", summary);
	if (req && *req)
		key_text(doc, "mode", "requires", req);
	if (flag(doc, "strict"))
		key_text(doc, "mode", "strict", "yes");
	keys_text(doc, "sysctl");
	sysfs_text(doc);
	keys_text(doc, "cpumask");
	keys_text(doc, "irqbalance");
	keys_text(doc, "partition");
	if ((require && *require) || (recommend && *recommend)) {
		header_text(doc, "cmdline");
		if (require && *require)
			key_text(doc, "cmdline", "require", require);
		if (recommend && *recommend)
			key_text(doc, "cmdline", "recommend", recommend);
	}
	keys_text(doc, "systemd");
	keys_text(doc, "modprobe");
	rules_text(doc, "irq_rules", "irq");
	rules_text(doc, "thread_rules", "thread");
}

/* ---- one entry point ---- */

int render(const struct ctx *c, enum doc_kind kind, json_object *doc)
{
	int r = EXIT_OK;

	if (!doc) {
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	if (kind == DOC_MODES && !(json_object_is_type(doc, json_type_array) && alen(doc))) {
		json_object_put(doc);
		err_msg("no policies found");
		return EXIT_FAIL;
	}
	if (kind == DOC_STATUS && !c->all)
		status_trim(doc);
	if (!c->json && ((kind == DOC_SHOW && why_lines(doc) < 0) || doc_escape(doc) < 0)) {
		json_object_put(doc);
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	if (c->json) {
		if (kind == DOC_STATUS)
			r = get(get(doc, "isolated"), "error") ? EXIT_FAIL : EXIT_OK;
		print_json(json_object_get(doc));
	} else
		switch (kind) {
		case DOC_PLAN:
			r = plan_text(doc);
			break;
		case DOC_APPLY:
			apply_text(doc, c->all);
			break;
		case DOC_STATUS:
			if (flag(doc, "summary"))
				summary_text(doc);
			else
				r = status_text(doc, c->all);
			boot_status_text(get(doc, "boot"));
			break;
		case DOC_VERIFY:
			verify_text(doc);
			break;
		case DOC_MODES:
			modes_text(doc);
			break;
		case DOC_SHOW:
			show_text(doc);
			break;
		case DOC_CONFIRM:
			printf("%s confirmed: it stays in force\n", raw(str(doc, "confirmed")));
			break;
		}
	if (kind == DOC_APPLY)
		r = apply_status_of(doc);
	else if (kind == DOC_VERIFY)
		r = verify_status_of(doc);
	json_object_put(doc);
	return r;
}
