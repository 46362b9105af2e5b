/* The benchmark: the same RT probes and best-effort load under each mode in
 * turn, compared side by side. Its one entry point, bench_main, is what
 * `isoctl bench` runs; the bench knows the program that runs it only
 * through struct bench_env.
 *
 * Files (bench/):
 *   runner.c    bench_main: options, then calibration and, per mode, apply /
 *               warm up / measure / revert; the host checked before and after
 *   options.c   the options and their checks, into struct bench_config
 *   site.c      the site variables (host.conf's, with the bench as the RT VM)
 *               and the modes loaded and scoped to the bench
 *   workload.c  the measured processes started, watched and stopped, and the
 *               shared memory they report into (workload.h)
 *   measure.c   one measurement window: probe phases, load, CPU busy share
 *   probe.c     the RT VM process: the wakeup and NetRT probes, cyclictest
 *   http.c      --workload http: lighttpd the RT service, httperf its client
 *   load.c      the best-effort load: CPU hogs, the TCP stream
 *   net.c       the network of NetRT and the stream (veth pair or loopback)
 *   hist.c      the latency histogram
 *   spread.c    a figure over --rounds: median, range, bootstrap interval
 *   compare.c   the numbers every output shows: statistics, relative changes
 *   table.c, json.c, csv.c, svg.c   the outputs (output.h)
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <getopt.h>
#include <stdbool.h>

#include "isolated/util.h"

struct host;
struct cpuset;

/* bench_main's exit statuses: isoctl's. */
enum { BENCH_OK = 0, BENCH_FAIL = 1, BENCH_USAGE = 2 };

/* What the bench needs of the program that runs it. */
struct bench_env {
	const char *root;	   /* --root DIR given (the bench refuses a tree); NULL */
	const char *scope;	   /* --scope; NULL: the modes govern the bench's processes */
	bool json;		   /* --json */
	char *const *policy_dirs;  /* where modes are found, in order */
	const char *hostconf_path; /* host.conf; a missing one is fine */
	void *front;		   /* handed back to open_host */
	/* One error line in the front door's voice ("isoctl: ..."). */
	void (*err)(const char *fmt, ...) ISO_PRINTF(1, 2);
	/* The same for each line of msg, printed as it is (already escaped);
	 * NULL msg: out of memory. */
	void (*err_lines)(const char *msg);
	/* Open the running kernel and read its online CPUs; prints errors,
	 * returns an exit status. The host and the set stay the front's. */
	int (*open_host)(void *front, struct host **ret_host, const struct cpuset **ret_online);
	/* The isolated daemon runs (it would adopt the bench's modes). */
	bool (*daemon_running)(void);
};

/* The bench's options, for the getopt_long table of the program that runs
 * it: isoctl takes them anywhere on its command line, as its own, and hands
 * them to bench_main as "--NAME" or "--NAME=VALUE". */
enum bench_option {
	BENCH_OPT_DURATION = 0x200,
	BENCH_OPT_WARMUP,
	BENCH_OPT_INTERVAL,
	BENCH_OPT_PROBE,
	BENCH_OPT_NET,
	BENCH_OPT_LOAD,
	BENCH_OPT_HOGS,
	BENCH_OPT_ROUNDS,
	BENCH_OPT_WORKLOAD,
	BENCH_OPT_RATE,
	BENCH_OPT_CONNS,
	BENCH_OPT_RT_CPUS,
	BENCH_OPT_KEEP_IDLE,
	BENCH_OPT_CSV,
	BENCH_OPT_PLOT,
	BENCH_OPT_OUTPUT,
};
#define BENCH_OPT_FIRST BENCH_OPT_DURATION
#define BENCH_OPT_COUNT (BENCH_OPT_OUTPUT - BENCH_OPT_FIRST + 1)
/* clang-format off */
#define BENCH_LONG_OPTIONS \
	{"duration", required_argument, NULL, BENCH_OPT_DURATION}, \
	{"warmup", required_argument, NULL, BENCH_OPT_WARMUP}, \
	{"interval", required_argument, NULL, BENCH_OPT_INTERVAL}, \
	{"probe", required_argument, NULL, BENCH_OPT_PROBE}, \
	{"net", required_argument, NULL, BENCH_OPT_NET}, \
	{"load", required_argument, NULL, BENCH_OPT_LOAD}, \
	{"hogs", required_argument, NULL, BENCH_OPT_HOGS}, \
	{"rounds", required_argument, NULL, BENCH_OPT_ROUNDS}, \
	{"workload", required_argument, NULL, BENCH_OPT_WORKLOAD}, \
	{"rate", required_argument, NULL, BENCH_OPT_RATE}, \
	{"conns", required_argument, NULL, BENCH_OPT_CONNS}, \
	{"rt-cpus", required_argument, NULL, BENCH_OPT_RT_CPUS}, \
	{"keep-idle", no_argument, NULL, BENCH_OPT_KEEP_IDLE}, \
	{"csv", no_argument, NULL, BENCH_OPT_CSV}, \
	{"plot", required_argument, NULL, BENCH_OPT_PLOT}, \
	{"output", required_argument, NULL, BENCH_OPT_OUTPUT}
/* clang-format on */

/* bench [OPTIONS] [--] MODE [MODE...]: argv[0] is the program's name.
 * Prints the results on stdout, progress and errors on stderr; returns an
 * exit status. */
int bench_main(const struct bench_env *env, int argc, char **argv);

/* argv[1] of the re-executed RT VM process. */
#define BENCH_VM_ARG "--bench-vm"
/* main() of the RT VM process (probe.c): the program that runs the bench,
 * re-executed as
 *   "isobench-vm" BENCH_VM_ARG "-name" "guest=NAME,debug-threads=on" SHM_FD
 *     UDP_SERVER_FD UDP_CLIENT_FD
 * must call it first thing when argv[1] is BENCH_VM_ARG. */
int bench_vm_main(int argc, char **argv);

#endif
