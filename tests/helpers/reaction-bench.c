/* A benchmark, not a test: how long after a thread is named (or a process
 * exec'd) does a running isolated make its affinity and scheduling what the
 * mode wants? Prints the distribution; asserts nothing.
 *
 *   reaction-bench threads N [--hold H] [--hold-timeout S] [COMMON]
 *   reaction-bench exec N NAME [--watch] [--sleep] [COMMON]
 *   COMMON: [--cpus LIST] [--fifo PRIO] [--timeout-ms MS] [--poll-us US]
 *           [--daemon-pid PID]
 *
 * threads: one at a time, create a thread (it blocks on a pipe), name it
 * "CPU i/KVM" from here right after pthread_create() as QEMU does, take the
 * time, and poll its sched_getaffinity/sched_getscheduler until they are
 * LIST and SCHED_FIFO PRIO (whichever were given). The threads stay until
 * the end, as vCPUs do. With --hold H, first H threads "CPU 0/KVM" ...
 * "CPU H-1/KVM" are created and named in a burst (as QEMU starting VMs) and
 * waited for until all are as wanted (S seconds at most, default 300), so
 * that the N measured ones ("CPU H/KVM" on) meet a daemon that already
 * manages H threads; when they are not all changed by then, nothing is
 * measured (the line says so).
 * exec: one at a time, fork and exec a copy of this program under the name
 * NAME (a symlink in a temporary directory: a process's comm is the base
 * name of the file it exec'd), the time taken just before execve(). The
 * copy polls its own affinity and policy, so the delay it sees includes its
 * own start-up (dynamic linking: printed too, as the floor). With --watch
 * the copy only waits and this process polls it instead: the delay from
 * execve() to the change, without that floor. With --sleep (implies
 * --watch) the child execs sleep(1) with argv[0] NAME instead: its comm is
 * "sleep", only its command line says NAME (what a cmdline: rule or tuned's
 * scheduler regex must read); it is killed once polled.
 *
 * The poller never runs SCHED_FIFO: it polls with sched_yield() between
 * reads (with --poll-us, it sleeps US microseconds instead), and once the
 * polled task is real-time (the exec'd copy polls itself) or the poller
 * finds itself real-time, it sleeps between reads. An item that has not
 * changed after MS (default 1000) counts as "not changed". With --daemon-pid
 * the CPU time of that process (all its threads, from schedstat) is taken
 * around each phase and printed per item. Output:
 *   threads: N items, C changed, U not changed (timeout MS ms)
 *   delay us: min X p50 X p99 X max X
 *   held: H threads named in X ms, all H changed after X ms
 *   daemon CPU us: X for the H held threads, X per thread
 *   daemon CPU us: X for the N measured items, X per item
 *   daemon VmRSS kB: X with H+N threads managed (threads, at the end)
 * Exit status 0, 1 when the benchmark could not run, 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "isolated/cpuset.h"

struct wanted {
	bool cpus_given;
	cpu_set_t cpus;
	int fifo; /* 0: not checked */
	long timeout_ms;
	bool watch;   /* exec: the parent polls the copy */
	bool sleep;   /* exec: the child is sleep(1), argv[0] NAME */
	long poll_us; /* 0: sched_yield() between reads */
	long hold;    /* threads: managed before the measured ones */
	long hold_timeout_s;
	pid_t daemon_pid; /* 0: no CPU figures */
};

/* Threads that only block need little stack; 10 000 of them fit. */
#define STACK_SIZE (128 * 1024)
#define SLEEP_PATH "/bin/sleep"

static void usage(void)
{
	fputs("usage: reaction-bench threads N [--hold H] [--hold-timeout S] [COMMON]\n"
	      "       reaction-bench exec N NAME [--watch] [--sleep] [COMMON]\n"
	      "COMMON: [--cpus LIST] [--fifo PRIO] [--timeout-ms MS] [--poll-us US] [--daemon-pid PID]\n",
	      stderr);
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max)
		usage();
	return n;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void parse_cpus(const char *s, struct wanted *w)
{
	struct cpuset set = CPUSET_INIT;
	char err[128];

	if (cpuset_parse_list(s, &set, err, sizeof(err)) < 0 || cpuset_empty(&set)) {
		fprintf(stderr, "reaction-bench: --cpus %s: %s\n", s, cpuset_empty(&set) ? "empty" : err);
		exit(2);
	}
	CPU_ZERO(&w->cpus);
	for (int c = cpuset_next(&set, -1); c >= 0; c = cpuset_next(&set, c)) {
		if (c >= CPU_SETSIZE) {
			fprintf(stderr, "reaction-bench: --cpus %s: cpu %d too high\n", s, c);
			exit(2);
		}
		CPU_SET(c, &w->cpus);
	}
	w->cpus_given = true;
	cpuset_free(&set);
}

/* Options after the positional arguments. */
static void parse_options(int argc, char **argv, int first, struct wanted *w)
{
	w->timeout_ms = 1000;
	w->hold_timeout_s = 300;
	for (int i = first; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--watch") == 0) {
			w->watch = true;
			continue;
		}
		if (strcmp(argv[i], "--sleep") == 0) {
			w->sleep = w->watch = true;
			continue;
		}
		if (!value)
			usage();
		if (strcmp(argv[i], "--cpus") == 0)
			parse_cpus(value, w);
		else if (strcmp(argv[i], "--fifo") == 0)
			w->fifo = (int)number(value, 1, 99);
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			w->timeout_ms = number(value, 1, 3600 * 1000);
		else if (strcmp(argv[i], "--poll-us") == 0)
			w->poll_us = number(value, 1, 999999);
		else if (strcmp(argv[i], "--hold") == 0)
			w->hold = number(value, 0, 100000);
		else if (strcmp(argv[i], "--hold-timeout") == 0)
			w->hold_timeout_s = number(value, 1, 24 * 3600);
		else if (strcmp(argv[i], "--daemon-pid") == 0)
			w->daemon_pid = (pid_t)number(value, 1, INT_MAX);
		else
			usage();
		i++;
	}
	if (!w->cpus_given && !w->fifo)
		usage();
}

/* Whether task tid (0: the caller) is as wanted; *ret_rt when it runs a
 * real-time policy. False also when the task is gone. */
static bool task_is_wanted(pid_t tid, const struct wanted *w, bool *ret_rt)
{
	struct sched_param sp;
	int policy = sched_getscheduler(tid);
	cpu_set_t cpus;

	*ret_rt = policy == SCHED_FIFO || policy == SCHED_RR;
	if (w->fifo && (policy != SCHED_FIFO || sched_getparam(tid, &sp) < 0 || sp.sched_priority != w->fifo))
		return false;
	if (w->cpus_given && (sched_getaffinity(tid, sizeof(cpus), &cpus) < 0 || !CPU_EQUAL(&cpus, &w->cpus)))
		return false;
	return true;
}

static bool self_is_rt(void)
{
	int policy = sched_getscheduler(0);

	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* Poll until tid is as wanted: the ns it took from t0, or -1 at the
 * timeout. */
static long long poll_task(pid_t tid, const struct wanted *w, long long t0)
{
	long long deadline = t0 + w->timeout_ms * 1000000LL;
	bool sleepy = false;

	for (unsigned i = 0;; i++) {
		bool rt;
		long long t;

		if (task_is_wanted(tid, w, &rt))
			return now_ns() - t0;
		t = now_ns();
		if (t > deadline)
			return -1;
		/* Never spin as or against a real-time task. */
		if (rt || (i % 256 == 0 && self_is_rt()))
			sleepy = true;
		if (w->poll_us)
			nanosleep(&(struct timespec){.tv_nsec = w->poll_us * 1000}, NULL);
		else if (sleepy)
			nanosleep(&(struct timespec){.tv_nsec = 20 * 1000}, NULL);
		else
			sched_yield();
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double percentile(const long long *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1] / 1000.0;
}

/* The CPU time of process pid in ns: the sum of the first field of
 * /proc/PID/task/TID/schedstat over its threads (threads that ended
 * meanwhile are lost: the daemon's are few and long-lived), or -1. */
static long long process_cpu_ns(pid_t pid)
{
	char path[64], buf[128];
	long long sum = 0;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		ssize_t k;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", (int)pid, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k > 0) {
			buf[k] = '\0';
			sum += strtoll(buf, NULL, 10);
		}
	}
	closedir(dir);
	return sum;
}

/* VmRSS of process pid in kB, or -1. */
static long process_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The daemon's CPU time now: 0 without --daemon-pid. */
static long long daemon_cpu_ns(const struct wanted *w)
{
	return w->daemon_pid ? process_cpu_ns(w->daemon_pid) : 0;
}

/* "daemon CPU us: ..." for what happened from c0 to c1 (daemon_cpu_ns()). */
static void report_cpu(const struct wanted *w, long long c0, long long c1, const char *what, long n)
{
	if (!w->daemon_pid)
		return;
	if (c0 < 0 || c1 < 0) {
		printf("daemon CPU us: process %d not readable\n", (int)w->daemon_pid);
		return;
	}
	printf("daemon CPU us: %.1f for the %ld %s, %.1f per item\n", (c1 - c0) / 1000.0, n, what,
	       (c1 - c0) / 1000.0 / (double)n);
}

static void report(const char *what, long n, long long *delays, size_t changed, const struct wanted *w)
{
	printf("%s: %ld items, %zu changed, %ld not changed (timeout %ld ms)\n", what, n, changed, n - (long)changed,
	       w->timeout_ms);
	if (changed == 0) {
		printf("delay us: none changed (is isolated running with a mode that matches?)\n");
		return;
	}
	qsort(delays, changed, sizeof(*delays), cmp_ll);
	printf("delay us: min %.1f p50 %.1f p99 %.1f max %.1f\n", delays[0] / 1000.0, percentile(delays, changed, 50),
	       percentile(delays, changed, 99), delays[changed - 1] / 1000.0);
}

/* ---- threads ---- */

static int gate[2];

static void *vcpu_main(void *arg)
{
	char c;

	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	return arg;
}

struct vcpu {
	pthread_t th;
	pid_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *vcpu_start(void *arg)
{
	struct vcpu *v = arg;

	pthread_mutex_lock(&v->lock);
	v->tid = gettid();
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return vcpu_main(NULL);
}

/* Create thread v[i], name it "CPU i/KVM", take the time (*ret_t0) and
 * wait for its tid: 0, 1 when it could not be created, 2 when it could not
 * be named (it exists: join it), with the message printed. */
static int vcpu_create(struct vcpu *v, long i, const pthread_attr_t *attr, long long *ret_t0)
{
	char name[32]; /* comm keeps 15 */
	int r;

	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	r = pthread_create(&v->th, attr, vcpu_start, v);
	if (r) {
		fprintf(stderr, "reaction-bench: thread %ld: %s\n", i, strerror(r));
		return 1;
	}
	snprintf(name, sizeof(name), "CPU %ld/KVM", i);
	*ret_t0 = now_ns();
	r = pthread_setname_np(v->th, name);
	pthread_mutex_lock(&v->lock);
	while (v->tid == 0)
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
	if (r) {
		fprintf(stderr, "reaction-bench: naming thread %ld: %s\n", i, strerror(r));
		return 2;
	}
	return 0;
}

/* --hold: the first w->hold threads in a burst, then wait (sleeping
 * between rounds: never spin against the daemon) until all are as wanted
 * or the hold timeout passes. 0 when all are, 3 when not, 1 on an error;
 * *ret_made is how many threads exist. */
static int hold_threads(struct vcpu *v, const pthread_attr_t *attr, const struct wanted *w, long *ret_made)
{
	long long t0 = now_ns(), t_named, deadline, c0 = daemon_cpu_ns(w);
	long pending, done = 0;
	bool *ok = calloc(w->hold, sizeof(*ok));
	bool rt;

	if (!ok) {
		perror("reaction-bench");
		return 1;
	}
	for (*ret_made = 0; *ret_made < w->hold; (*ret_made)++) {
		long long t;
		int r = vcpu_create(&v[*ret_made], *ret_made, attr, &t);

		if (r) {
			*ret_made += r == 2;
			free(ok);
			return 1;
		}
	}
	t_named = now_ns();
	deadline = t_named + w->hold_timeout_s * 1000000000LL;
	for (pending = w->hold; pending > 0 && now_ns() < deadline;) {
		for (long i = 0; i < w->hold; i++)
			if (!ok[i] && task_is_wanted(v[i].tid, w, &rt)) {
				ok[i] = true;
				pending--;
			}
		if (pending > 0)
			nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
	}
	done = w->hold - pending;
	if (pending == 0)
		printf("held: %ld threads named in %.1f ms, all %ld changed after %.1f ms\n", w->hold,
		       (t_named - t0) / 1e6, w->hold, (now_ns() - t0) / 1e6);
	else
		printf("held: %ld threads named in %.1f ms, only %ld changed within the hold timeout (%ld s): "
		       "not measured\n",
		       w->hold, (t_named - t0) / 1e6, done, w->hold_timeout_s);
	report_cpu(w, c0, daemon_cpu_ns(w), "held threads", w->hold);
	free(ok);
	return pending == 0 ? 0 : 3;
}

static int bench_threads(long n, const struct wanted *w)
{
	struct vcpu *v = calloc(n + w->hold, sizeof(*v));
	long long *delays = calloc(n, sizeof(*delays)), c0, c1;
	pthread_attr_t attr;
	long rss;
	size_t changed = 0;
	long made = 0;
	bool rt;
	int ret = 0;

	if (!v || !delays || pipe(gate) < 0) {
		perror("reaction-bench");
		return 1;
	}
	if (task_is_wanted(0, w, &rt)) {
		fputs("reaction-bench: this process is already as wanted; new threads would inherit it\n", stderr);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	if (w->hold)
		ret = hold_threads(v, &attr, w, &made);
	c0 = daemon_cpu_ns(w);
	for (; ret == 0 && made < n + w->hold; made++) {
		long long t0, d;

		int r = vcpu_create(&v[made], made, &attr, &t0);

		if (r) {
			made += r == 2;
			ret = 1;
			break;
		}
		d = poll_task(v[made].tid, w, t0);
		if (d >= 0)
			delays[changed++] = d;
	}
	c1 = daemon_cpu_ns(w);
	rss = w->daemon_pid ? process_rss_kb(w->daemon_pid) : -1;
	close(gate[1]);
	for (long i = 0; i < made; i++)
		pthread_join(v[i].th, NULL);
	if (ret == 0) {
		report("threads", n, delays, changed, w);
		report_cpu(w, c0, c1, "measured threads", n);
		if (w->daemon_pid)
			printf("daemon VmRSS kB: %ld with %ld threads managed\n", rss, w->hold + n);
	}
	free(v);
	free(delays);
	return ret == 3 ? 0 : ret;
}

/* ---- exec ---- */

/* The exec'd copy, self-polling: __child T0_NS [options]. Prints the ns
 * from T0 to its own main() and to the change (-1: none). */
static int child_main(int argc, char **argv)
{
	long long t_main = now_ns(), t0;
	struct wanted w = {.cpus_given = false};

	if (argc < 3)
		return 2;
	t0 = strtoll(argv[2], NULL, 10);
	parse_options(argc, argv, 3, &w);
	printf("%lld %lld\n", t_main - t0, poll_task(0, &w, t0));
	return 0;
}

/* The exec'd copy, watched: __wait. Blocks until stdin ends. */
static int wait_main(void)
{
	char buf[64];

	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
	return 0;
}

struct exec_run {
	const char *link, *name;
	int argc, first;
	char **argv;
	const struct wanted *w;
	bool watch;
};

/* One fork + exec of the copy: 0 with the delay (-1: not changed) and the
 * copy's start-up time (self-polling only), or 1. */
static int exec_one(const struct exec_run *x, long long *ret_delay, long long *ret_startup)
{
	int out[2], in[2], status;
	char buf[64] = "";
	long long t0 = 0;
	ssize_t k;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		perror("reaction-bench: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("reaction-bench: fork");
		return 1;
	}
	if (pid == 0) {
		char t0s[32], **args = calloc(x->argc - x->first + 4, sizeof(*args));
		long long t;
		int j = 0;

		if (!args)
			_exit(1);
		args[j++] = (char *)x->name;
		if (x->w->sleep) {
			args[j++] = "3600";
		} else if (x->watch) {
			dup2(in[0], STDIN_FILENO);
			args[j++] = "__wait";
		} else {
			dup2(out[1], STDOUT_FILENO);
			args[j++] = "__child";
			args[j++] = t0s;
			for (int a = x->first; a < x->argc; a++)
				args[j++] = x->argv[a];
		}
		args[j] = NULL;
		t = now_ns();
		snprintf(t0s, sizeof(t0s), "%lld", t);
		/* Watched: the parent learns t0 through the pipe, which
		 * closes on exec. */
		if (x->watch && write(out[1], &t, sizeof(t)) != sizeof(t))
			_exit(1);
		execv(x->w->sleep ? SLEEP_PATH : x->link, args);
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	if (x->watch) {
		k = read(out[0], &t0, sizeof(t0));
		*ret_delay = k == sizeof(t0) ? poll_task(pid, x->w, t0) : -1;
		*ret_startup = -1;
		if (x->w->sleep)
			kill(pid, SIGKILL); /* our child, by pid */
		close(in[1]);
		if (k != sizeof(t0))
			k = -1;
	} else {
		close(in[1]);
		k = read(out[0], buf, sizeof(buf) - 1);
		if (k > 0) {
			buf[k] = '\0';
			if (sscanf(buf, "%lld %lld", ret_startup, ret_delay) != 2)
				k = -1;
		}
	}
	close(out[0]);
	if (waitpid(pid, &status, 0) < 0 || k <= 0 ||
	    !(x->w->sleep ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
			  : WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "reaction-bench: the exec'd copy failed\n");
		return 1;
	}
	return 0;
}

static int bench_exec(long n, const char *name, int argc, char **argv, int first, const struct wanted *w)
{
	char dir[] = "/dev/shm/reaction-bench.XXXXXX", self[PATH_MAX], link[PATH_MAX + 32];
	long long *delays = calloc(n, sizeof(*delays)), *startups = calloc(n, sizeof(*startups));
	struct exec_run x = {
	    .link = link, .name = name, .argc = argc, .first = first, .argv = argv, .w = w, .watch = w->watch};
	size_t changed = 0, started = 0;
	long long c0, c1;
	ssize_t k;
	bool rt;
	int ret = 0;

	if (!delays || !startups) {
		perror("reaction-bench");
		return 1;
	}
	if (strchr(name, '/') || strlen(name) > 15) {
		fputs("reaction-bench: NAME is a comm: no '/', at most 15 characters\n", stderr);
		return 2;
	}
	if (task_is_wanted(0, w, &rt)) {
		fputs("reaction-bench: this process is already as wanted; children would inherit it\n", stderr);
		return 1;
	}
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k < 0 || !mkdtemp(dir)) {
		perror("reaction-bench");
		return 1;
	}
	self[k] = '\0';
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	if (symlink(self, link) < 0) {
		perror("reaction-bench: symlink");
		rmdir(dir);
		return 1;
	}
	if (w->sleep && access(SLEEP_PATH, X_OK) < 0) {
		perror("reaction-bench: " SLEEP_PATH);
		unlink(link);
		rmdir(dir);
		return 1;
	}
	c0 = daemon_cpu_ns(w);
	for (long i = 0; i < n && ret == 0; i++) {
		long long d = -1, st = -1;

		ret = exec_one(&x, &d, &st);
		if (d >= 0)
			delays[changed++] = d;
		if (st >= 0)
			startups[started++] = st;
	}
	c1 = daemon_cpu_ns(w);
	unlink(link);
	rmdir(dir);
	if (ret == 0) {
		report(w->sleep	  ? "exec of sleep, argv[0] NAME (watched by the parent)"
		       : w->watch ? "exec (watched by the parent)"
				  : "exec (self-polling)",
		       n, delays, changed, w);
		report_cpu(w, c0, c1, "processes started", n);
		if (started > 0) {
			qsort(startups, started, sizeof(*startups), cmp_ll);
			printf("start-up us (execve to the copy's main, the floor of self-polling): p50 %.1f p99 %.1f "
			       "max %.1f\n",
			       percentile(startups, started, 50), percentile(startups, started, 99),
			       startups[started - 1] / 1000.0);
		}
	}
	free(delays);
	free(startups);
	return ret;
}

int main(int argc, char **argv)
{
	struct wanted w = {.cpus_given = false};

	if (argc >= 2 && strcmp(argv[1], "__child") == 0)
		return child_main(argc, argv);
	if (argc == 2 && strcmp(argv[1], "__wait") == 0)
		return wait_main();
	if (argc >= 3 && strcmp(argv[1], "threads") == 0) {
		long n = number(argv[2], 1, 100000);

		parse_options(argc, argv, 3, &w);
		if (w.watch)
			usage();
		return bench_threads(n, &w);
	}
	if (argc >= 4 && strcmp(argv[1], "exec") == 0) {
		long n = number(argv[2], 1, 100000);

		parse_options(argc, argv, 4, &w);
		if (w.hold)
			usage();
		return bench_exec(n, argv[3], argc, argv, 4, &w);
	}
	usage();
}
