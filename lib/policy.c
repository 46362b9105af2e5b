/* Policy files: read them safely, feed them to inih line by line (so every
 * error has its line), expand ${name}, and find them in a directory. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/action.h"
#include "isolated/policy.h"
#include "isolated/trust.h"
#include "policy-internal.h"

void conf_error(unsigned *n_errors, struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	(*n_errors)++;
	if (!d)
		return;
	va_start(ap, fmt);
	diag_vadd(d, file, line, fmt, ap);
	va_end(ap);
}

bool conf_valid_var_name(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

int conf_expand(const char *s, conf_lookup_fn lookup, void *userdata, size_t *budget, char **ret, char *err,
		size_t errlen)
{
	struct sbuf b = {0};
	char *out;
	int r = 0;

	for (const char *p = s; *p;) {
		const char *dollar = strstr(p, "${"), *close;
		const char *val;
		char *name;

		if (!dollar) {
			sbuf_adds(&b, p);
			break;
		}
		sbuf_add(&b, p, (size_t)(dollar - p));
		close = strchr(dollar + 2, '}');
		if (!close) {
			snprintf(err, errlen, "unterminated variable reference in \"%s\"", s);
			r = -EINVAL;
			break;
		}
		name = strndup(dollar + 2, (size_t)(close - dollar - 2));
		if (!name) {
			r = -ENOMEM;
			break;
		}
		if (!conf_valid_var_name(name)) {
			snprintf(err, errlen, "invalid variable reference ${%s}", name);
			free(name);
			r = -EINVAL;
			break;
		}
		val = lookup(userdata, name, err, errlen, &r);
		free(name);
		if (!val) {
			if (r >= 0)
				r = -EINVAL;
			break;
		}
		if (b.len + strlen(val) > CONF_MAX_VALUE) {
			snprintf(err, errlen, "value longer than %d bytes after variable expansion", CONF_MAX_VALUE);
			r = -EINVAL;
			break;
		}
		sbuf_adds(&b, val);
		p = close + 1;
	}
	if (r >= 0 && b.len > *budget) {
		snprintf(err, errlen, "variables expand to more than %d bytes in all", CONF_MAX_EXPANDED);
		r = -EINVAL;
	}
	out = sbuf_take(&b);
	if (r >= 0 && !out)
		r = -ENOMEM;
	if (r < 0) {
		free(out);
		return r;
	}
	*budget -= strlen(out);
	*ret = out;
	return 0;
}

/* ---- reading and parsing ---- */

enum line_kind {
	LINE_NONE, /* blank, comment, or an error already reported */
	LINE_KEY,
	LINE_CONT, /* indented: continues the previous key's value */
};

struct reader {
	const char *buf;
	size_t len, pos;
	unsigned lineno;
	enum line_kind kind;
	bool have_prev_key; /* mirrors inih's prev_name: a key since the last section header */
	struct conf_doc *doc;
	struct diag *d;
	/* The value continuation lines are appended to, its length and the
	 * size allocated: grown by doubling, so a value of many lines is
	 * joined in linear time. */
	char *cont_value;
	size_t cont_len, cont_cap;
	size_t n_items; /* sections and keys, up to CONF_MAX_ITEMS */
	int r;		/* -ENOMEM seen */
};

/* inih's rule: an inline comment starts at ';' after white space. Returns the
 * first of chars, or the comment, or the end. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static int doc_add_section(struct reader *rd, const char *header, size_t hlen, bool broken)
{
	struct conf_doc *doc = rd->doc;
	struct conf_section *v, *sec;

	v = realloc(doc->sections, (doc->n_sections + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	doc->sections = v;
	sec = &v[doc->n_sections];
	memset(sec, 0, sizeof(*sec));
	sec->line = rd->lineno;
	sec->broken = broken;
	if (header) {
		while (hlen && isspace((unsigned char)*header))
			header++, hlen--;
		while (hlen && isspace((unsigned char)header[hlen - 1]))
			hlen--;
		sec->header = strndup(header, hlen);
		if (!sec->header)
			return -ENOMEM;
	}
	doc->n_sections++;
	return 0;
}

static void reader_error(struct reader *rd, const char *fmt, ...) ISO_PRINTF(2, 3);
static void reader_error(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	rd->doc->n_errors++;
	if (!rd->d)
		return;
	va_start(ap, fmt);
	diag_vadd(rd->d, rd->doc->file, rd->lineno, fmt, ap);
	va_end(ap);
}

/* At a section header or a key: counts it, or, when the file has its
 * CONF_MAX_ITEMS already, reports and returns true. The file fails to load
 * then, and the rest of it cannot change that: the reader ends the stream. */
static bool reader_full(struct reader *rd)
{
	if (rd->n_items < CONF_MAX_ITEMS) {
		rd->n_items++;
		return false;
	}
	reader_error(rd, "more than %d sections and keys: the rest of the file is not read", CONF_MAX_ITEMS);
	return true;
}

/* The ini_reader: hands inih one line at a time, after classifying it the way
 * inih will, so the handler knows the line number and the section (even an
 * empty one), and so over-long lines and syntax errors are reported here, each
 * with its line, instead of inih's "first error line" only. */
static char *reader_next(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	const char *start, *nl, *p, *e;
	size_t n, max;

	if (rd->pos >= rd->len || num < 8)
		return NULL;
	start = rd->buf + rd->pos;
	nl = memchr(start, '\n', rd->len - rd->pos);
	n = nl ? (size_t)(nl - start) : rd->len - rd->pos;
	rd->pos += n + (nl ? 1 : 0);
	rd->lineno++;
	rd->kind = LINE_NONE;
	if (rd->lineno == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3, n -= 3;
	while (n && isspace((unsigned char)start[n - 1]))
		n--;
	/* inih needs room for "\r\n\0" (see INI_MAX_LINE in ini.h). */
	max = (size_t)num - 3;
	if (n > max) {
		reader_error(rd, "line longer than %zu characters", max);
		for (p = start; p < start + n && isspace((unsigned char)*p); p++)
			;
		if (*p == '[' && reader_full(rd))
			return NULL;
		if (*p == '[' && doc_add_section(rd, NULL, 0, true) < 0)
			rd->r = -ENOMEM;
		if (*p == '[') {
			rd->have_prev_key = false;
			strcpy(str, "[]\n");
		} else
			strcpy(str, "\n");
		return str;
	}
	memcpy(str, start, n);
	str[n] = '\0';

	for (p = str; *p && isspace((unsigned char)*p); p++)
		;
	if (!*p || *p == ';' || *p == '#') {
		/* blank or comment */
	} else if (rd->have_prev_key && p > str) {
		size_t wlen = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

		/* "  cpus = 0" under "match = ..." would silently become part of
		 * the match; say what happened instead. ("rcu_nocbs=1" without
		 * spaces is a value.) */
		e = p + wlen;
		while (wlen && (*e == ' ' || *e == '\t'))
			e++;
		if (wlen && e > p + wlen && *e == '=' && (!e[1] || isspace((unsigned char)e[1]))) {
			reader_error(rd,
				     "indented key \"%.*s\": keys start in the first column (an indented line "
				     "continues the previous value)",
				     (int)wlen, p);
			strcpy(str, "\n");
			return str;
		}
		rd->kind = LINE_CONT;
	} else if (*p == '[') {
		if (reader_full(rd))
			return NULL;
		e = find_chars_or_comment(p + 1, "]");
		if (*e != ']') {
			reader_error(rd, "missing \"]\" in section header");
			if (doc_add_section(rd, NULL, 0, true) < 0)
				rd->r = -ENOMEM;
			strcpy(str, "[]\n");
		} else {
			const char *after = e + 1;
			bool broken;

			while (*after && isspace((unsigned char)*after))
				after++;
			broken = *after && *after != ';' && *after != '#';
			if (broken)
				reader_error(rd, "unexpected text after \"]\": \"%s\"", after);
			if (doc_add_section(rd, p + 1, (size_t)(e - p - 1), broken) < 0)
				rd->r = -ENOMEM;
			strcpy(str, "[]\n");
		}
		rd->have_prev_key = false;
		return str;
	} else {
		e = find_chars_or_comment(p, "=:");
		if (*e != '=' && *e != ':') {
			reader_error(rd, "expected \"key = value\", got \"%s\"", p);
			strcpy(str, "\n");
			return str;
		}
		if (e == p) {
			reader_error(rd, "missing key name before \"%s\"", *e == '=' ? "=" : ":");
			strcpy(str, "\n");
			return str;
		}
		if (reader_full(rd))
			return NULL;
		rd->kind = LINE_KEY;
		rd->have_prev_key = true;
	}
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int reader_handler(void *user, const char *section, const char *name, const char *value)
{
	struct reader *rd = user;
	struct conf_doc *doc = rd->doc;
	struct conf_section *sec;
	struct conf_entry *v, *ent;

	(void)section; /* ours is doc's last section, recorded by the reader */
	if (rd->kind == LINE_CONT) {
		size_t vlen = strlen(value), need;

		sec = doc->n_sections ? &doc->sections[doc->n_sections - 1] : NULL;
		if (!sec || !sec->n_entries)
			return 1;
		ent = &sec->entries[sec->n_entries - 1];
		if (ent->value != rd->cont_value) {
			rd->cont_value = ent->value;
			rd->cont_len = strlen(ent->value);
			rd->cont_cap = rd->cont_len + 1;
		}
		need = rd->cont_len + 1 + vlen + 1; /* " " value NUL */
		if (need > rd->cont_cap) {
			size_t cap = rd->cont_cap * 2 > need ? rd->cont_cap * 2 : need;
			char *nv = realloc(ent->value, cap);

			if (!nv) {
				rd->r = -ENOMEM;
				return 1;
			}
			ent->value = rd->cont_value = nv;
			rd->cont_cap = cap;
		}
		if (rd->cont_len)
			ent->value[rd->cont_len++] = ' ';
		memcpy(ent->value + rd->cont_len, value, vlen + 1);
		rd->cont_len += vlen;
		return 1;
	}
	if (rd->kind != LINE_KEY) {
		reader_error(rd, "syntax error");
		return 1;
	}
	if (!doc->n_sections) {
		/* keys before any section header */
		if (doc_add_section(rd, NULL, 0, false) < 0) {
			rd->r = -ENOMEM;
			return 1;
		}
	}
	sec = &doc->sections[doc->n_sections - 1];
	v = realloc(sec->entries, (sec->n_entries + 1) * sizeof(*v));
	if (!v) {
		rd->r = -ENOMEM;
		return 1;
	}
	sec->entries = v;
	ent = &v[sec->n_entries];
	ent->key = strdup(name);
	ent->value = strdup(value);
	ent->line = rd->lineno;
	if (!ent->key || !ent->value) {
		free(ent->key);
		free(ent->value);
		rd->r = -ENOMEM;
		return 1;
	}
	sec->n_entries++;
	return 1;
}

void conf_doc_free(struct conf_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_sections; i++) {
		struct conf_section *s = &doc->sections[i];

		for (size_t j = 0; j < s->n_entries; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->header);
	}
	free(doc->sections);
	free(doc->file);
	memset(doc, 0, sizeof(*doc));
}

bool conf_doc_is_empty(const struct conf_doc *doc)
{
	return doc->n_sections == 0;
}

static int conf_parse_buffer(const char *file, const char *buf, size_t len, struct conf_doc *ret, struct diag *d)
{
	struct conf_doc doc = {0};
	struct reader rd = {
	    .buf = buf,
	    .len = len,
	    .doc = &doc,
	    .d = d,
	};
	int r;

	doc.file = strdup(file);
	if (!doc.file)
		return -ENOMEM;
	r = ini_parse_stream(reader_next, &rd, reader_handler, &rd);
	if (r < 0 || rd.r < 0) {
		conf_doc_free(&doc);
		return -ENOMEM;
	}
	if (r > 0)
		/* Every line inih sees has been checked; keep this as a safety net. */
		conf_error(&doc.n_errors, d, file, (unsigned)r, "syntax error");
	*ret = doc;
	return 0;
}

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap > CONF_MAX_SIZE) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_MAX_SIZE) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int conf_parse_file(const char *path, struct conf_doc *ret, struct diag *d)
{
	unsigned dummy = 0;
	char msg[PATH_MAX + 256];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	/* As root, like sshd with authorized_keys: only files, and directories
	 * to them, that no one but root can change; and only files others may
	 * read, as the daemon shows them and their errors to anyone. */
	r = trust_open(path, TRUST_PUBLIC, &fd, &st, msg, sizeof(msg));
	if (r < 0) {
		conf_error(&dummy, d, path, 0, "%s", msg);
		return r;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		r = -EFBIG;
	} else {
		r = read_fd(fd, &buf, &len);
	}
	if (r == -EFBIG) {
		conf_error(&dummy, d, path, 0, "file too large (limit %d bytes)", CONF_MAX_SIZE);
		goto out;
	}
	if (r < 0) {
		conf_error(&dummy, d, path, 0, "cannot read: %s", strerror(-r));
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		conf_error(&dummy, d, path, 0, "binary file");
		r = -EINVAL;
		goto out;
	}
	r = conf_parse_buffer(path, buf, len, ret, d);
out:
	free(buf);
	close(fd);
	return r;
}

/* Diag lines of one file sorted by line (stable), from index `from` on: the
 * checks run section by section and then across sections. */
static unsigned diag_line_of(const char *s, size_t flen)
{
	return (unsigned)strtoul(s + flen + 1, NULL, 10);
}

struct diag_key {
	unsigned line;
	size_t index; /* ties keep their order: qsort is not stable */
	char *s;
};

static int cmp_diag_key(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void conf_sort_diag(struct diag *d, size_t from, const char *file)
{
	size_t flen = strlen(file), n;
	struct diag_key *keys;

	if (!d || from >= d->n)
		return;
	for (size_t i = from; i < d->n; i++)
		if (strncmp(d->lines[i], file, flen) != 0 || d->lines[i][flen] != ':')
			return;
	/* A file of syntax errors has a line of diag per line of text: sort in
	 * n log n, not by insertion. Without memory the lines stay in the
	 * order they were found, which is only less tidy. */
	n = d->n - from;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct diag_key){diag_line_of(d->lines[from + i], flen), i, d->lines[from + i]};
	qsort(keys, n, sizeof(*keys), cmp_diag_key);
	for (size_t i = 0; i < n; i++)
		d->lines[from + i] = keys[i].s;
	free(keys);
}

/* ---- policies ---- */

void policy_free(struct policy *p)
{
	struct rule *rules[2];
	size_t counts[2];

	if (!p)
		return;
	rules[0] = p->irq_rules, counts[0] = p->n_irq_rules;
	rules[1] = p->thread_rules, counts[1] = p->n_thread_rules;
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < counts[k]; i++) {
			struct rule *r = &rules[k][i];

			for (size_t j = 0; j < r->n_terms; j++) {
				free(r->terms[j].arg);
				cpuset_free(&r->terms[j].set);
			}
			free(r->terms);
			free(r->name);
			free(r->match_text);
			free(r->cpus_text);
			cpuset_free(&r->cpus);
		}
		free(rules[k]);
	}
	for (size_t i = 0; i < p->n_sysctls; i++) {
		free(p->sysctls[i].name);
		free(p->sysctls[i].value);
	}
	free(p->sysctls);
	strv_free(p->cmdline_require);
	strv_free(p->cmdline_recommend);
	cpuset_free(&p->rt_cpus);
	cpuset_free(&p->housekeeping_cpus);
	cpuset_free(&p->irq_default);
	cpuset_free(&p->wq_cpumask);
	policy_scope_done(&p->scope);
	free(p->file);
	free(p->name);
	free(p->summary);
	free(p);
}

int policy_load(const char *path, const struct hostconf *hc, const struct cpuset *online, struct policy **ret,
		struct diag *d)
{
	struct conf_doc doc;
	struct policy *p;
	unsigned n_errors;
	size_t first = d ? d->n : 0;
	int r;

	if (!path || !online || !ret)
		return -EINVAL;
	r = conf_parse_file(path, &doc, d);
	if (r < 0)
		return r;
	n_errors = doc.n_errors;
	if (n_errors == 0 && conf_doc_is_empty(&doc)) {
		conf_error(&n_errors, d, path, 0, "empty policy");
		conf_doc_free(&doc);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		conf_doc_free(&doc);
		return -ENOMEM;
	}
	p->file = strdup(path);
	p->hc = hc;
	r = p->file ? policy_validate_doc(&doc, hc, online, p, &n_errors, d) : -ENOMEM;
	conf_doc_free(&doc);
	conf_sort_diag(d, first, path);
	if (r < 0 || n_errors) {
		policy_free(p);
		return r < 0 ? r : -EINVAL;
	}
	*ret = p;
	return 0;
}

/* A mode name is a name, never a path: [A-Za-z0-9_-]+. */
bool policy_name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_list_dir(const char *dir, char ***ret)
{
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *dp;
	int r = 0;

	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((errno = 0, de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *path;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0 ||
		    strcmp(de->d_name, "host.conf") == 0)
			continue;
		if (fstatat(dirfd(dp), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		path = util_sprintf("%s/%s", dir, de->d_name);
		r = strv_push(&v, path);
		if (r < 0)
			break;
		n++;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dp);
	if (r == 0 && !v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			r = -ENOMEM;
	}
	if (r < 0) {
		strv_free(v);
		return r;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	return 0;
}

int policy_find(const char *dir, const char *name, char **ret_path)
{
	struct stat st;
	char *path;

	if (!dir || !name || !policy_name_valid(name))
		return -EINVAL;
	if (strcmp(name, "host") == 0)
		return -ENOENT; /* host.conf holds variables, not a mode */
	path = util_sprintf("%s/%s.conf", dir, name);
	if (!path)
		return -ENOMEM;
	if (stat(path, &st) < 0) {
		int r = -errno;

		free(path);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		free(path);
		return -ENOENT;
	}
	*ret_path = path;
	return 0;
}

const char *policy_mode_type_name(enum mode_type t)
{
	switch (t) {
	case MODE_TYPE_VANILLA:
		return "vanilla";
	case MODE_TYPE_RT_ONLY:
		return "rt-only";
	case MODE_TYPE_DEDICATED:
		return "dedicated";
	case MODE_TYPE_OUTSOURCING:
		return "outsourcing";
	}
	return "unknown";
}

/* A rule's scheduling is an action value (lib/action.c): only the kinds
 * differ, the policy's enum against the kernel's SCHED_* numbers. */
const char *policy_sched_format(const struct sched_spec *s, char *buf, size_t len)
{
	char value[ACTION_SCHED_MAX];
	int policy = s->kind == SCHED_KIND_FIFO ? SCHED_FIFO : s->kind == SCHED_KIND_RR ? SCHED_RR : SCHED_OTHER;

	snprintf(buf, len, "%s", s->kind == SCHED_KIND_UNSET ? "" : action_sched_name(policy, s->prio, value));
	return buf;
}

int policy_sched_parse(const char *s, struct sched_spec *ret, char *err, size_t errlen)
{
	int policy, prio, r = action_sched_parse_rule(s, &policy, &prio, err, errlen);

	if (r < 0)
		return r;
	*ret = (struct sched_spec){
	    .kind = policy == SCHED_FIFO ? SCHED_KIND_FIFO
		    : policy == SCHED_RR ? SCHED_KIND_RR
					 : SCHED_KIND_OTHER,
	    .prio = prio,
	};
	return 0;
}

bool policy_sched_is_rt(const struct sched_spec *s)
{
	return s && (s->kind == SCHED_KIND_FIFO || s->kind == SCHED_KIND_RR);
}

/* ---- scope ---- */

/* A cgroup path as the kernel prints it in /proc/PID/cgroup: absolute, no
 * "." or ".." and no empty component (those would never match a task's
 * path, and the mistake would go unnoticed), printable ASCII without spaces.
 * A trailing "/" is dropped. Returns the normalised copy, or NULL with a
 * message (ret_r -EINVAL or -ENOMEM). */
static char *scope_cgroup(const char *path, int *ret_r, char *err, size_t errlen)
{
	size_t len = strlen(path);
	char *s;

	*ret_r = -EINVAL;
	if (!len) {
		snprintf(err, errlen, "missing cgroup path in scope \"cgroup:\" (expected cgroup:/PATH)");
		return NULL;
	}
	for (const char *c = path; *c; c++)
		if (*c <= ' ' || *c > '~') {
			snprintf(err, errlen,
				 "invalid character in cgroup path \"%s\" (printable ASCII without spaces only)", path);
			return NULL;
		}
	if (path[0] != '/') {
		snprintf(err, errlen, "cgroup path \"%s\" is not absolute (it must start with \"/\")", path);
		return NULL;
	}
	while (len > 1 && path[len - 1] == '/')
		len--;
	for (size_t i = 1, from = 1; len > 1 && i <= len; i++) {
		const char *comp = path + from;
		size_t n = i - from;

		if (i < len && path[i] != '/')
			continue;
		if (n == 0) {
			snprintf(err, errlen, "empty component in cgroup path \"%s\"", path);
			return NULL;
		}
		if ((n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.')) {
			snprintf(err, errlen,
				 "\"%.*s\" in cgroup path \"%s\" (use the path as /proc/PID/cgroup shows it)", (int)n,
				 comp, path);
			return NULL;
		}
		from = i + 1;
	}
	s = strndup(path, len);
	if (!s) {
		*ret_r = -ENOMEM;
		return NULL;
	}
	*ret_r = 0;
	return s;
}

int policy_scope_parse(const char *s, struct scope *ret, char *err, size_t errlen)
{
	struct scope sc = {SCOPE_HOST, 0, NULL};
	int r;

	if (!s || !ret)
		return -EINVAL;
	if (strcmp(s, "host") == 0) {
		*ret = sc;
		return 0;
	}
	if (strncmp(s, "process:", 8) == 0) {
		const char *pid = s + 8;
		long v = 0;

		for (const char *c = pid; *c; c++)
			if (!isdigit((unsigned char)*c)) {
				snprintf(err, errlen, "invalid pid \"%s\" in scope \"%s\" (expected a positive number)",
					 pid, s);
				return -EINVAL;
			}
		if (!*pid) {
			snprintf(err, errlen, "missing pid in scope \"%s\" (expected process:PID)", s);
			return -EINVAL;
		}
		r = util_parse_long(pid, 1, INT32_MAX, &v);
		if (r < 0) {
			snprintf(err, errlen, "invalid pid \"%s\" in scope \"%s\" (expected a positive number)", pid,
				 s);
			return -EINVAL;
		}
		sc.kind = SCOPE_PROCESS;
		sc.pid = (int)v;
		*ret = sc;
		return 0;
	}
	if (strncmp(s, "cgroup:", 7) == 0) {
		sc.cgroup = scope_cgroup(s + 7, &r, err, errlen);
		if (!sc.cgroup)
			return r;
		sc.kind = SCOPE_CGROUP;
		*ret = sc;
		return 0;
	}
	snprintf(err, errlen, "invalid scope \"%s\" (expected host, process:PID or cgroup:PATH)", s);
	return -EINVAL;
}

const char *policy_scope_format(const struct scope *s, char *buf, size_t len)
{
	switch (s->kind) {
	case SCOPE_PROCESS:
		snprintf(buf, len, "process:%d", s->pid);
		break;
	case SCOPE_CGROUP:
		snprintf(buf, len, "cgroup:%s", s->cgroup ? s->cgroup : "");
		break;
	default:
		snprintf(buf, len, "host");
		break;
	}
	return buf;
}

void policy_scope_done(struct scope *s)
{
	if (!s)
		return;
	free(s->cgroup);
	*s = (struct scope){SCOPE_HOST, 0, NULL};
}

int policy_set_scope(struct policy *p, const struct scope *s)
{
	struct scope copy = {s->kind, s->pid, NULL};

	if (s->kind == SCOPE_CGROUP) {
		if (!s->cgroup)
			return -EINVAL;
		copy.cgroup = strdup(s->cgroup);
		if (!copy.cgroup)
			return -ENOMEM;
	}
	policy_scope_done(&p->scope);
	p->scope = copy;
	/* Not from the file any more: no line to point at. */
	p->scope_line = 0;
	return 0;
}
