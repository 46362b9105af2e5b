/* The RT VM process the bench measures: its probe threads.
 *
 * It is isoctl re-executed with QEMU's "-name guest=NAME" on
 * its command line, so the shipped modes' "vm:${rt_vm} vcpu:${rt_vcpus}"
 * and "vm:${rt_vm} vhost" rules select its probe threads exactly as they
 * select a real VM's vCPU and vhost threads:
 *   "CPU 1/KVM"  the wakeup probe (or cyclictest, run from it)
 *   "CPU 2/KVM"  the NetRT echo server
 *   "vhost-PID"  the NetRT client, the request path in front of the server
 * (The load is load.c's.) Everything here runs until the bench says
 * BENCH_STOP or dies (PR_SET_PDEATHSIG). While measuring, the probes only read the clock and
 * add to a preallocated histogram in the shared memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "isolated/util.h"
#include "workload.h"

#define NSEC_PER_SEC 1000000000ULL
#define NETRT_TIMEOUT_NS NSEC_PER_SEC /* a request unanswered this long is lost */
#define NETRT_MSG 64		      /* bytes of a request, as a small RR transaction */

extern char **environ;

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / NSEC_PER_SEC), .tv_nsec = (long)(ns % NSEC_PER_SEC)};
}

/* ---- the RT VM process ---- */

struct vm {
	struct bench_shm *shm;
	int udp_server, udp_client;
	atomic_int threads_ready;
};

/* cyclictest's histogram ("%06d %06lu" per microsecond, then "# ..."
 * summary lines) into h: bucket k holds [k, k+1) µs, recorded at its middle;
 * overflows at the maximum it reports. */
static int parse_cyclictest(FILE *f, struct hist *h)
{
	char line[512];
	unsigned long long max_us = 0, overflows = 0;
	bool any = false;

	while (fgets(line, sizeof(line), f)) {
		unsigned long long us, n;

		if (line[0] == '#') {
			if (sscanf(line, "# Max Latencies: %llu", &max_us) == 1 ||
			    sscanf(line, "# Histogram Overflows: %llu", &overflows) == 1)
				any = true;
			continue;
		}
		if (sscanf(line, "%llu %llu", &us, &n) == 2 && n > 0) {
			hist_record_n(h, us * 1000 + 500, n);
			any = true;
		}
	}
	if (overflows)
		hist_record_n(h, max_us * 1000 + 500, overflows);
	return any ? 0 : -EBADMSG;
}

/* Scheduling policy, priority and CPUs of a thread. */
struct sched_set {
	int policy;
	struct sched_param sp;
	cpu_set_t cpus;
};

static void sched_get(pid_t tid, struct sched_set *s)
{
	memset(s, 0, sizeof(*s));
	s->policy = sched_getscheduler(tid);
	sched_getparam(tid, &s->sp);
	sched_getaffinity(tid, sizeof(s->cpus), &s->cpus);
}

/* Set what differs; true if something did. */
static bool sched_put(pid_t tid, const struct sched_set *want)
{
	struct sched_set now;
	bool changed = false;

	sched_get(tid, &now);
	if (now.policy != want->policy || now.sp.sched_priority != want->sp.sched_priority) {
		sched_setscheduler(tid, want->policy, &want->sp);
		changed = true;
	}
	if (!CPU_EQUAL(&now.cpus, &want->cpus)) {
		sched_setaffinity(tid, sizeof(want->cpus), &want->cpus);
		changed = true;
	}
	return changed;
}

/* Give cyclictest's measurement thread what the mode gave the wakeup probe
 * (rt), and its main thread what the mode gave this process's main thread
 * (other): cyclictest sets its own priority and pins its measurement
 * thread itself when that thread starts, and the bench wants the mode to
 * decide. The thread may do so after it appears, so its settings are
 * watched until they have held for 50 ms (a few of its first samples see
 * its own settings). The caller runs this off the RT CPU, as the process's
 * main thread, so the watching does not delay the samples. */
static void adopt_cyclictest(pid_t pid, const struct sched_set *rt, const struct sched_set *other)
{
	char path[64];
	uint64_t settled = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (int tries = 0; tries < 5000; tries++) {
		pid_t tids[8];
		size_t n = 0;
		struct dirent *de;
		bool changed = false;
		DIR *d = opendir(path);

		if (!d)
			return; /* it exited: the histogram says why */
		while ((de = readdir(d)) && n < ARRAY_SIZE(tids))
			if (util_all_digits(de->d_name))
				tids[n++] = (pid_t)atoi(de->d_name);
		closedir(d);
		for (size_t i = 0; i < n; i++)
			changed |= sched_put(tids[i], tids[i] == pid ? other : rt);
		if (n < 2 || changed)
			settled = 0;
		else if (!settled)
			settled = bench_now_ns();
		else if (bench_now_ns() - settled > 50000000ULL)
			return;
		usleep(1000);
	}
}

static void run_cyclictest(struct vm *vm, int word)
{
	struct bench_shm *shm = vm->shm;
	struct bench_probe_result *res = &shm->probe[BENCH_WAKEUP];
	char interval[32], duration[32], prio[32], policy[32];
	struct sched_param sp = {0};
	struct sched_set rt, other;
	int p = sched_getscheduler(0), pipefd[2], status;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	FILE *f;

	sched_get(0, &rt);
	sched_get(getpid(), &other);
	sched_getparam(0, &sp);
	snprintf(interval, sizeof(interval), "%u", shm->interval_us);
	snprintf(duration, sizeof(duration), "%u", (shm->duration_ms + 999) / 1000);
	snprintf(prio, sizeof(prio), "%d", p == SCHED_FIFO || p == SCHED_RR ? sp.sched_priority : 1);
	snprintf(policy, sizeof(policy), "--policy=%s", p == SCHED_FIFO ? "fifo" : p == SCHED_RR ? "rr" : "fifo");
	char *argv[] = {"cyclictest", "-q", "-m", "-t",	    "1",  "-i",	    interval,		policy,
			"-p",	      prio, "-D", duration, "-h", "100000", "--default-system", NULL};

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		bench_fail(shm, "cyclictest: pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "cyclictest", &fa, NULL, argv, environ) != 0)
		bench_fail(shm, "cannot run cyclictest: %s (install rt-tests)", strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	/* Watch cyclictest's threads from where this process's other threads
	 * run, not from the RT CPU it measures on. */
	sched_put(0, &other);
	adopt_cyclictest(pid, &rt, &other);
	/* Back to the probe's own settings, or the revert finds a conflict. */
	sched_put(0, &rt);
	f = fdopen(pipefd[0], "r");
	if (!f)
		bench_fail(shm, "cyclictest: %s", strerror(errno));
	if (parse_cyclictest(f, &res->hist) < 0) {
		fclose(f);
		bench_fail(shm, "cyclictest printed no histogram");
	}
	fclose(f);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail(shm, "cyclictest failed (status %d)", status);
	atomic_store(&shm->seen[BENCH_WAKEUP], word);
}

static void thread_ready(struct vm *vm, const char *name)
{
	pthread_setname_np(pthread_self(), name);
	atomic_fetch_add(&vm->threads_ready, 1);
}

/* Lateness of an absolute periodic CLOCK_MONOTONIC timer, as cyclictest
 * measures it: the wakeup is due at next, the thread reads the clock when
 * it runs. Periods slept through entirely are skipped and counted. */
static void *wakeup_probe(void *arg)
{
	struct vm *vm = arg;
	struct bench_shm *shm = vm->shm;
	struct bench_probe_result *res = &shm->probe[BENCH_WAKEUP];
	uint64_t interval = (uint64_t)shm->interval_us * 1000, next;
	int done_word = -1;

	thread_ready(vm, "CPU 1/KVM");
	next = bench_now_ns();
	for (;;) {
		struct timespec ts;
		uint64_t now, lat;
		int word = atomic_load(&shm->phase);

		if (BENCH_PHASE(word) == BENCH_STOP)
			break;
		if (shm->cyclictest) {
			if (BENCH_PHASE(word) == BENCH_MEASURE && word != done_word) {
				run_cyclictest(vm, word);
				done_word = word;
			} else
				atomic_store(&shm->seen[BENCH_WAKEUP], word);
			bench_sleep_ms(5);
			continue;
		}
		next += interval;
		ts = ns_to_ts(next);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = bench_now_ns();
		lat = now > next ? now - next : 0;
		word = atomic_load(&shm->phase);
		if (BENCH_PHASE(word) == BENCH_MEASURE) {
			hist_record(&res->hist, lat);
			if (lat >= interval)
				res->lost += lat / interval;
		}
		if (lat >= interval)
			next += lat / interval * interval;
		atomic_store(&shm->seen[BENCH_WAKEUP], word);
	}
	return NULL;
}

/* The echo server: every request straight back. */
static void *echo_server(void *arg)
{
	struct vm *vm = arg;
	char buf[2048];

	thread_ready(vm, "CPU 2/KVM");
	while (!bench_stopped(vm->shm)) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(vm->udp_server, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

		if (n > 0)
			(void)sendto(vm->udp_server, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The NetRT client: a request at random intervals (uniform in
 * [netrt_min_us, netrt_max_us]), the time until its answer. */
static void *netrt_client(void *arg)
{
	struct vm *vm = arg;
	struct bench_shm *shm = vm->shm;
	struct bench_probe_result *res = &shm->probe[BENCH_NETRT];
	uint64_t rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL | 1, seq = 0;
	unsigned span = shm->netrt_max_us - shm->netrt_min_us + 1;
	char name[16];

	snprintf(name, sizeof(name), "vhost-%d", getpid());
	thread_ready(vm, name);
	while (!bench_stopped(shm)) {
		uint64_t msg[NETRT_MSG / sizeof(uint64_t)] = {0}, t0, t1 = 0, delay;
		struct timespec ts;
		bool answered = false;
		int word;

		delay = (uint64_t)(shm->netrt_min_us + xorshift(&rng) % span) * 1000;
		ts = ns_to_ts(delay);
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		msg[0] = ++seq;
		t0 = bench_now_ns();
		if (send(vm->udp_client, msg, sizeof(msg), 0) < 0)
			bench_fail(shm, "NetRT client: send: %s", strerror(errno));
		for (;;) {
			uint64_t reply[NETRT_MSG / sizeof(uint64_t)];
			struct pollfd pfd = {.fd = vm->udp_client, .events = POLLIN};
			uint64_t waited = bench_now_ns() - t0;
			ssize_t n;

			if (waited >= NETRT_TIMEOUT_NS)
				break;
			if (poll(&pfd, 1, (int)((NETRT_TIMEOUT_NS - waited) / 1000000) + 1) <= 0)
				continue;
			n = recv(vm->udp_client, reply, sizeof(reply), MSG_DONTWAIT);
			t1 = bench_now_ns();
			if (n == (ssize_t)sizeof(reply) && reply[0] == seq) {
				answered = true;
				break;
			}
		}
		word = atomic_load(&shm->phase);
		if (BENCH_PHASE(word) == BENCH_MEASURE) {
			if (answered)
				hist_record(&res->hist, t1 - t0);
			else
				res->lost++;
		}
		atomic_store(&shm->seen[BENCH_NETRT], word);
	}
	return NULL;
}

static int arg_fd(const char *s)
{
	long v;

	return util_parse_long(s, 0, 1 << 20, &v) < 0 ? -1 : (int)v;
}

/* The probe's own cost: one clock read, one histogram record. */
static void calibrate(struct bench_shm *shm)
{
	static struct hist scratch;
	enum { N = 200000 };
	uint64_t t0, t1, sink = 0;

	hist_init(&scratch);
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++)
		sink += bench_now_ns();
	t1 = bench_now_ns();
	shm->clock_read_ns = (double)(t1 - t0) / N;
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++)
		hist_record(&scratch, (uint64_t)i * 7919 % 5000000 + (sink & 1));
	t1 = bench_now_ns();
	shm->record_ns = (double)(t1 - t0) / N;
}

int bench_vm_main(int argc, char **argv)
{
	static struct vm vm;
	struct timeval tv = {.tv_usec = 100000};
	pthread_t th[3];
	void *(*fn[3])(void *) = {wakeup_probe, echo_server, netrt_client};
	int shm_fd;

	if (argc != 7 || (shm_fd = arg_fd(argv[4])) < 0) {
		fprintf(stderr, "isoctl: %s is for isoctl bench only\n", BENCH_VM_ARG);
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "isobench-vm");
	vm.shm = mmap(NULL, sizeof(struct bench_shm), PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (vm.shm == MAP_FAILED)
		return 1;
	close(shm_fd);
	if (getppid() == 1)
		return 1;
	vm.udp_server = arg_fd(argv[5]);
	vm.udp_client = arg_fd(argv[6]);
	if (vm.udp_server < 0 || vm.udp_client < 0)
		bench_fail(vm.shm, "bad descriptors");
	/* The echo server wakes up now and then to see whether to stop. */
	setsockopt(vm.udp_server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* No page faults while measuring, as cyclictest -m. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		bench_fail(vm.shm, "mlockall: %s", strerror(errno));
	calibrate(vm.shm);
	for (int i = 0; i < 3; i++) {
		int r = pthread_create(&th[i], NULL, fn[i], &vm);

		if (r != 0)
			bench_fail(vm.shm, "pthread_create: %s", strerror(r));
	}
	while (atomic_load(&vm.threads_ready) < 3)
		bench_sleep_ms(1);
	atomic_fetch_add(&vm.shm->ready, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	return 0;
}
