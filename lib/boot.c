/* The boot transaction (isolated/boot.h): the next boot's kernel command
 * line, systemd's CPUAffinity and module options, written as one
 * transaction whose originals survive reboots and power loss. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfile-internal.h"
#include "isolated/boot.h"
#include "isolated/path.h"
#include "policy-internal.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"

#define BOOT_MAGIC "isolated-boot 1"
#define BOOT_MAX_FILE (1 << 20)

static const struct {
	const char *id, *path;
} artifacts[BOOT_N_ARTIFACTS] = {
    [BOOT_GRUB] = {"grub", "etc/default/grub"},
    [BOOT_KERNEL_CMDLINE] = {"kernel-cmdline", "etc/kernel/cmdline"},
    [BOOT_SYSTEMD] = {"systemd", "etc/systemd/system.conf.d/isolated.conf"},
    [BOOT_MODPROBE] = {"modprobe", "etc/modprobe.d/isolated.conf"},
};

const char *boot_artifact_id(enum boot_artifact a)
{
	return a < BOOT_N_ARTIFACTS ? artifacts[a].id : NULL;
}

const char *boot_artifact_path(enum boot_artifact a)
{
	return a < BOOT_N_ARTIFACTS ? artifacts[a].path : NULL;
}

static int artifact_by_id(const char *id)
{
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++)
		if (strcmp(artifacts[a].id, id) == 0)
			return a;
	return -1;
}

/* A directory the transaction may create: a parent of an artifact below
 * etc/ (never etc itself). */
static bool dir_allowed(const char *dir)
{
	size_t n = strlen(dir);

	if (n == 0 || strcmp(dir, "etc") == 0 || strstr(dir, "//") || strstr(dir, "/.") || dir[n - 1] == '/')
		return false;
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++)
		if (strncmp(artifacts[a].path, dir, n) == 0 && artifacts[a].path[n] == '/')
			return true;
	return false;
}

static bool exists(const struct host *h, const char *rel)
{
	struct stat st;

	return host_lstat(h, rel, &st) == 0;
}

static bool is_dir(const struct host *h, const char *rel)
{
	struct stat st;

	return host_lstat(h, rel, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- which boot loader ---- */

static bool grub_bls_enabled(const char *buf, size_t len)
{
	const char *names[] = {"GRUB_ENABLE_BLSCFG", NULL};
	char *v[1] = {NULL};
	bool on;

	if (procfmt_parse_shell(buf, len, names, v) < 0)
		return false;
	on = v[0] && strcmp(v[0], "true") == 0;
	free(v[0]);
	return on;
}

int boot_detect(const struct host *h, struct boot_host *ret)
{
	struct boot_host b = {0};
	char *kver = NULL;

	b.has_grub = exists(h, artifacts[BOOT_GRUB].path);
	b.has_kernel_cmdline = exists(h, artifacts[BOOT_KERNEL_CMDLINE].path);
	(void)host_read_sysctl(h, "kernel.osrelease", &kver);
	if (b.has_grub) {
		char *buf = NULL;
		size_t len;

		if (host_read(h, artifacts[BOOT_GRUB].path, &buf, &len) == 0)
			b.grub_bls = grub_bls_enabled(buf, len);
		free(buf);
		/* Fedora and RHEL install grub2-mkconfig and boot/grub2;
		 * Debian and Ubuntu update-grub and boot/grub. */
		if ((exists(h, "usr/sbin/grub2-mkconfig") || is_dir(h, "boot/grub2")) &&
		    !exists(h, "usr/sbin/update-grub")) {
			b.loader = BOOT_LOADER_GRUB2;
			b.generated = "boot/grub2/grub.cfg";
			b.then = util_sprintf("grub2-mkconfig -o /boot/grub2/grub.cfg%s",
					      b.grub_bls ? " --update-bls-cmdline" : "");
			b.why = util_sprintf("etc/default/grub with %s", is_dir(h, "boot/grub2")
									     ? "boot/grub2 (grub2-mkconfig)"
									     : "usr/sbin/grub2-mkconfig");
		} else {
			b.loader = BOOT_LOADER_GRUB_DEBIAN;
			b.generated = "boot/grub/grub.cfg";
			b.then = strdup("update-grub");
			b.why = strdup("etc/default/grub (update-grub)");
		}
	} else if (b.has_kernel_cmdline || is_dir(h, "boot/loader/entries") || is_dir(h, "efi/loader") ||
		   is_dir(h, "boot/efi/loader")) {
		b.loader = BOOT_LOADER_BLS;
		b.then =
		    util_sprintf("kernel-install add %s /boot/vmlinuz-%s", kver ? kver : "KVER", kver ? kver : "KVER");
		b.why = strdup(b.has_kernel_cmdline ? "etc/kernel/cmdline (systemd-boot, kernel-install)"
						    : "a boot loader specification layout (loader/entries), no "
						      "etc/default/grub");
	}
	free(kver);
	*ret = b;
	return 0;
}

void boot_host_done(struct boot_host *b)
{
	free(b->then);
	free(b->why);
	*b = (struct boot_host){0};
}

/* ---- the journal ---- */

void boot_journal_free(struct boot_journal *j)
{
	if (!j)
		return;
	free(j->mode);
	strv_free(j->dirs);
	free(j);
}

bool boot_journal_exists(const struct host *h)
{
	return exists(h, BOOT_JOURNAL);
}

/* "present LEN CRC" / "absent 0 0" */
static int parse_state(char **tok, bool *ret_present, size_t *ret_len, uint32_t *ret_crc)
{
	long len, crc;

	if (strcmp(tok[0], "present") != 0 && strcmp(tok[0], "absent") != 0)
		return -EBADMSG;
	if (util_parse_long(tok[1], 0, BOOT_MAX_FILE, &len) < 0 || util_parse_long(tok[2], 0, UINT32_MAX, &crc) < 0)
		return -EBADMSG;
	*ret_present = tok[0][0] == 'p';
	if (!*ret_present && (len != 0 || crc != 0))
		return -EBADMSG;
	*ret_len = (size_t)len;
	*ret_crc = (uint32_t)crc;
	return 0;
}

static int parse_file_line(char **tok, size_t n, struct boot_journal *j)
{
	struct boot_record r = {.held = true};
	long uid, gid;
	unsigned long mode;
	char *end;
	int a;

	/* file ID ORIG(3) MODE UID GID new NEW(3) was WAS(3) */
	if (n != 16 || strcmp(tok[8], "new") != 0 || strcmp(tok[12], "was") != 0)
		return -EBADMSG;
	a = artifact_by_id(tok[1]);
	if (a < 0 || j->files[a].held)
		return -EBADMSG;
	if (parse_state(tok + 2, &r.orig_present, &r.orig_len, &r.orig_crc) < 0 ||
	    parse_state(tok + 9, &r.new_present, &r.new_len, &r.new_crc) < 0 ||
	    parse_state(tok + 13, &r.was_present, &r.was_len, &r.was_crc) < 0)
		return -EBADMSG;
	errno = 0;
	mode = strtoul(tok[5], &end, 8);
	if (errno || *end || !*tok[5] || mode > 07777 || util_parse_long(tok[6], 0, INT32_MAX, &uid) < 0 ||
	    util_parse_long(tok[7], 0, INT32_MAX, &gid) < 0)
		return -EBADMSG;
	r.mode = (mode_t)mode;
	r.uid = (uid_t)uid;
	r.gid = (gid_t)gid;
	j->files[a] = r;
	return 0;
}

static int parse_journal(const char *buf, size_t len, struct boot_journal *j, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *l, **tok = NULL;
		size_t n;
		int r = 0;

		line++;
		if (!nl) {
			util_set_err(err, errlen, "line %u: cut short (no newline)", line);
			return -EBADMSG;
		}
		l = strndup(p, (size_t)(nl - p));
		if (!l)
			return -ENOMEM;
		p = nl + 1;
		if (line == 1) {
			r = strcmp(l, BOOT_MAGIC) == 0 ? 0 : -EBADMSG;
			free(l);
			if (r < 0) {
				util_set_err(err, errlen, "line 1: not \"" BOOT_MAGIC "\"");
				return r;
			}
			continue;
		}
		if (strv_split_quoted(l, &tok, NULL, 0) < 0) {
			free(l);
			util_set_err(err, errlen, "line %u: does not parse", line);
			return -EBADMSG;
		}
		n = strv_len(tok);
		if (n == 2 && strcmp(tok[0], "mode") == 0 && !j->mode && policy_name_valid(tok[1]))
			r = (j->mode = strdup(tok[1])) ? 0 : -ENOMEM;
		else if (n == 2 && strcmp(tok[0], "dir") == 0 && dir_allowed(tok[1]) && !strv_contains(j->dirs, tok[1]))
			r = strv_push_dup(&j->dirs, tok[1]);
		else if (n >= 1 && strcmp(tok[0], "file") == 0)
			r = parse_file_line(tok, n, j);
		else
			r = -EBADMSG;
		strv_free(tok);
		free(l);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			util_set_err(err, errlen,
				     "line %u: not a record isolated writes (mode NAME, dir PATH below "
				     "etc/ of an artifact, file ID ...)",
				     line);
			return -EBADMSG;
		}
	}
	if (line == 0 || !j->mode) {
		util_set_err(err, errlen, "no mode record");
		return -EBADMSG;
	}
	return 0;
}

int boot_journal_parse(const char *buf, size_t len, struct boot_journal **ret, char *err, size_t errlen)
{
	struct boot_journal *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	r = parse_journal(buf, len, j, err, errlen);
	if (r < 0) {
		boot_journal_free(j);
		return r;
	}
	*ret = j;
	return 0;
}

int boot_journal_read(const struct host *h, struct boot_journal **ret, char *err, size_t errlen)
{
	struct boot_journal *j;
	char *buf = NULL, why[512] = "", p[4096];
	size_t len;
	struct stat st;
	int r;

	r = host_lstat(h, BOOT_JOURNAL, &st);
	if (r == 0 && !S_ISREG(st.st_mode)) {
		util_set_err(err, errlen, "%s is not a regular file (isolated writes it as one)",
			     dfile_host_path(h, BOOT_JOURNAL, p, sizeof(p)));
		return -EBADMSG;
	}
	if (r == 0)
		r = host_read(h, BOOT_JOURNAL, &buf, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return dfile_fail(h, "reading", BOOT_JOURNAL, r, err, errlen);
	r = boot_journal_parse(buf, len, &j, why, sizeof(why));
	free(buf);
	if (r < 0) {
		if (r == -EBADMSG)
			util_set_err(err, errlen, "%s: %s", dfile_host_path(h, BOOT_JOURNAL, p, sizeof(p)), why);
		return r;
	}
	*ret = j;
	return 0;
}

static void state_fmt(struct sbuf *b, bool present, size_t len, uint32_t crc)
{
	if (present)
		sbuf_addf(b, " present %zu %" PRIu32, len, crc);
	else
		sbuf_adds(b, " absent 0 0");
}

/* ---- reading an artifact ---- */

/* The artifact's contents now: -ENOENT when absent. A symbolic link or
 * anything but a regular file is refused (replacing it would cut the
 * link, or write through it). */
static int read_artifact(const struct host *h, enum boot_artifact a, char **ret, size_t *ret_len, struct stat *ret_st,
			 char *err, size_t errlen)
{
	const char *path = artifacts[a].path;
	struct stat st;
	int r = host_lstat(h, path, &st);

	if (r == -ENOENT)
		return r;
	if (r < 0)
		return dfile_fail(h, "", path, r, err, errlen);
	r = dfile_stat(h, path, &st, err, errlen);
	if (r < 0)
		return r;
	r = path_read(h->root_fd, path, host_resolve(h), BOOT_MAX_FILE, ret, ret_len);
	if (r < 0)
		return dfile_fail(h, "reading", path, r, err, errlen);
	if (ret_st)
		*ret_st = st;
	return 0;
}

static int read_orig(const struct host *h, enum boot_artifact a, const struct boot_record *rec, char **ret,
		     size_t *ret_len, char *err, size_t errlen)
{
	char rel[256], p[4096];
	struct stat st;
	int r;

	snprintf(rel, sizeof(rel), BOOT_DIR "/%s.orig", artifacts[a].id);
	r = host_lstat(h, rel, &st);
	if (r == 0 && !S_ISREG(st.st_mode)) {
		util_set_err(err, errlen, "%s is not a regular file (isolated writes it as one): restore by hand",
			     dfile_host_path(h, rel, p, sizeof(p)));
		return -EINVAL;
	}
	if (r == 0)
		r = path_read(h->root_fd, rel, host_resolve(h), BOOT_MAX_FILE, ret, ret_len);
	if (r < 0)
		return dfile_fail(h, "reading the saved original", rel, r, err, errlen);
	if (*ret_len != rec->orig_len || util_crc32(*ret, *ret_len) != rec->orig_crc) {
		free(*ret);
		*ret = NULL;
		util_set_err(err, errlen,
			     "%s is not the original the journal recorded (%zu bytes, crc32 %" PRIu32
			     "): restore %s by hand",
			     dfile_host_path(h, rel, p, sizeof(p)), rec->orig_len, rec->orig_crc, artifacts[a].path);
		return -EBADMSG;
	}
	return 0;
}

/* ---- what each artifact becomes ---- */

/* Kernel parameters, each CPU list in its shortest form. */
static char **shortest_params(char *const *params)
{
	char **v = NULL;

	for (size_t i = 0; params && params[i]; i++)
		if (strv_push(&v, grub_param_shortest(params[i])) < 0) {
			strv_free(v);
			return NULL;
		}
	if (!v)
		v = calloc(1, sizeof(*v));
	return v;
}

char *boot_cmdline_of(enum boot_artifact a, const char *buf, size_t len)
{
	char *out = NULL;

	if (a == BOOT_GRUB) {
		char *lin = NULL, *def = NULL;

		if (procfmt_parse_grub(buf, len, &lin, &def) == 0)
			out = util_sprintf("%s%s%s", lin ? lin : "", lin && def ? " " : "", def ? def : "");
		free(lin);
		free(def);
	} else if (a == BOOT_KERNEL_CMDLINE) {
		/* kernel-install joins the file's lines */
		out = strndup(buf, len);
		for (char *p = out; p && *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (out)
			util_strip(out);
	}
	return out;
}

/* etc/kernel/cmdline: one line, the kernel's parameters. A new one starts
 * from what kernel-install would use without it: /proc/cmdline without
 * what the boot loader added (BOOT_IMAGE=, initrd=). */
static int edit_kernel_cmdline(const struct host *h, const char *orig, size_t orig_len, bool orig_present,
			       char *const *params, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	char *base = NULL, *lin = NULL, *def = NULL, why[512];
	bool changed;
	int r;

	if (orig_present) {
		base = strndup(orig, orig_len);
		if (base && orig_len && base[orig_len - 1] == '\n')
			base[orig_len - 1] = '\0';
	} else {
		char *cmd = NULL, **tok = NULL;
		size_t len;
		struct sbuf b = {0};

		if (host_read(h, "proc/cmdline", &cmd, &len) == 0 &&
		    strv_split_quoted(util_strip(cmd), &tok, NULL, 0) == 0)
			for (size_t i = 0; tok && tok[i]; i++) {
				if (!strncmp(tok[i], "BOOT_IMAGE=", 11) || !strncmp(tok[i], "initrd=", 7))
					continue;
				if (b.len)
					sbuf_addc(&b, ' ');
				if (strpbrk(tok[i], " \t"))
					sbuf_addf(&b, "\"%s\"", tok[i]);
				else
					sbuf_adds(&b, tok[i]);
			}
		strv_free(tok);
		free(cmd);
		base = sbuf_take(&b);
		if (!base)
			base = strdup("");
	}
	if (!base)
		return -ENOMEM;
	if (strchr(base, '\n')) {
		util_set_err(err, errlen, "etc/kernel/cmdline has more than one line: edit it by hand");
		free(base);
		return -EINVAL;
	}
	r = grub_edit_values(NULL, base, params, &lin, &def, &changed, why, sizeof(why));
	free(base);
	if (r < 0) {
		util_set_err(err, errlen, "etc/kernel/cmdline: %s", why);
		return r;
	}
	free(lin);
	if (!changed && orig_present) {
		free(def);
		*ret = strndup(orig, orig_len);
		*ret_len = orig_len;
		return *ret ? 0 : -ENOMEM;
	}
	*ret = util_sprintf("%s\n", def ? def : "");
	free(def);
	if (!*ret)
		return -ENOMEM;
	*ret_len = strlen(*ret);
	return 0;
}

static char *systemd_dropin(const char *mode, const struct cpuset *cpus)
{
	char *list = NULL, *out;

	if (cpuset_format_list(cpus, &list) < 0)
		return NULL;
	out = util_sprintf("# Written by isoctl boot apply %s: systemd and every service it starts run on\n"
			   "# these CPUs from boot on. isoctl boot revert removes this file.\n"
			   "[Manager]\nCPUAffinity=%s\n",
			   mode, list);
	free(list);
	return out;
}

static char *modprobe_conf(const char *mode, char *const *lines)
{
	struct sbuf b = {0};

	sbuf_addf(&b,
		  "# Written by isoctl boot apply %s: taken when the module is next loaded.\n"
		  "# isoctl boot revert removes this file.\n",
		  mode);
	for (size_t i = 0; lines[i]; i++)
		sbuf_addf(&b, "options %s\n", lines[i]);
	return sbuf_take(&b);
}

void boot_plan_free(struct boot_plan *p)
{
	if (!p)
		return;
	boot_host_done(&p->host);
	boot_journal_free(p->journal);
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		free(p->changes[a].old);
		free(p->changes[a].new);
		free(p->changes[a].orig);
	}
	free(p->mode);
	strv_free(p->modified);
	strv_free(p->notes);
	free(p);
}

static bool same(bool ap, const char *a, size_t al, bool bp, const char *b, size_t bl)
{
	return ap == bp && (!ap || (al == bl && memcmp(a, b, al) == 0));
}

/* c's file now is the one described. */
static bool matches(const struct boot_change *c, bool present, size_t len, uint32_t crc)
{
	return c->old_present == present && (!present || (c->old_len == len && util_crc32(c->old, c->old_len) == crc));
}

bool boot_plan_changes(const struct boot_plan *p)
{
	if (p->changes[BOOT_GRUB].legacy)
		return true;
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_change *c = &p->changes[a];

		if (p->concerned[a] && !same(c->old_present, c->old, c->old_len, c->new_present, c->new, c->new_len))
			return true;
	}
	return false;
}

/* The new contents of artifact a from its original. */
static int artifact_new(const struct host *h, const struct boot_plan *p, const struct boot_wants *w,
			enum boot_artifact a, const char *orig, size_t orig_len, bool orig_present, char *const *params,
			char **ret, size_t *ret_len, bool *ret_present, char *err, size_t errlen)
{
	char why[1024];
	bool changed;
	int r;

	*ret = NULL;
	*ret_len = 0;
	*ret_present = orig_present;
	switch (a) {
	case BOOT_GRUB:
		if (!w || !orig_present)
			break;
		r = grub_edit(orig, orig_len, params, ret, ret_len, &changed, why, sizeof(why));
		if (r < 0) {
			util_set_err(err, errlen, "etc/default/grub: %s", r == -ENOMEM ? "out of memory" : why);
			return r;
		}
		return 0;
	case BOOT_KERNEL_CMDLINE:
		/* Written when it is there, or when systemd-boot is how the host
		 * boots and the mode has parameters. */
		if (!w || (!orig_present && (p->host.loader != BOOT_LOADER_BLS || !params[0])))
			break;
		*ret_present = true;
		return edit_kernel_cmdline(h, orig, orig_len, orig_present, params, ret, ret_len, err, errlen);
	case BOOT_SYSTEMD:
		if (!w || !w->systemd_affinity)
			break;
		*ret = systemd_dropin(w->mode, w->systemd_affinity);
		*ret_present = true;
		goto generated;
	case BOOT_MODPROBE:
		if (!w || !w->modprobe || !w->modprobe[0])
			break;
		*ret = modprobe_conf(w->mode, w->modprobe);
		*ret_present = true;
		goto generated;
	default:
		return -EINVAL;
	}
	/* as the original */
	if (orig_present) {
		*ret = malloc(orig_len + 1);
		if (!*ret)
			return -ENOMEM;
		memcpy(*ret, orig, orig_len);
		(*ret)[orig_len] = '\0';
		*ret_len = orig_len;
	}
	return 0;
generated:
	if (!*ret)
		return -ENOMEM;
	*ret_len = strlen(*ret);
	return 0;
}

int boot_plan(const struct host *h, const struct boot_wants *w, struct boot_plan **ret, char *err, size_t errlen)
{
	struct boot_plan *p = calloc(1, sizeof(*p));
	char **params = NULL, p1[4096];
	bool all_orig = true;
	int r;

	if (!p)
		return -ENOMEM;
	r = boot_detect(h, &p->host);
	if (r < 0)
		goto fail;
	r = boot_journal_read(h, &p->journal, err, errlen);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		goto fail;
	p->mode = strdup(w ? w->mode : "vanilla");
	params = shortest_params(w ? w->cmdline : NULL);
	if (!p->mode || !params) {
		r = -ENOMEM;
		goto fail;
	}
	if (w && params[0] && !p->host.has_grub && p->host.loader != BOOT_LOADER_BLS) {
		util_set_err(err, errlen,
			     "no boot loader configuration on %s (no etc/default/grub, no etc/kernel/cmdline, no "
			     "loader/entries): mode %s has kernel parameters and nowhere to put them; nothing written",
			     h->root_path, w->mode);
		r = -EINVAL;
		goto fail;
	}
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_record *rec = p->journal ? &p->journal->files[a] : NULL;
		struct boot_change *c = &p->changes[a];
		bool held = rec && rec->held;

		c->a = a;
		r = read_artifact(h, a, &c->old, &c->old_len, NULL, err, errlen);
		c->old_present = r == 0;
		if (r < 0 && r != -ENOENT)
			goto fail;
		if (held) {
			c->orig_present = rec->orig_present;
			if (c->orig_present && (r = read_orig(h, a, rec, &c->orig, &c->orig_len, err, errlen)) < 0)
				goto fail;
			/* Changed since we wrote it: neither what we wrote, nor
			 * what was there before (a write killed midway), nor the
			 * original (a revert killed midway). */
			if (!matches(c, rec->new_present, rec->new_len, rec->new_crc) &&
			    !matches(c, rec->was_present, rec->was_len, rec->was_crc) &&
			    !same(c->old_present, c->old, c->old_len, c->orig_present, c->orig, c->orig_len))
				strv_push_dup(&p->modified, dfile_host_path(h, artifacts[a].path, p1, sizeof(p1)));
		} else if (a == BOOT_GRUB && c->old_present &&
			   (r = host_read(h, GRUB_BACKUP_PATH, &c->orig, &c->orig_len)) == 0) {
			/* isoctl grub --write saved it before: that is the original. */
			c->orig_present = c->legacy = true;
		} else {
			c->orig_present = c->old_present;
			if (c->old_present && !(c->orig = malloc(c->old_len + 1))) {
				r = -ENOMEM;
				goto fail;
			}
			if (c->old_present)
				memcpy(c->orig, c->old, c->old_len + 1);
			c->orig_len = c->old_len;
		}
		r = artifact_new(h, p, w, a, c->orig, c->orig_len, c->orig_present, params, &c->new, &c->new_len,
				 &c->new_present, err, errlen);
		if (r < 0)
			goto fail;
		p->concerned[a] = held || c->legacy ||
				  !same(c->orig_present, c->orig, c->orig_len, c->new_present, c->new, c->new_len);
		if (!same(c->orig_present, c->orig, c->orig_len, c->new_present, c->new, c->new_len))
			all_orig = false;
	}
	p->reverting = all_orig;
	strv_free(params);
	*ret = p;
	return 0;
fail:
	strv_free(params);
	boot_plan_free(p);
	return r;
}

/* ---- carrying it out ---- */

struct run {
	struct host *h;
	const struct boot_options *o;
	unsigned steps;
	bool faulted; /* the injected fault is spent */
	char *err;
	size_t errlen;
};

/* One durable step done: the crash matrix's kill point. */
static void step(struct run *x)
{
	x->steps++;
	if (x->o->crash_after && x->steps == x->o->crash_after)
		raise(SIGKILL);
}

/* Tests: the write of rel that would be step o->fail_at fails with EIO
 * (ISOLATED_BOOT_FAIL_AT), once. */
static int injected(struct run *x, const char *what, const char *rel)
{
	if (!x->o->fail_at || x->faulted || x->steps + 1 != x->o->fail_at)
		return 0;
	x->faulted = true;
	return dfile_fail(x->h, what, rel, -EIO, x->err, x->errlen);
}

static int remove_at(struct run *x, const char *rel, bool dir)
{
	char name[NAME_MAX + 1];
	int dfd = host_open_parent(x->h, rel, name), r = 0;

	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfile_fail(x->h, "removing", rel, dfd, x->err, x->errlen);
	if (unlinkat(dfd, name, dir ? AT_REMOVEDIR : 0) < 0) {
		r = -errno;
		if (r == -ENOENT) { /* gone already: nothing to make durable */
			close(dfd);
			return 0;
		}
	} else if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	if (r == -ENOTEMPTY || r == -EEXIST)
		return 0; /* someone else's files in it: it stays */
	if (r < 0)
		return dfile_fail(x->h, "removing", rel, r, x->err, x->errlen);
	step(x);
	return 0;
}

int boot_journal_format(const struct boot_journal *j, char **ret)
{
	struct sbuf b = {0};

	sbuf_addf(&b, BOOT_MAGIC "\nmode %s\n", j->mode);
	for (size_t i = 0; j->dirs && j->dirs[i]; i++)
		sbuf_addf(&b, "dir %s\n", j->dirs[i]);
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_record *rec = &j->files[a];

		if (!rec->held)
			continue;
		sbuf_addf(&b, "file %s", artifacts[a].id);
		state_fmt(&b, rec->orig_present, rec->orig_len, rec->orig_crc);
		sbuf_addf(&b, " %o %u %u new", (unsigned)rec->mode, (unsigned)rec->uid, (unsigned)rec->gid);
		state_fmt(&b, rec->new_present, rec->new_len, rec->new_crc);
		sbuf_adds(&b, " was");
		state_fmt(&b, rec->was_present, rec->was_len, rec->was_crc);
		sbuf_addc(&b, '\n');
	}
	*ret = sbuf_take(&b);
	return *ret ? 0 : -ENOMEM;
}

/* The journal of this apply: each record's original, what the plan writes
 * and what is there now. */
static int write_journal(struct run *x, const struct boot_plan *p, char **dirs, const struct boot_record *recs)
{
	struct boot_journal j = {.mode = p->mode, .dirs = dirs};
	char *buf;
	int r;

	memcpy(j.files, recs, sizeof(j.files));
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const struct boot_change *c = &p->changes[a];
		struct boot_record *rec = &j.files[a];

		rec->new_present = c->new_present;
		rec->new_len = c->new_present ? c->new_len : 0;
		rec->new_crc = c->new_present ? util_crc32(c->new, c->new_len) : 0;
		rec->was_present = c->old_present;
		rec->was_len = c->old_present ? c->old_len : 0;
		rec->was_crc = c->old_present ? util_crc32(c->old, c->old_len) : 0;
	}
	r = boot_journal_format(&j, &buf);
	if (r < 0)
		return r;
	r = dfile_write_atomic(x->h, BOOT_DIR, "journal", buf, strlen(buf), 0644, geteuid(), getegid(), NULL, false,
			       x->err, x->errlen);
	free(buf);
	if (r < 0)
		return r;
	step(x);
	return 0;
}

/* The parents of path below etc/ that do not exist, outermost first. */
static int missing_dirs(const struct host *h, const char *path, char ***dirs)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = strchr(buf + 4, '/'); s; s = strchr(s + 1, '/')) {
		int r;

		*s = '\0';
		if (!is_dir(h, buf) && dir_allowed(buf) && !strv_contains(*dirs, buf)) {
			r = strv_push_dup(dirs, buf);
			if (r < 0)
				return r;
		}
		*s = '/';
	}
	return 0;
}

static int put_artifact(struct run *x, const struct boot_plan *p, enum boot_artifact a, const struct boot_record *rec)
{
	const struct boot_change *c = &p->changes[a];
	const char *path = artifacts[a].path, *name;
	char dir[PATH_MAX];
	struct stat st;
	mode_t mode = 0644;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int r;

	if (same(c->old_present, c->old, c->old_len, c->new_present, c->new, c->new_len))
		return 0;
	if ((r = injected(x, "writing", path)) < 0)
		return r;
	if (!c->new_present)
		return (r = remove_at(x, path, false)) < 0 ? r : 1;
	if (dfile_split(path, dir, &name) < 0)
		return -EINVAL;
	/* The original's mode and owner when it goes back; else those of the
	 * file it replaces, or of the original. */
	if (rec->orig_present && same(true, c->orig, c->orig_len, c->new_present, c->new, c->new_len))
		mode = rec->mode, uid = rec->uid, gid = rec->gid;
	else if (host_lstat(x->h, path, &st) == 0) {
		r = dfile_stat(x->h, path, &st, x->err, x->errlen);
		if (r >= 0)
			r = dfile_check_owner(x->h, path, &st, x->o->chown_fn, x->err, x->errlen);
		if (r < 0)
			return r;
		mode = st.st_mode & 07777, uid = st.st_uid, gid = st.st_gid;
	} else if (rec->orig_present)
		mode = rec->mode, uid = rec->uid, gid = rec->gid;
	if (uid != geteuid() || gid != getegid()) {
		if (!x->o->chown_fn) {
			char pb[4096];

			util_set_err(x->err, x->errlen,
				     "%s would be owned by %u:%u (isolated keeps owners): edit it by hand",
				     dfile_host_path(x->h, path, pb, sizeof(pb)), (unsigned)uid, (unsigned)gid);
			return -EPERM;
		}
	}
	r = dfile_write_atomic(x->h, dir, name, c->new, c->new_len, mode, uid, gid, x->o->chown_fn, false, x->err,
			       x->errlen);
	if (r < 0)
		return r;
	step(x);
	return 1;
}

static void orig_rel(enum boot_artifact a, char *buf, size_t n)
{
	snprintf(buf, n, BOOT_DIR "/%s.orig", artifacts[a].id);
}

/* A failed apply: what it wrote goes back as it was before it (the
 * previous mode's files, or the originals), and the journal too. */
static void undo_apply(struct run *x, const struct boot_plan *p, const bool *written, char *const *made,
		       const bool *saved)
{
	char why[1024] = "", rel[256], *prev = NULL;
	struct run u = *x;
	int r = 0;

	u.err = why;
	u.errlen = sizeof(why);
	for (int a = BOOT_N_ARTIFACTS - 1; a >= 0 && r >= 0; a--) {
		const struct boot_change *c = &p->changes[a];
		const char *name;
		char dir[PATH_MAX];
		struct stat st;

		if (!written[a])
			continue;
		if (!c->old_present)
			r = remove_at(&u, artifacts[a].path, false);
		else if ((r = dfile_split(artifacts[a].path, dir, &name)) == 0 &&
			 (r = host_lstat(u.h, artifacts[a].path, &st)) == 0)
			r = dfile_write_atomic(u.h, dir, name, c->old, c->old_len, st.st_mode & 07777, st.st_uid,
					       st.st_gid, u.o->chown_fn, false, why, sizeof(why));
	}
	for (size_t i = strv_len(made); i > 0 && r >= 0; i--)
		r = remove_at(&u, made[i - 1], true);
	if (r >= 0 && p->journal) {
		r = boot_journal_format(p->journal, &prev);
		if (r >= 0)
			r = dfile_write_atomic(u.h, BOOT_DIR, "journal", prev, strlen(prev), 0644, geteuid(), getegid(),
					       NULL, false, why, sizeof(why));
		free(prev);
	} else if (r >= 0)
		r = remove_at(&u, BOOT_JOURNAL, false);
	/* The originals this apply saved: the journal now in force (the
	 * previous one, or none) does not name them. */
	for (int a = 0; a < BOOT_N_ARTIFACTS && r >= 0; a++)
		if (saved[a]) {
			orig_rel(a, rel, sizeof(rel));
			r = remove_at(&u, rel, false);
		}
	if (r >= 0 && !p->journal)
		r = remove_at(&u, BOOT_DIR, true);
	if (r < 0) {
		size_t n = strlen(x->err);

		snprintf(x->err + n, x->errlen > n ? x->errlen - n : 0,
			 "; undoing it failed too (%s): what was written is journaled, isoctl boot revert puts every "
			 "file back",
			 why[0] ? why : path_strerror(-r));
	} else {
		size_t n = strlen(x->err);

		snprintf(x->err + n, x->errlen > n ? x->errlen - n : 0,
			 "; nothing changed (what was written is undone)");
	}
}

static int finish_revert(struct run *x, const struct boot_plan *p)
{
	char rel[256];
	int r;

	/* The directories we made, innermost first. */
	for (size_t i = p->journal ? strv_len(p->journal->dirs) : 0; i > 0; i--) {
		r = remove_at(x, p->journal->dirs[i - 1], true);
		if (r < 0)
			return r;
	}
	r = remove_at(x, BOOT_JOURNAL, false);
	if (r < 0)
		return r;
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		orig_rel(a, rel, sizeof(rel));
		r = remove_at(x, rel, false);
		if (r < 0)
			return r;
	}
	return remove_at(x, BOOT_DIR, true);
}

int boot_apply(struct host *h, const struct boot_plan *p, const struct boot_options *o, char *err, size_t errlen)
{
	static const struct boot_options none = {0};
	struct run x = {.h = h, .o = o ? o : &none, .err = err, .errlen = errlen};
	struct boot_record recs[BOOT_N_ARTIFACTS] = {0};
	bool written[BOOT_N_ARTIFACTS] = {false}, saved[BOOT_N_ARTIFACTS] = {false};
	char **dirs = NULL, **made = NULL;
	bool held = false, journaled = false;
	int r = 0;

	if (p->modified && !x.o->force) {
		util_set_err(err, errlen,
			     "%s changed since isoctl boot apply %s wrote it: nothing written (edit it by hand, or "
			     "--force to write over it)",
			     p->modified[0], p->journal ? p->journal->mode : "?");
		return -EBUSY;
	}
	if (!boot_plan_changes(p) && !(p->reverting && p->journal))
		return 0;
	boot_tidy(h);
	if (p->journal) {
		memcpy(recs, p->journal->files, sizeof(recs));
		for (size_t i = 0; p->journal->dirs && p->journal->dirs[i]; i++)
			if (strv_push_dup(&dirs, p->journal->dirs[i]) < 0) {
				r = -ENOMEM;
				goto out;
			}
	}
	if (!p->reverting) {
		r = dfile_mkdirs(h, BOOT_DIR, err, errlen);
		if (r < 0)
			goto out;
		/* The originals of the artifacts the journal does not hold yet. */
		for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
			const struct boot_change *c = &p->changes[a];
			struct stat st;
			char rel[256];

			if (!p->concerned[a] || recs[a].held)
				continue;
			recs[a] = (struct boot_record){.held = true, .orig_present = c->orig_present};
			if (c->orig_present) {
				r = host_lstat(h, artifacts[a].path, &st);
				if (r < 0) {
					r = dfile_fail(h, "", artifacts[a].path, r, err, errlen);
					goto out;
				}
				recs[a].mode = st.st_mode & 07777;
				recs[a].uid = st.st_uid;
				recs[a].gid = st.st_gid;
				recs[a].orig_len = c->orig_len;
				recs[a].orig_crc = util_crc32(c->orig, c->orig_len);
				orig_rel(a, rel, sizeof(rel));
				r = dfile_write_atomic(h, BOOT_DIR, rel + strlen(BOOT_DIR) + 1, c->orig, c->orig_len,
						       0600, geteuid(), getegid(), NULL, false, err, errlen);
				if (r < 0)
					goto out;
				saved[a] = true;
				step(&x);
			}
			if (c->new_present && (r = missing_dirs(h, artifacts[a].path, &dirs)) < 0)
				goto out;
		}
		for (int a = 0; a < BOOT_N_ARTIFACTS; a++)
			held = held || recs[a].held;
		if (!held)
			goto out;
		r = write_journal(&x, p, dirs, recs);
		if (r < 0)
			goto out;
		journaled = true;
		for (size_t i = 0; dirs && dirs[i]; i++)
			if (!is_dir(h, dirs[i])) {
				if ((r = injected(&x, "creating", dirs[i])) < 0 ||
				    (r = dfile_mkdirs(h, dirs[i], err, errlen)) < 0 ||
				    (r = strv_push_dup(&made, dirs[i])) < 0)
					goto out;
				step(&x);
			}
	}
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++)
		if (p->concerned[a]) {
			r = put_artifact(&x, p, a, &recs[a]);
			if (r < 0)
				goto out;
			written[a] = r > 0;
			r = 0;
		}
	/* The journal holds grub.orig's contents now. */
	if (!p->reverting && p->changes[BOOT_GRUB].legacy)
		r = remove_at(&x, GRUB_BACKUP_PATH, false);
	else if (p->reverting && p->journal)
		r = finish_revert(&x, p);
	else if (p->reverting && p->changes[BOOT_GRUB].legacy)
		r = remove_at(&x, GRUB_BACKUP_PATH, false);
out:
	if (r < 0 && journaled)
		undo_apply(&x, p, written, made, saved);
	strv_free(dirs);
	strv_free(made);
	return r;
}

void boot_tidy(const struct host *h)
{
	struct run x = {.h = (struct host *)h, .o = &(struct boot_options){0}};
	char name[NAME_MAX + 1], rel[PATH_MAX];
	int dfd;

	/* Temporary files of our writes. */
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		const char *base;
		char dir[PATH_MAX];

		if (dfile_split(artifacts[a].path, dir, &base) < 0)
			continue;
		if ((size_t)snprintf(rel, sizeof(rel), "%s/.%s.isoctl-tmp", dir, base) < sizeof(rel))
			(void)remove_at(&x, rel, false);
		snprintf(rel, sizeof(rel), BOOT_DIR "/.%s.orig.isoctl-tmp", artifacts[a].id);
		(void)remove_at(&x, rel, false);
	}
	(void)remove_at(&x, BOOT_DIR "/.journal.isoctl-tmp", false);
	if (boot_journal_exists(h))
		return;
	/* Originals no journal names: a kill before the journal was written
	 * (nothing else was), or after it was removed (all restored). */
	for (int a = 0; a < BOOT_N_ARTIFACTS; a++) {
		orig_rel(a, rel, sizeof(rel));
		(void)remove_at(&x, rel, false);
	}
	dfd = host_open_parent(h, BOOT_DIR, name);
	if (dfd >= 0) {
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
			(void)fsync(dfd);
		close(dfd);
	}
}

/* ---- what the next boot changes ---- */

/* The kernel command line of the first menu entry of a generated grub.cfg
 * (the default one, unless GRUB_DEFAULT says otherwise): its "linux" line
 * after the kernel's path. */
static char *grubcfg_cmdline(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end, *q = p;

		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(e - q) > 6 &&
		    (!strncmp(q, "linux ", 6) || !strncmp(q, "linux\t", 6) || !strncmp(q, "linuxefi ", 9))) {
			q = memchr(q, ' ', (size_t)(e - q)) ? (const char *)memchr(q, ' ', (size_t)(e - q)) : e;
			while (q < e && *q == ' ')
				q++;
			while (q < e && *q != ' ' && *q != '\t') /* the kernel */
				q++;
			return strndup(q, (size_t)(e - q));
		}
		p = e + 1;
	}
	return NULL;
}

static bool has_param(const char *cmdline, const char *key, const char *want, char **ret_value)
{
	char *v = NULL;
	bool yes;

	if (!cmdline || procfmt_cmdline_get(cmdline, key, &v) != 1) {
		*ret_value = NULL;
		return false;
	}
	yes = grub_param_equal(key, v, want);
	*ret_value = v;
	return yes;
}

/* A kernel file with a CPU list ("(null)" and "" are none) against a list. */
static bool cpus_file_is(const struct host *h, const char *rel, const char *list, char **ret_now)
{
	struct cpuset a = CPUSET_INIT, b = CPUSET_INIT;
	char *buf = NULL, err[64];
	size_t len;
	bool eq = true;

	*ret_now = NULL;
	if (host_read(h, rel, &buf, &len) < 0)
		return true; /* not there: nothing to compare */
	util_strip(buf);
	if (strcmp(buf, "(null)") == 0)
		buf[0] = '\0';
	if (cpuset_parse_list(buf, &a, err, sizeof(err)) == 0 && cpuset_parse_list(list, &b, err, sizeof(err)) == 0)
		eq = cpuset_equal(&a, &b);
	cpuset_free(&a);
	cpuset_free(&b);
	*ret_now = buf;
	return eq;
}

static bool bool_param_equal(const char *a, const char *b)
{
	static const char *const yes[] = {"Y", "y", "1"}, *const no[] = {"N", "n", "0"};
	int x = -1, y = -1;

	for (size_t i = 0; i < 3; i++) {
		x = !strcmp(a, yes[i]) ? 1 : !strcmp(a, no[i]) ? 0 : x;
		y = !strcmp(b, yes[i]) ? 1 : !strcmp(b, no[i]) ? 0 : y;
	}
	return x >= 0 && y >= 0 ? x == y : strcmp(a, b) == 0;
}

/* Artifact a has the line PREFIX VALUE. */
static bool written(const struct host *h, enum boot_artifact a, const char *prefix, const char *value)
{
	char *buf = NULL, *line = util_sprintf("\n%s%s\n", prefix, value);
	size_t len;
	bool yes = false;

	if (line && host_read(h, artifacts[a].path, &buf, &len) == 0) {
		char *all = util_sprintf("\n%s", buf);

		yes = all && strstr(all, line);
		free(all);
	}
	free(buf);
	free(line);
	return yes;
}

int boot_pending(const struct host *h, const struct boot_wants *w, char ***ret_lines, bool *ret_reboot)
{
	struct boot_host b;
	char **lines = NULL, **params = shortest_params(w->cmdline);
	char *next = NULL, *running = NULL, *generated = NULL, *buf = NULL;
	const char *next_file = NULL;
	size_t len;
	bool reboot = false;

	if (!params)
		return -ENOMEM;
	boot_detect(h, &b);
	if (b.has_grub)
		next_file = artifacts[BOOT_GRUB].path;
	else if (b.has_kernel_cmdline)
		next_file = artifacts[BOOT_KERNEL_CMDLINE].path;
	if (next_file && host_read(h, next_file, &buf, &len) == 0)
		next = boot_cmdline_of(b.has_grub ? BOOT_GRUB : BOOT_KERNEL_CMDLINE, buf, len);
	free(buf);
	buf = NULL;
	if (host_read(h, "proc/cmdline", &running, &len) == 0)
		util_strip(running);
	if (b.generated && host_read(h, b.generated, &buf, &len) == 0)
		generated = grubcfg_cmdline(buf, len);
	free(buf);
	buf = NULL;
	for (size_t i = 0; params[i]; i++) {
		const char *want;
		char *key = grub_param_split(params[i], &want), *nv = NULL, *rv = NULL, *gv = NULL;

		if (!key)
			continue;
		if (!has_param(next, key, want, &nv))
			strv_push(&lines, util_sprintf("%s is not in %s%s (isoctl boot apply %s writes it)", params[i],
						       next_file ? next_file : "the boot loader's configuration",
						       nv ? " with this value" : "", w->mode));
		else if (generated && !has_param(generated, key, want, &gv))
			strv_push(&lines, util_sprintf("%s is in %s but not in %s yet: run %s", params[i], next_file,
						       b.generated, b.then));
		else if (!has_param(running, key, want, &rv)) {
			reboot = true;
			if (rv)
				strv_push(&lines,
					  util_sprintf("%s is set for the next boot; the running kernel has %s=%s",
						       params[i], key, rv));
			else
				strv_push(&lines,
					  util_sprintf("%s is set for the next boot; the running kernel has no %s",
						       params[i], key));
		}
		/* What the kernel made of it. */
		free(rv);
		if (has_param(running, key, want, &rv) && want) {
			const char *file = !strcmp(key, "isolcpus")    ? "sys/devices/system/cpu/isolated"
					   : !strcmp(key, "nohz_full") ? "sys/devices/system/cpu/nohz_full"
								       : NULL;
			const char *list = want;
			char *now = NULL;

			if (!strcmp(key, "isolcpus"))
				while (!strncmp(list, "nohz,", 5) || !strncmp(list, "domain,", 7) ||
				       !strncmp(list, "managed_irq,", 12))
					list = strchr(list, ',') + 1;
			if (file && !cpus_file_is(h, file, list, &now))
				strv_push(&lines, util_sprintf("/%s reads \"%s\" though the kernel was booted with %s",
							       file, now, params[i]));
			free(now);
		}
		free(rv);
		free(nv);
		free(gv);
		free(key);
	}
	if (w->systemd_affinity) {
		char *want = NULL, *st = NULL, *now = NULL;

		if (cpuset_format_list(w->systemd_affinity, &want) == 0 &&
		    !written(h, BOOT_SYSTEMD, "CPUAffinity=", want))
			strv_push(&lines, util_sprintf("CPUAffinity=%s is not in %s (isoctl boot apply %s writes it)",
						       want, artifacts[BOOT_SYSTEMD].path, w->mode));
		else if (want && host_read(h, "proc/1/task/1/status", &st, &len) == 0) {
			char *l = strstr(st, "\nCpus_allowed_list:");

			if (l) {
				l += strlen("\nCpus_allowed_list:");
				now = strndup(l, strcspn(l, "\n"));
				if (now)
					util_strip(now);
			}
			if (now) {
				struct cpuset a = CPUSET_INIT;
				char e[64];

				if (cpuset_parse_list(now, &a, e, sizeof(e)) == 0 &&
				    !cpuset_equal(&a, w->systemd_affinity)) {
					reboot = true;
					strv_push(&lines, util_sprintf(
							      "systemd (PID 1) runs on CPUs %s, CPUAffinity= wants %s: "
							      "in effect after a reboot (or systemctl daemon-reexec)",
							      now, want));
				}
				cpuset_free(&a);
			}
		}
		free(want);
		free(st);
		free(now);
	}
	for (size_t i = 0; w->modprobe && w->modprobe[i]; i++) {
		char **tok = NULL;

		if (!written(h, BOOT_MODPROBE, "options ", w->modprobe[i])) {
			strv_push(&lines, util_sprintf("options %s is not in %s (isoctl boot apply %s writes it)",
						       w->modprobe[i], artifacts[BOOT_MODPROBE].path, w->mode));
			continue;
		}
		if (strv_split_quoted(w->modprobe[i], &tok, NULL, 0) < 0 || !tok || !tok[0]) {
			strv_free(tok);
			continue;
		}
		for (char *c = tok[0]; *c; c++)
			if (*c == '-')
				*c = '_';
		for (size_t k = 1; tok[k]; k++) {
			const char *want;
			char *key = grub_param_split(tok[k], &want), *now = NULL, rel[512];

			if (key && want &&
			    (size_t)snprintf(rel, sizeof(rel), "sys/module/%s/parameters/%s", tok[0], key) <
				sizeof(rel) &&
			    host_read(h, rel, &now, &len) == 0) {
				util_strip(now);
				if (!bool_param_equal(now, want)) {
					reboot = true;
					strv_push(&lines,
						  util_sprintf(
						      "%s.%s is %s, %s wants %s: in effect when %s is loaded again "
						      "(or after a reboot)",
						      tok[0], key, now, artifacts[BOOT_MODPROBE].path, want, tok[0]));
				}
			}
			free(now);
			free(key);
		}
		strv_free(tok);
	}
	boot_host_done(&b);
	free(next);
	free(running);
	free(generated);
	strv_free(params);
	*ret_lines = lines;
	*ret_reboot = reboot;
	return 0;
}
