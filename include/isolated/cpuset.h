/* CPU sets of any size: parse and format the kernel's cpu lists ("0-3,8")
 * and hex masks ("ff,00000001", 32-bit words, most significant first). */
#ifndef ISOLATED_CPUSET_H
#define ISOLATED_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Highest CPU number + 1 we accept; the kernel's NR_CPUS maximum is 8192. */
#define CPUSET_MAX_CPUS 65536

struct cpuset {
	size_t nwords; /* words allocated in w */
	uint64_t *w;   /* NULL when empty and never grown */
};

#define CPUSET_INIT                                                                                                    \
	{                                                                                                              \
		0, NULL                                                                                                \
	}

void cpuset_init(struct cpuset *s);
void cpuset_free(struct cpuset *s);
/* Returns 0, -ERANGE (cpu >= CPUSET_MAX_CPUS) or -ENOMEM. */
int cpuset_set(struct cpuset *s, unsigned cpu);
int cpuset_set_range(struct cpuset *s, unsigned first, unsigned last);
void cpuset_clear(struct cpuset *s, unsigned cpu);
void cpuset_zero(struct cpuset *s);
bool cpuset_isset(const struct cpuset *s, unsigned cpu);
unsigned cpuset_count(const struct cpuset *s);
bool cpuset_empty(const struct cpuset *s);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b);
/* true when every cpu of a is in b */
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);
/* dst may be a or b. dst is untouched on failure. */
int cpuset_copy(struct cpuset *dst, const struct cpuset *src);
int cpuset_or(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b);
int cpuset_and(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b);
int cpuset_andnot(struct cpuset *dst, const struct cpuset *a, const struct cpuset *b);
/* Next cpu after prev (start with -1); -1 when none. */
int cpuset_next(const struct cpuset *s, int prev);
/* Highest cpu in the set, -1 when empty. */
int cpuset_last(const struct cpuset *s);

/* Parsers accept surrounding white space (a trailing newline from /proc).
 * An empty string is the empty set. On error: -EINVAL (or -ERANGE for a cpu
 * >= CPUSET_MAX_CPUS) and a message naming the offending character and its
 * position in err; *ret untouched. */
int cpuset_parse_list(const char *s, struct cpuset *ret, char *err, size_t errlen);
int cpuset_parse_mask(const char *s, struct cpuset *ret, char *err, size_t errlen);
/* Allocated strings; "" for the empty set. -ENOMEM. */
int cpuset_format_list(const struct cpuset *s, char **ret);
/* nr_cpus: width of the mask in cpus (rounded up to 32-bit words, at least one
 * word), like the kernel prints for nr_cpu_ids. 0 means "just wide enough". */
int cpuset_format_mask(const struct cpuset *s, unsigned nr_cpus, char **ret);

#endif
