/* isoctl boot: what a mode writes for the next boot (the boot loader's
 * kernel command line, systemd's CPUAffinity, module options), written as
 * one transaction whose originals are kept in /var/lib/isolated/boot, and
 * put back byte for byte (lib/boot.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/boot.h"
#include "isolated/journal.h"
#include "isoctl.h"

static const char *const loader_names[] = {
    [BOOT_LOADER_NONE] = "none",
    [BOOT_LOADER_GRUB_DEBIAN] = "grub",
    [BOOT_LOADER_GRUB2] = "grub2",
    [BOOT_LOADER_BLS] = "systemd-boot",
};

/* The "MODULE PARAM..." lines of [modprobe]. */
static char **modprobe_lines(const struct policy *p)
{
	char **v = NULL;

	for (size_t i = 0; i < p->n_modprobe; i++) {
		struct sbuf b = {0};

		sbuf_adds(&b, p->modprobe[i].module);
		for (size_t k = 0; p->modprobe[i].params && p->modprobe[i].params[k]; k++) {
			sbuf_addc(&b, ' ');
			sbuf_adds(&b, p->modprobe[i].params[k]);
		}
		if (strv_push(&v, sbuf_take(&b)) < 0) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

/* [systemd] and [modprobe] are host-wide: a mode scoped to a process or a
 * cgroup does not get them (as [partition]); its kernel parameters are the
 * kernel's, and are written. */
void boot_wants_of(const struct policy *p, struct boot_wants *ret, char ***ret_modprobe)
{
	bool host = p->scope.kind == SCOPE_HOST;

	*ret_modprobe = host ? modprobe_lines(p) : NULL;
	*ret = (struct boot_wants){.mode = p->name,
				   .cmdline = p->cmdline_require,
				   .systemd_affinity = host && p->has_systemd_affinity ? &p->systemd_affinity : NULL,
				   .modprobe = *ret_modprobe};
}

static const char *change_kind(const struct boot_change *c)
{
	if (c->old_present == c->new_present &&
	    (!c->old_present || (c->old_len == c->new_len && memcmp(c->old, c->new, c->old_len) == 0)))
		return "none";
	if (!c->old_present)
		return "create";
	if (!c->new_present)
		return "remove";
	return "modify";
}

/* What to run, and when each artifact takes effect. */
static void print_then(const struct boot_plan *p, const char *prefix)
{
	bool cmdline = p->concerned[BOOT_GRUB] || p->concerned[BOOT_KERNEL_CMDLINE];

	if (cmdline && p->host.then)
		printf("%sthen run: %s, and reboot\n", prefix, p->host.then);
	else if (cmdline || p->concerned[BOOT_SYSTEMD])
		printf("%sin effect after a reboot\n", prefix);
	if (p->concerned[BOOT_SYSTEMD] && !cmdline)
		printf("%s%s: at the next boot (or systemctl daemon-reexec)\n", prefix,
		       boot_artifact_path(BOOT_SYSTEMD));
	if (p->concerned[BOOT_MODPROBE])
		printf("%s%s: when the modules are next loaded (at the next boot, or modprobe -r and modprobe)\n",
		       prefix, boot_artifact_path(BOOT_MODPROBE));
}

static json_object *plan_json(const struct ctx *c, const struct boot_plan *p, bool written)
{
	json_object *o = json_object_new_object(), *files = json_object_new_array();
	char path[4096];

	json_object_object_add(o, "mode", json_str(p->mode));
	json_object_object_add(o, "loader", json_str(loader_names[p->host.loader]));
	json_object_object_add(o, "loader_why", json_str(p->host.why));
	json_object_object_add(o, "then", json_str(p->host.then));
	json_object_object_add(o, "written", json_object_new_boolean(written));
	json_object_object_add(o, "reverting", json_object_new_boolean(p->reverting));
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_change *ch = &p->changes[a];
		json_object *f;

		if (!p->concerned[a])
			continue;
		f = json_object_new_object();
		ctl_host_path(c, boot_artifact_path(a), path, sizeof(path));
		json_object_object_add(f, "artifact", json_str(boot_artifact_id(a)));
		json_object_object_add(f, "path", json_str(path));
		json_object_object_add(f, "change", json_str(change_kind(ch)));
		json_object_object_add(f, "original_exists", json_object_new_boolean(ch->orig_present));
		json_object_object_add(f, "contents", ch->new_present ? json_str(ch->new) : NULL);
		json_object_array_add(files, f);
	}
	json_object_object_add(o, "files", files);
	{
		json_object *m = json_object_new_array();

		for (size_t i = 0; p->modified && p->modified[i]; i++)
			json_object_array_add(m, json_str(p->modified[i]));
		json_object_object_add(o, "modified", m);
	}
	return o;
}

static void print_changes(const struct ctx *c, const struct boot_plan *p)
{
	char path[4096];

	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_change *ch = &p->changes[a];
		const char *kind = change_kind(ch);

		if (!p->concerned[a] || strcmp(kind, "none") == 0)
			continue;
		ctl_host_path(c, boot_artifact_path(a), path, sizeof(path));
		print_diff(ch->old_present ? path : "/dev/null", ch->new_present ? path : "/dev/null",
			   ch->old_present ? ch->old : "", ch->old_len, ch->new_present ? ch->new : "", ch->new_len);
	}
}

static int load_plan(struct ctx *c, const char *mode, struct boot_plan **ret)
{
	struct policy *pol = NULL;
	char **modprobe = NULL, err[2048] = "";
	int r;

	if (mode) {
		if ((r = ctx_load_policy(c, mode, &pol)) != EXIT_OK)
			return r;
		struct boot_wants w;

		boot_wants_of(pol, &w, &modprobe);
		if (pol->scope.kind != SCOPE_HOST && (pol->has_systemd_affinity || pol->n_modprobe))
			err_msg("warning: mode %s is scoped to %s: [systemd] and [modprobe] are host-wide and are not "
				"written",
				pol->name, pol->scope.kind == SCOPE_PROCESS ? "a process" : "a cgroup");
		r = boot_plan(c->host, &w, ret, err, sizeof(err));
	} else {
		if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
			return r;
		r = boot_plan(c->host, NULL, ret, err, sizeof(err));
	}
	strv_free(modprobe);
	policy_free(pol);
	if (r < 0) {
		err_msg("%s", err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int boot_show(struct ctx *c, const char *mode)
{
	struct boot_plan *p = NULL;
	int r = load_plan(c, mode, &p);

	if (r != EXIT_OK)
		return r;
	if (c->json)
		print_json(plan_json(c, p, false));
	else {
		printf("boot loader: %s (%s)\n", loader_names[p->host.loader],
		       p->host.why ? p->host.why : "none found");
		if (!boot_plan_changes(p))
			printf("nothing to change: the next boot already has what mode %s writes\n", p->mode);
		else {
			print_changes(c, p);
			printf("isoctl boot %s%s writes this (nothing written now)\n", mode ? "apply " : "revert",
			       mode ? mode : "");
			print_then(p, "");
		}
		for (size_t i = 0; p->modified && p->modified[i]; i++)
			printf("note: %s changed since isoctl boot apply %s wrote it (--force to write over it)\n",
			       p->modified[i], p->journal ? p->journal->mode : "?");
	}
	boot_plan_free(p);
	return EXIT_OK;
}

/* A step number from the environment (the crash and fault tests). */
static unsigned env_step(const char *name)
{
	const char *s = getenv(name);
	long n;

	return s && util_parse_long(s, 1, 1000000, &n) == 0 ? (unsigned)n : 0;
}

static int boot_write(struct ctx *c, const char *mode)
{
	struct boot_plan *p = NULL;
	char err[2048] = "";
	int fd = -1, r;

	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	if ((r = grub_lock(c, &fd)) != EXIT_OK)
		return r;
	/* What a killed run left that no journal names. */
	boot_tidy(c->host);
	r = load_plan(c, mode, &p);
	if (r != EXIT_OK)
		goto out;
	if (!mode && !p->journal && !p->changes[BOOT_GRUB].legacy) {
		char *f = ctl_host_file(c, BOOT_JOURNAL);

		if (c->json)
			print_json(plan_json(c, p, false));
		else
			printf("nothing to revert: no %s (isoctl boot apply has written nothing)\n",
			       f ? f : BOOT_JOURNAL);
		free(f);
		r = EXIT_OK;
		goto out;
	}
	if (!boot_plan_changes(p) && !(p->reverting && p->journal)) {
		if (c->json)
			print_json(plan_json(c, p, false));
		else
			printf("nothing to change: the next boot already has what mode %s writes\n", p->mode);
		r = EXIT_OK;
		goto out;
	}
	if (boot_apply(c->host, p,
		       &(struct boot_options){.force = c->force,
					      .chown_fn = fchown,
					      .crash_after = env_step("ISOLATED_BOOT_CRASH_AFTER"),
					      .fail_at = env_step("ISOLATED_BOOT_FAIL_AT")},
		       err, sizeof(err)) < 0) {
		err_msg("%s", err);
		r = EXIT_FAIL;
		goto out;
	}
	if (c->json)
		print_json(plan_json(c, p, true));
	else {
		print_changes(c, p);
		char dir[4096];

		ctl_host_path(c, BOOT_DIR, dir, sizeof(dir));
		if (p->reverting)
			printf("the next boot's files are the originals again; %s is gone\n", dir);
		else
			printf("wrote mode %s for the next boot; the originals are in %s (isoctl boot revert puts "
			       "them back)\n",
			       p->mode, dir);
		if (boot_plan_changes(p))
			print_then(p, "");
	}
	r = EXIT_OK;
out:
	boot_plan_free(p);
	grub_unlock(c, fd);
	return r;
}

int cmd_boot(struct ctx *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;

	if (verb && strcmp(verb, "apply") == 0 && argc == 2)
		return c->dry_run ? boot_show(c, argv[1]) : boot_write(c, argv[1]);
	if (verb && strcmp(verb, "revert") == 0 && argc == 1)
		return c->dry_run ? boot_show(c, NULL) : boot_write(c, NULL);
	if (verb && strcmp(verb, "show") == 0 && argc == 2)
		return boot_show(c, argv[1]);
	err_msg("usage: isoctl boot show MODE | boot apply MODE [--dry-run] [--force] | boot revert [--dry-run] "
		"[--force]");
	return EXIT_USAGE;
}

json_object *boot_status_doc(struct ctx *c)
{
	struct boot_journal *j = NULL;
	struct policy *pol = NULL;
	char **modprobe = NULL, **lines = NULL, err[1024] = "", path[4096];
	json_object *o, *a;
	bool reboot = false;
	int r;

	if (!c->host && ctx_open_host(c) != EXIT_OK)
		return NULL;
	r = boot_journal_read(c->host, &j, err, sizeof(err));
	if (r == -ENOENT)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "journal", json_str(ctl_host_path(c, BOOT_JOURNAL, path, sizeof(path))));
	if (r < 0) {
		json_object_object_add(o, "error", json_str(err[0] ? err : path_strerror(-r)));
		return o;
	}
	json_object_object_add(o, "mode", json_str(j->mode));
	a = json_object_new_array();
	for (int k = 0; k < BOOT_N_ARTIFACTS; k++)
		if (j->files[k].held)
			json_object_array_add(a, json_str(ctl_host_path(c, boot_artifact_path(k), path, sizeof(path))));
	json_object_object_add(o, "files", a);
	if (ctx_load_policy(c, j->mode, &pol) == EXIT_OK) {
		struct boot_wants w;

		boot_wants_of(pol, &w, &modprobe);
		if (boot_pending(c->host, &w, &lines, &reboot) == 0) {
			a = json_object_new_array();
			for (size_t i = 0; lines && lines[i]; i++)
				json_object_array_add(a, json_str(lines[i]));
			json_object_object_add(o, "pending", a);
			json_object_object_add(o, "reboot_needed", json_object_new_boolean(reboot));
		}
	} else
		json_object_object_add(o, "error", json_str("the mode written for the next boot does not load"));
	strv_free(lines);
	strv_free(modprobe);
	policy_free(pol);
	boot_journal_free(j);
	return o;
}

void boot_status_text(json_object *boot)
{
	json_object *v, *files, *pending;

	if (!boot)
		return;
	if (json_object_object_get_ex(boot, "error", &v) && !json_object_object_get_ex(boot, "mode", NULL)) {
		print_line("boot: %s", json_object_get_string(v));
		return;
	}
	printf("\n");
	json_object_object_get_ex(boot, "mode", &v);
	print_line("boot: mode %s written for the next boot by isoctl boot apply (%s)", json_object_get_string(v),
		   json_object_get_string(json_object_object_get(boot, "journal")));
	if (json_object_object_get_ex(boot, "files", &files))
		for (size_t i = 0; i < json_object_array_length(files); i++)
			print_line("  %s", json_object_get_string(json_object_array_get_idx(files, i)));
	if (json_object_object_get_ex(boot, "error", &v))
		print_line("  %s", json_object_get_string(v));
	if (json_object_object_get_ex(boot, "pending", &pending))
		for (size_t i = 0; i < json_object_array_length(pending); i++)
			print_line("  next boot: %s", json_object_get_string(json_object_array_get_idx(pending, i)));
	if (json_object_get_boolean(json_object_object_get(boot, "reboot_needed")))
		printf("  reboot needed\n");
	else if (pending && json_object_array_length(pending) == 0)
		printf("  the running kernel has it all: no reboot needed\n");
}
