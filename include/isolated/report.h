/* The JSON documents isoctl prints with --json and the daemon returns on the
 * bus, built in one place so both say the same thing. isoctl renders its
 * text output from these documents (ctl/render.c), in direct mode as well
 * as through the daemon, so the text is identical either way.
 *
 * All builders return a new json-c object (caller owns it) or NULL on
 * ENOMEM. */
#ifndef ISOLATED_REPORT_H
#define ISOLATED_REPORT_H

#include <stdbool.h>
#include <json-c/json.h>

#include "isolated/apply.h"
#include "isolated/host.h"
#include "isolated/plan.h"
#include "isolated/policy.h"

/* isoctl apply / revert: the transaction and its steps. */
json_object *report_apply(const struct apply_result *res, bool dry_run);
/* isoctl plan MODE. */
json_object *report_plan(const struct plan *pl, const struct host_state *s);
/* isoctl status: held mode, targets with pristine / wanted / now, drift;
 * plus the host summary isoctl status always printed. h must be readable. */
json_object *report_status(const struct host *h, const struct host_state *s);
/* isoctl verify: the status document with only the drifted targets, and
 * "enforced": true when the daemon re-applied them. */
json_object *report_verify(const struct apply_status *st, bool enforced);
/* isoctl list: the modes found in dirs. */
json_object *report_modes(char *const *dirs, const struct hostconf *hc, const struct cpuset *online);
/* isoctl confirm: {"confirmed": MODE}. */
json_object *report_confirm(const char *mode);

#endif
