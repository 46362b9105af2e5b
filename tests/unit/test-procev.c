/* Unit tests of the proc connector (daemon/procev.c). The parser and the
 * batch are fed synthetic connector messages (this file includes procev.c to
 * reach them); then the live connector of this kernel, as root: a thread
 * named "CPU 7/KVM" and an exec'd child reach holder_threads(), and a thread
 * storm against a tiny receive buffer overflows it, which must end in
 * holder_rescan() with the socket still working after. The holder and the
 * log are stubs that record. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "procev.c"

/* ---- stubs: the holder records, the log prints ---- */

static struct {
	struct thread_ref *refs; /* every ref of every call, in order */
	size_t n, cap;
	unsigned calls, rescans;
	bool duplicate; /* a call carried the same tid twice */
	char why[128];
} rec;

static int fake_holder;
#define HOLDER ((struct holder *)&fake_holder)

static void rec_reset(void)
{
	free(rec.refs);
	memset(&rec, 0, sizeof(rec));
}

void holder_threads(struct holder *h, const struct thread_ref *refs, size_t n)
{
	assert_ptr_equal(h, HOLDER);
	assert_true(n > 0);
	rec.calls++;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (refs[j].tid == refs[i].tid)
				rec.duplicate = true;
		if (rec.n == rec.cap) {
			rec.cap = rec.cap ? 2 * rec.cap : 1024;
			rec.refs = realloc(rec.refs, rec.cap * sizeof(*rec.refs));
			assert_non_null(rec.refs);
		}
		rec.refs[rec.n++] = refs[i];
	}
}

void holder_rescan(struct holder *h, const char *why)
{
	assert_ptr_equal(h, HOLDER);
	rec.rescans++;
	snprintf(rec.why, sizeof(rec.why), "%s", why);
}

void holder_devices_changed(struct holder *h, const char *why)
{
	(void)h;
	fail_msg("holder_devices_changed(%s) from procev", why);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	(void)fields;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int log_errno(int priority, int r, const char *fmt, ...)
{
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-r));
	return r;
}

static bool rec_has(pid_t tgid, pid_t tid)
{
	for (size_t i = 0; i < rec.n; i++)
		if (rec.refs[i].tgid == tgid && rec.refs[i].tid == tid)
			return true;
	return false;
}

/* ---- synthetic messages, laid out as the kernel sends them ---- */

struct msgbuf {
	_Alignas(8) unsigned char b[8192];
	int len;
};

/* Append one connector message carrying ev (cn_len bytes of it); idx and
 * declared length can be spoiled to test the checks. */
static void put_raw(struct msgbuf *m, const struct proc_event *ev, size_t cn_len, uint32_t idx, size_t declared)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(m->b + m->len);
	struct cn_msg *cn = NLMSG_DATA(nh);

	assert_true(m->len + NLMSG_SPACE(sizeof(*cn) + cn_len) <= sizeof(m->b));
	memset(nh, 0, NLMSG_SPACE(sizeof(*cn) + cn_len));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + cn_len);
	nh->nlmsg_type = NLMSG_DONE;
	cn->id.idx = idx;
	cn->id.val = CN_VAL_PROC;
	cn->len = declared;
	memcpy(cn->data, ev, cn_len);
	m->len += NLMSG_ALIGN(nh->nlmsg_len);
}

static void put(struct msgbuf *m, uint32_t what, pid_t tgid, pid_t tid)
{
	struct proc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.what = what;
	switch (what) {
	case PROC_EVENT_FORK:
		ev.event_data.fork.parent_pid = ev.event_data.fork.parent_tgid = 1;
		ev.event_data.fork.child_tgid = tgid;
		ev.event_data.fork.child_pid = tid;
		break;
	case PROC_EVENT_EXEC:
		ev.event_data.exec.process_tgid = tgid;
		ev.event_data.exec.process_pid = tid;
		break;
	case PROC_EVENT_COMM:
		ev.event_data.comm.process_tgid = tgid;
		ev.event_data.comm.process_pid = tid;
		memcpy(ev.event_data.comm.comm, "CPU 1/KVM", 10);
		break;
	case PROC_EVENT_EXIT:
		ev.event_data.exit.process_tgid = tgid;
		ev.event_data.exit.process_pid = tid;
		break;
	default:
		ev.event_data.id.process_tgid = tgid;
		ev.event_data.id.process_pid = tid;
		break;
	}
	put_raw(m, &ev, sizeof(ev), CN_IDX_PROC, sizeof(ev));
}

static struct procev *fake_procev(void)
{
	struct procev *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->holder = HOLDER;
	rec_reset();
	return p;
}

static void feed(struct procev *p, struct msgbuf *m)
{
	procev_parse(p, m->b, m->len);
	procev_flush(p);
	m->len = 0;
}

/* ---- the parser and the batch ---- */

static void test_batch_kinds(void **state)
{
	struct procev *p = fake_procev();
	struct msgbuf m = {.len = 0};

	(void)state;
	/* A thread created and named, a process exec'd: one call, each tid
	 * once, sorted by tid. */
	put(&m, PROC_EVENT_FORK, 100, 101);
	put(&m, PROC_EVENT_COMM, 100, 101);
	put(&m, PROC_EVENT_EXEC, 200, 200);
	put(&m, PROC_EVENT_COMM, 50, 50);
	feed(p, &m);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.n, 3);
	assert_false(rec.duplicate);
	assert_int_equal(rec.refs[0].tid, 50);
	assert_int_equal(rec.refs[1].tgid, 100);
	assert_int_equal(rec.refs[1].tid, 101);
	assert_int_equal(rec.refs[2].tgid, 200);
	assert_int_equal(rec.refs[2].tid, 200);
	assert_int_equal(p->events, 4);
	assert_int_equal(rec.rescans, 0);
	free(p);
}

static void test_batch_exits(void **state)
{
	struct procev *p = fake_procev();
	struct msgbuf m = {.len = 0};

	(void)state;
	/* Born and gone in one batch: not delivered at all. */
	put(&m, PROC_EVENT_FORK, 100, 102);
	put(&m, PROC_EVENT_COMM, 100, 102);
	put(&m, PROC_EVENT_EXIT, 100, 102);
	feed(p, &m);
	assert_int_equal(rec.calls, 0);

	/* A tid gone and reused in the same batch: the new thread counts,
	 * with its own tgid. An exit alone is nothing. */
	put(&m, PROC_EVENT_FORK, 100, 103);
	put(&m, PROC_EVENT_EXIT, 100, 103);
	put(&m, PROC_EVENT_FORK, 300, 103);
	put(&m, PROC_EVENT_EXIT, 400, 404);
	feed(p, &m);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.refs[0].tgid, 300);
	assert_int_equal(rec.refs[0].tid, 103);
	free(p);
}

static void test_batch_ignored(void **state)
{
	struct procev *p = fake_procev();
	struct msgbuf m = {.len = 0};
	struct proc_event ev;

	(void)state;
	/* Events we did not ask for, and an ack. */
	put(&m, PROC_EVENT_UID, 100, 100);
	put(&m, PROC_EVENT_SID, 100, 100);
	put(&m, PROC_EVENT_NONE, 0, 0);
	feed(p, &m);
	assert_int_equal(rec.calls, 0);
	assert_int_equal(p->events, 2);
	assert_int_equal(p->ignored, 2);

	/* Not the proc connector's index; a declared length past the end of
	 * the message; a fork event too short for its child. None is
	 * delivered, the good message after them is. */
	memset(&ev, 0, sizeof(ev));
	ev.what = PROC_EVENT_FORK;
	ev.event_data.fork.child_tgid = ev.event_data.fork.child_pid = 666;
	put_raw(&m, &ev, sizeof(ev), CN_IDX_PROC + 1, sizeof(ev));
	put_raw(&m, &ev, sizeof(ev), CN_IDX_PROC, sizeof(ev) + 1);
	put_raw(&m, &ev, offsetof(struct proc_event, event_data) + 8, CN_IDX_PROC,
		offsetof(struct proc_event, event_data) + 8);
	put(&m, PROC_EVENT_EXEC, 700, 700);
	feed(p, &m);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.refs[0].tid, 700);

	/* A message whose netlink length overruns the datagram stops the
	 * walk, it is not read past. */
	put(&m, PROC_EVENT_EXEC, 800, 800);
	((struct nlmsghdr *)m.b)->nlmsg_len = m.len + 4;
	feed(p, &m);
	assert_false(rec_has(800, 800));
	free(p);
}

static void test_batch_full(void **state)
{
	struct procev *p = fake_procev();
	struct msgbuf m = {.len = 0};
	const int n = PROCEV_DRAIN_MAX + 10;

	(void)state;
	/* More events than a batch holds: delivered in two calls, none lost. */
	for (int i = 0; i < n; i++) {
		put(&m, PROC_EVENT_FORK, 1000, 1000 + i);
		procev_parse(p, m.b, m.len);
		m.len = 0;
	}
	procev_flush(p);
	assert_int_equal(rec.calls, 2);
	assert_int_equal(rec.n, n);
	for (int i = 0; i < n; i++)
		assert_true(rec_has(1000, 1000 + i));
	free(p);
}

/* ---- the live connector ---- */

struct named_thread {
	pthread_t th;
	int fds[2]; /* the thread blocks on fds[0] until fds[1] is closed */
	int ready[2];
	pid_t tid;
};

static void *named_main(void *arg)
{
	struct named_thread *t = arg;
	char c;

	t->tid = gettid();
	/* As QEMU's vCPU threads do, before anyone could have seen them. */
	prctl(PR_SET_NAME, "CPU 7/KVM", 0, 0, 0);
	if (write(t->ready[1], "r", 1) != 1)
		return NULL;
	while (read(t->fds[0], &c, 1) > 0)
		;
	return NULL;
}

static void named_start(struct named_thread *t)
{
	char c;

	assert_int_equal(pipe(t->fds), 0);
	assert_int_equal(pipe(t->ready), 0);
	assert_int_equal(pthread_create(&t->th, NULL, named_main, t), 0);
	assert_int_equal(read(t->ready[0], &c, 1), 1);
}

static void named_stop(struct named_thread *t)
{
	close(t->fds[1]);
	assert_int_equal(pthread_join(t->th, NULL), 0);
	close(t->fds[0]);
	close(t->ready[0]);
	close(t->ready[1]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A generous deadline, not a timing assertion: the events are in the
 * socket already, the loop only has to read them. */
#define DEADLINE 30.0

static struct procev *live_start(sd_event **ret_ev, int rcvbuf)
{
	struct procev *p = NULL;
	int r;

	assert_int_equal(sd_event_new(ret_ev), 0);
	r = procev_start(*ret_ev, HOLDER, rcvbuf, &p);
	if (r < 0)
		fail_msg("procev_start: %s (the test runs as root: the proc connector must be usable)", strerror(-r));
	rec_reset();
	return p;
}

static void test_live_thread_and_exec(void **state)
{
	struct named_thread t;
	sd_event *ev;
	struct procev *p = live_start(&ev, 0);
	unsigned long long events, overflows;
	pid_t child;
	int status;
	double end;

	(void)state;
	named_start(&t);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	end = now() + DEADLINE;
	while (!(rec_has(getpid(), t.tid) && rec_has(child, child)) && now() < end)
		assert_true(sd_event_run(ev, 100 * 1000) >= 0);
	assert_true(rec_has(getpid(), t.tid));
	assert_true(rec_has(child, child));
	assert_false(rec.duplicate);
	procev_counters(p, &events, &overflows);
	assert_true(events >= 3); /* fork and comm of the thread, fork and exec of the child */
	named_stop(&t);
	procev_free(p);
	sd_event_unref(ev);
}

static void *short_main(void *arg)
{
	return arg;
}

static void test_live_overflow(void **state)
{
	struct named_thread t;
	sd_event *ev;
	struct procev *p = live_start(&ev, 1024);
	unsigned long long events, overflows;
	double end, next;

	(void)state;
	/* A storm while the loop is not running: the tiny queue overflows. */
	for (int i = 0; i < 5000; i++) {
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, short_main, NULL), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
	}
	end = now() + DEADLINE;
	while (rec.rescans == 0 && now() < end)
		assert_true(sd_event_run(ev, 100 * 1000) >= 0);
	assert_true(rec.rescans >= 1);
	assert_string_equal(rec.why, "proc connector overflow: events lost");
	procev_counters(p, &events, &overflows);
	assert_true(overflows >= 1);

	/* And the socket goes on: a named thread still arrives. Other
	 * processes may overflow the tiny queue again, so it renames itself
	 * until seen. */
	named_start(&t);
	end = now() + DEADLINE;
	next = now() + 0.5;
	while (!rec_has(getpid(), t.tid) && now() < end) {
		assert_true(sd_event_run(ev, 100 * 1000) >= 0);
		if (now() > next) {
			assert_int_equal(pthread_setname_np(t.th, "CPU 8/KVM"), 0);
			next = now() + 0.5;
		}
	}
	assert_true(rec_has(getpid(), t.tid));
	named_stop(&t);
	procev_free(p);
	sd_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_kinds),		 cmocka_unit_test(test_batch_exits),
	    cmocka_unit_test(test_batch_ignored),	 cmocka_unit_test(test_batch_full),
	    cmocka_unit_test(test_live_thread_and_exec), cmocka_unit_test(test_live_overflow),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	rec_reset();
	return r;
}
