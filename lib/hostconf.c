/* host.conf: the site variables policies refer to as ${name} (which CPUs are
 * RT, which NIC, which VM), expanded recursively and checked. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/conf.h"
#include "isolated/policy.h"
#include "isolated/trust.h"

enum var_state {
	VAR_UNSEEN,
	VAR_ACTIVE, /* being expanded: meeting it again is a cycle */
	VAR_DONE,
	VAR_FAILED, /* reported */
};

struct hvar {
	char *name;
	char *raw;	 /* as written; NULL for built-ins */
	char *value;	 /* expanded */
	char *where;	 /* file, or the "name=value" assignment for --set */
	unsigned line;	 /* 0 for --set */
	bool is_default; /* housekeeping_cpus computed from online_cpus and rt_cpus */
	enum var_state state;
};

/* How deep ${a} -> ${b} -> ... may go. Each level is a few stack frames: a
 * chain of 20000 variables (a valid 360 KB file) overflowed the stack. */
#define HOSTCONF_MAX_DEPTH 32

struct hctx {
	struct hvar *vars;
	size_t n;
	struct hvar **stack; /* expansion in progress, for naming cycles */
	size_t depth;
	bool too_deep_reported;
	const struct cpuset *online;
	unsigned n_errors;
	struct diag *d;
	size_t budget; /* CONF_MAX_EXPANDED minus what is expanded so far */
	int r;	       /* -ENOMEM */
};

static struct hvar *find_var(struct hctx *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->vars[i].name, name) == 0)
			return &h->vars[i];
	return NULL;
}

static int add_var(struct hctx *h, const char *name, const char *raw, const char *where, unsigned line)
{
	struct hvar *v = realloc(h->vars, (h->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	h->vars = v;
	v = &v[h->n];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	v->raw = raw ? strdup(raw) : NULL;
	v->where = where ? strdup(where) : NULL;
	v->line = line;
	h->n++;
	if (!v->name || (raw && !v->raw) || (where && !v->where))
		return -ENOMEM;
	return 0;
}

static void hctx_free(struct hctx *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->vars[i].name);
		free(h->vars[i].raw);
		free(h->vars[i].value);
		free(h->vars[i].where);
	}
	free(h->vars);
	free(h->stack);
}

#define HERR(h, v, ...) conf_error(&(h)->n_errors, (h)->d, (v)->where, (v)->line, __VA_ARGS__)

/* Check and record one "name = value" of the file or of --set. */
static int define(struct hctx *h, const char *name, const char *raw, const char *where, unsigned line)
{
	struct hvar *prev;
	struct hvar loc = {.where = (char *)where, .line = line};

	if (!conf_valid_var_name(name)) {
		HERR(h, &loc, "invalid variable name \"%s\" (allowed: a-z 0-9 _, not starting with a digit)", name);
		return 0;
	}
	if (strcmp(name, "online_cpus") == 0) {
		HERR(h, &loc, "online_cpus is built in and cannot be set");
		return 0;
	}
	prev = find_var(h, name);
	if (prev) {
		if (prev->line)
			HERR(h, &loc, "duplicate variable \"%s\" (first at line %u)", name, prev->line);
		else
			HERR(h, &loc, "duplicate variable \"%s\"", name);
		return 0;
	}
	return add_var(h, name, raw, where, line);
}

static int expand_var(struct hctx *h, struct hvar *v);

static const char *host_lookup(void *userdata, const char *name, char *err, size_t errlen, int *ret_r)
{
	struct hctx *h = userdata;
	struct hvar *v = find_var(h, name);
	int r;

	if (!v) {
		snprintf(err, errlen, "unknown variable ${%s}", name);
		*ret_r = -EINVAL;
		return NULL;
	}
	switch (v->state) {
	case VAR_DONE:
		return v->value;
	case VAR_FAILED:
		*ret_r = -ECANCELED;
		return NULL;
	case VAR_ACTIVE: {
		size_t i = 0, len = 0;

		while (i < h->depth && h->stack[i] != v)
			i++;
		len = (size_t)snprintf(err, errlen, "recursive variable reference: ");
		for (; i < h->depth && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, "%s -> ", h->stack[i]->name);
		if (len < errlen)
			snprintf(err + len, errlen - len, "%s", name);
		*ret_r = -EINVAL;
		return NULL;
	}
	case VAR_UNSEEN:
		break;
	}
	if (h->depth >= HOSTCONF_MAX_DEPTH) {
		/* Said once, at the variable that goes one level too far; the
		 * ones that lead there fail quietly (ECANCELED). */
		if (h->too_deep_reported) {
			*ret_r = -ECANCELED;
		} else {
			snprintf(err, errlen, "variable references nested deeper than %d levels (at ${%s})",
				 HOSTCONF_MAX_DEPTH, name);
			h->too_deep_reported = true;
			*ret_r = -EINVAL;
		}
		return NULL;
	}
	r = expand_var(h, v);
	if (r < 0) {
		*ret_r = r == -ENOMEM ? -ENOMEM : -ECANCELED;
		return NULL;
	}
	return v->value;
}

/* housekeeping_cpus when host.conf does not set it: online minus rt_cpus. */
static int default_housekeeping(struct hctx *h, char **ret)
{
	struct hvar *rt = find_var(h, "rt_cpus");
	struct cpuset rtset = CPUSET_INIT, hk = CPUSET_INIT;
	const char *rtval = "";
	char err[512];
	int r = 0;

	if (rt) {
		rtval = host_lookup(h, "rt_cpus", err, sizeof(err), &r);
		if (!rtval) {
			if (r == -EINVAL) /* a cycle through us: name it at rt_cpus */
				HERR(h, rt, "%s", err);
			return r == -ENOMEM ? r : -ECANCELED;
		}
	}
	if (cpuset_parse_list(rtval, &rtset, err, sizeof(err)) < 0)
		return -ECANCELED; /* reported at rt_cpus */
	r = cpuset_andnot(&hk, h->online, &rtset);
	if (r == 0)
		r = cpuset_format_list(&hk, ret);
	cpuset_free(&rtset);
	cpuset_free(&hk);
	return r;
}

static int expand_var(struct hctx *h, struct hvar *v)
{
	char err[512], *out = NULL;
	int r;

	v->state = VAR_ACTIVE;
	h->stack[h->depth++] = v;
	if (v->is_default) {
		r = default_housekeeping(h, &out);
	} else {
		r = conf_expand(v->raw, host_lookup, h, &h->budget, &out, err, sizeof(err));
		if (r == -EINVAL)
			HERR(h, v, "%s", err);
	}
	h->depth--;
	if (r < 0) {
		v->state = VAR_FAILED;
		if (r == -ENOMEM)
			h->r = r;
		return r == -ENOMEM ? r : -ECANCELED;
	}
	v->value = out;
	v->state = VAR_DONE;
	return 0;
}

/* A cpu list variable must name online cpus. */
static void check_cpus(struct hctx *h, struct hvar *v)
{
	struct cpuset set = CPUSET_INIT, off = CPUSET_INIT;
	char err[512];

	if (v->state != VAR_DONE || v->is_default || !*v->value)
		return;
	if (cpuset_parse_list(v->value, &set, err, sizeof(err)) < 0) {
		HERR(h, v, "invalid cpu list: %s", err);
		return;
	}
	if (cpuset_andnot(&off, &set, h->online) < 0) {
		h->r = -ENOMEM;
	} else if (!cpuset_empty(&off)) {
		char *o = NULL, *on = NULL;

		if (cpuset_format_list(&off, &o) < 0 || cpuset_format_list(h->online, &on) < 0)
			h->r = -ENOMEM;
		else
			HERR(h, v, "%s %s %s not online (online: %s)", cpuset_count(&off) == 1 ? "cpu" : "cpus", o,
			     cpuset_count(&off) == 1 ? "is" : "are", on);
		free(o);
		free(on);
	}
	cpuset_free(&set);
	cpuset_free(&off);
}

/* A CPU is real-time or housekeeping, not both: with an explicit
 * housekeeping_cpus that includes rt_cpus, a dedicated mode would put the
 * RT work on housekeeping CPUs (refused at every rule that uses the two) and
 * an rt-only mode would take it silently. */
static void check_overlap(struct hctx *h, const struct hvar *rt, const struct hvar *hk)
{
	struct cpuset rs = CPUSET_INIT, hs = CPUSET_INIT, both = CPUSET_INIT;
	char err[256], *o = NULL;

	if (!rt || rt->state != VAR_DONE || !*rt->value || hk->state != VAR_DONE || hk->is_default ||
	    !*hk->value)
		return;
	if (cpuset_parse_list(rt->value, &rs, err, sizeof(err)) == 0 &&
	    cpuset_parse_list(hk->value, &hs, err, sizeof(err)) == 0) {
		if (cpuset_and(&both, &rs, &hs) < 0) {
			h->r = -ENOMEM;
		} else if (!cpuset_empty(&both)) {
			if (cpuset_format_list(&both, &o) < 0)
				h->r = -ENOMEM;
			else
				HERR(h, hk, "housekeeping_cpus %s overlap rt_cpus %s (%s %s): a CPU is real-time or "
					    "housekeeping, not both",
				     hk->value, rt->value, cpuset_count(&both) == 1 ? "cpu" : "cpus", o);
			free(o);
		}
	}
	cpuset_free(&rs);
	cpuset_free(&hs);
	cpuset_free(&both);
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	/* the kernel's dev_valid_name() */
	if (len >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static void check_vars(struct hctx *h)
{
	struct hvar *v;
	char err[512];
	long prio;

	if ((v = find_var(h, "rt_cpus")))
		check_cpus(h, v);
	if ((v = find_var(h, "housekeeping_cpus"))) {
		check_cpus(h, v);
		check_overlap(h, find_var(h, "rt_cpus"), v);
	}
	v = find_var(h, "rt_vcpus");
	if (v && v->state == VAR_DONE && *v->value) {
		struct cpuset set = CPUSET_INIT;

		if (cpuset_parse_list(v->value, &set, err, sizeof(err)) < 0)
			HERR(h, v, "invalid vcpu list: %s", err);
		cpuset_free(&set);
	}
	v = find_var(h, "rtnet_prio");
	if (v && v->state == VAR_DONE && *v->value) {
		int r = util_parse_long(v->value, 1, 99, &prio);

		if (r == -EINVAL)
			HERR(h, v, "rtnet_prio \"%s\" is not an integer", v->value);
		else if (r < 0)
			HERR(h, v, "priority %s out of range 1..99", v->value);
	}
	v = find_var(h, "rt_nic");
	if (v && v->state == VAR_DONE && *v->value && !valid_ifname(v->value))
		HERR(h, v, "invalid interface name \"%s\"", v->value);
}

/* Expand everything, check, and hand out a struct hostconf. */
static int finish(struct hctx *h, const char *file, struct hostconf **ret)
{
	struct hostconf *hc;
	char *online = NULL;
	int r;

	r = cpuset_format_list(h->online, &online);
	if (r < 0)
		return r;
	r = add_var(h, "online_cpus", NULL, NULL, 0);
	if (r < 0) {
		free(online);
		return r;
	}
	h->vars[h->n - 1].value = online;
	h->vars[h->n - 1].state = VAR_DONE;
	if (!find_var(h, "housekeeping_cpus")) {
		r = add_var(h, "housekeeping_cpus", NULL, NULL, 0);
		if (r < 0)
			return r;
		h->vars[h->n - 1].is_default = true;
	}
	/* The RT service that is not a VM: none unless host.conf names one
	 * (the shipped modes' [thread rt-process] then selects nothing). */
	if (!find_var(h, "rt_process") && (r = add_var(h, "rt_process", "", NULL, 0)) < 0)
		return r;
	h->stack = calloc(h->n + 1, sizeof(*h->stack));
	if (!h->stack)
		return -ENOMEM;
	for (size_t i = 0; i < h->n && h->r == 0; i++)
		if (h->vars[i].state == VAR_UNSEEN)
			expand_var(h, &h->vars[i]);
	if (h->r == 0)
		check_vars(h);
	if (h->r < 0)
		return h->r;
	if (h->n_errors)
		return -EINVAL;

	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	hc->vars = calloc(h->n, sizeof(*hc->vars));
	hc->file = file ? strdup(file) : NULL;
	if (!hc->vars || (file && !hc->file)) {
		hostconf_free(hc);
		return -ENOMEM;
	}
	/* Built-ins first, then the site's variables in file order. */
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < h->n; i++) {
			struct hvar *v = &h->vars[i];
			struct var *out;

			if ((pass == 0) != (v->raw == NULL))
				continue;
			out = &hc->vars[hc->n_vars++];
			out->name = v->name, v->name = NULL;
			out->value = v->value, v->value = NULL;
			out->file = v->raw ? v->where : NULL;
			if (v->raw)
				v->where = NULL;
			out->line = v->line;
		}
	*ret = hc;
	return 0;
}

int hostconf_load(const char *path, const struct cpuset *online, struct hostconf **ret, struct diag *d)
{
	struct hctx h = {.online = online, .d = d, .budget = CONF_MAX_EXPANDED};
	struct conf_doc doc;
	size_t first = d ? d->n : 0;
	int r;

	if (!path || !online || !ret)
		return -EINVAL;
	r = conf_parse_file(path, TRUST_PUBLIC, &doc, d);
	if (r < 0)
		return r;
	h.n_errors = doc.n_errors;
	for (size_t i = 0; i < doc.n_sections && r == 0; i++) {
		const struct conf_section *sec = &doc.sections[i];

		if (sec->broken)
			continue;
		if (sec->header && strcmp(sec->header, "host") != 0) {
			conf_error(&h.n_errors, d, path, sec->line, "unknown section [%s] (host.conf has only [host])",
				   sec->header);
			continue;
		}
		for (size_t j = 0; j < sec->n_entries && r == 0; j++)
			r = define(&h, sec->entries[j].key, sec->entries[j].value, path, sec->entries[j].line);
	}
	conf_doc_free(&doc);
	if (r == 0)
		r = finish(&h, path, ret);
	hctx_free(&h);
	conf_sort_diag(d, first, path);
	return r;
}

int hostconf_from_strv(char *const *assignments, const struct cpuset *online, struct hostconf **ret, struct diag *d)
{
	struct hctx h = {.online = online, .d = d, .budget = CONF_MAX_EXPANDED};
	int r = 0;

	if (!online || !ret)
		return -EINVAL;
	for (size_t i = 0; assignments && assignments[i] && r == 0; i++) {
		const char *a = assignments[i], *eq = strchr(a, '=');
		char *name, *value;

		if (!eq) {
			conf_error(&h.n_errors, d, a, 0, "expected NAME=VALUE");
			continue;
		}
		name = strndup(a, (size_t)(eq - a));
		value = strdup(eq + 1);
		if (!name || !value) {
			free(name);
			free(value);
			r = -ENOMEM;
			break;
		}
		r = define(&h, util_strip(name), util_strip(value), a, 0);
		free(name);
		free(value);
	}
	if (r == 0)
		r = finish(&h, NULL, ret);
	hctx_free(&h);
	return r;
}

void hostconf_free(struct hostconf *hc)
{
	if (!hc)
		return;
	for (size_t i = 0; i < hc->n_vars; i++) {
		free(hc->vars[i].name);
		free(hc->vars[i].value);
		free(hc->vars[i].file);
	}
	free(hc->vars);
	free(hc->file);
	free(hc);
}

const char *hostconf_get(const struct hostconf *hc, const char *name)
{
	if (!hc || !name)
		return NULL;
	for (size_t i = 0; i < hc->n_vars; i++)
		if (strcmp(hc->vars[i].name, name) == 0)
			return hc->vars[i].value;
	return NULL;
}
