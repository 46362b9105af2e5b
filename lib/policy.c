/* struct policy: freeing it, finding policy files in a directory, and the
 * syntax of its values (sched, scope). Reading a file into one is
 * policy-validate.c's job (policy_load). */
#include <ctype.h>
#include <dirent.h>
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

#include "isolated/action.h"
#include "isolated/policy.h"
#include "policy-internal.h"

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
	for (size_t i = 0; i < p->n_sysfs; i++) {
		free(p->sysfs[i].path);
		free(p->sysfs[i].value);
	}
	free(p->sysfs);
	for (size_t i = 0; i < p->n_modprobe; i++) {
		free(p->modprobe[i].module);
		strv_free(p->modprobe[i].params);
	}
	free(p->modprobe);
	cpuset_free(&p->systemd_affinity);
	cpuset_free(&p->partition.cpus);
	strv_free(p->partition.rules);
	free(p->partition.name);
	free(p->partition.parent);
	strv_free(p->cmdline_require);
	strv_free(p->cmdline_recommend);
	cpuset_free(&p->rt_cpus);
	cpuset_free(&p->housekeeping_cpus);
	cpuset_free(&p->irq_default);
	cpuset_free(&p->wq_cpumask);
	cpuset_free(&p->irqbalance_banned);
	policy_scope_done(&p->scope);
	free(p->file);
	free(p->name);
	free(p->summary);
	free(p);
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
