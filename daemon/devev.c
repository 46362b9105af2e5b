/* Device events: rtnetlink link messages (a NIC appears or comes up) and
 * kobject uevents (CPUs, PCI devices, NICs, IRQs coming and going) make the
 * holder re-plan. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>

#include "daemon.h"

/* The kernel's uevents, not udev's re-broadcast (group 2). */
#define DEVEV_UEVENT_GROUP 1
/* Hot-plugging a card emits a few dozen uevents at once; libnl's 64 KiB
 * would hold a handful of the larger ones. */
#define DEVEV_RCVBUF (1 << 20)

struct devev_link {
	int ifindex;
	unsigned flags;
};

struct devev {
	struct holder *holder;
	struct nl_sock *link_sk, *uevent_sk;
	struct nl_cb *link_cb; /* the link socket's, with our valid handler */
	sd_event_source *link_io, *uevent_io;
	/* Links of this network namespace and their flags, to tell an added
	 * link and IFF_UP newly set from any other change. */
	struct devev_link *links;
	size_t n_links, cap_links;
	/* Set while one link message is parsed. */
	int msgtype;
};

/* Uevents that change what a plan covers: CPUs going on or offline, and
 * devices that bring or take IRQs. */
static const struct {
	const char *subsystem;
	const char *const actions[5];
} devev_uevents[] = {
    {"cpu", {"online", "offline", "add", "remove", NULL}}, {"pci", {"add", "remove", "bind", "unbind", NULL}},
    {"msi", {"add", "remove", "bind", "unbind", NULL}},	   {"net", {"add", "remove", "bind", "unbind", NULL}},
    {"irq", {"add", "remove", "bind", "unbind", NULL}},
};

/* A kernel uevent, "ACTION@DEVPATH\0KEY=VALUE\0...": true when it is one we
 * re-plan for, with why ("uevent: cpu online /devices/system/cpu/cpu1").
 * Anything not in that shape is not. */
static bool devev_uevent_wanted(const char *buf, size_t len, char *why, size_t whylen)
{
	const char *action = NULL, *subsystem = NULL, *devpath = NULL;
	const char *end = buf + len;

	/* The header: udev's messages start "libudev\0" instead. */
	if (len == 0 || !memchr(buf, '@', strnlen(buf, len)))
		return false;
	for (const char *s = buf; s < end;) {
		const char *nul = memchr(s, '\0', end - s);

		if (!nul)
			break; /* an unterminated last string is not read */
		if (strncmp(s, "ACTION=", 7) == 0)
			action = s + 7;
		else if (strncmp(s, "SUBSYSTEM=", 10) == 0)
			subsystem = s + 10;
		else if (strncmp(s, "DEVPATH=", 8) == 0)
			devpath = s + 8;
		s = nul + 1;
	}
	if (!action || !subsystem)
		return false;
	for (size_t i = 0; i < sizeof(devev_uevents) / sizeof(devev_uevents[0]); i++) {
		if (strcmp(subsystem, devev_uevents[i].subsystem) != 0)
			continue;
		for (const char *const *a = devev_uevents[i].actions; *a; a++)
			if (strcmp(action, *a) == 0) {
				snprintf(why, whylen, "uevent: %s %s %s", subsystem, action, devpath ? devpath : "?");
				return true;
			}
	}
	return false;
}

static struct devev_link *devev_link_find(struct devev *d, int ifindex)
{
	for (size_t i = 0; i < d->n_links; i++)
		if (d->links[i].ifindex == ifindex)
			return &d->links[i];
	return NULL;
}

/* Remember a link: 0, or -ENOMEM. */
static int devev_link_add(struct devev *d, int ifindex, unsigned flags)
{
	if (d->n_links == d->cap_links) {
		size_t cap = d->cap_links ? 2 * d->cap_links : 16;
		struct devev_link *v = realloc(d->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->links = v;
		d->cap_links = cap;
	}
	d->links[d->n_links++] = (struct devev_link){.ifindex = ifindex, .flags = flags};
	return 0;
}

static void devev_link_del(struct devev *d, int ifindex)
{
	struct devev_link *l = devev_link_find(d, ifindex);

	if (l)
		*l = d->links[--d->n_links];
}

/* One RTM_NEWLINK or RTM_DELLINK, parsed by libnl-route. */
static void devev_on_link_object(struct nl_object *obj, void *arg)
{
	struct devev *d = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	int ifindex = rtnl_link_get_ifindex(link);
	unsigned flags = rtnl_link_get_flags(link);
	const char *name = rtnl_link_get_name(link);
	struct devev_link *known;
	char why[IFNAMSIZ + 32];

	if (strcmp(nl_object_get_type(obj), "route/link") != 0 || ifindex <= 0)
		return;
	if (d->msgtype == RTM_DELLINK) {
		devev_link_del(d, ifindex);
		return;
	}
	known = devev_link_find(d, ifindex);
	if (!known) {
		/* Without room to remember it, the next message about it
		 * counts as new again: one re-plan too many, nothing
		 * missed. */
		(void)devev_link_add(d, ifindex, flags);
		snprintf(why, sizeof(why), "link %s added%s", name ? name : "?", flags & IFF_UP ? " up" : "");
	} else {
		bool up = (flags & IFF_UP) && !(known->flags & IFF_UP);

		known->flags = flags;
		if (!up)
			return;
		snprintf(why, sizeof(why), "link %s up", name ? name : "?");
	}
	holder_devices_changed(d->holder, why);
}

static int devev_on_link_msg(struct nl_msg *msg, void *arg)
{
	struct devev *d = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;

	if (type != RTM_NEWLINK && type != RTM_DELLINK)
		return NL_OK;
	d->msgtype = type;
	(void)nl_msg_parse(msg, devev_on_link_object, d);
	return NL_OK;
}

static int devev_on_link_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct devev *d = userdata;
	int r;

	(void)s;
	(void)fd;
	(void)revents;
	/* One datagram a call; 0 or -NLE_AGAIN (libnl 3.5 on) when the socket
	 * is empty. */
	while ((r = nl_recvmsgs_report(d->link_sk, d->link_cb)) > 0)
		;
	if (r == 0 || r == -NLE_AGAIN)
		return 0;
	if (r == -NLE_NOMEM) {
		/* ENOBUFS: link messages were lost. */
		holder_devices_changed(d->holder, "rtnetlink overflow: link events lost");
	} else if (r < 0) {
		log_warning("rtnetlink: receiving link events failed: %s", nl_geterror(r));
	}
	return 0;
}

static int devev_on_uevent_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct devev *d = userdata;

	(void)s;
	(void)fd;
	(void)revents;
	for (;;) {
		struct sockaddr_nl from;
		unsigned char *buf = NULL;
		char why[512];
		int n = nl_recv(d->uevent_sk, &from, &buf, NULL);

		if (n == 0 || n == -NLE_AGAIN)
			break;
		if (n == -NLE_NOMEM) {
			holder_devices_changed(d->holder, "uevent overflow: events lost");
			continue;
		}
		if (n < 0) {
			log_warning("uevents: receiving failed: %s", nl_geterror(n));
			break;
		}
		/* Only the kernel's: a root process could send on the group. */
		if (from.nl_pid == 0 && devev_uevent_wanted((const char *)buf, n, why, sizeof(why)))
			holder_devices_changed(d->holder, why);
		free(buf);
	}
	return 0;
}

static void devev_rcvbuf(struct nl_sock *sk)
{
	int fd = nl_socket_get_fd(sk), bytes = DEVEV_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* A non-blocking netlink socket of protocol, joined to group: 0 or a libnl
 * error (negative NLE_*). */
static int devev_socket(int protocol, int group, struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -NLE_NOMEM;
	nl_socket_disable_seq_check(sk);
	r = nl_connect(sk, protocol);
	if (r >= 0)
		r = nl_socket_add_membership(sk, group);
	if (r >= 0)
		r = nl_socket_set_nonblocking(sk);
	if (r < 0) {
		nl_socket_free(sk);
		return r;
	}
	devev_rcvbuf(sk);
	*ret = sk;
	return 0;
}

static void devev_remember_link(struct nl_object *obj, void *arg)
{
	struct rtnl_link *link = (struct rtnl_link *)obj;

	(void)devev_link_add(arg, rtnl_link_get_ifindex(link), rtnl_link_get_flags(link));
}

/* The links there are now, from a dump on a socket of its own (messages of
 * the group would interleave with it on link_sk). */
static int devev_dump_links(struct devev *d)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int r;

	if (!sk)
		return -NLE_NOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r >= 0)
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r >= 0) {
		nl_cache_foreach(cache, devev_remember_link, d);
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
	return r < 0 ? r : 0;
}

static void devev_start_links(sd_event *ev, struct devev *d)
{
	int r;

	r = devev_socket(NETLINK_ROUTE, RTNLGRP_LINK, &d->link_sk);
	if (r < 0) {
		log_warning("rtnetlink: no link events (%s): NICs that appear or come up are not seen", nl_geterror(r));
		return;
	}
	r = nl_socket_modify_cb(d->link_sk, NL_CB_VALID, NL_CB_CUSTOM, devev_on_link_msg, d);
	if (r < 0)
		goto fail_nl;
	d->link_cb = nl_socket_get_cb(d->link_sk);
	/* After joining the group: a link added meanwhile is in the dump or
	 * in the queue, or both. */
	r = devev_dump_links(d);
	if (r < 0)
		goto fail_nl;
	r = sd_event_add_io(ev, &d->link_io, nl_socket_get_fd(d->link_sk), EPOLLIN, devev_on_link_readable, d);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "rtnetlink: no link events: NICs that appear or come up are not seen");
		goto fail;
	}
	(void)sd_event_source_set_description(d->link_io, "rtnetlink-link");
	return;
fail_nl:
	log_warning("rtnetlink: no link events (%s): NICs that appear or come up are not seen", nl_geterror(r));
fail:
	if (d->link_cb)
		nl_cb_put(d->link_cb);
	d->link_cb = NULL;
	nl_socket_free(d->link_sk);
	d->link_sk = NULL;
}

static void devev_start_uevents(sd_event *ev, struct devev *d)
{
	int r;

	r = devev_socket(NETLINK_KOBJECT_UEVENT, DEVEV_UEVENT_GROUP, &d->uevent_sk);
	if (r < 0) {
		log_warning("uevents: not received (%s): CPUs and devices that come and go are not seen",
			    nl_geterror(r));
		return;
	}
	r = sd_event_add_io(ev, &d->uevent_io, nl_socket_get_fd(d->uevent_sk), EPOLLIN, devev_on_uevent_readable, d);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "uevents: not received: CPUs and devices that come and go are not seen");
		nl_socket_free(d->uevent_sk);
		d->uevent_sk = NULL;
		return;
	}
	(void)sd_event_source_set_description(d->uevent_io, "uevent");
}

int devev_start(sd_event *ev, struct holder *h, struct devev **ret)
{
	struct devev *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->holder = h;
	devev_start_links(ev, d);
	devev_start_uevents(ev, d);
	*ret = d;
	return 0;
}

void devev_free(struct devev *d)
{
	if (!d)
		return;
	sd_event_source_disable_unref(d->link_io);
	sd_event_source_disable_unref(d->uevent_io);
	if (d->link_cb)
		nl_cb_put(d->link_cb);
	if (d->link_sk)
		nl_socket_free(d->link_sk);
	if (d->uevent_sk)
		nl_socket_free(d->uevent_sk);
	free(d->links);
	free(d);
}
