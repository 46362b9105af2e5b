/* Status: what isolated holds on a host (the journal's targets, each with
 * its value now and whether it drifted), for isoctl status, verify and the
 * daemon's drift check. Reads; writes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply-internal.h"
#include "isolated/action.h"
#include "isolated/needs.h"
#include "isolated/status.h"

int apply_status(const struct host *h, struct apply_status **ret, char *err, size_t errlen)
{
	return apply_status_in(h, NULL, ret, err, errlen);
}

/* Each target of st->journal with its value now: from s, or read from the
 * host. A target that is gone counts in n_gone; one that is not as isolated
 * wrote it, in n_drift. -errno (message in err). */
static int read_targets(const struct host *h, const struct host_state *s, struct apply_status *st, char *err,
			size_t errlen)
{
	const struct journal *j = st->journal;
	int r;

	st->targets = calloc(j->n_targets + 1, sizeof(*st->targets));
	if (!st->targets)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_targets; i++) {
		struct status_target *t = &st->targets[st->n_targets++];
		bool pending;

		t->e = &j->targets[i];
		/* The snapshot, when it read the target; else the host. */
		if (s && target_in_state(s, t->e)) {
			if ((r = target_value_in(s, t->e, &t->now)) == 0 && !t->now)
				r = -ESRCH;
		} else {
			r = target_read(h, t->e, NULL, &t->now, &pending);
		}
		if (r == -ESRCH || r == -ENOENT) {
			t->now = NULL;
			st->n_gone++;
			continue;
		}
		if (r < 0) {
			snprintf(err, errlen, "reading %s: %s", t->e->target, path_strerror(-r));
			return r;
		}
		t->drift = !action_value_equal(t->e->kind, t->now, t->e->wanted);
		st->n_drift += t->drift;
	}
	return 0;
}

int apply_status_in(const struct host *h, const struct host_state *s, struct apply_status **ret, char *err,
		    size_t errlen)
{
	struct apply_status *st;
	struct journal *j = NULL;
	char *boot_id = NULL;
	int r;

	err[0] = '\0';
	if (s && !host_state_has(s, &needs_status))
		s = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = journal_load(h, &j, err, errlen);
	if (r == -ENOENT) {
		err[0] = '\0';
		*ret = st;
		return 0;
	}
	if (r < 0)
		goto fail;
	if ((r = apply_boot_id(h, s, &boot_id)) < 0)
		goto fail;
	if (strcmp(boot_id, j->boot_id) != 0) {
		st->stale_boot_id = strdup(j->boot_id);
		journal_free(j);
		free(boot_id);
		if (!st->stale_boot_id) {
			free(st);
			return -ENOMEM;
		}
		*ret = st;
		return 0;
	}
	free(boot_id);
	st->journal = j;
	if ((r = read_targets(h, s, st, err, errlen)) < 0) {
		apply_status_free(st);
		return r;
	}
	*ret = st;
	return 0;
fail:
	free(boot_id);
	journal_free(j);
	free(st);
	if (err[0] == '\0')
		snprintf(err, errlen, "%s", path_strerror(-r));
	return r;
}

void apply_status_free(struct apply_status *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_targets; i++)
		free(st->targets[i].now);
	free(st->targets);
	free(st->stale_boot_id);
	journal_free(st->journal);
	free(st);
}
