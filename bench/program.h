/* The real programs of a workload (program.c): a server on the server side
 * of the bench's network, a child of the bench and so in its scope, and a
 * client run once per window on the client side, pinned to the
 * housekeeping CPUs at nice -20 (no mode governs it: it is started after
 * the apply), its report captured. --workload http (lighttpd, httperf) and
 * --workload memcached (memcached, memaslap) share them. */
#ifndef BENCH_PROGRAM_H
#define BENCH_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bench;

/* The client's nice value, ahead of the load on the housekeeping CPUs. */
#define BENCH_CLIENT_NICE (-20)

/* The server argv[0] started on the server side (stdout and stderr the
 * bench's), named for messages, then awaited until a TCP connection to
 * port from the client side succeeds (10 s). An exit status, errors
 * printed; b->server_pid is set from the fork on. */
int bench_server_start(struct bench *b, const char *name, char *const argv[], int port);
/* The server has exited: -1 after printing why (with the last line of
 * b->server_log, when it has one). */
int bench_server_alive(struct bench *b);
/* The server stopped: SIGTERM, SIGKILL after 2 s. */
void bench_server_stop(struct bench *b);

/* The client argv[0] run to its end on the client side, its stdout and
 * stderr into *ret_out (NUL-terminated, freed by the caller); killed at
 * timeout_s, on a signal of the bench's or when the server or a measured
 * process ends. 0, or -1 after printing why (a failed exit's status and
 * last line). */
int bench_client_run(struct bench *b, const char *name, char *const argv[], double timeout_s, char **ret_out);

/* The last line of text that is not empty, for a message; "" if none. */
void bench_last_line(const char *text, char *buf, size_t len);

#endif
