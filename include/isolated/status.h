/* Status: what isolated holds on a host, read from the journal, each
 * target with its value now (lib/status.c). Reads; writes nothing. */
#ifndef ISOLATED_STATUS_H
#define ISOLATED_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/cgroup.h"
#include "isolated/snapshot.h"
#include "isolated/journal.h"

/* What isolated holds on a host, for isoctl status. */
struct status_target {
	const struct journal_entry *e; /* into status->journal */
	char *now;		       /* the value now; NULL when the thread is gone */
	bool drift;		       /* now differs from wanted */
};

/* A runtime partition the journal holds ([partition]): on cgroup v2 a
 * cgroup of ours whose cpuset.cpus.partition isolated wrote ("isolated"),
 * on v1 a cpuset of ours with cpuset.sched_load_balance 0 (its CPUs
 * leave load balancing only while every cpuset.sched_load_balance
 * isolated set to 0 stays so). Pointers into the journal. */
struct status_partition {
	enum cgroup_kind kind;	       /* CGROUP_V2 or CGROUP_V1 */
	const char *cgroup;	       /* its directory's target, "cgroup/REL": REL below sys/fs/cgroup */
	size_t cgroup_len;	       /* of that target */
	const struct journal_entry *e; /* v2: its cpuset.cpus.partition; v1: its cpuset.sched_load_balance */
	const char *cpus;	       /* the CPUs it takes, as isolated wrote them; NULL when the journal has none */
	/* apply_status: */
	const char *now;		    /* v2: the state as read; v1: e's value now; NULL when gone */
	bool holds;			    /* the CPUs are out of load balancing as isolated made them */
	const struct journal_entry *broken; /* v1: the first sched_load_balance no longer 0; NULL if none */
};
/* The partitions j holds, in the journal's order (entries without a target,
 * journal_kill_target's, skipped); none: *ret NULL, *ret_n 0. -ENOMEM. */
int status_partitions(const struct journal *j, struct status_partition **ret, size_t *ret_n);

struct apply_status {
	struct journal *journal; /* NULL: isolated holds nothing (or the journal is stale) */
	char *stale_boot_id;	 /* set when a journal from another boot was found (not removed) */
	struct status_target *targets;
	size_t n_targets;
	size_t n_drift, n_gone;
	struct status_partition *partitions;
	size_t n_partitions;
	/* With a v2 partition: the hierarchy's cpuset.cpus.isolated now (the
	 * CPUs the kernel keeps out of load balancing); NULL when unread. */
	char *isolated_now;
};

/* Read the journal and each target's value now. Writes nothing. -EBADMSG
 * (message in err) when the journal does not parse. */
int apply_status(const struct host *h, struct apply_status **ret, char *err, size_t errlen);
/* The same, with each target's value now (and the boot id) taken from s, a
 * snapshot just read, instead of read again; s NULL, or without all that
 * needs_status reads: apply_status. */
int apply_status_in(const struct host *h, const struct host_state *s, struct apply_status **ret, char *err,
		    size_t errlen);
void apply_status_free(struct apply_status *st);

#endif
