/* The cpuset cgroups' vocabulary (see cgroup.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/cgroup.h"
#include "isolated/cpuset.h"
#include "isolated/util.h"

const char *cgroup_kind_name(enum cgroup_kind k)
{
	return k == CGROUP_V1 ? "v1" : k == CGROUP_V2 ? "v2" : "none";
}

bool cgroup_has_word(const char *list, const char *word, size_t len)
{
	for (const char *p = list; p && *p;) {
		size_t k;

		p += strspn(p, " \n");
		k = strcspn(p, " \n");
		if (k && k == len && strncmp(p, word, len) == 0)
			return true;
		p += k;
	}
	return false;
}

static bool has_cpuset(const char *ctl)
{
	return cgroup_has_word(ctl, "cpuset", 6);
}

enum cgroup_kind cgroup_pick(const char *root_ctl, bool v1, const char *unified_ctl, const char **ret_mount)
{
	if (has_cpuset(root_ctl)) {
		*ret_mount = "sys/fs/cgroup";
		return CGROUP_V2;
	}
	if (v1) {
		*ret_mount = "sys/fs/cgroup/cpuset";
		return CGROUP_V1;
	}
	if (has_cpuset(unified_ctl)) {
		*ret_mount = "sys/fs/cgroup/unified";
		return CGROUP_V2;
	}
	*ret_mount = NULL;
	return CGROUP_NONE;
}

/* The files a [partition] writes: v2's, then v1's. */
const char *const cgroup_files[] = {
    "cgroup.subtree_control",
    "cpuset.cpus",
    "cpuset.mems",
    "cpuset.cpus.exclusive",
    "cpuset.cpu_exclusive",
    "cpuset.sched_load_balance",
    "cpuset.cpus.partition",
    NULL,
};

/* A file's place in cgroup_files; past them for a directory name. */
static size_t file_rank(const char *name, size_t len)
{
	size_t i;

	for (i = 0; cgroup_files[i]; i++)
		if (strlen(cgroup_files[i]) == len && strncmp(cgroup_files[i], name, len) == 0)
			break;
	return i;
}

int cgroup_target_cmp(const char *a, const char *b)
{
	for (;;) {
		size_t ka = strcspn(a, "/"), kb = strcspn(b, "/");
		bool last_a = !a[ka], last_b = !b[kb];
		size_t ra = last_a ? file_rank(a, ka) : SIZE_MAX, rb = last_b ? file_rank(b, kb) : SIZE_MAX;
		int c;

		if (ka != kb || strncmp(a, b, ka) != 0) {
			/* files (ranked) before directories (by name) */
			bool fa = ra < SIZE_MAX && cgroup_files[ra], fb = rb < SIZE_MAX && cgroup_files[rb];
			if (fa != fb)
				return fa ? -1 : 1;
			if (fa)
				return ra < rb ? -1 : ra > rb ? 1 : 0;
			c = strncmp(a, b, ka < kb ? ka : kb);
			return c ? c : ka < kb ? -1 : 1;
		}
		if (last_a || last_b)
			return last_a == last_b ? 0 : last_a ? -1 : 1;
		a += ka + 1;
		b += kb + 1;
	}
}

bool cgroup_name_ok(const char *name, size_t len)
{
	if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.:@-\\", c)))
			return false;
	}
	return true;
}

bool cgroup_own_name(const char *name)
{
	size_t len = strlen(name);

	if (len > 64 || strncmp(name, "isolated", 8) != 0)
		return false;
	if (len > 8 && !strchr("-._", name[8]))
		return false;
	for (size_t i = 8; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || strchr("-._", name[i])))
			return false;
	return true;
}

/* Each "/"-separated component of s (no leading or trailing "/") good. */
static bool components_ok(const char *s)
{
	for (;;) {
		size_t k = strcspn(s, "/");

		if (!cgroup_name_ok(s, k))
			return false;
		if (!s[k])
			return true;
		s += k + 1;
	}
}

bool cgroup_path_ok(const char *path)
{
	if (path[0] != '/')
		return false;
	return !path[1] || components_ok(path + 1);
}

const char *cgroup_target_rel(const char *target)
{
	size_t n = strlen(CGROUP_TARGET_PREFIX);

	return strncmp(target, CGROUP_TARGET_PREFIX, n) == 0 ? target + n : NULL;
}

int cgroup_target_check(const char *target, bool *ret_dir, char *why, size_t whylen)
{
	const char *rel = cgroup_target_rel(target), *last;

	if (!rel || !*rel || !components_ok(rel)) {
		snprintf(why, whylen, "cgroup/PATH of a path under /sys/fs/cgroup");
		return -EINVAL;
	}
	last = strrchr(rel, '/');
	last = last ? last + 1 : rel;
	for (size_t i = 0; cgroup_files[i]; i++)
		if (strcmp(last, cgroup_files[i]) == 0) {
			*ret_dir = false;
			return 0;
		}
	if (!cgroup_own_name(last)) {
		snprintf(why, whylen, "a cgroup file isolated writes or a directory named isolated*");
		return -EINVAL;
	}
	*ret_dir = true;
	return 0;
}

int cgroup_value_check(const char *value, char *why, size_t whylen)
{
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "a cgroup value (it has a control character)");
			return -EINVAL;
		}
	return 0;
}

/* Is every word of a among b's? */
static bool words_in(const char *a, const char *b)
{
	for (const char *p = a;;) {
		size_t k;

		p += strspn(p, " \n");
		if (!*p)
			return true;
		k = strcspn(p, " \n");
		if (!cgroup_has_word(b, p, k))
			return false;
		p += k;
	}
}

bool cgroup_value_equal(const char *a, const char *b)
{
	struct cpuset x = CPUSET_INIT, y = CPUSET_INIT;
	char msg[64];
	bool eq;

	if (!a || !b)
		return a == b;
	if (strcmp(a, b) == 0)
		return true;
	if (cpuset_parse_list(a, &x, msg, sizeof(msg)) == 0 && cpuset_parse_list(b, &y, msg, sizeof(msg)) == 0) {
		eq = cpuset_equal(&x, &y);
		cpuset_free(&x);
		cpuset_free(&y);
		return eq;
	}
	cpuset_free(&x);
	cpuset_free(&y);
	return words_in(a, b) && words_in(b, a);
}

int cgroup_task_path(const char *text, enum cgroup_kind kind, char **ret)
{
	*ret = NULL;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n'), *c1 = strchr(line, ':'), *c2;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		bool match = false;

		if (c1 && c1 < line + len && (c2 = memchr(c1 + 1, ':', (size_t)(line + len - c1 - 1)))) {
			if (kind == CGROUP_V2)
				match = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
			else if (kind == CGROUP_V1)
				/* the controllers, comma-separated: "cpuset" or "cpu,cpuset" */
				for (const char *w = c1 + 1; w < c2 && !match;) {
					size_t k = strcspn(w, ",:");
					match = k == 6 && strncmp(w, "cpuset", 6) == 0;
					w += k + 1;
				}
			if (match) {
				*ret = strndup(c2 + 1, (size_t)(line + len - c2 - 1));
				return *ret ? 0 : -ENOMEM;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int cgroup_partition_parse(const char *text, struct cgroup_partition_state *ret)
{
	static const struct {
		const char *word;
		enum cgroup_partition_type type;
	} types[] = {
	    {"member", CGROUP_PARTITION_MEMBER},
	    {"root", CGROUP_PARTITION_ROOT},
	    {"isolated", CGROUP_PARTITION_ISOLATED},
	};
	struct cgroup_partition_state st = {.reason = ""};
	size_t len = strcspn(text, "\n"), k = 0;
	bool known = false;

	/* one line: nothing may follow its newline */
	if (text[len] == '\n' && text[len + 1] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(types) && !known; i++) {
		k = strlen(types[i].word);
		if (len >= k && strncmp(text, types[i].word, k) == 0 && (len == k || text[k] == ' ')) {
			st.type = types[i].type;
			known = true;
		}
	}
	if (!known)
		return -EINVAL;
	if (len == k) {
		*ret = st;
		return 0;
	}
	/* "member" is never invalid; the others may be, with or without a
	 * reason in parentheses that closes the line */
	if (st.type == CGROUP_PARTITION_MEMBER || strncmp(text + k, " invalid", 8) != 0)
		return -EINVAL;
	k += 8;
	if (k < len) {
		if (len < k + 3 || text[k] != ' ' || text[k + 1] != '(' || text[len - 1] != ')')
			return -EINVAL;
		st.reason = text + k + 2;
		st.reason_len = len - 1 - (k + 2);
	}
	st.invalid = true;
	*ret = st;
	return 0;
}
