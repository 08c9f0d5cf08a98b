// SPDX-License-Identifier: LGPL-2.1-or-later
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "json-strict.h"
#include "kbs-problem.h"
#include "macro.h"

static const struct {
        unsigned status;
        const char *name;
} problems[_KBS_PROBLEM_MAX] = {
        [KBS_PROBLEM_ATTESTATION] = { 401, "AttestationError" },
        [KBS_PROBLEM_TOKEN_NOT_FOUND] = { 401, "TokenNotFound" },
        [KBS_PROBLEM_POLICY_DENY] = { 403, "PolicyDeny" },
        [KBS_PROBLEM_INVALID_PATH] = { 404, "InvalidRequestPath" },
        [KBS_PROBLEM_RESOURCE_NOT_FOUND] = { 404, "ResourceNotFound" },
        [KBS_PROBLEM_METHOD_NOT_ALLOWED] = { 405, "MethodNotAllowed" },
        [KBS_PROBLEM_PAYLOAD_TOO_LARGE] = { 413, "PayloadTooLarge" },
        [KBS_PROBLEM_INTERNAL] = { 500, "InternalError" },
};

unsigned kbs_problem_status(KbsProblem p) {
        return p >= 0 && p < _KBS_PROBLEM_MAX ? problems[p].status : 500;
}

const char *kbs_problem_name(KbsProblem p) {
        return p >= 0 && p < _KBS_PROBLEM_MAX ? problems[p].name : "InternalError";
}

char *kbs_problem_body(KbsProblem p, const char *detail) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char type[128];
        const char *text;

        if (!o)
                return NULL;
        snprintf(type, sizeof type, KBS_ERROR_TYPE_PREFIX "%s", kbs_problem_name(p));
        /* "type" first, then "detail": the order kbs-types serializes ErrorInformation in. */
        if (json_object_object_add(o, "type", json_object_new_string(type)) < 0 ||
            json_object_object_add(o, "detail", json_object_new_string(detail ?: "")) < 0)
                return NULL;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup(text) : NULL;
}
