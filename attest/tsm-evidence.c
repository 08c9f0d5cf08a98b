// SPDX-License-Identifier: LGPL-2.1-or-later
/* Trustee "tdx" and "snp" evidence: see tsm-evidence.h for the formats and their sources. The
 * report and the certificate table come from the host-facing firmware path and are parsed as
 * hostile input: every offset is a constant checked against the exact size, every length from
 * the input is checked against what is left before it is used. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "log.h"
#include "macro.h"
#include "tsm-evidence.h"

#define REPORT_DATA_SIZE 64

/* TDX quote (Intel TDX DCAP Quoting Library API, appendix "TD Quote Format"): a 48-byte header
 * (version u16, attestation key type u16, TEE type u32, ...), the TD report body (TD 1.0: 584
 * bytes, REPORTDATA last at 520), then u32 signature data length and the signature data.
 * Version 5 puts a body descriptor (type u16, size u32) before the body: type 2 is TD 1.0,
 * type 3 TD 1.5 (648 bytes: TD 1.0 plus TEE_TCB_SVN2 and MRSERVICETD). */
#define TDX_HEADER_SIZE      48
#define TDX_TEE_TYPE         0x81
#define TDX_BODY10_SIZE      584
#define TDX_BODY15_SIZE      648
#define TDX_BODY_REPORT_DATA 520
#define TDX_V5_DESC_SIZE     6

/* SEV-SNP ATTESTATION_REPORT offsets (AMD SEV-SNP firmware ABI, table 23 in revision 1.55+). */
#define SNP_SIGNED_SIZE                0x2A0
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1
#define SNP_FAMILY_TURIN               0x1A

_printf_(4, 5) static int fail(char *reason, size_t reason_size, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(reason, reason_size, format, ap);
        va_end(ap);
        return log_debug_errno(r, "%s", reason);
}

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != 0)
                        return false;
        return true;
}

int tdx_quote_check(const uint8_t *quote, size_t size, const uint8_t report_data[static 64],
                    char *reason, size_t reason_size) {
        size_t body, body_size, sig_len_at, end;
        uint16_t version;
        uint32_t tee_type, sig_len;

        if (size < TDX_HEADER_SIZE)
                return fail(reason, reason_size, -EBADMSG, "TDX quote of %zu bytes is too short",
                            size);
        version = le16(quote);
        tee_type = le32(quote + 4);
        if (version != 4 && version != 5)
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "TDX quote version %u is not supported (only 4 and 5)", version);
        if (tee_type != TDX_TEE_TYPE)
                return fail(reason, reason_size, -EBADMSG,
                            "Not a TDX quote: TEE type 0x%x instead of 0x%x", tee_type,
                            TDX_TEE_TYPE);

        if (version == 4) {
                body = TDX_HEADER_SIZE;
                body_size = TDX_BODY10_SIZE;
        } else {
                uint16_t type;

                if (size < TDX_HEADER_SIZE + TDX_V5_DESC_SIZE)
                        return fail(reason, reason_size, -EBADMSG, "TDX quote v5 truncated");
                type = le16(quote + TDX_HEADER_SIZE);
                body_size = le32(quote + TDX_HEADER_SIZE + 2);
                body = TDX_HEADER_SIZE + TDX_V5_DESC_SIZE;
                if (!((type == 2 && body_size == TDX_BODY10_SIZE) ||
                      (type == 3 && body_size == TDX_BODY15_SIZE)))
                        return fail(reason, reason_size, -EBADMSG,
                                    "TDX quote v5 has body type %u of %zu bytes", type, body_size);
        }

        sig_len_at = body + body_size;
        if (size < sig_len_at + 4)
                return fail(reason, reason_size, -EBADMSG, "TDX quote truncated in its body");
        sig_len = le32(quote + sig_len_at);
        if (sig_len > size - sig_len_at - 4)
                return fail(reason, reason_size, -EBADMSG,
                            "TDX quote signature data of %" PRIu32 " bytes exceeds the quote",
                            sig_len);
        end = sig_len_at + 4 + sig_len;
        if (!all_zero(quote + end, size - end))
                return fail(reason, reason_size, -EBADMSG,
                            "TDX quote followed by %zu bytes that are not padding", size - end);

        if (memcmp(quote + body + TDX_BODY_REPORT_DATA, report_data, REPORT_DATA_SIZE) != 0)
                return fail(reason, reason_size, -EKEYREJECTED,
                            "The TDX quote carries other REPORTDATA than was asked for");
        return 0;
}

/* Adds key: value, taking the reference; value NULL means out of memory, except where a JSON
 * null is meant, which add_null() spells out. */
static int add(json_object *o, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int add_null(json_object *o, const char *key) {
        return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

static json_object *base64_string(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;

        if (base64_encode(data, size, &text) < 0)
                return NULL;
        return json_object_new_string(text);
}

static int finish(json_object *o, char **ret) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        char *copy = s ? strdup(s) : NULL;

        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int tdx_evidence_json(const uint8_t *quote, size_t quote_size, const uint8_t *ccel,
                      size_t ccel_size, char **ret) {
        json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = ccel ? add(o, "cc_eventlog", base64_string(ccel, ccel_size))
                 : add_null(o, "cc_eventlog");
        if (r >= 0)
                r = add(o, "quote", base64_string(quote, quote_size));
        if (r >= 0)
                r = finish(o, ret);
        json_object_put(o);
        return r;
}

/* A TCB_VERSION of 8 bytes, in the Turin or the earlier layout (see tsm-evidence.h). */
static SnpTcb snp_tcb(const uint8_t *p, bool turin) {
        if (turin)
                return (SnpTcb){ .has_fmc = true,
                                 .fmc = p[0],
                                 .bootloader = p[1],
                                 .tee = p[2],
                                 .snp = p[3],
                                 .microcode = p[7] };
        return (SnpTcb){ .bootloader = p[0], .tee = p[1], .snp = p[6], .microcode = p[7] };
}

static bool snp_tcb_reserved_zero(const uint8_t *p, bool turin) {
        return turin ? all_zero(p + 4, 3) : all_zero(p + 2, 4);
}

int snp_report_parse(const uint8_t *data, size_t size, SnpReport *ret, char *reason,
                     size_t reason_size) {
        /* Reserved ranges of the signed part, [from, to). The CPUID bytes of version 3 and
         * later are reserved in version 2; the TCBs' own reserved bytes are checked apart. */
        static const struct {
                size_t from, to;
        } reserved[] = {
                { 0x04C, 0x050 }, { 0x18B, 0x1A0 }, { 0x1EB, 0x1EC },
                { 0x1EF, 0x1F0 }, { 0x1F8, 0x2A0 },
        };
        static const size_t tcbs[] = { 0x038, 0x180, 0x1E0, 0x1F0 };
        SnpReport r = {};
        bool turin;

        if (size != SNP_REPORT_SIZE)
                return fail(reason, reason_size, -EBADMSG,
                            "SEV-SNP report of %zu bytes instead of %d", size, SNP_REPORT_SIZE);

        r.version = le32(data + 0x000);
        if (r.version < 2 || r.version > 4)
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "SEV-SNP report version %" PRIu32 " is not supported (only 2-4)",
                            r.version);
        r.sig_algo = le32(data + 0x034);
        if (r.sig_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "SEV-SNP report signed with algorithm %" PRIu32
                            ", not ECDSA P-384 with SHA-384",
                            r.sig_algo);

        r.has_cpuid = r.version >= 3;
        if (r.has_cpuid) {
                r.cpuid_fam_id = data[0x188];
                r.cpuid_mod_id = data[0x189];
                r.cpuid_step = data[0x18A];
        } else if (!all_zero(data + 0x188, 3))
                return fail(reason, reason_size, -EBADMSG,
                            "SEV-SNP report version 2 has a non-zero reserved byte at 0x188");
        /* The layout the sev crate re-encodes the report with: by CPUID family, and the
         * pre-Turin one for every version-2 report. */
        turin = r.has_cpuid && r.cpuid_fam_id >= SNP_FAMILY_TURIN;

        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                for (size_t o = reserved[i].from; o < reserved[i].to; o++)
                        if (data[o] != 0)
                                return fail(reason, reason_size, -EBADMSG,
                                            "SEV-SNP report has a non-zero reserved byte at 0x%zx: "
                                            "the verifier could not rebuild the signed bytes",
                                            o);
        for (size_t i = 0; i < ELEMENTSOF(tcbs); i++)
                if (!snp_tcb_reserved_zero(data + tcbs[i], turin))
                        return fail(reason, reason_size, -EBADMSG,
                                    "SEV-SNP report has a non-zero reserved byte in the TCB at "
                                    "0x%zx: the verifier could not rebuild the signed bytes",
                                    tcbs[i]);

        r.guest_svn = le32(data + 0x004);
        r.policy = le64(data + 0x008);
        memcpy(r.family_id, data + 0x010, sizeof r.family_id);
        memcpy(r.image_id, data + 0x020, sizeof r.image_id);
        r.vmpl = le32(data + 0x030);
        r.current_tcb = snp_tcb(data + 0x038, turin);
        r.plat_info = le64(data + 0x040);
        r.key_info = le32(data + 0x048);
        memcpy(r.report_data, data + 0x050, sizeof r.report_data);
        memcpy(r.measurement, data + 0x090, sizeof r.measurement);
        memcpy(r.host_data, data + 0x0C0, sizeof r.host_data);
        memcpy(r.id_key_digest, data + 0x0E0, sizeof r.id_key_digest);
        memcpy(r.author_key_digest, data + 0x110, sizeof r.author_key_digest);
        memcpy(r.report_id, data + 0x140, sizeof r.report_id);
        memcpy(r.report_id_ma, data + 0x160, sizeof r.report_id_ma);
        r.reported_tcb = snp_tcb(data + 0x180, turin);
        memcpy(r.chip_id, data + 0x1A0, sizeof r.chip_id);
        r.committed_tcb = snp_tcb(data + 0x1E0, turin);
        r.current =
                (SnpVersion){ .build = data[0x1E8], .minor = data[0x1E9], .major = data[0x1EA] };
        r.committed =
                (SnpVersion){ .build = data[0x1EC], .minor = data[0x1ED], .major = data[0x1EE] };
        r.launch_tcb = snp_tcb(data + 0x1F0, turin);
        memcpy(r.signature_r, data + SNP_SIGNED_SIZE, sizeof r.signature_r);
        memcpy(r.signature_s, data + SNP_SIGNED_SIZE + sizeof r.signature_r, sizeof r.signature_s);
        /* The signature's 368 reserved bytes are not signed and not carried: not checked. */

        *ret = r;
        return 0;
}

static const struct {
        uint8_t guid[16];
        const char *name; /* the sev crate's CertType variant */
} cert_types[_SNP_CERT_TYPE_MAX] = {
        /* c0b406a4-a803-4952-9743-3fb6014cd0ae and so on: GHCB specification, table
         * "Certificate Table GUIDs", in RFC 4122 byte order. */
        [SNP_CERT_ARK] = { { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6,
                             0x01, 0x4c, 0xd0, 0xae },
                           "ARK" },
        [SNP_CERT_ASK] = { { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae,
                             0xf3, 0x27, 0xc7, 0x82 },
                           "ASK" },
        [SNP_CERT_VCEK] = { { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4,
                              0xb9, 0x3b, 0xe8, 0xac, 0xcd },
                            "VCEK" },
        [SNP_CERT_VLEK] = { { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39,
                              0xc0, 0x45, 0xa0, 0xb8, 0xa1 },
                            "VLEK" },
        [SNP_CERT_CRL] = { { 0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f,
                             0x88, 0xdc, 0x67, 0xea },
                           "CRL" },
};

#define CERT_ENTRY_SIZE 24

int snp_cert_table_parse(const uint8_t *table, size_t size, SnpCert certs[static SNP_CERTS_MAX],
                         size_t *ret_n, char *reason, size_t reason_size) {
        bool seen[_SNP_CERT_TYPE_MAX] = {};
        size_t n = 0;

        for (size_t at = 0;; at += CERT_ENTRY_SIZE) {
                const uint8_t *e = table + at;
                uint32_t offset, length;
                int type = -1;

                if (size - at < CERT_ENTRY_SIZE)
                        return fail(reason, reason_size, -EBADMSG,
                                    "SEV-SNP certificate table has no terminating entry");
                if (all_zero(e, 16)) {
                        /* The end. Its offset and length mean nothing, but are zero in
                         * every table the GHCB specification describes. */
                        if (!all_zero(e + 16, 8))
                                return fail(reason, reason_size, -EBADMSG,
                                            "SEV-SNP certificate table ends with a non-zero entry");
                        break;
                }

                offset = le32(e + 16);
                length = le32(e + 20);
                if (length == 0 || offset > size || length > size - offset)
                        return fail(reason, reason_size, -EBADMSG,
                                    "SEV-SNP certificate table entry %zu (offset %" PRIu32
                                    ", length %" PRIu32 ") lies outside its %zu bytes",
                                    at / CERT_ENTRY_SIZE, offset, length, size);

                for (int t = 0; t < _SNP_CERT_TYPE_MAX; t++)
                        if (memcmp(e, cert_types[t].guid, 16) == 0)
                                type = t;
                if (type < 0)
                        continue;
                if (seen[type])
                        return fail(reason, reason_size, -EBADMSG,
                                    "SEV-SNP certificate table has two %s entries",
                                    cert_types[type].name);
                seen[type] = true;
                /* Each known type at most once: there is always room. */
                certs[n++] = (SnpCert){ .type = (SnpCertType) type,
                                        .data = table + offset,
                                        .size = length };
        }

        *ret_n = n;
        return 0;
}

static json_object *bytes_array(const uint8_t *p, size_t n) {
        json_object *a = json_object_new_array_ext((int) n);

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_new_int(p[i]);
                if (!v || json_object_array_add(a, v) < 0) {
                        json_object_put(v);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static json_object *tcb_object(const SnpTcb *t) {
        json_object *o = json_object_new_object();
        int r;

        if (!o)
                return NULL;
        r = t->has_fmc ? add(o, "fmc", json_object_new_int(t->fmc)) : add_null(o, "fmc");
        if (r >= 0)
                r = add(o, "bootloader", json_object_new_int(t->bootloader));
        if (r >= 0)
                r = add(o, "tee", json_object_new_int(t->tee));
        if (r >= 0)
                r = add(o, "snp", json_object_new_int(t->snp));
        if (r >= 0)
                r = add(o, "microcode", json_object_new_int(t->microcode));
        if (r < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *version_object(const SnpVersion *v) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (add(o, "major", json_object_new_int(v->major)) < 0 ||
            add(o, "minor", json_object_new_int(v->minor)) < 0 ||
            add(o, "build", json_object_new_int(v->build)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static int add_cpuid(json_object *o, const char *key, bool has, uint8_t v) {
        return has ? add(o, key, json_object_new_int(v)) : add_null(o, key);
}

static json_object *report_object(const SnpReport *r) {
        json_object *o = json_object_new_object(), *sig = NULL;
        int k = 0;

        if (!o)
                return NULL;

#define BYTES(field) add(o, #field, bytes_array(r->field, sizeof r->field))
        /* The sev crate's field order; serde reads keys in any order, people read this one. */
        k = k < 0 ? k : add(o, "version", json_object_new_int64(r->version));
        k = k < 0 ? k : add(o, "guest_svn", json_object_new_int64(r->guest_svn));
        k = k < 0 ? k : add(o, "policy", json_object_new_uint64(r->policy));
        k = k < 0 ? k : BYTES(family_id);
        k = k < 0 ? k : BYTES(image_id);
        k = k < 0 ? k : add(o, "vmpl", json_object_new_int64(r->vmpl));
        k = k < 0 ? k : add(o, "sig_algo", json_object_new_int64(r->sig_algo));
        k = k < 0 ? k : add(o, "current_tcb", tcb_object(&r->current_tcb));
        k = k < 0 ? k : add(o, "plat_info", json_object_new_uint64(r->plat_info));
        k = k < 0 ? k : add(o, "key_info", json_object_new_int64(r->key_info));
        k = k < 0 ? k : BYTES(report_data);
        k = k < 0 ? k : BYTES(measurement);
        k = k < 0 ? k : BYTES(host_data);
        k = k < 0 ? k : BYTES(id_key_digest);
        k = k < 0 ? k : BYTES(author_key_digest);
        k = k < 0 ? k : BYTES(report_id);
        k = k < 0 ? k : BYTES(report_id_ma);
        k = k < 0 ? k : add(o, "reported_tcb", tcb_object(&r->reported_tcb));
        k = k < 0 ? k : add_cpuid(o, "cpuid_fam_id", r->has_cpuid, r->cpuid_fam_id);
        k = k < 0 ? k : add_cpuid(o, "cpuid_mod_id", r->has_cpuid, r->cpuid_mod_id);
        k = k < 0 ? k : add_cpuid(o, "cpuid_step", r->has_cpuid, r->cpuid_step);
        k = k < 0 ? k : BYTES(chip_id);
        k = k < 0 ? k : add(o, "committed_tcb", tcb_object(&r->committed_tcb));
        k = k < 0 ? k : add(o, "current", version_object(&r->current));
        k = k < 0 ? k : add(o, "committed", version_object(&r->committed));
        k = k < 0 ? k : add(o, "launch_tcb", tcb_object(&r->launch_tcb));
#undef BYTES
        if (k >= 0) {
                sig = json_object_new_object();
                k = add(o, "signature", sig);
        }
        k = k < 0 ? k : add(sig, "r", bytes_array(r->signature_r, sizeof r->signature_r));
        k = k < 0 ? k : add(sig, "s", bytes_array(r->signature_s, sizeof r->signature_s));
        if (k < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *cert_chain_array(const SnpCert *certs, size_t n) {
        json_object *a = json_object_new_array_ext((int) n);

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(a, e) < 0) {
                        json_object_put(e);
                        json_object_put(a);
                        return NULL;
                }
                if (add(e, "cert_type", json_object_new_string(cert_types[certs[i].type].name)) <
                            0 ||
                    add(e, "data", bytes_array(certs[i].data, certs[i].size)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

int snp_evidence_json(const SnpReport *report, const SnpCert *certs, size_t n_certs, char **ret) {
        json_object *o = json_object_new_object();
        bool has_vek = false;
        int r;

        if (!o)
                return -ENOMEM;
        /* Trustee refuses a chain without the key that signed the report, but fetches the
         * VCEK itself when there is no chain: an ASK and ARK alone are better left out. */
        for (size_t i = 0; i < n_certs; i++)
                if (certs[i].type == SNP_CERT_VCEK || certs[i].type == SNP_CERT_VLEK)
                        has_vek = true;
        r = add(o, "attestation_report", report_object(report));
        if (r >= 0)
                r = has_vek ? add(o, "cert_chain", cert_chain_array(certs, n_certs))
                            : add_null(o, "cert_chain");
        if (r >= 0)
                r = finish(o, ret);
        json_object_put(o);
        return r;
}

int tsm_evidence_json(const TsmReport *report, const uint8_t report_data[static 64],
                      const uint8_t *ccel, size_t ccel_size, char **ret, char *reason,
                      size_t reason_size) {
        SnpCert certs[SNP_CERTS_MAX];
        size_t n_certs = 0;
        SnpReport snp;
        int r;

        switch (report->provider) {
        case TSM_PROVIDER_TDX:
                r = tdx_quote_check(report->outblob, report->outblob_size, report_data, reason,
                                    reason_size);
                if (r < 0)
                        return r;
                r = tdx_evidence_json(report->outblob, report->outblob_size, ccel, ccel_size, ret);
                break;

        case TSM_PROVIDER_SNP:
                r = snp_report_parse(report->outblob, report->outblob_size, &snp, reason,
                                     reason_size);
                if (r < 0)
                        return r;
                if (memcmp(snp.report_data, report_data, REPORT_DATA_SIZE) != 0)
                        return fail(
                                reason, reason_size, -EKEYREJECTED,
                                "The SEV-SNP report carries other REPORT_DATA than was asked for");
                if (report->auxblob) {
                        r = snp_cert_table_parse(report->auxblob, report->auxblob_size, certs,
                                                 &n_certs, reason, reason_size);
                        if (r < 0)
                                return r;
                }
                r = snp_evidence_json(&snp, certs, n_certs, ret);
                break;

        default:
                return fail(reason, reason_size, -EINVAL, "No report");
        }
        if (r < 0)
                return fail(reason, reason_size, r, "Cannot write the evidence: %s", strerror(-r));
        return 0;
}
