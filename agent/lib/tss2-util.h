/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

/* Converts a TSS2_RC to a negative errno and logs the decoded code once, at debug level:
 * the caller decides what the failure means. handle names the TPM handle the call was
 * about, 0 for none. Format-one TPM codes are compared without the number of the handle,
 * session or parameter they carry. */
int tss2_error(TSS2_RC rc, const char *call, uint32_t handle);

/* Loads the TCTI (a configuration string such as "device:/dev/tpmrm0"; NULL for the
 * default) and opens an ESYS context on it. -ENODEV when no TPM answers, -EOPNOTSUPP when
 * the TCTI's library cannot be loaded (TCTIs are dlopen'd). The caller finalizes both. */
int tss2_connect(const char *tcti, TSS2_TCTI_CONTEXT **ret_tcti, ESYS_CONTEXT **ret_esys);
