#!/bin/bash
# Does isoctl bench's wakeup probe agree with cyclictest? Runs
# `isoctl bench --json MODES` alternately with the built-in probe and with
# --probe cyclictest, ROUNDS times each (alternating, so drift of the machine
# hits both alike), pools each probe's histograms per mode and prints p50,
# p99 and the difference. A benchmark: it prints figures, it asserts nothing.
#   usage: tests/bench/probe-agreement.sh [ROUNDS [DURATION [MODES...]]]
# As root, with rt-tests installed; about ROUNDS * 2 * (2 + n_modes *
# (DURATION + 2)) seconds.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
isoctl=${ISOCTL:-$top/build/isoctl}
rounds=${1:-4}
duration=${2:-10}
shift 2 2>/dev/null || shift $#
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(vanilla dedicated)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for i in $(seq "$rounds"); do
	for probe in isolated cyclictest; do
		"$isoctl" bench --duration "$duration" --probe "$probe" --json "${modes[@]}" >"$out/$probe.$i.json"
		echo "round $i $probe done" >&2
	done
done

/usr/bin/python3 - "$out" "$rounds" <<'EOF'
import json, sys, glob, os
out, rounds = sys.argv[1], int(sys.argv[2])

def pooled(probe):
    """mode -> {(low, high): count} over all rounds, and per-round p50/p99"""
    pools, rounds_seen = {}, {}
    for f in sorted(glob.glob(os.path.join(out, probe + ".*.json"))):
        d = json.load(open(f))
        for m in d["modes"]:
            w = m["probes"]["wakeup"]
            pool = pools.setdefault(m["mode"], {})
            for low, high, n in w["histogram"]:
                pool[(low, high)] = pool.get((low, high), 0) + n
            rounds_seen.setdefault(m["mode"], []).append((w["p50_us"], w["p99_us"]))
    return pools, rounds_seen

def pct(pool, p):
    total = sum(pool.values())
    rank, cum = -(-p * total // 100), 0
    for (low, high), n in sorted(pool.items()):
        cum += n
        if cum >= rank:
            return high
    return 0.0

ours, ours_rounds = pooled("isolated")
ct, ct_rounds = pooled("cyclictest")
print("pooled over %d rounds; wakeup latency in microseconds" % rounds)
print("%-12s %10s %10s %7s   %10s %10s %7s" % ("mode", "ours p50", "ct p50", "diff", "ours p99", "ct p99", "diff"))
for mode in ours:
    o50, c50, o99, c99 = pct(ours[mode], 50), pct(ct[mode], 50), pct(ours[mode], 99), pct(ct[mode], 99)
    print("%-12s %10.1f %10.1f %+6.1f%%   %10.1f %10.1f %+6.1f%%" % (
        mode, o50, c50, (o50 - c50) / c50 * 100, o99, c99, (o99 - c99) / c99 * 100))
print("per round (p50/p99): ")
for mode in ours:
    print("  %-10s ours %s" % (mode, " ".join("%.1f/%.1f" % r for r in ours_rounds[mode])))
    print("  %-10s ct   %s" % (mode, " ".join("%.1f/%.1f" % r for r in ct_rounds[mode])))
EOF
