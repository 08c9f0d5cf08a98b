// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "generate.h"
#include "macro.h"
#include "virtio-ids.h"

static json_object *hex_id(uint32_t value, int digits) {
        char buf[16];
        snprintf(buf, sizeof buf, "0x%0*x", digits, value);
        return json_object_new_string(buf);
}

static json_object *new_rule(const char *comment, const char *bus, const char *driver) {
        json_object *rule = json_object_new_object(), *match = json_object_new_object();

        json_object_object_add(rule, "comment", json_object_new_string(comment));
        json_object_object_add(rule, "action", json_object_new_string("allow"));
        json_object_object_add(match, "bus", json_object_new_string(bus));
        json_object_object_add(rule, "match", match);
        if (driver && *driver)
                json_object_object_add(rule, "driver", json_object_new_string(driver));
        return rule;
}

static json_object *rule_match(json_object *rule) {
        json_object *match = NULL;
        json_object_object_get_ex(rule, "match", &match);
        return match;
}

/* Rules are keyed by what they match plus the pinned driver, so that identical devices
 * share one rule. */
static bool has_rule(json_object *rules, json_object *candidate) {
        const char *s = json_object_to_json_string(rule_match(candidate));
        json_object *drv_c = NULL;
        json_object_object_get_ex(candidate, "driver", &drv_c);

        for (size_t i = 0; i < json_object_array_length(rules); i++) {
                json_object *r = json_object_array_get_idx(rules, i), *drv = NULL;
                json_object_object_get_ex(r, "driver", &drv);
                if (streq(json_object_to_json_string(rule_match(r)), s) &&
                    json_object_equal(drv, drv_c))
                        return true;
        }
        return false;
}

static json_object *rule_for(const Device *d) {
        const DeviceIdentity *id = &d->id;
        char comment[128];
        uint32_t type;
        json_object *rule, *match;

        switch (id->bus) {
        case BUS_PCI:
                if (virtio_type_of_pci(id->pci.vendor, id->pci.device, id->pci.subsystem_device,
                                       &type) &&
                    virtio_type_to_name(type)) {
                        snprintf(comment, sizeof comment, "virtio %s transport, seen at %s",
                                 virtio_type_to_name(type), d->name);
                        rule = new_rule(comment, "pci", d->driver);
                        json_object_object_add(rule_match(rule), "virtio",
                                               json_object_new_string(virtio_type_to_name(type)));
                        return rule;
                }
                snprintf(comment, sizeof comment, "class %06x, seen at %s", id->pci.class, d->name);
                rule = new_rule(comment, "pci", d->driver);
                match = rule_match(rule);
                json_object_object_add(match, "vendor", hex_id(id->pci.vendor, 4));
                json_object_object_add(match, "device", hex_id(id->pci.device, 4));
                json_object_object_add(match, "subsystem_vendor",
                                       hex_id(id->pci.subsystem_vendor, 4));
                json_object_object_add(match, "subsystem_device",
                                       hex_id(id->pci.subsystem_device, 4));
                json_object_object_add(match, "class", hex_id(id->pci.class, 6));
                return rule;

        case BUS_VIRTIO:
                if (!virtio_type_to_name(id->virtio.type))
                        return NULL;
                snprintf(comment, sizeof comment, "virtio %s, seen at %s",
                         virtio_type_to_name(id->virtio.type), d->name);
                rule = new_rule(comment, "virtio", d->driver);
                json_object_object_add(
                        rule_match(rule), "virtio",
                        json_object_new_string(virtio_type_to_name(id->virtio.type)));
                return rule;

        case BUS_USB: {
                json_object *classes = json_object_new_array();
                snprintf(comment, sizeof comment, "usb device class %02x, seen at %s",
                         id->usb.device_class, d->name);
                rule = new_rule(comment, "usb", NULL);
                match = rule_match(rule);
                json_object_object_add(match, "vendor", hex_id(id->usb.vendor, 4));
                json_object_object_add(match, "product", hex_id(id->usb.product, 4));
                for (unsigned c = 0; c < 256; c++)
                        if (id->usb.interface_class[c / 64] & UINT64_C(1) << (c % 64))
                                json_object_array_add(classes, hex_id(c, 2));
                if (json_object_array_length(classes) > 0)
                        json_object_object_add(match, "interface_class", classes);
                else
                        json_object_put(classes);
                return rule;
        }
        default:
                return NULL;
        }
}

json_object *policy_generate(DeviceList lists[], size_t n_lists, const char *name) {
        json_object *policy = json_object_new_object(), *rules = json_object_new_array();

        json_object_object_add(policy, "format", json_object_new_int(1));
        json_object_object_add(policy, "name", json_object_new_string(name));
        json_object_object_add(policy, "version", json_object_new_int(1));
        json_object_object_add(policy, "description",
                               json_object_new_string("Allows exactly the devices present when it "
                                                      "was generated, each pinned to its driver."));
        json_object_object_add(policy, "default", json_object_new_string("deny"));

        for (size_t l = 0; l < n_lists; l++)
                for (size_t i = 0; i < lists[l].n; i++) {
                        const Device *d = &lists[l].devices[i];
                        json_object *rule;

                        if (d->identity_error < 0)
                                continue;
                        rule = rule_for(d);
                        if (!rule)
                                continue;
                        if (has_rule(rules, rule))
                                json_object_put(rule);
                        else
                                json_object_array_add(rules, rule);
                }

        json_object_object_add(policy, "rules", rules);
        return policy;
}
