/* One measurement window: the probes switched to measuring and back, the
 * load's throughput and the CPUs' busy share (/proc/stat) over it. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "memcached.h"
#include "runner.h"

/* Switch the probes to phase and wait until both acted on it (their next
 * sample). */
static int set_phase(struct bench *b, enum bench_phase phase, double wait_s)
{
	int word = BENCH_WORD(++b->gen, phase);
	uint64_t deadline = bench_now_ns() + (uint64_t)(wait_s * 1e9);

	atomic_store(&b->shm->phase, word);
	while (atomic_load(&b->shm->seen[BENCH_WAKEUP]) != word || atomic_load(&b->shm->seen[BENCH_NETRT]) != word) {
		if (bench_kids_alive(b) < 0)
			return -1;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: the probes did not answer within %.0f s", wait_s);
			return -1;
		}
		usleep(1000);
	}
	return 0;
}

int bench_sleep(struct bench *b, double seconds)
{
	uint64_t end = bench_now_ns() + (uint64_t)(seconds * 1e9);

	for (;;) {
		uint64_t now = bench_now_ns(), step;
		struct timespec ts;

		if (bench_interrupted || bench_kids_alive(b) < 0)
			return -1;
		if (now >= end)
			return 0;
		step = end - now < 50000000ULL ? end - now : 50000000ULL;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step;
		nanosleep(&ts, NULL);
	}
}

struct cpu_times {
	unsigned long long *busy, *total;
	unsigned n;
};

static int read_cpu_times(struct cpu_times *t)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[512];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned cpu;
		unsigned long long v[8] = {0};

		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3],
			   &v[4], &v[5], &v[6], &v[7]) < 5 ||
		    cpu >= 4096)
			continue;
		if (cpu >= t->n) {
			unsigned long long *nb = realloc(t->busy, (cpu + 1) * sizeof(*nb)),
					   *nt = nb ? realloc(t->total, (cpu + 1) * sizeof(*nt)) : NULL;

			if (nb)
				t->busy = nb;
			if (!nt) {
				fclose(f);
				return -ENOMEM;
			}
			t->total = nt;
			for (unsigned i = t->n; i <= cpu; i++)
				t->busy[i] = t->total[i] = 0;
			t->n = cpu + 1;
		}
		/* user nice system idle iowait irq softirq steal */
		t->busy[cpu] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		t->total[cpu] = t->busy[cpu] + v[3] + v[4];
	}
	fclose(f);
	return 0;
}

static void cpu_times_free(struct cpu_times *t)
{
	free(t->busy);
	free(t->total);
}

/* What a window measures besides its probes or its httperf run: the
 * load's counters and the CPUs' times at its start, and at its end the
 * throughput and utilisation over it into m. */
struct window {
	struct cpu_times t0;
	uint64_t bytes0, ops0, start;
};

static void window_open(struct bench *b, struct window *w)
{
	*w = (struct window){0};
	read_cpu_times(&w->t0);
	w->bytes0 = atomic_load(&b->shm->stream_bytes);
	w->ops0 = atomic_load(&b->shm->hog_ops);
	w->start = bench_now_ns();
}

/* measured_s: the window's length to report (< 0: its wall clock). */
static void window_close(struct bench *b, struct window *w, double measured_s, struct bench_mode_result *m)
{
	struct bench_shm *shm = b->shm;
	struct cpu_times t1 = {0};
	uint64_t end = bench_now_ns();
	double s = (double)(end - w->start) / 1e9;

	read_cpu_times(&t1);
	if (m) {
		m->measured_s = measured_s >= 0 ? measured_s : s;
		m->stream_MBps =
		    b->r.cfg.load_net ? (double)(atomic_load(&shm->stream_bytes) - w->bytes0) / s / 1e6 : -1;
		m->hog_ops =
		    b->r.cfg.load_cpu && b->r.cfg.n_hogs ? (double)(atomic_load(&shm->hog_ops) - w->ops0) / s : -1;
		m->n_cpus = t1.n;
		m->cpu_util_per_cpu = calloc(t1.n ? t1.n : 1, sizeof(double));
		if (m->cpu_util_per_cpu) {
			unsigned long long busy = 0, total = 0;

			for (unsigned i = 0; i < t1.n && i < w->t0.n; i++) {
				unsigned long long db = t1.busy[i] - w->t0.busy[i], dt = t1.total[i] - w->t0.total[i];

				m->cpu_util_per_cpu[i] = dt ? 100.0 * (double)db / (double)dt : 0;
				busy += db;
				total += dt;
			}
			m->cpu_util = total ? 100.0 * (double)busy / (double)total : 0;
		}
	}
	cpu_times_free(&w->t0);
	cpu_times_free(&t1);
}

int bench_measure(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_mode_result *m)
{
	struct bench_shm *shm = b->shm;
	struct window w;
	double wait = 3 + 2 * b->r.cfg.interval_us / 1e6;
	bool ct = shm->cyclictest;

	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		hist_init(&shm->probe[p].hist);
		shm->probe[p].lost = 0;
	}
	shm->duration_ms = (unsigned)(seconds * 1000);
	window_open(b, &w);
	atomic_store(&shm->phase, BENCH_WORD(++b->gen, BENCH_MEASURE));
	/* cyclictest measures its own whole seconds; wait for it too. */
	if (bench_sleep(b, seconds) < 0 || set_phase(b, BENCH_IDLE, ct ? wait + 15 : wait) < 0) {
		cpu_times_free(&w.t0);
		return -1;
	}
	window_close(b, &w, ct ? seconds : -1, m);
	memcpy(res, shm->probe, sizeof(shm->probe));
	return 0;
}

int bench_measure_http(struct bench *b, unsigned conns, struct bench_http *http, struct bench_mode_result *m)
{
	struct window w;

	window_open(b, &w);
	if (bench_http_run(b, conns, http) < 0) {
		cpu_times_free(&w.t0);
		return -1;
	}
	window_close(b, &w, -1, m);
	return 0;
}

int bench_measure_memcached(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_memcached *mc,
			    struct bench_mode_result *m)
{
	struct window w;

	window_open(b, &w);
	if (bench_mc_run(b, seconds, res, mc) < 0) {
		cpu_times_free(&w.t0);
		return -1;
	}
	window_close(b, &w, -1, m);
	return 0;
}
