/* isoctl's command layer: what every command uses to load the host, host.conf
 * and a mode into struct ctx, and to print (errors on stderr as "isoctl: ...",
 * JSON and escaped lines on stdout). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/modes.h"
#include "isolated/paths.h"
#include "isoctl.h"

/* One line: what it quotes (a thread's name in a failed write, a line of a
 * file) is escaped as text output is. */
void err_msg(const char *fmt, ...)
{
	va_list ap;
	char *e;

	va_start(ap, fmt);
	e = util_escape_vsprintf(false, fmt, ap);
	va_end(ap);
	fprintf(stderr, "isoctl: %s\n", e ? e : "out of memory");
	free(e);
}

/* printf of one line whose fields come from the host or a tree (the kernel's
 * command line, etc/default/grub, file names): escaped as render.c escapes
 * the documents, so that no control character reaches the terminal. */
void print_line(const char *fmt, ...)
{
	va_list ap;
	char *e;

	va_start(ap, fmt);
	e = util_escape_vsprintf(false, fmt, ap);
	va_end(ap);
	puts(e ? e : "?");
	free(e);
}

void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int ctx_open_host(struct ctx *c)
{
	struct host_options o = host_options_from_env();
	const char *faults = o.faults;
	int r = host_open_ex(c->root, &o, &c->host);

	if (r == -EINVAL && c->root && faults) {
		err_msg(HOST_FAULTS_ENV "=\"%s\": not a list of TARGET=ERRNO (see isoctl(8))", faults);
		return EXIT_USAGE;
	}
	if (r < 0) {
		err_msg("cannot open %s: %s", c->root ? c->root : "/", path_strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int ctx_load_host(struct ctx *c)
{
	return ctx_load_host_needs(c, &host_needs_all);
}

int ctx_load_host_needs(struct ctx *c, const struct host_needs *needs)
{
	char err[512] = "";
	int r;

	if (c->state && host_state_has(c->state, needs))
		return EXIT_OK;
	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	if (c->state)
		r = host_snapshot_add(c->host, c->state, needs, err, sizeof(err));
	else
		r = host_snapshot_ex(c->host, needs, &c->state, err, sizeof(err));
	if (r < 0) {
		err_msg("cannot read %s: %s", c->root ? c->root : "the running kernel", err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s%s\n", d->bare[i] ? "isoctl: " : "", d->lines[i]);
}

void err_lines(const char *msg)
{
	const char *p = msg ? msg : "out of memory";

	for (const char *nl; (nl = strchr(p, '\n')); p = nl + 1)
		fprintf(stderr, "isoctl: %.*s\n", (int)(nl - p), p);
	fprintf(stderr, "isoctl: %s\n", p);
}

/* The online CPUs, which is all host.conf and policies need: the snapshot's,
 * or with online_only (apply, which snapshots the host itself, under the
 * lock) one read of sys/devices/system/cpu/online instead of all of /proc. */
int ctx_load_online(struct ctx *c)
{
	char *buf = NULL, msg[128];
	int r;

	if (c->have_online)
		return EXIT_OK;
	if (!c->online_only || c->state) {
		static const struct host_needs system = {0};

		if ((r = c->system_first ? ctx_load_host_needs(c, &system) : ctx_load_host(c)) != EXIT_OK)
			return r;
		r = cpuset_copy(&c->online, &c->state->online);
	} else {
		if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
			return r;
		r = host_read(c->host, "sys/devices/system/cpu/online", &buf, NULL);
		if (r < 0) {
			err_msg("cannot read %s/sys/devices/system/cpu/online: %s", c->root ? c->root : "",
				path_strerror(-r));
			return EXIT_FAIL;
		}
		r = cpuset_parse_list(buf, &c->online, msg, sizeof(msg));
		free(buf);
		if (r < 0) {
			err_msg("%s/sys/devices/system/cpu/online: %s", c->root ? c->root : "", msg);
			return EXIT_FAIL;
		}
	}
	if (r < 0) {
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	c->have_online = true;
	return EXIT_OK;
}

int ctx_load_config(struct ctx *c)
{
	struct diag d = {0};
	int r = ctx_load_online(c);

	if (r != EXIT_OK || c->hc)
		return r;
	/* The tree's own host.conf is a path of the tree: it must resolve
	 * inside it like every other (a link out of it is refused). */
	if (c->hostconf_in_root) {
		int fd;

		if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
			return r;
		fd = host_openat(c->host, "etc/isolated/host.conf", O_PATH, 0);
		if (fd < 0) {
			err_msg("%s: %s", c->hostconf_path, path_strerror(-fd));
			return EXIT_USAGE;
		}
		close(fd);
	}
	r = hostconf_load(c->hostconf_path, &c->online, &c->hc, &d);
	if (r == -ENOENT && !c->hostconf_given) {
		diag_free(&d);
		err_msg("%s: not found: copy %s there and set rt_cpus, rt_nic, rt_vm, rt_vcpus, "
			"or name a directory with --config DIR",
			c->hostconf_path, c->example ? c->example : ISO_DATADIR "/host.conf.example");
		return EXIT_USAGE;
	}
	if (r < 0) {
		if (d.n)
			print_diag(&d);
		else
			err_msg("%s: %s", c->hostconf_path, path_strerror(-r));
		diag_free(&d);
		return EXIT_USAGE;
	}
	diag_free(&d);
	return EXIT_OK;
}

int ctx_load_policy(struct ctx *c, const char *mode, struct policy **ret)
{
	struct diag d = {0};
	int r = ctx_load_config(c);

	if (r != EXIT_OK)
		return r;
	switch (modes_load(c->policy_dirs, c->hc, &c->online, mode, ret, &d)) {
	case MODES_OK:
		r = EXIT_OK;
		break;
	case MODES_USAGE:
		r = EXIT_USAGE;
		break;
	default:
		r = EXIT_FAIL;
		break;
	}
	print_diag(&d);
	diag_free(&d);
	return r;
}

void ctx_done(struct ctx *c)
{
	client_close(c);
	hostconf_free(c->hc);
	cpuset_free(&c->online);
	host_state_free(c->state);
	host_free(c->host);
	strv_free(c->policy_dirs);
	free(c->hostconf_path);
	free(c->example);
}
