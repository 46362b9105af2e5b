/* A stand-in for the isolated daemon on a test's private bus, to test
 * isoctl as a client without the daemon: owns io.isolated.Daemon1 (on
 * DBUS_SYSTEM_BUS_ADDRESS) and answers every method of isolated/busapi.h
 * from files, so a test decides the answer and checks what isoctl sent.
 *
 *   fake-isolated DIR
 *
 * A call to METHOD answers the contents of DIR/METHOD.json as its string,
 * or, when DIR/METHOD.error exists, the error whose name is its first line
 * and whose message is the rest (without the final newline). Every call is
 * appended to DIR/calls as one line:
 *   METHOD [MODE] [KEY=VALUE]... interactive=0|1
 * (options in the order sent; b as true/false, t and s as they are).
 * Writes its pid to DIR/pid once the name is owned; exits on SIGTERM or
 * when the bus goes away. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "isolated/busapi.h"

static const char *dir;

static char *slurp(const char *method, const char *ext)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0;
	FILE *f, *out;
	int c;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, method, ext);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	out = open_memstream(&buf, &len);
	while (out && (c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(f);
	if (out)
		fclose(out);
	return buf;
}

/* Options a{sv}: "key=value" appended to line. */
static int read_options(sd_bus_message *m, FILE *line)
{
	const char *key, *type;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, NULL, &type);
		if (r < 0)
			return r;
		if (strcmp(type, "b") == 0) {
			int b;

			r = sd_bus_message_read(m, "v", "b", &b);
			fprintf(line, " %s=%s", key, b ? "true" : "false");
		} else if (strcmp(type, "t") == 0) {
			uint64_t t;

			r = sd_bus_message_read(m, "v", "t", &t);
			fprintf(line, " %s=%" PRIu64, key, t);
		} else if (strcmp(type, "s") == 0) {
			const char *s;

			r = sd_bus_message_read(m, "v", "s", &s);
			fprintf(line, " %s=%s", key, s);
		} else {
			r = sd_bus_message_skip(m, "v");
			fprintf(line, " %s=(%s)", key, type);
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int answer(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *method = sd_bus_message_get_member(m);
	const char *sig = sd_bus_message_get_signature(m, true);
	char *line = NULL, *doc, *err, path[4096];
	size_t len = 0;
	FILE *f;
	int r = 0;

	(void)userdata;
	f = open_memstream(&line, &len);
	if (!f)
		return -ENOMEM;
	fputs(method, f);
	if (sig && sig[0] == 's') {
		const char *mode;

		r = sd_bus_message_read(m, "s", &mode);
		if (r >= 0)
			fprintf(f, " %s", mode);
	}
	if (r >= 0 && sig && strstr(sig, "a{sv}"))
		r = read_options(m, f);
	fprintf(f, " interactive=%d\n", sd_bus_message_get_allow_interactive_authorization(m) > 0);
	fclose(f);
	if (r < 0) {
		free(line);
		return r;
	}
	snprintf(path, sizeof(path), "%s/calls", dir);
	f = fopen(path, "ae");
	if (f) {
		fputs(line, f);
		fclose(f);
	}
	free(line);

	err = slurp(method, "error");
	if (err) {
		char *nl = strchr(err, '\n');
		size_t n;

		if (nl)
			*nl++ = '\0';
		n = nl ? strlen(nl) : 0;
		if (n && nl[n - 1] == '\n')
			nl[n - 1] = '\0';
		r = sd_bus_error_set(error, err, nl && *nl ? nl : NULL);
		free(err);
		return r;
	}
	doc = slurp(method, "json");
	if (!doc)
		return sd_bus_error_setf(error, ISOLATED_BUS_ERROR_FAILED, "fake-isolated: no %s/%s.json", dir, method);
	r = sd_bus_reply_method_return(m, "s", doc);
	free(doc);
	return r;
}

static const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Apply", "sa{sv}", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Revert", "a{sv}", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Confirm", "", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Plan", "sa{sv}", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Status", "", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Verify", "", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListModes", "", "s", answer, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
	sd_event *ev = NULL;
	sd_bus *bus = NULL;
	char path[4096];
	sigset_t ss;
	FILE *f;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: fake-isolated DIR\n");
		return 2;
	}
	dir = argv[1];
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
		r = sd_bus_set_exit_on_disconnect(bus, 1);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, ISOLATED_BUS_PATH, ISOLATED_BUS_INTERFACE, vtable, NULL);
	if (r >= 0)
		r = sd_bus_request_name(bus, ISOLATED_BUS_NAME, 0);
	if (r >= 0)
		r = sd_bus_attach_event(bus, ev, 0);
	if (r < 0) {
		fprintf(stderr, "fake-isolated: %s\n", strerror(-r));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pid", dir);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	r = sd_event_loop(ev);
	sd_bus_flush_close_unref(bus);
	sd_event_unref(ev);
	return r < 0 ? 1 : 0;
}
