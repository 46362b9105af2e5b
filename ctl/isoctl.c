/* isoctl: look at and switch the isolation mode of a KVM host. This file is
 * main(): the options, the command table (which command takes which option)
 * and the dispatch to one command (cmd-*.c, bench-cmd.c) once the policies and
 * host.conf are found. Errors: one line "isoctl: ..." on stderr (ctx.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "isolated/modes.h"
#include "isolated/paths.h"
#include "isoctl.h"

static void usage(FILE *f)
{
	fputs("Usage: isoctl [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands (read-only):\n"
	      "  list                 the modes available, with summaries\n"
	      "  show MODE            the policy of MODE with every variable resolved\n"
	      "  plan MODE            what applying MODE would change on this host, and what it cannot\n"
	      "  check [MODE]         validate all policies; with MODE also boot parameters, kernel and\n"
	      "                       other tuners (exit 1 when a requirement does not hold)\n"
	      "  grub MODE            the GRUB_CMDLINE_LINUX_DEFAULT line MODE needs\n"
	      "  boot show MODE       what MODE writes for the next boot (kernel command line,\n"
	      "                       systemd CPUAffinity, module options), as diffs\n"
	      "  status               the mode in force, what isolated changed (pristine / wanted / now)\n"
	      "                       and the current value of every knob the modes touch\n"
	      "  verify               the values isolated wrote that were changed behind its back\n"
	      "                       (exit 1 when there are any)\n"
	      "  snapshot DIR         copy this host's relevant files into DIR (for --root)\n"
	      "\n"
	      "Commands that change the host (root):\n"
	      "  apply MODE           switch the host to MODE in one transaction, journaling the\n"
	      "                       pristine values first; undone completely if a write fails\n"
	      "  revert               put back every value isolated changed (= apply vanilla)\n"
	      "  confirm              keep the mode applied with --confirm-within\n"
	      "  grub MODE --write    put MODE's boot parameters into /etc/default/grub (the original\n"
	      "                       is saved in /var/lib/isolated/grub.orig before the first change)\n"
	      "  grub --restore       put that original back\n"
	      "  boot apply MODE      write those boot files in one transaction, each original kept in\n"
	      "                       /var/lib/isolated/boot\n"
	      "  boot revert          put every boot file back as it was (removed if it was not there)\n"
	      "  bench MODE [MODE...] the same RT probes and best-effort load under each mode in turn,\n"
	      "                       compared side by side (latency percentiles, throughput)\n"
	      "\n"
	      "Options:\n"
	      "  -r, --root DIR       read a tree laid out like / instead of the running kernel\n"
	      "  -p, --policies DIR   read policies from DIR\n"
	      "  -c, --config DIR     read host.conf from DIR\n"
	      "  -j, --json           machine-readable output\n"
	      "  -a, --all            status: list every thread; apply: list every step\n"
	      "  -n, --dry-run        apply, revert, boot: show the transaction, write nothing\n"
	      "  -f, --force          apply, revert, boot: also overwrite values another tool changed\n"
	      "                       after isolated wrote them (normally left alone)\n"
	      "      --no-wait        apply, revert, boot, grub: fail instead of waiting for another isoctl\n"
	      "      --scope SCOPE    apply: host, process:PID or cgroup:PATH (overrides the policy)\n"
	      "      --confirm-within DURATION\n"
	      "                       apply: go back to the previous mode after DURATION (60s, 2m,\n"
	      "                       1h) unless isoctl confirm comes first (needs the daemon)\n"
	      "      --direct         do the work in isoctl even when the isolated daemon runs\n"
	      "      --prometheus     status: the journal's metrics for node_exporter's textfile\n"
	      "                       collector (the daemon keeps a file with its own too)\n"
	      "\n"
	      "bench options (see isoctl(8)):\n"
	      "      --duration D     measure each mode this long (default 20s)\n"
	      "      --warmup D       run the load this long before measuring (default 2s)\n"
	      "      --interval USEC  wakeup probe period (default 1000)\n"
	      "      --probe P        wakeup probe: isolated (default) or cyclictest (rt-tests)\n"
	      "      --net N          NetRT and stream path: veth (default) or loopback\n"
	      "      --load L         cpu,net (default), cpu, net or none\n"
	      "      --hogs N         CPU hogs (default: one per online CPU)\n"
	      "      --rounds N       measure each mode N times, the modes alternating (A B A B),\n"
	      "                       and show each figure's median with its interval\n"
	      "      --workload W     what is measured: probes (default); http: a real lighttpd\n"
	      "                       as the RT service, driven by httperf; memcached: a real\n"
	      "                       memcached, driven by memaslap (libmemcached-tools)\n"
	      "      --rate R         http: httperf's connections per second (default 10)\n"
	      "      --conns N        http: connections per mode (default: rate x duration)\n"
	      "      --rt-cpus LIST   the RT CPUs (default: host.conf's rt_cpus, else the last CPU)\n"
	      "      --keep-idle      do not hold /dev/cpu_dma_latency at 0 while measuring\n"
	      "      --scope host     apply the modes to the whole host (default: the bench only)\n"
	      "      --csv            CSV instead of the table\n"
	      "      --plot FILE.svg  also draw the latency distributions\n"
	      "      --output RUN.json\n"
	      "                       also save the run (the --json document, with what identifies\n"
	      "                       the host) for isoctl bench compare RUN.json RUN.json...\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "list, plan, status, verify, apply, revert and confirm go through the isolated daemon\n"
	      "on the system bus when it runs or can be started, unless --direct, --root,\n"
	      "--policies or --config is given; the output is the same either way.\n"
	      "Exit status: 0 done, 1 failed (or a check, a conflict, drift), 2 bad arguments,\n"
	      "policy or host.conf.\n",
	      f);
}

/* Long-only options. */
enum {
	OPT_WRITE = 0x100,
	OPT_RESTORE,
	OPT_NO_WAIT,
	OPT_SCOPE,
	OPT_CONFIRM_WITHIN,
	OPT_DIRECT,
	OPT_PROMETHEUS,
};

/* The options only some commands take; a command's mask has TAKES(t) for
 * each it takes. */
enum take { T_WRITE, T_RESTORE, T_DRY_RUN, T_FORCE, T_NO_WAIT, T_SCOPE, T_CONFIRM_WITHIN, T_PROMETHEUS, _T_MAX };
#define TAKES(t) (1u << (t))
static const char *const take_names[_T_MAX] = {
    [T_WRITE] = "write",
    [T_RESTORE] = "restore",
    [T_DRY_RUN] = "dry-run",
    [T_FORCE] = "force",
    [T_NO_WAIT] = "no-wait",
    [T_SCOPE] = "scope",
    [T_CONFIRM_WITHIN] = "confirm-within",
    [T_PROMETHEUS] = "prometheus",
};

/* The commands that take options come first, in the order the messages
 * about those options name them ("--no-wait is an option of apply, revert
 * and grub only"). */
static const struct command {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
	bool bus;	/* the daemon has a method for it */
	unsigned takes; /* TAKES(T_...) of the options it takes */
} commands[] = {
    {"apply", cmd_apply, true,
     TAKES(T_DRY_RUN) | TAKES(T_FORCE) | TAKES(T_NO_WAIT) | TAKES(T_SCOPE) | TAKES(T_CONFIRM_WITHIN)},
    {"revert", cmd_revert, true, TAKES(T_DRY_RUN) | TAKES(T_FORCE) | TAKES(T_NO_WAIT)},
    {"boot", cmd_boot, false, TAKES(T_DRY_RUN) | TAKES(T_FORCE) | TAKES(T_NO_WAIT)},
    {"grub", cmd_grub, false, TAKES(T_WRITE) | TAKES(T_RESTORE) | TAKES(T_NO_WAIT)},
    {"bench", cmd_bench, false, TAKES(T_SCOPE)},
    {"list", cmd_list, true, 0},
    {"show", cmd_show, false, 0},
    {"plan", cmd_plan, true, 0},
    {"check", cmd_check, false, 0},
    {"status", cmd_status, true, TAKES(T_PROMETHEUS)},
    {"snapshot", cmd_snapshot, false, 0},
    {"verify", cmd_verify, true, 0},
    {"confirm", cmd_confirm, true, 0},
};

/* What main gathers before a command runs. */
struct args {
	const char *policies, *config, *confirm_within;
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* The options of enum take on the command line, as a mask. */
static unsigned options_given(const struct ctx *c, const struct args *a)
{
	const bool given[_T_MAX] = {
	    [T_WRITE] = c->grub_write,
	    [T_RESTORE] = c->grub_restore,
	    [T_DRY_RUN] = c->dry_run,
	    [T_FORCE] = c->force,
	    [T_NO_WAIT] = c->no_wait,
	    [T_SCOPE] = c->scope != NULL,
	    [T_CONFIRM_WITHIN] = a->confirm_within != NULL,
	    [T_PROMETHEUS] = c->prometheus,
	};
	unsigned mask = 0;

	for (int t = 0; t < _T_MAX; t++)
		mask |= given[t] ? TAKES(t) : 0;
	return mask;
}

/* An option given to a command (NULL: an unknown one) that does not take
 * it: "--force is an option of apply and revert only", for the first in the
 * order of enum take, the commands named from the table. */
static int check_options(unsigned given, const struct command *cmd)
{
	unsigned refused = given & ~(cmd ? cmd->takes : 0);
	struct sbuf b = {0};
	size_t n = 0, k = 0;
	char *who;
	int t = 0;

	if (!refused)
		return EXIT_OK;
	while (!(refused & TAKES(t)))
		t++;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		n += (commands[i].takes & TAKES(t)) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].takes & TAKES(t)) {
			sbuf_adds(&b, k == 0 ? "" : k + 1 == n ? " and " : ", ");
			sbuf_adds(&b, commands[i].name);
			k++;
		}
	who = sbuf_take(&b);
	err_msg("--%s is an option of %s only", take_names[t], who ? who : "?");
	free(who);
	return EXIT_USAGE;
}

/* The options, before or after the command ("isoctl plan dedicated --json"),
 * into c and a. -1 to go on, or the exit status (--help, --version, an
 * unknown option). */
static int parse_options(int argc, char **argv, struct ctx *c, struct args *a)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"policies", required_argument, NULL, 'p'},
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"write", no_argument, NULL, OPT_WRITE},
	    {"restore", no_argument, NULL, OPT_RESTORE},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
	    {"scope", required_argument, NULL, OPT_SCOPE},
	    {"confirm-within", required_argument, NULL, OPT_CONFIRM_WITHIN},
	    {"direct", no_argument, NULL, OPT_DIRECT},
	    {"prometheus", no_argument, NULL, OPT_PROMETHEUS},
	    BENCH_LONG_OPTIONS, /* the bench's own, last: handed to it */
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "r:p:c:jahVnf", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			c->root = optarg;
			break;
		case 'p':
			a->policies = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'a':
			c->all = true;
			break;
		case 'n':
			c->dry_run = true;
			break;
		case 'f':
			c->force = true;
			break;
		case OPT_NO_WAIT:
			c->no_wait = true;
			break;
		case OPT_SCOPE:
			c->scope = optarg;
			break;
		case OPT_CONFIRM_WITHIN:
			a->confirm_within = optarg;
			break;
		case OPT_DIRECT:
			c->direct = true;
			break;
		case OPT_PROMETHEUS:
			c->prometheus = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			puts("isoctl " ISO_VERSION);
			return EXIT_OK;
		case OPT_WRITE:
			c->grub_write = true;
			break;
		case OPT_RESTORE:
			c->grub_restore = true;
			break;
		default:
			if (opt >= BENCH_OPT_FIRST && opt < BENCH_OPT_FIRST + BENCH_OPT_COUNT) {
				c->bench_opts[opt - BENCH_OPT_FIRST] = optarg ? optarg : "";
				c->bench_given = true;
				break;
			}
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* The arguments that need no file: --confirm-within, --root. */
static int check_args(struct ctx *c, const struct args *a)
{
	int r;

	if (a->confirm_within && (r = ctx_set_confirm_within(c, a->confirm_within)) != EXIT_OK)
		return r;
	if (a->confirm_within && c->dry_run) {
		err_msg("--confirm-within and --dry-run: a dry run applies nothing to confirm");
		return EXIT_USAGE;
	}
	if (c->root) {
		struct stat st;

		if (stat(c->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			err_msg("--root %s: not a directory", c->root);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* The policy directories and host.conf: --policies, --config, the build
 * tree's, the --root tree's or the installed ones. */
static int find_files(struct ctx *c, const struct args *a)
{
	if (a->policies) {
		c->policies_given = true;
		if (strv_push_dup(&c->policy_dirs, a->policies) < 0)
			goto oom;
	} else {
		char *repo = modes_build_tree_dir();

		if (repo) {
			c->example = util_sprintf("%s/host.conf.example", repo);
			if (strv_push(&c->policy_dirs, repo) < 0)
				goto oom;
		} else if (strv_push_dup(&c->policy_dirs, ISO_SYSCONFDIR) < 0 ||
			   strv_push_dup(&c->policy_dirs, ISO_DATADIR "/policies") < 0)
			goto oom;
	}
	if (a->config) {
		c->hostconf_path = util_sprintf("%s/host.conf", a->config);
		c->hostconf_given = true;
	} else {
		char *in_root = c->root ? util_sprintf("%s/etc/isolated/host.conf", c->root) : NULL;

		if (in_root && access(in_root, F_OK) == 0) {
			c->hostconf_path = in_root;
			c->hostconf_in_root = true;
		}
		else {
			free(in_root);
			c->hostconf_path = strdup(ISO_SYSCONFDIR "/host.conf");
		}
	}
	if (!c->hostconf_path)
		goto oom;

	return EXIT_OK;
oom:
	err_msg("out of memory");
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct ctx c = {0};
	struct args a = {0};
	const struct command *cmd;
	int r;

	/* isoctl bench re-executes itself as the RT VM it measures (bench.h). */
	if (argc >= 2 && strcmp(argv[1], BENCH_VM_ARG) == 0)
		return bench_vm_main(argc, argv);
	if ((r = parse_options(argc, argv, &c, &a)) >= 0)
		return r;
	if (optind >= argc) {
		err_msg("no command given (see isoctl --help)");
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if ((r = check_options(options_given(&c, &a), cmd)) != EXIT_OK)
		return r;
	if (c.bench_given && strcmp(argv[optind], "bench") != 0) {
		err_msg(
		    "--duration, --warmup, --interval, --probe, --net, --load, --hogs, --rounds, --workload, "
		    "--rate, --conns, --rt-cpus, --keep-idle, --csv, --plot and --output are options of bench only");
		return EXIT_USAGE;
	}
	if ((r = check_args(&c, &a)) != EXIT_OK || (r = find_files(&c, &a)) != EXIT_OK) {
		ctx_done(&c);
		return r;
	}
	if (cmd) {
		if (cmd->bus)
			client_open(&c);
		r = cmd->fn(&c, argc - optind - 1, argv + optind + 1);
	} else {
		err_msg("unknown command \"%s\" (see isoctl --help)", argv[optind]);
		r = EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err_msg("writing output: %s", strerror(errno));
		r = EXIT_FAIL;
	}
	ctx_done(&c);
	return r;
}
