/* The daemon's log: structured entries in the journal when systemd connected
 * our stderr to it (JOURNAL_STREAM), one plain line on stderr otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "daemon.h"
#include "isolated/util.h"

/* The one global of the daemon: where log lines go, decided once. */
static struct {
	bool journal;
	int max_priority;
} log_target = {.journal = false, .max_priority = LOG_INFO};

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd gave us; it is only
 * ours when stderr is still that stream (a child of a service inherits the
 * variable with a different stderr). */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(void)
{
	const char *level = getenv("ISOLATED_LOG_LEVEL");

	log_target.journal = stderr_is_journal();
	if (level && strcmp(level, "debug") == 0)
		log_target.max_priority = LOG_DEBUG;
}

static const char *priority_prefix(int priority)
{
	if (priority <= LOG_ERR)
		return "error: ";
	if (priority == LOG_WARNING)
		return "warning: ";
	return "";
}

/* A message quotes what others named (a thread in a step, a line of a file,
 * a cgroup): escaped here, for the journal and stderr alike, so that neither
 * journalctl -a nor a terminal gets a control character from it, nor a
 * newline that would forge a line of its own. */
static void log_write(int priority, const char *const *fields, const char *raw)
{
	char *msg, *m = NULL;
	const char *text;

	if (priority > log_target.max_priority)
		return;
	msg = util_escape(raw, false);
	text = msg ? msg : "out of memory: a message is lost";
	if (!log_target.journal)
		fprintf(stderr, "isolated: %s%s\n", priority_prefix(priority), text);
	else if (asprintf(&m, "MESSAGE=%s", text) >= 0) {
		struct iovec iov[3 + 16];
		char prio[16];
		size_t n = 0;

		snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
		iov[n++] = (struct iovec){m, strlen(m)};
		iov[n++] = (struct iovec){prio, strlen(prio)};
		iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=isolated", strlen("SYSLOG_IDENTIFIER=isolated")};
		for (size_t i = 0; fields && fields[i] && n < ARRAY_SIZE(iov); i++)
			iov[n++] = (struct iovec){(char *)fields[i], strlen(fields[i])};
		sd_journal_sendv(iov, (int)n);
		free(m);
	}
	free(msg);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
	int saved = errno;
	char *msg = NULL;
	va_list ap;

	if (priority > log_target.max_priority)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	log_write(priority, fields, msg ? msg : fmt);
	free(msg);
	errno = saved;
}

int log_errno(int priority, int r, const char *fmt, ...)
{
	int saved = errno;
	char *msg = NULL, *full = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && asprintf(&full, "%s: %s", msg, path_strerror(r < 0 ? -r : r)) < 0)
		full = NULL;
	log_write(priority, NULL, full ? full : msg ? msg : fmt);
	free(full);
	free(msg);
	errno = saved;
	return r;
}
