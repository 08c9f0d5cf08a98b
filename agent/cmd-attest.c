// SPDX-License-Identifier: LGPL-2.1-or-later
/* "devgate attest", and the fetch that "apply --fetch" shares with it: the attestation
 * settings come from the config file shipped in the initramfs, and the command line may
 * only override them when the caller is a person at a shell, which is why nothing here reads
 * the kernel command line. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "evidence.h"
#include "fileio.h"
#include "hex.h"
#include "kbs-client.h"
#include "log.h"
#include "tpm-quote.h"

static void help(void) {
        printf("Usage: devgate attest [--config FILE] [--url URL] [--resource PATH]\n"
               "                      [--tee auto|tpm|tdx|snp] [--ca FILE] [--tcti TCTI]\n"
               "                      [--out FILE] [--timings] [--insecure --tee sample]\n"
               "       devgate attest --print-ak [--tcti TCTI]\n"
               "       devgate attest --print-evidence [--report-data HEX] [--tcti TCTI]\n"
               "\n"
               "Proves to the attestation server (a Trustee KBS or devgate-kbs) what this\n"
               "guest is, with TPM, TDX or SEV-SNP evidence, and fetches the device policy\n"
               "it releases to this guest: auth, attest and resource requests over one TLS\n"
               "connection, the policy encrypted to a key of this run only. Writes the\n"
               "policy, still signed: 'devgate apply --fetch' also verifies and applies it.\n"
               "\n"
               "Options:\n"
               "  -c --config FILE     The attestation settings (default\n"
               "                       " ATTEST_CONFIG_DEFAULT ", if it exists)\n"
               "  -u --url URL         The server, https://HOST[:PORT][/PREFIX]\n"
               "  -r --resource PATH   The policy's REPOSITORY/TYPE/TAG on the server\n"
               "  -t --tee TEE         auto (default), tpm, tdx or snp; sample with --insecure\n"
               "     --ca FILE         The CA the server's certificate must chain to\n"
               "     --tcti TCTI       The TPM (default " TPM_TCTI_DEFAULT ")\n"
               "  -o --out FILE        Write the signed policy to this regular file,\n"
               "                       replaced atomically (default: stdout)\n"
               "     --timings         Print how long each step took, to stderr\n"
               "     --print-ak        Print the TPM attestation key's public key (PEM), the\n"
               "                       one the server's operator registers; no network\n"
               "     --print-evidence  Print TPM evidence (a quote of PCRs 0-23, as sent to\n"
               "                       the server), for the operator to record the PCRs of\n"
               "                       this guest as reference values; no network\n"
               "     --report-data HEX The quote's report data with --print-evidence, 1 to 64\n"
               "                       bytes, zero-padded (default: 64 zero bytes)\n"
               "     --insecure        Allow --tee sample, evidence with no hardware behind\n"
               "                       it: for tests only\n"
               "  -h --help            Show this help\n"
               "\n"
               "Exit status: 0 fetched, 1 error, 2 usage, 5 attestation or fetch failed.\n");
}

/* The config file, then the options given over it. An explicitly named file must exist;
 * the default one may be absent when the options say everything. */
static int settings_load(const AttestArgs *a, AttestConfig *c) {
        bool from_file = a->config || access(ATTEST_CONFIG_DEFAULT, F_OK) >= 0;
        const char *tee;

        attest_config_init(c);
        if (from_file && attest_config_load(c, a->config ?: ATTEST_CONFIG_DEFAULT) < 0)
                return EXIT_ERROR;

#define OVERRIDE(field, value)                                                                     \
        do {                                                                                       \
                if (value) {                                                                       \
                        free(c->field);                                                            \
                        c->field = strdup(value);                                                  \
                        if (!c->field)                                                             \
                                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_ERROR;     \
                }                                                                                  \
        } while (0)
        OVERRIDE(url, a->url);
        OVERRIDE(resource, a->resource);
        OVERRIDE(tee, a->tee);
        OVERRIDE(ca_file, a->ca_file);
        OVERRIDE(tcti, a->tcti);
#undef OVERRIDE
        c->http.ca_file = c->ca_file;
        c->http.pinned_pubkey = c->pinned_pubkey;
        c->http.proxy = c->proxy;

        if (!c->url || !c->resource || !c->ca_file) {
                log_error("Attestation needs a server URL, a resource and a CA: give --url, "
                          "--resource and --ca, or a config file (%s).",
                          ATTEST_CONFIG_DEFAULT);
                return EXIT_USAGE;
        }
        if (strncmp(c->url, "https://", 8) != 0) {
                log_error("The server URL must start with https:// ('%s').", c->url);
                return EXIT_USAGE;
        }
        if (!kbs_resource_valid(c->resource)) {
                log_error("The resource must be REPOSITORY/TYPE/TAG of letters, digits, '-', '_' "
                          "and '.' ('%s').",
                          c->resource);
                return EXIT_USAGE;
        }
        tee = c->tee ?: "auto";
        if (streq(tee, "sample") && !a->insecure) {
                log_error("Refusing TEE 'sample': its evidence proves nothing. Give --insecure "
                          "to use it in a test.");
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

static int tee_choose(const AttestConfig *c, Tee *ret) {
        char reason[256];
        const char *name = c->tee ?: "auto";

        if (!streq(name, "auto")) {
                if (tee_from_string(name, ret) < 0) {
                        log_error("Unknown TEE '%s': expected auto, tpm, tdx or snp.", name);
                        return EXIT_USAGE;
                }
                return EXIT_OK;
        }
        if (tee_detect(NULL, ret, reason, sizeof reason) < 0) {
                log_error("Cannot attest: %s.", reason);
                return EXIT_ATTESTATION;
        }
        log_info("Attesting as a %s guest.", tee_to_string(*ret));
        return EXIT_OK;
}

static void timings_print(const KbsTimings *t) {
#define STEP(name, step)                                                                           \
        fprintf(stderr, "  %-10s %8.2f ms wall %8.2f ms cpu\n", name, t->step.wall_us / 1000.0,    \
                t->step.cpu_us / 1000.0)
        fprintf(stderr, "Attestation steps (%u handshake%s, %ld connection%s):\n", t->handshakes,
                t->handshakes == 1 ? "" : "s", t->connections, t->connections == 1 ? "" : "s");
        STEP("key", key);
        STEP("auth", auth);
        STEP("evidence", evidence);
        STEP("attest", attest);
        STEP("resource", resource);
        STEP("decrypt", decrypt);
#undef STEP
}

int attest_fetch(const AttestArgs *a, char **ret, size_t *ret_size, char **ret_label) {
        AttestConfig c;
        EvidenceSource source = {};
        KbsTimings timings = {};
        KbsRequest request;
        uint8_t *data = NULL;
        char reason[512];
        size_t size;
        int r, ret_status;

        ret_status = settings_load(a, &c);
        if (ret_status == EXIT_OK)
                ret_status = tee_choose(&c, &source.tee);
        if (ret_status != EXIT_OK) {
                attest_config_done(&c);
                return ret_status;
        }
        source.tcti = c.tcti;

        request = (KbsRequest){
                .url = c.url,
                .resource = c.resource,
                .http = &c.http,
                .handshake_retries = c.handshake_retries,
        };
        log_info("Attesting to %s for '%s'.", c.url, c.resource);
        r = kbs_fetch_resource(&request, &source, &data, &size, &timings, reason, sizeof reason);
        /* The TPM is free again for the version counter and the measurement. */
        evidence_source_done(&source);
        if (a->timings)
                timings_print(&timings);
        if (r < 0) {
                log_error("Attestation to %s failed: %s", c.url, reason);
                attest_config_done(&c);
                return r == -ENOMEM ? EXIT_ERROR : EXIT_ATTESTATION;
        }
        log_info("Fetched '%s' from %s: %zu bytes, %u handshake%s, %ld TLS connection%s.",
                 c.resource, c.url, size, timings.handshakes, timings.handshakes == 1 ? "" : "s",
                 timings.connections, timings.connections == 1 ? "" : "s");

        if (ret_label && asprintf(ret_label, "%s/kbs/v0/resource/%s", c.url, c.resource) < 0) {
                free(data);
                attest_config_done(&c);
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_ERROR;
        }
        attest_config_done(&c);
        *ret = (char *) data;
        *ret_size = size;
        return EXIT_OK;
}

/* The AK of the TPM attestation would use: --tcti, else the config file's, else the default.
 * Nothing else of the config file is needed, or checked. Logs why it failed. */
static int ak_open(const AttestArgs *a, TpmAk **ret) {
        const char *tcti = a->tcti;
        AttestConfig c;
        int r;

        attest_config_init(&c);
        if (!tcti && (a->config || access(ATTEST_CONFIG_DEFAULT, F_OK) >= 0)) {
                r = attest_config_load(&c, a->config ?: ATTEST_CONFIG_DEFAULT);
                if (r < 0)
                        return r;
                tcti = c.tcti;
        }
        tcti = tcti ?: TPM_TCTI_DEFAULT;
        r = tpm_ak_open(tcti, ret);
        if (r < 0)
                log_error_errno(r, "Failed to create the attestation key in the TPM (%s): %m",
                                tcti);
        attest_config_done(&c);
        return r;
}

static int print_ak(const AttestArgs *a) {
        _cleanup_tpm_ak_ TpmAk *ak = NULL;
        _cleanup_free_ char *pem = NULL;
        int r;

        if (ak_open(a, &ak) < 0)
                return EXIT_ERROR;
        r = tpm_ak_public_pem(ak, &pem);
        if (r < 0)
                return log_error_errno(r, "Failed to export the attestation key: %m"), EXIT_ERROR;
        fputs(pem, stdout);
        return EXIT_OK;
}

/* The evidence attestation would send, quoting report_data_hex (1 to 64 bytes in hex,
 * zero-padded) instead of a server's challenge: what devgate-kbs-admin reads to record this
 * guest's PCR values, after verifying the quote against the enrolled AK. */
static int print_evidence(const AttestArgs *a, const char *report_data_hex) {
        _cleanup_tpm_ak_ TpmAk *ak = NULL;
        _cleanup_free_ char *json = NULL;
        uint8_t report_data[TPM_REPORT_DATA_SIZE] = {};
        size_t len = report_data_hex ? strlen(report_data_hex) : 0;
        int r;

        if (len % 2 != 0 || len > 2 * TPM_REPORT_DATA_SIZE || (report_data_hex && len == 0)) {
                log_error("--report-data takes 1 to %d bytes in hex.", TPM_REPORT_DATA_SIZE);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < len / 2; i++) {
                int hi = hex_digit_value(report_data_hex[2 * i]),
                    lo = hex_digit_value(report_data_hex[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                        log_error("--report-data takes 1 to %d bytes in hex, not '%s'.",
                                  TPM_REPORT_DATA_SIZE, report_data_hex);
                        return EXIT_USAGE;
                }
                report_data[i] = (uint8_t) (hi << 4 | lo);
        }

        if (ak_open(a, &ak) < 0)
                return EXIT_ERROR;
        r = tpm_quote(ak, report_data, &json);
        if (r < 0)
                return log_error_errno(r, "Failed to quote the PCRs: %m"), EXIT_ERROR;
        if (printf("%s\n", json) < 0 || fflush(stdout) != 0)
                return log_error_errno(-EIO, "Failed to write the evidence: %m"), EXIT_ERROR;
        return EXIT_OK;
}

int cmd_attest(int argc, char *argv[]) {
        enum {
                ARG_CA = 0x100,
                ARG_TCTI,
                ARG_TIMINGS,
                ARG_PRINT_AK,
                ARG_INSECURE,
                ARG_PRINT_EVIDENCE,
                ARG_REPORT_DATA,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "config", required_argument, NULL, 'c' },
                { "url", required_argument, NULL, 'u' },
                { "resource", required_argument, NULL, 'r' },
                { "tee", required_argument, NULL, 't' },
                { "ca", required_argument, NULL, ARG_CA },
                { "tcti", required_argument, NULL, ARG_TCTI },
                { "out", required_argument, NULL, 'o' },
                { "timings", no_argument, NULL, ARG_TIMINGS },
                { "print-ak", no_argument, NULL, ARG_PRINT_AK },
                { "insecure", no_argument, NULL, ARG_INSECURE },
                { "print-evidence", no_argument, NULL, ARG_PRINT_EVIDENCE },
                { "report-data", required_argument, NULL, ARG_REPORT_DATA },
                {},
        };
        _cleanup_free_ char *data = NULL;
        const char *out = NULL, *report_data = NULL;
        bool want_ak = false, want_evidence = false;
        AttestArgs a = {};
        struct stat st;
        size_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, "hc:u:r:t:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'c':
                        a.config = optarg;
                        break;
                case 'u':
                        a.url = optarg;
                        break;
                case 'r':
                        a.resource = optarg;
                        break;
                case 't':
                        a.tee = optarg;
                        break;
                case ARG_CA:
                        a.ca_file = optarg;
                        break;
                case ARG_TCTI:
                        a.tcti = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case ARG_TIMINGS:
                        a.timings = true;
                        break;
                case ARG_PRINT_AK:
                        want_ak = true;
                        break;
                case ARG_INSECURE:
                        a.insecure = true;
                        break;
                case ARG_PRINT_EVIDENCE:
                        want_evidence = true;
                        break;
                case ARG_REPORT_DATA:
                        report_data = optarg;
                        break;
                default:
                        return usage_error("attest ");
                }
        if (optind != argc) {
                fprintf(stderr, "devgate attest: unexpected argument '%s'\n", argv[optind]);
                return usage_error("attest ");
        }
        if (want_ak && want_evidence) {
                fprintf(stderr, "devgate attest: --print-ak or --print-evidence, not both\n");
                return usage_error("attest ");
        }
        if (report_data && !want_evidence) {
                fprintf(stderr, "devgate attest: --report-data goes with --print-evidence\n");
                return usage_error("attest ");
        }
        if (want_ak)
                return print_ak(&a);
        if (want_evidence)
                return print_evidence(&a, report_data);
        /* A device or a pipe would be replaced by a regular file: write those through
         * stdout instead. */
        if (out && stat(out, &st) >= 0 && !S_ISREG(st.st_mode)) {
                log_error("Refusing to replace '%s', which is not a regular file.", out);
                return EXIT_USAGE;
        }

        r = attest_fetch(&a, &data, &size, NULL);
        if (r != EXIT_OK)
                return r;
        if (!out) {
                if (fwrite(data, 1, size, stdout) != size || fflush(stdout) != 0)
                        return log_error_errno(-EIO, "Failed to write the policy: %m"), EXIT_ERROR;
                return EXIT_OK;
        }
        r = write_file_atomic(out, data, size, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", out), EXIT_ERROR;
        log_info("Wrote the signed policy to '%s'.", out);
        return EXIT_OK;
}
