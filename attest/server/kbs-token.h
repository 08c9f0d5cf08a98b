/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

#include "kbs-session.h"

/* The attestation token "attest" answers with: a compact JWT (RFC 7519) signed ES256 with a
 * P-256 key made at startup and never stored, so tokens are worth nothing once the process
 * is gone, and only this process could check them. devgate-kbs itself does not take tokens
 * back (resources go by the session cookie); the token tells the guest what was established:
 *
 *   {"iss": "devgate-kbs", "iat": ..., "exp": ..., "tee": "tpm", "ak": "<sha256 hex>",
 *    "reference": ["<set>", ...]}
 *
 * "ak" is left out for TEEs without an AK. */

typedef struct KbsTokenSigner KbsTokenSigner;

int kbs_token_signer_new(KbsTokenSigner **ret);
KbsTokenSigner *kbs_token_signer_free(KbsTokenSigner *s);
static inline void kbs_token_signer_freep(KbsTokenSigner **s) {
        kbs_token_signer_free(*s);
}

/* reference_names: the matched sets, comma-separated (kbs_reference_match_names()). */
int kbs_token_issue(KbsTokenSigner *s, KbsTee tee, const char *ak_id, const char *reference_names,
                    time_t expires, char **ret);
