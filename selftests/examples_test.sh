#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The examples run and succeed as built in the tree, and as built against
# the staged `make install` (build/stage): with the shared library, found
# through LD_LIBRARY_PATH, and statically linked.
. "$(dirname "$0")/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
lib=$(dirname "$(find "$top/build/stage" -name libpager.so.1 -print -quit 2>/dev/null)")

shopt -s nullglob
examples=()
for e in "$top"/build/examples/*; do
	case $e in *-shared|*-static) ;; *) examples+=("$e") ;; esac
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

for e in "${examples[@]}"; do
	n=${e##*/}
	if run "$n" "$e"; then tap_ok "$n"; else tap_not_ok "$n"; fi
	if [ ! -x "$e-shared" ] || [ -z "$lib" ]; then
		tap_not_ok "$n-shared: not built against build/stage"
	elif run "$n" env LD_LIBRARY_PATH="$lib" "$e-shared"; then
		tap_ok "$n-shared"
	else
		tap_not_ok "$n-shared"
	fi
	if [ ! -x "$e-static" ]; then
		tap_not_ok "$n-static: not built"
	elif run "$n" "$e-static"; then
		tap_ok "$n-static"
	else
		tap_not_ok "$n-static"
	fi
done
tap_exit
