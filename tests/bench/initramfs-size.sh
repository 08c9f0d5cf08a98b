#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the devgate dracut module adds to an initramfs, next to what clevis adds: the
# uncompressed size (dracut --no-compress, the cpio file) of images built in the same run
# from the same private dracutbasedir, the same kernel and the same dracut. The issue's
# target: devgate's size delta at most half of the delta of dracut's clevis +
# clevis-pin-tang + clevis-pin-tpm2 modules.
#
# All images are systemd-flavour initramfs images (clevis' dracut module exists only for
# that flavour):
#
#   base        -m "systemd systemd-initrd dracut-systemd base udev-rules rootfs-block"
#   + devgate   base + --add devgate, configured from a dracut.conf file with
#               authorize_device_list="cc-default", devgate_binary (BUILD_DIR/devgate),
#               devgate_policydir (the source tree's policies/) and devgate_confdir
#               (trusted keys; no attest.conf: the policy is local)
#   + devgate, attestation
#               the same with attest.conf in devgate_confdir, and with dracut's network
#               module, which attesting needs
#   + network   base + --add "network network-legacy", the network stack's own share (every
#               image with a network gets network-legacy: dracut's default backend,
#               systemd-networkd, needs dbus-daemon, which not every machine has)
#   + clevis    base + --add "clevis clevis-pin-tang clevis-pin-tpm2" (pin-tang pulls the
#               network module, 60clevis pulls crypt and dm)
#
# Which comparison the target uses: devgate with attestation against clevis. Both then
# fetch their secret over the network and are charged the same network stack, like for
# like. Printed as well: both without the network stack (devgate with a local policy
# against clevis' delta minus the network build's delta).
#
# Every image gets the same kernel drivers (those of the q35 test guest, --add-drivers),
# so that only what a module adds on top counts; in every image dracut's
# kernel-network-modules is replaced by a stub that installs only virtio_net (a
# confidential guest's only NIC) instead of every NIC driver of the kernel.
#
# It prints figures and does not assert the target: it fails only when an image cannot be
# built or something it needs is missing. Needs clevis, clevis-luks, clevis-tpm2,
# clevis-systemd, tpm2-tools, dracut-core and dracut-network installed, and clevis-dracut
# unpacked (not installed: it depends on the dracut metapackage, which conflicts with
# initramfs-tools), which it does itself: apt-get download + dpkg -x into
# $DEVGATE_CLEVIS_CACHE (default /var/tmp/devgate-clevis-dracut). Set KEEP=1 to keep the
# work directory (images, dracut logs).
#
# usage: initramfs-size.sh BUILD_DIR      (the meson build directory)

# shellcheck disable=SC2015 # "A && B || bail": bailing when either fails is meant
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)

# vm_kernel (VM_KVER, VM_KMODDIR), vm_dracut_base DIR NNname=PATH... (VM_DRACUT_BASE) and
# vm_dracut OUT ARGS... (generic, uncompressed, none of the host's configuration).
# shellcheck source-path=SCRIPTDIR source=../vm/vm-lib.sh
. "$top/tests/vm/vm-lib.sh"

# The devgate dracut module as meson configured it; it reads the dracut.conf settings.
devgate_module=$build/dracut-module

systemd_modules="systemd systemd-initrd dracut-systemd base udev-rules rootfs-block"
drivers="virtio_pci virtio_blk virtio_net virtio_console virtio_rng virtio_balloon usbcore
xhci_pci xhci_hcd usbhid hid_generic ahci ext4 af_packet"
drivers=$(printf '%s' "$drivers" | tr '\n' ' ') # one line, for the report

bail() {
        echo "Bail out! $*"
        exit 1
}

[ -x "$build/devgate" ] || bail "no $build/devgate: build devgate first"
[ -r "$devgate_module/module-setup.sh" ] || bail "no dracut module in $devgate_module"
for tool in clevis clevis-decrypt-tang clevis-decrypt-tpm2 clevis-luks-unlock luksmeta \
        cryptsetup jose curl tpm2_unseal; do
        command -v "$tool" >/dev/null ||
                bail "$tool is missing: apt-get install --no-install-recommends clevis clevis-luks clevis-tpm2 clevis-systemd tpm2-tools curl"
done
[ -x /usr/libexec/clevis-luks-askpass ] ||
        bail "/usr/libexec/clevis-luks-askpass is missing: apt-get install --no-install-recommends clevis-systemd"
[ -d /usr/lib/dracut/modules.d/40network ] ||
        bail "dracut's network module is missing: apt-get install --no-install-recommends dracut-network"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/initramfs-size.XXXXXX")
trap '[ -n "${KEEP-}" ] || rm -rf "$work"' EXIT
cd "$work"
VM_WORK=$work

# clevis-dracut, unpacked for the installed clevis version
clevis_version=$(dpkg-query -W -f='${Version}' clevis)
clevis_cache=${DEVGATE_CLEVIS_CACHE:-/var/tmp/devgate-clevis-dracut}/$clevis_version
if [ ! -d "$clevis_cache/usr/lib/dracut/modules.d/60clevis" ]; then
        rm -rf "$clevis_cache.deb" "$clevis_cache"
        mkdir -p "$clevis_cache.deb"
        (cd "$clevis_cache.deb" && apt-get download "clevis-dracut=$clevis_version") \
                >"$work/apt-download.log" 2>&1 &&
                dpkg -x "$clevis_cache.deb"/clevis-dracut_*.deb "$clevis_cache" ||
                bail "cannot fetch clevis-dracut $clevis_version: $(tail -1 "$work/apt-download.log")"
        rm -rf "$clevis_cache.deb"
fi

# kernel-network-modules installs every NIC driver of the kernel in a generic image
mkdir knm
cat >knm/module-setup.sh <<'EOF'
#!/bin/bash
check() { return 255; }
depends() { return 0; }
installkernel() { hostonly='' instmods virtio_net af_packet; }
install() { return 0; }
EOF

# devgate's configuration: trusted key, rollback floor and, for the attestation variant,
# attest.conf with its CA
"$build/devgate" policy keygen author >/dev/null || bail "cannot make a signing key"
for conf in local attest; do
        mkdir -p "etc-$conf/keys"
        cp author.pub "etc-$conf/keys/"
        echo 1 >"etc-$conf/min-version"
        cat >"dracut-$conf.conf" <<EOF
authorize_device_list="cc-default"
devgate_binary="$build/devgate"
devgate_policydir="$top/policies"
devgate_confdir="$work/etc-$conf"
EOF
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=bench-ca -keyout ca.key -out etc-attest/ca.pem 2>/dev/null ||
        bail "cannot make a CA certificate"
cat >etc-attest/attest.conf <<EOF
url = https://10.0.2.100:8443
ca = $work/etc-attest/ca.pem
resource = default/devgate-policy/cc-default
tee = tpm
EOF

vm_kernel
vm_dracut_base "$work/dracutbase" \
        "90devgate=$devgate_module" \
        "90kernel-network-modules=$work/knm" \
        "60clevis=$clevis_cache/usr/lib/dracut/modules.d/60clevis" \
        "60clevis-pin-tang=$clevis_cache/usr/lib/dracut/modules.d/60clevis-pin-tang" \
        "60clevis-pin-tpm2=$clevis_cache/usr/lib/dracut/modules.d/60clevis-pin-tpm2"

# image NAME ARGS...: builds NAME.img (vm_dracut bails when dracut fails; its log is
# NAME.img.log), appends "NAME SIZE" to sizes
image() {
        _name=$1
        shift
        vm_dracut "$work/$_name.img" -m "$systemd_modules" --add-drivers "$drivers" "$@"
        echo "$_name $(stat -c %s "$work/$_name.img")" >>sizes
        [ -n "${KEEP-}" ] || rm -f "$work/$_name.img"
}

: >sizes
image base
for conf in local attest; do
        VM_DRACUT_CONF=$work/dracut-$conf.conf
        if [ $conf = local ]; then
                image devgate --add devgate
        else
                # The module adds dracut's network module itself when attest.conf exists;
                # every image with a network gets the same backend, network-legacy (the
                # default one, systemd-networkd, needs dbus-daemon, not on every machine).
                image devgate-attest --add "devgate network-legacy"
        fi
done
unset VM_DRACUT_CONF
image network --add "network network-legacy"
image clevis --add "clevis clevis-pin-tang clevis-pin-tpm2 network-legacy"

# the dracut modules each image holds beyond the base image's
for name in base devgate devgate-attest network clevis; do
        sed -n 's/.*\*\*\* Including module: \([^ ]*\) \*\*\*.*/\1/p' "$name.img.log" | sort >"$name.modules"
done

awk -v kver="$VM_KVER" -v mods="$systemd_modules" -v drivers="$drivers" '
function mb(b) { return sprintf("%.2f", b / 1e6) }
function commas(n,   s) {
        s = sprintf("%d", n)
        while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
        return s
}
function row(label, b, d) {
        printf "  %-44s %13s %8s%s\n", label, commas(b), mb(b),
                d == "" ? "" : sprintf("  %+.2f MB (%s B)", d / 1e6, commas(d))
}
{ size[$1] = $2 }
END {
        base = size["base"]
        dg = size["devgate"] - base; dga = size["devgate-attest"] - base
        net = size["network"] - base; cl = size["clevis"] - base
        printf "initramfs size, uncompressed (dracut --no-compress), systemd flavour, kernel %s\n", kver
        printf "  every image: -m \"%s\"\n", mods
        printf "               --add-drivers \"%s\"\n", drivers
        printf "               kernel-network-modules installs virtio_net only\n\n"
        printf "  %-44s %13s %8s  %s\n", "image", "bytes", "MB", "delta to base"
        row("base", base, "")
        row("+ devgate (local policy, no network)", size["devgate"], dg)
        row("+ devgate with attestation (+ network)", size["devgate-attest"], dga)
        row("+ network alone", size["network"], net)
        row("+ clevis clevis-pin-tang clevis-pin-tpm2", size["clevis"], cl)
        r = dga / cl
        printf "\n  target comparison, like for like (both fetch over the network, both charged\n"
        printf "  the network stack): devgate with attestation / clevis = %.2f / %.2f MB = %.2f\n",
                dga / 1e6, cl / 1e6, r
        printf "  target <= 0.5: %s\n", r <= 0.5 ? "met" : "not met"
        printf "\n  without the network stack (devgate, local policy / clevis minus the network\n"
        printf "  build'"'"'s delta): %.2f / %.2f MB = %.2f\n", dg / 1e6, (cl - net) / 1e6, dg / (cl - net)
        printf "  not like for like (devgate, local policy / clevis with network): %.2f\n", dg / cl
}' sizes
printf '\n  dracut modules beyond the base image'"'"'s (%s):\n' "$(tr '\n' ' ' <base.modules | sed 's/ $//')"
for name in devgate devgate-attest network clevis; do
        printf '    %-15s %s\n' "$name" "$(comm -13 base.modules "$name.modules" | tr '\n' ' ' | sed 's/ $//')"
done
