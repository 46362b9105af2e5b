/* The JSON documents isoctl prints with --json and the daemon returns on the
 * bus, built in one place so both say the same thing. isoctl renders its
 * text output from these documents (ctl/render.c), in direct mode as well
 * as through the daemon, so the text is identical either way: a document
 * carries everything the text shows.
 *
 * All builders return a new json-c object (caller owns it) or NULL on
 * ENOMEM. Strings that are not valid UTF-8 (thread names are any bytes)
 * have the offending bytes replaced by '?': the bus carries only UTF-8.
 * h (may be NULL) names the host: "root" is its tree, null for the
 * running kernel. */
#ifndef ISOLATED_REPORT_H
#define ISOLATED_REPORT_H

#include <stdbool.h>
#include <json-c/json.h>

#include "isolated/apply.h"
#include "isolated/snapshot.h"
#include "isolated/plan.h"
#include "isolated/policy.h"

/* isoctl apply / revert: the transaction and its steps. confirm (may be
 * NULL): the apply waits for isoctl confirm (--confirm-within); shown
 * unless dry_run or failed. */
json_object *report_apply(const struct host *h, const struct apply_result *res, bool dry_run,
			  const struct apply_confirm *confirm);
/* Why apply_mode() returned no result (r, err), for people: one or two
 * lines joined by "\n", no final newline, no program name (isoctl prints
 * each after "isoctl: ", the daemon's bus error does the same). mode: the
 * mode being applied
 * ("vanilla" for revert). err is escaped (util_escape): it may name a
 * thread. Allocated; NULL on ENOMEM. */
char *report_apply_error(const struct host *h, const char *mode, int r, const char *err, bool dry_run, bool no_wait);
/* isoctl plan MODE. */
json_object *report_plan(const struct host *h, const struct plan *pl, const struct host_state *s);
/* isoctl status: held mode, targets with pristine / wanted / now, drift;
 * plus the host summary isoctl status always printed. Every thread of s is
 * listed, each with "tuned" (pinned or not SCHED_OTHER); isoctl drops the
 * others unless --all. An unreadable journal is not a failure: the
 * document says so ("isolated": {"mode": null, "error": ...}) and isoctl
 * exits 1. h must be readable. */
json_object *report_status(const struct host *h, const struct host_state *s);
/* What the daemon holds, as it knows it without reading anything
 * (daemon/holder.c fills it). */
struct report_held {
	const char *mode, *scope, *state;    /* state: as the daemon's State property */
	long long applied_at;		     /* the journal's; 0: nothing applied */
	size_t managed;			     /* targets */
	size_t drift;			     /* drifted, found by the last verification and left so */
	const struct apply_confirm *confirm; /* NULL: none pending */
};
/* The summary the daemon's Status() gives a caller other than root:
 * {"summary": true, "isolated": {"mode", "scope", "applied_at", "state",
 * "managed", "drift", "confirm"}}, the keys of the status document's
 * "isolated" where they mean the same (scope and applied_at null when
 * nothing is applied). */
json_object *report_summary(const struct report_held *s);
/* isoctl verify: the status document's "isolated" part with only the
 * drifted targets ("drift": N of "managed": M), and "enforced": true when
 * the daemon re-applied them. */
json_object *report_verify(const struct apply_status *st, bool enforced);
/* isoctl list: the modes found in dirs (an array; empty when none). */
json_object *report_modes(char *const *dirs, const struct hostconf *hc, const struct cpuset *online);
/* isoctl confirm: {"confirmed": MODE}. */
json_object *report_confirm(const char *mode);

#endif
