// SPDX-License-Identifier: LGPL-2.1-or-later
/* The floor of the benchmark: the least work any program that authorizes PCI functions by
 * their IDs must do. For each entry of /sys/bus/pci/devices it reads and parses the six
 * ID files devgate reads (vendor device subsystem_vendor subsystem_device class revision)
 * and writes one attribute, driver_override. No libudev, no policy, no logging, no
 * record: whatever devgate spends above this is the price of its policy engine, its
 * enumeration and its report.
 *
 * Like devgate it reads through a directory fd (openat), so that both pay for the same
 * system calls. The value it writes comes from a trivial built-in table, the same one
 * tests/bench/loop.sh uses. Exit status: 0 success, 1 a device could not be read or
 * written. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEVICES "/sys/bus/pci/devices"

/* Reads "0x" followed by hex digits and a newline, as the PCI core prints IDs. */
static int read_hex(int dfd, const char *name, uint32_t *ret) {
        char buf[16];
        uint32_t v = 0;
        ssize_t n;
        int fd;

        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 3 || buf[0] != '0' || buf[1] != 'x')
                return -1;
        for (ssize_t i = 2; i < n && buf[i] != '\n'; i++) {
                char c = buf[i];
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                        return -1;
                v = v << 4 | (uint32_t) d;
        }
        *ret = v;
        return 0;
}

static const char *choose(uint32_t vendor, uint32_t device, uint32_t sub_device) {
        if (vendor == 0x1af4) {
                /* modern net, block, console; transitional ones carry the type in
                 * subsystem_device */
                if (device >= 0x1041 && device <= 0x1043)
                        return "virtio-pci";
                if (device >= 0x1000 && device <= 0x103f && sub_device >= 1 && sub_device <= 3)
                        return "virtio-pci";
        }
        if (vendor == 0x1b36 && device == 0x000c)
                return "pcieport";
        return "devgate-denied";
}

int main(void) {
        DIR *dir = opendir(DEVICES);
        struct dirent *de;
        unsigned done = 0, failed = 0;

        if (!dir) {
                perror("floor: " DEVICES);
                return 1;
        }
        while ((de = readdir(dir))) {
                uint32_t vendor, device, sub_vendor, sub_device, class, revision;
                const char *value;
                int dfd, fd;

                if (de->d_name[0] == '.')
                        continue;
                dfd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) {
                        failed++;
                        continue;
                }
                if (read_hex(dfd, "vendor", &vendor) < 0 || read_hex(dfd, "device", &device) < 0 ||
                    read_hex(dfd, "subsystem_vendor", &sub_vendor) < 0 ||
                    read_hex(dfd, "subsystem_device", &sub_device) < 0 ||
                    read_hex(dfd, "class", &class) < 0 ||
                    read_hex(dfd, "revision", &revision) < 0) {
                        close(dfd);
                        failed++;
                        continue;
                }
                value = choose(vendor, device, sub_device);
                fd = openat(dfd, "driver_override", O_WRONLY | O_TRUNC | O_CLOEXEC);
                if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t) strlen(value))
                        failed++;
                else
                        done++;
                if (fd >= 0)
                        close(fd);
                close(dfd);
        }
        closedir(dir);
        printf("floor: %u devices written, %u failed\n", done, failed);
        return failed ? 1 : 0;
}
