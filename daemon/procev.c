/* The proc connector: the kernel's fork, exec and comm events, drained from
 * a libnl socket in batches and handed to the holder as thread refs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "daemon.h"
#include "isolated/util.h"

/* Datagrams read per wake-up before the batch goes to the holder; the loop
 * comes back at once if more are queued (the fd is level-triggered). At
 * about 1 µs a datagram this bounds the delay a storm adds to the first
 * thread of the batch to a quarter of a millisecond. */
#define PROCEV_DRAIN_MAX 256
/* Receive buffer when the caller gives none. An event costs 832 bytes of
 * it (its skb), so libnl's default (32 KiB, doubled by the kernel) holds
 * about 80; 4 MiB (8 MiB once doubled) holds some 10000 while the loop is
 * busy with an apply. Memory is only used while events wait. */
#define PROCEV_RCVBUF_DEFAULT (4 << 20)
#define PROCEV_EVENTS (PROC_EVENT_FORK | PROC_EVENT_EXEC | PROC_EVENT_COMM)

/* struct proc_input of <linux/cn_proc.h> since Linux 6.6 (the build's
 * headers may be older): PROC_CN_MCAST_LISTEN with a mask of the events this
 * socket wants. Older kernels ignore a message of this size. */
struct procev_input {
	uint32_t mcast_op;
	uint32_t event_type;
};

struct procev_item {
	pid_t tgid, tid;
	uint32_t order;
	bool gone; /* an exit: drops the tid's earlier events of the batch */
};

struct procev {
	struct holder *holder;
	struct nl_sock *sk;
	sd_event_source *io;
	bool listening;	 /* the kernel counts us as a listener */
	uint32_t cookie; /* our acks from the kernel carry cookie + 1 */
	unsigned long long events, overflows, ignored;
	size_t n;
	struct procev_item batch[PROCEV_DRAIN_MAX];
	struct thread_ref refs[PROCEV_DRAIN_MAX];
	/* One datagram; 8-aligned like the kernel's own buffer. */
	_Alignas(8) unsigned char buf[4096];
};

/* The inode numbers of the initial namespaces (PROC_USER_INIT_INO and
 * PROC_PID_INIT_INO of the kernel's <linux/proc_ns.h>, fixed since 3.8;
 * not in the uapi headers). */
#define PROCEV_USER_INIT_INO 0xEFFFFFFDU
#define PROCEV_PID_INIT_INO 0xEFFFFFFCU

int procev_initial_namespaces(const char **ret_which)
{
	static const struct {
		const char *path, *name;
		unsigned long ino;
	} ns[] = {
	    {"/proc/self/ns/user", "user", PROCEV_USER_INIT_INO},
	    {"/proc/self/ns/pid", "PID", PROCEV_PID_INIT_INO},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		struct stat st;

		if (stat(ns[i].path, &st) < 0)
			return -errno;
		if (st.st_ino != ns[i].ino) {
			*ret_which = ns[i].name;
			return 0;
		}
	}
	return 1;
}

static int procev_nlerr(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* PROC_CN_MCAST_LISTEN or _IGNORE; with events != 0 the 6.6 form that
 * carries an event mask. */
static int procev_send_op(struct procev *p, uint32_t op, uint32_t events)
{
	_Alignas(8) unsigned char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct procev_input))];
	struct procev_input in = {.mcast_op = op, .event_type = events};
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nh);
	size_t len = events ? sizeof(in) : sizeof(op);

	memset(buf, 0, sizeof(buf));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->ack = p->cookie;
	cn->len = len;
	memcpy(cn->data, &in, len);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + len);
	nh->nlmsg_type = NLMSG_DONE;
	nh->nlmsg_pid = nl_socket_get_local_port(p->sk);
	if (send(nl_socket_get_fd(p->sk), buf, nh->nlmsg_len, 0) < 0)
		/* There is no connector outside the initial network
		 * namespace: the kernel refuses the message. */
		return errno == ECONNREFUSED ? -EPROTONOSUPPORT : -errno;
	return 0;
}

/* Copy the proc_event of one netlink message out (it is 4-aligned in the
 * datagram, the struct wants 8): the number of bytes the kernel sent, 0 if
 * the message is not a well-formed proc connector message. */
static size_t procev_event(const struct nlmsghdr *nh, struct proc_event *ret)
{
	const struct cn_msg *cn;
	size_t payload;

	if (nh->nlmsg_type != NLMSG_DONE || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)))
		return 0;
	payload = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*cn));
	cn = NLMSG_DATA(nh);
	if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC || cn->len > payload ||
	    cn->len < offsetof(struct proc_event, event_data))
		return 0;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, cn->data, cn->len < sizeof(*ret) ? cn->len : sizeof(*ret));
	return cn->len;
}

static int procev_item_cmp(const void *a, const void *b)
{
	const struct procev_item *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Hand the batch to the holder: each tid once, with its latest tgid; a tid
 * whose last event in the batch is its exit is left out. */
static void procev_flush(struct procev *p)
{
	size_t m = 0;

	if (p->n == 0)
		return;
	if (p->n > 1)
		qsort(p->batch, p->n, sizeof(p->batch[0]), procev_item_cmp);
	for (size_t i = 0; i < p->n; i++) {
		const struct procev_item *it = &p->batch[i];

		if (i + 1 < p->n && p->batch[i + 1].tid == it->tid)
			continue;
		if (!it->gone)
			p->refs[m++] = (struct thread_ref){.tgid = it->tgid, .tid = it->tid};
	}
	p->n = 0;
	if (m > 0)
		holder_threads(p->holder, p->refs, m);
}

static void procev_add(struct procev *p, pid_t tgid, pid_t tid, bool gone)
{
	if (p->n == PROCEV_DRAIN_MAX)
		procev_flush(p);
	p->batch[p->n] = (struct procev_item){.tgid = tgid, .tid = tid, .order = p->n, .gone = gone};
	p->n++;
}

#define PROCEV_HAS(len, member)                                                                                        \
	((len) >= offsetof(struct proc_event, event_data) + sizeof(((struct proc_event *)0)->event_data.member))

/* One datagram as received: its events go into the batch. */
static void procev_parse(struct procev *p, void *buf, int len)
{
	int rem = len;

	/* Not libnl's nlmsg_for_each: it declares its cursor as an int. */
	for (struct nlmsghdr *nh = buf; nlmsg_ok(nh, rem); nh = nlmsg_next(nh, &rem)) {
		struct proc_event ev;
		size_t n = procev_event(nh, &ev);

		if (n == 0 || ev.what == PROC_EVENT_NONE)
			continue;
		p->events++;
		switch (ev.what) {
		case PROC_EVENT_FORK:
			if (PROCEV_HAS(n, fork))
				procev_add(p, ev.event_data.fork.child_tgid, ev.event_data.fork.child_pid, false);
			break;
		case PROC_EVENT_EXEC:
			if (PROCEV_HAS(n, exec))
				procev_add(p, ev.event_data.exec.process_tgid, ev.event_data.exec.process_pid, false);
			break;
		case PROC_EVENT_COMM:
			if (PROCEV_HAS(n, comm))
				procev_add(p, ev.event_data.comm.process_tgid, ev.event_data.comm.process_pid, false);
			break;
		case PROC_EVENT_EXIT:
			/* Only kernels without the event filter send these. */
			if (PROCEV_HAS(n, exit))
				procev_add(p, ev.event_data.exit.process_tgid, ev.event_data.exit.process_pid, true);
			break;
		default:
			p->ignored++;
			break;
		}
	}
}

static int procev_on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct procev *p = userdata;
	bool overflow = false;
	int r = 0;

	(void)s;
	(void)revents;
	/* recv on libnl's fd: nl_recv() costs twice as much a datagram (a
	 * peek and a malloc); recvmmsg() measured no cheaper, the wake-up
	 * itself is most of the cost of an event. */
	for (unsigned i = 0; i < PROCEV_DRAIN_MAX; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == ENOBUFS) {
				/* The queue overflowed and the kernel dropped
				 * events; the socket goes on receiving. */
				overflow = true;
				p->overflows++;
				continue;
			}
			r = -errno;
			break;
		}
		/* Only the kernel speaks on this group. */
		if (from.nl_pid != 0 || fromlen != sizeof(from))
			continue;
		procev_parse(p, p->buf, (int)n);
	}
	procev_flush(p);
	if (overflow)
		holder_rescan(p->holder, "proc connector overflow: events lost");
	if (r < 0) {
		log_errno(LOG_ERR, r, "proc connector: receiving failed, no more process events");
		holder_rescan(p->holder, "proc connector failed");
		/* sd-event disables the source. */
		return r;
	}
	return 0;
}

/* Read what is queued until our acknowledgement of the last op: its error
 * (0: accepted), -EAGAIN if the kernel did not answer. Events received
 * meanwhile predate procev_start() and are dropped. */
static int procev_await_ack(struct procev *p, bool *ret_overflow)
{
	int fd = nl_socket_get_fd(p->sk);

	for (;;) {
		ssize_t n = recv(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);
		int rem;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				*ret_overflow = true;
				continue;
			}
			return -errno;
		}
		rem = (int)n;
		for (struct nlmsghdr *nh = (void *)p->buf; nlmsg_ok(nh, rem); nh = nlmsg_next(nh, &rem)) {
			struct proc_event ev;
			const struct cn_msg *cn = NLMSG_DATA(nh);

			if (procev_event(nh, &ev) >=
				offsetof(struct proc_event, event_data) + sizeof(ev.event_data.ack) &&
			    ev.what == PROC_EVENT_NONE && cn->ack == p->cookie + 1)
				return -(int)ev.event_data.ack.err;
		}
	}
}

static int procev_set_rcvbuf(struct procev *p, int bytes)
{
	int fd = nl_socket_get_fd(p->sk);

	/* FORCE passes net.core.rmem_max; it needs CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

static int procev_listen(struct procev *p)
{
	int r;

	/* The plain op first: it is acknowledged, so we learn whether the
	 * kernel listens to us (before 6.6 it wants CAP_NET_ADMIN; it
	 * ignores callers outside the initial user and pid namespaces). The
	 * ack of the masked op below is filtered out by its own mask. A full
	 * queue can drop the ack: try again then. */
	for (unsigned attempt = 0;; attempt++) {
		bool overflow = false;

		r = procev_send_op(p, PROC_CN_MCAST_LISTEN, 0);
		if (r < 0)
			return r;
		r = procev_await_ack(p, &overflow);
		if (r != -EAGAIN)
			break;
		if (!overflow || attempt == 3)
			return -EPERM;
	}
	if (r < 0)
		return r;
	p->listening = true;
	/* Then the mask (Linux 6.6, "proc_input"): exits, uid changes ...
	 * stay in the kernel. Older kernels ignore it and we skip what we do
	 * not want. */
	return procev_send_op(p, PROC_CN_MCAST_LISTEN, PROCEV_EVENTS);
}

int procev_start(sd_event *ev, struct holder *h, int rcvbuf, struct procev **ret)
{
	struct procev *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->holder = h;
	p->cookie = (uint32_t)getpid() * 2654435761u;
	p->sk = nl_socket_alloc();
	if (!p->sk) {
		r = -ENOMEM;
		goto fail;
	}
	/* We build and read the connector's messages ourselves: no libnl
	 * sequence numbers, no acks requested. */
	nl_socket_disable_seq_check(p->sk);
	nl_socket_disable_auto_ack(p->sk);
	r = nl_connect(p->sk, NETLINK_CONNECTOR);
	if (r < 0) {
		r = procev_nlerr(r);
		goto fail;
	}
	r = nl_socket_add_membership(p->sk, CN_IDX_PROC);
	if (r < 0) {
		r = procev_nlerr(r);
		goto fail;
	}
	r = nl_socket_set_nonblocking(p->sk);
	if (r < 0) {
		r = procev_nlerr(r);
		goto fail;
	}
	r = procev_listen(p);
	if (r < 0)
		goto fail;
	/* After the handshake, so that a tiny test buffer cannot lose the
	 * ack. */
	r = procev_set_rcvbuf(p, rcvbuf > 0 ? rcvbuf : PROCEV_RCVBUF_DEFAULT);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(ev, &p->io, nl_socket_get_fd(p->sk), EPOLLIN, procev_on_readable, p);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(p->io, "proc-connector");
	*ret = p;
	return 0;
fail:
	procev_free(p);
	return r;
}

void procev_free(struct procev *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->io);
	if (p->sk) {
		/* Before 6.6 the kernel counts listeners until told. */
		if (p->listening)
			(void)procev_send_op(p, PROC_CN_MCAST_IGNORE, 0);
		nl_socket_free(p->sk);
	}
	free(p);
}

void procev_counters(const struct procev *p, unsigned long long *ret_events, unsigned long long *ret_overflows)
{
	if (ret_events)
		*ret_events = p->events;
	if (ret_overflows)
		*ret_overflows = p->overflows;
}
