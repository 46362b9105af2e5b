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

/* "ksoftirqd/6", "rcuc/12" -> 6, 12: a per-CPU kernel thread's CPU by its
 * name; -1 for any other name ("kworker/6:1" too: a worker, not the CPU's
 * own thread). */
static long percpu_index(const char *comm)
{
	const char *slash = comm ? strrchr(comm, '/') : NULL;
	char *end;
	long n;

	if (!slash || slash == comm || !isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2]))
		return -1;
	n = strtol(slash + 1, &end, 10);
	return *end ? -1 : n;
}

/* What a term is judged on: a thread with the fields in have, and the
 * process a vhost worker serves, looked up in s (a snapshot) or given
 * (owner, valid with HOST_TASK_OWNER in have). */
struct facts {
	const struct task_info *t;
	unsigned have;
	const struct host_state *s;
	const struct task_info *owner;
};

bool match_term_empty(const struct match_term *m)
{
	return (m->kind == TERM_COMM || m->kind == TERM_PCOMM || m->kind == TERM_VM) && (!m->arg || !*m->arg);
}

bool match_rule_nobody(const struct rule *r)
{
	for (size_t i = 0; i < r->n_terms; i++)
		if (!r->terms[i].negate && match_term_empty(&r->terms[i]))
			return true;
	return false;
}

static const struct task_info *facts_owner(const struct facts *f, long n)
{
	return f->s ? host_state_task(f->s, (pid_t)n) : f->owner;
}

/* A term known (YES/NO) or not (UNKNOWN, *need: the fields that would tell). */
static enum match3 known(bool v)
{
	return v ? MATCH_YES : MATCH_NO;
}

static enum match3 thread_term(const struct match_term *m, const struct facts *f, unsigned *need)
{
	const struct task_info *t = f->t;
	enum match3 own;
	long n;

	if (match_term_empty(m))
		return MATCH_NO;
	switch (m->kind) {
	case TERM_ANY:
		return MATCH_YES;
	case TERM_COMM:
	case TERM_VHOST:
	case TERM_VCPU:
		if (!(f->have & HOST_TASK_COMM)) {
			*need |= HOST_TASK_COMM;
			return MATCH_UNKNOWN;
		}
		if (m->kind == TERM_COMM)
			return known(glob(m->arg, t->comm));
		if (m->kind == TERM_VHOST)
			return known(procfmt_vhost_owner(t->comm) > 0);
		n = vcpu_index(t->comm);
		return known(n >= 0 && cpuset_isset(&m->set, (unsigned)n));
	case TERM_PCOMM:
		if (!(f->have & HOST_TASK_PCOMM)) {
			*need |= HOST_TASK_PCOMM;
			return MATCH_UNKNOWN;
		}
		return known(glob(m->arg, t->proc_comm));
	case TERM_CMDLINE:
		if (!(f->have & HOST_TASK_CMDLINE)) {
			*need |= HOST_TASK_CMDLINE;
			return MATCH_UNKNOWN;
		}
		return known(glob(m->arg, t->cmdline));
	case TERM_CGROUP:
		if (!(f->have & HOST_TASK_CGROUP)) {
			*need |= HOST_TASK_CGROUP;
			return MATCH_UNKNOWN;
		}
		return known(glob(m->arg, t->cgroup));
	case TERM_KTHREAD:
		if (!(f->have & HOST_TASK_STAT)) {
			*need |= HOST_TASK_STAT;
			return MATCH_UNKNOWN;
		}
		return known(t->kthread == m->yes);
	case TERM_PERCPU:
		if ((f->have & (HOST_TASK_COMM | HOST_TASK_STAT)) != (HOST_TASK_COMM | HOST_TASK_STAT)) {
			*need |= (HOST_TASK_COMM | HOST_TASK_STAT) & ~f->have;
			return MATCH_UNKNOWN;
		}
		n = percpu_index(t->comm);
		return known(t->kthread && n >= 0 && cpuset_isset(&m->set, (unsigned)n));
	case TERM_VM:
		if ((f->have & HOST_TASK_CMDLINE) && is_vm(t->cmdline, m->arg))
			return MATCH_YES;
		/* vhost workers: kernel threads before Linux 6.4, named after the
		 * QEMU process they serve. */
		own = MATCH_UNKNOWN;
		if (!(f->have & HOST_TASK_COMM)) {
			*need |= HOST_TASK_COMM;
		} else if ((n = procfmt_vhost_owner(t->comm)) <= 0) {
			own = MATCH_NO;
		} else if (!(f->have & HOST_TASK_TGID)) {
			*need |= HOST_TASK_TGID;
		} else if (n == t->tgid) {
			own = MATCH_NO;
		} else if (!(f->have & HOST_TASK_OWNER)) {
			*need |= HOST_TASK_OWNER;
		} else {
			const struct task_info *owner = facts_owner(f, n);

			own = known(owner && is_vm(owner->cmdline, m->arg));
		}
		if (own == MATCH_YES || (f->have & HOST_TASK_CMDLINE))
			return own;
		*need |= HOST_TASK_CMDLINE;
		return MATCH_UNKNOWN;
	case TERM_NIC:
	case TERM_ACTION:
	case TERM_IRQ:
		return MATCH_NO;
	}
	return MATCH_NO;
}

/* Every term must hold: one that does not decides, whatever the others. */
static enum match3 rule3(const struct rule *r, const struct facts *f, unsigned *ret_need)
{
	enum match3 res = MATCH_YES;
	unsigned need = 0;

	if (r->is_irq || r->n_terms == 0)
		return MATCH_NO;
	for (size_t i = 0; i < r->n_terms; i++) {
		unsigned n = 0;
		enum match3 v = thread_term(&r->terms[i], f, &n);

		if (v != MATCH_UNKNOWN && r->terms[i].negate)
			v = v == MATCH_YES ? MATCH_NO : MATCH_YES;
		if (v == MATCH_NO) {
			need = 0;
			res = MATCH_NO;
			break;
		}
		if (v == MATCH_UNKNOWN) {
			res = MATCH_UNKNOWN;
			need |= n;
		}
	}
	if (ret_need)
		*ret_need = need;
	return res;
}

bool match_thread(const struct rule *r, const struct task_info *t, const struct host_state *s)
{
	const struct facts f = {t, HOST_TASK_ALL | HOST_TASK_OWNER, s, NULL};

	return rule3(r, &f, NULL) == MATCH_YES;
}

enum match3 match_thread3(const struct rule *r, const struct task_info *t, const struct task_info *owner,
			  unsigned *ret_need)
{
	const struct facts f = {t, t->have, NULL, owner};

	return rule3(r, &f, ret_need);
}

unsigned match_rule_fields(const struct rule *r)
{
	unsigned fields = 0;

	if (match_rule_nobody(r))
		return 0;
	for (size_t i = 0; !r->is_irq && i < r->n_terms; i++) {
		if (match_term_empty(&r->terms[i]))
			continue;
		switch (r->terms[i].kind) {
		case TERM_COMM:
		case TERM_VHOST:
		case TERM_VCPU:
			fields |= HOST_TASK_COMM;
			break;
		case TERM_PCOMM:
			fields |= HOST_TASK_PCOMM;
			break;
		case TERM_CMDLINE:
			fields |= HOST_TASK_CMDLINE;
			break;
		case TERM_CGROUP:
			fields |= HOST_TASK_CGROUP;
			break;
		case TERM_KTHREAD:
			fields |= HOST_TASK_STAT;
			break;
		case TERM_PERCPU:
			fields |= HOST_TASK_COMM | HOST_TASK_STAT;
			break;
		case TERM_VM:
			fields |= HOST_TASK_CMDLINE | HOST_TASK_COMM | HOST_TASK_TGID | HOST_TASK_OWNER;
			break;
		default:
			break;
		}
	}
	return fields;
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
