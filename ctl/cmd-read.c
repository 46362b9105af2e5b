/* isoctl's read-only views: list, show, plan, status, verify, snapshot. Each
 * prints a table for people or, with --json, one JSON document for scripts;
 * list, plan, status and verify ask the daemon when it is there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/metrics.h"
#include "isolated/action.h"
#include "isolated/apply.h"
#include "isolated/conf.h"
#include "isolated/dump.h"
#include "isolated/needs.h"
#include "isolated/report.h"
#include "isolated/trust.h"
#include "isoctl.h"

static int want_args(int argc, int n, const char *usage)
{
	if (argc != n) {
		err_msg("usage: isoctl %s", usage);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* ---- list ---- */

int cmd_list(struct ctx *c, int argc, char **argv)
{
	int r;

	(void)argv;
	if ((r = want_args(argc, 0, "list")) != EXIT_OK)
		return r;
	if (c->bus) {
		json_object *doc = NULL;

		if ((r = client_call(c, "ListModes", &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_MODES, doc);
	}
	if ((r = ctx_load_config(c)) != EXIT_OK)
		return r;
	return render(c, DOC_MODES, report_modes(c->policy_dirs, c->hc, &c->online));
}

/* ---- show ---- */

static const char *req_names(unsigned req, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", req & POLICY_REQ_PREEMPT_RT ? "preempt-rt" : "",
		 (req & POLICY_REQ_PREEMPT_RT) && (req & POLICY_REQ_RTNET) ? " " : "",
		 req & POLICY_REQ_RTNET ? "rtnet" : "");
	return buf;
}

static char *joined(char *const *v)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && v && v[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
	}
	return s;
}

static json_object *rule_json(const struct rule *r)
{
	json_object *o = json_object_new_object();
	char buf[32];

	json_object_object_add(o, "name", json_str(r->name));
	json_object_object_add(o, "match", json_str(r->match_text));
	if (r->has_cpus)
		json_object_object_add(o, "cpus", json_str(r->cpus_text));
	if (r->sched.kind != SCHED_KIND_UNSET)
		json_object_object_add(o, "sched", json_str(policy_sched_format(&r->sched, buf, sizeof(buf))));
	if (r->thread.kind != SCHED_KIND_UNSET)
		json_object_object_add(o, "thread", json_str(policy_sched_format(&r->thread, buf, sizeof(buf))));
	return o;
}

/* A CPU set as the policy language writes it; NULL (null) without memory. */
static json_object *cpus_json(const struct cpuset *s)
{
	char *t = action_cpus_format(s);
	json_object *o = t ? json_str(t) : NULL;

	free(t);
	return o;
}

/* The boot-time sections: [systemd] cpu_affinity, and [modprobe] as
 * MODULE: "PARAM PARAM", in the file's order. */
static void boot_json(json_object *o, const struct policy *p)
{
	json_object *systemd = json_object_new_object(), *modprobe = json_object_new_object();

	if (p->has_systemd_affinity)
		json_object_object_add(systemd, "cpu_affinity", cpus_json(&p->systemd_affinity));
	json_object_object_add(o, "systemd", systemd);
	for (size_t i = 0; i < p->n_modprobe; i++) {
		char *params = joined(p->modprobe[i].params);

		json_object_object_add(modprobe, p->modprobe[i].module, json_str(params));
		free(params);
	}
	json_object_object_add(o, "modprobe", modprobe);
}

/* [sysfs] as the policy resolves it: a key with cpu${rt_cpus} is one
 * attribute per CPU, each with the line it comes from. */
static json_object *sysfs_json(const struct policy *p)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < p->n_sysfs; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_str(p->sysfs[i].path));
		json_object_object_add(o, "value", json_str(p->sysfs[i].value));
		json_object_object_add(o, "line", json_object_new_int64(p->sysfs[i].line));
		json_object_array_add(a, o);
	}
	return a;
}

static void why_add(json_object *why, const char *section, const char *key, const char *comment)
{
	char *name;

	if (!comment)
		return;
	name = key ? util_sprintf("%s %s", section, key) : strdup(section);
	if (name)
		json_object_object_add(why, name, json_str(comment));
	free(name);
}

/* Why each value is what it is: the comment above each header and key of
 * the policy file (conf keeps them), by "SECTION" and "SECTION KEY" as
 * show prints them ("irq rt-nic", "sysctl vm.stat_interval"); a [sysfs]
 * key by each path it expands to, as the policy's sysfs are. The policy is
 * loaded and valid already: this reads the file again for its comments
 * only, and without them (the file gone since) show shows the values. */
static json_object *why_json(const struct policy *p)
{
	json_object *why = json_object_new_object();
	struct conf_doc doc;
	struct diag d = {0};

	if (conf_parse_file(p->file, TRUST_PUBLIC, &doc, &d) < 0) {
		print_diag(&d);
		diag_free(&d);
		err_msg("the comments of %s are not shown", p->file);
		return why;
	}
	diag_free(&d);
	for (size_t i = 0; i < doc.n_sections; i++) {
		const struct conf_section *sec = &doc.sections[i];
		size_t klen;
		const char *rest;
		char *section;

		if (!sec->header || sec->broken)
			continue;
		/* "irq  rt-nic" is the rule rt-nic, shown as "[irq rt-nic]". */
		klen = strcspn(sec->header, " \t");
		for (rest = sec->header + klen; *rest == ' ' || *rest == '\t'; rest++)
			;
		section = *rest ? util_sprintf("%.*s %s", (int)klen, sec->header, rest) : strdup(sec->header);
		if (!section)
			continue;
		why_add(why, section, NULL, sec->comment);
		for (size_t j = 0; j < sec->n_entries; j++) {
			const struct conf_entry *e = &sec->entries[j];

			if (strcmp(section, "sysfs") != 0) {
				why_add(why, section, e->key, e->comment);
				continue;
			}
			for (size_t k = 0; k < p->n_sysfs; k++)
				if (p->sysfs[k].line == e->line)
					why_add(why, section, p->sysfs[k].path, e->comment);
		}
		free(section);
	}
	conf_doc_free(&doc);
	return why;
}

/* The policy as a document: --json prints it, the text is rendered from it. */
int cmd_show(struct ctx *c, int argc, char **argv)
{
	json_object *o, *vars, *sys, *irqs, *threads, *cpumask, *irqbalance, *partition;
	struct policy *p = NULL;
	char req[64];
	char *require, *recommend;
	int r;

	if ((r = want_args(argc, 1, "show MODE")) != EXIT_OK)
		return r;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	require = joined(p->cmdline_require);
	recommend = joined(p->cmdline_recommend);
	o = json_object_new_object();
	vars = json_object_new_object();
	sys = json_object_new_object();
	irqs = json_object_new_array();
	threads = json_object_new_array();
	json_object_object_add(o, "name", json_str(p->name));
	json_object_object_add(o, "file", json_str(p->file));
	json_object_object_add(o, "hostconf", json_str(c->hc->file));
	json_object_object_add(o, "type", json_str(policy_mode_type_name(p->type)));
	json_object_object_add(o, "summary", json_str(p->summary));
	json_object_object_add(o, "requires", json_str(req_names(p->requires, req, sizeof(req))));
	json_object_object_add(o, "strict", json_object_new_boolean(p->strict));
	for (size_t i = 0; i < c->hc->n_vars; i++)
		json_object_object_add(vars, c->hc->vars[i].name, json_str(c->hc->vars[i].value));
	json_object_object_add(o, "variables", vars);
	for (size_t i = 0; i < p->n_sysctls; i++)
		json_object_object_add(sys, p->sysctls[i].name, json_str(p->sysctls[i].value));
	json_object_object_add(o, "sysctl", sys);
	json_object_object_add(o, "sysfs", sysfs_json(p));
	cpumask = json_object_new_object();
	if (p->has_irq_default)
		json_object_object_add(cpumask, "irq_default", cpus_json(&p->irq_default));
	if (p->has_wq_cpumask)
		json_object_object_add(cpumask, "workqueue", cpus_json(&p->wq_cpumask));
	json_object_object_add(o, "cpumask", cpumask);
	irqbalance = json_object_new_object();
	if (p->has_irqbalance)
		json_object_object_add(irqbalance, "banned", cpus_json(&p->irqbalance_banned));
	json_object_object_add(o, "irqbalance", irqbalance);
	partition = json_object_new_object();
	if (p->partition.set) {
		char *rules = joined(p->partition.rules);

		json_object_object_add(partition, "cpus", cpus_json(&p->partition.cpus));
		json_object_object_add(partition, "threads", json_str(rules));
		/* the defaults are not shown, as a file that leaves them out says */
		if (strcmp(p->partition.name, "isolated-rt") != 0)
			json_object_object_add(partition, "name", json_str(p->partition.name));
		if (strcmp(p->partition.parent, "/") != 0)
			json_object_object_add(partition, "parent", json_str(p->partition.parent));
		free(rules);
	}
	json_object_object_add(o, "partition", partition);
	json_object_object_add(o, "cmdline_require", json_str(require));
	json_object_object_add(o, "cmdline_recommend", json_str(recommend));
	boot_json(o, p);
	for (size_t i = 0; i < p->n_irq_rules; i++)
		json_object_array_add(irqs, rule_json(&p->irq_rules[i]));
	for (size_t i = 0; i < p->n_thread_rules; i++)
		json_object_array_add(threads, rule_json(&p->thread_rules[i]));
	json_object_object_add(o, "irq_rules", irqs);
	json_object_object_add(o, "thread_rules", threads);
	json_object_object_add(o, "why", why_json(p));
	free(require);
	free(recommend);
	policy_free(p);
	return render(c, DOC_SHOW, o);
}

/* ---- plan ---- */

int cmd_plan(struct ctx *c, int argc, char **argv)
{
	struct host_needs needs;
	struct policy *p = NULL;
	struct plan *pl = NULL;
	json_object *doc;
	char err[256];
	int r;

	if ((r = want_args(argc, 1, "plan MODE")) != EXIT_OK)
		return r;
	if (c->bus) {
		if ((r = client_plan(c, argv[0], &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_PLAN, doc);
	}
	/* The snapshot reads what this policy's plan needs, and that only. */
	c->system_first = true;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if (needs_of_policy(p, &needs) < 0) {
		err_msg("out of memory");
		policy_free(p);
		return EXIT_FAIL;
	}
	r = ctx_load_host_needs(c, &needs);
	needs_done(&needs);
	if (r != EXIT_OK) {
		policy_free(p);
		return r;
	}
	if (plan_build(p, c->state, &pl, err, sizeof(err)) < 0) {
		err_msg("planning %s: %s", p->name, err);
		policy_free(p);
		return EXIT_FAIL;
	}
	doc = report_plan(c->host, pl, c->state);
	plan_free(pl);
	policy_free(p);
	return render(c, DOC_PLAN, doc);
}

/* ---- status, verify ---- */

/* status --prometheus: what the journal says, read directly (it is
 * readable by anyone, and the daemon keeps it current), as metrics. */
static int status_prometheus(struct ctx *c)
{
	struct apply_status *st = NULL;
	struct metrics m = {0};
	char err[512] = "", *text;
	int r;

	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	r = apply_status(c->host, &st, err, sizeof(err));
	if (r < 0) {
		err_msg("status: %s", err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	metrics_from_journal(st->journal, &m);
	m.drift = st->n_drift;
	m.gone = st->n_gone;
	m.have_drift = m.have_gone = true;
	text = metrics_text(&m);
	apply_status_free(st);
	if (!text) {
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	fputs(text, stdout);
	free(text);
	return EXIT_OK;
}

int cmd_status(struct ctx *c, int argc, char **argv)
{
	json_object *doc = NULL;
	int r;

	(void)argv;
	if ((r = want_args(argc, 0, "status")) != EXIT_OK)
		return r;
	if (c->prometheus) {
		if (c->json) {
			err_msg("--prometheus and --json: choose one");
			return EXIT_USAGE;
		}
		return status_prometheus(c);
	}
	/* --all shows everything: the daemon gives it to a user other than
	 * root only when asked. */
	if (c->bus) {
		if ((r = client_status(c, c->all, &doc)) != EXIT_OK)
			return r;
	} else {
		if ((r = ctx_load_host_needs(c, &needs_status)) != EXIT_OK)
			return r;
		doc = report_status(c->host, c->state);
	}
	/* The boot transaction is on disk, not in the daemon: read here. */
	if (doc && json_object_is_type(doc, json_type_object))
		json_object_object_add(doc, "boot", boot_status_doc(c));
	return render(c, DOC_STATUS, doc);
}

/* Direct mode compares the journal's wanted values with the host and
 * reports; only the daemon re-applies (enforce = yes). */
int cmd_verify(struct ctx *c, int argc, char **argv)
{
	struct apply_status *st = NULL;
	json_object *doc = NULL;
	char err[512] = "";
	int r;

	(void)argv;
	if ((r = want_args(argc, 0, "verify")) != EXIT_OK)
		return r;
	if (c->bus) {
		if ((r = client_call(c, "Verify", &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_VERIFY, doc);
	}
	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	r = apply_status(c->host, &st, err, sizeof(err));
	if (r < 0) {
		err_msg("verify: %s", err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	doc = report_verify(st, false);
	apply_status_free(st);
	return render(c, DOC_VERIFY, doc);
}

/* ---- snapshot ---- */

int cmd_snapshot(struct ctx *c, int argc, char **argv)
{
	struct host_options ho;
	char err[512] = "";
	int r;

	if ((r = want_args(argc, 1, "snapshot DIR")) != EXIT_OK)
		return r;
	ho = host_options_from_env();
	r = host_open_ex(c->root, &ho, &c->host);
	if (r < 0) {
		err_msg("cannot open %s: %s", c->root ? c->root : "/", path_strerror(-r));
		return EXIT_FAIL;
	}
	r = host_dump(c->host, argv[0], err, sizeof(err));
	if (r < 0) {
		err_msg("snapshot into %s: %s", argv[0], err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "source", json_str(c->root ? c->root : "/"));
		json_object_object_add(o, "snapshot", json_str(argv[0]));
		print_json(o);
	} else
		printf("snapshot of %s written to %s; use it with: isoctl --root %s ...\n",
		       c->root ? c->root : "this host", argv[0], argv[0]);
	return EXIT_OK;
}
