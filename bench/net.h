/* The bench's network (net.c): what the NetRT probe and the TCP stream run
 * over. */
#ifndef BENCH_NET_H
#define BENCH_NET_H

#include <stdbool.h>
#include <stddef.h>

enum bench_net_kind { BENCH_NET_VETH, BENCH_NET_LOOPBACK };

/* Two ends: the client side (NetRT client, stream sender) and the server
 * side (echo server, stream receiver). veth: each in a network namespace of
 * its own, joined by a veth pair, 10.199.0.1/30 (client) and 10.199.0.2/30
 * (server); loopback: both in one new namespace, 127.0.0.1. The
 * namespaces have no name and nothing of the host's: they and the veth pair
 * disappear when the last socket in them is closed, however the bench
 * ends. */
struct bench_net {
	enum bench_net_kind kind;
	int ns_client, ns_server; /* namespace fds (the same for loopback) */
	char client_addr[16], server_addr[16];
	char server_if[16]; /* the server side's interface ("isobench1", or "lo") */
};

/* Create the namespaces and link. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 * -errno with a message in err. The calling thread is back in its own
 * namespace on return. */
int bench_net_setup(enum bench_net_kind kind, struct bench_net *n, char *err, size_t errlen);
/* A socket(AF_INET, type | SOCK_CLOEXEC, 0) in the client or the server
 * namespace: fd or -errno. */
int bench_net_socket(const struct bench_net *n, bool server, int type);
void bench_net_done(struct bench_net *n);

#endif
