/* Parsers of the kernel's text formats (/proc/PID/stat, status, cmdline,
 * /proc/interrupts, the kernel command line) and /etc/default/grub. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/procfmt.h"
#include "isolated/util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *strndup_trim(const char *p, size_t n)
{
	while (n > 0 && is_space(*p)) {
		p++;
		n--;
	}
	while (n > 0 && is_space(p[n - 1]))
		n--;
	return strndup(p, n);
}

/* Unsigned decimal in [p, end); at least one digit, no overflow. */
static int parse_ulong_span(const char *p, const char *end, unsigned long *ret)
{
	unsigned long v = 0;

	if (p >= end)
		return -EINVAL;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return -EINVAL;
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*ret = v;
	return 0;
}

/* "PID (COMM)": the pid and comm of st from [buf, close]; open and close
 * are the first "(" and the last ")". */
static int stat_head(const char *buf, const char *open, const char *close, struct proc_stat *st)
{
	const char *p = buf, *pid_end;
	unsigned long v;
	size_t n;

	while (p < open && is_space(*p))
		p++;
	pid_end = p;
	while (pid_end < open && is_digit(*pid_end))
		pid_end++;
	if (parse_ulong_span(p, pid_end, &v) < 0 || v > INT32_MAX)
		return -EINVAL;
	for (p = pid_end; p < open; p++)
		if (!is_space(*p))
			return -EINVAL;
	st->pid = (pid_t)v;

	n = (size_t)(close - open - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	return 0;
}

/* Field FIELD (1-based, as proc(5) numbers them) is [tok, end): keep it in
 * st if it is one we use. */
static int stat_field(unsigned field, const char *tok, const char *end, struct proc_stat *st)
{
	unsigned long v;

	switch (field) {
	case 3:
		if (end - tok != 1)
			return -EINVAL;
		st->state = *tok;
		return 0;
	case 4:
		if (parse_ulong_span(tok, end, &v) < 0 || v > INT32_MAX)
			return -EINVAL;
		st->ppid = (pid_t)v;
		return 0;
	case 9:
		if (parse_ulong_span(tok, end, &v) < 0)
			return -EINVAL;
		st->flags = v;
		return 0;
	case 22:
		if (parse_ulong_span(tok, end, &v) < 0)
			return -EINVAL;
		st->starttime = v;
		return 0;
	case 39:
		if (parse_ulong_span(tok, end, &v) < 0 || v > INT32_MAX)
			return -EINVAL;
		st->processor = (int)v;
		return 0;
	case 40:
		if (parse_ulong_span(tok, end, &v) < 0 || v > UINT32_MAX)
			return -EINVAL;
		st->rt_priority = (unsigned)v;
		return 0;
	case 41:
		if (parse_ulong_span(tok, end, &v) < 0 || v > UINT32_MAX)
			return -EINVAL;
		st->policy = (unsigned)v;
		return 0;
	default:
		return 0;
	}
}

int procfmt_parse_stat(const char *buf, size_t len, struct proc_stat *ret)
{
	const char *end = buf + len, *open = NULL, *close = NULL, *p;
	struct proc_stat st = {0};

	for (p = buf; p < end; p++) {
		if (*p == '(' && !open)
			open = p;
		if (*p == ')')
			close = p;
	}
	if (!open || !close || close < open || stat_head(buf, open, close, &st) < 0)
		return -EINVAL;

	/* Fields 3.. are separated by single spaces; 41 is the last we need. */
	p = close + 1;
	for (unsigned field = 3; field <= 41; field++) {
		const char *tok;

		while (p < end && is_space(*p))
			p++;
		tok = p;
		while (p < end && !is_space(*p))
			p++;
		if (tok == p || stat_field(field, tok, p, &st) < 0)
			return -EINVAL;
	}
	*ret = st;
	return 0;
}

/* The next line of [*p, end) without its newline; false at the end. */
static bool next_line(const char **p, const char *end, const char **ret_line, size_t *ret_len)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*ret_line = *p;
	*ret_len = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	return true;
}

static bool line_key(const char *line, size_t llen, const char *key, const char **ret_val, size_t *ret_vlen)
{
	size_t klen = strlen(key);

	if (llen <= klen || memcmp(line, key, klen) != 0 || line[klen] != ':')
		return false;
	*ret_val = line + klen + 1;
	*ret_vlen = llen - klen - 1;
	while (*ret_vlen > 0 && (**ret_val == ' ' || **ret_val == '\t')) {
		(*ret_val)++;
		(*ret_vlen)--;
	}
	while (*ret_vlen > 0 && is_space((*ret_val)[*ret_vlen - 1]))
		(*ret_vlen)--;
	return true;
}

int procfmt_parse_status(const char *buf, size_t len, struct proc_status *ret)
{
	struct proc_status st = {0};
	bool have_tgid = false;
	const char *val;
	size_t vlen;
	unsigned long v;

	const char *p = buf, *line;
	size_t llen;

	while (next_line(&p, buf + len, &line, &llen)) {
		if (line_key(line, llen, "Name", &val, &vlen)) {
			if (vlen >= sizeof(st.name))
				vlen = sizeof(st.name) - 1;
			memcpy(st.name, val, vlen);
			st.name[vlen] = '\0';
		} else if (line_key(line, llen, "Tgid", &val, &vlen)) {
			if (parse_ulong_span(val, val + vlen, &v) < 0 || v > INT32_MAX)
				goto invalid;
			st.tgid = (pid_t)v;
			have_tgid = true;
		} else if (line_key(line, llen, "PPid", &val, &vlen)) {
			if (parse_ulong_span(val, val + vlen, &v) < 0 || v > INT32_MAX)
				goto invalid;
			st.ppid = (pid_t)v;
		} else if (line_key(line, llen, "Cpus_allowed_list", &val, &vlen)) {
			free(st.cpus_allowed_list);
			st.cpus_allowed_list = strndup(val, vlen);
			if (!st.cpus_allowed_list)
				return -ENOMEM;
		}
	}
	if (!have_tgid)
		goto invalid;
	*ret = st;
	return 0;

invalid:
	free(st.cpus_allowed_list);
	return -EINVAL;
}

void procfmt_status_done(struct proc_status *s)
{
	if (!s)
		return;
	free(s->cpus_allowed_list);
	s->cpus_allowed_list = NULL;
}

void procfmt_interrupts_free(struct proc_interrupt *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].chip);
		free(v[i].hwirq);
		free(v[i].actions);
	}
	free(v);
}

/* Next white-space separated token in [*p, end); false at the end. */
static bool next_token(const char **p, const char *end, const char **ret_tok, size_t *ret_len)
{
	const char *q = *p;

	while (q < end && is_space(*q))
		q++;
	if (q == end) {
		*p = q;
		return false;
	}
	*ret_tok = q;
	while (q < end && !is_space(*q))
		q++;
	*ret_len = (size_t)(q - *ret_tok);
	*p = q;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* One numbered line after "N:": counts, chip, hwirq, actions. */
static int parse_interrupt_line(const char *p, const char *end, unsigned ncpus, struct proc_interrupt *ret)
{
	struct proc_interrupt it = {0};
	const char *tok, *save, *hw_start = NULL, *hw_end = NULL;
	size_t tlen;

	/* The per-CPU counts: at most one per header column. */
	for (unsigned i = 0; i < ncpus; i++) {
		save = p;
		if (!next_token(&p, end, &tok, &tlen))
			break;
		if (!all_digits(tok, tlen)) {
			p = save;
			break;
		}
	}
	if ((size_t)(end - p) > PROCFMT_INTERRUPTS_TAIL_MAX)
		return -E2BIG;

	save = p;
	if (next_token(&p, end, &tok, &tlen)) {
		it.chip = strndup(tok, tlen);
		save = p;
		/* hwirq: "5-edge", "0-fasteoi", "27" (then maybe "Level"/"Edge"), or a bare "-edge". */
		if (next_token(&p, end, &tok, &tlen) && (is_digit(tok[0]) || (tok[0] == '-' && tlen > 1))) {
			hw_start = tok;
			hw_end = tok + tlen;
			if (all_digits(tok, tlen)) {
				save = p;
				if (next_token(&p, end, &tok, &tlen) && ((tlen == 5 && memcmp(tok, "Level", 5) == 0) ||
									 (tlen == 4 && memcmp(tok, "Edge", 4) == 0)))
					hw_end = tok + tlen;
				else
					p = save;
			}
		} else {
			p = save;
		}
	} else {
		it.chip = strdup("");
		p = save;
	}

	if (hw_start) {
		/* Collapse the padding between "27" and "Level" to one space. */
		it.hwirq = malloc((size_t)(hw_end - hw_start) + 1);
		if (it.hwirq) {
			size_t n = 0;
			for (const char *q = hw_start; q < hw_end; q++)
				if (!is_space(*q) || (n > 0 && !is_space(it.hwirq[n - 1])))
					it.hwirq[n++] = is_space(*q) ? ' ' : *q;
			it.hwirq[n] = '\0';
		}
	} else {
		it.hwirq = strdup("");
	}
	it.actions = strndup_trim(p, (size_t)(end - p));

	if (!it.chip || !it.hwirq || !it.actions) {
		free(it.chip);
		free(it.hwirq);
		free(it.actions);
		return -ENOMEM;
	}
	*ret = it;
	return 0;
}

void procfmt_interrupts_init(struct procfmt_interrupts *p)
{
	*p = (struct procfmt_interrupts){0};
}

/* Frees what p holds; lineno, why and error stay. */
static void irqs_release(struct procfmt_interrupts *p)
{
	procfmt_interrupts_free(p->v, p->n);
	free(p->carry);
	p->v = NULL;
	p->n = p->cap = 0;
	p->carry = NULL;
	p->carry_len = p->carry_cap = 0;
}

void procfmt_interrupts_done(struct procfmt_interrupts *p)
{
	irqs_release(p);
	procfmt_interrupts_init(p);
}

size_t procfmt_interrupts_buffered(const struct procfmt_interrupts *p)
{
	return p->carry_cap;
}

static int irqs_fail(struct procfmt_interrupts *p, int r, const char *fmt, ...) ISO_PRINTF(3, 4);
static int irqs_fail(struct procfmt_interrupts *p, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->error = r;
	return r;
}

static int irq_too_long(struct procfmt_interrupts *p)
{
	return irqs_fail(p, -E2BIG, "a line longer than %u bytes (%u CPU columns and %u bytes of text)",
			 (unsigned)PROCFMT_INTERRUPTS_LINE_MAX, CPUSET_MAX_CPUS, PROCFMT_INTERRUPTS_TAIL_MAX);
}

/* One whole line, without its newline: the header, or maybe an IRQ. */
static int irqs_line(struct procfmt_interrupts *p, const char *line, size_t llen)
{
	const char *end = line + llen, *q = line, *tok;
	unsigned long irq;
	size_t tlen;
	int r;

	if (++p->lineno > PROCFMT_INTERRUPTS_MAX_LINES)
		return irqs_fail(p, -E2BIG, "more than %u lines: more than any kernel has IRQs",
				 PROCFMT_INTERRUPTS_MAX_LINES);
	if (llen > PROCFMT_INTERRUPTS_LINE_MAX)
		return irq_too_long(p);
	if (p->ncpus == 0) {
		/* The first line names the online CPUs: "CPU0 CPU1 ...". */
		while (next_token(&q, end, &tok, &tlen))
			if (tlen > 3 && memcmp(tok, "CPU", 3) == 0 && all_digits(tok + 3, tlen - 3) &&
			    ++p->ncpus > CPUSET_MAX_CPUS)
				return irqs_fail(p, -E2BIG, "more than %u CPU columns", CPUSET_MAX_CPUS);
		if (p->ncpus == 0)
			return irqs_fail(p, -EINVAL, "no CPU header line");
		return 0;
	}

	if (!next_token(&q, end, &tok, &tlen))
		return 0;
	if (tlen < 2 || tok[tlen - 1] != ':' || !all_digits(tok, tlen - 1))
		return 0; /* NMI:, LOC:, ERR: ... or junk */
	if (parse_ulong_span(tok, tok + tlen - 1, &irq) < 0 || irq > UINT32_MAX)
		return irqs_fail(p, -EINVAL, "an IRQ number out of range");

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 32;
		struct proc_interrupt *nv = realloc(p->v, ncap * sizeof(*nv));
		if (!nv)
			return irqs_fail(p, -ENOMEM, "out of memory");
		p->v = nv;
		p->cap = ncap;
	}
	r = parse_interrupt_line(q, end, p->ncpus, &p->v[p->n]);
	if (r == -E2BIG)
		return irqs_fail(p, r, "more than %u bytes of chip, hwirq and actions after the counts",
				 PROCFMT_INTERRUPTS_TAIL_MAX);
	if (r < 0)
		return irqs_fail(p, r, "out of memory");
	p->v[p->n++].irq = (unsigned)irq;
	return 0;
}

/* Keep the start of a line until its newline comes. */
static int irqs_carry(struct procfmt_interrupts *p, const char *buf, size_t n)
{
	if (p->carry_len + n > PROCFMT_INTERRUPTS_LINE_MAX) {
		p->lineno++;
		return irq_too_long(p);
	}
	if (p->carry_len + n > p->carry_cap) {
		size_t cap = p->carry_cap ? p->carry_cap : 4096;
		char *c;

		while (cap < p->carry_len + n)
			cap *= 2;
		if (cap > PROCFMT_INTERRUPTS_LINE_MAX)
			cap = PROCFMT_INTERRUPTS_LINE_MAX;
		c = realloc(p->carry, cap);
		if (!c)
			return irqs_fail(p, -ENOMEM, "out of memory");
		p->carry = c;
		p->carry_cap = cap;
	}
	memcpy(p->carry + p->carry_len, buf, n);
	p->carry_len += n;
	return 0;
}

int procfmt_interrupts_feed(struct procfmt_interrupts *p, const char *buf, size_t len)
{
	const char *q = buf, *end = buf + len;
	int r;

	if (p->error)
		return p->error;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t n = (size_t)((nl ? nl : end) - q);

		if (!nl)
			return irqs_carry(p, q, n);
		if (p->carry_len == 0) {
			/* Whole in this chunk: parsed where it is. */
			r = irqs_line(p, q, n);
		} else {
			r = irqs_carry(p, q, n);
			if (r >= 0)
				r = irqs_line(p, p->carry, p->carry_len);
			p->carry_len = 0;
		}
		if (r < 0)
			return r;
		q = nl + 1;
	}
	return 0;
}

int procfmt_interrupts_finish(struct procfmt_interrupts *p, struct proc_interrupt **ret, size_t *ret_n)
{
	int r = p->error;

	/* A last line without a newline. */
	if (r == 0 && p->carry_len > 0)
		r = irqs_line(p, p->carry, p->carry_len);
	if (r == 0 && p->ncpus == 0) {
		p->lineno++;
		r = irqs_fail(p, -EINVAL, "no CPU header line");
	}
	if (r < 0) {
		irqs_release(p);
		return r;
	}
	*ret = p->v;
	*ret_n = p->n;
	p->v = NULL;
	p->n = 0;
	procfmt_interrupts_done(p);
	return 0;
}

int procfmt_parse_interrupts(const char *buf, size_t len, struct proc_interrupt **ret, size_t *ret_n)
{
	struct procfmt_interrupts p;

	procfmt_interrupts_init(&p);
	procfmt_interrupts_feed(&p, buf, len);
	return procfmt_interrupts_finish(&p, ret, ret_n);
}

/* /etc/default/grub and /etc/default/irqbalance are shell fragments; we
 * understand assignments with quoting, backslash continuations and $VAR
 * expansion of the variables asked for (others expand to ""). */
struct shell_vars {
	const char *const *names;
	char **values;
	bool *too_long; /* set when $NAME would grow a value past PROCFMT_SHELL_MAX_VALUE */
};

static bool is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && is_digit(c));
}

static char **shell_slot(const struct shell_vars *vars, const char *name, size_t n)
{
	for (size_t i = 0; vars->names[i]; i++)
		if (strlen(vars->names[i]) == n && memcmp(vars->names[i], name, n) == 0)
			return &vars->values[i];
	return NULL;
}

/* At '$': expand $NAME / ${NAME}, else a literal '$'. Returns the new p. */
static const char *shell_expand(const char *p, const char *end, const struct shell_vars *vars, struct sbuf *out)
{
	const char *name, *q = p + 1;
	bool brace = false;

	if (q < end && *q == '{') {
		brace = true;
		q++;
	}
	name = q;
	while (q < end && is_name_char(*q, q == name))
		q++;
	if (q == name || (brace && (q >= end || *q != '}'))) {
		sbuf_addc(out, '$');
		return p + 1;
	}
	char **slot = shell_slot(vars, name, (size_t)(q - name));
	if (slot && *slot) {
		size_t n = strlen(*slot);

		/* A="$A$A" on every line doubles A: refuse instead of growing. */
		if (out->len + n > PROCFMT_SHELL_MAX_VALUE)
			*vars->too_long = true;
		else
			sbuf_add(out, *slot, n);
	}
	return brace ? q + 1 : q;
}

/* A shell word starting at p; returns the end or NULL on an unterminated quote. */
static const char *shell_word(const char *p, const char *end, const struct shell_vars *vars, struct sbuf *out)
{
	while (p < end) {
		char c = *p;
		if (c == ' ' || c == '\t' || c == '\n' || c == ';')
			break;
		if (c == '\'') {
			const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
			if (!q)
				return NULL;
			sbuf_add(out, p + 1, (size_t)(q - p - 1));
			p = q + 1;
		} else if (c == '"') {
			p++;
			for (;;) {
				if (p >= end)
					return NULL;
				if (*p == '"') {
					p++;
					break;
				}
				if (*p == '\\' && p + 1 < end) {
					char e = p[1];
					if (e == '\n') {
						p += 2;
						continue;
					}
					if (e == '"' || e == '\\' || e == '$' || e == '`') {
						sbuf_addc(out, e);
						p += 2;
						continue;
					}
					sbuf_addc(out, '\\');
					p++;
				} else if (*p == '$') {
					p = shell_expand(p, end, vars, out);
				} else {
					sbuf_addc(out, *p++);
				}
			}
		} else if (c == '\\') {
			if (p + 1 < end && p[1] != '\n')
				sbuf_addc(out, p[1]);
			p += p + 1 < end ? 2 : 1;
		} else if (c == '$') {
			p = shell_expand(p, end, vars, out);
		} else {
			sbuf_addc(out, c);
			p++;
		}
	}
	return p;
}

/* Skip to the next line, honouring quotes and continuations so that a
 * multi-line quoted value of an unrelated command is not read as lines. */
static const char *shell_skip_line(const char *p, const char *end)
{
	while (p < end && *p != '\n') {
		if (*p == '\'' || *p == '"') {
			const char *q = p + 1;
			while (q < end && *q != *p) {
				if (*p == '"' && *q == '\\' && q + 1 < end)
					q++;
				q++;
			}
			p = q < end ? q + 1 : end;
		} else if (*p == '\\' && p + 1 < end) {
			p += 2;
		} else {
			p++;
		}
	}
	return p < end ? p + 1 : end;
}

int procfmt_parse_shell(const char *buf, size_t len, const char *const *names, char **ret_values)
{
	size_t n = 0;
	bool too_long = false;
	struct shell_vars vars = {names, NULL, &too_long};
	const char *p = buf, *end = buf + len;
	int r;

	while (names[n])
		n++;
	vars.values = calloc(n + 1, sizeof(*vars.values));
	if (!vars.values)
		return -ENOMEM;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		if (p >= end)
			break;
		if (*p == '\n') {
			p++;
			continue;
		}
		if (*p == '#') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
			continue;
		}
		if ((size_t)(end - p) > 7 && memcmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
			p += 7;
			continue;
		}

		const char *name = p;
		while (p < end && is_name_char(*p, p == name))
			p++;
		if (p == name || p >= end || *p != '=') {
			p = shell_skip_line(name, end);
			continue;
		}

		size_t nlen = (size_t)(p - name);
		struct sbuf val = {0};
		p = shell_word(p + 1, end, &vars, &val);
		if (!p || too_long) {
			free(val.s);
			r = p ? -E2BIG : -EINVAL;
			goto fail;
		}
		char **slot = shell_slot(&vars, name, nlen);
		char *s = sbuf_take(&val);
		if (!s) {
			r = -ENOMEM;
			goto fail;
		}
		if (slot) {
			free(*slot);
			*slot = s;
		} else {
			free(s);
		}
	}

	memcpy(ret_values, vars.values, n * sizeof(*ret_values));
	free(vars.values);
	return 0;

fail:
	for (size_t i = 0; i < n; i++)
		free(vars.values[i]);
	free(vars.values);
	return r;
}

int procfmt_parse_grub(const char *buf, size_t len, char **ret_linux, char **ret_linux_default)
{
	static const char *const names[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", NULL};
	char *v[2];
	int r = procfmt_parse_shell(buf, len, names, v);

	if (r < 0)
		return r;
	*ret_linux = v[0];
	*ret_linux_default = v[1];
	return 0;
}

int procfmt_join_cmdline(const char *buf, size_t len, char **ret)
{
	char *s;

	/* Trailing NULs: the terminator, and the padding of processes that
	 * rewrite their argv (setproctitle). */
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		s[i] = buf[i] == '\0' ? ' ' : buf[i];
	s[len] = '\0';
	*ret = s;
	return 0;
}

long procfmt_vhost_owner(const char *comm)
{
	char *end;
	long pid;

	if (strncmp(comm, "vhost-", 6) != 0 || !isdigit((unsigned char)comm[6]))
		return -1;
	errno = 0;
	pid = strtol(comm + 6, &end, 10);
	return *end || errno || pid > INT32_MAX ? -1 : pid;
}

int procfmt_cmdline_get(const char *cmdline, const char *key, char **ret_value)
{
	const char *p = cmdline;
	size_t klen = strlen(key);
	struct sbuf word = {0};
	char *found = NULL;
	bool have = false;

	if (klen == 0)
		return -EINVAL;

	for (;;) {
		while (*p && is_space(*p))
			p++;
		if (!*p)
			break;

		bool quoted = false, had_quote = false;
		word.len = 0;
		sbuf_add(&word, "", 0);
		while (*p && (quoted || !is_space(*p))) {
			if (*p == '"') {
				quoted = !quoted;
				had_quote = true;
			} else
				sbuf_addc(&word, *p);
			p++;
		}
		if (word.oom) {
			free(word.s);
			free(found);
			return -ENOMEM;
		}
		if (!had_quote && strcmp(word.s, "--") == 0)
			break;
		if (strncmp(word.s, key, klen) != 0)
			continue;
		if (word.s[klen] == '\0') {
			free(found);
			found = NULL;
			have = true;
		} else if (word.s[klen] == '=') {
			char *v = strdup(word.s + klen + 1);
			if (!v) {
				free(word.s);
				free(found);
				return -ENOMEM;
			}
			free(found);
			found = v;
			have = true;
		}
	}
	free(word.s);

	if (!have)
		return 0;
	if (ret_value)
		*ret_value = found;
	else
		free(found);
	return 1;
}
