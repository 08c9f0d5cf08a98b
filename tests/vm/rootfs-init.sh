#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /sbin/init of the test root image made by vm_rootfs (tests/vm/vm-lib.sh). Reaching it
# proves the initramfs mounted the real root and switched to it; it then reports what the
# running system looks like and powers the guest off.
#
# Every report line goes to /dev/console and starts with "REPORT: " (vm_report strips it),
# one item per line, fields "key=value" without spaces in the value except name="...":
#
#   uptime SECONDS
#   pci ADDR VENDOR:DEVICE class=CLASS driver=NAME|none override=VALUE|(null)
#   virtio NAME device=ID driver=NAME|none
#   usb NAME authorized=0|1|none driver=NAME|none
#   autoprobe pci=0|1|none virtio=0|1|none usb=0|1|none      (none: the bus does not exist)
#   hwrng available=NAME,NAME|none current=NAME|none
#   input NAME name="..." phys=PHYS|none
#   modules NAME...
#   rundevgate NAME...|(absent)
#   REPORT-END                                                  (without "REPORT: ")
#
# Only busybox is in the image, and every fork costs tens of milliseconds under TCG, so
# attributes are read with the shell's own "read" and driver links resolved with "cd -P"
# rather than with cat/readlink.

bb=/bin/busybox

# dracut moves /proc, /sys, /dev and /run into the new root; mount only what is missing,
# so that the script also works when booted without an initramfs.
[ -e /proc/self ] || $bb mount -t proc proc /proc
[ -e /sys/bus ] || $bb mount -t sysfs sysfs /sys
[ -e /dev/console ] || $bb mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

read -r up _ </proc/uptime

# Kernel messages written to the console in the middle of a report line would split it:
# keep them off the console while reporting (power-off messages are KERN_EMERG anyway).
read -r loglevel _ </proc/sys/kernel/printk
echo 1 >/proc/sys/kernel/printk

# attr FILE: the first line of FILE in $v, or $2 (default "none") when it is unreadable.
attr() {
        v=${2:-none}
        [ -r "$1" ] && read -r v <"$1"
        [ -n "$v" ] || v=${2:-none}
}

# driver DEVDIR: the name of the driver bound to DEVDIR in $drv, or "none".
driver() {
        drv=none
        if [ -e "$1/driver" ] && cd -P "$1/driver" 2>/dev/null; then
                drv=${PWD##*/}
                cd /
        fi
}

r() { echo "REPORT: $*"; }

r "uptime $up"

for d in /sys/bus/pci/devices/*; do
        [ -e "$d" ] || continue
        attr "$d/vendor"
        ven=${v#0x}
        attr "$d/device"
        dev=${v#0x}
        attr "$d/class"
        class=$v
        attr "$d/driver_override" "(null)"
        driver "$d"
        r "pci ${d##*/} $ven:$dev class=$class driver=$drv override=$v"
done

for d in /sys/bus/virtio/devices/*; do
        [ -e "$d" ] || continue
        attr "$d/device"
        driver "$d"
        r "virtio ${d##*/} device=$v driver=$drv"
done

for d in /sys/bus/usb/devices/*; do
        [ -e "$d" ] || continue
        attr "$d/authorized"
        driver "$d"
        r "usb ${d##*/} authorized=$v driver=$drv"
done

attr /sys/bus/pci/drivers_autoprobe
ap=$v
attr /sys/bus/virtio/drivers_autoprobe
av=$v
attr /sys/bus/usb/drivers_autoprobe
r "autoprobe pci=$ap virtio=$av usb=$v"

attr /sys/class/misc/hw_random/rng_available
# shellcheck disable=SC2086 # split the space-separated list into words
set -- $v
IFS=,
avail="$*"
IFS=' 	
'
attr /sys/class/misc/hw_random/rng_current
r "hwrng available=${avail:-none} current=$v"

for d in /sys/class/input/input*; do
        [ -e "$d" ] || continue
        attr "$d/name" ""
        name=$v
        attr "$d/phys"
        r "input ${d##*/} name=\"$name\" phys=$v"
done

mods=
while read -r m _; do
        mods="$mods $m"
done </proc/modules
r "modules${mods}"

if [ -d /run/devgate ]; then
        files=
        for f in /run/devgate/*; do
                [ -e "$f" ] && files="$files ${f##*/}"
        done
        r "rundevgate${files}"
else
        r "rundevgate (absent)"
fi

echo "REPORT-END"
echo "$loglevel" >/proc/sys/kernel/printk

# PID 1 must never exit (that panics the kernel): power off, and wait for it.
echo o >/proc/sysrq-trigger
while :; do
        $bb sleep 60
done
