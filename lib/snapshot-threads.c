/* Threads, file by file: a task's stat, status, comm and its process's
 * comm, cmdline and cgroup, each read once however many fields or threads
 * need it. For the full snapshot's walk over proc/, one thread read alone,
 * and the partial snapshot of the daemon's event path: the threads asked
 * for, filtered on the cheapest files first, and the context rules need to
 * judge them. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/cgroup.h"
#include "isolated/procfmt.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"
#include "snapshot-internal.h"

static bool vanished(int r)
{
	return r == -ENOENT || r == -ESRCH;
}

static void task_info_done(struct task_info *t)
{
	free(t->comm);
	free(t->proc_comm);
	free(t->cmdline);
	free(t->cgroup);
	free(t->cpuset_cgroup);
	cpuset_free(&t->cpus);
}

struct task_vec {
	struct task_info *v;
	size_t n, cap;
};

/* The cgroup v2 path ("0::/path"), else the first line's path. */
static char *cgroup_path(const char *buf)
{
	const char *first = NULL;

	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			if (!first)
				first = line;
			if (strncmp(line, "0::", 3) == 0)
				return strndup(c2 + 1, n - (size_t)(c2 + 1 - line));
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!first)
		return strdup("");
	const char *nl = strchr(first, '\n');
	size_t n = nl ? (size_t)(nl - first) : strlen(first);
	const char *c2 = strchr(strchr(first, ':') + 1, ':');
	return strndup(c2 + 1, n - (size_t)(c2 + 1 - first));
}

/* proc/PID/task/TID/NAME into buf (its path into path): 1 when the thread
 * vanished (the file is gone or empty), 0 when read, -errno with a message. */
static int read_task_file(struct walk *w, const char *pid, const char *tid, const char *name, char *path,
			  size_t pathlen, char **ret, size_t *ret_len)
{
	int r = util_path(path, pathlen, "proc/%s/task/%s/%s", pid, tid, name);

	if (r >= 0)
		r = walk_read(w, path, ret, ret_len);
	if (vanished(r))
		return 1;
	if (r < 0)
		return walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	if (*ret_len == 0) {
		free(*ret);
		return 1;
	}
	return 0;
}

static int task_vec_push(struct walk *w, struct task_vec *tv, struct task_info *t)
{
	if (tv->n == tv->cap) {
		size_t cap = tv->cap ? tv->cap * 2 : 256;
		struct task_info *v = realloc(tv->v, cap * sizeof(*v));
		if (!v) {
			task_info_done(t);
			return walk_fail(w, -ENOMEM, "out of memory");
		}
		tv->v = v;
		tv->cap = cap;
	}
	tv->v[tv->n++] = *t;
	return 0;
}

static void task_vec_done(struct task_vec *tv)
{
	for (size_t i = 0; i < tv->n; i++)
		task_info_done(&tv->v[i]);
	free(tv->v);
	*tv = (struct task_vec){0};
}

/* ---- Tasks, file by file ----
 *
 * A task is read field by field (HOST_TASK_*), each file once however
 * many fields or threads need it: the one-shot snapshot asks for what the
 * policy needs of every task, the event path for what decides whether a
 * rule could match, then for the rest. */

/* What the threads of a process share: its comm, cmdline and cgroup. */
struct proc_files {
	pid_t tgid;
	char pid[16];
	unsigned have; /* HOST_TASK_PCOMM, _CMDLINE, _CGROUP read */
	bool gone;     /* its comm is gone: the process exited */
	char *comm, *cmdline, *cgroup;
};

static void proc_files_init(struct proc_files *pf, pid_t tgid)
{
	*pf = (struct proc_files){.tgid = tgid};
	snprintf(pf->pid, sizeof(pf->pid), "%d", (int)tgid);
}

static void proc_files_done(struct proc_files *pf)
{
	free(pf->comm);
	free(pf->cmdline);
	free(pf->cgroup);
}

/* Read the process files of want not read yet: comm (gone: the process
 * exited), cmdline, cgroup (gone: ""). 0, or -errno with a message. */
static int proc_files_read(struct walk *w, struct proc_files *pf, unsigned want)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;

	want &= HOST_TASK_PROCESS & ~pf->have;
	if (pf->gone || !want)
		return 0;
	if (want & HOST_TASK_PCOMM) {
		r = util_path(path, sizeof(path), "proc/%s/comm", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &pf->comm, &len);
		if (vanished(r)) {
			pf->gone = true;
			return 0;
		}
		if (r < 0)
			goto fail_msg;
		chomp(pf->comm, &len);
		pf->have |= HOST_TASK_PCOMM;
	}
	if (want & HOST_TASK_CMDLINE) {
		r = util_path(path, sizeof(path), "proc/%s/cmdline", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &buf, &len);
		if (vanished(r)) {
			buf = NULL;
			len = 0;
		} else if (r < 0) {
			goto fail_msg;
		}
		r = procfmt_join_cmdline(buf ? buf : "", len, &pf->cmdline);
		free(buf);
		buf = NULL;
		if (r < 0)
			return walk_fail(w, r, "out of memory");
		pf->have |= HOST_TASK_CMDLINE;
	}
	if (want & HOST_TASK_CGROUP) {
		r = util_path(path, sizeof(path), "proc/%s/cgroup", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &buf, &len);
		if (r < 0 && !vanished(r))
			goto fail_msg;
		pf->cgroup = cgroup_path(r < 0 ? "" : buf);
		free(buf);
		if (!pf->cgroup)
			return walk_fail(w, -ENOMEM, "out of memory");
		pf->have |= HOST_TASK_CGROUP;
	}
	return 0;

fail_msg:
	if (w->err && w->err[0] == '\0')
		walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	return r;
}

/* A thread's own files. */
struct thread_files {
	pid_t tid;
	char tid_s[16];
	unsigned have; /* HOST_TASK_COMM, _STAT, _CPUS, _TGID read */
	bool gone;     /* its stat or status is gone (or empty): it exited */
	struct proc_stat st;
	pid_t tgid; /* status's Tgid with HOST_TASK_TGID, else the process's */
	char *comm; /* the comm file; stat's when that is gone */
	struct cpuset cpus;
	char *cpuset; /* HOST_TASK_CPUSET: its path in the cpuset hierarchy (NULL: none) */
};

static void thread_files_init(struct thread_files *tf, const struct walk *w, const struct proc_files *pf, pid_t tid)
{
	*tf = (struct thread_files){.tid = tid, .tgid = pf->tgid, .cpus = CPUSET_INIT};
	snprintf(tf->tid_s, sizeof(tf->tid_s), "%d", (int)tid);
	/* proc/TGID/task/TID is there only for a thread of TGID: the running
	 * kernel's directories say the thread group. A tree's status says it. */
	if (!w->h->is_tree)
		tf->have |= HOST_TASK_TGID;
}

static void thread_files_done(struct thread_files *tf)
{
	free(tf->comm);
	free(tf->cpuset);
	cpuset_free(&tf->cpus);
}

/* Its CPUs from the kernel, in a mask as wide as the possible CPUs. 1 when
 * the thread is gone. */
static int thread_affinity(struct walk *w, struct thread_files *tf)
{
	cpu_set_t *set = CPU_ALLOC(w->ncpus);
	size_t size = CPU_ALLOC_SIZE(w->ncpus);
	int r = 0;

	if (!set)
		return walk_fail(w, -ENOMEM, "out of memory");
	if (sched_getaffinity(tf->tid, size, set) < 0) {
		r = errno == ESRCH ? 1
				   : walk_fail(w, -errno, "sched_getaffinity(%d): %s", (int)tf->tid, strerror(errno));
	} else {
		cpuset_zero(&tf->cpus);
		for (unsigned c = 0; c < w->ncpus && r == 0; c++)
			if (CPU_ISSET_S(c, size, set) && cpuset_set(&tf->cpus, c) < 0)
				r = walk_fail(w, -ENOMEM, "out of memory");
	}
	CPU_FREE(set);
	return r;
}

/* Read the thread files of want not read yet (tf->gone when it exited).
 * 0, or -errno with a message. */
static int thread_files_read(struct walk *w, struct proc_files *pf, struct thread_files *tf, unsigned want)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int r;

	want &= (HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_CPUS | HOST_TASK_TGID | HOST_TASK_CPUSET) & ~tf->have;
	if (tf->gone || !want)
		return 0;
	if (want & HOST_TASK_STAT) {
		r = read_task_file(w, pf->pid, tf->tid_s, "stat", path, sizeof(path), &buf, &len);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		r = procfmt_parse_stat(buf, len, &tf->st);
		free(buf);
		if (r < 0)
			return walk_fail(w, r, "%s: %s", path, r == -EINVAL ? "malformed" : path_strerror(-r));
		tf->have |= HOST_TASK_STAT;
	}
	if ((want & HOST_TASK_CPUS) && w->cpus_syscall) {
		r = thread_affinity(w, tf);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		tf->have |= HOST_TASK_CPUS;
		want &= ~HOST_TASK_CPUS;
	}
	if (want & (HOST_TASK_CPUS | HOST_TASK_TGID)) {
		struct proc_status ss = {0};

		r = read_task_file(w, pf->pid, tf->tid_s, "status", path, sizeof(path), &buf, &len);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		r = procfmt_parse_status(buf, len, &ss);
		free(buf);
		if (r < 0)
			return walk_fail(w, r, "%s: %s", path, r == -EINVAL ? "malformed" : path_strerror(-r));
		if (!ss.cpus_allowed_list) {
			procfmt_status_done(&ss);
			return walk_fail(w, -EINVAL, "%s: no Cpus_allowed_list", path);
		}
		r = walk_parse_cpus(w, path, ss.cpus_allowed_list, &tf->cpus);
		procfmt_status_done(&ss);
		if (r < 0)
			return r;
		/* Status's Tgid wins over the one asked with; on the kernel they agree. */
		if (ss.tgid)
			tf->tgid = ss.tgid;
		tf->have |= HOST_TASK_CPUS | HOST_TASK_TGID;
	}
	if (want & HOST_TASK_CPUSET) {
		/* Gone or empty: no cgroup of it known (a dump of an older
		 * isolated has none); its stat says whether it is gone. */
		r = read_task_file(w, pf->pid, tf->tid_s, "cgroup", path, sizeof(path), &buf, &len);
		if (r < 0)
			return r;
		if (r == 0) {
			r = cgroup_task_path(buf, w->cgroup_kind, &tf->cpuset);
			free(buf);
			if (r < 0)
				return walk_fail(w, r, "out of memory");
		}
		tf->have |= HOST_TASK_CPUSET;
	}
	if (want & HOST_TASK_COMM) {
		r = util_path(path, sizeof(path), "proc/%s/task/%s/comm", pf->pid, tf->tid_s);
		if (r >= 0)
			r = walk_read(w, path, &tf->comm, &len);
		if (r >= 0) {
			chomp(tf->comm, &len);
		} else if (vanished(r)) {
			/* The comm stat shows. */
			if ((r = thread_files_read(w, pf, tf, HOST_TASK_STAT)) < 0 || tf->gone)
				return r;
			if (!(tf->comm = strdup(tf->st.comm)))
				return walk_fail(w, -ENOMEM, "out of memory");
		} else {
			if (w->err && w->err[0] == '\0')
				walk_fail(w, r, "%s: %s", path, path_strerror(-r));
			return r;
		}
		tf->have |= HOST_TASK_COMM;
	}
	return 0;
}

/* strdup of s, NULL for NULL; *oom set when it fails. */
static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* The task_info of what is read of a thread (its stat at least) and of its
 * process. 0 or -ENOMEM with a message. */
static int task_from(struct walk *w, const struct proc_files *pf, struct thread_files *tf, bool context_only,
		     struct task_info *ret)
{
	const struct proc_stat *st = &tf->st;
	struct task_info t = {.cpus = CPUSET_INIT};
	bool oom = false;

	t.have = (tf->have & ~HOST_TASK_COMM) | (pf->have & HOST_TASK_PROCESS) | (tf->comm ? HOST_TASK_COMM : 0);
	t.comm = dup_or_null(tf->comm ? tf->comm : st->comm, &oom);
	t.proc_comm = dup_or_null(pf->have & HOST_TASK_PCOMM ? pf->comm : NULL, &oom);
	t.cmdline = dup_or_null(pf->have & HOST_TASK_CMDLINE ? pf->cmdline : NULL, &oom);
	t.cgroup = dup_or_null(pf->have & HOST_TASK_CGROUP ? pf->cgroup : NULL, &oom);
	t.cpuset_cgroup = tf->cpuset;
	tf->cpuset = NULL;
	if (tf->have & HOST_TASK_CPUS) {
		t.cpus = tf->cpus;
		tf->cpus = (struct cpuset)CPUSET_INIT;
	}
	t.tid = st->pid;
	t.tgid = tf->tgid;
	t.ppid = st->ppid;
	t.flags = st->flags;
	t.kthread = st->flags & HOST_PF_KTHREAD;
	t.no_setaffinity = st->flags & HOST_PF_NO_SETAFFINITY;
	t.policy = (int)st->policy;
	t.rt_priority = (int)st->rt_priority;
	t.starttime = st->starttime;
	t.context_only = context_only;
	if (oom) {
		task_info_done(&t);
		return walk_fail(w, -ENOMEM, "out of memory");
	}
	*ret = t;
	return 0;
}

/* One thread of a process read as fields say. 1 when it (or its process)
 * vanished, 0 when read into *ret, -errno. */
static int read_task(struct walk *w, struct proc_files *pf, pid_t tid, unsigned fields, bool context_only,
		     struct task_info *ret)
{
	struct thread_files tf;
	int r;

	r = proc_files_read(w, pf, fields);
	if (r < 0 || pf->gone)
		return r < 0 ? r : 1;
	thread_files_init(&tf, w, pf, tid);
	r = thread_files_read(w, pf, &tf, fields | HOST_TASK_STAT);
	if (r == 0 && !tf.gone)
		r = task_from(w, pf, &tf, context_only, ret);
	else if (r == 0)
		r = 1;
	thread_files_done(&tf);
	return r;
}

/* One process: what its threads share, then its threads. */
static int snap_process(struct walk *w, const char *pid, unsigned fields, struct task_vec *tv)
{
	char path[PATH_MAX], **tids = NULL;
	struct proc_files pf;
	long v;
	int r;

	if (util_parse_long(pid, 1, INT32_MAX, &v) < 0)
		return 0;
	/* isoctl itself is no part of the host it looks at: leaving it out
	 * keeps a plan of the machine and a plan of its snapshot comparable. */
	if (v == w->self)
		return 0;
	proc_files_init(&pf, (pid_t)v);
	r = proc_files_read(w, &pf, fields);
	if (r < 0 || pf.gone)
		goto out;

	r = util_path(path, sizeof(path), "proc/%s/task", pid);
	if (r >= 0)
		r = walk_list(w, path, LIST_ALL, NULL, &tids);
	if (vanished(r) || r == -ENOTDIR) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		if (w->err && w->err[0] == '\0')
			walk_fail(w, r, "%s: %s", path, path_strerror(-r));
		goto out;
	}
	for (size_t i = 0; tids && tids[i]; i++) {
		struct task_info t;

		if (!util_all_digits(tids[i]) || util_parse_long(tids[i], 1, INT32_MAX, &v) < 0)
			continue;
		r = read_task(w, &pf, (pid_t)v, fields, false, &t);
		if (r == 0)
			r = task_vec_push(w, tv, &t);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	strv_free(tids);
	proc_files_done(&pf);
	return r;
}

static int cmp_task(const void *a, const void *b)
{
	const struct task_info *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

int walk_tasks(struct walk *w, unsigned fields, struct host_state *s)
{
	struct task_vec tv = {0};
	char **pids = NULL;
	int r;

	r = walk_list(w, "proc", LIST_ALL, NULL, &pids);
	if (r < 0)
		return walk_fail(w, r, "proc: %s", path_strerror(-r));
	for (size_t i = 0; pids && pids[i]; i++) {
		if (!util_all_digits(pids[i]))
			continue;
		r = snap_process(w, pids[i], fields, &tv);
		if (r < 0)
			break;
	}
	strv_free(pids);
	if (r < 0) {
		task_vec_done(&tv);
		return r;
	}
	if (tv.n > 0)
		qsort(tv.v, tv.n, sizeof(*tv.v), cmp_task);
	s->tasks = tv.v;
	s->n_tasks = tv.n;
	return 0;
}

int host_read_cgroup(const struct host *h, pid_t pid, char **ret)
{
	struct walk w = {h, -1, NULL, 0, 0, false, 0, CGROUP_NONE};
	struct proc_files pf;
	char path[PATH_MAX], *buf = NULL;
	int r;

	if (pid <= 0)
		return -EINVAL;
	proc_files_init(&pf, pid);
	r = util_path(path, sizeof(path), "proc/%s/cgroup", pf.pid);
	if (r >= 0)
		r = walk_read(&w, path, &buf, NULL);
	if (r < 0)
		return r;
	*ret = cgroup_path(buf);
	free(buf);
	return *ret ? 0 : -ENOMEM;
}

/* ---- Partial snapshots: the daemon's event path ---- */

int host_read_task(const struct host *h, pid_t tgid, pid_t tid, struct task_info *ret)
{
	struct walk w = {h, -1, NULL, 0, 0, false, 0, CGROUP_NONE};
	struct proc_files pf;
	struct task_info t;
	int r;

	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	proc_files_init(&pf, tgid);
	r = read_task(&w, &pf, tid, HOST_TASK_ALL, false, &t);
	proc_files_done(&pf);
	if (r != 0)
		return r < 0 ? r : -ESRCH;
	*ret = t;
	return 0;
}

void host_task_done(struct task_info *t)
{
	if (!t)
		return;
	task_info_done(t);
	memset(t, 0, sizeof(*t));
}

/* A leader still to read as context. follow: then its parent too. lean:
 * an ancestor, needed only for its ppid: stat alone. */
struct want {
	pid_t pid;
	bool follow, lean;
};

struct partial {
	struct walk *w;
	const struct host_thread_filter *f; /* NULL: every thread asked for is taken */
	unsigned fields;		    /* of a thread taken */
	struct proc_files **procs;	    /* each process's files, read once */
	size_t n_procs, cap_procs;
	struct want *wants;
	size_t n_wants, cap_wants;
	struct task_vec tv;
	size_t n_sorted; /* tv.v[0, n_sorted) is sorted (the threads asked for) */
};

static void partial_done(struct partial *p)
{
	for (size_t i = 0; i < p->n_procs; i++) {
		proc_files_done(p->procs[i]);
		free(p->procs[i]);
	}
	free(p->procs);
	free(p->wants);
	task_vec_done(&p->tv);
}

/* The files of process tgid, as read so far (a new, unread one the first
 * time). NULL on ENOMEM (with a message). */
static struct proc_files *partial_process(struct partial *p, pid_t tgid)
{
	struct proc_files *pf;

	for (size_t i = 0; i < p->n_procs; i++)
		if (p->procs[i]->tgid == tgid)
			return p->procs[i];
	if (p->n_procs == p->cap_procs) {
		size_t cap = p->cap_procs ? p->cap_procs * 2 : 8;
		struct proc_files **v = realloc(p->procs, cap * sizeof(*v));

		if (!v) {
			walk_fail(p->w, -ENOMEM, "out of memory");
			return NULL;
		}
		p->procs = v;
		p->cap_procs = cap;
	}
	pf = malloc(sizeof(*pf));
	if (!pf) {
		walk_fail(p->w, -ENOMEM, "out of memory");
		return NULL;
	}
	proc_files_init(pf, tgid);
	p->procs[p->n_procs++] = pf;
	return pf;
}

/* Thread tid of process tgid appended to tv, read as fields says; 1 when
 * it vanished. lean (an ancestor, needed only for its ppid): its stat
 * alone, proc_comm its comm, cmdline and cgroup "". */
static int partial_thread(struct partial *p, pid_t tgid, pid_t tid, bool context_only, bool lean, unsigned fields)
{
	struct proc_files *pf = partial_process(p, tgid);
	struct task_info t;
	int r;

	if (!pf)
		return -ENOMEM;
	r = read_task(p->w, pf, tid, lean ? HOST_TASK_STAT : fields, context_only, &t);
	if (r != 0)
		return r;
	if (lean) {
		free(t.proc_comm);
		free(t.cmdline);
		free(t.cgroup);
		t.proc_comm = strdup(t.comm);
		t.cmdline = strdup("");
		t.cgroup = strdup("");
		if (!t.proc_comm || !t.cmdline || !t.cgroup) {
			task_info_done(&t);
			return walk_fail(p->w, -ENOMEM, "out of memory");
		}
	}
	return task_vec_push(p->w, &p->tv, &t);
}

/* The order the filter's questions are answered in: the cheapest file
 * first (a thread's comm is a few bytes; status is the largest; an owner
 * is another process). */
static const unsigned field_order[] = {
    HOST_TASK_COMM, HOST_TASK_STAT, HOST_TASK_PCOMM,  HOST_TASK_CMDLINE,
    HOST_TASK_TGID, HOST_TASK_CPUS, HOST_TASK_CGROUP, HOST_TASK_OWNER,
};

/* What filter->want says of thread tf of process pf, reading what it asks
 * for until it decides: 1 take it, 0 leave it out (or it vanished), -errno. */
static int partial_filter(struct partial *p, struct proc_files *pf, struct thread_files *tf)
{
	const struct host_thread_filter *f = p->f;
	struct proc_files *opf = NULL;
	bool has_owner = false;
	int r;

	for (;;) {
		struct task_info view = {.cpus = CPUSET_INIT}, oview = {.cpus = CPUSET_INIT};
		unsigned more = 0, next = 0;
		enum host_want v;

		view.have = tf->have | (pf->have & HOST_TASK_PROCESS) | (has_owner ? HOST_TASK_OWNER : 0);
		view.tid = tf->tid;
		view.tgid = tf->tgid;
		view.comm = tf->comm;
		view.proc_comm = pf->comm;
		view.cmdline = pf->cmdline;
		view.cgroup = pf->cgroup;
		view.cpus = tf->cpus;
		if (tf->have & HOST_TASK_STAT) {
			view.ppid = tf->st.ppid;
			view.flags = tf->st.flags;
			view.kthread = tf->st.flags & HOST_PF_KTHREAD;
			view.no_setaffinity = tf->st.flags & HOST_PF_NO_SETAFFINITY;
			view.policy = (int)tf->st.policy;
			view.rt_priority = (int)tf->st.rt_priority;
			view.starttime = tf->st.starttime;
		}
		if (opf) {
			oview.have = opf->have;
			oview.tid = oview.tgid = opf->tgid;
			oview.comm = oview.proc_comm = opf->comm;
			oview.cmdline = opf->cmdline;
		}
		v = f->want(f->userdata, &view, has_owner && opf ? &oview : NULL, &more);
		if (v != HOST_WANT_MORE)
			return v == HOST_WANT_YES;
		more &= ~view.have;
		for (size_t i = 0; i < ARRAY_SIZE(field_order) && !next; i++)
			if (more & field_order[i])
				next = field_order[i];
		if (!next)
			return 1;
		if (next == HOST_TASK_OWNER) {
			long owner;

			/* Named after the process it serves: its comm first. */
			if ((r = thread_files_read(p->w, pf, tf, HOST_TASK_COMM)) < 0)
				return r;
			if (tf->gone)
				return 0;
			owner = procfmt_vhost_owner(tf->comm);
			has_owner = true;
			if (owner <= 0)
				continue;
			if (!(opf = partial_process(p, (pid_t)owner)))
				return -ENOMEM;
			if ((r = proc_files_read(p->w, opf, HOST_TASK_PCOMM | HOST_TASK_CMDLINE)) < 0)
				return r;
			if (opf->gone)
				opf = NULL;
			continue;
		}
		if (next & HOST_TASK_PROCESS) {
			if ((r = proc_files_read(p->w, pf, next)) < 0)
				return r;
			if (pf->gone)
				return 0;
		} else {
			if ((r = thread_files_read(p->w, pf, tf, next)) < 0)
				return r;
			if (tf->gone)
				return 0;
		}
	}
}

/* A thread asked for: through the filter, then read in full. */
static int partial_asked(struct partial *p, pid_t tgid, pid_t tid)
{
	struct proc_files *pf = partial_process(p, tgid);
	struct thread_files tf;
	struct task_info t;
	int r = 1;

	if (!pf)
		return -ENOMEM;
	thread_files_init(&tf, p->w, pf, tid);
	if (p->f && !(p->f->keep && p->f->keep(p->f->keep_userdata, tid)) && (r = partial_filter(p, pf, &tf)) <= 0)
		goto out;
	r = proc_files_read(p->w, pf, p->fields);
	if (r < 0 || pf->gone)
		goto out;
	r = thread_files_read(p->w, pf, &tf, p->fields | HOST_TASK_STAT);
	if (r < 0 || tf.gone)
		goto out;
	r = task_from(p->w, pf, &tf, false, &t);
	if (r == 0)
		r = task_vec_push(p->w, &p->tv, &t);
out:
	thread_files_done(&tf);
	return r < 0 ? r : 0;
}

static int partial_want(struct partial *p, pid_t pid, bool follow, bool lean)
{
	if (p->n_wants == p->cap_wants) {
		size_t cap = p->cap_wants ? p->cap_wants * 2 : 16;
		struct want *v = realloc(p->wants, cap * sizeof(*v));

		if (!v)
			return walk_fail(p->w, -ENOMEM, "out of memory");
		p->wants = v;
		p->cap_wants = cap;
	}
	p->wants[p->n_wants++] = (struct want){pid, follow, lean};
	return 0;
}

/* Is the leader of process pid (tid == tgid == pid) read already? */
static bool partial_has_leader(const struct partial *p, pid_t pid)
{
	const struct task_info key = {.tid = pid, .tgid = pid};

	if (p->n_sorted && bsearch(&key, p->tv.v, p->n_sorted, sizeof(key), cmp_task))
		return true;
	for (size_t i = p->n_sorted; i < p->tv.n; i++)
		if (p->tv.v[i].tid == pid)
			return true;
	return false;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct thread_ref *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads asked for, each once, in (tgid, tid) order. */
static int partial_requested(struct partial *p, const struct thread_ref *refs, size_t n)
{
	struct thread_ref *v;
	int r = 0;

	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return walk_fail(p->w, -ENOMEM, "out of memory");
	memcpy(v, refs, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_ref);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (v[i].tgid <= 0 || v[i].tid <= 0) {
			r = walk_fail(p->w, -EINVAL, "thread %d of process %d: not a thread id", (int)v[i].tid,
				      (int)v[i].tgid);
			break;
		}
		if (i > 0 && cmp_ref(&v[i - 1], &v[i]) == 0)
			continue;
		r = partial_asked(p, v[i].tgid, v[i].tid);
	}
	free(v);
	if (r < 0)
		return r;
	/* Status's Tgid wins over the one asked with; on the kernel they agree. */
	if (p->tv.n > 1)
		qsort(p->tv.v, p->tv.n, sizeof(*p->tv.v), cmp_task);
	p->n_sorted = p->tv.n;
	return 0;
}

/* What rules need to judge the threads read, as context_only tasks: the
 * QEMU processes vhost workers serve (their cmdline names the VM), the
 * threads' leaders, and with ancestors the leaders' parents up to pid 1
 * (only their ppid matters: stat alone). */
static int partial_context(struct partial *p, bool ancestors)
{
	unsigned fields = p->fields & HOST_TASK_PROCESS;
	int r = 0;

	/* The vhost owners first: read in full, never as a lean ancestor. */
	for (size_t i = 0; i < p->n_sorted && r >= 0; i++) {
		const struct task_info *t = &p->tv.v[i];
		long owner = procfmt_vhost_owner(t->comm);

		if (owner > 0 && owner != t->tgid)
			r = partial_want(p, (pid_t)owner, false, false);
	}
	for (size_t i = 0; i < p->n_sorted && r >= 0; i++) {
		const struct task_info *t = &p->tv.v[i];

		if (t->tid != t->tgid)
			r = partial_want(p, t->tgid, ancestors, false);
		else if (ancestors && t->ppid > 0)
			r = partial_want(p, t->ppid, true, true);
	}
	/* wants grows while it is walked: each parent read asks for its own. */
	for (size_t i = 0; i < p->n_wants && r >= 0; i++) {
		struct want wt = p->wants[i];
		size_t before = p->tv.n;

		if (partial_has_leader(p, wt.pid))
			continue;
		/* Read once: as fully and as far up as any want of it asks. */
		for (size_t k = i + 1; k < p->n_wants; k++)
			if (p->wants[k].pid == wt.pid) {
				wt.follow |= p->wants[k].follow;
				wt.lean &= p->wants[k].lean;
			}
		r = partial_thread(p, wt.pid, wt.pid, true, wt.lean, fields | HOST_TASK_STAT);
		if (r < 0)
			break;
		r = 0;
		if (wt.follow && p->tv.n > before && p->tv.v[before].ppid > 0)
			r = partial_want(p, p->tv.v[before].ppid, true, true);
	}
	return r;
}

int host_snapshot_threads(const struct host *h, const struct host_state *base, const struct thread_ref *refs, size_t n,
			  bool ancestors, struct host_state **ret, char *err, size_t errlen)
{
	return host_snapshot_threads_ex(h, base, refs, n, ancestors, NULL, ret, err, errlen);
}

int host_snapshot_threads_ex(const struct host *h, const struct host_state *base, const struct thread_ref *refs,
			     size_t n, bool ancestors, const struct host_thread_filter *filter, struct host_state **ret,
			     char *err, size_t errlen)
{
	struct walk w = {h, -1, err, errlen, 0, false, 0, CGROUP_NONE};
	struct partial p = {.w = &w, .f = filter, .fields = filter ? filter->fields | HOST_TASK_STAT : HOST_TASK_ALL};
	struct host_state *s = NULL;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	walk_cpus_syscall(&w, base);
	r = partial_requested(&p, refs, n);
	if (r >= 0)
		r = partial_context(&p, ancestors);
	if (r >= 0 && !(s = malloc(sizeof(*s))))
		r = walk_fail(&w, -ENOMEM, "out of memory");
	if (r < 0) {
		partial_done(&p);
		return r;
	}
	if (p.tv.n > p.n_sorted)
		qsort(p.tv.v, p.tv.n, sizeof(*p.tv.v), cmp_task);
	/* Everything but the tasks is base's (see snapshot.h). */
	*s = *base;
	s->tasks = p.tv.v;
	s->n_tasks = p.tv.n;
	s->have.tasks = p.fields;
	s->borrowed = true;
	p.tv = (struct task_vec){0};
	partial_done(&p);
	*ret = s;
	return 0;
}
