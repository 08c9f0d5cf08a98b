/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "envelope.h"
#include "policy.h"

/* Reads a DSSE envelope of at most ENVELOPE_SIZE_MAX bytes, verifies it against the trusted
 * keys on its raw bytes, and only then parses the payload as a policy. Logs the rejection
 * naming the file and the reason. -EBADMSG for a malformed envelope or payload,
 * -EMEDIUMTYPE, -EKEYREJECTED, -EFBIG as the reasons say. */
int signed_policy_load(const char *path, const TrustedKeys *keys, Policy **ret,
                       Verification *ret_verification);

/* The same for an envelope already in memory (a fetched one); path names it in messages. */
int signed_policy_parse(const char *path, const char *data, size_t size, const TrustedKeys *keys,
                        Policy **ret, Verification *ret_verification);

/* The rollback floor: the highest version this guest has been told never to go below. */
typedef struct VersionFloor {
        int64_t version;
        char source[128]; /* "min-version file '/etc/devgate/min-version'", "TPM NV counter" */
} VersionFloor;

/* Raises the floor from a file holding one decimal version. A missing file leaves the
 * floor as it is; a malformed one is an error. */
int version_floor_from_file(VersionFloor *floor, const char *path);

/* Refuses a policy below the floor (-ESTALE, naming both versions) or past its "expires"
 * time (-ETIME; defence in depth only: a confidential guest's clock comes from the host). */
int policy_check_fresh(const Policy *policy, const VersionFloor *floor, int64_t now);
