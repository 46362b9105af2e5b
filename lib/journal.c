/* The journal: what isolated changed on a host and the values to restore,
 * serialised as JSON with a length+CRC trailer, saved durably, and the lock
 * that serialises every invocation that changes a host. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "isolated/journal.h"
#include "isolated/util.h"

#define JOURNAL_FORMAT "isolated-journal"
#define JOURNAL_FILE "journal" /* JOURNAL_PATH within JOURNAL_DIR */
#define JOURNAL_TMP "journal.tmp"
#define JOURNAL_LOCK_FILE "lock" /* JOURNAL_LOCK_PATH within JOURNAL_DIR */
/* Far above any real host (a few hundred bytes a target): a bigger file is
 * not ours, and reading it whole would only waste memory. */
#define JOURNAL_MAX (64u << 20)
#define JOURNAL_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* plan_action_kind_name() in reverse, for reading entries back. */
static const struct {
	const char *name;
	enum action_kind kind;
} kinds[] = {
    {"sysctl", ACTION_SYSCTL},
    {"irq-affinity", ACTION_IRQ_AFFINITY},
    {"thread-affinity", ACTION_THREAD_AFFINITY},
    {"thread-sched", ACTION_THREAD_SCHED},
    {"cpumask", ACTION_CPUMASK},
};

static bool kind_is_thread(enum action_kind k)
{
	return k == ACTION_THREAD_AFFINITY || k == ACTION_THREAD_SCHED;
}

/* A parse error: "WHERE: message", or "message" at the top level. */
static int bad(char *err, size_t errlen, const char *where, const char *fmt, ...) ISO_PRINTF(4, 5);
static int bad(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where)
		util_set_err(err, errlen, "%s: %s", where, msg);
	else
		util_set_err(err, errlen, "%s", msg);
	return -EBADMSG;
}

/* Bytes from a damaged file, made fit for a one-line message. */
static const char *printable(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t n = 0, i;

	for (i = 0; i < len && n + 4 < buflen; i++)
		buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* ---- in memory ---- */

void journal_entry_done(struct journal_entry *e)
{
	if (!e)
		return;
	free(e->target);
	free(e->label);
	free(e->rule);
	free(e->pristine);
	free(e->wanted);
	free(e->before);
	memset(e, 0, sizeof(*e));
}

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int journal_entry_copy(struct journal_entry *dst, const struct journal_entry *src)
{
	struct journal_entry e = *src;

	e.target = e.label = e.rule = e.pristine = e.wanted = e.before = NULL;
	if (dup_opt(src->target, &e.target) < 0 || dup_opt(src->label, &e.label) < 0 ||
	    dup_opt(src->rule, &e.rule) < 0 || dup_opt(src->pristine, &e.pristine) < 0 ||
	    dup_opt(src->wanted, &e.wanted) < 0 || dup_opt(src->before, &e.before) < 0) {
		journal_entry_done(&e);
		return -ENOMEM;
	}
	*dst = e;
	return 0;
}

static void entries_free(struct journal_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		journal_entry_done(&v[i]);
	free(v);
}

struct journal *journal_new(const char *boot_id)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->version = JOURNAL_VERSION;
	j->boot_id = strdup(boot_id ? boot_id : "");
	j->mode = strdup("vanilla");
	j->scope = strdup("host");
	if (!j->boot_id || !j->mode || !j->scope) {
		journal_free(j);
		return NULL;
	}
	return j;
}

void journal_clear_txn(struct journal *j)
{
	entries_free(j->steps, j->n_steps);
	free(j->txn_mode);
	j->steps = NULL;
	j->n_steps = 0;
	j->txn_mode = NULL;
	j->txn_started = 0;
	j->txn_pid = 0;
	j->has_txn = false;
}

void journal_clear_confirm(struct journal *j)
{
	free(j->confirm_previous_mode);
	free(j->confirm_previous_scope);
	free(j->confirm_session);
	j->confirm_previous_mode = j->confirm_previous_scope = j->confirm_session = NULL;
	j->confirm_deadline = 0;
	j->confirm_uid = 0;
	j->has_confirm = false;
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	free(j->boot_id);
	free(j->mode);
	free(j->scope);
	entries_free(j->targets, j->n_targets);
	journal_clear_txn(j);
	journal_clear_confirm(j);
	free(j);
}

static int entries_copy(const struct journal_entry *src, size_t n, struct journal_entry **ret)
{
	struct journal_entry *v;

	*ret = NULL;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (journal_entry_copy(&v[i], &src[i]) < 0) {
			entries_free(v, i);
			return -ENOMEM;
		}
	*ret = v;
	return 0;
}

int journal_copy(const struct journal *j, struct journal **ret)
{
	struct journal *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*c = *j;
	c->boot_id = c->mode = c->scope = c->txn_mode = NULL;
	c->confirm_previous_mode = c->confirm_previous_scope = c->confirm_session = NULL;
	c->targets = c->steps = NULL;
	c->n_targets = c->n_steps = 0;
	if (dup_opt(j->boot_id, &c->boot_id) < 0 || dup_opt(j->mode, &c->mode) < 0 ||
	    dup_opt(j->scope, &c->scope) < 0 || dup_opt(j->txn_mode, &c->txn_mode) < 0 ||
	    dup_opt(j->confirm_previous_mode, &c->confirm_previous_mode) < 0 ||
	    dup_opt(j->confirm_previous_scope, &c->confirm_previous_scope) < 0 ||
	    dup_opt(j->confirm_session, &c->confirm_session) < 0 ||
	    entries_copy(j->targets, j->n_targets, &c->targets) < 0)
		goto fail;
	c->n_targets = j->n_targets;
	if (entries_copy(j->steps, j->n_steps, &c->steps) < 0)
		goto fail;
	c->n_steps = j->n_steps;
	*ret = c;
	return 0;
fail:
	journal_free(c);
	return -ENOMEM;
}

struct journal_entry *journal_find(const struct journal *j, enum action_kind kind, const char *target)
{
	for (size_t i = 0; i < j->n_targets; i++)
		if (j->targets[i].kind == kind && strcmp(j->targets[i].target, target) == 0)
			return &j->targets[i];
	return NULL;
}

static int entries_add(struct journal_entry **v, size_t *n, const struct journal_entry *e)
{
	struct journal_entry c, *nv;

	if (journal_entry_copy(&c, e) < 0)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		journal_entry_done(&c);
		return -ENOMEM;
	}
	nv[(*n)++] = c;
	*v = nv;
	return 0;
}

int journal_add_target(struct journal *j, const struct journal_entry *e)
{
	return entries_add(&j->targets, &j->n_targets, e);
}

int journal_add_step(struct journal *j, const struct journal_entry *e)
{
	return entries_add(&j->steps, &j->n_steps, e);
}

void journal_remove_target(struct journal *j, size_t i)
{
	if (i >= j->n_targets)
		return;
	journal_entry_done(&j->targets[i]);
	memmove(&j->targets[i], &j->targets[i + 1], (j->n_targets - i - 1) * sizeof(*j->targets));
	j->n_targets--;
}

/* ---- what a journal must satisfy, written or read ---- */

/* The rules both journal_format and journal_parse enforce, so that whatever
 * is written reads back. */
static int check_entry(const struct journal_entry *e, const char *where, bool step, char *err, size_t errlen)
{
	if ((unsigned)e->kind >= _ACTION_KIND_MAX)
		return bad(err, errlen, where, "unknown kind %d", (int)e->kind);
	if (!e->target || !*e->target)
		return bad(err, errlen, where, "empty \"target\"");
	if (!e->label)
		return bad(err, errlen, where, "missing \"label\"");
	if (!e->pristine)
		return bad(err, errlen, where, "missing \"pristine\"");
	if (!e->wanted)
		return bad(err, errlen, where, "missing \"wanted\"");
	if (step && !e->before)
		return bad(err, errlen, where, "missing \"before\"");
	if (!step && e->before)
		return bad(err, errlen, where, "\"before\" in a target (only transaction steps have one)");
	if (kind_is_thread(e->kind) && (e->tid <= 0 || e->tgid <= 0))
		return bad(err, errlen, where, "a thread entry needs a positive \"tid\" and \"tgid\"");
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct journal_entry *x = *(const struct journal_entry *const *)a;
	const struct journal_entry *y = *(const struct journal_entry *const *)b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->target, y->target);
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* The engine looks targets up by (kind, target): two entries for one target
 * would leave one of the pristine values unrestored. Sorted, not pairwise:
 * a host has thousands of threads. */
static int check_unique(const struct journal_entry *v, size_t n, char *err, size_t errlen)
{
	const struct journal_entry **s;
	int r = 0;

	if (n < 2)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), cmp_entry);
	for (size_t i = 1; i < n; i++)
		if (s[i]->kind == s[i - 1]->kind && strcmp(s[i]->target, s[i - 1]->target) == 0) {
			char where[48];

			snprintf(where, sizeof(where), "targets[%zu]", (size_t)(s[i] - v));
			r = bad(err, errlen, where, "duplicate of targets[%zu] (%s %s)", (size_t)(s[i - 1] - v),
				plan_action_kind_name(s[i]->kind), s[i]->target);
			break;
		}
	free(s);
	return r;
}

static int check_journal(const struct journal *j, char *err, size_t errlen)
{
	char where[48];
	int r;

	if (!j->boot_id)
		return bad(err, errlen, NULL, "missing \"boot_id\"");
	if (!j->mode || !*j->mode)
		return bad(err, errlen, NULL, "empty \"mode\"");
	if (!j->scope || !*j->scope)
		return bad(err, errlen, NULL, "empty \"scope\"");
	for (size_t i = 0; i < j->n_targets; i++) {
		snprintf(where, sizeof(where), "targets[%zu]", i);
		r = check_entry(&j->targets[i], where, false, err, errlen);
		if (r < 0)
			return r;
	}
	r = check_unique(j->targets, j->n_targets, err, errlen);
	if (r < 0)
		return r;
	if (j->has_confirm) {
		if (!j->confirm_previous_mode || !*j->confirm_previous_mode)
			return bad(err, errlen, "confirm", "empty \"previous_mode\"");
		if (!j->confirm_previous_scope || !*j->confirm_previous_scope)
			return bad(err, errlen, "confirm", "empty \"previous_scope\"");
		if (j->confirm_session && !*j->confirm_session)
			return bad(err, errlen, "confirm", "empty \"session\" (leave it out when there is none)");
		if (j->confirm_uid == (uid_t)-1)
			return bad(err, errlen, "confirm", "\"uid\" out of range");
	}
	if (!j->has_txn)
		return 0;
	if (!j->txn_mode || !*j->txn_mode)
		return bad(err, errlen, "transaction", "empty \"mode\"");
	if (j->txn_pid <= 0)
		return bad(err, errlen, "transaction", "\"pid\" must be positive");
	for (size_t i = 0; i < j->n_steps; i++) {
		snprintf(where, sizeof(where), "transaction.steps[%zu]", i);
		r = check_entry(&j->steps[i], where, true, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- writing ---- */

/* zlib's crc32 of the bytes before the trailer; it takes a uInt length. */
static uint32_t checksum(const char *buf, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	for (size_t off = 0; off < len;) {
		uInt chunk = len - off > (1u << 30) ? (1u << 30) : (uInt)(len - off);

		crc = crc32(crc, (const Bytef *)buf + off, chunk);
		off += chunk;
	}
	return (uint32_t)crc;
}

/* Add v under key; takes v, also on failure (NULL v is a failed allocation). */
static int put(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *entry_to_json(const struct journal_entry *e)
{
	struct json_object *o = json_object_new_object();
	int r;

	if (!o)
		return NULL;
	r = put(o, "kind", json_object_new_string(plan_action_kind_name(e->kind)));
	if (r >= 0)
		r = put(o, "target", json_object_new_string(e->target));
	if (r >= 0)
		r = put(o, "label", json_object_new_string(e->label));
	if (r >= 0 && e->rule)
		r = put(o, "rule", json_object_new_string(e->rule));
	/* Not only irq-affinity: the thread-sched entry of an IRQ thread keeps
	 * its IRQ too (see journal.h). */
	if (r >= 0 && e->irq)
		r = put(o, "irq", json_object_new_int64(e->irq));
	if (r >= 0 && kind_is_thread(e->kind)) {
		r = put(o, "tid", json_object_new_int64(e->tid));
		if (r >= 0)
			r = put(o, "tgid", json_object_new_int64(e->tgid));
		if (r >= 0)
			r = put(o, "starttime", json_object_new_uint64(e->starttime));
	}
	if (r >= 0)
		r = put(o, "pristine", json_object_new_string(e->pristine));
	if (r >= 0)
		r = put(o, "wanted", json_object_new_string(e->wanted));
	if (r >= 0 && e->before)
		r = put(o, "before", json_object_new_string(e->before));
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *entries_to_json(const struct journal_entry *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = entry_to_json(&v[i]);

		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *journal_to_json(const struct journal *j)
{
	struct json_object *o = json_object_new_object(), *t;
	int r;

	if (!o)
		return NULL;
	r = put(o, "format", json_object_new_string(JOURNAL_FORMAT));
	if (r >= 0)
		r = put(o, "version", json_object_new_int(JOURNAL_VERSION));
	if (r >= 0)
		r = put(o, "boot_id", json_object_new_string(j->boot_id));
	if (r >= 0)
		r = put(o, "mode", json_object_new_string(j->mode));
	if (r >= 0)
		r = put(o, "scope", json_object_new_string(j->scope));
	if (r >= 0)
		r = put(o, "applied_at", json_object_new_int64(j->applied_at));
	if (r >= 0)
		r = put(o, "targets", entries_to_json(j->targets, j->n_targets));
	if (r >= 0 && j->has_confirm) {
		t = json_object_new_object();
		r = put(o, "confirm", t);
		if (r >= 0)
			r = put(t, "deadline", json_object_new_int64(j->confirm_deadline));
		if (r >= 0)
			r = put(t, "previous_mode", json_object_new_string(j->confirm_previous_mode));
		if (r >= 0)
			r = put(t, "previous_scope", json_object_new_string(j->confirm_previous_scope));
		if (r >= 0)
			r = put(t, "uid", json_object_new_int64((int64_t)j->confirm_uid));
		if (r >= 0 && j->confirm_session)
			r = put(t, "session", json_object_new_string(j->confirm_session));
	}
	if (r >= 0 && j->has_txn) {
		t = json_object_new_object();
		r = put(o, "transaction", t);
		if (r >= 0)
			r = put(t, "mode", json_object_new_string(j->txn_mode));
		if (r >= 0)
			r = put(t, "started_at", json_object_new_int64(j->txn_started));
		if (r >= 0)
			r = put(t, "pid", json_object_new_int(j->txn_pid));
		if (r >= 0)
			r = put(t, "steps", entries_to_json(j->steps, j->n_steps));
	}
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int format_journal(const struct journal *j, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	struct json_object *o;
	const char *s;
	size_t n, len;
	char *buf;
	int r;

	r = check_journal(j, err, errlen);
	if (r == -EBADMSG)
		return -EINVAL; /* not a defect of a file: the caller built it */
	if (r < 0)
		return r;
	o = journal_to_json(j);
	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JOURNAL_FLAGS);
	if (!s) {
		json_object_put(o);
		return -ENOMEM;
	}
	n = strlen(s);
	/* "end " + 20 digits + " " + 8 hex + "\n" + NUL */
	buf = malloc(n + 1 + 40);
	if (!buf) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(buf, s, n);
	buf[n++] = '\n';
	json_object_put(o);
	len = n + (size_t)snprintf(buf + n, 40, "end %zu %08" PRIx32 "\n", n, checksum(buf, n));
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int journal_format(const struct journal *j, char **ret, size_t *ret_len)
{
	return format_journal(j, ret, ret_len, NULL, 0);
}

/* ---- reading ---- */

static const char *const top_keys[] = {"format",     "version", "boot_id",     "mode",	  "scope",
				       "applied_at", "targets", "transaction", "confirm", NULL};
static const char *const confirm_keys[] = {"deadline", "previous_mode", "previous_scope", "uid", "session", NULL};
static const char *const txn_keys[] = {"mode", "started_at", "pid", "steps", NULL};
static const char *const entry_keys[] = {"kind", "target",    "label",	  "rule",   "irq",    "tid",
					 "tgid", "starttime", "pristine", "wanted", "before", NULL};

/* A journal is ours: a key we do not know means a file we do not understand. */
static int check_keys(struct json_object *o, const char *const *known, const char *where, char *err, size_t errlen)
{
	json_object_object_foreach(o, key, val)
	{
		size_t i;

		(void)val;
		for (i = 0; known[i]; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (!known[i]) {
			char p[64];

			return bad(err, errlen, where, "unknown key \"%s\"", printable(key, strlen(key), p, sizeof(p)));
		}
	}
	return 0;
}

static const char *type_name(enum json_type t)
{
	switch (t) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fraction";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "?";
}

/* The value under key, checked for type: 1 if there, 0 if absent and not
 * required, -EBADMSG otherwise. */
static int get(struct json_object *o, const char *key, enum json_type type, bool required, const char *where,
	       struct json_object **ret, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return bad(err, errlen, where, "missing \"%s\"", key);
		return 0;
	}
	if (!json_object_is_type(v, type)) {
		return bad(err, errlen, where, "\"%s\" is %s, expected %s", key, type_name(json_object_get_type(v)),
			   type_name(type));
	}
	*ret = v;
	return 1;
}

/* A string without NUL bytes (which "\u0000" would smuggle in), borrowed. */
static int get_str(struct json_object *o, const char *key, bool required, bool nonempty, const char *where,
		   const char **ret, char *err, size_t errlen)
{
	struct json_object *v;
	const char *s;
	size_t len;
	int r;

	*ret = NULL;
	r = get(o, key, json_type_string, required, where, &v, err, errlen);
	if (r <= 0)
		return r;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len))
		return bad(err, errlen, where, "\"%s\" contains a NUL byte", key);
	if (nonempty && len == 0)
		return bad(err, errlen, where, "empty \"%s\"", key);
	*ret = s;
	return 1;
}

static int get_int(struct json_object *o, const char *key, bool required, int64_t min, int64_t max, const char *where,
		   int64_t *ret, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t x;
	int r;

	r = get(o, key, json_type_int, required, where, &v, err, errlen);
	if (r <= 0)
		return r;
	x = json_object_get_int64(v);
	/* json-c keeps integers above INT64_MAX as unsigned: get_int64 clamps them */
	if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return bad(err, errlen, where, "\"%s\" out of range: %s", key, json_object_get_string(v));
	*ret = x;
	return 1;
}

static int get_uint64(struct json_object *o, const char *key, bool required, const char *where, uint64_t *ret,
		      char *err, size_t errlen)
{
	struct json_object *v;
	int r;

	r = get(o, key, json_type_int, required, where, &v, err, errlen);
	if (r <= 0)
		return r;
	if (json_object_get_int64(v) < 0)
		return bad(err, errlen, where, "\"%s\" out of range: %s", key, json_object_get_string(v));
	*ret = json_object_get_uint64(v);
	return 1;
}

static int parse_entry(struct json_object *o, const char *where, bool step, struct journal_entry *ret, char *err,
		       size_t errlen)
{
	const char *kind, *target, *label, *rule, *pristine, *wanted, *before;
	struct journal_entry e = {0};
	int64_t irq = 0, tid = 0, tgid = 0;
	uint64_t starttime = 0;
	bool thread;
	size_t k;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, where, "is %s, expected an object", type_name(json_object_get_type(o)));
	r = check_keys(o, entry_keys, where, err, errlen);
	if (r < 0)
		return r;
	r = get_str(o, "kind", true, true, where, &kind, err, errlen);
	if (r < 0)
		return r;
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(kind, kinds[k].name) == 0)
			break;
	if (k == ARRAY_SIZE(kinds)) {
		char p[64];

		return bad(err, errlen, where, "unknown kind \"%s\"", printable(kind, strlen(kind), p, sizeof(p)));
	}
	e.kind = kinds[k].kind;
	thread = kind_is_thread(e.kind);

	if ((r = get_str(o, "target", true, true, where, &target, err, errlen)) < 0 ||
	    (r = get_str(o, "label", true, false, where, &label, err, errlen)) < 0 ||
	    (r = get_str(o, "rule", false, false, where, &rule, err, errlen)) < 0 ||
	    (r = get_int(o, "irq", false, 0, UINT_MAX, where, &irq, err, errlen)) < 0 ||
	    (r = get_int(o, "tid", thread, 1, INT_MAX, where, &tid, err, errlen)) < 0 ||
	    (r = get_int(o, "tgid", thread, 1, INT_MAX, where, &tgid, err, errlen)) < 0 ||
	    (r = get_uint64(o, "starttime", thread, where, &starttime, err, errlen)) < 0 ||
	    (r = get_str(o, "pristine", true, false, where, &pristine, err, errlen)) < 0 ||
	    (r = get_str(o, "wanted", true, false, where, &wanted, err, errlen)) < 0 ||
	    (r = get_str(o, "before", step, false, where, &before, err, errlen)) < 0)
		return r;
	if (!thread && (tid || tgid || starttime))
		return bad(err, errlen, where, "\"tid\", \"tgid\" and \"starttime\" are only for threads");
	if (!step && before)
		return bad(err, errlen, where, "\"before\" in a target (only transaction steps have one)");

	e.irq = (unsigned)irq;
	e.tid = (pid_t)tid;
	e.tgid = (pid_t)tgid;
	e.starttime = starttime;
	if (dup_opt(target, &e.target) < 0 || dup_opt(label, &e.label) < 0 || dup_opt(rule, &e.rule) < 0 ||
	    dup_opt(pristine, &e.pristine) < 0 || dup_opt(wanted, &e.wanted) < 0 || dup_opt(before, &e.before) < 0) {
		journal_entry_done(&e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

static int parse_entries(struct json_object *a, const char *name, bool step, struct journal_entry **ret, size_t *ret_n,
			 char *err, size_t errlen)
{
	size_t n = json_object_array_length(a);
	struct journal_entry *v;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char where[48];
		int r;

		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		r = parse_entry(json_object_array_get_idx(a, i), where, step, &v[i], err, errlen);
		if (r < 0) {
			entries_free(v, i);
			return r;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The JSON object into a journal. j is freed by the caller, whatever happens. */
static int parse_object(struct json_object *o, struct journal *j, char *err, size_t errlen)
{
	struct json_object *v, *t;
	const char *s;
	int64_t x;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, NULL, "not an isolated journal (the JSON is %s, not an object)",
			   type_name(json_object_get_type(o)));
	/* format and version first: a newer journal may well have keys we do
	 * not know, and its version is the message that helps */
	if (!json_object_object_get_ex(o, "format", &v))
		return bad(err, errlen, NULL, "not an isolated journal (no \"format\")");
	r = get_str(o, "format", true, false, NULL, &s, err, errlen);
	if (r < 0)
		return r;
	if (strcmp(s, JOURNAL_FORMAT) != 0) {
		char p[64];

		return bad(err, errlen, NULL, "not an isolated journal (format \"%s\")",
			   printable(s, strlen(s), p, sizeof(p)));
	}
	r = get_int(o, "version", true, INT64_MIN, INT64_MAX, NULL, &x, err, errlen);
	if (r < 0)
		return r;
	if (x > JOURNAL_VERSION)
		return bad(err, errlen, NULL, "written by a newer isolated (version %" PRId64 ")", x);
	if (x < 1)
		return bad(err, errlen, NULL, "bad version %" PRId64, x);
	j->version = (unsigned)x;
	r = check_keys(o, top_keys, NULL, err, errlen);
	if (r < 0)
		return r;

	if ((r = get_str(o, "boot_id", true, false, NULL, &s, err, errlen)) < 0 || dup_opt(s, &j->boot_id) < 0 ||
	    (r = get_str(o, "mode", true, true, NULL, &s, err, errlen)) < 0 || dup_opt(s, &j->mode) < 0 ||
	    (r = get_str(o, "scope", true, true, NULL, &s, err, errlen)) < 0 || dup_opt(s, &j->scope) < 0)
		return r < 0 ? r : -ENOMEM;
	r = get_int(o, "applied_at", true, INT64_MIN, INT64_MAX, NULL, &x, err, errlen);
	if (r < 0)
		return r;
	j->applied_at = x;
	r = get(o, "targets", json_type_array, true, NULL, &v, err, errlen);
	if (r < 0)
		return r;
	r = parse_entries(v, "targets", false, &j->targets, &j->n_targets, err, errlen);
	if (r < 0)
		return r;

	r = get(o, "transaction", json_type_object, false, NULL, &t, err, errlen);
	if (r < 0)
		return r;
	if (r > 0) {
		j->has_txn = true;
		r = check_keys(t, txn_keys, "transaction", err, errlen);
		if (r < 0)
			return r;
		if ((r = get_str(t, "mode", true, true, "transaction", &s, err, errlen)) < 0 ||
		    dup_opt(s, &j->txn_mode) < 0)
			return r < 0 ? r : -ENOMEM;
		r = get_int(t, "started_at", true, INT64_MIN, INT64_MAX, "transaction", &x, err, errlen);
		if (r < 0)
			return r;
		j->txn_started = x;
		r = get_int(t, "pid", true, 1, INT_MAX, "transaction", &x, err, errlen);
		if (r < 0)
			return r;
		j->txn_pid = (int)x;
		r = get(t, "steps", json_type_array, true, "transaction", &v, err, errlen);
		if (r < 0)
			return r;
		r = parse_entries(v, "transaction.steps", true, &j->steps, &j->n_steps, err, errlen);
		if (r < 0)
			return r;
	}

	r = get(o, "confirm", json_type_object, false, NULL, &t, err, errlen);
	if (r < 0)
		return r;
	if (r > 0) {
		j->has_confirm = true;
		r = check_keys(t, confirm_keys, "confirm", err, errlen);
		if (r < 0)
			return r;
		r = get_int(t, "deadline", true, INT64_MIN, INT64_MAX, "confirm", &x, err, errlen);
		if (r < 0)
			return r;
		j->confirm_deadline = x;
		if ((r = get_str(t, "previous_mode", true, true, "confirm", &s, err, errlen)) < 0 ||
		    dup_opt(s, &j->confirm_previous_mode) < 0 ||
		    (r = get_str(t, "previous_scope", true, true, "confirm", &s, err, errlen)) < 0 ||
		    dup_opt(s, &j->confirm_previous_scope) < 0 ||
		    (r = get_str(t, "session", false, true, "confirm", &s, err, errlen)) < 0 ||
		    dup_opt(s, &j->confirm_session) < 0)
			return r < 0 ? r : -ENOMEM;
		r = get_int(t, "uid", true, 0, (int64_t)UINT32_MAX - 1, "confirm", &x, err, errlen);
		if (r < 0)
			return r;
		j->confirm_uid = (uid_t)x;
	}
	return check_journal(j, err, errlen);
}

/* "end LENGTH CRC32\n" closing the file: LENGTH and the CRC into ret_*. */
static int parse_trailer(const char *buf, size_t len, size_t *ret_len, uint32_t *ret_crc, char *err, size_t errlen)
{
	const char *line, *nl, *p, *end;
	size_t start = len, n = 0;
	uint32_t crc = 0;
	char q[80];

	if (len == 0)
		return bad(err, errlen, NULL, "empty file");
	/* The last line that starts with "end ". Pretty-printed JSON has no
	 * such line: its lines start with white space, a brace or a bracket. */
	for (size_t i = len; i-- > 0;)
		if ((i == 0 || buf[i - 1] == '\n') && len - i >= 4 && memcmp(buf + i, "end ", 4) == 0) {
			start = i;
			break;
		}
	if (start == len)
		return bad(err, errlen, NULL, "truncated: no end line (file is %zu bytes)", len);
	line = buf + start;
	nl = memchr(line, '\n', len - start);
	if (!nl)
		return bad(err, errlen, NULL, "truncated: incomplete end line \"%s\" (file is %zu bytes)",
			   printable(line, len - start, q, sizeof(q)), len);
	if ((size_t)(nl + 1 - buf) != len)
		return bad(err, errlen, NULL, "%zu bytes after the end line", len - (size_t)(nl + 1 - buf));

	/* LENGTH: decimal, no leading zero; CRC: exactly 8 lower-case hex digits */
	p = line + 4;
	end = nl;
	if (p < end && *p == '0' && p + 1 < end && p[1] != ' ')
		goto malformed;
	if (p == end || *p < '0' || *p > '9')
		goto malformed;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > (SIZE_MAX - 9) / 10)
			goto malformed;
		n = n * 10 + (size_t)(*p - '0');
	}
	if (p == end || *p++ != ' ' || end - p != 8)
		goto malformed;
	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9')
			crc = crc << 4 | (uint32_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			crc = crc << 4 | (uint32_t)(*p - 'a' + 10);
		else
			goto malformed;
	}
	if (n != start)
		return bad(err, errlen, NULL, "trailer says %zu bytes, found %zu", n, start);
	*ret_len = n;
	*ret_crc = crc;
	return 0;
malformed:
	return bad(err, errlen, NULL, "malformed end line \"%s\"", printable(line, (size_t)(nl - line), q, sizeof(q)));
}

int journal_parse(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct json_object *o;
	struct journal *j;
	size_t body = 0, end;
	uint32_t want = 0, crc;
	int r;

	r = parse_trailer(buf, len, &body, &want, err, errlen);
	if (r < 0)
		return r;
	crc = checksum(buf, body);
	if (crc != want)
		return bad(err, errlen, NULL, "checksum mismatch: trailer 0x%08" PRIx32 ", computed 0x%08" PRIx32, want,
			   crc);
	if (body == 0)
		return bad(err, errlen, NULL, "nothing before the end line");
	if (body > INT_MAX)
		return bad(err, errlen, NULL, "too large (%zu bytes)", body);

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	/* strict: no trailing commas, single quotes or other JSON-ish liberties */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)body);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o) {
		if (jerr == json_tokener_continue)
			return bad(err, errlen, NULL, "bad JSON at byte %zu: unexpected end of the JSON", end);
		return bad(err, errlen, NULL, "bad JSON at byte %zu: %s", end, json_tokener_error_desc(jerr));
	}
	if (end != body) { /* a NUL byte ends json-c's parse early */
		json_object_put(o);
		return bad(err, errlen, NULL, "bad JSON at byte %zu: data after the object", end);
	}

	j = calloc(1, sizeof(*j));
	if (!j) {
		json_object_put(o);
		return -ENOMEM;
	}
	r = parse_object(o, j, err, errlen);
	json_object_put(o);
	if (r < 0) {
		journal_free(j);
		return r;
	}
	*ret = j;
	return 0;
}

/* ---- on disk ---- */

/* The path as the user knows it: "/run/isolated/journal", "tree/run/...". */
static void user_path(const struct host *h, const char *rel, char *buf, size_t len)
{
	size_t n = strlen(h->root_path);

	snprintf(buf, len, "%s%s%s", h->root_path, n && h->root_path[n - 1] == '/' ? "" : "/", rel);
}

int journal_load(const struct host *h, struct journal **ret, char *err, size_t errlen)
{
	char path[PATH_MAX], msg[512];
	size_t len = 0;
	char *buf = NULL;
	int r;

	util_set_err(err, errlen, "%s", "");
	r = path_read(h->root_fd, JOURNAL_PATH, host_resolve(h), JOURNAL_MAX, &buf, &len);
	if (r == -ENOENT)
		return r;
	user_path(h, JOURNAL_PATH, path, sizeof(path));
	if (r == -EFBIG) {
		util_set_err(err, errlen, "%s: larger than %u MiB, not a journal", path, JOURNAL_MAX >> 20);
		return r;
	}
	if (r < 0) {
		util_set_err(err, errlen, "%s: %s", path, path_strerror(-r));
		return r;
	}
	msg[0] = '\0';
	r = journal_parse(buf, len, ret, msg, sizeof(msg));
	free(buf);
	if (r < 0)
		util_set_err(err, errlen, "%s: %s", path, r == -ENOMEM ? path_strerror(ENOMEM) : msg);
	return r;
}

/* JOURNAL_DIR, created if missing (0755 whatever the umask: anyone may read
 * what isolated holds), opened for fsync and *at() calls. Its parent is
 * resolved inside a tree; the directory itself is ours and never a
 * symbolic link. */
static int open_dir(const struct host *h, bool create, char *err, size_t errlen)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	bool made = false;
	int pfd, fd, r;

	pfd = host_open_parent(h, JOURNAL_DIR, name);
	if (pfd < 0) {
		r = pfd;
		user_path(h, "run", path, sizeof(path));
		if (r == -ENOENT)
			util_set_err(err, errlen, "%s does not exist", path);
		else
			util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
		return r;
	}
	if (create) {
		if (mkdirat(pfd, name, 0755) == 0)
			made = true;
		else if (errno != EEXIST) {
			r = -errno;
			close(pfd);
			user_path(h, JOURNAL_DIR, path, sizeof(path));
			util_set_err(err, errlen, "cannot create %s: %s", path, path_strerror(-r));
			return r;
		}
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = -errno;
	/* O_NOFOLLOW|O_DIRECTORY says ENOTDIR of a link: say what it is. */
	if (fd < 0 && r == -ENOTDIR) {
		struct stat st;

		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			r = -ELOOP;
	}
	close(pfd);
	if (fd < 0) {
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
		return r;
	}
	if (made)
		(void)fchmod(fd, 0755);
	return fd;
}

int journal_save(const struct host *h, const struct journal *j, char *err, size_t errlen)
{
	char path[PATH_MAX], msg[256];
	const char *step, *to = "";
	char *buf = NULL;
	size_t len = 0;
	int dfd, fd = -1, r;

	user_path(h, JOURNAL_PATH ".tmp", path, sizeof(path));
	msg[0] = '\0';
	r = format_journal(j, &buf, &len, msg, sizeof(msg));
	if (r < 0) {
		util_set_err(err, errlen, "cannot write %s: %s", path, r == -ENOMEM ? path_strerror(ENOMEM) : msg);
		return r;
	}
	dfd = open_dir(h, true, err, errlen);
	if (dfd < 0) {
		free(buf);
		return dfd;
	}

	/* a stale one is what an earlier save left when it was killed */
	step = "remove stale";
	if (unlinkat(dfd, JOURNAL_TMP, 0) < 0 && errno != ENOENT)
		goto fail_nocreate;
	step = "create";
	fd = openat(dfd, JOURNAL_TMP, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		goto fail_nocreate;
	step = "chmod";
	if (fchmod(fd, 0644) < 0)
		goto fail;
	step = "write";
	r = util_write_all(fd, buf, len);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	step = "close";
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail;
	step = "rename";
	to = " to " JOURNAL_FILE;
	if (renameat(dfd, JOURNAL_TMP, dfd, JOURNAL_FILE) < 0)
		goto fail;
	free(buf);
	if (fsync(dfd) < 0) {
		/* in place, but perhaps not on disk yet: say so, nothing to undo */
		r = -errno;
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot fsync directory %s: %s", path, path_strerror(-r));
		close(dfd);
		return r;
	}
	close(dfd);
	return 0;

fail:
	r = -errno;
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dfd, JOURNAL_TMP, 0);
	goto out;
fail_nocreate:
	r = -errno;
out:
	util_set_err(err, errlen, "cannot %s %s%s: %s", step, path, to, path_strerror(-r));
	close(dfd);
	free(buf);
	return r;
}

int journal_remove(const struct host *h, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int dfd, r;

	dfd = open_dir(h, false, err, errlen);
	if (dfd == -ENOENT) {
		util_set_err(err, errlen, "%s", "");
		return 0;
	}
	if (dfd < 0)
		return dfd;
	/* a temp file left by a save that was killed goes with the journal,
	 * so that journal_unlock can remove the directory */
	(void)unlinkat(dfd, JOURNAL_TMP, 0);
	if (unlinkat(dfd, JOURNAL_FILE, 0) < 0) {
		r = -errno;
		close(dfd);
		if (r == -ENOENT)
			return 0;
		user_path(h, JOURNAL_PATH, path, sizeof(path));
		util_set_err(err, errlen, "cannot remove %s: %s", path, path_strerror(-r));
		return r;
	}
	if (fsync(dfd) < 0) {
		r = -errno;
		close(dfd);
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot fsync directory %s: %s", path, path_strerror(-r));
		return r;
	}
	close(dfd);
	return 0;
}

/* The pid the holder wrote into the lock file, for the message; 0 if none. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n;
	long pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 1 || buf[n - 1] != '\n')
		return 0;
	buf[n - 1] = '\0';
	if (util_parse_long(buf, 1, INT_MAX, &pid) < 0)
		return 0;
	return pid;
}

/* The lock file in dfd is still the one fd holds (a holder's cleanup may
 * have removed it, or its directory, meanwhile). */
static bool lock_current(const struct host *h, int fd)
{
	struct stat a, b;
	int dfd = open_dir(h, false, NULL, 0);
	bool same;

	if (dfd < 0)
		return false;
	same = fstat(fd, &a) == 0 && fstatat(dfd, JOURNAL_LOCK_FILE, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(dfd);
	return same;
}

int journal_lock(const struct host *h, bool wait, int *ret_fd, char *err, size_t errlen)
{
	char path[PATH_MAX], line[32];
	int fd, r, len;

	user_path(h, JOURNAL_LOCK_PATH, path, sizeof(path));
	/* Each retry means another holder removed the file (cleanup) between
	 * our open and our lock; a bound only guards against a livelock. */
	for (int attempt = 0; attempt < 1000; attempt++) {
		int dfd = open_dir(h, true, err, errlen);

		if (dfd < 0)
			return dfd;
		fd = openat(dfd, JOURNAL_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
		if (fd < 0) {
			r = -errno;
			if (r == -ENOENT) { /* the directory went with a holder's cleanup */
				close(dfd);
				continue;
			}
			util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
			close(dfd);
			return r;
		}
		while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
			r = -errno;
			if (r == -EINTR)
				continue;
			if (r == -EWOULDBLOCK) {
				long pid = lock_holder(fd);

				if (pid)
					util_set_err(err, errlen,
						     "another isoctl or isolated (pid %ld) is changing this host", pid);
				else
					util_set_err(err, errlen,
						     "another isoctl or isolated (unknown pid) is changing this host");
			} else
				util_set_err(err, errlen, "cannot lock %s: %s", path, path_strerror(-r));
			close(fd);
			close(dfd);
			return r;
		}
		if (!lock_current(h, fd)) {
			close(fd);
			close(dfd);
			continue;
		}
		len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		errno = EIO; /* a short pwrite sets none */
		if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)len, 0) != len) {
			r = -errno;
			util_set_err(err, errlen, "cannot write %s: %s", path, path_strerror(-r));
			close(fd);
			close(dfd);
			return r;
		}
		/* What a tree write killed before its rename left (see
		 * path_replace): only we write now. */
		if (h->is_tree)
			path_sweep_scratch(dfd);
		close(dfd);
		*ret_fd = fd;
		return 0;
	}
	util_set_err(err, errlen, "cannot lock %s: it keeps being removed", path);
	return -EAGAIN;
}

void journal_unlock(const struct host *h, int fd, bool cleanup)
{
	char name[NAME_MAX + 1];
	int dfd;

	if (fd < 0)
		return;
	if (cleanup && (dfd = open_dir(h, false, NULL, 0)) >= 0) {
		/* while still holding it: a waiter that then gets the old file
		 * sees it is gone and takes a new one */
		(void)unlinkat(dfd, JOURNAL_LOCK_FILE, 0);
		close(dfd);
	}
	close(fd);
	/* A tree returns to exactly what it was. On the running kernel
	 * /run/isolated stays: it is the daemon's RuntimeDirectory=, bind
	 * mounted into its ProtectSystem=strict namespace, and removing it
	 * from outside would leave the daemon a read-only directory. Not
	 * empty (a journal, a lock taken meanwhile): it stays anyway. */
	if (cleanup && h->is_tree && (dfd = host_open_parent(h, JOURNAL_DIR, name)) >= 0) {
		(void)unlinkat(dfd, name, AT_REMOVEDIR);
		close(dfd);
	}
}

bool journal_exists(const struct host *h)
{
	struct stat st;
	int dfd = open_dir(h, false, NULL, 0);
	bool there;

	if (dfd < 0)
		return false;
	there = fstatat(dfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(dfd);
	return there;
}
