/* isolated, the daemon: the modules and how they talk. Everything runs on
 * one sd-event loop in one thread; no module blocks it for longer than one
 * transaction.
 *
 *   isolated.c  main: options, config file, sd-event, signals, sd_notify,
 *               watchdog, start-up order, capabilities dropped (caps.c)
 *   holder.c    the mode held: apply / revert / plan / status / verify /
 *               confirm, recovery at start, the confirm deadline, the
 *               event path (threads), re-plans (rescan, devices), drift
 *   bus.c       sd-bus: the io.isolated.Daemon1 object, authorisation
 *               (uid 0 or polkit), argument checks, signals, properties
 *   limit.c     what a caller other than root may cost: calls a uid may
 *               make (a token bucket), refusals logged (a few a minute)
 *   procev.c    the proc connector (libnl-3): fork / exec / comm events
 *   devev.c     rtnetlink link events (libnl-route-3) and kobject uevents
 *   partwatch.c the partitions held: inotify on v2 cpuset.cpus.partition
 *   log.c       the journal (sd-journal, structured) or stderr
 *   caps.c      libcap: keep only what the daemon needs
 *
 * Errors are negative errno; a function either logs or returns the error,
 * never both. */
#ifndef ISOLATED_DAEMON_H
#define ISOLATED_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "isolated/snapshot.h"

/* ---- Configuration (isolated.c) ----
 * From /etc/isolated/isolated.conf (INI, section [daemon]; --conf FILE), then
 * the command line, which wins:
 *   mode = NAME             mode to hold at start (default: the journal's)
 *   revert-on-stop = no|yes SIGTERM reverts to vanilla first (default no)
 *   verify-interval = SECS  drift pass every SECS (default 0: off)
 *   enforce = no|yes        drift found is re-applied (default no)
 *   rescan-interval = SECS  full rescan period when the proc connector is
 *                           unavailable (default 2)
 *   policies = DIR[:DIR]    mode directories (default as isoctl's)
 *   host-conf = FILE        host.conf (default as isoctl's)
 *   call-burst = N          calls a uid other than 0 may make at once
 *                           (default LIMITS_BURST)
 *   call-interval = SECS    and one more every SECS after them (default 1)
 *   metrics-file = PATH     node_exporter textfile (default
 *                           METRICS_FILE_DEFAULT; empty: none)
 * Command line only: --root TREE (a fixture tree instead of the kernel),
 * --netlink-rcvbuf BYTES (proc connector socket buffer, for tests),
 * --no-proc-connector (force the rescan fallback), --conf FILE,
 * --check (load config, policies, host.conf; print problems; exit). */
#define METRICS_FILE_DEFAULT "/var/lib/prometheus/node-exporter/isolated.prom"

struct daemon_config {
	char *mode;
	bool revert_on_stop;
	unsigned verify_interval;
	bool enforce;
	unsigned rescan_interval;
	char **policy_dirs; /* strv */
	char *hostconf_path;
	bool hostconf_given;
	unsigned call_burst, call_interval;
	char *metrics_file; /* NULL or "": none */
	bool metrics_file_given;
	char *root;
	int netlink_rcvbuf;
	bool no_proc_connector;
};

/* ---- Logging (log.c) ----
 * Under systemd (JOURNAL_STREAM names our stderr) messages go to the
 * journal with sd_journal_send(): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and
 * the fields given ("ISOLATED_ITEM=tid/2205", "ISOLATED_MODE=dedicated",
 * ...). Otherwise one line on stderr: "isolated: message". */
void log_setup(void);
/* fields: "KEY=value" strings, NULL-terminated; may be NULL. */
void log_fields(int priority, const char *const *fields, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_error(...) log_fields(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_fields(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...) log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_fields(LOG_DEBUG, NULL, __VA_ARGS__)
/* Log and return r (negative errno); the message gets ": strerror(-r)". */
int log_errno(int priority, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- Capabilities (caps.c) ----
 * Keep CAP_SYS_NICE, CAP_SYS_ADMIN, CAP_NET_ADMIN in the permitted and
 * effective sets, drop every other from all sets and the bounding set, and
 * keep euid 0 (writes to /proc/sys and /proc/irq check the uid, not a
 * capability). With --root (a tree) nothing is dropped but the bounding
 * set. Returns -errno (the daemon refuses to run on failure). */
int caps_drop(bool tree);
/* True when the effective set holds cap (a CAP_* value). */
bool caps_have(int cap);

/* ---- Limits on callers other than root (limit.c) ----
 * Bookkeeping only, per uid: the time is a parameter (CLOCK_MONOTONIC µs),
 * so tests drive it. Calls: a token bucket of burst calls, one call more
 * every interval_usec (up to burst again); a call counts once for every
 * call_usec of the daemon's time it took, at least once (limits_charge:
 * the bucket may go below empty, and the uid waits until it is not).
 * Refusals to log: the first
 * log_first of a uid in a window of log_window_usec from its first one are
 * logged, the rest counted, and the count reported once the window ended
 * (limits_log, limits_flush). A uid whose bucket is full again and that has
 * nothing left to report is forgotten, so the table holds only the uids
 * that called lately (at most LIMITS_MAX_UIDS; beyond that a new uid is
 * refused). uid 0 is never limited and never counted. */
struct limits_config {
	unsigned burst;			  /* >= 1 */
	unsigned long long interval_usec; /* >= 1; burst * interval_usec <= LLONG_MAX / 2 */
	unsigned long long call_usec;	  /* 0: every call counts once */
	unsigned log_first;
	unsigned long long log_window_usec; /* >= 1 */
};
#define LIMITS_BURST 20
#define LIMITS_INTERVAL_USEC 1000000ULL
#define LIMITS_CALL_USEC (50 * 1000ULL)
#define LIMITS_LOG_FIRST 5
#define LIMITS_LOG_WINDOW_USEC (60 * 1000000ULL)
#define LIMITS_MAX_UIDS 4096
struct limits;
/* -EINVAL for a config out of range, -ENOMEM. */
int limits_new(const struct limits_config *cfg, struct limits **ret);
void limits_free(struct limits *l);
/* A call by uid at now: true, and a token taken; false when none is left,
 * with the time until there is one in *ret_retry_usec. */
bool limits_take(struct limits *l, uid_t uid, unsigned long long now, unsigned long long *ret_retry_usec);
/* The call uid was let make took usec of the daemon's time, ending at now:
 * charge what it cost beyond the call limits_take took. */
void limits_charge(struct limits *l, uid_t uid, unsigned long long now, unsigned long long usec);
/* A refusal of uid at now: true when it is to be logged. *ret_suppressed:
 * the refusals of uid left out of the log in a window that has ended, to
 * be reported before this one (0: none). */
bool limits_log(struct limits *l, uid_t uid, unsigned long long now, unsigned long long *ret_suppressed);
/* Report (report(userdata, uid, n)) and reset the windows ended by now
 * with refusals left out. Returns when the next such window ends, 0 when
 * none is open. now = ULLONG_MAX reports them all (at exit). */
unsigned long long limits_flush(struct limits *l, unsigned long long now,
				void (*report)(void *userdata, uid_t uid, unsigned long long n), void *userdata);

/* ---- The holder (holder.c) ---- */
struct holder;

/* Who called, as the bus reported it (bus.c fills it; the holder trusts it:
 * authorisation is done before). */
struct caller {
	uid_t uid;
	pid_t pid;
	const char *session; /* login session id; NULL if none */
};

/* A failed operation: bus error name (ISOLATED_BUS_ERROR_* in
 * isolated/busapi.h) and message (the lines isoctl prints on stderr). */
struct op_error {
	const char *name;
	char *message; /* allocated; op_error_done() frees */
};
void op_error_done(struct op_error *e);

struct holder_apply_opts {
	bool dry_run, force;
	const char *scope;		 /* NULL: the policy's */
	unsigned long long confirm_usec; /* 0: no confirmation needed */
};

/* Events the holder raises, for the bus to publish. mode_changed after a
 * committed apply/revert (not dry runs) and after a confirm timeout;
 * drift with the Verify() document; state_changed whenever holder_state()
 * changes. */
struct holder_events {
	void (*mode_changed)(void *userdata, const char *mode, const char *previous);
	void (*drift)(void *userdata, json_object *verify_report);
	void (*state_changed)(void *userdata);
	/* A partition held changed state (partwatch.c): cgroup its
	 * directory below /sys/fs/cgroup, state as cpuset.cpus.partition
	 * reads ("isolated invalid (REASON)", "isolated" again). */
	void (*partition_changed)(void *userdata, const char *cgroup, const char *state);
	void *userdata;
};

/* Open the host (cfg->root or the kernel), read host.conf. Does not touch
 * the host. */
int holder_new(const struct daemon_config *cfg, sd_event *ev, struct holder **ret);
void holder_free(struct holder *h);
void holder_set_events(struct holder *h, const struct holder_events *e);
/* Start-up (called before READY=1): undo an interrupted transaction; if a
 * confirmation deadline passed while we were down, go back to the previous
 * mode; re-apply the held mode (cfg->mode, else the journal's) so threads
 * and IRQs that appeared since are covered; arm the confirm timer and the
 * verify timer. Logs what it did. -errno only when the daemon cannot run
 * (the host cannot be read, a corrupt journal). */
int holder_start(struct holder *h);
/* SIGHUP: re-read host.conf and the held mode's policy, re-plan, apply the
 * difference, then a verify pass. Errors in the new files are logged and
 * the old ones kept. */
int holder_reload(struct holder *h);
/* SIGTERM: revert when cfg->revert_on_stop, else leave the mode in force. */
int holder_stop(struct holder *h);

/* Bus methods: 0 and a JSON document (report.h) in *ret, or -errno with e
 * filled. */
int holder_apply(struct holder *h, const char *mode, const struct holder_apply_opts *o, const struct caller *c,
		 json_object **ret, struct op_error *e);
int holder_revert(struct holder *h, bool dry_run, bool force, json_object **ret, struct op_error *e);
int holder_confirm(struct holder *h, const struct caller *c, json_object **ret, struct op_error *e);
int holder_plan(struct holder *h, const char *mode, const char *scope, json_object **ret, struct op_error *e);
int holder_status(struct holder *h, json_object **ret, struct op_error *e);
int holder_verify(struct holder *h, json_object **ret, struct op_error *e);
int holder_list_modes(struct holder *h, json_object **ret, struct op_error *e);

/* The summary document (report_summary) of what is held: mode, scope,
 * state, number of targets, the drift the last verification found, a
 * pending confirmation. From memory: no /proc, no journal; rebuilt when
 * one of them changes. Borrowed, valid until the next operation; NULL on
 * ENOMEM. What Status() answers a caller other than root. */
json_object *holder_summary(struct holder *h);
/* A number that changes whenever the summary does: a Status document read
 * at one generation stays right about what is held while it is the same
 * (not about threads that came and went). */
unsigned long long holder_generation(const struct holder *h);
/* The mode held and the daemon's counters, for its metrics file: m from the
 * journal in memory and the last verify, d the holder's counters (m->daemon
 * = d; the proc connector's events and overflows are the caller's). */
struct metrics;
struct metrics_daemon;
void holder_metrics(const struct holder *h, struct metrics *m, struct metrics_daemon *d);
/* The mode held and the daemon's counters, for its metrics file: m from the
 * journal in memory and the last verify, d the holder's counters (m->daemon
 * = d; the proc connector's events and overflows are the caller's). */
struct metrics;
struct metrics_daemon;
void holder_metrics(const struct holder *h, struct metrics *m, struct metrics_daemon *d);

/* "vanilla" when nothing is held. */
const char *holder_mode(const struct holder *h);
/* "idle" (vanilla, nothing held), "holding" (a mode in force),
 * "awaiting-confirmation", "drifted" (the last verify found drift not
 * re-applied), "failed" (the last re-apply failed; the log says why). */
const char *holder_state(const struct holder *h);
/* The STATUS= line for sd_notify ("Holding dedicated (153 targets)"), and a
 * callback run whenever it changes: isolated.c's, beside the bus's events
 * (holder_set_events), so the two need not share one sink. */
const char *holder_status_text(const struct holder *h);
void holder_set_status_cb(struct holder *h, void (*cb)(void *userdata, const char *status), void *userdata);
/* The process scope of the held mode is given, so the event path needs
 * ancestors (host_snapshot_threads). */

/* Event path (procev.c, devev.c). Cheap to call; the holder batches:
 * threads are evaluated at once (they are what a millisecond is for),
 * rescans and device re-plans are debounced (50 ms). */
void holder_threads(struct holder *h, const struct thread_ref *refs, size_t n);
/* A full re-plan of the held mode against a fresh snapshot (ENOBUFS on
 * the proc connector, the fallback interval). why goes into the log. */
void holder_rescan(struct holder *h, const char *why);
/* A NIC appeared or came up, an IRQ or a CPU came or went: re-plan. */
void holder_devices_changed(struct holder *h, const char *why);

/* ---- The partitions held (partwatch.c) ----
 * partwatch_follow(j) after every transaction and at start: one inotify
 * source (sd_event_add_inotify_fd: the file opened through the host seam,
 * so a --root tree's too) on each v2 cpuset.cpus.partition the journal j
 * has a target of (NULL: none), dropped when j no longer has it. Each
 * follow and each event reads the file; a state that differs from the
 * one read last calls changed -- the first read only when it is not what
 * isolated wrote -- so a state is reported once however often the kernel
 * notifies. A file that reads no partition state (a writer's truncation)
 * is passed over. partwatch does not log changes: the holder does. */
struct journal;
struct partwatch_change {
	const char *cgroup; /* REL below sys/fs/cgroup */
	const char *state;  /* as read; "absent": the file is gone */
	const char *wanted; /* what isolated wrote */
	const char *cpus;   /* the CPUs it takes; NULL when unknown */
	bool holds;	    /* state is what isolated wrote */
};
typedef void (*partwatch_changed_fn)(void *userdata, const struct partwatch_change *c);
struct partwatch;
int partwatch_new(sd_event *ev, const struct host *host, partwatch_changed_fn changed, void *userdata,
		  struct partwatch **ret);
void partwatch_free(struct partwatch *w);
void partwatch_follow(struct partwatch *w, const struct journal *j);
/* The partitions watched (tests). */
size_t partwatch_count(const struct partwatch *w);

/* ---- The bus (bus.c) ----
 * Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS when set, as in the
 * tests), attach to ev, export the object, take ISOLATED_BUS_NAME, and
 * register as the holder's event sink. Authorisation for methods that
 * change the machine: uid 0 (from the bus's credentials of the sender), or
 * polkit's CheckAuthorization for ISOLATED_POLKIT_ACTION (interactive when
 * the caller allows it); polkit absent or any error in the check: denied.
 * The polkit call is asynchronous: the method is answered when polkit
 * answers, the loop runs meanwhile. Losing the bus connection ends the
 * loop with EXIT_FAILURE (sd_bus_set_exit_on_disconnect), so systemd
 * restarts the daemon. bus_start does not log; -EEXIST: another process
 * owns ISOLATED_BUS_NAME. bus_free unregisters from the holder with
 * holder_set_events(h, all-NULL events): the holder skips NULL callbacks.
 * Call it after holder_stop (which may still raise events). A uid other
 * than 0 is limited as cfg->limits says (bus.c's header says how);
 * -EINVAL for limits out of range. */
struct bus;
/* What bus_start takes; NULL: the defaults (LIMITS_*) on the loop's clock. */
struct bus_config {
	struct limits_config limits;
	/* CLOCK_MONOTONIC µs for the limits and the shared status; NULL:
	 * the system's. Tests pass a clock of their own. */
	unsigned long long (*now)(void *userdata);
	void *now_userdata;
};
/* How long one read of the whole Status document (StatusEx details) serves
 * every caller but root, while the holder's generation stays. */
#define STATUS_SHARED_USEC (5 * 1000000ULL)
int bus_start(sd_event *ev, struct holder *h, const struct bus_config *cfg, struct bus **ret);
void bus_free(struct bus *b);

/* ---- The metrics file (textfile.c) ----
 * path rewritten (atomically, 0644) with the metrics of metrics.h when they
 * changed, checked once a second; p (NULL: none) gives the proc
 * connector's counters. given: path is isolated.conf's (a failure is a
 * warning; the default's missing directory only a notice). -ENOMEM, or an
 * sd-event error. */
struct procev;
struct textfile;
int textfile_start(sd_event *ev, struct holder *h, const struct procev *p, const char *path, bool given,
		   struct textfile **ret);
void textfile_free(struct textfile *t);

/* ---- Kernel events (procev.c, devev.c) ----
 * procev_start: NETLINK_CONNECTOR socket joined to CN_IDX_PROC, listening
 * switched on (PROC_CN_MCAST_LISTEN), on ev. Fork of a thread or process,
 * exec and comm events call holder_threads(), once per batch drained, each
 * tid once; exit events are ignored (a tid that exits within its batch is
 * left out); ENOBUFS (the socket overflowed: events were lost) calls
 * holder_rescan(). rcvbuf > 0 sets the socket's receive buffer
 * (SO_RCVBUFFORCE, else SO_RCVBUF; tests), 0 gives 4 MiB. Events before
 * procev_start returns are not delivered: start it before the first
 * snapshot. -EPERM / -EACCES / -EPROTONOSUPPORT when the kernel refuses:
 * -EPERM without CAP_NET_ADMIN before Linux 6.6 (6.6 on needs none) and
 * when the kernel does not answer the request (outside the initial user or
 * pid namespace, no CONFIG_PROC_EVENTS); -EPROTONOSUPPORT outside the
 * initial network namespace or without CONFIG_CONNECTOR. The caller falls
 * back to a rescan interval and says so. */
struct procev;
/* Whether this process is in the initial user and PID namespaces, the only
 * ones the kernel sends process events to (it ignores PROC_CN_MCAST_LISTEN
 * from anywhere else, without an answer): 1 yes; 0 no, *ret_which "PID" or
 * "user"; -errno if /proc/self/ns cannot be read. */
int procev_initial_namespaces(const char **ret_which);
int procev_start(sd_event *ev, struct holder *h, int rcvbuf, struct procev **ret);
void procev_free(struct procev *p);
/* Events received (every kind the kernel sent, acks aside) and overflows,
 * for the log and the benchmark. */
void procev_counters(const struct procev *p, unsigned long long *ret_events, unsigned long long *ret_overflows);

/* devev_start: rtnetlink RTNLGRP_LINK (a link added, or IFF_UP set) and
 * NETLINK_KOBJECT_UEVENT (subsystems cpu, pci, msi, net, irq: add, remove,
 * online, offline, bind) call holder_devices_changed(). A socket that
 * cannot be opened is logged and skipped (0 returned) so the daemon runs
 * on without it. */
struct devev;
int devev_start(sd_event *ev, struct holder *h, struct devev **ret);
void devev_free(struct devev *d);

#endif
