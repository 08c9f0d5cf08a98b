// SPDX-License-Identifier: LGPL-2.1-or-later
#include <string.h>

#include "macro.h"
#include "report.h"

static void add_string(json_object *o, const char *key, const char *value) {
        if (value && *value)
                json_object_object_add(o, key, json_object_new_string(value));
}

json_object *decision_to_json(const Policy *policy, const Decision *d) {
        json_object *o = json_object_new_object();
        char ids[192], rule[32];

        if (!o)
                return NULL;
        device_format_ids(d->device, ids, sizeof ids);
        decision_rule_label(d, rule, sizeof rule);

        add_string(o, "device", d->device->name);
        add_string(o, "bus", bus_to_string(d->device->id.bus));
        add_string(o, "syspath", d->device->syspath);
        add_string(o, "ids", ids);
        add_string(o, "parent", d->device->parent);
        add_string(o, "driver", d->device->driver);
        add_string(o, "rule", rule);
        if (d->rule >= 0)
                add_string(o, "comment", policy->rules[d->rule].comment);
        add_string(o, "action", action_to_string(d->action));
        add_string(o, "pinned_driver", d->driver);
        add_string(o, "backend", backend_to_string(d->backend));
        add_string(o, "outcome", outcome_to_string(d->outcome));
        add_string(o, "result", d->result);
        return o;
}

json_object *state_new(const Policy *policy, const char *policy_path, const char *kernel_release,
                       json_object *decisions) {
        json_object *state = json_object_new_object(), *p = json_object_new_object();

        add_string(p, "name", policy->name);
        json_object_object_add(p, "version", json_object_new_int64(policy->version));
        add_string(p, "sha256", policy->sha256);
        add_string(p, "path", policy_path);
        json_object_object_add(state, "policy", p);
        add_string(state, "kernel", kernel_release);
        json_object_object_add(state, "decisions", json_object_get(decisions));
        return state;
}

static const char *field(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return "-";
        return json_object_get_string(v);
}

void decisions_print_table(FILE *f, json_object *decisions) {
        static const char *const columns[] = { "device", "bus",     "ids",   "rule",
                                               "action", "backend", "result" };
        static const char *const headers[] = { "DEVICE", "BUS",     "IDS",   "RULE",
                                               "ACTION", "BACKEND", "RESULT" };
        size_t width[ELEMENTSOF(columns)];
        size_t n = json_object_array_length(decisions);

        for (size_t c = 0; c < ELEMENTSOF(columns); c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < ELEMENTSOF(columns); c++) {
                        size_t len =
                                strlen(field(json_object_array_get_idx(decisions, i), columns[c]));
                        if (len > width[c])
                                width[c] = len;
                }

        /* The last column is not padded, so lines carry no trailing blanks. */
        width[ELEMENTSOF(columns) - 1] = 0;
        for (size_t c = 0; c < ELEMENTSOF(columns); c++)
                fprintf(f, "%-*s%s", (int) width[c], headers[c],
                        c + 1 < ELEMENTSOF(columns) ? "  " : "\n");
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(decisions, i);
                for (size_t c = 0; c < ELEMENTSOF(columns); c++)
                        fprintf(f, "%-*s%s", (int) width[c], field(d, columns[c]),
                                c + 1 < ELEMENTSOF(columns) ? "  " : "\n");
        }
}

void decisions_count(json_object *decisions, unsigned *ret_allowed, unsigned *ret_denied,
                     unsigned *ret_failed) {
        unsigned allowed = 0, denied = 0, failed = 0;

        for (size_t i = 0; i < json_object_array_length(decisions); i++) {
                json_object *d = json_object_array_get_idx(decisions, i);
                if (strcmp(field(d, "action"), "allow") == 0)
                        allowed++;
                else
                        denied++;
                if (strcmp(field(d, "outcome"), "failed") == 0)
                        failed++;
        }
        *ret_allowed = allowed;
        *ret_denied = denied;
        *ret_failed = failed;
}
