/* Finding and loading modes: the policy directories, host.conf and a mode
 * name, shared by isoctl's direct mode and the daemon so both give the same
 * answers and the same messages. */
#ifndef ISOLATED_MODES_H
#define ISOLATED_MODES_H

#include <stdbool.h>

#include "isolated/cpuset.h"
#include "isolated/policy.h"
#include "isolated/util.h"

/* The result classes, which callers map to exit statuses (isoctl) or bus
 * errors (daemon). */
enum modes_result {
	MODES_OK = 0,
	MODES_USAGE = 2, /* invalid mode name, unknown mode, policy or host.conf errors */
	MODES_FAIL = 1,	 /* an I/O error looking for it */
};

/* The longest mode name, for the bus too (ISOLATED_BUS_MODE_MAX). */
#define MODES_NAME_MAX 64

/* True when name is a valid mode name: 1..MODES_NAME_MAX characters of
 * [A-Za-z0-9_-]. */
bool modes_name_valid(const char *name);

/* Load MODE from the first of dirs (NULL-terminated) that has MODE.conf,
 * against hc and online. "vanilla" with no vanilla.conf anywhere is the
 * built-in empty vanilla policy (what isoctl revert applies). Error lines
 * go into d: the policy's "FILE:LINE: message", or one bare line, which the
 * front door prints after its name ("unknown mode \"x\" (no x.conf in DIRS;
 * see isoctl list)", "invalid mode name ..."). */
enum modes_result modes_load(char *const *dirs, const struct hostconf *hc, const struct cpuset *online,
			     const char *mode, struct policy **ret, struct diag *d);

/* The built-in empty vanilla policy (no rules, no settings): revert. */
int modes_vanilla(struct policy **ret);

/* Names of the modes in dirs, sorted, duplicates (a later dir's) dropped. */
int modes_names(char *const *dirs, char ***ret);

/* Running from a build tree (build/isoctl, build/san/isolated ...): the
 * repository's policies/ beside the executable, allocated; NULL when the
 * executable is not in one. Used by isoctl and the daemon to find the
 * modes before they are installed. */
char *modes_build_tree_dir(void);

#endif
