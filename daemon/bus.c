/* The daemon's D-Bus side: the io.isolated.Daemon1 object on the system bus
 * (isolated/busapi.h). Every method takes one of its caller's calls (see
 * below), reads its arguments, checks them, authorises the methods that
 * change the machine, asks the holder and replies with the holder's JSON
 * document; the holder's events become the
 * ModeChanged, DriftFound and PartitionChanged signals and PropertiesChanged
 * for Mode/State.
 *
 * Replies: the JSON document as one string, compact
 * (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE). isoctl parses
 * it and prints it its own way (pretty for --json, rendered otherwise), so
 * the bytes on the bus need not be the bytes on the terminal.
 *
 * Errors: the holder's op_error (name and message) as they are. Argument
 * errors are ISOLATED_BUS_ERROR_ARGUMENT with an "isoctl: ..." line, as the
 * direct mode prints it. Refusals are org.freedesktop.DBus.Error.AccessDenied
 * with a plain sentence ("Apply needs root or the polkit action
 * io.isolated.manage (...)"): a client prefixes it as it does any error
 * that is not one of ours.
 *
 * Authorisation (Apply, Revert, Confirm; dry runs too): the sender's euid
 * and pid come from the bus driver (GetConnectionUnixUser /
 * GetConnectionUnixProcessID: SO_PEERCRED when the caller connected), never
 * from /proc or the message. euid 0 may. Anyone else: polkit's
 * CheckAuthorization for ISOLATED_POLKIT_ACTION with the subject
 * "system-bus-name" (polkit resolves the caller from the bus itself),
 * interactive when the caller's message allows it. The polkit call is
 * asynchronous: an interactive authentication may take as long as a person
 * types, and the loop must keep serving thread events meanwhile (a blocking
 * call would stall new RT threads for seconds). The method is answered
 * when polkit answers. Polkit absent, an error, a reply we cannot read, or
 * "not authorized": denied.
 *
 * What a caller other than root may cost (limit.c): every method call of a
 * uid but 0 takes a call from its bucket first, before its arguments are
 * read, reads and refused changes alike; an empty bucket is
 * org.freedesktop.DBus.Error.LimitsExceeded with when to try again. A read
 * that took the daemon longer (a Plan of a big host: a second) counts once
 * for every LIMITS_CALL_USEC of it, so what a uid can take of the daemon's
 * time is bounded, not only its number of calls. Its refusals (denied,
 * limited) reach the log a few a minute, then as a count.
 *
 * Status() gives such a caller the holder's summary (from memory); the
 * whole document, which on a 1 024-CPU host is a snapshot of /proc and
 * megabytes, is root's, or anyone's through StatusEx({"details": true}),
 * where one read serves every caller but root for STATUS_SHARED_USEC, as
 * long as the holder's generation stays. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "isolated/busapi.h"
#include "isolated/modes.h"
#include "isolated/util.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization flags: AllowUserInteraction. */
#define POLKIT_ALLOW_USER_INTERACTION 1u

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

#define LIMITS_EXCEEDED "org.freedesktop.DBus.Error.LimitsExceeded"

enum method {
	METHOD_APPLY,
	METHOD_REVERT,
	METHOD_CONFIRM,
	METHOD_PLAN,
	METHOD_STATUS,
	METHOD_STATUS_EX,
	METHOD_VERIFY,
	METHOD_LIST_MODES,
};

static const char *const method_names[] = {
    [METHOD_APPLY] = "Apply",	[METHOD_REVERT] = "Revert",	   [METHOD_CONFIRM] = "Confirm",
    [METHOD_PLAN] = "Plan",	[METHOD_STATUS] = "Status",	   [METHOD_STATUS_EX] = "StatusEx",
    [METHOD_VERIFY] = "Verify", [METHOD_LIST_MODES] = "ListModes",
};

/* Who called, as the bus driver reports it; r < 0 when it did not (uid is
 * then (uid_t)-1, a uid like any other but 0 for the limits). */
struct sender {
	uid_t uid;
	pid_t pid;
	int r;
	unsigned long long start; /* when the call was let in (bus_now) */
};

/* The checked arguments of a method that changes the machine. Strings
 * point into the call message, which is kept referenced until the answer. */
struct request {
	enum method method;
	const char *mode;
	struct holder_apply_opts opts;
};

/* A polkit check in flight. */
struct auth {
	struct bus *bus;
	sd_bus_message *call;
	sd_bus_slot *slot;
	struct request req;
	uid_t uid;
	pid_t pid;
	bool interactive;
	struct auth *prev, *next;
};

struct bus {
	sd_bus *bus;
	sd_event *ev;
	struct holder *holder;
	sd_bus_slot *vtable_slot;
	/* Mode and State as last published, to send PropertiesChanged only
	 * for what changed. NULL: unknown (always differs). */
	char *mode, *state;
	bool started; /* we are the holder's event sink */
	struct auth *auths;

	/* Callers other than root: their buckets and refusals, on this clock. */
	struct limits *limits;
	struct limits_config limits_cfg;
	unsigned long long (*now)(void *userdata);
	void *now_userdata;
	sd_event_source *flush_timer; /* reports the refusals left out of the log */
	/* The whole Status document as last read for a caller other than
	 * root, compact; the holder's generation and the time then. */
	char *shared;
	unsigned long long shared_gen, shared_at;
	sd_event_source *shared_timer; /* drops it when too old */
};

/* ---- Mode names ---- */

/* The rule of isolated/modes.h, for as long as lib/modes.c (another part of
 * issue 4) is not in the tree; weak, so the library's wins once linked.
 * TODO: remove when lib/modes.c lands. */
__attribute__((weak)) bool modes_name_valid(const char *name)
{
	size_t n = 0;

	for (const char *p = name; *p; p++, n++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	}
	return n >= 1 && n <= ISOLATED_BUS_MODE_MAX;
}

/* A caller's string, safe to put in a message: printable ASCII kept, '"'
 * and '\\' escaped, anything else as \xNN, at most about 80 characters. */
static void quote_arg(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (o >= 80) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o < size ? o : size - 1] = '\0';
}

static int check_mode(const char *mode, sd_bus_error *error)
{
	char q[128];

	if (strnlen(mode, ISOLATED_BUS_MODE_MAX + 1) <= ISOLATED_BUS_MODE_MAX && modes_name_valid(mode))
		return 0;
	quote_arg(mode, q, sizeof(q));
	return sd_bus_error_setf(
	    error, ISOLATED_BUS_ERROR_ARGUMENT,
	    ISOLATED_BUS_MSG_PREFIX "invalid mode name \"%s\": a mode is a name of letters, digits, '-' and '_'", q);
}

static bool scope_valid(const char *scope)
{
	size_t n = 0;

	for (const char *p = scope; *p; p++, n++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return n >= 1 && n <= ISOLATED_BUS_SCOPE_MAX;
}

/* ---- Options (a{sv}) ---- */

enum option {
	OPT_DRY_RUN,
	OPT_FORCE,
	OPT_SCOPE,
	OPT_CONFIRM_WITHIN,
	OPT_DETAILS,
};

static const struct {
	const char *key;
	const char *type; /* D-Bus signature of the variant's contents */
} option_table[] = {
    [OPT_DRY_RUN] = {"dry-run", "b"}, [OPT_FORCE] = {"force", "b"},
    [OPT_SCOPE] = {"scope", "s"},     [OPT_CONFIRM_WITHIN] = {"confirm-within", "t"},
    [OPT_DETAILS] = {"details", "b"},
};

/* What the options of a call said. */
struct options {
	struct holder_apply_opts apply; /* dry-run, force, scope, confirm-within */
	bool details;
};

#define OPT_BIT(o) (1u << (o))
#define APPLY_OPTIONS (OPT_BIT(OPT_DRY_RUN) | OPT_BIT(OPT_FORCE) | OPT_BIT(OPT_SCOPE) | OPT_BIT(OPT_CONFIRM_WITHIN))
#define REVERT_OPTIONS (OPT_BIT(OPT_DRY_RUN) | OPT_BIT(OPT_FORCE))
#define PLAN_OPTIONS (OPT_BIT(OPT_SCOPE))
#define STATUS_EX_OPTIONS (OPT_BIT(OPT_DETAILS))

static void options_known(unsigned allowed, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(option_table) && o < size; i++)
		if (allowed & OPT_BIT(i))
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", option_table[i].key);
}

/* The value of option i, the variant entered, into opts. */
static int read_value(sd_bus_message *m, enum option i, struct options *opts, sd_bus_error *error)
{
	struct holder_apply_opts *o = &opts->apply;
	int r;

	switch (i) {
	case OPT_DRY_RUN:
	case OPT_FORCE:
	case OPT_DETAILS: {
		int b;

		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r < 0)
			return r;
		*(i == OPT_DRY_RUN ? &o->dry_run : i == OPT_FORCE ? &o->force : &opts->details) = b;
		break;
	}
	case OPT_SCOPE:
		r = sd_bus_message_read_basic(m, 's', &o->scope);
		if (r < 0)
			return r;
		if (!scope_valid(o->scope))
			return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_ARGUMENT,
						 ISOLATED_BUS_MSG_PREFIX
						 "--scope: not a scope: 1 to %d printable ASCII "
						 "characters (host, process:PID or cgroup:PATH)",
						 ISOLATED_BUS_SCOPE_MAX);
		break;
	case OPT_CONFIRM_WITHIN: {
		uint64_t usec;

		r = sd_bus_message_read_basic(m, 't', &usec);
		if (r < 0)
			return r;
		/* 0 is "none", as when absent: isoctl sends nothing then. */
		if (usec != 0 && (usec < ISOLATED_BUS_CONFIRM_MIN_USEC || usec > ISOLATED_BUS_CONFIRM_MAX_USEC))
			return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_ARGUMENT,
						 ISOLATED_BUS_MSG_PREFIX
						 "--confirm-within: %" PRIu64
						 " microseconds: between 1s and 24h (%llu to %llu "
						 "microseconds), or 0 for no confirmation",
						 usec, ISOLATED_BUS_CONFIRM_MIN_USEC, ISOLATED_BUS_CONFIRM_MAX_USEC);
		o->confirm_usec = usec;
		break;
	}
	}
	return 0;
}

/* Read the a{sv} at the message's position into o. Unknown keys, keys this
 * method does not take, a key twice, a wrong type, a bad scope: the
 * argument error in error. */
static int read_options(sd_bus_message *m, const char *method, unsigned allowed, struct options *opts,
			sd_bus_error *error)
{
	unsigned seen = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents;
		char type, q[128], known[128];
		size_t i;

		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		for (i = 0; i < ARRAY_SIZE(option_table); i++)
			if ((allowed & OPT_BIT(i)) && strcmp(key, option_table[i].key) == 0)
				break;
		if (i == ARRAY_SIZE(option_table)) {
			quote_arg(key, q, sizeof(q));
			options_known(allowed, known, sizeof(known));
			return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_ARGUMENT,
						 ISOLATED_BUS_MSG_PREFIX "%s: unknown option \"%s\" (%s takes %s)",
						 method, q, method, known[0] ? known : "none");
		}
		if (seen & OPT_BIT(i))
			return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_ARGUMENT,
						 ISOLATED_BUS_MSG_PREFIX "%s: option \"%s\" given twice", method, key);
		seen |= OPT_BIT(i);

		r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		if (type != SD_BUS_TYPE_VARIANT || !contents || strcmp(contents, option_table[i].type) != 0) {
			quote_arg(contents ? contents : "?", q, sizeof(q));
			return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_ARGUMENT,
						 ISOLATED_BUS_MSG_PREFIX "%s: option \"%s\" must be of type %s, not %s",
						 method, key, option_table[i].type, q);
		}
		r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
		if (r < 0)
			return r;
		r = read_value(m, (enum option)i, opts, error);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m); /* v */
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m); /* e */
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* ---- Replies ---- */

/* Answer call with the holder's result: its document, or its error. Takes
 * doc and e. Returns 1 (answered) or -errno when the answer cannot be sent. */
static int send_result(sd_bus_message *call, int r, json_object *doc, struct op_error *e)
{
	if (r >= 0 && doc) {
		r = sd_bus_reply_method_return(call, "s", json_object_to_json_string_ext(doc, JSON_FLAGS));
	} else if (r >= 0) {
		r = sd_bus_reply_method_errorf(call, ISOLATED_BUS_ERROR_FAILED,
					       ISOLATED_BUS_MSG_PREFIX "internal error: no report");
	} else {
		const char *name = e->name ? e->name : ISOLATED_BUS_ERROR_FAILED;

		if (e->message)
			r = sd_bus_reply_method_errorf(call, name, "%s", e->message);
		else
			r = sd_bus_reply_method_errorf(call, name, ISOLATED_BUS_MSG_PREFIX "%s", strerror(-r));
	}
	json_object_put(doc);
	op_error_done(e);
	return r < 0 ? r : 1;
}

static void log_caller(int priority, const char *method, uid_t uid, pid_t pid, const char *what)
{
	char fm[64], fu[64], fp[64];
	const char *fields[] = {fm, fu, fp, NULL};

	snprintf(fm, sizeof(fm), "ISOLATED_BUS_METHOD=%s", method);
	snprintf(fu, sizeof(fu), "ISOLATED_CALLER_UID=%u", (unsigned)uid);
	snprintf(fp, sizeof(fp), "ISOLATED_CALLER_PID=%d", (int)pid);
	log_fields(priority, fields, "%s from uid %u pid %d: %s", method, (unsigned)uid, (int)pid, what);
}

/* ---- Limits on callers other than root ---- */

/* CLOCK_MONOTONIC µs, read now (not the loop's time of this iteration:
 * what a call took is measured with it). */
static unsigned long long bus_now(struct bus *b)
{
	struct timespec ts;

	if (b->now)
		return b->now(b->now_userdata);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* "0.6 s", "1 s", "3600 s": rounded up, to a tenth below 10 s. */
static void format_usec(unsigned long long usec, char *buf, size_t size)
{
	unsigned long long tenths = usec / 100000 + (usec % 100000 != 0);

	if (tenths >= 100)
		snprintf(buf, size, "%llu s", usec / 1000000 + (usec % 1000000 != 0));
	else if (tenths % 10)
		snprintf(buf, size, "%llu.%llu s", tenths / 10, tenths % 10);
	else
		snprintf(buf, size, "%llu s", tenths / 10);
}

static void log_suppressed(void *userdata, uid_t uid, unsigned long long n)
{
	struct bus *b = userdata;
	char fu[64], fn[64], window[32];
	const char *fields[] = {fu, fn, NULL};

	snprintf(fu, sizeof(fu), "ISOLATED_CALLER_UID=%u", (unsigned)uid);
	snprintf(fn, sizeof(fn), "ISOLATED_SUPPRESSED=%llu", n);
	format_usec(b->limits_cfg.log_window_usec, window, sizeof(window));
	log_fields(LOG_NOTICE, fields,
		   "%llu more denied calls from uid %u suppressed (the first %u of every %s are logged)", n,
		   (unsigned)uid, b->limits_cfg.log_first, window);
}

/* *s (made at the first call) fires once, delay µs from now on the loop's
 * clock. */
static void timer_in(struct bus *b, sd_event_source **s, unsigned long long delay, sd_event_time_handler_t cb,
		     const char *what)
{
	uint64_t t = 0;
	int r = sd_event_now(b->ev, CLOCK_MONOTONIC, &t);

	t += delay;
	if (r >= 0 && !*s)
		r = sd_event_add_time(b->ev, s, CLOCK_MONOTONIC, t, 1000000, cb, b);
	else if (r >= 0 && (r = sd_event_source_set_time(*s, t)) >= 0)
		r = sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_DEBUG, r, "arming the timer of %s", what);
}

static void flush_soon(struct bus *b, unsigned long long now);

static int on_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct bus *b = userdata;

	(void)s, (void)usec;
	flush_soon(b, bus_now(b));
	return 0;
}

/* Report the refusals left out of windows that ended, and arm the timer
 * for the next window to end. */
static void flush_soon(struct bus *b, unsigned long long now)
{
	unsigned long long next = limits_flush(b->limits, now, log_suppressed, b);

	if (!next) {
		if (b->flush_timer)
			sd_event_source_set_enabled(b->flush_timer, SD_EVENT_OFF);
		return;
	}
	/* next is on the limits' clock, the timer on the loop's. */
	timer_in(b, &b->flush_timer, next - now, on_flush, "the suppressed log lines");
}

/* A refusal, logged as the limits allow: the first few of a uid a window,
 * the rest as one count. */
static void log_refused(struct bus *b, enum method method, uid_t uid, pid_t pid, const char *what)
{
	unsigned long long n = 0, now = bus_now(b);
	bool logged = limits_log(b->limits, uid, now, &n);

	if (n)
		log_suppressed(b, uid, n);
	if (logged)
		log_caller(LOG_NOTICE, method_names[method], uid, pid, what);
	else
		flush_soon(b, now);
}

/* The sender's euid and pid from the bus only. No SD_BUS_CREDS_AUGMENT:
 * with it sd-bus may fill what the bus did not report from /proc/PID,
 * which the caller controls (and a PID may be reused). Without it both
 * values are the bus driver's. */
static void sender_of(sd_bus_message *call, struct sender *ret)
{
	sd_bus_creds *creds = NULL;
	uid_t uid = (uid_t)-1;
	pid_t pid = 0;
	int r;

	r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
	if (r >= 0 && (sd_bus_creds_get_augmented_mask(creds) & (SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID)))
		r = -EPERM;
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &uid);
	if (r >= 0)
		r = sd_bus_creds_get_pid(creds, &pid);
	sd_bus_creds_unref(creds);
	*ret = (struct sender){.uid = r < 0 ? (uid_t)-1 : uid, .pid = r < 0 ? 0 : pid, .r = r};
}

/* Every method starts here: who called, and whether that uid has a call
 * left (root always has). 0: go on; 1: refused, and answered; -errno. */
static int admit(struct bus *b, sd_bus_message *call, enum method method, struct sender *ret)
{
	char retry[32], every[32];
	unsigned long long wait = 0;
	int r;

	sender_of(call, ret);
	ret->start = bus_now(b);
	if (limits_take(b->limits, ret->uid, ret->start, &wait))
		return 0;
	log_refused(b, method, ret->uid, ret->pid, "refused: too many calls (" LIMITS_EXCEEDED ")");
	format_usec(wait, retry, sizeof(retry));
	format_usec(b->limits_cfg.interval_usec, every, sizeof(every));
	r = sd_bus_reply_method_errorf(
	    call, LIMITS_EXCEEDED,
	    "%s: too many calls from uid %u: try again in %s (a uid other than 0 may make %u "
	    "calls at once, then one every %s)",
	    method_names[method], (unsigned)ret->uid, retry, b->limits_cfg.burst, every);
	return r < 0 ? r : 1;
}

/* A call of who that was let in is answered: what it took of the daemon's
 * time beyond one call's worth is charged to its uid. */
static int charged(struct bus *b, const struct sender *who, int r)
{
	unsigned long long now = bus_now(b);

	limits_charge(b->limits, who->uid, now, now - who->start);
	return r;
}

static int deny(struct bus *b, sd_bus_message *call, enum method method, uid_t uid, pid_t pid, const char *why)
{
	char what[600];
	int r;

	snprintf(what, sizeof(what), "denied (%s)", why);
	log_refused(b, method, uid, pid, what);
	r = sd_bus_reply_method_errorf(call, SD_BUS_ERROR_ACCESS_DENIED,
				       "%s needs root or the polkit action " ISOLATED_POLKIT_ACTION " (%s)",
				       method_names[method], why);
	return r < 0 ? r : 1;
}

/* Authorised: do it. */
static int run(struct bus *b, sd_bus_message *call, const struct request *req, uid_t uid, pid_t pid)
{
	struct caller c = {.uid = uid, .pid = pid, .session = NULL};
	struct op_error e = {0};
	json_object *doc = NULL;
	sd_bus_creds *sc = NULL;
	int r;

	/* The login session, for the holder's record of who applied. Read
	 * from /proc/PID (the bus does not report it), so only informative:
	 * nothing is authorised on it. */
	if (sd_bus_creds_new_from_pid(&sc, pid, SD_BUS_CREDS_SESSION) >= 0 &&
	    sd_bus_creds_get_session(sc, &c.session) < 0)
		c.session = NULL;

	switch (req->method) {
	case METHOD_APPLY:
		r = holder_apply(b->holder, req->mode, &req->opts, &c, &doc, &e);
		break;
	case METHOD_REVERT:
		r = holder_revert(b->holder, req->opts.dry_run, req->opts.force, &doc, &e);
		break;
	case METHOD_CONFIRM:
		r = holder_confirm(b->holder, &c, &doc, &e);
		break;
	default:
		r = -EINVAL;
		break;
	}
	r = send_result(call, r, doc, &e);
	sd_bus_creds_unref(sc);
	return r;
}

/* ---- polkit ---- */

static void auth_free(struct auth *a)
{
	if (!a)
		return;
	if (a->prev)
		a->prev->next = a->next;
	else if (a->bus && a->bus->auths == a)
		a->bus->auths = a->next;
	if (a->next)
		a->next->prev = a->prev;
	sd_bus_slot_unref(a->slot);
	sd_bus_message_unref(a->call);
	free(a);
}

static int polkit_done(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct auth *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const char *method = method_names[a->req.method];
	int authorized = 0, challenge = 0, r;
	char why[512];

	(void)ret_error;
	if (e) {
		snprintf(why, sizeof(why), "polkit: %s%s%s", e->name ? e->name : "error", e->message ? ": " : "",
			 e->message ? e->message : "");
		r = deny(a->bus, a->call, a->req.method, a->uid, a->pid, why);
	} else if ((r = sd_bus_message_enter_container(reply, 'r', "bba{ss}")) < 0 ||
		   (r = sd_bus_message_read(reply, "bb", &authorized, &challenge)) < 0) {
		snprintf(why, sizeof(why), "polkit's answer cannot be read: %s", strerror(-r));
		r = deny(a->bus, a->call, a->req.method, a->uid, a->pid, why);
	} else if (!authorized) {
		r = deny(a->bus, a->call, a->req.method, a->uid, a->pid,
			 !challenge ? "polkit: not authorized"
			 : a->interactive
			     ? "polkit: authentication required"
			     : "polkit: authentication required; call again with interactive authorization allowed");
	} else {
		log_caller(LOG_INFO, method, a->uid, a->pid, "authorised by polkit (" ISOLATED_POLKIT_ACTION ")");
		r = run(a->bus, a->call, &a->req, a->uid, a->pid);
	}
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot answer %s", method);
	auth_free(a);
	return 0;
}

/* Ask polkit, answer later. Returns 1 (the call is taken care of: answered
 * now with a refusal, or when polkit answers) or -errno. */
static int polkit_check(struct bus *b, sd_bus_message *call, const struct request *req, uid_t uid, pid_t pid)
{
	sd_bus_message *pk = NULL;
	const char *sender = sd_bus_message_get_sender(call);
	unsigned flags =
	    sd_bus_message_get_allow_interactive_authorization(call) > 0 ? POLKIT_ALLOW_USER_INTERACTION : 0;
	struct auth *a;
	int r;

	if (!sender)
		return deny(b, call, req->method, uid, pid, "the bus did not name the caller");
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct auth){
	    .bus = b, .call = sd_bus_message_ref(call), .req = *req, .uid = uid, .pid = pid, .interactive = flags != 0};

	r = sd_bus_message_new_method_call(b->bus, &pk, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
					   "CheckAuthorization");
	if (r >= 0)
		r = sd_bus_message_append(pk, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
					  ISOLATED_POLKIT_ACTION, 0, flags, "");
	if (r >= 0)
		r = sd_bus_call_async(b->bus, &a->slot, pk, polkit_done, a, 0);
	sd_bus_message_unref(pk);
	if (r < 0) {
		char why[128];

		snprintf(why, sizeof(why), "cannot ask polkit: %s", strerror(-r));
		auth_free(a);
		return deny(b, call, req->method, uid, pid, why);
	}
	a->next = b->auths;
	if (a->next)
		a->next->prev = a;
	b->auths = a;
	return 1;
}

/* Root, or polkit for who (admit() asked the bus). */
static int authorise_and_run(struct bus *b, sd_bus_message *call, const struct request *req, const struct sender *who)
{
	if (who->r < 0) {
		char why[128];

		snprintf(why, sizeof(why), "the bus did not report the caller's credentials: %s", strerror(-who->r));
		return deny(b, call, req->method, who->uid, who->pid, why);
	}
	if (who->uid == 0)
		return run(b, call, req, who->uid, who->pid);
	return polkit_check(b, call, req, who->uid, who->pid);
}

/* ---- Methods ---- */

/* The call's options (a{sv} at its position) into req, then on to its
 * authorisation. */
static int with_options(sd_bus_message *m, struct bus *b, struct request *req, unsigned allowed,
			const struct sender *who, sd_bus_error *error)
{
	struct options o = {0};
	int r = read_options(m, method_names[req->method], allowed, &o, error);

	if (r < 0)
		return r;
	req->opts = o.apply;
	return authorise_and_run(b, m, req, who);
}

static int method_apply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct request req = {.method = METHOD_APPLY};
	struct sender who;
	int r;

	r = admit(userdata, m, req.method, &who);
	if (r != 0)
		return r;
	r = sd_bus_message_read(m, "s", &req.mode);
	if (r < 0)
		return r;
	r = check_mode(req.mode, error);
	if (r < 0)
		return r;
	return with_options(m, userdata, &req, APPLY_OPTIONS, &who, error);
}

static int method_revert(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct request req = {.method = METHOD_REVERT};
	struct sender who;
	int r;

	r = admit(userdata, m, req.method, &who);
	if (r != 0)
		return r;
	return with_options(m, userdata, &req, REVERT_OPTIONS, &who, error);
}

static int method_confirm(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct request req = {.method = METHOD_CONFIRM};
	struct sender who;
	int r;

	(void)error;
	r = admit(userdata, m, req.method, &who);
	if (r != 0)
		return r;
	return authorise_and_run(userdata, m, &req, &who);
}

static int method_plan(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct bus *b = userdata;
	struct options o = {0};
	struct op_error e = {0};
	json_object *doc = NULL;
	struct sender who;
	const char *mode;
	int r;

	r = admit(b, m, METHOD_PLAN, &who);
	if (r != 0)
		return r;
	r = sd_bus_message_read(m, "s", &mode);
	if (r < 0)
		return r;
	r = check_mode(mode, error);
	if (r < 0)
		return r;
	r = read_options(m, "Plan", PLAN_OPTIONS, &o, error);
	if (r < 0)
		return r;
	r = holder_plan(b->holder, mode, o.apply.scope, &doc, &e);
	return charged(b, &who, send_result(m, r, doc, &e));
}

/* ---- Status ---- */

/* The holder's summary, from memory: what anyone may ask for any time. */
static int reply_summary(struct bus *b, sd_bus_message *call)
{
	json_object *doc = holder_summary(b->holder);
	int r;

	if (!doc)
		r = sd_bus_reply_method_errorf(call, ISOLATED_BUS_ERROR_FAILED,
					       ISOLATED_BUS_MSG_PREFIX "out of memory");
	else
		r = sd_bus_reply_method_return(call, "s", json_object_to_json_string_ext(doc, JSON_FLAGS));
	return r < 0 ? r : 1;
}

static void shared_drop(struct bus *b)
{
	free(b->shared);
	b->shared = NULL;
	/* megabytes on a big host: give them back */
	malloc_trim(0);
}

/* The shared document is dropped once it is too old to be served. */
static int on_shared_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct bus *b = userdata;
	unsigned long long age = bus_now(b) - b->shared_at;

	(void)s, (void)usec;
	if (!b->shared || age >= STATUS_SHARED_USEC) {
		shared_drop(b);
		return 0;
	}
	timer_in(b, &b->shared_timer, STATUS_SHARED_USEC - age, on_shared_timer, "the shared status");
	return 0;
}

static void shared_keep(struct bus *b, char *text, unsigned long long gen, unsigned long long now)
{
	free(b->shared);
	b->shared = text;
	b->shared_gen = gen;
	b->shared_at = now;
	timer_in(b, &b->shared_timer, STATUS_SHARED_USEC, on_shared_timer, "the shared status");
}

/* The whole Status document: read now for root; for the others one read
 * serves all of them while it is fresh (STATUS_SHARED_USEC) and the
 * holder's generation is the same. */
static int reply_details(struct bus *b, sd_bus_message *call, uid_t uid)
{
	unsigned long long now, gen = holder_generation(b->holder);
	struct op_error e = {0};
	json_object *doc = NULL;
	char *text;
	int r;

	if (uid == 0) {
		r = holder_status(b->holder, &doc, &e);
		return send_result(call, r, doc, &e);
	}
	now = bus_now(b);
	if (!b->shared || b->shared_gen != gen || now < b->shared_at || now - b->shared_at >= STATUS_SHARED_USEC) {
		r = holder_status(b->holder, &doc, &e);
		if (r < 0 || !doc)
			return send_result(call, r, doc, &e);
		text = strdup(json_object_to_json_string_ext(doc, JSON_FLAGS));
		json_object_put(doc);
		if (!text)
			return send_result(call, -ENOMEM, NULL, &(struct op_error){0});
		shared_keep(b, text, gen, now);
	}
	r = sd_bus_reply_method_return(call, "s", b->shared);
	return r < 0 ? r : 1;
}

/* Status(): root gets the whole document, as isoctl --direct builds it;
 * anyone else the summary (StatusEx asks for the rest). */
static int method_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct bus *b = userdata;
	struct sender who;
	int r;

	(void)error;
	r = admit(b, m, METHOD_STATUS, &who);
	if (r != 0)
		return r;
	if (who.uid == 0)
		return reply_details(b, m, 0);
	return charged(b, &who, reply_summary(b, m));
}

static int method_status_ex(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct bus *b = userdata;
	struct options o = {0};
	struct sender who;
	int r;

	r = admit(b, m, METHOD_STATUS_EX, &who);
	if (r != 0)
		return r;
	r = read_options(m, "StatusEx", STATUS_EX_OPTIONS, &o, error);
	if (r < 0)
		return r;
	return charged(b, &who, o.details ? reply_details(b, m, who.uid) : reply_summary(b, m));
}

/* A method without arguments whose reply is one holder document. */
static int reply_document(sd_bus_message *m, struct bus *b, enum method method,
			  int (*get)(struct holder *, json_object **, struct op_error *))
{
	struct op_error e = {0};
	json_object *doc = NULL;
	struct sender who;
	int r;

	r = admit(b, m, method, &who);
	if (r != 0)
		return r;
	r = get(b->holder, &doc, &e);
	return charged(b, &who, send_result(m, r, doc, &e));
}

static int method_verify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)error;
	return reply_document(m, userdata, METHOD_VERIFY, holder_verify);
}

static int method_list_modes(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)error;
	return reply_document(m, userdata, METHOD_LIST_MODES, holder_list_modes);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct bus *b = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	return sd_bus_message_append(reply, "s",
				     strcmp(property, "Mode") == 0 ? holder_mode(b->holder) : holder_state(b->holder));
}

/* Every method is SD_BUS_VTABLE_UNPRIVILEGED: sd-bus's own check (the
 * caller's CAP_SYS_ADMIN, read from /proc) would refuse everyone but root;
 * we authorise ourselves, per method. */
static const sd_bus_vtable bus_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Mode", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD_WITH_ARGS("Apply", SD_BUS_ARGS("s", mode, "a{sv}", options), SD_BUS_RESULT("s", report), method_apply,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Revert", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("s", report), method_revert,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Confirm", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", report), method_confirm,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Plan", SD_BUS_ARGS("s", mode, "a{sv}", options), SD_BUS_RESULT("s", report), method_plan,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Status", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", report), method_status,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", report), method_verify,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ListModes", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", report), method_list_modes,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("StatusEx", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("s", report), method_status_ex,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_ARGS("ModeChanged", SD_BUS_ARGS("s", mode, "s", previous), 0),
    SD_BUS_SIGNAL_WITH_ARGS("DriftFound", SD_BUS_ARGS("s", report), 0),
    SD_BUS_SIGNAL_WITH_ARGS("PartitionChanged", SD_BUS_ARGS("s", cgroup, "s", state), 0),
    SD_BUS_VTABLE_END,
};

/* ---- Events from the holder ---- */

/* Remember now in *cached; true when it differs from what was there. */
static bool update_cached(char **cached, const char *now)
{
	if (*cached && now && strcmp(*cached, now) == 0)
		return false;
	free(*cached);
	*cached = now ? strdup(now) : NULL; /* NULL on ENOMEM: differs next time */
	return true;
}

static void publish_properties(struct bus *b)
{
	char *names[3];
	size_t n = 0;
	int r;

	if (update_cached(&b->mode, holder_mode(b->holder)))
		names[n++] = (char *)"Mode";
	if (update_cached(&b->state, holder_state(b->holder)))
		names[n++] = (char *)"State";
	names[n] = NULL;
	if (n == 0)
		return;
	r = sd_bus_emit_properties_changed_strv(b->bus, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, names);
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot send PropertiesChanged");
}

static void on_mode_changed(void *userdata, const char *mode, const char *previous)
{
	struct bus *b = userdata;
	int r;

	r = sd_bus_emit_signal(b->bus, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, "ModeChanged", "ss", mode,
			       previous ? previous : "vanilla");
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot send ModeChanged");
	publish_properties(b);
}

static void on_drift(void *userdata, json_object *report)
{
	struct bus *b = userdata;
	int r;

	r = sd_bus_emit_signal(b->bus, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, "DriftFound", "s",
			       report ? json_object_to_json_string_ext(report, JSON_FLAGS) : "{}");
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot send DriftFound");
	publish_properties(b);
}

static void on_partition_changed(void *userdata, const char *cgroup, const char *state)
{
	struct bus *b = userdata;
	char *c = util_escape(cgroup, false), *st = util_escape(state, false);
	int r;

	/* cgroup names are bytes; the bus carries only UTF-8 (escaped as the log
	 * and the documents escape them) */
	r = c && st
		? sd_bus_emit_signal(b->bus, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, "PartitionChanged", "ss", c, st)
		: -ENOMEM;
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot send PartitionChanged");
	free(c);
	free(st);
}

static void on_state_changed(void *userdata)
{
	publish_properties(userdata);
}

/* ---- Start and stop ---- */

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct bus *b = userdata;

	(void)m;
	(void)error;
	log_error("lost the system bus: exiting to be restarted; %s stays in force meanwhile "
		  "(revert-on-stop applies to SIGTERM, not to this)",
		  holder_mode(b->holder));
	return sd_event_exit(b->ev, EXIT_FAILURE);
}

int bus_start(sd_event *ev, struct holder *h, const struct bus_config *cfg, struct bus **ret)
{
	static const struct bus_config defaults = {.limits = {.burst = LIMITS_BURST,
							      .interval_usec = LIMITS_INTERVAL_USEC,
							      .call_usec = LIMITS_CALL_USEC,
							      .log_first = LIMITS_LOG_FIRST,
							      .log_window_usec = LIMITS_LOG_WINDOW_USEC}};
	struct bus *b;
	int r;

	if (!cfg)
		cfg = &defaults;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->holder = h;
	b->ev = sd_event_ref(ev);
	b->limits_cfg = cfg->limits;
	b->now = cfg->now;
	b->now_userdata = cfg->now_userdata;
	r = limits_new(&cfg->limits, &b->limits);
	if (r < 0) {
		bus_free(b);
		return r;
	}

	r = sd_bus_open_system(&b->bus);
	/* Losing the bus ends the loop (with EXIT_FAILURE): systemd restarts
	 * the daemon, which takes its name again and re-applies the mode. Not
	 * a stop: the mode stays in force meanwhile (revert-on-stop is for
	 * SIGTERM), and the log says so. */
	if (r >= 0)
		r = sd_bus_match_signal(b->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
					"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, b);
	if (r >= 0)
		r = sd_bus_attach_event(b->bus, ev, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_add_object_vtable(b->bus, &b->vtable_slot, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE,
					     bus_vtable, b);
	if (r >= 0)
		r = sd_bus_request_name(b->bus, ISOLATED_BUS_NAME, 0);
	if (r < 0) {
		bus_free(b);
		return r;
	}
	update_cached(&b->mode, holder_mode(h));
	update_cached(&b->state, holder_state(h));
	/* Last, so a failed start leaves the holder's sink as it was. */
	holder_set_events(h, &(struct holder_events){
				 .mode_changed = on_mode_changed,
				 .drift = on_drift,
				 .state_changed = on_state_changed,
				 .partition_changed = on_partition_changed,
				 .userdata = b,
			     });
	b->started = true;
	*ret = b;
	return 0;
}

void bus_free(struct bus *b)
{
	if (!b)
		return;
	/* Polkit checks in flight: their callers get no answer but the
	 * disconnection (we are going away). */
	while (b->auths)
		auth_free(b->auths);
	if (b->started)
		holder_set_events(b->holder, &(struct holder_events){0});
	/* What the log left out, said before we go. */
	if (b->limits)
		limits_flush(b->limits, ULLONG_MAX, log_suppressed, b);
	limits_free(b->limits);
	sd_event_source_disable_unref(b->flush_timer);
	sd_event_source_disable_unref(b->shared_timer);
	free(b->shared);
	sd_event_unref(b->ev);
	sd_bus_slot_unref(b->vtable_slot);
	sd_bus_flush_close_unref(b->bus);
	free(b->mode);
	free(b->state);
	free(b);
}
