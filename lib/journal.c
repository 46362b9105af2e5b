/* The journal in memory: what isolated changed on a host and the values to
 * restore, an index of its targets, what changed since it was last saved,
 * and the JSON of its checkpoints and records (journal-file.c puts them on
 * disk). */
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
#include <json-c/linkhash.h>
#include <zlib.h>

#include "isolated/action.h"
#include "isolated/irqbalance.h"
#include "isolated/journal.h"
#include "isolated/json.h"
#include "isolated/util.h"
#include "journal-internal.h"

#define JOURNAL_FORMAT "isolated-journal"
/* Compact: a checkpoint of 10 000 targets is read on every load. */
#define JOURNAL_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A parse error: "WHERE: message", or "message" at the top level. */
int journal_bad(char *err, size_t errlen, const char *where, const char *fmt, ...)
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

/* What the journal module keeps beside the fields of struct journal. */
struct journal_priv {
	/* "KIND:TARGET" -> index + 1 in targets (json-c's hash table); NULL
	 * until the first lookup. */
	struct lh_table *index;
	size_t cap_targets, cap_steps;
	size_t n_dead;
	/* Keys of the targets added, changed or dropped since the last save;
	 * the value is non-NULL when the target was dropped on the way (and
	 * perhaps added again: a reused tid), so that a replay drops the old
	 * entry and appends the new one, as memory did. */
	struct lh_table *dirty;
	/* Bumped by every change of the transaction. */
	unsigned long long txn_serial, saved_txn_serial;
	bool saved_has_txn;
	char *saved_header; /* header_text() as last saved; NULL: unknown */
	struct journal_file_id file;
};

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

static void key_free(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static void priv_free(struct journal_priv *p)
{
	if (!p)
		return;
	if (p->index)
		lh_table_free(p->index);
	if (p->dirty)
		lh_table_free(p->dirty);
	free(p->saved_header);
	free(p);
}

/* NULL on ENOMEM: then the journal works without its extras (no index, and
 * every save a checkpoint). */
static struct journal_priv *priv_of(struct journal *j)
{
	if (!j->priv && (j->priv = calloc(1, sizeof(*j->priv)))) {
		j->priv->cap_targets = j->n_targets;
		j->priv->cap_steps = j->n_steps;
	}
	return j->priv;
}

struct journal_file_id *journal_file_id(struct journal *j)
{
	struct journal_priv *p = priv_of(j);

	return p ? &p->file : NULL;
}

/* "KIND:TARGET" into buf; false when it does not fit. */
#define KEY_MAX (ACTION_TARGET_ID_MAX + 256)
static bool entry_key(enum action_kind kind, const char *target, char buf[KEY_MAX])
{
	return (size_t)snprintf(buf, KEY_MAX, "%d:%s", (int)kind, target) < KEY_MAX;
}

/* Index the live target at i; false on ENOMEM (the index is then dropped). */
static bool index_add(struct journal_priv *p, const struct journal_entry *e, size_t i)
{
	char key[KEY_MAX], *k;

	if (!p->index)
		return true;
	if (!entry_key(e->kind, e->target, key) || !(k = strdup(key)) ||
	    lh_table_insert(p->index, k, (void *)(uintptr_t)(i + 1)) < 0) {
		lh_table_free(p->index);
		p->index = NULL;
		return false;
	}
	return true;
}

static void index_drop(struct journal_priv *p)
{
	if (p && p->index) {
		lh_table_free(p->index);
		p->index = NULL;
	}
}

static bool index_build(struct journal *j)
{
	struct journal_priv *p = priv_of(j);

	if (!p)
		return false;
	if (p->index)
		return true;
	p->index = lh_kchar_table_new(
	    j->n_targets < 16 ? 16 : (int)(j->n_targets * 2 > INT_MAX ? INT_MAX : j->n_targets * 2), key_free);
	if (!p->index)
		return false;
	for (size_t i = 0; i < j->n_targets; i++)
		if (j->targets[i].target && !index_add(p, &j->targets[i], i))
			return false;
	return true;
}

/* Remember that the target (kind, target) changed (killed: was dropped)
 * since the last save. A journal whose dirty set cannot grow saves a
 * checkpoint next. */
static void mark_dirty_ex(struct journal *j, enum action_kind kind, const char *target, bool killed)
{
	struct journal_priv *p = priv_of(j);
	char key[KEY_MAX], *k;
	struct lh_entry *le;

	if (!p)
		return;
	if (!p->dirty && !(p->dirty = lh_kchar_table_new(16, key_free))) {
		p->file.rewrite = true;
		return;
	}
	if (!entry_key(kind, target, key)) {
		p->file.rewrite = true;
		return;
	}
	if ((le = lh_table_lookup_entry(p->dirty, key))) {
		if (killed)
			lh_entry_set_val(le, (void *)1);
		return;
	}
	if (!(k = strdup(key)) || lh_table_insert(p->dirty, k, killed ? (void *)1 : NULL) < 0) {
		free(k);
		p->file.rewrite = true;
	}
}

static void mark_dirty(struct journal *j, enum action_kind kind, const char *target)
{
	mark_dirty_ex(j, kind, target, false);
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
	if (j->priv) {
		j->priv->cap_steps = 0;
		j->priv->txn_serial++;
	}
}

int journal_begin_txn(struct journal *j, const char *mode, int pid, long long started)
{
	char *m = strdup(mode);

	if (!m)
		return -ENOMEM;
	journal_clear_txn(j);
	j->has_txn = true;
	j->txn_mode = m;
	j->txn_pid = pid;
	j->txn_started = started;
	return 0;
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
	priv_free(j->priv);
	free(j);
}

/* The live entries of src, copied. */
static int entries_copy(const struct journal_entry *src, size_t n, struct journal_entry **ret, size_t *ret_n)
{
	struct journal_entry *v;
	size_t k = 0;

	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!src[i].target)
			continue;
		if (journal_entry_copy(&v[k], &src[i]) < 0) {
			entries_free(v, k);
			return -ENOMEM;
		}
		k++;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int journal_copy(const struct journal *j, struct journal **ret)
{
	struct journal *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*c = *j;
	c->priv = NULL; /* a copy is of no file */
	c->boot_id = c->mode = c->scope = c->txn_mode = NULL;
	c->confirm_previous_mode = c->confirm_previous_scope = c->confirm_session = NULL;
	c->targets = c->steps = NULL;
	c->n_targets = c->n_steps = 0;
	if (dup_opt(j->boot_id, &c->boot_id) < 0 || dup_opt(j->mode, &c->mode) < 0 ||
	    dup_opt(j->scope, &c->scope) < 0 || dup_opt(j->txn_mode, &c->txn_mode) < 0 ||
	    dup_opt(j->confirm_previous_mode, &c->confirm_previous_mode) < 0 ||
	    dup_opt(j->confirm_previous_scope, &c->confirm_previous_scope) < 0 ||
	    dup_opt(j->confirm_session, &c->confirm_session) < 0 ||
	    entries_copy(j->targets, j->n_targets, &c->targets, &c->n_targets) < 0 ||
	    entries_copy(j->steps, j->n_steps, &c->steps, &c->n_steps) < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	journal_free(c);
	return -ENOMEM;
}

struct journal_entry *journal_find(struct journal *j, enum action_kind kind, const char *target)
{
	char key[KEY_MAX];
	void *v;

	if (index_build(j) && entry_key(kind, target, key)) {
		if (!lh_table_lookup_ex(j->priv->index, key, &v))
			return NULL;
		return &j->targets[(uintptr_t)v - 1];
	}
	/* Without an index (ENOMEM): a scan. */
	for (size_t i = 0; i < j->n_targets; i++)
		if (j->targets[i].target && j->targets[i].kind == kind && strcmp(j->targets[i].target, target) == 0)
			return &j->targets[i];
	return NULL;
}

/* Append a copy of e to v (n, capacity *cap: doubling). */
static int entries_add(struct journal_entry **v, size_t *n, size_t *cap, const struct journal_entry *e)
{
	struct journal_entry c;

	if (*n >= *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct journal_entry *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	if (journal_entry_copy(&c, e) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = c;
	return 0;
}

int journal_add_target(struct journal *j, const struct journal_entry *e)
{
	struct journal_priv *p;
	size_t cap;
	int r;

	/* Two entries for one target would leave a pristine value unrestored. */
	if (e->target && journal_find(j, e->kind, e->target))
		return -EEXIST;
	p = priv_of(j);
	cap = p ? p->cap_targets : j->n_targets;
	r = entries_add(&j->targets, &j->n_targets, &cap, e);
	if (r < 0)
		return r;
	if (p) {
		p->cap_targets = cap;
		index_add(p, &j->targets[j->n_targets - 1], j->n_targets - 1);
	}
	mark_dirty(j, e->kind, e->target);
	return 0;
}

int journal_add_step(struct journal *j, const struct journal_entry *e)
{
	struct journal_priv *p = priv_of(j);
	size_t cap = p ? p->cap_steps : j->n_steps;
	int r;

	r = entries_add(&j->steps, &j->n_steps, &cap, e);
	if (r < 0)
		return r;
	if (p) {
		p->cap_steps = cap;
		p->txn_serial++;
	}
	return 0;
}

void journal_touch(struct journal *j, const struct journal_entry *e)
{
	if (e->target)
		mark_dirty(j, e->kind, e->target);
}

void journal_kill_target(struct journal *j, struct journal_entry *e)
{
	struct journal_priv *p = priv_of(j);
	char key[KEY_MAX];

	if (!e->target)
		return;
	mark_dirty_ex(j, e->kind, e->target, true);
	if (p && p->index && entry_key(e->kind, e->target, key))
		lh_table_delete(p->index, key);
	journal_entry_done(e);
	if (p)
		p->n_dead++;
	else
		journal_compact(j);
}

void journal_compact(struct journal *j)
{
	size_t k = 0;

	for (size_t i = 0; i < j->n_targets; i++)
		if (j->targets[i].target)
			j->targets[k++] = j->targets[i];
	if (k == j->n_targets)
		return;
	j->n_targets = k;
	if (j->priv) {
		j->priv->n_dead = 0;
		index_drop(j->priv);
	}
}

size_t journal_n_live(const struct journal *j)
{
	return j->n_targets - (j->priv ? j->priv->n_dead : 0);
}

void journal_remove_target(struct journal *j, size_t i)
{
	if (i >= j->n_targets)
		return;
	if (j->targets[i].target)
		mark_dirty_ex(j, j->targets[i].kind, j->targets[i].target, true);
	journal_entry_done(&j->targets[i]);
	memmove(&j->targets[i], &j->targets[i + 1], (j->n_targets - i - 1) * sizeof(*j->targets));
	j->n_targets--;
	/* indices moved: rebuilt at the next lookup */
	index_drop(j->priv);
	journal_compact(j);
}

/* ---- what a journal must satisfy, written or read ---- */

/* irq-affinity names its IRQ; the scheduling of an IRQ thread keeps it too
 * (see journal.h). */
static bool kind_has_irq(enum action_kind k)
{
	return k == ACTION_IRQ_AFFINITY || k == ACTION_THREAD_SCHED;
}

static const char irq_only[] = "\"irq\" is only for irq-affinity and thread-sched entries";
static const char thread_only[] = "\"tid\", \"tgid\" and \"starttime\" are only for threads";

/* The target says what an entry is for, the engine acts on its fields (a
 * revert writes pristine to the thread "tid" names, the IRQ "irq" names):
 * the two must agree, in the one spelling plans build, or two entries could
 * name one thing and pass for two. */
static int check_target(const struct journal_entry *e, const char *where, char *err, size_t errlen)
{
	char buf[ACTION_TARGET_ID_MAX], p[64];
	const char *canonical = action_canonical_target(e->kind, e->target, e->irq, e->tid, buf);

	printable(e->target, strlen(e->target), p, sizeof(p));
	if (!canonical && e->kind == ACTION_CPUMASK)
		return journal_bad(err, errlen, where, "target \"%s\" is not %s or %s", p,
				   action_cpumask_target(HOST_CPUMASK_IRQ_DEFAULT),
				   action_cpumask_target(HOST_CPUMASK_WORKQUEUE));
	if (!canonical && e->kind == ACTION_IRQBALANCE)
		return journal_bad(err, errlen, where, "target \"%s\" is not %s or %s", p, IRQBALANCE_TARGET_CPUS,
				   IRQBALANCE_TARGET_IRQS);
	if (!canonical && e->kind == ACTION_CGROUP)
		return journal_bad(err, errlen, where,
				   "target \"%s\" is not cgroup/PATH of a cgroup file isolated writes or a directory "
				   "named isolated*",
				   p);
	if (!canonical && e->kind == ACTION_SYSFS)
		return journal_bad(err, errlen, where, "target \"%s\" is not sysfs/PATH of a path [sysfs] may set", p);
	if (!canonical)
		return journal_bad(err, errlen, where, "target \"%s\" is not a sysctl name", p);
	if (strcmp(canonical, e->target) != 0)
		return journal_bad(err, errlen, where, "target \"%s\" is not the canonical form %s of its \"%s\"", p,
				   canonical, action_kind_is_thread(e->kind) ? "tid" : "irq");
	return 0;
}

/* What is restored and compared: a value of the entry's kind, as the
 * transactions parse it. */
static int check_value(const struct journal_entry *e, const char *name, const char *value, const char *where, char *err,
		       size_t errlen)
{
	char why[192], p[64], q[192];
	int r;

	r = action_value_check(e->kind, value, why, sizeof(why));
	if (r != -EINVAL)
		return r;
	return journal_bad(err, errlen, where, "%s \"%s\" is not %s", name,
			   printable(value, strlen(value), p, sizeof(p)), printable(why, strlen(why), q, sizeof(q)));
}

/* The rules both journal_format and journal_parse enforce, so that whatever
 * is written reads back. */
static int check_entry(const struct journal_entry *e, const char *where, bool step, char *err, size_t errlen)
{
	int r;

	if ((unsigned)e->kind >= _ACTION_KIND_MAX)
		return journal_bad(err, errlen, where, "unknown kind %d", (int)e->kind);
	if (!e->target || !*e->target)
		return journal_bad(err, errlen, where, "empty \"target\"");
	if (!e->label)
		return journal_bad(err, errlen, where, "missing \"label\"");
	if (!e->pristine)
		return journal_bad(err, errlen, where, "missing \"pristine\"");
	if (!e->wanted)
		return journal_bad(err, errlen, where, "missing \"wanted\"");
	if (step && !e->before)
		return journal_bad(err, errlen, where, "missing \"before\"");
	if (!step && e->before)
		return journal_bad(err, errlen, where, "\"before\" in a target (only transaction steps have one)");
	if (action_kind_is_thread(e->kind) && (e->tid <= 0 || e->tgid <= 0))
		return journal_bad(err, errlen, where, "a thread entry needs a positive \"tid\" and \"tgid\"");
	if (!action_kind_is_thread(e->kind) && (e->tid || e->tgid || e->starttime))
		return journal_bad(err, errlen, where, "%s", thread_only);
	if (!kind_has_irq(e->kind) && e->irq)
		return journal_bad(err, errlen, where, "%s", irq_only);
	if ((r = check_target(e, where, err, errlen)) < 0 ||
	    (r = check_value(e, "pristine", e->pristine, where, err, errlen)) < 0 ||
	    (r = check_value(e, "wanted", e->wanted, where, err, errlen)) < 0 ||
	    (step && (r = check_value(e, "before", e->before, where, err, errlen)) < 0))
		return r;
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
	{
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (v[i].target)
				s[k++] = &v[i];
		n = k;
	}
	qsort(s, n, sizeof(*s), cmp_entry);
	for (size_t i = 1; i < n; i++)
		if (s[i]->kind == s[i - 1]->kind && strcmp(s[i]->target, s[i - 1]->target) == 0) {
			char where[48];

			snprintf(where, sizeof(where), "targets[%zu]", (size_t)(s[i] - v));
			r = journal_bad(err, errlen, where, "duplicate of targets[%zu] (%s %s)", (size_t)(s[i - 1] - v),
					plan_action_kind_name(s[i]->kind), s[i]->target);
			break;
		}
	free(s);
	return r;
}

/* The fields outside targets and the transaction. */
static int check_head(const struct journal *j, char *err, size_t errlen)
{
	if (!j->boot_id)
		return journal_bad(err, errlen, NULL, "missing \"boot_id\"");
	if (!j->mode || !*j->mode)
		return journal_bad(err, errlen, NULL, "empty \"mode\"");
	if (!j->scope || !*j->scope)
		return journal_bad(err, errlen, NULL, "empty \"scope\"");
	if (j->has_confirm) {
		if (!j->confirm_previous_mode || !*j->confirm_previous_mode)
			return journal_bad(err, errlen, "confirm", "empty \"previous_mode\"");
		if (!j->confirm_previous_scope || !*j->confirm_previous_scope)
			return journal_bad(err, errlen, "confirm", "empty \"previous_scope\"");
		if (j->confirm_session && !*j->confirm_session)
			return journal_bad(err, errlen, "confirm",
					   "empty \"session\" (leave it out when there is none)");
		if (j->confirm_uid == (uid_t)-1)
			return journal_bad(err, errlen, "confirm", "\"uid\" out of range");
	}
	return 0;
}

static int check_txn(const struct journal *j, char *err, size_t errlen)
{
	char where[48];
	int r;

	if (!j->has_txn)
		return 0;
	if (!j->txn_mode || !*j->txn_mode)
		return journal_bad(err, errlen, "transaction", "empty \"mode\"");
	if (j->txn_pid <= 0)
		return journal_bad(err, errlen, "transaction", "\"pid\" must be positive");
	for (size_t i = 0; i < j->n_steps; i++) {
		snprintf(where, sizeof(where), "transaction.steps[%zu]", i);
		r = check_entry(&j->steps[i], where, true, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_target_at(const struct journal *j, size_t i, char *err, size_t errlen)
{
	char where[48];

	snprintf(where, sizeof(where), "targets[%zu]", i);
	return check_entry(&j->targets[i], where, false, err, errlen);
}

int journal_check(const struct journal *j, char *err, size_t errlen)
{
	int r = check_head(j, err, errlen);

	if (r < 0)
		return r;
	for (size_t i = 0; i < j->n_targets; i++) {
		if (!j->targets[i].target) /* dropped */
			continue;
		r = check_target_at(j, i, err, errlen);
		if (r < 0)
			return r;
	}
	r = check_unique(j->targets, j->n_targets, err, errlen);
	if (r < 0)
		return r;
	return check_txn(j, err, errlen);
}

/* ---- writing ---- */

/* zlib's crc32 of the bytes before the trailer; it takes a uInt length. */
uint32_t journal_crc(const char *buf, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	for (size_t off = 0; off < len;) {
		uInt chunk = len - off > (1u << 30) ? (1u << 30) : (uInt)(len - off);

		crc = crc32(crc, (const Bytef *)buf + off, chunk);
		off += chunk;
	}
	return (uint32_t)crc;
}

/* A string kept as its bytes: a thread's name comes back as it was
 * written (jstr would make it UTF-8). */
static json_object *jbytes(struct jb *b, const char *s)
{
	return jb_check(b, json_object_new_string(s));
}

static json_object *entry_to_json(struct jb *b, const struct journal_entry *e)
{
	json_object *o = jobj(b);

	jset(b, o, "kind", jbytes(b, action_kind_name(e->kind)));
	jset(b, o, "target", jbytes(b, e->target));
	jset(b, o, "label", jbytes(b, e->label));
	if (e->rule)
		jset(b, o, "rule", jbytes(b, e->rule));
	/* Not only irq-affinity: the thread-sched entry of an IRQ thread keeps
	 * its IRQ too (see journal.h). */
	if (e->irq)
		jset(b, o, "irq", jint(b, e->irq));
	if (action_kind_is_thread(e->kind)) {
		jset(b, o, "tid", jint(b, e->tid));
		jset(b, o, "tgid", jint(b, e->tgid));
		jset(b, o, "starttime", jb_check(b, json_object_new_uint64(e->starttime)));
	}
	jset(b, o, "pristine", jbytes(b, e->pristine));
	jset(b, o, "wanted", jbytes(b, e->wanted));
	if (e->before)
		jset(b, o, "before", jbytes(b, e->before));
	return o;
}

static json_object *entries_to_json(struct jb *b, const struct journal_entry *v, size_t n)
{
	json_object *a = jarr(b);

	for (size_t i = 0; i < n; i++)
		if (v[i].target) /* not dropped */
			jpush(b, a, entry_to_json(b, &v[i]));
	return a;
}

static json_object *confirm_to_json(struct jb *b, const struct journal *j)
{
	json_object *t = jobj(b);

	jset(b, t, "deadline", jint(b, j->confirm_deadline));
	jset(b, t, "previous_mode", jbytes(b, j->confirm_previous_mode));
	jset(b, t, "previous_scope", jbytes(b, j->confirm_previous_scope));
	jset(b, t, "uid", jint(b, (int64_t)j->confirm_uid));
	if (j->confirm_session)
		jset(b, t, "session", jbytes(b, j->confirm_session));
	return t;
}

static json_object *txn_to_json(struct jb *b, const struct journal *j)
{
	json_object *t = jobj(b);

	jset(b, t, "mode", jbytes(b, j->txn_mode));
	jset(b, t, "started_at", jint(b, j->txn_started));
	jset(b, t, "pid", jint(b, j->txn_pid));
	jset(b, t, "steps", entries_to_json(b, j->steps, j->n_steps));
	return t;
}

/* boot_id, mode, scope, applied_at and confirm (null when none, with
 * confirm_null) into o: what a checkpoint has and every record repeats. */
static void header_to_json(struct jb *b, const struct journal *j, json_object *o, bool confirm_null)
{
	jset(b, o, "boot_id", jbytes(b, j->boot_id));
	jset(b, o, "mode", jbytes(b, j->mode));
	jset(b, o, "scope", jbytes(b, j->scope));
	jset(b, o, "applied_at", jint(b, j->applied_at));
	if (j->has_confirm)
		jset(b, o, "confirm", confirm_to_json(b, j));
	else if (confirm_null)
		jset(b, o, "confirm", NULL);
}

static json_object *journal_to_json(const struct journal *j)
{
	struct jb b = {0};
	json_object *o = jobj(&b);

	jset(&b, o, "format", jbytes(&b, JOURNAL_FORMAT));
	jset(&b, o, "version", jint(&b, JOURNAL_VERSION));
	header_to_json(&b, j, o, false);
	jset(&b, o, "targets", entries_to_json(&b, j->targets, j->n_targets));
	if (j->has_txn)
		jset(&b, o, "transaction", txn_to_json(&b, j));
	return jdone(&b, o);
}

/* o as text with a final newline, allocated; takes o. */
static int json_to_text(struct json_object *o, char **ret, size_t *ret_len)
{
	const char *s;
	size_t n;
	char *buf;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JOURNAL_FLAGS);
	if (!s) {
		json_object_put(o);
		return -ENOMEM;
	}
	n = strlen(s);
	buf = malloc(n + 2);
	if (!buf) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(buf, s, n);
	buf[n++] = '\n';
	buf[n] = '\0';
	json_object_put(o);
	*ret = buf;
	*ret_len = n;
	return 0;
}

int journal_checkpoint_text(const struct journal *j, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	int r = journal_check(j, err, errlen);

	if (r == -EBADMSG)
		return -EINVAL; /* not a defect of a file: the caller built it */
	if (r < 0)
		return r;
	return json_to_text(journal_to_json(j), ret, ret_len);
}

/* The header of j as text, to tell whether a save must record it. */
static char *header_text(const struct journal *j)
{
	struct jb b = {0};
	json_object *o = jobj(&b);
	char *t = NULL;
	size_t n;

	header_to_json(&b, j, o, true);
	return json_to_text(jdone(&b, o), &t, &n) < 0 ? NULL : t;
}

struct dirty_item {
	size_t index; /* in targets; SIZE_MAX: dropped */
	const char *key;
	bool killed; /* dropped since the last save (and perhaps added again) */
};

static int cmp_dirty(const void *a, const void *b)
{
	const struct dirty_item *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* "KIND:TARGET" back into kind and target; false for a key of no kind. */
static bool split_key(const char *key, enum action_kind *ret_kind, const char **ret_target)
{
	char *end;
	long k = strtol(key, &end, 10);

	if (end == key || *end != ':' || k < 0 || k >= _ACTION_KIND_MAX)
		return false;
	*ret_kind = (enum action_kind)k;
	*ret_target = end + 1;
	return true;
}

/* The targets in the dirty set, in the order of targets (a replay appends
 * new ones in the order they have in memory), dropped ones last. */
static int dirty_items(struct journal *j, struct dirty_item **ret, size_t *ret_n)
{
	struct journal_priv *p = j->priv;
	struct dirty_item *items;
	struct lh_entry *le;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!p->dirty || lh_table_length(p->dirty) == 0)
		return 0;
	items = calloc((size_t)lh_table_length(p->dirty), sizeof(*items));
	if (!items)
		return -ENOMEM;
	lh_foreach(p->dirty, le)
	{
		const char *key = lh_entry_k(le), *target;
		struct journal_entry *e;
		enum action_kind kind;

		if (!split_key(key, &kind, &target))
			continue;
		e = journal_find(j, kind, target);
		items[n].index = e ? (size_t)(e - j->targets) : SIZE_MAX;
		items[n].killed = lh_entry_v(le) != NULL;
		items[n++].key = key;
	}
	qsort(items, n, sizeof(*items), cmp_dirty);
	*ret = items;
	*ret_n = n;
	return 0;
}

/* del: {kind, target} of the targets dropped (a replay applies it first);
 * set: the entries of items there now, in their order in targets (an
 * entry a replay holds is replaced in place, another appended). */
static void record_targets(struct jb *b, struct journal *j, const struct dirty_item *items, size_t n,
			   json_object *o)
{
	json_object *set = jarr(b), *del = jarr(b);

	for (size_t i = 0; i < n; i++) {
		enum action_kind kind;
		const char *target;
		json_object *d;

		if (items[i].index != SIZE_MAX) {
			jpush(b, set, entry_to_json(b, &j->targets[items[i].index]));
			if (!items[i].killed)
				continue;
		}
		if (!split_key(items[i].key, &kind, &target))
			continue;
		d = jobj(b);
		jset(b, d, "kind", jbytes(b, action_kind_name(kind)));
		jset(b, d, "target", jbytes(b, target));
		jpush(b, del, d);
	}
	if (set && json_object_array_length(set) > 0)
		jset(b, o, "set", set);
	else
		json_object_put(set);
	if (del && json_object_array_length(del) > 0)
		jset(b, o, "del", del);
	else
		json_object_put(del);
}

int journal_record_text(struct journal *j, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	struct journal_priv *p = priv_of(j);
	struct dirty_item *items = NULL;
	struct jb b = {0};
	json_object *o;
	bool txn_changed, head_changed;
	size_t n = 0;
	char *head;
	int r;

	*ret = NULL;
	if (!p)
		return -ENOMEM;
	/* What a checkpoint would refuse, checked for what changed only (a
	 * duplicate target cannot arise: journal_add_target refuses it). */
	r = check_head(j, err, errlen);
	if (r == -EBADMSG)
		return -EINVAL;
	if (r < 0)
		return r;
	head = header_text(j);
	if (!head)
		return -ENOMEM;
	head_changed = !p->saved_header || strcmp(head, p->saved_header) != 0;
	free(head);
	txn_changed = j->has_txn != p->saved_has_txn || (j->has_txn && p->txn_serial != p->saved_txn_serial);
	if (!head_changed && !txn_changed && (!p->dirty || lh_table_length(p->dirty) == 0))
		return 0;
	if (txn_changed && (r = check_txn(j, err, errlen)) < 0)
		return r == -EBADMSG ? -EINVAL : r;
	r = dirty_items(j, &items, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (items[i].index != SIZE_MAX && (r = check_target_at(j, items[i].index, err, errlen)) < 0) {
			free(items);
			return r == -EBADMSG ? -EINVAL : r;
		}
	o = jobj(&b);
	header_to_json(&b, j, o, true);
	if (txn_changed)
		jset(&b, o, "transaction", j->has_txn ? txn_to_json(&b, j) : NULL);
	record_targets(&b, j, items, n, o);
	r = json_to_text(jdone(&b, o), ret, ret_len);
	free(items);
	return r;
}

void journal_forget_file(struct journal *j)
{
	if (j->priv)
		j->priv->file = (struct journal_file_id){0};
}

void journal_mark_saved(struct journal *j, const struct journal_file_id *id)
{
	struct journal_priv *p = priv_of(j);

	if (!p)
		return;
	if (p->dirty)
		lh_table_free(p->dirty);
	p->dirty = NULL;
	p->saved_has_txn = j->has_txn;
	p->saved_txn_serial = p->txn_serial;
	free(p->saved_header);
	p->saved_header = header_text(j);
	p->file = id ? *id : (struct journal_file_id){0};
}

/* ---- reading ---- */

static const char *const top_keys[] = {"format",     "version", "boot_id",     "mode",	  "scope",
				       "applied_at", "targets", "transaction", "confirm", NULL};
static const char *const record_keys[] = {"boot_id",	 "mode", "scope", "applied_at", "confirm",
					  "transaction", "set",	 "del",	  NULL};
static const char *const del_keys[] = {"kind", "target", NULL};
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

			return journal_bad(err, errlen, where, "unknown key \"%s\"",
					   printable(key, strlen(key), p, sizeof(p)));
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
			return journal_bad(err, errlen, where, "missing \"%s\"", key);
		return 0;
	}
	if (!json_object_is_type(v, type)) {
		return journal_bad(err, errlen, where, "\"%s\" is %s, expected %s", key,
				   type_name(json_object_get_type(v)), type_name(type));
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
		return journal_bad(err, errlen, where, "\"%s\" contains a NUL byte", key);
	if (nonempty && len == 0)
		return journal_bad(err, errlen, where, "empty \"%s\"", key);
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
		return journal_bad(err, errlen, where, "\"%s\" out of range: %s", key, json_object_get_string(v));
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
		return journal_bad(err, errlen, where, "\"%s\" out of range: %s", key, json_object_get_string(v));
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
	int r;

	if (!json_object_is_type(o, json_type_object))
		return journal_bad(err, errlen, where, "is %s, expected an object", type_name(json_object_get_type(o)));
	r = check_keys(o, entry_keys, where, err, errlen);
	if (r < 0)
		return r;
	r = get_str(o, "kind", true, true, where, &kind, err, errlen);
	if (r < 0)
		return r;
	if (action_kind_parse(kind, &e.kind) < 0) {
		char p[64];

		return journal_bad(err, errlen, where, "unknown kind \"%s\"",
				   printable(kind, strlen(kind), p, sizeof(p)));
	}
	thread = action_kind_is_thread(e.kind);
	/* Present at all, not only non-zero: a 0 that journal_format would
	 * leave out is still a field the kind does not have. */
	if (!thread && (json_object_object_get_ex(o, "tid", NULL) || json_object_object_get_ex(o, "tgid", NULL) ||
			json_object_object_get_ex(o, "starttime", NULL)))
		return journal_bad(err, errlen, where, "%s", thread_only);
	if (!kind_has_irq(e.kind) && json_object_object_get_ex(o, "irq", NULL))
		return journal_bad(err, errlen, where, "%s", irq_only);

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
	if (!step && before)
		return journal_bad(err, errlen, where, "\"before\" in a target (only transaction steps have one)");

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

/* "transaction": {...} into j's transaction (which must be closed). */
static int parse_txn(struct json_object *t, struct journal *j, char *err, size_t errlen)
{
	struct json_object *v;
	const char *s;
	int64_t x, pid;
	int r;

	r = check_keys(t, txn_keys, "transaction", err, errlen);
	if (r < 0)
		return r;
	if ((r = get_str(t, "mode", true, true, "transaction", &s, err, errlen)) < 0)
		return r;
	if ((r = get_int(t, "started_at", true, INT64_MIN, INT64_MAX, "transaction", &x, err, errlen)) < 0 ||
	    (r = get_int(t, "pid", true, 1, INT_MAX, "transaction", &pid, err, errlen)) < 0)
		return r;
	r = get(t, "steps", json_type_array, true, "transaction", &v, err, errlen);
	if (r < 0)
		return r;
	if ((r = journal_begin_txn(j, s, (int)pid, x)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct journal_entry e;
		char where[48];

		snprintf(where, sizeof(where), "transaction.steps[%zu]", i);
		r = parse_entry(json_object_array_get_idx(v, i), where, true, &e, err, errlen);
		if (r < 0)
			return r;
		r = journal_add_step(j, &e);
		journal_entry_done(&e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "confirm": {...} into j. */
static int parse_confirm(struct json_object *t, struct journal *j, char *err, size_t errlen)
{
	const char *s;
	int64_t x;
	int r;

	journal_clear_confirm(j);
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
	return 0;
}

/* boot_id, mode, scope, applied_at (required in a checkpoint, each
 * optional in a record) and confirm (an object, or null in a record). */
static int parse_header(struct json_object *o, struct journal *j, bool required, char *err, size_t errlen)
{
	struct json_object *t;
	const char *s;
	int64_t x;
	int r;

	static const struct {
		const char *key;
		bool nonempty;
		size_t off;
	} strs[] = {
	    {"boot_id", false, offsetof(struct journal, boot_id)},
	    {"mode", true, offsetof(struct journal, mode)},
	    {"scope", true, offsetof(struct journal, scope)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		char **dst = (char **)((char *)j + strs[i].off), *c;

		r = get_str(o, strs[i].key, required, strs[i].nonempty, NULL, &s, err, errlen);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (!(c = strdup(s)))
			return -ENOMEM;
		free(*dst);
		*dst = c;
	}
	r = get_int(o, "applied_at", required, INT64_MIN, INT64_MAX, NULL, &x, err, errlen);
	if (r < 0)
		return r;
	if (r > 0)
		j->applied_at = x;
	if (!required && json_object_object_get_ex(o, "confirm", &t) && !t) {
		journal_clear_confirm(j);
		return 0;
	}
	r = get(o, "confirm", json_type_object, false, NULL, &t, err, errlen);
	if (r < 0)
		return r;
	return r > 0 ? parse_confirm(t, j, err, errlen) : 0;
}

/* A checkpoint's object (or format 1's) into j, not checked yet. j is freed
 * by the caller, whatever happens. */
static int parse_object(struct json_object *o, struct journal *j, char *err, size_t errlen)
{
	struct json_object *v, *t;
	const char *s;
	int64_t x;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return journal_bad(err, errlen, NULL, "not an isolated journal (the JSON is %s, not an object)",
				   type_name(json_object_get_type(o)));
	/* format and version first: a newer journal may well have keys we do
	 * not know, and its version is the message that helps */
	if (!json_object_object_get_ex(o, "format", &v))
		return journal_bad(err, errlen, NULL, "not an isolated journal (no \"format\")");
	r = get_str(o, "format", true, false, NULL, &s, err, errlen);
	if (r < 0)
		return r;
	if (strcmp(s, JOURNAL_FORMAT) != 0) {
		char p[64];

		return journal_bad(err, errlen, NULL, "not an isolated journal (format \"%s\")",
				   printable(s, strlen(s), p, sizeof(p)));
	}
	r = get_int(o, "version", true, INT64_MIN, INT64_MAX, NULL, &x, err, errlen);
	if (r < 0)
		return r;
	if (x > JOURNAL_VERSION)
		return journal_bad(err, errlen, NULL, "written by a newer isolated (version %" PRId64 ")", x);
	if (x < 1)
		return journal_bad(err, errlen, NULL, "bad version %" PRId64, x);
	j->version = (unsigned)x;
	r = check_keys(o, top_keys, NULL, err, errlen);
	if (r < 0)
		return r;
	r = parse_header(o, j, true, err, errlen);
	if (r < 0)
		return r;
	r = get(o, "targets", json_type_array, true, NULL, &v, err, errlen);
	if (r < 0)
		return r;
	r = parse_entries(v, "targets", false, &j->targets, &j->n_targets, err, errlen);
	if (r < 0)
		return r;
	r = get(o, "transaction", json_type_object, false, NULL, &t, err, errlen);
	if (r > 0)
		r = parse_txn(t, j, err, errlen);
	return r < 0 ? r : 0;
}

/* "end LENGTH CRC32\n" closing the file: LENGTH and the CRC into ret_*. */
static int parse_trailer(const char *buf, size_t len, size_t *ret_len, uint32_t *ret_crc, char *err, size_t errlen)
{
	const char *line, *nl, *p, *end;
	size_t start = len, n = 0;
	uint32_t crc = 0;
	char q[80];

	if (len == 0)
		return journal_bad(err, errlen, NULL, "empty file");
	/* The last line that starts with "end ". Pretty-printed JSON has no
	 * such line: its lines start with white space, a brace or a bracket. */
	for (size_t i = len; i-- > 0;)
		if ((i == 0 || buf[i - 1] == '\n') && len - i >= 4 && memcmp(buf + i, "end ", 4) == 0) {
			start = i;
			break;
		}
	if (start == len)
		return journal_bad(err, errlen, NULL, "truncated: no end line (file is %zu bytes)", len);
	line = buf + start;
	nl = memchr(line, '\n', len - start);
	if (!nl)
		return journal_bad(err, errlen, NULL, "truncated: incomplete end line \"%s\" (file is %zu bytes)",
				   printable(line, len - start, q, sizeof(q)), len);
	if ((size_t)(nl + 1 - buf) != len)
		return journal_bad(err, errlen, NULL, "%zu bytes after the end line", len - (size_t)(nl + 1 - buf));

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
		return journal_bad(err, errlen, NULL, "trailer says %zu bytes, found %zu", n, start);
	*ret_len = n;
	*ret_crc = crc;
	return 0;
malformed:
	return journal_bad(err, errlen, NULL, "malformed end line \"%s\"",
			   printable(line, (size_t)(nl - line), q, sizeof(q)));
}

/* ---- keys json-c would drop ---- */

/* json-c keeps the last of two equal keys of an object and says nothing, so
 * {"tid":1, ..., "tid":2} would read as whichever came last. After json-c
 * has parsed the text (its syntax is valid), one more pass over it decodes
 * the keys of each open object as json-c does and refuses one that object
 * already has, saying where. Linear in the file: an object's keys are
 * compared one by one while it has few (a journal's have a dozen at most),
 * and through a hashed set (a json-c object) past that. */

#define KEYS_LINEAR 16
/* json-c parses no deeper (json_tokener_new). */
#define KEY_SCOPES JSON_TOKENER_DEFAULT_DEPTH

struct key_scope {
	bool object;
	bool want_key;		 /* in an object: the next string is a key */
	size_t index;		 /* in an array: the element we are in */
	size_t first, last;	 /* in an object: its keys are keys[first..], the member we are in keys[last] */
	size_t mark;		 /* text_len when it opened */
	struct json_object *set; /* in an object past KEYS_LINEAR keys: all its keys, hashed */
};

struct key_ref {
	size_t off, len; /* in key_scan.text, NUL-terminated */
};

/* The keys of the open objects, as stacks: an object's go when it closes. */
struct key_scan {
	struct key_scope scope[KEY_SCOPES];
	size_t depth;
	struct key_ref *keys;
	size_t n_keys, cap_keys;
	char *text;
	size_t text_len, text_cap;
};

static unsigned hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
	return v;
}

static size_t put_utf8(char *out, unsigned c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The character a backslash escape other than \u stands for. */
static char unescape(char c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default: /* '"', '\\', '/' */
		return c;
	}
}

/* The text between a key's quotes (valid: json-c took it), decoded as json-c
 * does: the escapes, \uXXXX in UTF-8, a surrogate pair as one character, a
 * lone surrogate as U+FFFD. Decoding never lengthens: out has room for len
 * bytes. Returns the decoded length. */
static size_t decode_key(const char *s, size_t len, char *out)
{
	size_t n = 0, i = 0;

	while (i < len) {
		unsigned c, lo;

		if (s[i] != '\\' || i + 1 >= len) {
			out[n++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'u' || i + 6 > len) {
			out[n++] = unescape(s[i + 1]);
			i += 2;
			continue;
		}
		c = hex4(s + i + 2);
		i += 6;
		if (c >= 0xd800 && c <= 0xdbff && i + 6 <= len && s[i] == '\\' && s[i + 1] == 'u' &&
		    (lo = hex4(s + i + 2)) >= 0xdc00 && lo <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		} else if (c >= 0xd800 && c <= 0xdfff) {
			c = 0xfffd;
		}
		n += put_utf8(out + n, c);
	}
	return n;
}

/* "transaction.steps[0]": how the innermost object is reached; NULL for the
 * top level. */
static const char *scan_where(const struct key_scan *ks, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i + 1 < ks->depth && n < len; i++) {
		const struct key_scope *sc = &ks->scope[i];
		char p[40];
		int w =
		    sc->object
			? snprintf(buf + n, len - n, "%s%s", i ? "." : "",
				   printable(ks->text + ks->keys[sc->last].off, ks->keys[sc->last].len, p, sizeof(p)))
			: snprintf(buf + n, len - n, "[%zu]", sc->index);

		n += w > 0 ? (size_t)w : 0;
	}
	return ks->depth > 1 ? buf : NULL;
}

static int scan_open(struct key_scan *ks, bool object, size_t at, char *err, size_t errlen)
{
	if (ks->depth == KEY_SCOPES)
		return journal_bad(err, errlen, NULL, "bad JSON at byte %zu: nested too deep", at);
	ks->scope[ks->depth++] =
	    (struct key_scope){.object = object, .want_key = object, .first = ks->n_keys, .mark = ks->text_len};
	return 0;
}

static void scan_close(struct key_scan *ks)
{
	struct key_scope *sc;

	if (ks->depth == 0)
		return;
	sc = &ks->scope[--ks->depth];
	json_object_put(sc->set);
	ks->n_keys = sc->first;
	ks->text_len = sc->mark;
}

/* v with room for n elements of size sz (*cap of them now), or NULL. */
static void *grow(void *v, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap ? *cap : 64;

	while (c < n)
		c *= 2;
	if (c == *cap)
		return v;
	v = realloc(v, c * sz);
	if (v)
		*cap = c;
	return v;
}

/* Has the object of sc a key equal to key (len bytes)? */
static bool scan_has_key(const struct key_scan *ks, const struct key_scope *sc, const char *key, size_t len)
{
	if (sc->set)
		return json_object_object_get_ex(sc->set, key, NULL);
	for (size_t i = sc->first; i < ks->n_keys; i++)
		if (ks->keys[i].len == len && memcmp(ks->text + ks->keys[i].off, key, len) == 0)
			return true;
	return false;
}

/* A key of the innermost object: n bytes at s between its quotes, the
 * opening quote at byte at. */
static int scan_key(struct key_scan *ks, const char *s, size_t n, size_t at, char *err, size_t errlen)
{
	struct key_scope *sc = &ks->scope[ks->depth - 1];
	char where[160], p[64], *key;
	size_t len;
	void *v;

	if (!(v = grow(ks->text, &ks->text_cap, ks->text_len + n + 1, 1)))
		return -ENOMEM;
	ks->text = v;
	if (!(v = grow(ks->keys, &ks->cap_keys, ks->n_keys + 1, sizeof(*ks->keys))))
		return -ENOMEM;
	ks->keys = v;
	key = ks->text + ks->text_len;
	len = decode_key(s, n, key);
	key[len] = '\0';
	/* json-c's keys are C strings: "target\u0000x" would be "target" */
	if (strlen(key) != len)
		return journal_bad(err, errlen, scan_where(ks, where, sizeof(where)), "key with a NUL byte at byte %zu",
				   at);
	if (scan_has_key(ks, sc, key, len))
		return journal_bad(err, errlen, scan_where(ks, where, sizeof(where)),
				   "duplicate key \"%s\" at byte %zu", printable(key, len, p, sizeof(p)), at);

	ks->keys[ks->n_keys] = (struct key_ref){ks->text_len, len};
	sc->last = ks->n_keys++;
	ks->text_len += len + 1;
	/* past KEYS_LINEAR keys, a set takes those before, then each new one */
	if (ks->n_keys - sc->first == KEYS_LINEAR + 1) {
		if (!(sc->set = json_object_new_object()))
			return -ENOMEM;
		for (size_t i = sc->first; i < sc->last; i++)
			if (json_object_object_add(sc->set, ks->text + ks->keys[i].off, NULL) < 0)
				return -ENOMEM;
	}
	if (sc->set && json_object_object_add(sc->set, key, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* The end of the string whose text starts at buf[i]: its closing quote, the
 * first one not escaped by an odd run of backslashes. */
static size_t string_end(const char *buf, size_t len, size_t i)
{
	for (;;) {
		const char *q = memchr(buf + i, '"', len - i);
		size_t end, n = 0;

		if (!q)
			return len;
		end = (size_t)(q - buf);
		while (end - n > i && buf[end - n - 1] == '\\')
			n++;
		if (n % 2 == 0)
			return end;
		i = end + 1;
	}
}

static int check_duplicate_keys(const char *buf, size_t len, char *err, size_t errlen)
{
	/* all that matters outside strings; white space, numbers, literals, ':' do not */
	static const bool structural[256] = {
	    ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1, [','] = 1, ['"'] = 1, ['\''] = 1};
	struct key_scan ks = {.depth = 0};
	int r = 0;

	for (size_t i = 0; i < len && r == 0; i++) {
		struct key_scope *top = ks.depth ? &ks.scope[ks.depth - 1] : NULL;
		size_t end;

		while (i < len && !structural[(unsigned char)buf[i]])
			i++;
		if (i == len)
			break;
		switch (buf[i]) {
		case '{':
		case '[':
			r = scan_open(&ks, buf[i] == '{', i, err, errlen);
			break;
		case '}':
		case ']':
			scan_close(&ks);
			break;
		case ',':
			if (top && top->object)
				top->want_key = true;
			else if (top)
				top->index++;
			break;
		case '\'':
			r = journal_bad(err, errlen, NULL, "bad JSON at byte %zu: a string in single quotes", i);
			break;
		default: /* '"' */
			end = string_end(buf, len, i + 1);
			if (top && top->object && top->want_key) {
				top->want_key = false;
				r = scan_key(&ks, buf + i + 1, end - i - 1, i, err, errlen);
			}
			i = end;
			break;
		}
	}
	while (ks.depth)
		scan_close(&ks);
	free(ks.keys);
	free(ks.text);
	return r;
}

/* JSON text (strict; no key twice) into an object. where prefixes messages. */
static int json_text(const char *buf, size_t len, const char *where, struct json_object **ret, char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct json_object *o;
	size_t end;
	int r;

	if (len > INT_MAX)
		return journal_bad(err, errlen, where, "too large (%zu bytes)", len);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	/* strict: no trailing commas, single-quoted values or other JSON-ish
	 * liberties (keys in single quotes get through: check_duplicate_keys
	 * refuses them) */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o) {
		if (jerr == json_tokener_continue)
			return journal_bad(err, errlen, where, "bad JSON at byte %zu: unexpected end of the JSON", end);
		return journal_bad(err, errlen, where, "bad JSON at byte %zu: %s", end, json_tokener_error_desc(jerr));
	}
	/* a NUL byte ends json-c's parse early; white space may follow */
	while (end < len && (buf[end] == '\n' || buf[end] == ' '))
		end++;
	if (end != len) {
		json_object_put(o);
		return journal_bad(err, errlen, where, "bad JSON at byte %zu: data after the object", end);
	}
	r = check_duplicate_keys(buf, len, err, errlen);
	if (r < 0) {
		json_object_put(o);
		if (where && err && errlen) {
			char m[512];

			snprintf(m, sizeof(m), "%s", err);
			util_set_err(err, errlen, "%s: %s", where, m);
		}
		return r;
	}
	*ret = o;
	return 0;
}

/* What json_text and parse_object made of buf, into a new journal. */
static int parse_journal_object(const char *buf, size_t len, const char *where, struct journal **ret, char *err,
				size_t errlen)
{
	struct json_object *o;
	struct journal *j;
	int r;

	r = json_text(buf, len, where, &o, err, errlen);
	if (r < 0)
		return r;
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

int journal_parse_checkpoint(const char *buf, size_t len, const char *where, struct journal **ret, char *err,
			     size_t errlen)
{
	char m[512] = "";
	int r = parse_journal_object(buf, len, where, ret, m, sizeof(m));

	if (r == -EBADMSG && strncmp(m, where, strlen(where)) != 0)
		util_set_err(err, errlen, "%s: %s", where, m);
	else if (r < 0)
		util_set_err(err, errlen, "%s", m);
	return r;
}

/* A record's del: each {kind, target} dropped from j, which must hold it. */
static int replay_del(struct journal *j, struct json_object *v, char *m, size_t mlen)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *d = json_object_array_get_idx(v, i);
		const char *kind, *target;
		struct journal_entry *e;
		char w[48];
		enum action_kind k;
		int r;

		snprintf(w, sizeof(w), "del[%zu]", i);
		if (!json_object_is_type(d, json_type_object))
			return journal_bad(m, mlen, w, "is %s, expected an object", type_name(json_object_get_type(d)));
		if ((r = check_keys(d, del_keys, w, m, mlen)) < 0 ||
		    (r = get_str(d, "kind", true, true, w, &kind, m, mlen)) < 0 ||
		    (r = get_str(d, "target", true, true, w, &target, m, mlen)) < 0)
			return r;
		e = action_kind_parse(kind, &k) == 0 ? journal_find(j, k, target) : NULL;
		if (!e) {
			char p[64];

			return journal_bad(m, mlen, w, "drops %s %s, which the journal does not hold", kind,
					   printable(target, strlen(target), p, sizeof(p)));
		}
		journal_kill_target(j, e);
	}
	return 0;
}

/* A record's set: each entry replaces the one j holds for its target in
 * place, or is appended. */
static int replay_set(struct journal *j, struct json_object *v, char *m, size_t mlen)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct journal_entry e, *old;
		char w[48];
		int r;

		snprintf(w, sizeof(w), "set[%zu]", i);
		if ((r = parse_entry(json_object_array_get_idx(v, i), w, false, &e, m, mlen)) < 0)
			return r;
		old = journal_find(j, e.kind, e.target);
		if (old) {
			journal_entry_done(old);
			*old = e;
			journal_touch(j, old);
		} else {
			r = journal_add_target(j, &e);
			journal_entry_done(&e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int journal_apply_record(struct journal *j, const char *buf, size_t len, const char *where, char *err, size_t errlen)
{
	struct json_object *o, *v;
	char m[512] = "";
	int r;

	r = json_text(buf, len, NULL, &o, m, sizeof(m));
	if (r < 0)
		goto out;
	r = -EBADMSG;
	if (!json_object_is_type(o, json_type_object)) {
		journal_bad(m, sizeof(m), NULL, "is %s, expected an object", type_name(json_object_get_type(o)));
		goto done;
	}
	if ((r = check_keys(o, record_keys, NULL, m, sizeof(m))) < 0 ||
	    (r = parse_header(o, j, false, m, sizeof(m))) < 0)
		goto done;
	if (json_object_object_get_ex(o, "transaction", &v)) {
		if (!v)
			journal_clear_txn(j);
		else if (!json_object_is_type(v, json_type_object))
			r = journal_bad(m, sizeof(m), NULL, "\"transaction\" is %s, expected an object or null",
					type_name(json_object_get_type(v)));
		else
			r = parse_txn(v, j, m, sizeof(m));
		if (r < 0)
			goto done;
	}
	if ((r = get(o, "del", json_type_array, false, NULL, &v, m, sizeof(m))) < 0 ||
	    (r > 0 && (r = replay_del(j, v, m, sizeof(m))) < 0))
		goto done;
	if ((r = get(o, "set", json_type_array, false, NULL, &v, m, sizeof(m))) < 0 ||
	    (r > 0 && (r = replay_set(j, v, m, sizeof(m))) < 0))
		goto done;
	r = 0;
done:
	json_object_put(o);
out:
	if (r < 0)
		util_set_err(err, errlen, "%s: %s", where, r == -ENOMEM ? strerror(ENOMEM) : m);
	return r;
}

int journal_parse_v1(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen)
{
	struct journal *j;
	size_t body = 0;
	uint32_t want = 0, crc;
	int r;

	r = parse_trailer(buf, len, &body, &want, err, errlen);
	if (r < 0)
		return r;
	crc = journal_crc(buf, body);
	if (crc != want)
		return journal_bad(err, errlen, NULL,
				   "checksum mismatch: trailer 0x%08" PRIx32 ", computed 0x%08" PRIx32, want, crc);
	if (body == 0)
		return journal_bad(err, errlen, NULL, "nothing before the end line");
	r = parse_journal_object(buf, body, NULL, &j, err, errlen);
	if (r < 0)
		return r;
	r = journal_check(j, err, errlen);
	if (r < 0) {
		journal_free(j);
		return r;
	}
	*ret = j;
	return 0;
}
