/* The partitions the daemon holds, watched: the kernel invalidates a v2
 * partition on its own (a CPU went offline, another cgroup took the CPUs
 * exclusively) and then raises a file-modified event (kernfs_notify) on
 * its cpuset.cpus.partition. One sd-event inotify source a partition the
 * journal holds; a state that changed is reported once. v1 cpusets raise
 * no event: verification finds their drift. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "isolated/cgroup.h"
#include "isolated/host.h"
#include "isolated/status.h"
#include "isolated/util.h"

/* IN_MODIFY is the kernel's event. The others say the inode watched is no
 * longer the file: a tree's emulated writes replace files (rename: the
 * old inode loses its link, IN_ATTRIB), and the file is watched again. */
#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct watched {
	struct partwatch *w;
	char *target; /* "cgroup/REL/cpuset.cpus.partition", as the journal has it */
	char *cgroup; /* REL of its directory */
	char *path;   /* "sys/fs/cgroup/REL/cpuset.cpus.partition" */
	char *wanted; /* what isolated wrote */
	char *cpus;   /* the CPUs it takes; NULL when the journal does not say */
	char *last;   /* the state last read; NULL: not read yet */
	dev_t dev;
	ino_t ino;
	sd_event_source *src;
	bool keep; /* partwatch_follow: still in the journal */
};

struct partwatch {
	sd_event *ev;
	const struct host *host;
	partwatch_changed_fn changed;
	void *userdata;
	struct watched **items;
	size_t n;
};

static void watched_free(struct watched *x)
{
	if (!x)
		return;
	sd_event_source_disable_unref(x->src);
	free(x->target);
	free(x->cgroup);
	free(x->path);
	free(x->wanted);
	free(x->cpus);
	free(x->last);
	free(x);
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata);

/* Watch x's file, unless the inode watched is still the file's. A file
 * that cannot be opened (the cgroup was removed) is left unwatched until
 * the next partwatch_follow. */
static int arm(struct watched *x)
{
	struct stat st;
	int fd, r;

	fd = host_open_read(x->w->host, x->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (x->src && st.st_dev == x->dev && st.st_ino == x->ino) {
		close(fd);
		return 0;
	}
	x->src = sd_event_source_disable_unref(x->src);
	/* sd-event watches the inode; the fd is ours to close */
	r = sd_event_add_inotify_fd(x->w->ev, &x->src, fd, WATCH_MASK, on_inotify, x);
	close(fd);
	if (r < 0)
		return r;
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	return 0;
}

/* Read x's state; report it when it is not the one read last (the first
 * read only when it is not what isolated wrote). */
static void check(struct watched *x)
{
	struct cgroup_partition_state ps;
	char *now = NULL;
	bool first;
	int r;

	r = arm(x);
	if (r < 0 && r != -ENOENT)
		log_errno(LOG_WARNING, r, "watching %s", x->path);
	r = host_read(x->w->host, x->path, &now, NULL);
	if (r == -ENOENT) {
		free(now);
		now = strdup("absent");
	} else if (r < 0) {
		log_errno(LOG_WARNING, r, "reading %s", x->path);
		return;
	} else if (cgroup_partition_parse(util_strip(now), &ps) < 0) {
		/* Between a writer's truncation and its write (a test's
		 * printf; the kernel writes none): the next event has it. */
		log_debug("%s reads \"%s\": not a partition's state", x->path, now);
		free(now);
		return;
	}
	if (!now) {
		log_errno(LOG_ERR, -ENOMEM, "reading %s", x->path);
		return;
	}
	if (x->last && strcmp(x->last, now) == 0) {
		free(now);
		return;
	}
	first = !x->last;
	free(x->last);
	x->last = now;
	if (first && cgroup_value_equal(now, x->wanted))
		return;
	x->w->changed(x->w->userdata, &(struct partwatch_change){
					  .cgroup = x->cgroup,
					  .state = x->last,
					  .wanted = x->wanted,
					  .cpus = x->cpus,
					  .holds = cgroup_value_equal(x->last, x->wanted),
				      });
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	(void)s;
	(void)ev;
	check(userdata);
	return 0;
}

int partwatch_new(sd_event *ev, const struct host *host, partwatch_changed_fn changed, void *userdata,
		  struct partwatch **ret)
{
	struct partwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->ev = sd_event_ref(ev);
	w->host = host;
	w->changed = changed;
	w->userdata = userdata;
	*ret = w;
	return 0;
}

void partwatch_free(struct partwatch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		watched_free(w->items[i]);
	free(w->items);
	sd_event_unref(w->ev);
	free(w);
}

static struct watched *find(struct partwatch *w, const char *target)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->items[i]->target, target) == 0)
			return w->items[i];
	return NULL;
}

/* A new watch of p (not armed yet). */
static int add(struct partwatch *w, const struct status_partition *p, struct watched **ret)
{
	struct watched *x = calloc(1, sizeof(*x)), **grown;
	const char *rel = cgroup_target_rel(p->cgroup);
	size_t rel_len = p->cgroup_len - (size_t)(rel - p->cgroup);

	if (!x)
		return -ENOMEM;
	x->w = w;
	x->target = strdup(p->e->target);
	x->cgroup = strndup(rel, rel_len);
	x->path = util_sprintf("sys/fs/cgroup/%s", cgroup_target_rel(p->e->target));
	if (!x->target || !x->cgroup || !x->path || !(grown = realloc(w->items, (w->n + 1) * sizeof(*grown)))) {
		watched_free(x);
		return -ENOMEM;
	}
	w->items = grown;
	w->items[w->n++] = x;
	*ret = x;
	return 0;
}

void partwatch_follow(struct partwatch *w, const struct journal *j)
{
	struct status_partition *parts = NULL;
	size_t n = 0, kept = 0;
	int r;

	r = status_partitions(j, &parts, &n);
	if (r < 0) {
		log_errno(LOG_ERR, r, "following the partitions held");
		return;
	}
	for (size_t i = 0; i < w->n; i++)
		w->items[i]->keep = false;
	for (size_t i = 0; i < n; i++) {
		struct watched *x;

		if (parts[i].kind != CGROUP_V2)
			continue;
		x = find(w, parts[i].e->target);
		if (!x && (r = add(w, &parts[i], &x)) < 0) {
			log_errno(LOG_ERR, r, "watching %s", parts[i].e->target);
			continue;
		}
		if (util_set_str(&x->wanted, parts[i].e->wanted) < 0 || util_set_str(&x->cpus, parts[i].cpus) < 0)
			log_errno(LOG_ERR, -ENOMEM, "watching %s", x->target);
		x->keep = true;
	}
	free(parts);
	/* The mode no longer has them: no watch, and nothing remembered (a
	 * partition made again starts afresh). */
	for (size_t i = 0; i < w->n; i++) {
		if (w->items[i]->keep)
			w->items[kept++] = w->items[i];
		else
			watched_free(w->items[i]);
	}
	w->n = kept;
	/* After a transaction or at start: the state now, and a watch on the
	 * file as it is now (our own writes may have replaced it on a tree). */
	for (size_t i = 0; i < w->n; i++)
		check(w->items[i]);
}

size_t partwatch_count(const struct partwatch *w)
{
	return w ? w->n : 0;
}
