/* isolated: holds an isolation mode while threads, VMs and devices come and
 * go. main(): options, the configuration file (read by conf, trusted as
 * policies are), then --check or serve(): the event loop, signals, the
 * holder (what is held), kernel events, the bus, capabilities dropped,
 * READY=1, the loop. See isolated(8). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "isolated/busapi.h"
#include "isolated/conf.h"
#include "isolated/modes.h"
#include "isolated/paths.h"
#include "isolated/policy.h"
#include "isolated/util.h"

#define CONF_DEFAULT ISO_SYSCONFDIR "/isolated.conf"

#define EXIT_USAGE 2
/* call-burst: up to this many (burst * call-interval must fit in 64 bits of µs). */
#define CALL_BURST_MAX 10000

/* ---- Options and the configuration file ---- */

/* What the command line set, to win over the file. */
struct cmdline {
	const char *conf;
	bool check;
	const char *mode, *policies, *hostconf;
	int revert_on_stop, enforce; /* -1: not given */
	long verify_interval, rescan_interval;
};

static void usage(FILE *f)
{
	fputs("Usage: isolated [OPTIONS]\n"
	      "Hold an isolation mode: apply it, keep it applied as threads and devices come\n"
	      "and go, and answer isoctl on the system bus (io.isolated.Daemon1).\n"
	      "\n"
	      "  --conf FILE             configuration file (default " CONF_DEFAULT ")\n"
	      "  --check                 validate the configuration, policies and host.conf; exit\n"
	      "  --mode NAME             mode to hold at start (default: the journal's)\n"
	      "  --revert-on-stop[=BOOL] revert to vanilla on SIGTERM (default no)\n"
	      "  --verify-interval SECS  look for drift every SECS (default 0: off)\n"
	      "  --enforce[=BOOL]        re-apply drift found (default no)\n"
	      "  --rescan-interval SECS  full rescan period without the proc connector (default 2)\n"
	      "  --policies DIR[:DIR]    mode directories\n"
	      "  --host-conf FILE        host.conf\n"
	      "  --root TREE             a host tree instead of the running kernel (tests)\n"
	      "  --netlink-rcvbuf BYTES  proc connector socket buffer (tests)\n"
	      "  --no-proc-connector     use the rescan interval instead of process events\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           the version\n",
	      f);
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_secs(const char *s, long min, long *ret)
{
	return util_parse_long(s, min, 365L * 24 * 3600, ret);
}

static int split_dirs(const char *s, char ***ret)
{
	char **v = NULL, *copy = strdup(s), *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
		if (strv_push_dup(&v, t) < 0) {
			strv_free(v);
			free(copy);
			return -ENOMEM;
		}
	free(copy);
	if (!v)
		return -EINVAL;
	strv_free(*ret);
	*ret = v;
	return 0;
}

/* The [daemon] section's keys, in the order of the "unknown key" message. */
enum conf_key {
	KEY_MODE,
	KEY_REVERT_ON_STOP,
	KEY_VERIFY_INTERVAL,
	KEY_ENFORCE,
	KEY_RESCAN_INTERVAL,
	KEY_POLICIES,
	KEY_HOST_CONF,
	KEY_CALL_BURST,
	KEY_CALL_INTERVAL,
	KEY_METRICS_FILE,
	_KEY_MAX,
};

static const char *const conf_keys[_KEY_MAX] = {
    "mode",	"revert-on-stop", "verify-interval", "enforce",	      "rescan-interval",
    "policies", "host-conf",	  "call-burst",	     "call-interval", "metrics-file",
};

/* One key of isolated.conf being read: where it is, and where it goes. */
struct conf_ctx {
	const char *file;
	unsigned line;
	struct daemon_config *cfg;
	struct diag *d;
	unsigned seen; /* keys given, for duplicates */
};

#define CERR(c, ...) diag_add((c)->d, (c)->file, (c)->line, __VA_ARGS__)

/* Set key k to value; a bad value is a diag line. -ENOMEM only. */
static int conf_value(struct conf_ctx *c, enum conf_key k, const char *name, const char *value)
{
	struct daemon_config *cfg = c->cfg;
	long n;
	int r = 0;

	switch (k) {
	case KEY_MODE:
		if (!modes_name_valid(value)) {
			CERR(c, "mode = %s: a mode is a name of letters, digits, '-' and '_' (see isoctl list)", value);
			return 0;
		}
		free(cfg->mode);
		return (cfg->mode = strdup(value)) ? 0 : -ENOMEM;
	case KEY_REVERT_ON_STOP:
	case KEY_ENFORCE:
		if (parse_bool(value, k == KEY_REVERT_ON_STOP ? &cfg->revert_on_stop : &cfg->enforce) < 0)
			CERR(c, "%s = %s: expected yes or no", name, value);
		return 0;
	case KEY_VERIFY_INTERVAL:
	case KEY_RESCAN_INTERVAL:
		if (parse_secs(value, k == KEY_VERIFY_INTERVAL ? 0 : 1, &n) < 0)
			CERR(c, "%s = %s: expected a number of seconds%s", name, value,
			     k == KEY_VERIFY_INTERVAL ? " (0: off)" : ", at least 1");
		else
			*(k == KEY_VERIFY_INTERVAL ? &cfg->verify_interval : &cfg->rescan_interval) = (unsigned)n;
		return 0;
	case KEY_POLICIES:
		r = split_dirs(value, &cfg->policy_dirs);
		if (r == -EINVAL)
			CERR(c, "policies = %s: expected DIR[:DIR...]", value);
		return r == -EINVAL ? 0 : r;
	case KEY_HOST_CONF:
		if (!value[0]) {
			CERR(c, "host-conf: expected a file name");
			return 0;
		}
		free(cfg->hostconf_path);
		cfg->hostconf_given = true;
		return (cfg->hostconf_path = strdup(value)) ? 0 : -ENOMEM;
	case KEY_CALL_BURST:
		if (util_parse_long(value, 1, CALL_BURST_MAX, &n) < 0)
			CERR(c, "call-burst = %s: expected a number of calls, 1 to %d", value, CALL_BURST_MAX);
		else
			cfg->call_burst = (unsigned)n;
		return 0;
	case KEY_CALL_INTERVAL:
		if (parse_secs(value, 1, &n) < 0)
			CERR(c, "call-interval = %s: expected a number of seconds, at least 1", value);
		else
			cfg->call_interval = (unsigned)n;
		return 0;
	case KEY_METRICS_FILE:
		if (value[0] && (value[0] != '/' || value[strlen(value) - 1] == '/')) {
			CERR(c, "metrics-file = %s: expected an absolute file name (empty: none)", value);
			return 0;
		}
		free(cfg->metrics_file);
		cfg->metrics_file_given = true;
		return (cfg->metrics_file = strdup(value)) ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

/* One key = value of section (NULL: before any section header). */
static void conf_key(struct conf_ctx *c, const char *section, const char *name, const char *value)
{
	size_t k;

	if (!section || strcmp(section, "daemon") != 0) {
		CERR(c, "%s%s%s: isolated.conf has only a [daemon] section", section ? "[" : "",
		     section ? section : "key outside any section", section ? "]" : "");
		return;
	}
	for (k = 0; k < _KEY_MAX && strcmp(conf_keys[k], name) != 0; k++)
		;
	if (k == _KEY_MAX) {
		CERR(c,
		     "unknown key \"%s\" (known: mode, revert-on-stop, verify-interval, enforce, rescan-interval, "
		     "policies, host-conf, call-burst, call-interval)",
		     name);
		return;
	}
	if (c->seen & (1u << k)) {
		CERR(c, "%s is given twice", name);
		return;
	}
	c->seen |= 1u << k;
	if (conf_value(c, (enum conf_key)k, name, value) < 0)
		CERR(c, "out of memory");
}

/* --conf /dev/null: every default. */
static bool is_dev_null(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

/* Read file into cfg; every problem a "FILE:LINE: message" line in d, in
 * the order of the file. A missing file is fine unless it was named. It
 * names the policies, host.conf and the mode root applies: as root it is
 * trusted as they are, owner, mode and size (conf_parse_file), except that
 * others need not read it. */
static void conf_load(const char *file, bool given, struct daemon_config *cfg, struct diag *d)
{
	struct conf_ctx c = {.file = file, .cfg = cfg, .d = d};
	struct diag opened = {0};
	size_t before = d->n;
	struct conf_doc doc;
	int r;

	if (is_dev_null(file))
		return;
	r = conf_parse_file(file, 0, &doc, &opened);
	if (r != -ENOENT || given)
		for (size_t i = 0; i < opened.n; i++)
			diag_add(d, NULL, 0, "%s", opened.lines[i]);
	diag_free(&opened);
	if (r < 0)
		return;
	for (size_t i = 0; i < doc.n_sections; i++) {
		const struct conf_section *sec = &doc.sections[i];

		if (sec->broken)
			continue; /* its header's error is reported */
		for (size_t j = 0; j < sec->n_entries; j++) {
			c.line = sec->entries[j].line;
			conf_key(&c, sec->header, sec->entries[j].key, sec->entries[j].value);
		}
	}
	conf_doc_free(&doc);
	conf_sort_diag(d, before, file);
}

static int config_defaults(struct daemon_config *cfg)
{
	char *repo = modes_build_tree_dir();

	cfg->rescan_interval = 2;
	if (!(cfg->metrics_file = strdup(METRICS_FILE_DEFAULT)))
		return -ENOMEM;
	cfg->call_burst = LIMITS_BURST;
	cfg->call_interval = (unsigned)(LIMITS_INTERVAL_USEC / 1000000);
	if (repo)
		return strv_push(&cfg->policy_dirs, repo);
	if (strv_push_dup(&cfg->policy_dirs, ISO_SYSCONFDIR) < 0 ||
	    strv_push_dup(&cfg->policy_dirs, ISO_DATADIR "/policies") < 0)
		return -ENOMEM;
	return 0;
}

/* host.conf when nobody named one: as isoctl finds it. */
static int default_hostconf(struct daemon_config *cfg)
{
	char *in_root = cfg->root ? util_sprintf("%s/etc/isolated/host.conf", cfg->root) : NULL;

	if (in_root && access(in_root, F_OK) == 0) {
		cfg->hostconf_path = in_root;
		return 0;
	}
	free(in_root);
	cfg->hostconf_path = strdup(ISO_SYSCONFDIR "/host.conf");
	return cfg->hostconf_path ? 0 : -ENOMEM;
}

static void config_done(struct daemon_config *cfg)
{
	free(cfg->mode);
	free(cfg->metrics_file);
	strv_free(cfg->policy_dirs);
	free(cfg->hostconf_path);
	free(cfg->root);
}

enum {
	OPT_CONF = 0x100,
	OPT_CHECK,
	OPT_MODE,
	OPT_REVERT_ON_STOP,
	OPT_VERIFY_INTERVAL,
	OPT_ENFORCE,
	OPT_RESCAN_INTERVAL,
	OPT_POLICIES,
	OPT_HOST_CONF,
	OPT_ROOT,
	OPT_RCVBUF,
	OPT_NO_PROC,
};

/* One option of the command line. Returns 0, a positive exit status to
 * exit with at once (--help: 256 + status), or EXIT_USAGE after printing
 * what is wrong. */
static int parse_opt(int opt, const char *arg, struct cmdline *cl, struct daemon_config *cfg)
{
	struct stat st;
	bool b = true;
	long n;

	switch (opt) {
	case OPT_CONF:
		cl->conf = arg;
		return 0;
	case OPT_CHECK:
		cl->check = true;
		return 0;
	case OPT_MODE:
		if (!modes_name_valid(arg)) {
			fprintf(stderr, "isolated: --mode %s: a mode is a name of letters, digits, '-' and '_'\n", arg);
			return EXIT_USAGE;
		}
		cl->mode = arg;
		return 0;
	case OPT_REVERT_ON_STOP:
	case OPT_ENFORCE:
		if (arg && parse_bool(arg, &b) < 0) {
			fprintf(stderr, "isolated: --%s=%s: expected yes or no\n",
				opt == OPT_ENFORCE ? "enforce" : "revert-on-stop", arg);
			return EXIT_USAGE;
		}
		*(opt == OPT_ENFORCE ? &cl->enforce : &cl->revert_on_stop) = b;
		return 0;
	case OPT_VERIFY_INTERVAL:
	case OPT_RESCAN_INTERVAL:
		if (parse_secs(arg, opt == OPT_VERIFY_INTERVAL ? 0 : 1, &n) < 0) {
			fprintf(stderr, "isolated: --%s %s: expected a number of seconds\n",
				opt == OPT_VERIFY_INTERVAL ? "verify-interval" : "rescan-interval", arg);
			return EXIT_USAGE;
		}
		*(opt == OPT_VERIFY_INTERVAL ? &cl->verify_interval : &cl->rescan_interval) = n;
		return 0;
	case OPT_POLICIES:
		cl->policies = arg;
		return 0;
	case OPT_HOST_CONF:
		cl->hostconf = arg;
		return 0;
	case OPT_ROOT:
		if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "isolated: --root %s: not a directory\n", arg);
			return EXIT_USAGE;
		}
		free(cfg->root);
		return (cfg->root = strdup(arg)) ? 0 : EXIT_FAILURE;
	case OPT_RCVBUF:
		if (util_parse_long(arg, 1, INT_MAX, &n) < 0) {
			fprintf(stderr, "isolated: --netlink-rcvbuf %s: expected a number of bytes\n", arg);
			return EXIT_USAGE;
		}
		cfg->netlink_rcvbuf = (int)n;
		return 0;
	case OPT_NO_PROC:
		cfg->no_proc_connector = true;
		return 0;
	case 'h':
		usage(stdout);
		return EXIT_SUCCESS + 256;
	case 'V':
		puts("isolated " ISO_VERSION);
		return EXIT_SUCCESS + 256;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
}

/* Returns 0 or what parse_opt returned. */
static int parse_argv(int argc, char **argv, struct cmdline *cl, struct daemon_config *cfg)
{
	static const struct option opts[] = {
	    {"conf", required_argument, NULL, OPT_CONF},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"mode", required_argument, NULL, OPT_MODE},
	    {"revert-on-stop", optional_argument, NULL, OPT_REVERT_ON_STOP},
	    {"verify-interval", required_argument, NULL, OPT_VERIFY_INTERVAL},
	    {"enforce", optional_argument, NULL, OPT_ENFORCE},
	    {"rescan-interval", required_argument, NULL, OPT_RESCAN_INTERVAL},
	    {"policies", required_argument, NULL, OPT_POLICIES},
	    {"host-conf", required_argument, NULL, OPT_HOST_CONF},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"netlink-rcvbuf", required_argument, NULL, OPT_RCVBUF},
	    {"no-proc-connector", no_argument, NULL, OPT_NO_PROC},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt, r;

	*cl = (struct cmdline){.revert_on_stop = -1, .enforce = -1, .verify_interval = -1, .rescan_interval = -1};
	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1)
		if ((r = parse_opt(opt, optarg, cl, cfg)) != 0)
			return r;
	if (optind < argc) {
		fprintf(stderr, "isolated: unexpected argument \"%s\" (see isolated --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* Defaults, then the file, then the command line. Problems are printed;
 * returns 0 or EXIT_USAGE. */
static int config_read(const struct cmdline *cl, struct daemon_config *cfg)
{
	struct diag d = {0};
	int r;

	if (config_defaults(cfg) < 0)
		goto oom;
	conf_load(cl->conf ? cl->conf : CONF_DEFAULT, cl->conf != NULL, cfg, &d);
	if (d.n) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		fprintf(stderr, "isolated: %zu error%s in the configuration: not starting\n", d.n, d.n == 1 ? "" : "s");
		diag_free(&d);
		return EXIT_USAGE;
	}
	if (cl->mode) {
		free(cfg->mode);
		if (!(cfg->mode = strdup(cl->mode)))
			goto oom;
	}
	if (cl->revert_on_stop >= 0)
		cfg->revert_on_stop = cl->revert_on_stop;
	if (cl->enforce >= 0)
		cfg->enforce = cl->enforce;
	if (cl->verify_interval >= 0)
		cfg->verify_interval = (unsigned)cl->verify_interval;
	if (cl->rescan_interval >= 0)
		cfg->rescan_interval = (unsigned)cl->rescan_interval;
	if (cl->policies && (r = split_dirs(cl->policies, &cfg->policy_dirs)) < 0) {
		fprintf(stderr, "isolated: --policies %s: expected DIR[:DIR...]\n", cl->policies);
		return EXIT_USAGE;
	}
	if (cl->hostconf) {
		free(cfg->hostconf_path);
		if (!(cfg->hostconf_path = strdup(cl->hostconf)))
			goto oom;
		cfg->hostconf_given = true;
	}
	if (!cfg->hostconf_path && default_hostconf(cfg) < 0)
		goto oom;
	return 0;
oom:
	fprintf(stderr, "isolated: out of memory\n");
	diag_free(&d);
	return EXIT_FAILURE;
}

/* --check: the configuration read, then host.conf and every mode, as the
 * daemon would load them. 0 when all is well, 2 otherwise, 1 when the host
 * cannot be read. */
static int check_config(const struct daemon_config *cfg)
{
	struct cpuset online = CPUSET_INIT;
	struct hostconf *hc = NULL;
	struct host *host = NULL;
	struct diag d = {0};
	char **names = NULL, *buf = NULL, msg[128];
	size_t bad = 0, n = 0;
	int r, status = EXIT_SUCCESS;

	r = host_open_ex(cfg->root, &(struct host_options){.faults = getenv(HOST_FAULTS_ENV)}, &host);
	if (r >= 0 && (r = host_read(host, "sys/devices/system/cpu/online", &buf, NULL)) >= 0)
		r = cpuset_parse_list(buf, &online, msg, sizeof(msg));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "isolated: cannot read the online CPUs of %s: %s\n",
			cfg->root ? cfg->root : "this host", strerror(-r));
		host_free(host);
		return EXIT_FAILURE;
	}
	r = hostconf_load(cfg->hostconf_path, &online, &hc, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	if (r < 0 && d.n == 0)
		fprintf(stderr, "%s: %s\n", cfg->hostconf_path, strerror(-r));
	diag_free(&d);
	if (r < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (modes_names(cfg->policy_dirs, &names) < 0 || !names || !names[0]) {
		fprintf(stderr, "isolated: no policies found in %s\n", cfg->policy_dirs[0]);
		status = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; names[i]; i++, n++) {
		struct policy *p = NULL;

		if (modes_load(cfg->policy_dirs, hc, &online, names[i], &p, &d) != MODES_OK) {
			for (size_t k = 0; k < d.n; k++)
				fprintf(stderr, "%s%s\n", d.bare[k] ? "isolated: " : "", d.lines[k]);
			bad++;
		}
		diag_free(&d);
		policy_free(p);
	}
	if (cfg->mode && !strv_contains(names, cfg->mode) && strcmp(cfg->mode, "vanilla") != 0) {
		fprintf(stderr, "isolated: mode = %s: no such mode (see isoctl list)\n", cfg->mode);
		bad++;
	}
	if (bad)
		status = EXIT_USAGE;
	else
		printf("isolated: configuration OK: %zu mode%s, host.conf %s\n", n, n == 1 ? "" : "s",
		       cfg->hostconf_path);
out:
	strv_free(names);
	hostconf_free(hc);
	cpuset_free(&online);
	host_free(host);
	return status;
}

/* ---- The running daemon ---- */

struct daemon {
	sd_event *ev;
	struct holder *holder;
	struct bus *bus;
	struct procev *procev;
	struct devev *devev;
	struct textfile *textfile;
	sd_event_source *rescan_timer;
	unsigned rescan_interval;
};

static void on_status(void *userdata, const char *status)
{
	(void)userdata;
	sd_notifyf(false, "STATUS=%s", status);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	(void)s;
	log_info("SIG%s received: stopping", sigabbrev_np((int)si->ssi_signo));
	sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
	r = holder_stop(d->holder);
	return sd_event_exit(d->ev, r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct timespec ts;

	(void)s;
	(void)si;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* systemd 253+ wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload). */
	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	holder_reload(d->holder);
	sd_notifyf(false, "READY=1\nSTATUS=%s", holder_status_text(d->holder));
	return 0;
}

/* Without the proc connector: a full rescan every rescan_interval. */
static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	holder_rescan(d->holder, "rescan interval (no proc connector)");
	if (sd_event_source_set_time(s, usec + (uint64_t)d->rescan_interval * 1000000ULL) >= 0)
		sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static int start_rescan_fallback(struct daemon *d)
{
	uint64_t now;
	int r;

	r = sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	return sd_event_add_time(d->ev, &d->rescan_timer, CLOCK_MONOTONIC,
				 now + (uint64_t)d->rescan_interval * 1000000ULL, 100000, on_rescan_timer, d);
}

static int start_procev(struct daemon *d, const struct daemon_config *cfg)
{
	int r;

	if (cfg->no_proc_connector) {
		log_notice("--no-proc-connector: a rescan every %u s instead of process events", cfg->rescan_interval);
		return start_rescan_fallback(d);
	}
	const char *which = NULL;
	if (procev_initial_namespaces(&which) == 0) {
		/* In a container: the kernel would take our request and never
		 * send an event. */
		log_warning("proc connector unusable: this daemon runs outside the initial %s namespace (in a "
			    "container), and the kernel sends process events only to listeners in it; "
			    "falling back to a rescan every %u s",
			    which, cfg->rescan_interval);
		return start_rescan_fallback(d);
	}
	r = procev_start(d->ev, d->holder, cfg->netlink_rcvbuf, &d->procev);
	if (r >= 0)
		return 0;
	if (r == -EPERM || r == -EACCES || r == -EPROTONOSUPPORT || r == -ECONNREFUSED)
		log_warning("proc connector unavailable (%s): needs CAP_NET_ADMIN in the initial network namespace "
			    "(Linux 6.6 and later need no capability); falling back to a rescan every %u s",
			    strerror(-r), cfg->rescan_interval);
	else
		log_warning("proc connector unavailable (%s): falling back to a rescan every %u s", strerror(-r),
			    cfg->rescan_interval);
	return start_rescan_fallback(d);
}

static void daemon_done(struct daemon *d)
{
	sd_event_source_disable_unref(d->rescan_timer);
	textfile_free(d->textfile);
	devev_free(d->devev);
	procev_free(d->procev);
	bus_free(d->bus);
	holder_free(d->holder);
	sd_event_unref(d->ev);
}

/* The event loop with its watchdog and signals. Logs its errors. */
static int loop_setup(struct daemon *d)
{
	sigset_t mask;
	int r;

	r = sd_event_default(&d->ev);
	if (r < 0)
		return log_errno(LOG_ERR, r, "Failed to allocate the event loop");
	/* WATCHDOG=1 at half of WatchdogSec, when the unit sets it. */
	r = sd_event_set_watchdog(d->ev, true);
	if (r < 0)
		return log_errno(LOG_ERR, r, "Failed to enable the watchdog");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGTERM, on_sigterm, d)) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGINT, on_sigterm, d)) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGHUP, on_sighup, d)) < 0) {
		return log_errno(LOG_ERR, r < 0 ? r : -errno, "Failed to set up signals");
	}
	return 0;
}

/* The holder, its kernel events, the mode held. Logs its errors. */
static int hold_start(struct daemon *d, const struct daemon_config *cfg)
{
	int r;

	/* holder_new and holder_start log their own errors. */
	r = holder_new(cfg, d->ev, &d->holder);
	if (r < 0)
		return r;
	holder_set_status_cb(d->holder, on_status, d);
	/* Kernel events first: a thread born between the start-up snapshot and
	 * the subscription would be missed. What arrives meanwhile waits in
	 * the sockets for the loop (an overflow means a rescan). */
	r = start_procev(d, cfg);
	if (r < 0)
		return log_errno(LOG_ERR, r, "Failed to arm the rescan timer");
	r = devev_start(d->ev, d->holder, &d->devev);
	if (r < 0)
		log_errno(LOG_WARNING, r,
			  "device events unavailable: NICs, IRQs and CPUs that come later are only covered by the next "
			  "reload");
	return holder_start(d->holder);
}

/* The daemon's API is the bus: without it there is no daemon. The name
 * appears once the mode is held, so bus-activated callers wait. Logs its
 * errors. */
static int bus_connect(struct daemon *d, const struct daemon_config *cfg)
{
	const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	int r;

	r = bus_start(d->ev, d->holder,
		      &(struct bus_config){.limits = {.burst = cfg->call_burst,
						      .interval_usec = cfg->call_interval * 1000000ULL,
						      .call_usec = LIMITS_CALL_USEC,
						      .log_first = LIMITS_LOG_FIRST,
						      .log_window_usec = LIMITS_LOG_WINDOW_USEC}},
		      &d->bus);
	if (r == -EEXIST)
		log_error("Another process owns %s on the system bus: is isolated running already?", ISOLATED_BUS_NAME);
	else if (r < 0)
		log_errno(LOG_ERR, r, "Failed to connect to the system bus%s%s", addr ? " at " : "", addr ? addr : "");
	return r;
}

/* The running daemon: loop, holder, bus, capabilities dropped, READY=1,
 * the loop until a signal ends it. The exit status. */
static int serve(const struct daemon_config *cfg)
{
	struct daemon d = {.rescan_interval = cfg->rescan_interval};
	int r;

	log_setup();
	r = loop_setup(&d);
	if (r >= 0)
		r = hold_start(&d, cfg);
	if (r >= 0)
		r = bus_connect(&d, cfg);
	/* With --root (a tree) only a metrics-file named in isolated.conf:
	 * the default is the host's node_exporter directory. */
	if (r >= 0 && cfg->metrics_file && cfg->metrics_file[0] && (!cfg->root || cfg->metrics_file_given) &&
	    (r = textfile_start(d.ev, d.holder, d.procev, cfg->metrics_file, cfg->metrics_file_given, &d.textfile)) < 0)
		log_errno(LOG_ERR, r, "Failed to start the metrics file");
	if (r >= 0 && (r = caps_drop(cfg->root != NULL)) < 0)
		log_errno(LOG_ERR, r, "Failed to drop capabilities");
	if (r >= 0) {
		sd_notifyf(false, "READY=1\nSTATUS=%s", holder_status_text(d.holder));
		r = sd_event_loop(d.ev);
		if (r < 0)
			log_errno(LOG_ERR, r, "The event loop failed");
	}
	daemon_done(&d);
	return r < 0 ? EXIT_FAILURE : r;
}

/* The options, the configuration; then --check or the daemon. */
int main(int argc, char **argv)
{
	struct daemon_config cfg = {0};
	struct cmdline cl;
	int r;

	r = parse_argv(argc, argv, &cl, &cfg);
	if (r == 0)
		r = config_read(&cl, &cfg);
	if (r != 0)
		r = r > 255 ? r - 256 : r;
	else if (cl.check)
		r = check_config(&cfg);
	else
		r = serve(&cfg);
	config_done(&cfg);
	return r;
}
