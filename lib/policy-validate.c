/* Policy semantics: load a policy file (read by conf) into a struct policy,
 * reporting every error with its line, then check the rules against the
 * mode's type (dedicated, outsourcing) and against each other. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/conf.h"
#include "isolated/host.h"
#include "isolated/policy.h"
#include "isolated/trust.h"
#include "policy-internal.h"

struct vctx {
	const char *file;
	const struct hostconf *hc;
	const struct cpuset *online;
	struct policy *p;
	unsigned *n_errors;
	struct diag *d;
	size_t budget; /* CONF_MAX_EXPANDED minus what is expanded so far */
	int r;	       /* -ENOMEM */

	unsigned mode_line, sysctl_line, cmdline_line, sysfs_line;
	unsigned irq_default_line, wq_cpumask_line; /* [cpumask] keys, valid or not */
	unsigned irqbalance_line;		    /* [irqbalance], empty or not */
	unsigned systemd_line, modprobe_line;	    /* the headers, empty or not */
	unsigned threads_line;			    /* [partition] threads = */
	bool have_type;
	bool type_known; /* p->type holds the type the file names */
	unsigned type_line;
	bool name_set;
	bool have_rt_runtime;
	long rt_runtime;
	bool rtnet_sysctl_seen; /* present in [sysctl], valid or not */
	bool have_rtnet;
	long rtnet_prio;
};

#define ERR(c, line, ...) conf_error((c)->n_errors, (c)->d, (c)->file, (line), __VA_ARGS__)

/* Sysctls whose values are checked: integers in the range the kernel
 * accepts (kernel/sysctl.c, kernel/watchdog.c, kernel/hung_task.c,
 * mm/vmstat.c), narrowed where a value the kernel takes would hurt. Any
 * other sysctl takes any one-line value, as the kernel prints it. */
static const struct checked_sysctl {
	const char *name;
	long min, max;
} checked_sysctls[] = {
    {"kernel.timer_migration", 0, 1},
    {"kernel.sched_rt_runtime_us", -1, 2147483647L},
    {"kernel.sched_rt_period_us", 1, 2147483647L},
    {"kernel.numa_balancing", 0, 3},
    {"net.core.rtnet_prio", 0, 99},
    {"kernel.watchdog", 0, 1},
    {"kernel.nmi_watchdog", 0, 1},
    {"kernel.soft_watchdog", 0, 1},
    {"kernel.watchdog_thresh", 0, 60},
    /* 0 turns the check off; the kernel's bound is LONG_MAX / HZ. */
    {"kernel.hung_task_timeout_secs", 0, 2147483647L},
    {"kernel.hung_task_warnings", -1, 2147483647L},
    /* Seconds between the per-CPU vmstat updates. The kernel takes 0 and
     * negative numbers, which make the update run without pause. */
    {"vm.stat_interval", 1, 2147483L},
    {"vm.swappiness", 0, 200},
    {"net.core.busy_read", 0, 2147483647L},
    {"net.core.busy_poll", 0, 2147483647L},
};

const char *policy_dump_sysctl(size_t i)
{
	/* A CPU list, so not in the table of integers; the shipped dedicated
	 * mode sets it. */
	static const char *const more[] = {"kernel.watchdog_cpumask"};

	if (i < ARRAY_SIZE(checked_sysctls))
		return checked_sysctls[i].name;
	i -= ARRAY_SIZE(checked_sysctls);
	return i < ARRAY_SIZE(more) ? more[i] : NULL;
}

/* Sysctls a policy may not set, with why: what could not be put back, what
 * runs a program, what turns a stall on an RT host into a reboot. */
static const struct refused_sysctl {
	const char *name;
	const char *why;
} refused_sysctls[] = {
    {"kernel.modules_disabled", "it cannot be set back to 0 without a reboot, so revert could not undo it"},
    {"kernel.kexec_load_disabled", "it cannot be set back to 0 without a reboot, so revert could not undo it"},
    {"kernel.unprivileged_bpf_disabled", "1 cannot be set back without a reboot, so revert could not undo it"},
    {"vm.drop_caches", "it is an action, not a setting: there is no value to journal and put back"},
    {"vm.compact_memory", "it is an action, not a setting: there is no value to journal and put back"},
    {"vm.stat_refresh", "it is an action, not a setting: there is no value to journal and put back"},
    {"kernel.core_pattern", "it can name a program the kernel runs as root, and isolated runs no program"},
    {"kernel.modprobe", "it names a program the kernel runs as root, and isolated runs no program"},
    {"kernel.poweroff_cmd", "it names a program the kernel runs as root, and isolated runs no program"},
    {"kernel.hotplug", "it names a program the kernel runs as root, and isolated runs no program"},
    {"kernel.panic_on_oops", "it turns a stall into a reboot, taking every VM of the host down"},
    {"kernel.panic_on_warn", "it turns a stall into a reboot, taking every VM of the host down"},
    {"kernel.hung_task_panic", "RT threads starve others by design; it would reboot the host when one is starved"},
    {"kernel.softlockup_panic", "RT threads starve others by design; it would reboot the host when one is starved"},
    {"kernel.hardlockup_panic", "it turns a stall into a reboot, taking every VM of the host down"},
    {"kernel.panic_on_rcu_stall", "RT threads starve others by design; it would reboot the host on an RCU stall"},
    {"vm.panic_on_oom", "it turns a stall into a reboot, taking every VM of the host down"},
};

/* A value of a sysctl without a range as it goes to the kernel: white
 * space trimmed, runs of it one tab (as the kernel prints a vector), an
 * integer field in decimal ("+5" and "007" are 5 and 7: proc_dointvec
 * refuses a "+"). NULL with *why (static) when it cannot be one. */
static char *sysctl_value(const char *v, const char **why)
{
	size_t n = strlen(v), o = 0;
	char *out = malloc(n + 1), *field;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 && *p != '\t') {
			*why = "has a control character";
			free(out);
			return NULL;
		}
	for (const char *p = v; *p;) {
		const char *end;
		long num;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		for (end = p; *end && *end != ' ' && *end != '\t'; end++)
			;
		if (o)
			out[o++] = '\t';
		field = out + o;
		memcpy(field, p, (size_t)(end - p));
		field[end - p] = '\0';
		if (util_parse_long(field, -(1L << 62), 1L << 62, &num) == 0) {
			int k = snprintf(field, (size_t)(end - p) + 1, "%ld", num);
			o += (size_t)k;
		} else {
			o += (size_t)(end - p);
		}
		p = end;
	}
	out[o] = '\0';
	return out;
}

static const char *policy_lookup(void *userdata, const char *name, char *err, size_t errlen, int *ret_r)
{
	const struct hostconf *hc = userdata;
	const char *v = hc ? hostconf_get(hc, name) : NULL;

	if (!v) {
		snprintf(err, errlen, "unknown variable ${%s}", name);
		*ret_r = -EINVAL;
	}
	return v;
}

/* The value of an entry with ${name} replaced; NULL after reporting. */
static char *expand(struct vctx *c, const struct conf_entry *e)
{
	char err[512], *out = NULL;
	int r;

	r = conf_expand(e->value, policy_lookup, (void *)c->hc, &c->budget, &out, err, sizeof(err));
	if (r == -ENOMEM) {
		c->r = r;
		return NULL;
	}
	if (r < 0) {
		ERR(c, e->line, "%s", err);
		return NULL;
	}
	return out;
}

static bool valid_rule_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* Report a duplicate key; true if e repeats an earlier key of sec. */
static bool duplicate_key(struct vctx *c, const struct conf_section *sec, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(sec->entries[j].key, sec->entries[i].key) == 0) {
			ERR(c, sec->entries[i].line, "duplicate key \"%s\" in [%s] (first at line %u)",
			    sec->entries[i].key, sec->header, sec->entries[j].line);
			return true;
		}
	return false;
}

static char *format_set(struct vctx *c, const struct cpuset *s)
{
	char *t = NULL;

	if (cpuset_format_list(s, &t) < 0) {
		c->r = -ENOMEM;
		return NULL;
	}
	return t;
}

/* Parse a cpu list that must name online cpus. */
static int parse_cpus(struct vctx *c, const char *text, unsigned line, struct cpuset *ret)
{
	struct cpuset set = CPUSET_INIT, off = CPUSET_INIT;
	char err[512];
	int r;

	r = cpuset_parse_list(text, &set, err, sizeof(err));
	if (r == -ENOMEM)
		return c->r = r;
	if (r < 0) {
		ERR(c, line, "invalid cpu list: %s", err);
		return -EINVAL;
	}
	if (cpuset_empty(&set)) {
		ERR(c, line, "empty cpu list");
		cpuset_free(&set);
		return -EINVAL;
	}
	r = cpuset_andnot(&off, &set, c->online);
	if (r < 0) {
		cpuset_free(&set);
		return c->r = r;
	}
	if (!cpuset_empty(&off)) {
		char *o = format_set(c, &off), *on = format_set(c, c->online);

		if (o && on)
			ERR(c, line, "%s %s %s not online (online: %s)", cpuset_count(&off) == 1 ? "cpu" : "cpus", o,
			    cpuset_count(&off) == 1 ? "is" : "are", on);
		free(o);
		free(on);
		cpuset_free(&off);
		cpuset_free(&set);
		return -EINVAL;
	}
	cpuset_free(&off);
	*ret = set;
	return 0;
}

/* ---- [mode] ---- */

/* [mode] type = V. */
static void mode_type(struct vctx *c, const struct conf_entry *e, const char *v)
{
	static const enum mode_type types[] = {MODE_TYPE_VANILLA, MODE_TYPE_RT_ONLY, MODE_TYPE_DEDICATED,
					       MODE_TYPE_OUTSOURCING};

	c->have_type = true;
	c->type_line = e->line;
	c->type_known = false;
	for (size_t k = 0; k < ARRAY_SIZE(types); k++)
		if (strcmp(v, policy_mode_type_name(types[k])) == 0) {
			c->p->type = types[k];
			c->type_known = true;
		}
	if (!c->type_known)
		ERR(c, e->line, "unknown type \"%s\" (expected vanilla, rt-only, dedicated or outsourcing)", v);
}

/* [mode] requires = WORDS. */
static void mode_requires(struct vctx *c, const struct conf_entry *e, const char *v)
{
	char **words = NULL, err[256];

	if (strv_split_quoted(v, &words, err, sizeof(err)) < 0) {
		ERR(c, e->line, "%s", err);
		return;
	}
	for (size_t k = 0; words[k]; k++) {
		if (strcmp(words[k], "preempt-rt") == 0)
			c->p->requires |= POLICY_REQ_PREEMPT_RT;
		else if (strcmp(words[k], "rtnet") == 0)
			c->p->requires |= POLICY_REQ_RTNET;
		else
			ERR(c, e->line, "unknown requirement \"%s\" (expected preempt-rt or rtnet)", words[k]);
	}
	strv_free(words);
}

/* [mode] scope = SCOPE. */
static void mode_scope(struct vctx *c, const struct conf_entry *e, const char *v)
{
	struct scope sc;
	char err[512];
	int r = policy_scope_parse(v, &sc, err, sizeof(err));

	if (r == -ENOMEM) {
		c->r = r;
	} else if (r < 0) {
		ERR(c, e->line, "%s", err);
	} else {
		policy_scope_done(&c->p->scope);
		c->p->scope = sc;
		c->p->scope_line = e->line;
	}
}

/* [mode] KEY = V, V expanded; takes V. */
static void mode_key(struct vctx *c, const struct conf_entry *e, char *v)
{
	struct policy *p = c->p;

	if (strcmp(e->key, "name") == 0) {
		c->name_set = true;
		if (!policy_name_valid(v))
			ERR(c, e->line, "invalid mode name \"%s\" (allowed: A-Z a-z 0-9 _ -)", v);
		free(p->name);
		p->name = v, v = NULL;
	} else if (strcmp(e->key, "summary") == 0) {
		free(p->summary);
		p->summary = v, v = NULL;
	} else if (strcmp(e->key, "type") == 0) {
		mode_type(c, e, v);
	} else if (strcmp(e->key, "requires") == 0) {
		mode_requires(c, e, v);
	} else if (strcmp(e->key, "strict") == 0) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			p->strict = true;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			p->strict = false;
		else
			ERR(c, e->line, "invalid value \"%s\" for strict (expected yes or no)", v);
	} else if (strcmp(e->key, "scope") == 0) {
		mode_scope(c, e, v);
	}
	free(v);
}

static void parse_mode(struct vctx *c, const struct conf_section *sec)
{
	c->mode_line = sec->line;
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		char *v;

		if (duplicate_key(c, sec, i))
			continue;
		if (strcmp(e->key, "name") && strcmp(e->key, "summary") && strcmp(e->key, "type") &&
		    strcmp(e->key, "requires") && strcmp(e->key, "strict") && strcmp(e->key, "scope")) {
			ERR(c, e->line,
			    "unknown key \"%s\" in [mode] (expected name, summary, type, requires, strict, scope)",
			    e->key);
			continue;
		}
		v = expand(c, e);
		if (v)
			mode_key(c, e, v);
		else if (strcmp(e->key, "type") == 0)
			c->have_type = true; /* reported; don't also say it is missing */
	}
}

/* ---- [sysctl] ---- */

/* Append e's sysctl with value (taken; NULL: out of memory). */
static int add_sysctl(struct vctx *c, const struct conf_entry *e, char *value)
{
	struct policy *p = c->p;
	struct sysctl_setting *nv;

	nv = value ? realloc(p->sysctls, (p->n_sysctls + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(value);
		return c->r = -ENOMEM;
	}
	p->sysctls = nv;
	nv[p->n_sysctls] = (struct sysctl_setting){.name = strdup(e->key), .value = value, .line = e->line};
	if (!nv[p->n_sysctls].name) {
		free(value);
		return c->r = -ENOMEM;
	}
	p->n_sysctls++;
	return 0;
}

static void parse_sysctl(struct vctx *c, const struct conf_section *sec)
{

	c->sysctl_line = sec->line;
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		char path[PATH_MAX];
		size_t k;
		long val;
		char *v;
		int r;

		if (duplicate_key(c, sec, i))
			continue;
		if (host_sysctl_path(e->key, path, sizeof(path)) < 0) {
			ERR(c, e->line,
			    "invalid sysctl name \"%s\" (expected its name under /proc/sys with dots: lower-case "
			    "letters, digits, _ and -, as in vm.stat_interval)",
			    e->key);
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(refused_sysctls); k++)
			if (strcmp(e->key, refused_sysctls[k].name) == 0)
				break;
		if (k < ARRAY_SIZE(refused_sysctls)) {
			ERR(c, e->line, "isolated does not set %s: %s", e->key, refused_sysctls[k].why);
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(checked_sysctls); k++)
			if (strcmp(e->key, checked_sysctls[k].name) == 0)
				break;
		if (strcmp(e->key, "net.core.rtnet_prio") == 0)
			c->rtnet_sysctl_seen = true;
		v = expand(c, e);
		if (!v)
			continue;
		if (!*v) {
			ERR(c, e->line, "empty value for %s%s", e->key,
			    strstr(e->value, "${") ? " (is the variable set in host.conf?)" : "");
			free(v);
			continue;
		}
		if (k == ARRAY_SIZE(checked_sysctls)) {
			const char *why = NULL;
			char *value = sysctl_value(v, &why);

			if (!value && !why) {
				free(v);
				c->r = -ENOMEM;
				return;
			}
			if (!value) {
				ERR(c, e->line, "value \"%s\" of %s %s", v, e->key, why);
				free(v);
				continue;
			}
			free(v);
			if (add_sysctl(c, e, value) < 0)
				return;
			continue;
		}
		r = util_parse_long(v, checked_sysctls[k].min, checked_sysctls[k].max, &val);
		if (r == -EINVAL) {
			ERR(c, e->line, "value \"%s\" of %s is not an integer", v, e->key);
			free(v);
			continue;
		}
		if (r < 0) {
			ERR(c, e->line, "value %s of %s out of range %ld..%ld", v, e->key, checked_sysctls[k].min,
			    checked_sysctls[k].max);
			free(v);
			continue;
		}
		if (strcmp(e->key, "kernel.sched_rt_runtime_us") == 0)
			c->have_rt_runtime = true, c->rt_runtime = val;
		if (strcmp(e->key, "net.core.rtnet_prio") == 0)
			c->have_rtnet = true, c->rtnet_prio = val;
		free(v);
		/* The number, not the text: "+0" or "007" passed the check but
		 * the kernel's proc_dointvec refuses a "+". */
		if (add_sysctl(c, e, util_sprintf("%ld", val)) < 0)
			return;
	}
}

/* ---- [sysfs] ---- */

/* Append path = value (both taken) unless path is set already. */
static int add_sysfs(struct vctx *c, const struct conf_entry *e, char *path, char *value)
{
	struct policy *p = c->p;
	struct sysfs_setting *nv;

	for (size_t i = 0; i < p->n_sysfs; i++)
		if (strcmp(p->sysfs[i].path, path) == 0) {
			ERR(c, e->line, "%s is set twice in [sysfs] (first at line %u)", path, p->sysfs[i].line);
			free(path);
			free(value);
			return 0;
		}
	nv = path && value ? realloc(p->sysfs, (p->n_sysfs + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(path);
		free(value);
		return c->r = -ENOMEM;
	}
	p->sysfs = nv;
	nv[p->n_sysfs++] = (struct sysfs_setting){.path = path, .value = value, .line = e->line};
	return 0;
}

/* The component "cpuLIST" of devices/system/cpu/ in path: its start and
 * length, or false when there is none or it names one CPU. */
static bool cpu_list_component(const char *path, size_t *ret_off, size_t *ret_len)
{
	static const char dir[] = "devices/system/cpu/cpu";
	const char *p = path + sizeof(dir) - 1;
	size_t n;

	/* The prefix first: p is inside path only then. */
	if (strncmp(path, dir, sizeof(dir) - 1) != 0)
		return false;
	n = strcspn(p, "/");
	if (n == 0 || !p[n] || strspn(p, "0123456789") == n)
		return false;
	*ret_off = sizeof(dir) - 1;
	*ret_len = n;
	return true;
}

static void parse_sysfs(struct vctx *c, const struct conf_section *sec)
{
	c->sysfs_line = sec->line;
	for (size_t i = 0; i < sec->n_entries && c->r == 0; i++) {
		const struct conf_entry *e = &sec->entries[i];
		struct conf_entry key_as_value = *e;
		struct cpuset cpus = CPUSET_INIT;
		char why[512], *path, *v, *list;
		size_t off, len;

		if (duplicate_key(c, sec, i))
			continue;
		/* The key takes variables too: cpu${rt_cpus}. */
		key_as_value.value = e->key;
		path = expand(c, &key_as_value);
		if (!path)
			continue;
		v = expand(c, e);
		if (!v) {
			free(path);
			continue;
		}
		util_strip(v);
		if (!*v || action_value_check(ACTION_SYSFS, v, why, sizeof(why)) < 0) {
			if (!*v)
				ERR(c, e->line, "empty value for %s%s", path,
				    strstr(e->value, "${") ? " (is the variable set in host.conf?)" : "");
			else
				ERR(c, e->line, "value \"%s\" of %s is not %s", v, path, why);
			free(path);
			free(v);
			continue;
		}
		if (!cpu_list_component(path, &off, &len)) {
			if (action_sysfs_path_check(path, why, sizeof(why)) < 0) {
				/* inih ends a key at ':' as at '=': "a:b = 1" is key
				 * "a", value "b = 1". */
				const char *eq = strchr(e->value, '='), *var = strstr(e->key, "${");
				const char *slash = strchr(e->value, '/');

				if (eq && slash && slash < eq)
					ERR(c, e->line,
					    "sysfs path \"%s\" is not %s (a ':' in the path ends the key, as '=' "
					    "does: [sysfs] cannot set a path with ':')",
					    path, why);
				else if (var && strstr(path, "devices/system/cpu/cpu/"))
					ERR(c, e->line,
					    "sysfs path \"%s\" is not %s (%.*s expands to nothing: is it set in "
					    "host.conf?)",
					    path, why, (int)(strchr(var, '}') ? strchr(var, '}') - var + 1 : 2), var);
				else
					ERR(c, e->line, "sysfs path \"%s\" is not %s", path, why);
				free(path);
				free(v);
				continue;
			}
			add_sysfs(c, e, path, v);
			continue;
		}
		/* One attribute per CPU of the list. */
		list = strndup(path + off, len);
		if (!list || parse_cpus(c, list, e->line, &cpus) < 0) {
			if (!list)
				c->r = -ENOMEM;
			free(list);
			free(path);
			free(v);
			continue;
		}
		for (int cpu = cpuset_next(&cpus, -1); cpu >= 0 && c->r == 0; cpu = cpuset_next(&cpus, cpu)) {
			char *one = util_sprintf("%.*s%d%s", (int)off, path, cpu, path + off + len);

			if (one && action_sysfs_path_check(one, why, sizeof(why)) < 0) {
				ERR(c, e->line, "sysfs path \"%s\" is not %s", one, why);
				free(one);
				break;
			}
			add_sysfs(c, e, one, v ? strdup(v) : NULL);
		}
		cpuset_free(&cpus);
		free(list);
		free(path);
		free(v);
	}
}

/* ---- sections of cpu lists: [cpumask], [irqbalance], [systemd] ---- */

/* A key of such a section: where its list goes, and where the key's line
 * (NULL: not kept). */
struct cpus_key {
	const char *key;
	struct cpuset *set;
	bool *has;
	unsigned *line;
};

/* Each key of sec one of keys[], its value a list of online cpus;
 * expected: the keys' names for the message. */
static void parse_cpus_keys(struct vctx *c, const struct conf_section *sec, const struct cpus_key *keys, size_t n,
			    const char *expected)
{
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		const struct cpus_key *k = NULL;
		char *v;

		if (duplicate_key(c, sec, i))
			continue;
		for (size_t j = 0; j < n && !k; j++)
			if (strcmp(e->key, keys[j].key) == 0)
				k = &keys[j];
		if (!k) {
			ERR(c, e->line, "unknown key \"%s\" in [%s] (expected %s)", e->key, sec->header, expected);
			continue;
		}
		if (k->line)
			*k->line = e->line;
		v = expand(c, e);
		if (!v)
			continue;
		if (parse_cpus(c, v, e->line, k->set) == 0)
			*k->has = true;
		free(v);
	}
}

static void parse_cpumask(struct vctx *c, const struct conf_section *sec)
{
	struct policy *p = c->p;
	const struct cpus_key keys[] = {
	    {"irq_default", &p->irq_default, &p->has_irq_default, &c->irq_default_line},
	    {"workqueue", &p->wq_cpumask, &p->has_wq_cpumask, &c->wq_cpumask_line},
	};

	parse_cpus_keys(c, sec, keys, ARRAY_SIZE(keys), "irq_default, workqueue");
}

static void parse_irqbalance(struct vctx *c, const struct conf_section *sec)
{
	struct policy *p = c->p;
	const struct cpus_key keys[] = {{"banned", &p->irqbalance_banned, &p->has_irqbalance, NULL}};

	c->irqbalance_line = sec->line;
	parse_cpus_keys(c, sec, keys, ARRAY_SIZE(keys), "banned");
}

/* [systemd] cpu_affinity: systemd's CPUAffinity=, which isoctl boot apply
 * writes; nothing here is applied at run time. */
static void parse_systemd(struct vctx *c, const struct conf_section *sec)
{
	struct policy *p = c->p;
	const struct cpus_key keys[] = {
	    {"cpu_affinity", &p->systemd_affinity, &p->has_systemd_affinity, &p->systemd_line}};

	c->systemd_line = sec->line;
	parse_cpus_keys(c, sec, keys, ARRAY_SIZE(keys), "cpu_affinity");
}

/* ---- [modprobe] ---- */

/* modprobe takes '-' and '_' in a module name as the same character. */
static bool same_module(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

/* The length of the name of a module parameter "NAME" or "NAME=VALUE":
 * NAME of [A-Za-z0-9_.]; 0 when it is none. */
static size_t module_param_name(const char *w)
{
	size_t n = strcspn(w, "=");

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '_' && w[i] != '.')
			return 0;
	return n;
}

/* modprobe.d takes the options as they are written: it has no quoting (a
 * parameter's value cannot hold white space or quotes), and a backslash at
 * the end of a line joins the next line to it. */
static bool module_value_ok(const char *v)
{
	for (const unsigned char *u = (const unsigned char *)v; *u; u++)
		if ((*u < 0x20 && *u != '\t') || *u == 0x7f || *u == '"' || *u == '\'' || *u == '\\')
			return false;
	return true;
}

/* The parameters of one module, the words of its value v (taken). NULL
 * when one is at fault (reported) or out of memory (c->r). */
static char **module_params(struct vctx *c, const struct conf_entry *e, char *v)
{
	const char *hint = strstr(e->value, "${") ? " (is the variable set in host.conf?)" : "";
	char **params = NULL;
	bool bad = false;

	if (!module_value_ok(v)) {
		ERR(c, e->line,
		    "value \"%s\" of module %s has a quote, a backslash or a control character (modprobe.d has no "
		    "quoting: a parameter's value cannot hold white space or quotes)",
		    v, e->key);
		free(v);
		return NULL;
	}
	for (char *save = NULL, *w = strtok_r(v, " \t", &save); w && c->r == 0; w = strtok_r(NULL, " \t", &save)) {
		size_t n = module_param_name(w);
		bool twice = false;

		if (!n) {
			ERR(c, e->line,
			    "invalid parameter \"%s\" for module %s (expected NAME or NAME=VALUE, NAME of A-Z a-z 0-9 "
			    "_ .)",
			    w, e->key);
			bad = true;
			continue;
		}
		if (w[n] == '=' && !w[n + 1]) {
			ERR(c, e->line, "parameter \"%s\" of module %s has an empty value%s", w, e->key, hint);
			bad = true;
			continue;
		}
		for (size_t k = 0; params && params[k] && !twice; k++)
			twice = strncmp(params[k], w, n) == 0 && (params[k][n] == '=' || !params[k][n]);
		if (twice) {
			ERR(c, e->line, "parameter \"%.*s\" is given twice for module %s", (int)n, w, e->key);
			bad = true;
		} else if (strv_push_dup(&params, w) < 0) {
			c->r = -ENOMEM;
		}
	}
	if (!params && !bad && c->r == 0)
		ERR(c, e->line, "empty value for module %s in [modprobe]%s", e->key, hint);
	free(v);
	if (bad || c->r < 0) {
		strv_free(params);
		return NULL;
	}
	return params;
}

/* [modprobe] MODULE = PARAMS: the options isoctl boot apply writes to
 * modprobe.d; nothing here is applied at run time. */
static void parse_modprobe(struct vctx *c, const struct conf_section *sec)
{
	struct policy *p = c->p;

	c->modprobe_line = sec->line;
	for (size_t i = 0; i < sec->n_entries && c->r == 0; i++) {
		const struct conf_entry *e = &sec->entries[i];
		struct modprobe_option *nv;
		char **params, *v;
		size_t j;

		if (duplicate_key(c, sec, i))
			continue;
		/* A module name has a mode name's characters. */
		if (!policy_name_valid(e->key)) {
			ERR(c, e->line, "invalid module name \"%s\" in [modprobe] (allowed: A-Z a-z 0-9 _ -)", e->key);
			continue;
		}
		for (j = 0; j < i; j++)
			if (same_module(sec->entries[j].key, e->key))
				break;
		if (j < i) {
			ERR(c, e->line,
			    "module %s is listed twice in [modprobe] (first at line %u as %s: modprobe takes - and _ "
			    "alike)",
			    e->key, sec->entries[j].line, sec->entries[j].key);
			continue;
		}
		v = expand(c, e);
		if (!v || !(params = module_params(c, e, v)))
			continue;
		nv = realloc(p->modprobe, (p->n_modprobe + 1) * sizeof(*nv));
		if (!nv) {
			strv_free(params);
			c->r = -ENOMEM;
			return;
		}
		p->modprobe = nv;
		nv[p->n_modprobe] =
		    (struct modprobe_option){.module = strdup(e->key), .params = params, .line = e->line};
		if (!nv[p->n_modprobe].module) {
			strv_free(params);
			c->r = -ENOMEM;
			return;
		}
		p->n_modprobe++;
	}
}

/* ---- [cmdline] ---- */

static bool valid_param(const char *s)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);

	/* "--" ends the kernel's parameters: the rest would go to init. */
	if (!klen || strcmp(s, "--") == 0)
		return false;
	for (size_t i = 0; i < klen; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* ---- [partition] ---- */

static void parse_partition(struct vctx *c, const struct conf_section *sec)
{
	struct partition_spec *ps = &c->p->partition;
	bool have_cpus = false;

	ps->line = sec->line;
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		char *v;

		if (duplicate_key(c, sec, i))
			continue;
		if (strcmp(e->key, "cpus") && strcmp(e->key, "threads") && strcmp(e->key, "name") &&
		    strcmp(e->key, "parent")) {
			ERR(c, e->line, "unknown key \"%s\" in [partition] (expected cpus, threads, name or parent)",
			    e->key);
			continue;
		}
		v = expand(c, e);
		if (!v)
			continue;
		if (strcmp(e->key, "cpus") == 0) {
			if (parse_cpus(c, v, e->line, &ps->cpus) == 0) {
				if (cpuset_empty(&ps->cpus))
					ERR(c, e->line,
					    "cpus in [partition] is empty (is ${rt_cpus} set in host.conf?)");
				else
					have_cpus = true;
			}
		} else if (strcmp(e->key, "threads") == 0) {
			c->threads_line = e->line;
			for (char *save = NULL, *w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
				if (strv_push_dup(&ps->rules, w) < 0) {
					c->r = -ENOMEM;
					break;
				}
			if (!ps->rules)
				ERR(c, e->line,
				    "threads in [partition] names no rule (expected names of [thread] rules)");
		} else if (strcmp(e->key, "name") == 0) {
			if (!cgroup_own_name(v))
				ERR(c, e->line,
				    "invalid partition name \"%s\" (expected isolated, or isolated- followed by "
				    "letters, "
				    "digits, '-', '.' or '_'; 64 characters at most)",
				    v);
			else if (!(ps->name = strdup(v)))
				c->r = -ENOMEM;
		} else {
			if (!cgroup_path_ok(v) || strstr(v, "//"))
				ERR(c, e->line,
				    "invalid parent \"%s\" in [partition] (expected a cpuset path: / or /NAME/...)", v);
			else if (!(ps->parent = strdup(v)))
				c->r = -ENOMEM;
		}
		free(v);
	}
	if (!have_cpus && !sec->broken) {
		bool seen = false;

		for (size_t i = 0; i < sec->n_entries; i++)
			seen |= strcmp(sec->entries[i].key, "cpus") == 0;
		if (!seen)
			ERR(c, sec->line, "missing key \"cpus\" in [partition]");
	}
	if (!ps->rules && !c->threads_line)
		ERR(c, sec->line, "missing key \"threads\" in [partition] (the [thread] rules whose threads it holds)");
	if (c->r == 0 && !ps->name && !(ps->name = strdup("isolated-rt")))
		c->r = -ENOMEM;
	if (c->r == 0 && !ps->parent && !(ps->parent = strdup("/")))
		c->r = -ENOMEM;
	ps->set = true;
}

/* Each rule [partition] names is a [thread] rule of the file. */
static void check_partition(struct vctx *c)
{
	const struct partition_spec *ps = &c->p->partition;

	for (size_t i = 0; ps->rules && ps->rules[i]; i++) {
		bool found = false;

		for (size_t j = 0; j < c->p->n_thread_rules && !found; j++)
			found = strcmp(c->p->thread_rules[j].name, ps->rules[i]) == 0;
		for (size_t j = 0; j < i && found; j++)
			if (strcmp(ps->rules[j], ps->rules[i]) == 0) {
				ERR(c, c->threads_line, "rule \"%s\" is named twice in [partition] threads",
				    ps->rules[i]);
				break;
			}
		if (!found) {
			bool irq = false;

			for (size_t j = 0; j < c->p->n_irq_rules && !irq; j++)
				irq = strcmp(c->p->irq_rules[j].name, ps->rules[i]) == 0;
			ERR(c, c->threads_line, "[partition] threads names \"%s\", %s", ps->rules[i],
			    irq ? "an [irq] rule (a partition holds the threads of [thread] rules)"
				: "which is no [thread] rule of this file");
		}
	}
}

static void parse_cmdline(struct vctx *c, const struct conf_section *sec)
{
	struct policy *p = c->p;

	c->cmdline_line = sec->line;
	p->cmdline_line = sec->line;
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		char **words = NULL, ***dst, err[512], *v;

		if (duplicate_key(c, sec, i))
			continue;
		if (strcmp(e->key, "require") == 0)
			dst = &p->cmdline_require;
		else if (strcmp(e->key, "recommend") == 0)
			dst = &p->cmdline_recommend;
		else {
			ERR(c, e->line, "unknown key \"%s\" in [cmdline] (expected require, recommend)", e->key);
			continue;
		}
		v = expand(c, e);
		if (!v)
			continue;
		if (strv_split_quoted(v, &words, err, sizeof(err)) < 0) {
			ERR(c, e->line, "%s", err);
			free(v);
			continue;
		}
		free(v);
		for (size_t k = 0; words[k]; k++) {
			const char *eq = strchr(words[k], '=');

			if (!valid_param(words[k]))
				ERR(c, e->line, "invalid kernel parameter \"%s\"", words[k]);
			else if (eq && !eq[1])
				ERR(c, e->line, "kernel parameter \"%s\" has an empty value%s", words[k],
				    strstr(e->value, "${") ? " (is the variable set in host.conf?)" : "");
		}
		strv_free(*dst);
		*dst = words;
	}
}

/* ---- rules ---- */

struct term_def {
	const char *key;
	enum term_kind kind;
	bool irq; /* false: thread rules only */
};

static const struct term_def term_defs[] = {
    {"comm", TERM_COMM, false},	      {"pcomm", TERM_PCOMM, false},   {"cmdline", TERM_CMDLINE, false},
    {"vm", TERM_VM, false},	      {"vcpu", TERM_VCPU, false},     {"cgroup", TERM_CGROUP, false},
    {"kthread", TERM_KTHREAD, false}, {"percpu", TERM_PERCPU, false}, {"nic", TERM_NIC, true},
    {"action", TERM_ACTION, true},    {"irq", TERM_IRQ, true},
};

/* One word of a match line. Returns 0, -EINVAL (reported) or -ENOMEM. */
static int parse_term(struct vctx *c, const char *word, bool is_irq, unsigned line, struct match_term *t)
{
	const char *w = word, *colon, *arg;
	const struct term_def *def = NULL;
	char err[512];
	int r;

	memset(t, 0, sizeof(*t));
	if (*w == '!')
		t->negate = true, w++;
	if (!*w) {
		/* "" (or a variable that expands to "" inside quotes) is no term either. */
		if (t->negate)
			ERR(c, line, "\"!\" must be followed by a match term");
		else
			ERR(c, line, "empty match term \"\" (use \"*\" to match everything)");
		return -EINVAL;
	}
	if (strcmp(w, "*") == 0) {
		t->kind = TERM_ANY;
		return 0;
	}
	if (strcmp(w, "vhost") == 0) {
		if (is_irq) {
			ERR(c, line, "match term \"vhost\" is only valid in [thread] rules");
			return -EINVAL;
		}
		t->kind = TERM_VHOST;
		return 0;
	}
	colon = strchr(w, ':');
	for (size_t i = 0; colon && i < ARRAY_SIZE(term_defs); i++)
		if (strlen(term_defs[i].key) == (size_t)(colon - w) && strncmp(w, term_defs[i].key, colon - w) == 0)
			def = &term_defs[i];
	if (!def) {
		if (colon && colon - w == 5 && strncmp(w, "vhost", 5) == 0)
			ERR(c, line, "match term \"vhost\" takes no argument");
		else
			ERR(c, line, "unknown match term \"%s\"", w);
		return -EINVAL;
	}
	if (def->irq != is_irq) {
		ERR(c, line, "match term \"%s\" is only valid in [%s] rules", w, def->irq ? "irq" : "thread");
		return -EINVAL;
	}
	arg = colon + 1;
	t->kind = def->kind;
	switch (def->kind) {
	case TERM_KTHREAD:
		if (strcmp(arg, "yes") == 0)
			t->yes = true;
		else if (strcmp(arg, "no") != 0) {
			ERR(c, line, "invalid value \"%s\" in \"%s\" (expected kthread:yes or kthread:no)", arg, w);
			return -EINVAL;
		}
		break;
	case TERM_VCPU:
	case TERM_PERCPU:
	case TERM_IRQ:
		r = cpuset_parse_list(arg, &t->set, err, sizeof(err));
		if (r == -ENOMEM)
			return c->r = r;
		if (r < 0) {
			ERR(c, line, "invalid %s list in \"%s\": %s", def->key, w, err);
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	t->arg = strdup(arg);
	if (!t->arg) {
		cpuset_free(&t->set);
		return c->r = -ENOMEM;
	}
	return 0;
}

static void parse_match(struct vctx *c, struct rule *rule, const struct conf_entry *e)
{
	char **words = NULL, err[512];
	char *v = expand(c, e);
	size_t n;

	if (!v)
		return;
	if (strv_split_quoted(v, &words, err, sizeof(err)) < 0) {
		ERR(c, e->line, "%s", err);
		free(v);
		return;
	}
	n = strv_len(words);
	if (n == 0) {
		ERR(c, e->line, "empty match (use \"*\" to match everything)");
		free(v);
		strv_free(words);
		return;
	}
	rule->terms = calloc(n, sizeof(*rule->terms));
	if (!rule->terms) {
		c->r = -ENOMEM;
		free(v);
		strv_free(words);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct match_term t;

		if (parse_term(c, words[i], rule->is_irq, e->line, &t) < 0)
			continue;
		rule->terms[rule->n_terms++] = t;
	}
	rule->match_text = v;
	strv_free(words);
}

static void parse_sched(struct vctx *c, const struct conf_entry *e, struct sched_spec *ret, unsigned *ret_line)
{
	char err[512], *v = expand(c, e);

	*ret_line = e->line;
	if (!v)
		return;
	if (policy_sched_parse(v, ret, err, sizeof(err)) < 0)
		ERR(c, e->line, "%s", err);
	free(v);
}

static void parse_rule(struct vctx *c, const struct conf_section *sec, bool is_irq, const char *name)
{
	struct policy *p = c->p;
	struct rule **rules = is_irq ? &p->irq_rules : &p->thread_rules;
	size_t *n = is_irq ? &p->n_irq_rules : &p->n_thread_rules;
	const char *kind = is_irq ? "irq" : "thread";
	const char *sched_key = is_irq ? "thread" : "sched";
	struct rule *nv, *rule;
	bool have_match = false;

	if (!valid_rule_name(name))
		ERR(c, sec->line, "invalid rule name \"%s\" (allowed: A-Z a-z 0-9 _ . -)", name);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*rules)[i].name, name) == 0) {
			ERR(c, sec->line, "duplicate rule [%s %s] (first at line %u)", kind, name, (*rules)[i].line);
			break;
		}
	nv = realloc(*rules, (*n + 1) * sizeof(*nv));
	if (!nv) {
		c->r = -ENOMEM;
		return;
	}
	*rules = nv;
	rule = &nv[*n];
	memset(rule, 0, sizeof(*rule));
	rule->name = strdup(name);
	if (!rule->name) {
		c->r = -ENOMEM;
		return;
	}
	rule->is_irq = is_irq;
	rule->line = sec->line;
	(*n)++;

	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];

		if (duplicate_key(c, sec, i))
			continue;
		if (strcmp(e->key, "match") == 0) {
			have_match = true;
			parse_match(c, rule, e);
		} else if (strcmp(e->key, "cpus") == 0) {
			char *v = expand(c, e);

			rule->cpus_line = e->line;
			if (!v)
				continue;
			rule->cpus_text = v;
			if (parse_cpus(c, v, e->line, &rule->cpus) == 0)
				rule->has_cpus = true;
		} else if (strcmp(e->key, sched_key) == 0) {
			parse_sched(c, e, is_irq ? &rule->thread : &rule->sched,
				    is_irq ? &rule->thread_line : &rule->sched_line);
		} else if (strcmp(e->key, is_irq ? "sched" : "thread") == 0) {
			ERR(c, e->line, "unknown key \"%s\" in [%s %s] (%s rules use \"%s\")", e->key, kind, name, kind,
			    sched_key);
		} else {
			ERR(c, e->line, "unknown key \"%s\" in [%s %s] (expected match, cpus, %s)", e->key, kind, name,
			    sched_key);
		}
	}
	if (!have_match)
		ERR(c, sec->line, "missing key \"match\" in [%s %s]", kind, name);
}

/* ---- checks across sections ---- */

/* A thread rule whose match holds percpu:LIST with LIST within rt_cpus:
 * the kernel binds every thread it can select to an RT CPU. */
static bool bound_to_rt_cpus(const struct policy *p, const struct rule *r)
{
	for (size_t i = 0; !r->is_irq && i < r->n_terms; i++)
		if (r->terms[i].kind == TERM_PERCPU && !r->terms[i].negate && !cpuset_empty(&p->rt_cpus) &&
		    cpuset_subset(&r->terms[i].set, &p->rt_cpus))
			return true;
	return false;
}

static void check_rule(struct vctx *c, const struct rule *r)
{
	const struct policy *p = c->p;
	const struct sched_spec *s = r->is_irq ? &r->thread : &r->sched;
	unsigned sline = r->is_irq ? r->thread_line : r->sched_line;
	char sbuf[32], *hk = NULL;
	struct cpuset overlap = CPUSET_INIT;
	bool reported = false;

	if (!policy_sched_is_rt(s))
		return;
	policy_sched_format(s, sbuf, sizeof(sbuf));
	if (r->has_cpus && cpuset_intersects(&r->cpus, &p->housekeeping_cpus)) {
		if (cpuset_and(&overlap, &r->cpus, &p->housekeeping_cpus) < 0) {
			c->r = -ENOMEM;
			return;
		}
		hk = format_set(c, &overlap);
		cpuset_free(&overlap);
		if (!hk)
			return;
	}
	if (p->type == MODE_TYPE_DEDICATED && hk) {
		ERR(c, r->cpus_line,
		    "realtime rule (%s) on housekeeping cpus %s: in a dedicated mode realtime work "
		    "stays on rt_cpus",
		    sbuf, hk);
		reported = true;
	}
	if (p->type == MODE_TYPE_OUTSOURCING && r->is_irq && c->have_rtnet && s->prio < c->rtnet_prio)
		ERR(c, sline,
		    "thread priority %d is below rtnet_prio %ld: the IRQ thread would not use the RT poll_list",
		    s->prio, c->rtnet_prio);
	if (!reported && !r->is_irq && c->have_rt_runtime && c->rt_runtime == -1) {
		if (!r->has_cpus && !r->cpus_text && !bound_to_rt_cpus(p, r))
			ERR(c, sline,
			    "realtime sched %s without cpus while kernel.sched_rt_runtime_us = -1: a spinning RT "
			    "thread would starve housekeeping work forever",
			    sbuf);
		else if (hk)
			ERR(c, sline,
			    "realtime sched %s on housekeeping cpus %s while kernel.sched_rt_runtime_us = -1: a "
			    "spinning RT thread would starve housekeeping work on that CPU forever",
			    sbuf, hk);
	}
	free(hk);
}

static void host_cpus(struct vctx *c, const char *var, struct cpuset *ret)
{
	const char *v = c->hc ? hostconf_get(c->hc, var) : NULL;
	struct cpuset set = CPUSET_INIT;
	char err[256];

	/* host.conf has been validated against the online cpus already. */
	if (!v || !*v || cpuset_parse_list(v, &set, err, sizeof(err)) < 0)
		return;
	cpuset_free(ret);
	*ret = set;
}

static char *default_name(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;

	base = base ? base + 1 : file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	return strndup(base, len);
}

static const char *const single_sections[] = {"mode",	    "sysctl",	 "cmdline", "cpumask", "sysfs",
					      "irqbalance", "partition", "systemd", "modprobe"};

/* One section, by its header; single_line: where each of single_sections
 * was first seen (0: not yet). */
static void validate_section(struct vctx *c, const struct conf_section *sec, unsigned *single_line)
{
	const char *h = sec->header, *rest;
	size_t klen, k;

	if (sec->broken)
		return;
	if (!h) {
		for (size_t j = 0; j < sec->n_entries; j++)
			ERR(c, sec->entries[j].line, "key \"%s\" outside of any section", sec->entries[j].key);
		return;
	}
	klen = strcspn(h, " \t");
	for (rest = h + klen; isspace((unsigned char)*rest); rest++)
		;
	for (k = 0; k < ARRAY_SIZE(single_sections); k++)
		if (strlen(single_sections[k]) == klen && strncmp(h, single_sections[k], klen) == 0)
			break;
	if (k < ARRAY_SIZE(single_sections)) {
		if (*rest) {
			ERR(c, sec->line, "section [%s] takes no name", single_sections[k]);
			return;
		}
		if (single_line[k]) {
			ERR(c, sec->line, "duplicate section [%s] (first at line %u)", h, single_line[k]);
			return;
		}
		single_line[k] = sec->line;
		if (k == 0)
			parse_mode(c, sec);
		else if (k == 1)
			parse_sysctl(c, sec);
		else if (k == 2)
			parse_cmdline(c, sec);
		else if (k == 3)
			parse_cpumask(c, sec);
		else if (k == 4)
			parse_sysfs(c, sec);
		else if (k == 5)
			parse_irqbalance(c, sec);
		else if (k == 6)
			parse_partition(c, sec);
		else if (k == 7)
			parse_systemd(c, sec);
		else
			parse_modprobe(c, sec);
	} else if ((klen == 3 && strncmp(h, "irq", 3) == 0) || (klen == 6 && strncmp(h, "thread", 6) == 0)) {
		if (!*rest) {
			ERR(c, sec->line, "missing rule name in [%.*s NAME]", (int)klen, h);
			return;
		}
		parse_rule(c, sec, klen == 3, rest);
	} else {
		ERR(c, sec->line, "unknown section [%s]", h);
	}
}

/* What the whole file must have: [mode] with a type, a valid name, rtnet_prio
 * for outsourcing, nothing host-wide in vanilla, no systemd service on the
 * RT CPUs of a dedicated mode. -ENOMEM only. */
static int check_mode(struct vctx *c, const char *file)
{
	struct policy *p = c->p;

	if (!c->mode_line)
		ERR(c, 0, "missing [mode] section");
	else if (!c->have_type)
		ERR(c, c->mode_line, "missing key \"type\" in [mode]");
	if (!p->name) {
		p->name = default_name(file);
		if (!p->name)
			return -ENOMEM;
		if (!policy_name_valid(p->name))
			ERR(c, 0,
			    "invalid mode name \"%s\" from the file name (allowed: A-Z a-z 0-9 _ -); set name in "
			    "[mode]",
			    p->name);
	}

	/* rtnet_prio: [sysctl] net.core.rtnet_prio, else the host.conf variable. */
	if (!c->have_rtnet && !c->rtnet_sysctl_seen && c->hc) {
		const char *v = hostconf_get(c->hc, "rtnet_prio");
		long val;

		if (v && *v && util_parse_long(v, 1, 99, &val) == 0)
			c->have_rtnet = true, c->rtnet_prio = val;
	}
	if (p->type == MODE_TYPE_OUTSOURCING && c->have_type && !c->have_rtnet && !c->rtnet_sysctl_seen)
		ERR(c, c->type_line,
		    "type outsourcing requires rtnet_prio: set rtnet_prio in host.conf or net.core.rtnet_prio in "
		    "[sysctl]");

	/* A vanilla mode is the host as it was: it puts back what isolated
	 * changed and sets no host-wide default of its own. */
	if (c->type_known && p->type == MODE_TYPE_VANILLA) {
		const struct {
			unsigned line;
			const char *what;
		} refused[] = {
		    {c->irq_default_line, "irq_default"},
		    {c->wq_cpumask_line, "workqueue"},
		    {c->sysfs_line, "[sysfs]"},
		    {c->irqbalance_line, "[irqbalance]"},
		    {p->partition.set ? p->partition.line : 0, "[partition]"},
		    {c->systemd_line, "[systemd]"},
		    {c->modprobe_line, "[modprobe]"},
		};

		for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
			if (refused[i].line)
				ERR(c, refused[i].line,
				    "%s in a vanilla mode: vanilla sets nothing, it restores what isolated changed",
				    refused[i].what);
	}
	/* CPUAffinity= holds PID 1 and everything it starts, for good: in a
	 * dedicated mode the RT CPUs are not among them. */
	if (c->type_known && p->type == MODE_TYPE_DEDICATED && p->has_systemd_affinity &&
	    cpuset_intersects(&p->systemd_affinity, &p->rt_cpus)) {
		struct cpuset rt = CPUSET_INIT;
		char *list;

		if (cpuset_and(&rt, &p->systemd_affinity, &p->rt_cpus) < 0)
			return -ENOMEM;
		list = format_set(c, &rt);
		cpuset_free(&rt);
		if (!list)
			return -ENOMEM;
		ERR(c, p->systemd_line,
		    "cpu_affinity in [systemd] includes rt_cpus %s: in a dedicated mode it would put every service "
		    "systemd starts on the RT CPUs",
		    list);
		free(list);
	}
	return 0;
}

/* Turn a parsed document into p; every error is counted in *n_errors.
 * Returns -ENOMEM only. */
static int policy_validate_doc(const struct conf_doc *doc, const struct hostconf *hc, const struct cpuset *online,
			       struct policy *p, unsigned *n_errors, struct diag *d)
{
	struct vctx c = {
	    .file = doc->file,
	    .hc = hc,
	    .online = online,
	    .p = p,
	    .n_errors = n_errors,
	    .d = d,
	    .budget = CONF_MAX_EXPANDED,
	};
	unsigned single_line[ARRAY_SIZE(single_sections)] = {0};

	host_cpus(&c, "rt_cpus", &p->rt_cpus);
	host_cpus(&c, "housekeeping_cpus", &p->housekeeping_cpus);
	for (size_t i = 0; i < doc->n_sections && c.r == 0; i++)
		validate_section(&c, &doc->sections[i], single_line);
	if (c.r < 0)
		return c.r;
	if (check_mode(&c, doc->file) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_irq_rules && c.r == 0; i++)
		check_rule(&c, &p->irq_rules[i]);
	for (size_t i = 0; i < p->n_thread_rules && c.r == 0; i++)
		check_rule(&c, &p->thread_rules[i]);
	if (c.r == 0)
		check_partition(&c);
	return c.r;
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
	r = conf_parse_file(path, TRUST_PUBLIC, &doc, d);
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
