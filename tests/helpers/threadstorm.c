/* Threads and processes for the daemon's event tests.
 *
 *   threadstorm rename N       N threads, each renamed "CPU i/KVM" by the
 *                              creating thread right after pthread_create()
 *                              (as QEMU names its vCPU threads); prints
 *                              "ready PID" once all are named, then all
 *                              block until stdin is closed or SIGTERM
 *   threadstorm storm N NAME   N short-lived threads named NAME (each
 *                              names itself first), created and joined
 *                              one after the other as fast as possible;
 *                              prints N
 *   threadstorm exec N PATH    N times fork + exec PATH, waiting for each;
 *                              prints N
 *   threadstorm storm-mixed N NAME M KEEP
 *                              the storm of N threads named NAME, with M
 *                              long-lived threads named KEEP (each names
 *                              itself first) born evenly among them; prints
 *                              "ready PID" after the storm, then the M
 *                              block as in rename
 *
 * Exit status 0, 1 when something failed (the message says what), 2 on a
 * usage error. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

/* Threads that only block need little stack; many of them fit. */
#define STACK_SIZE (256 * 1024)

static void usage(void)
{
	fputs("usage: threadstorm rename N | storm N NAME | exec N PATH | storm-mixed N NAME M KEEP\n", stderr);
	exit(2);
}

static long count(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > 1000000)
		usage();
	return n;
}

static int gate[2]; /* the renamed threads block reading gate[0] */

static void *blocked_main(void *arg)
{
	char c;

	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	return arg;
}

/* SIGTERM is read from a signalfd; every thread inherits the block. */
static int setup_end(struct pollfd pfd[2])
{
	sigset_t mask;

	if (pipe(gate) < 0) {
		perror("threadstorm: pipe");
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	pfd[0] = (struct pollfd){.fd = signalfd(-1, &mask, SFD_CLOEXEC), .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
	if (pfd[0].fd < 0) {
		perror("threadstorm: signalfd");
		return -1;
	}
	return 0;
}

/* Print "ready PID", then wait for SIGTERM, or stdin at its end (or closed). */
static void wait_for_end(struct pollfd pfd[2])
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		char buf[256];

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents) {
			ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));

			if (k <= 0)
				break;
		}
	}
}

static int do_rename(long n)
{
	pthread_t *th = calloc(n, sizeof(*th));
	pthread_attr_t attr;
	struct pollfd pfd[2];
	long made = 0;
	int r, ret = 0;

	if (!th || setup_end(pfd) < 0) {
		free(th);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (; made < n; made++) {
		char name[32]; /* comm keeps 15 */

		r = pthread_create(&th[made], &attr, blocked_main, NULL);
		if (r) {
			fprintf(stderr, "threadstorm: thread %ld: %s\n", made, strerror(r));
			ret = 1;
			break;
		}
		snprintf(name, sizeof(name), "CPU %ld/KVM", made);
		r = pthread_setname_np(th[made], name);
		if (r) {
			fprintf(stderr, "threadstorm: naming thread %ld: %s\n", made, strerror(r));
			made++;
			ret = 1;
			break;
		}
	}
	if (ret == 0)
		wait_for_end(pfd);
	close(gate[1]);
	for (long i = 0; i < made; i++)
		pthread_join(th[i], NULL);
	free(th);
	return ret;
}

static const char *storm_name;

static void *short_main(void *arg)
{
	prctl(PR_SET_NAME, storm_name, 0, 0, 0);
	return arg;
}

static int do_storm(long n, const char *name)
{
	pthread_attr_t attr;

	storm_name = name;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (long i = 0; i < n; i++) {
		pthread_t th;
		int r = pthread_create(&th, &attr, short_main, NULL);

		if (r) {
			fprintf(stderr, "threadstorm: thread %ld: %s\n", i, strerror(r));
			return 1;
		}
		pthread_join(th, NULL);
	}
	printf("%ld\n", n);
	return 0;
}

static const char *keep_name;

static void *keep_main(void *arg)
{
	prctl(PR_SET_NAME, keep_name, 0, 0, 0);
	return blocked_main(arg);
}

static int do_storm_mixed(long n, const char *name, long m, const char *keep)
{
	pthread_t *th = calloc(m, sizeof(*th));
	pthread_attr_t attr;
	struct pollfd pfd[2];
	long made = 0, every = n / (m + 1) + 1;
	int r, ret = 0;

	if (!th || setup_end(pfd) < 0) {
		free(th);
		return 1;
	}
	storm_name = name;
	keep_name = keep;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (long i = 0; i < n && ret == 0; i++) {
		pthread_t t;

		if (made < m && i % every == every - 1) {
			r = pthread_create(&th[made], &attr, keep_main, NULL);
			if (r == 0)
				made++;
		} else {
			r = pthread_create(&t, &attr, short_main, NULL);
			if (r == 0)
				pthread_join(t, NULL);
		}
		if (r) {
			fprintf(stderr, "threadstorm: thread %ld: %s\n", i, strerror(r));
			ret = 1;
		}
	}
	for (; made < m && ret == 0; made++) {
		r = pthread_create(&th[made], &attr, keep_main, NULL);
		if (r) {
			fprintf(stderr, "threadstorm: thread: %s\n", strerror(r));
			ret = 1;
		}
	}
	if (ret == 0)
		wait_for_end(pfd);
	close(gate[1]);
	for (long i = 0; i < made; i++)
		pthread_join(th[i], NULL);
	free(th);
	return ret;
}

static int do_exec(long n, const char *path)
{
	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("threadstorm: fork");
			return 1;
		}
		if (pid == 0) {
			execl(path, path, (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0) {
			perror("threadstorm: waitpid");
			return 1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
			fprintf(stderr, "threadstorm: %s did not run\n", path);
			return 1;
		}
	}
	printf("%ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "rename") == 0)
		return do_rename(count(argv[2]));
	if (argc == 4 && strcmp(argv[1], "storm") == 0)
		return do_storm(count(argv[2]), argv[3]);
	if (argc == 6 && strcmp(argv[1], "storm-mixed") == 0)
		return do_storm_mixed(count(argv[2]), argv[3], count(argv[4]), argv[5]);
	if (argc == 4 && strcmp(argv[1], "exec") == 0)
		return do_exec(count(argv[2]), argv[3]);
	usage();
}
