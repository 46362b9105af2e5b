/* The daemon's metrics file for node_exporter's textfile collector
 * (metrics-file in isolated.conf): once a second, on the loop's coarse
 * timer, the metrics are built in memory (the journal held, the counters:
 * no I/O) and written, atomically, only when they differ from what the
 * file holds; so at most once a second, and not at all while nothing
 * changes. A write that fails is said once (at notice level when the
 * path is the default and its directory is not there: node_exporter is
 * not installed), and tried again every second. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "isolated/metrics.h"
#include "isolated/util.h"

#define TEXTFILE_USEC (1000 * 1000ULL)

struct textfile {
	sd_event_source *timer;
	struct holder *holder;
	const struct procev *procev;
	char *path;
	char *written; /* the text the file holds, NULL: not written yet */
	bool warned;   /* the last write failed and was logged */
	bool given;    /* the path is isolated.conf's, not the default */
};

static void textfile_flush(struct textfile *t)
{
	struct metrics m = {0};
	struct metrics_daemon d;
	char err[512] = "", *text;
	int r;

	holder_metrics(t->holder, &m, &d);
	if (t->procev)
		procev_counters(t->procev, &d.events, &d.overflows);
	text = metrics_text(&m);
	if (!text || (t->written && strcmp(text, t->written) == 0)) {
		free(text);
		return;
	}
	if ((r = metrics_write(t->path, text, err, sizeof(err))) < 0) {
		if (!t->warned)
			log_fields(r == -ENOENT && !t->given ? LOG_NOTICE : LOG_WARNING, NULL,
				   "metrics-file: %s (said once; tried again every second)", err);
		t->warned = true;
		free(text);
		return;
	}
	if (t->warned)
		log_notice("metrics-file: %s written again", t->path);
	t->warned = false;
	free(t->written);
	t->written = text;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct textfile *t = userdata;
	int r;

	textfile_flush(t);
	r = sd_event_source_set_time(s, usec + TEXTFILE_USEC);
	if (r >= 0)
		r = sd_event_source_set_enabled(s, SD_EVENT_ON);
	if (r < 0)
		log_errno(LOG_WARNING, r, "metrics-file: re-arming its timer");
	return 0;
}

int textfile_start(sd_event *ev, struct holder *h, const struct procev *p, const char *path, bool given,
		   struct textfile **ret)
{
	struct textfile *t = calloc(1, sizeof(*t));
	uint64_t now;
	int r;

	*ret = NULL;
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return -ENOMEM;
	}
	t->holder = h;
	t->procev = p;
	t->given = given;
	textfile_flush(t);
	r = sd_event_now(ev, CLOCK_MONOTONIC, &now);
	/* A second's accuracy: the wake-up joins the loop's others. */
	if (r >= 0)
		r = sd_event_add_time(ev, &t->timer, CLOCK_MONOTONIC, now + TEXTFILE_USEC, TEXTFILE_USEC, on_timer, t);
	if (r < 0) {
		textfile_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void textfile_free(struct textfile *t)
{
	if (!t)
		return;
	sd_event_source_unref(t->timer);
	free(t->path);
	free(t->written);
	free(t);
}
