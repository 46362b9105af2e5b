/* The bench's results: what the runner fills in and the outputs print. */
#ifndef BENCH_RESULT_H
#define BENCH_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hist.h"

enum bench_probe {
	BENCH_WAKEUP, /* lateness of an absolute periodic timer, cyclictest-style */
	BENCH_NETRT,  /* round trip of a UDP request to the echo server ("NetRT") */
	/* --workload memcached: memaslap's get and set latencies, from its
	 * power-of-two histogram (memcached.c). */
	BENCH_MC_GET,
	BENCH_MC_SET,
	_BENCH_PROBE_MAX,
};

struct bench_probe_result {
	struct hist hist; /* ns */
	/* wakeup: periods missed entirely (woken more than one interval
	 * late); NetRT: requests with no answer within 1 s. */
	uint64_t lost;
};

/* --workload http: what httperf reports of one run against the bench's
 * lighttpd (its own words in the comments). Times in ms as httperf gives
 * them (0.1 ms resolution; its median comes from 1 ms histogram bins). */
enum bench_http_conn { HTTP_MIN, HTTP_AVG, HTTP_MAX, HTTP_MEDIAN, HTTP_STDDEV, _HTTP_CONN_MAX };

struct bench_http {
	bool ran;
	uint64_t conns, requests, replies; /* "Total: connections N requests N replies N" */
	double duration_s;		   /* "test-duration" */
	double conn_rate;		   /* "Connection rate: N conn/s" */
	double conn_ms[_HTTP_CONN_MAX];	   /* "Connection time [ms]: min avg max median stddev" */
	double connect_ms;		   /* "Connection time [ms]: connect" */
	double response_ms, transfer_ms;   /* "Reply time [ms]: response transfer" */
	/* "Reply rate [replies/s]: min avg max stddev (N samples)": one sample
	 * every 5 s, so none for runs shorter than that. */
	double reply_rate[4];
	unsigned reply_rate_samples;
	uint64_t status_2xx;			      /* "Reply status: 2xx=N" */
	uint64_t errors;			      /* "Errors: total N" */
	uint64_t client_timo, connrefused, connreset; /* "client-timo", "connrefused", "connreset" */
	double cpu_pct;				      /* "CPU time [s]: ... total N%": httperf's own */
};

/* --workload memcached: memaslap's counts of one window (or, in a mode's
 * result, of all its rounds; ops_per_s their mean). */
struct bench_memcached {
	bool ran;
	uint64_t ops, gets, sets, get_misses; /* "cmd_get: N", "cmd_set: N", "get_misses: N" */
	double run_s;			      /* "Run time: 2.0s" */
	double ops_per_s;		      /* "TPS: N" */
};

/* One round of a mode (--rounds): the statistics that get a spread. */
enum bench_round_stat {
	BENCH_STAT_P50,
	BENCH_STAT_P99,
	BENCH_STAT_P999,
	BENCH_STAT_MAX,
	_BENCH_STAT_MAX,
};

struct bench_round {
	uint64_t stat[_BENCH_PROBE_MAX][_BENCH_STAT_MAX]; /* ns */
	double stream_MBps, hog_ops;			  /* < 0: that load was off */
	struct bench_http http;				  /* --workload http */
	struct bench_memcached mc;			  /* --workload memcached */
};

struct bench_mode_result {
	char *mode;
	/* With --rounds N: each round's figures, in the order measured (the
	 * modes alternate: A B A B ...); the histograms below hold every
	 * round's samples, the throughputs and utilisation their mean. */
	struct bench_round *rounds;
	size_t n_rounds;
	double measured_s; /* the measurement window, wall clock */
	struct bench_probe_result probe[_BENCH_PROBE_MAX];
	/* --workload http: httperf's figures, over every round (http.c's
	 * bench_http_combine). */
	struct bench_http http;
	struct bench_memcached mc; /* --workload memcached: over every round */
	/* Best-effort throughput during the window; < 0: that load was off. */
	double stream_MBps; /* TCP stream, 10^6 bytes received per second */
	double hog_ops;	    /* CPU hogs, loop iterations per second, all hogs */
	/* Busy share of the online CPUs (user+nice+system+irq+softirq+steal
	 * over all, from /proc/stat) during the window, percent. */
	double cpu_util;
	double *cpu_util_per_cpu; /* n_cpus entries, CPU i at index i */
	unsigned n_cpus;
	unsigned n_changed; /* values the apply wrote */
	uint32_t policy_crc32; /* of the mode's policy file, as read */
	bool have_policy_crc32;
};

/* What identifies the host of a run (hostid.c); NULL: not known. */
struct bench_host_id {
	char *kernel_version; /* uname -v */
	char *cpu_model;      /* /proc/cpuinfo's "model name" */
	char *virtualization; /* systemd-detect-virt: "kvm", "none" */
	char *cmdline;	      /* /proc/cmdline */
};

struct bench_config {
	char *scope;		 /* "process:PID" or "host" */
	char *rt_cpus;		 /* the RT CPUs of the site variables ("1") */
	char *housekeeping_cpus; /* "0" */
	char *rt_vm;		 /* the VM name the probes answer to ("isobench-PID") */
	const char *workload;	 /* "probes", "http" (lighttpd + httperf), "memcached" (+ memaslap) */
	unsigned mc_concurrency; /* --workload memcached: memaslap's concurrent requests */
	unsigned http_rate;	 /* --rate: httperf's connections per second */
	unsigned http_conns;	 /* --conns: a window's connections (rate x duration) */
	const char *http_file;	 /* the URI lighttpd serves (BENCH_HTTP_URI) */
	const char *probe_tool;	 /* "isolated" or "cyclictest" */
	const char *net;	 /* "veth" or "loopback"; NULL: no network */
	bool load_cpu, load_net; /* CPU hogs, TCP stream */
	unsigned n_hogs;
	unsigned rounds;		     /* --rounds: the modes alternate this many times */
	unsigned interval_us;		     /* wakeup period */
	unsigned netrt_min_us, netrt_max_us; /* NetRT request spacing, uniform */
	double duration_s, warmup_s, calibration_s;
	char *kernel; /* uname -r */
	struct bench_host_id host;
	unsigned online_cpus;
	char **held_back; /* settings of the modes the bench leaves alone, with why */
	bool pm_qos;	  /* /dev/cpu_dma_latency held at 0 while measuring, as cyclictest does */
};

struct bench_result {
	struct bench_config cfg;
	/* The probes alone: no load, no mode applied (calibration_s long). */
	struct bench_probe_result calibration[_BENCH_PROBE_MAX];
	struct bench_http http_calibration; /* --workload http: the server alone */
	struct bench_memcached mc_calibration; /* --workload memcached: the server alone */
	double clock_read_ns; /* one clock_gettime(CLOCK_MONOTONIC) in the probe */
	double record_ns;     /* one hist_record */
	struct bench_mode_result *modes;
	size_t n_modes;
};

void bench_result_free(struct bench_result *r);

/* --workload http: lighttpd and httperf instead of the probes. */
static inline bool bench_workload_http(const struct bench_config *c)
{
	return c->workload && strcmp(c->workload, "http") == 0;
}

/* --workload memcached: memcached and memaslap instead of the probes. */
static inline bool bench_workload_memcached(const struct bench_config *c)
{
	return c->workload && strcmp(c->workload, "memcached") == 0;
}

/* Probe p is one of the run's workload: get and set with --workload
 * memcached, wakeup and NetRT otherwise (--workload http's documents keep
 * them, empty). Outputs show these only. */
static inline bool bench_probe_of(const struct bench_config *c, int p)
{
	return bench_workload_memcached(c) == (p == BENCH_MC_GET || p == BENCH_MC_SET);
}

extern const char *const bench_probe_name[_BENCH_PROBE_MAX];  /* "wakeup", "netrt", "get", "set" */
extern const char *const bench_probe_title[_BENCH_PROBE_MAX]; /* "wakeup latency", ... "memcached get" */

#endif
