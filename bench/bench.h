/* isoctl bench: the same RT probes and best-effort load under each mode in
 * turn, compared side by side.
 *
 * Files:
 *   bench.c       the command: options, site variables, apply / warm up /
 *                 measure / revert per mode, signals, the host restored
 *   bench-work.c  the processes it measures: the "RT VM" (probe threads,
 *                 re-executed so QEMU's "-name guest=NAME" is on its
 *                 command line) and the best-effort load (CPU hogs, the
 *                 TCP stream)
 *   bench-net.c   the network the NetRT probe and the stream use: a veth
 *                 pair between two network namespaces of its own (or the
 *                 loopback of one), built with rtnetlink
 *   bench-out.c   the results as a table, JSON, CSV and an SVG plot
 */
#ifndef ISOCTL_BENCH_H
#define ISOCTL_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "hist.h"

struct ctx;

/* ---- results: what bench.c fills in and bench-out.c prints ---- */

enum bench_probe {
	BENCH_WAKEUP, /* lateness of an absolute periodic timer, cyclictest-style */
	BENCH_NETRT,  /* round trip of a UDP request to the echo server ("NetRT") */
	_BENCH_PROBE_MAX,
};

struct bench_probe_result {
	struct hist hist; /* ns */
	/* wakeup: periods missed entirely (woken more than one interval
	 * late); NetRT: requests with no answer within 1 s. */
	uint64_t lost;
};

struct bench_mode_result {
	char *mode;
	double measured_s; /* the measurement window, wall clock */
	struct bench_probe_result probe[_BENCH_PROBE_MAX];
	/* Best-effort throughput during the window; < 0: that load was off. */
	double stream_MBps; /* TCP stream, 10^6 bytes received per second */
	double hog_ops;	    /* CPU hogs, loop iterations per second, all hogs */
	/* Busy share of the online CPUs (user+nice+system+irq+softirq+steal
	 * over all, from /proc/stat) during the window, percent. */
	double cpu_util;
	double *cpu_util_per_cpu; /* n_cpus entries, CPU i at index i */
	unsigned n_cpus;
	unsigned n_changed; /* values the apply wrote */
};

struct bench_config {
	char *scope;		 /* "process:PID" or "host" */
	char *rt_cpus;		 /* the RT CPUs of the site variables ("1") */
	char *housekeeping_cpus; /* "0" */
	char *rt_vm;		 /* the VM name the probes answer to ("isobench-PID") */
	const char *probe_tool;	 /* "isolated" or "cyclictest" */
	const char *net;	 /* "veth" or "loopback"; NULL: no network */
	bool load_cpu, load_net; /* CPU hogs, TCP stream */
	unsigned n_hogs;
	unsigned interval_us;		     /* wakeup period */
	unsigned netrt_min_us, netrt_max_us; /* NetRT request spacing, uniform */
	double duration_s, warmup_s, calibration_s;
	char *kernel; /* uname -r */
	unsigned online_cpus;
	char **held_back; /* settings of the modes the bench leaves alone, with why */
	bool pm_qos;	  /* /dev/cpu_dma_latency held at 0 while measuring, as cyclictest does */
};

struct bench_result {
	struct bench_config cfg;
	/* The probes alone: no load, no mode applied (calibration_s long). */
	struct bench_probe_result calibration[_BENCH_PROBE_MAX];
	double clock_read_ns; /* one clock_gettime(CLOCK_MONOTONIC) in the probe */
	double record_ns;     /* one hist_record */
	struct bench_mode_result *modes;
	size_t n_modes;
};

void bench_result_free(struct bench_result *r);

/* ---- output (bench-out.c) ---- */

extern const char *const bench_probe_name[_BENCH_PROBE_MAX];  /* "wakeup", "netrt" */
extern const char *const bench_probe_title[_BENCH_PROBE_MAX]; /* "wakeup latency", "NetRT round trip" */

/* The comparison table for people (stdout of isoctl bench). */
void bench_print_table(FILE *f, const struct bench_result *r);
/* The document of --json (schema: tests/data/bench.schema.json). */
json_object *bench_json(const struct bench_result *r);
/* --csv: a header line, then one line per mode and probe. */
void bench_print_csv(FILE *f, const struct bench_result *r);
/* --plot FILE: the latency distributions of the modes overlaid, one panel
 * per probe, log-scale counts; standalone SVG. -errno with err set. */
int bench_write_svg(const char *path, const struct bench_result *r, char *err, size_t errlen);

/* Relative change of b against a in percent ((b - a) / a * 100); NAN when
 * a is 0 or either is negative (not measured). */
double bench_rel(double a, double b);

/* ---- the network (bench-net.c) ---- */

enum bench_net_kind { BENCH_NET_VETH, BENCH_NET_LOOPBACK };

/* Two ends: the client side (NetRT client, stream sender) and the server
 * side (echo server, stream receiver). veth: each in a network namespace of
 * its own, joined by a veth pair, 10.199.0.1/30 (client) and 10.199.0.2/30
 * (server); loopback: both in one new namespace, 127.0.0.1. The
 * namespaces have no name and nothing of the host's: they and the veth pair
 * disappear when the last socket in them is closed, however the bench
 * ends. */
struct bench_net {
	enum bench_net_kind kind;
	int ns_client, ns_server; /* namespace fds (the same for loopback) */
	char client_addr[16], server_addr[16];
	char server_if[16]; /* the server side's interface ("isobench1", or "lo") */
};

/* Create the namespaces and link. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 * -errno with a message in err. The calling thread is back in its own
 * namespace on return. */
int bench_net_setup(enum bench_net_kind kind, struct bench_net *n, char *err, size_t errlen);
/* A socket(AF_INET, type | SOCK_CLOEXEC, 0) in the client or the server
 * namespace: fd or -errno. */
int bench_net_socket(const struct bench_net *n, bool server, int type);
void bench_net_done(struct bench_net *n);

/* ---- the measured processes (bench-work.c) ---- */

/* Shared memory between the bench and its processes (one MAP_SHARED page
 * set, passed to the re-executed RT VM process as a memfd). */
enum bench_phase { BENCH_IDLE, BENCH_MEASURE, BENCH_STOP };
/* The phase word: a generation count and the phase, so a probe's
 * acknowledgement ("seen") names the exact switch it acted on. */
#define BENCH_WORD(gen, phase) ((int)(((unsigned)(gen) << 2) | (unsigned)(phase)))
#define BENCH_PHASE(word) ((enum bench_phase)((unsigned)(word)&3U))

struct bench_shm {
	/* Set by the bench. */
	_Atomic int phase;   /* BENCH_WORD(generation, enum bench_phase) */
	_Atomic int load_on; /* hogs and stream run (else they wait) */
	unsigned interval_us, netrt_min_us, netrt_max_us;
	bool cyclictest;      /* the wakeup thread runs cyclictest instead */
	unsigned duration_ms; /* cyclictest: how long */
	/* Set by the processes. */
	_Atomic int ready;		    /* processes set up (threads named, sockets ready) */
	_Atomic int seen[_BENCH_PROBE_MAX]; /* the phase word each probe thread last acted on */
	_Atomic uint64_t stream_bytes;
	_Atomic uint64_t hog_ops;
	double clock_read_ns, record_ns;
	char error[256]; /* a process that failed says why here, then exits 1 */
	struct bench_probe_result probe[_BENCH_PROBE_MAX];
};

/* argv[1] of the re-executed RT VM process. */
#define BENCH_VM_ARG "--bench-vm"
/* main() of the RT VM process: isoctl re-executed as
 *   "isobench-vm" BENCH_VM_ARG "-name" "guest=NAME,debug-threads=on" SHM_FD
 *     UDP_SERVER_FD UDP_CLIENT_FD
 * Threads: "CPU 1/KVM" (wakeup probe), "CPU 2/KVM" (echo server),
 * "vhost-PID" (NetRT client, PID its own). */
int bench_vm_main(int argc, char **argv);
/* The load, in forked children of the bench: */
void bench_hog_main(struct bench_shm *shm) __attribute__((noreturn));
void bench_stream_sender_main(struct bench_shm *shm, int fd) __attribute__((noreturn));
void bench_stream_receiver_main(struct bench_shm *shm, int fd) __attribute__((noreturn));

int cmd_bench(struct ctx *c, int argc, char **argv);

#endif
