/* TEMPORARY (wt-daemon): weak stand-ins for symbols other helpers are
 * writing in parallel (lib/report.c, lib/modes.c),
 * so the daemon's core builds and its tests run
 * before those land. The coordinator deletes this file at merge: a weak
 * definition pulled from an archive would otherwise shadow the real one.
 * Only just enough behaviour for the holder's tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "isolated/apply.h"
#include "isolated/modes.h"
#include "isolated/report.h"

#define WEAK __attribute__((weak))

/* ---- lib/modes.c ---- */

WEAK bool modes_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_'))
			return false;
	return true;
}

WEAK int modes_vanilla(struct policy **ret)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p || !(p->name = strdup("vanilla"))) {
		free(p);
		return -ENOMEM;
	}
	p->type = MODE_TYPE_VANILLA;
	*ret = p;
	return 0;
}

WEAK enum modes_result modes_load(char *const *dirs, const struct hostconf *hc, const struct cpuset *online,
				  const char *mode, struct policy **ret, struct diag *d)
{
	char *path = NULL;
	int r = -ENOENT;

	if (!modes_name_valid(mode)) {
		diag_add(d, NULL, 0,
			 "isoctl: invalid mode name \"%s\": a mode is a name of letters, digits, '-' and '_'", mode);
		return MODES_USAGE;
	}
	for (size_t i = 0; dirs[i] && r == -ENOENT; i++)
		r = policy_find(dirs[i], mode, &path);
	if (r == -ENOENT && strcmp(mode, "vanilla") == 0)
		return modes_vanilla(ret) < 0 ? MODES_FAIL : MODES_OK;
	if (r == -ENOENT) {
		diag_add(d, NULL, 0, "isoctl: unknown mode \"%s\" (no %s.conf in %s; see isoctl list)", mode, mode,
			 dirs[0] ? dirs[0] : "?");
		return MODES_USAGE;
	}
	if (r < 0) {
		diag_add(d, NULL, 0, "isoctl: looking for mode \"%s\": %s", mode, strerror(-r));
		return MODES_FAIL;
	}
	r = policy_load(path, hc, online, ret, d);
	if (r < 0 && d->n == 0)
		diag_add(d, path, 0, "%s", strerror(-r));
	free(path);
	return r < 0 ? MODES_USAGE : MODES_OK;
}

WEAK int modes_names(char *const *dirs, char ***ret)
{
	char **names = NULL;

	for (size_t i = 0; dirs[i]; i++) {
		char **files = NULL;

		if (policy_list_dir(dirs[i], &files) < 0)
			continue;
		for (size_t j = 0; files[j]; j++) {
			const char *base = strrchr(files[j], '/');
			char *name = strdup(base ? base + 1 : files[j]);

			if (!name)
				continue;
			name[strlen(name) - strlen(".conf")] = '\0';
			if (strv_contains(names, name))
				free(name);
			else
				strv_push(&names, name);
		}
		strv_free(files);
	}
	*ret = names;
	return 0;
}

/* ---- lib/report.c ---- */

static json_object *str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

WEAK json_object *report_apply(const struct apply_result *res, bool dry_run)
{
	json_object *o = json_object_new_object(), *counts = json_object_new_object();

	json_object_object_add(o, "mode", str(res->mode));
	json_object_object_add(o, "previous_mode", str(res->previous_mode));
	json_object_object_add(o, "scope", str(res->scope));
	json_object_object_add(o, "result", str(dry_run ? "dry-run" : res->failed ? "failed" : "applied"));
	json_object_object_add(o, "error", str(res->error));
	for (int k = 0; k < _STEP_OUTCOME_MAX; k++)
		json_object_object_add(counts, apply_outcome_name((enum step_outcome)k),
				       json_object_new_int64((int64_t)res->counts[k]));
	json_object_object_add(o, "counts", counts);
	return o;
}

WEAK json_object *report_plan(const struct plan *pl, const struct host_state *s)
{
	json_object *o = json_object_new_object(), *acts = json_object_new_array();

	(void)s;
	json_object_object_add(o, "mode", str(pl->policy->name));
	for (size_t i = 0; i < pl->n_actions; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "target", str(pl->actions[i].target));
		json_object_object_add(a, "to", str(pl->actions[i].to));
		json_object_array_add(acts, a);
	}
	json_object_object_add(o, "actions", acts);
	return o;
}

WEAK json_object *report_status(const struct host *h, const struct host_state *s)
{
	json_object *o = json_object_new_object(), *held = json_object_new_object();
	struct apply_status *st = NULL;
	char err[256];

	(void)s;
	if (apply_status(h, &st, err, sizeof(err)) < 0) {
		json_object_object_add(held, "error", str(err));
	} else {
		json_object_object_add(held, "mode", str(st->journal ? st->journal->mode : "vanilla"));
		json_object_object_add(held, "drift", json_object_new_int64((int64_t)st->n_drift));
		apply_status_free(st);
	}
	json_object_object_add(o, "isolated", held);
	return o;
}

WEAK json_object *report_verify(const struct apply_status *st, bool enforced)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mode", str(st->journal ? st->journal->mode : "vanilla"));
	json_object_object_add(o, "drift", json_object_new_int64((int64_t)st->n_drift));
	json_object_object_add(o, "enforced", json_object_new_boolean(enforced));
	return o;
}

WEAK json_object *report_modes(char *const *dirs, const struct hostconf *hc, const struct cpuset *online)
{
	json_object *arr = json_object_new_array();
	char **names = NULL;

	(void)hc;
	(void)online;
	modes_names(dirs, &names);
	for (size_t i = 0; names && names[i]; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", str(names[i]));
		json_object_array_add(arr, o);
	}
	strv_free(names);
	return arr;
}

WEAK json_object *report_confirm(const char *mode)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "confirmed", str(mode));
	return o;
}
