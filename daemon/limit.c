/* What a caller other than root may cost the daemon, per uid: a token bucket
 * of calls, and the number of its refusals that reach the log. Reads no
 * clock and does no I/O: the bus passes the time in and logs what it is
 * told to (daemon.h). A few uids call a daemon like this one at all, so the
 * table is an array searched from the front. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* Credit stays within [-CREDIT_MAX, full], full <= CREDIT_MAX: no sum or
 * difference of two credits overflows. */
#define CREDIT_MAX (LLONG_MAX / 2)

struct entry {
	uid_t uid;
	/* The bucket, in µs of credit: one call costs interval_usec, the
	 * credit grows by one µs a µs up to burst * interval_usec; below 0
	 * after a call that cost more than it had. */
	long long credit;
	unsigned long long last;
	/* The log window: from the first refusal logged; logged, then
	 * suppressed (counted, to be reported when the window ends). */
	unsigned long long window_start;
	unsigned logged;
	unsigned long long suppressed;
};

struct limits {
	struct limits_config cfg;
	long long full; /* burst * interval_usec */
	struct entry *v;
	size_t n, size;
};

int limits_new(const struct limits_config *cfg, struct limits **ret)
{
	struct limits *l;
	unsigned long long full;

	if (cfg->burst < 1 || cfg->interval_usec < 1 || cfg->log_window_usec < 1 ||
	    __builtin_mul_overflow((unsigned long long)cfg->burst, cfg->interval_usec, &full) || full > CREDIT_MAX)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = *cfg;
	l->full = (long long)full;
	*ret = l;
	return 0;
}

void limits_free(struct limits *l)
{
	if (!l)
		return;
	free(l->v);
	free(l);
}

/* The credit of e at now (now before e->last, as a clock set back would
 * give: no credit for it). */
static long long credit_at(const struct limits *l, const struct entry *e, unsigned long long now)
{
	unsigned long long gained = now > e->last ? now - e->last : 0;

	return gained >= (unsigned long long)(l->full - e->credit) ? l->full : e->credit + (long long)gained;
}

/* e's credit brought to now. */
static long long refill(const struct limits *l, struct entry *e, unsigned long long now)
{
	e->credit = credit_at(l, e, now);
	if (now > e->last)
		e->last = now;
	return e->credit;
}

static bool window_over(const struct limits *l, const struct entry *e, unsigned long long now)
{
	return now >= e->window_start && now - e->window_start >= l->cfg.log_window_usec;
}

/* Nothing to remember: a full bucket, nothing to report, no window open. */
static bool idle(const struct limits *l, const struct entry *e, unsigned long long now)
{
	return credit_at(l, e, now) == l->full && e->suppressed == 0 && (e->logged == 0 || window_over(l, e, now));
}

/* The entry of uid, made (with a full bucket) when there is none. NULL when
 * the table is full of uids that called lately, or on ENOMEM. */
static struct entry *entry_of(struct limits *l, uid_t uid, unsigned long long now)
{
	size_t i, k = 0;

	for (i = 0; i < l->n; i++)
		if (l->v[i].uid == uid)
			return &l->v[i];
	/* A new uid: forget the idle ones first. */
	for (i = 0; i < l->n; i++)
		if (!idle(l, &l->v[i], now))
			l->v[k++] = l->v[i];
	l->n = k;
	if (l->n == LIMITS_MAX_UIDS)
		return NULL;
	if (l->n == l->size) {
		size_t size = l->size ? l->size * 2 : 8;
		struct entry *v = reallocarray(l->v, size, sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->size = size;
	}
	l->v[l->n] = (struct entry){.uid = uid, .credit = l->full, .last = now};
	return &l->v[l->n++];
}

bool limits_take(struct limits *l, uid_t uid, unsigned long long now, unsigned long long *ret_retry_usec)
{
	long long call = (long long)l->cfg.interval_usec, c;
	struct entry *e;

	if (uid == 0)
		return true;
	e = entry_of(l, uid, now);
	if (!e) {
		*ret_retry_usec = l->cfg.interval_usec;
		return false;
	}
	c = refill(l, e, now);
	if (c < call) {
		*ret_retry_usec = (unsigned long long)(call - c);
		return false;
	}
	e->credit = c - call;
	return true;
}

void limits_charge(struct limits *l, uid_t uid, unsigned long long now, unsigned long long usec)
{
	unsigned long long calls = l->cfg.call_usec ? usec / l->cfg.call_usec : 0, debit;
	struct entry *e;
	long long c;

	/* The first call was taken before. */
	if (uid == 0 || calls <= 1)
		return;
	e = entry_of(l, uid, now);
	if (!e)
		return;
	c = refill(l, e, now);
	if (__builtin_mul_overflow(calls - 1, l->cfg.interval_usec, &debit) ||
	    debit > (unsigned long long)(c + CREDIT_MAX))
		e->credit = -CREDIT_MAX;
	else
		e->credit = c - (long long)debit;
}

bool limits_log(struct limits *l, uid_t uid, unsigned long long now, unsigned long long *ret_suppressed)
{
	struct entry *e;

	*ret_suppressed = 0;
	if (uid == 0)
		return true;
	e = entry_of(l, uid, now);
	if (!e)
		return false;
	if ((e->logged || e->suppressed) && window_over(l, e, now)) {
		*ret_suppressed = e->suppressed;
		e->logged = 0;
		e->suppressed = 0;
	}
	if (e->logged == 0 && e->suppressed == 0)
		e->window_start = now;
	if (e->logged < l->cfg.log_first) {
		e->logged++;
		return true;
	}
	e->suppressed++;
	return false;
}

unsigned long long limits_flush(struct limits *l, unsigned long long now,
				void (*report)(void *userdata, uid_t uid, unsigned long long n), void *userdata)
{
	unsigned long long next = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct entry *e = &l->v[i];
		unsigned long long end;

		if (!e->suppressed)
			continue;
		if (now == ULLONG_MAX || window_over(l, e, now)) {
			report(userdata, e->uid, e->suppressed);
			e->suppressed = 0;
			e->logged = 0;
			continue;
		}
		end = e->window_start + l->cfg.log_window_usec;
		if (end < e->window_start)
			end = ULLONG_MAX - 1;
		if (!next || end < next)
			next = end;
	}
	return next;
}
