/* Selectors: does a rule's match line select this thread or this IRQ?
 * All terms of a rule must hold; "!" negates one term. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/plan.h"
#include "isolated/procfmt.h"

char *match_vm_name(const char *cmdline)
{
	char *copy, *save = NULL, *name = NULL;
	bool next_is_name = false;

	/* The command line is argv joined with spaces; quotes in it are the
	 * guest's business (-append "..."), so split on white space only. */
	if (!cmdline || !(copy = strdup(cmdline)))
		return NULL;
	for (char *arg = strtok_r(copy, " \t", &save); arg; arg = strtok_r(NULL, " \t", &save)) {
		if (!next_is_name) {
			next_is_name = strcmp(arg, "-name") == 0 || strcmp(arg, "--name") == 0;
			continue;
		}
		next_is_name = false;
		/* -name [guest=]NAME[,debug-threads=on][,process=...]; the last -name wins */
		for (const char *part = arg; part && *part;) {
			const char *comma = strchr(part, ',');
			size_t len = comma ? (size_t)(comma - part) : strlen(part);

			if (len > 6 && strncmp(part, "guest=", 6) == 0) {
				free(name);
				name = strndup(part + 6, len - 6);
				break;
			}
			if (part == arg && !memchr(part, '=', len)) {
				free(name);
				name = strndup(part, len);
			}
			part = comma ? comma + 1 : NULL;
		}
	}
	free(copy);
	return name;
}

/* "CPU 3/KVM" or "CPU 3/TCG" -> 3, else -1. */
static long vcpu_index(const char *comm)
{
	char *end;
	long n;

	if (strncmp(comm, "CPU ", 4) != 0 || !isdigit((unsigned char)comm[4]))
		return -1;
	n = strtol(comm + 4, &end, 10);
	if (strcmp(end, "/KVM") != 0 && strcmp(end, "/TCG") != 0)
		return -1;
	return n;
}

static bool is_vm(const char *cmdline, const char *name)
{
	char *vm;
	bool r;

	if (!name || !*name)
		return false;
	vm = match_vm_name(cmdline);
	r = vm && strcmp(vm, name) == 0;
	free(vm);
	return r;
}

static bool glob(const char *pattern, const char *s)
{
	return pattern && *pattern && s && fnmatch(pattern, s, 0) == 0;
}

static bool thread_term(const struct match_term *m, const struct task_info *t, const struct host_state *s)
{
	long n;

	switch (m->kind) {
	case TERM_ANY:
		return true;
	case TERM_COMM:
		return glob(m->arg, t->comm);
	case TERM_PCOMM:
		return glob(m->arg, t->proc_comm);
	case TERM_CMDLINE:
		return glob(m->arg, t->cmdline);
	case TERM_CGROUP:
		return glob(m->arg, t->cgroup);
	case TERM_KTHREAD:
		return t->kthread == m->yes;
	case TERM_VHOST:
		return procfmt_vhost_owner(t->comm) > 0;
	case TERM_VCPU:
		n = vcpu_index(t->comm);
		return n >= 0 && cpuset_isset(&m->set, (unsigned)n);
	case TERM_VM:
		if (is_vm(t->cmdline, m->arg))
			return true;
		/* vhost workers: kernel threads before Linux 6.4, named after the
		 * QEMU process they serve. */
		n = procfmt_vhost_owner(t->comm);
		if (n > 0 && n != t->tgid) {
			const struct task_info *owner = host_state_task(s, (pid_t)n);

			return owner && is_vm(owner->cmdline, m->arg);
		}
		return false;
	case TERM_NIC:
	case TERM_ACTION:
	case TERM_IRQ:
		return false;
	}
	return false;
}

bool match_thread(const struct rule *r, const struct task_info *t, const struct host_state *s)
{
	if (r->is_irq || r->n_terms == 0)
		return false;
	for (size_t i = 0; i < r->n_terms; i++)
		if (thread_term(&r->terms[i], t, s) == r->terms[i].negate)
			return false;
	return true;
}

static bool irq_term(const struct match_term *m, const struct irq_info *irq)
{
	switch (m->kind) {
	case TERM_ANY:
		return true;
	case TERM_NIC:
		return m->arg && *m->arg && irq->nic && strcmp(m->arg, irq->nic) == 0;
	case TERM_ACTION:
		for (size_t i = 0; irq->actions && irq->actions[i]; i++)
			if (glob(m->arg, irq->actions[i]))
				return true;
		return false;
	case TERM_IRQ:
		return cpuset_isset(&m->set, irq->irq);
	default:
		return false;
	}
}

bool match_irq(const struct rule *r, const struct irq_info *irq)
{
	if (!r->is_irq || r->n_terms == 0)
		return false;
	for (size_t i = 0; i < r->n_terms; i++)
		if (irq_term(&r->terms[i], irq) == r->terms[i].negate)
			return false;
	return true;
}
