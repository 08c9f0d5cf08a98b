/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kbs-policy.h"

/* The RCAR sessions of devgate-kbs: one per "auth", identified by the kbs-session-id cookie.
 *
 * A session holds one nonce, usable once: the first "attest" on the session takes it, whether
 * that attestation then succeeds or not, so evidence cannot be replayed against it nor a
 * verifier be asked twice about one challenge. Sessions expire a fixed time after their
 * "auth" (the cookie says when), attested or not, as in Trustee.
 *
 * The table is bounded: at its cap the oldest session goes first, so a flood of "auth"
 * requests costs the flooder its own sessions and a bounded amount of memory, never an
 * allocation failure. Every function is safe to call from several threads. */

/* 128 random bits in lowercase hex, as Trustee's simple UUIDs look on the wire. */
#define KBS_SESSION_ID_SIZE   16
#define KBS_SESSION_ID_LEN    (2 * KBS_SESSION_ID_SIZE)
/* 32 random bytes in standard base64, as Trustee's make_nonce(). */
#define KBS_NONCE_SIZE        32
#define KBS_NONCE_LEN         44
#define KBS_SESSION_MAX_LIMIT 10000000U
#define KBS_SESSION_TTL_MAX   86400U
#define KBS_AK_ID_LEN         64

typedef enum KbsTee {
        KBS_TEE_TPM,
        KBS_TEE_SAMPLE,
        _KBS_TEE_MAX,
} KbsTee;

const char *kbs_tee_to_string(KbsTee tee);

typedef struct KbsSessionTable KbsSessionTable;

/* max sessions at most, each living ttl_sec seconds from its creation. */
int kbs_session_table_new(size_t max, unsigned ttl_sec, KbsSessionTable **ret);
KbsSessionTable *kbs_session_table_free(KbsSessionTable *t);
static inline void kbs_session_table_freep(KbsSessionTable **t) {
        kbs_session_table_free(*t);
}

/* What "auth" hands to the client. */
typedef struct KbsChallenge {
        char id[KBS_SESSION_ID_LEN + 1];
        char nonce[KBS_NONCE_LEN + 1];
        time_t expires; /* wall clock, for the cookie's Expires */
} KbsChallenge;

/* Creates a session for tee with a fresh id and nonce; expired sessions and, at the cap, the
 * oldest ones make room. ret_evicted, if not NULL, counts the live sessions that had to go.
 * -ENOMEM, -EIO if the kernel's random generator fails. */
int kbs_session_create(KbsSessionTable *t, KbsTee tee, KbsChallenge *ret, size_t *ret_evicted);

/* Takes the session's nonce for an attestation: copies the challenge and the session's TEE
 * out and marks the nonce used. -ENOENT unknown session (never created, evicted, or expired long
 * ago), -ETIME expired, -EALREADY the nonce was taken already. */
int kbs_session_take_nonce(KbsSessionTable *t, const char *id, KbsChallenge *ret, KbsTee *ret_tee);

/* What a successful attestation established about the guest. */
typedef struct KbsAttested {
        KbsTee tee;
        EVP_PKEY *tee_key;             /* the guest's tee-pubkey */
        char ak_id[KBS_AK_ID_LEN + 1]; /* "tpm": the AK's SHA-256; "" otherwise */
        KbsReferenceMatch reference;   /* the reference sets its PCRs matched */
} KbsAttested;

void kbs_attested_done(KbsAttested *a);

/* Marks the session attested; the table takes a reference to a->tee_key. -ENOENT if the
 * session vanished (evicted or expired) while its evidence was being verified. */
int kbs_session_set_attested(KbsSessionTable *t, const char *id, const KbsAttested *a);

/* What a resource request needs: a copy, with its own reference to the key; release it with
 * kbs_attested_done(). -ENOENT unknown, -ETIME expired, -EACCES not attested (yet). */
int kbs_session_get_attested(KbsSessionTable *t, const char *id, KbsAttested *ret);

/* The number of live sessions (expired ones not yet dropped included). */
size_t kbs_session_count(KbsSessionTable *t);

/* True if s looks like an id this server makes: only those are looked up. */
bool kbs_session_id_valid(const char *s);
