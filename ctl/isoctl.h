/* isoctl internals shared by its command files: struct ctx, the command layer
 * (ctx.c), the commands (cmd-*.c, bench.c), render.c and client.c. */
#ifndef ISOCTL_H
#define ISOCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "../bench/bench.h"
#include "isolated/snapshot.h"
#include "isolated/plan.h"
#include "isolated/policy.h"

struct sd_bus;

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* a check failed, or the host could not be read */
#define EXIT_USAGE 2 /* bad arguments, bad policy or host.conf */

struct ctx {
	const char *root;    /* --root, NULL for the running kernel */
	char **policy_dirs;  /* searched in order */
	char *hostconf_path; /* host.conf to read */
	bool hostconf_given; /* --config was given: a missing file is an error */
	bool hostconf_in_root; /* the --root tree's etc/isolated/host.conf */
	char *example;	     /* host.conf.example to point a newcomer at */
	bool json;
	bool all;
	bool grub_write, grub_restore;	 /* grub --write, grub --restore */
	bool dry_run;			 /* apply, revert */
	bool force;			 /* apply, revert: overwrite targets changed behind our back */
	bool no_wait;			 /* apply, revert: fail when another invocation holds the lock */
	const char *scope;		 /* apply: --scope, overrides the policy's */
	unsigned long long confirm_usec; /* apply: --confirm-within, 0 if not given */
	bool direct;			 /* --direct: never ask the daemon */
	bool prometheus;		 /* status --prometheus: the journal's metrics, text exposition */
	/* bench's options (bench/bench.h), for bench_main: the last value
	 * given by enum bench_option - BENCH_OPT_FIRST ("" for a flag), NULL
	 * if not given */
	const char *bench_opts[BENCH_OPT_COUNT];
	bool bench_given;    /* one of them was given */
	bool policies_given; /* --policies was given */
	struct sd_bus *bus;  /* the daemon's bus; NULL: direct mode */
	struct host *host;
	struct host_state *state;
	bool online_only; /* the command needs only the online CPUs, not a snapshot */
	/* The command snapshots what it needs once its policy says so: the
	 * online CPUs come from a snapshot of the system's files alone. */
	bool system_first;
	bool have_online;
	struct cpuset online;
	struct hostconf *hc;
};

/* ctx.c. One line "isoctl: MESSAGE" on stderr, escaped as text output is. */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* printf of one line on stdout whose fields come from the host or a tree
 * (the kernel's command line, etc/default/grub, file names), escaped. */
void print_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the host (c->root or the running kernel); prints errors. */
int ctx_open_host(struct ctx *c);
/* The online CPUs into c->online (one read of sys/devices/system/cpu/online
 * with online_only); prints errors, returns an exit status. */
int ctx_load_online(struct ctx *c);
/* Load the host and its snapshot; on failure prints and returns EXIT_FAIL. */
int ctx_load_host(struct ctx *c);
/* The same, reading only what needs asks (or adding it to c->state). */
int ctx_load_host_needs(struct ctx *c, const struct host_needs *needs);
/* host + host.conf; prints errors; returns an exit status. */
int ctx_load_config(struct ctx *c);
/* Find and load MODE (modes_load), printing the error lines to stderr;
 * returns an exit status. */
int ctx_load_policy(struct ctx *c, const char *mode, struct policy **ret);
/* The lines of d on stderr, the bare ones after "isoctl: ". */
void print_diag(const struct diag *d);
/* Each line of msg (escaped already; NULL: out of memory) after "isoctl: ". */
void err_lines(const char *msg);
/* Close the bus, free what the ctx_* functions and main loaded. */
void ctx_done(struct ctx *c);
/* cmd-change.c: --confirm-within DURATION; prints errors, returns an exit
 * status. */
int ctx_set_confirm_within(struct ctx *c, const char *arg);
/* Print JSON to stdout, pretty. Takes ownership. */
void print_json(struct json_object *o);
json_object *json_str(const char *s);
/* render.c: "IRQ affinity", "thread scheduling" ...: an action kind for
 * people. */
const char *kind_title(enum action_kind k);
/* render.c: what a [partition] gives on a host whose cpuset controller is
 * on kind, for CPUs cpus: isolated_now the hierarchy's cpuset.cpus.isolated
 * (v2; NULL when it cannot be read: no remote partitions before Linux
 * 6.7). isoctl check and status say it alike. Allocated; NULL on ENOMEM. */
char *partition_gives(enum cgroup_kind kind, const char *cpus, const char *isolated_now);
/* And what no partition gives: only the boot command line does. */
extern const char partition_boot_only[];

/* The commands: cmd-read.c (list, show, plan, status, verify, snapshot),
 * cmd-check.c, cmd-grub.c, cmd-change.c (apply, revert, confirm), bench.c. */

int cmd_list(struct ctx *c, int argc, char **argv);
int cmd_show(struct ctx *c, int argc, char **argv);
int cmd_plan(struct ctx *c, int argc, char **argv);
int cmd_status(struct ctx *c, int argc, char **argv);
int cmd_snapshot(struct ctx *c, int argc, char **argv);
int cmd_check(struct ctx *c, int argc, char **argv);
int cmd_grub(struct ctx *c, int argc, char **argv);
int cmd_boot(struct ctx *c, int argc, char **argv);
/* What policy p writes for the next boot (cmd-boot.c); *ret_modprobe
 * (strv, the caller frees it) backs ret->modprobe. */
struct boot_wants;
void boot_wants_of(const struct policy *p, struct boot_wants *ret, char ***ret_modprobe);
/* The "boot" part of isoctl status: the boot transaction held, and what
 * stands between it and the running kernel. NULL when none is held. */
json_object *boot_status_doc(struct ctx *c);
void boot_status_text(json_object *boot);
/* cmd-grub.c, for cmd-boot.c too: a line diff of two versions of a file
 * (old NULL: none), and the writers' lock (the journal's). */
void print_diff(const char *from, const char *to, const char *old, size_t old_len, const char *new, size_t new_len);
int grub_lock(struct ctx *c, int *ret_fd);
/* A file of the host as its administrator knows it: "/etc/default/grub",
 * or the --root tree's (allocated; in buf). */
char *ctl_host_file(const struct ctx *c, const char *rel);
const char *ctl_host_path(const struct ctx *c, const char *rel, char *buf, size_t len);
void grub_unlock(struct ctx *c, int fd);
int cmd_apply(struct ctx *c, int argc, char **argv);
int cmd_revert(struct ctx *c, int argc, char **argv);
int cmd_verify(struct ctx *c, int argc, char **argv);
int cmd_confirm(struct ctx *c, int argc, char **argv);
int cmd_bench(struct ctx *c, int argc, char **argv);

/* render.c: the documents of isolated/report.h, as text or (--json) as
 * they are. Takes ownership of doc (NULL: out of memory); returns the exit
 * status the document means (apply failed or conflicts, status with an
 * unreadable journal, verify with drift: 1) and prints a failed apply's
 * error on stderr. */
enum doc_kind { DOC_PLAN, DOC_APPLY, DOC_STATUS, DOC_VERIFY, DOC_MODES, DOC_CONFIRM, DOC_SHOW };
int render(const struct ctx *c, enum doc_kind kind, json_object *doc);

/* client.c: the daemon on the system bus. client_open connects when isoctl
 * should use the daemon (not --direct, no --root, --policies or --config,
 * and ISOLATED_BUS_NAME has an owner or is activatable); otherwise, or when
 * there is no bus at all, it leaves c->bus NULL, silently: direct mode. */
void client_open(struct ctx *c);
void client_close(struct ctx *c);
/* The daemon runs (its name has an owner on the system bus); activation
 * does not count. */
bool client_daemon_running(void);
/* Why direct mode is used, for messages ("--direct was given"). */
const char *client_why_direct(const struct ctx *c);
/* Method calls (isolated/busapi.h). Each returns an exit status; on
 * EXIT_OK *ret is the document, otherwise the error was printed as direct
 * mode would print it. */
int client_apply(struct ctx *c, const char *mode, json_object **ret); /* mode NULL: Revert */
int client_plan(struct ctx *c, const char *mode, json_object **ret);
/* Status, Verify, ListModes, Confirm. */
int client_call(struct ctx *c, const char *method, json_object **ret);
/* Status() (the whole document for root, a summary for other users), or
 * with details StatusEx({"details": true}): the whole document for anyone. */
int client_status(struct ctx *c, bool details, json_object **ret);

#endif
