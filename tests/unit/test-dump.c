/* Unit tests of the dump (isoctl snapshot DIR): a dump of a tree, and of
 * the running kernel, snapshots like what it was taken from. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/dump.h"
#include "host-trees.h"

/* A dump of a tree snapshots exactly like the tree (the virtio msi_irqs
 * are flattened into device/msi_irqs), and carries the extra files. */
static void test_tree_dump(void **state)
{
	char *t = build_tree(), *d = make_tmpdir(), dump[PATH_MAX], err[512] = "", *buf;
	struct host *h = NULL, *hd = NULL;
	struct host_state *s;
	size_t len;
	int r;

	(void)state;
	snprintf(dump, sizeof(dump), "%s/a/b", d);
	assert_int_equal(host_open(t, &h), 0);
	r = host_dump(h, dump, err, sizeof(err));
	if (r < 0)
		fail_msg("host_dump: %d %s", r, err);
	s = snapshot_of(dump);
	check_tree_state(s);
	host_state_free(s);

	assert_int_equal(host_open(dump, &hd), 0);
	assert_true(hd->is_tree);
	assert_int_equal(host_read(hd, "sys/class/net/eth2/device/msi_irqs/31", &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	assert_int_equal(host_read(hd, "sys/class/net/eth3/device/msi_irqs/9", &buf, &len), -ENOENT);
	assert_int_equal(host_read(hd, "proc/irq/9/smp_affinity", &buf, &len), 0);
	assert_string_equal(buf, "f\n");
	free(buf);
	assert_int_equal(host_read(hd, "proc/irq/default_smp_affinity", &buf, &len), 0);
	free(buf);
	assert_int_equal(host_read(hd, "proc/100/cmdline", &buf, &len), 0);
	assert_int_equal(len, 21);
	assert_memory_equal(buf, "qemu\0-name\0guest=vm1\0", 21);
	free(buf);
	/* proc/interrupts, read in chunks, is copied as it is. */
	{
		char *orig;
		size_t olen;

		assert_int_equal(host_read(h, "proc/interrupts", &orig, &olen), 0);
		assert_int_equal(host_read(hd, "proc/interrupts", &buf, &len), 0);
		assert_int_equal(len, olen);
		assert_memory_equal(buf, orig, len);
		free(orig);
		free(buf);
	}
	/* node is not read by the snapshot: not copied */
	assert_int_equal(host_read(hd, "proc/irq/9/node", &buf, &len), -ENOENT);
	/* An empty run/, where the journal of the dump will live. */
	struct stat st;
	assert_int_equal(fstatat(hd->root_fd, "run", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	host_free(hd);

	/* Not empty now. */
	err[0] = '\0';
	assert_int_equal(host_dump(h, dump, err, sizeof(err)), -ENOTEMPTY);
	assert_non_null(strstr(err, dump));

	host_free(h);
	rm_rf(t);
	rm_rf(d);
	free(t);
	free(d);
}

/* Dump the running kernel; the dump snapshots like the kernel for what
 * does not change in between: system files, IRQs, our own process. */
static void test_real_dump(void **state)
{
	char *d = make_tmpdir(), err[512] = "";
	struct host *h = NULL;
	struct host_state *a, *b;
	int r;

	pid_t child = start_child();

	(void)state;
	a = snapshot_of(NULL);
	assert_int_equal(host_open(NULL, &h), 0);
	assert_false(h->is_tree);
	r = host_dump(h, d, err, sizeof(err));
	if (r < 0)
		fail_msg("host_dump: %d %s", r, err);
	host_free(h);
	b = snapshot_of(d);

	assert_system_equal(a, b);
	assert_irqs_equal(a, b);
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < a->n_tasks; i++)
		if (a->tasks[i].tgid == child) {
			const struct task_info *t = host_state_task(b, a->tasks[i].tid);
			assert_non_null(t);
			assert_task_equal(&a->tasks[i], t);
			na++;
		}
	for (size_t i = 0; i < b->n_tasks; i++)
		nb += b->tasks[i].tgid == child;
	assert_int_equal(na, nb);
	assert_true(na >= 1);
	/* kthreadd and init outlive the test */
	for (pid_t pid = 1; pid <= 2; pid++) {
		const struct task_info *x = host_state_task(a, pid), *y = host_state_task(b, pid);
		if (x) {
			assert_non_null(y);
			assert_string_equal(x->comm, y->comm);
			assert_string_equal(x->cmdline, y->cmdline);
			assert_int_equal(x->flags & HOST_PF_KTHREAD, y->flags & HOST_PF_KTHREAD);
		}
	}
	stop_child(child);
	host_state_free(a);
	host_state_free(b);
	rm_rf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_dump),
	    cmocka_unit_test(test_real_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
