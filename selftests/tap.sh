# SPDX-License-Identifier: GPL-2.0
# TAP output for the shell selftests, in the form kselftest_harness.h uses.
tap_n=0 tap_failed=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $1"; }
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n $1 # SKIP $2"; }
tap_not_ok() {
	tap_n=$((tap_n + 1)) tap_failed=$((tap_failed + 1))
	[ -z "${2:-}" ] || sed 's/^/# /' <<<"$2"
	echo "not ok $tap_n $1"
}
tap_exit() { exit $((tap_failed > 0)); }
