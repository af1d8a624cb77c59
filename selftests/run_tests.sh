#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests (all, or those named) and tally their test cases.
# Meant to run in the VM: scripts/vm run -- selftests/run_tests.sh [NAME...]
#
# Each program prints TAP; its top-level "ok"/"not ok" lines are counted, a
# "# SKIP" as skipped.  A program that exits non-zero without a failed case,
# prints no case at all, or outlives EXTPAGER_TEST_TIMEOUT seconds (default
# 1800) counts as one more failure.  Exits non-zero if anything failed.
#
# libpager serves over the data channel (LIBPAGER_TRANSPORT=channel, so that
# a silent fallback to netlink fails); the suites that exercise faults,
# libpager and pageout run a second time over netlink alone.
#
# A case that hangs is caught by the harness, at its own timeout; this limit
# is for a program that hangs outside its cases, so it is far above the sum
# of any program's cases on a slow guest (defpager_test: 270 s on the debug
# kernel under TCG; three times that on a loaded host).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
timeout=${EXTPAGER_TEST_TIMEOUT:-1800}

progs=()
if [ $# -gt 0 ]; then
	for name in "$@"; do
		for p in "$top/build/selftests/$name" "$top/selftests/$name" "$name"; do
			[ -x "$p" ] && [ -f "$p" ] && { progs+=("$p"); continue 2; }
		done
		echo "run_tests: no selftest '$name'" >&2
		exit 2
	done
else
	# Those that need no kernel scripts/check runs on the host, once: in
	# the guest, each of man_test.sh's processes costs seconds.
	host_only=" man_test.sh "
	shopt -s nullglob
	for p in "$top"/build/selftests/*_test "$top"/selftests/*_test.sh; do
		[[ $host_only = *" ${p##*/} "* ]] || progs+=("$p")
	done
fi

# Kernels whose io_uring commands cannot be cancelled (before 6.7) have no
# data channel (module/compat.h): there every program runs once, libpager
# choosing its transport, which is netlink; channel_test checks the refusal
# and the fallback.
both=" fault_test libpager_test pageout_test "
if grep -q ' io_uring_cmd_mark_cancelable$' /proc/kallsyms; then
	first=channel
else
	first=auto both=" "
	echo "# no data channel on this kernel: libpager serves over netlink"
fi
runs=()
for p in "${progs[@]}"; do
	runs+=("$first $p")
	[[ $both = *" ${p##*/} "* ]] && runs+=("netlink $p")
done

pass=0 fail=0 skip=0
out=$(mktemp)
for run in "${runs[@]}"; do
	transport=${run%% *} p=${run#* }
	name=${p##*/}
	[[ $both = *" $name "* ]] && name="$name ($transport)"
	echo "# selftests: extpager: $name"
	start=$SECONDS
	[ "$transport" = auto ] && transport=
	LIBPAGER_TRANSPORT=$transport timeout -k 10 "$timeout" "$p" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "# $name: $((SECONDS - start)) s"
	n_pass=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
	n_skip=$(grep -cE '^ok [0-9]+.*# SKIP' "$out")
	n_fail=$(grep -cE '^not ok [0-9]+' "$out")
	n_pass=$((n_pass - n_skip))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "# $name: killed after ${timeout}s"
		n_fail=$((n_fail + 1))
	elif [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
		echo "# $name: exited with status $rc but reported no failed case"
		n_fail=$((n_fail + 1))
	elif [ $((n_pass + n_skip + n_fail)) = 0 ]; then
		echo "# $name: ran no test case"
		n_fail=$((n_fail + 1))
	fi
	pass=$((pass + n_pass)) fail=$((fail + n_fail)) skip=$((skip + n_skip))
done
rm -f "$out"
echo "# totals: pass $pass fail $fail skip $skip"
[ "$fail" = 0 ]
