/* Unit tests of the bench's network (bench/net.c): UDP echo and a TCP
 * stream across the veth pair and the loopback, the host's namespace left
 * alone, nothing left behind, and the errors without the rights. Root only. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "net.h"

#define TIMEOUT_MS 5000
#define STREAM_BYTES (1024 * 1024)

static ino_t netns_ino(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* The process's and the thread's namespace are the host's, as at the start. */
static ino_t host_ino;

static void assert_at_home(void)
{
	assert_true(netns_ino("/proc/self/ns/net") == host_ino);
	assert_true(netns_ino("/proc/thread-self/ns/net") == host_ino);
}

static void assert_no_links_in_host(void)
{
	assert_int_equal(if_nametoindex("isobench0"), 0);
	assert_int_equal(if_nametoindex("isobench1"), 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Namespaces and links need root; elsewhere the tests are skipped. */
#define REQUIRE_ROOT()                                                                                                 \
	do {                                                                                                           \
		if (geteuid() != 0)                                                                                    \
			skip();                                                                                        \
	} while (0)

static struct sockaddr_in sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	return a;
}

static void wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&p, 1, TIMEOUT_MS), 1);
}

/* A socket made in one of the namespaces; the thread stays home. */
static int net_socket(const struct bench_net *n, bool server, int type)
{
	int fd = bench_net_socket(n, server, type);

	assert_true(fd >= 0);
	assert_at_home();
	return fd;
}

/* One request to an echo server on the server side, its answer back: the
 * very first packets after setup. */
static void udp_echo(const struct bench_net *n)
{
	int srv = net_socket(n, true, SOCK_DGRAM), cli = net_socket(n, false, SOCK_DGRAM);
	struct sockaddr_in a = sin_of(n->server_addr, 0), from, client = sin_of(n->client_addr, 0);
	socklen_t len = sizeof(a);
	char buf[16];

	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(sendto(cli, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)), 4);

	wait_readable(srv);
	len = sizeof(from);
	assert_int_equal(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(from.sin_addr.s_addr, client.sin_addr.s_addr);
	assert_int_equal(sendto(srv, "pong", 4, 0, (struct sockaddr *)&from, len), 4);

	wait_readable(cli);
	assert_int_equal(recv(cli, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "pong", 4);
	close(srv);
	close(cli);
}

struct sender {
	int fd;
	ssize_t sent;
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 4096);
}

static void *send_stream(void *arg)
{
	struct sender *s = arg;
	static unsigned char buf[65536];
	size_t off = 0;

	while (off < STREAM_BYTES) {
		size_t len = STREAM_BYTES - off < sizeof(buf) ? STREAM_BYTES - off : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(off + i);
		w = send(s->fd, buf, len, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	s->sent = (ssize_t)off;
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

/* A listener on the server side, a connection from the client side, 1 MB
 * from client to server, all of it received intact. */
static void tcp_stream(const struct bench_net *n)
{
	int lst = net_socket(n, true, SOCK_STREAM), cli = net_socket(n, false, SOCK_STREAM), srv;
	struct sockaddr_in a = sin_of(n->server_addr, 0);
	socklen_t len = sizeof(a);
	struct sender s = {.fd = cli};
	pthread_t t;
	static unsigned char buf[65536];
	size_t got = 0;
	bool intact = true;

	assert_int_equal(bind(lst, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lst, 1), 0);
	assert_int_equal(getsockname(lst, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(connect(cli, (struct sockaddr *)&a, sizeof(a)), 0);
	wait_readable(lst);
	srv = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	assert_true(srv >= 0);

	assert_int_equal(pthread_create(&t, NULL, send_stream, &s), 0);
	for (;;) {
		ssize_t r;

		wait_readable(srv);
		r = recv(srv, buf, sizeof(buf), 0);
		assert_true(r >= 0);
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			intact &= buf[i] == pattern(got + (size_t)i);
		got += (size_t)r;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.sent, STREAM_BYTES);
	assert_int_equal(got, STREAM_BYTES);
	assert_true(intact);
	close(srv);
	close(cli);
	close(lst);
}

/* Whether NAME exists in the namespace NS, looked at from inside it. */
static unsigned ifindex_in(int ns, const char *name)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	unsigned i;

	assert_true(home >= 0);
	assert_int_equal(setns(ns, CLONE_NEWNET), 0);
	i = if_nametoindex(name);
	assert_int_equal(setns(home, CLONE_NEWNET), 0);
	close(home);
	assert_at_home();
	return i;
}

static void test_veth(void **state)
{
	struct bench_net n;
	char err[256] = "";
	int fds = count_fds();

	(void)state;
	REQUIRE_ROOT();
	assert_no_links_in_host();
	assert_int_equal(bench_net_setup(BENCH_NET_VETH, &n, err, sizeof(err)), 0);
	assert_at_home();
	assert_no_links_in_host();
	assert_int_equal(n.kind, BENCH_NET_VETH);
	assert_string_equal(n.client_addr, "10.199.0.1");
	assert_string_equal(n.server_addr, "10.199.0.2");
	assert_string_equal(n.server_if, "isobench1");
	assert_true(n.ns_client >= 0 && n.ns_server >= 0 && n.ns_client != n.ns_server);
	assert_true(fcntl(n.ns_client, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(n.ns_server, F_GETFD) & FD_CLOEXEC);
	/* Two namespaces, each with its end and only that one. */
	assert_true(ifindex_in(n.ns_client, "isobench0") > 0);
	assert_int_equal(ifindex_in(n.ns_client, "isobench1"), 0);
	assert_true(ifindex_in(n.ns_server, "isobench1") > 0);
	assert_int_equal(ifindex_in(n.ns_server, "isobench0"), 0);

	/* The client side does not have the server's address. */
	{
		int fd = net_socket(&n, false, SOCK_DGRAM);
		struct sockaddr_in a = sin_of(n.server_addr, 0);

		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), -1);
		assert_int_equal(errno, EADDRNOTAVAIL);
		close(fd);
	}
	udp_echo(&n);
	udp_echo(&n);
	tcp_stream(&n);

	bench_net_done(&n);
	assert_int_equal(n.ns_client, -1);
	assert_int_equal(n.ns_server, -1);
	bench_net_done(&n); /* idempotent */
	assert_at_home();
	assert_no_links_in_host();
	assert_int_equal(count_fds(), fds);
}

static void test_loopback(void **state)
{
	struct bench_net n;
	char err[256] = "";
	int fds = count_fds();

	(void)state;
	REQUIRE_ROOT();
	assert_int_equal(bench_net_setup(BENCH_NET_LOOPBACK, &n, err, sizeof(err)), 0);
	assert_at_home();
	assert_int_equal(n.kind, BENCH_NET_LOOPBACK);
	assert_string_equal(n.client_addr, "127.0.0.1");
	assert_string_equal(n.server_addr, "127.0.0.1");
	assert_string_equal(n.server_if, "lo");
	assert_true(n.ns_client >= 0);
	assert_int_equal(n.ns_client, n.ns_server);
	assert_true(fcntl(n.ns_client, F_GETFD) & FD_CLOEXEC);
	/* Its own namespace, not the host's. */
	{
		struct stat st;

		assert_int_equal(fstat(n.ns_client, &st), 0);
		assert_true(st.st_ino != host_ino);
	}
	assert_int_equal(ifindex_in(n.ns_client, "isobench0"), 0);

	udp_echo(&n);
	tcp_stream(&n);
	bench_net_done(&n);
	bench_net_done(&n);
	assert_int_equal(n.ns_client, -1);
	assert_int_equal(n.ns_server, -1);
	assert_at_home();
	assert_no_links_in_host();
	assert_int_equal(count_fds(), fds);
}

/* When the client's namespace goes (its fd closed, no socket in it), the
 * kernel removes the pair: the server's end disappears too. */
static void test_pair_goes_with_namespace(void **state)
{
	struct bench_net n;
	char err[256] = "";
	int sock;

	(void)state;
	REQUIRE_ROOT();
	assert_int_equal(bench_net_setup(BENCH_NET_VETH, &n, err, sizeof(err)), 0);
	sock = net_socket(&n, false, SOCK_DGRAM);
	close(n.ns_client);
	n.ns_client = -1;
	/* A socket keeps its namespace alive. */
	assert_true(ifindex_in(n.ns_server, "isobench1") > 0);
	close(sock);
	/* Namespaces are dismantled by a kernel worker, a little later. */
	for (int i = 0; i < 1000 && ifindex_in(n.ns_server, "isobench1") > 0; i++)
		usleep(10000);
	assert_int_equal(ifindex_in(n.ns_server, "isobench1"), 0);
	bench_net_done(&n);
	assert_int_equal(n.ns_server, -1);
}

static void test_setup_done_loop(void **state)
{
	int fds = count_fds();

	(void)state;
	REQUIRE_ROOT();
	for (int i = 0; i < 50; i++) {
		struct bench_net n;
		char err[256] = "";

		assert_int_equal(
		    bench_net_setup(i % 5 == 4 ? BENCH_NET_LOOPBACK : BENCH_NET_VETH, &n, err, sizeof(err)), 0);
		bench_net_done(&n);
	}
	assert_int_equal(count_fds(), fds);
	assert_at_home();
	assert_no_links_in_host();
}

static void test_socket_errors(void **state)
{
	struct bench_net n = {.kind = BENCH_NET_VETH, .ns_client = -1, .ns_server = -1};

	(void)state;
	REQUIRE_ROOT();
	assert_int_equal(bench_net_socket(&n, false, SOCK_DGRAM), -EBADF);
	assert_int_equal(bench_net_socket(&n, true, SOCK_STREAM), -EBADF);
	assert_at_home();
	bench_net_done(&n); /* nothing to close */
	assert_int_equal(n.ns_client, -1);

	assert_int_equal(bench_net_setup(BENCH_NET_LOOPBACK, &n, (char[64]){0}, 64), 0);
	assert_int_equal(bench_net_socket(&n, true, 12345), -EINVAL); /* no such socket type */
	assert_at_home();
	bench_net_done(&n);
}

/* In a child without CAP, setup must fail with -EPERM, say to run as root,
 * leave the child in its namespace and leave n untouched. Exit status: 0 ok,
 * else the number of the failed check. */
static int child_without(cap_value_t cap, enum bench_net_kind kind, const char *step)
{
	cap_t caps = cap_get_proc();
	struct bench_net n = {.ns_client = -7, .ns_server = -7};
	char err[256] = "";
	int r;

	if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &cap, CAP_CLEAR) < 0 || cap_set_proc(caps) < 0)
		return 1;
	cap_free(caps);
	r = bench_net_setup(kind, &n, err, sizeof(err));
	fprintf(stderr, "without capability %d: %d %s\n", (int)cap, r, err);
	if (r != -EPERM)
		return 2;
	if (!strstr(err, step) || !strstr(err, "root"))
		return 3;
	if (n.ns_client != -7 || n.ns_server != -7)
		return 4;
	if (netns_ino("/proc/thread-self/ns/net") != host_ino)
		return 5;
	return 0;
}

static void run_child(cap_value_t cap, enum bench_net_kind kind, const char *step)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_without(cap, kind, step));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_without_rights(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	run_child(CAP_SYS_ADMIN, BENCH_NET_VETH, "cannot create a network namespace: Operation not permitted");
	run_child(CAP_SYS_ADMIN, BENCH_NET_LOOPBACK, "cannot create a network namespace: Operation not permitted");
	/* The namespaces can be made, not the links in them. */
	run_child(CAP_NET_ADMIN, BENCH_NET_VETH, "cannot bring lo up: Operation not permitted");
	run_child(CAP_NET_ADMIN, BENCH_NET_LOOPBACK, "cannot bring lo up: Operation not permitted");
	assert_at_home();
	assert_no_links_in_host();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Not a test: how long setup takes (printed, never asserted). */
static void test_setup_time(void **state)
{
	static const char *const names[] = {"veth", "loopback"};

	(void)state;
	REQUIRE_ROOT();
	for (int k = 0; k < 2; k++) {
		double ms[20];

		for (int i = 0; i < 20; i++) {
			struct bench_net n;
			struct timespec a, b;
			char err[256] = "";

			clock_gettime(CLOCK_MONOTONIC, &a);
			assert_int_equal(bench_net_setup(k ? BENCH_NET_LOOPBACK : BENCH_NET_VETH, &n, err, sizeof(err)),
					 0);
			clock_gettime(CLOCK_MONOTONIC, &b);
			bench_net_done(&n);
			ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		}
		qsort(ms, 20, sizeof(ms[0]), cmp_double);
		printf("bench_net_setup %s: median %.2f ms, min %.2f ms, max %.2f ms (20 runs)\n", names[k],
		       (ms[9] + ms[10]) / 2, ms[0], ms[19]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_veth),
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_pair_goes_with_namespace),
	    cmocka_unit_test(test_setup_done_loop),
	    cmocka_unit_test(test_socket_errors),
	    cmocka_unit_test(test_without_rights),
	    cmocka_unit_test(test_setup_time),
	};
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return 1;
	host_ino = st.st_ino;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
