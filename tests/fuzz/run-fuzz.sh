#!/bin/bash
# make fuzz: run-fuzz.sh FUZZ_BUILD SECONDS HARNESS... runs each libFuzzer
# harness FUZZ_BUILD/fuzz-NAME for SECONDS on its seeds (FUZZ_BUILD/seeds/NAME,
# from make-seeds.sh) and regression corpus (tests/fuzz/corpus/NAME). New
# inputs go to the scratch corpus FUZZ_BUILD/corpus/NAME, crashes, leaks and
# timeouts to FUZZ_BUILD/crashes/NAME-*. Prints the final coverage and speed
# of each; exit status 1 if any harness found anything.
set -u
out=$1 secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
fail=()

max_len() {
	case $1 in
	cpuset) echo 512 ;;
	procstat | cmdline) echo 4096 ;;
	grub) echo 8192 ;;
	interrupts) echo 20000 ;;
	*) echo 16384 ;;
	esac
}

mkdir -p "$out/crashes"
for h in "$@"; do
	bin=$out/fuzz-$h
	[ -x "$bin" ] || { echo "no harness $bin" >&2; exit 2; }
	mkdir -p "$out/corpus/$h" "$out/seeds/$h"
	dict=()
	[ -e "$top/tests/fuzz/$h.dict" ] && dict=(-dict="$top/tests/fuzz/$h.dict")
	log=$out/$h.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len="$(max_len "$h")" \
		-print_final_stats=1 -artifact_prefix="$out/crashes/$h-" "${dict[@]}" \
		"$out/corpus/$h" "$out/seeds/$h" "$top/tests/fuzz/corpus/$h" >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz-%s: %s exec/s; %s\n' "$h" "${eps:-?}" "$done_line"
	else
		printf 'fuzz-%s FAILED (exit %d): see %s and %s/crashes/%s-*\n' "$h" "$rc" "$log" "$out" "$h" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY:|.*runtime error:)' "$log" | head -5 >&2
		fail+=("$h")
	fi
done
# The closing line CI reads, as tests/run-tests.sh prints it.
printf 'fuzz: %d passed, %d failed\n' $(($# - ${#fail[@]})) "${#fail[@]}"
[ "${#fail[@]}" -eq 0 ] || { echo "fuzz: found something in: ${fail[*]}" >&2; exit 1; }
