/* A stand-in for polkitd on a test's private bus: owns
 * org.freedesktop.PolicyKit1 and answers CheckAuthorization from a fixed
 * rule, so the daemon's polkit path (a caller that is not root but is
 * authorised) can be tested where no polkitd runs.
 *
 *   fake-polkit [--allow-uid UID]... [--error]
 *
 * A subject (system-bus-name) is authorised when the uid the bus reports
 * for its unique name is one of the --allow-uid values. --error answers
 * every check with an error instead (the daemon must deny). Each check is
 * printed on stdout: "check ACTION uid=UID interactive=0|1 -> yes|no|error".
 * Prints "ready" once the name is owned. Exits on SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define MAX_UIDS 16

static unsigned allowed[MAX_UIDS];
static size_t n_allowed;
static bool answer_error;

static int subject_uid(sd_bus *bus, sd_bus_message *m, uid_t *ret)
{
	const char *kind, *key, *name = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	uint32_t uid;
	int r;

	r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "s", &kind);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if (strcmp(key, "name") == 0)
			r = sd_bus_message_read(m, "v", "s", &name);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (strcmp(kind, "system-bus-name") != 0 || !name)
		return -EINVAL;
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixUser", &error, &reply, "s", name);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "u", &uid);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	*ret = (uid_t)uid;
	return 0;
}

static int check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	sd_bus *bus = userdata;
	sd_bus_message *reply = NULL;
	const char *action, *cancel;
	uint32_t flags;
	uid_t uid = (uid_t)-1;
	bool yes = false;
	int r;

	r = subject_uid(bus, m, &uid);
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "bad subject");
	r = sd_bus_message_read(m, "s", &action);
	if (r < 0)
		return r;
	r = sd_bus_message_skip(m, "a{ss}");
	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "us", &flags, &cancel);
	if (r < 0)
		return r;
	if (answer_error) {
		printf("check %s uid=%u interactive=%u -> error\n", action, (unsigned)uid, flags & 1);
		fflush(stdout);
		return sd_bus_error_set(error, "org.freedesktop.PolicyKit1.Error.Failed", "fake-polkit: told to fail");
	}
	for (size_t i = 0; i < n_allowed; i++)
		yes = yes || allowed[i] == (unsigned)uid;
	printf("check %s uid=%u interactive=%u -> %s\n", action, (unsigned)uid, flags & 1, yes ? "yes" : "no");
	fflush(stdout);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "(bba{ss})", yes, false, 0);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static const sd_bus_vtable authority_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", check_authorization,
		  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
	sd_event *ev = NULL;
	sd_bus *bus = NULL;
	sigset_t ss;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--allow-uid") == 0 && i + 1 < argc && n_allowed < MAX_UIDS)
			allowed[n_allowed++] = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--error") == 0)
			answer_error = true;
		else {
			fprintf(stderr, "usage: fake-polkit [--allow-uid UID]... [--error]\n");
			return 2;
		}
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	r = sd_event_default(&ev);
	if (r >= 0)
		r = sd_event_add_signal(ev, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(ev, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
					     "org.freedesktop.PolicyKit1.Authority", authority_vtable, bus);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.PolicyKit1", 0);
	if (r >= 0)
		r = sd_bus_attach_event(bus, ev, 0);
	if (r < 0) {
		fprintf(stderr, "fake-polkit: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	r = sd_event_loop(ev);
	sd_bus_flush_close_unref(bus);
	sd_event_unref(ev);
	return r < 0 ? 1 : 0;
}
