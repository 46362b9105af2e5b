/* Unit tests of the device events (daemon/devev.c). The uevent filter on
 * synthetic messages (this file includes devev.c to reach it); then, in a
 * network namespace of its own (rtnetlink and net uevents are per
 * namespace, so the host's links and udev see nothing): lo brought up, a
 * link added, brought up, changed, downed, up again and deleted, each
 * reaching holder_devices_changed() or not, from rtnetlink and from the
 * kobject uevents. The holder and the log are stubs that record. */
#include <errno.h>
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
#include <cmocka.h>

#include "devev.c"

/* ---- stubs ---- */

static struct {
	char *whys[256];
	size_t n;
} rec;

static int fake_holder;
#define HOLDER ((struct holder *)&fake_holder)

static void rec_reset(void)
{
	for (size_t i = 0; i < rec.n; i++)
		free(rec.whys[i]);
	rec.n = 0;
}

void holder_devices_changed(struct holder *h, const char *why)
{
	assert_ptr_equal(h, HOLDER);
	assert_true(rec.n < sizeof(rec.whys) / sizeof(rec.whys[0]));
	rec.whys[rec.n] = strdup(why);
	assert_non_null(rec.whys[rec.n]);
	rec.n++;
}

void holder_threads(struct holder *h, const struct thread_ref *refs, size_t n)
{
	(void)h;
	(void)refs;
	fail_msg("holder_threads(%zu) from devev", n);
}

void holder_rescan(struct holder *h, const char *why)
{
	(void)h;
	fail_msg("holder_rescan(%s) from devev", why);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	(void)fields;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int log_errno(int priority, int r, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-r));
	return r;
}

/* Index of why among the recorded from index from, or -1. */
static long rec_find(size_t from, const char *why)
{
	for (size_t i = from; i < rec.n; i++)
		if (strcmp(rec.whys[i], why) == 0)
			return (long)i;
	return -1;
}

/* ---- the uevent filter ---- */

/* A uevent as the kernel sends it: header and KEY=VALUE strings, each
 * NUL-terminated. */
static size_t uevent(char *buf, size_t size, const char *const *strings)
{
	size_t len = 0;

	for (; *strings; strings++) {
		size_t n = strlen(*strings) + 1;

		assert_true(len + n <= size);
		memcpy(buf + len, *strings, n);
		len += n;
	}
	return len;
}

static void test_uevent_filter(void **state)
{
	static const struct {
		const char *strings[6];
		const char *why; /* NULL: not wanted */
	} cases[] = {
	    {{"online@/devices/system/cpu/cpu1", "ACTION=online", "DEVPATH=/devices/system/cpu/cpu1", "SUBSYSTEM=cpu",
	      "SEQNUM=1", NULL},
	     "uevent: cpu online /devices/system/cpu/cpu1"},
	    {{"offline@/devices/system/cpu/cpu1", "ACTION=offline", "DEVPATH=/devices/system/cpu/cpu1", "SUBSYSTEM=cpu",
	      NULL},
	     "uevent: cpu offline /devices/system/cpu/cpu1"},
	    {{"add@/devices/system/cpu/cpu2", "ACTION=add", "SUBSYSTEM=cpu", "DEVPATH=/devices/system/cpu/cpu2", NULL},
	     "uevent: cpu add /devices/system/cpu/cpu2"},
	    /* What writing "change" to a CPU's uevent file gives: no change
	     * to the CPU, no re-plan. */
	    {{"change@/devices/system/cpu/cpu0", "ACTION=change", "DEVPATH=/devices/system/cpu/cpu0", "SUBSYSTEM=cpu",
	      "SYNTH_UUID=0", NULL},
	     NULL},
	    {{"bind@/devices/pci0000:00/0000:00:03.0", "ACTION=bind", "DEVPATH=/devices/pci0000:00/0000:00:03.0",
	      "SUBSYSTEM=pci", "DRIVER=virtio-pci", NULL},
	     "uevent: pci bind /devices/pci0000:00/0000:00:03.0"},
	    {{"unbind@/devices/pci0000:00/0000:00:03.0", "ACTION=unbind", "DEVPATH=/devices/pci0000:00/0000:00:03.0",
	      "SUBSYSTEM=pci", NULL},
	     "uevent: pci unbind /devices/pci0000:00/0000:00:03.0"},
	    {{"add@/devices/virtual/net/eth9", "ACTION=add", "DEVPATH=/devices/virtual/net/eth9", "SUBSYSTEM=net",
	      "INTERFACE=eth9", NULL},
	     "uevent: net add /devices/virtual/net/eth9"},
	    {{"remove@/devices/x/msi", "ACTION=remove", "SUBSYSTEM=msi", NULL}, "uevent: msi remove ?"},
	    {{"add@/kernel/irq/45", "ACTION=add", "SUBSYSTEM=irq", "DEVPATH=/kernel/irq/45", NULL},
	     "uevent: irq add /kernel/irq/45"},
	    /* Subsystems and actions we do not re-plan for. */
	    {{"add@/devices/virtual/block/loop0", "ACTION=add", "SUBSYSTEM=block",
	      "DEVPATH=/devices/virtual/block/loop0", NULL},
	     NULL},
	    {{"move@/devices/virtual/net/eth9", "ACTION=move", "SUBSYSTEM=net", "DEVPATH=/devices/virtual/net/eth9",
	      NULL},
	     NULL},
	    {{"online@/devices/pci0000:00", "ACTION=online", "SUBSYSTEM=pci", NULL}, NULL},
	    /* Not a kernel uevent: udev's header, no header, no keys. */
	    {{"libudev", "ACTION=add", "SUBSYSTEM=cpu", NULL}, NULL},
	    {{"ACTION=add", "SUBSYSTEM=cpu", NULL}, NULL},
	    {{"add@/devices/system/cpu/cpu2", "SUBSYSTEM=cpu", NULL}, NULL},
	    {{"add@/devices/system/cpu/cpu2", "ACTION=add", NULL}, NULL},
	    /* A prefix of a key is not the key. */
	    {{"add@/devices/system/cpu/cpu2", "ACTION=add", "SUBSYSTEMS=cpu", NULL}, NULL},
	    {{"add@/devices/system/cpu/cpu2", "ACTION=add", "SUBSYSTEM=cpux", NULL}, NULL},
	};
	char buf[1024], why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = uevent(buf, sizeof(buf), cases[i].strings);
		bool wanted = devev_uevent_wanted(buf, len, why, sizeof(why));

		if (cases[i].why) {
			if (!wanted)
				fail_msg("case %zu (%s): not wanted", i, cases[i].strings[0]);
			assert_string_equal(why, cases[i].why);
		} else if (wanted) {
			fail_msg("case %zu (%s): wanted as %s", i, cases[i].strings[0], why);
		}
	}

	/* The last string unterminated: its key is not read (SUBSYSTEM is
	 * missing then). */
	{
		static const char msg[] = "add@/devices/system/cpu/cpu2\0ACTION=add\0SUBSYSTEM=cpu";

		assert_false(devev_uevent_wanted(msg, sizeof(msg) - 1, why, sizeof(why)));
		assert_true(devev_uevent_wanted(msg, sizeof(msg), why, sizeof(why)));
	}
	assert_false(devev_uevent_wanted("", 0, why, sizeof(why)));
}

/* ---- live, in our own network namespace ---- */

#define LINK "isotest0"
#define DEADLINE 30.0

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the loop until why is recorded at or after index from (a generous
 * deadline, not a timing assertion); its index. */
static size_t await(sd_event *ev, size_t from, const char *why)
{
	double end = now() + DEADLINE;
	long i;

	while ((i = rec_find(from, why)) < 0 && now() < end)
		assert_true(sd_event_run(ev, 100 * 1000) >= 0);
	if (i < 0) {
		for (size_t j = 0; j < rec.n; j++)
			fprintf(stderr, "recorded: %s\n", rec.whys[j]);
		fail_msg("not received: %s", why);
	}
	return (size_t)i;
}

/* Set or clear IFF_UP, change the MTU (0: leave it) of a link by name. */
static void link_set(struct nl_sock *sk, const char *name, bool up, unsigned mtu)
{
	struct rtnl_link *cur = NULL, *change = rtnl_link_alloc();
	int r;

	assert_non_null(change);
	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r < 0)
		fail_msg("%s: %s", name, nl_geterror(r));
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	r = rtnl_link_change(sk, cur, change, 0);
	if (r < 0)
		fail_msg("%s: change: %s", name, nl_geterror(r));
	rtnl_link_put(cur);
	rtnl_link_put(change);
}

/* Add LINK of a kind this kernel has, built in or as a module: dummy, as
 * the daemon's users would test with, else a bridge or an ifb. */
static void link_add(struct nl_sock *sk)
{
	static const char *const kinds[] = {"dummy", "bridge", "ifb"};
	int r = -NLE_FAILURE;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct rtnl_link *l = rtnl_link_alloc();

		assert_non_null(l);
		rtnl_link_set_name(l, LINK);
		assert_int_equal(rtnl_link_set_type(l, kinds[i]), 0);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(l);
		if (r == 0)
			return;
	}
	fail_msg("no link kind to test with: %s", nl_geterror(r));
}

static void link_del(struct nl_sock *sk)
{
	struct rtnl_link *l = rtnl_link_alloc();

	assert_non_null(l);
	rtnl_link_set_name(l, LINK);
	assert_int_equal(rtnl_link_delete(sk, l), 0);
	rtnl_link_put(l);
}

static size_t links_recorded(size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < rec.n; i++)
		n += strncmp(rec.whys[i], "link ", 5) == 0;
	return n;
}

static void test_live(void **state)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct devev *d = NULL;
	sd_event *ev;
	size_t i, j;
	int ifindex;

	(void)state;
	assert_non_null(sk);
	assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
	assert_int_equal(sd_event_new(&ev), 0);
	assert_int_equal(devev_start(ev, HOLDER, &d), 0);
	/* Both sockets opened: the test would pass on half otherwise. */
	assert_non_null(d->link_io);
	assert_non_null(d->uevent_io);
	rec_reset();

	/* lo exists (it was in the dump), down: up is a re-plan. */
	link_set(sk, "lo", true, 0);
	await(ev, 0, "link lo up");

	/* A new link, from rtnetlink and from its uevent. */
	link_add(sk);
	i = await(ev, 0, "link " LINK " added");
	await(ev, 0, "uevent: net add /devices/virtual/net/" LINK);

	/* Up: a re-plan; then an MTU change and down, which are not; up
	 * again is. Messages of one socket come in order, so when the
	 * second up is here, a re-plan for the changes between would be
	 * too. */
	link_set(sk, LINK, true, 0);
	i = await(ev, i + 1, "link " LINK " up");
	link_set(sk, LINK, true, 1400);
	link_set(sk, LINK, false, 0);
	link_set(sk, LINK, true, 0);
	j = await(ev, i + 1, "link " LINK " up");
	assert_true(j > i);
	assert_int_equal(links_recorded(i + 1), 1);

	/* Deleted: its uevent is a re-plan, the link message is not (and
	 * the link is forgotten). A link of that name added again is new. */
	ifindex = (int)if_nametoindex(LINK);
	assert_true(ifindex > 0);
	assert_non_null(devev_link_find(d, ifindex));
	link_del(sk);
	await(ev, 0, "uevent: net remove /devices/virtual/net/" LINK);
	j = rec.n;
	link_add(sk);
	await(ev, j, "link " LINK " added");
	assert_int_equal(links_recorded(j), 1);
	assert_null(devev_link_find(d, ifindex));
	link_del(sk);

	devev_free(d);
	sd_event_unref(ev);
	nl_socket_free(sk);
	rec_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uevent_filter),
	    cmocka_unit_test(test_live),
	};

	/* Our own network namespace for the whole run: the links we make and
	 * their uevents stay in it, and go with the process. */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test-devev: unshare(CLONE_NEWNET): %s (the tests run as root)\n", strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
