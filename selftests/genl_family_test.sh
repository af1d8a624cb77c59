#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Independent clients see the extpager family with its name and version:
# iproute2's genl, and the kernel's YNL CLI driven by the nlctrl spec.
# EXTPAGER_KSRC points at the unpacked linux-source (scripts/check sets it).
. "$(dirname "$0")/tap.sh"

tap_plan 2

out=$(genl ctrl get name extpager 2>&1)
if grep -q 'Name: extpager' <<<"$out" && grep -q 'Version: 0x1\b' <<<"$out"; then
	tap_ok "genl ctrl get name extpager: name and version 1"
else
	tap_not_ok "genl ctrl get name extpager" "$out"
fi

cli=${EXTPAGER_KSRC:-}/tools/net/ynl/cli.py
spec=${EXTPAGER_KSRC:-}/Documentation/netlink/specs/nlctrl.yaml
if [ ! -e "$cli" ]; then
	tap_skip "YNL CLI getfamily" "EXTPAGER_KSRC does not hold tools/net/ynl"
else
	out=$(/usr/bin/python3 "$cli" --spec "$spec" --do getfamily \
		--json '{"family-name": "extpager"}' 2>&1)
	if grep -q "'family-name': 'extpager'" <<<"$out" && grep -q "'version': 1\b" <<<"$out"; then
		tap_ok "YNL CLI getfamily: name and version 1"
	else
		tap_not_ok "YNL CLI getfamily" "$out"
	fi
fi
tap_exit
