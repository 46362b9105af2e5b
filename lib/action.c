/* Actions' vocabulary: the kinds of change and the values of each, parsed,
 * formatted, checked and compared in one place for policy rules, plans, the
 * journal, the transactions and the reports. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/irqbalance.h"
#include "isolated/util.h"

bool action_kind_is_thread(enum action_kind k)
{
	return k == ACTION_THREAD_AFFINITY || k == ACTION_THREAD_SCHED || k == ACTION_THREAD_CGROUP;
}

bool action_kind_is_cpulist(enum action_kind k)
{
	return k == ACTION_IRQ_AFFINITY || k == ACTION_THREAD_AFFINITY || k == ACTION_CPUMASK || k == ACTION_IRQBALANCE;
}

static const struct {
	const char *name; /* as plans and the journal name the kind */
	const char *noun; /* what its values set, for messages */
} kinds[] = {
    [ACTION_SYSCTL] = {"sysctl", "sysctl"},
    [ACTION_IRQ_AFFINITY] = {"irq-affinity", "IRQ affinity"},
    [ACTION_THREAD_AFFINITY] = {"thread-affinity", "affinity"},
    [ACTION_THREAD_SCHED] = {"thread-sched", "scheduling"},
    [ACTION_CPUMASK] = {"cpumask", "cpumask"},
    [ACTION_SYSFS] = {"sysfs", "sysfs attribute"},
    [ACTION_IRQBALANCE] = {"irqbalance", "irqbalance setting"},
    [ACTION_CGROUP] = {"cgroup", "cgroup setting"},
    [ACTION_THREAD_CGROUP] = {"thread-cgroup", "cgroup"},
};

const char *action_kind_name(enum action_kind k)
{
	return k < _ACTION_KIND_MAX ? kinds[k].name : "?";
}

const char *action_kind_noun(enum action_kind k)
{
	return k < _ACTION_KIND_MAX ? kinds[k].noun : "value";
}

int action_kind_parse(const char *name, enum action_kind *ret)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(name, kinds[k].name) == 0) {
			*ret = (enum action_kind)k;
			return 0;
		}
	return -EINVAL;
}

/* ---- cpu lists ---- */

int action_cpus_parse(const char *s, struct cpuset *ret)
{
	char msg[128];

	return cpuset_parse_list(s, ret, msg, sizeof(msg));
}

char *action_cpus_format(const struct cpuset *c)
{
	char *s = NULL;

	return cpuset_format_list(c, &s) < 0 ? NULL : s;
}

/* ---- scheduling ---- */

/* The policies that have a value, and how a value names them. */
static const struct sched_name {
	const char *name;
	int policy;
	bool prio; /* "NAME:N", N in 1..99 */
	bool rule; /* a policy rule may give it (sched =, thread =) */
} sched_names[] = {
    {"other", SCHED_OTHER, false, true},  {"fifo", SCHED_FIFO, true, true},   {"rr", SCHED_RR, true, true},
    {"batch", SCHED_BATCH, false, false}, {"idle", SCHED_IDLE, false, false},
};

/* The entry s names: "NAME" for a policy without priority, "NAME:..." for
 * one with (*ret_prio: what follows the colon). NULL: none. */
static const struct sched_name *sched_lookup(const char *s, const char **ret_prio)
{
	for (size_t i = 0; i < ARRAY_SIZE(sched_names); i++) {
		const struct sched_name *n = &sched_names[i];
		size_t len = strlen(n->name);

		if (!n->prio && strcmp(s, n->name) == 0)
			return n;
		if (n->prio && strncmp(s, n->name, len) == 0 && s[len] == ':') {
			*ret_prio = s + len + 1;
			return n;
		}
	}
	return NULL;
}

static const struct sched_name *sched_of_policy(int policy)
{
	for (size_t i = 0; i < ARRAY_SIZE(sched_names); i++)
		if (sched_names[i].policy == policy)
			return &sched_names[i];
	return NULL;
}

bool action_sched_has_value(int policy)
{
	return sched_of_policy(policy) != NULL;
}

int action_sched_parse(const char *s, int *ret_policy, int *ret_prio)
{
	const char *prio_text = NULL;
	const struct sched_name *n = sched_lookup(s, &prio_text);
	long prio = 0;

	if (!n || (n->prio && util_parse_long(prio_text, 1, 99, &prio) < 0))
		return -EINVAL;
	*ret_policy = n->policy;
	*ret_prio = (int)prio;
	return 0;
}

int action_sched_parse_rule(const char *s, int *ret_policy, int *ret_prio, char *err, size_t errlen)
{
	const char *prio = NULL;
	const struct sched_name *n = sched_lookup(s, &prio);
	long v = 0;
	int r;

	for (size_t i = 0; !n && i < ARRAY_SIZE(sched_names); i++)
		if (sched_names[i].prio && sched_names[i].rule && strcmp(s, sched_names[i].name) == 0) {
			snprintf(err, errlen, "missing priority in \"%s\" (expected %s:N, N in 1..99)", s, s);
			return -EINVAL;
		}
	if (!n || !n->rule) {
		snprintf(err, errlen, "invalid scheduling \"%s\" (expected fifo:N, rr:N or other)", s);
		return -EINVAL;
	}
	if (n->prio && !*prio) {
		snprintf(err, errlen, "missing priority in \"%s\" (expected %sN, N in 1..99)", s, s);
		return -EINVAL;
	}
	if (n->prio) {
		r = util_parse_long(prio, -1000000, 1000000, &v);
		if (r == -EINVAL || (r == 0 && !isdigit((unsigned char)*prio) && *prio != '-')) {
			snprintf(err, errlen, "invalid priority \"%s\" in \"%s\"", prio, s);
			return -EINVAL;
		}
		if (r < 0 || v < 1 || v > 99) {
			if (r < 0)
				snprintf(err, errlen, "priority %s out of range 1..99", prio);
			else
				snprintf(err, errlen, "priority %ld out of range 1..99", v);
			return -ERANGE;
		}
	}
	*ret_policy = n->policy;
	*ret_prio = (int)v;
	return 0;
}

const char *action_sched_name(int policy, int prio, char buf[ACTION_SCHED_MAX])
{
	const struct sched_name *n = sched_of_policy(policy);

	if (n && !n->prio)
		return n->name;
	if (n)
		snprintf(buf, ACTION_SCHED_MAX, "%s:%d", n->name, prio);
	else if (policy == SCHED_DEADLINE)
		return "deadline";
	else
		snprintf(buf, ACTION_SCHED_MAX, "policy%d:%d", policy, prio);
	return buf;
}

char *action_sched_format(int policy, int prio)
{
	char buf[ACTION_SCHED_MAX];

	return strdup(action_sched_name(policy, prio, buf));
}

char *action_sched_describe(int policy, int prio)
{
	char buf[ACTION_SCHED_MAX];

	if (!action_sched_has_value(policy))
		return strdup(policy == SCHED_ISO ? "iso" : policy == SCHED_DEADLINE ? "deadline" : "?");
	return strdup(action_sched_name(policy, prio, buf));
}

/* ---- checking ---- */

int action_value_check(enum action_kind k, const char *value, char *why, size_t whylen)
{
	struct cpuset set = CPUSET_INIT;
	char msg[160], buf[ACTION_SCHED_MAX];
	const char *canonical;
	int policy, prio, r;

	switch (k) {
	case ACTION_SYSCTL:
		/* host_write_sysctl writes one line */
		if (strchr(value, '\n')) {
			snprintf(why, whylen, "a sysctl value (it has a newline)");
			return -EINVAL;
		}
		return 0;
	case ACTION_IRQ_AFFINITY:
	case ACTION_THREAD_AFFINITY:
	case ACTION_CPUMASK:
	case ACTION_IRQBALANCE:
		r = cpuset_parse_list(value, &set, msg, sizeof(msg));
		cpuset_free(&set);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(why, whylen, "%s (%s)", k == ACTION_IRQBALANCE ? "a list" : "a CPU list", msg);
			return -EINVAL;
		}
		return 0;
	case ACTION_SYSFS:
		for (const unsigned char *p = (const unsigned char *)value; *p; p++)
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(why, whylen, "a sysfs value (it has a control character)");
				return -EINVAL;
			}
		return 0;
	case ACTION_CGROUP:
		return cgroup_value_check(value, why, whylen);
	case ACTION_THREAD_CGROUP:
		if (!cgroup_path_ok(value)) {
			snprintf(why, whylen, "a cgroup path (/ or /NAME/...)");
			return -EINVAL;
		}
		return 0;
	case ACTION_THREAD_SCHED:
		if (action_sched_parse(value, &policy, &prio) < 0) {
			snprintf(why, whylen,
				 "a scheduling value (other, batch, idle, fifo:N or rr:N with N in 1..99)");
			return -EINVAL;
		}
		canonical = action_sched_name(policy, prio, buf);
		if (strcmp(canonical, value) != 0) {
			snprintf(why, whylen, "the canonical form %s", canonical);
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(why, whylen, "a value of a known kind");
		return -EINVAL;
	}
}

/* ---- comparing ---- */

/* Sysctl values: white space runs are one space, numbers compare as numbers. */
static bool sysctl_equal(const char *a, const char *b)
{
	long x, y;

	if (util_parse_long(a, -(1L << 62), 1L << 62, &x) == 0 && util_parse_long(b, -(1L << 62), 1L << 62, &y) == 0)
		return x == y;
	for (;;) {
		while (*a == ' ' || *a == '\t' || *a == '\n')
			a++;
		while (*b == ' ' || *b == '\t' || *b == '\n')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && *a != ' ' && *a != '\t' && *a != '\n') {
			if (*a++ != *b++)
				return false;
		}
		if (*b && *b != ' ' && *b != '\t' && *b != '\n')
			return false;
	}
}

/* Hex masks as the kernel prints a cpumask attribute (a workqueue's
 * "cpumask": all CPUs' digits, comma-separated every 32 bits): "3f" and
 * "0000003f" and "0,0000003f" are one mask. */
static bool hexmask_equal(const char *a, const char *b)
{
	static const char hex[] = "0123456789abcdefABCDEF,";

	if (!*a || !*b || a[strspn(a, hex)] || b[strspn(b, hex)])
		return false;
	/* The digits without the commas and the leading zeros, compared from
	 * the end: the same digits in the same places. */
	while (*a == '0' || *a == ',')
		a++;
	while (*b == '0' || *b == ',')
		b++;
	for (;;) {
		while (*a == ',')
			a++;
		while (*b == ',')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a++) != tolower((unsigned char)*b++))
			return false;
	}
}

bool action_value_equal(enum action_kind kind, const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	if (kind == ACTION_SYSFS)
		return sysctl_equal(a, b) || hexmask_equal(a, b);
	if (kind == ACTION_SYSCTL)
		return sysctl_equal(a, b);
	if (kind == ACTION_CGROUP)
		return cgroup_value_equal(a, b);
	if (action_kind_is_cpulist(kind)) {
		struct cpuset x = CPUSET_INIT, y = CPUSET_INIT;
		bool eq;

		if (action_cpus_parse(a, &x) < 0 || action_cpus_parse(b, &y) < 0) {
			cpuset_free(&x);
			cpuset_free(&y);
			return strcmp(a, b) == 0;
		}
		eq = cpuset_equal(&x, &y);
		cpuset_free(&x);
		cpuset_free(&y);
		return eq;
	}
	return strcmp(a, b) == 0;
}

/* ---- targets ---- */

static const char *const cpumask_targets[] = {
    [HOST_CPUMASK_IRQ_DEFAULT] = "cpumask/irq_default",
    [HOST_CPUMASK_WORKQUEUE] = "cpumask/workqueue",
};

static const char *irq_target(unsigned irq, char buf[ACTION_TARGET_ID_MAX])
{
	snprintf(buf, ACTION_TARGET_ID_MAX, "irq/%u", irq);
	return buf;
}

static const char *tid_target(pid_t tid, char buf[ACTION_TARGET_ID_MAX])
{
	snprintf(buf, ACTION_TARGET_ID_MAX, "tid/%d", (int)tid);
	return buf;
}

char *action_irq_target(unsigned irq)
{
	char buf[ACTION_TARGET_ID_MAX];

	return strdup(irq_target(irq, buf));
}

char *action_tid_target(pid_t tid)
{
	char buf[ACTION_TARGET_ID_MAX];

	return strdup(tid_target(tid, buf));
}

const char *action_cpumask_target(enum host_cpumask which)
{
	return (size_t)which < ARRAY_SIZE(cpumask_targets) ? cpumask_targets[which] : "cpumask/?";
}

int action_cpumask_which(const char *target, enum host_cpumask *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(cpumask_targets); i++)
		if (strcmp(target, cpumask_targets[i]) == 0) {
			*ret = (enum host_cpumask)i;
			return 0;
		}
	return -EINVAL;
}

const char *action_canonical_target(enum action_kind k, const char *target, unsigned irq, pid_t tid,
				    char buf[ACTION_TARGET_ID_MAX])
{
	char path[PATH_MAX];
	enum host_cpumask which;

	switch (k) {
	case ACTION_SYSCTL:
		return host_sysctl_path(target, path, sizeof(path)) == 0 ? target : NULL;
	case ACTION_CPUMASK:
		return action_cpumask_which(target, &which) == 0 ? action_cpumask_target(which) : NULL;
	case ACTION_SYSFS: {
		const char *p = action_sysfs_path(target);

		return p && action_sysfs_path_check(p, path, sizeof(path)) == 0 ? target : NULL;
	}
	case ACTION_IRQBALANCE:
		return irqbalance_target_valid(target) ? target : NULL;
	case ACTION_CGROUP: {
		bool dir;

		return cgroup_target_check(target, &dir, path, sizeof(path)) == 0 ? target : NULL;
	}
	case ACTION_IRQ_AFFINITY:
		return irq_target(irq, buf);
	case ACTION_THREAD_AFFINITY:
	case ACTION_THREAD_SCHED:
	case ACTION_THREAD_CGROUP:
		return tid > 0 ? tid_target(tid, buf) : NULL;
	default:
		return NULL;
	}
}

/* ---- sysfs ---- */

/* The subtrees, as patterns of components: "#" is a CPU ("cpu" and a
 * number), "*" any one component; the path goes on below them. */
static const char *const sysfs_subtrees[][5] = {
    {"kernel", "mm", "transparent_hugepage"},
    {"kernel", "mm", "ksm"},
    {"devices", "system", "cpu", "#", "cpufreq"},
    {"devices", "system", "cpu", "#", "power"},
    {"devices", "virtual", "workqueue", "*"},
    {"bus", "workqueue", "devices", "*"},
    {"module", "*", "parameters"},
};

const char action_sysfs_subtrees[] = "kernel/mm/transparent_hugepage, kernel/mm/ksm, "
				     "devices/system/cpu/cpuN/cpufreq, devices/system/cpu/cpuN/power, "
				     "devices/virtual/workqueue/*, bus/workqueue/devices/*, module/*/parameters";

static bool cpu_component(const char *s, size_t n)
{
	if (n < 4 || strncmp(s, "cpu", 3) != 0 || (s[3] == '0' && n > 4))
		return false;
	for (size_t i = 3; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool subtree_match(const char *const *pat, const char *path)
{
	const char *p = path;

	for (size_t i = 0; i < 5 && pat[i]; i++) {
		const char *end = strchr(p, '/');
		size_t n;

		/* The subtree itself is a directory: something below it. */
		if (!end)
			return false;
		n = (size_t)(end - p);
		if (strcmp(pat[i], "#") == 0
			? !cpu_component(p, n)
			: strcmp(pat[i], "*") != 0 && (strlen(pat[i]) != n || strncmp(pat[i], p, n) != 0))
			return false;
		p = end + 1;
	}
	return true;
}

int action_sysfs_path_check(const char *path, char *why, size_t whylen)
{
	size_t n = 0;

	if (path[0] == '/') {
		snprintf(why, whylen, "relative to /sys (write kernel/mm/ksm/run, not /sys/kernel/mm/ksm/run)");
		return -EINVAL;
	}
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (n == 0 || (n == 1 && p[-1] == '.') || (n == 2 && p[-1] == '.' && p[-2] == '.')) {
				snprintf(why, whylen,
					 "a path of names under /sys (no empty, \".\" or \"..\" component)");
				return -EINVAL;
			}
			if (!*p)
				break;
			n = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && !strchr("_.:-", *p)) {
			snprintf(why, whylen, "a path of names under /sys (letters, digits, _ . : - and /)");
			return -EINVAL;
		}
		n++;
	}
	if (strcmp(path, "devices/virtual/workqueue/cpumask") == 0) {
		snprintf(why, whylen, "set here ([cpumask] workqueue sets it)");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sysfs_subtrees); i++)
		if (subtree_match(sysfs_subtrees[i], path))
			return 0;
	snprintf(why, whylen, "under a subtree isolated sets (%s)", action_sysfs_subtrees);
	return -EINVAL;
}

char *action_sysfs_target(const char *path)
{
	return util_sprintf("sysfs/%s", path);
}

const char *action_sysfs_path(const char *target)
{
	return strncmp(target, "sysfs/", 6) == 0 ? target + 6 : NULL;
}

bool action_sysfs_offers(const char *raw, const char *value)
{
	size_t n = strlen(value);

	if (!strchr(raw, '['))
		return true;
	for (const char *p = raw; *p;) {
		size_t k;

		while (*p == ' ' || *p == '[' || *p == ']' || *p == '\n')
			p++;
		k = strcspn(p, " []\n");
		if (k && k == n && strncmp(p, value, n) == 0)
			return true;
		p += k;
	}
	return false;
}

char *action_sysfs_value(const char *raw)
{
	const char *open = strchr(raw, '['), *close = open ? strchr(open, ']') : NULL;
	const char *a = raw, *b = raw + strlen(raw);

	if (open && close && close > open + 1) {
		a = open + 1;
		b = close;
	}
	while (a < b && isspace((unsigned char)*a))
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	return strndup(a, (size_t)(b - a));
}
