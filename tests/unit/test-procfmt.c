/* Unit tests of the kernel text parsers, fed with captured samples from
 * tests/data/ and inline strings: stat, status, interrupts (whole and streamed,
 * an 8 192-CPU host, the limits of a hostile file), grub, cmdline. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/procfmt.h"
#include "isolated/util.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static char *read_data(const char *name, size_t *ret_len)
{
	int dfd = open(TEST_DATADIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *buf = NULL;

	assert_true(dfd >= 0);
	assert_int_equal(util_read_at(dfd, name, 1 << 20, &buf, ret_len), 0);
	close(dfd);
	return buf;
}

/* ---- stat ---- */

struct stat_case {
	const char *file; /* in tests/data, or NULL: use text */
	const char *text;
	int r;
	pid_t pid;
	const char *comm;
	char state;
	pid_t ppid;
	unsigned long flags;
	int processor;
	unsigned rt_priority, policy;
	unsigned long long starttime; /* field 22 */
};

#define STAT_TAIL " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"

static const struct stat_case stat_cases[] = {
    {"stat-cat", NULL, 0, 6626, "cat", 'R', 6620, 4194304, 1, 0, 0, 47076},
    {"stat-kthreadd", NULL, 0, 2, "kthreadd", 'S', 0, 2129984, 1, 0, 0, 24},
    {"stat-migration", NULL, 0, 21, "migration/1", 'S', 2, 69238848, 1, 99, 1, 25},
    {"stat-paren", NULL, 0, 4242, "a) b", 'S', 1, 4194560, 3, 10, 2, 7001},
    {"stat-sdpam", NULL, 0, 1234, "(sd-pam)", 'S', 1233, 4194624, 1, 0, 0, 880},
    /* 41 fields exactly, ") (" in comm, no trailing newline */
    {NULL, "7 (x) (y) R 1 0 0 0 -1 64 0 0 0 0 0 0 0 0 -51 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 50 1", 0, 7,
     "x) (y", 'R', 1, 64, 2, 50, 1, 0},
    /* starttime (22) of a machine up for years at HZ=1000: more than 32 bits */
    {NULL, "8 (up) S 1 0 0 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 98765432101234 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 3 0 0", 0, 8,
     "up", 'S', 1, 64, 3, 0, 0, 98765432101234ULL},
    /* comm longer than 63 bytes is truncated */
    {NULL, "9 (0123456789012345678901234567890123456789012345678901234567890123456789) S 1 0 0 0 -1 0" STAT_TAIL, 0, 9,
     "012345678901234567890123456789012345678901234567890123456789012", 'S', 1, 0, 0, 0, 0, 0},
    {NULL, "", -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "1 (init", -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "1 (init) S 0 1 1 0 -1 4194560 100", -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    /* 40 fields: policy missing */
    {NULL, "7 (x) R 1 0 0 0 -1 64 0 0 0 0 0 0 0 0 -51 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 50", -EINVAL, 0, NULL,
     0, 0, 0, 0, 0, 0, 0},
    {NULL, "x (a) S 1 0 0 0 -1 0" STAT_TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "5 (a) S notanumber 0 0 0 -1 0" STAT_TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "5 (a) SS 1 0 0 0 -1 0" STAT_TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "5 )a( S 1 0 0 0 -1 0" STAT_TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {NULL, "5 x (a) S 1 0 0 0 -1 0" STAT_TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
};

static void test_stat(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(stat_cases); i++) {
		const struct stat_case *c = &stat_cases[i];
		struct proc_stat st;
		char *buf = NULL;
		size_t len;
		int r;

		memset(&st, 0x5a, sizeof(st));
		if (c->file) {
			buf = read_data(c->file, &len);
		} else {
			buf = strdup(c->text);
			len = strlen(buf);
		}
		r = procfmt_parse_stat(buf, len, &st);
		if (r != c->r)
			fail_msg("case %zu (%s): got %d, want %d", i, c->file ? c->file : c->text, r, c->r);
		if (r == 0) {
			assert_int_equal(st.pid, c->pid);
			assert_string_equal(st.comm, c->comm);
			assert_int_equal(st.state, c->state);
			assert_int_equal(st.ppid, c->ppid);
			assert_int_equal(st.flags, c->flags);
			assert_int_equal(st.processor, c->processor);
			assert_int_equal(st.rt_priority, c->rt_priority);
			assert_int_equal(st.policy, c->policy);
			assert_int_equal(st.starttime, c->starttime);
		} else {
			/* untouched on failure */
			assert_int_equal(st.pid, 0x5a5a5a5a);
		}
		free(buf);
	}
}

/* A truncated real sample (a short read) is rejected at every length. */
static void test_stat_truncated(void **state)
{
	struct proc_stat st;
	size_t len;
	char *buf = read_data("stat-migration", &len);

	(void)state;
	/* The 41st field ends at the 41st ' ' after "(comm)": cut anywhere before. */
	const char *p = strrchr(buf, ')');
	unsigned spaces = 0;
	size_t cut = 0;
	for (; *p; p++)
		if (*p == ' ' && ++spaces == 40) {
			cut = (size_t)(p - buf);
			break;
		}
	assert_true(cut > 0);
	for (size_t n = 0; n < cut; n++)
		assert_int_equal(procfmt_parse_stat(buf, n, &st), -EINVAL);
	/* The buffer is not NUL-terminated at len: the parser must not read on. */
	assert_int_equal(procfmt_parse_stat(buf, cut + 2, &st), 0);
	assert_int_equal(st.policy, 1);
	free(buf);
}

/* ---- status ---- */

struct status_case {
	const char *file;
	const char *text;
	int r;
	const char *name;
	pid_t tgid, ppid;
	const char *cpus; /* NULL: no Cpus_allowed_list */
};

static const struct status_case status_cases[] = {
    {"status-cat", NULL, 0, "cat", 6627, 6620, "0-1"},
    {"status-kthreadd", NULL, 0, "kthreadd", 2, 0, "0-1"},
    {NULL, "Name:\tCPU 1/KVM\nTgid:\t100\nPPid:\t1\nCpus_allowed:\tff\nCpus_allowed_list:\t2-3,8\n", 0, "CPU 1/KVM",
     100, 1, "2-3,8"},
    {NULL, "Tgid:\t5\n", 0, "", 5, 0, NULL},
    {NULL, "Name:\tx\nTgid:  7  \nCpus_allowed_list:\t0\n", 0, "x", 7, 0, "0"},
    {NULL, "Name:\tx\n", -EINVAL, NULL, 0, 0, NULL},
    {NULL, "Name:\tx\nTgid:\tabc\n", -EINVAL, NULL, 0, 0, NULL},
    {NULL, "", -EINVAL, NULL, 0, 0, NULL},
    /* "Tgidx:" is another key */
    {NULL, "Tgidx:\t5\n", -EINVAL, NULL, 0, 0, NULL},
};

static void test_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(status_cases); i++) {
		const struct status_case *c = &status_cases[i];
		struct proc_status st = {.tgid = -5};
		char *buf;
		size_t len;
		int r;

		if (c->file) {
			buf = read_data(c->file, &len);
		} else {
			buf = strdup(c->text);
			len = strlen(buf);
		}
		r = procfmt_parse_status(buf, len, &st);
		if (r != c->r)
			fail_msg("case %zu: got %d, want %d", i, r, c->r);
		if (r == 0) {
			assert_string_equal(st.name, c->name);
			assert_int_equal(st.tgid, c->tgid);
			assert_int_equal(st.ppid, c->ppid);
			if (c->cpus)
				assert_string_equal(st.cpus_allowed_list, c->cpus);
			else
				assert_null(st.cpus_allowed_list);
			procfmt_status_done(&st);
		} else {
			assert_int_equal(st.tgid, -5);
		}
		free(buf);
	}
}

/* ---- interrupts ---- */

struct irq_want {
	unsigned irq;
	const char *chip, *hwirq, *actions;
};

static const struct irq_want irqs_2cpu[] = {
    {24, "IO-APIC", "5-edge", "ACPI:Ged"},
    {25, "IO-APIC", "6-edge", "ACPI:Ged"},
    {26, "IO-APIC", "4-edge", "ttyS0"},
    {28, "PCI-MSIX-0000:00:01.0", "0-edge", "virtio0-config"},
    {29, "PCI-MSIX-0000:00:01.0", "1-edge", "virtio0-inflate"},
    {30, "PCI-MSIX-0000:00:01.0", "2-edge", "virtio0-deflate"},
    {31, "PCI-MSIX-0000:00:01.0", "3-edge", "virtio0-stats"},
    {32, "PCI-MSIX-0000:00:01.0", "4-edge", "virtio0-reporting_vq"},
    {33, "PCI-MSIX-0000:00:05.0", "0-edge", "virtio4-config"},
    {34, "PCI-MSIX-0000:00:05.0", "1-edge", "virtio4-input"},
    {35, "PCI-MSIX-0000:00:02.0", "0-edge", "virtio1-config"},
    {36, "PCI-MSIX-0000:00:02.0", "1-edge", "virtio1-req.0"},
    {37, "PCI-MSIX-0000:00:03.0", "0-edge", "virtio2-config"},
    {38, "PCI-MSIX-0000:00:03.0", "1-edge", "virtio2-input.0"},
    {39, "PCI-MSIX-0000:00:03.0", "2-edge", "virtio2-output.0"},
    {40, "PCI-MSIX-0000:00:04.0", "0-edge", "virtio3-config"},
    {41, "PCI-MSIX-0000:00:04.0", "1-edge", "virtio3-rx"},
    {42, "PCI-MSIX-0000:00:04.0", "2-edge", "virtio3-tx"},
    {43, "PCI-MSIX-0000:00:04.0", "3-edge", "virtio3-event"},
};

static const struct irq_want irqs_16cpu[] = {
    {0, "IR-IO-APIC", "2-edge", "timer"},
    {1, "IR-IO-APIC", "1-edge", "i8042"},
    {8, "IR-IO-APIC", "8-edge", "rtc0"},
    {9, "IR-IO-APIC", "9-fasteoi", "acpi"},
    {14, "IR-IO-APIC", "14-fasteoi", ""},
    {16, "IR-IO-APIC", "16-fasteoi", "ahci[0000:00:1f.2], eth0"},
    {18, "IR-IO-APIC", "18-fasteoi", "i801_smbus"},
    {60, "PCI-MSI", "", "vfio-msi[0](0000:05:00.0)"},
    {120, "DMAR-MSI", "0-edge", "dmar0"},
    {121, "IR-PCI-MSI-0000:00:1c.0", "0-edge", "PCIe PME, pciehp"},
    {124, "IR-PCI-MSIX-0000:03:00.0", "0-edge", "eth1"},
    {125, "IR-PCI-MSIX-0000:03:00.0", "1-edge", "eth1-TxRx-0"},
    {126, "IR-PCI-MSIX-0000:03:00.0", "2-edge", "eth1-TxRx-1"},
    {140, "IR-PCI-MSI-0000:00:02.0", "0-edge", "i915"},
    {524288, "IR-PCI-MSIX-0000:04:00.0", "524288-edge", "nvme0q1"},
};

/* Inline oddities: an ARM GIC line with a separate trigger column, a line
 * ending after the counts, fewer counts than CPUs, CRLF-free junk lines. */
static const char irqs_inline_text[] =
    "           CPU0       CPU1       CPU2       CPU3\n"
    " 11:      12345       6789          0          0     GICv3  27 Level     arch_timer\n"
    " 12:          0          0          0          0\n"
    " 13:          5          6     GICv3  30 Edge      \n"
    " 14:          1          2          3          4   IO-APIC  -edge      x, y z\n"
    "IPI0:       100        200        300        400       Rescheduling interrupts\n"
    "garbage line without colon\n"
    "\n"
    "Err:          0\n";

static const struct irq_want irqs_inline[] = {
    {11, "GICv3", "27 Level", "arch_timer"},
    {12, "", "", ""},
    {13, "GICv3", "30 Edge", ""},
    {14, "IO-APIC", "-edge", "x, y z"},
};

struct irq_case {
	const char *file, *text;
	const struct irq_want *want;
	size_t n;
};

static const struct irq_case irq_cases[] = {
    {"interrupts-2cpu", NULL, irqs_2cpu, ARRAY_SIZE(irqs_2cpu)},
    {"interrupts-16cpu", NULL, irqs_16cpu, ARRAY_SIZE(irqs_16cpu)},
    {NULL, irqs_inline_text, irqs_inline, ARRAY_SIZE(irqs_inline)},
    {NULL, "           CPU0\n", NULL, 0},
};

static void test_interrupts_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    " 11:  1 2  IO-APIC 1-edge x\n", /* no header */
	    "           CPU0\n 99999999999:  1  IO-APIC 1-edge x\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct proc_interrupt *v = (void *)0x1;
		size_t n = 7;
		assert_int_equal(procfmt_parse_interrupts(bad[i], strlen(bad[i]), &v, &n), -EINVAL);
		assert_ptr_equal(v, (void *)0x1);
		assert_int_equal(n, 7);
	}
}

/* Each case whole (procfmt_parse_interrupts), then streamed in chunks of
 * every size from one byte up: lines broken anywhere parse as when whole. */
static void test_interrupts(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 3, 7, 64, 4096};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(irq_cases); i++) {
		const struct irq_case *c = &irq_cases[i];
		size_t len;
		char *buf = c->file ? read_data(c->file, &len) : strdup(c->text);

		if (!c->file)
			len = strlen(buf);
		for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
			struct procfmt_interrupts p;
			struct proc_interrupt *v = NULL;
			size_t n = 99;

			procfmt_interrupts_init(&p);
			if (sizes[k] == 0)
				assert_int_equal(procfmt_parse_interrupts(buf, len, &v, &n), 0);
			for (size_t off = 0; sizes[k] && off < len; off += sizes[k])
				assert_int_equal(procfmt_interrupts_feed(&p, buf + off, MIN(sizes[k], len - off)), 0);
			if (sizes[k])
				assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), 0);
			assert_int_equal(n, c->n);
			for (size_t j = 0; j < n; j++) {
				assert_int_equal(v[j].irq, c->want[j].irq);
				assert_string_equal(v[j].chip, c->want[j].chip);
				assert_string_equal(v[j].hwirq, c->want[j].hwirq);
				assert_string_equal(v[j].actions, c->want[j].actions);
			}
			procfmt_interrupts_free(v, n);
			assert_int_equal(procfmt_interrupts_buffered(&p), 0);
		}
		free(buf);
	}
}

/* ---- a big host: 8 192 CPUs, 2 000 IRQs (180 MB) ---- */

#define BIG_CPUS 8192
#define BIG_IRQS 2000
#define BIG_CHUNK 4093 /* odd: lines and columns break anywhere */

struct big_feed {
	struct procfmt_interrupts p;
	char *line, *zeros; /* zeros: BIG_CPUS counts of 0, "%10u " each */
	size_t max_buffered, fed, longest;
};

/* A line as kernel/irq/proc.c prints it, fed in BIG_CHUNK pieces. */
static void big_line(struct big_feed *b, const char *head, unsigned eff, const char *tail)
{
	size_t n = (size_t)sprintf(b->line, "%s", head);
	char col[12];

	memcpy(b->line + n, b->zeros, BIG_CPUS * 11);
	snprintf(col, sizeof(col), "%10u ", 4242u + eff);
	memcpy(b->line + n + eff * 11, col, 11);
	n += BIG_CPUS * 11;
	n += (size_t)sprintf(b->line + n, "%s\n", tail);
	b->longest = MAX(b->longest, n);
	for (size_t off = 0; off < n; off += BIG_CHUNK) {
		assert_int_equal(procfmt_interrupts_feed(&b->p, b->line + off, MIN(BIG_CHUNK, n - off)), 0);
		b->max_buffered = MAX(b->max_buffered, procfmt_interrupts_buffered(&b->p));
	}
	b->fed += n;
}

/* Lines of test_interrupts_8192_cpus, by index: one of each kind of tail. */
static const struct {
	size_t index;
	struct irq_want want;
} big_want[] = {
    {0, {0, "IR-PCI-MSIX-0000:00:00.0", "0-edge", "nvme0q0"}},
    {16, {116, "IR-IO-APIC", "16-fasteoi", "ahci[0000:00:17.0], i801_smbus"}},
    {1997, {2097, "ITS-MSI", "1997 Edge", "eth1-TxRx-1997"}},
    {1998, {2098, "IR-PCI-MSIX-0000:09:00.0", "198-edge", "nvme9q198"}},
    {1999, {2099, "IR-IO-APIC", "1999-fasteoi", "ahci[0000:00:17.0], i801_smbus"}},
};

static void test_interrupts_8192_cpus(void **state)
{
	struct big_feed b = {.line = malloc(BIG_CPUS * 11 + 256), .zeros = malloc(BIG_CPUS * 11 + 1)};
	struct proc_interrupt *v = NULL;
	char head[32], tail[128];
	size_t n = 0, hn = 0;

	(void)state;
	assert_non_null(b.line);
	assert_non_null(b.zeros);
	for (unsigned c = 0; c < BIG_CPUS; c++)
		memcpy(b.zeros + c * 11, "         0 ", 11);
	procfmt_interrupts_init(&b.p);
	/* The header: "%*s" of prec + 8 blanks, then CPU%-8d a CPU. */
	hn = (size_t)sprintf(b.line, "%13s", "");
	for (unsigned c = 0; c < BIG_CPUS; c++)
		hn += (size_t)sprintf(b.line + hn, "CPU%-8u", c);
	b.line[hn++] = '\n';
	assert_int_equal(procfmt_interrupts_feed(&b.p, b.line, hn), 0);
	b.fed = hn;
	for (unsigned i = 0; i < BIG_IRQS; i++) {
		unsigned irq = i < 16 ? i : 100 + i;

		snprintf(head, sizeof(head), "%5u: ", irq);
		if (i % 3 == 0)
			snprintf(tail, sizeof(tail), "  IR-PCI-MSIX-0000:%02x:00.0 %5u-edge      nvme%uq%u", i / 200, i % 200,
				 i / 200, i % 200);
		else if (i % 3 == 1)
			snprintf(tail, sizeof(tail), "  IR-IO-APIC %5u-fasteoi   ahci[0000:00:17.0], i801_smbus", i);
		else
			snprintf(tail, sizeof(tail), " ITS-MSI %5u Edge      eth%u-TxRx-%u", i, i % 4, i);
		big_line(&b, head, i % BIG_CPUS, tail);
	}
	big_line(&b, "  NMI: ", 0, "  Non-maskable interrupts");
	big_line(&b, "  LOC: ", 7, "  Local timer interrupts");
	assert_int_equal(procfmt_interrupts_feed(&b.p, "  ERR:          0\n  MIS:          0", 36), 0);
	assert_int_equal(procfmt_interrupts_finish(&b.p, &v, &n), 0);

	assert_true(b.fed > 180u * 1000 * 1000);
	assert_int_equal(n, BIG_IRQS);
	for (size_t i = 0; i < ARRAY_SIZE(big_want); i++) {
		const struct irq_want *w = &big_want[i].want;
		const struct proc_interrupt *q = &v[big_want[i].index];

		assert_int_equal(q->irq, w->irq);
		assert_string_equal(q->chip, w->chip);
		assert_string_equal(q->hwirq, w->hwirq);
		assert_string_equal(q->actions, w->actions);
	}
	/* What the parser held: about a line (90 KB), never the file. */
	assert_true(b.longest > BIG_CPUS * 11);
	assert_true(b.max_buffered >= b.longest - BIG_CHUNK);
	assert_true(b.max_buffered <= 2 * b.longest);
	procfmt_interrupts_free(v, n);
	free(b.line);
	free(b.zeros);
}

/* Limits only a hostile file reaches: an error naming the line, no crash,
 * no more memory than the limit. Fed whole and in chunks. */
static void test_interrupts_limits(void **state)
{
	size_t big = PROCFMT_INTERRUPTS_LINE_MAX + 2;
	char *buf = malloc(big + 64);
	struct procfmt_interrupts p;
	struct proc_interrupt *v = (void *)0x1;
	size_t n = 7, len;

	(void)state;
	assert_non_null(buf);

	/* A line one byte over the limit: line 2. */
	len = (size_t)sprintf(buf, "   CPU0\n 1: ");
	memset(buf + len, '7', PROCFMT_INTERRUPTS_LINE_MAX + 1 - 4);
	len += PROCFMT_INTERRUPTS_LINE_MAX + 1 - 4;
	buf[len++] = '\n';
	for (int chunked = 0; chunked < 2; chunked++) {
		procfmt_interrupts_init(&p);
		if (chunked) {
			int r = 0;
			for (size_t off = 0; off < len && r == 0; off += 65536)
				r = procfmt_interrupts_feed(&p, buf + off, MIN(65536, len - off));
			assert_int_equal(r, -E2BIG);
			assert_true(procfmt_interrupts_buffered(&p) <= PROCFMT_INTERRUPTS_LINE_MAX);
		} else {
			assert_int_equal(procfmt_interrupts_feed(&p, buf, len), -E2BIG);
		}
		/* The error sticks. */
		assert_int_equal(procfmt_interrupts_feed(&p, "2: 0 x\n", 7), -E2BIG);
		assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), -E2BIG);
		assert_ptr_equal(v, (void *)0x1);
		assert_int_equal(n, 7);
		assert_int_equal(p.lineno, 2);
		assert_non_null(strstr(p.why, "a line longer than"));
		procfmt_interrupts_done(&p);
	}
	/* Exactly at the limit: fine, the line ends in one huge action name. */
	len = (size_t)sprintf(buf, "   CPU0\n 1: 5 X 1-edge ");
	memset(buf + len, 'a', PROCFMT_INTERRUPTS_TAIL_MAX - 10);
	len += PROCFMT_INTERRUPTS_TAIL_MAX - 10;
	assert_int_equal(procfmt_parse_interrupts(buf, len, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(v[0].actions), PROCFMT_INTERRUPTS_TAIL_MAX - 10);
	procfmt_interrupts_free(v, n);
	/* Too much text after the counts. */
	memset(buf + len, 'a', 20);
	len += 20;
	procfmt_interrupts_init(&p);
	assert_int_equal(procfmt_interrupts_feed(&p, buf, len), 0);
	assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), -E2BIG);
	assert_int_equal(p.lineno, 2);
	assert_non_null(strstr(p.why, "chip, hwirq and actions"));

	/* A header of more CPUs than CPUSET_MAX_CPUS. */
	len = 0;
	for (unsigned c = 0; c <= CPUSET_MAX_CPUS; c++)
		len += (size_t)sprintf(buf + len, "CPU%-8u", c);
	buf[len++] = '\n';
	procfmt_interrupts_init(&p);
	assert_int_equal(procfmt_interrupts_feed(&p, buf, len), -E2BIG);
	assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), -E2BIG);
	assert_int_equal(p.lineno, 1);
	assert_non_null(strstr(p.why, "CPU columns"));

	/* More lines than any IRQ space: "CPU0" and MAX_LINES newlines are
	 * as many lines as allowed, one more is too many. */
	free(buf);
	len = 4 + PROCFMT_INTERRUPTS_MAX_LINES + 1;
	buf = malloc(len);
	assert_non_null(buf);
	memset(buf, '\n', len);
	memcpy(buf, "CPU0", 4);
	assert_int_equal(procfmt_parse_interrupts(buf, len - 1, &v, &n), 0);
	procfmt_interrupts_free(v, n);
	procfmt_interrupts_init(&p);
	assert_int_equal(procfmt_interrupts_feed(&p, buf, len), -E2BIG);
	assert_int_equal(p.lineno, PROCFMT_INTERRUPTS_MAX_LINES + 1);
	assert_non_null(strstr(p.why, "more than"));
	procfmt_interrupts_done(&p);
	free(buf);

	/* An unended header is still a header; nothing at all is not. */
	procfmt_interrupts_init(&p);
	assert_int_equal(procfmt_interrupts_feed(&p, "  CPU0  CP", 10), 0);
	assert_int_equal(procfmt_interrupts_feed(&p, "U1", 2), 0);
	assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), 0);
	assert_int_equal(n, 0);
	procfmt_interrupts_free(v, n);
	procfmt_interrupts_init(&p);
	assert_int_equal(procfmt_interrupts_finish(&p, &v, &n), -EINVAL);
	assert_int_equal(p.lineno, 1);
	assert_non_null(strstr(p.why, "no CPU header"));
}

/* ---- grub ---- */

struct grub_case {
	const char *file, *text;
	int r;
	const char *lnx, *dflt; /* NULL: unset */
};

static const struct grub_case grub_cases[] = {
    {"grub-tricky", NULL, 0, "console=ttyS0,115200n8 isolcpus=managed_irq,domain,2-15 nohz_full=2-15 rcu_nocbs=2-15",
     "quiet splash # not a comment irqaffinity=0-1"},
    {"grub-plain", NULL, 0, "nosmt", NULL},
    {NULL, "", 0, NULL, NULL},
    {NULL, "# GRUB_CMDLINE_LINUX=\"x\"\n", 0, NULL, NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b\"\n", 0, "b", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\n", 0, "", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"\"", 0, "", NULL},
    {NULL, "GRUB_CMDLINE_LINUX_DEFAULT=\"a \\\"q\\\" \\$x\"", 0, NULL, "a \"q\" $x"},
    {NULL, "GRUB_CMDLINE_LINUX='a \"b\" $c'", 0, "a \"b\" $c", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=a\\ b\\\nc", 0, "a bc", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"x\"'y'z # c", 0, "xyz", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"one\ntwo\"\n", 0, "one\ntwo", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"$UNKNOWN x ${GRUB_CMDLINE_LINUX}\"", 0, " x ", NULL},
    {NULL, "GRUB_CMDLINE_LINUX=a; GRUB_CMDLINE_LINUX_DEFAULT=b", 0, "a", "b"},
    {NULL, "GRUB_CMDLINE_LINUXX=a\nXGRUB_CMDLINE_LINUX=b\n", 0, NULL, NULL},
    {NULL, "echo \"GRUB_CMDLINE_LINUX=a\nGRUB_CMDLINE_LINUX=b\"\n", 0, NULL, NULL},
    {NULL, "GRUB_CMDLINE_LINUX=\"unterminated\n", -EINVAL, NULL, NULL},
    {NULL, "GRUB_CMDLINE_LINUX='unterminated\n", -EINVAL, NULL, NULL},
};

static void test_grub(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(grub_cases); i++) {
		const struct grub_case *c = &grub_cases[i];
		char *lnx = (char *)0x1, *dflt = (char *)0x1, *buf;
		size_t len;
		int r;

		if (c->file) {
			buf = read_data(c->file, &len);
		} else {
			buf = strdup(c->text);
			len = strlen(buf);
		}
		r = procfmt_parse_grub(buf, len, &lnx, &dflt);
		if (r != c->r)
			fail_msg("case %zu: got %d, want %d", i, r, c->r);
		if (r == 0) {
			if (c->lnx)
				assert_string_equal(lnx, c->lnx);
			else
				assert_null(lnx);
			if (c->dflt)
				assert_string_equal(dflt, c->dflt);
			else
				assert_null(dflt);
			free(lnx);
			free(dflt);
		} else {
			assert_ptr_equal(lnx, (char *)0x1);
			assert_ptr_equal(dflt, (char *)0x1);
		}
		free(buf);
	}
}

/* ---- cmdline ---- */

struct join_case {
	const char *buf;
	size_t len;
	const char *want;
};

static const struct join_case join_cases[] = {
    {"", 0, ""},
    {"\0", 1, ""},
    {"/sbin/init\0", 11, "/sbin/init"},
    {"qemu\0-name\0guest=vm1\0", 21, "qemu -name guest=vm1"},
    {"a\0\0b\0", 5, "a  b"},
    {"sshd: root@pts/0\0\0\0\0", 20, "sshd: root@pts/0"},
    {"no-terminator", 13, "no-terminator"},
};

static void test_join_cmdline(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(join_cases); i++) {
		char *s = NULL;
		assert_int_equal(procfmt_join_cmdline(join_cases[i].buf, join_cases[i].len, &s), 0);
		assert_string_equal(s, join_cases[i].want);
		free(s);
	}
}

struct get_case {
	const char *cmdline, *key;
	int r;
	const char *value; /* NULL: bare key */
};

static const struct get_case get_cases[] = {
    {"quiet isolcpus=2-3", "isolcpus", 1, "2-3"},
    {"quiet isolcpus=2-3", "quiet", 1, NULL},
    {"quiet isolcpus=2-3", "iso", 0, NULL},
    {"quiet isolcpus=2-3", "isolcpus=2", 0, NULL},
    {"isolcpus=1 isolcpus=2-3\n", "isolcpus", 1, "2-3"},
    {"isolcpus=1 isolcpus", "isolcpus", 1, NULL},
    {"nohz_full=2-3 -- isolcpus=1", "isolcpus", 0, NULL},
    {"isolcpus=1 -- isolcpus=2", "isolcpus", 1, "1"},
    {"a=\"x -- y\" b", "a", 1, "x -- y"},
    {"\"a=x y\" b", "a", 1, "x y"},
    {"x \"--\" a=1", "a", 1, "1"},
    {"dyndbg=\"file foo.c +p\" quiet", "quiet", 1, NULL},
    {"dyndbg=\"file foo.c +p\" quiet", "dyndbg", 1, "file foo.c +p"},
    {"  \t ", "a", 0, NULL},
    {"", "a", 0, NULL},
    {"a=", "a", 1, ""},
    {"a==b", "a", 1, "=b"},
    {"nohz-full=1", "nohz_full", 0, NULL},
    {"BOOT_IMAGE=/vmlinuz root=UUID=abc ro", "root", 1, "UUID=abc"},
};

static void test_cmdline_get(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(get_cases); i++) {
		const struct get_case *c = &get_cases[i];
		char *v = (char *)0x1;
		int r = procfmt_cmdline_get(c->cmdline, c->key, &v);

		if (r != c->r)
			fail_msg("case %zu (%s / %s): got %d, want %d", i, c->cmdline, c->key, r, c->r);
		if (r == 1 && c->value)
			assert_string_equal(v, c->value);
		else if (r == 1)
			assert_null(v);
		else
			assert_ptr_equal(v, (char *)0x1);
		if (r == 1)
			free(v);
	}
}

/* The real command line of this machine (captured with the 2-CPU sample). */
static void test_cmdline_real(void **state)
{
	char *v = NULL;
	const char *cl = "mitigations=auto,no_guest_host,no_guest_guest console=ttyS0 quiet reboot=k panic=1 "
			 "nomodule rdinit=/process_api -- --firecracker-init --addr 0.0.0.0:2024 --auth-required";

	(void)state;
	assert_int_equal(procfmt_cmdline_get(cl, "console", &v), 1);
	assert_string_equal(v, "ttyS0");
	free(v);
	assert_int_equal(procfmt_cmdline_get(cl, "--addr", &v), 0);
	assert_int_equal(procfmt_cmdline_get(cl, "--auth-required", &v), 0);
	assert_int_equal(procfmt_cmdline_get(cl, "nomodule", &v), 1);
	assert_null(v);
}

/* /etc/default/irqbalance as Debian ships it, with the site's values. */
static void test_shell(void **state)
{
	static const char *const names[] = {"IRQBALANCE_BANNED_CPULIST", "IRQBALANCE_BANNED_CPUS", "UNSET", NULL};
	static const char text[] = "# Configuration for the irqbalance daemon\n"
				   "#IRQBALANCE_ONESHOT=\n"
				   "RT=6-7\n"
				   "IRQBALANCE_BANNED_CPULIST=\"0,\\\n${IRQBALANCE_BANNED_CPULIST}\"\n"
				   "export IRQBALANCE_BANNED_CPULIST='4-5'\n"
				   "IRQBALANCE_BANNED_CPUS=00f0 # mask\n";
	char *v[3] = {(char *)"untouched", (char *)"untouched", (char *)"untouched"};

	(void)state;
	assert_int_equal(procfmt_parse_shell(text, strlen(text), names, v), 0);
	assert_string_equal(v[0], "4-5");
	assert_string_equal(v[1], "00f0");
	assert_null(v[2]);
	free(v[0]);
	free(v[1]);

	/* unterminated quote: an error, outputs untouched */
	v[0] = (char *)"untouched";
	assert_int_equal(procfmt_parse_shell("IRQBALANCE_BANNED_CPUS='ff\n", 27, names, v), -EINVAL);
	assert_string_equal(v[0], "untouched");
}

/* A="$A$A" doubles A on every line: forty lines would be a terabyte. */
static void test_shell_doubling(void **state)
{
	static const char *const names[] = {"A", NULL};
	char text[4096], *v[1] = {(char *)"untouched"};
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "A=xxxxxxxxxxxxxxxx\n");
	for (int i = 0; i < 12; i++) /* 64 KiB: the most a value may be */
		n += (size_t)snprintf(text + n, sizeof(text) - n, "A=\"$A$A\"\n");
	assert_int_equal(procfmt_parse_shell(text, n, names, v), 0);
	assert_int_equal(strlen(v[0]), PROCFMT_SHELL_MAX_VALUE);
	free(v[0]);
	v[0] = (char *)"untouched";
	for (int i = 0; i < 28; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "A=\"$A$A\"\n");
	assert_int_equal(procfmt_parse_shell(text, n, names, v), -E2BIG);
	assert_string_equal(v[0], "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat),	   cmocka_unit_test(test_stat_truncated),
	    cmocka_unit_test(test_status),	   cmocka_unit_test(test_interrupts),
	    cmocka_unit_test(test_interrupts_bad), cmocka_unit_test(test_interrupts_8192_cpus),
	    cmocka_unit_test(test_interrupts_limits),
	    cmocka_unit_test(test_grub),
	    cmocka_unit_test(test_join_cmdline),   cmocka_unit_test(test_cmdline_get),
	    cmocka_unit_test(test_cmdline_real),   cmocka_unit_test(test_shell),
	    cmocka_unit_test(test_shell_doubling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
