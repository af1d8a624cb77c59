# SPDX-License-Identifier: GPL-2.0
# Sourced by the scripts in scripts/: where things are, and which kernel.
# Everything derived here comes from the installed Debian packages, never
# from `uname -r` (the build machine's kernel is not the target).

EXTPAGER_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXTPAGER_CACHE=${EXTPAGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/extpager}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# apt_install PKG...: install what is missing of PKG..., as root (a
# second when all is there); otherwise print the line to run as root.
apt_install() {
	local p missing=() line
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	line="apt-get install -y ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "not root; as root, run: apt-get update && $line"
	echo "$(basename "$0"): installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q >&2
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
}

# debian_kver SERIES: the newest installed Debian kernel of SERIES (6.1,
# 6.12) with its headers and image, e.g. 6.12.117+deb12-amd64; empty if none.
debian_kver() {
	local d v best=
	for d in /lib/modules/"$1".*-amd64; do
		[ -e "$d/build/Makefile" ] || continue
		v=${d#/lib/modules/}
		[ -e "/boot/vmlinuz-$v" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n 1)
	done
	echo "$best"
}

# The newest installed Debian 6.12 kernel, e.g. 6.12.117+deb12-amd64.
stock_kver() {
	local v
	v=$(debian_kver 6.12)
	[ -n "$v" ] || die "no Debian 6.12 kernel with headers installed; run 'make deps'"
	echo "$v"
}

# The stock kernels, oldest first: those `make check-kernels` runs the suite
# on (EXTPAGER_KERNELS, a subset of them, narrows it).  "stock" is 6.12.
STOCK_KERNELS="6.1 6.12 7.2"
CHECK_KERNELS=${EXTPAGER_KERNELS:-$STOCK_KERNELS}

# kernel_select NAME: make sure kernel NAME (a stock kernel, "stock",
# "debug" or the path of a configured kernel tree) is there, installing or
# building it if need be, and set
#   kname    its name as given
#   kdir     its build tree, for the module's KDIR
#   krel     its kernel.release, which names build/module-<krel>/
#   bzimage  the image QEMU boots
#   kmoddir  its modules' directory (empty if it has none), for the initramfs
#   kbuild   the command that builds the module for it, an array (in a
#            chroot, say)
# Another stock kernel is one more case here and a word in STOCK_KERNELS.
kernel_select() {
	local v release chroot kernel	# scripts/kernel-sid's
	kname=$1 kmoddir='' kbuild=()
	case "$kname" in
	stock | 6.12)
		v=$(stock_kver)
		kdir=/lib/modules/$v/build bzimage=/boot/vmlinuz-$v kmoddir=/lib/modules/$v
		;;
	6.1)
		# Bookworm's own kernel: its metapackages.
		v=$(debian_kver 6.1)
		if [ -z "$v" ]; then
			apt_install linux-headers-amd64 linux-image-amd64
			v=$(debian_kver 6.1)
			[ -n "$v" ] || die "no Debian 6.1 kernel after installing it"
		fi
		kdir=/lib/modules/$v/build bzimage=/boot/vmlinuz-$v kmoddir=/lib/modules/$v
		;;
	7.2)
		# Debian sid's, fetched by scripts/kernel-sid: its headers work
		# only in the sid chroot, where the module is built.
		eval "$("$EXTPAGER_TOP/scripts/kernel-sid")" || exit 1
		kmoddir=$kernel/usr/lib/modules/$release bzimage=$kernel/usr/lib/modules/$release/vmlinuz
		kdir=$chroot$kdir
		kbuild=("$EXTPAGER_TOP/scripts/kernel-sid" make -s module)
		;;
	debug)
		kdir=$("$EXTPAGER_TOP/scripts/debug-kernel") || exit 1
		bzimage=$kdir/arch/x86/boot/bzImage
		;;
	*)
		kdir=$(cd "$kname" 2>/dev/null && pwd) || die "no such kernel '$kname' (stock kernels: $STOCK_KERNELS; debug; or a path)"
		bzimage=$kdir/arch/x86/boot/bzImage
		;;
	esac
	# kernel.release, not the directory's name: Debian's 6.1.0-57-amd64
	# says 6.1.192 there.
	[ -r "$kdir/include/config/kernel.release" ] || die "$kdir is not a configured kernel tree"
	krel=$(cat "$kdir/include/config/kernel.release")
	[ -n "$kmoddir" ] || [ ! -e "/lib/modules/$krel/modules.dep" ] || kmoddir=/lib/modules/$krel
	[ -r "$bzimage" ] || die "no kernel image at $bzimage"
	[ ${#kbuild[@]} -gt 0 ] || kbuild=(make -s -C "$EXTPAGER_TOP" module KDIR="$kdir")
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
