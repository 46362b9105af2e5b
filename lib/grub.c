/* Editing /etc/default/grub: the kernel parameters of a mode into the two
 * GRUB_CMDLINE variables, every other byte kept, and the durable write with
 * the one backup of the original file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/cpuset.h"
#include "isolated/grub.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"
#include "dfile-internal.h"

#define VAR_LINUX "GRUB_CMDLINE_LINUX"
#define VAR_DEFAULT "GRUB_CMDLINE_LINUX_DEFAULT"

/* The kernel's white space (lib/cmdline.c uses isspace()). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

/* ---- comparing values ---- */

/* Boot parameters whose value is a cpu list. */
static bool cpulist_param(const char *key)
{
	return !strcmp(key, "isolcpus") || !strcmp(key, "nohz_full") || !strcmp(key, "rcu_nocbs") ||
	       !strcmp(key, "irqaffinity");
}

/* isolcpus may carry flags before its list ("isolcpus=managed_irq,domain,2-3"). */
static const char *cpulist_part(const char *key, const char *value)
{
	if (strcmp(key, "isolcpus") == 0)
		while (!strncmp(value, "nohz,", 5) || !strncmp(value, "domain,", 7) ||
		       !strncmp(value, "managed_irq,", 12))
			value = strchr(value, ',') + 1;
	return value;
}

bool grub_param_equal(const char *key, const char *a, const char *b)
{
	struct cpuset x = CPUSET_INIT, y = CPUSET_INIT;
	char err[128];
	bool eq;

	if (!a || !b)
		return a == b;
	if (!cpulist_param(key))
		return strcmp(a, b) == 0;
	if (cpuset_parse_list(cpulist_part(key, a), &x, err, sizeof(err)) < 0 ||
	    cpuset_parse_list(cpulist_part(key, b), &y, err, sizeof(err)) < 0)
		eq = strcmp(a, b) == 0;
	else
		eq = cpuset_equal(&x, &y);
	cpuset_free(&x);
	cpuset_free(&y);
	return eq;
}

char *grub_param_shortest(const char *param)
{
	const char *eq = strchr(param, '=');
	struct cpuset set = CPUSET_INIT;
	char *key, *list = NULL, *out = NULL, err[128];
	const char *part;

	if (!eq)
		return strdup(param);
	key = strndup(param, (size_t)(eq - param));
	if (!key)
		return NULL;
	part = cpulist_part(key, eq + 1);
	if (!cpulist_param(key) || cpuset_parse_list(part, &set, err, sizeof(err)) < 0 ||
	    cpuset_format_list(&set, &list) < 0)
		out = strdup(param);
	else
		out = util_sprintf("%s=%.*s%s", key, (int)(part - (eq + 1)), eq + 1, list);
	cpuset_free(&set);
	free(list);
	free(key);
	return out;
}

/* ---- the edit of a command line value ---- */

/* A required parameter: key and value (NULL for a bare key) and the token
 * that says it on a command line (quoted when the value has white space). */
struct want {
	char *key;
	const char *value; /* into key's allocation */
	char *token;
};

static void wants_free(struct want *w, size_t n)
{
	for (size_t i = 0; w && i < n; i++) {
		free(w[i].key);
		free(w[i].token);
	}
	free(w);
}

char *grub_param_split(const char *param, const char **ret_value)
{
	char *key = strdup(param), *eq;

	if (!key)
		return NULL;
	eq = strchr(key, '=');
	if (eq)
		*eq = '\0';
	*ret_value = eq ? eq + 1 : NULL;
	return key;
}

/* The kernel parses key="a b" (lib/cmdline.c next_arg) but has no escape
 * for a double quote inside a value. */
static int make_want(const char *param, struct want *ret, char *err, size_t errlen)
{
	struct want w = {0};
	bool space = false;

	for (const unsigned char *p = (const unsigned char *)param; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			util_set_err(err, errlen,
				     "boot parameter \"%s\": control characters cannot be passed to the kernel", param);
			return -EINVAL;
		}
		if (*p == '"') {
			util_set_err(err, errlen, "boot parameter %s: a double quote cannot be passed to the kernel",
				     param);
			return -EINVAL;
		}
	}
	/* A bare "--" is not a parameter: it ends the kernel's, and what
	 * follows it (every parameter appended later) would go to init. */
	if (strcmp(param, "--") == 0) {
		util_set_err(err, errlen, "boot parameter \"--\": it ends the kernel's parameters");
		return -EINVAL;
	}
	w.key = grub_param_split(param, &w.value);
	if (!w.key)
		return -ENOMEM;
	for (const char *p = w.key; *p; p++)
		space |= is_space(*p);
	if (!w.key[0] || space) {
		util_set_err(err, errlen, "boot parameter \"%s\": %s", param,
			     space ? "white space in its name" : "no name before '='");
		free(w.key);
		return -EINVAL;
	}
	space = false;
	for (const char *p = w.value; p && *p; p++)
		space |= is_space(*p);
	w.token = space ? util_sprintf("%s=\"%s\"", w.key, w.value) : strdup(param);
	if (!w.token) {
		free(w.key);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

/* The parameters as wants; a key given twice with the same value counts
 * once, with two values it is an error (the result would depend on order
 * and never settle). */
static int make_wants(char *const *params, struct want **ret, size_t *ret_n, char *err, size_t errlen)
{
	size_t n = 0, cap = strv_len(params);
	struct want *w = calloc(cap + 1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; params && params[i]; i++) {
		struct want x;
		bool dup = false;

		r = make_want(params[i], &x, err, errlen);
		if (r < 0)
			goto fail;
		for (size_t k = 0; k < n && !dup; k++) {
			if (strcmp(w[k].key, x.key) != 0)
				continue;
			if (!grub_param_equal(x.key, w[k].value, x.value)) {
				util_set_err(err, errlen, "boot parameter %s is required twice, as %s and %s", x.key,
					     w[k].token, x.token);
				free(x.key);
				free(x.token);
				r = -EINVAL;
				goto fail;
			}
			dup = true;
		}
		if (dup) {
			free(x.key);
			free(x.token);
		} else
			w[n++] = x;
	}
	*ret = w;
	*ret_n = n;
	return 0;
fail:
	wants_free(w, n);
	return r;
}

struct span {
	size_t start, end;
};

/* The parameters of a command line, by the kernel's rules (and
 * procfmt_cmdline_get's): white space separates them outside double quotes.
 * Stops at a bare "--", whose offset goes to *ret_dashdash (SIZE_MAX when
 * there is none): what follows is init's. -EINVAL on an unbalanced quote. */
static int cmdline_spans(const char *v, struct span **ret, size_t *ret_n, size_t *ret_dashdash)
{
	struct span *t = NULL;
	size_t n = 0, cap = 0, p = 0, dd = SIZE_MAX;

	for (;;) {
		size_t s;
		bool quoted = false, had_quote = false;

		while (v[p] && is_space(v[p]))
			p++;
		if (!v[p])
			break;
		s = p;
		while (v[p] && (quoted || !is_space(v[p]))) {
			if (v[p] == '"') {
				quoted = !quoted;
				had_quote = true;
			}
			p++;
		}
		if (quoted) {
			free(t);
			return -EINVAL;
		}
		if (!had_quote && p - s == 2 && v[s] == '-' && v[s + 1] == '-') {
			dd = s;
			break;
		}
		if (n == cap) {
			struct span *nt = realloc(t, (cap ? cap * 2 : 16) * sizeof(*t));

			if (!nt) {
				free(t);
				return -ENOMEM;
			}
			t = nt;
			cap = cap ? cap * 2 : 16;
		}
		t[n++] = (struct span){s, p};
	}
	*ret = t;
	*ret_n = n;
	*ret_dashdash = dd;
	return 0;
}

/* One change to a string: [start, end) becomes text. */
struct edit {
	size_t start, end;
	char *text;
};

struct edits {
	struct edit *v;
	size_t n, cap;
};

static void edits_free(struct edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	*e = (struct edits){0};
}

/* Takes text (frees it on failure). */
static int edits_add(struct edits *e, size_t start, size_t end, char *text)
{
	if (!text)
		return -ENOMEM;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct edit *v = realloc(e->v, cap * sizeof(*v));

		if (!v) {
			free(text);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = (struct edit){start, end, text};
	return 0;
}

/* The edits that give one variable's value the wants: occurrences with
 * another value replaced; with append, the missing ones added after the
 * last parameter (before a "--"). -EINVAL on an unbalanced quote;
 * *ret_dashdash as cmdline_spans. */
static int plan_value(const char *value, const struct want *w, size_t nw, bool append, struct edits *out,
		      size_t *ret_dashdash)
{
	struct span *t = NULL;
	size_t nt = 0, dd;
	bool *found = calloc(nw + 1, sizeof(*found));
	struct sbuf add = {0};
	int r;

	if (!found)
		return -ENOMEM;
	r = cmdline_spans(value, &t, &nt, &dd);
	if (r < 0) {
		free(found);
		return r;
	}
	for (size_t i = 0; i < nt; i++) {
		struct sbuf word = {0};
		const char *v;
		char *s, *key;

		/* The parameter as the kernel gets it: quotes removed. */
		for (size_t p = t[i].start; p < t[i].end; p++)
			if (value[p] != '"')
				sbuf_addc(&word, value[p]);
		s = sbuf_take(&word);
		key = s ? grub_param_split(s, &v) : NULL;
		free(s);
		if (!key) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < nw; k++) {
			if (strcmp(key, w[k].key) != 0)
				continue;
			found[k] = true;
			if (!grub_param_equal(key, v, w[k].value)) {
				r = edits_add(out, t[i].start, t[i].end, strdup(w[k].token));
				if (r < 0) {
					free(key);
					goto out;
				}
			}
			break;
		}
		free(key);
	}
	for (size_t k = 0; append && k < nw; k++) {
		if (found[k])
			continue;
		if (dd == SIZE_MAX && (add.len > 0 || nt > 0))
			sbuf_addc(&add, ' ');
		sbuf_adds(&add, w[k].token);
		if (dd != SIZE_MAX)
			sbuf_addc(&add, ' ');
	}
	if (add.len > 0) {
		size_t at = dd != SIZE_MAX ? dd : nt > 0 ? t[nt - 1].end : 0;

		r = edits_add(out, at, at, sbuf_take(&add));
		if (r < 0)
			goto out;
	}
	r = 0;
	*ret_dashdash = dd;
out:
	free(add.s);
	free(found);
	free(t);
	return r;
}

/* The edits of both variables; value NULL is an unset variable. */
static int plan_both(const char *cmdline_linux, const char *cmdline_default, const struct want *w, size_t nw,
		     struct edits *el, struct edits *ed, char *err, size_t errlen)
{
	size_t dd;
	int r;

	if (cmdline_linux) {
		r = plan_value(cmdline_linux, w, nw, false, el, &dd);
		if (r == -EINVAL)
			util_set_err(err, errlen, VAR_LINUX " has an unbalanced double quote: \"%s\"", cmdline_linux);
		if (r < 0)
			return r;
		if (dd != SIZE_MAX && nw > 0) {
			util_set_err(err, errlen,
				     VAR_LINUX " has \"--\": what follows it, " VAR_DEFAULT
					       " included, goes to init, not to the kernel");
			return -EINVAL;
		}
	}
	r = plan_value(cmdline_default ? cmdline_default : "", w, nw, true, ed, &dd);
	if (r == -EINVAL)
		util_set_err(err, errlen, VAR_DEFAULT " has an unbalanced double quote: \"%s\"", cmdline_default);
	return r;
}

static char *apply_value(const char *value, const struct edits *e)
{
	struct sbuf b = {0};
	size_t at = 0;

	for (size_t i = 0; i < e->n; i++) {
		sbuf_add(&b, value + at, e->v[i].start - at);
		sbuf_adds(&b, e->v[i].text);
		at = e->v[i].end;
	}
	sbuf_adds(&b, value + at);
	return sbuf_take(&b);
}

int grub_edit_values(const char *cmdline_linux, const char *cmdline_default, char *const *params, char **ret_linux,
		     char **ret_default, bool *ret_changed, char *err, size_t errlen)
{
	struct edits el = {0}, ed = {0};
	struct want *w = NULL;
	size_t nw = 0;
	char *nl = NULL, *nd = NULL;
	int r;

	r = make_wants(params, &w, &nw, err, errlen);
	if (r < 0)
		return r;
	r = plan_both(cmdline_linux, cmdline_default, w, nw, &el, &ed, err, errlen);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (cmdline_linux && !(nl = apply_value(cmdline_linux, &el)))
		goto out;
	if ((cmdline_default || ed.n) && !(nd = apply_value(cmdline_default ? cmdline_default : "", &ed)))
		goto out;
	*ret_linux = nl;
	*ret_default = nd;
	*ret_changed = el.n + ed.n > 0;
	nl = nd = NULL;
	r = 0;
out:
	free(nl);
	free(nd);
	edits_free(&el);
	edits_free(&ed);
	wants_free(w, nw);
	return r;
}

/* ---- finding the assignment in the file ---- */

/* The lexer's state over the whole file: the line it is on, and how deep it
 * is in nested quotes and substitutions, bounded so that a hostile file
 * cannot exhaust the stack. */
struct lex {
	const char *buf;
	size_t len;
	unsigned line;
	unsigned depth;
	bool too_deep;
	bool unclosed;	    /* the file ends inside a quote or substitution */
	unsigned open_line; /* where the unclosed one opened */
};

#define LEX_MAX_DEPTH 32

static size_t skip_dollar(struct lex *x, size_t i);

static size_t unclosed(struct lex *x, unsigned line)
{
	if (!x->unclosed)
		x->open_line = line;
	x->unclosed = true;
	return x->len;
}

/* Past the closing single quote of a string whose content starts at i. */
static size_t skip_single(struct lex *x, size_t i)
{
	const char *q = i < x->len ? memchr(x->buf + i, '\'', x->len - i) : NULL;
	size_t e = q ? (size_t)(q - x->buf) + 1 : x->len;
	unsigned line = x->line;

	for (size_t k = i; k < e; k++)
		x->line += x->buf[k] == '\n';
	return q ? e : unclosed(x, line);
}

/* Past the closing double quote of a string whose content starts at i. */
static size_t skip_double(struct lex *x, size_t i)
{
	unsigned line = x->line;

	while (i < x->len) {
		char c = x->buf[i];

		if (c == '"')
			return i + 1;
		if (c == '\\' && i + 1 < x->len) {
			x->line += x->buf[i + 1] == '\n';
			i += 2;
		} else if (c == '$')
			i = skip_dollar(x, i);
		else {
			x->line += c == '\n';
			i++;
		}
	}
	return unclosed(x, line);
}

/* Past the closer of a $( ... ) or ${ ... } whose content starts at i. */
static size_t skip_nested(struct lex *x, size_t i, char open, char close)
{
	unsigned depth = 1, line = x->line;

	if (++x->depth > LEX_MAX_DEPTH) {
		x->too_deep = true;
		return x->len;
	}
	while (i < x->len) {
		char c = x->buf[i];

		if (c == '\'')
			i = skip_single(x, i + 1);
		else if (c == '"')
			i = skip_double(x, i + 1);
		else if (c == '\\' && i + 1 < x->len) {
			x->line += x->buf[i + 1] == '\n';
			i += 2;
		} else {
			x->line += c == '\n';
			i++;
			if (c == open)
				depth++;
			else if (c == close && --depth == 0)
				break;
		}
	}
	x->depth--;
	return depth == 0 ? i : unclosed(x, line);
}

/* Past a '$'-expansion starting at i ("$NAME", "${...}", "$(...)"), or i+1
 * for a lone '$'. */
static size_t skip_dollar(struct lex *x, size_t i)
{
	size_t p = i + 1;

	if (p < x->len && x->buf[p] == '(')
		return skip_nested(x, p + 1, '(', ')');
	if (p < x->len && x->buf[p] == '{')
		return skip_nested(x, p + 1, '{', '}');
	while (p < x->len && is_name_char(x->buf[p], p == i + 1))
		p++;
	return p;
}

struct assign_at {
	unsigned line;
	size_t value; /* offset of the first byte after '=' */
};

/* Every assignment of name at the start of a line (after blanks and an
 * optional "export"), outside quotes and comments. A use of name we cannot
 * reason about (assigned after another command on its line or on a
 * continued line, exported or unset on its own) is -EINVAL with a message.
 * Expansions ($name) are not uses: they read the value we write.
 * One lexer loop over 90 lines: its state (line_start, continued, in_word)
 * is what every branch reads and sets; split, it would be passed around. */
static int find_assignments(const char *buf, size_t len, const char *name, struct assign_at *ret, size_t max,
			    size_t *ret_n, char *err, size_t errlen)
{
	struct lex x = {.buf = buf, .len = len, .line = 1};
	size_t nlen = strlen(name), n = 0, i = 0;
	bool line_start = true; /* only blanks (and "export") so far on this line */
	bool continued = false; /* this line continues the one before it */
	bool in_word = false;

	while (i < len) {
		char c = buf[i];

		if (c == '\n') {
			x.line++;
			line_start = true;
			continued = in_word = false;
			i++;
		} else if (is_blank(c)) {
			in_word = false;
			i++;
		} else if (c == '\\') {
			if (i + 1 < len && buf[i + 1] == '\n') {
				x.line++;
				continued = true;
			} else {
				line_start = false;
				in_word = true;
			}
			i += 2;
		} else if (c == '#' && !in_word) {
			while (i < len && buf[i] != '\n')
				i++;
		} else if (c == '\'' || c == '"' || c == '`' || c == '$') {
			if (c == '\'')
				i = skip_single(&x, i + 1);
			else if (c == '"')
				i = skip_double(&x, i + 1);
			else if (c == '$')
				i = skip_dollar(&x, i);
			else {
				unsigned line = x.line;

				for (i++; i < len && buf[i] != '`'; i++) {
					if (buf[i] == '\\' && i + 1 < len)
						i++;
					x.line += buf[i] == '\n';
				}
				i = i < len ? i + 1 : unclosed(&x, line);
			}
			line_start = false;
			in_word = true;
		} else if (is_name_char(c, true) && !in_word) {
			size_t s = i;

			while (i < len && is_name_char(buf[i], i == s))
				i++;
			if (line_start && i - s == 6 && memcmp(buf + s, "export", 6) == 0 && i < len &&
			    is_blank(buf[i]))
				continue; /* still at the start of the line */
			if (i - s == nlen && memcmp(buf + s, name, nlen) == 0) {
				if (i >= len || buf[i] != '=') {
					util_set_err(err, errlen,
						     "line %u: %s is used other than in a plain assignment", x.line,
						     name);
					return -EINVAL;
				}
				if (continued || !line_start) {
					util_set_err(err, errlen, "line %u: %s is assigned %s", x.line, name,
						     continued ? "on a line continued from the one before (backslash)"
							       : "after another command on its line");
					return -EINVAL;
				}
				if (n < max)
					ret[n] = (struct assign_at){x.line, i + 1};
				n++;
			}
			line_start = false;
			in_word = true;
		} else {
			line_start = false;
			in_word = !(c == ';' || c == '&' || c == '|' || c == '(' || c == ')');
			i++;
		}
		if (x.too_deep) {
			util_set_err(err, errlen, "line %u: quotes and substitutions nested too deeply", x.line);
			return -EINVAL;
		}
	}
	/* sh would fail on the whole file; what we add at the end would be
	 * inside the quote. */
	if (x.unclosed) {
		util_set_err(err, errlen, "line %u: a quote or substitution opened here is never closed", x.open_line);
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

enum quote { Q_DOUBLE, Q_SINGLE, Q_NONE };

/* One assignment's value as written: [start, end) with its quotes, the
 * unquoted value, and map[i], the offset in the file of value[i]
 * (map[strlen(value)]: the end of the quoted content). */
struct assignment {
	unsigned line;
	size_t start, end;
	enum quote quote;
	char *value;
	size_t *map;
};

static void assignment_done(struct assignment *a)
{
	free(a->value);
	free(a->map);
}

/* The value being read: the bytes kept so far (a->value[0..n)). */
struct value_reader {
	const char *buf;
	size_t len, p, n;
	struct assignment *a;
};

static void take(struct value_reader *r, size_t off)
{
	r->a->map[r->n] = off;
	r->a->value[r->n++] = r->buf[off];
}

/* "..." from r->p (at the opening quote) to the closing one: NULL, or why
 * it cannot be edited safely. */
static const char *read_double(struct value_reader *r)
{
	const char *buf = r->buf;

	for (r->p++;; r->p++) {
		size_t p = r->p;

		if (p >= r->len)
			return "has an unterminated double quote";
		if (buf[p] == '"')
			return NULL;
		if (buf[p] == '\\' && p + 1 < r->len && buf[p + 1] == '\n')
			return "continues on the next line (backslash)";
		if (buf[p] == '\\' && p + 1 < r->len && strchr("\"\\$`", buf[p + 1])) {
			r->a->map[r->n] = p;
			r->a->value[r->n++] = buf[++r->p];
		} else if (buf[p] == '$' || buf[p] == '`')
			return buf[p] == '$' ? "refers to a variable or runs a command ($)" : "runs a command (`)";
		else if (buf[p] == '\n')
			return "spans several lines";
		else
			take(r, p);
	}
}

/* '...' from r->p (at the opening quote) to the closing one. */
static const char *read_single(struct value_reader *r)
{
	for (r->p++;; r->p++) {
		if (r->p >= r->len)
			return "has an unterminated single quote";
		if (r->buf[r->p] == '\'')
			return NULL;
		if (r->buf[r->p] == '\n')
			return "spans several lines";
		take(r, r->p);
	}
}

/* An unquoted word from r->p to the first blank or newline. */
static const char *read_bare(struct value_reader *r)
{
	const char *buf = r->buf;

	for (; r->p < r->len && !is_blank(buf[r->p]) && buf[r->p] != '\n'; r->p++) {
		size_t p = r->p;

		if (buf[p] == '\\')
			return p + 1 < r->len && buf[p + 1] == '\n' ? "continues on the next line (backslash)"
								     : "has a backslash";
		if (buf[p] == '$' || buf[p] == '`')
			return buf[p] == '$' ? "refers to a variable or runs a command ($)" : "runs a command (`)";
		if (buf[p] == '"' || buf[p] == '\'')
			return "is made of several quoted and unquoted parts";
		if (strchr(";&|()<>", buf[p]))
			return "is followed by another command on its line";
		take(r, p);
	}
	return NULL;
}

/* What follows the value on its line, from p: NULL if only blanks and a
 * comment. */
static const char *after_value(const char *buf, size_t len, size_t p)
{
	if (p < len && buf[p] == '\r')
		return "is followed by a carriage return (CRLF line ends)";
	if (p < len && !is_blank(buf[p]) && buf[p] != '\n')
		return "is made of several quoted and unquoted parts";
	while (p < len && is_blank(buf[p]))
		p++;
	if (p < len && buf[p] != '\n' && buf[p] != '#')
		return buf[p] == '\\' && p + 1 < len && buf[p + 1] == '\n' ? "continues on the next line (backslash)"
									   : "is followed by more on its line";
	return NULL;
}

/* Reads the value at a.start and refuses what we cannot edit safely. */
static int read_assignment(const char *buf, size_t len, const char *name, struct assign_at at, struct assignment *ret,
			   char *err, size_t errlen)
{
	struct assignment a = {.line = at.line, .start = at.value};
	struct value_reader r = {.buf = buf, .len = len, .p = at.value, .a = &a};
	size_t cend;
	const char *why;

	a.value = malloc(len - r.p + 1);
	a.map = malloc((len - r.p + 1) * sizeof(*a.map));
	if (!a.value || !a.map) {
		assignment_done(&a);
		return -ENOMEM;
	}
	if (r.p < len && (buf[r.p] == '"' || buf[r.p] == '\'')) {
		a.quote = buf[r.p] == '"' ? Q_DOUBLE : Q_SINGLE;
		why = a.quote == Q_DOUBLE ? read_double(&r) : read_single(&r);
		cend = r.p++;
	} else {
		a.quote = Q_NONE;
		why = read_bare(&r);
		cend = r.p;
	}
	a.end = r.p;
	if (!why)
		why = after_value(buf, len, r.p);
	if (why) {
		util_set_err(err, errlen, "line %u: the value of %s %s", a.line, name, why);
		assignment_done(&a);
		return -EINVAL;
	}
	a.value[r.n] = '\0';
	a.map[r.n] = cend;
	*ret = a;
	return 0;
}

/* For the inside of "...": the four characters sh still interprets. */
static void escape_double(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("\"\\$`", *s))
			sbuf_addc(b, '\\');
		sbuf_addc(b, *s);
	}
}

char *grub_quote(const char *value)
{
	struct sbuf b = {0};

	sbuf_addc(&b, '"');
	escape_double(&b, value);
	sbuf_addc(&b, '"');
	return sbuf_take(&b);
}

/* For the inside of '...': a quote ends it, so it is closed, escaped, reopened. */
static void escape_single(struct sbuf *b, const char *s)
{
	for (; *s; s++)
		if (*s == '\'')
			sbuf_adds(b, "'\\''");
		else
			sbuf_addc(b, *s);
}

/* Characters an unquoted assignment value may hold as they are. */
static bool bare_safe(const char *s)
{
	for (; *s; s++)
		if (!is_name_char(*s, false) && !strchr(".,:=/+@%-", *s))
			return false;
	return true;
}

static char *escaped(const char *s, enum quote q)
{
	struct sbuf b = {0};

	if (q == Q_SINGLE)
		escape_single(&b, s);
	else
		escape_double(&b, s);
	return sbuf_take(&b);
}

/* The file edits that give name's one assignment the value edits e. */
static int edit_assignment(const char *buf, size_t len, const char *name, const char *parsed, const struct edits *e,
			   struct edits *out, char *err, size_t errlen)
{
	struct assign_at at[2];
	struct assignment a;
	size_t n;
	int r;

	r = find_assignments(buf, len, name, at, ARRAY_SIZE(at), &n, err, errlen);
	if (r < 0)
		return r;
	if (n != 1) {
		if (n == 0)
			util_set_err(err, errlen, "cannot find where %s is assigned", name);
		else
			util_set_err(err, errlen, "%s is assigned %zu times (lines %u and %u)", name, n, at[0].line,
				     at[1].line);
		return -EINVAL;
	}
	r = read_assignment(buf, len, name, at[0], &a, err, errlen);
	if (r < 0)
		return r;
	/* What we would edit is what the shell would read; anything else is
	 * something the locator misunderstood. */
	if (!parsed || strcmp(a.value, parsed) != 0) {
		util_set_err(err, errlen, "line %u: the value of %s is not plain text", a.line, name);
		assignment_done(&a);
		return -EINVAL;
	}
	if (a.quote == Q_NONE) {
		/* The whole value is rewritten: quoted if it now needs quotes.
		 * Its old characters need no escaping (read_assignment refused
		 * the ones that would). */
		char *v = apply_value(a.value, e);

		r = v ? edits_add(out, a.start, a.end, bare_safe(v) ? strdup(v) : grub_quote(v)) : -ENOMEM;
		free(v);
	} else
		for (size_t i = 0; i < e->n && r >= 0; i++)
			r = edits_add(out, a.map[e->v[i].start], a.map[e->v[i].end], escaped(e->v[i].text, a.quote));
	assignment_done(&a);
	return r;
}

/* No assignment of name in the file: a line of its own at the end. */
static int append_assignment(const char *buf, size_t len, const char *name, const char *value, struct edits *out,
			     char *err, size_t errlen)
{
	struct sbuf b = {0};

	if ((len >= 1 && buf[len - 1] == '\\') || (len >= 2 && buf[len - 2] == '\\' && buf[len - 1] == '\n')) {
		util_set_err(err, errlen,
			     "the last line ends with a backslash: a line added after it would continue it");
		return -EINVAL;
	}
	if (len > 0 && buf[len - 1] != '\n')
		sbuf_addc(&b, '\n');
	sbuf_adds(&b, name);
	sbuf_adds(&b, "=\"");
	escape_double(&b, value);
	sbuf_adds(&b, "\"\n");
	return edits_add(out, len, len, sbuf_take(&b));
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The edits applied to buf: the new file, NUL-terminated. */
static char *apply_edits(const char *buf, size_t len, struct edits *out, size_t *ret_len)
{
	struct sbuf b = {0};
	size_t at = 0;

	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), edit_cmp);
	for (size_t i = 0; i < out->n; i++) {
		sbuf_add(&b, buf + at, out->v[i].start - at);
		sbuf_adds(&b, out->v[i].text);
		at = out->v[i].end;
	}
	sbuf_add(&b, buf + at, len - at);
	*ret_len = b.len;
	return sbuf_take(&b);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Read before you write, read back after: what the shell reads from the new
 * file must be the values we meant (old[] the values before, el and ed
 * their edits), or something in the file fooled the locator. */
static int read_back(const char *buf, size_t len, char *const *old, const struct edits *el, const struct edits *ed,
		     char *err, size_t errlen)
{
	static const char *const names[] = {VAR_LINUX, VAR_DEFAULT, NULL};
	char *got[2] = {NULL, NULL}, *want[2] = {NULL, NULL};
	int r;

	r = procfmt_parse_shell(buf, len, names, got);
	if (r < 0 && r != -EINVAL && r != -E2BIG)
		return r;
	want[0] = old[0] ? apply_value(old[0], el) : NULL;
	want[1] = old[1] || ed->n ? apply_value(old[1] ? old[1] : "", ed) : NULL;
	if ((old[0] && !want[0]) || ((old[1] || ed->n) && !want[1]))
		r = -ENOMEM;
	else if (r < 0 || !same_str(got[0], want[0]) || !same_str(got[1], want[1])) {
		util_set_err(err, errlen, "the edited file would not read back as intended");
		r = -EINVAL;
	}
	for (size_t i = 0; i < 2; i++) {
		free(got[i]);
		free(want[i]);
	}
	return r;
}

int grub_edit(const char *buf, size_t len, char *const *params, char **ret, size_t *ret_len, bool *ret_changed,
	      char *err, size_t errlen)
{
	static const char *const names[] = {VAR_LINUX, VAR_DEFAULT, NULL};
	struct edits el = {0}, ed = {0}, out = {0};
	struct want *w = NULL;
	char *v[2] = {NULL, NULL}, *nbuf = NULL;
	size_t nw = 0, nlen = 0;
	int r;

	r = procfmt_parse_shell(buf, len, names, v);
	if (r == -EINVAL)
		util_set_err(err, errlen, "unterminated quote");
	if (r == -E2BIG) {
		util_set_err(err, errlen, "a value longer than %d bytes after variable expansion",
			     PROCFMT_SHELL_MAX_VALUE);
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	r = make_wants(params, &w, &nw, err, errlen);
	if (r < 0)
		goto out;
	r = plan_both(v[0], v[1], w, nw, &el, &ed, err, errlen);
	if (r < 0)
		goto out;
	if (el.n > 0) {
		r = edit_assignment(buf, len, VAR_LINUX, v[0], &el, &out, err, errlen);
		if (r < 0)
			goto out;
	}
	if (ed.n > 0) {
		struct assign_at one;
		size_t n;

		r = find_assignments(buf, len, VAR_DEFAULT, &one, 1, &n, err, errlen);
		if (r < 0)
			goto out;
		if (n == 0 && !v[1]) {
			char *nv = apply_value("", &ed);

			r = nv ? append_assignment(buf, len, VAR_DEFAULT, nv, &out, err, errlen) : -ENOMEM;
			free(nv);
		} else
			r = edit_assignment(buf, len, VAR_DEFAULT, v[1], &ed, &out, err, errlen);
		if (r < 0)
			goto out;
	}
	nbuf = apply_edits(buf, len, &out, &nlen);
	r = !nbuf ? -ENOMEM : read_back(nbuf, nlen, v, &el, &ed, err, errlen);
	if (r == 0) {
		*ret_len = nlen;
		*ret = nbuf;
		nbuf = NULL;
		*ret_changed = out.n > 0;
	}
out:
	free(nbuf);
	free(v[0]);
	free(v[1]);
	edits_free(&el);
	edits_free(&ed);
	edits_free(&out);
	wants_free(w, nw);
	return r;
}

int defaults_assign(const char *buf, size_t len, const char *name, const char *value, char **ret, size_t *ret_len,
		    char *err, size_t errlen)
{
	const char *names[] = {name, NULL};
	struct edits e = {0}, out = {0};
	struct assign_at one;
	char *old = NULL, *got = NULL, *nbuf = NULL;
	size_t n, nlen = 0;
	int r;

	r = procfmt_parse_shell(buf, len, names, &old);
	if (r == -EINVAL || r == -E2BIG) {
		util_set_err(err, errlen, r == -EINVAL ? "unterminated quote" : "a value too long after expansion");
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = find_assignments(buf, len, name, &one, 1, &n, err, errlen);
	if (r < 0)
		goto out;
	if (old && strcmp(old, value) == 0) {
		nbuf = malloc(len + 1);
		if (!nbuf) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(nbuf, buf, len);
		nbuf[len] = '\0';
		nlen = len;
		goto done;
	}
	if (n == 0 && !old)
		r = append_assignment(buf, len, name, value, &out, err, errlen);
	else {
		r = edits_add(&e, 0, old ? strlen(old) : 0, strdup(value));
		if (r >= 0)
			r = edit_assignment(buf, len, name, old, &e, &out, err, errlen);
	}
	if (r < 0)
		goto out;
	nbuf = apply_edits(buf, len, &out, &nlen);
	if (!nbuf) {
		r = -ENOMEM;
		goto out;
	}
	/* Read back: the shell must see the value we meant. */
	r = procfmt_parse_shell(nbuf, nlen, names, &got);
	if (r < 0 && r != -EINVAL && r != -E2BIG)
		goto out;
	if (r < 0 || !got || strcmp(got, value) != 0) {
		util_set_err(err, errlen, "the edited file would not read back as intended");
		r = -EINVAL;
		goto out;
	}
done:
	*ret = nbuf;
	*ret_len = nlen;
	nbuf = NULL;
	r = 0;
out:
	free(nbuf);
	free(old);
	free(got);
	edits_free(&e);
	edits_free(&out);
	return r;
}

/* ---- writing the file ---- */

/* A path of the host as a person finds it: "/etc/default/grub", or the
 * tree's "T/etc/default/grub", for messages. */
const char *dfile_host_path(const struct host *h, const char *rel, char *buf, size_t n)
{
	size_t rl = strlen(h->root_path);

	snprintf(buf, n, "%s%s%s", h->root_path, rl && h->root_path[rl - 1] == '/' ? "" : "/", rel);
	return buf;
}

int dfile_fail(const struct host *h, const char *what, const char *rel, int r, char *err, size_t errlen)
{
	char p[4096];

	util_set_err(err, errlen, "%s%s%s: %s", what, *what ? " " : "", dfile_host_path(h, rel, p, sizeof(p)),
		     path_strerror(-r));
	return r;
}

/* mkdir -p of a path of the host, each new directory 0755 whatever the
 * umask, and its parent synced. */
int dfile_mkdirs(const struct host *h, const char *rel, char *err, size_t errlen)
{
	int fd = path_mkdirs(h->root_fd, rel, 0755, host_resolve(h), true);

	if (fd < 0)
		return dfile_fail(h, "creating", rel, fd, err, errlen);
	close(fd);
	return 0;
}

/* What write_atomic says it was doing, by util_write_replace's step. */
static const char *const write_steps[] = {
    [UTIL_WRITE_REMOVE_STALE] = "writing",
    [UTIL_WRITE_CREATE] = "writing",
    [UTIL_WRITE_DATA] = "writing",
    [UTIL_WRITE_MODE] = "setting the mode and owner of",
    [UTIL_WRITE_SYNC] = "syncing",
    [UTIL_WRITE_CLOSE] = "syncing",
    [UTIL_WRITE_RENAME] = "renaming into place",
    [UTIL_WRITE_SYNC_DIR] = "syncing the directory of",
};

struct owner {
	uid_t uid;
	gid_t gid;
	defaults_chown_fn chown_fn;
};

/* util_replace's fix: the owner the file had, through the caller's chown
 * (the library itself changes no owner: the daemon's system call filter
 * denies it); without one, an owner other than ours is refused. */
static int give_owner(int fd, const struct stat *st, void *userdata)
{
	const struct owner *o = userdata;

	if (st->st_uid == o->uid && st->st_gid == o->gid)
		return 0;
	if (!o->chown_fn)
		return -EPERM;
	return o->chown_fn(fd, o->uid, o->gid) < 0 ? -errno : 0;
}

/* dir/name of the host gets buf through dir/.name.isoctl-tmp: written, given
 * its mode and owner, synced, then renamed over name, or with no_replace
 * linked to it, which never replaces an existing file (-EEXIST, no message);
 * then the directory is synced. */
int dfile_write_atomic(const struct host *h, const char *dir, const char *name, const char *buf, size_t len,
		       mode_t mode, uid_t uid, gid_t gid, defaults_chown_fn chown_fn, bool no_replace, char *err,
		       size_t errlen)
{
	struct owner owner = {uid, gid, chown_fn};
	struct util_replace o = {
	    .mode = mode, .fix = give_owner, .userdata = &owner, .no_replace = no_replace, .sync = true};
	enum util_write_step step;
	char tmp[256], rel[512];
	int dfd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.isoctl-tmp", name) >= sizeof(tmp) ||
	    (size_t)snprintf(rel, sizeof(rel), "%s/%s", dir, name) >= sizeof(rel))
		return -ENAMETOOLONG;
	dfd = host_openat(h, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfile_fail(h, "opening", dir, dfd, err, errlen);
	o.tmp = tmp;
	r = util_write_replace(dfd, name, buf, len, &o, &step);
	close(dfd);
	if (r == -EEXIST && no_replace && step == UTIL_WRITE_RENAME)
		return r;
	return r < 0 ? dfile_fail(h, write_steps[step], rel, r, err, errlen) : 0;
}

/* The mode and owner of path, which must be a regular file. */
int dfile_stat(const struct host *h, const char *path, struct stat *ret, char *err, size_t errlen)
{
	char p[4096];

	int r = host_lstat(h, path, ret);

	if (r < 0)
		return dfile_fail(h, "", path, r, err, errlen);
	if (!S_ISREG(ret->st_mode)) {
		util_set_err(err, errlen, "%s %s: edit it by hand", dfile_host_path(h, path, p, sizeof(p)),
			     S_ISLNK(ret->st_mode) ? "is a symbolic link (replacing it would cut the link)"
						   : "is not a regular file");
		return -EINVAL;
	}
	return 0;
}

/* Without a chown, the file must be ours already: its replacement is. */
int dfile_check_owner(const struct host *h, const char *path, const struct stat *st, defaults_chown_fn chown_fn,
		      char *err, size_t errlen)
{
	char p[4096];

	if (chown_fn || (st->st_uid == geteuid() && st->st_gid == getegid()))
		return 0;
	util_set_err(err, errlen,
		     "%s is owned by %u:%u, and its replacement would be %u:%u (isolated keeps owners): "
		     "edit it by hand",
		     dfile_host_path(h, path, p, sizeof(p)), (unsigned)st->st_uid, (unsigned)st->st_gid,
		     (unsigned)geteuid(), (unsigned)getegid());
	return -EPERM;
}

/* path's directory and name, split at the last "/". */
int dfile_split(const char *path, char dir[PATH_MAX], const char **ret_name)
{
	const char *slash = strrchr(path, '/');

	if (!slash || (size_t)(slash - path) >= PATH_MAX)
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*ret_name = slash + 1;
	return 0;
}

int defaults_write(const struct host *h, const char *path, const char *backup, const char *old_buf, size_t old_len,
		   const char *new_buf, size_t new_len, defaults_chown_fn chown_fn, bool *ret_backup_made, char *err,
		   size_t errlen)
{
	char dir[PATH_MAX], brel[PATH_MAX];
	const char *name;
	struct stat st, bst;
	bool made = false;
	int r;

	if (dfile_split(path, dir, &name) < 0 || util_path(brel, sizeof(brel), GRUB_BACKUP_DIR "/%s", backup) < 0)
		return -EINVAL;
	r = dfile_stat(h, path, &st, err, errlen);
	if (r >= 0)
		r = dfile_check_owner(h, path, &st, chown_fn, err, errlen);
	if (r < 0)
		return r;
	r = host_lstat(h, brel, &bst);
	if (r < 0) {
		if (r != -ENOENT)
			return dfile_fail(h, "", brel, r, err, errlen);
		r = dfile_mkdirs(h, GRUB_BACKUP_DIR, err, errlen);
		if (r < 0)
			return r;
		/* Owned by whoever runs us (root), like the journal. */
		r = dfile_write_atomic(h, GRUB_BACKUP_DIR, backup, old_buf, old_len, 0644, geteuid(), getegid(), NULL,
				       true, err, errlen);
		if (r < 0 && r != -EEXIST) /* EEXIST: another isoctl saved it just now */
			return r;
		made = r == 0;
	}
	r = dfile_write_atomic(h, dir, name, new_buf, new_len, st.st_mode & 07777, st.st_uid, st.st_gid, chown_fn,
			       false, err, errlen);
	if (r < 0)
		return r;
	*ret_backup_made = made;
	return 0;
}

int grub_write(const struct host *h, const char *old_buf, size_t old_len, const char *new_buf, size_t new_len,
	       defaults_chown_fn chown_fn, bool *ret_backup_made, char *err, size_t errlen)
{
	return defaults_write(h, GRUB_PATH, "grub.orig", old_buf, old_len, new_buf, new_len, chown_fn, ret_backup_made,
			      err, errlen);
}

void defaults_tidy(const struct host *h, const char *path, const char *backup)
{
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *name;
	int dfd;

	if (dfile_split(path, dir, &name) == 0 &&
	    (size_t)snprintf(tmp, sizeof(tmp), ".%s.isoctl-tmp", name) < sizeof(tmp) &&
	    (dfd = host_openat(h, dir, O_RDONLY | O_DIRECTORY, 0)) >= 0) {
		(void)unlinkat(dfd, tmp, 0);
		close(dfd);
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.isoctl-tmp", backup) < sizeof(tmp) &&
	    (dfd = host_openat(h, GRUB_BACKUP_DIR, O_RDONLY | O_DIRECTORY, 0)) >= 0) {
		(void)unlinkat(dfd, tmp, 0);
		close(dfd);
	}
}

int defaults_drop_backup(const struct host *h, const char *backup, char *err, size_t errlen)
{
	char p[4096], brel[PATH_MAX];
	int dfd, r = 0;

	if (util_path(brel, sizeof(brel), GRUB_BACKUP_DIR "/%s", backup) < 0)
		return -EINVAL;
	dfd = host_openat(h, GRUB_BACKUP_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		errno = -dfd;
	if (dfd < 0 || unlinkat(dfd, backup, 0) < 0 || fsync(dfd) < 0) {
		r = -errno;
		util_set_err(err, errlen, "removing %s failed: %s", dfile_host_path(h, brel, p, sizeof(p)),
			     path_strerror(-r));
	}
	if (dfd >= 0)
		close(dfd);
	return r;
}

int defaults_restore(const struct host *h, const char *path, const char *backup, defaults_chown_fn chown_fn, char *err,
		     size_t errlen)
{
	char dir[PATH_MAX], brel[PATH_MAX], p[4096], why[4096];
	const char *name;
	struct stat st;
	char *buf = NULL;
	size_t len;
	int r;

	if (dfile_split(path, dir, &name) < 0 || util_path(brel, sizeof(brel), GRUB_BACKUP_DIR "/%s", backup) < 0)
		return -EINVAL;
	/* Our own file: never a symbolic link (which could lead to any file
	 * of the host, to be made its configuration). */
	r = host_lstat(h, brel, &st);
	if (r == 0 && !S_ISREG(st.st_mode)) {
		util_set_err(err, errlen, "%s is not a regular file (isolated writes it as one): restore by hand",
			     dfile_host_path(h, brel, p, sizeof(p)));
		return -EINVAL;
	}
	if (r == 0)
		r = path_read(h->root_fd, brel, host_resolve(h), 16 << 20, &buf, &len);
	if (r == -ENOENT) {
		util_set_err(err, errlen, "%s: no backup to restore", dfile_host_path(h, brel, p, sizeof(p)));
		return r;
	}
	if (r < 0)
		return dfile_fail(h, "reading", brel, r, err, errlen);
	/* The mode and owner of the file replaced; with none (removed by
	 * hand), the backup's. */
	r = host_lstat(h, path, &st);
	if (r != -ENOENT) {
		r = dfile_stat(h, path, &st, err, errlen);
		if (r >= 0)
			r = dfile_check_owner(h, path, &st, chown_fn, err, errlen);
		if (r < 0)
			goto out;
	} else if ((r = host_lstat(h, brel, &st)) < 0) {
		r = dfile_fail(h, "", brel, r, err, errlen);
		goto out;
	}
	r = dfile_write_atomic(h, dir, name, buf, len, st.st_mode & 07777, st.st_uid, st.st_gid, chown_fn, false, err,
			       errlen);
	if (r < 0)
		goto out;
	r = defaults_drop_backup(h, backup, why, sizeof(why));
	if (r < 0)
		util_set_err(err, errlen, "the original is back, but %s", why);
out:
	free(buf);
	return r;
}

int grub_restore(const struct host *h, defaults_chown_fn chown_fn, char *err, size_t errlen)
{
	return defaults_restore(h, GRUB_PATH, "grub.orig", chown_fn, err, errlen);
}
