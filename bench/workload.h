/* The processes the bench measures (the RT VM of probe.c, the load of
 * load.c) and the shared memory between them and the bench; workload.c
 * has what they have in common. */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "isolated/util.h"
#include "result.h"

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

/* The load, in forked children of the bench (load.c): */
void bench_hog_main(struct bench_shm *shm) __attribute__((noreturn));
void bench_stream_sender_main(struct bench_shm *shm, int fd) __attribute__((noreturn));
void bench_stream_receiver_main(struct bench_shm *shm, int fd) __attribute__((noreturn));

/* For the measured processes: */
uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
void bench_sleep_ms(unsigned ms);
/* The bench said BENCH_STOP, or it is gone. */
bool bench_stopped(struct bench_shm *shm);
/* Say why in shm->error, then _exit(1). */
void bench_fail(struct bench_shm *shm, const char *fmt, ...) ISO_PRINTF(2, 3) __attribute__((noreturn));

#endif
