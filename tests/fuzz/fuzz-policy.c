// SPDX-License-Identifier: LGPL-2.1-or-later
/* policy_parse() on hostile bytes. Beyond not crashing and not leaking (ASan's job), what it
 * accepts must be within the format's limits: the matcher and the reports trust those. */
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "policy.h"
#include "virtio-ids.h"

/* Private to policy-parse.c; devgate-policy(5) documents them. */
#define NAME_MAX_LEN  64
#define TEXT_MAX_LEN  4096
#define BOUND_MAX_LEN 32

static void check_text(const char *s, size_t max) {
        if (s)
                fuzz_check(s[0] != '\0' && strlen(s) <= max);
}

static void check_identifier(const char *s) {
        check_text(s, NAME_MAX_LEN);
        if (s)
                fuzz_check(strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-_.") == strlen(s));
}

/* "6", "6.1", "6.1.112". */
static void check_kernel_bound(const char *s) {
        check_text(s, BOUND_MAX_LEN);
        if (!s)
                return;
        fuzz_check(strspn(s, "0123456789.") == strlen(s));
        fuzz_check(s[0] != '.' && s[strlen(s) - 1] != '.' && !strstr(s, ".."));
}

static void check_kernel_range(const KernelRange *k) {
        check_kernel_bound(k->min);
        check_kernel_bound(k->max);
}

static void check_ids(const IdList *l, uint32_t max) {
        fuzz_check(l->n <= POLICY_LIST_MAX);
        fuzz_check(l->n == 0 || l->ids);
        for (size_t i = 0; i < l->n; i++)
                fuzz_check(l->ids[i] <= max);
}

static void check_match(const Match *m) {
        fuzz_check(m->bus >= 0 && m->bus < _BUS_MAX);

        check_ids(&m->vendor, 0xffff);
        check_ids(&m->device, 0xffff);
        check_ids(&m->subsystem_vendor, 0xffff);
        check_ids(&m->subsystem_device, 0xffff);
        check_ids(&m->revision, 0xff);
        check_ids(&m->product, 0xffff);
        check_ids(&m->interface_class, 0xff);
        check_ids(&m->virtio, UINT32_MAX);
        for (size_t i = 0; i < m->virtio.n; i++)
                fuzz_check(virtio_type_to_name(m->virtio.ids[i]));

        fuzz_check(m->class.n <= POLICY_LIST_MAX);
        fuzz_check(m->class.n == 0 || m->class.patterns);
        for (size_t i = 0; i < m->class.n; i++) {
                /* A value bit outside the mask would make the pattern match nothing. */
                fuzz_check(m->class.patterns[i].mask <= 0xffffff);
                fuzz_check((m->class.patterns[i].value & ~m->class.patterns[i].mask) == 0);
        }

        /* Only the properties the bus has. */
        switch (m->bus) {
        case BUS_PCI:
                fuzz_check(m->product.n == 0 && m->interface_class.n == 0);
                fuzz_check(m->virtio.n == 0 || m->device.n == 0);
                break;
        case BUS_VIRTIO:
                fuzz_check(m->device.n == 0 && m->subsystem_vendor.n == 0 &&
                           m->subsystem_device.n == 0 && m->revision.n == 0 && m->class.n == 0 &&
                           m->product.n == 0 && m->interface_class.n == 0);
                break;
        default:
                fuzz_check(m->device.n == 0 && m->subsystem_vendor.n == 0 &&
                           m->subsystem_device.n == 0 && m->revision.n == 0 && m->class.n == 0 &&
                           m->virtio.n == 0);
                break;
        }
}

static void check_rule(const Rule *rule) {
        fuzz_check(rule->action == ACTION_ALLOW || rule->action == ACTION_DENY);
        check_text(rule->comment, TEXT_MAX_LEN);
        check_match(&rule->match);
        check_identifier(rule->driver);
        if (rule->driver)
                fuzz_check(rule->action == ACTION_ALLOW && rule->match.bus != BUS_USB);
        check_kernel_range(&rule->kernel);
}

static void check_policy(const Policy *p) {
        fuzz_check(p->name);
        check_identifier(p->name);
        fuzz_check(p->version >= 0 && p->version < INT64_MAX);
        check_text(p->description, TEXT_MAX_LEN);
        fuzz_check(p->default_action == ACTION_ALLOW || p->default_action == ACTION_DENY);
        check_kernel_range(&p->kernel);
        fuzz_check(p->n_rules <= POLICY_RULES_MAX);
        fuzz_check(p->n_rules == 0 || p->rules);
        for (size_t i = 0; i < p->n_rules; i++)
                check_rule(&p->rules[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyError error = {};
        int r;

        r = policy_parse((const char *) data, size, &p, &error);
        if (r >= 0) {
                fuzz_check(r == 0 && p);
                check_policy(p);
                return 0;
        }

        /* Rejected: nothing returned, and a reason for the operator unless memory ran out. */
        fuzz_check(r == -EINVAL || r == -ENOMEM);
        fuzz_check(!p);
        fuzz_check(memchr(error.path, '\0', sizeof error.path));
        fuzz_check(memchr(error.reason, '\0', sizeof error.reason));
        if (r == -EINVAL)
                fuzz_check(error.reason[0] != '\0');
        return 0;
}
