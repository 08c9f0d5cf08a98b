/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "device.h"
#include "policy.h"

typedef enum Backend {
        BACKEND_NONE,       /* nothing written: dry run, or the device could not be opened */
        BACKEND_AUTHORIZED, /* the device's own "authorized" attribute */
        BACKEND_BUS_GATE,   /* drivers_autoprobe off, explicit binds, driver_override */
        _BACKEND_MAX,
} Backend;

typedef enum Outcome {
        OUTCOME_PLANNED,  /* dry run */
        OUTCOME_ENFORCED, /* the decision holds */
        OUTCOME_WARNING,  /* allowed, but no driver bound (yet) */
        OUTCOME_FAILED,   /* the decision could not be enforced */
        _OUTCOME_MAX,
} Outcome;

const char *backend_to_string(Backend b);
const char *outcome_to_string(Outcome o);

typedef struct Decision {
        Device *device;
        Action action;
        int rule;           /* index of the first matching rule, -1 for the policy default */
        const char *driver; /* the driver an allow rule pins, or NULL */
        Backend backend;
        Outcome outcome;
        char result[128];    /* what enforcement did, for people */
        char rule_label[24]; /* "rules[3]", "default" or "unreadable" */
} Decision;

/* First match wins; no match takes the policy's default. A device whose identity could not
 * be read is denied whatever the default says: nothing is allowed without an explicit match. */
void decide(const Policy *policy, Device *device, const char *kernel_release, Decision *ret);

/* Sets rule_label from rule: "rules[3]", "default" or "unreadable". */
void decision_update_label(Decision *d);
