// SPDX-License-Identifier: LGPL-2.1-or-later
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

static const char *const action_names[_ACTION_MAX] = {
        [ACTION_DENY] = "deny",
        [ACTION_ALLOW] = "allow",
};

const char *action_to_string(Action a) {
        return a >= 0 && a < _ACTION_MAX ? action_names[a] : NULL;
}

Action action_from_string(const char *s) {
        for (Action a = 0; a < _ACTION_MAX; a++)
                if (streq(action_names[a], s))
                        return a;
        return _ACTION_INVALID;
}

static void match_done(Match *m) {
        free(m->vendor.ids);
        free(m->device.ids);
        free(m->subsystem_vendor.ids);
        free(m->subsystem_device.ids);
        free(m->revision.ids);
        free(m->class.patterns);
        free(m->virtio.ids);
        free(m->product.ids);
        free(m->interface_class.ids);
}

static void kernel_range_done(KernelRange *k) {
        free(k->min);
        free(k->max);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++) {
                free(p->rules[i].comment);
                free(p->rules[i].driver);
                match_done(&p->rules[i].match);
                kernel_range_done(&p->rules[i].kernel);
        }
        free(p->rules);
        free(p->name);
        free(p->description);
        free(p->json);
        kernel_range_done(&p->kernel);
        free(p);
        return NULL;
}

void policy_hash(const void *data, size_t size, char ret[65]) {
        unsigned char digest[32];
        unsigned len = 0;

        if (EVP_Digest(data, size, digest, &len, EVP_sha256(), NULL) != 1 || len != 32) {
                ret[0] = '\0';
                return;
        }
        for (unsigned i = 0; i < 32; i++)
                sprintf(ret + 2 * i, "%02x", digest[i]);
}

int policy_load(const char *path, Policy **ret) {
        _cleanup_free_ char *data = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyError error = {};
        size_t size;
        int r;

        r = read_full_file(path, POLICY_SIZE_MAX, &data, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "Policy '%s' is larger than %d bytes, refusing.", path,
                                       POLICY_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read policy '%s': %m", path);

        r = policy_parse(data, size, &p, &error);
        if (r < 0) {
                if (error.path[0])
                        return log_error_errno(r, "%s: %s: %s", path, error.path, error.reason);
                return log_error_errno(r, "%s: %s", path, error.reason);
        }

        *ret = TAKE_PTR(p);
        return 0;
}

/* Compares the leading dotted numbers of a release with a bound, over as many components
 * as the bound has: "6.1" vs "6.1.0-28-amd64" is equal. */
static int kernel_compare(const char *release, const char *bound) {
        const char *r = release, *b = bound;

        while (*b) {
                unsigned long rv = 0, bv = 0;
                while (*b >= '0' && *b <= '9')
                        bv = bv * 10 + (unsigned long) (*b++ - '0');
                while (*r >= '0' && *r <= '9')
                        rv = rv * 10 + (unsigned long) (*r++ - '0');
                if (rv != bv)
                        return rv < bv ? -1 : 1;
                if (*b == '.')
                        b++;
                if (*r == '.')
                        r++;
        }
        return 0;
}

bool kernel_range_contains(const KernelRange *range, const char *release) {
        if (range->min && kernel_compare(release, range->min) < 0)
                return false;
        if (range->max && kernel_compare(release, range->max) > 0)
                return false;
        return true;
}
