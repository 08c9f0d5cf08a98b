#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate at boot, end to end: Debian's kernel under QEMU with an initramfs built by the
# real dracut with the devgate module, a swtpm TPM, devgate-kbs on the host's loopback
# reached through guestfwd, and a real root that reports what it sees.
#
#   attest-shell    the shell /init: gate, baseline, attestation, site policy, final pass
#   adl-systemd     the systemd initrd, built by the literal
#                   "dracut --authorize-device-list=cc-default" of a patched copy of the
#                   installed dracut
#   server-down     no server: rd.devgate.failure=baseline goes on with the baseline only
#   bad-signature   a policy signed by a key the guest does not trust: poweroff
#   rollback        a policy older than the TPM's floor: halt
#   pcr-mismatch    the server refuses the quote: poweroff
#
# Every boot is checked from the guest's kernel log and sysfs: allowed devices bound to
# their pinned drivers, denied devices never probed by a modular driver, the denied device
# whose driver is built in (pci-serial) unbound and reported. The figures (uptime at each
# stage, the time each stage took) are printed as TAP comments.
#
# usage: test-boot.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd) top=$(cd "$2" && pwd)
devgate=$build/devgate kbs=$build/attest/server/devgate-kbs

. "$top/tests/attest/tap.sh"
tap_require qemu-system-x86_64 swtpm dracut mke2fs busybox openssl python3

# A short path: swtpm's socket lives below it.
work=$(mktemp -d /var/tmp/dgvm.XXXXXX)
trap 'vm_cleanup; site_stop; rm -rf "$work"' EXIT
cd "$work" || exit 1

export VM_WORK="$work" VM_LIB_DIR="$top/tests/vm" VM_TIMEOUT=${VM_TIMEOUT:-240}
. "$top/tests/vm/vm-lib.sh"
. "$top/tests/vm/dracut-patched.sh"

# --- the site's side ------------------------------------------------------------------
. "$top/tests/attest/kbs-setup.sh"
. "$top/tests/vm/site-setup.sh"
kbs_tls 10.0.2.100 127.0.0.1
site_keys
# The site's policy at version 2; its older version 1; version 3 signed by a key the guest
# does not trust.
site_policy 2 author resources
site_policy 1 author resources-old
site_policy 3 rogue resources-rogue
site_confdir
site_enrol "$work/tpm"
site_references
export VM_TPMSTATE="$work/tpm"

# --- the images ----------------------------------------------------------------------
vm_kernel
vm_dracut_base "$work/dracut-base" "90devgate=$build/dracut-module"
cat >devgate.conf <<EOF
authorize_device_list="cc-default"
devgate_binary="$devgate"
devgate_policydir="$top/policies"
devgate_confdir="$work/etc-devgate"
EOF
# The denied devices' drivers are in the image, so that "never probed" means something.
drivers="virtio_rng virtio_balloon ahci xhci_pci usbhid hid_generic ext4"

VM_DRACUT_CONF=$work/devgate.conf vm_dracut "$work/shell.img" \
        -m "bash base udev-rules rootfs-block network-legacy devgate" --add-drivers "$drivers"

patched=$(dracut_patched "$work/dracut-patched") || { echo "$patched"; exit 1; }
sed '/^authorize_device_list=/d' devgate.conf >devgate-paths.conf
# The literal command, with the module's paths from a config file as a site would have them.
VM_DRACUT=$patched VM_DRACUT_CONF=$work/devgate-paths.conf vm_dracut "$work/systemd.img" \
        --authorize-device-list=cc-default --add network-legacy --add-drivers "$drivers"

vm_rootfs "$work/root.img"

# --- checks --------------------------------------------------------------------------
console() { vm_console "$1"; }

# The devices of cc-default bound to their pinned drivers, in the real root.
check_baseline_bound() { # check_baseline_bound BOOT
        vm_report "$1" >"$1.report" || { echo "# $1: no report from the real root"; return 1; }
        for line in "pci 0000:00:02.0 1b36:000c class=0x060400 driver=pcieport" \
                "pci 0000:00:03.0 1af4:1000 class=0x020000 driver=virtio-pci" \
                "pci 0000:00:04.0 1af4:1003 class=0x078000 driver=virtio-pci" \
                "pci 0000:01:00.0 1af4:1042 class=0x010000 driver=virtio-pci"; do
                contains "$1.report" "$line" || return 1
        done
        for virtio in "device=0x0001 driver=virtio_net" "device=0x0002 driver=virtio_blk" \
                "device=0x0003 driver=virtio_console"; do
                contains "$1.report" "$virtio" || return 1
        done
}

# No denied device was ever probed: its driver module may be loaded (udev loads it by
# modalias) but never bound, so it registered nothing and logged nothing.
check_denied_never_probed() { # check_denied_never_probed BOOT
        _c=$(console "$1")
        for dev in 0000:00:05.0 0000:00:06.0 0000:00:07.0 0000:00:08.0 0000:00:09.0 0000:00:1f.2; do
                grep -q "^pci $dev .* driver=none override=devgate-denied" "$1.report" ||
                        { echo "# $1: $dev is not held unbound"; grep "$dev" "$1.report"; return 1; }
        done
        grep '^hwrng' "$1.report" | grep -q virtio_rng &&
                { echo "# $1: virtio_rng registered a hwrng"; return 1; }
        grep -q '^input .*phys=usb-' "$1.report" && { echo "# $1: a USB input device exists"; return 1; }
        grep -q 'device=0x0004 \|device=0x0005 ' "$1.report" &&
                { echo "# $1: a virtio rng or balloon device appeared"; return 1; }
        grep -Eq '(ahci|xhci_hcd) 0000:00:0[78]\.0|usbhid|virtio_balloon' "$_c" &&
                { echo "# $1: a denied device's driver probed it:"; grep -E '(ahci|xhci_hcd) 0000|usbhid' "$_c" | sed 's/^/#   /'; return 1; }
        return 0
}

stage_figures() { # stage_figures BOOT: the benchmark's figures, as TAP comments
        _c=$(console "$1")
        grep -o 'devgate-boot: stage .*' "$_c" | sed "s/^devgate-boot: /# $1: /"
        sed -n "s/^\[ *\([0-9.]*\)\] Run \/init as init process.*/# $1: \/init started at uptime \1 s/p" "$_c"
        grep -o 'REPORT: uptime [0-9.]*' "$_c" | sed "s/REPORT: uptime/# $1: real root at uptime/"
}

positive_boot() { # positive_boot BOOT IMAGE
        site_serve "$1" resources reference.json
        vm_boot "$1" "$2" "rd.devgate.status=1 rd.devgate.failure=poweroff" ||
                echo "# $1 timed out"
        _c=$(console "$1")
        check "$1: the boot reaches the real root" check_baseline_bound "$1"
        check "$1: denied devices were never probed" check_denied_never_probed "$1"
        check "$1: the built-in serial driver was unbound and reported" contains "$_c" \
                "deny pci 0000:00:09.0 (1b36:0002 sub 1af4:1100 class 070002 rev 01) by default via bus-gate: blocked, unbound from serial"
        check "$1: the gate was closed before the baseline" contains "$_c" "devgate-boot: stage gate done"
        check "$1: the baseline was applied" contains "$_c" "devgate: Baseline policy 'cc-default' version 1 from '/etc/devgate/baseline.json'."
        check "$1: udev decided the virtio devices as they appeared" contains "$_c" \
                "allow virtio virtio2 (virtio block) by rules[2] via bus-gate: bound to virtio_blk"
        check "$1: the server served the policy" contains "$1.kbs.log" "verdict=served"
        check "$1: the site policy was verified" contains "$_c" "devgate: Policy 'site-cc' version 2 is signed by key"
        check "$1: the attestation stage completed" contains "$_c" "devgate-boot: stage attest done"
        check "$1: the site policy is in force at pre-pivot" contains "$_c" "Policy:  site-cc version 2"
        check "$1: the gate stays closed in the real root" contains "$1.report" "autoprobe pci=0 virtio=0"
        check "$1: /run/devgate reaches the real root" contains "$1.report" \
                "rundevgate attest.done attest.running lock measure.log policy.json state.json"
        stage_figures "$1"
}

positive_boot attest-shell "$work/shell.img"
check "attest-shell: the TPM's floor is now version 2" contains "$(console attest-shell)" \
        "devgate: TPM NV counter 0x01306467 records version 2."
check "attest-shell: the site policy was measured into PCR 14" contains "$(console attest-shell)" \
        "devgate: Measured 'devgate:policy name=site-cc version=2 sha256=$(sha256sum site-v2.json | cut -c1-64)' into PCR 14"

check "adl-systemd: the literal dracut command included devgate" contains systemd.img.log \
        "Including module: devgate"
check "adl-systemd: it is the systemd flavour" contains systemd.img.log "Including module: systemd-initrd"
positive_boot adl-systemd "$work/systemd.img"

# --- failures: each ends as rd.devgate.failure= says, with only the baseline in force ---
failure_boot() { # failure_boot BOOT ACTION EXPECTED_END REASON_TEXT
        vm_boot "$1" "$work/shell.img" "rd.devgate.status=1 rd.devgate.failure=$2" ||
                echo "# $1 timed out"
        _c=$(console "$1")
        check "$1: rd.devgate.failure=$2 ended the boot by $3" [ "$(cat "$1/end")" = "$3" ]
        check "$1: the console says what failed" contains "$_c" "devgate-boot: FAILED: "
        check "$1: the console says why" contains "$_c" "$4"
        check "$1: the baseline is what is in force" contains "$_c" "Policy:  cc-default version 1"
        check "$1: no site policy was applied" sh -c "! grep -q 'Policy:  site-cc' '$_c'"
        check "$1: denied devices stayed unbound" sh -c \
                "grep -q 'rules\\[6\\]  deny    bus-gate  blocked' '$_c' && ! grep -Eq 'virtio_rng|usbhid|ahci 0000:00:08' '$_c'"
        stage_figures "$1"
}

# Nothing listens there.
site_stop
VM_KBS_PORT=$(site_free_port)
export VM_KBS_PORT
failure_boot server-down baseline poweroff "attestation or the policy's fetch failed"
check "server-down: the boot went on to the real root" check_baseline_bound server-down
check "server-down: with the baseline only" check_denied_never_probed server-down
check "server-down: the console says it continues" contains "$(console server-down)" \
        "devgate-boot: continuing with the baseline policy only"

site_serve bad-signature resources-rogue reference.json
failure_boot bad-signature poweroff poweroff "the fetched policy was rejected"
check "bad-signature: devgate names the reason" contains "$(console bad-signature)" \
        "signed by 0 of the trusted keys, 1 required (1 signature in the envelope)"

site_serve rollback resources-old reference.json
failure_boot rollback halt halted "the fetched policy was rejected"
check "rollback: devgate names both versions" contains "$(console rollback)" \
        "Policy 'site-cc' version 1 is older than version 2 required by the TPM NV counter 0x01306467: rollback refused."

site_serve pcr-mismatch resources reference-bad.json
failure_boot pcr-mismatch poweroff poweroff "attestation or the policy's fetch failed"
check "pcr-mismatch: the server's refusal reaches the console" contains "$(console pcr-mismatch)" \
        "PCR values match no reference set"
check "pcr-mismatch: the server refused the quote" contains pcr-mismatch.kbs.log "verdict=refused"

site_stop
tap_done
