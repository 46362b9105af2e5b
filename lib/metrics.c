/* Prometheus text exposition of the mode held (metrics.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/journal.h"
#include "isolated/metrics.h"
#include "isolated/util.h"

const double metrics_reaction_le[METRICS_REACTION_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1};

void metrics_from_journal(const struct journal *j, struct metrics *m)
{
	memset(m->by_kind, 0, sizeof(m->by_kind));
	m->mode = j && j->mode ? j->mode : "vanilla";
	m->scope = j && j->scope && strcmp(m->mode, "vanilla") != 0 ? j->scope : "";
	m->applied_at = j && strcmp(m->mode, "vanilla") != 0 ? j->applied_at : 0;
	m->confirm_deadline_usec = j && j->has_confirm ? j->confirm_deadline : 0;
	for (size_t i = 0; j && i < j->n_targets; i++)
		if (j->targets[i].target && (unsigned)j->targets[i].kind < _ACTION_KIND_MAX)
			m->by_kind[j->targets[i].kind]++;
}

void metrics_reaction_record(struct metrics_daemon *d, unsigned long long usec)
{
	double s = (double)usec / 1e6;
	size_t i = 0;

	while (i < METRICS_REACTION_BUCKETS && s > metrics_reaction_le[i])
		i++;
	d->reaction_buckets[i]++;
	d->reaction_count++;
	d->reaction_sum += s;
}

/* A label value as the exposition format quotes it: \\, \" and \n. */
static void label(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_addc(b, '\\');
		if (*s == '\n') {
			sbuf_adds(b, "\\n");
			continue;
		}
		sbuf_addc(b, *s);
	}
}

static void head(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct sbuf *b, const char *name, const char *help, unsigned long long v)
{
	head(b, name, "gauge", help);
	sbuf_addf(b, "%s %llu\n", name, v);
}

char *metrics_text(const struct metrics *m)
{
	const struct metrics_daemon *d = m->daemon;
	struct sbuf b = {0};

	head(&b, "isolated_mode_info", "gauge", "The mode isolated holds, and its scope (always 1).");
	sbuf_adds(&b, "isolated_mode_info{mode=\"");
	label(&b, m->mode);
	sbuf_adds(&b, "\",scope=\"");
	label(&b, m->scope);
	if (d) {
		sbuf_adds(&b, "\",state=\"");
		label(&b, d->state);
	}
	sbuf_adds(&b, "\"} 1\n");
	gauge(&b, "isolated_mode_applied_timestamp_seconds",
	      "When the mode held was applied (unix time); 0 when nothing is held.",
	      (unsigned long long)(m->applied_at > 0 ? m->applied_at : 0));
	head(&b, "isolated_managed_targets", "gauge",
	     "Values isolated holds (changed, pristine value journaled), by kind.");
	for (int k = 0; k < _ACTION_KIND_MAX; k++)
		sbuf_addf(&b, "isolated_managed_targets{kind=\"%s\"} %zu\n", action_kind_name((enum action_kind)k),
			  m->by_kind[k]);
	if (m->have_drift)
		gauge(&b, "isolated_drifted_targets",
		      "Values another program changed after isolated wrote them (at the last verification).", m->drift);
	if (m->have_gone)
		gauge(&b, "isolated_gone_targets", "Values whose object is gone (an exited thread, a removed IRQ).",
		      m->gone);
	head(&b, "isolated_confirm_deadline_timestamp_seconds", "gauge",
	     "When the mode goes back unless confirmed (apply --confirm-within; unix time); 0: nothing to confirm.");
	sbuf_addf(&b, "isolated_confirm_deadline_timestamp_seconds %.6f\n",
		  m->confirm_deadline_usec > 0 ? (double)m->confirm_deadline_usec / 1e6 : 0.0);
	if (d) {
		unsigned long long cum = 0;

		head(&b, "isolated_events_total", "counter", "Process events the daemon received from the kernel.");
		sbuf_addf(&b, "isolated_events_total %llu\n", d->events);
		head(&b, "isolated_netlink_overflows_total", "counter",
		     "Times the proc connector's socket overflowed (events lost, a full rescan followed).");
		sbuf_addf(&b, "isolated_netlink_overflows_total %llu\n", d->overflows);
		head(&b, "isolated_rescans_total", "counter", "Full rescans of the host's threads.");
		sbuf_addf(&b, "isolated_rescans_total %llu\n", d->rescans);
		head(&b, "isolated_reaction_seconds", "histogram",
		     "New threads a rule selected: from the event read to the transaction done.");
		for (int i = 0; i < METRICS_REACTION_BUCKETS; i++) {
			cum += d->reaction_buckets[i];
			sbuf_addf(&b, "isolated_reaction_seconds_bucket{le=\"%g\"} %llu\n", metrics_reaction_le[i],
				  cum);
		}
		sbuf_addf(&b, "isolated_reaction_seconds_bucket{le=\"+Inf\"} %llu\n", d->reaction_count);
		sbuf_addf(&b, "isolated_reaction_seconds_sum %.9f\nisolated_reaction_seconds_count %llu\n",
			  d->reaction_sum, d->reaction_count);
		gauge(&b, "isolated_last_apply_timestamp_seconds",
		      "When the daemon last applied or reverted a mode (unix time); 0: not since it started.",
		      (unsigned long long)(d->last_apply_at > 0 ? d->last_apply_at : 0));
		gauge(&b, "isolated_last_apply_success", "Whether that apply succeeded (1) or failed (0).",
		      d->last_apply_ok ? 1 : 0);
		gauge(&b, "isolated_last_apply_conflicts",
		      "Values that apply left alone because another program had changed them.",
		      d->last_apply_conflicts);
	}
	return sbuf_take(&b);
}

int metrics_write(const char *path, const char *text, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	enum util_write_step step;
	int dfd, r;

	if (!*name || strlen(name) + 6 > NAME_MAX) {
		util_set_err(err, errlen, "%s: not a file name", path);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	/* node_exporter reads *.prom only: the temporary file is not one. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		util_set_err(err, errlen, "%s: %s", dir, strerror(errno));
		return r;
	}
	r = util_write_replace(dfd, name, text, strlen(text), &(struct util_replace){.tmp = tmp, .mode = 0644}, &step);
	close(dfd);
	if (r < 0)
		util_set_err(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}
