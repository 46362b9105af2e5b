/* isoctl bench's network: anonymous network namespaces joined by a veth pair
 * (or the loopback of one), built with rtnetlink, entered only by the calling
 * thread and only for as long as one step takes. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>

#include "net.h"

/* The calling thread's network namespace (not the process's: another thread
 * may be elsewhere). A namespace handle, not a tunable, so not in the host
 * seam. */
#define THREAD_NETNS "/proc/thread-self/ns/net"

#define IF_CLIENT "isobench0"
#define IF_SERVER "isobench1"
#define ADDR_CLIENT "10.199.0.1"
#define ADDR_SERVER "10.199.0.2"
#define PREFIX_LEN 30
/* Fixed, locally administered MACs: the pair lives in namespaces of its own,
 * so they can't collide, and the static neighbour entries need them. */
static const unsigned char mac_client[6] = {0x02, 0x00, 0x0a, 0xc7, 0x00, 0x01};
static const unsigned char mac_server[6] = {0x02, 0x00, 0x0a, 0xc7, 0x00, 0x02};
/* How long a new link may take to come up (its carrier event goes through
 * the kernel's linkwatch, which is quick for a veth). */
#define LINK_UP_TIMEOUT_MS 5000

/* What the steps of a setup share. */
struct net_setup {
	char *buf; /* the error message */
	size_t len;
	bool away; /* the thread has left its namespace */
};

static int fail(const struct net_setup *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets "FMT: strerror(-r)" (plus a hint when it is a permission problem)
 * and returns r. */
static int fail(const struct net_setup *e, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(e->buf, e->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < e->len)
		snprintf(e->buf + n, e->len - (size_t)n, ": %s%s", strerror(-r),
			 r == -EPERM ? " (isoctl bench needs root)" : "");
	return r;
}

/* libnl's error codes are its own; the contract speaks errno. r >= 0
 * passes through. */
static int nl_errno(int r)
{
	if (r >= 0)
		return r;
	switch (-r) {
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
	case NLE_MSGSIZE:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	default:
		return -EIO;
	}
}

/* An rtnetlink socket in the thread's current namespace (a socket stays in
 * the namespace it was made in). */
static int rtnl_open(const struct net_setup *e, const char *where, struct nl_sock **ret_sk)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return fail(e, -ENOMEM, "cannot open rtnetlink in the %s namespace", where);
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return fail(e, nl_errno(r), "cannot open rtnetlink in the %s namespace", where);
	}
	*ret_sk = sk;
	return 0;
}

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret_link)
{
	return nl_errno(rtnl_link_get_kernel(sk, 0, name, ret_link));
}

static int link_change(struct nl_sock *sk, struct rtnl_link *link, struct rtnl_link *change)
{
	return nl_errno(rtnl_link_change(sk, link, change, 0));
}

static int link_up(const struct net_setup *e, struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	int r;

	if (!change)
		return fail(e, -ENOMEM, "cannot bring %s up", name);
	r = link_get(sk, name, &link);
	if (r >= 0) {
		rtnl_link_set_flags(change, IFF_UP);
		r = link_change(sk, link, change);
	}
	rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	return r < 0 ? fail(e, r, "cannot bring %s up", name) : 0;
}

/* No IPv6 link-local address on the veth: no DAD, router solicitations or
 * MLD reports on the wire the NetRT probe measures. Best effort: a kernel
 * without IPv6 has nothing to silence. */
static void link_no_ipv6(struct nl_sock *sk, struct rtnl_link *link)
{
	struct rtnl_link *change = rtnl_link_alloc();

	if (!change)
		return;
	if (rtnl_link_inet6_set_addr_gen_mode(change, IN6_ADDR_GEN_MODE_NONE) >= 0)
		(void)link_change(sk, link, change);
	rtnl_link_put(change);
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *local)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *l = NULL;
	int r;

	if (!a)
		return -ENOMEM;
	r = nl_addr_parse(local, AF_INET, &l);
	if (r >= 0) {
		nl_addr_set_prefixlen(l, PREFIX_LEN);
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_family(a, AF_INET);
		r = rtnl_addr_set_local(a, l);
	}
	if (r >= 0)
		r = rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL);
	if (l)
		nl_addr_put(l);
	rtnl_addr_put(a);
	return nl_errno(r);
}

/* A permanent neighbour entry for the other end: the first request goes out
 * at once, and no ARP refresh ever runs during a measurement. */
static int neigh_add(struct nl_sock *sk, int ifindex, const char *dst, const unsigned char mac[6])
{
	struct rtnl_neigh *ne = rtnl_neigh_alloc();
	struct nl_addr *d = NULL, *ll = NULL;
	int r;

	if (!ne)
		return -ENOMEM;
	r = nl_addr_parse(dst, AF_INET, &d);
	if (r >= 0 && !(ll = nl_addr_build(AF_LLC, mac, 6)))
		r = -NLE_NOMEM;
	if (r >= 0) {
		rtnl_neigh_set_ifindex(ne, ifindex);
		rtnl_neigh_set_family(ne, AF_INET);
		rtnl_neigh_set_state(ne, NUD_PERMANENT);
		rtnl_neigh_set_lladdr(ne, ll);
		r = rtnl_neigh_set_dst(ne, d);
	}
	if (r >= 0)
		r = rtnl_neigh_add(sk, ne, NLM_F_CREATE | NLM_F_REPLACE);
	if (d)
		nl_addr_put(d);
	if (ll)
		nl_addr_put(ll);
	rtnl_neigh_put(ne);
	return nl_errno(r);
}

/* One end of the pair, in the namespace sk is in: address, up, the other
 * end's MAC. */
static int veth_end(const struct net_setup *e, struct nl_sock *sk, const char *name, const char *local,
		    const char *peer, const unsigned char peer_mac[6])
{
	struct rtnl_link *link = NULL;
	int ifindex, r;

	r = link_get(sk, name, &link);
	if (r < 0)
		return fail(e, r, "cannot find %s", name);
	ifindex = rtnl_link_get_ifindex(link);
	link_no_ipv6(sk, link);
	rtnl_link_put(link);
	r = addr_add(sk, ifindex, local);
	if (r < 0)
		return fail(e, r, "cannot add %s/%d to %s", local, PREFIX_LEN, name);
	r = link_up(e, sk, name);
	if (r < 0)
		return r;
	r = neigh_add(sk, ifindex, peer, peer_mac);
	if (r < 0)
		return fail(e, r, "cannot add the neighbour %s to %s", peer, name);
	return 0;
}

/* Up for sending: running (carrier and operstate up) and its queueing
 * discipline attached. Until linkwatch has done the latter the link still
 * has the "noop" qdisc, which drops every packet it is given. */
static int link_ready(struct nl_sock *sk, const char *name, bool *ret_ready)
{
	struct rtnl_link *link = NULL;
	const char *qdisc;
	int r = link_get(sk, name, &link);

	if (r < 0)
		return r;
	qdisc = rtnl_link_get_qdisc(link);
	*ret_ready = (rtnl_link_get_flags(link) & IFF_RUNNING) && qdisc && strcmp(qdisc, "noop") != 0;
	rtnl_link_put(link);
	return 0;
}

static int wait_ready(const struct net_setup *e, struct nl_sock *sk_client, struct nl_sock *sk_server)
{
	const struct timespec tick = {.tv_nsec = 200 * 1000};
	struct timespec start, now;
	bool client = false, server = false;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (!client && (r = link_ready(sk_client, IF_CLIENT, &client)) < 0)
			return fail(e, r, "cannot read the state of %s", IF_CLIENT);
		if (!server && (r = link_ready(sk_server, IF_SERVER, &server)) < 0)
			return fail(e, r, "cannot read the state of %s", IF_SERVER);
		if (client && server)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > LINK_UP_TIMEOUT_MS)
			return fail(e, -ETIMEDOUT, "%s did not come up", client ? IF_SERVER : IF_CLIENT);
		nanosleep(&tick, NULL);
	}
}

/* A new namespace for the calling thread, which stays in it; its fd. */
static int ns_new(struct net_setup *e, int *ret_fd)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return fail(e, -errno, "cannot create a network namespace");
	e->away = true;
	fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(e, -errno, "cannot open the new network namespace");
	*ret_fd = fd;
	return 0;
}

static int ns_enter(const struct net_setup *e, int fd, const char *which)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return fail(e, -errno, "cannot enter the %s network namespace", which);
	return 0;
}

/* Leaves the thread in one of the new namespaces; the caller returns it. */
static int setup_veth(struct net_setup *e, struct bench_net *n)
{
	struct nl_sock *sk_client = NULL, *sk_server = NULL;
	struct rtnl_link *veth = NULL, *peer = NULL;
	struct nl_addr *mac = NULL;
	int r;

	/* The server's first, so that the client's, where the pair is made,
	 * can place the peer straight into it. */
	if ((r = ns_new(e, &n->ns_server)) < 0 || (r = ns_new(e, &n->ns_client)) < 0)
		return r;
	if ((r = rtnl_open(e, "client", &sk_client)) < 0)
		goto out;
	if ((r = link_up(e, sk_client, "lo")) < 0)
		goto out;

	r = -ENOMEM;
	if (!(veth = rtnl_link_veth_alloc()))
		goto nomem;
	peer = rtnl_link_veth_get_peer(veth); /* a reference of our own */
	rtnl_link_set_name(veth, IF_CLIENT);
	rtnl_link_set_name(peer, IF_SERVER);
	if (!(mac = nl_addr_build(AF_LLC, mac_client, 6)))
		goto nomem;
	rtnl_link_set_addr(veth, mac);
	nl_addr_put(mac);
	if (!(mac = nl_addr_build(AF_LLC, mac_server, 6)))
		goto nomem;
	rtnl_link_set_addr(peer, mac);
	nl_addr_put(mac);
	rtnl_link_set_ns_fd(peer, n->ns_server);
	r = nl_errno(rtnl_link_add(sk_client, veth, NLM_F_CREATE | NLM_F_EXCL));
	if (r < 0) {
		fail(e, r, "cannot create veth pair %s/%s", IF_CLIENT, IF_SERVER);
		goto out;
	}
	if ((r = veth_end(e, sk_client, IF_CLIENT, ADDR_CLIENT, ADDR_SERVER, mac_server)) < 0)
		goto out;

	if ((r = ns_enter(e, n->ns_server, "server")) < 0)
		goto out;
	if ((r = rtnl_open(e, "server", &sk_server)) < 0)
		goto out;
	if ((r = link_up(e, sk_server, "lo")) < 0)
		goto out;
	if ((r = veth_end(e, sk_server, IF_SERVER, ADDR_SERVER, ADDR_CLIENT, mac_client)) < 0)
		goto out;
	r = wait_ready(e, sk_client, sk_server);
	goto out;

nomem:
	fail(e, r, "cannot create veth pair %s/%s", IF_CLIENT, IF_SERVER);
out:
	if (peer)
		rtnl_link_put(peer);
	if (veth)
		rtnl_link_veth_release(veth);
	if (sk_client)
		nl_socket_free(sk_client);
	if (sk_server)
		nl_socket_free(sk_server);
	return r;
}

static int setup_loopback(struct net_setup *e, struct bench_net *n)
{
	struct nl_sock *sk = NULL;
	int r;

	if ((r = ns_new(e, &n->ns_client)) < 0)
		return r;
	n->ns_server = n->ns_client;
	if ((r = rtnl_open(e, "bench", &sk)) < 0)
		return r;
	r = link_up(e, sk, "lo");
	nl_socket_free(sk);
	return r;
}

int bench_net_setup(enum bench_net_kind kind, struct bench_net *n, char *err, size_t errlen)
{
	struct net_setup e = {err, errlen, false};
	struct bench_net new = {.kind = kind, .ns_client = -1, .ns_server = -1};
	int home, r;

	home = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return fail(&e, -errno, "cannot open the current network namespace");
	if (kind == BENCH_NET_VETH) {
		strcpy(new.client_addr, ADDR_CLIENT);
		strcpy(new.server_addr, ADDR_SERVER);
		strcpy(new.server_if, IF_SERVER);
		r = setup_veth(&e, &new);
	} else {
		strcpy(new.client_addr, "127.0.0.1");
		strcpy(new.server_addr, "127.0.0.1");
		strcpy(new.server_if, "lo");
		r = setup_loopback(&e, &new);
	}
	/* Home, whatever happened. Having had the rights to leave, the thread
	 * has them to come back; if not, the caller must not go on in this
	 * thread. */
	if (e.away && setns(home, CLONE_NEWNET) < 0) {
		int r2 = -errno;

		if (r >= 0)
			r = fail(&e, r2, "cannot return to the original network namespace");
		else if (errlen > 0) {
			size_t used = strnlen(err, errlen - 1);

			snprintf(err + used, errlen - used,
				 "; cannot return to the original network namespace either: %s", strerror(-r2));
		}
	}
	close(home);
	if (r < 0) {
		bench_net_done(&new);
		return r;
	}
	*n = new;
	return 0;
}

int bench_net_socket(const struct bench_net *n, bool server, int type)
{
	int home, fd, r;

	home = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	if (setns(server ? n->ns_server : n->ns_client, CLONE_NEWNET) < 0) {
		r = -errno;
		close(home);
		return r;
	}
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if (setns(home, CLONE_NEWNET) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
	}
	close(home);
	return r;
}

void bench_net_done(struct bench_net *n)
{
	if (n->ns_server >= 0 && n->ns_server != n->ns_client)
		close(n->ns_server);
	if (n->ns_client >= 0)
		close(n->ns_client);
	n->ns_client = n->ns_server = -1;
}
