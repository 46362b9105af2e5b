/* Parsers of the kernel's text formats. They take a buffer and never touch
 * files, so unit tests feed them captured samples (tests/data/). */
#ifndef ISOLATED_PROCFMT_H
#define ISOLATED_PROCFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* /proc/PID/stat (and task/TID/stat). comm may contain spaces and ')'. */
struct proc_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid;
	unsigned long flags;	      /* field 9 */
	unsigned long long starttime; /* field 22, clock ticks after boot */
	unsigned rt_priority;	      /* field 40 */
	unsigned policy;	      /* field 41 */
	int processor;		      /* field 39 */
};
int procfmt_parse_stat(const char *buf, size_t len, struct proc_stat *ret);

/* The fields we need of /proc/PID/status. */
struct proc_status {
	char name[64];
	pid_t tgid;
	pid_t ppid;
	char *cpus_allowed_list; /* allocated */
};
int procfmt_parse_status(const char *buf, size_t len, struct proc_status *ret);
void procfmt_status_done(struct proc_status *s);

/* One numbered line of /proc/interrupts ("ERR:", "NMI:" ... are skipped). */
struct proc_interrupt {
	unsigned irq;
	char *chip;    /* may be "" */
	char *hwirq;   /* may be "" */
	char *actions; /* "virtio3-rx" or "ahci[0000:00:1f.2], eth0" (as printed) */
};
int procfmt_parse_interrupts(const char *buf, size_t len, struct proc_interrupt **ret, size_t *ret_n);
void procfmt_interrupts_free(struct proc_interrupt *v, size_t n);

/* /etc/default/grub: the values of GRUB_CMDLINE_LINUX and
 * GRUB_CMDLINE_LINUX_DEFAULT (quotes removed, last assignment wins), NULL
 * when not set. */
/* A shell fragment of assignments (/etc/default/grub, /etc/default/irqbalance):
 * the values of the NULL-terminated names into ret_values (one per name,
 * allocated, NULL when not set): quotes removed, backslash continuations
 * joined, $NAME/${NAME} of the names asked for expanded, last assignment wins.
 * -EINVAL on an unterminated quote, -E2BIG when $NAME would make a value
 * longer than PROCFMT_SHELL_MAX_VALUE (A="$A$A" on every line doubles it);
 * ret_values untouched on failure. */
#define PROCFMT_SHELL_MAX_VALUE (64 * 1024)
int procfmt_parse_shell(const char *buf, size_t len, const char *const *names, char **ret_values);
int procfmt_parse_grub(const char *buf, size_t len, char **ret_linux, char **ret_linux_default);

/* /proc/PID/cmdline: NUL-separated argv -> one string joined with spaces. */
int procfmt_join_cmdline(const char *buf, size_t len, char **ret);

/* A vhost worker's comm, "vhost-PID": the PID of the QEMU process it
 * serves; -1 for any other comm. */
long procfmt_vhost_owner(const char *comm);

/* Kernel command line: value of the last "key=value" or presence of "key".
 * Returns 1 found (ret_value allocated, NULL for a bare key), 0 not found.
 * Parameters after a bare "--" are init's and ignored. Quotes honoured.
 * ret_value may be NULL to ask only whether the parameter is there. */
int procfmt_cmdline_get(const char *cmdline, const char *key, char **ret_value);

#endif
