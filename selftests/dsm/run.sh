#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-dsm, in each guest of `scripts/vm pair --kernel=stock --
# selftests/dsm/run.sh`: this guest's node of dsmpager's two-guest test
# (build/selftests/dsm_pair; the cases are in selftests/dsm_pair.c).  It
# takes EPVM_NODE, EPVM_ADDR, EPVM_PEER_ADDR and EPVM_PAIR_DIR from
# scripts/vm.  Node 0 prints the TAP of the pair and the closing line
# "N passed, M failed, K skipped"; each node exits non-zero if a case failed.
#
# Without EPVM_NODE (scripts/vm run -- selftests/dsm/run.sh), both nodes run
# in this one kernel, over 127.0.0.1, their barriers in a temporary
# directory: the same program, for trying it without a pair of guests.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
prog=$top/build/selftests/dsm_pair

if [ ! -x "$prog" ] || [ ! -x "$top/build/daemons/dsmpager" ]; then
	echo "dsm/run.sh: build first (make all)" >&2
	exit 2
fi
if ! command -v nbdkit >/dev/null; then
	echo "dsm/run.sh: nbdkit is missing (make deps)" >&2
	exit 2
fi

if [ -n "${EPVM_NODE:-}" ]; then
	exec "$prog"
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export EPVM_NODES=2 EPVM_ADDR=127.0.0.1 EPVM_PEER_ADDR=127.0.0.1 EPVM_PAIR_DIR=$dir
(EPVM_NODE=1 "$prog" | sed -u 's/^/[1] /') &
node1=$!
rc=0
EPVM_NODE=0 "$prog" | sed -u 's/^/[0] /' || rc=$?
wait "$node1" || rc=$?
exit "$rc"
