/* CPU sets of any size, and the kernel's two text forms of them: cpu lists
 * ("0-3,8,10-11", as in Cpus_allowed_list) and hex masks ("ff,00000001": 32-bit
 * words, most significant first, as in smp_affinity). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/cpuset.h"

#define WBITS 64u

void cpuset_init(struct cpuset *s)
{
	s->nwords = 0;
	s->w = NULL;
}

void cpuset_free(struct cpuset *s)
{
	free(s->w);
	cpuset_init(s);
}

static int grow(struct cpuset *s, size_t nwords)
{
	uint64_t *w;

	if (nwords <= s->nwords)
		return 0;
	w = realloc(s->w, nwords * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + s->nwords, 0, (nwords - s->nwords) * sizeof(*w));
	s->w = w;
	s->nwords = nwords;
	return 0;
}

int cpuset_set(struct cpuset *s, unsigned cpu)
{
	int r;

	if (cpu >= CPUSET_MAX_CPUS)
		return -ERANGE;
	r = grow(s, cpu / WBITS + 1);
	if (r < 0)
		return r;
	s->w[cpu / WBITS] |= UINT64_C(1) << (cpu % WBITS);
	return 0;
}

int cpuset_set_range(struct cpuset *s, unsigned first, unsigned last)
{
	int r;

	if (first > last)
		return -EINVAL;
	if (last >= CPUSET_MAX_CPUS)
		return -ERANGE;
	r = grow(s, last / WBITS + 1);
	if (r < 0)
		return r;
	for (unsigned c = first; c <= last; c++)
		s->w[c / WBITS] |= UINT64_C(1) << (c % WBITS);
	return 0;
}

void cpuset_clear(struct cpuset *s, unsigned cpu)
{
	if (cpu / WBITS < s->nwords)
		s->w[cpu / WBITS] &= ~(UINT64_C(1) << (cpu % WBITS));
}

void cpuset_zero(struct cpuset *s)
{
	if (s->w)
		memset(s->w, 0, s->nwords * sizeof(*s->w));
}

bool cpuset_isset(const struct cpuset *s, unsigned cpu)
{
	return cpu / WBITS < s->nwords && (s->w[cpu / WBITS] >> (cpu % WBITS)) & 1;
}

static uint64_t word(const struct cpuset *s, size_t i)
{
	return i < s->nwords ? s->w[i] : 0;
}

unsigned cpuset_count(const struct cpuset *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->nwords; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

bool cpuset_empty(const struct cpuset *s)
{
	for (size_t i = 0; i < s->nwords; i++)
		if (s->w[i])
			return false;
	return true;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	size_t n = a->nwords > b->nwords ? a->nwords : b->nwords;

	for (size_t i = 0; i < n; i++)
		if (word(a, i) != word(b, i))
			return false;
	return true;
}

bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b)
{
	size_t n = a->nwords < b->nwords ? a->nwords : b->nwords;

	for (size_t i = 0; i < n; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < a->nwords; i++)
		if (a->w[i] & ~word(b, i))
			return false;
	return true;
}

/* Build the result in a fresh buffer so that dst may alias a or b and stays
 * untouched on failure. */
enum op { OP_COPY, OP_OR, OP_AND, OP_ANDNOT };

static int combine(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b, enum op op)
{
	size_t n = a->nwords;
	uint64_t *w = NULL;

	if (op == OP_OR && b->nwords > n)
		n = b->nwords;
	if (n) {
		w = calloc(n, sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t x = word(a, i), y = b ? word(b, i) : 0;

		switch (op) {
		case OP_COPY:
			w[i] = x;
			break;
		case OP_OR:
			w[i] = x | y;
			break;
		case OP_AND:
			w[i] = x & y;
			break;
		case OP_ANDNOT:
			w[i] = x & ~y;
			break;
		}
	}
	free(dst->w);
	dst->w = w;
	dst->nwords = n;
	return 0;
}

int cpuset_copy(struct cpuset *dst, const struct cpuset *src)
{
	return combine(dst, src, NULL, OP_COPY);
}

int cpuset_or(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b)
{
	return combine(dst, a, b, OP_OR);
}

int cpuset_and(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b)
{
	return combine(dst, a, b, OP_AND);
}

int cpuset_andnot(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b)
{
	return combine(dst, a, b, OP_ANDNOT);
}

int cpuset_next(const struct cpuset *s, int prev)
{
	unsigned c = prev < 0 ? 0 : (unsigned)prev + 1;

	for (size_t i = c / WBITS; i < s->nwords; i++) {
		uint64_t w = s->w[i];

		if (i == c / WBITS)
			w &= ~UINT64_C(0) << (c % WBITS);
		if (w)
			return (int)(i * WBITS + (unsigned)__builtin_ctzll(w));
	}
	return -1;
}

int cpuset_last(const struct cpuset *s)
{
	for (size_t i = s->nwords; i-- > 0;)
		if (s->w[i])
			return (int)(i * WBITS + 63 - (unsigned)__builtin_clzll(s->w[i]));
	return -1;
}

static int bad_char(const char *s, const char *p, char *err, size_t errlen)
{
	if (*p)
		snprintf(err, errlen, "unexpected '%c' at position %zu in \"%s\"", *p, (size_t)(p - s) + 1, s);
	else
		snprintf(err, errlen, "unexpected end of \"%s\"", s);
	return -EINVAL;
}

static int parse_num(const char *s, const char **pp, unsigned *ret, char *err, size_t errlen)
{
	const char *p = *pp;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*p))
		return bad_char(s, p, err, errlen);
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v >= CPUSET_MAX_CPUS) {
			snprintf(err, errlen, "cpu number at position %zu in \"%s\" is too large (limit %u)",
				 (size_t)(*pp - s) + 1, s, CPUSET_MAX_CPUS - 1);
			return -ERANGE;
		}
		p++;
	}
	*ret = (unsigned)v;
	*pp = p;
	return 0;
}

int cpuset_parse_list(const char *s, struct cpuset *ret, char *err, size_t errlen)
{
	struct cpuset set = CPUSET_INIT;
	const char *p = s, *end = s + strlen(s);
	int r;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	while (p < end) {
		unsigned first, last, stride = 1;

		r = parse_num(s, &p, &first, err, errlen);
		if (r < 0)
			goto fail;
		last = first;
		if (p < end && *p == '-') {
			p++;
			r = parse_num(s, &p, &last, err, errlen);
			if (r < 0)
				goto fail;
			if (last < first) {
				snprintf(err, errlen, "range %u-%u in \"%s\" is reversed", first, last, s);
				r = -EINVAL;
				goto fail;
			}
			/* The kernel's bitmap_parselist also knows "0-15:2/4". */
			if (p < end && *p == ':') {
				unsigned used, group;

				p++;
				r = parse_num(s, &p, &used, err, errlen);
				if (r < 0)
					goto fail;
				if (p >= end || *p != '/') {
					r = bad_char(s, p < end ? p : end, err, errlen);
					goto fail;
				}
				p++;
				r = parse_num(s, &p, &group, err, errlen);
				if (r < 0)
					goto fail;
				if (!used || !group || used > group) {
					snprintf(err, errlen, "bad group \":%u/%u\" in \"%s\"", used, group, s);
					r = -EINVAL;
					goto fail;
				}
				for (unsigned c = first; c <= last; c++)
					if ((c - first) % group < used && (r = cpuset_set(&set, c)) < 0)
						goto fail;
				stride = 0;
			}
		}
		if (stride && (r = cpuset_set_range(&set, first, last)) < 0)
			goto fail;
		if (p < end) {
			if (*p != ',') {
				r = bad_char(s, p, err, errlen);
				goto fail;
			}
			p++;
			if (p >= end) {
				r = bad_char(s, p, err, errlen);
				goto fail;
			}
		}
	}
	cpuset_free(ret);
	*ret = set;
	return 0;
fail:
	cpuset_free(&set);
	return r;
}

int cpuset_parse_mask(const char *s, struct cpuset *ret, char *err, size_t errlen)
{
	struct cpuset set = CPUSET_INIT;
	const char *p = s, *end = s + strlen(s);
	size_t nwords = 1, w;
	int r;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end) {
		cpuset_free(ret);
		*ret = set;
		return 0;
	}
	for (const char *q = p; q < end; q++)
		if (*q == ',')
			nwords++;
	if (nwords * 32 > CPUSET_MAX_CPUS) {
		snprintf(err, errlen, "mask \"%s\" is wider than %u cpus", s, CPUSET_MAX_CPUS);
		return -ERANGE;
	}
	/* Words left to right: the first is the most significant. */
	w = nwords;
	while (p <= end && w > 0) {
		const char *q = p;
		uint32_t v = 0;

		w--;
		for (; q < end && *q != ','; q++) {
			if (!isxdigit((unsigned char)*q) || q - p >= 8) {
				r = bad_char(s, q, err, errlen);
				goto fail;
			}
			v = v << 4 |
			    (uint32_t)(isdigit((unsigned char)*q) ? *q - '0' : tolower((unsigned char)*q) - 'a' + 10);
		}
		if (q == p) { /* empty word: ",ff" or "ff,," or "ff," */
			r = bad_char(s, q, err, errlen);
			goto fail;
		}
		for (unsigned b = 0; b < 32; b++)
			if ((v >> b) & 1 && (r = cpuset_set(&set, (unsigned)(w * 32 + b))) < 0)
				goto fail;
		p = q + 1;
	}
	cpuset_free(ret);
	*ret = set;
	return 0;
fail:
	cpuset_free(&set);
	return r;
}

int cpuset_format_list(const struct cpuset *s, char **ret)
{
	size_t cap = 64, len = 0;
	char *buf = malloc(cap);
	int c = cpuset_next(s, -1);

	if (!buf)
		return -ENOMEM;
	buf[0] = '\0';
	while (c >= 0) {
		int last = c, n;

		while (cpuset_isset(s, (unsigned)last + 1))
			last++;
		for (;;) {
			if (last == c)
				n = snprintf(buf + len, cap - len, "%s%d", len ? "," : "", c);
			else
				n = snprintf(buf + len, cap - len, "%s%d-%d", len ? "," : "", c, last);
			if ((size_t)n < cap - len)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		len += (size_t)n;
		c = cpuset_next(s, last);
	}
	*ret = buf;
	return 0;
}

int cpuset_format_mask(const struct cpuset *s, unsigned nr_cpus, char **ret)
{
	int last = cpuset_last(s);
	unsigned width = nr_cpus ? nr_cpus : (unsigned)(last + 1);
	size_t nwords, pos = 0;
	char *buf;

	if (last >= 0 && (unsigned)last >= width)
		width = (unsigned)last + 1;
	nwords = width ? (width + 31) / 32 : 1;
	buf = malloc(nwords * 9 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = nwords; i-- > 0;) {
		uint32_t v = (uint32_t)(word(s, i / 2) >> ((i % 2) * 32));
		unsigned digits = 8;

		/* The kernel prints the top word only as wide as nr_cpu_ids needs. */
		if (i == nwords - 1 && width % 32)
			digits = (width % 32 + 3) / 4;
		pos += (size_t)sprintf(buf + pos, "%s%0*x", i == nwords - 1 ? "" : ",", (int)digits, v);
	}
	*ret = buf;
	return 0;
}
