#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man pages in man/ render without a single warning, with groff and with
# man-db, and they agree with what they document: every function libpager.so
# exports has a page or a .so link (and no page documents a function that is
# gone), each page's SYNOPSIS shows the prototypes exactly as libpager.h
# declares them, and each daemon's page documents exactly the options its
# --help lists.
. "$(dirname "$0")/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
man=$top/man
# The same rendering wherever it runs: no locale to miss, a terminal's width.
export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat

# .so links are one line; the rest are pages.
pages=() links=()
for f in "$man"/man3/*.3 "$man"/man8/*.8; do
	if grep -q '^\.so ' "$f"; then links+=("$f"); else pages+=("$f"); fi
done
daemons=(filepager zpager defpager)
tap_plan $((2 * ${#pages[@]} + 4 + ${#daemons[@]}))

# A page as text, overstriking off: what the string checks below compare.
text() { (cd "$man" && groff -man -Tascii -P-cbou "${1#"$man"/}" 2>/dev/null); }
# Whitespace collapsed, so that line breaks and indentation do not matter.
squash() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }
# A page's NAME section: the names man(1) finds it under.
names() { sed -n '/^\.SH NAME/,/^\.SH/{/^\.SH/d;p}' "$1" | sed 's/ \\-.*//' | tr ',' ' ' | tr -s ' ' '\n'; }

for f in "${pages[@]}"; do
	rel=${f#"$man"/}
	if ! command -v groff >/dev/null; then
		tap_not_ok "groff -ww: $rel" "groff is missing (groff-base)"
		continue
	fi
	# .so requests are relative to the top of the man tree, as man(1) has them.
	out=$(cd "$man" && groff -man -ww -z "$rel" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		tap_ok "groff -ww: $rel"
	else
		tap_not_ok "groff -ww: $rel" "$out"
	fi
done

for f in "${pages[@]}"; do
	rel=${f#"$man"/}
	if ! command -v man >/dev/null; then
		tap_skip "man --warnings: $rel" "man-db is not installed"
		continue
	fi
	out=$(man --warnings=w -l "$f" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		tap_ok "man --warnings: $rel"
	else
		tap_not_ok "man --warnings: $rel" "$out"
	fi
done

# Each .so link points to a page that lists the link's name in its NAME.
bad=
for f in "${links[@]}"; do
	name=$(basename "$f" .3)
	target=$man/$(sed -n 's/^\.so //p' "$f")
	if [ ! -f "$target" ] || grep -q '^\.so ' "$target"; then
		bad+="$name: .so to $target, which is not a page"$'\n'
	elif ! names "$target" | grep -qx "$name"; then
		bad+="$name: ${target#"$man"/} does not list it in NAME"$'\n'
	fi
done
if [ -z "$bad" ]; then
	tap_ok "every .so link leads to a page that names it (${#links[@]} links)"
else
	tap_not_ok "every .so link leads to a page that names it" "${bad%$'\n'}"
fi

# What libpager exports, as the dynamic linker sees it.
lib=$top/build/libpager.so.1
syms=$(nm -D --defined-only "$lib" 2>&1 | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
if [ -z "$syms" ]; then
	tap_not_ok "every exported function has a man page" "no symbols from $lib"
	tap_not_ok "every man3 page documents an exported function" "no symbols from $lib"
	tap_not_ok "each page's SYNOPSIS has libpager.h's prototypes" "no symbols from $lib"
else
	bad=
	for s in $syms; do
		[ -f "$man/man3/$s.3" ] || bad+="$s: no man3/$s.3"$'\n'
	done
	if [ -z "$bad" ]; then
		tap_ok "every exported function has a man page ($(wc -w <<<"$syms") functions)"
	else
		tap_not_ok "every exported function has a man page" "${bad%$'\n'}"
	fi

	bad=
	for f in "$man"/man3/*.3; do
		name=$(basename "$f" .3)
		[ "$name" = libpager ] || grep -qx "$name" <<<"$syms" ||
			bad+="man3/$name.3: libpager exports no $name"$'\n'
	done
	if [ -z "$bad" ]; then
		tap_ok "every man3 page documents an exported function"
	else
		tap_not_ok "every man3 page documents an exported function" "${bad%$'\n'}"
	fi

	# Each declaration of libpager.h, from its type to its ";", on one line.
	protos=$(awk '/^[a-z].*[ *]pager_[a-z_]+\(/ { p = "" ; on = 1 }
		on { p = p " " $0 }
		on && /;/ { print p; on = 0 }' "$top/libpager/libpager.h")
	bad=
	for s in $syms; do
		proto=$(grep -E "[ *]$s\(" <<<"$protos" | squash)
		page=$man/man3/$s.3
		[ -f "$page" ] && grep -q '^\.so ' "$page" && page=$man/$(sed -n 's/^\.so //p' "$page")
		if [ ! -f "$page" ]; then
			bad+="$s: no page"$'\n'
		elif [ -z "$proto" ]; then
			bad+="$s: not declared in libpager.h"$'\n'
		elif ! text "$page" | squash | grep -qF -- "$proto"; then
			bad+="$s: ${page#"$man"/} lacks: $proto"$'\n'
		fi
	done
	if [ -z "$bad" ]; then
		tap_ok "each page's SYNOPSIS has libpager.h's prototypes"
	else
		tap_not_ok "each page's SYNOPSIS has libpager.h's prototypes" "${bad%$'\n'}"
	fi
fi

# Each daemon's page documents the long options its --help lists, no more.
for d in "${daemons[@]}"; do
	help=$("$top/build/daemons/$d" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	doc=$(text "$man/man8/$d.8" | sed -n '/^OPTIONS/,/^[A-Z]/p' |
	      grep -oE -- '--[a-z][a-z-]*' | sort -u)
	if [ -n "$help" ] && [ "$help" = "$doc" ]; then
		tap_ok "$d(8) documents the options of $d --help"
	else
		tap_not_ok "$d(8) documents the options of $d --help" \
			"$(diff <(echo "$help") <(echo "$doc") | sed -n 's/^</--help only:/p; s/^>/man page only:/p')"
	fi
done
tap_exit
