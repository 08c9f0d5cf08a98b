/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsm-report.h"

/* Trustee evidence for TEE "tdx" and "snp" from a configfs-tsm report (tsm-report.h).
 *
 * "tdx"
 * -----
 * Pinned to guest-components' TDX attester (attestation-agent/attester/src/tdx/mod.rs, 2025)
 * as Trustee's verifier reads it (deps/verifier/src/tdx/mod.rs, 2025, struct TdxEvidence):
 *
 *   {"cc_eventlog": base64(CCEL table data) or null, "quote": base64(outblob)}
 *
 * base64 is the standard alphabet with padding. cc_eventlog is the firmware's event log, the
 * ACPI CCEL table's data (TDX_CCEL_PATH); when present the verifier replays it against RTMR
 * 0-3 and refuses the evidence if it does not match, when null it only warns. Later attesters
 * add "aa_eventlog" (their own runtime event log); devgate keeps none and leaves it out, which
 * serde reads as absent. The verifier checks the quote with Intel's DCAP library (PCK chain,
 * TCB info from the PCCS), then that its REPORTDATA is the expected 64 bytes.
 *
 * "snp"
 * -----
 * Pinned to guest-components' SNP attester (attestation-agent/attester/src/snp/mod.rs, sev
 * 6.x, 2025) and Trustee's verifier (deps/verifier/src/snp/mod.rs, sev 7, 2025), which exchange
 * the `sev` crate's AttestationReport and CertTableEntry through serde_json:
 *
 *   {"attestation_report": {...}, "cert_chain": [{"cert_type": "VCEK", "data": [bytes]}] or null}
 *
 * attestation_report has these keys, in this order, numbers in decimal, byte strings as JSON
 * arrays of numbers (serde's form for [u8; N]), exactly as Trustee's own test evidence
 * attestation-service/tests/e2e/evidence.json (2025) spells them:
 *
 *   version guest_svn policy family_id[16] image_id[16] vmpl sig_algo current_tcb plat_info
 *   key_info report_data[64] measurement[48] host_data[32] id_key_digest[48]
 *   author_key_digest[48] report_id[32] report_id_ma[32] reported_tcb cpuid_fam_id
 *   cpuid_mod_id cpuid_step chip_id[64] committed_tcb current committed launch_tcb signature
 *
 * where a TCB is {"fmc": n or null, "bootloader", "tee", "snp", "microcode"}, current and
 * committed are {"major", "minor", "build"}, the cpuid_* are null before report version 3,
 * and signature is {"r": [72 bytes], "s": [72 bytes]} (little-endian, as the PSP writes them).
 * The reserved bytes of the report do not appear: the verifier rebuilds the signed bytes
 * (0x000-0x29F) from these fields with zeros in between, so a report whose reserved bytes
 * are not zero could never verify and snp_report_parse() refuses it. TCB layouts follow the
 * report: fmc, bootloader, tee, snp at bytes 0-3 and microcode at 7 when CPUID family is 0x1A
 * or later (Turin), bootloader, tee at 0-1 and snp, microcode at 6-7 otherwise and for every
 * version-2 report. Report versions 2-4 are understood (Trustee accepts 3 and 4; version 5
 * adds fields that this format has no key for).
 *
 * cert_chain comes from auxblob, the GHCB certificate table the host attached: ARK, ASK, VCEK,
 * VLEK and CRL entries in table order; entries with other GUIDs are left out (the verifier
 * ignores them, and their serde form, {"OTHER": uuid}, depends on features of the uuid crate).
 * null when the host attached none, or none with a VCEK or VLEK (the verifier refuses a chain
 * without one): the verifier then fetches the VCEK from AMD's KDS. The
 * verifier checks the chain up to AMD's ARK, the report's signature with the VCEK or VLEK, the
 * TCB in the report against the certificate, VMPL 0, and REPORT_DATA.
 *
 * Older Trustee releases (sev 1.x-3.x, before 2024) read another form, with the reserved
 * fields as keys ("_reserved_0", ...) and flat current_build/current_minor/...: devgate does
 * not produce it.
 *
 * What was verified, and how
 * --------------------------
 * On real hardware: nothing (no TDX or SEV-SNP machine here). Against recorded blobs
 * (tests/attest/tsm-vectors/): an SEV-SNP report of a Milan host rebuilt byte for byte from
 * Trustee's e2e evidence and checked against AMD's signature with its VCEK, whose
 * attestation_report devgate produces exactly as that evidence has it; a TDX quote version 4
 * taken on a Google Cloud TD, whose REPORTDATA devgate finds. Not run here: Trustee's verifier
 * itself (Rust, not packaged for Debian) and Intel's DCAP quote verification. */

#define TDX_CCEL_PATH     "/sys/firmware/acpi/tables/data/CCEL"
/* The CCEL log area a TDX firmware reserves is 64 KiB (TDVF) to a few MiB. */
#define TDX_CCEL_MAX_SIZE (16 * 1024 * 1024)

#define SNP_REPORT_SIZE 1184
#define SNP_CERTS_MAX   8

/* Checks that `quote` is a TDX quote (version 4 or 5, TEE type TDX) whose REPORTDATA is
 * report_data, with a signature data length that fits; bytes after the declared end must be
 * zero (padding). -EBADMSG for anything else, -EOPNOTSUPP for another version, -EKEYREJECTED
 * when REPORTDATA differs; with a one-line reason. Does not verify the signature. */
int tdx_quote_check(const uint8_t *quote, size_t size, const uint8_t report_data[static 64],
                    char *reason, size_t reason_size);

/* {"cc_eventlog":...,"quote":...} as above; ccel NULL for null. NUL-terminated, one line. */
int tdx_evidence_json(const uint8_t *quote, size_t quote_size, const uint8_t *ccel,
                      size_t ccel_size, char **ret);

typedef struct SnpTcb {
        bool has_fmc;
        uint8_t fmc, bootloader, tee, snp, microcode;
} SnpTcb;

typedef struct SnpVersion {
        uint8_t major, minor, build;
} SnpVersion;

/* Every field of an ATTESTATION_REPORT (AMD SEV-SNP firmware ABI, table "ATTESTATION_REPORT
 * Structure"), in report order. */
typedef struct SnpReport {
        uint32_t version, guest_svn;
        uint64_t policy;
        uint8_t family_id[16], image_id[16];
        uint32_t vmpl, sig_algo;
        SnpTcb current_tcb;
        uint64_t plat_info;
        uint32_t key_info;
        uint8_t report_data[64], measurement[48], host_data[32];
        uint8_t id_key_digest[48], author_key_digest[48];
        uint8_t report_id[32], report_id_ma[32];
        SnpTcb reported_tcb;
        bool has_cpuid; /* report version 3 and later */
        uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
        uint8_t chip_id[64];
        SnpTcb committed_tcb;
        SnpVersion current, committed;
        SnpTcb launch_tcb;
        uint8_t signature_r[72], signature_s[72];
} SnpReport;

/* Parses exactly SNP_REPORT_SIZE bytes. -EBADMSG for another size or a non-zero reserved byte
 * in the signed part, -EOPNOTSUPP for a report version other than 2-4 or a signature
 * algorithm other than ECDSA P-384 with SHA-384; with a one-line reason. */
int snp_report_parse(const uint8_t *data, size_t size, SnpReport *ret, char *reason,
                     size_t reason_size);

typedef enum SnpCertType {
        SNP_CERT_ARK,
        SNP_CERT_ASK,
        SNP_CERT_VCEK,
        SNP_CERT_VLEK,
        SNP_CERT_CRL,
        _SNP_CERT_TYPE_MAX,
} SnpCertType;

typedef struct SnpCert {
        SnpCertType type;
        const uint8_t *data; /* points into the table */
        size_t size;
} SnpCert;

/* Parses a GHCB certificate table (auxblob): 24-byte entries of GUID (RFC 4122 byte order),
 * offset and length (little-endian, relative to the table's start) up to an all-zero entry.
 * Each certificate must lie inside the table's buffer and not be empty, a known type may
 * appear once, at most SNP_CERTS_MAX known entries; unknown GUIDs are skipped. -EBADMSG
 * otherwise, with a one-line reason. *ret_n is 0 for an empty table. */
int snp_cert_table_parse(const uint8_t *table, size_t size, SnpCert certs[static SNP_CERTS_MAX],
                         size_t *ret_n, char *reason, size_t reason_size);

/* {"attestation_report":...,"cert_chain":...} as above; cert_chain is null when certs has no
 * VCEK or VLEK (n_certs 0 included). */
int snp_evidence_json(const SnpReport *report, const SnpCert *certs, size_t n_certs, char **ret);

/* The evidence for a report from tsm_report_get(): checks that the report carries report_data
 * (REPORTDATA of the quote or report; -EKEYREJECTED otherwise: not the report we asked for),
 * then builds the JSON above. ccel (may be NULL) is used for TDX only. Errors of the
 * functions above, with their reason. */
int tsm_evidence_json(const TsmReport *report, const uint8_t report_data[static 64],
                      const uint8_t *ccel, size_t ccel_size, char **ret, char *reason,
                      size_t reason_size);
