/* Confirm: end the wait of an apply made "unless confirmed" (isoctl apply
 * --confirm-within), for the caller that made it, under the journal's lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply-internal.h"
#include "isolated/confirm.h"

static bool str_equal_or_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int apply_confirm(struct host *h, uid_t uid, const char *session, char **ret_mode, char *err, size_t errlen)
{
	struct journal *j = NULL;
	char *boot_id = NULL, *mode = NULL;
	bool removed = false;
	int lock_fd = -1, r;

	err[0] = '\0';
	if ((r = journal_lock(h, true, &lock_fd, err, errlen)) < 0)
		return r;
	if ((r = apply_boot_id(h, NULL, &boot_id)) < 0) {
		apply_fail_msg(err, errlen, r, "reading proc/sys/kernel/random/boot_id");
		goto out;
	}
	r = journal_load(h, &j, err, errlen);
	if (r == -ENOENT || (r == 0 && (strcmp(j->boot_id, boot_id) != 0 || !j->has_confirm))) {
		/* A journal of another boot is left for the next apply to
		 * discard: nothing of it is in force. */
		snprintf(err, errlen, "nothing to confirm: no apply is awaiting confirmation");
		r = -ENOENT;
		goto out;
	}
	if (r < 0)
		goto out;
	if (uid != j->confirm_uid || !str_equal_or_null(session, j->confirm_session)) {
		snprintf(err, errlen, "only the caller that applied %s may confirm it: uid %u, %s%s (not uid %u, %s%s)",
			 j->mode, (unsigned)j->confirm_uid, j->confirm_session ? "session " : "no session",
			 j->confirm_session ? j->confirm_session : "", (unsigned)uid,
			 session ? "session " : "no session", session ? session : "");
		r = -EPERM;
		goto out;
	}
	if (ret_mode && !(mode = strdup(j->mode))) {
		r = -ENOMEM;
		goto out;
	}
	journal_clear_confirm(j);
	if ((r = apply_store_journal(h, j, &removed, err, errlen)) < 0)
		goto out;
	if (ret_mode) {
		*ret_mode = mode;
		mode = NULL;
	}
	r = 0;
out:
	/* A confirmed revert leaves nothing: the lock goes with the journal. */
	removed = !journal_exists(h);
	journal_unlock(h, lock_fd, removed);
	free(mode);
	free(boot_id);
	journal_free(j);
	if (r < 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", path_strerror(-r));
	return r;
}
