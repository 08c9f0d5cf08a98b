/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

#include "kbs-session.h"

/* The attestation token "attest" answers with: a compact JWT (RFC 7519) signed ES256 with a
 * P-256 key made at startup and never stored, so tokens are worth nothing once the process
 * is gone, and only this process can check them. It tells the guest what was established, and
 * authorizes resource requests as "Authorization: Bearer TOKEN" instead of the session cookie
 * until it expires with its session:
 *
 *   {"iss": "devgate-kbs", "iat": ..., "exp": ..., "sid": "<session id>", "tee": "tpm",
 *    "ak": "<sha256 hex>", "reference": ["<set>", ...]}
 *
 * "sid" names the session whose tee-pubkey resources are encrypted to; "ak" is left out for
 * TEEs without an AK. */

/* Longer tokens are not looked at: ours are about 500 bytes. */
#define KBS_TOKEN_LEN_MAX 4096

typedef struct KbsTokenSigner KbsTokenSigner;

int kbs_token_signer_new(KbsTokenSigner **ret);
KbsTokenSigner *kbs_token_signer_free(KbsTokenSigner *s);
static inline void kbs_token_signer_freep(KbsTokenSigner **s) {
        kbs_token_signer_free(*s);
}

/* reference_names: the matched sets, comma-separated (kbs_reference_match_names()). */
int kbs_token_issue(KbsTokenSigner *s, const char *session_id, KbsTee tee, const char *ak_id,
                    const char *reference_names, time_t expires, char **ret);

/* Checks a token this signer issued: the header, the ES256 signature, the issuer and "exp"
 * against the wall clock. Gives the session it names. -EBADMSG malformed, -EKEYREJECTED not
 * signed by this process's key, -ETIME expired; with a reason. */
int kbs_token_verify(KbsTokenSigner *s, const char *token,
                     char ret_session_id[static KBS_SESSION_ID_LEN + 1], char *reason,
                     size_t reason_size);
