/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "decision.h"

/* One JSON record per decision: the state file, "apply --json" and "status" share it. */
json_object *decision_to_json(const Policy *policy, const Decision *d);

/* The state "apply" leaves for "status": the policy, the kernel and every decision. */
json_object *state_new(const Policy *policy, const char *policy_path, const char *kernel_release,
                       json_object *decisions);

/* Prints decision records as an aligned table. */
void decisions_print_table(FILE *f, json_object *decisions);

/* Counts allowed, denied and failed records. */
void decisions_count(json_object *decisions, unsigned *ret_allowed, unsigned *ret_denied,
                     unsigned *ret_failed);
