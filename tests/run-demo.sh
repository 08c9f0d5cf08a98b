#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sets up a fresh Debian 12 machine, builds devgate and shows what it would do at boot:
# the cc-default policy applied (dry run) to the devices of a real QEMU q35 guest, recorded
# in tests/fixtures/q35.umockdev and replayed with umockdev.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tests/setup-debian.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

umockdev-run -d tests/fixtures/q35.umockdev -- \
        build/agent/devgate --log-target=stderr apply --dry-run --policy policies/cc-default.json
