# SPDX-License-Identifier: GPL-2.0
# Sourced by the scripts in scripts/: where things are, and which kernel.
# Everything derived here comes from the installed Debian packages, never
# from `uname -r` (the build machine's kernel is not the target).

EXTPAGER_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXTPAGER_CACHE=${EXTPAGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/extpager}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# The newest installed Debian 6.12 kernel, e.g. 6.12.117+deb12-amd64.
stock_kver() {
	local d v best=
	for d in /lib/modules/6.12.*-amd64; do
		[ -e "$d/build/Makefile" ] || continue
		v=${d#/lib/modules/}
		[ -e "/boot/vmlinuz-$v" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n 1)
	done
	[ -n "$best" ] || die "no Debian 6.12 kernel with headers installed; run 'make deps'"
	echo "$best"
}

# The unpacked linux-source-6.12, keyed by the package version so that an
# upgrade unpacks again.  $1 = "parts" (what the userspace build and the
# checkers need) or "full" (to build the debug kernel).
kernel_source() {
	local what=${1:-parts} tarball=/usr/src/linux-source-6.12.tar.xz ver dir
	[ -r "$tarball" ] || die "$tarball missing; run 'make deps'"
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | tr -c 'A-Za-z0-9.+\n-' '_')
	dir=$EXTPAGER_CACHE/src-$ver
	if [ ! -e "$dir/.$what" ] && [ ! -e "$dir/.full" ]; then
		mkdir -p "$dir"
		if [ "$what" = full ]; then
			echo "unpacking $tarball into $dir" >&2
			tar -C "$dir" -xf "$tarball"
		else
			echo "unpacking the needed parts of $tarball into $dir" >&2
			tar -C "$dir" -xf "$tarball" --wildcards \
				'linux-source-6.12/tools/testing/selftests/kselftest*.h' \
				'linux-source-6.12/scripts/checkpatch.pl' \
				'linux-source-6.12/scripts/spelling.txt' \
				'linux-source-6.12/scripts/const_structs.checkpatch' \
				'linux-source-6.12/tools/net/ynl/*' \
				'linux-source-6.12/Documentation/netlink/*'
		fi
		touch "$dir/.$what"
	fi
	echo "$dir/linux-source-6.12"
}

# The debug kernel's build directory, keyed by the source package's version
# and the config fragment's hash: a new linux-source-6.12 or an edited
# fragment builds a new kernel rather than reuse one built from other code.
debug_kernel_dir() {
	local ver h
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | tr -c 'A-Za-z0-9.+\n-' '_')
	[ -n "$ver" ] || die "linux-source-6.12 is not installed; run 'make deps'"
	h=$(sha256sum <"$EXTPAGER_TOP/scripts/debug.config" | cut -c1-12)
	echo "$EXTPAGER_CACHE/debug-$ver-$h"
}
