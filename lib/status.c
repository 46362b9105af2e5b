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

/* ---- Partitions ---- */

#define PARTITION_FILE "/cpuset.cpus.partition"
#define BALANCE_FILE "/cpuset.sched_load_balance"

/* Does target end in file? The length before it in *ret_len. */
static bool target_file(const char *target, const char *file, size_t *ret_len)
{
	size_t n = strlen(target), k = strlen(file);

	if (n <= k || strcmp(target + n - k, file) != 0)
		return false;
	*ret_len = n - k;
	return true;
}

/* The wanted value of the cgroup target DIR/file of j; NULL if none. */
static const char *dir_file_wanted(const struct journal *j, const char *dir, size_t dir_len, const char *file)
{
	size_t len;

	for (size_t i = 0; i < j->n_targets; i++) {
		const struct journal_entry *e = &j->targets[i];

		if (e->target && e->kind == ACTION_CGROUP && target_file(e->target, file, &len) && len == dir_len &&
		    strncmp(e->target, dir, dir_len) == 0)
			return e->wanted;
	}
	return NULL;
}

/* A v1 cpuset of ours with sched_load_balance 0: the last name of its
 * directory is one isolated creates (the ancestors' 0s only serve it). */
static bool own_v1_balance(const struct journal_entry *e, size_t dir_len)
{
	const char *rel = cgroup_target_rel(e->target), *last;
	char name[128];
	size_t n;

	if (!rel || strncmp(rel, "cpuset/", 7) != 0 || !e->wanted || strcmp(e->wanted, "0") != 0)
		return false;
	n = dir_len - (size_t)(rel - e->target);
	last = memrchr(rel, '/', n);
	last = last ? last + 1 : rel;
	n -= (size_t)(last - rel);
	if (n >= sizeof(name))
		return false;
	memcpy(name, last, n);
	name[n] = '\0';
	return cgroup_own_name(name);
}

int status_partitions(const struct journal *j, struct status_partition **ret, size_t *ret_n)
{
	struct status_partition *p = NULL;
	size_t n = 0;

	for (size_t i = 0; j && i < j->n_targets; i++) {
		const struct journal_entry *e = &j->targets[i];
		struct status_partition x = {.e = e, .cgroup = e->target};
		void *grown;

		if (!e->target || e->kind != ACTION_CGROUP)
			continue;
		if (target_file(e->target, PARTITION_FILE, &x.cgroup_len))
			x.kind = CGROUP_V2;
		else if (target_file(e->target, BALANCE_FILE, &x.cgroup_len) && own_v1_balance(e, x.cgroup_len))
			x.kind = CGROUP_V1;
		else
			continue;
		x.cpus = dir_file_wanted(j, x.cgroup, x.cgroup_len, "/cpuset.cpus.exclusive");
		if (!x.cpus)
			x.cpus = dir_file_wanted(j, x.cgroup, x.cgroup_len, "/cpuset.cpus");
		grown = realloc(p, (n + 1) * sizeof(*p));
		if (!grown) {
			free(p);
			return -ENOMEM;
		}
		p = grown;
		p[n++] = x;
	}
	*ret = p;
	*ret_n = n;
	return 0;
}

/* Each partition's state now, from the targets read: a v2 partition holds
 * while its file reads what isolated wrote; a v1 one while every
 * sched_load_balance isolated set to 0 is 0 (any of them back at 1 makes
 * a sched domain of its cpuset's CPUs again). */
static int read_partitions(const struct host *h, struct apply_status *st)
{
	const struct journal *j = st->journal;
	bool v2 = false;
	size_t len;
	int r;

	r = status_partitions(j, &st->partitions, &st->n_partitions);
	if (r < 0)
		return r;
	for (size_t k = 0; k < st->n_partitions; k++) {
		struct status_partition *p = &st->partitions[k];
		const struct status_target *t = &st->targets[p->e - j->targets];

		p->now = t->now;
		p->holds = t->now && !t->drift;
		if (p->kind == CGROUP_V2) {
			v2 = true;
			continue;
		}
		for (size_t i = 0; i < st->n_targets && p->holds; i++) {
			const struct status_target *b = &st->targets[i];

			if (b->e->kind == ACTION_CGROUP && target_file(b->e->target, BALANCE_FILE, &len) &&
			    b->e->wanted && strcmp(b->e->wanted, "0") == 0 && (!b->now || b->drift)) {
				p->holds = false;
				p->broken = b->e;
			}
		}
	}
	/* What the kernel keeps out of load balancing: unread is no failure
	 * of status (NULL says so). */
	if (v2 && (r = host_read_cpus_isolated(h, &st->isolated_now)) < 0)
		st->isolated_now = NULL;
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
	if ((r = read_targets(h, s, st, err, errlen)) < 0 || (r = read_partitions(h, st)) < 0) {
		if (r == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
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
	free(st->partitions);
	free(st->isolated_now);
	free(st->stale_boot_id);
	journal_free(st->journal);
	free(st);
}
