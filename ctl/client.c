/* isoctl as a client of the isolated daemon (isolated/busapi.h): when the
 * daemon runs, or can be started by bus activation, the commands it has
 * methods for go through it, so isoctl and the daemon never work on the
 * host at the same time and the daemon knows the mode it holds. The
 * daemon answers with the same documents direct mode builds, and its
 * errors carry the lines direct mode prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "isolated/busapi.h"
#include "isolated/modes.h"
#include "isoctl.h"

/* Changing the machine may wait for polkit to ask a person for a password,
 * and a transaction on a large host takes a while; looking is quick. */
#define CHANGE_TIMEOUT_USEC (10ULL * 60 * 1000000)
#define LOOK_TIMEOUT_USEC (2ULL * 60 * 1000000)

/* 1 when the daemon's name has an owner on bus, 0 when not, -errno. */
static int name_has_owner(sd_bus *bus)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int has = 0, r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "NameHasOwner", &error, &reply, "s", ISOLATED_BUS_NAME);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r < 0 ? r : !!has;
}

bool client_daemon_running(void)
{
	sd_bus *bus = NULL;
	int r;

	if (sd_bus_open_system(&bus) < 0)
		return false;
	r = name_has_owner(bus);
	sd_bus_flush_close_unref(bus);
	return r > 0;
}

/* True when NAME has an owner on bus, or the bus can start one. Any error:
 * false (direct mode). */
static bool daemon_available(sd_bus *bus)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **names = NULL;
	bool found;
	int r = name_has_owner(bus);

	if (r != 0)
		return r > 0;
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "ListActivatableNames", &error, &reply, NULL);
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, &names);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	if (r < 0)
		return false;
	found = strv_contains(names, ISOLATED_BUS_NAME);
	strv_free(names);
	return found;
}

void client_open(struct ctx *c)
{
	sd_bus *bus = NULL;

	/* --root, --policies, --config name a host or a policy set the
	 * daemon does not manage. */
	if (c->direct || c->root || c->policies_given || c->hostconf_given || c->bus)
		return;
	/* Honours DBUS_SYSTEM_BUS_ADDRESS. No bus: direct mode, silently. */
	if (sd_bus_open_system(&bus) < 0)
		return;
	if (!daemon_available(bus)) {
		sd_bus_flush_close_unref(bus);
		return;
	}
	c->bus = bus;
}

void client_close(struct ctx *c)
{
	c->bus = sd_bus_flush_close_unref(c->bus);
}

const char *client_why_direct(const struct ctx *c)
{
	if (c->direct)
		return "--direct was given";
	if (c->root)
		return "--root names a tree the daemon does not manage";
	if (c->policies_given)
		return "--policies names policies the daemon does not use";
	if (c->hostconf_given)
		return "--config names a host.conf the daemon does not use";
	return "it is not running on the system bus and cannot be started";
}

/* The lines of a bus error, as direct mode prints them. */
static int print_bus_error(const sd_bus_error *e, int r)
{
	const char *msg = e->message && e->message[0] ? e->message : NULL;

	if (!sd_bus_error_is_set(e)) {
		err_msg("calling the isolated daemon: %s", strerror(-r));
		return EXIT_FAIL;
	}
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
		err_msg("permission denied: %s", msg ? msg : e->name);
		return EXIT_FAIL;
	}
	if (sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_ARGUMENT) ||
	    sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_POLICY) || sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_BUSY) ||
	    sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_FAILED) ||
	    sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_NOT_PENDING) ||
	    sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_NOT_OWNER)) {
		size_t len = msg ? strlen(msg) : 0;

		/* The daemon's message is the lines isoctl prints (escaped there:
		 * this escapes only what another program on the name sends). */
		if (msg) {
			char *m = util_escape(msg, true);

			if (m)
				fprintf(stderr, "%s%s", m, msg[len - 1] == '\n' ? "" : "\n");
			else
				err_msg("out of memory");
			free(m);
		} else
			err_msg("%s", e->name);
		return sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_ARGUMENT) ||
			       sd_bus_error_has_name(e, ISOLATED_BUS_ERROR_POLICY)
			   ? EXIT_USAGE
			   : EXIT_FAIL;
	}
	/* The bus's own errors: the daemon could not be started, timed out,
	 * went away. */
	err_msg("the isolated daemon: %s (%s)", msg ? msg : "no message", e->name);
	return EXIT_FAIL;
}

/* Send m (consumed), read the document. */
static int call(struct ctx *c, sd_bus_message *m, bool changes, json_object **ret)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *text = NULL;
	json_object *doc;
	int r, status;

	/* polkit may ask (auth_admin_keep) */
	if (changes && (r = sd_bus_message_set_allow_interactive_authorization(m, 1)) < 0)
		goto fail;
	r = sd_bus_call(c->bus, m, changes ? CHANGE_TIMEOUT_USEC : LOOK_TIMEOUT_USEC, &error, &reply);
	sd_bus_message_unref(m);
	m = NULL;
	if (r < 0) {
		status = print_bus_error(&error, r);
		sd_bus_error_free(&error);
		return status;
	}
	r = sd_bus_message_read(reply, "s", &text);
	if (r < 0)
		goto fail;
	doc = json_tokener_parse(text);
	sd_bus_message_unref(reply);
	if (!doc) {
		err_msg("the isolated daemon answered with a document that does not parse");
		return EXIT_FAIL;
	}
	*ret = doc;
	return EXIT_OK;
fail:
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	err_msg("calling the isolated daemon: %s", strerror(-r));
	return EXIT_FAIL;
}

static int new_call(struct ctx *c, const char *method, sd_bus_message **ret)
{
	int r = sd_bus_message_new_method_call(c->bus, ret, ISOLATED_BUS_NAME, ISOLATED_BUS_PATH,
					       ISOLATED_BUS_INTERFACE, method);

	if (r < 0)
		err_msg("calling the isolated daemon: %s", strerror(-r));
	return r;
}

/* A mode name is checked here as direct mode checks it, with its message,
 * before anything is sent (and before polkit asks anyone for a password). */
static int check_mode(const char *mode)
{
	struct policy *p = NULL;
	struct diag d = {0};

	if (modes_name_valid(mode))
		return EXIT_OK;
	/* modes_load says why without looking at any directory. */
	modes_load(NULL, NULL, NULL, mode, &p, &d);
	policy_free(p);
	print_diag(&d);
	diag_free(&d);
	return EXIT_USAGE;
}

int client_apply(struct ctx *c, const char *mode, json_object **ret)
{
	sd_bus_message *m = NULL;
	int r;

	if (mode && (r = check_mode(mode)) != EXIT_OK)
		return r;
	if (new_call(c, mode ? "Apply" : "Revert", &m) < 0)
		return EXIT_FAIL;
	r = mode ? sd_bus_message_append(m, "s", mode) : 0;
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && c->dry_run)
		r = sd_bus_message_append(m, "{sv}", "dry-run", "b", 1);
	if (r >= 0 && c->force)
		r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
	if (r >= 0 && mode && c->scope)
		r = sd_bus_message_append(m, "{sv}", "scope", "s", c->scope);
	if (r >= 0 && mode && c->confirm_usec)
		r = sd_bus_message_append(m, "{sv}", "confirm-within", "t", (uint64_t)c->confirm_usec);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		err_msg("calling the isolated daemon: %s", strerror(-r));
		return EXIT_FAIL;
	}
	return call(c, m, true, ret);
}

int client_plan(struct ctx *c, const char *mode, json_object **ret)
{
	sd_bus_message *m = NULL;
	int r;

	if ((r = check_mode(mode)) != EXIT_OK)
		return r;
	if (new_call(c, "Plan", &m) < 0)
		return EXIT_FAIL;
	r = sd_bus_message_append(m, "sa{sv}", mode, 0);
	if (r < 0) {
		sd_bus_message_unref(m);
		err_msg("calling the isolated daemon: %s", strerror(-r));
		return EXIT_FAIL;
	}
	return call(c, m, false, ret);
}

int client_call(struct ctx *c, const char *method, json_object **ret)
{
	sd_bus_message *m = NULL;

	if (new_call(c, method, &m) < 0)
		return EXIT_FAIL;
	return call(c, m, strcmp(method, "Confirm") == 0, ret);
}
