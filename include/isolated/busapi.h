/* The D-Bus API of the isolated daemon: names shared by the daemon and
 * isoctl. One well-known name, one object, one interface.
 *
 * Every method answers with one string: the JSON document `isoctl --json`
 * prints for the same command (include/isolated/report.h builds them), so a
 * client renders the same text whether it asked the daemon or did the work
 * itself.
 *
 *   Apply(s mode, a{sv} options) -> (s report)      changes the machine
 *       options: "dry-run" b, "force" b, "scope" s ("host", "process:PID",
 *       "cgroup:PATH"), "confirm-within" t (microseconds, from
 *       ISOLATED_BUS_CONFIRM_MIN_USEC to ISOLATED_BUS_CONFIRM_MAX_USEC, as
 *       isoctl's --confirm-within; 0, as absent: no confirmation)
 *   Revert(a{sv} options) -> (s report)             changes the machine
 *       options: "dry-run" b, "force" b
 *   Confirm() -> (s report)                         changes the machine
 *   Plan(s mode, a{sv} options) -> (s report)       read-only; "scope" s
 *   Status() -> (s report)                          read-only: the status
 *       document for root; for anyone else a summary (report_summary)
 *   StatusEx(a{sv} options) -> (s report)           read-only; "details" b:
 *       the status document for anyone (for callers other than root one
 *       read serves all of them for a few seconds); without it the summary
 *   Verify() -> (s report)                          read-only (re-applies
 *       drift only when the daemon is configured with enforce = yes)
 *   ListModes() -> (s report)                       read-only
 *
 *   property Mode s   the mode held ("vanilla" when isolated holds nothing)
 *   property State s  see holder_state() in daemon/daemon.h
 *   signal ModeChanged(s mode, s previous)
 *   signal DriftFound(s report)   the Verify() document of the pass that
 *                                 found drift
 *   signal PartitionChanged(s cgroup, s state)
 *                                 a v2 partition held changed state (the
 *                                 kernel invalidated it, or it is valid
 *                                 again): its cgroup below /sys/fs/cgroup
 *                                 and its cpuset.cpus.partition as read,
 *                                 escaped as util_escape does; once a change
 *
 * A dry-run Apply/Revert is still a "changes the machine" method for
 * authorisation (it takes the lock and reads the journal).
 *
 * Every method call of a uid other than 0 takes one of the calls that uid
 * may make (daemon/limit.c; isolated(8) says how many): beyond them the
 * answer is org.freedesktop.DBus.Error.LimitsExceeded, which says when to
 * try again, before anything else is done.
 *
 * Method arguments are checked before anything else: a mode is a name of at
 * most ISOLATED_BUS_MODE_MAX characters from [A-Za-z0-9_-] (never a path);
 * option keys must be known, with the right type; a scope at most
 * ISOLATED_BUS_SCOPE_MAX characters of printable ASCII; confirm-within 0 or
 * in its range. Anything else is ISOLATED_BUS_ERROR_ARGUMENT. */
#ifndef ISOLATED_BUSAPI_H
#define ISOLATED_BUSAPI_H

#include "isolated/modes.h"

#define ISOLATED_BUS_NAME "io.isolated.Daemon1"
#define ISOLATED_BUS_PATH "/io/isolated/Daemon1"
#define ISOLATED_BUS_INTERFACE "io.isolated.Daemon1"
/* polkit action for the methods that change the machine (auth_admin_keep). */
#define ISOLATED_POLKIT_ACTION "io.isolated.manage"

#define ISOLATED_BUS_MODE_MAX MODES_NAME_MAX /* isolated/modes.h */
#define ISOLATED_BUS_SCOPE_MAX 4096
/* Apply's "confirm-within": 1 s to 24 h. */
#define ISOLATED_BUS_CONFIRM_MIN_USEC 1000000ULL
#define ISOLATED_BUS_CONFIRM_MAX_USEC (86400ULL * 1000000ULL)

/* Errors. isoctl maps them to its exit statuses: ARGUMENT and POLICY -> 2,
 * the others -> 1. The message is what isoctl prints on stderr, one line
 * per problem, exactly as the direct mode would: each line but a policy's
 * FILE:LINE: ones starts with ISOLATED_BUS_MSG_PREFIX, isoctl's name. */
#define ISOLATED_BUS_MSG_PREFIX "isoctl: "
#define ISOLATED_BUS_ERROR_ARGUMENT "io.isolated.Error.InvalidArgument" /* bad name, option, scope */
#define ISOLATED_BUS_ERROR_POLICY "io.isolated.Error.BadPolicy"	 /* unknown mode, policy/host.conf errors */
#define ISOLATED_BUS_ERROR_BUSY "io.isolated.Error.Busy"		 /* the lock is held elsewhere */
#define ISOLATED_BUS_ERROR_FAILED "io.isolated.Error.Failed"		 /* anything else (host unreadable...) */
#define ISOLATED_BUS_ERROR_NOT_PENDING "io.isolated.Error.NotPending"	 /* Confirm with nothing to confirm */
#define ISOLATED_BUS_ERROR_NOT_OWNER "io.isolated.Error.NotOwner"	 /* Confirm from another caller */
/* Authorisation failures use org.freedesktop.DBus.Error.AccessDenied. */

#endif
