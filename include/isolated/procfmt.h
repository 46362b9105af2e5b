/* Parsers of the kernel's text formats. They take a buffer and never touch
 * files, so unit tests feed them captured samples (tests/data/). */
#ifndef ISOLATED_PROCFMT_H
#define ISOLATED_PROCFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/cpuset.h"

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

/* /proc/interrupts parsed as it is read: feed the file in chunks of any size
 * (a line may span chunks), then finish. The parser keeps only the line it
 * is in the middle of, so its memory is the longest line plus the IRQs found,
 * however large the file: 23 MB on 1 024 CPUs with 2 000 IRQs, 180 MB on
 * 8 192 CPUs (every line has a 11-byte column per online CPU).
 *
 * Limits that only a hostile file reaches (-E2BIG):
 *   PROCFMT_INTERRUPTS_TAIL_MAX   what follows the counts of a numbered line
 *       (chip, hwirq, handler, action names): the kernel prints a chip name,
 *       a number, a handler name and the names its drivers gave the IRQ.
 *   PROCFMT_INTERRUPTS_LINE_MAX   a line: CPUSET_MAX_CPUS columns of 11 bytes
 *       ("%10u " of an unsigned int, or "CPU%-8d" in the header), the tail,
 *       and the "%*d: " of the IRQ number.
 *   PROCFMT_INTERRUPTS_MAX_LINES  lines: twice the most IRQs x86 can number
 *       (NR_IRQS = 524 544 with NR_CPUS = 8 192; the file has a line per IRQ
 *       in use below nr_irqs), the architecture's lines (NMI:, LOC:, IPI0:
 *       ...) included.
 *   More CPU columns in the header than CPUSET_MAX_CPUS.
 * Other errors: -EINVAL for a file without the CPU header line or with an IRQ
 * number that does not fit 32 bits, -ENOMEM. The first error sticks: later
 * feeds and finish return it. */
#define PROCFMT_INTERRUPTS_TAIL_MAX 4096
#define PROCFMT_INTERRUPTS_LINE_MAX (CPUSET_MAX_CPUS * 11 + PROCFMT_INTERRUPTS_TAIL_MAX + 64)
#define PROCFMT_INTERRUPTS_MAX_LINES (1u << 20)

struct procfmt_interrupts {
	/* Read after an error: the line at fault (1 = the header) and what is
	 * wrong with it ("a line longer than 725056 bytes ..."). */
	size_t lineno;
	char why[128];
	/* Private. */
	int error;
	unsigned ncpus; /* CPU columns of the header; 0 before it */
	char *carry;	/* the line in progress, not yet ended by a newline */
	size_t carry_len, carry_cap;
	struct proc_interrupt *v;
	size_t n, cap;
};
void procfmt_interrupts_init(struct procfmt_interrupts *p);
int procfmt_interrupts_feed(struct procfmt_interrupts *p, const char *buf, size_t len);
/* The IRQs in file order into ret (free with procfmt_interrupts_free),
 * untouched on failure; p is emptied either way (but for lineno and why
 * after an error). */
int procfmt_interrupts_finish(struct procfmt_interrupts *p, struct proc_interrupt **ret, size_t *ret_n);
/* Frees what p holds, for a parse abandoned before finish; idempotent. */
void procfmt_interrupts_done(struct procfmt_interrupts *p);
/* Bytes p holds for a line that spans chunks: none until one does, then at
 * most 4 KiB or twice the longest such line, however much was fed. */
size_t procfmt_interrupts_buffered(const struct procfmt_interrupts *p);

/* The whole file in one buffer: init, one feed, finish. */
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
