/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Error answers as Trustee's KBS gives them (kbs/src/error.rs): an RFC 7807 problem body
 * {"type": "https://github.com/confidential-containers/kbs/errors/<Name>", "detail": "..."}
 * with the status the KBS protocol expects, so that a client tells devgate-kbs and Trustee
 * apart by nothing but the wording of "detail". */

typedef enum KbsProblem {
        KBS_PROBLEM_ATTESTATION,     /* 401 AttestationError: auth or attest refused */
        KBS_PROBLEM_TOKEN_NOT_FOUND, /* 401 TokenNotFound: resource without an attested session */
        KBS_PROBLEM_POLICY_DENY,     /* 403 PolicyDeny: the access rules say no */
        KBS_PROBLEM_INVALID_PATH,    /* 404 InvalidRequestPath: no such endpoint, bad name */
        KBS_PROBLEM_RESOURCE_NOT_FOUND, /* 404 ResourceNotFound */
        KBS_PROBLEM_METHOD_NOT_ALLOWED, /* 405 MethodNotAllowed */
        KBS_PROBLEM_PAYLOAD_TOO_LARGE,  /* 413 PayloadTooLarge: body over the limit */
        KBS_PROBLEM_INTERNAL,           /* 500 InternalError: the server failed, not the client */
        _KBS_PROBLEM_MAX,
} KbsProblem;

#define KBS_ERROR_TYPE_PREFIX "https://github.com/confidential-containers/kbs/errors/"

unsigned kbs_problem_status(KbsProblem p);
const char *kbs_problem_name(KbsProblem p);

/* The JSON body, NUL-terminated, malloc'd; NULL if out of memory. */
char *kbs_problem_body(KbsProblem p, const char *detail);
