#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/ynl, the kernel's YNL CLI with our spec, as the docs use it: it
# lists the family's operations, and dumps and gets an object that
# examples/hello_pager serves.
. "$(dirname "$0")/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
ynl=$top/scripts/ynl
tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid"; rm -rf "$tmp"' EXIT
size=$((4 * $(getconf PAGESIZE)))

tap_plan 3

out=$("$ynl" --list-ops 2>&1)
if grep -q '^object-get' <<<"$out" && grep -q '^object-create' <<<"$out"; then
	tap_ok "scripts/ynl --list-ops"
else
	tap_not_ok "scripts/ynl --list-ops" "$out"
fi

"$top/build/examples/hello_pager" "$tmp/sock" >"$tmp/pager.out" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
	grep -q serving "$tmp/pager.out" && break
	sleep 0.1
done

out=$("$ynl" --dump object-get 2>&1)
id=$(grep -o "'id': [0-9]*" <<<"$out" | head -n 1 | cut -d' ' -f2)
if [ -n "$id" ] && grep -q "'size': $size\b" <<<"$out"; then
	tap_ok "scripts/ynl --dump object-get: hello_pager's object"
else
	tap_not_ok "scripts/ynl --dump object-get" "$out"
fi

out=$("$ynl" --do object-get --json "{\"id\": ${id:-0}}" 2>&1)
if grep -q "'id': ${id:-none}\b" <<<"$out" && grep -q "'size': $size\b" <<<"$out"; then
	tap_ok "scripts/ynl --do object-get --json '{\"id\": $id}'"
else
	tap_not_ok "scripts/ynl --do object-get" "$out"
fi
tap_exit
