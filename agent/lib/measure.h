/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "policy.h"

/* Records which policy this boot enforced, so that a later attestation (disk unlock, workload
 * keys) can prove it: after a real apply (never a dry run, never a rejected policy) the policy's
 * event string is extended into a TPM PCR and, on a TDX guest, into an RTMR, and every
 * extension is appended to an event log that a verifier replays against the registers.
 *
 * WHAT IS MEASURED
 *
 *   devgate:policy name=<name> version=<version> sha256=<hex>
 *
 * in ASCII, no trailing NUL or newline: <name> as the policy names itself (letters, digits, '-',
 * '_', '.'), <version> in decimal, <hex> the lowercase SHA-256 of the bytes the policy was
 * parsed from (for a signed policy: the DSSE payload, not the envelope around it). Every field
 * has a fixed alphabet without spaces, so the string reads one way only; the "devgate:" prefix
 * keeps it apart from other software's events in the same register, as systemd's "machine-id:"
 * and "file-system:" do. Each register gets its own bank's hash of that string: SHA-1, SHA-256,
 * SHA-384, SHA-512 for the TPM banks, SHA-384 for an RTMR. A verifier reads the string from the
 * log, checks that the recorded digests are its hashes, and that sha256= is the policy it
 * expects (or looks the policy up by it). The string is the same on every boot that enforces
 * the same policy, so the register's value can also be predicted for sealing.
 *
 * THE PCR: 14 BY DEFAULT
 *
 * The TCG PC Client profile gives PCRs 0-7 to the firmware and 8-15 to the OS; the UAPI group's
 * "Linux TPM PCR Registry" lists who uses which on Linux, and every one of 8-15 has a user:
 *   8  grub: commands and kernel command line (UEFI event log); the Confidential Containers
 *      attestation agent: its init-data, which Trustee's tpm verifier requires PCR 8 to hold
 *      alone (INITDATA_PCR)
 *   9  grub: every file it reads; the kernel's EFI stub: the initrd (LOAD_FILE2); newer systemd
 *      (systemd-pcrnvdone) a separator from userspace
 *   10 IMA: its own log, which every IMA verifier replays alone
 *   11 systemd-stub: UKI sections; systemd-pcrphase: boot phases
 *   12 systemd-stub/-boot: command line, credentials, confexts
 *   13 systemd-stub: initrd sysexts
 *   14 shim: MOK certificates and hashes
 *   15 systemd: machine ID, root file system, volume key: systemd-cryptsetup expects it at zero
 *      until it measures a volume key, and policies bind to it (never devgate's)
 * The registry warns that writing to a PCR systemd uses voids systemd's warranty: that rules out
 * 11, 12, 13 and 15; 10 would break every IMA verifier; 8 would break Trustee's check of the
 * Confidential Containers init-data, in the very deployments devgate attests to. 16 (debug) and
 * 23 (application) can be reset by anyone at locality 0, which would let the running system
 * erase the record: refused. 17-22 cannot be extended at locality 0. Of 9 and 14, PCR 14 is the
 * quieter one: no systemd component, no kernel code and no userspace writes it; only shim does,
 * before the kernel, and records it in the UEFI event log. On the images confidential VMs
 * typically boot (a UKI, or direct kernel boot, without shim) PCR 14 is zero when devgate runs,
 * so devgate's log alone replays it; under shim a verifier replays shim's events from the UEFI
 * log first, then devgate's. PCR 9 always holds the initrd's measurement and, with newer
 * systemd, a userspace event too. The index is configurable (8-15) for deployments where PCR 14
 * is taken.
 *
 * THE RTMR: 2 BY DEFAULT
 *
 * On TDX the firmware maps PCRs to RTMRs (PCR 1,7 -> RTMR0, 2-6 -> RTMR1, 8-15 -> RTMR2, others
 * -> RTMR3): RTMR2 is where a PCR 14 event lands, so a verifier that reasons in PCR terms finds
 * devgate's event in the RTMR that corresponds to its PCR. RTMR3 is not cleaner: the
 * Confidential Containers attestation agent, which the Trustee deployments devgate targets run,
 * extends it with its own event log. RTMR0 and RTMR1 are the firmware's and are refused; 2 or 3
 * can be chosen. The RTMR is extended through the kernel's measurement-register interface (Linux
 * 6.16, CONFIG_TSM_MEASUREMENTS): writing the 48-byte SHA-384 digest to
 * /sys/devices/virtual/misc/tdx_guest/measurements/rtmr<N>:sha384 extends it. Without that
 * directory (no TDX, older kernel) no RTMR is extended, which is not an error.
 *
 * THE EVENT LOG
 *
 * One record per extended register, appended to o->log_path (by convention
 * <state dir>/measure.log, /run/devgate/measure.log at boot). The shape is that of systemd's
 * /run/log/systemd/tpm2-measure.log, the JSON flavour of the TCG Canonical Event Log (CEL-JSON):
 *
 *   {"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha1","digest":"<hex>"},
 *    {"hashAlg":"sha256","digest":"<hex>"},...],"content_type":"devgate",
 *    "content":{"eventType":"policy","string":"devgate:policy name=... version=... sha256=...",
 *    "timestamp":<CLOCK_BOOTTIME in microseconds>}}
 *
 * and for an RTMR "rtmr":2 in place of "pcr":14 with a single sha384 digest (CEL has no field for
 * an RTMR; records for NV indexes use "nv_index" the same way). Differences from systemd's file,
 * on purpose: "recnum" is written (CEL has it; systemd leaves it to readers), continuing from the
 * file's last record and starting at 0; and a record is one line of JSON ended by a newline
 * (JSON Lines) rather than RFC 7464 JSON text sequences: "jq -c ." reads it as it is,
 * "sed 's/^/\x1e/'" turns it into systemd's framing. Digests are lowercase hex of the bank's hash
 * of content.string; "hashAlg" uses systemd's names (sha1, sha256, sha384, sha512).
 *
 * Writers hold an exclusive flock(2) on the log from before the first extension until the last
 * record is written, so concurrent writers extend and log in the same order; readers that want a
 * log consistent with a quote take LOCK_SH. As systemd does, the file has mode 0600 (whoever can
 * open it can lock it) and carries the sticky bit while a writer is between extending and
 * logging: a log found with S_ISVTX set lost a record to a crash. It stays marked then, and later
 * records are still appended. */

/* The defaults, see above. */
#define MEASURE_PCR_DEFAULT  14U
#define MEASURE_RTMR_DEFAULT 2U
#define MEASURE_TDX_DIR      "sys/devices/virtual/misc/tdx_guest/measurements"

typedef struct MeasureOptions {
        /* The TPM as a TCTI string ("device:/dev/tpmrm0", "swtpm:path=SOCKET"), or NULL for no
         * TPM. */
        const char *tcti;
        /* 8-15; 0 for MEASURE_PCR_DEFAULT. */
        unsigned pcr;
        /* 2 or 3; 0 for MEASURE_RTMR_DEFAULT. */
        unsigned rtmr;
        /* The root under which MEASURE_TDX_DIR is looked up: NULL for "/" (tests pass a fake
         * tree). */
        const char *rtmr_root;
        /* Never extend an RTMR, even if the directory exists. */
        bool no_rtmr;
        /* The event log; its directory is created if missing. Required. */
        const char *log_path;
} MeasureOptions;

/* Formats the event string above. -EINVAL if a field has characters outside its alphabet (the
 * string would no longer read one way) or the hash is not 64 lowercase hex digits. */
int measure_policy_string(const char *name, int64_t version, const char *sha256, char **ret);

/* Measures `event` (a devgate event string such as measure_policy_string() makes, with the
 * event type content.eventType) into the TPM PCR (if o->tcti) and the RTMR (if the TDX
 * measurement directory exists), every allocated PCR bank with its own hash, and appends one log
 * record per extended register. The log is opened and locked before anything is extended: if
 * that fails nothing is.
 *
 * Returns the number of registers extended (1 or 2), 0 if there is nothing to extend (no TPM
 * given, no RTMR), or a negative errno: -EINVAL for bad options, -ENODEV when the TPM cannot be
 * reached, -EOPNOTSUPP when its TCTI cannot be loaded or none of its banks has a hash devgate
 * computes, -EBADMSG when the log's last record is not one (nothing is extended then), other
 * values from the TPM, the RTMR write or the log. When one target fails the other is still
 * measured and recorded, and the first failure is returned.
 *
 * Unlike most of the library this logs its outcome itself, once: each failure at error level
 * naming the register that failed (it alone knows which of the targets did), and the success,
 * or that there was nothing to measure into, at info/notice level. Callers map the return value
 * to an exit status and need not log it again. */
int measure_event(const MeasureOptions *o, const char *event_type, const char *event);

/* measure_event() with the policy's event string and event type "policy". Call it only after
 * the policy was really applied. */
int measure_policy(const MeasureOptions *o, const Policy *policy);
