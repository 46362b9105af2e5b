/* The state of one bench run, shared by the files that carry it out:
 * runner.c (the sequence), options.c, site.c, workload.c, measure.c. */
#ifndef BENCH_RUNNER_H
#define BENCH_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "bench.h"
#include "net.h"
#include "result.h"
#include "workload.h"

#define NSEC_PER_SEC 1000000000ULL

struct hostconf;
struct policy;

/* The bench's options as given (NULL: not given). */
struct bench_opts {
	const char *duration, *warmup, *interval, *probe, *net, *load, *hogs, *rounds, *rt_cpus, *plot, *workload,
	    *rate, *conns, *output;
	bool csv, keep_idle;
};

struct bench {
	const struct bench_env *env;
	struct bench_opts opt;
	struct host *host;	     /* the running kernel (env->open_host) */
	const struct cpuset *online; /* its online CPUs */
	struct bench_result r;
	struct bench_shm *shm;
	int shm_fd;
	struct bench_net net;
	bool have_net;
	pid_t kids[256];
	size_t n_kids;
	struct hostconf *hc;
	struct policy **pol; /* one per mode of r.modes */
	struct policy *vanilla;
	bool applied; /* a mode of ours is in force */
	int dma_fd;   /* /dev/cpu_dma_latency held at 0, -1 */
	unsigned gen;
	char *sysctl_before[6]; /* one per watched_sysctls entry (runner.c) */
	/* A workload's programs (program.c): the server's pid (0: none),
	 * its name and log for messages, the full paths of both. */
	pid_t server_pid;
	const char *server_name;
	char *server_log;
	char *server_bin, *client_bin;
	char *http_dir; /* --workload http: lighttpd's configuration and files */
};

/* The signal that ends the run early (SIGINT, SIGTERM, SIGHUP), 0: none.
 * Global because a signal handler sets it. */
extern volatile sig_atomic_t bench_interrupted;

/* options.c: argv's options into b->opt; *ret_first is the first mode. */
int bench_opts_parse(struct bench *b, int argc, char **argv, int *ret_first);
/* b->opt and the env's options checked, into b->r.cfg; an exit status,
 * errors printed. */
int bench_configure(struct bench *b);

/* A program's full path ($PATH, then /usr/sbin, /sbin), NULL: none. */
char *bench_find_program(const char *prog);

/* hostid.c: the host's identity into b->r.cfg.host (and cfg.kernel), each
 * mode's policy CRC-32; what cannot be read stays NULL. */
int bench_identify(struct bench *b);

/* site.c: the site variables into b->hc (host.conf's, with the bench's RT
 * VM and CPUs over them), then the modes loaded, scoped, held back. Exit
 * statuses, errors printed. */
int bench_site_variables(struct bench *b);
int bench_load_modes(struct bench *b, char **modes, size_t n);

/* workload.c: the shared memory, then the measured processes started and
 * ready; exit statuses, errors printed. */
int bench_setup_shm(struct bench *b);
int bench_start_processes(struct bench *b);
/* -1 after printing why when one of them ended. */
int bench_kids_alive(struct bench *b);
/* Wait for pid to exit; SIGKILL it at deadline (bench_now_ns()). */
void bench_reap(pid_t pid, uint64_t deadline);
/* fork(), the child with default signal handlers, killed when the bench
 * dies (PR_SET_PDEATHSIG) and gone if it already has. */
pid_t bench_fork(void);
/* Tell them to stop; SIGKILL what is left after 2 s. */
void bench_kill_kids(struct bench *b);

/* measure.c: sleep, watching for signals and dead children; -1 if either. */
int bench_sleep(struct bench *b, double seconds);
/* One measurement window of seconds into res (and, for a mode, the load's
 * throughput and the CPUs' utilisation into m); -1 after printing why. */
int bench_measure(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_mode_result *m);
/* The same window for --workload http: one httperf run of conns
 * connections instead of the probes, its report into http. */
int bench_measure_http(struct bench *b, unsigned conns, struct bench_http *http, struct bench_mode_result *m);
/* And for --workload memcached: one memaslap run of seconds, its get and
 * set latencies into res's probes, its counts into mc. */
int bench_measure_memcached(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_memcached *mc,
			    struct bench_mode_result *m);

#endif
