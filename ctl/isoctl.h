/* isoctl internals shared by its command files. */
#ifndef ISOCTL_H
#define ISOCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "isolated/host.h"
#include "isolated/plan.h"
#include "isolated/policy.h"

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* a check failed, or the host could not be read */
#define EXIT_USAGE 2 /* bad arguments, bad policy or host.conf */

struct ctx {
	const char *root;    /* --root, NULL for the running kernel */
	char **policy_dirs;  /* searched in order */
	char *hostconf_path; /* host.conf to read */
	bool hostconf_given; /* --config was given: a missing file is an error */
	char *example;	     /* host.conf.example to point a newcomer at */
	bool json;
	bool all;
	bool grub_write, grub_restore; /* grub --write, grub --restore */
	bool dry_run;		       /* apply, revert */
	bool force;		       /* apply, revert: overwrite targets changed behind our back */
	bool no_wait;		       /* apply, revert: fail when another invocation holds the lock */
	const char *scope;	       /* apply: --scope, overrides the policy's */
	struct host *host;
	struct host_state *state;
	bool online_only; /* the command needs only the online CPUs, not a snapshot */
	bool have_online;
	struct cpuset online;
	struct hostconf *hc;
};

void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the host (c->root or the running kernel); prints errors. */
int ctx_open_host(struct ctx *c);
/* Load the host and its snapshot; on failure prints and returns EXIT_FAIL. */
int ctx_load_host(struct ctx *c);
/* host + host.conf; prints errors; returns an exit status. */
int ctx_load_config(struct ctx *c);
/* Find and load MODE; error lines into d; returns an exit status. */
int ctx_policy(struct ctx *c, const char *mode, struct policy **ret, struct diag *d);
/* The same, printing the error lines to stderr. */
int ctx_load_policy(struct ctx *c, const char *mode, struct policy **ret);
/* Print JSON to stdout, pretty. Takes ownership. */
void print_json(struct json_object *o);
json_object *json_str(const char *s);
/* "IRQ affinity", "thread scheduling" ...: an action kind for people. */
const char *kind_title(enum action_kind k);

int cmd_list(struct ctx *c, int argc, char **argv);
int cmd_show(struct ctx *c, int argc, char **argv);
int cmd_plan(struct ctx *c, int argc, char **argv);
int cmd_status(struct ctx *c, int argc, char **argv);
int cmd_snapshot(struct ctx *c, int argc, char **argv);
int cmd_check(struct ctx *c, int argc, char **argv);
int cmd_grub(struct ctx *c, int argc, char **argv);
int cmd_apply(struct ctx *c, int argc, char **argv);
int cmd_revert(struct ctx *c, int argc, char **argv);
/* status: what isolated holds (mode, targets: pristine / wanted / now). */
json_object *held_json(const struct host *h);
bool held_print(const struct host *h, bool all);

#endif
