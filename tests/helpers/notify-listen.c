/* notify-listen SOCKET UNTIL [TIMEOUT_S]: stand in for systemd's notify
 * socket. Binds a unix datagram socket at SOCKET (removed first, and at
 * exit), prints every assignment of every datagram it receives on its own
 * line ("READY=1", "STATUS=Holding dedicated (153 targets)"), closes any
 * file descriptors passed along, and exits 0 after printing a line that
 * contains UNTIL, or 1 when TIMEOUT_S (default 30) pass first. Output is
 * flushed after each datagram so a test can read it while it runs. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Close every fd that came with the datagram (FDSTORE=1 and the like). */
static void close_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)(void *)CMSG_DATA(c);

		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static char buf[65536];
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * 64)];
	} control;
	long long deadline;
	int fd, found = 0;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen SOCKET UNTIL [TIMEOUT_S]\n");
		return 2;
	}
	deadline = now_ms() + (argc == 4 ? atoll(argv[3]) : 30) * 1000;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "notify-listen: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while (!found) {
		long long left = deadline - now_ms();
		struct pollfd p = {fd, POLLIN, 0};
		struct iovec iov = {buf, sizeof(buf) - 1};
		struct msghdr mh = {
		    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "notify-listen: recvmsg: %s\n", strerror(errno));
			break;
		}
		close_fds(&mh);
		buf[n] = '\0';
		for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			puts(line);
			if (strstr(line, argv[2]))
				found = 1;
		}
		fflush(stdout);
	}
	unlink(argv[1]);
	if (!found)
		fprintf(stderr, "notify-listen: no \"%s\" within the timeout\n", argv[2]);
	return found ? 0 : 1;
}
