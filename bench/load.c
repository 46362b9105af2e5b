/* The best-effort load the bench runs beside its probes, each in a forked
 * child: CPU hogs (a loop of multiplications, counted) and the two ends of
 * a TCP stream (bytes received, counted). They run while the bench says
 * load_on and end at BENCH_STOP or when the bench dies. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "workload.h"

void bench_hog_main(struct bench_shm *shm)
{
	uint64_t x = (uint64_t)getpid();

	prctl(PR_SET_NAME, "isobench-hog");
	atomic_fetch_add(&shm->ready, 1);
	while (!bench_stopped(shm)) {
		enum { CHUNK = 100000 };

		if (!atomic_load(&shm->load_on)) {
			bench_sleep_ms(5);
			continue;
		}
		for (int i = 0; i < CHUNK; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		__asm__ volatile("" : : "r"(x));
		atomic_fetch_add(&shm->hog_ops, CHUNK);
	}
	_exit(0);
}

void bench_stream_sender_main(struct bench_shm *shm, int fd)
{
	static char buf[65536];

	prctl(PR_SET_NAME, "isobench-tx");
	memset(buf, 'x', sizeof(buf));
	atomic_fetch_add(&shm->ready, 1);
	while (!bench_stopped(shm)) {
		if (!atomic_load(&shm->load_on)) {
			bench_sleep_ms(5);
			continue;
		}
		if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0 && errno != EINTR && errno != EAGAIN)
			bench_fail(shm, "stream sender: %s", strerror(errno));
	}
	_exit(0);
}

void bench_stream_receiver_main(struct bench_shm *shm, int fd)
{
	static char buf[131072];
	struct timeval tv = {.tv_usec = 100000};

	prctl(PR_SET_NAME, "isobench-rx");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	atomic_fetch_add(&shm->ready, 1);
	while (!bench_stopped(shm)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0)
			atomic_fetch_add(&shm->stream_bytes, (uint64_t)n);
		else if (n == 0)
			break;
	}
	_exit(0);
}
