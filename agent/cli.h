/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "device.h"
#include "policy.h"
#include "tpm-counter.h"

/* Exit codes, documented in devgate(8). */
enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1,       /* could not run: unreadable file, no sysfs, out of memory */
        EXIT_USAGE = 2,       /* bad command line */
        EXIT_REJECTED = 3,    /* the policy is invalid or does not apply to this kernel */
        EXIT_INCOMPLETE = 4,  /* some decisions could not be enforced */
        EXIT_ATTESTATION = 5, /* attestation or the policy's fetch failed */
};

#define DEVGATE_STATE_DIR_DEFAULT "/run/devgate"

/* The state directory: --state-dir, $DEVGATE_STATE_DIR, or /run/devgate. */
const char *state_dir(void);
void set_state_dir(const char *dir);

/* The running kernel's release, for policies scoped to kernel versions. */
const char *kernel_release(void);

/* Enumerates every bus into lists[_BUS_MAX]; logs what failed. */
int enumerate_all(DeviceList lists[]);

#define DEVGATE_FLOOR_FILE_DEFAULT "/etc/devgate/min-version"

/* Where a command's policy comes from: a signed envelope and the trusted keys, or, only
 * when asked for explicitly, a plain policy file. */
typedef struct PolicySource {
        const char *envelope;
        /* Or an envelope already in memory (fetched), named by envelope_label in messages. */
        const char *envelope_data;
        size_t envelope_size;
        const char *envelope_label;
        const char *keys_dir;
        const char *policy;
        const char *floor_file;
        const char *tpm; /* "auto" (or NULL), "off", or a TCTI string */
        bool insecure_unsigned;
        /* Or the baseline policy that came inside the initramfs image: trusted as part of
         * the image, which the boot measures, and outside the signed versions' floor. */
        const char *baseline;
} PolicySource;

/* The TCTI of the TPM --tpm names: NULL for "off", and for "auto" (or NULL) when there is no
 * /dev/tpmrm0. */
const char *tpm_tcti(const char *tpm);

/* Loads and checks the policy (signature, version floor from the floor file and the TPM NV
 * counter, expiry), logging why it is refused; returns an exit status, EXIT_OK with *ret
 * set on success, and the TPM counter in *ret_counter if one is in use (NULL otherwise), so
 * that the caller can advance it once the policy has been applied. */
int policy_source_load(const PolicySource *source, Policy **ret, TpmCounter **ret_counter);

/* The exit status for a failure to load or check a policy: EXIT_REJECTED when the input is
 * not acceptable, EXIT_ERROR when it could not be read at all. */
int exit_status_of(int r);

/* Prints a command's --help text. Exits with EXIT_USAGE on an unknown option. */
int usage_error(const char *command);

/* What "devgate attest" and "apply --fetch" take from the command line; NULL: from the
 * config file. */
typedef struct AttestArgs {
        const char *config;
        const char *url;
        const char *resource;
        const char *tee;
        const char *ca_file;
        const char *tcti;
        bool insecure; /* allows the "sample" TEE */
        bool timings;
} AttestArgs;

/* Attests and fetches the signed policy: *ret (the envelope's bytes), and in *ret_label
 * (optional) where it came from, for messages. Returns an exit status, logging why it failed:
 * EXIT_ATTESTATION when the server, the network or the evidence failed. */
int attest_fetch(const AttestArgs *a, char **ret, size_t *ret_size, char **ret_label);

int cmd_apply(int argc, char *argv[]);
int cmd_device(int argc, char *argv[]);
int cmd_halt(int argc, char *argv[]);
int cmd_attest(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_explain(int argc, char *argv[]);
int cmd_generate(int argc, char *argv[]);
int cmd_policy(int argc, char *argv[]);
