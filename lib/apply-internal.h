/* What the transactions (apply.c), status (status.c) and confirm
 * (confirm.c) share inside the engine: a journal target's value in a
 * snapshot and on the host (target.c), the boot id, storing the journal. */
#ifndef ISOLATED_APPLY_INTERNAL_H
#define ISOLATED_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/snapshot.h"
#include "isolated/journal.h"

/* The thread of a journal entry in s, if it is still the same thread (same
 * start time). */
struct task_info *target_thread(const struct host_state *s, const struct journal_entry *e);
/* The value of e's target in s, allocated; *ret NULL when the target is not
 * there (gone). -ENOMEM. */
/* Did s read e's target? (a sysctl or sysfs attribute of the system's
 * files only when asked for; the rest always, as far as its needs go). */
bool target_in_state(const struct host_state *s, const struct journal_entry *e);
int target_value_in(const struct host_state *s, const struct journal_entry *e, char **ret);
/* Put value (of e's target) into s: the journal's pristine values, so a plan
 * is made against the host as it was before isolated touched it; or what a
 * recovery put back. A target s does not have is skipped. -EINVAL for a
 * value not of e's kind, -ENOMEM. */
int target_set_in(struct host_state *s, const struct journal_entry *e, const char *value);
/* Write value to e's target through the host seam. -errno. */
int target_write(struct host *h, const struct journal_entry *e, const char *value);
/* The value now, read from the host. -ESRCH when the thread is gone (or its
 * tid now belongs to another thread). *ret_pending: an IRQ whose effective
 * affinity is not yet inside want. */
int target_read(const struct host *h, const struct journal_entry *e, const char *want, char **ret, bool *ret_pending);

/* The boot id, from s when given (NULL: read from h); "" when the host has
 * none. Allocated. -errno, *ret untouched. */
int apply_boot_id(const struct host *h, const struct host_state *s, char **ret);
/* Write what changed in j, or remove the file when j holds nothing (the
 * host is vanilla, and no revert awaits confirmation); *ret_removed says
 * which. -errno with a message in err. */
int apply_store_journal(const struct host *h, struct journal *j, bool *ret_removed, char *err, size_t errlen);
/* "WHAT: strerror" into err unless err already says why; returns r. */
int apply_fail_msg(char *err, size_t errlen, int r, const char *what);

#endif
