#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a umockdev description of N synthetic PCI functions for the benchmark.

The text format is the one umockdev-record writes (see tests/fixtures/q35.umockdev):
a "P:" line with the device path, "E:" udev properties, "A:" attributes with C
escapes, "L:" links, and a blank line between devices.

The devices repeat a fixed cycle of 20 functions modelled on the q35 guest of
tests/fixtures: mostly virtio (modern and transitional net, block, console, rng and
balloon), a few Intel ICH9 chipset functions, QEMU root ports and xHCI, some bound
to a driver and some not. A cycle rather than a random draw keeps the mix the same
for every N that is a multiple of 20, so the benchmark's marginal cost per device
(the difference between two sizes) is the cost of the same mix, and the shell loop,
which can only be measured on a few devices, sees exactly one cycle.

Addresses are 0000:BB:DD.F directly under /devices/pci0000:00 (the benchmark does
not need bridges to nest their buses). Each bus holds two cycles, one at slots
0x00-0x0f and one at 0x10-0x1f, so a bus carries 40 functions and N=1000 uses
buses 0x00-0x18; at most 256 buses, so N <= 10240.
"""

import argparse
import sys

VIRTIO = 0x1AF4
INTEL = 0x8086
REDHAT = 0x1B36

# (slot, function, vendor, device, subsystem_vendor, subsystem_device, class, revision,
#  driver or None, what it is). Transitional virtio has device 0x1000 + n, revision 0 and
# the virtio type in subsystem_device; modern virtio has 0x1040 + type, revision 1.
CYCLE = [
    (0x0, 0, VIRTIO, 0x1041, VIRTIO, 0x1100, 0x020000, 0x01, "virtio-pci", "modern virtio-net"),
    (0x1, 0, VIRTIO, 0x1042, VIRTIO, 0x1100, 0x010000, 0x01, "virtio-pci", "modern virtio-blk"),
    (0x2, 0, VIRTIO, 0x1043, VIRTIO, 0x1100, 0x078000, 0x01, "virtio-pci", "modern virtio-console"),
    (0x3, 0, VIRTIO, 0x1000, VIRTIO, 0x0001, 0x020000, 0x00, "virtio-pci", "transitional virtio-net"),
    (0x4, 0, VIRTIO, 0x1001, VIRTIO, 0x0002, 0x010000, 0x00, "virtio-pci", "transitional virtio-blk"),
    (0x5, 0, VIRTIO, 0x1042, VIRTIO, 0x1100, 0x010000, 0x01, None, "modern virtio-blk, unbound"),
    (0x6, 0, VIRTIO, 0x1041, VIRTIO, 0x1100, 0x020000, 0x01, "virtio-pci", "modern virtio-net"),
    (0x7, 0, VIRTIO, 0x1044, VIRTIO, 0x1100, 0x00FF00, 0x01, "virtio-pci", "modern virtio-rng"),
    (0x8, 0, VIRTIO, 0x1002, VIRTIO, 0x0005, 0x00FF00, 0x00, "virtio-pci", "transitional virtio-balloon"),
    (0x9, 0, VIRTIO, 0x1005, VIRTIO, 0x0004, 0x00FF00, 0x00, None, "transitional virtio-rng, unbound"),
    (0xA, 0, VIRTIO, 0x1003, VIRTIO, 0x0003, 0x078000, 0x00, "virtio-pci", "transitional virtio-console"),
    (0xB, 0, VIRTIO, 0x1045, VIRTIO, 0x1100, 0x00FF00, 0x01, None, "modern virtio-balloon, unbound"),
    (0xC, 0, VIRTIO, 0x1042, VIRTIO, 0x1100, 0x010000, 0x01, "virtio-pci", "modern virtio-blk"),
    (0xD, 0, VIRTIO, 0x1000, VIRTIO, 0x0001, 0x020000, 0x00, None, "transitional virtio-net, unbound"),
    (0xE, 0, REDHAT, 0x000C, REDHAT, 0x0000, 0x060400, 0x00, "pcieport", "QEMU PCIe root port"),
    (0xE, 1, REDHAT, 0x000D, VIRTIO, 0x1100, 0x0C0330, 0x01, "xhci_hcd", "qemu-xhci"),
    (0xF, 0, INTEL, 0x29C0, VIRTIO, 0x1100, 0x060000, 0x00, None, "q35 host bridge"),
    (0xF, 1, INTEL, 0x2918, VIRTIO, 0x1100, 0x060100, 0x02, None, "ICH9 LPC"),
    (0xF, 2, INTEL, 0x2922, VIRTIO, 0x1100, 0x010601, 0x02, "ahci", "ICH9 AHCI"),
    (0xF, 3, INTEL, 0x2930, VIRTIO, 0x1100, 0x0C0500, 0x02, "i801_smbus", "ICH9 SMBus"),
]
CYCLES_PER_BUS = 2
SLOTS_PER_CYCLE = 16
MAX_DEVICES = 256 * CYCLES_PER_BUS * len(CYCLE)


def modalias(vendor, device, sub_vendor, sub_device, cls):
    return "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
        vendor, device, sub_vendor, sub_device, cls >> 16, (cls >> 8) & 0xFF, cls & 0xFF)


def device_text(index):
    cycle, pos = divmod(index, len(CYCLE))
    slot, function, vendor, device, sub_vendor, sub_device, cls, rev, driver, _ = CYCLE[pos]
    bus = cycle // CYCLES_PER_BUS
    slot += (cycle % CYCLES_PER_BUS) * SLOTS_PER_CYCLE
    name = "0000:%02x:%02x.%x" % (bus, slot, function)
    alias = modalias(vendor, device, sub_vendor, sub_device, cls)

    lines = ["P: /devices/pci0000:00/%s" % name]
    if driver:
        lines.append("E: DRIVER=%s" % driver)
    lines += [
        "E: MODALIAS=%s" % alias,
        "E: PCI_CLASS=%X" % cls,
        "E: PCI_ID=%04X:%04X" % (vendor, device),
        "E: PCI_SLOT_NAME=%s" % name,
        "E: PCI_SUBSYS_ID=%04X:%04X" % (sub_vendor, sub_device),
        "E: SUBSYSTEM=pci",
        "A: class=0x%06x\\n" % cls,
        "A: device=0x%04x\\n" % device,
    ]
    if driver:
        # Three "../" lead from /sys/devices/pci0000:00/NAME back to /sys.
        lines.append("L: driver=../../../bus/pci/drivers/%s" % driver)
    lines += [
        "A: driver_override=(null)\\n",
        "A: enable=%d\\n" % (1 if driver else 0),
        "A: modalias=%s\\n" % alias,
        "A: revision=0x%02x\\n" % rev,
        "A: subsystem_device=0x%04x\\n" % sub_device,
        "A: subsystem_vendor=0x%04x\\n" % sub_vendor,
        "A: vendor=0x%04x\\n" % vendor,
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", "-n", type=int, default=1000,
                        help="number of PCI functions (default 1000, at most %d)" % MAX_DEVICES)
    parser.add_argument("--output", "-o", help="write here instead of standard output")
    parser.add_argument("--list-drivers", action="store_true",
                        help="print the driver names the tree links to, one a line, and exit")
    args = parser.parse_args()

    if args.list_drivers:
        print("\n".join(sorted({c[8] for c in CYCLE if c[8]})))
        return 0
    if not 0 <= args.devices <= MAX_DEVICES:
        parser.error("--devices must be between 0 and %d (PCI has 256 buses)" % MAX_DEVICES)

    text = "\n".join(device_text(i) for i in range(args.devices))
    if args.output:
        with open(args.output, "w", encoding="ascii") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
