/* Unit tests of isoctl bench's output (bench/table.c, json.c, csv.c, svg.c,
 * compare.c) on a result built from known samples: the table's numbers and
 * relative rows, the JSON against tests/data/bench.schema.json (and the
 * schema against broken documents, so it is not vacuous), the CSV's shape,
 * the SVG's structure and its atomic write, bench_rel's edge cases.
 *
 * The samples are values that are the highest of their histogram bucket
 * (10239 ns = 160 * 64 - 1, ...), so every percentile is exact and the
 * relative changes are the round numbers written below. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "compare.h"
#include "http.h"
#include "memcached.h"
#include "runs.h"
#include "output.h"
#include "isolated/util.h"

#define PY "/usr/bin/python3"

struct sample {
	uint64_t ns, n;
};

static void fill(struct bench_probe_result *p, const struct sample *s, size_t n, uint64_t lost)
{
	hist_init(&p->hist);
	for (size_t i = 0; i < n; i++)
		hist_record_n(&p->hist, s[i].ns, s[i].n);
	p->lost = lost;
}

#define FILL(p, set, lost) fill(p, set, ARRAY_SIZE(set), lost)

/* wakeup: vanilla p50 10.2 µs, p99 102.4; dedicated p50 5.1 (-50%), p99 30.7
 * (-70%), stddev 9.6 -> 2.7 (-72%); rt-only in between. */
static const struct sample wake_vanilla[] = {{10239, 989}, {102399, 11}};
static const struct sample wake_dedicated[] = {{5119, 989}, {30719, 11}};
static const struct sample wake_rtonly[] = {{8191, 990}, {51199, 10}};
/* NetRT: vanilla p50 41.0, p99 81.9, p99.9 204.8; dedicated -50%, -50%, -70%;
 * rt-only has no samples. */
static const struct sample net_vanilla[] = {{40959, 500}, {81919, 490}, {204799, 10}};
static const struct sample net_dedicated[] = {{20479, 500}, {40959, 490}, {61439, 10}};
static const struct sample cal_wake[] = {{2047, 1000}};
static const struct sample cal_net[] = {{16383, 100}};

static double *per_cpu(double a, double b)
{
	double *v = calloc(2, sizeof(*v));

	assert_non_null(v);
	v[0] = a;
	v[1] = b;
	return v;
}

/* The result the tests print; bench_result_free frees it (ASan's leak check
 * proves it frees everything). */
/* Occurrences of needle in s[0..n). */
static int count_in(const char *s, size_t n, const char *needle)
{
	int k = 0;
	size_t l = strlen(needle);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(s + i, needle, l) == 0)
			k++;
	return k;
}

static struct bench_result *make_result(void)
{
	struct bench_result *r = calloc(1, sizeof(*r));
	struct bench_mode_result *m;

	assert_non_null(r);
	r->cfg = (struct bench_config){
	    .scope = strdup("process:4242"),
	    .rt_cpus = strdup("1"),
	    .housekeeping_cpus = strdup("0"),
	    .rt_vm = strdup("isobench-4242"),
	    .probe_tool = "isolated",
	    .net = "veth",
	    .load_cpu = true,
	    .load_net = true,
	    .n_hogs = 2,
	    .interval_us = 1000,
	    .netrt_min_us = 1000,
	    .netrt_max_us = 10000,
	    .duration_s = 20,
	    .warmup_s = 2,
	    .calibration_s = 5,
	    .kernel = strdup("6.18.0-test"),
	    .online_cpus = 2,
	};
	assert_int_equal(strv_push_dup(&r->cfg.held_back, "kernel.sched_rt_runtime_us: left as it is in the "
							  "process scope (the probes never run long enough to be "
							  "throttled)"),
			 0);
	FILL(&r->calibration[BENCH_WAKEUP], cal_wake, 0);
	FILL(&r->calibration[BENCH_NETRT], cal_net, 0);
	r->clock_read_ns = 20.4;
	r->record_ns = 4.6;

	r->n_modes = 3;
	r->modes = m = calloc(3, sizeof(*m));
	assert_non_null(m);
	m[0] = (struct bench_mode_result){.mode = strdup("vanilla"),
					  .measured_s = 20.001,
					  .stream_MBps = 1000,
					  .hog_ops = 400e6,
					  .cpu_util = 99,
					  .cpu_util_per_cpu = per_cpu(98, 100),
					  .n_cpus = 2};
	FILL(&m[0].probe[BENCH_WAKEUP], wake_vanilla, 3);
	FILL(&m[0].probe[BENCH_NETRT], net_vanilla, 0);
	m[1] = (struct bench_mode_result){.mode = strdup("dedicated"),
					  .measured_s = 20.002,
					  .stream_MBps = 600,
					  .hog_ops = 300e6,
					  .cpu_util = 60,
					  .cpu_util_per_cpu = per_cpu(20, 100),
					  .n_cpus = 2,
					  .n_changed = 37};
	FILL(&m[1].probe[BENCH_WAKEUP], wake_dedicated, 0);
	FILL(&m[1].probe[BENCH_NETRT], net_dedicated, 1);
	m[2] = (struct bench_mode_result){.mode = strdup("rt-only"),
					  .measured_s = 19.5,
					  .stream_MBps = 900,
					  .hog_ops = 400e6,
					  .cpu_util = 95,
					  .cpu_util_per_cpu = per_cpu(90, 100),
					  .n_cpus = 2,
					  .n_changed = 5};
	FILL(&m[2].probe[BENCH_WAKEUP], wake_rtonly, 0);
	hist_init(&m[2].probe[BENCH_NETRT].hist);
	return r;
}

static void free_result(struct bench_result *r)
{
	bench_result_free(r);
	free(r);
}

static char *capture(void (*fn)(FILE *, const struct bench_result *), const struct bench_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, r);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* A line of text equal to want once runs of blanks are one space (the
 * columns' widths are not what these tests are about). */
static bool has_line(const char *text, const char *want)
{
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		size_t k = 0;

		for (size_t i = 0; i < n && k + 1 < sizeof(line); i++) {
			if (p[i] == ' ' && (k == 0 || line[k - 1] == ' '))
				continue;
			line[k++] = p[i];
		}
		while (k && line[k - 1] == ' ')
			k--;
		line[k] = '\0';
		if (strcmp(line, want) == 0)
			return true;
		p += n + (e ? 1 : 0);
	}
	return false;
}

#define assert_line(text, want)                                                                                        \
	do {                                                                                                           \
		if (!has_line(text, want))                                                                             \
			fail_msg("no line \"%s\" in:\n%s", want, text);                                                \
	} while (0)

static void test_rel(void **state)
{
	(void)state;
	assert_true(fabs(bench_rel(100, 30) - -70) < 1e-9);
	assert_true(fabs(bench_rel(100, 105) - 5) < 1e-9);
	assert_true(fabs(bench_rel(100, 0) - -100) < 1e-9);
	assert_true(bench_rel(7, 7) == 0);
	assert_true(isnan(bench_rel(0, 5))); /* nothing to compare against */
	assert_true(isnan(bench_rel(0, 0)));
	assert_true(isnan(bench_rel(-1, 5))); /* a load that was off */
	assert_true(isnan(bench_rel(5, -1)));
	assert_true(isnan(bench_rel(NAN, 5)));
	assert_true(isnan(bench_rel(5, NAN)));
	assert_true(isnan(bench_rel(INFINITY, 5)));
	assert_string_equal(bench_probe_name[BENCH_WAKEUP], "wakeup");
	assert_string_equal(bench_probe_name[BENCH_NETRT], "netrt");
	assert_string_equal(bench_probe_title[BENCH_NETRT], "NetRT round trip");
}

static void test_table(void **state)
{
	struct bench_result *r = make_result();
	char *t = capture(bench_print_table, r);

	(void)state;
	fputs(t, stdout);
	/* what ran */
	assert_non_null(strstr(t, "isoctl bench: vanilla, dedicated, rt-only; 20 s per mode after 2 s warm-up\n"));
	assert_line(t, "load 2 CPU hogs + TCP stream over veth");
	assert_line(t, "CPUs RT 1, housekeeping 0; scope process:4242 (as VM isobench-4242)");
	assert_line(t, "probes wakeup every 1000 µs (isolated); NetRT every 1000..10000 µs over veth");
	/* wrapped at a blank to 100 columns */
	assert_line(t,
		    "held back kernel.sched_rt_runtime_us: left as it is in the process scope (the probes never run");
	assert_line(t, "long enough to be throttled)");
	assert_line(t, "calibration probes alone, no load, no mode, 5 s; clock read 20 ns, record 5 ns");
	assert_line(t, "wakeup p50 2.0 p99 2.0 µs; NetRT p50 16.4 p99 16.4 µs");
	assert_line(t, "modes values changed: vanilla 0, dedicated 37, rt-only 5");

	/* wakeup: means 11.3 / 5.4 / 8.6 µs, stddev 9.6 / 2.7 / 4.3 */
	assert_non_null(strstr(t, "\nwakeup latency, µs\n"));
	assert_line(t, "mode samples mean p50 p99 p99.9 max stddev lost");
	assert_line(t, "vanilla 1000 11.3 10.2 102.4 102.4 102.4 9.6 3");
	assert_line(t, "dedicated 1000 5.4 5.1 30.7 30.7 30.7 2.7 0");
	assert_line(t, "vs vanilla -52% -50% -70% -70% -70% -72%");
	assert_line(t, "rt-only 1000 8.6 8.2 8.2 51.2 51.2 4.3 0");
	assert_line(t, "vs vanilla -23% -20% -92% -50% -50% -55%");

	/* NetRT: rt-only has no samples: "-" in its row and its relative row */
	assert_non_null(strstr(t, "\nNetRT round trip, µs\n"));
	assert_line(t, "vanilla 1000 62.7 41.0 81.9 204.8 204.8 24.9 0");
	assert_line(t, "dedicated 1000 30.9 20.5 41.0 61.4 61.4 10.6 1");
	assert_line(t, "vs vanilla -51% -50% -50% -70% -70% -57%");
	assert_line(t, "rt-only 0 - - - - - - 0");
	assert_line(t, "vs vanilla - - - - - -");

	/* the best-effort load and what the modes cost it */
	assert_line(t, "mode stream MB/s hog Mops/s CPU busy (per CPU)");
	assert_line(t, "vanilla 1000.0 400.0 99% 98/100%");
	assert_line(t, "dedicated 600.0 300.0 60% 20/100%");
	assert_line(t, "vs vanilla -40% -25%");
	assert_line(t, "rt-only 900.0 400.0 95% 90/100%");
	assert_line(t, "vs vanilla -10% 0%");
	/* 100 columns are enough */
	for (const char *p = t; *p;) {
		const char *e = strchr(p, '\n');

		size_t cols = 0;

		assert_non_null(e);
		for (const char *q = p; q < e; q++)
			cols += ((unsigned char)*q & 0xc0) != 0x80; /* UTF-8: "µ" is one column */
		if (cols > 100)
			fail_msg("longer than 100 columns: %.*s", (int)(e - p), p);
		p = e + 1;
	}
	free(t);

	/* A load that was off: "off", and no relative number for it. */
	r->cfg.load_net = false;
	for (size_t i = 0; i < r->n_modes; i++)
		r->modes[i].stream_MBps = -1;
	t = capture(bench_print_table, r);
	assert_line(t, "load 2 CPU hogs");
	assert_line(t, "vanilla off 400.0 99% 98/100%");
	assert_line(t, "vs vanilla - -25%");
	free(t);
	free_result(r);
}

/* A long mode name keeps the columns aligned: the header's "samples" ends
 * where every row's sample count ends. */
static void test_table_long_names(void **state)
{
	struct bench_result *r = make_result();
	char *t, *hdr, *row;

	(void)state;
	free(r->modes[0].mode);
	r->modes[0].mode = strdup("sixteen-chars-xy");
	t = capture(bench_print_table, r);
	hdr = strstr(t, "\nmode ");
	row = strstr(t, "\n  vs sixteen-chars-xy ");
	assert_non_null(hdr);
	assert_non_null(row);
	assert_int_equal(strstr(hdr, "samples") + 7 - hdr,
			 strstr(strstr(t, "\ndedicated "), "1000") + 4 - strstr(t, "\ndedicated "));
	assert_int_equal(strstr(hdr, " mean") + 5 - hdr, strstr(row, "%") + 1 - row);
	free(t);
	free_result(r);
}

/* Run python3 on a script with arguments; its exit status. */
static int run_py(const char *script, const char *a1, const char *a2)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		execl(PY, PY, "-c", script, a1, a2, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* 0 valid, 3 invalid; anything else (no jsonschema, a broken schema) is a
 * failure of the test itself. */
static const char validate_py[] = "import json, sys\n"
				  "import jsonschema\n"
				  "schema = json.load(open(sys.argv[1]))\n"
				  "doc = json.load(open(sys.argv[2]))\n"
				  "cls = jsonschema.validators.validator_for(schema)\n"
				  "cls.check_schema(schema)\n"
				  "errs = list(cls(schema).iter_errors(doc))\n"
				  "for e in errs: print('invalid:', e.json_path if hasattr(e, 'json_path') else "
				  "list(e.path), e.message[:200], file=sys.stderr)\n"
				  "sys.exit(3 if errs else 0)\n";

static char tmpdir[64];

static void tmp_path(char *buf, size_t len, const char *name)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "%s/test-bench-output.XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int validate(json_object *doc)
{
	char path[128];

	tmp_path(path, sizeof(path), "doc.json");
	assert_int_equal(json_object_to_file_ext(path, doc, JSON_C_TO_STRING_PLAIN), 0);
	return run_py(validate_py, TEST_DATADIR "/bench.schema.json", path);
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static double dget(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	assert_non_null(v);
	return json_object_get_double(v);
}

static void test_json(void **state)
{
	struct bench_result *r = make_result();
	json_object *doc = bench_json(r), *modes, *m, *p, *rel, *h;

	(void)state;
	assert_non_null(doc);
	assert_int_equal(validate(doc), 0);

	/* the numbers */
	assert_int_equal(json_object_get_int(jget(doc, "version")), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(jget(jget(doc, "config"), "load"), 1)),
			    "net");
	modes = jget(doc, "modes");
	assert_int_equal(json_object_array_length(modes), 3);
	m = json_object_array_get_idx(modes, 0);
	assert_true(json_object_is_type(jget(m, "relative"), json_type_null));
	p = jget(jget(m, "probes"), "wakeup");
	assert_int_equal(json_object_get_int64(jget(p, "samples")), 1000);
	assert_true(dget(p, "p99_us") == 102.399);
	assert_true(dget(p, "min_us") == 10.239);
	assert_true(dget(p, "mean_us") == 11.253);
	assert_int_equal(json_object_get_int64(jget(p, "lost")), 3);
	/* two non-empty buckets: [low, high, count] */
	h = jget(p, "histogram");
	assert_int_equal(json_object_array_length(h), 2);
	assert_true(json_object_get_double(json_object_array_get_idx(json_object_array_get_idx(h, 0), 1)) == 10.239);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(json_object_array_get_idx(h, 1), 2)), 11);
	assert_true(dget(jget(m, "load"), "hog_ops_per_s") == 400e6);
	assert_int_equal(json_object_array_length(jget(jget(m, "load"), "cpu_busy_pct_per_cpu")), 2);

	m = json_object_array_get_idx(modes, 1);
	rel = jget(m, "relative");
	assert_string_equal(json_object_get_string(jget(rel, "against")), "vanilla");
	assert_true(fabs(dget(jget(rel, "wakeup"), "p99_pct") - -70.0) < 0.05);
	assert_true(fabs(dget(rel, "stream_pct") - -40.0) < 1e-9);
	assert_int_equal(json_object_get_int64(jget(m, "changed")), 37);

	/* no samples: statistics and relative numbers are null */
	m = json_object_array_get_idx(modes, 2);
	p = jget(jget(m, "probes"), "netrt");
	assert_int_equal(json_object_get_int64(jget(p, "samples")), 0);
	assert_null(jget(p, "p99_us"));
	assert_int_equal(json_object_array_length(jget(p, "histogram")), 0);
	assert_null(jget(jget(jget(m, "relative"), "netrt"), "p99_pct"));
	json_object_put(doc);

	/* loads off: null throughput */
	r->cfg.load_net = false;
	r->cfg.load_cpu = false;
	for (size_t i = 0; i < r->n_modes; i++)
		r->modes[i].stream_MBps = r->modes[i].hog_ops = -1;
	doc = bench_json(r);
	m = json_object_array_get_idx(jget(doc, "modes"), 1);
	assert_null(jget(jget(m, "load"), "stream_MBps"));
	assert_null(jget(jget(m, "relative"), "hog_ops_pct"));
	assert_int_equal(json_object_array_length(jget(jget(doc, "config"), "load")), 0);
	assert_int_equal(validate(doc), 0);
	json_object_put(doc);
	free_result(r);
}

/* The schema is not vacuous: each of these breaks the document. */
static void test_schema_rejects(void **state)
{
	struct bench_result *r = make_result();
	json_object *doc, *m;

	(void)state;
	/* a required key missing */
	doc = bench_json(r);
	m = json_object_array_get_idx(jget(doc, "modes"), 1);
	json_object_object_del(jget(jget(m, "probes"), "wakeup"), "p99_us");
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);

	/* a wrong type */
	doc = bench_json(r);
	m = json_object_array_get_idx(jget(doc, "modes"), 0);
	json_object_object_add(jget(jget(m, "probes"), "netrt"), "samples", json_object_new_string("1000"));
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);

	/* a key the schema does not know */
	doc = bench_json(r);
	json_object_object_add(jget(doc, "config"), "typo", json_object_new_int(1));
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);

	/* no mode at all */
	doc = bench_json(r);
	json_object_object_add(doc, "modes", json_object_new_array());
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);

	/* the baseline with a relative row */
	doc = bench_json(r);
	m = json_object_array_get_idx(jget(doc, "modes"), 0);
	json_object_object_add(m, "relative",
			       json_object_get(jget(json_object_array_get_idx(jget(doc, "modes"), 1), "relative")));
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);

	/* a histogram entry that is not [low, high, count] */
	doc = bench_json(r);
	m = json_object_array_get_idx(jget(doc, "modes"), 0);
	json_object_array_add(json_object_array_get_idx(jget(jget(jget(m, "probes"), "wakeup"), "histogram"), 0),
			      json_object_new_int(1));
	assert_int_equal(validate(doc), 3);
	json_object_put(doc);
	free_result(r);
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void test_csv(void **state)
{
	struct bench_result *r = make_result();
	char *t = capture(bench_print_csv, r), *line, *save = NULL;
	size_t n = 0;

	(void)state;
	/* header + 2 calibration rows + 3 modes x 2 probes, 13 fields each */
	assert_int_equal(count_char(t, '\n'), 1 + 2 + 3 * 2);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		assert_int_equal(count_char(line, ','), 12);
		if (n == 0)
			assert_string_equal(line, "mode,probe,samples,mean_us,p50_us,p99_us,p999_us,max_us,stddev_us,"
						  "lost,stream_MBps,hog_ops_per_s,cpu_busy_pct");
		if (n == 1)
			assert_string_equal(line, "calibration,wakeup,1000,2.047,2.047,2.047,2.047,2.047,0.000,0,,,");
		if (n == 3)
			assert_string_equal(line, "vanilla,wakeup,1000,11.253,10.239,102.399,102.399,102.399,9.613,"
						  "3,1000.000,400000000,99.0");
		if (n == 8)
			assert_string_equal(line, "rt-only,netrt,0,,,,,,,0,900.000,400000000,95.0");
	}
	assert_int_equal(n, 9);
	free(t);

	/* RFC 4180 quoting, should a name ever need it */
	free(r->modes[2].mode);
	r->modes[2].mode = strdup("odd,\"name\"");
	t = capture(bench_print_csv, r);
	assert_non_null(strstr(t, "\n\"odd,\"\"name\"\"\",netrt,0,,,,,,,0,900.000,400000000,95.0\n"));
	free(t);
	free_result(r);
}

static char *read_file(const char *path)
{
	struct stat st;
	char *buf;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	buf[st.st_size] = '\0';
	fclose(f);
	return buf;
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* Entries of dir whose name starts with prefix ("" for all). */
static size_t dir_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !strncmp(e->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static void test_svg(void **state)
{
	struct bench_result *r = make_result();
	char path[128], err[256] = "", *svg, *wake, *net;
	struct stat st;

	(void)state;
	tmp_path(path, sizeof(path), "plot.svg");
	assert_int_equal(bench_write_svg(path, r, err, sizeof(err)), 0);
	assert_int_equal(run_py("import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])", path, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	svg = read_file(path);
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "href"));
	assert_null(strstr(svg, "@import"));
	/* two panels: wakeup then NetRT; one line per mode with samples in each */
	assert_non_null(strstr(svg, "<g class=\"panel\" id=\"wakeup\">"));
	net = strstr(svg, "<g class=\"panel\" id=\"netrt\">");
	assert_non_null(net);
	wake = strndup(svg, (size_t)(net - svg));
	assert_non_null(wake);
	assert_int_equal(count_str(wake, "<polyline class=\"mode\""), 3);
	assert_int_equal(count_str(wake, "<line class=\"p99\""), 3);
	assert_int_equal(count_str(wake, "<polyline class=\"calibration\""), 1);
	assert_non_null(strstr(wake, ">wakeup latency</text>"));
	assert_non_null(strstr(wake, ">isoctl bench: vanilla vs dedicated vs rt-only</text>"));
	assert_non_null(strstr(wake, "load: 2 CPU hogs + TCP stream over veth"));
	assert_non_null(strstr(wake, ">vanilla</text>"));
	assert_non_null(strstr(wake, ">p50 10.2 µs, p99 102.4 µs</text>"));
	assert_non_null(strstr(wake, ">p50 5.1 µs, p99 30.7 µs</text>"));
	assert_non_null(strstr(wake, ">wakeup latency, µs (log scale)</text>"));
	/* decade ticks covering 2 µs .. 102 µs */
	assert_non_null(strstr(wake, ">1</text>"));
	assert_non_null(strstr(wake, ">10</text>"));
	assert_non_null(strstr(wake, ">100</text>"));
	assert_non_null(strstr(wake, ">1000</text>"));
	assert_int_equal(count_str(net, "<polyline class=\"mode\""), 2); /* rt-only: no samples */
	assert_non_null(strstr(net, ">rt-only</text>"));
	assert_non_null(strstr(net, ">no samples</text>"));
	assert_non_null(strstr(net, ">p50 41.0 µs, p99 81.9 µs</text>"));
	free(wake);
	free(svg);

	/* Written again: replaced, no temporary file left. */
	assert_int_equal(bench_write_svg(path, r, err, sizeof(err)), 0);
	assert_int_equal(dir_entries(tmpdir, "plot.svg"), 1);
	free_result(r);
}

static void test_svg_errors(void **state)
{
	struct bench_result *r = make_result();
	char path[160], dir[128], err[256] = "";
	int ret;

	(void)state;
	/* a directory that does not exist */
	tmp_path(dir, sizeof(dir), "no-such-dir");
	snprintf(path, sizeof(path), "%s/plot.svg", dir);
	ret = bench_write_svg(path, r, err, sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(access(dir, F_OK), -1);

	/* a target that cannot be replaced (a directory): the temporary file
	 * is gone again */
	tmp_path(dir, sizeof(dir), "errs");
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/plot.svg", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	err[0] = '\0';
	ret = bench_write_svg(path, r, err, sizeof(err));
	assert_true(ret == -EISDIR || ret == -EEXIST || ret == -ENOTEMPTY);
	assert_non_null(strstr(err, "cannot write"));
	assert_int_equal(dir_entries(dir, ""), 1);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free_result(r);
}

/* Only the calibration and one mode, no NetRT at all (no network). */
static void test_minimal(void **state)
{
	struct bench_result r = {0};
	char *t, path[128], err[256];
	json_object *doc;

	(void)state;
	r.cfg.scope = strdup("host");
	r.cfg.rt_cpus = strdup("1");
	r.cfg.rt_vm = strdup("isobench-1");
	r.cfg.interval_us = 1000;
	r.cfg.duration_s = 1;
	r.cfg.online_cpus = 1;
	r.n_modes = 1;
	r.modes = calloc(1, sizeof(*r.modes));
	assert_non_null(r.modes);
	r.modes[0].mode = strdup("vanilla");
	r.modes[0].stream_MBps = r.modes[0].hog_ops = -1;
	FILL(&r.modes[0].probe[BENCH_WAKEUP], wake_vanilla, 0);
	hist_init(&r.modes[0].probe[BENCH_NETRT].hist);
	hist_init(&r.calibration[BENCH_WAKEUP].hist);
	hist_init(&r.calibration[BENCH_NETRT].hist);

	t = capture(bench_print_table, &r);
	assert_line(t, "load none");
	assert_null(strstr(t, "NetRT round trip"));
	assert_null(strstr(t, " vs "));
	assert_line(t, "wakeup no samples");
	free(t);
	doc = bench_json(&r);
	assert_int_equal(validate(doc), 0);
	json_object_put(doc);
	tmp_path(path, sizeof(path), "minimal.svg");
	assert_int_equal(bench_write_svg(path, &r, err, sizeof(err)), 0);
	assert_int_equal(run_py("import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])", path, NULL), 0);
	assert_int_equal(unlink(path), 0);
	bench_result_free(&r);
	assert_null(r.modes);
}

/* --rounds 5: five rounds a mode. dedicated's wakeup p99 is apart from
 * vanilla's, rt-only's overlaps it (noise, no mark); the throughputs the
 * same way. */
static void set_rounds(struct bench_mode_result *m, const double *p99_us, const double *stream, double hog)
{
	m->rounds = calloc(5, sizeof(*m->rounds));
	assert_non_null(m->rounds);
	m->n_rounds = 5;
	for (size_t i = 0; i < 5; i++) {
		m->rounds[i].stat[BENCH_WAKEUP][BENCH_STAT_P99] = (uint64_t)(p99_us[i] * 1000);
		m->rounds[i].stat[BENCH_NETRT][BENCH_STAT_P99] = 200000;
		m->rounds[i].stream_MBps = stream[i];
		m->rounds[i].hog_ops = hog + (double)i * 1e6;
	}
}

static void test_rounds(void **state)
{
	static const double van[] = {51, 88, 120, 133, 145}, ded[] = {30, 33, 35, 38, 40},
			    rto[] = {60, 100, 125, 140, 160};
	static const double s_van[] = {1000, 990, 1010, 1005, 995}, s_ded[] = {600, 610, 590, 605, 595},
			    s_rto[] = {990, 1000, 1012, 985, 1003};
	struct bench_result *r = make_result();
	json_object *doc, *modes;
	char *t;

	(void)state;
	r->cfg.rounds = 5;
	set_rounds(&r->modes[0], van, s_van, 400e6);
	set_rounds(&r->modes[1], ded, s_ded, 300e6);
	set_rounds(&r->modes[2], rto, s_rto, 400e6);
	t = capture(bench_print_table, r);
	assert_non_null(strstr(t, "\nover 5 rounds, the modes alternating: median [bootstrap 95% interval of the "
				  "median]; * apart from vanilla\n"));
	{
		const char *over = strstr(t, "\nover 5 rounds");
		const char *v = over ? strstr(over, "\nvanilla ") : NULL,
			   *d = over ? strstr(over, "\ndedicated ") : NULL;
		const char *o = over ? strstr(over, "\nrt-only ") : NULL;
		const char *de = d ? strchr(d + 1, '\n') : NULL, *oe = o ? strchr(o + 1, '\n') : NULL;

		assert_non_null(de);
		assert_non_null(oe);
		assert_non_null(v);
		assert_non_null(strstr(v, " 120.0 [51.0-145.0] "));
		assert_non_null(strstr(d, " 35.0 [30.0-40.0] *"));
		/* dedicated: wakeup, stream and hogs apart; NetRT the same */
		assert_int_equal(count_in(d, (size_t)(de - d), " *"), 3);
		/* rt-only: within the noise everywhere */
		assert_int_equal(count_in(o, (size_t)(oe - o), " *"), 0);
	}
	free(t);
	doc = bench_json(r);
	assert_int_equal(validate(doc), 0);
	modes = jget(doc, "modes");
	{
		json_object *sp = jget(jget(jget(json_object_array_get_idx(modes, 1), "spread"), "wakeup"), "p99_us");

		assert_true(json_object_get_boolean(jget(sp, "differs")));
		assert_true(dget(sp, "median") == 35);
		assert_true(json_object_get_boolean(jget(sp, "bootstrap")));
		sp = jget(jget(jget(json_object_array_get_idx(modes, 2), "spread"), "wakeup"), "p99_us");
		assert_false(json_object_get_boolean(jget(sp, "differs")));
		sp = jget(jget(jget(json_object_array_get_idx(modes, 0), "spread"), "wakeup"), "p99_us");
		assert_false(json_object_get_boolean(jget(sp, "differs")));
		assert_int_equal(json_object_array_length(jget(json_object_array_get_idx(modes, 0), "rounds")), 5);
		assert_int_equal(json_object_get_int(jget(jget(doc, "config"), "rounds")), 5);
	}
	json_object_put(doc);
	free_result(r);
}

/* httperf's own report (tests/data/httperf-60.txt, a real run), read as
 * the bench reads it. */
static void test_http_parse(void **state)
{
	struct bench_http h;
	char *out = NULL;
	size_t len = 0;
	FILE *f = fopen(TEST_DATADIR "/httperf-60.txt", "re");

	(void)state;
	assert_non_null(f);
	assert_int_equal(getdelim(&out, &len, '\0', f) > 0, 1);
	fclose(f);
	assert_int_equal(bench_http_parse(out, &h), 0);
	assert_true(h.ran);
	assert_int_equal(h.conns, 60);
	assert_int_equal(h.requests, 60);
	assert_int_equal(h.replies, 60);
	assert_int_equal(h.status_2xx, 60);
	assert_int_equal(h.errors, 0);
	assert_true(h.duration_s == 5.901);
	assert_true(h.conn_rate == 10.2);
	assert_true(h.conn_ms[HTTP_MIN] == 0.1 && h.conn_ms[HTTP_AVG] == 0.5 && h.conn_ms[HTTP_MAX] == 4.7 &&
		    h.conn_ms[HTTP_MEDIAN] == 0.5 && h.conn_ms[HTTP_STDDEV] == 0.7);
	assert_true(h.response_ms == 0.5 && h.transfer_ms == 0.0);
	assert_true(h.reply_rate[1] == 10.0);
	assert_int_equal(h.reply_rate_samples, 1);
	assert_true(h.cpu_pct == 99.3);
	/* errors counted by kind */
	{
		char *e = util_sprintf("%s", out), *at = strstr(e, "Errors: total 0 client-timo 0 socket-timo 0 "
								   "connrefused 0 connreset 0");

		assert_non_null(at);
		memcpy(at, "Errors: total 7 client-timo 4 socket-timo 0 connrefused 2 connreset 1", 70);
		assert_int_equal(bench_http_parse(e, &h), 0);
		assert_int_equal(h.errors, 7);
		assert_int_equal(h.client_timo, 4);
		assert_int_equal(h.connrefused, 2);
		assert_int_equal(h.connreset, 1);
		free(e);
	}
	/* a report without its totals is refused, not read as zeros */
	assert_int_equal(bench_http_parse("httperf: connection refused\n", &h), -EINVAL);
	*strstr(out, "Connection time [ms]: min") = 'c';
	assert_int_equal(bench_http_parse(out, &h), -EINVAL);
	free(out);
}

/* Two rounds as one: 10 connections each, means 1 and 3 ms with deviations
 * 1 and 1: the pooled deviation is sqrt((9 + 10 + 9 + 10) / 19). */
static void test_http_combine(void **state)
{
	struct bench_round r[3] = {0};
	struct bench_http c;

	(void)state;
	r[0].http = (struct bench_http){.ran = true,
					.conns = 10,
					.replies = 10,
					.errors = 1,
					.conn_rate = 9,
					.conn_ms = {0.5, 1, 2, 1, 1},
					.response_ms = 1};
	r[2].http = (struct bench_http){.ran = true,
					.conns = 10,
					.replies = 10,
					.errors = 2,
					.conn_rate = 11,
					.conn_ms = {0.2, 3, 9, 2, 1},
					.response_ms = 2};
	bench_http_combine(r, 3, &c); /* r[1] did not run */
	assert_true(c.ran);
	assert_int_equal(c.conns, 20);
	assert_int_equal(c.errors, 3);
	assert_true(c.conn_ms[HTTP_MIN] == 0.2 && c.conn_ms[HTTP_MAX] == 9);
	assert_true(c.conn_ms[HTTP_AVG] == 2 && c.response_ms == 1.5 && c.conn_rate == 10);
	assert_true(c.conn_ms[HTTP_MEDIAN] == 1.5);
	assert_true(fabs(c.conn_ms[HTTP_STDDEV] - sqrt(38.0 / 19)) < 1e-12);
	bench_http_combine(r, 1, &c);
	assert_true(c.conn_ms[HTTP_STDDEV] == 1 && c.conns == 10);
	bench_http_combine(&r[1], 1, &c);
	assert_false(c.ran);
}

/* --workload http: the table shows httperf's figures instead of the
 * probes', and --json and --csv carry them. */
static void test_http_output(void **state)
{
	struct bench_result *r = make_result();
	json_object *doc, *m1;
	char *t;

	(void)state;
	r->cfg.workload = "http";
	r->cfg.http_rate = 10;
	r->cfg.http_conns = 100;
	r->cfg.http_file = BENCH_HTTP_URI;
	r->cfg.rounds = 2;
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		hist_init(&r->calibration[p].hist);
		for (size_t i = 0; i < r->n_modes; i++)
			hist_init(&r->modes[i].probe[p].hist);
	}
	r->http_calibration =
	    (struct bench_http){.ran = true, .conns = 20, .replies = 20, .conn_ms = {0.1, 0.3, 3.1, 0.5, 0.7}};
	for (size_t i = 0; i < r->n_modes; i++) {
		struct bench_mode_result *m = &r->modes[i];
		double f = i == 1 ? 0.5 : 1;

		m->http = (struct bench_http){.ran = true,
					      .conns = 200,
					      .replies = 200,
					      .conn_rate = 10.1,
					      .conn_ms = {0.1, 2 * f, 40 * f, 1.5, 4 * f},
					      .response_ms = 1.8 * f};
		m->rounds = calloc(2, sizeof(*m->rounds));
		assert_non_null(m->rounds);
		m->n_rounds = 2;
		m->rounds[0].http = m->rounds[1].http = m->http;
		m->rounds[0].http.conns = m->rounds[1].http.conns = 100;
		m->rounds[0].stream_MBps = m->rounds[1].stream_MBps = m->stream_MBps;
		m->rounds[0].hog_ops = m->rounds[1].hog_ops = m->hog_ops;
	}
	t = capture(bench_print_table, r);
	assert_non_null(strstr(t, "workload     http: lighttpd (the RT service) serving /index.html (1 KiB) over "
				  "veth; httperf 100\n"));
	assert_non_null(strstr(t, "\nHTTP (httperf against lighttpd), connection time and reply time, ms\n"));
	assert_non_null(
	    strstr(t, "\ndedicated        200      0     0.1     1.0    20.0     1.5     2.0     0.9     10.1\n"));
	assert_non_null(strstr(t, "\n  vs vanilla                     0%    -50%    -50%      0%    -50%    -50%\n"));
	assert_null(strstr(t, "wakeup latency"));
	assert_non_null(strstr(t, "; scope process:4242 (lighttpd as rt_process)\n"));
	assert_non_null(strstr(t, "conn median ms"));
	free(t);
	doc = bench_json(r);
	assert_int_equal(validate(doc), 0);
	assert_string_equal(json_object_get_string(jget(jget(doc, "config"), "workload")), "http");
	assert_int_equal(json_object_get_int(jget(jget(jget(doc, "config"), "http"), "conns")), 100);
	m1 = json_object_array_get_idx(jget(doc, "modes"), 1);
	assert_true(dget(jget(m1, "http"), "conn_max_ms") == 20);
	assert_true(dget(jget(jget(m1, "relative"), "http"), "conn_max_ms_pct") == -50);
	assert_true(dget(jget(jget(jget(m1, "spread"), "http"), "conn_max_ms"), "median") == 20);
	assert_true(dget(jget(jget(doc, "calibration"), "http"), "conn_median_ms") == 0.5);
	json_object_put(doc);
	t = capture(bench_print_csv, r);
	{
		static const char head[] =
		    "mode,conns,replies,errors,conn_min_ms,conn_avg_ms,conn_max_ms,conn_median_ms,";

		assert_true(strncmp(t, head, strlen(head)) == 0);
	}
	assert_non_null(strstr(t, "\ndedicated,200,200,0,0.1,1.0,20.0,1.5,2.0,0.9,10.1,"));
	assert_int_equal(count_in(t, strlen(t), "\n"), 5);
	free(t);
	/* --plot: httperf's figures drawn, a row per mode, no probe panels */
	{
		char path[128], err[256], *svg = NULL;

		tmp_path(path, sizeof(path), "plot.svg");
		assert_int_equal(bench_write_svg(path, r, err, sizeof(err)), 0);
		assert_int_equal(util_read_at(AT_FDCWD, path, 1 << 20, &svg, NULL) >= 0, 1);
		assert_non_null(strstr(svg, "<g class=\"panel\" id=\"http\">"));
		assert_null(strstr(svg, "id=\"wakeup\""));
		assert_int_equal(count_in(svg, strlen(svg), "<g class=\"http-row\">"), 4);
		assert_non_null(strstr(svg,
				       "<title>dedicated: connection time min 0.1, median 1.5, avg 1.0, stddev 2.0, "
				       "max 20.0 ms</title>"));
		/* two rounds: each round's median and max marked */
		assert_int_equal(count_in(svg, strlen(svg), "<circle class=\"round\""), 6);
		free(svg);
	}
	free_result(r);
}

/* memaslap's own report (tests/data/memaslap-2s.txt, a real run), read as
 * the bench reads it: the final blocks, not the period tables before them. */
static void test_mc_parse(void **state)
{
	static const uint64_t get_dist[12] = {0, 0, 0, 41, 2579, 13718, 75919, 32739, 2091, 37, 71, 9};
	struct bench_mc_stats get, set;
	struct bench_memcached mc;
	char *out = NULL, *e;
	size_t len = 0;
	FILE *f = fopen(TEST_DATADIR "/memaslap-2s.txt", "re");

	(void)state;
	assert_non_null(f);
	assert_int_equal(getdelim(&out, &len, '\0', f) > 0, 1);
	fclose(f);
	assert_int_equal(bench_mc_parse(out, &get, &set, &mc), 0);
	assert_int_equal(get.events, 127204);
	assert_int_equal(get.min_us, 8);
	assert_int_equal(get.max_us, 1785);
	assert_int_equal(get.avg_us, 56);
	assert_true(get.std_us == 32.30);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(get.dist[i], i < 12 ? get_dist[i] : 0);
	assert_int_equal(set.events, 14136);
	assert_int_equal(set.max_us, 970);
	assert_int_equal(set.dist[7], 3337);
	assert_int_equal(set.dist[10], 28);
	assert_int_equal(set.dist[11], 0);
	assert_true(mc.ran);
	assert_int_equal(mc.ops, 141344);
	assert_true(mc.ops_per_s == 70662 && mc.run_s == 2.0);
	assert_int_equal(mc.gets, 127208);
	assert_int_equal(mc.sets, 14136);
	assert_int_equal(mc.get_misses, 0);
	/* without its final blocks (memaslap killed early) it is refused */
	e = util_sprintf("%s", out);
	*strstr(e, "Set Statistics (") = 's';
	assert_int_equal(bench_mc_parse(e, &get, &set, &mc), -EINVAL);
	free(e);
	assert_int_equal(bench_mc_parse("memaslap: connection refused\n", &get, &set, &mc), -EINVAL);
	free(out);
}

/* The power-of-two buckets into a histogram: the percentiles are the tops
 * of the buckets they fall in, the maximum's bucket ends at the maximum,
 * count, min, max and mean memaslap's. */
static void test_mc_hist(void **state)
{
	struct bench_mc_stats s = {.events = 100, .min_us = 5, .max_us = 300, .avg_us = 40, .std_us = 30};
	struct bench_round rd[2] = {0};
	struct bench_memcached c;
	struct hist h;
	struct hist_stats st;

	(void)state;
	s.dist[3] = 10; /* 5..8 */
	s.dist[6] = 80; /* 33..64: p50 */
	s.dist[7] = 9;	/* 65..128: p99 (the 99th is the 99th) */
	s.dist[9] = 1;	/* 257..512: the maximum, 300 */
	bench_mc_hist(&s, &h);
	hist_stats(&h, &st);
	assert_int_equal(st.count, 100);
	assert_int_equal(st.min, 5000);
	assert_int_equal(st.max, 300000);
	assert_true(st.mean == 40000);
	assert_true(fabs(st.stddev - 30000) < 1);
	assert_int_equal(hist_percentile(&h, 5), 7999);
	assert_int_equal(st.p50, 63999);
	assert_int_equal(st.p99, 127999);
	assert_int_equal(st.p999, 300000);
	/* none timed: an empty histogram */
	s = (struct bench_mc_stats){0};
	bench_mc_hist(&s, &h);
	assert_int_equal(h.count, 0);
	/* rounds: counts summed, the rate their mean */
	rd[0].mc = (struct bench_memcached){.ran = true, .ops = 10, .gets = 9, .sets = 1, .ops_per_s = 100};
	rd[1].mc = (struct bench_memcached){.ran = true, .ops = 30, .gets = 27, .sets = 3, .ops_per_s = 300};
	bench_mc_combine(rd, 2, &c);
	assert_true(c.ran && c.ops == 40 && c.gets == 36 && c.sets == 4 && c.ops_per_s == 200);
	rd[0].mc.ran = rd[1].mc.ran = false;
	bench_mc_combine(rd, 2, &c);
	assert_false(c.ran);
}

/* --workload memcached: the table has the get and set probes and
 * memaslap's throughput, not wakeup and NetRT; --json (valid) and --csv
 * carry the same. */
static void test_mc_output(void **state)
{
	struct bench_result *r = make_result();
	json_object *doc, *m1, *probes;
	char *t;

	(void)state;
	r->cfg.workload = "memcached";
	r->cfg.mc_concurrency = 4;
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		hist_init(&r->calibration[p].hist);
		for (size_t i = 0; i < r->n_modes; i++)
			hist_init(&r->modes[i].probe[p].hist);
	}
	for (size_t i = 0; i < r->n_modes; i++) {
		struct bench_mode_result *m = &r->modes[i];
		struct bench_mc_stats g = {.events = 100, .min_us = 8, .max_us = i == 1 ? 100 : 900, .avg_us = 50};

		g.dist[6] = 98;
		g.dist[i == 1 ? 7 : 10] = 2;
		bench_mc_hist(&g, &m->probe[BENCH_MC_GET].hist);
		g.events = 10;
		g.max_us = 60;
		g.dist[6] = 10;
		g.dist[7] = g.dist[10] = 0;
		bench_mc_hist(&g, &m->probe[BENCH_MC_SET].hist);
		m->mc = (struct bench_memcached){
		    .ran = true, .ops = 110, .gets = 100, .sets = 10, .ops_per_s = i == 1 ? 60000 : 40000};
		/* two rounds, 10% apart */
		m->rounds = calloc(2, sizeof(*m->rounds));
		assert_non_null(m->rounds);
		m->n_rounds = 2;
		m->rounds[0].mc = m->rounds[1].mc = m->mc;
		m->rounds[0].mc.ops_per_s *= 0.9;
		m->rounds[1].mc.ops_per_s *= 1.1;
		m->rounds[0].stream_MBps = m->rounds[1].stream_MBps = m->stream_MBps;
		m->rounds[0].hog_ops = m->rounds[1].hog_ops = m->hog_ops;
	}
	r->cfg.rounds = 2;
	t = capture(bench_print_table, r);
	assert_non_null(strstr(t, "; scope process:4242 (memcached as rt_process)\n"));
	assert_non_null(strstr(t, "workload     memcached: memcached (the RT service, 1 worker thread) over veth"));
	assert_non_null(strstr(t, "\nmemcached get, µs\n"));
	assert_non_null(strstr(t, "\nmemcached set, µs\n"));
	assert_null(strstr(t, "wakeup latency"));
	assert_null(strstr(t, "NetRT round trip"));
	assert_non_null(strstr(t, "\ndedicated         60000        100         10          0\n"));
	assert_non_null(strstr(t, "\n  vs vanilla       +50%\n"));
	assert_non_null(strstr(t, "\ndedicated         100     50.0     64.0    100.0    100.0    100.0"));
	/* the rounds: memaslap's rate with its range, apart from vanilla's */
	assert_non_null(strstr(t, "memcached kops/s"));
	assert_non_null(strstr(t, "60.0 [54.0-66.0] *"));
	free(t);
	doc = bench_json(r);
	assert_int_equal(validate(doc), 0);
	assert_string_equal(json_object_get_string(jget(jget(doc, "config"), "workload")), "memcached");
	assert_int_equal(json_object_get_int(jget(jget(jget(doc, "config"), "memcached"), "concurrency")), 4);
	m1 = json_object_array_get_idx(jget(doc, "modes"), 1);
	probes = jget(m1, "probes");
	assert_false(json_object_object_get_ex(probes, "wakeup", NULL));
	assert_true(dget(jget(probes, "get"), "p50_us") == 63.999);
	assert_true(dget(jget(probes, "get"), "p99_us") == 100);
	assert_true(dget(jget(probes, "get"), "max_us") == 100);
	assert_true(dget(jget(jget(m1, "relative"), "memcached"), "ops_per_s_pct") == 50);
	assert_true(dget(jget(m1, "memcached"), "ops_per_s") == 60000);
	assert_true(dget(jget(jget(jget(m1, "spread"), "memcached"), "ops_per_s"), "median") == 60000);
	assert_true(json_object_get_boolean(jget(jget(jget(jget(m1, "spread"), "memcached"), "ops_per_s"), "differs")));
	json_object_put(doc);
	/* compare on two saved memcached runs: memaslap's figures, and a
	 * concurrency that differs warned about */
	{
		json_object *docs[2];
		char *const paths[] = {"a.json", "b.json"};
		char *c = NULL;
		size_t len = 0;
		FILE *f;

		docs[0] = bench_json(r);
		r->cfg.mc_concurrency = 8;
		docs[1] = bench_json(r);
		r->cfg.mc_concurrency = 4;
		f = open_memstream(&c, &len);
		assert_non_null(f);
		assert_int_equal(bench_runs_print(f, paths, docs, 2), 1);
		assert_int_equal(fclose(f), 0);
		assert_true(has_line(c, "warning: b.json: memcached.concurrency is 8, in a.json 4"));
		assert_non_null(strstr(c, "\nmemcached get p99 (bucket top), µs\n"));
		assert_non_null(strstr(c, "\nmemcached ops/s\n"));
		assert_null(strstr(c, "wakeup"));
		free(c);
		json_object_put(docs[0]);
		json_object_put(docs[1]);
	}
	t = capture(bench_print_csv, r);
	assert_non_null(strstr(t, "\ndedicated,get,100,"));
	assert_non_null(strstr(t, "\ndedicated,set,10,"));
	assert_null(strstr(t, ",wakeup,"));
	free(t);
	free_result(r);
}

/* compare: two runs of the same modes, the second without load and 10 s
 * a mode, and one without rt-only: each figure against run 1, the
 * differences in configuration warned about, a missing mode "-". */
static void test_compare(void **state)
{
	struct bench_result *a = make_result(), *b = make_result();
	json_object *docs[2];
	char *const paths[] = {"a.json", "b.json"};
	char *t = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	a->cfg.host = (struct bench_host_id){.cpu_model = strdup("Test CPU @ 2.0GHz"), .virtualization = strdup("kvm")};
	b->cfg.load_cpu = b->cfg.load_net = false;
	b->cfg.duration_s = 10;
	b->n_modes = 2; /* rt-only not measured */
	docs[0] = bench_json(a);
	docs[1] = bench_json(b);
	assert_int_equal(validate(docs[1]), 0);
	f = open_memstream(&t, &len);
	assert_non_null(f);
	assert_int_equal(bench_runs_print(f, paths, docs, 2), 2);
	assert_int_equal(fclose(f), 0);
	assert_true(has_line(t, "run 1 a.json"));
	assert_true(has_line(t, "host: kernel 6.18.0-test, 2 online CPUs, Test CPU @ 2.0GHz, virtualization kvm"));
	assert_true(has_line(t, "host: kernel 6.18.0-test, 2 online CPUs, virtualization unknown"));
	assert_true(has_line(t, "warning: b.json: duration_s is 10, in a.json 20"));
	assert_true(has_line(t, "warning: b.json: load is none, in a.json cpu,net"));
	assert_true(has_line(t, "warning: b.json: n_hogs is 2, in a.json 2") == false);
	assert_true(has_line(t, "warning: the runs differ in configuration: their figures are not comparable as "
				"they stand"));
	assert_true(has_line(t, "wakeup latency p99, µs"));
	assert_true(has_line(t, "mode run 1 run 2"));
	assert_true(has_line(t, "dedicated 30.7 30.7"));
	assert_true(has_line(t, "vs run 1 0%"));
	assert_true(has_line(t, "rt-only 8.2 -"));
	assert_true(has_line(t, "CPU hogs, Mops/s"));
	free(t);
	json_object_put(docs[0]);
	json_object_put(docs[1]);
	b->n_modes = 3;
	free_result(a);
	free_result(b);
}

/* A file that is not a run, or is not there, is named with why. */
static void test_compare_load(void **state)
{
	char err[512], path[160];
	json_object *doc = NULL;
	FILE *f;

	(void)state;
	assert_int_equal(bench_runs_load("/nonexistent/run.json", &doc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cannot read /nonexistent/run.json: No such file or directory");
	tmp_path(path, sizeof(path), "notrun.json");
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("{\"version\": 1, \"plan\": []}\n", f);
	fclose(f);
	assert_int_equal(bench_runs_load(path, &doc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a run of isoctl bench"));
	f = fopen(path, "we");
	fputs("{\"version\": 1,", f);
	fclose(f);
	assert_int_equal(bench_runs_load(path, &doc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not JSON ("));
	unlink(path);
}

static int cleanup(void **state)
{
	char path[160];

	(void)state;
	if (!tmpdir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/doc.json", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/plot.svg", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rel),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_table_long_names),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_schema_rejects),
	    cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_svg),
	    cmocka_unit_test(test_svg_errors),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_rounds),
	    cmocka_unit_test(test_http_parse),
	    cmocka_unit_test(test_http_combine),
	    cmocka_unit_test(test_http_output),
	    cmocka_unit_test(test_mc_parse),
	    cmocka_unit_test(test_mc_hist),
	    cmocka_unit_test(test_mc_output),
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_compare_load),
	};

	return cmocka_run_group_tests(tests, NULL, cleanup);
}
