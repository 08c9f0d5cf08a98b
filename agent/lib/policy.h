/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define POLICY_FORMAT    1
#define POLICY_SIZE_MAX  (1024 * 1024)
#define POLICY_RULES_MAX 4096
#define POLICY_LIST_MAX  256

typedef enum Action {
        ACTION_DENY,
        ACTION_ALLOW,
        _ACTION_MAX,
        _ACTION_INVALID = -EINVAL,
} Action;

const char *action_to_string(Action a);
Action action_from_string(const char *s);

/* A set of numeric IDs; an empty list means "any". */
typedef struct IdList {
        uint32_t *ids;
        size_t n;
} IdList;

/* A PCI class code matches when (class & mask) == value. */
typedef struct ClassPattern {
        uint32_t value, mask;
} ClassPattern;

typedef struct ClassList {
        ClassPattern *patterns;
        size_t n;
} ClassList;

/* Kernel releases from min to max inclusive, compared by their leading numbers: "6.1"
 * bounds 6.1.y for every y. NULL leaves a side open. */
typedef struct KernelRange {
        char *min, *max;
} KernelRange;

typedef struct Match {
        Bus bus;
        IdList vendor; /* pci, virtio (transport vendor), usb */
        IdList device, subsystem_vendor, subsystem_device, revision; /* pci */
        ClassList class;                                             /* pci */
        IdList virtio;                   /* pci, virtio: virtio device types */
        IdList product, interface_class; /* usb */
} Match;

typedef struct Rule {
        Action action;
        char *comment;
        Match match;
        char *driver; /* allow only: the one driver that may bind the device */
        KernelRange kernel;
} Rule;

typedef struct Policy {
        char *name;
        int64_t version;
        char *description;
        Action default_action;
        KernelRange kernel;
        int64_t expires; /* seconds since the epoch, 0 for never */
        Rule *rules;
        size_t n_rules;
        char sha256[65]; /* of the bytes the policy was parsed from */
        /* Those bytes, kept so that the policy a boot enforces can be handed on as it was
         * verified (the state directory's policy.json). */
        char *json;
        size_t json_size;
} Policy;

Policy *policy_free(Policy *p);
static inline void policy_freep(Policy **p) {
        policy_free(*p);
}

/* Where and why a policy was rejected: "rules[3].match.class" and the reason. */
typedef struct PolicyError {
        char path[256];
        char reason[256];
} PolicyError;

/* Parses a policy v1 document. Unknown keys are errors. */
int policy_parse(const char *data, size_t size, Policy **ret, PolicyError *error);

/* The lowercase hex SHA-256 of the bytes a policy was parsed from. */
void policy_hash(const void *data, size_t size, char ret[65]);

/* Reads at most POLICY_SIZE_MAX bytes from a file and parses them; logs the rejection
 * naming the file, the JSON path and the reason. */
int policy_load(const char *path, Policy **ret);

/* Whether a kernel release such as "6.1.0-28-amd64" lies in the range. */
bool kernel_range_contains(const KernelRange *range, const char *release);
