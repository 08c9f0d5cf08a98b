/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* The policy version floor kept in a TPM, so that an older signed policy cannot be brought back
 * once a newer one was applied. Two NV indexes in the owner hierarchy:
 *
 *   nv_index      COUNTER: a TPM NV counter (TPM2_NT_COUNTER), only ever incremented.
 *   nv_index + 1  BASE: 8 bytes written once and then write-locked until it is undefined
 *                 (TPMA_NV_WRITEDEFINE + TPM2_NV_WriteLock).
 *
 *   version = COUNTER - BASE  (modulo 2^64)
 *
 * A counter does not start at 0: its first increment sets it to one more than the highest value
 * of any counter that was ever deleted from that TPM (TPM 2.0 Part 1, "NV counters"; libtpms
 * keeps that high-water mark in NvReadMaxCount()). So the first advance increments the counter
 * once, reads whatever it became and writes BASE = COUNTER - version: the first advance costs no
 * increments whatever the version, and later advances increment the counter by the difference.
 * BASE is written only while it is unwritten and is locked right after, so a crash at any point
 * leaves either no recorded version (-ENOENT, the next advance finishes the job) or the right one.
 *
 * What it protects, and what not: whoever holds the owner hierarchy's authorization (often empty,
 * and then the host too when it emulates the TPM) can undefine the indexes: then no TPM floor is
 * recorded (-ENOENT) and the initramfs' floor file is the only floor. Undefining BASE alone and
 * re-creating it with a larger value lowers the TPM floor the same way, no further. Undefining the
 * COUNTER alone does not: a re-created counter starts above every deleted one, so the version only
 * goes up. Anyone who may increment the counter (empty auth) can raise the floor: a denial of
 * service, never a rollback. A host that emulates the TPM can also restore an older TPM state:
 * the TPM floor only holds against the host when the TPM is inside the trust boundary (a vTPM in
 * the SVSM or paravisor). */

/* 0x0130xxxx: high in the owner range 0x01000000-0x013fffff, away from its low end, where
 * tpm2_nvdefine without an index and the examples of tpm2-tools and many tutorials allocate
 * (0x01000000, 0x01000001, ...); the low 16 bits are "dg" in ASCII. Not in the TCG registry's
 * ranges for platform, EK certificates or vendors. BASE is DEVGATE_TPM_NV_INDEX + 1. */
#define DEVGATE_TPM_NV_INDEX UINT32_C(0x01306467)

/* The most increments one advance may do: a NV_Increment writes NV, which takes 5-50 ms on
 * hardware TPMs (and they rate-limit it to protect NV endurance), so 1000 keeps an advance
 * under a minute in early boot even on a slow TPM. Versions are meant to go up by small steps
 * (1, 2, 3...): a larger jump means a version scheme the counter cannot follow (dates, say). */
#define TPM_COUNTER_MAX_STEP UINT64_C(1000)

typedef struct TpmCounter TpmCounter;

/* tcti: a TCTI configuration string for Tss2_TctiLdr_Initialize ("device:/dev/tpmrm0",
 * "swtpm:path=/run/swtpm.sock", "swtpm:host=127.0.0.1,port=2321"), NULL for the default.
 * nv_index: DEVGATE_TPM_NV_INDEX, or another owner-range index (tests); nv_index + 1 is used
 * too. -ENODEV when no TPM is reachable (no device node, nothing listening), -EOPNOTSUPP when
 * the TCTI's library cannot be loaded (an initramfs that lacks it: TCTIs are dlopen'd), -EINVAL
 * for a malformed TCTI string or an index outside the owner range. Sets TSS2_LOG=all+none unless
 * TSS2_LOG is set already: the TSS would print expected conditions as errors on stderr. */
int tpm_counter_open(const char *tcti, uint32_t nv_index, TpmCounter **ret);
TpmCounter *tpm_counter_free(TpmCounter *c);

static inline void tpm_counter_freep(TpmCounter **c) {
        tpm_counter_free(*c);
}
#define _cleanup_tpm_counter_ _cleanup_(tpm_counter_freep)

/* The version floor kept in the TPM. -ENOENT if no version was ever recorded (the indexes are
 * not defined, or were undefined), -EBADMSG if an index exists but is not one devgate defines
 * (another type, attributes, size or policy); other negative errno values for TPM failures. */
int tpm_counter_read(TpmCounter *c, uint64_t *ret_version);

/* Records that `version` was applied: defines the indexes if needed (this needs the owner
 * hierarchy's authorization to be empty), then increments the counter until it stands at
 * `version`. A no-op if it stands there already. Never moves back: -ERANGE if it stands above
 * `version`; -E2BIG if that takes more than TPM_COUNTER_MAX_STEP increments (the counter is
 * left where it was then); -EACCES if the indexes must be defined and the owner hierarchy has
 * a password; -EBADMSG as for tpm_counter_read(). The first advance on a TPM costs a single
 * increment, whatever `version`. An advance that fails half-way leaves the counter between the
 * old and the new version, never beyond. */
int tpm_counter_advance(TpmCounter *c, uint64_t version);
