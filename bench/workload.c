/* The processes the bench measures, from both sides: the bench starts
 * them (the RT VM re-executed, the load forked), watches and stops them;
 * they share a page of memory with it and the few helpers below. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
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

#include "http.h"
#include "memcached.h"
#include "runner.h"

/* ---- what the processes share ---- */

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool bench_stopped(struct bench_shm *shm)
{
	return BENCH_PHASE(atomic_load(&shm->phase)) == BENCH_STOP || getppid() == 1;
}

void bench_fail(struct bench_shm *shm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shm->error, sizeof(shm->error), fmt, ap);
	va_end(ap);
	_exit(1);
}

/* ---- the bench's side ---- */

void bench_reap(pid_t pid, uint64_t deadline)
{
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (bench_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(10000);
	}
}

void bench_kill_kids(struct bench *b)
{
	uint64_t deadline = bench_now_ns() + 2 * NSEC_PER_SEC;

	if (b->shm) {
		atomic_store(&b->shm->load_on, 0);
		atomic_store(&b->shm->phase, BENCH_WORD(++b->gen, BENCH_STOP));
	}
	for (size_t i = 0; i < b->n_kids; i++)
		bench_reap(b->kids[i], deadline);
	b->n_kids = 0;
}

/* A child that died says why in shm->error. */
int bench_kids_alive(struct bench *b)
{
	for (size_t i = 0; i < b->n_kids; i++) {
		int status;
		pid_t p = waitpid(b->kids[i], &status, WNOHANG);

		if (p == b->kids[i]) {
			b->env->err("bench: a measured process ended: %s",
				    b->shm->error[0] ? b->shm->error : "no reason given");
			memmove(&b->kids[i], &b->kids[i + 1], (b->n_kids - i - 1) * sizeof(b->kids[0]));
			b->n_kids--;
			return -1;
		}
	}
	return 0;
}

pid_t bench_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
	}
	return pid;
}

static pid_t fork_kid(struct bench *b)
{
	pid_t pid;

	if (b->n_kids == ARRAY_SIZE(b->kids))
		return -1;
	pid = bench_fork();
	if (pid > 0)
		b->kids[b->n_kids++] = pid;
	return pid;
}

static int clear_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* A UDP pair (server bound, client connected to it) and a TCP connection
 * (sender on the client side, receiver on the server side). */
static int make_sockets(struct bench *b, int *udp_srv, int *udp_cli, int *tcp_tx, int *tcp_rx, char *err, size_t errlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int lst = -1;

	*udp_srv = *udp_cli = *tcp_tx = *tcp_rx = -1;
	inet_pton(AF_INET, b->net.server_addr, &a.sin_addr);
	if ((*udp_srv = bench_net_socket(&b->net, true, SOCK_DGRAM)) < 0 ||
	    bind(*udp_srv, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(*udp_srv, (struct sockaddr *)&a, &len) < 0 ||
	    (*udp_cli = bench_net_socket(&b->net, false, SOCK_DGRAM)) < 0 ||
	    connect(*udp_cli, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	if (!b->r.cfg.load_net)
		return 0;
	a.sin_port = 0;
	len = sizeof(a);
	if ((lst = bench_net_socket(&b->net, true, SOCK_STREAM)) < 0 ||
	    bind(lst, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lst, 1) < 0 ||
	    getsockname(lst, (struct sockaddr *)&a, &len) < 0 ||
	    (*tcp_tx = bench_net_socket(&b->net, false, SOCK_STREAM)) < 0 ||
	    connect(*tcp_tx, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (*tcp_rx = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0)
		goto fail;
	close(lst);
	return 0;
fail:
	util_set_err(err, errlen, "the bench's sockets: %s", strerror(errno));
	if (lst >= 0)
		close(lst);
	return -1;
}

int bench_start_processes(struct bench *b)
{
	struct bench_config *cfg = &b->r.cfg;
	/* --workload http and memcached: a server is the RT service, below. */
	bool http = bench_workload_http(&b->r.cfg), mc = bench_workload_memcached(&b->r.cfg);
	int udp_srv, udp_cli, tcp_tx, tcp_rx, expected = http || mc ? 0 : 1, ret = BENCH_FAIL;
	char err[512] = "";
	pid_t pid;
	uint64_t deadline;

	if (bench_net_setup(strcmp(cfg->net, "veth") == 0 ? BENCH_NET_VETH : BENCH_NET_LOOPBACK, &b->net, err,
			    sizeof(err)) < 0) {
		b->env->err("bench: %s", err);
		return BENCH_FAIL;
	}
	b->have_net = true;
	if (make_sockets(b, &udp_srv, &udp_cli, &tcp_tx, &tcp_rx, err, sizeof(err)) < 0) {
		b->env->err("bench: %s", err);
		goto out;
	}
	/* The RT VM: isoctl again, with QEMU's -name on its command line
	 * (not with a server). */
	pid = http || mc ? 1 : fork_kid(b);
	if (pid == 0) {
		char fds[3][16], guest[64];
		char *argv[] = {"isobench-vm", BENCH_VM_ARG, "-name", guest, fds[0], fds[1], fds[2], NULL};

		snprintf(guest, sizeof(guest), "guest=%s,debug-threads=on", cfg->rt_vm);
		snprintf(fds[0], sizeof(fds[0]), "%d", b->shm_fd);
		snprintf(fds[1], sizeof(fds[1]), "%d", udp_srv);
		snprintf(fds[2], sizeof(fds[2]), "%d", udp_cli);
		if (clear_cloexec(b->shm_fd) < 0 || clear_cloexec(udp_srv) < 0 || clear_cloexec(udp_cli) < 0)
			_exit(1);
		execv("/proc/self/exe", argv);
		snprintf(b->shm->error, sizeof(b->shm->error), "cannot re-execute isoctl: %s", strerror(errno));
		_exit(1);
	}
	if (pid < 0)
		goto fork_failed;
	for (unsigned i = 0; cfg->load_cpu && i < cfg->n_hogs; i++, expected++) {
		if ((pid = fork_kid(b)) == 0)
			bench_hog_main(b->shm);
		if (pid < 0)
			goto fork_failed;
	}
	if (cfg->load_net) {
		if ((pid = fork_kid(b)) == 0)
			bench_stream_sender_main(b->shm, tcp_tx);
		if (pid < 0)
			goto fork_failed;
		if ((pid = fork_kid(b)) == 0)
			bench_stream_receiver_main(b->shm, tcp_rx);
		if (pid < 0)
			goto fork_failed;
		expected += 2;
	}
	/* Every thread the modes must see exists before the first apply. */
	deadline = bench_now_ns() + 10 * NSEC_PER_SEC;
	while (atomic_load(&b->shm->ready) < expected) {
		if (bench_kids_alive(b) < 0 || bench_interrupted)
			goto out;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: the measured processes did not start within 10 s");
			goto out;
		}
		usleep(1000);
	}
	ret = http ? bench_http_start(b) : mc ? bench_mc_start(b) : BENCH_OK;
	goto out;
fork_failed:
	b->env->err("bench: fork: %s", strerror(errno));
out:
	for (int *fd = (int[]){udp_srv, udp_cli, tcp_tx, tcp_rx}, i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return ret;
}

int bench_setup_shm(struct bench *b)
{
	b->shm_fd = memfd_create("isobench", MFD_CLOEXEC);
	if (b->shm_fd < 0 || ftruncate(b->shm_fd, sizeof(struct bench_shm)) < 0) {
		b->env->err("bench: shared memory: %s", strerror(errno));
		return BENCH_FAIL;
	}
	b->shm = mmap(NULL, sizeof(struct bench_shm), PROT_READ | PROT_WRITE, MAP_SHARED, b->shm_fd, 0);
	if (b->shm == MAP_FAILED) {
		b->shm = NULL;
		b->env->err("bench: shared memory: %s", strerror(errno));
		return BENCH_FAIL;
	}
	b->shm->interval_us = b->r.cfg.interval_us;
	b->shm->netrt_min_us = b->r.cfg.netrt_min_us;
	b->shm->netrt_max_us = b->r.cfg.netrt_max_us;
	b->shm->cyclictest = strcmp(b->r.cfg.probe_tool, "cyclictest") == 0;
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		hist_init(&b->shm->probe[p].hist);
	return BENCH_OK;
}

/* Like cyclictest: keep the CPUs out of deep idle states while measuring
 * (the PM QoS request ends when the file is closed, however isoctl ends). */