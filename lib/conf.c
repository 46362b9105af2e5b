/* The one safe INI reader (see conf.h): trust_open, the size and binary
 * checks, then inih fed line by line, so that every error has its line and
 * every key and header the comment above it; ${name} expansion and the diag
 * helpers its users share. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/conf.h"
#include "isolated/trust.h"

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
	LINE_CONT,    /* indented: continues the previous key's value */
	LINE_COMMENT, /* never reaches the handler: inih skips comments */
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
	/* The comment lines since the last line that was not one, for the
	 * key or header below them (reader_take_comment). */
	struct sbuf comment;
	unsigned comment_lines;
	int r; /* -ENOMEM seen */
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

static void reader_drop_comment(struct reader *rd)
{
	free(rd->comment.s);
	rd->comment = (struct sbuf){0};
	rd->comment_lines = 0;
}

/* A comment line, p at its "#" or ";": its text without that and one space
 * after it. */
static void reader_add_comment(struct reader *rd, const char *p)
{
	p++;
	if (*p == ' ')
		p++;
	if (rd->comment_lines++)
		sbuf_addc(&rd->comment, '\n');
	sbuf_adds(&rd->comment, p);
}

/* The comment block above the key or header being read, NULL when there is
 * none (or, with rd->r set, no memory); the block is then empty. */
static char *reader_take_comment(struct reader *rd)
{
	char *s;

	if (!rd->comment_lines)
		return NULL;
	rd->comment_lines = 0;
	s = sbuf_take(&rd->comment);
	if (!s)
		rd->r = -ENOMEM;
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

/* A line longer than inih takes: reported, and handed on as an empty line,
 * or as an empty section header if it was one (its body is then ignored).
 * NULL ends the stream (reader_full). */
static char *reader_long_line(struct reader *rd, char *str, const char *start, size_t n, size_t max)
{
	const char *p;

	reader_error(rd, "line longer than %zu characters", max);
	for (p = start; p < start + n && isspace((unsigned char)*p); p++)
		;
	if (*p != '[') {
		strcpy(str, "\n");
		return str;
	}
	if (reader_full(rd))
		return NULL;
	if (doc_add_section(rd, NULL, 0, true) < 0)
		rd->r = -ENOMEM;
	rd->have_prev_key = false;
	strcpy(str, "[]\n");
	return str;
}

/* An indented line p of str after a key continues its value, unless it
 * looks like a key: "  cpus = 0" under "match = ..." would silently become
 * part of the match; say what happened instead ("rcu_nocbs=1" without
 * spaces is a value). True when it was reported. */
static bool reader_indented_key(struct reader *rd, const char *p)
{
	size_t wlen = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
	const char *e = p + wlen;

	while (wlen && (*e == ' ' || *e == '\t'))
		e++;
	if (!(wlen && e > p + wlen && *e == '=' && (!e[1] || isspace((unsigned char)e[1]))))
		return false;
	reader_error(rd,
		     "indented key \"%.*s\": keys start in the first column (an indented line "
		     "continues the previous value)",
		     (int)wlen, p);
	return true;
}

/* A section header at p: recorded (broken when its syntax is wrong) and
 * handed to inih as "[]", the section being ours to know. NULL ends the
 * stream (reader_full). */
static char *reader_section(struct reader *rd, char *str, const char *p)
{
	const char *e;

	if (reader_full(rd))
		return NULL;
	e = find_chars_or_comment(p + 1, "]");
	if (*e != ']') {
		reader_error(rd, "missing \"]\" in section header");
		if (doc_add_section(rd, NULL, 0, true) < 0)
			rd->r = -ENOMEM;
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
		else
			rd->doc->sections[rd->doc->n_sections - 1].comment = reader_take_comment(rd);
	}
	rd->have_prev_key = false;
	strcpy(str, "[]\n");
	return str;
}

/* A "key = value" line at p: 1, or 0 after reporting a syntax error, or -1
 * to end the stream (reader_full). */
static int reader_key(struct reader *rd, const char *p)
{
	const char *e = find_chars_or_comment(p, "=:");

	if (*e != '=' && *e != ':') {
		reader_error(rd, "expected \"key = value\", got \"%s\"", p);
		return 0;
	}
	if (e == p) {
		reader_error(rd, "missing key name before \"%s\"", *e == '=' ? "=" : ":");
		return 0;
	}
	if (reader_full(rd))
		return -1;
	rd->kind = LINE_KEY;
	rd->have_prev_key = true;
	return 1;
}

/* The ini_reader: hands inih one line at a time, after classifying it the way
 * inih will, so the handler knows the line number and the section (even an
 * empty one), and so over-long lines and syntax errors are reported here, each
 * with its line, instead of inih's "first error line" only. */
static char *reader_next(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	const char *start, *nl, *p;
	size_t n, max;
	int r;

	if (rd->pos >= rd->len || num < 8)
		return NULL;
	start = rd->buf + rd->pos;
	nl = memchr(start, '\n', rd->len - rd->pos);
	n = nl ? (size_t)(nl - start) : rd->len - rd->pos;
	rd->pos += n + (nl ? 1 : 0);
	rd->lineno++;
	/* A comment block belongs to the line right below it: any other line
	 * ends it (a key's handler has taken it by now). */
	if (rd->kind != LINE_COMMENT)
		reader_drop_comment(rd);
	rd->kind = LINE_NONE;
	if (rd->lineno == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3, n -= 3;
	while (n && isspace((unsigned char)start[n - 1]))
		n--;
	/* inih needs room for "\r\n\0" (see INI_MAX_LINE in ini.h). */
	max = (size_t)num - 3;
	if (n > max)
		return reader_long_line(rd, str, start, n, max);
	memcpy(str, start, n);
	str[n] = '\0';

	for (p = str; *p && isspace((unsigned char)*p); p++)
		;
	if (*p == ';' || *p == '#') {
		reader_add_comment(rd, p);
		rd->kind = LINE_COMMENT;
	} else if (!*p) {
		/* blank */
	} else if (rd->have_prev_key && p > str) {
		if (reader_indented_key(rd, p)) {
			strcpy(str, "\n");
			return str;
		}
		rd->kind = LINE_CONT;
	} else if (*p == '[') {
		return reader_section(rd, str, p);
	} else if ((r = reader_key(rd, p)) <= 0) {
		if (r < 0)
			return NULL;
		strcpy(str, "\n");
		return str;
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
	ent->comment = reader_take_comment(rd);
	ent->line = rd->lineno;
	if (!ent->key || !ent->value || rd->r < 0) {
		free(ent->key);
		free(ent->value);
		free(ent->comment);
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
			free(s->entries[j].comment);
		}
		free(s->entries);
		free(s->header);
		free(s->comment);
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
	reader_drop_comment(&rd);
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

int conf_parse_file(const char *path, unsigned trust_flags, struct conf_doc *ret, struct diag *d)
{
	unsigned dummy = 0;
	char msg[PATH_MAX + 256];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	/* As root, like sshd with authorized_keys: only files, and directories
	 * to them, that no one but root can change; with TRUST_PUBLIC only files
	 * others may read, as the daemon shows them and their errors to anyone. */
	r = trust_open(path, trust_flags, &fd, &st, msg, sizeof(msg));
	if (r < 0) {
		conf_error(&dummy, d, path, 0, "%s", msg);
		return r;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		r = -EFBIG;
	} else {
		r = util_read_fd(fd, CONF_MAX_SIZE, &buf, &len);
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
