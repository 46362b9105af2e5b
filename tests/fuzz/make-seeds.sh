#!/bin/bash
# make fuzz: make-seeds.sh DIR ISOCTL writes a seed corpus for every harness
# into DIR/NAME/ from the fixtures and tests/data (so the repo holds no copies),
# plus a journal written by ISOCTL applying a mode to a fixture copy.
set -eu
out=$1 isoctl=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
n=0
seed() { # HARNESS FILE...: one seed, the concatenation of the files
	mkdir -p "$out/$1"
	n=$((n + 1))
	local h=$1
	shift
	cat "$@" >"$out/$h/seed-$n"
}

for f in tests/fixtures/*/proc/interrupts tests/data/interrupts-*; do
	case $f in *.source) continue ;; esac
	seed interrupts "$f"
done
# A sample of the fixtures' threads: every 16th stat and status, and tests/data.
find tests/fixtures -path '*/proc/*' \( -name stat -o -name status \) | LC_ALL=C sort | awk 'NR % 16 == 1' |
	while read -r f; do seed procstat "$f"; done
for f in tests/data/stat-* tests/data/status-*; do
	case $f in *.source) ;; *) seed procstat "$f" ;; esac
done
for f in tests/fixtures/*/etc/default/grub tests/data/grub-plain tests/data/grub-tricky; do
	seed grub "$f"
done
for f in tests/fixtures/*/proc/cmdline; do
	seed cmdline "$f"
done
find tests/fixtures -path '*/proc/*/cmdline' | LC_ALL=C sort | awk 'NR % 8 == 1' |
	while read -r f; do seed cmdline "$f"; done
# cpu lists and masks as the kernel prints them.
for f in tests/fixtures/*/sys/devices/system/cpu/online tests/fixtures/*/proc/irq/default_smp_affinity; do
	[ -e "$f" ] && seed cpuset "$f"
done
find tests/fixtures -path '*/proc/irq/*' -name 'smp_affinity*' | LC_ALL=C sort | awk 'NR % 8 == 1' |
	while read -r f; do seed cpuset "$f"; done
# Policies: each with each fixture's host.conf, separated as fuzz-policy.c expects.
sep=$(mktemp)
trap 'rm -f "$sep"; rm -rf "${tree:-}"' EXIT
printf '\n----\n' >"$sep"
for p in policies/*.conf policies/examples/*.conf tests/data/plan/*.conf tests/data/policies/terms.conf; do
	[ -e "$p" ] || continue
	case $p in */host.conf) continue ;; esac
	for hc in tests/fixtures/*/etc/isolated/host.conf tests/data/policies/host.conf policies/examples/host.conf; do
		seed policy "$hc" "$sep" "$p"
	done
	seed policy "$p"
done
# Journals: the unit tests' samples (format 1, format 2 with records), and one isoctl writes now.
seed journal tests/data/journal/v1-dedicated
seed journal tests/data/journal/v2-records
if [ -x "$isoctl" ]; then
	tree=$(mktemp -d)
	cp -a tests/fixtures/kvm16/. "$tree"
	if "$isoctl" --root "$tree" apply dedicated >/dev/null 2>&1 && [ -e "$tree/run/isolated/journal" ]; then
		seed journal "$tree/run/isolated/journal"
	else
		echo "make-seeds: isoctl apply on a kvm16 copy wrote no journal; using tests/data only" >&2
	fi
	# The boot transaction's journal: dedicated's grub, drop-in and modprobe.d.
	if "$isoctl" --root "$tree" boot apply dedicated >/dev/null 2>&1 && [ -e "$tree/var/lib/isolated/boot/journal" ]; then
		seed bootjournal "$tree/var/lib/isolated/boot/journal"
	fi
fi
