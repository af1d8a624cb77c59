#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The examples run and succeed as built in the tree, and as built against
# the staged `make install` (build/stage): with the shared library, found
# through LD_LIBRARY_PATH, and statically linked.
#
# hello_pager serves on a unix socket: it is started, hello_client is run
# against it, and it is stopped with SIGTERM.  The others run alone.
. "$(dirname "$0")/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
lib=$(dirname "$(find "$top/build/stage" -name libpager.so.1 -print -quit 2>/dev/null)")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
examples=()
for e in "$top"/build/examples/*; do
	case $e in *-shared | *-static | */hello_client) ;; *) examples+=("$e") ;; esac
done
tap_plan $((3 * ${#examples[@]}))

# run NAME CMD...: the example exits 0, its last line starting "NAME: ".
run() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && tail -n 1 <<<"$out" | grep -q "^$name: "; then
		return 0
	fi
	echo "$out" | sed 's/^/# /'
	echo "# status $rc"
	return 1
}

# hello PAGER CLIENT [ENV...]: the client reads the pager's greeting from
# page 0, and the pager, stopped, prints what the client wrote in page 1.
hello() {
	local pager=$1 client=$2 sock=$tmp/hello.sock out=$tmp/pager.out pid i ok=1 cout
	shift 2
	env "$@" "$pager" "$sock" >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^hello_pager: serving' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cout=$(env "$@" "$client" "$sock" 2>&1)
	if [ "$?" != 0 ] || [ "$cout" != 'hello_client: page 0: "Hello from the pager!"' ]; then
		echo "$cout" | sed 's/^/# client: /'
		ok=0
	fi
	kill -TERM "$pid"
	wait "$pid" || ok=0
	if ! grep -q '^hello_pager: page 1: "Hello back from client [0-9]*"$' "$out" ||
		[ "$(tail -n 1 "$out")" != 'hello_pager: stopped' ]; then
		ok=0
	fi
	[ "$ok" = 1 ] || sed 's/^/# pager: /' "$out"
	[ "$ok" = 1 ]
}

# example NAME SUFFIX [ENV...]: one build of one example.
example() {
	local n=$1 suffix=$2 e=$top/build/examples/$1
	shift 2
	case $n in
	hello_pager) hello "$e$suffix" "$top/build/examples/hello_client$suffix" "$@" ;;
	*) run "$n" env "$@" "$e$suffix" ;;
	esac
}

for e in "${examples[@]}"; do
	n=${e##*/}
	if example "$n" ""; then tap_ok "$n"; else tap_not_ok "$n"; fi
	if [ ! -x "$e-shared" ] || [ -z "$lib" ]; then
		tap_not_ok "$n-shared: not built against build/stage"
	elif example "$n" -shared LD_LIBRARY_PATH="$lib"; then
		tap_ok "$n-shared"
	else
		tap_not_ok "$n-shared"
	fi
	if [ ! -x "$e-static" ]; then
		tap_not_ok "$n-static: not built"
	elif example "$n" -static; then
		tap_ok "$n-static"
	else
		tap_not_ok "$n-static"
	fi
done
tap_exit
