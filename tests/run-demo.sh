#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate at boot, in one command, on a fresh Debian 12 machine: installs what it needs,
# builds devgate, makes demo keys and signs the site's policy, starts devgate-kbs and a
# swtpm TPM on loopback, builds an initramfs with
#
#     dracut --authorize-device-list=cc-default
#
# (a copy of the installed dracut with dracut-module/dracut-authorize-device-list.patch,
# and devgate's module from the build directory), boots it under QEMU with Debian's
# kernel, and prints the guest's device table: each device, the rule that matched, allowed
# or denied, and the driver bound. Everything it started is stopped when it ends.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tests/setup-debian.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
devgate=$top/build/devgate kbs=$top/build/attest/server/devgate-kbs

demo=$(mktemp -d /var/tmp/devgate-demo.XXXXXX)
trap 'vm_cleanup; site_stop; rm -rf "$demo"' EXIT
cd "$demo"
export VM_WORK="$demo" VM_LIB_DIR="$top/tests/vm"
. "$top/tests/vm/vm-lib.sh"
. "$top/tests/attest/kbs-setup.sh"
. "$top/tests/vm/site-setup.sh"
. "$top/tests/vm/dracut-patched.sh"

say() { printf '\n=== %s\n' "$*"; }

say "The site: demo keys, the signed policy, devgate-kbs and the guest's TPM"
kbs_tls 10.0.2.100 127.0.0.1
site_keys
site_policy 2 author resources
site_confdir
"$devgate" policy verify --keys etc-devgate/keys resources/default/devgate-policy/site
site_enrol "$demo/tpm"
site_references
site_serve demo resources reference.json
echo "devgate-kbs listens on 127.0.0.1:$VM_KBS_PORT; the guest reaches it as https://10.0.2.100:8443"
echo "The guest's TPM attestation key is registered: $site_ak_id"

say "The initramfs: dracut --authorize-device-list=cc-default"
vm_kernel
vm_dracut_base "$demo/dracut-base" "90devgate=$top/build/dracut-module"
patched=$(dracut_patched "$demo/dracut") || { echo "$patched"; exit 1; }
cat >devgate.conf <<EOF
devgate_binary="$devgate"
devgate_policydir="$top/policies"
devgate_confdir="$demo/etc-devgate"
EOF
echo "dracut --authorize-device-list=cc-default --add network-legacy (Debian's $VM_KVER)"
VM_DRACUT=$patched VM_DRACUT_CONF=$demo/devgate.conf vm_dracut "$demo/initrd.img" \
        --authorize-device-list=cc-default --add network-legacy \
        --add-drivers "virtio_rng virtio_balloon ahci xhci_pci usbhid hid_generic"

say "The guest boots (QEMU q35, TCG): virtio disk, network and console; virtio rng and balloon, xHCI with a keyboard, AHCI and a PCI serial port"
vm_rootfs "$demo/root.img"
export VM_TPMSTATE="$demo/tpm"
vm_boot guest "$demo/initrd.img" "rd.devgate.status=1" || { echo "The guest did not finish booting."; exit 1; }
console=$(vm_console guest)

say "What devgate logged at each stage (kernel uptime)"
grep -o 'devgate-boot: stage .*' "$console" | sed 's/^devgate-boot: /  /'
grep -o 'devgate: Fetched .*\|devgate: Measured .*' "$console" | sed 's/^devgate: /  /'
sed -n 's/.* verdict=\([a-z]*\) .*/  devgate-kbs: \1/p' demo.kbs.log | uniq

say "The guest's device table before it switched to its real root"
sed -n '/^devgate-boot: status at uptime/,/^devgate-boot: end of status/p' "$console" |
        sed '1d;$d'

say "Seen from the real root"
vm_report guest | sed -n 's/^autoprobe /  automatic binding: /p; s/^hwrng /  hardware RNG: /p'
vm_report guest | grep -c '^input .*phys=usb-' | sed 's/^/  USB input devices: /'
