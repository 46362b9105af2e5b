/* irqbalance's defaults file: read the banned CPUs and IRQs, set them with
 * the careful edit of grub.c, and put the original back. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-internal.h"
#include "isolated/action.h"
#include "isolated/cpuset.h"
#include "isolated/grub.h"
#include "isolated/irqbalance.h"
#include "isolated/path.h"
#include "isolated/procfmt.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"

const char *const irqbalance_files[] = {"etc/default/irqbalance", "etc/sysconfig/irqbalance", NULL};

bool irqbalance_target_valid(const char *target)
{
	return target && (strcmp(target, IRQBALANCE_TARGET_CPUS) == 0 || strcmp(target, IRQBALANCE_TARGET_IRQS) == 0);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* An IRQ number of n characters at s: 1 with *ret, -EINVAL when it is none. */
static int irq_number(const char *s, size_t n, long *ret)
{
	char num[32];

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	return util_parse_long(num, 0, CPUSET_MAX_CPUS - 1, ret) < 0 ? -EINVAL : 1;
}

/* The IRQ a word of IRQBALANCE_ARGS bans: 1 with *ret_irq, 0 for a word
 * that bans none; with *ret_takes_next for "--banirq" and "-i", whose
 * number is the next word. -EINVAL for a number that is not one. */
static int banirq_word(const char *w, size_t n, bool *ret_takes_next, long *ret_irq)
{
	*ret_takes_next = (n == 8 && memcmp(w, "--banirq", 8) == 0) || (n == 2 && memcmp(w, "-i", 2) == 0);
	if (*ret_takes_next)
		return 0;
	if (n >= 9 && memcmp(w, "--banirq=", 9) == 0)
		return irq_number(w + 9, n - 9, ret_irq);
	if (n > 2 && memcmp(w, "-i", 2) == 0)
		return irq_number(w + 2, n - 2, ret_irq);
	return 0;
}

/* The words of args: each ban into *banned (may be NULL); with keep, the
 * words that are not a ban of an IRQ outside keep_set appended to *out. */
static int scan_args(const char *args, struct cpuset *banned, const struct cpuset *keep_set, struct sbuf *out,
		     char *err, size_t errlen)
{
	const char *p = args;

	while (*p) {
		const char *w;
		size_t n;
		bool takes_next;
		long irq;
		int r;

		while (is_ws(*p))
			p++;
		if (!*p)
			break;
		w = p;
		p += strcspn(p, " \t\n");
		r = banirq_word(w, (size_t)(p - w), &takes_next, &irq);
		if (r == 0 && takes_next) {
			const char *w2;

			while (is_ws(*p))
				p++;
			w2 = p;
			p += strcspn(p, " \t\n");
			r = irq_number(w2, (size_t)(p - w2), &irq);
		}
		/* The word, and its number when that is the next one. */
		n = (size_t)(p - w);
		if (r < 0) {
			util_set_err(err, errlen, IRQBALANCE_VAR_ARGS " has a --banirq without an IRQ number: \"%.*s\"",
				     (int)n, w);
			return -EINVAL;
		}
		if (r == 1 && banned && cpuset_set(banned, (unsigned)irq) < 0)
			return -ENOMEM;
		if (out && !(r == 1 && !cpuset_isset(keep_set, (unsigned)irq))) {
			if (out->len)
				sbuf_addc(out, ' ');
			sbuf_add(out, w, n);
		}
	}
	return 0;
}

static const char *const vars[] = {IRQBALANCE_VAR_CPULIST, IRQBALANCE_VAR_CPUMASK, IRQBALANCE_VAR_ARGS, NULL};

/* The three variables of a file. -EINVAL with a message. */
static int read_vars(const char *buf, size_t len, char *v[3], char *err, size_t errlen)
{
	int r = procfmt_parse_shell(buf, len, (const char *const *)vars, v);

	if (r == -EINVAL || r == -E2BIG) {
		util_set_err(err, errlen, "%s", r == -EINVAL ? "an unterminated quote" : "a value too long");
		return -EINVAL;
	}
	return r;
}

static void vars_free(char *v[3])
{
	for (size_t i = 0; i < 3; i++)
		free(v[i]);
}

int irqbalance_value(const char *buf, size_t len, const char *target, char **ret, char *err, size_t errlen)
{
	struct cpuset set = CPUSET_INIT;
	char *v[3] = {NULL, NULL, NULL}, msg[160], *out = NULL;
	int r;

	if (!irqbalance_target_valid(target))
		return -EINVAL;
	r = read_vars(buf, len, v, err, errlen);
	if (r < 0)
		return r;
	if (strcmp(target, IRQBALANCE_TARGET_CPUS) == 0) {
		if (v[1] && *v[1]) {
			util_set_err(err, errlen,
				     "it sets " IRQBALANCE_VAR_CPUMASK " (a mask irqbalance 1.8 deprecated): replace it "
				     "with " IRQBALANCE_VAR_CPULIST);
			r = -EINVAL;
		} else if (v[0] && (r = cpuset_parse_list(v[0], &set, msg, sizeof(msg))) < 0) {
			if (r != -ENOMEM)
				util_set_err(err, errlen, IRQBALANCE_VAR_CPULIST " is not a CPU list: %s", msg);
		}
	} else if (v[2])
		r = scan_args(v[2], &set, NULL, NULL, err, errlen);
	if (r >= 0) {
		out = action_cpus_format(&set);
		r = out ? 0 : -ENOMEM;
	}
	if (r == 0)
		*ret = out;
	cpuset_free(&set);
	vars_free(v);
	return r;
}

int irqbalance_edit(const char *buf, size_t len, const char *target, const char *value, char **ret, size_t *ret_len,
		    char *err, size_t errlen)
{
	struct cpuset want = CPUSET_INIT, have = CPUSET_INIT;
	char *v[3] = {NULL, NULL, NULL}, msg[160], *text = NULL;
	const char *name;
	struct sbuf b = {0};
	int r;

	if (!irqbalance_target_valid(target))
		return -EINVAL;
	r = cpuset_parse_list(value, &want, msg, sizeof(msg));
	if (r < 0) {
		util_set_err(err, errlen, "\"%s\" is not a list: %s", value, msg);
		goto out;
	}
	r = read_vars(buf, len, v, err, errlen);
	if (r < 0)
		goto out;
	if (strcmp(target, IRQBALANCE_TARGET_CPUS) == 0) {
		name = IRQBALANCE_VAR_CPULIST;
		text = action_cpus_format(&want);
		if (!v[0] && text && !*text)
			goto same;
		/* The same set written another way ("6,7"): the text stays. */
		if (text && v[0] && cpuset_parse_list(v[0], &have, msg, sizeof(msg)) == 0 &&
		    cpuset_equal(&have, &want)) {
			free(text);
			text = strdup(v[0]);
		}
	} else {
		name = IRQBALANCE_VAR_ARGS;
		r = scan_args(v[2] ? v[2] : "", &have, &want, &b, err, errlen);
		if (r < 0)
			goto out;
		for (int i = cpuset_next(&want, -1); i >= 0; i = cpuset_next(&want, i)) {
			char word[32];

			if (cpuset_isset(&have, (unsigned)i))
				continue;
			snprintf(word, sizeof(word), "%s--banirq=%d", b.len ? " " : "", i);
			sbuf_adds(&b, word);
		}
		text = sbuf_take(&b);
		if (text && !v[2] && !*text)
			goto same;
		/* Nothing to remove or add: the value as written stays. */
		if (text && v[2] && cpuset_equal(&have, &want)) {
			free(text);
			text = strdup(v[2]);
		}
	}
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = defaults_assign(buf, len, name, text, ret, ret_len, err, errlen);
	goto out;
same:
	*ret = malloc(len + 1);
	if (!*ret) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*ret, buf, len);
	(*ret)[len] = '\0';
	*ret_len = len;
	r = 0;
out:
	free(text);
	free(b.s);
	vars_free(v);
	cpuset_free(&want);
	cpuset_free(&have);
	return r;
}

const struct host_file *irqbalance_state_file(const struct host_state *s, bool original)
{
	const struct host_file *f = original ? host_state_file(s, IRQBALANCE_BACKUP_PATH) : NULL;

	if (f && f->value)
		return f;
	for (size_t i = 0; irqbalance_files[i]; i++)
		if ((f = host_state_file(s, irqbalance_files[i])) && f->value)
			return f;
	return NULL;
}

int irqbalance_find(const struct host *h, const char **ret_path)
{
	struct stat st;

	for (size_t i = 0; irqbalance_files[i]; i++) {
		int r = host_lstat(h, irqbalance_files[i], &st);

		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		*ret_path = irqbalance_files[i];
		return 0;
	}
	return -ENOENT;
}

/* buf without the lines that assign one of our variables: what must be
 * the same in the file and the backup for the backup to go back whole. */
static char *other_lines(const char *buf, size_t len)
{
	static const char *const ours[] = {IRQBALANCE_VAR_CPULIST, IRQBALANCE_VAR_ARGS};
	struct sbuf b = {0};
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len, p = i;
		bool mine = false;

		while (p < end && (buf[p] == ' ' || buf[p] == '\t'))
			p++;
		if (end - p > 7 && memcmp(buf + p, "export ", 7) == 0)
			p += 7;
		for (size_t k = 0; k < ARRAY_SIZE(ours); k++) {
			size_t n = strlen(ours[k]);

			if (end - p > n && memcmp(buf + p, ours[k], n) == 0 && buf[p + n] == '=')
				mine = true;
		}
		if (!mine)
			sbuf_add(&b, buf + i, end - i);
		i = end;
	}
	return sbuf_take(&b);
}

/* Do a and b hold the same values of both targets? */
static int same_values(const char *a, size_t alen, const char *b, size_t blen, bool *ret, char *err, size_t errlen)
{
	static const char *const targets[] = {IRQBALANCE_TARGET_CPUS, IRQBALANCE_TARGET_IRQS};

	*ret = true;
	for (size_t k = 0; k < ARRAY_SIZE(targets) && *ret; k++) {
		char *x = NULL, *y = NULL;
		int r = irqbalance_value(a, alen, targets[k], &x, err, errlen);

		if (r >= 0)
			r = irqbalance_value(b, blen, targets[k], &y, err, errlen);
		if (r >= 0)
			*ret = action_value_equal(ACTION_IRQBALANCE, x, y);
		free(x);
		free(y);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The values of file (its bytes now, or new, the edit about to be
 * written) are the backup's: the backup's own bytes go back if only the
 * lines of our variables differ; otherwise new is written (when it is
 * not the file already), keeping what someone else edited. Then the
 * backup goes. */
static int put_back(const struct host *h, const char *path, const char *cur, size_t clen, const char *new, size_t nlen,
		    const char *bak, size_t blen, char *err, size_t errlen)
{
	char *o1 = other_lines(new, nlen), *o2 = other_lines(bak, blen);
	bool made;
	int r;

	if (!o1 || !o2)
		r = -ENOMEM;
	else if (strcmp(o1, o2) == 0)
		r = defaults_restore(h, path, IRQBALANCE_BACKUP, NULL, err, errlen);
	else {
		r = nlen == clen && memcmp(new, cur, clen) == 0
			? 0
			: defaults_write(h, path, IRQBALANCE_BACKUP, cur, clen, new, nlen, NULL, &made, err, errlen);
		if (r >= 0)
			r = defaults_drop_backup(h, IRQBALANCE_BACKUP, err, errlen);
	}
	free(o1);
	free(o2);
	return r;
}

void irqbalance_settle(const struct host *h)
{
	char *cur = NULL, *bak = NULL, why[512];
	size_t clen, blen;
	const char *path;
	bool back;

	for (size_t i = 0; irqbalance_files[i]; i++)
		defaults_tidy(h, irqbalance_files[i], IRQBALANCE_BACKUP);
	if (irqbalance_find(h, &path) < 0 || host_read(h, path, &cur, &clen) < 0 ||
	    host_read(h, IRQBALANCE_BACKUP_PATH, &bak, &blen) < 0 ||
	    same_values(cur, clen, bak, blen, &back, why, sizeof(why)) < 0 || !back)
		goto out;
	/* The values are the original ones, the backup outlived its revert. */
	(void)put_back(h, path, cur, clen, cur, clen, bak, blen, why, sizeof(why));
out:
	free(cur);
	free(bak);
}

int irqbalance_write(const struct host *h, const char *target, const char *value, char *err, size_t errlen)
{
	char *cur = NULL, *bak = NULL, *nbuf = NULL, why[512];
	size_t clen, blen = 0, nlen;
	const char *path;
	bool made, back;
	int r;

	r = irqbalance_find(h, &path);
	if (r < 0) {
		util_set_err(err, errlen, "no %s or %s", irqbalance_files[0], irqbalance_files[1]);
		return r;
	}
	r = host_read(h, path, &cur, &clen);
	if (r < 0) {
		util_set_err(err, errlen, "reading %s: %s", path, path_strerror(-r));
		return r;
	}
	r = irqbalance_edit(cur, clen, target, value, &nbuf, &nlen, why, sizeof(why));
	if (r < 0) {
		util_set_err(err, errlen, "%s: %s", path, why);
		goto out;
	}
	r = host_read(h, IRQBALANCE_BACKUP_PATH, &bak, &blen);
	if (r < 0 && r != -ENOENT) {
		util_set_err(err, errlen, "reading %s: %s", IRQBALANCE_BACKUP_PATH, path_strerror(-r));
		goto out;
	}
	if (r == 0) {
		r = same_values(nbuf, nlen, bak, blen, &back, why, sizeof(why));
		if (r < 0) {
			util_set_err(err, errlen, "%s: %s", IRQBALANCE_BACKUP_PATH, why);
			goto out;
		}
		if (back) {
			r = put_back(h, path, cur, clen, nbuf, nlen, bak, blen, err, errlen);
			goto out;
		}
	}
	if (nlen == clen && memcmp(nbuf, cur, clen) == 0) {
		r = 0;
		goto out;
	}
	r = defaults_write(h, path, IRQBALANCE_BACKUP, cur, clen, nbuf, nlen, NULL, &made, err, errlen);
out:
	free(cur);
	free(bak);
	free(nbuf);
	return r < 0 ? r : 0;
}
