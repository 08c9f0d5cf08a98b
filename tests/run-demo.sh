#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sets up a fresh Debian 12 machine, builds devgate and shows what it would do at boot:
# the cc-default policy, signed with a key made for the demo, verified and applied (dry
# run) to the devices of a real QEMU q35 guest, recorded in tests/fixtures/q35.umockdev and
# replayed with umockdev.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tests/setup-debian.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
mkdir "$demo/keys"
build/devgate policy keygen "$demo/site"
cp "$demo/site.pub" "$demo/keys/"
build/devgate policy sign --key "$demo/site.key" --output "$demo/cc-default.dsse" \
        policies/cc-default.json
build/devgate policy verify --keys "$demo/keys" "$demo/cc-default.dsse"
echo
umockdev-run -d tests/fixtures/q35.umockdev -- \
        build/devgate --log-target=stderr apply --dry-run \
        --envelope "$demo/cc-default.dsse" --keys "$demo/keys"
