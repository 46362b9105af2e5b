/* The mode held: what the daemon keeps in force and every operation on it.
 * Bus methods (apply, revert, confirm, plan, status, verify, list) run the
 * engine once each; kernel events come in as single threads (threads.c:
 * applied at once, against a partial snapshot) or as "re-plan everything"
 * requests (debounced into one full apply); a timer takes back a mode that
 * was not confirmed in time; a verification pass finds what another program
 * changed. All state lives in struct holder (holder-internal.h). */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "holder-internal.h"
#include "isolated/apply.h"
#include "isolated/busapi.h"
#include "isolated/journal.h"
#include "isolated/modes.h"
#include "isolated/needs.h"
#include "isolated/paths.h"
#include "isolated/report.h"
#include "isolated/util.h"

/* ---- Small things ---- */

static void pending_clear(struct pending *p)
{
	free(p->mode);
	free(p->previous_mode);
	free(p->previous_scope);
	free(p->session);
	*p = (struct pending){0};
}

static long long now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The deadline within usec from now, CLOCK_REALTIME µs as the journal
 * keeps it; -ERANGE when it does not fit (the bus allows 24 h at most; the
 * holder does not count on that). */
static int confirm_deadline(unsigned long long usec, long long *ret)
{
	long long now = now_realtime_usec(), d;

	if (usec > (unsigned long long)LLONG_MAX || __builtin_add_overflow(now, (long long)usec, &d))
		return -ERANGE;
	*ret = d;
	return 0;
}

static const char *where(const struct holder *h)
{
	return h->root ? h->root : "the running kernel";
}

void op_error_done(struct op_error *e)
{
	if (!e)
		return;
	free(e->message);
	e->message = NULL;
	e->name = NULL;
}

/* The bus error's message is what isoctl prints (busapi.h). The messages
 * here have no program name: op_fail and apply_error put isoctl's before
 * each line, op_fail_diag before each bare line (not a policy's FILE:LINE:). */
static void op_set(struct op_error *e, const char *name, char *message)
{
	free(e->message);
	e->name = name;
	e->message = message;
}

/* msg's lines, each after "isoctl: "; NULL without memory. */
static char *isoctl_lines(const char *msg)
{
	struct sbuf b = {0};

	for (const char *p = msg, *nl; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		sbuf_adds(&b, ISOLATED_BUS_MSG_PREFIX);
		sbuf_add(&b, p, nl ? (size_t)(nl - p + 1) : strlen(p));
	}
	return sbuf_take(&b);
}

static int op_fail(struct op_error *e, const char *name, int r, const char *fmt, ...) ISO_PRINTF(4, 5);
static int op_fail(struct op_error *e, const char *name, int r, const char *fmt, ...)
{
	va_list ap;
	char *m;

	/* Escaped: the caller prints it, and the bus carries only UTF-8. */
	va_start(ap, fmt);
	m = util_escape_vsprintf(false, fmt, ap);
	va_end(ap);
	op_set(e, name, m ? isoctl_lines(m) : NULL);
	free(m);
	return r < 0 ? r : -EINVAL;
}

/* The lines of d, one per line. */
static int op_fail_diag(struct op_error *e, const char *name, int r, const struct diag *d)
{
	struct sbuf b = {0};

	for (size_t i = 0; i < d->n; i++) {
		if (i)
			sbuf_addc(&b, '\n');
		sbuf_adds(&b, d->bare[i] ? ISOLATED_BUS_MSG_PREFIX : "");
		sbuf_adds(&b, d->lines[i]);
	}
	op_set(e, name, sbuf_take(&b));
	return r < 0 ? r : -EINVAL;
}

/* Error lines meant for isoctl's stderr, in the daemon's log. */
static void log_lines(int priority, const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		log_fields(priority, NULL, "%s", d->lines[i]);
}

/* ---- State, STATUS= and the events ---- */

const char *holder_mode(const struct holder *h)
{
	return h->mode;
}

const char *holder_state(const struct holder *h)
{
	if (strcmp(h->mode, "vanilla") == 0 && !h->pending.on && !h->failed)
		return "idle";
	if (h->failed)
		return "failed";
	if (h->pending.on)
		return "awaiting-confirmation";
	if (h->drifted)
		return "drifted";
	return "holding";
}

static char *status_line(const struct holder *h)
{
	const char *state = holder_state(h);
	bool scoped = h->scope && strcmp(h->scope, "host") != 0;
	char until[32] = "?";

	if (strcmp(state, "idle") == 0)
		return strdup("Idle: nothing held (vanilla)");
	if (strcmp(state, "failed") == 0)
		return util_sprintf("Failed to hold %s: %s", h->want_mode ? h->want_mode : h->mode,
				    h->failure ? h->failure : "see the log");
	if (h->pending.on) {
		time_t t = (time_t)(h->pending.deadline / 1000000);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(until, sizeof(until), "%H:%M:%S", &tm);
	}
	return util_sprintf("Holding %s%s%s (%zu target%s)%s%s%s%s", h->mode, scoped ? " for " : "",
			    scoped ? h->scope : "", h->n_targets, h->n_targets == 1 ? "" : "s",
			    h->pending.on ? ", unless confirmed by " : "", h->pending.on ? until : "",
			    h->pending.on ? ": then back to " : "",
			    h->pending.on ? (h->pending.previous_mode ? h->pending.previous_mode : "?") : "");
}

static json_object *build_summary(const struct holder *h)
{
	struct apply_confirm cbuf;

	return report_summary(&(struct report_held){
	    .mode = h->mode,
	    .scope = h->scope,
	    .state = holder_state(h),
	    .applied_at = strcmp(h->mode, "vanilla") == 0 ? 0 : h->applied_at,
	    .managed = h->n_targets,
	    .drift = h->drifted ? h->n_drift : 0,
	    .confirm = holder_carry_confirm(h, &cbuf),
	});
}

/* The summary again, and a new generation when it differs. */
static void publish_summary(struct holder *h)
{
	json_object *now = build_summary(h);

	if (now && h->summary && json_object_equal(now, h->summary)) {
		json_object_put(now);
		return;
	}
	json_object_put(h->summary);
	h->summary = now; /* NULL on ENOMEM: built again when asked */
	h->generation++;
}

json_object *holder_summary(struct holder *h)
{
	if (!h->summary)
		publish_summary(h);
	return h->summary;
}

void holder_metrics(const struct holder *h, struct metrics *m, struct metrics_daemon *d)
{
	*d = h->stats;
	d->state = holder_state(h);
	metrics_from_journal(h->journal, m);
	m->drift = h->n_drift;
	m->gone = h->n_gone;
	m->have_drift = m->have_gone = h->verified;
	m->daemon = d;
}

unsigned long long holder_generation(const struct holder *h)
{
	return h->generation;
}

/* After every operation: tell the bus when State changed, and main when the
 * STATUS= line did; the summary follows. */
void holder_publish(struct holder *h)
{
	const char *state = holder_state(h);
	char *line = status_line(h);

	publish_summary(h);

	if (line && (!h->status_text || strcmp(line, h->status_text) != 0)) {
		free(h->status_text);
		h->status_text = line;
		line = NULL;
		if (h->status_cb)
			h->status_cb(h->status_userdata, h->status_text);
	}
	free(line);
	if (state != h->published_state) {
		h->published_state = state;
		if (h->events.state_changed)
			h->events.state_changed(h->events.userdata);
	}
}

static void raise_mode_changed(struct holder *h, const char *previous)
{
	if (h->events.mode_changed)
		h->events.mode_changed(h->events.userdata, h->mode, previous ? previous : "vanilla");
}

void holder_set_events(struct holder *h, const struct holder_events *e)
{
	h->events = e ? *e : (struct holder_events){0};
}

void holder_set_status_cb(struct holder *h, void (*cb)(void *userdata, const char *status), void *userdata)
{
	h->status_cb = cb;
	h->status_userdata = userdata;
}

const char *holder_status_text(const struct holder *h)
{
	return h->status_text ? h->status_text : "Starting";
}

static void set_failed(struct holder *h, const char *why)
{
	h->failed = why != NULL;
	util_set_str(&h->failure, why);
}

/* ---- The partitions held ---- */

/* A partition changed state (partwatch.c): one log entry, one signal.
 * journalctl ISOLATED_PARTITION=... says when the kernel invalidated it. */
static void on_partition(void *userdata, const struct partwatch_change *c)
{
	struct holder *h = userdata;
	char *cg = util_sprintf("ISOLATED_PARTITION=%s", c->cgroup);
	char *state = util_sprintf("ISOLATED_PARTITION_STATE=%s", c->state);
	char *cpus = util_sprintf("ISOLATED_PARTITION_CPUS=%s", c->cpus ? c->cpus : "");
	char *mode = util_sprintf("ISOLATED_MODE=%s", h->mode);
	const char *fields[] = {cg, state, cpus, mode, NULL};

	if (!cg || !state || !cpus || !mode)
		log_errno(LOG_ERR, -ENOMEM, "partition %s: %s", c->cgroup, c->state);
	else if (c->holds)
		log_fields(LOG_NOTICE, fields, "partition %s: %s again: CPUs %s out of load balancing", c->cgroup,
			   c->state, c->cpus ? c->cpus : "?");
	else
		log_fields(LOG_WARNING, fields,
			   "partition %s: %s: CPUs %s are load-balanced again (isolated made it %s; the kernel "
			   "changed it)",
			   c->cgroup, c->state, c->cpus ? c->cpus : "?", c->wanted ? c->wanted : "?");
	free(cg);
	free(state);
	free(cpus);
	free(mode);
	if (h->events.partition_changed)
		h->events.partition_changed(h->events.userdata, c->cgroup, c->state);
}

/* Watch the partitions of the journal as it is now (after a transaction,
 * at start, when it changed behind us); one of another boot holds none. */
static void follow_partitions(struct holder *h)
{
	const struct journal *j = h->journal;

	partwatch_follow(h->partitions, j && strcmp(j->boot_id, h->boot_id) == 0 ? j : NULL);
}

/* ---- The journal: what is in force ---- */

/* The event path's keep predicate: a thread the journal holds a target of
 * is read in full even when no rule wants it any more, so that it is
 * restored. No journal in memory yet: every thread is. */
bool holder_managed_has(void *userdata, pid_t tid)
{
	struct holder *h = userdata;
	char target[ACTION_TARGET_ID_MAX];
	const char *name;

	if (!h->journal)
		return true;
	name = action_canonical_target(ACTION_THREAD_AFFINITY, NULL, 0, tid, target);
	return !name || journal_find(h->journal, ACTION_THREAD_AFFINITY, name) ||
	       journal_find(h->journal, ACTION_THREAD_SCHED, name);
}

/* Mode, scope, number of targets and a pending confirmation, from the
 * journal (the one in memory, read again only when the file changed; no
 * file: a new, vanilla one). A journal of another boot holds nothing.
 * -errno, message in err. */
int holder_sync_journal(struct holder *h, char *err, size_t errlen)
{
	struct journal *j;
	int r;

	r = journal_refresh(h->host, &h->journal, h->boot_id, NULL, err, errlen);
	j = h->journal;
	if (r == 0 && strcmp(j->boot_id, h->boot_id) != 0) {
		pending_clear(&h->pending);
		h->n_targets = 0;
		h->applied_at = 0;
		return util_set_str(&h->mode, "vanilla") < 0 || util_set_str(&h->scope, "host") < 0 ? -ENOMEM : 0;
	}
	if (r < 0)
		return r;
	h->n_targets = journal_n_live(j);
	h->applied_at = j->applied_at;
	pending_clear(&h->pending);
	if (j->has_confirm) {
		struct pending *p = &h->pending;

		p->on = true;
		p->deadline = j->confirm_deadline;
		p->uid = j->confirm_uid;
		if (util_set_str(&p->mode, j->mode) < 0 ||
		    util_set_str(&p->previous_mode, j->confirm_previous_mode) < 0 ||
		    util_set_str(&p->previous_scope, j->confirm_previous_scope) < 0 ||
		    util_set_str(&p->session, j->confirm_session) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && (util_set_str(&h->mode, j->mode) < 0 || util_set_str(&h->scope, j->scope) < 0))
		r = -ENOMEM;
	return r;
}

int holder_sync_logged(struct holder *h, const char *what)
{
	char err[ERRLEN] = "";
	int r = holder_sync_journal(h, err, sizeof(err));

	if (r < 0)
		log_warning("%s: %s", what, err[0] ? err : path_strerror(-r));
	return r;
}

/* The confirmation to carry over into a re-apply of the held mode (NULL
 * would drop it). */
const struct apply_confirm *holder_carry_confirm(const struct holder *h, struct apply_confirm *buf)
{
	if (!h->pending.on)
		return NULL;
	*buf = (struct apply_confirm){
	    .deadline_usec = h->pending.deadline,
	    .previous_mode = h->pending.previous_mode,
	    .previous_scope = h->pending.previous_scope,
	    .uid = h->pending.uid,
	    .session = h->pending.session,
	};
	return buf;
}

/* ---- Policies and host.conf ---- */

static int read_online(const struct host *host, struct cpuset *ret, char *err, size_t errlen)
{
	char *buf = NULL, msg[128];
	int r;

	r = host_read(host, "sys/devices/system/cpu/online", &buf, NULL);
	if (r < 0) {
		util_set_err(err, errlen, "cannot read sys/devices/system/cpu/online: %s", path_strerror(-r));
		return r;
	}
	r = cpuset_parse_list(buf, ret, msg, sizeof(msg));
	free(buf);
	if (r < 0)
		util_set_err(err, errlen, "sys/devices/system/cpu/online: %s", msg);
	return r;
}

/* host.conf against online; errors as isoctl prints them into d. */
static int load_hostconf(const struct holder *h, const struct cpuset *online, struct hostconf **ret, struct diag *d)
{
	int r = hostconf_load(h->hostconf_path, online, ret, d);

	if (r == -ENOENT && !h->hostconf_given) {
		diag_free(d);
		diag_add(d, NULL, 0,
			 "%s: not found: copy %s there and set rt_cpus, rt_nic, rt_vm, rt_vcpus, "
			 "or name a directory with --config DIR",
			 h->hostconf_path, ISO_DATADIR "/host.conf.example");
	} else if (r < 0 && d->n == 0) {
		diag_add(d, NULL, 0, "%s: %s", h->hostconf_path, path_strerror(-r));
	}
	return r;
}

/* Policy of mode with scope (NULL: the policy's own), against hc. */
static int load_policy(const struct holder *h, const struct hostconf *hc, const struct cpuset *online, const char *mode,
		       const char *scope, struct policy **ret, struct diag *d, const char **ret_errname)
{
	struct policy *p = NULL;
	struct scope sc = {0};
	char err[256];
	enum modes_result mr;
	int r;

	*ret_errname = ISOLATED_BUS_ERROR_POLICY;
	if (!modes_name_valid(mode)) {
		*ret_errname = ISOLATED_BUS_ERROR_ARGUMENT;
		diag_add(d, NULL, 0, "invalid mode name \"%s\": a mode is a name of letters, digits, '-' and '_'",
			 mode);
		return -EINVAL;
	}
	if (!hc) {
		diag_append(d, &h->hc_error);
		return -EINVAL;
	}
	mr = modes_load(h->policy_dirs, hc, online, mode, &p, d);
	if (mr != MODES_OK) {
		if (mr == MODES_FAIL)
			*ret_errname = ISOLATED_BUS_ERROR_FAILED;
		if (d->n == 0)
			diag_add(d, NULL, 0, "loading mode \"%s\" failed", mode);
		return mr == MODES_FAIL ? -EIO : -EINVAL;
	}
	if (scope) {
		r = policy_scope_parse(scope, &sc, err, sizeof(err));
		if (r < 0) {
			*ret_errname = ISOLATED_BUS_ERROR_ARGUMENT;
			diag_add(d, NULL, 0, "--scope %s: %s", scope, err);
			policy_free(p);
			return r;
		}
		r = policy_set_scope(p, &sc);
		policy_scope_done(&sc);
		if (r < 0) {
			*ret_errname = ISOLATED_BUS_ERROR_FAILED;
			diag_add(d, NULL, 0, "out of memory");
			policy_free(p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

/* ---- Transactions ---- */

/* Keep s (a full snapshot) as the base of the event path, without its
 * tasks: partial snapshots bring their own. */
static void base_replace(struct holder *h, struct host_state *s)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		host_task_done(&s->tasks[i]);
	free(s->tasks);
	s->tasks = NULL;
	s->n_tasks = 0;
	host_state_free(h->base);
	h->base = s;
}

/* A full snapshot of /proc and a transaction's result take a megabyte or
 * two of heap for a moment; glibc keeps it. Give it back once the
 * operation is over (the bus reply is sent by then), so the idle daemon is
 * small. */
static int on_trim(sd_event_source *s, void *userdata)
{
	(void)s;
	(void)userdata;
	malloc_trim(0);
	return 0;
}

static void trim_soon(struct holder *h)
{
	int r;

	/* A new defer source is armed once (SD_EVENT_ONESHOT). */
	if (!h->trim)
		r = sd_event_add_defer(h->ev, &h->trim, on_trim, h);
	else
		r = sd_event_source_set_enabled(h->trim, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_DEBUG, r, "arming the heap trim");
}

/* Snapshot, apply, and keep the snapshot as the new base. The engine's
 * contract: -errno without a result when nothing was written, or a result
 * (failed or not). */
static int transaction(struct holder *h, const struct policy *p, struct apply_opts *o, struct apply_result **ret,
		       char *err, size_t errlen)
{
	struct host_needs needs;
	struct host_state *s = NULL;
	int r;

	/* What p's plan needs, and any journal's targets (the daemon has
	 * not read the journal: apply_mode does, under the lock). */
	if ((r = needs_of_policy(p, &needs)) < 0 || (r = needs_add_journal(&needs, h->journal)) < 0) {
		needs_done(&needs);
		snprintf(err, errlen, "out of memory");
		return r;
	}
	r = host_snapshot_ex(h->host, &needs, &s, err, errlen);
	needs_done(&needs);
	if (r < 0)
		return r;
	o->state = s;
	o->journal = &h->journal;
	r = apply_mode(h->host, p, o, ret, err, errlen);
	o->state = NULL;
	if (!o->dry_run && *ret) {
		h->stats.last_apply_at = (long long)time(NULL);
		h->stats.last_apply_ok = !(*ret)->failed && r == 0;
		h->stats.last_apply_conflicts = (*ret)->counts[STEP_CONFLICT];
	}
	if (!o->dry_run && (r == 0 || *ret))
		base_replace(h, s);
	else
		host_state_free(s);
	trim_soon(h);
	return r;
}

static const char *const kind_words[_ACTION_KIND_MAX] = {
    [ACTION_SYSCTL] = "sysctl",
    [ACTION_IRQ_AFFINITY] = "IRQ affinity",
    [ACTION_THREAD_AFFINITY] = "affinity",
    [ACTION_THREAD_SCHED] = "scheduling",
    [ACTION_CPUMASK] = "cpumask",
    [ACTION_SYSFS] = "sysfs",
    [ACTION_IRQBALANCE] = "irqbalance",
    [ACTION_CGROUP] = "cgroup",
    [ACTION_THREAD_CGROUP] = "cgroup",
};

/* What to print beside a target: nothing for a sysctl or an attribute,
 * whose label is its name again. */
static const char *label_of(const struct journal_entry *e)
{
	size_t tl = e->target ? strlen(e->target) : 0, ll = e->label ? strlen(e->label) : 0;

	/* irqbalance/banned_cpus says what it is ("banned CPUs") already. */
	if (!ll || e->kind == ACTION_IRQBALANCE || (tl >= ll && strcmp(e->target + tl - ll, e->label) == 0))
		return NULL;
	return e->label;
}

/* A value for the log: "?" for none, and irqbalance's empty lists as
 * "none", as isoctl shows them. */
static const char *shown(const struct journal_entry *e, const char *v)
{
	if (!v)
		return "?";
	return !*v && e->kind == ACTION_IRQBALANCE ? "none" : v;
}

/* One line per step worth a line, with the fields a journalctl query
 * wants: ISOLATED_ITEM=tid/2205 ISOLATED_RULE=rt-vcpu ISOLATED_VALUE=6-7. */
void holder_log_step(const struct holder *h, const char *mode_name, const struct apply_step *st, int done_priority)
{
	const struct journal_entry *e = &st->e;
	char item[128], rule[128], value[160], mode[96], kind[64], outcome[48];
	const char *fields[] = {item, rule, value, mode, kind, outcome, NULL};
	const char *label;
	int priority;

	switch (st->outcome) {
	case STEP_DONE:
	case STEP_PENDING:
		priority = done_priority;
		break;
	case STEP_CONFLICT:
		priority = LOG_WARNING;
		break;
	case STEP_FAILED:
		priority = LOG_ERR;
		break;
	case STEP_GONE:
	case STEP_NOT_MOVABLE:
	case STEP_UNCHANGED:
	case STEP_UNDONE:
	case STEP_NOT_DONE:
	default:
		priority = LOG_DEBUG;
		break;
	}
	snprintf(item, sizeof(item), "ISOLATED_ITEM=%s", e->target ? e->target : "");
	snprintf(rule, sizeof(rule), "ISOLATED_RULE=%s", e->rule ? e->rule : "");
	snprintf(value, sizeof(value), "ISOLATED_VALUE=%s", e->wanted ? e->wanted : "");
	snprintf(mode, sizeof(mode), "ISOLATED_MODE=%s", mode_name ? mode_name : h->mode);
	snprintf(kind, sizeof(kind), "ISOLATED_KIND=%s", plan_action_kind_name(e->kind));
	snprintf(outcome, sizeof(outcome), "ISOLATED_OUTCOME=%s", apply_outcome_name(st->outcome));
	label = label_of(e);
	log_fields(priority, fields, "%s%s%s: %s %s -> %s [%s]%s%s%s%s%s", e->target ? e->target : "?",
		   label ? " " : "", label ? label : "", e->kind < _ACTION_KIND_MAX ? kind_words[e->kind] : "?",
		   shown(e, e->before), shown(e, e->wanted), e->rule ? e->rule : "-", st->restore ? " (restored)" : "",
		   st->outcome == STEP_DONE ? "" : ": ",
		   st->outcome == STEP_DONE ? "" : apply_outcome_name(st->outcome),
		   st->message && st->outcome != STEP_DONE ? ": " : "",
		   st->message && st->outcome != STEP_DONE ? st->message : "");
}

/* What a transaction the daemon started itself did, for the log. */
static void log_result(const struct holder *h, const struct apply_result *res, const char *what)
{
	char mode[96], event[96];
	const char *fields[] = {mode, event, NULL};

	for (size_t i = 0; res->notices && res->notices[i]; i++)
		log_notice("%s", res->notices[i]);
	/* Each value changed gets its line (journalctl -u isolated
	 * ISOLATED_ITEM=kernel.timer_migration says when and why); the
	 * unchanged ones only at debug level. */
	for (size_t i = 0; i < res->n_steps; i++)
		holder_log_step(h, res->mode, &res->steps[i], LOG_INFO);
	snprintf(event, sizeof(event), "ISOLATED_EVENT=%s", what);
	if (res->failed) {
		snprintf(mode, sizeof(mode), "ISOLATED_MODE=%s", h->mode);
		log_fields(LOG_ERR, fields, "%s: %s", what, res->error ? res->error : "failed");
		return;
	}
	snprintf(mode, sizeof(mode), "ISOLATED_MODE=%s", res->mode);
	log_fields(LOG_INFO, fields,
		   "%s: %s in force: %zu done, %zu pending, %zu unchanged, %zu not movable, %zu gone, %zu "
		   "conflict%s",
		   what, res->mode, res->counts[STEP_DONE], res->counts[STEP_PENDING], res->counts[STEP_UNCHANGED],
		   res->counts[STEP_NOT_MOVABLE], res->counts[STEP_GONE], res->counts[STEP_CONFLICT],
		   res->counts[STEP_CONFLICT] == 1 ? "" : "s");
	if (res->counts[STEP_CONFLICT])
		log_warning("%zu target%s changed by another program after isolated wrote %s; left alone (enforce = "
			    "yes, or isoctl apply --force, overwrites them)",
			    res->counts[STEP_CONFLICT], res->counts[STEP_CONFLICT] == 1 ? " was" : "s were",
			    res->counts[STEP_CONFLICT] == 1 ? "it" : "them");
}

/* After a committed transaction of p: hold it (p is taken; NULL or a
 * vanilla policy: nothing held) and read back what the journal says. */
static void hold(struct holder *h, struct policy *p)
{
	char err[ERRLEN];
	int r;

	policy_free(h->policy);
	h->policy = NULL;
	h->drifted = false;
	r = holder_sync_journal(h, err, sizeof(err));
	if (r < 0)
		log_warning("reading back the journal: %s", err[0] ? err : path_strerror(-r));
	/* Vanilla holds nothing: no policy for the event path to follow. */
	if (p && strcmp(h->mode, "vanilla") != 0 && strcmp(h->mode, p->name) == 0)
		h->policy = p;
	else
		policy_free(p);
	follow_partitions(h);
}

static void confirm_timer_update(struct holder *h);

/* The held mode again, against a fresh snapshot: after events, reloads,
 * drift. wait: block for the lock (start-up, SIGHUP) instead of retrying. */
static int reapply(struct holder *h, const char *why, bool force, bool wait)
{
	struct apply_opts o = {.force = force, .no_wait = !wait};
	struct apply_confirm cbuf;
	struct apply_result *res = NULL;
	char err[ERRLEN] = "", what[256];
	int r;

	if (!h->policy)
		return 0;
	o.confirm = holder_carry_confirm(h, &cbuf);
	r = transaction(h, h->policy, &o, &res, err, sizeof(err));
	if (!res) {
		if (r == -EWOULDBLOCK)
			return r;
		log_error("re-applying %s (%s): %s", h->mode, why, err[0] ? err : path_strerror(-r));
		set_failed(h, err[0] ? err : path_strerror(-r));
		return r;
	}
	snprintf(what, sizeof(what), "re-applied %s (%s)", h->policy->name, why);
	log_result(h, res, what);
	if (res->failed)
		set_failed(h, res->error ? res->error : "a write failed");
	else
		set_failed(h, NULL);
	apply_result_free(res);
	/* The policy stays ours; the journal may say more (targets). */
	r = holder_sync_journal(h, err, sizeof(err));
	if (r < 0)
		log_warning("reading back the journal: %s", err[0] ? err : path_strerror(-r));
	follow_partitions(h);
	return 0;
}

static void want(struct holder *h, const char *mode, const char *scope, const char *why);

/* The journal holds another mode than the daemon (isoctl --direct apply
 * or revert): follow it, since that is what an administrator chose last. */
static void adopt_journal(struct holder *h)
{
	struct policy *p = NULL;
	struct diag d = {0};
	const char *errname;
	char err[ERRLEN] = "", scope[256];
	int r;

	r = holder_sync_journal(h, err, sizeof(err));
	if (r < 0) {
		log_warning("reading the journal: %s", err[0] ? err : path_strerror(-r));
		return;
	}
	/* isoctl --direct may have made or removed a partition */
	follow_partitions(h);
	if (h->policy && strcmp(h->policy->name, h->mode) == 0 &&
	    strcmp(policy_scope_format(&h->policy->scope, scope, sizeof(scope)), h->scope) == 0)
		return;
	if (!h->policy && (strcmp(h->mode, "vanilla") == 0 || (h->want_mode && strcmp(h->want_mode, h->mode) == 0)))
		return;
	log_notice("the journal holds %s (scope %s) now, not what the daemon applied: changed by isoctl --direct? "
		   "Holding %s",
		   h->mode, h->scope, h->mode);
	policy_free(h->policy);
	h->policy = NULL;
	if (strcmp(h->mode, "vanilla") == 0)
		return;
	if (load_policy(h, h->hc, &h->online, h->mode, h->scope, &p, &d, &errname) < 0) {
		log_lines(LOG_ERR, &d);
		want(h, h->mode, h->scope, "its policy does not load (see the log)");
	} else {
		h->policy = p;
	}
	diag_free(&d);
}

/* ---- Debounced re-plans (rescan, devices) ---- */

static int on_replan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct holder *h = userdata;
	struct cpuset online = CPUSET_INIT;
	char *why = h->replan_why, err[256];
	int r;

	(void)s;
	(void)usec;
	h->replan_why = NULL;
	/* A CPU that came or went changes online_cpus and housekeeping_cpus:
	 * host.conf and the policy are evaluated again. */
	if (read_online(h->host, &online, err, sizeof(err)) == 0 && !cpuset_equal(&online, &h->online)) {
		log_info("online CPUs changed: reading host.conf and the policy again");
		cpuset_free(&online);
		holder_reload(h);
		free(why);
		return 0;
	}
	cpuset_free(&online);
	adopt_journal(h);
	r = reapply(h, why ? why : "re-plan", false, false);
	if (r == -EWOULDBLOCK) {
		/* isoctl --direct holds the lock: try again, less and less often. */
		h->busy_retry = h->busy_retry ? h->busy_retry * 2 : BUSY_RETRY_MIN_USEC;
		if (h->busy_retry > BUSY_RETRY_MAX_USEC)
			h->busy_retry = BUSY_RETRY_MAX_USEC;
		log_debug("the journal's lock is held elsewhere; re-plan again in %llu ms", h->busy_retry / 1000);
		holder_replan_arm(h, why ? why : "re-plan", h->busy_retry);
	} else {
		h->busy_retry = 0;
	}
	free(why);
	holder_publish(h);
	return 0;
}

/* One full re-plan delay from now; requests meanwhile join it (the first
 * one's reason is logged, with a count of the others). */
void holder_replan_arm(struct holder *h, const char *why, unsigned long long delay)
{
	uint64_t now;
	int r, enabled = SD_EVENT_OFF;

	if (h->replan_timer && sd_event_source_get_enabled(h->replan_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF) {
		if (!h->replan_why)
			util_set_str(&h->replan_why, why);
		return;
	}
	util_set_str(&h->replan_why, why);
	r = sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
	if (r < 0) {
		log_errno(LOG_ERR, r, "reading the event loop's clock");
		return;
	}
	if (!h->replan_timer)
		r = sd_event_add_time(h->ev, &h->replan_timer, CLOCK_MONOTONIC, now + delay, 1000, on_replan, h);
	else if ((r = sd_event_source_set_time(h->replan_timer, now + delay)) >= 0)
		r = sd_event_source_set_enabled(h->replan_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_ERR, r, "arming the re-plan timer");
}

void holder_rescan(struct holder *h, const char *why)
{
	h->stats.rescans++;
	if (!h->policy)
		return;
	holder_replan_arm(h, why, DEBOUNCE_USEC);
}

void holder_devices_changed(struct holder *h, const char *why)
{
	if (!h->policy)
		return;
	holder_replan_arm(h, why, DEBOUNCE_USEC);
}

/* ---- Drift ---- */

static void log_drift(const struct holder *h, const struct status_target *t)
{
	const struct journal_entry *e = t->e;
	char item[128], rule[128], value[160], now[160], mode[96];
	const char *fields[] = {item, rule, value, now, mode, "ISOLATED_DRIFT=1", NULL};

	snprintf(item, sizeof(item), "ISOLATED_ITEM=%s", e->target);
	snprintf(rule, sizeof(rule), "ISOLATED_RULE=%s", e->rule ? e->rule : "");
	snprintf(value, sizeof(value), "ISOLATED_VALUE=%s", e->wanted ? e->wanted : "");
	snprintf(now, sizeof(now), "ISOLATED_NOW=%s", t->now ? t->now : "");
	snprintf(mode, sizeof(mode), "ISOLATED_MODE=%s", h->mode);
	log_fields(LOG_WARNING, fields,
		   "drift: %s%s%s %s is %s, isolated wrote %s: changed by another program (which one, the kernel "
		   "does not say)",
		   e->target, label_of(e) ? " " : "", label_of(e) ? label_of(e) : "",
		   e->kind < _ACTION_KIND_MAX ? kind_words[e->kind] : "?", shown(e, t->now), shown(e, e->wanted));
}

/* One verification pass: compare, log, holder_publish, maybe re-apply. */
static int verify_pass(struct holder *h, json_object **ret, struct op_error *e)
{
	struct apply_status *st = NULL;
	char err[ERRLEN] = "";
	bool enforced = false;
	json_object *doc;
	int r;

	adopt_journal(h);
	r = apply_status(h->host, &st, err, sizeof(err));
	if (r < 0)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "%s", err[0] ? err : path_strerror(-r));
	for (size_t i = 0; i < st->n_targets; i++)
		if (st->targets[i].drift)
			log_drift(h, &st->targets[i]);
	if (st->n_drift && h->enforce && h->policy) {
		log_notice("enforce = yes: re-applying %s over %zu drifted target%s", h->mode, st->n_drift,
			   st->n_drift == 1 ? "" : "s");
		enforced = reapply(h, "drift", true, false) == 0 && !h->failed;
	}
	h->n_drift = st->n_drift;
	h->n_gone = st->n_gone;
	h->verified = true;
	h->drifted = st->n_drift > 0 && !enforced;
	doc = report_verify(st, enforced);
	apply_status_free(st);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	if (h->n_drift && h->events.drift)
		h->events.drift(h->events.userdata, doc);
	holder_publish(h);
	*ret = doc;
	return 0;
}

int holder_verify(struct holder *h, json_object **ret, struct op_error *e)
{
	return verify_pass(h, ret, e);
}

static void verify_quietly(struct holder *h)
{
	struct op_error e = {0};
	json_object *doc = NULL;

	if (verify_pass(h, &doc, &e) < 0)
		log_error("verification: %s", e.message ? e.message : "failed");
	json_object_put(doc);
	op_error_done(&e);
}

static int on_verify_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct holder *h = userdata;

	verify_quietly(h);
	if (sd_event_source_set_time(s, usec + (uint64_t)h->verify_interval * 1000000ULL) >= 0)
		sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static int verify_timer_arm(struct holder *h)
{
	uint64_t now;
	int r;

	if (!h->verify_interval || h->verify_timer)
		return 0;
	r = sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	/* A second of slack: the kernel may fold it into other wake-ups. */
	return sd_event_add_time(h->ev, &h->verify_timer, CLOCK_MONOTONIC,
				 now + (uint64_t)h->verify_interval * 1000000ULL, 1000000, on_verify_timer, h);
}

/* ---- Apply unless confirmed ---- */

/* Go back to the mode before the unconfirmed one: its policy, or a revert
 * when it is vanilla or cannot be loaded. */
static int go_back(struct holder *h, const char *why, bool wait)
{
	struct apply_opts o = {.no_wait = !wait};
	struct apply_result *res = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	const char *errname;
	char *unconfirmed = strdup(h->mode), *prev = NULL, *prev_scope = NULL, err[ERRLEN] = "";
	int r;

	if (!unconfirmed || util_set_str(&prev, h->pending.previous_mode ? h->pending.previous_mode : "vanilla") < 0 ||
	    util_set_str(&prev_scope, h->pending.previous_scope) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (strcmp(prev, "vanilla") != 0 && load_policy(h, h->hc, &h->online, prev, prev_scope, &p, &d, &errname) < 0) {
		log_lines(LOG_ERR, &d);
		log_error("the previous mode %s cannot be loaded: reverting to vanilla instead", prev);
		p = NULL;
	}
	if (!p && (r = modes_vanilla(&p)) < 0)
		goto out;
	log_notice("%s was not confirmed %s: going back to %s", unconfirmed, why, p->name);
	r = transaction(h, p, &o, &res, err, sizeof(err));
	if (!res) {
		log_error("going back to %s: %s", p->name, err[0] ? err : path_strerror(-r));
		set_failed(h, err[0] ? err : path_strerror(-r));
		goto out;
	}
	log_result(h, res, "confirmation timed out");
	if (res->failed) {
		set_failed(h, res->error ? res->error : "a write failed");
		r = -EIO;
		apply_result_free(res);
		goto out;
	}
	apply_result_free(res);
	set_failed(h, NULL);
	hold(h, p);
	p = NULL;
	raise_mode_changed(h, unconfirmed);
	r = 0;
out:
	if (r == -ENOMEM)
		log_error("going back from an unconfirmed mode: out of memory");
	policy_free(p);
	diag_free(&d);
	free(unconfirmed);
	free(prev);
	free(prev_scope);
	return r;
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct holder *h = userdata;
	int r;

	(void)s;
	(void)usec;
	/* The journal is the truth: isoctl confirm --direct may have come. */
	r = holder_sync_logged(h, "reading the journal");
	if (r >= 0 && h->pending.on && h->pending.deadline <= now_realtime_usec() && go_back(h, "in time", false) < 0)
		/* Still pending: the next try in a few seconds, or at the next start. */
		h->pending.deadline = now_realtime_usec() + (long long)CONFIRM_RETRY_USEC;
	confirm_timer_update(h);
	holder_publish(h);
	return 0;
}

/* The timer follows h->pending. */
static void confirm_timer_update(struct holder *h)
{
	int r;

	if (!h->pending.on) {
		if (h->confirm_timer)
			sd_event_source_set_enabled(h->confirm_timer, SD_EVENT_OFF);
		return;
	}
	if (!h->confirm_timer)
		r = sd_event_add_time(h->ev, &h->confirm_timer, CLOCK_REALTIME, (uint64_t)h->pending.deadline, 10000,
				      on_confirm_timer, h);
	else if ((r = sd_event_source_set_time(h->confirm_timer, (uint64_t)h->pending.deadline)) >= 0)
		r = sd_event_source_set_enabled(h->confirm_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_ERR, r, "arming the confirmation timer");
}

int holder_confirm(struct holder *h, const struct caller *c, json_object **ret, struct op_error *e)
{
	char err[ERRLEN] = "", *mode = NULL;
	json_object *doc;
	int r;

	r = apply_confirm(h->host, c->uid, c->session, &mode, err, sizeof(err));
	if (r == -ENOENT)
		return op_fail(e, ISOLATED_BUS_ERROR_NOT_PENDING, r, "%s", err[0] ? err : "nothing to confirm");
	if (r == -EPERM)
		return op_fail(e, ISOLATED_BUS_ERROR_NOT_OWNER, r, "%s",
			       err[0] ? err : "the confirmation belongs to another caller");
	if (r == -EWOULDBLOCK)
		return op_fail(e, ISOLATED_BUS_ERROR_BUSY, r, "%s", err[0] ? err : path_strerror(-r));
	if (r < 0)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "confirm: %s", err[0] ? err : path_strerror(-r));
	log_notice("%s confirmed by uid %u%s%s", mode ? mode : "?", (unsigned)c->uid, c->session ? ", session " : "",
		   c->session ? c->session : "");
	r = holder_sync_journal(h, err, sizeof(err));
	if (r < 0)
		log_warning("reading back the journal: %s", err[0] ? err : path_strerror(-r));
	confirm_timer_update(h);
	holder_publish(h);
	doc = report_confirm(mode ? mode : h->mode);
	free(mode);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	*ret = doc;
	return 0;
}

/* ---- Bus methods ---- */

/* Map an apply_mode failure with no result to what isoctl prints. The
 * daemon never waits for the lock (the loop must not block), so a held
 * lock is Busy, without isoctl's "(--no-wait given)". */
static int apply_error(struct holder *h, const char *name, bool dry_run, int r, const char *err, struct op_error *e)
{
	char *m = report_apply_error(h->host, name, r, err[0] ? err : path_strerror(-r), dry_run, false);

	op_set(e, r == -EWOULDBLOCK ? ISOLATED_BUS_ERROR_BUSY : ISOLATED_BUS_ERROR_FAILED, m ? isoctl_lines(m) : NULL);
	free(m);
	return r;
}

/* Apply p (taken) as a bus method: the report, or an error. A failed
 * transaction is a report too (result "failed", the error in it): isoctl
 * prints its steps and the error, exactly as in direct mode. */
static int run_apply(struct holder *h, struct policy *p, struct apply_opts *o, json_object **ret, struct op_error *e)
{
	struct apply_result *res = NULL;
	char err[ERRLEN] = "", *previous = strdup(h->mode);
	json_object *doc;
	int r;

	if (!previous) {
		policy_free(p);
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	}
	r = transaction(h, p, o, &res, err, sizeof(err));
	if (!res) {
		r = apply_error(h, p->name, o->dry_run, r, err, e);
		policy_free(p);
		free(previous);
		return r;
	}
	doc = report_apply(h->host, res, o->dry_run, o->confirm);
	if (!o->dry_run) {
		char what[128];

		snprintf(what, sizeof(what), "%s by request", strcmp(p->name, "vanilla") == 0 ? "revert" : "apply");
		log_result(h, res, what);
	}
	if (!o->dry_run && !res->failed) {
		set_failed(h, NULL);
		hold(h, p);
		p = NULL;
		confirm_timer_update(h);
		raise_mode_changed(h, res->previous_mode ? res->previous_mode : previous);
	}
	apply_result_free(res);
	policy_free(p);
	free(previous);
	holder_publish(h);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	*ret = doc;
	return 0;
}

int holder_apply(struct holder *h, const char *mode, const struct holder_apply_opts *o, const struct caller *c,
		 json_object **ret, struct op_error *e)
{
	struct apply_opts ao = {
	    .dry_run = o->dry_run, .force = o->force, .no_wait = true, .crash_after = h->crash_after};
	struct apply_confirm confirm = {0};
	struct policy *p = NULL;
	struct diag d = {0};
	const char *errname;
	char *prev_mode = NULL, *prev_scope = NULL;
	int r;

	r = load_policy(h, h->hc, &h->online, mode, o->scope, &p, &d, &errname);
	if (r < 0) {
		r = op_fail_diag(e, errname, r, &d);
		diag_free(&d);
		return r;
	}
	diag_free(&d);
	if (o->confirm_usec && !o->dry_run) {
		char err[ERRLEN];
		long long deadline;

		if (confirm_deadline(o->confirm_usec, &deadline) < 0) {
			policy_free(p);
			return op_fail(e, ISOLATED_BUS_ERROR_ARGUMENT, -ERANGE,
				       "--confirm-within: %llu microseconds: the deadline is out of range",
				       o->confirm_usec);
		}
		/* Back to the last confirmed mode: the previous one, or, when
		 * that is itself unconfirmed, the one it would go back to. */
		r = holder_sync_journal(h, err, sizeof(err));
		if (r < 0) {
			policy_free(p);
			return apply_error(h, mode, false, r, err, e);
		}
		if (util_set_str(&prev_mode, h->pending.on ? h->pending.previous_mode : h->mode) < 0 ||
		    util_set_str(&prev_scope, h->pending.on ? h->pending.previous_scope : h->scope) < 0) {
			policy_free(p);
			free(prev_mode);
			return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
		}
		confirm = (struct apply_confirm){
		    .deadline_usec = deadline,
		    .previous_mode = prev_mode ? prev_mode : "vanilla",
		    .previous_scope = prev_scope ? prev_scope : "host",
		    .uid = c ? c->uid : 0,
		    .session = c ? c->session : NULL,
		};
		ao.confirm = &confirm;
	}
	r = run_apply(h, p, &ao, ret, e);
	free(prev_mode);
	free(prev_scope);
	return r;
}

int holder_revert(struct holder *h, bool dry_run, bool force, json_object **ret, struct op_error *e)
{
	struct apply_opts ao = {.dry_run = dry_run, .force = force, .no_wait = true, .crash_after = h->crash_after};
	struct policy *p = NULL;
	int r;

	/* No host.conf and no policy file needed: the journal says it all. */
	r = modes_vanilla(&p);
	if (r < 0)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "out of memory");
	return run_apply(h, p, &ao, ret, e);
}

int holder_plan(struct holder *h, const char *mode, const char *scope, json_object **ret, struct op_error *e)
{
	struct host_needs needs;
	struct host_state *s = NULL;
	struct policy *p = NULL;
	struct plan *pl = NULL;
	struct diag d = {0};
	const char *errname;
	char err[ERRLEN] = "";
	json_object *doc;
	int r;

	r = load_policy(h, h->hc, &h->online, mode, scope, &p, &d, &errname);
	if (r < 0) {
		r = op_fail_diag(e, errname, r, &d);
		diag_free(&d);
		return r;
	}
	diag_free(&d);
	if ((r = needs_of_policy(p, &needs)) < 0) {
		policy_free(p);
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "out of memory");
	}
	r = host_snapshot_ex(h->host, &needs, &s, err, sizeof(err));
	needs_done(&needs);
	if (r < 0) {
		policy_free(p);
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "cannot read %s: %s", where(h),
			       err[0] ? err : path_strerror(-r));
	}
	r = plan_build(p, s, &pl, err, sizeof(err));
	if (r < 0) {
		r = op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "planning %s: %s", p->name, err);
		host_state_free(s);
		policy_free(p);
		return r;
	}
	doc = report_plan(h->host, pl, s);
	plan_free(pl);
	host_state_free(s);
	policy_free(p);
	trim_soon(h);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	*ret = doc;
	return 0;
}

int holder_status(struct holder *h, json_object **ret, struct op_error *e)
{
	struct host_state *s = NULL;
	char err[ERRLEN] = "";
	json_object *doc;
	int r;

	r = host_snapshot_ex(h->host, &needs_status, &s, err, sizeof(err));
	if (r < 0)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, r, "cannot read %s: %s", where(h),
			       err[0] ? err : path_strerror(-r));
	doc = report_status(h->host, s);
	host_state_free(s);
	trim_soon(h);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	*ret = doc;
	return 0;
}

int holder_list_modes(struct holder *h, json_object **ret, struct op_error *e)
{
	char **names = NULL;
	json_object *doc;

	if (!h->hc)
		return op_fail_diag(e, ISOLATED_BUS_ERROR_POLICY, -EINVAL, &h->hc_error);
	if (modes_names(h->policy_dirs, &names) < 0 || !names || !names[0]) {
		strv_free(names);
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOENT, "no policies found");
	}
	strv_free(names);
	doc = report_modes(h->policy_dirs, h->hc, &h->online);
	if (!doc)
		return op_fail(e, ISOLATED_BUS_ERROR_FAILED, -ENOMEM, "out of memory");
	*ret = doc;
	return 0;
}

/* ---- Life cycle ---- */

static int copy_config(struct holder *h, const struct daemon_config *cfg)
{
	for (size_t i = 0; cfg->policy_dirs && cfg->policy_dirs[i]; i++)
		if (strv_push_dup(&h->policy_dirs, cfg->policy_dirs[i]) < 0)
			return -ENOMEM;
	if (util_set_str(&h->hostconf_path, cfg->hostconf_path) < 0 || util_set_str(&h->start_mode, cfg->mode) < 0 ||
	    util_set_str(&h->root, cfg->root) < 0 || util_set_str(&h->mode, "vanilla") < 0 ||
	    util_set_str(&h->scope, "host") < 0)
		return -ENOMEM;
	if (!h->policy_dirs || !h->hostconf_path)
		return -EINVAL;
	h->hostconf_given = cfg->hostconf_given;
	h->revert_on_stop = cfg->revert_on_stop;
	h->enforce = cfg->enforce;
	h->verify_interval = cfg->verify_interval;
	return 0;
}

int holder_new(const struct daemon_config *cfg, sd_event *ev, struct holder **ret)
{
	struct holder *h = calloc(1, sizeof(*h));
	struct host_options ho;
	char err[256] = "";
	int r;

	if (!h)
		return log_errno(LOG_ERR, -ENOMEM, "starting");
	h->ev = sd_event_ref(ev);
	h->online = (struct cpuset)CPUSET_INIT;
	h->crash_after = getenv("ISOLATED_CRASH_AFTER");
	r = copy_config(h, cfg);
	if (r < 0) {
		log_errno(LOG_ERR, r, "copying the configuration");
		goto fail;
	}
	ho = host_options_from_env();
	r = host_open_ex(cfg->root, &ho, &h->host);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot open %s", cfg->root ? cfg->root : "/");
		goto fail;
	}
	r = host_read_boot_id(h->host, &h->boot_id);
	if (r == -ENOENT)
		r = util_set_str(&h->boot_id, "");
	if (r < 0) {
		log_errno(LOG_ERR, r, "reading proc/sys/kernel/random/boot_id of %s", where(h));
		goto fail;
	}
	r = read_online(h->host, &h->online, err, sizeof(err));
	if (r < 0) {
		log_error("%s: %s", where(h), err);
		goto fail;
	}
	r = partwatch_new(ev, h->host, on_partition, h, &h->partitions);
	if (r < 0) {
		log_errno(LOG_ERR, r, "starting");
		goto fail;
	}
	/* A broken or missing host.conf does not stop the daemon: revert,
	 * status and verify need none, and SIGHUP reads it again. */
	if (load_hostconf(h, &h->online, &h->hc, &h->hc_error) < 0)
		log_lines(LOG_ERR, &h->hc_error);
	*ret = h;
	return 0;
fail:
	holder_free(h);
	return r;
}

void holder_free(struct holder *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->confirm_timer);
	sd_event_source_disable_unref(h->verify_timer);
	sd_event_source_disable_unref(h->replan_timer);
	sd_event_source_disable_unref(h->trim);
	sd_event_source_disable_unref(h->recount);
	partwatch_free(h->partitions);
	sd_event_unref(h->ev);
	host_state_free(h->base);
	journal_free(h->journal);
	policy_free(h->policy);
	hostconf_free(h->hc);
	diag_free(&h->hc_error);
	cpuset_free(&h->online);
	host_free(h->host);
	pending_clear(&h->pending);
	strv_free(h->policy_dirs);
	free(h->hostconf_path);
	free(h->start_mode);
	free(h->root);
	free(h->boot_id);
	free(h->mode);
	free(h->scope);
	free(h->failure);
	free(h->want_mode);
	free(h->want_scope);
	free(h->replan_why);
	free(h->status_text);
	json_object_put(h->summary);
	free(h);
}

/* The journal at start-up: -EBADMSG (logged) when it cannot be read. */
static int start_journal(struct holder *h, struct journal **ret)
{
	char err[ERRLEN] = "";
	struct journal *j = NULL;
	int r;

	r = journal_load(h->host, &j, err, sizeof(err));
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0) {
		log_error("%s/%s: %s", h->root ? h->root : "", JOURNAL_PATH, err[0] ? err : path_strerror(-r));
		if (r == -EBADMSG)
			log_error(
			    "refusing to run: the journal records what isolated changed and the pristine values, "
			    "and it cannot be read. It was left as it is. To recover: restore the pristine values "
			    "it shows by hand, or reboot; then move it away and start isolated again");
		return r;
	}
	if (strcmp(j->boot_id, h->boot_id) != 0) {
		log_notice("the journal is from another boot (%s): it holds nothing of this one", j->boot_id);
		/* The next transaction discards it; nothing is held. */
		j->has_confirm = false;
		free(j->mode);
		j->mode = strdup("vanilla");
		if (!j->mode) {
			journal_free(j);
			return log_errno(LOG_ERR, -ENOMEM, "reading the journal");
		}
	}
	*ret = j;
	return 0;
}

/* Apply p (taken) as the mode to hold, at start-up or after a reload
 * found the policy again. Logs what it did. */
static int take_mode(struct holder *h, struct policy *p, const char *why, const struct apply_confirm *confirm)
{
	struct apply_opts o = {.no_wait = false, .confirm = confirm};
	struct apply_result *res = NULL;
	char err[ERRLEN] = "";
	int r;

	r = transaction(h, p, &o, &res, err, sizeof(err));
	if (!res) {
		log_error("applying %s (%s): %s", p->name, why, err[0] ? err : path_strerror(-r));
		set_failed(h, err[0] ? err : path_strerror(-r));
		policy_free(p);
		return r;
	}
	log_result(h, res, why);
	if (res->failed) {
		set_failed(h, res->error ? res->error : "a write failed");
		/* Undone: what is in force is what the journal says. When that
		 * is p's mode already, p keeps serving the events. */
		hold(h, p);
		r = -EIO;
	} else {
		set_failed(h, NULL);
		free(h->want_mode);
		free(h->want_scope);
		h->want_mode = h->want_scope = NULL;
		hold(h, p);
		r = 0;
	}
	apply_result_free(res);
	return r;
}

/* The mode to hold could not be loaded: remember it for SIGHUP. */
static void want(struct holder *h, const char *mode, const char *scope, const char *why)
{
	if (util_set_str(&h->want_mode, mode) < 0 || util_set_str(&h->want_scope, scope) < 0)
		log_errno(LOG_ERR, -ENOMEM, "remembering the mode to hold");
	set_failed(h, why);
}

int holder_start(struct holder *h)
{
	struct apply_confirm cbuf, *confirm = NULL;
	struct journal *j = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	const char *errname, *target, *scope;
	char err[ERRLEN] = "";
	int r;

	r = start_journal(h, &j);
	if (r < 0)
		return r;
	if (j && (r = holder_sync_journal(h, err, sizeof(err))) < 0)
		log_warning("reading the journal: %s", err[0] ? err : path_strerror(-r));
	if (j && j->has_confirm && h->start_mode && strcmp(h->start_mode, j->mode) != 0)
		log_notice("mode = %s of the configuration is not applied: %s is waiting for confirmation",
			   h->start_mode, j->mode);
	if (j && j->has_confirm && j->confirm_deadline <= now_realtime_usec()) {
		if (go_back(h, "before its deadline, while isolated was not running", true) < 0)
			log_error("the unconfirmed %s stays in force for now; the next start tries again", h->mode);
		goto out;
	}
	if (j && j->has_confirm) {
		target = j->mode;
		scope = j->scope;
		cbuf = (struct apply_confirm){.deadline_usec = j->confirm_deadline,
					      .previous_mode = j->confirm_previous_mode,
					      .previous_scope = j->confirm_previous_scope,
					      .uid = j->confirm_uid,
					      .session = j->confirm_session};
		confirm = &cbuf;
	} else if (h->start_mode) {
		target = h->start_mode;
		scope = j && strcmp(j->mode, target) == 0 ? j->scope : NULL;
	} else {
		target = j ? j->mode : "vanilla";
		scope = j ? j->scope : NULL;
	}
	if (strcmp(target, "vanilla") == 0) {
		/* Only when there is something to put back or to undo. */
		if (!j || (!j->n_targets && !j->has_txn))
			goto out;
		r = modes_vanilla(&p);
	} else {
		r = load_policy(h, h->hc, &h->online, target, scope, &p, &d, &errname);
	}
	if (r < 0) {
		log_lines(LOG_ERR, &d);
		log_error("cannot hold %s: its policy does not load; %s", target,
			  j && j->has_txn ? "an interrupted transaction is left for the next apply or revert to undo"
					  : "what the journal holds stays as it is");
		want(h, target, scope, "its policy does not load (see the log)");
		goto out;
	}
	r = take_mode(h, p, "start-up", confirm);
	if (r == -EBADMSG) {
		journal_free(j);
		diag_free(&d);
		return r;
	}
out:
	journal_free(j);
	diag_free(&d);
	/* Recovery: what the journal holds now is watched, held or not. */
	follow_partitions(h);
	confirm_timer_update(h);
	r = verify_timer_arm(h);
	if (r < 0)
		log_errno(LOG_ERR, r, "arming the verification timer");
	holder_publish(h);
	log_info("%s", holder_status_text(h));
	return 0;
}

int holder_reload(struct holder *h)
{
	struct cpuset online = CPUSET_INIT;
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	const char *errname;
	const char *mode, *scope;
	bool take;
	char err[256] = "";
	int r;

	adopt_journal(h);
	mode = h->policy ? h->mode : h->want_mode;
	scope = h->policy ? h->scope : h->want_scope;
	take = !h->policy && h->want_mode;
	log_info("reloading host.conf%s%s", mode ? " and the policy of " : "", mode ? mode : "");
	r = read_online(h->host, &online, err, sizeof(err));
	if (r < 0) {
		log_error("%s: %s; keeping the configuration", where(h), err);
		return r;
	}
	if (load_hostconf(h, &online, &hc, &d) < 0) {
		log_lines(LOG_ERR, &d);
		log_error("host.conf has errors: keeping the one read before");
		goto keep;
	}
	if (mode && load_policy(h, hc, &online, mode, scope, &p, &d, &errname) < 0) {
		log_lines(LOG_ERR, &d);
		log_error("the policy of %s has errors: keeping the one read before", mode);
		hostconf_free(hc);
		goto keep;
	}
	/* Both read: swap them in together (a policy borrows its host.conf). */
	if (take) {
		hostconf_free(h->hc);
		h->hc = hc;
		r = take_mode(h, p, "reload", NULL);
		p = NULL;
	} else {
		policy_free(h->policy);
		h->policy = p;
		p = NULL;
		hostconf_free(h->hc);
		h->hc = hc;
	}
	diag_free(&h->hc_error);
	cpuset_free(&h->online);
	h->online = online;
	online = (struct cpuset)CPUSET_INIT;
	if (!take && h->policy)
		reapply(h, "reload", false, true);
	goto verify;
keep:
	if (h->policy)
		reapply(h, "reload", false, true);
verify:
	cpuset_free(&online);
	diag_free(&d);
	verify_quietly(h);
	holder_publish(h);
	return 0;
}

int holder_stop(struct holder *h)
{
	struct apply_opts o = {.no_wait = false};
	struct apply_result *res = NULL;
	struct policy *p = NULL;
	char err[ERRLEN] = "";
	int r;

	if (h->replan_timer)
		sd_event_source_set_enabled(h->replan_timer, SD_EVENT_OFF);
	if (h->verify_timer)
		sd_event_source_set_enabled(h->verify_timer, SD_EVENT_OFF);
	if (h->confirm_timer)
		sd_event_source_set_enabled(h->confirm_timer, SD_EVENT_OFF);
	if (!h->revert_on_stop) {
		if (strcmp(h->mode, "vanilla") != 0)
			log_info("stopping: %s stays in force (revert-on-stop = no)", h->mode);
		return 0;
	}
	r = modes_vanilla(&p);
	if (r < 0)
		return log_errno(LOG_ERR, r, "stopping");
	r = transaction(h, p, &o, &res, err, sizeof(err));
	if (!res) {
		log_error("reverting on stop: %s", err[0] ? err : path_strerror(-r));
		policy_free(p);
		return r;
	}
	log_result(h, res, "revert-on-stop");
	r = res->failed ? -EIO : 0;
	apply_result_free(res);
	if (r == 0)
		hold(h, p);
	else
		policy_free(p);
	holder_publish(h);
	return r;
}
