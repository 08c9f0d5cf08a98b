#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shell baseline of the benchmark: the same job as floor.c (read the six ID files of
# every PCI function, pick a value, write driver_override), written the way early-boot
# hooks usually are, one "$(cat ...)" per attribute. Each of those forks a subshell and
# execs cat, which is where such a loop spends its time.
# The decision table is the trivial one floor.c uses, not devgate's policy.

for d in /sys/bus/pci/devices/*; do
        [ -e "$d/vendor" ] || continue
        vendor=$(cat "$d/vendor")
        device=$(cat "$d/device")
        subsystem_vendor=$(cat "$d/subsystem_vendor")
        subsystem_device=$(cat "$d/subsystem_device")
        class=$(cat "$d/class")
        revision=$(cat "$d/revision")

        case "$vendor:$device:$subsystem_device" in
        0x1af4:0x104[123]:*) value=virtio-pci ;;      # modern net, block, console
        0x1af4:0x10[0-3]?:0x000[123]) value=virtio-pci ;; # transitional, type in subsystem
        0x1b36:0x000c:*) value=pcieport ;;
        *) value=devgate-denied ;;
        esac
        : "$subsystem_vendor $class $revision" # read like the others, not needed here

        echo "$value" > "$d/driver_override" || exit 1
done
