/* isoctl grub: the GRUB_CMDLINE_LINUX_DEFAULT line a mode needs, written
 * into /etc/default/grub (the original saved first) and put back on request. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/boot.h"
#include "isolated/grub.h"
#include "isolated/journal.h"
#include "isolated/procfmt.h"
#include "isoctl.h"

#define GRUB_THEN "run update-grub (Debian/Ubuntu) or grub2-mkconfig -o /boot/grub2/grub.cfg, then reboot"

static const char *const grub_vars[] = {"GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX"};

char *ctl_host_file(const struct ctx *c, const char *rel)
{
	size_t n = c->root ? strlen(c->root) : 0;

	while (n > 0 && c->root[n - 1] == '/')
		n--;
	return util_sprintf("%.*s/%s", (int)n, c->root ? c->root : "", rel);
}

const char *ctl_host_path(const struct ctx *c, const char *rel, char *buf, size_t len)
{
	size_t n = c->root ? strlen(c->root) : 0;

	while (n > 0 && c->root[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s/%s", (int)n, c->root ? c->root : "", rel);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* update-grub and grub2-mkconfig source etc/default/grub.d/ *.cfg after
 * etc/default/grub: one that sets a GRUB_CMDLINE variable overrides or
 * extends what is written here (Ubuntu's cloud images set
 * GRUB_CMDLINE_LINUX_DEFAULT there). Sorted, relative to the root. */
static char **grub_overrides(const struct ctx *c)
{
	int dfd = host_openat(c->host, "etc/default/grub.d", O_RDONLY | O_DIRECTORY, 0);
	struct dirent *e;
	char **v = NULL;
	DIR *d;

	if (dfd < 0)
		return NULL;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return NULL;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), len;
		char *rel, *buf = NULL, *lin = NULL, *def = NULL;

		if (n <= 4 || strcmp(e->d_name + n - 4, ".cfg") != 0)
			continue;
		rel = util_sprintf("etc/default/grub.d/%s", e->d_name);
		/* One we cannot parse may set them too. */
		if (rel && host_read(c->host, rel, &buf, &len) == 0 &&
		    (procfmt_parse_grub(buf, len, &lin, &def) < 0 || lin || def))
			strv_push_dup(&v, rel);
		free(rel);
		free(buf);
		free(lin);
		free(def);
	}
	closedir(d);
	if (v)
		qsort(v, strv_len(v), sizeof(*v), cmp_str);
	return v;
}

static void print_overrides(const struct ctx *c, char **overrides, const char *prefix)
{
	for (size_t i = 0; overrides && overrides[i]; i++) {
		char *f = ctl_host_file(c, overrides[i]);

		print_line("%snote: %s is read after etc/default/grub and sets GRUB_CMDLINE_LINUX or "
		     "GRUB_CMDLINE_LINUX_DEFAULT: it may override these parameters",
		     prefix, f ? f : overrides[i]);
		free(f);
	}
}

static json_object *json_strv(char *const *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; v && v[i]; i++)
		json_object_array_add(a, json_str(v[i]));
	return a;
}

static void print_recommended(const struct policy *p, const char *prefix)
{
	struct sbuf b = {0};
	char *s;

	if (!p->cmdline_recommend)
		return;
	for (size_t k = 0; p->cmdline_recommend[k]; k++) {
		sbuf_addc(&b, ' ');
		sbuf_adds(&b, p->cmdline_recommend[k]);
	}
	s = sbuf_take(&b);
	print_line("%srecommended, not added:%s", prefix, s ? s : " ?");
	free(s);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The variables whose value differs between two versions of the file, as
 * [{"variable", "old", "new"}] (old or new null when unset). */
static json_object *json_changes(const char *old, size_t old_len, const char *new, size_t new_len)
{
	json_object *a = json_object_new_array();
	char *o[2] = {NULL, NULL}, *n[2] = {NULL, NULL};

	if ((!old || procfmt_parse_grub(old, old_len, &o[1], &o[0]) == 0) &&
	    procfmt_parse_grub(new, new_len, &n[1], &n[0]) == 0)
		for (size_t i = 0; i < 2; i++)
			if (!same_str(o[i], n[i])) {
				json_object *x = json_object_new_object();

				json_object_object_add(x, "variable", json_str(grub_vars[i]));
				json_object_object_add(x, "old", json_str(o[i]));
				json_object_object_add(x, "new", json_str(n[i]));
				json_object_array_add(a, x);
			}
	for (size_t i = 0; i < 2; i++) {
		free(o[i]);
		free(n[i]);
	}
	return a;
}

/* A diff of two versions of the file, in lines. The edits change lines in
 * place or add one at the end, so comparing line by line is exact. */
void print_diff(const char *from, const char *to, const char *old, size_t old_len, const char *new, size_t new_len)
{
	const char *po = old, *eo = old ? old + old_len : NULL, *pn = new, *en = new + new_len;

	printf("--- %s\n+++ %s\n", from, to);
	while ((po && po < eo) || pn < en) {
		const char *lo = po && po < eo ? memchr(po, '\n', (size_t)(eo - po)) : NULL;
		const char *ln = pn < en ? memchr(pn, '\n', (size_t)(en - pn)) : NULL;
		size_t no = po && po < eo ? (size_t)((lo ? lo : eo) - po) : 0;
		size_t nn = pn < en ? (size_t)((ln ? ln : en) - pn) : 0;
		bool has_o = po && po < eo, has_n = pn < en;

		if (!(has_o && has_n && no == nn && memcmp(po, pn, no) == 0)) {
			if (has_o)
				print_line("-%.*s", (int)no, po);
			if (has_n)
				print_line("+%.*s", (int)nn, pn);
		}
		if (has_o)
			po = lo ? lo + 1 : eo;
		if (has_n)
			pn = ln ? ln + 1 : en;
	}
}

/* isoctl grub MODE: the line to put in etc/default/grub, nothing written. */
static int grub_show(struct ctx *c, const struct policy *p, char **overrides)
{
	const struct host_state *s = c->state;
	char *const none[] = {NULL};
	char *lin = NULL, *def = NULL, *q = NULL, err[512];
	bool changed = false;

	if (grub_edit_values(s->grub_cmdline_linux, s->grub_cmdline_linux_default,
			     p->cmdline_require ? p->cmdline_require : none, &lin, &def, &changed, err,
			     sizeof(err)) < 0) {
		err_msg("etc/default/grub: %s", err);
		return EXIT_FAIL;
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "mode", json_str(p->name));
		json_object_object_add(o, "variable", json_str("GRUB_CMDLINE_LINUX_DEFAULT"));
		json_object_object_add(o, "current", json_str(s->grub_cmdline_linux_default ?: ""));
		json_object_object_add(o, "value", json_str(def ? def : ""));
		json_object_object_add(o, "linux_current", json_str(s->grub_cmdline_linux));
		json_object_object_add(o, "linux_value", json_str(lin));
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		json_object_object_add(o, "recommended", json_strv(p->cmdline_recommend));
		json_object_object_add(o, "overridden_by", json_strv(overrides));
		json_object_object_add(o, "then", json_str("update-grub"));
		print_json(o);
	} else {
		bool linux_changed = !same_str(lin, s->grub_cmdline_linux);

		q = grub_quote(def ? def : "");
		print_line("GRUB_CMDLINE_LINUX_DEFAULT=%s", q ? q : "?");
		free(q);
		if (linux_changed) {
			q = grub_quote(lin);
			print_line("GRUB_CMDLINE_LINUX=%s", q ? q : "?");
			printf("# GRUB_CMDLINE_LINUX gives some of these parameters other values: the line above "
			       "changes them there too\n");
			free(q);
		}
		if (!p->cmdline_require)
			printf("# mode %s requires no boot parameters\n", p->name);
		print_recommended(p, "# ");
		print_overrides(c, overrides, "# ");
		printf("# put %s in /etc/default/grub (or run: isoctl grub %s --write), then run: update-grub "
		       "(Debian,\n# Ubuntu) or grub2-mkconfig -o /boot/grub2/grub.cfg (Fedora, RHEL), and reboot\n",
		       linux_changed ? "these lines" : "this line", p->name);
	}
	free(lin);
	free(def);
	return EXIT_OK;
}

/* isoctl grub MODE --write */
static int grub_write_file(struct ctx *c, const struct policy *p, char **overrides)
{
	char *const none[] = {NULL};
	char *old = NULL, *new = NULL, *file = ctl_host_file(c, GRUB_PATH),
	     *backup = ctl_host_file(c, GRUB_BACKUP_PATH);
	char err[1024];
	size_t old_len = 0, new_len = 0;
	bool changed = false, made = false, have_backup;
	struct stat st;
	int r, ret = EXIT_FAIL;

	if (!file || !backup)
		goto out;
	r = host_read(c->host, GRUB_PATH, &old, &old_len);
	if (r < 0) {
		err_msg("%s: %s", file, path_strerror(-r));
		goto out;
	}
	r = grub_edit(old, old_len, p->cmdline_require ? p->cmdline_require : none, &new, &new_len, &changed, err,
		      sizeof(err));
	if (r < 0) {
		err_msg("%s: %s; nothing written (isoctl grub %s shows the line to put there by hand)", file,
			r == -ENOMEM ? path_strerror(-r) : err, p->name);
		goto out;
	}
	if (changed) {
		r = grub_write(c->host, old, old_len, new, new_len, fchown, &made, err, sizeof(err));
		if (r < 0) {
			err_msg("%s", err);
			goto out;
		}
	}
	have_backup = made || host_lstat(c->host, GRUB_BACKUP_PATH, &st) == 0;
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "mode", json_str(p->name));
		json_object_object_add(o, "file", json_str(file));
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		json_object_object_add(o, "changes", json_changes(old, old_len, new, new_len));
		json_object_object_add(o, "backup", have_backup ? json_str(backup) : NULL);
		json_object_object_add(o, "backup_made", json_object_new_boolean(made));
		json_object_object_add(o, "recommended", json_strv(p->cmdline_recommend));
		json_object_object_add(o, "overridden_by", json_strv(overrides));
		json_object_object_add(o, "then", changed ? json_str("update-grub") : NULL);
		print_json(o);
	} else if (!changed) {
		printf("%s already has the boot parameters of mode %s: nothing to change\n", file, p->name);
		print_recommended(p, "");
		print_overrides(c, overrides, "");
	} else {
		print_diff(file, file, old, old_len, new, new_len);
		if (made)
			printf("saved the original as %s (isoctl grub --restore puts it back)\n", backup);
		else
			printf("the original, saved before the first change, stays in %s\n", backup);
		print_recommended(p, "");
		print_overrides(c, overrides, "");
		printf("%s\n", GRUB_THEN);
	}
	ret = EXIT_OK;
out:
	free(old);
	free(new);
	free(file);
	free(backup);
	return ret;
}

/* isoctl grub --restore */
static int grub_restore_file(struct ctx *c)
{
	char *cur = NULL, *orig = NULL, *file = ctl_host_file(c, GRUB_PATH),
	     *backup = ctl_host_file(c, GRUB_BACKUP_PATH);
	char err[1024];
	size_t cur_len = 0, orig_len = 0;
	int r, ret = EXIT_FAIL;

	if (!file || !backup)
		goto out;
	r = host_read(c->host, GRUB_BACKUP_PATH, &orig, &orig_len);
	if (r == -ENOENT) {
		err_msg("no %s: nothing to restore (isoctl grub MODE --write saves the original there before it first "
			"changes %s)",
			backup, file);
		goto out;
	}
	if (r < 0) {
		err_msg("%s: %s", backup, path_strerror(-r));
		goto out;
	}
	r = host_read(c->host, GRUB_PATH, &cur, &cur_len);
	if (r < 0 && r != -ENOENT) {
		err_msg("%s: %s", file, path_strerror(-r));
		goto out;
	}
	r = grub_restore(c->host, fchown, err, sizeof(err));
	if (r < 0) {
		err_msg("%s", err);
		goto out;
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_str(file));
		json_object_object_add(o, "restored_from", json_str(backup));
		json_object_object_add(o, "changes", json_changes(cur, cur_len, orig, orig_len));
		json_object_object_add(o, "then", json_str("update-grub"));
		print_json(o);
	} else {
		if (!cur || cur_len != orig_len || memcmp(cur, orig, orig_len) != 0)
			print_diff(file, backup, cur, cur_len, orig, orig_len);
		else
			printf("%s was already the original\n", file);
		printf("restored %s from %s and removed the backup\n", file, backup);
		printf("%s\n", GRUB_THEN);
	}
	ret = EXIT_OK;
out:
	free(cur);
	free(orig);
	free(file);
	free(backup);
	return ret;
}

/* Writers of the host take the journal's lock, so two isoctl runs never
 * edit /etc/default/grub (or its backup) at once. */
int grub_lock(struct ctx *c, int *ret_fd)
{
	char err[512] = "";
	int r = journal_lock(c->host, !c->no_wait, ret_fd, err, sizeof(err));

	if (r < 0) {
		err_msg("%s%s", err[0] ? err : path_strerror(-r),
			r == -EWOULDBLOCK && c->no_wait ? " (--no-wait given)" : "");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void grub_unlock(struct ctx *c, int fd)
{
	/* Without a journal isolated holds nothing: leave no lock file behind. */
	journal_unlock(c->host, fd, !journal_exists(c->host));
}

int cmd_grub(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	char **overrides;
	int r;

	if (c->host || ctx_open_host(c) == EXIT_OK) {
		if (boot_journal_exists(c->host)) {
			char j[4096];

			err_msg("isoctl boot apply holds the boot files (%s): use isoctl boot apply MODE and isoctl "
				"boot revert",
				ctl_host_path(c, BOOT_JOURNAL, j, sizeof(j)));
			return EXIT_FAIL;
		}
	}
	if (c->grub_restore) {
		int fd = -1;

		if (argc != 0 || c->grub_write) {
			err_msg("usage: isoctl grub --restore (no MODE, no --write)");
			return EXIT_USAGE;
		}
		if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
			return r;
		if ((r = grub_lock(c, &fd)) != EXIT_OK)
			return r;
		r = grub_restore_file(c);
		grub_unlock(c, fd);
		return r;
	}
	if (argc != 1) {
		err_msg("usage: isoctl grub MODE [--write] | isoctl grub --restore");
		return EXIT_USAGE;
	}
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if (!c->state->has_grub) {
		err_msg("no etc/default/grub on %s: is this host booted by GRUB?", c->root ? c->root : "this host");
		policy_free(p);
		return EXIT_FAIL;
	}
	overrides = grub_overrides(c);
	if (c->grub_write) {
		int fd = -1;

		if ((r = grub_lock(c, &fd)) == EXIT_OK) {
			r = grub_write_file(c, p, overrides);
			grub_unlock(c, fd);
		}
	} else
		r = grub_show(c, p, overrides);
	strv_free(overrides);
	policy_free(p);
	return r;
}
