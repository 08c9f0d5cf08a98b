// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a SEV-SNP host hands a guest through configfs-tsm: the first SNP_REPORT_SIZE bytes are
 * the ATTESTATION_REPORT (outblob), the rest the certificate table (auxblob). Whatever parses
 * becomes evidence JSON that reads back to the same bytes, and the report's signed part is
 * exactly what the parsed fields rebuild with zeros in between, which is what Trustee's
 * verifier does with them. The same input also goes through the TDX quote check. */
#include <json-c/json.h>
#include <string.h>

#include "fuzz.h"
#include "tsm-evidence.h"

#define SIGNED_SIZE 0x2A0

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
        put32(p, (uint32_t) v);
        put32(p + 4, (uint32_t) (v >> 32));
}

static void put_tcb(uint8_t *p, const SnpTcb *t, bool turin) {
        memset(p, 0, 8);
        fuzz_check(t->has_fmc == turin);
        if (turin) {
                p[0] = t->fmc;
                p[1] = t->bootloader;
                p[2] = t->tee;
                p[3] = t->snp;
        } else {
                p[0] = t->bootloader;
                p[1] = t->tee;
                p[6] = t->snp;
        }
        p[7] = t->microcode;
}

/* The signed bytes as a verifier rebuilds them from the fields. */
static void rebuild(const SnpReport *r, uint8_t b[static SIGNED_SIZE]) {
        bool turin = r->has_cpuid && r->cpuid_fam_id >= 0x1A;

        memset(b, 0, SIGNED_SIZE);
        put32(b + 0x000, r->version);
        put32(b + 0x004, r->guest_svn);
        put64(b + 0x008, r->policy);
        memcpy(b + 0x010, r->family_id, 16);
        memcpy(b + 0x020, r->image_id, 16);
        put32(b + 0x030, r->vmpl);
        put32(b + 0x034, r->sig_algo);
        put_tcb(b + 0x038, &r->current_tcb, turin);
        put64(b + 0x040, r->plat_info);
        put32(b + 0x048, r->key_info);
        memcpy(b + 0x050, r->report_data, 64);
        memcpy(b + 0x090, r->measurement, 48);
        memcpy(b + 0x0C0, r->host_data, 32);
        memcpy(b + 0x0E0, r->id_key_digest, 48);
        memcpy(b + 0x110, r->author_key_digest, 48);
        memcpy(b + 0x140, r->report_id, 32);
        memcpy(b + 0x160, r->report_id_ma, 32);
        put_tcb(b + 0x180, &r->reported_tcb, turin);
        if (r->has_cpuid) {
                b[0x188] = r->cpuid_fam_id;
                b[0x189] = r->cpuid_mod_id;
                b[0x18A] = r->cpuid_step;
        }
        memcpy(b + 0x1A0, r->chip_id, 64);
        put_tcb(b + 0x1E0, &r->committed_tcb, turin);
        b[0x1E8] = r->current.build;
        b[0x1E9] = r->current.minor;
        b[0x1EA] = r->current.major;
        b[0x1EC] = r->committed.build;
        b[0x1ED] = r->committed.minor;
        b[0x1EE] = r->committed.major;
        put_tcb(b + 0x1F0, &r->launch_tcb, turin);
}

static void check_json(const char *text, const SnpReport *r, size_t n_certs, const SnpCert *certs) {
        json_object *o = json_tokener_parse(text), *rep, *v, *chain;

        fuzz_check(o);
        fuzz_check(json_object_object_get_ex(o, "attestation_report", &rep));
        fuzz_check(json_object_object_get_ex(rep, "report_data", &v));
        fuzz_check(json_object_array_length(v) == 64);
        for (size_t i = 0; i < 64; i++)
                fuzz_check(json_object_get_int(json_object_array_get_idx(v, i)) ==
                           r->report_data[i]);
        fuzz_check(json_object_object_get_ex(rep, "policy", &v));
        fuzz_check(json_object_get_uint64(v) == r->policy);
        bool has_vek = false;
        for (size_t i = 0; i < n_certs; i++)
                if (certs[i].type == SNP_CERT_VCEK || certs[i].type == SNP_CERT_VLEK)
                        has_vek = true;
        fuzz_check(json_object_object_get_ex(o, "cert_chain", &chain));
        if (!has_vek)
                fuzz_check(chain == NULL);
        else {
                fuzz_check(json_object_array_length(chain) == n_certs);
                for (size_t i = 0; i < n_certs; i++) {
                        json_object *e = json_object_array_get_idx(chain, i), *data;
                        fuzz_check(json_object_object_get_ex(e, "data", &data));
                        fuzz_check(json_object_array_length(data) == certs[i].size);
                }
        }
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SnpCert certs[SNP_CERTS_MAX];
        uint8_t signed_part[SIGNED_SIZE];
        size_t n_certs = 0;
        char reason[256], *json = NULL;
        SnpReport r;

        if (size >= 64)
                (void) tdx_quote_check(data, size, data, reason, sizeof reason);

        if (size < SNP_REPORT_SIZE)
                return 0;
        if (snp_report_parse(data, SNP_REPORT_SIZE, &r, reason, sizeof reason) < 0)
                return 0;
        fuzz_check(r.version >= 2 && r.version <= 4);
        rebuild(&r, signed_part);
        fuzz_check(memcmp(signed_part, data, SIGNED_SIZE) == 0);

        if (size > SNP_REPORT_SIZE) {
                const uint8_t *table = data + SNP_REPORT_SIZE;
                size_t table_size = size - SNP_REPORT_SIZE;

                if (snp_cert_table_parse(table, table_size, certs, &n_certs, reason,
                                         sizeof reason) < 0)
                        return 0;
                fuzz_check(n_certs <= SNP_CERTS_MAX);
                for (size_t i = 0; i < n_certs; i++) {
                        fuzz_check(certs[i].size > 0);
                        fuzz_check(certs[i].data >= table &&
                                   certs[i].data + certs[i].size <= table + table_size);
                }
        }

        fuzz_check(snp_evidence_json(&r, certs, n_certs, &json) == 0);
        check_json(json, &r, n_certs, certs);
        free(json);
        return 0;
}
