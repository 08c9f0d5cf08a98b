#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Turns automatic binding off on every gated bus that exists now. Run from modprobe.d
# around the loading of the bus modules (virtio, usbcore), so that the gate is closed by
# whoever loads them first: systemd loads virtio_rng as PID 1, before any dracut hook.
for bus in pci virtio usb; do
        if [ -w "/sys/bus/$bus/drivers_autoprobe" ]; then
                echo 0 >"/sys/bus/$bus/drivers_autoprobe"
        fi
done
exit 0
