/* Unit tests of the daemon's bus side (daemon/bus.c) on a real, private
 * dbus-daemon configured like the system bus (tests/data/dbus-system-test.conf,
 * which includes systemd/io.isolated.Daemon1.conf). The holder is a stub
 * defined here: it records its calls and answers with canned documents or
 * errors, so bus.o links without holder.o. bus_start and its sd-event loop
 * run in a thread of this process; the tests are clients, as root from
 * this process and as nobody (65534) from forked children that drop their
 * ids before connecting. A stand-in for polkit (a thread owning
 * org.freedesktop.PolicyKit1 on the private bus) runs only in the tests
 * that need one; elsewhere polkit is absent, as on a host without it. The
 * limits on callers other than root run on a clock of the tests' own
 * (fake_now): it stands still within a test, so a burst is a burst however
 * slow the machine, and moves an hour between tests, so every test starts
 * with full buckets. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <cmocka.h>

#include "daemon.h"
#include "isolated/busapi.h"

#define NOBODY 65534
/* Other uids that have a passwd entry (dbus-daemon refuses a uid without
 * one): daemon, bin and sys of Debian's base-passwd. */
#define OTHER_UID 1
#define LOG_UID 2
#define LOG_UID2 3
#define DENIED "org.freedesktop.DBus.Error.AccessDenied"

/* ---- The stub holder ---- */

struct holder {
	int unused;
};
static struct holder the_holder;

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct holder_events ev;
	int n_set_events;
	int n_apply, n_revert, n_confirm, n_plan, n_status, n_verify, n_list;
	/* arguments of the last call */
	char mode_arg[256];
	struct holder_apply_opts opts;
	bool has_scope;
	char scope[ISOLATED_BUS_SCOPE_MAX + 1];
	uid_t caller_uid;
	pid_t caller_pid;
	bool revert_dry, revert_force;
	/* the next call fails with this (fail_r < 0) */
	int fail_r;
	const char *fail_name, *fail_message;
	/* the next call succeeds without a document */
	bool no_doc;
	/* Apply raises mode_changed + state_changed; Verify raises drift */
	bool fire_events;
	/* holder_mode(), holder_state() */
	char mode[256], state[64];
	/* the last log line and its caller-uid field; the last lines */
	int n_logs;
	char log[1024], log_uid[64];
	char logs[32][1024];
	/* holder_generation(); holder_summary() calls */
	unsigned long long generation;
	int n_summary;
	/* how long Plan takes, on the tests' clock */
	unsigned long long plan_usec;
} stub;
static json_object *stub_summary;

/* The bus's clock for its limits: CLOCK_MONOTONIC µs as the tests set it
 * (under stub_lock). */
static unsigned long long fake_now = 1000ULL * 3600 * 1000000;

static unsigned long long clock_now(void *userdata)
{
	unsigned long long t;

	(void)userdata;
	pthread_mutex_lock(&stub_lock);
	t = fake_now;
	pthread_mutex_unlock(&stub_lock);
	return t;
}

static void settle(void);

/* The clock moved on, once the server is done with every call answered so
 * far (settle): it charges a call after sending the reply (bus.c's
 * charged()), and a charge that read the clock after this advance would
 * bill the caller for the time skipped (CI once: "too many calls from uid
 * 65534: try again in 80 s" after a 5 s advance). */
static void clock_advance(unsigned long long usec)
{
	settle();
	pthread_mutex_lock(&stub_lock);
	fake_now += usec;
	pthread_mutex_unlock(&stub_lock);
}

static void stub_reset(void)
{
	pthread_mutex_lock(&stub_lock);
	struct holder_events ev = stub.ev;
	int n = stub.n_set_events;

	memset(&stub, 0, sizeof(stub));
	stub.ev = ev;
	stub.n_set_events = n;
	strcpy(stub.mode, "vanilla");
	strcpy(stub.state, "idle");
	pthread_mutex_unlock(&stub_lock);
}

/* The canned answer of a stub method: fail as told, or {"method": NAME, ...}. */
static int stub_answer(const char *method, const char *mode, json_object **ret, struct op_error *e)
{
	json_object *o;

	if (stub.fail_r < 0) {
		int r = stub.fail_r;

		e->name = stub.fail_name;
		e->message = stub.fail_message ? strdup(stub.fail_message) : NULL;
		stub.fail_r = 0;
		return r;
	}
	if (stub.no_doc) {
		stub.no_doc = false;
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "method", json_object_new_string(method));
	if (mode)
		json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "path", json_object_new_string("/etc/isolated"));
	*ret = o;
	return 0;
}

void op_error_done(struct op_error *e)
{
	free(e->message);
	e->message = NULL;
}

void holder_set_events(struct holder *h, const struct holder_events *e)
{
	assert_ptr_equal(h, &the_holder);
	pthread_mutex_lock(&stub_lock);
	stub.ev = *e;
	stub.n_set_events++;
	pthread_mutex_unlock(&stub_lock);
}

int holder_apply(struct holder *h, const char *mode, const struct holder_apply_opts *o, const struct caller *c,
		 json_object **ret, struct op_error *e)
{
	struct holder_events ev;
	char previous[256];
	bool fire;
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_apply++;
	snprintf(stub.mode_arg, sizeof(stub.mode_arg), "%s", mode);
	stub.opts = *o;
	stub.has_scope = o->scope != NULL;
	snprintf(stub.scope, sizeof(stub.scope), "%s", o->scope ? o->scope : "");
	stub.opts.scope = NULL;
	stub.caller_uid = c->uid;
	stub.caller_pid = c->pid;
	r = stub_answer("Apply", mode, ret, e);
	fire = r == 0 && stub.fire_events;
	ev = stub.ev;
	snprintf(previous, sizeof(previous), "%s", stub.mode);
	if (fire) {
		snprintf(stub.mode, sizeof(stub.mode), "%s", mode);
		strcpy(stub.state, "holding");
	}
	pthread_mutex_unlock(&stub_lock);
	/* As the holder does: events after the commit, before the answer. */
	if (fire) {
		ev.mode_changed(ev.userdata, mode, previous);
		ev.state_changed(ev.userdata);
	}
	return r;
}

int holder_revert(struct holder *h, bool dry_run, bool force, json_object **ret, struct op_error *e)
{
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_revert++;
	stub.revert_dry = dry_run;
	stub.revert_force = force;
	r = stub_answer("Revert", NULL, ret, e);
	pthread_mutex_unlock(&stub_lock);
	return r;
}

int holder_confirm(struct holder *h, const struct caller *c, json_object **ret, struct op_error *e)
{
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_confirm++;
	stub.caller_uid = c->uid;
	stub.caller_pid = c->pid;
	r = stub_answer("Confirm", NULL, ret, e);
	pthread_mutex_unlock(&stub_lock);
	return r;
}

int holder_plan(struct holder *h, const char *mode, const char *scope, json_object **ret, struct op_error *e)
{
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_plan++;
	fake_now += stub.plan_usec;
	snprintf(stub.mode_arg, sizeof(stub.mode_arg), "%s", mode);
	stub.has_scope = scope != NULL;
	snprintf(stub.scope, sizeof(stub.scope), "%s", scope ? scope : "");
	r = stub_answer("Plan", mode, ret, e);
	pthread_mutex_unlock(&stub_lock);
	return r;
}

int holder_status(struct holder *h, json_object **ret, struct op_error *e)
{
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_status++;
	r = stub_answer("Status", NULL, ret, e);
	pthread_mutex_unlock(&stub_lock);
	return r;
}

int holder_verify(struct holder *h, json_object **ret, struct op_error *e)
{
	struct holder_events ev;
	json_object *drift = NULL;
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_verify++;
	r = stub_answer("Verify", NULL, ret, e);
	ev = stub.ev;
	if (r == 0 && stub.fire_events) {
		drift = json_tokener_parse("{\"drift\": [{\"target\": \"irq/45\", \"now\": \"0-1\"}]}");
		strcpy(stub.state, "drifted");
	}
	pthread_mutex_unlock(&stub_lock);
	if (drift) {
		ev.drift(ev.userdata, drift);
		ev.state_changed(ev.userdata);
		json_object_put(drift);
	}
	return r;
}

int holder_list_modes(struct holder *h, json_object **ret, struct op_error *e)
{
	int r;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_list++;
	r = stub_answer("ListModes", NULL, ret, e);
	pthread_mutex_unlock(&stub_lock);
	return r;
}

/* A canned summary; the real one is the holder's (report_summary). */
json_object *holder_summary(struct holder *h)
{
	(void)h;
	pthread_mutex_lock(&stub_lock);
	stub.n_summary++;
	if (!stub_summary)
		stub_summary = json_tokener_parse("{\"summary\": true, \"method\": \"Summary\", \"path\": "
						  "\"/etc/isolated\", \"isolated\": {\"mode\": \"dedicated\"}}");
	pthread_mutex_unlock(&stub_lock);
	return stub_summary;
}

unsigned long long holder_generation(const struct holder *h)
{
	unsigned long long g;

	(void)h;
	pthread_mutex_lock(&stub_lock);
	g = stub.generation;
	pthread_mutex_unlock(&stub_lock);
	return g;
}

/* The pointers stay valid: the tests change mode and state only while the
 * bus thread is idle. */
const char *holder_mode(const struct holder *h)
{
	(void)h;
	return stub.mode;
}

const char *holder_state(const struct holder *h)
{
	(void)h;
	return stub.state;
}

static void stub_log(const char *const *fields, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&stub_lock);
	vsnprintf(stub.log, sizeof(stub.log), fmt, ap);
	snprintf(stub.logs[stub.n_logs % 32], sizeof(stub.logs[0]), "%s", stub.log);
	stub.n_logs++;
	stub.log_uid[0] = '\0';
	for (size_t i = 0; fields && fields[i]; i++)
		if (strncmp(fields[i], "ISOLATED_CALLER_UID=", 20) == 0)
			snprintf(stub.log_uid, sizeof(stub.log_uid), "%s", fields[i] + 20);
	pthread_mutex_unlock(&stub_lock);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	stub_log(fields, fmt, ap);
	va_end(ap);
}

int log_errno(int priority, int r, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	stub_log(NULL, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- Threads with an sd-event loop, stopped through a pipe ---- */

struct loop {
	pthread_t thread;
	int quit[2], ready[2];
	int (*setup)(struct loop *l, sd_event *ev); /* -errno to give up */
	void (*teardown)(struct loop *l);
	void *data;
};

static int on_quit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)fd, (void)revents, (void)userdata;
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	sd_event *ev = NULL;
	int r;

	r = sd_event_new(&ev);
	if (r >= 0)
		r = sd_event_add_io(ev, NULL, l->quit[0], EPOLLIN, on_quit, NULL);
	if (r >= 0)
		r = l->setup(l, ev);
	if (write(l->ready[1], &r, sizeof(r)) != sizeof(r))
		abort();
	if (r >= 0) {
		sd_event_loop(ev);
		l->teardown(l);
	}
	sd_event_unref(ev);
	return NULL;
}

static int loop_start(struct loop *l)
{
	int r = -EIO;

	assert_int_equal(pipe2(l->quit, O_CLOEXEC), 0);
	assert_int_equal(pipe2(l->ready, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&l->thread, NULL, loop_main, l), 0);
	assert_int_equal(read(l->ready[0], &r, sizeof(r)), sizeof(r));
	if (r < 0)
		pthread_join(l->thread, NULL);
	return r;
}

static void loop_stop(struct loop *l)
{
	char c = 'q';

	assert_int_equal(write(l->quit[1], &c, 1), 1);
	pthread_join(l->thread, NULL);
	for (int i = 0; i < 2; i++) {
		close(l->quit[i]);
		close(l->ready[i]);
	}
}

/* ---- The private bus and the daemon's side of it ---- */

static char busdir[] = "/tmp/test-bus-XXXXXX";
static pid_t bus_pid;
static struct loop server;

/* The daemon's defaults, on the tests' clock. */
static const struct bus_config server_config = {
    .limits = {.burst = LIMITS_BURST,
	       .interval_usec = LIMITS_INTERVAL_USEC,
	       .call_usec = LIMITS_CALL_USEC,
	       .log_first = LIMITS_LOG_FIRST,
	       .log_window_usec = LIMITS_LOG_WINDOW_USEC},
    .now = clock_now,
};

static int server_setup(struct loop *l, sd_event *ev)
{
	return bus_start(ev, &the_holder, &server_config, (struct bus **)&l->data);
}

static void server_teardown(struct loop *l)
{
	bus_free(l->data);
}

static int start_private_bus(void)
{
	char conf[] = "--config-file=" TEST_DATADIR "/dbus-system-test.conf";
	char addr_opt[256], fd_opt[32], addr[512];
	int p[2];
	size_t n = 0;

	assert_non_null(mkdtemp(busdir));
	/* nobody must reach the socket */
	assert_int_equal(chmod(busdir, 0755), 0);
	snprintf(addr_opt, sizeof(addr_opt), "--address=unix:path=%s/system_bus_socket", busdir);
	assert_int_equal(pipe(p), 0);
	snprintf(fd_opt, sizeof(fd_opt), "--print-address=%d", p[1]);
	bus_pid = fork();
	assert_true(bus_pid >= 0);
	if (bus_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(p[0]);
		execlp("dbus-daemon", "dbus-daemon", conf, addr_opt, "--nofork", fd_opt, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* The address comes once it listens; EOF if it failed. */
	while (n < sizeof(addr) - 1) {
		ssize_t k = read(p[0], addr + n, sizeof(addr) - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(addr, '\n', n))
			break;
	}
	close(p[0]);
	addr[n] = '\0';
	if (!memchr(addr, '\n', n)) {
		fprintf(stderr, "dbus-daemon did not start\n");
		return -1;
	}
	*strchr(addr, '\n') = '\0';
	assert_int_equal(setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1), 0);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	stub_reset();
	if (start_private_bus() < 0)
		return -1;
	server = (struct loop){.setup = server_setup, .teardown = server_teardown};
	if (loop_start(&server) < 0) {
		fprintf(stderr, "bus_start failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	loop_stop(&server);
	kill(bus_pid, SIGTERM);
	waitpid(bus_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", busdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int test_setup(void **state)
{
	(void)state;
	stub_reset();
	/* every bucket full again, every log window over */
	clock_advance(3600ULL * 1000000);
	return 0;
}

static void polkit_stop(void);

/* A failed test leaves no stand-in behind for the next one. */
static int test_teardown(void **state)
{
	(void)state;
	polkit_stop();
	return 0;
}

/* ---- A stand-in for polkit ---- */

enum pk_answer { PK_YES, PK_NO, PK_CHALLENGE, PK_ERROR, PK_GARBAGE };

static struct {
	enum pk_answer answer;
	int calls;
	char kind[64], name[128], action[128], cancel[64];
	unsigned flags, ndetails;
	sd_bus *bus;
} pk;
static struct loop polkit;
static bool polkit_running;

/* A raw object, not a vtable: sd-bus would check the stand-in's replies
 * against a vtable's signature, and the stand-in must be able to answer
 * nonsense. */
static int pk_check(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *kind, *key, *action, *cancel, *k, *v;
	unsigned flags, n = 0;
	enum pk_answer answer;
	int r;

	(void)userdata, (void)error;
	if (!sd_bus_message_is_method_call(m, "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization"))
		return 0;
	if (!sd_bus_message_has_signature(m, "(sa{sv})sa{ss}us"))
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "stand-in: wrong signature");
	r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_read(m, "s", &kind);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{sv}");
	pthread_mutex_lock(&stub_lock);
	snprintf(pk.kind, sizeof(pk.kind), "%s", r >= 0 ? kind : "?");
	pk.name[0] = '\0';
	pthread_mutex_unlock(&stub_lock);
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0 && strcmp(key, "name") == 0) {
			const char *name;

			r = sd_bus_message_read(m, "v", "s", &name);
			pthread_mutex_lock(&stub_lock);
			snprintf(pk.name, sizeof(pk.name), "%s", r >= 0 ? name : "?");
			pthread_mutex_unlock(&stub_lock);
		} else if (r >= 0) {
			r = sd_bus_message_skip(m, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_read(m, "s", &action);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{ss}");
	while (r >= 0 && (r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0)
		n++;
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_read(m, "us", &flags, &cancel);
	if (r < 0)
		return r;
	pthread_mutex_lock(&stub_lock);
	pk.calls++;
	snprintf(pk.action, sizeof(pk.action), "%s", action);
	snprintf(pk.cancel, sizeof(pk.cancel), "%s", cancel);
	pk.flags = flags;
	pk.ndetails = n;
	answer = pk.answer;
	pthread_mutex_unlock(&stub_lock);

	switch (answer) {
	case PK_YES:
		return sd_bus_reply_method_return(m, "(bba{ss})", 1, 0, 0);
	case PK_NO:
		return sd_bus_reply_method_return(m, "(bba{ss})", 0, 0, 0);
	case PK_CHALLENGE:
		return sd_bus_reply_method_return(m, "(bba{ss})", 0, 1, 0);
	case PK_ERROR:
		return sd_bus_reply_method_errorf(m, "org.freedesktop.PolicyKit1.Error.Failed", "stand-in refuses");
	case PK_GARBAGE:
		return sd_bus_reply_method_return(m, "s", "yes");
	}
	return -EINVAL;
}

static int pk_setup(struct loop *l, sd_event *ev)
{
	int r;

	(void)l;
	r = sd_bus_open_system(&pk.bus);
	if (r >= 0)
		r = sd_bus_attach_event(pk.bus, ev, 0);
	if (r >= 0)
		r = sd_bus_add_object(pk.bus, NULL, "/org/freedesktop/PolicyKit1/Authority", pk_check, NULL);
	if (r >= 0)
		r = sd_bus_request_name(pk.bus, "org.freedesktop.PolicyKit1", 0);
	if (r < 0) {
		pk.bus = sd_bus_flush_close_unref(pk.bus);
		return r;
	}
	return 0;
}

static void pk_teardown(struct loop *l)
{
	(void)l;
	/* Synchronous: when it returns, the name is gone on the bus, so the
	 * next test sees no polkit, whatever the order the bus reads sockets. */
	sd_bus_release_name(pk.bus, "org.freedesktop.PolicyKit1");
	pk.bus = sd_bus_flush_close_unref(pk.bus);
}

static void polkit_start(enum pk_answer answer)
{
	memset(&pk, 0, sizeof(pk));
	pk.answer = answer;
	polkit = (struct loop){.setup = pk_setup, .teardown = pk_teardown};
	assert_int_equal(loop_start(&polkit), 0);
	polkit_running = true;
}

static void polkit_stop(void)
{
	if (polkit_running)
		loop_stop(&polkit);
	polkit_running = false;
}

/* ---- Clients ---- */

enum { AS_ROOT = 0, INTERACTIVE = 1 };

struct result {
	int r;		 /* of sd_bus_call */
	char error[256]; /* error name */
	char message[2048];
	char reply[8192]; /* the reply's string (through a variant too) */
	char unique[128]; /* the caller's unique name */
	pid_t pid;	  /* the caller's pid */
};

static void do_call(unsigned flags, struct result *res, const char *iface, const char *member, const char *types,
		    va_list ap)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const char *u = NULL, *s = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_get_unique_name(bus, &u);
	if (r >= 0)
		snprintf(res->unique, sizeof(res->unique), "%s", u);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, ISOLATED_BUS_NAME, ISOLATED_BUS_PATH, iface, member);
	if (r >= 0 && types && *types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r >= 0)
		r = sd_bus_message_set_allow_interactive_authorization(m, (flags & INTERACTIVE) != 0);
	if (r < 0) {
		res->r = r;
		snprintf(res->error, sizeof(res->error), "client: %s", strerror(-r));
		goto out;
	}
	res->r = sd_bus_call(bus, m, 0, &err, &reply);
	if (res->r < 0) {
		snprintf(res->error, sizeof(res->error), "%s", err.name ? err.name : "?");
		snprintf(res->message, sizeof(res->message), "%s", err.message ? err.message : "");
		goto out;
	}
	if (sd_bus_message_peek_type(reply, NULL, NULL) > 0) {
		const char *contents = NULL;
		char type;

		sd_bus_message_peek_type(reply, &type, &contents);
		if (type == 'v')
			sd_bus_message_enter_container(reply, 'v', contents);
		if (sd_bus_message_read_basic(reply, 's', &s) > 0)
			snprintf(res->reply, sizeof(res->reply), "%s", s);
	}
out:
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
}

/* Call iface.member on the daemon as uid (0: from this process; else from
 * a child that drops to uid/gid before it connects). */
static void call_iface(uid_t uid, unsigned flags, struct result *res, const char *iface, const char *member,
		       const char *types, ...)
{
	va_list ap;
	int p[2];
	pid_t pid;
	size_t n = 0;

	va_start(ap, types);
	if (uid == 0) {
		do_call(flags, res, iface, member, types, ap);
		va_end(ap);
		res->pid = getpid();
		return;
	}
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct result *cr = calloc(1, sizeof(*cr));
		const char *buf = (const char *)cr;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (!cr)
			_exit(2);
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0 ||
		    geteuid() != uid) {
			cr->r = -EPERM;
			snprintf(cr->error, sizeof(cr->error), "cannot become uid %u", (unsigned)uid);
		} else {
			do_call(flags, cr, iface, member, types, ap);
		}
		for (size_t k = 0; k < sizeof(*cr);) {
			ssize_t w = write(p[1], buf + k, sizeof(*cr) - k);

			if (w <= 0)
				_exit(3);
			k += (size_t)w;
		}
		_exit(0);
	}
	va_end(ap);
	close(p[1]);
	while (n < sizeof(*res)) {
		ssize_t k = read(p[0], (char *)res + n, sizeof(*res) - n);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(n, sizeof(*res));
	res->pid = pid;
}

#define call(uid, flags, res, member, ...) call_iface(uid, flags, res, ISOLATED_BUS_INTERFACE, member, __VA_ARGS__)

static void expect_ok(const struct result *res)
{
	if (res->r < 0)
		fail_msg("call failed: %d %s: %s", res->r, res->error, res->message);
}

static void expect_error(const struct result *res, const char *name)
{
	if (res->r >= 0)
		fail_msg("call succeeded (%s), expected %s", res->reply, name);
	if (strcmp(res->error, name) != 0)
		fail_msg("got %s (%s), expected %s", res->error, res->message, name);
}

/* The reply is the stub's document for method (and mode). */
static void expect_doc(const struct result *res, const char *method, const char *mode)
{
	json_object *o, *v;

	expect_ok(res);
	o = json_tokener_parse(res->reply);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "method", &v));
	assert_string_equal(json_object_get_string(v), method);
	if (mode) {
		assert_true(json_object_object_get_ex(o, "mode", &v));
		assert_string_equal(json_object_get_string(v), mode);
	}
	/* compact, and no "\/" escapes */
	assert_null(strchr(res->reply, '\n'));
	assert_non_null(strstr(res->reply, "\"/etc/isolated\""));
	json_object_put(o);
}

static int counter(const int *c)
{
	int n;

	pthread_mutex_lock(&stub_lock);
	n = *c;
	pthread_mutex_unlock(&stub_lock);
	return n;
}

static int changes(void)
{
	int n;

	pthread_mutex_lock(&stub_lock);
	n = stub.n_apply + stub.n_revert + stub.n_confirm;
	pthread_mutex_unlock(&stub_lock);
	return n;
}

static int holder_calls(void)
{
	int n = changes();

	pthread_mutex_lock(&stub_lock);
	n += stub.n_plan + stub.n_status + stub.n_verify + stub.n_list;
	pthread_mutex_unlock(&stub_lock);
	return n;
}

/* ---- Tests ---- */

static void test_introspection(void **state)
{
	static const char *const want[] = {
	    "<interface name=\"io.isolated.Daemon1\">",
	    "<method name=\"Apply\">",
	    "<arg type=\"s\" name=\"mode\" direction=\"in\"/>",
	    "<arg type=\"a{sv}\" name=\"options\" direction=\"in\"/>",
	    "<arg type=\"s\" name=\"report\" direction=\"out\"/>",
	    "<method name=\"Revert\">",
	    "<method name=\"Confirm\">",
	    "<method name=\"Plan\">",
	    "<method name=\"Status\">",
	    "<method name=\"Verify\">",
	    "<method name=\"ListModes\">",
	    "<method name=\"StatusEx\">",
	    "<property name=\"Mode\" type=\"s\" access=\"read\">",
	    "<property name=\"State\" type=\"s\" access=\"read\">",
	    "<signal name=\"ModeChanged\">",
	    "<arg type=\"s\" name=\"previous\"/>",
	    "<signal name=\"DriftFound\">",
	    "<signal name=\"PartitionChanged\">",
	    "<arg type=\"s\" name=\"cgroup\"/>",
	    "<arg type=\"s\" name=\"state\"/>",
	};
	struct result res;

	(void)state;
	/* for everyone: the bus policy lets nobody introspect */
	call_iface(NOBODY, 0, &res, "org.freedesktop.DBus.Introspectable", "Introspect", NULL);
	expect_ok(&res);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(res.reply, want[i]))
			fail_msg("introspection lacks %s:\n%s", want[i], res.reply);
	assert_int_equal(holder_calls(), 0);
}

static void read_only_as(uid_t uid)
{
	struct result res;

	/* the whole status for root, the holder's summary for others */
	call(uid, 0, &res, "Status", NULL);
	expect_doc(&res, uid == 0 ? "Status" : "Summary", NULL);
	assert_int_equal(counter(&stub.n_status), uid == 0 ? 1 : 0);
	assert_int_equal(counter(&stub.n_summary), uid == 0 ? 0 : 1);

	call(uid, 0, &res, "ListModes", NULL);
	expect_doc(&res, "ListModes", NULL);
	assert_int_equal(counter(&stub.n_list), 1);

	call(uid, 0, &res, "Verify", NULL);
	expect_doc(&res, "Verify", NULL);
	assert_int_equal(counter(&stub.n_verify), 1);

	call(uid, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
	expect_doc(&res, "Plan", "dedicated");
	assert_int_equal(counter(&stub.n_plan), 1);
	assert_string_equal(stub.mode_arg, "dedicated");
	assert_false(stub.has_scope);

	call(uid, 0, &res, "Plan", "sa{sv}", "rt-only", 1, "scope", "s", "cgroup:/machine.slice/vm-1.scope");
	expect_doc(&res, "Plan", "rt-only");
	assert_int_equal(counter(&stub.n_plan), 2);
	assert_true(stub.has_scope);
	assert_string_equal(stub.scope, "cgroup:/machine.slice/vm-1.scope");

	/* properties, read from the holder */
	strcpy(stub.mode, "dedicated");
	strcpy(stub.state, "awaiting-confirmation");
	call_iface(uid, 0, &res, "org.freedesktop.DBus.Properties", "Get", "ss", ISOLATED_BUS_INTERFACE, "Mode");
	expect_ok(&res);
	assert_string_equal(res.reply, "dedicated");
	call_iface(uid, 0, &res, "org.freedesktop.DBus.Properties", "Get", "ss", ISOLATED_BUS_INTERFACE, "State");
	expect_ok(&res);
	assert_string_equal(res.reply, "awaiting-confirmation");

	/* a property is not for writing */
	call_iface(uid, 0, &res, "org.freedesktop.DBus.Properties", "Set", "ssv", ISOLATED_BUS_INTERFACE, "Mode", "s",
		   "vanilla");
	assert_true(res.r < 0);
	assert_string_equal(stub.mode, "dedicated");
	assert_int_equal(changes(), 0);
}

static void test_read_only_root(void **state)
{
	(void)state;
	read_only_as(0);
}

static void test_read_only_nobody(void **state)
{
	(void)state;
	read_only_as(NOBODY);
}

/* No polkit on the bus: nobody may not change anything, dry runs included;
 * the holder hears nothing of it. */
static void test_changes_denied_without_polkit(void **state)
{
	struct result res;

	(void)state;
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 0);
	expect_error(&res, DENIED);
	if (strncmp(res.message, "Apply needs root or the polkit action io.isolated.manage (", 58) != 0)
		fail_msg("message: %s", res.message);
	/* the refusal is logged, with the uid the bus reported */
	assert_string_equal(stub.log_uid, "65534");
	assert_non_null(strstr(stub.log, "denied"));

	call(NOBODY, INTERACTIVE, &res, "Apply", "sa{sv}", "dedicated", 1, "dry-run", "b", 1);
	expect_error(&res, DENIED);

	call(NOBODY, 0, &res, "Revert", "a{sv}", 0);
	expect_error(&res, DENIED);
	assert_non_null(strstr(res.message, "Revert needs root or the polkit action io.isolated.manage"));

	call(NOBODY, 0, &res, "Revert", "a{sv}", 1, "dry-run", "b", 1);
	expect_error(&res, DENIED);

	call(NOBODY, 0, &res, "Confirm", NULL);
	expect_error(&res, DENIED);
	assert_non_null(strstr(res.message, "Confirm needs root"));

	assert_int_equal(holder_calls(), 0);
}

static void test_changes_root(void **state)
{
	struct result res;

	(void)state;
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 4, "dry-run", "b", 1, "force", "b", 0, "scope", "s",
	     "process:4242", "confirm-within", "t", (uint64_t)60000000);
	expect_doc(&res, "Apply", "dedicated");
	assert_int_equal(counter(&stub.n_apply), 1);
	assert_string_equal(stub.mode_arg, "dedicated");
	assert_true(stub.opts.dry_run);
	assert_false(stub.opts.force);
	assert_true(stub.has_scope);
	assert_string_equal(stub.scope, "process:4242");
	assert_int_equal(stub.opts.confirm_usec, 60000000ULL);
	assert_int_equal(stub.caller_uid, 0);
	assert_int_equal(stub.caller_pid, getpid());

	/* no options: defaults */
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "rt-only", 0);
	expect_doc(&res, "Apply", "rt-only");
	assert_int_equal(counter(&stub.n_apply), 2);
	assert_false(stub.opts.dry_run);
	assert_false(stub.opts.force);
	assert_false(stub.has_scope);
	assert_int_equal(stub.opts.confirm_usec, 0);

	call(AS_ROOT, 0, &res, "Revert", "a{sv}", 2, "force", "b", 1, "dry-run", "b", 1);
	expect_doc(&res, "Revert", NULL);
	assert_int_equal(counter(&stub.n_revert), 1);
	assert_true(stub.revert_dry);
	assert_true(stub.revert_force);

	call(AS_ROOT, 0, &res, "Revert", "a{sv}", 0);
	expect_doc(&res, "Revert", NULL);
	assert_false(stub.revert_dry);
	assert_false(stub.revert_force);

	stub.caller_uid = 4711;
	call(AS_ROOT, 0, &res, "Confirm", NULL);
	expect_doc(&res, "Confirm", NULL);
	assert_int_equal(counter(&stub.n_confirm), 1);
	assert_int_equal(stub.caller_uid, 0);
	assert_int_equal(stub.caller_pid, getpid());
}

static void test_bad_mode_names(void **state)
{
	char long65[66], long64[65], q[128];
	const char *bad[] = {"../etc/passwd", "", long65, "a b", "mod\xc3\xa9", "a/b", "dedicated.conf", "a\nb"};
	struct result res;

	(void)state;
	memset(long65, 'a', 65);
	long65[65] = '\0';
	memset(long64, 'b', 64);
	long64[64] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call(AS_ROOT, 0, &res, "Apply", "sa{sv}", bad[i], 0);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
		assert_non_null(strstr(res.message, "invalid mode name"));
		/* one line, whatever the name holds */
		assert_null(strchr(res.message, '\n'));
		call(AS_ROOT, 0, &res, "Plan", "sa{sv}", bad[i], 0);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
		/* arguments are checked before the caller: nobody hears the same */
		call(NOBODY, 0, &res, "Apply", "sa{sv}", bad[i], 0);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	}
	assert_int_equal(holder_calls(), 0);

	/* the message isoctl's direct mode prints */
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "../etc/passwd", 0);
	assert_string_equal(
	    res.message,
	    "isoctl: invalid mode name \"../etc/passwd\": a mode is a name of letters, digits, '-' and '_'");
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "a\nb\"c", 0);
	snprintf(q, sizeof(q), "isoctl: invalid mode name \"%s\": a mode is a name of letters, digits, '-' and '_'",
		 "a\\x0ab\\\"c");
	assert_string_equal(res.message, q);

	/* 64 characters of the right kind are a name */
	call(AS_ROOT, 0, &res, "Plan", "sa{sv}", long64, 0);
	expect_doc(&res, "Plan", long64);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "rt_only-2", 0);
	expect_doc(&res, "Apply", "rt_only-2");
}

static void test_bad_options(void **state)
{
	char scope4097[4098], scope4096[4097];
	struct result res;

	(void)state;
	memset(scope4097, 'x', 4097);
	scope4097[4097] = '\0';
	memset(scope4096, 'y', 4096);
	scope4096[4096] = '\0';

	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "dryrun", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_string_equal(res.message, "isoctl: Apply: unknown option \"dryrun\" (Apply takes dry-run, force, scope, "
					 "confirm-within)");
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "dry-run", "s", "yes");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_string_equal(res.message, "isoctl: Apply: option \"dry-run\" must be of type b, not s");
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "confirm-within", "u", (uint32_t)60);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_non_null(strstr(res.message, "must be of type t, not u"));
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "force", "as", 1, "yes");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 2, "force", "b", 1, "force", "b", 0);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_non_null(strstr(res.message, "given twice"));
	/* scopes: 1..4096 printable ASCII */
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "s", "");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "s", scope4097);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "s", "host\n");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Plan", "sa{sv}", "dedicated", 1, "scope", "s", "cgroup:/caf\xc3\xa9");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	/* options a method does not take */
	call(AS_ROOT, 0, &res, "Revert", "a{sv}", 1, "scope", "s", "host");
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_string_equal(res.message, "isoctl: Revert: unknown option \"scope\" (Revert takes dry-run, force)");
	call(AS_ROOT, 0, &res, "Revert", "a{sv}", 1, "confirm-within", "t", (uint64_t)1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	call(AS_ROOT, 0, &res, "Plan", "sa{sv}", "dedicated", 1, "dry-run", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	/* a key that is no text for a message */
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "x\ny", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_null(strchr(res.message, '\n'));
	/* nobody too, before any authorisation */
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "dryrun", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	/* the wrong signature altogether: sd-bus refuses it */
	call(AS_ROOT, 0, &res, "Apply", "s", "dedicated");
	assert_true(res.r < 0);
	assert_int_equal(holder_calls(), 0);

	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "s", scope4096);
	expect_doc(&res, "Apply", "dedicated");
	assert_string_equal(stub.scope, scope4096);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "scope", "s", "host");
	expect_doc(&res, "Apply", "dedicated");
	assert_string_equal(stub.scope, "host");
}

/* confirm-within is 0 (none, as absent) or 1 s to 24 h, as isoctl's own
 * --confirm-within: UINT64_MAX would be a deadline in the past (applied and
 * taken back at once), values near INT64_MAX overflow the deadline. */
static void test_confirm_within_range(void **state)
{
	static const uint64_t bad[] = {
	    1, 999999, 86400000001ULL, INT64_MAX - 1, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
	static const uint64_t good[] = {0, 1000000, 60000000, 86400000000ULL};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "confirm-within", "t", bad[i]);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
		if (!strstr(res.message, "between 1s and 24h"))
			fail_msg("confirm-within %llu: %s", (unsigned long long)bad[i], res.message);
		/* before authorisation: nobody hears the same */
		call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "confirm-within", "t", bad[i]);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	}
	assert_int_equal(holder_calls(), 0);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "confirm-within", "t", UINT64_MAX);
	assert_string_equal(res.message, "isoctl: --confirm-within: 18446744073709551615 microseconds: between 1s "
					 "and 24h (1000000 to 86400000000 microseconds), or 0 for no confirmation");

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		stub.opts.confirm_usec = 4711;
		call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "confirm-within", "t", good[i]);
		expect_doc(&res, "Apply", "dedicated");
		assert_int_equal(stub.opts.confirm_usec, good[i]);
	}
}

static void fail_next(int r, const char *name, const char *message)
{
	pthread_mutex_lock(&stub_lock);
	stub.fail_r = r;
	stub.fail_name = name;
	stub.fail_message = message;
	pthread_mutex_unlock(&stub_lock);
}

static void test_op_errors(void **state)
{
	static const char unknown[] =
	    "isoctl: unknown mode \"nope\" (no nope.conf in /etc/isolated/policies, /usr/share/isolated/policies; "
	    "see isoctl list)";
	static const char lines[] = "/etc/isolated/policies/bad.conf:3: unknown key \"cpu\"\n"
				    "/etc/isolated/policies/bad.conf:9: \"fifo:200\": priority out of range";
	struct result res;

	(void)state;
	fail_next(-ENOENT, ISOLATED_BUS_ERROR_POLICY, unknown);
	call(NOBODY, 0, &res, "Plan", "sa{sv}", "nope", 0);
	expect_error(&res, ISOLATED_BUS_ERROR_POLICY);
	assert_string_equal(res.message, unknown);

	fail_next(-EINVAL, ISOLATED_BUS_ERROR_POLICY, lines);
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "bad", 0);
	expect_error(&res, ISOLATED_BUS_ERROR_POLICY);
	assert_string_equal(res.message, lines);

	fail_next(-EBUSY, ISOLATED_BUS_ERROR_BUSY, "isoctl: the journal is locked by pid 77 (isoctl apply)");
	call(AS_ROOT, 0, &res, "Revert", "a{sv}", 0);
	expect_error(&res, ISOLATED_BUS_ERROR_BUSY);
	assert_string_equal(res.message, "isoctl: the journal is locked by pid 77 (isoctl apply)");

	fail_next(-ENOENT, ISOLATED_BUS_ERROR_NOT_PENDING, "isoctl: nothing to confirm");
	call(AS_ROOT, 0, &res, "Confirm", NULL);
	expect_error(&res, ISOLATED_BUS_ERROR_NOT_PENDING);

	/* an error without a name or message: Failed, with the errno */
	fail_next(-ENOMEM, NULL, NULL);
	call(AS_ROOT, 0, &res, "Status", NULL);
	expect_error(&res, ISOLATED_BUS_ERROR_FAILED);
	assert_string_equal(res.message, "isoctl: Cannot allocate memory");

	/* success without a document is not a success */
	stub.no_doc = true;
	call(AS_ROOT, 0, &res, "ListModes", NULL);
	expect_error(&res, ISOLATED_BUS_ERROR_FAILED);

	/* and the next call is fine again */
	call(AS_ROOT, 0, &res, "Status", NULL);
	expect_doc(&res, "Status", NULL);
}

/* ---- Signals ---- */

static struct signals {
	int mode_changed;
	char mode[64], previous[64];
	int drift;
	char drift_doc[1024];
	int props;
	bool has_mode, has_state;
	char pmode[64], pstate[64];
	int other;
} sig;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *a, *b;

	(void)userdata, (void)error;
	if (sd_bus_message_is_signal(m, ISOLATED_BUS_INTERFACE, "ModeChanged")) {
		assert_true(sd_bus_message_read(m, "ss", &a, &b) >= 0);
		sig.mode_changed++;
		snprintf(sig.mode, sizeof(sig.mode), "%s", a);
		snprintf(sig.previous, sizeof(sig.previous), "%s", b);
	} else if (sd_bus_message_is_signal(m, ISOLATED_BUS_INTERFACE, "DriftFound")) {
		assert_true(sd_bus_message_read(m, "s", &a) >= 0);
		sig.drift++;
		snprintf(sig.drift_doc, sizeof(sig.drift_doc), "%s", a);
	} else {
		sig.other++;
	}
	return 0;
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *iface, *name, *value;
	int r;

	(void)userdata, (void)error;
	assert_true(sd_bus_message_read(m, "s", &iface) >= 0);
	assert_string_equal(iface, ISOLATED_BUS_INTERFACE);
	sig.props++;
	assert_true(sd_bus_message_enter_container(m, 'a', "{sv}") >= 0);
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		assert_true(sd_bus_message_read(m, "s", &name) >= 0);
		assert_true(sd_bus_message_read(m, "v", "s", &value) >= 0);
		if (strcmp(name, "Mode") == 0) {
			sig.has_mode = true;
			snprintf(sig.pmode, sizeof(sig.pmode), "%s", value);
		} else if (strcmp(name, "State") == 0) {
			sig.has_state = true;
			snprintf(sig.pstate, sizeof(sig.pstate), "%s", value);
		} else {
			fail_msg("PropertiesChanged with %s", name);
		}
		assert_true(sd_bus_message_exit_container(m) >= 0);
	}
	assert_true(r >= 0);
	return 0;
}

/* A listener: call member on its own connection, then take every signal
 * that came before the answer (the daemon sends them before it answers). */
/* A Peer.Ping round trip as root (never charged, no stub counter): the
 * server's one thread answers it only after it has returned from every
 * call before it. */
static void settle(void)
{
	struct result res;

	call_iface(AS_ROOT, 0, &res, "org.freedesktop.DBus.Peer", "Ping", NULL);
	assert_int_equal(res.r, 1);
}

static void call_and_listen(const char *member, const char *types, ...)
{
	sd_bus *bus = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	va_list ap;
	int r;

	memset(&sig, 0, sizeof(sig));
	assert_true(sd_bus_open_system(&bus) >= 0);
	assert_true(sd_bus_match_signal(bus, NULL, ISOLATED_BUS_NAME, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, NULL,
					on_signal, NULL) >= 0);
	assert_true(sd_bus_match_signal(bus, NULL, ISOLATED_BUS_NAME, ISOLATED_BUS_PATH,
					"org.freedesktop.DBus.Properties", "PropertiesChanged", on_props, NULL) >= 0);
	assert_true(sd_bus_message_new_method_call(bus, &m, ISOLATED_BUS_NAME, ISOLATED_BUS_PATH,
						   ISOLATED_BUS_INTERFACE, member) >= 0);
	va_start(ap, types);
	if (types)
		assert_true(sd_bus_message_appendv(m, types, ap) >= 0);
	va_end(ap);
	r = sd_bus_call(bus, m, 0, &err, &reply);
	if (r < 0)
		fail_msg("%s: %s", member, err.message);
	while ((r = sd_bus_process(bus, NULL)) > 0)
		;
	assert_true(r >= 0);
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
}

static void test_signals(void **state)
{
	(void)state;
	stub.fire_events = true;
	call_and_listen("Apply", "sa{sv}", "dedicated", 0);
	assert_int_equal(sig.mode_changed, 1);
	assert_string_equal(sig.mode, "dedicated");
	assert_string_equal(sig.previous, "vanilla");
	assert_int_equal(sig.props, 1);
	assert_true(sig.has_mode);
	assert_string_equal(sig.pmode, "dedicated");
	assert_true(sig.has_state);
	assert_string_equal(sig.pstate, "holding");
	assert_int_equal(sig.drift, 0);
	assert_int_equal(sig.other, 0);

	/* the same mode again: the holder says so, nothing else changed */
	call_and_listen("Apply", "sa{sv}", "dedicated", 0);
	assert_int_equal(sig.mode_changed, 1);
	assert_string_equal(sig.previous, "dedicated");
	assert_int_equal(sig.props, 0);

	/* drift: DriftFound with the document, State alone changes */
	call_and_listen("Verify", NULL);
	assert_int_equal(sig.drift, 1);
	assert_non_null(strstr(sig.drift_doc, "\"target\":\"irq/45\""));
	assert_int_equal(sig.mode_changed, 0);
	assert_int_equal(sig.props, 1);
	assert_false(sig.has_mode);
	assert_true(sig.has_state);
	assert_string_equal(sig.pstate, "drifted");

	/* no events, no signals */
	stub.fire_events = false;
	call_and_listen("Apply", "sa{sv}", "rt-only", 0);
	assert_int_equal(sig.mode_changed + sig.props + sig.drift + sig.other, 0);
}

/* ---- polkit ---- */

static int pk_calls(void)
{
	return counter(&pk.calls);
}

static void test_polkit_yes(void **state)
{
	struct result res;

	(void)state;
	polkit_start(PK_YES);
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 1, "dry-run", "b", 1);
	expect_doc(&res, "Apply", "dedicated");
	assert_int_equal(counter(&stub.n_apply), 1);
	assert_true(stub.opts.dry_run);
	/* who called, as the bus reported it */
	assert_int_equal(stub.caller_uid, NOBODY);
	assert_int_equal(stub.caller_pid, res.pid);
	/* what polkit was asked */
	assert_int_equal(pk_calls(), 1);
	assert_string_equal(pk.kind, "system-bus-name");
	assert_string_equal(pk.name, res.unique);
	assert_string_equal(pk.action, ISOLATED_POLKIT_ACTION);
	assert_int_equal(pk.ndetails, 0);
	assert_int_equal(pk.flags, 0);
	assert_string_equal(pk.cancel, "");

	/* interactive when the caller allows it */
	call(NOBODY, INTERACTIVE, &res, "Revert", "a{sv}", 1, "force", "b", 1);
	expect_doc(&res, "Revert", NULL);
	assert_int_equal(counter(&stub.n_revert), 1);
	assert_true(stub.revert_force);
	assert_int_equal(pk_calls(), 2);
	assert_int_equal(pk.flags, 1);
	assert_string_equal(pk.name, res.unique);

	call(NOBODY, 0, &res, "Confirm", NULL);
	expect_doc(&res, "Confirm", NULL);
	assert_int_equal(stub.caller_uid, NOBODY);
	assert_int_equal(stub.caller_pid, res.pid);
	assert_int_equal(pk_calls(), 3);

	/* root does not need polkit */
	call(AS_ROOT, 0, &res, "Apply", "sa{sv}", "rt-only", 0);
	expect_doc(&res, "Apply", "rt-only");
	assert_int_equal(pk_calls(), 3);
	/* nor does reading */
	call(NOBODY, 0, &res, "Status", NULL);
	expect_ok(&res);
	assert_int_equal(pk_calls(), 3);

	/* an op_error after polkit said yes comes back as it is */
	fail_next(-EPERM, ISOLATED_BUS_ERROR_NOT_OWNER, "isoctl: the confirmation belongs to uid 0 (pid 1)");
	call(NOBODY, 0, &res, "Confirm", NULL);
	expect_error(&res, ISOLATED_BUS_ERROR_NOT_OWNER);
	assert_string_equal(res.message, "isoctl: the confirmation belongs to uid 0 (pid 1)");
	polkit_stop();
}

static void polkit_refuses(enum pk_answer answer, const char *why)
{
	int before = changes();
	struct result res;

	polkit_start(answer);
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 0);
	expect_error(&res, DENIED);
	if (!strstr(res.message, why))
		fail_msg("refusal without \"%s\": %s", why, res.message);
	assert_int_equal(pk_calls(), 1);
	call(NOBODY, INTERACTIVE, &res, "Revert", "a{sv}", 0);
	expect_error(&res, DENIED);
	assert_int_equal(pk.flags, 1);
	call(NOBODY, 0, &res, "Confirm", NULL);
	expect_error(&res, DENIED);
	assert_int_equal(pk_calls(), 3);
	assert_int_equal(changes(), before);
	polkit_stop();
}

static void test_polkit_no(void **state)
{
	(void)state;
	polkit_refuses(PK_NO, "not authorized");
}

static void test_polkit_challenge(void **state)
{
	(void)state;
	polkit_refuses(PK_CHALLENGE, "authentication required");
}

static void test_polkit_error(void **state)
{
	(void)state;
	polkit_refuses(PK_ERROR, "org.freedesktop.PolicyKit1.Error.Failed");
}

static void test_polkit_garbage(void **state)
{
	(void)state;
	polkit_refuses(PK_GARBAGE, "cannot be read");
}

/* After the stand-in left, polkit is absent again: denied. */
static void test_polkit_gone(void **state)
{
	struct result res;

	(void)state;
	polkit_start(PK_YES);
	polkit_stop();
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 0);
	expect_error(&res, DENIED);
	assert_int_equal(changes(), 0);
}

/* A second daemon cannot take the name, and leaves the holder's event sink
 * to the first. */
static void test_name_taken(void **state)
{
	sd_event *ev = NULL;
	struct bus *b = NULL;
	int n = counter(&stub.n_set_events);
	struct result res;

	(void)state;
	assert_true(sd_event_new(&ev) >= 0);
	assert_int_equal(bus_start(ev, &the_holder, &server_config, &b), -EEXIST);
	assert_null(b);
	assert_int_equal(counter(&stub.n_set_events), n);
	sd_event_unref(ev);
	/* the first one still answers */
	call(AS_ROOT, 0, &res, "Status", NULL);
	expect_doc(&res, "Status", NULL);
}

/* ---- Limits on callers other than root ---- */

#define LIMITED "org.freedesktop.DBus.Error.LimitsExceeded"

/* Log lines since the from-th that hold needle (the stub keeps 32). */
static int logs_since(int from, const char *needle)
{
	int n = 0;

	pthread_mutex_lock(&stub_lock);
	assert_true(stub.n_logs - from <= 32);
	for (int i = from; i < stub.n_logs; i++)
		n += strstr(stub.logs[i % 32], needle) != NULL;
	pthread_mutex_unlock(&stub_lock);
	return n;
}

/* A burst of LIMITS_BURST + 1 calls from one uid: exactly one refused, the
 * last, with when to try again; the holder never hears of it. Root is never
 * limited, another uid has a bucket of its own, time gives calls back. */
static void test_limit_burst(void **state)
{
	struct result res;
	int refused = 0;

	(void)state;
	for (int i = 0; i < LIMITS_BURST + 1; i++) {
		call(NOBODY, 0, &res, "ListModes", NULL);
		if (res.r < 0) {
			expect_error(&res, LIMITED);
			refused++;
			assert_int_equal(i, LIMITS_BURST);
		}
	}
	assert_int_equal(refused, 1);
	assert_int_equal(counter(&stub.n_list), LIMITS_BURST);
	assert_string_equal(res.message, "ListModes: too many calls from uid 65534: try again in 1 s (a uid other "
					 "than 0 may make 20 calls at once, then one every 1 s)");
	/* and the refusal is logged, with the uid */
	assert_string_equal(stub.log_uid, "65534");
	assert_non_null(strstr(stub.log, "too many calls"));

	/* root: any number */
	for (int i = 0; i < 2 * LIMITS_BURST; i++) {
		call(AS_ROOT, 0, &res, "ListModes", NULL);
		expect_doc(&res, "ListModes", NULL);
	}
	/* another uid: a bucket of its own */
	call(OTHER_UID, 0, &res, "ListModes", NULL);
	expect_doc(&res, "ListModes", NULL);

	/* 0.4 s later: still none, 0.6 s to go */
	clock_advance(400000);
	call(NOBODY, 0, &res, "ListModes", NULL);
	expect_error(&res, LIMITED);
	assert_non_null(strstr(res.message, "try again in 0.6 s"));
	/* a second after the refusal: one more, then none */
	clock_advance(600000);
	call(NOBODY, 0, &res, "ListModes", NULL);
	expect_doc(&res, "ListModes", NULL);
	call(NOBODY, 0, &res, "ListModes", NULL);
	expect_error(&res, LIMITED);
	assert_int_equal(counter(&stub.n_list), 3 * LIMITS_BURST + 2);
}

/* Every method counts, reading or changing, answered or refused: the
 * denials too, and calls with bad arguments. Beyond the burst, nothing
 * reaches the holder, polkit or the argument checks. */
static void test_limit_methods(void **state)
{
	struct result res;
	int before;

	(void)state;
	for (int i = 0; i < LIMITS_BURST / 5; i++) {
		call(NOBODY, 0, &res, "Status", NULL);
		expect_ok(&res);
		call(NOBODY, 0, &res, "Verify", NULL);
		expect_ok(&res);
		call(NOBODY, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
		expect_ok(&res);
		call(NOBODY, 0, &res, "Apply", "sa{sv}", "dedicated", 0);
		expect_error(&res, DENIED);
		call(NOBODY, 0, &res, "Apply", "sa{sv}", "../x", 0);
		expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	}
	before = holder_calls() + counter(&stub.n_summary);
	call(NOBODY, 0, &res, "Status", NULL);
	expect_error(&res, LIMITED);
	assert_non_null(strstr(res.message, "Status: too many calls"));
	call(NOBODY, 0, &res, "Verify", NULL);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "ListModes", NULL);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "Revert", "a{sv}", 0);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "Confirm", NULL);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "Apply", "sa{sv}", "../x", 0);
	expect_error(&res, LIMITED);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 0);
	expect_error(&res, LIMITED);
	assert_int_equal(holder_calls() + counter(&stub.n_summary), before);
	/* properties are not methods: read as often as one likes */
	call_iface(NOBODY, 0, &res, "org.freedesktop.DBus.Properties", "Get", "ss", ISOLATED_BUS_INTERFACE, "Mode");
	expect_ok(&res);
	assert_string_equal(res.reply, "vanilla");
}

/* A call counts once for every LIMITS_CALL_USEC of the daemon's time it
 * took: a Plan of 2 s (the tests' clock runs while the stub plans) is 40
 * calls, of a burst of 20, and the uid waits 20 s. Root's cost nothing. */
static void test_limit_cost(void **state)
{
	struct result res;

	(void)state;
	pthread_mutex_lock(&stub_lock);
	stub.plan_usec = 2000000;
	pthread_mutex_unlock(&stub_lock);
	for (int i = 0; i < 3; i++) {
		call(AS_ROOT, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
		expect_doc(&res, "Plan", "dedicated");
	}
	call(OTHER_UID, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
	expect_doc(&res, "Plan", "dedicated");
	call(OTHER_UID, 0, &res, "ListModes", NULL);
	expect_error(&res, LIMITED);
	assert_non_null(strstr(res.message, "try again in 20 s"));
	clock_advance(20000000);
	call(OTHER_UID, 0, &res, "ListModes", NULL);
	expect_doc(&res, "ListModes", NULL);
	call(OTHER_UID, 0, &res, "ListModes", NULL);
	expect_error(&res, LIMITED);
	assert_non_null(strstr(res.message, "try again in 1 s"));
	/* under twice LIMITS_CALL_USEC a call counts once: a burst of them
	 * goes through (counted twice, the eleventh would not) */
	pthread_mutex_lock(&stub_lock);
	stub.plan_usec = 2 * LIMITS_CALL_USEC - 1;
	pthread_mutex_unlock(&stub_lock);
	for (int i = 0; i < LIMITS_BURST; i++) {
		call(NOBODY, 0, &res, "Plan", "sa{sv}", "dedicated", 0);
		expect_doc(&res, "Plan", "dedicated");
	}
}

/* Refusals of a uid reach the log LIMITS_LOG_FIRST times a window, the rest
 * as one count when the uid is refused again after the window (or when the
 * window ends, on a timer, or at exit). */
static void test_limit_log(void **state)
{
	struct result res;
	int logs;

	(void)state;
	logs = counter(&stub.n_logs);
	for (int i = 0; i < LIMITS_LOG_FIRST + 3; i++) {
		call(LOG_UID, 0, &res, "Confirm", NULL);
		expect_error(&res, DENIED);
	}
	assert_int_equal(logs_since(logs, "from uid 2 "), LIMITS_LOG_FIRST);
	/* the rest of the burst, and the refusals beyond: counted, not logged */
	for (int i = LIMITS_LOG_FIRST + 3; i < LIMITS_BURST + 4; i++) {
		call(LOG_UID, 0, &res, "Confirm", NULL);
		expect_error(&res, i < LIMITS_BURST ? DENIED : LIMITED);
	}
	assert_int_equal(logs_since(logs, "uid 2 "), LIMITS_LOG_FIRST);
	/* another uid is logged on its own */
	call(LOG_UID2, 0, &res, "Confirm", NULL);
	expect_error(&res, DENIED);
	assert_int_equal(logs_since(logs, "from uid 3 "), 1);
	assert_string_equal(stub.log_uid, "3");

	/* a window later: the count, then the refusal */
	clock_advance(LIMITS_LOG_WINDOW_USEC);
	logs = counter(&stub.n_logs);
	call(LOG_UID, 0, &res, "Confirm", NULL);
	expect_error(&res, DENIED);
	assert_int_equal(counter(&stub.n_logs), logs + 2);
	assert_int_equal(logs_since(logs, "19 more denied calls from uid 2 suppressed (the first 5 of every 60 s are "
					  "logged)"),
			 1);
	assert_string_equal(stub.log_uid, "2");
	assert_non_null(strstr(stub.log, "Confirm from uid 2 "));
}

/* StatusEx: the summary, or with "details" the whole document: root's
 * fresh every time, others' shared for STATUS_SHARED_USEC while the
 * holder's generation stays. */
static void test_status_details(void **state)
{
	char first[sizeof(((struct result *)0)->reply)];
	struct result res;

	(void)state;
	call(AS_ROOT, 0, &res, "StatusEx", "a{sv}", 0);
	expect_doc(&res, "Summary", NULL);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 0);
	expect_doc(&res, "Summary", NULL);
	assert_int_equal(counter(&stub.n_status), 0);
	assert_int_equal(counter(&stub.n_summary), 2);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "detail", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_ARGUMENT);
	assert_string_equal(res.message, "isoctl: StatusEx: unknown option \"detail\" (StatusEx takes details)");

	call(AS_ROOT, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	call(AS_ROOT, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 2);

	/* others: one document for all of them */
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 3);
	snprintf(first, sizeof(first), "%s", res.reply);
	clock_advance(STATUS_SHARED_USEC - 1);
	call(OTHER_UID, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	assert_string_equal(res.reply, first);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	assert_string_equal(res.reply, first);
	assert_int_equal(counter(&stub.n_status), 3);
	/* too old: read again */
	clock_advance(1);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 4);
	/* the holder changed what it holds: read again */
	pthread_mutex_lock(&stub_lock);
	stub.generation++;
	pthread_mutex_unlock(&stub_lock);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 5);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	assert_int_equal(counter(&stub.n_status), 5);
	/* an error is not kept */
	clock_advance(STATUS_SHARED_USEC);
	fail_next(-EIO, ISOLATED_BUS_ERROR_FAILED, "isoctl: cannot read the running kernel: I/O error");
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_error(&res, ISOLATED_BUS_ERROR_FAILED);
	call(NOBODY, 0, &res, "StatusEx", "a{sv}", 1, "details", "b", 1);
	expect_doc(&res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 7);
	/* root's Status is never the shared one */
	call(AS_ROOT, 0, &res, "Status", NULL);
	assert_int_equal(counter(&stub.n_status), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_introspection, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_root, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_nobody, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_changes_denied_without_polkit, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_changes_root, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_mode_names, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_options, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_within_range, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_op_errors, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_signals, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_yes, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_no, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_challenge, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_error, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_garbage, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_polkit_gone, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_name_taken, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_limit_burst, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_limit_methods, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_limit_cost, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_limit_log, test_setup, test_teardown),
	    cmocka_unit_test_setup_teardown(test_status_details, test_setup, test_teardown),
	};

	if (geteuid() != 0) {
		/* bus_start must own the name (root only, by our bus policy)
		 * and the tests drop to nobody */
		fprintf(stderr, "test-bus: needs root; skipped\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
