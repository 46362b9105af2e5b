/* isoctl: look at and (later) switch the isolation mode of a KVM host.
 * main() parses the global options, finds policies and host.conf, and hands
 * over to one command. Errors: one line "isoctl: ..." on stderr. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "isolated/modes.h"
#include "isoctl.h"

#ifndef ISO_DATADIR
#define ISO_DATADIR "/usr/share/isolated"
#endif
#ifndef ISO_SYSCONFDIR
#define ISO_SYSCONFDIR "/etc/isolated"
#endif
#define ISO_VERSION "0.1"

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
	      "  bench MODE [MODE...] the same RT probes and best-effort load under each mode in turn,\n"
	      "                       compared side by side (latency percentiles, throughput)\n"
	      "\n"
	      "Options:\n"
	      "  -r, --root DIR       read a tree laid out like / instead of the running kernel\n"
	      "  -p, --policies DIR   read policies from DIR\n"
	      "  -c, --config DIR     read host.conf from DIR\n"
	      "  -j, --json           machine-readable output\n"
	      "  -a, --all            status: list every thread; apply: list every step\n"
	      "  -n, --dry-run        apply, revert: show the transaction, write nothing\n"
	      "  -f, --force          apply, revert: also overwrite values another tool changed\n"
	      "                       after isolated wrote them (normally left alone)\n"
	      "      --no-wait        apply, revert, grub: fail instead of waiting for another isoctl\n"
	      "      --scope SCOPE    apply: host, process:PID or cgroup:PATH (overrides the policy)\n"
	      "      --confirm-within DURATION\n"
	      "                       apply: go back to the previous mode after DURATION (60s, 2m,\n"
	      "                       1h) unless isoctl confirm comes first (needs the daemon)\n"
	      "      --direct         do the work in isoctl even when the isolated daemon runs\n"
	      "\n"
	      "bench options (see isoctl(8)):\n"
	      "      --duration D     measure each mode this long (default 20s)\n"
	      "      --warmup D       run the load this long before measuring (default 2s)\n"
	      "      --interval USEC  wakeup probe period (default 1000)\n"
	      "      --probe P        wakeup probe: isolated (default) or cyclictest (rt-tests)\n"
	      "      --net N          NetRT and stream path: veth (default) or loopback\n"
	      "      --load L         cpu,net (default), cpu, net or none\n"
	      "      --hogs N         CPU hogs (default: one per online CPU)\n"
	      "      --rt-cpus LIST   the RT CPUs (default: host.conf's rt_cpus, else the last CPU)\n"
	      "      --keep-idle      do not hold /dev/cpu_dma_latency at 0 while measuring\n"
	      "      --scope host     apply the modes to the whole host (default: the bench only)\n"
	      "      --csv            CSV instead of the table\n"
	      "      --plot FILE.svg  also draw the latency distributions\n"
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
	OPT_DURATION,
	OPT_WARMUP,
	OPT_INTERVAL,
	OPT_PROBE,
	OPT_NET,
	OPT_LOAD,
	OPT_HOGS,
	OPT_RT_CPUS,
	OPT_KEEP_IDLE,
	OPT_CSV,
	OPT_PLOT,
};

static const struct command {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
	bool bus; /* the daemon has a method for it */
} commands[] = {
    {"list", cmd_list, true},	       {"show", cmd_show, false},      {"plan", cmd_plan, true},
    {"check", cmd_check, false},       {"grub", cmd_grub, false},      {"status", cmd_status, true},
    {"snapshot", cmd_snapshot, false}, {"apply", cmd_apply, true},     {"revert", cmd_revert, true},
    {"verify", cmd_verify, true},      {"confirm", cmd_confirm, true}, {"bench", cmd_bench, false},
};

int main(int argc, char **argv)
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
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"warmup", required_argument, NULL, OPT_WARMUP},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"probe", required_argument, NULL, OPT_PROBE},
	    {"net", required_argument, NULL, OPT_NET},
	    {"load", required_argument, NULL, OPT_LOAD},
	    {"hogs", required_argument, NULL, OPT_HOGS},
	    {"rt-cpus", required_argument, NULL, OPT_RT_CPUS},
	    {"keep-idle", no_argument, NULL, OPT_KEEP_IDLE},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"plot", required_argument, NULL, OPT_PLOT},
	    {NULL, 0, NULL, 0},
	};
	struct ctx c = {0};
	const char *policies = NULL, *config = NULL, *confirm_within = NULL;
	int opt, r = EXIT_USAGE;

	/* isoctl bench re-executes itself as the RT VM it measures (bench.h). */
	if (argc >= 2 && strcmp(argv[1], BENCH_VM_ARG) == 0)
		return bench_vm_main(argc, argv);
	/* Options may come before or after the command ("isoctl plan dedicated --json"). */
	while ((opt = getopt_long(argc, argv, "r:p:c:jahVnf", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			c.root = optarg;
			break;
		case 'p':
			policies = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'a':
			c.all = true;
			break;
		case 'n':
			c.dry_run = true;
			break;
		case 'f':
			c.force = true;
			break;
		case OPT_NO_WAIT:
			c.no_wait = true;
			break;
		case OPT_SCOPE:
			c.scope = optarg;
			break;
		case OPT_CONFIRM_WITHIN:
			confirm_within = optarg;
			break;
		case OPT_DIRECT:
			c.direct = true;
			break;
		case OPT_DURATION:
			c.bench.duration = optarg;
			c.bench.any = true;
			break;
		case OPT_WARMUP:
			c.bench.warmup = optarg;
			c.bench.any = true;
			break;
		case OPT_INTERVAL:
			c.bench.interval = optarg;
			c.bench.any = true;
			break;
		case OPT_PROBE:
			c.bench.probe = optarg;
			c.bench.any = true;
			break;
		case OPT_NET:
			c.bench.net = optarg;
			c.bench.any = true;
			break;
		case OPT_LOAD:
			c.bench.load = optarg;
			c.bench.any = true;
			break;
		case OPT_HOGS:
			c.bench.hogs = optarg;
			c.bench.any = true;
			break;
		case OPT_RT_CPUS:
			c.bench.rt_cpus = optarg;
			c.bench.any = true;
			break;
		case OPT_KEEP_IDLE:
			c.bench.keep_idle = c.bench.any = true;
			break;
		case OPT_CSV:
			c.bench.csv = c.bench.any = true;
			break;
		case OPT_PLOT:
			c.bench.plot = optarg;
			c.bench.any = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			puts("isoctl " ISO_VERSION);
			return EXIT_OK;
		case OPT_WRITE:
			c.grub_write = true;
			break;
		case OPT_RESTORE:
			c.grub_restore = true;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		err_msg("no command given (see isoctl --help)");
		return EXIT_USAGE;
	}
	if ((c.grub_write || c.grub_restore) && strcmp(argv[optind], "grub") != 0) {
		err_msg("--%s is an option of grub only", c.grub_write ? "write" : "restore");
		return EXIT_USAGE;
	}
	if ((c.dry_run || c.force) && strcmp(argv[optind], "apply") != 0 && strcmp(argv[optind], "revert") != 0) {
		err_msg("--%s is an option of apply and revert only", c.dry_run ? "dry-run"
								      : c.force ? "force"
										: "no-wait");
		return EXIT_USAGE;
	}
	if (c.no_wait && strcmp(argv[optind], "apply") != 0 && strcmp(argv[optind], "revert") != 0 &&
	    strcmp(argv[optind], "grub") != 0) {
		err_msg("--no-wait is an option of apply, revert and grub only");
		return EXIT_USAGE;
	}
	if (c.scope && strcmp(argv[optind], "apply") != 0 && strcmp(argv[optind], "bench") != 0) {
		err_msg("--scope is an option of apply and bench only");
		return EXIT_USAGE;
	}
	if (confirm_within && strcmp(argv[optind], "apply") != 0) {
		err_msg("--confirm-within is an option of apply only");
		return EXIT_USAGE;
	}
	if (c.bench.any && strcmp(argv[optind], "bench") != 0) {
		err_msg("--duration, --warmup, --interval, --probe, --net, --load, --hogs, --rt-cpus, --keep-idle, "
			"--csv and --plot are options of bench only");
		return EXIT_USAGE;
	}
	if (confirm_within && (r = ctx_set_confirm_within(&c, confirm_within)) != EXIT_OK)
		return r;
	if (confirm_within && c.dry_run) {
		err_msg("--confirm-within and --dry-run: a dry run applies nothing to confirm");
		return EXIT_USAGE;
	}
	if (c.root) {
		struct stat st;

		if (stat(c.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			err_msg("--root %s: not a directory", c.root);
			return EXIT_USAGE;
		}
	}
	if (policies) {
		c.policies_given = true;
		if (strv_push_dup(&c.policy_dirs, policies) < 0)
			goto oom;
	} else {
		char *repo = modes_build_tree_dir();

		if (repo) {
			c.example = util_sprintf("%s/host.conf.example", repo);
			if (strv_push(&c.policy_dirs, repo) < 0)
				goto oom;
		} else if (strv_push_dup(&c.policy_dirs, ISO_SYSCONFDIR) < 0 ||
			   strv_push_dup(&c.policy_dirs, ISO_DATADIR "/policies") < 0)
			goto oom;
	}
	if (config) {
		c.hostconf_path = util_sprintf("%s/host.conf", config);
		c.hostconf_given = true;
	} else {
		char *in_root = c.root ? util_sprintf("%s/etc/isolated/host.conf", c.root) : NULL;

		if (in_root && access(in_root, F_OK) == 0) {
			c.hostconf_path = in_root;
			c.hostconf_in_root = true;
		}
		else {
			free(in_root);
			c.hostconf_path = strdup(ISO_SYSCONFDIR "/host.conf");
		}
	}
	if (!c.hostconf_path)
		goto oom;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			if (commands[i].bus)
				client_open(&c);
			r = commands[i].fn(&c, argc - optind - 1, argv + optind + 1);
			goto out;
		}
	err_msg("unknown command \"%s\" (see isoctl --help)", argv[optind]);
	r = EXIT_USAGE;
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err_msg("writing output: %s", strerror(errno));
		r = EXIT_FAIL;
	}
	client_close(&c);
	hostconf_free(c.hc);
	cpuset_free(&c.online);
	host_state_free(c.state);
	host_free(c.host);
	strv_free(c.policy_dirs);
	free(c.hostconf_path);
	free(c.example);
	return r;
oom:
	err_msg("out of memory");
	return EXIT_FAIL;
}
