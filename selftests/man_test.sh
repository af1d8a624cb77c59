#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man pages in man/ render without a single warning, with groff and with
# man-db, and they agree with what they document: every function libpager.so
# exports, and every function-like macro of libpager.h, has a page or a .so
# link (and no page documents a function that is gone), each page's
# SYNOPSIS shows the prototypes exactly as libpager.h declares them, and
# each daemon's page documents exactly the options its --help lists.  And
# libpager's interface is listed alike everywhere: libpager.map,
# libpager.h, debian/libpager1.symbols and what libpager.so.1 exports name
# the same functions, each in the same version node.
#
# Under TCG every process costs: the checks run in bash where they can.  No
# process substitution: the guest has no /dev/fd.
. "$(dirname "$0")/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
# .so requests are relative to the top of the man tree, as man(1) has them.
cd "$top/man" || exit 1
# The same rendering wherever it runs: no locale to miss, a terminal's width.
export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat

# A .so link is one line; the rest are pages.
declare -A so names text proto exported
pages=() links=()
for f in man3/*.3 man8/*.8; do
	read -r line <"$f"
	if [[ $line == ".so "* ]]; then
		links+=("$f") so[$f]=${line#.so }
	else
		pages+=("$f")
	fi
done
daemons=(filepager zpager defpager nbdpager dsmpager)
tap_plan $((2 * ${#pages[@]} + 5 + ${#daemons[@]}))

# A page as text, overstriking off, whitespace collapsed: line breaks and
# indentation do not matter to the checks that compare strings.
render() { groff -man -Tascii -P-cbou "$1" 2>/dev/null | tr -s ' \t\n' '   '; }

# The names a page's NAME section lists, those man(1) finds it under, as
# " a b c ".
name_section() {
	local line on='' out=''
	while IFS= read -r line; do
		if [[ $line == .SH* ]]; then
			[ -n "$on" ] && break
			[ "$line" = ".SH NAME" ] && on=1
		elif [ -n "$on" ]; then
			out+=" ${line%%\\-*}"
			# The names end where their description starts.
			[ "$line" = "${line%%\\-*}" ] || break
		fi
	done <"$1"
	out=${out//,/ }
	echo " ${out//$'\t'/ } "
}

for f in "${pages[@]}"; do
	if ! command -v groff >/dev/null; then
		tap_not_ok "groff -ww: $f" "groff is missing (groff-base)"
		continue
	fi
	out=$(groff -man -ww -z "$f" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		tap_ok "groff -ww: $f"
	else
		tap_not_ok "groff -ww: $f" "$out"
	fi
done

for f in "${pages[@]}"; do
	if ! command -v man >/dev/null; then
		tap_skip "man --warnings: $f" "man-db is not installed"
		continue
	fi
	out=$(man --warnings=w -l "$f" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		tap_ok "man --warnings: $f"
	else
		tap_not_ok "man --warnings: $f" "$out"
	fi
done

# Each .so link points to a page that lists the link's name in its NAME.
bad=
for f in "${links[@]}"; do
	name=${f#man3/} name=${name%.3} target=${so[$f]}
	if [ ! -f "$target" ] || [ -n "${so[$target]:-}" ]; then
		bad+="$name: .so to $target, which is not a page"$'\n'
		continue
	fi
	[ -n "${names[$target]:-}" ] || names[$target]=$(name_section "$target")
	[[ ${names[$target]} == *[[:space:]]"$name"[[:space:]]* ]] ||
		bad+="$name: $target does not list it in NAME"$'\n'
done
if [ -z "$bad" ]; then
	tap_ok "every .so link leads to a page that names it (${#links[@]} links)"
else
	tap_not_ok "every .so link leads to a page that names it" "${bad%$'\n'}"
fi

# What libpager exports, as the dynamic linker sees it.
lib=$top/build/libpager.so.1
syms=$(nm -D --defined-only "$lib" 2>/dev/null | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }')
if [ -z "$syms" ]; then
	for what in "every exported function and macro has a man page" \
		    "every man3 page documents an exported function" \
		    "each page's SYNOPSIS has libpager.h's prototypes" \
		    "libpager.map, libpager.h, the symbols file and the library agree"; do
		tap_not_ok "$what" "no symbols from $lib"
	done
else
	# The macros that call a *_sized function under the familiar name
	# (pager_create() and others) are documented as functions are.
	macros=$(sed -n 's/^#define \(pager_[a-z_]*\)(.*/\1/p' "$top/libpager/libpager.h")
	bad=
	for s in $syms $macros; do
		exported[$s]=1
		[ -f "man3/$s.3" ] || bad+="$s: no man3/$s.3"$'\n'
	done
	if [ -z "$bad" ]; then
		tap_ok "every exported function and macro has a man page (${#exported[@]} names)"
	else
		tap_not_ok "every exported function and macro has a man page" "${bad%$'\n'}"
	fi

	bad=
	for f in man3/*.3; do
		name=${f#man3/} name=${name%.3}
		[ "$name" = libpager ] || [ -n "${exported[$name]:-}" ] ||
			bad+="$f: libpager exports no $name, nor has libpager.h such a macro"$'\n'
	done
	if [ -z "$bad" ]; then
		tap_ok "every man3 page documents an exported function"
	else
		tap_not_ok "every man3 page documents an exported function" "${bad%$'\n'}"
	fi

	# Each declaration of libpager.h, from its type to its ";", on one
	# line, whitespace collapsed, after its function's name and a tab.
	while IFS=$'\t' read -r name decl; do
		proto[$name]=$decl
	done <<<"$(awk '/^[a-z].*[ *]pager_[a-z_]+\(/ { p = ""; on = 1 }
		on { p = p " " $0 }
		on && /;/ {
			gsub(/[ \t]+/, " ", p); sub(/^ /, "", p); sub(/ $/, "", p)
			match(p, /pager_[a-z_]+\(/)
			print substr(p, RSTART, RLENGTH - 1) "\t" p
			on = 0
		}' "$top/libpager/libpager.h")"
	bad=
	for s in $syms; do
		page=man3/$s.3
		page=${so[$page]:-$page}
		if [ ! -f "$page" ]; then
			bad+="$s: no page"$'\n'
		elif [ -z "${proto[$s]:-}" ]; then
			bad+="$s: not declared in libpager.h"$'\n'
		else
			[ -n "${text[$page]:-}" ] || text[$page]=$(render "$page")
			[[ ${text[$page]} == *"${proto[$s]}"* ]] ||
				bad+="$s: $page lacks: ${proto[$s]}"$'\n'
		fi
	done
	if [ -z "$bad" ]; then
		tap_ok "each page's SYNOPSIS has libpager.h's prototypes"
	else
		tap_not_ok "each page's SYNOPSIS has libpager.h's prototypes" "${bad%$'\n'}"
	fi

	# Each as "name@node" lines: a function exported only because a glob
	# caught it, declared but not exported, or missing from the symbols
	# file (where dpkg-gensymbols would only warn) shows as a difference.
	map=$(awk '/\/\*/, /\*\// { next }
		/^[A-Za-z_][A-Za-z0-9_.]* *\{/ { node = $1 }
		/^[ \t]+[^ \t]+;/ && $1 != "*;" && $1 != "local:" { sub(/;$/, "", $1); print $1 "@" node }' \
		"$top/libpager/libpager.map")
	debsyms=$(awk '$1 ~ /^pager_/ { print $1 }' "$top/debian/libpager1.symbols")
	dynsyms=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@@?/, "@", $3); print $3 }')
	declared=
	for s in "${!proto[@]}"; do declared+="$s"$'\n'; done
	# Add to $bad the lines of $2 that $3 lacks, as "$1 LINE".
	lacks() {
		local line
		declare -A have=()
		while IFS= read -r line; do [ -z "$line" ] || have[$line]=1; done <<<"$3"
		while IFS= read -r line; do
			[ -z "$line" ] || [ -n "${have[$line]:-}" ] || bad+="$1 $line"$'\n'
		done <<<"$2"
	}
	names=$(sed 's/@.*//' <<<"$map")
	bad=
	lacks "not in debian/libpager1.symbols:" "$map" "$debsyms"
	lacks "not in libpager.map:" "$debsyms" "$map"
	lacks "not exported by libpager.so.1:" "$map" "$dynsyms"
	lacks "exported, not in libpager.map:" "$dynsyms" "$map"
	lacks "not declared in libpager.h:" "$names" "$declared"
	lacks "declared in libpager.h, not in libpager.map:" "$declared" "$names"
	if [ -z "$bad" ]; then
		tap_ok "libpager.map, libpager.h, the symbols file and the library agree ($(wc -l <<<"$map") functions)"
	else
		tap_not_ok "libpager.map, libpager.h, the symbols file and the library agree" "${bad%$'\n'}"
	fi
fi

# Each daemon's page documents the long options its --help lists, no more.
nl=$'\n'
for d in "${daemons[@]}"; do
	help=$("$top/build/daemons/$d" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	doc=$(groff -man -Tascii -P-cbou "man8/$d.8" 2>/dev/null |
	      sed -n '/^OPTIONS/,/^[A-Z]/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	if [ -n "$help" ] && [ "$help" = "$doc" ]; then
		tap_ok "$d(8) documents the options of $d --help"
	else
		tap_not_ok "$d(8) documents the options of $d --help" \
			"--help:   ${help//$nl/ }${nl}man page: ${doc//$nl/ }"
	fi
done
tap_exit
