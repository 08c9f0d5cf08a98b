// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <stdlib.h>
#include <tss2/tss2_rc.h>

#include "log.h"
#include "macro.h"
#include "tss2-util.h"

/* The one place where a TSS2_RC is decoded. Format-one TPM codes carry the number of the
 * handle, session or parameter they are about: compared without it. */
int tss2_error(TSS2_RC rc, const char *call, uint32_t handle) {
        TSS2_RC layer = rc & TSS2_RC_LAYER_MASK, code = rc & ~TSS2_RC_LAYER_MASK;
        int r;

        if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) {
                if (code & TPM2_RC_FMT1)
                        code &= TPM2_RC_FMT1 | 0x3f;
                switch (code) {
                case TPM2_RC_HANDLE: /* the index is not defined */
                        r = -ENOENT;
                        break;
                case TPM2_RC_NV_DEFINED:
                        r = -EEXIST;
                        break;
                case TPM2_RC_NV_UNINITIALIZED:
                        r = -ENODATA;
                        break;
                case TPM2_RC_NV_LOCKED:
                        r = -EROFS;
                        break;
                case TPM2_RC_NV_SPACE:
                        r = -ENOSPC;
                        break;
                case TPM2_RC_NV_RATE:
                case TPM2_RC_NV_UNAVAILABLE:
                        r = -EBUSY;
                        break;
                case TPM2_RC_RETRY:
                case TPM2_RC_YIELDED:
                case TPM2_RC_TESTING:
                        r = -EAGAIN;
                        break;
                case TPM2_RC_BAD_AUTH:
                case TPM2_RC_AUTH_FAIL:
                case TPM2_RC_NV_AUTHORIZATION:
                case TPM2_RC_LOCKOUT:
                        r = -EACCES;
                        break;
                case TPM2_RC_HIERARCHY:
                        r = -EPERM;
                        break;
                case TPM2_RC_SIZE: /* e.g. qualifying data larger than the TPM's largest hash */
                        r = -EMSGSIZE;
                        break;
                case TPM2_RC_OBJECT_MEMORY:
                case TPM2_RC_OBJECT_HANDLES:
                case TPM2_RC_MEMORY:
                        r = -ENOSPC;
                        break;
                case TPM2_RC_ASYMMETRIC:
                case TPM2_RC_KEY_SIZE:
                case TPM2_RC_SCHEME:
                case TPM2_RC_HASH:
                case TPM2_RC_CURVE:
                        r = -EOPNOTSUPP;
                        break;
                case TPM2_RC_ATTRIBUTES:
                case TPM2_RC_NV_RANGE:
                case TPM2_RC_NV_SIZE:
                        r = -EINVAL;
                        break;
                default:
                        r = -EIO;
                }
        } else
                switch (code) {
                case TSS2_BASE_RC_MEMORY:
                        r = -ENOMEM;
                        break;
                case TSS2_BASE_RC_BAD_VALUE:
                case TSS2_BASE_RC_BAD_REFERENCE:
                        r = -EINVAL;
                        break;
                case TSS2_BASE_RC_NOT_SUPPORTED:
                case TSS2_BASE_RC_NOT_IMPLEMENTED:
                        r = -EOPNOTSUPP;
                        break;
                case TSS2_BASE_RC_TRY_AGAIN:
                        r = -EAGAIN;
                        break;
                case TSS2_BASE_RC_NO_CONNECTION:
                        r = -ENODEV;
                        break;
                case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
                case TSS2_BASE_RC_BAD_SIZE:
                case TSS2_BASE_RC_MALFORMED_RESPONSE:
                        r = -EBADMSG;
                        break;
                default:
                        r = -EIO;
                }

        if (handle != 0)
                return log_debug_errno(r, "%s(0x%08" PRIx32 ") failed: %s (0x%" PRIx32 ")", call,
                                       handle, Tss2_RC_Decode(rc), (uint32_t) rc);
        return log_debug_errno(r, "%s failed: %s (0x%" PRIx32 ")", call, Tss2_RC_Decode(rc),
                               (uint32_t) rc);
}

int tss2_connect(const char *tcti, TSS2_TCTI_CONTEXT **ret_tcti, ESYS_CONTEXT **ret_esys) {
        TSS2_TCTI_CONTEXT *t = NULL;
        TSS2_RC rc;
        int r;

        /* The TSS logs to stderr by itself, at warning level and up, also for conditions that
         * are expected (an index that is not defined yet). Off, unless the operator asked for
         * it; devgate is single-threaded, so setenv() is safe. */
        (void) setenv("TSS2_LOG", "all+none", /* overwrite= */ 0);

        rc = Tss2_TctiLdr_Initialize(tcti, &t);
        if (rc != TSS2_RC_SUCCESS) {
                r = tss2_error(rc, "Tss2_TctiLdr_Initialize", 0);
                /* An I/O error here is a missing device node or nothing listening. */
                return r == -EIO ? -ENODEV : r;
        }
        rc = Esys_Initialize(ret_esys, t, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                Tss2_TctiLdr_Finalize(&t);
                return tss2_error(rc, "Esys_Initialize", 0);
        }
        *ret_tcti = t;
        return 0;
}
