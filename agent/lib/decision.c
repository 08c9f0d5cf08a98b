// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>

#include "decision.h"
#include "match.h"

const char *backend_to_string(Backend b) {
        static const char *const names[_BACKEND_MAX] = {
                [BACKEND_NONE] = "none",
                [BACKEND_AUTHORIZED] = "authorized",
                [BACKEND_BUS_GATE] = "bus-gate",
        };
        return b >= 0 && b < _BACKEND_MAX ? names[b] : "?";
}

const char *outcome_to_string(Outcome o) {
        static const char *const names[_OUTCOME_MAX] = {
                [OUTCOME_PLANNED] = "planned",
                [OUTCOME_ENFORCED] = "enforced",
                [OUTCOME_WARNING] = "warning",
                [OUTCOME_FAILED] = "failed",
        };
        return o >= 0 && o < _OUTCOME_MAX ? names[o] : "?";
}

void decide(const Policy *policy, Device *device, const char *kernel_release, Decision *ret) {
        *ret = (Decision){ .device = device, .rule = -1, .action = policy->default_action };

        if (device->identity_error < 0) {
                ret->action = ACTION_DENY;
                return;
        }
        for (size_t i = 0; i < policy->n_rules; i++) {
                const Rule *rule = &policy->rules[i];
                if (!rule_matches(rule, device, kernel_release, NULL, 0))
                        continue;
                ret->action = rule->action;
                ret->rule = (int) i;
                ret->driver = rule->action == ACTION_ALLOW ? rule->driver : NULL;
                return;
        }
}

void decision_rule_label(const Decision *d, char *buf, size_t size) {
        if (d->rule >= 0)
                snprintf(buf, size, "rules[%d]", d->rule);
        else if (d->device->identity_error < 0)
                snprintf(buf, size, "unreadable");
        else
                snprintf(buf, size, "default");
}
