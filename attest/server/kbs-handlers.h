/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"

#include "kbs-evidence.h"
#include "kbs-policy.h"
#include "kbs-problem.h"
#include "kbs-session.h"
#include "kbs-token.h"

/* The KBS protocol endpoints of devgate-kbs, apart from HTTP: a request in, an answer out,
 * with what the one-line request log says about it. */

#define KBS_PROTOCOL_VERSION "0.4.0"
#define KBS_SESSION_COOKIE   "kbs-session-id"
#define KBS_BODY_SIZE_MAX    (64U * 1024U)

typedef struct KbsServer {
        KbsSessionTable *sessions;
        KbsVerifier verifier;
        const KbsReference *reference;
        const KbsAccess *access; /* NULL: every resource request is denied */
        KbsTokenSigner *signer;
        int resources_fd; /* < 0: no resources, every request gets 404 */
        size_t resource_size_max;
} KbsServer;

typedef struct KbsRequest {
        const char *method;
        const char *path;          /* as on the wire, not percent-decoded */
        const char *session_id;    /* the kbs-session-id cookie, or NULL */
        const char *authorization; /* the Authorization header, or NULL */
        const char *body;
        size_t body_size;
} KbsRequest;

typedef struct KbsReply {
        unsigned status;
        char *body;
        size_t body_size;
        const char *content_type;
        char set_cookie[192]; /* "" for none */
        const char *allow;    /* for 405 */
        /* For the request log: */
        const char *verdict;
        char session[KBS_SESSION_ID_LEN + 1];
        char reason[512];
} KbsReply;

void kbs_handle(KbsServer *s, const KbsRequest *req, KbsReply *ret);
void kbs_reply_done(KbsReply *r);

/* An error reply, also for what the HTTP layer refuses by itself (oversized bodies). Returns the
 * status. */
int kbs_reply_problem(KbsReply *ret, KbsProblem problem, const char *verdict, const char *format,
                      ...) _printf_(4, 5);
