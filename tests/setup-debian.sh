#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what devgate needs to build and test on Debian 12. Run as root; idempotent.
# The VM tests need QEMU, dracut (dracut-core and dracut-network, never the dracut
# metapackage, which conflicts with initramfs-tools) and busybox for their root; the
# initramfs benchmark needs clevis' binaries (its dracut module is unpacked, not installed).
set -eu

packages="
  gcc clang libclang-rt-14-dev meson ninja-build pkg-config clang-format
  libjson-c-dev libssl-dev
  umockdev libumockdev-dev libglib2.0-dev
  valgrind
  libtss2-dev swtpm tpm2-tools openssl
  libcurl4-openssl-dev jose python3
  libmicrohttpd-dev
  qemu-system-x86 dracut-core dracut-network procps busybox-static e2fsprogs cpio kmod patch
  clevis clevis-luks clevis-tpm2 clevis-systemd
"

missing=""
for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "devgate setup: installing$missing"
        apt-get update -qq
        # shellcheck disable=SC2086 # a list of package names
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
