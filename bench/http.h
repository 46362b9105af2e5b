/* --workload http (http.c): the RT service is a real lighttpd serving a
 * small static file in the server side of the bench's network, the client
 * a real httperf on the client side at a fixed connection rate, as the
 * research this project comes from measured a 2-vCPU web server. */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <stddef.h>

#include "result.h"

struct bench;

/* The page lighttpd serves, 1 KiB. */
#define BENCH_HTTP_URI "/index.html"
/* The port lighttpd listens on, inside the bench's private namespace. */
#define BENCH_HTTP_PORT 8080
/* The programs, and the Debian packages that have them. */
#define BENCH_HTTP_SERVER "lighttpd"
#define BENCH_HTTP_CLIENT "httperf"

/* httperf's report (its stdout) into ret: 0, or -EINVAL when the lines
 * every run prints ("Total:", "Connection time [ms]: min") are missing. */
int bench_http_parse(const char *out, struct bench_http *ret);

/* The rounds of one mode as one: counts summed; min the least, max the
 * greatest; means weighted by connections; the standard deviation pooled
 * from the rounds' means and deviations; the median the median of the
 * rounds' medians (httperf gives no more); rates averaged. */
void bench_http_combine(const struct bench_round *rounds, size_t n, struct bench_http *ret);

/* lighttpd's configuration and files written to a directory of the bench's
 * own, lighttpd started (a child of the bench, so in its scope) and
 * answering. An exit status, errors printed. */
int bench_http_start(struct bench *b);
/* One httperf run of conns connections at the configured rate, on the
 * housekeeping CPUs, its report into ret. -1 after printing why. */
int bench_http_run(struct bench *b, unsigned conns, struct bench_http *ret);
/* lighttpd stopped (program.c's bench_server_stop), the directory
 * removed. */
void bench_http_stop(struct bench *b);

#endif
