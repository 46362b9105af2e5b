/* Finding and loading modes by name in the policy directories, for isoctl's
 * direct mode and the daemon: one place for the lookup order, the built-in
 * vanilla and the messages a user sees (bare lines: the front door puts its
 * name before them). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "isolated/modes.h"

bool modes_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (const char *p = name; *p; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return n >= 1 && n <= MODES_NAME_MAX;
}

/* The file of MODE: the first policy directory that has it. */
static int find_mode(char *const *dirs, const char *mode, char **ret)
{
	int r = -ENOENT;

	for (size_t i = 0; dirs && dirs[i]; i++) {
		r = policy_find(dirs[i], mode, ret);
		if (r != -ENOENT)
			return r;
	}
	return r;
}

int modes_vanilla(struct policy **ret)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p || !(p->name = strdup("vanilla"))) {
		free(p);
		return -ENOMEM;
	}
	p->type = MODE_TYPE_VANILLA;
	*ret = p;
	return 0;
}

enum modes_result modes_load(char *const *dirs, const struct hostconf *hc, const struct cpuset *online,
			     const char *mode, struct policy **ret, struct diag *d)
{
	char *path = NULL;
	int r;

	if (!modes_name_valid(mode)) {
		char most[32] = "";

		if (mode && strlen(mode) > MODES_NAME_MAX)
			snprintf(most, sizeof(most), "at most %d ", MODES_NAME_MAX);
		diag_add(d, NULL, 0, "invalid mode name \"%s\": a mode is a name of %sletters, digits, '-' and '_'",
			 mode ? mode : "", most);
		return MODES_USAGE;
	}
	r = find_mode(dirs, mode, &path);
	if (r == -EINVAL) {
		diag_add(d, NULL, 0, "invalid mode name \"%s\": a mode is a name of letters, digits, '-' and '_'",
			 mode);
		return MODES_USAGE;
	}
	if (r == -ENOENT && strcmp(mode, "vanilla") == 0) {
		r = modes_vanilla(ret);
		if (r < 0) {
			diag_add(d, NULL, 0, "out of memory");
			return MODES_FAIL;
		}
		return MODES_OK;
	}
	if (r < 0 && r != -ENOENT) {
		diag_add(d, NULL, 0, "looking for mode \"%s\": %s", mode, strerror(-r));
		return MODES_FAIL;
	}
	if (r < 0) {
		struct sbuf b = {0};
		char *list;

		for (size_t i = 0; dirs && dirs[i]; i++) {
			if (i)
				sbuf_adds(&b, ", ");
			sbuf_adds(&b, dirs[i]);
		}
		list = sbuf_take(&b);
		diag_add(d, NULL, 0, "unknown mode \"%s\" (no %s.conf in %s; see isoctl list)", mode, mode,
			 list ? list : "?");
		free(list);
		return MODES_USAGE;
	}
	r = policy_load(path, hc, online, ret, d);
	if (r < 0 && d->n == 0)
		diag_add(d, path, 0, "%s", strerror(-r));
	free(path);
	return r < 0 ? MODES_USAGE : MODES_OK;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int modes_names(char *const *dirs, char ***ret)
{
	char **names = NULL;
	int r;

	for (size_t i = 0; dirs && dirs[i]; i++) {
		char **files = NULL;

		/* A directory that is missing or unreadable has no modes. */
		if (policy_list_dir(dirs[i], &files) < 0)
			continue;
		for (size_t j = 0; files[j]; j++) {
			const char *base = strrchr(files[j], '/');
			char *name = strdup(base ? base + 1 : files[j]);

			if (!name) {
				strv_free(files);
				strv_free(names);
				return -ENOMEM;
			}
			name[strlen(name) - strlen(".conf")] = '\0';
			if (strv_contains(names, name)) {
				free(name);
				continue;
			}
			r = strv_push(&names, name);
			if (r < 0) {
				strv_free(files);
				strv_free(names);
				return r;
			}
		}
		strv_free(files);
	}
	if (!names && !(names = calloc(1, sizeof(*names))))
		return -ENOMEM;
	qsort(names, strv_len(names), sizeof(*names), cmp_name);
	*ret = names;
	return 0;
}

char *modes_build_tree_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		char *dir, *mk;
		struct stat st;
		bool ok;

		if (!slash || slash == exe)
			return NULL;
		*slash = '\0';
		dir = util_sprintf("%s/policies", exe);
		mk = util_sprintf("%s/lib/plan.c", exe);
		ok = dir && mk && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(mk, F_OK) == 0;
		free(mk);
		if (ok)
			return dir;
		free(dir);
	}
	return NULL;
}
