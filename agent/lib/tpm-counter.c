// SPDX-License-Identifier: LGPL-2.1-or-later
/* The TPM half of the policy version floor: see tpm-counter.h for the scheme. Every ESAPI call
 * goes through one thin wrapper that turns its TSS2_RC into a negative errno and logs the
 * decoded code at debug level; the caller of the public functions logs the failure once. Only
 * password sessions are used: nothing is ever loaded into the TPM, so nothing needs flushing. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "tpm-counter.h"
#include "tss2-util.h"

#define OWNER_INDEX_FIRST UINT32_C(0x01000000)
#define OWNER_INDEX_LAST  UINT32_C(0x013fffff)

/* The counter is read and incremented with its own, empty, authorization: devgate can still
 * advance it after someone sets an owner password in the running system. Not TPMA_NV_ORDERLY:
 * an orderly counter jumps forward after an unclean shutdown, raising the floor by itself. */
#define COUNTER_ATTRIBUTES                                                                         \
        ((TPMA_NV) (TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA |                         \
                    ((TPMA_NV) TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT)))
/* The base is written with the owner's authorization, which defining it needs anyway, and can
 * be write-locked for good (TPMA_NV_WRITEDEFINE): only undefining it clears the lock. */
#define BASE_ATTRIBUTES                                                                            \
        ((TPMA_NV) (TPMA_NV_OWNERWRITE | TPMA_NV_AUTHREAD | TPMA_NV_WRITEDEFINE | TPMA_NV_NO_DA |  \
                    ((TPMA_NV) TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT)))
/* Attributes that the TPM changes as the index is used. */
#define STATE_ATTRIBUTES ((TPMA_NV) (TPMA_NV_WRITTEN | TPMA_NV_WRITELOCKED | TPMA_NV_READLOCKED))

/* TPM2_RC_NV_RATE: the TPM refuses NV writes for a while to spare its NV. Waited out at most
 * this many times per advance, RATE_RETRY_NSEC apart (10 s in all). */
#define RATE_RETRIES    100
#define RATE_RETRY_NSEC (100 * 1000 * 1000L)

struct TpmCounter {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        uint32_t counter_index, base_index;
};

/* An NV index as looked up during one call: the ESYS_TR is closed at the end of the call, so
 * nothing stale is kept if the index is undefined between two calls. */
typedef struct NvIndex {
        ESYS_CONTEXT *esys;
        uint32_t handle;
        ESYS_TR tr;
        TPMA_NV attributes;
} NvIndex;

static void nv_index_close(NvIndex *nv);

#define NV_INDEX_INIT(c, h)                                                                        \
        { .esys = (c)->esys, .handle = (h), .tr = ESYS_TR_NONE }
#define _cleanup_nv_index_ _cleanup_(nv_index_close)

/* Thin wrappers, one per TSS2 call. */

static int esys_tr_from_tpm_public(NvIndex *nv) {
        TSS2_RC rc = Esys_TR_FromTPMPublic(nv->esys, nv->handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, &nv->tr);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_TR_FromTPMPublic", nv->handle);
}

static int esys_tr_close(NvIndex *nv) {
        TSS2_RC rc = Esys_TR_Close(nv->esys, &nv->tr);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_TR_Close", nv->handle);
}

static int esys_nv_read_public(NvIndex *nv, TPM2B_NV_PUBLIC **ret) {
        TSS2_RC rc = Esys_NV_ReadPublic(nv->esys, nv->tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        ret, NULL);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_ReadPublic", nv->handle);
}

static int esys_nv_define_space(NvIndex *nv, const TPM2B_NV_PUBLIC *public) {
        static const TPM2B_AUTH empty_auth = { .size = 0 };
        TSS2_RC rc = Esys_NV_DefineSpace(nv->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                         ESYS_TR_NONE, &empty_auth, public, &nv->tr);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_DefineSpace", nv->handle);
}

static int esys_nv_increment(NvIndex *nv) {
        TSS2_RC rc = Esys_NV_Increment(nv->esys, nv->tr, nv->tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_Increment", nv->handle);
}

static int esys_nv_read(NvIndex *nv, uint16_t size, TPM2B_MAX_NV_BUFFER **ret) {
        TSS2_RC rc = Esys_NV_Read(nv->esys, nv->tr, nv->tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, size, 0, ret);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_Read", nv->handle);
}

static int esys_nv_write(NvIndex *nv, const TPM2B_MAX_NV_BUFFER *data) {
        TSS2_RC rc = Esys_NV_Write(nv->esys, ESYS_TR_RH_OWNER, nv->tr, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, ESYS_TR_NONE, data, 0);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_Write", nv->handle);
}

static int esys_nv_write_lock(NvIndex *nv) {
        TSS2_RC rc = Esys_NV_WriteLock(nv->esys, ESYS_TR_RH_OWNER, nv->tr, ESYS_TR_PASSWORD,
                                       ESYS_TR_NONE, ESYS_TR_NONE);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_NV_WriteLock", nv->handle);
}

static void esys_freep(void *p) {
        Esys_Free(*(void **) p);
}
#define _cleanup_esys_free_ _cleanup_(esys_freep)

static void nv_index_close(NvIndex *nv) {
        if (nv->tr != ESYS_TR_NONE)
                (void) esys_tr_close(nv);
}

static TPM2B_NV_PUBLIC nv_template(uint32_t handle, TPMA_NV attributes) {
        return (TPM2B_NV_PUBLIC){
                .nvPublic = {
                        .nvIndex = handle,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = attributes,
                        .authPolicy = { .size = 0 },
                        .dataSize = sizeof(uint64_t),
                },
        };
}

/* Looks the index up and checks that it is one devgate defines: otherwise it may be another
 * tool's, or one made to look like ours with a policy or attributes that would let it be
 * rewritten. -ENOENT if it is not defined. */
static int nv_index_open(NvIndex *nv, TPMA_NV attributes) {
        _cleanup_esys_free_ TPM2B_NV_PUBLIC *public = NULL;
        int r;

        r = esys_tr_from_tpm_public(nv);
        if (r < 0)
                return r;
        r = esys_nv_read_public(nv, &public);
        if (r < 0)
                return r;

        const TPMS_NV_PUBLIC *p = &public->nvPublic;
        if (p->nvIndex != nv->handle || p->nameAlg != TPM2_ALG_SHA256 ||
            (p->attributes & ~STATE_ATTRIBUTES) != attributes || p->authPolicy.size != 0 ||
            p->dataSize != sizeof(uint64_t))
                return log_debug_errno(EBADMSG,
                                       "NV index 0x%08" PRIx32 " is not devgate's: attributes "
                                       "0x%08" PRIx32 ", name algorithm 0x%04x, size %u, policy "
                                       "size %u",
                                       nv->handle, (uint32_t) p->attributes, p->nameAlg,
                                       p->dataSize, p->authPolicy.size);
        nv->attributes = p->attributes;
        return 0;
}

static int nv_index_define(NvIndex *nv, TPMA_NV attributes) {
        TPM2B_NV_PUBLIC template = nv_template(nv->handle, attributes);
        int r;

        r = esys_nv_define_space(nv, &template);
        if (r < 0)
                return r;
        nv->attributes = attributes;
        log_debug("Defined NV index 0x%08" PRIx32 ".", nv->handle);
        return 0;
}

/* Counters and the base are 8 bytes, big-endian, as the TPM keeps counters. */
static int nv_read_u64(NvIndex *nv, uint64_t *ret) {
        _cleanup_esys_free_ TPM2B_MAX_NV_BUFFER *data = NULL;
        uint64_t v = 0;
        int r;

        r = esys_nv_read(nv, sizeof(uint64_t), &data);
        if (r < 0)
                return r;
        if (data->size != sizeof(uint64_t))
                return log_debug_errno(EBADMSG, "NV index 0x%08" PRIx32 " returned %u bytes.",
                                       nv->handle, data->size);
        for (size_t i = 0; i < sizeof(uint64_t); i++)
                v = v << 8 | data->buffer[i];
        *ret = v;
        return 0;
}

static int nv_write_u64(NvIndex *nv, uint64_t v) {
        TPM2B_MAX_NV_BUFFER data = { .size = sizeof(uint64_t) };

        for (size_t i = 0; i < sizeof(uint64_t); i++)
                data.buffer[i] = (uint8_t) (v >> (8 * (sizeof(uint64_t) - 1 - i)));
        return esys_nv_write(nv, &data);
}

/* Increments, waiting out the TPM's NV rate limiting within the budget of one advance. */
static int counter_increment(NvIndex *counter, unsigned *retries_left) {
        static const struct timespec pause = { .tv_nsec = RATE_RETRY_NSEC };
        int r;

        for (;;) {
                r = esys_nv_increment(counter);
                if (r != -EBUSY || *retries_left == 0)
                        return r;
                (*retries_left)--;
                (void) nanosleep(&pause, NULL);
        }
}

int tpm_counter_open(const char *tcti, uint32_t nv_index, TpmCounter **ret) {
        _cleanup_tpm_counter_ TpmCounter *c = NULL;
        int r;

        if (nv_index < OWNER_INDEX_FIRST || nv_index >= OWNER_INDEX_LAST)
                return -EINVAL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->counter_index = nv_index;
        c->base_index = nv_index + 1;

        r = tss2_connect(tcti, &c->tcti, &c->esys);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

TpmCounter *tpm_counter_free(TpmCounter *c) {
        if (!c)
                return NULL;
        /* Esys_Finalize() frees the ESYS context only; the TCTI stays the caller's. */
        Esys_Finalize(&c->esys);
        Tss2_TctiLdr_Finalize(&c->tcti);
        free(c);
        return NULL;
}

int tpm_counter_read(TpmCounter *c, uint64_t *ret_version) {
        _cleanup_nv_index_ NvIndex counter = NV_INDEX_INIT(c, c->counter_index);
        _cleanup_nv_index_ NvIndex base = NV_INDEX_INIT(c, c->base_index);
        uint64_t counter_value, base_value;
        int r;

        r = nv_index_open(&counter, COUNTER_ATTRIBUTES);
        if (r < 0)
                return r;
        r = nv_index_open(&base, BASE_ATTRIBUTES);
        if (r < 0)
                return r;
        /* Not written: an advance was interrupted before it recorded anything. */
        if (!(counter.attributes & TPMA_NV_WRITTEN) || !(base.attributes & TPMA_NV_WRITTEN))
                return -ENOENT;

        r = nv_read_u64(&counter, &counter_value);
        if (r < 0)
                return r;
        r = nv_read_u64(&base, &base_value);
        if (r < 0)
                return r;

        *ret_version = counter_value - base_value;
        return 0;
}

int tpm_counter_advance(TpmCounter *c, uint64_t version) {
        _cleanup_nv_index_ NvIndex counter = NV_INDEX_INIT(c, c->counter_index);
        _cleanup_nv_index_ NvIndex base = NV_INDEX_INIT(c, c->base_index);
        uint64_t counter_value, base_value, current;
        unsigned retries_left = RATE_RETRIES;
        bool base_missing, counter_missing;
        int r;

        /* Both checked before either is defined: nothing is added next to a foreign index. */
        r = nv_index_open(&base, BASE_ATTRIBUTES);
        if (r < 0 && r != -ENOENT)
                return r;
        base_missing = r == -ENOENT;
        r = nv_index_open(&counter, COUNTER_ATTRIBUTES);
        if (r < 0 && r != -ENOENT)
                return r;
        counter_missing = r == -ENOENT;

        if (base_missing) {
                r = nv_index_define(&base, BASE_ATTRIBUTES);
                if (r < 0)
                        return r;
        }
        if (counter_missing) {
                r = nv_index_define(&counter, COUNTER_ATTRIBUTES);
                if (r < 0)
                        return r;
        }

        /* A counter has no value before its first increment, which sets it above every counter
         * this TPM ever deleted. */
        if (!(counter.attributes & TPMA_NV_WRITTEN)) {
                r = counter_increment(&counter, &retries_left);
                if (r < 0)
                        return r;
        }
        r = nv_read_u64(&counter, &counter_value);
        if (r < 0)
                return r;

        if (!(base.attributes & TPMA_NV_WRITTEN)) {
                /* First record: choose the base so that the counter stands at `version` now. */
                r = nv_write_u64(&base, counter_value - version);
                if (r < 0)
                        return r;
                r = esys_nv_write_lock(&base);
                if (r < 0)
                        return r;
                log_debug("TPM version floor initialised at %" PRIu64 " (counter %" PRIu64 ").",
                          version, counter_value);
                return 0;
        }
        /* An earlier advance stopped between the write and the lock. */
        if (!(base.attributes & TPMA_NV_WRITELOCKED)) {
                r = esys_nv_write_lock(&base);
                if (r < 0)
                        return r;
        }

        r = nv_read_u64(&base, &base_value);
        if (r < 0)
                return r;
        current = counter_value - base_value;
        if (current == version)
                return 0;
        if (current > version)
                return log_debug_errno(ERANGE,
                                       "TPM version floor %" PRIu64 " is above %" PRIu64 ".",
                                       current, version);
        if (version - current > TPM_COUNTER_MAX_STEP)
                return log_debug_errno(E2BIG,
                                       "TPM version floor %" PRIu64 " is more than %" PRIu64
                                       " below %" PRIu64 ".",
                                       current, TPM_COUNTER_MAX_STEP, version);

        for (uint64_t v = current; v < version; v++) {
                r = counter_increment(&counter, &retries_left);
                if (r < 0)
                        return r;
        }
        log_debug("TPM version floor advanced from %" PRIu64 " to %" PRIu64 ".", current, version);
        return 0;
}
