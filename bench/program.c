/* A workload's server and client: real programs in the two sides of the
 * bench's network (a private namespace each; nothing of the host's network
 * is touched). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolated/cpuset.h"
#include "program.h"
#include "runner.h"

void bench_last_line(const char *text, char *buf, size_t len)
{
	const char *end = text ? text + strlen(text) : NULL, *start;

	buf[0] = '\0';
	while (end && end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (!end || end == text)
		return;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

/* A child into one side of the bench's network; the client onto the
 * housekeeping CPUs, ahead of the load there. Then argv. */
static pid_t spawn(struct bench *b, bool server, char *const argv[], int out_fd)
{
	pid_t pid = bench_fork();

	if (pid != 0)
		return pid;
	if (setns(server ? b->net.ns_server : b->net.ns_client, CLONE_NEWNET) < 0)
		_exit(126);
	if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0))
		_exit(126);
	if (!server) {
		struct cpuset hk = {0};
		cpu_set_t set;
		char msg[128];

		CPU_ZERO(&set);
		if (cpuset_parse_list(b->r.cfg.housekeeping_cpus, &hk, msg, sizeof(msg)) == 0)
			for (int c = cpuset_next(&hk, -1); c >= 0 && c < CPU_SETSIZE; c = cpuset_next(&hk, c))
				CPU_SET(c, &set);
		if (CPU_COUNT(&set))
			sched_setaffinity(0, sizeof(set), &set);
		setpriority(PRIO_PROCESS, 0, BENCH_CLIENT_NICE);
	}
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int bench_server_alive(struct bench *b)
{
	char why[512] = "", *log = NULL;
	int status;

	if (b->server_pid <= 0 || waitpid(b->server_pid, &status, WNOHANG) != b->server_pid)
		return 0;
	b->server_pid = 0;
	if (b->server_log && util_read_at(AT_FDCWD, b->server_log, 1 << 20, &log, NULL) >= 0)
		bench_last_line(log, why, sizeof(why));
	free(log);
	b->env->err("bench: %s ended (%s %d)%s%s", b->server_name ? b->server_name : "the server",
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), why[0] ? ": " : "", why);
	return -1;
}

/* A connection from the client side to port succeeds. */
static bool answers(const struct bench *b, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = bench_net_socket(&b->net, false, SOCK_STREAM);
	bool ok;

	if (fd < 0)
		return false;
	inet_pton(AF_INET, b->net.server_addr, &a.sin_addr);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int bench_server_start(struct bench *b, const char *name, char *const argv[], int port)
{
	uint64_t deadline;

	b->server_name = name;
	b->server_pid = spawn(b, true, argv, -1);
	if (b->server_pid < 0) {
		b->server_pid = 0;
		b->env->err("bench: fork: %s", strerror(errno));
		return BENCH_FAIL;
	}
	deadline = bench_now_ns() + 10 * NSEC_PER_SEC;
	while (!answers(b, port)) {
		if (bench_server_alive(b) < 0 || bench_interrupted)
			return BENCH_FAIL;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: %s does not answer on %s:%d within 10 s", name, b->net.server_addr, port);
			return BENCH_FAIL;
		}
		usleep(10000);
	}
	return BENCH_OK;
}

void bench_server_stop(struct bench *b)
{
	if (b->server_pid > 0) {
		kill(b->server_pid, SIGTERM);
		bench_reap(b->server_pid, bench_now_ns() + 2 * NSEC_PER_SEC);
		b->server_pid = 0;
	}
}

int bench_client_run(struct bench *b, const char *name, char *const argv[], double timeout_s, char **ret_out)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	uint64_t deadline;
	int fds[2], status = 0, r = -1;
	pid_t pid;

	*ret_out = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		b->env->err("bench: pipe: %s", strerror(errno));
		return -1;
	}
	pid = spawn(b, false, argv, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		b->env->err("bench: fork: %s", strerror(errno));
		close(fds[0]);
		return -1;
	}
	deadline = bench_now_ns() + (uint64_t)(timeout_s * 1e9);
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t n;

		if (bench_interrupted || bench_kids_alive(b) < 0 || bench_server_alive(b) < 0)
			goto kill;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: %s did not finish within %.0f s", name, timeout_s);
			goto kill;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (len + 4096 > cap) {
			char *nb = realloc(out, cap = cap * 2 + 8192);

			if (!nb)
				goto kill;
			out = nb;
		}
		n = read(fds[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	waitpid(pid, &status, 0);
	pid = 0;
	if (out)
		out[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char last[256];

		bench_last_line(out, last, sizeof(last));
		b->env->err("bench: %s failed (%s %d)%s%s", name, WIFEXITED(status) ? "exit status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), last[0] ? ": " : "", last);
		goto done;
	}
	if (!out && !(out = strdup("")))
		goto done;
	*ret_out = out;
	out = NULL;
	r = 0;
	goto done;
kill:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
done:
	close(fds[0]);
	free(out);
	return r;
}
