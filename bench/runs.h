/* isoctl bench compare (runs.c): saved runs side by side. */
#ifndef BENCH_RUNS_H
#define BENCH_RUNS_H

#include <stdio.h>
#include <json-c/json.h>

/* A run saved by --output (or printed by --json) read from path: 0, or
 * -EINVAL with err naming the file and why. */
int bench_runs_load(const char *path, json_object **ret, char *err, size_t errlen);

/* The table of n runs (n >= 2), labelled by their paths: a header per
 * run (host, workload, duration, load), a warning per configuration key
 * that differs from the first run's, then per figure one row a mode and
 * one against run 1. Returns how many warnings it printed, or -ENOMEM. */
int bench_runs_print(FILE *f, char *const *paths, json_object **docs, size_t n);

/* The same runs as a standalone SVG: a panel per figure, a bar per mode
 * and run, the runs' colours in a legend with their files and hosts.
 * NULL: out of memory. */
char *bench_runs_svg(char *const *paths, json_object **docs, size_t n);

#endif
