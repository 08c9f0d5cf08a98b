// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate apply on the q35 fixture recorded from a real guest, in a umockdev testbed: every
 * test checks the files devgate wrote (authorized, driver_override, drivers_probe, unbind).
 * Runs under umockdev's preload, which redirects /sys to the testbed. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <umockdev.h>
#include <unistd.h>

#include "apply.h"
#include "enforce.h"
#include "log.h"

#define KERNEL "6.1.0-56-amd64"
#define PCI    "/sys/devices/pci0000:00/"

static UMockdevTestbed *bed;
static char *bed_root; /* umockdev_testbed_get_root_dir() returns a new copy each time */

/* Devices of the fixture that cc-default allows, with the driver each is pinned to. */
static const struct {
        const char *device, *driver;
} cc_default_allowed_pci[] = {
        { "0000:00:02.0", "pcieport" },   { "0000:00:03.0", "pcieport" },
        { "0000:00:04.0", "pcieport" },   { "0000:01:00.0", "virtio-pci" },
        { "0000:02:00.0", "virtio-pci" }, { "0000:03:00.0", "virtio-pci" },
        { "0000:00:05.0", "virtio-pci" }, { "0000:00:08.0", "virtio-pci" },
};
static const char *const cc_default_denied_pci[] = {
        "0000:00:00.0", "0000:00:06.0", "0000:00:07.0", "0000:00:09.0",
        "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3",
};
static const char *const cc_default_allowed_virtio[] = {
        "virtio0", "virtio3", "virtio4", "virtio5", "virtio6",
};

static char *testbed_path(const char *path) {
        return g_build_filename(bed_root, path, NULL);
}

/* Reads a testbed file, without its trailing newline; "<missing>" if absent. */
static char *read_sys(const char *format, ...) G_GNUC_PRINTF(1, 2);
static char *read_sys(const char *format, ...) {
        g_autofree char *rel = NULL, *path = NULL;
        char *contents = NULL;
        va_list ap;

        va_start(ap, format);
        rel = g_strdup_vprintf(format, ap);
        va_end(ap);
        path = testbed_path(rel);
        if (!g_file_get_contents(path, &contents, NULL, NULL))
                return g_strdup("<missing>");
        g_strchomp(contents);
        return contents;
}

static void write_sys(const char *rel, const char *contents) {
        g_autofree char *path = testbed_path(rel);
        g_assert_true(g_file_set_contents(path, contents, -1, NULL));
}

/* The testbed has no bus control files and no driver directories (umockdev-record cannot
 * read write-only attributes); create what a kernel has, empty. */
static void add_bus_files(void) {
        static const char *const buses[] = { "pci", "virtio", "usb" };

        for (size_t b = 0; b < G_N_ELEMENTS(buses); b++) {
                g_autofree char *devices = NULL;
                g_autoptr(GDir) dir = NULL;
                const char *name;
                char rel[256];

                snprintf(rel, sizeof rel, "sys/bus/%s/drivers_autoprobe", buses[b]);
                write_sys(rel, "1\n");
                snprintf(rel, sizeof rel, "sys/bus/%s/drivers_probe", buses[b]);
                write_sys(rel, "");

                snprintf(rel, sizeof rel, "sys/bus/%s/devices", buses[b]);
                devices = testbed_path(rel);
                dir = g_dir_open(devices, 0, NULL);
                g_assert_nonnull(dir);
                while ((name = g_dir_read_name(dir))) {
                        g_autofree char *link = g_build_filename(devices, name, "driver", NULL);
                        g_autofree char *target = g_file_read_link(link, NULL);
                        g_autofree char *driver_dir = NULL, *unbind = NULL;
                        if (!target)
                                continue;
                        snprintf(rel, sizeof rel, "sys/bus/%s/drivers/%s", buses[b],
                                 strrchr(target, '/') + 1);
                        driver_dir = testbed_path(rel);
                        g_assert_cmpint(g_mkdir_with_parents(driver_dir, 0755), ==, 0);
                        unbind = g_build_filename(driver_dir, "unbind", NULL);
                        if (!g_file_test(unbind, G_FILE_TEST_EXISTS))
                                g_assert_true(g_file_set_contents(unbind, "", 0, NULL));
                }
        }
}

static void setup(void) {
        g_autoptr(GError) error = NULL;

        bed = umockdev_testbed_new();
        bed_root = umockdev_testbed_get_root_dir(bed);
        g_assert_true(umockdev_testbed_add_from_file(bed, FIXTURE_DIR "/q35.umockdev", &error));
        g_assert_no_error(error);
        add_bus_files();
}

static void teardown(void) {
        g_clear_object(&bed);
        g_clear_pointer(&bed_root, g_free);
}

static Policy *load_policy(const char *name) {
        g_autofree char *path = g_build_filename(POLICY_DIR, name, NULL);
        Policy *p = NULL;
        g_assert_cmpint(policy_load(path, &p), ==, 0);
        return p;
}

/* Runs apply; returns the number of decisions that could not be enforced. */
static int apply(const char *policy_name, bool dry_run, ApplyResult *ret) {
        _cleanup_(policy_freep) Policy *p = load_policy(policy_name);
        ApplyResult result;
        g_assert_cmpint(apply_policy(p, KERNEL, dry_run, &result), ==, 0);
        int failed = (int) result.failed;
        if (ret)
                *ret = result;
        else
                apply_result_done(&result);
        return failed;
}

static const char *record_field(const ApplyResult *result, const char *device, const char *key) {
        for (size_t i = 0; i < result->n_decisions; i++) {
                const Decision *d = &result->decisions[i];
                if (!g_str_equal(d->device->name, device))
                        continue;
                if (g_str_equal(key, "action"))
                        return action_to_string(d->action);
                if (g_str_equal(key, "backend"))
                        return backend_to_string(d->backend);
                if (g_str_equal(key, "outcome"))
                        return outcome_to_string(d->outcome);
                if (g_str_equal(key, "result"))
                        return d->result;
                g_error("no field %s", key);
        }
        g_error("no decision for %s", device);
}

static void assert_sys(const char *expected, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void assert_sys(const char *expected, const char *format, ...) {
        g_autofree char *rel = NULL, *got = NULL;
        va_list ap;
        va_start(ap, format);
        rel = g_strdup_vprintf(format, ap);
        va_end(ap);
        got = read_sys("%s", rel);
        if (!g_str_equal(got, expected))
                g_error("%s: expected \"%s\", found \"%s\"", rel, expected, got);
}

static const char *pci_path(const char *device) {
        static char path[256];
        /* Functions behind a root port sit below it in /sys/devices. */
        static const struct {
                const char *device, *port;
        } behind[] = {
                { "0000:01:00.0", "0000:00:02.0" },
                { "0000:02:00.0", "0000:00:03.0" },
                { "0000:03:00.0", "0000:00:04.0" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(behind); i++)
                if (g_str_equal(device, behind[i].device)) {
                        snprintf(path, sizeof path, PCI "%s/%s", behind[i].port, device);
                        return path;
                }
        snprintf(path, sizeof path, PCI "%s", device);
        return path;
}

static void test_bus_gate_cc_default(void) {
        ApplyResult records;

        setup();
        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 0);

        assert_sys("0", "sys/bus/pci/drivers_autoprobe");
        assert_sys("0", "sys/bus/virtio/drivers_autoprobe");

        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_allowed_pci); i++) {
                const char *dev = cc_default_allowed_pci[i].device;
                assert_sys(cc_default_allowed_pci[i].driver, "%s/driver_override", pci_path(dev));
                g_assert_cmpstr(record_field(&records, dev, "action"), ==, "allow");
                g_assert_cmpstr(record_field(&records, dev, "backend"), ==, "bus-gate");
        }
        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_denied_pci); i++) {
                const char *dev = cc_default_denied_pci[i];
                assert_sys(DEVGATE_DENY_OVERRIDE, "%s/driver_override", pci_path(dev));
                g_assert_cmpstr(record_field(&records, dev, "action"), ==, "deny");
        }

        /* Denied functions that were bound are unbound; allowed ones, already bound to
         * their pinned driver, are left alone and need no probe. */
        assert_sys("0000:00:06.0\n0000:00:07.0", "sys/bus/pci/drivers/virtio-pci/unbind");
        assert_sys("0000:00:09.0", "sys/bus/pci/drivers/xhci_hcd/unbind");
        assert_sys("0000:00:1f.2", "sys/bus/pci/drivers/ahci/unbind");
        assert_sys("0000:00:1f.3", "sys/bus/pci/drivers/i801_smbus/unbind");
        assert_sys("", "sys/bus/pci/drivers/pcieport/unbind");
        assert_sys("", "sys/bus/pci/drivers_probe");

        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_allowed_virtio); i++)
                g_assert_cmpstr(record_field(&records, cc_default_allowed_virtio[i], "action"), ==,
                                "allow");
        assert_sys("virtio1", "sys/bus/virtio/drivers/virtio_rng/unbind");
        assert_sys("virtio2", "sys/bus/virtio/drivers/virtio_balloon/unbind");
        assert_sys("", "sys/bus/virtio/drivers/virtio_net/unbind");
        assert_sys("", "sys/bus/virtio/drivers/virtio_blk/unbind");
        assert_sys("", "sys/bus/virtio/drivers/virtio_console/unbind");

        /* USB has its own authorized attribute: every device deauthorized, root hubs
         * authorize nothing new. */
        assert_sys("0", PCI "0000:00:09.0/usb1/authorized");
        assert_sys("0", PCI "0000:00:09.0/usb2/authorized");
        assert_sys("0", PCI "0000:00:09.0/usb1/1-1/authorized");
        assert_sys("0", PCI "0000:00:09.0/usb1/1-2/authorized");
        assert_sys("0", PCI "0000:00:09.0/usb1/authorized_default");
        assert_sys("0", PCI "0000:00:09.0/usb2/authorized_default");

        /* Exactly the expected devices are allowed, nothing else. */
        g_assert_cmpuint(records.n_decisions, ==, 15 + 7 + 4);
        g_assert_cmpuint(records.allowed, ==,
                         G_N_ELEMENTS(cc_default_allowed_pci) +
                                 G_N_ELEMENTS(cc_default_allowed_virtio));
        apply_result_done(&records);
        teardown();
}

/* A kernel with a generic "authorized" attribute (Intel's TDX guest kernels): devgate writes
 * 1 or 0 there and leaves the bus gate's files alone. */
static void add_authorized_attributes(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_allowed_pci); i++)
                umockdev_testbed_set_attribute(bed, pci_path(cc_default_allowed_pci[i].device),
                                               "authorized", "0\n");
        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_denied_pci); i++)
                umockdev_testbed_set_attribute(bed, pci_path(cc_default_denied_pci[i]),
                                               "authorized", "1\n");
        for (unsigned i = 0; i <= 6; i++) {
                g_autofree char *name = g_strdup_printf("virtio%u", i);
                g_autofree char *link = testbed_path("sys/bus/virtio/devices");
                g_autofree char *dev = g_build_filename(link, name, "authorized", NULL);
                g_assert_true(g_file_set_contents(dev, "1\n", -1, NULL));
        }
}

static void test_authorized_cc_default(void) {
        ApplyResult records;

        setup();
        add_authorized_attributes();
        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 0);

        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_allowed_pci); i++) {
                const char *dev = cc_default_allowed_pci[i].device;
                assert_sys("1", "%s/authorized", pci_path(dev));
                assert_sys(cc_default_allowed_pci[i].driver, "%s/driver_override", pci_path(dev));
                g_assert_cmpstr(record_field(&records, dev, "backend"), ==, "authorized");
        }
        for (size_t i = 0; i < G_N_ELEMENTS(cc_default_denied_pci); i++) {
                assert_sys("0", "%s/authorized", pci_path(cc_default_denied_pci[i]));
                assert_sys("(null)", "%s/driver_override", pci_path(cc_default_denied_pci[i]));
        }
        for (unsigned i = 0; i <= 6; i++) {
                bool allowed = i != 1 && i != 2; /* rng and balloon */
                assert_sys(allowed ? "1" : "0", "sys/bus/virtio/devices/virtio%u/authorized", i);
        }
        assert_sys("", "sys/bus/pci/drivers/virtio-pci/unbind");
        assert_sys("", "sys/bus/virtio/drivers/virtio_rng/unbind");
        apply_result_done(&records);
        teardown();
}

static void test_dry_run_writes_nothing(void) {
        setup();
        g_assert_cmpint(apply("cc-default.json", true, NULL), ==, 0);
        assert_sys("1", "sys/bus/pci/drivers_autoprobe");
        assert_sys("1", "sys/bus/virtio/drivers_autoprobe");
        assert_sys("(null)", PCI "0000:00:1f.2/driver_override");
        assert_sys("(null)", PCI "0000:00:05.0/driver_override");
        assert_sys("", "sys/bus/pci/drivers/ahci/unbind");
        assert_sys("1", PCI "0000:00:09.0/usb1/authorized");
        teardown();
}

static void test_unbound_allowed_device_is_probed(void) {
        ApplyResult records;
        g_autofree char *link = NULL;

        setup();
        link = g_build_filename(bed_root, pci_path("0000:01:00.0"), "driver", NULL);
        g_assert_cmpint(unlink(link), ==, 0);

        /* The fake kernel binds nothing: the probe is requested, and reported. */
        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 0);
        assert_sys("0000:01:00.0", "sys/bus/pci/drivers_probe");
        assert_sys("virtio-pci", "%s/driver_override", pci_path("0000:01:00.0"));
        g_assert_cmpstr(record_field(&records, "0000:01:00.0", "outcome"), ==, "warning");
        apply_result_done(&records);
        teardown();
}

static void test_wrong_driver_is_replaced(void) {
        g_autofree char *dir = NULL, *link = NULL;

        setup();
        dir = testbed_path("sys/bus/pci/drivers/pci-stub");
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        write_sys("sys/bus/pci/drivers/pci-stub/unbind", "");
        link = g_build_filename(bed_root, pci_path("0000:02:00.0"), "driver", NULL);
        g_assert_cmpint(unlink(link), ==, 0);
        g_assert_cmpint(symlink("../../../../bus/pci/drivers/pci-stub", link), ==, 0);

        /* devgate pins, unbinds and probes; the fake kernel carries none of it out, so the
         * device still shows pci-stub afterwards, and devgate's check after the probe
         * reports that instead of trusting its own writes. */
        ApplyResult records;
        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 1);
        assert_sys("virtio-pci", "%s/driver_override", pci_path("0000:02:00.0"));
        g_autofree char *unbinds = read_sys("sys/bus/pci/drivers/pci-stub/unbind");
        g_assert_true(g_str_has_prefix(unbinds, "0000:02:00.0\n"));
        assert_sys("0000:02:00.0", "sys/bus/pci/drivers_probe");
        g_assert_cmpstr(record_field(&records, "0000:02:00.0", "outcome"), ==, "failed");
        g_assert_nonnull(strstr(record_field(&records, "0000:02:00.0", "result"),
                                "pci-stub bound instead of virtio-pci"));
        apply_result_done(&records);
        teardown();
}

/* Hostile values on 0000:00:05.0, a transitional virtio-net function cc-default allows.
 * Whatever the host puts there, the function must end up denied: unbindable and unbound. */
typedef void (*Tamper)(const char *dir);

static void tamper_garbage(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "vendor", NULL);
        g_assert_true(g_file_set_contents(p, "0xzz1f\n", -1, NULL));
}
static void tamper_huge(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "vendor", NULL);
        g_autofree char *big = g_strnfill(1 << 20, '1');
        g_assert_true(g_file_set_contents(p, big, -1, NULL));
}
static void tamper_overflow(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "device", NULL);
        g_assert_true(g_file_set_contents(p, "0x11000\n", -1, NULL));
}
static void tamper_empty(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "class", NULL);
        g_assert_true(g_file_set_contents(p, "", -1, NULL));
}
static void tamper_missing(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "subsystem_device", NULL);
        g_assert_cmpint(unlink(p), ==, 0);
}
static void tamper_symlink(const char *dir) {
        /* Points at an allowed device's vendor: following it would read a valid ID. */
        g_autofree char *p = g_build_filename(dir, "vendor", NULL);
        g_assert_cmpint(unlink(p), ==, 0);
        g_assert_cmpint(symlink("../0000:00:08.0/vendor", p), ==, 0);
}
static void tamper_fifo(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "revision", NULL);
        g_assert_cmpint(unlink(p), ==, 0);
        g_assert_cmpint(mkfifo(p, 0644), ==, 0);
}
static void tamper_embedded_nul(const char *dir) {
        g_autofree char *p = g_build_filename(dir, "vendor", NULL);
        g_assert_true(g_file_set_contents(p, "0x1a\0f4\n", 8, NULL));
}
static void tamper_rng_as_net(const char *dir) {
        /* A valid transitional net ID whose subsystem device says rng: virtio_pci would
         * drive it as rng, so it is not a "net" device. */
        g_autofree char *p = g_build_filename(dir, "subsystem_device", NULL);
        g_assert_true(g_file_set_contents(p, "0x0004\n", -1, NULL));
}

static void test_hostile(gconstpointer data) {
        Tamper tamper = (Tamper) data;
        g_autofree char *dir = NULL;
        ApplyResult records;

        setup();
        dir = g_build_filename(bed_root, pci_path("0000:00:05.0"), NULL);
        tamper(dir);

        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 0);
        g_assert_cmpstr(record_field(&records, "0000:00:05.0", "action"), ==, "deny");
        assert_sys(DEVGATE_DENY_OVERRIDE, PCI "0000:00:05.0/driver_override");
        assert_sys("0000:00:05.0\n0000:00:06.0\n0000:00:07.0",
                   "sys/bus/pci/drivers/virtio-pci/unbind");
        /* The other devices are decided as before. */
        assert_sys("virtio-pci", PCI "0000:00:08.0/driver_override");
        apply_result_done(&records);
        teardown();
}

/* The device disappears between the decision and the write: nothing is bound. */
static void test_vanished(void) {
        _cleanup_(policy_freep) Policy *p = NULL;
        Enforcer e;
        Device dev;
        Decision d;

        setup();
        p = load_policy("cc-default.json");
        g_assert_cmpint(device_load(&dev, BUS_PCI, PCI "0000:00:05.0"), ==, 0);
        decide(p, &dev, KERNEL, &d);
        g_assert_cmpint(d.action, ==, ACTION_ALLOW);

        umockdev_testbed_remove_device(bed, PCI "0000:00:05.0");
        g_assert_cmpint(enforcer_open(&e, false), ==, 0);
        enforce(&e, &d);
        enforcer_close(&e);

        g_assert_cmpint(d.outcome, ==, OUTCOME_FAILED);
        g_assert_nonnull(strstr(d.result, "vanished"));
        assert_sys("", "sys/bus/pci/drivers_probe");
        device_done(&dev);
        teardown();
}

/* The device presents another identity after the decision: it is denied, not authorized. */
static void test_identity_changed(void) {
        _cleanup_(policy_freep) Policy *p = NULL;
        g_autofree char *link = NULL;
        Enforcer e;
        Device dev;
        Decision d;

        setup();
        /* Unbound, so that an allow would have to probe it. */
        link = g_build_filename(bed_root, pci_path("0000:02:00.0"), "driver", NULL);
        g_assert_cmpint(unlink(link), ==, 0);

        p = load_policy("cc-default.json");
        g_assert_cmpint(device_load(&dev, BUS_PCI, pci_path("0000:02:00.0")), ==, 0);
        decide(p, &dev, KERNEL, &d);
        g_assert_cmpint(d.action, ==, ACTION_ALLOW);

        umockdev_testbed_set_attribute(bed, pci_path("0000:02:00.0"), "device", "0x1044\n");
        g_assert_cmpint(enforcer_open(&e, false), ==, 0);
        enforce(&e, &d);
        enforcer_close(&e);

        g_assert_cmpint(d.action, ==, ACTION_DENY);
        g_assert_nonnull(strstr(d.result, "identity changed"));
        g_assert_cmpstr(d.rule_label, ==, "changed");
        assert_sys(DEVGATE_DENY_OVERRIDE, "%s/driver_override", pci_path("0000:02:00.0"));
        assert_sys("", "sys/bus/pci/drivers_probe");
        device_done(&dev);
        teardown();
}

/* An "authorized" that is a symlink is not written through: the allow fails, reported. */
static void test_authorized_symlink_refused(void) {
        g_autofree char *attr = NULL, *decoy = NULL;
        ApplyResult records;

        setup();
        add_authorized_attributes();
        decoy = testbed_path("decoy");
        write_sys("decoy", "0\n");
        attr = g_build_filename(bed_root, pci_path("0000:00:08.0"), "authorized", NULL);
        g_assert_cmpint(unlink(attr), ==, 0);
        g_assert_cmpint(symlink(decoy, attr), ==, 0);

        g_assert_cmpint(apply("cc-default.json", false, &records), ==, 1);
        g_assert_cmpstr(record_field(&records, "0000:00:08.0", "outcome"), ==, "failed");
        assert_sys("0", "decoy");
        apply_result_done(&records);
        teardown();
}

/* A policy that allows the root hubs still closes them to devices plugged in later. */
static void test_usb_root_hub_gated_when_allowed(void) {
        setup();
        g_assert_cmpint(apply("permissive.json", false, NULL), ==, 0);
        assert_sys("1", PCI "0000:00:09.0/usb1/authorized");
        assert_sys("0", PCI "0000:00:09.0/usb1/authorized_default");
        assert_sys("0", PCI "0000:00:09.0/usb2/authorized_default");
        assert_sys("1", PCI "0000:00:09.0/usb1/1-1/authorized"); /* HID only */
        assert_sys("xhci_hcd", PCI "0000:00:09.0/driver_override");
        teardown();
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, g_test_verbose() ? LOG_DEBUG : LOG_ERR);

        /* Without the preload, /sys would be the build machine's own. */
        if (!strstr(g_getenv("LD_PRELOAD") ?: "", "libumockdev-preload")) {
                printf("1..0 # SKIP needs umockdev's preload: run under umockdev-wrapper\n");
                return 0;
        }

        g_test_add_func("/apply/bus-gate/cc-default", test_bus_gate_cc_default);
        g_test_add_func("/apply/authorized/cc-default", test_authorized_cc_default);
        g_test_add_func("/apply/dry-run-writes-nothing", test_dry_run_writes_nothing);
        g_test_add_func("/apply/unbound-allowed-device-is-probed",
                        test_unbound_allowed_device_is_probed);
        g_test_add_func("/apply/wrong-driver-is-replaced", test_wrong_driver_is_replaced);
        g_test_add_data_func("/apply/hostile/garbage-id", tamper_garbage, test_hostile);
        g_test_add_data_func("/apply/hostile/huge-value", tamper_huge, test_hostile);
        g_test_add_data_func("/apply/hostile/id-too-wide", tamper_overflow, test_hostile);
        g_test_add_data_func("/apply/hostile/empty-class", tamper_empty, test_hostile);
        g_test_add_data_func("/apply/hostile/missing-file", tamper_missing, test_hostile);
        g_test_add_data_func("/apply/hostile/symlink-for-file", tamper_symlink, test_hostile);
        g_test_add_data_func("/apply/hostile/fifo-for-file", tamper_fifo, test_hostile);
        g_test_add_data_func("/apply/hostile/embedded-nul", tamper_embedded_nul, test_hostile);
        g_test_add_data_func("/apply/hostile/rng-posing-as-net", tamper_rng_as_net, test_hostile);
        g_test_add_func("/apply/hostile/vanished-mid-run", test_vanished);
        g_test_add_func("/apply/hostile/identity-changed", test_identity_changed);
        g_test_add_func("/apply/hostile/authorized-symlink", test_authorized_symlink_refused);
        g_test_add_func("/apply/usb/root-hub-gated-when-allowed",
                        test_usb_root_hub_gated_when_allowed);
        return g_test_run();
}
