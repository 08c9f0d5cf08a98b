/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What devgate-kbs accepts and what it hands out: the operator's reference values and access
 * rules. Both are JSON files read once at startup, strictly (json-strict.h; any member the
 * format does not define is an error: a misspelt key silently ignored would widen access),
 * and described in devgate-kbs(8).
 *
 * Reference values (--reference FILE), named sets of accepted SHA-256 PCR values:
 *
 *   {"sets": {"prod-2025": {"pcrs": {"0": ["<64 hex>"], "7": ["<64 hex>", "<64 hex>"]}}}}
 *
 * Evidence matches a set when each PCR the set lists holds one of the values given for it;
 * PCRs a set does not list are not looked at. A set must list at least one PCR.
 *
 * Access rules (--access FILE), the first rule that matches decides, no match denies:
 *
 *   {"rules": [{"resource": "default/devgate-policy/cc-default", "tee": "tpm",
 *               "ak": "<64 hex>" | "*", "reference": "<set name>" | "*",
 *               "action": "allow" | "deny"}]}
 *
 * "resource" is REPOSITORY/TYPE/TAG, each part a name or "*"; "ak" the SHA-256 of the AK's
 * DER public key (as tpm-verify.h prints it); "reference" a set the evidence matched. "tee"
 * ("tpm", "sample" or "*") is optional and defaults to "tpm", so that a guest that attested
 * with sample evidence (a server started with --insecure-sample) never gets a resource unless
 * a rule names "sample" itself; "action" is optional and defaults to "allow". */

#define KBS_REFERENCE_SETS_MAX 256
#define KBS_POLICY_NAME_MAX    64

/* A set or resource-part name: 1 to max of letters, digits, '.', '_' and '-', not "." or "..". */
bool kbs_policy_name_valid(const char *s, size_t max);
#define KBS_PCR_COUNT      24
#define KBS_PCR_SIZE       32
/* Accepted values per PCR: a handful of firmware or kernel versions in flight at once. */
#define KBS_PCR_VALUES_MAX 64

/* The sets some evidence matched, by their index in the reference file. */
typedef struct KbsReferenceMatch {
        uint8_t sets[KBS_REFERENCE_SETS_MAX / 8];
} KbsReferenceMatch;

typedef struct KbsReference KbsReference;

/* Loads and checks the reference file. -EINVAL with reason "FILE: path: what is wrong",
 * errors reading the file as they are (reason set too). */
int kbs_reference_load(const char *path, KbsReference **ret, char *reason, size_t reason_size);
KbsReference *kbs_reference_free(KbsReference *ref);
static inline void kbs_reference_freep(KbsReference **ref) {
        kbs_reference_free(*ref);
}
size_t kbs_reference_count(const KbsReference *ref);

/* Which sets the PCR values match. -EBADE if none does, with a reason naming, for each set,
 * the first PCR that differs. A NULL ref has no sets. */
int kbs_reference_match(const KbsReference *ref, const uint8_t pcrs[KBS_PCR_COUNT][KBS_PCR_SIZE],
                        KbsReferenceMatch *ret, char *reason, size_t reason_size);

/* The names of the matched sets, comma-separated ("" if none), for logs and tokens. */
void kbs_reference_match_names(const KbsReference *ref, const KbsReferenceMatch *m, char *buf,
                               size_t size);
const char *kbs_reference_name(const KbsReference *ref, size_t index);
bool kbs_reference_match_has(const KbsReferenceMatch *m, size_t index);

typedef struct KbsAccess KbsAccess;

/* Loads the access rules; every set a rule names must exist in ref (NULL: no sets). */
int kbs_access_load(const char *path, const KbsReference *ref, KbsAccess **ret, char *reason,
                    size_t reason_size);
KbsAccess *kbs_access_free(KbsAccess *access);
static inline void kbs_access_freep(KbsAccess **access) {
        kbs_access_free(*access);
}
size_t kbs_access_count(const KbsAccess *access);

/* Who asks: tee as kbs_tee_to_string() names it, ak_id "" when the TEE has no AK. */
typedef struct KbsAccessRequest {
        const char *repository, *type, *tag;
        const char *tee;
        const char *ak_id;
        const KbsReferenceMatch *reference;
} KbsAccessRequest;

/* True if allowed. ret_rule receives the index of the deciding rule, or -1 when no rule
 * matched (default deny). A NULL access denies everything. */
bool kbs_access_check(const KbsAccess *access, const KbsAccessRequest *req, long *ret_rule);
