/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "apply.h"

/* The state "apply" leaves for "status" (and prints for "apply --json"): the policy, the
 * kernel and one record per decision. */
int state_format(const Policy *policy, const char *policy_path, const char *kernel_release,
                 const ApplyResult *result, char **ret, size_t *ret_len);

/* An aligned table; cell(userdata, row, column) returns each cell's text. */
typedef const char *(*TableCell)(const void *userdata, size_t row, size_t column);
void table_print(FILE *f, const char *const headers[], size_t n_columns, size_t n_rows,
                 TableCell cell, const void *userdata);

/* The decision table of "apply", and of "status" from the records of a state file. */
void decisions_print_table(FILE *f, const ApplyResult *result);
void records_print_table(FILE *f, json_object *records);
