#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the Debian packages install works, with nothing of the tree's:
# scripts/packages unpacked them into build/pkgroot, built examples/ against
# that root with pkg-config alone, and built the module from extpager-dkms
# with DKMS.  Here: the examples run (the shared ones on the packaged
# libpager.so.1), the packaged daemons say the project's version, and the
# DKMS-built module replaces the tree's and passes module_test.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/examples.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
root=$top/build/pkgroot
version=$(cat "$top/VERSION")
libdir=$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
daemons=(filepager nbdpager dsmpager zpager defpager)

dir=$top/build/pkgroot-examples
read -ra examples <<<"$(examples "$dir" | tr '\n' ' ')"
if [ ! -d "$root" ]; then
	tap_plan 1
	tap_skip "packages" "no build/pkgroot: run 'make deb', then scripts/packages"
	tap_exit
fi
tap_plan $((2 * ${#examples[@]} + ${#daemons[@]} + 1))

for n in "${examples[@]}"; do
	if example "$dir" "$n" "" LD_LIBRARY_PATH="$libdir"; then
		tap_ok "$n: built with the packages' pkg-config, on libpager1"
	else
		tap_not_ok "$n: built with the packages' pkg-config, on libpager1"
	fi
	if [ ! -x "$dir/$n-static" ]; then
		tap_not_ok "$n-static: not built"
	elif example "$dir" "$n" -static; then
		tap_ok "$n-static: libpager-dev's static library"
	else
		tap_not_ok "$n-static: libpager-dev's static library"
	fi
done

for d in "${daemons[@]}"; do
	out=$("$root/usr/sbin/$d" --version 2>&1)
	if [ "$out" = "$d $version" ]; then
		tap_ok "extpager-daemons: $d --version says $version"
	else
		tap_not_ok "extpager-daemons: $d --version says $version" "$out"
	fi
done

# The DKMS module runs module_test, which unloads and reloads EXTPAGER_KO
# with a plain finit_module(): hence uncompressed.  The tree's module comes
# back after, for the tests that follow.
dkms_module() {
	local ko tmp=/tmp/extpager-dkms.ko
	ko=$(find "$dkms_dir" -name 'extpager.ko*' -print -quit)
	[ -n "$ko" ] || { echo "DKMS built no module in $dkms_dir"; return 1; }
	case $ko in
	*.xz) xz -dc "$ko" >$tmp ;;
	*.zst) zstd -qdc "$ko" >$tmp ;;
	*) cp "$ko" $tmp ;;
	esac || return 1
	rmmod extpager || return 1
	if ! insmod $tmp; then
		insmod "$EXTPAGER_KO"
		return 1
	fi
	EXTPAGER_KO=$tmp "$top/build/selftests/module_test"
	local rc=$?
	if ! rmmod extpager || ! insmod "$EXTPAGER_KO"; then
		echo "cannot reload $EXTPAGER_KO"
		return 1
	fi
	return $rc
}
# scripts/packages builds for the stock kernel only.
dkms_dir=$top/build/dkms/extpager/$version/$(uname -r)
if [ -z "${EXTPAGER_KO:-}" ]; then
	tap_skip "extpager-dkms: the DKMS module" "EXTPAGER_KO is not set: not run by scripts/vm"
elif [ ! -d "$dkms_dir" ]; then
	tap_skip "extpager-dkms: the DKMS module" "DKMS did not build for $(uname -r)"
elif out=$(dkms_module 2>&1); then
	tap_ok "extpager-dkms: the module DKMS built loads and passes module_test"
else
	tap_not_ok "extpager-dkms: the module DKMS built loads and passes module_test" "$out"
fi
tap_exit
