// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdlib.h>
#include <string.h>

#include "json-writer.h"
#include "macro.h"
#include "report.h"

static const char *const table_keys[] = { "device", "bus",     "ids",   "rule",
                                          "action", "backend", "result" };
static const char *const table_headers[] = { "DEVICE", "BUS",     "IDS",   "RULE",
                                             "ACTION", "BACKEND", "RESULT" };

int state_format(const Policy *policy, const char *policy_path, const char *kernel_release,
                 const ApplyResult *result, char **ret, size_t *ret_len) {
        JsonWriter w = {};

        json_writer_begin(&w, '{');
        json_writer_key(&w, "policy");
        json_writer_begin(&w, '{');
        json_writer_field(&w, "name", policy->name);
        json_writer_key(&w, "version");
        json_writer_int(&w, policy->version);
        json_writer_field(&w, "sha256", policy->sha256);
        json_writer_field(&w, "path", policy_path);
        json_writer_end(&w, '}');
        json_writer_field(&w, "kernel", kernel_release);
        json_writer_key(&w, "decisions");
        json_writer_begin(&w, '[');

        for (size_t i = 0; i < result->n_decisions; i++) {
                const Decision *d = &result->decisions[i];

                json_writer_newline(&w);
                json_writer_begin(&w, '{');
                json_writer_field(&w, "device", d->device->name);
                json_writer_field(&w, "bus", bus_to_string(d->device->id.bus));
                json_writer_field(&w, "syspath", d->device->syspath);
                json_writer_field(&w, "ids", d->device->ids);
                json_writer_field(&w, "parent", d->device->parent);
                json_writer_field(&w, "driver", d->device->driver);
                json_writer_field(&w, "rule", d->rule_label);
                json_writer_field(&w, "action", action_to_string(d->action));
                json_writer_field(&w, "pinned_driver", d->driver);
                json_writer_field(&w, "backend", backend_to_string(d->backend));
                json_writer_field(&w, "outcome", outcome_to_string(d->outcome));
                json_writer_field(&w, "result", d->result);
                json_writer_end(&w, '}');
        }
        json_writer_newline(&w);
        json_writer_end(&w, ']');
        json_writer_end(&w, '}');
        json_writer_newline(&w);
        return json_writer_finish(&w, ret, ret_len);
}

void table_print(FILE *f, const char *const headers[], size_t n_columns, size_t n_rows,
                 TableCell cell, const void *userdata) {
        size_t width[16] = {}, line_size = 1;
        char *line;

        if (n_columns > ELEMENTSOF(width))
                return;
        for (size_t c = 0; c < n_columns; c++) {
                width[c] = strlen(headers[c]);
                for (size_t r = 0; r < n_rows; r++) {
                        size_t len = strlen(cell(userdata, r, c));
                        if (len > width[c])
                                width[c] = len;
                }
                line_size += width[c] + 2;
        }

        /* Each row is laid out in one buffer and written at once; the last column is not
         * padded, so that lines carry no trailing blanks. */
        line = malloc(line_size);
        if (!line)
                return;
        for (size_t r = 0; r <= n_rows; r++) {
                char *p = line;
                for (size_t c = 0; c < n_columns; c++) {
                        const char *text = r == 0 ? headers[c] : cell(userdata, r - 1, c);
                        size_t len = strlen(text);
                        memcpy(p, text, len);
                        p += len;
                        if (c + 1 < n_columns) {
                                memset(p, ' ', width[c] - len + 2);
                                p += width[c] - len + 2;
                        }
                }
                *p++ = '\n';
                fwrite(line, 1, (size_t) (p - line), f);
        }
        free(line);
}

static const char *decision_cell(const void *userdata, size_t row, size_t column) {
        const Decision *d = &((const ApplyResult *) userdata)->decisions[row];

        switch (column) {
        case 0:
                return d->device->name;
        case 1:
                return bus_to_string(d->device->id.bus);
        case 2:
                return d->device->ids;
        case 3:
                return d->rule_label;
        case 4:
                return action_to_string(d->action);
        case 5:
                return backend_to_string(d->backend);
        default:
                return d->result;
        }
}

void decisions_print_table(FILE *f, const ApplyResult *result) {
        table_print(f, table_headers, ELEMENTSOF(table_headers), result->n_decisions, decision_cell,
                    result);
}

static const char *record_cell(const void *userdata, size_t row, size_t column) {
        json_object *record = json_object_array_get_idx((json_object *) userdata, row), *v;

        if (!json_object_object_get_ex(record, table_keys[column], &v) ||
            !json_object_is_type(v, json_type_string))
                return "-";
        return json_object_get_string(v);
}

void records_print_table(FILE *f, json_object *records) {
        table_print(f, table_headers, ELEMENTSOF(table_headers), json_object_array_length(records),
                    record_cell, records);
}
