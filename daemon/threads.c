/* What the daemon does with a new thread (or one that exec'd or was
 * renamed: procev.c hands them over in batches): only what tells whether a
 * rule of the held mode could select it is read, a partial snapshot against
 * the last full apply's, and when a rule does select it (or the journal
 * holds it) one threads-only transaction pins it and sets its priority. A
 * thread no rule selects costs no lock, no journal and no plan. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "holder-internal.h"
#include "isolated/needs.h"

/* Threads change the number of targets STATUS= shows. Reading the journal
 * back after every batch would double the event path's cost during a storm
 * of new threads: count once, a second after the first change. */
#define RECOUNT_USEC (1000 * 1000ULL)

static int on_recount(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct holder *h = userdata;

	(void)s;
	(void)usec;
	(void)holder_sync_logged(h, "reading back the journal");
	holder_publish(h);
	return 0;
}

static void recount_soon(struct holder *h)
{
	int enabled = SD_EVENT_OFF, r;
	uint64_t now;

	if (h->recount && sd_event_source_get_enabled(h->recount, &enabled) >= 0 && enabled != SD_EVENT_OFF)
		return;
	r = sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
	if (r >= 0 && !h->recount)
		r = sd_event_add_time(h->ev, &h->recount, CLOCK_MONOTONIC, now + RECOUNT_USEC, 100000, on_recount, h);
	else if (r >= 0 && (r = sd_event_source_set_time(h->recount, now + RECOUNT_USEC)) >= 0)
		r = sd_event_source_set_enabled(h->recount, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_DEBUG, r, "arming the target recount");
}

/* Could a threads-only apply of the held policy change anything for the
 * threads of part? Only when a thread rule matches one of them, or the
 * journal holds a target of one of their tids (to restore, or to drop as
 * exited). The snapshot's filter has left out the threads it could tell
 * match nothing from their cheapest files; this decides those it took
 * undecided, now read in full. A thread no rule changes costs no
 * transaction (the lock, the journal, a plan). */
static bool threads_relevant(struct holder *h, const struct host_state *part)
{
	const struct policy *p = h->policy;

	for (size_t i = 0; i < part->n_tasks; i++) {
		const struct task_info *t = &part->tasks[i];

		if (t->context_only)
			continue;
		if (holder_managed_has(h, t->tid))
			return true;
		for (size_t ri = 0; ri < p->n_thread_rules; ri++)
			if (match_thread(&p->thread_rules[ri], t, part))
				return true;
	}
	return false;
}

/* A thread of a rule [partition] names, while the journal holds a
 * partition, and not in it yet (no cgroup target of its tid): the event
 * path reads no cgroup tree, so it cannot move it in; a full re-plan does
 * (a VM started again, a vhost thread made later). Once a VM start: its
 * threads come together and the re-plan is debounced. */
static bool partition_thread(struct holder *h, const struct host_state *part)
{
	const struct policy *p = h->policy;
	const struct journal *j = h->journal;
	bool held = false;

	if (!p->partition.set || !j)
		return false;
	for (size_t i = 0; i < j->n_targets && !held; i++)
		held = j->targets[i].target && j->targets[i].kind == ACTION_CGROUP;
	if (!held)
		return false;
	for (size_t i = 0; i < part->n_tasks; i++) {
		const struct task_info *t = &part->tasks[i];
		bool in = false;

		if (t->context_only)
			continue;
		for (size_t k = 0; k < j->n_targets && !in; k++)
			in = j->targets[k].target && j->targets[k].kind == ACTION_THREAD_CGROUP &&
			     j->targets[k].tid == t->tid;
		if (in)
			continue;
		for (size_t ri = 0; ri < p->n_thread_rules; ri++)
			if (strv_contains(p->partition.rules, p->thread_rules[ri].name) &&
			    match_thread(&p->thread_rules[ri], t, part))
				return true;
	}
	return false;
}

void holder_threads(struct holder *h, const struct thread_ref *refs, size_t n)
{
	struct apply_opts o = {.no_wait = true, .threads_only = true};
	uint64_t t0 = 0;
	struct host_thread_filter filter;
	struct apply_confirm cbuf;
	struct host_state *part = NULL;
	struct apply_result *res = NULL;
	char err[ERRLEN] = "";
	bool any = false;
	int r;

	if (!h->policy || h->policy->n_thread_rules == 0 || n == 0)
		return;
	/* The reaction time: from the loop's wake-up for this batch
	 * (sd_event_now: the time of this iteration) to the transaction done. */
	if (sd_event_now(h->ev, CLOCK_MONOTONIC, &t0) < 0)
		t0 = 0;
	if (!h->base) {
		holder_replan_arm(h, "no snapshot to evaluate new threads against", DEBOUNCE_USEC);
		return;
	}
	/* Of a thread no rule could match, only what tells so is read. */
	needs_thread_filter(h->policy, &filter);
	filter.keep = holder_managed_has;
	filter.keep_userdata = h;
	r = host_snapshot_threads_ex(h->host, h->base, refs, n, h->policy->scope.kind == SCOPE_PROCESS, &filter, &part,
				     err, sizeof(err));
	if (r < 0) {
		log_warning("reading %zu new thread%s: %s; rescanning", n, n == 1 ? "" : "s",
			    err[0] ? err : path_strerror(-r));
		holder_replan_arm(h, "a thread could not be read", DEBOUNCE_USEC);
		return;
	}
	for (size_t i = 0; i < part->n_tasks && !any; i++)
		any = !part->tasks[i].context_only;
	if (!any || !threads_relevant(h, part)) {
		host_state_free(part);
		return;
	}
	o.state = part;
	o.confirm = holder_carry_confirm(h, &cbuf);
	o.journal = &h->journal;
	if (partition_thread(h, part))
		holder_replan_arm(h, "a new thread of a rule [partition] names", DEBOUNCE_USEC);
	r = apply_mode(h->host, h->policy, &o, &res, err, sizeof(err));
	if (r == 0 && res && !res->failed && t0) {
		struct timespec ts;
		uint64_t done;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		done = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		if (done >= t0)
			metrics_reaction_record(&h->stats, done - t0);
	}
	host_state_free(part);
	if (!res) {
		if (r == -EWOULDBLOCK)
			holder_replan_arm(h, "new threads while the journal's lock was held", BUSY_RETRY_MIN_USEC);
		else if (r == -ESTALE)
			holder_replan_arm(h, "the journal's mode changed behind the daemon", DEBOUNCE_USEC);
		else
			log_error("applying %s to new threads: %s", h->mode, err[0] ? err : path_strerror(-r));
		return;
	}
	for (size_t i = 0; res->notices && res->notices[i]; i++)
		log_notice("%s", res->notices[i]);
	for (size_t i = 0; i < res->n_steps; i++)
		holder_log_step(h, NULL, &res->steps[i], LOG_INFO);
	if (res->failed)
		log_error("applying %s to new threads: %s", h->mode, res->error ? res->error : "failed");
	if (res->counts[STEP_DONE] || res->counts[STEP_PENDING] || res->counts[STEP_GONE])
		recount_soon(h);
	apply_result_free(res);
}
