/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* What the agent needs to attest at boot, from /etc/devgate/attest.conf. The file ships in
 * the initramfs, so its content is covered by the initramfs measurement: the server, the
 * CA and the resource path are what the guest's owner chose, not what the host says.
 *
 *   # comments and blank lines are ignored
 *   url = https://kbs.example:8080
 *   ca = /etc/devgate/kbs-ca.pem
 *   resource = default/devgate-policy/cc-default
 *   tee = auto
 *
 * Every key once at most; unknown keys are errors. */
#define ATTEST_CONFIG_DEFAULT  "/etc/devgate/attest.conf"
#define ATTEST_CONFIG_SIZE_MAX (64 * 1024)

typedef struct AttestConfig {
        char *url;      /* https:// only */
        char *resource; /* repository/type/tag */
        char *tee;      /* auto, tpm, tdx, snp; "sample" never from a file */
        char *tcti;     /* for tee tpm: the TPM; default device:/dev/tpmrm0 */
        char *ca_file;
        char *pinned_pubkey;
        char *proxy;
        unsigned handshake_retries; /* auth + attest again after a 401 for the resource */
        HttpOptions http; /* timeouts, retries and limits; ca_file etc. point into the above */
} AttestConfig;

void attest_config_init(AttestConfig *c);
void attest_config_done(AttestConfig *c);

/* Parses the text of a configuration; on failure returns -EINVAL and "line N: reason". */
int attest_config_parse(AttestConfig *c, const char *text, size_t size, char *reason,
                        size_t reason_size);

/* Reads and parses a file, logging the file, line and reason on failure. */
int attest_config_load(AttestConfig *c, const char *path);
