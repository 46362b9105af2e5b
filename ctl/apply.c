/* isoctl's commands that change the host: apply MODE, revert; and the part
 * of status that shows what isolated holds (mode, pristine / wanted / now). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isolated/apply.h"
#include "isoctl.h"

static char *time_string(long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[64];

	if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		return strdup("?");
	return strdup(buf);
}

static json_object *step_json(const struct apply_step *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_str(plan_action_kind_name(st->e.kind)));
	json_object_object_add(o, "target", json_str(st->e.target));
	json_object_object_add(o, "label", json_str(st->e.label));
	json_object_object_add(o, "rule", json_str(st->e.rule));
	json_object_object_add(o, "from", json_str(st->e.before));
	json_object_object_add(o, "to", json_str(st->e.wanted));
	json_object_object_add(o, "pristine", json_str(st->e.pristine));
	json_object_object_add(o, "restore", json_object_new_boolean(st->restore));
	json_object_object_add(o, "outcome", json_str(apply_outcome_name(st->outcome)));
	json_object_object_add(o, "errno", st->error ? json_str(strerrorname_np(st->error)) : NULL);
	json_object_object_add(o, "message", json_str(st->message));
	return o;
}

static json_object *result_json(const struct apply_result *res, bool dry_run)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	json_object *counts = json_object_new_object(), *notes = json_object_new_array();
	json_object *skips = json_object_new_array(), *warns = json_object_new_array();
	const struct plan *pl = res->plan;

	json_object_object_add(o, "mode", json_str(res->mode));
	json_object_object_add(o, "previous_mode", json_str(res->previous_mode));
	json_object_object_add(o, "scope", json_str(res->scope));
	json_object_object_add(o, "result", json_str(dry_run ? "dry-run" : res->failed ? "failed" : "applied"));
	json_object_object_add(o, "error", json_str(res->error));
	for (int k = 0; k < _STEP_OUTCOME_MAX; k++)
		json_object_object_add(counts, apply_outcome_name((enum step_outcome)k),
				       json_object_new_int64((int64_t)res->counts[k]));
	json_object_object_add(o, "counts", counts);
	for (size_t i = 0; res->notices && res->notices[i]; i++)
		json_object_array_add(notes, json_str(res->notices[i]));
	json_object_object_add(o, "notices", notes);
	for (size_t i = 0; i < res->n_steps; i++)
		json_object_array_add(steps, step_json(&res->steps[i]));
	json_object_object_add(o, "steps", steps);
	for (size_t i = 0; pl && i < pl->n_skips; i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "kind", json_str(plan_action_kind_name(pl->skips[i].kind)));
		json_object_object_add(k, "target", json_str(pl->skips[i].target));
		json_object_object_add(k, "label", json_str(pl->skips[i].label));
		json_object_object_add(k, "reason", json_str(pl->skips[i].reason));
		json_object_array_add(skips, k);
	}
	json_object_object_add(o, "cannot", skips);
	for (size_t i = 0; pl && pl->warnings && pl->warnings[i]; i++)
		json_object_array_add(warns, json_str(pl->warnings[i]));
	json_object_object_add(o, "warnings", warns);
	return o;
}

/* "tid/2205 CPU 0/KVM (qemu-system-x86 2201)"; sysctls are their own name. */
static char *what(const struct journal_entry *e)
{
	if (e->kind == ACTION_SYSCTL || !e->label || !e->label[0])
		return strdup(e->target);
	return util_sprintf("%s %s", e->target, e->label);
}

static void step_print(const struct apply_step *st)
{
	char *w = what(&st->e);

	printf("  %-11s %-17s %-44s %10s -> %-10s%s%s\n", apply_outcome_name(st->outcome), kind_title(st->e.kind),
	       w ? w : st->e.target, st->e.before ? st->e.before : "", st->e.wanted ? st->e.wanted : "",
	       st->message ? "  " : "", st->message ? st->message : "");
	free(w);
}

static void result_print(const struct apply_result *res, const struct ctx *c, bool dry_run)
{
	const struct plan *pl = res->plan;
	size_t writes = 0;

	for (size_t i = 0; res->notices && res->notices[i]; i++)
		printf("note: %s\n", res->notices[i]);
	for (size_t i = 0; i < res->n_steps; i++)
		writes +=
		    res->steps[i].write || res->steps[i].outcome == STEP_UNDONE || res->steps[i].outcome == STEP_FAILED;
	if (strcmp(res->mode, "vanilla") == 0)
		printf("%s %s to vanilla on %s: %zu change%s\n", dry_run ? "Would revert" : "Reverting",
		       res->previous_mode ? res->previous_mode : "?", c->root ? c->root : "this host", writes,
		       writes == 1 ? "" : "s");
	else
		printf("%s %s (from %s, scope %s) on %s: %zu change%s\n", dry_run ? "Would apply" : "Applying",
		       res->mode, res->previous_mode ? res->previous_mode : "?", res->scope,
		       c->root ? c->root : "this host", writes, writes == 1 ? "" : "s");
	for (size_t i = 0; i < res->n_steps; i++) {
		const struct apply_step *st = &res->steps[i];

		/* Without --all a real run lists only what did not simply work. */
		if (dry_run || c->all ||
		    (st->outcome != STEP_DONE && st->outcome != STEP_UNCHANGED && st->outcome != STEP_PENDING &&
		     st->outcome != STEP_UNDONE && st->outcome != STEP_NOT_DONE))
			step_print(st);
	}
	if (pl && pl->n_skips) {
		printf("cannot be done: %zu (see isoctl plan %s)\n", pl->n_skips, res->mode);
		if (c->all)
			for (size_t i = 0; i < pl->n_skips; i++)
				printf("  %-12s %-32s %s\n", pl->skips[i].target, pl->skips[i].label,
				       pl->skips[i].reason);
	}
	for (size_t i = 0; pl && pl->warnings && pl->warnings[i]; i++)
		printf("warning: %s\n", pl->warnings[i]);
	if (dry_run) {
		printf("dry run: nothing was written\n");
		return;
	}
	if (res->failed) {
		printf("failed: %zu change%s undone, %zu not attempted (--all lists them); the error is on stderr\n",
		       res->counts[STEP_UNDONE], res->counts[STEP_UNDONE] == 1 ? "" : "s", res->counts[STEP_NOT_DONE]);
		return;
	}
	printf("%s in force: %zu done, %zu pending, %zu unchanged, %zu not movable, %zu gone, %zu conflict%s\n",
	       res->mode, res->counts[STEP_DONE], res->counts[STEP_PENDING], res->counts[STEP_UNCHANGED],
	       res->counts[STEP_NOT_MOVABLE], res->counts[STEP_GONE], res->counts[STEP_CONFLICT],
	       res->counts[STEP_CONFLICT] == 1 ? "" : "s");
	if (res->counts[STEP_CONFLICT])
		printf("conflicts were left alone: another tool changed them after isolated did; "
		       "--force overwrites them\n");
	if (res->journal_removed)
		printf("isolated holds nothing on this host any more\n");
}

static int run_apply(struct ctx *c, const struct policy *p)
{
	struct apply_opts o = {
	    .dry_run = c->dry_run,
	    .force = c->force,
	    .no_wait = c->no_wait,
	    .crash_after = getenv("ISOLATED_CRASH_AFTER"),
	};
	struct apply_result *res = NULL;
	char err[1024] = "";
	int r;

	/* apply has the host open already (the policy needed its online CPUs). */
	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	r = apply_mode(c->host, p, &o, &res, err, sizeof(err));
	if (!res) {
		if (r == -EBADMSG) {
			char *path = util_sprintf("%s/%s", c->root ? c->root : "", JOURNAL_PATH);

			err_msg("%s", err);
			err_msg("refusing to change the host: the journal records what isolated changed and the "
				"pristine values, and it cannot be read. It was left as it is. To recover: restore the "
				"pristine values it shows by hand, or reboot (runtime settings reset at boot); then "
				"move it away (mv %s %s.bad) and run isoctl again",
				path ? path : JOURNAL_PATH, path ? path : JOURNAL_PATH);
			free(path);
		} else if (r == -EWOULDBLOCK && c->no_wait)
			err_msg("%s (--no-wait given)", err);
		else
			err_msg("%s %s: %s", c->dry_run ? "planning" : "applying", p->name, err);
		return EXIT_FAIL;
	}
	if (c->json)
		print_json(result_json(res, c->dry_run));
	else
		result_print(res, c, c->dry_run);
	if (res->failed)
		err_msg("%s", res->error);
	r = res->failed || res->counts[STEP_CONFLICT] ? EXIT_FAIL : EXIT_OK;
	apply_result_free(res);
	return r;
}

static int scope_override(struct ctx *c, struct policy *p)
{
	struct scope s = {0};
	char err[256];

	if (!c->scope)
		return EXIT_OK;
	if (policy_scope_parse(c->scope, &s, err, sizeof(err)) < 0) {
		err_msg("--scope %s: %s", c->scope, err);
		return EXIT_USAGE;
	}
	if (policy_set_scope(p, &s) < 0) {
		policy_scope_done(&s);
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	policy_scope_done(&s);
	return EXIT_OK;
}

int cmd_apply(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	int r;

	if (argc != 1) {
		err_msg("usage: isoctl apply MODE [--dry-run] [--force] [--no-wait] [--scope SCOPE]");
		return EXIT_USAGE;
	}
	/* apply_mode snapshots the host under the lock; this is its only walk of /proc. */
	c->online_only = true;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if ((r = scope_override(c, p)) == EXIT_OK)
		r = run_apply(c, p);
	policy_free(p);
	return r;
}

/* revert needs no policy file and no host.conf: an empty vanilla policy
 * puts back everything the journal holds, even when the configuration
 * that applied it is broken or gone. */
int cmd_revert(struct ctx *c, int argc, char **argv)
{
	struct policy p = {.name = (char *)"vanilla", .type = MODE_TYPE_VANILLA};

	(void)argv;
	if (argc != 0) {
		err_msg("usage: isoctl revert [--dry-run] [--force] [--no-wait]");
		return EXIT_USAGE;
	}
	return run_apply(c, &p);
}

/* ---- status: what isolated holds ---- */

json_object *held_json(const struct host *h)
{
	json_object *o = json_object_new_object(), *targets;
	struct apply_status *st = NULL;
	char err[512];
	int r;

	r = apply_status(h, &st, err, sizeof(err));
	if (r < 0) {
		json_object_object_add(o, "mode", NULL);
		json_object_object_add(o, "error", json_str(err));
		return o;
	}
	if (!st->journal) {
		json_object_object_add(o, "mode", json_str("vanilla"));
		json_object_object_add(o, "stale_journal_boot_id", json_str(st->stale_boot_id));
		json_object_object_add(o, "targets", json_object_new_array());
		apply_status_free(st);
		return o;
	}
	json_object_object_add(o, "mode", json_str(st->journal->mode));
	json_object_object_add(o, "scope", json_str(st->journal->scope));
	json_object_object_add(o, "applied_at", json_object_new_int64(st->journal->applied_at));
	json_object_object_add(o, "interrupted_transaction",
			       st->journal->has_txn ? json_str(st->journal->txn_mode) : NULL);
	json_object_object_add(o, "drift", json_object_new_int64((int64_t)st->n_drift));
	json_object_object_add(o, "gone", json_object_new_int64((int64_t)st->n_gone));
	targets = json_object_new_array();
	for (size_t i = 0; i < st->n_targets; i++) {
		const struct status_target *t = &st->targets[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "kind", json_str(plan_action_kind_name(t->e->kind)));
		json_object_object_add(j, "target", json_str(t->e->target));
		json_object_object_add(j, "label", json_str(t->e->label));
		json_object_object_add(j, "rule", json_str(t->e->rule));
		json_object_object_add(j, "pristine", json_str(t->e->pristine));
		json_object_object_add(j, "wanted", json_str(t->e->wanted));
		json_object_object_add(j, "now", json_str(t->now));
		json_object_object_add(j, "drift", json_object_new_boolean(t->drift));
		json_object_array_add(targets, j);
	}
	json_object_object_add(o, "targets", targets);
	apply_status_free(st);
	return o;
}

/* Returns false when the journal could not be read (printed). */
bool held_print(const struct host *h, bool all)
{
	struct apply_status *st = NULL;
	char err[512], *when;
	size_t shown = 0;
	int r;

	r = apply_status(h, &st, err, sizeof(err));
	if (r < 0) {
		printf("mode        unknown: %s\n", err);
		return false;
	}
	if (!st->journal) {
		printf("mode        vanilla (isolated holds nothing on this host)\n");
		if (st->stale_boot_id)
			printf("            (a journal from another boot, %s, is left; the next apply or revert "
			       "discards it)\n",
			       st->stale_boot_id);
		apply_status_free(st);
		return true;
	}
	when = time_string(st->journal->applied_at);
	if (st->journal->applied_at > 0)
		printf("mode        %s (scope %s), applied %s\n", st->journal->mode, st->journal->scope, when);
	else
		printf("mode        %s\n", st->journal->mode);
	free(when);
	if (st->journal->has_txn)
		printf("            INTERRUPTED: a transaction to %s (pid %d) did not finish; the next isoctl apply "
		       "or revert undoes it\n",
		       st->journal->txn_mode ? st->journal->txn_mode : "?", st->journal->txn_pid);
	printf("managed     %zu targets, %zu drifted%s, %zu gone\n", st->n_targets, st->n_drift,
	       st->n_drift ? " (marked *)" : "", st->n_gone);
	printf("\n  %-17s %-44s %-12s %-12s %s\n", "KIND", "TARGET", "PRISTINE", "WANTED", "NOW");
	for (size_t i = 0; i < st->n_targets; i++) {
		const struct status_target *t = &st->targets[i];
		char *w;

		if (!all && !t->drift && t->now && shown >= 40)
			continue;
		shown++;
		w = what(t->e);
		printf("%c %-17s %-44s %-12s %-12s %s\n", t->drift ? '*' : ' ', kind_title(t->e->kind),
		       w ? w : t->e->target, t->e->pristine, t->e->wanted, t->now ? t->now : "(gone)");
		free(w);
	}
	if (shown < st->n_targets)
		printf("  ... %zu more, all as wanted (--all lists them)\n", st->n_targets - shown);
	apply_status_free(st);
	return true;
}
