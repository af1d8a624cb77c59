#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The examples run and succeed as built in the tree, and as built against
# the staged `make install` (build/stage): with the shared library, found
# through LD_LIBRARY_PATH, and statically linked.  How each runs:
# selftests/examples.sh.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/examples.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
lib=$(dirname "$(find "$top/build/stage" -name libpager.so.1 -print -quit 2>/dev/null)")
dir=$top/build/examples

read -ra examples <<<"$(examples "$dir" | tr '\n' ' ')"
tap_plan $((3 * ${#examples[@]}))
for n in "${examples[@]}"; do
	if example "$dir" "$n" ""; then tap_ok "$n"; else tap_not_ok "$n"; fi
	if [ ! -x "$dir/$n-shared" ] || [ -z "$lib" ]; then
		tap_not_ok "$n-shared: not built against build/stage"
	elif example "$dir" "$n" -shared LD_LIBRARY_PATH="$lib"; then
		tap_ok "$n-shared"
	else
		tap_not_ok "$n-shared"
	fi
	if [ ! -x "$dir/$n-static" ]; then
		tap_not_ok "$n-static: not built"
	elif example "$dir" "$n" -static; then
		tap_ok "$n-static"
	else
		tap_not_ok "$n-static"
	fi
done
tap_exit
