// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

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
                decision_update_label(ret);
                return;
        }
        for (size_t i = 0; i < policy->n_rules; i++) {
                const Rule *rule = &policy->rules[i];
                if (!rule_matches(rule, device, kernel_release, NULL, 0))
                        continue;
                ret->action = rule->action;
                ret->rule = (int) i;
                ret->driver = rule->action == ACTION_ALLOW ? rule->driver : NULL;
                break;
        }
        decision_update_label(ret);
}

void decision_update_label(Decision *d) {
        char digits[12], *p = digits + sizeof digits;
        unsigned rule = (unsigned) d->rule;

        if (d->rule < 0) {
                strcpy(d->rule_label, d->device->identity_error < 0 ? "unreadable" : "default");
                return;
        }
        /* Without printf: one label per device at boot. */
        *--p = '\0';
        do
                *--p = (char) ('0' + rule % 10);
        while (rule /= 10);
        strcpy(d->rule_label, "rules[");
        strcat(d->rule_label, p);
        strcat(d->rule_label, "]");
}
