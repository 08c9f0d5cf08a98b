/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One attestation report through the Linux configfs-tsm report interface
 * (Documentation/ABI/testing/configfs-tsm-report, Linux 6.7+), the way TDX quotes and SEV-SNP
 * attestation reports are obtained with upstream kernels:
 *
 *   1. mkdir ROOT/devgate-<16 random hex digits>, mode 0700, then open it: every access below
 *      goes through that directory fd. The name is unpredictable so that no other process can
 *      prepare or pick the directory in advance; configfs sets the mode itself (root-only
 *      writable), 0700 states the intent and is what a fake tree gets.
 *   2. read "provider" and refuse anything but the wanted one, before asking for a quote;
 *   3. read "generation", write the 64 bytes to "inblob" in one write(2);
 *   4. read "outblob" (this makes the kernel produce the report: for TDX the host's quote
 *      service answers, which takes seconds), then "auxblob" if present (SEV-SNP: the host's
 *      certificate table; the kernel hands out the one it got with the report just read);
 *   5. read "generation" again: the kernel counts every write to the directory's attributes,
 *      so anything but the first value + 1 means that someone else wrote between our write
 *      and our reads, and the blobs may answer their inblob: -EBUSY;
 *   6. rmdir, whatever happened in between (the kernel keeps nothing else).
 *
 * Only root can create report directories, but any root process can write to ours: step 5 is
 * what detects that, the REPORTDATA check of tsm-evidence.h is what proves the report is ours.
 * "privlevel" (SEV-SNP VMPL) is not written: the kernel's default 0 is what Trustee requires.
 *
 * Verified on real hardware: nothing (there is no TDX or SEV-SNP machine here). Tested against
 * a FUSE file system that behaves as configfs-tsm does (tests/attest/fake-tsm.c) replaying
 * recorded blobs: a TDX quote from a Google Cloud TD and an SEV-SNP report from a Milan host
 * (tests/attest/tsm-vectors/README.md). */

#define TSM_REPORT_ROOT "/sys/kernel/config/tsm/report"
#define TSM_INBLOB_SIZE 64
/* The kernel's own limit for outblob and auxblob (TSM_REPORT_OUTBLOB_MAX, 32 KiB): a TDX quote
 * with its PCK certificate chain is about 5 KiB, an SEV-SNP report 1184 bytes and its
 * certificate table about 4 KiB. */
#define TSM_BLOB_MAX    (32 * 1024)

typedef enum TsmProvider {
        TSM_PROVIDER_TDX, /* "tdx_guest": outblob is a TDX quote (version 4 or 5) */
        TSM_PROVIDER_SNP, /* "sev_guest": outblob is an SEV-SNP ATTESTATION_REPORT */
        TSM_PROVIDER_ANY, /* for tsm_report_get(): whichever the machine has */
} TsmProvider;

/* The Trustee TEE name, "tdx" or "snp"; NULL for TSM_PROVIDER_ANY. */
const char *tsm_provider_tee(TsmProvider p);

typedef struct TsmReport {
        TsmProvider provider;
        uint8_t *outblob;
        size_t outblob_size;
        uint8_t *auxblob; /* NULL when the directory has no auxblob or it is empty */
        size_t auxblob_size;
} TsmReport;

void tsm_report_done(TsmReport *r);

/* Runs steps 1-6 under `root` (TSM_REPORT_ROOT on a real machine). On success ret holds the
 * blobs and the provider. Errors, each with a one-line reason:
 *   -ENOENT      root does not exist (no configfs-tsm: Linux < 6.7, configfs not mounted, or
 *                no tsm_report module);
 *   -EOPNOTSUPP  no TSM provider registered (tdx_guest / sev-guest not loaded), or one that
 *                devgate does not speak (arm_cca_guest, ...);
 *   -EMEDIUMTYPE the provider is not `want`;
 *   -EPROTO      the report directory lacks provider, generation, inblob or outblob, or they
 *                hold something else than configfs-tsm writes;
 *   -EBUSY       generation moved by more than our one write: another writer raced us;
 *   -EFBIG       outblob or auxblob over TSM_BLOB_MAX; -ENODATA an empty outblob;
 *   or the error of mkdir/open/read/write (-EACCES when not root, ...).
 * The report directory is removed in every case; failing to remove it is logged as a warning
 * and does not change the result. */
int tsm_report_get(const char *root, TsmProvider want, const uint8_t inblob[static TSM_INBLOB_SIZE],
                   TsmReport *ret, char *reason, size_t reason_size);

/* Which provider this machine has, for --tee auto. configfs-tsm tells the provider only inside
 * a report directory, so this creates one, reads "provider" and removes it again: no report
 * is generated and nothing is sent to the host. Device nodes (/dev/tdx_guest, /dev/sev-guest)
 * are not looked at: they exist without configfs-tsm too, and then this interface does not
 * work. Same errors as tsm_report_get() for steps 1-2. */
int tsm_detect(const char *root, TsmProvider *ret, char *reason, size_t reason_size);
