/* The bench's outputs, all from one struct bench_result: the comparison
 * table (table.c), the --json document (json.c), --csv (csv.c) and the
 * --plot SVG (svg.c). Nothing here measures or changes the host. */
#ifndef BENCH_OUTPUT_H
#define BENCH_OUTPUT_H

#include <stdio.h>
#include <json-c/json.h>

#include "result.h"

/* The comparison table for people (stdout of isoctl bench). */
void bench_print_table(FILE *f, const struct bench_result *r);
/* The document of --json (schema: tests/data/bench.schema.json). */
json_object *bench_json(const struct bench_result *r);
/* --csv: a header line, then one line per mode and probe. */
void bench_print_csv(FILE *f, const struct bench_result *r);
/* --plot FILE: the latency distributions of the modes overlaid, one panel
 * per probe, log-scale counts; standalone SVG. -errno with err set. */
int bench_write_svg(const char *path, const struct bench_result *r, char *err, size_t errlen);

/* For the SVGs (svg.c, runs.c): s as SVG text or attribute value, and
 * the i-th colour of the palette every plot uses. */
struct sbuf;
void bench_svg_text(struct sbuf *b, const char *s);
const char *bench_svg_colour(size_t i);

#endif
