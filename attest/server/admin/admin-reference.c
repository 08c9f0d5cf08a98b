// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate-kbs-admin reference record: the PCR values of a known-good guest into the server's
 * reference file.
 *
 * Where the values come from: the guest's "tpm" evidence, the same JSON it sends the server,
 * verified exactly as the server verifies an attestation (tpm_evidence_verify() against the
 * enrolled AKs) before a single PCR value of it is believed. So the values are what that
 * guest's TPM signed, not what a file claims; tpm2_pcrread output would be a file's claim.
 * Freshness is the operator's choice: with --report-data the quote must carry the value the
 * operator chose for this recording; without it, whatever the quote carries is accepted (the
 * values are still that TPM's, but possibly from an earlier boot), and the tool says so. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "fileio.h"
#include "hex.h"
#include "json-strict.h"
#include "kbs-admin.h"
#include "kbs-handlers.h"
#include "kbs-policy.h"
#include "log.h"
#include "macro.h"
#include "tpm-verify.h"

/* The reference file as kbs-policy.c reads it, and the evidence as an attest request holds
 * it. */
#define REFERENCE_SIZE_MAX  (1024U * 1024U)
#define REFERENCE_DEPTH_MAX 8
#define EVIDENCE_DEPTH_MAX  8
/* PCRs 0-7: what the firmware and the boot loader measure (TCG PC Client), the same in the
 * initramfs where devgate attests as on the running system where this is run. */
#define PCRS_DEFAULT        0xffU
#define PCRS_DEFAULT_STRING "0-7"

static void help(void) {
        printf("Usage: devgate-kbs-admin reference record --set NAME --from FILE [OPTIONS]\n"
               "\n"
               "Records the PCR values of a known-good guest as a reference set of devgate-kbs.\n"
               "FILE (\"-\": standard input) is the guest's \"tpm\" evidence, as\n"
               "'devgate attest --print-evidence' prints it: its quote is verified as the\n"
               "server verifies an attestation, against the enrolled AKs, before any PCR value\n"
               "in it is trusted. The set is created, or the values are added to the values it\n"
               "accepts; the reference file is written atomically and checked as the server\n"
               "reads it.\n"
               "\n"
               "Options:\n"
               "  -s --set NAME          The reference set: letters, digits, '.', '_', '-'\n"
               "  -f --from FILE         The guest's evidence\n"
               "  -p --pcrs LIST         The PCRs to record, as \"0-7,9\" "
               "(default " PCRS_DEFAULT_STRING ")\n"
               "     --report-data HEX   The report data the quote must carry, 1 to 64 bytes (the\n"
               "                         value given to 'devgate attest --print-evidence');\n"
               "                         without it, any report data is accepted\n"
               "     --replace           Replace the set instead of adding to it\n"
               "     --reference FILE    The server's --reference file (default: from the\n"
               "                         configuration, else " ADMIN_REFERENCE_DEFAULT ")\n"
               "     --trusted-aks DIR   The enrolled AKs (default: from the configuration,\n"
               "                         else " ADMIN_TRUSTED_AKS_DEFAULT ")\n"
               "     --config FILE       devgate-kbs's configuration file\n"
               "                         (default " ADMIN_CONFIG_DEFAULT ", if it exists)\n"
               "  -h --help              Show this help\n"
               "\n"
               "devgate-kbs reads its reference values when it starts: restart it afterwards.\n"
               "\n"
               "Exit status: 0 recorded, 1 failed, 2 usage, 3 the evidence or the reference\n"
               "file is refused.\n");
}

/* "0-7,9,14": numbers and ranges of PCRs 0-23, to a bitmap. */
static int parse_pcr_list(const char *s, uint32_t *ret) {
        uint32_t bits = 0;
        const char *p = s;

        for (;;) {
                unsigned long lo, hi;
                char *end;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                lo = hi = strtoul(p, &end, 10);
                p = end;
                if (*p == '-') {
                        p++;
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        hi = strtoul(p, &end, 10);
                        p = end;
                }
                if (lo > hi || hi >= KBS_PCR_COUNT)
                        return -EINVAL;
                for (unsigned long i = lo; i <= hi; i++)
                        bits |= UINT32_C(1) << i;
                if (*p == '\0')
                        break;
                if (*p++ != ',')
                        return -EINVAL;
        }
        *ret = bits;
        return 0;
}

/* 1 to 64 bytes in hex, zero-padded to 64 as the attesters pad their report data. */
static int parse_report_data(const char *s, uint8_t ret[static TPM_REPORT_DATA_SIZE]) {
        size_t len = strlen(s);

        if (len == 0 || len % 2 != 0 || len > 2 * TPM_REPORT_DATA_SIZE)
                return -EINVAL;
        memset(ret, 0, TPM_REPORT_DATA_SIZE);
        for (size_t i = 0; i < len / 2; i++) {
                int hi = hex_digit_value(s[2 * i]), lo = hex_digit_value(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

/* The report data the evidence says it carries, for when the operator gave none: the verifier
 * then checks that the quote's extraData is that, and nothing about freshness. */
static int own_report_data(json_object *evidence, uint8_t ret[static TPM_REPORT_DATA_SIZE]) {
        _cleanup_free_ uint8_t *data = NULL;
        json_object *v = NULL;
        size_t size;

        if (!json_object_is_type(evidence, json_type_object) ||
            !json_object_object_get_ex(evidence, "report_data", &v) ||
            !json_object_is_type(v, json_type_string) ||
            base64_decode(json_object_get_string(v), (size_t) json_object_get_string_len(v), &data,
                          &size) < 0 ||
            size != TPM_REPORT_DATA_SIZE)
                return -EBADMSG;
        memcpy(ret, data, TPM_REPORT_DATA_SIZE);
        return 0;
}

static void hex_lower(const uint8_t *data, size_t size, char *ret) {
        for (size_t i = 0; i < size; i++)
                snprintf(ret + 2 * i, 3, "%02x", data[i]);
}

/* The PCRs and the report data the evidence vouches for, once verified. */
static int verify_evidence(const char *from, const char *trusted_aks, const char *report_data_hex,
                           TpmVerified *ret) {
        _cleanup_(json_object_putp) json_object *evidence = NULL;
        _cleanup_tpm_ak_set_ TpmAkSet *aks = NULL;
        _cleanup_free_ char *text = NULL;
        uint8_t report_data[TPM_REPORT_DATA_SIZE];
        char reason[512];
        size_t size;
        int r;

        r = admin_read_input(from, KBS_BODY_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "'%s' is larger than %u bytes: not evidence.", from,
                                       KBS_BODY_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", from);
        r = json_parse_strict(text, size, EVIDENCE_DEPTH_MAX, &evidence, reason, sizeof reason);
        if (r < 0)
                return log_error_errno(r, "'%s' is not evidence: %s.", from, reason);

        r = tpm_ak_set_load(trusted_aks, &aks, reason, sizeof reason);
        if (r < 0)
                return log_error_errno(r == -EINVAL ? -EIO : r, "Failed to load the AKs: %s.",
                                       reason);

        if (report_data_hex)
                (void) parse_report_data(report_data_hex, report_data); /* checked already */
        else if (own_report_data(evidence, report_data) < 0)
                return log_error_errno(-EBADMSG,
                                       "'%s' has no \"report_data\" of %d bytes in base64: not "
                                       "\"tpm\" evidence.",
                                       from, TPM_REPORT_DATA_SIZE);

        r = tpm_evidence_verify(evidence, report_data, aks, ret, reason, sizeof reason);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (r < 0)
                return log_error_errno(r, "Refusing the evidence in '%s': %s.", from, reason);
        if (!report_data_hex)
                log_warning("No --report-data: the quote's freshness is not checked. Its PCR "
                            "values are those of AK sha256:%s's TPM, possibly at an earlier "
                            "boot.",
                            ret->ak_id);
        return 0;
}

/* The reference file as it is, or an empty one; checked as the server reads it first, so that a
 * file the server refuses is not built upon. */
static int reference_read(const char *path, json_object **ret, mode_t *ret_mode) {
        _cleanup_(kbs_reference_freep) KbsReference *ref = NULL;
        _cleanup_free_ char *text = NULL;
        char reason[512];
        struct stat st;
        size_t size;
        int r;

        if (stat(path, &st) < 0 && errno == ENOENT) {
                *ret = json_object_new_object();
                if (!*ret || json_object_object_add(*ret, "sets", json_object_new_object()) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                *ret_mode = 0644;
                return 0;
        }
        r = kbs_reference_load(path, &ref, reason, sizeof reason);
        if (r == -EINVAL)
                return log_error_errno(r, "The reference file is invalid: %s. Fix it first.",
                                       reason);
        if (r < 0)
                return log_error_errno(r, "Failed to read the reference file: %s", reason);
        r = read_full_file(path, REFERENCE_SIZE_MAX, &text, &size);
        if (r >= 0)
                r = json_parse_strict(text, size, REFERENCE_DEPTH_MAX, ret, reason, sizeof reason);
        if (r < 0 || stat(path, &st) < 0)
                return log_error_errno(r < 0 ? -EIO : negative_errno(),
                                       "'%s' changed while it was read.", path);
        *ret_mode = st.st_mode & 07777;
        return 0;
}

static bool array_has(json_object *values, const char *value) {
        for (size_t i = 0; i < json_object_array_length(values); i++)
                if (strcasecmp(json_object_get_string(json_object_array_get_idx(values, i)),
                               value) == 0)
                        return true;
        return false;
}

/* The set's new "pcrs": in PCR order, the values it had (unless replace), and the recorded
 * ones for the PCRs of want. *ret_added counts the values that are new. */
static int merge_set(json_object *sets, const char *name, const TpmVerified *v, uint32_t want,
                     bool replace, size_t *ret_added) {
        _cleanup_(json_object_putp) json_object *set = json_object_new_object();
        json_object *pcrs = json_object_new_object(), *old = NULL, *old_pcrs = NULL;
        size_t added = 0;

        if (!set || !pcrs || json_object_object_add(set, "pcrs", pcrs) < 0) {
                json_object_put(pcrs);
                return log_error_errno(-ENOMEM, "Out of memory.");
        }
        if (!replace && json_object_object_get_ex(sets, name, &old))
                (void) json_object_object_get_ex(old, "pcrs", &old_pcrs);

        for (unsigned i = 0; i < KBS_PCR_COUNT; i++) {
                json_object *values, *was = NULL;
                char key[4], value[2 * KBS_PCR_SIZE + 1];
                bool record = want & (UINT32_C(1) << i);

                snprintf(key, sizeof key, "%u", i);
                if (old_pcrs)
                        (void) json_object_object_get_ex(old_pcrs, key, &was);
                if (!was && !record)
                        continue;
                values = json_object_new_array();
                if (!values || json_object_object_add(pcrs, key, values) < 0) {
                        json_object_put(values);
                        return log_error_errno(-ENOMEM, "Out of memory.");
                }
                for (size_t j = 0; was && j < json_object_array_length(was); j++)
                        if (json_object_array_add(
                                    values, json_object_get(json_object_array_get_idx(was, j))) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                if (!record)
                        continue;
                hex_lower(v->pcrs[i], KBS_PCR_SIZE, value);
                if (array_has(values, value))
                        continue;
                if (json_object_array_length(values) >= KBS_PCR_VALUES_MAX)
                        return log_error_errno(-E2BIG,
                                               "Set '%s' accepts %u values for PCR %u already, "
                                               "the most devgate-kbs takes: remove old ones or "
                                               "use --replace.",
                                               name, KBS_PCR_VALUES_MAX, i);
                if (json_object_array_add(values, json_object_new_string(value)) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                added++;
        }

        if (json_object_object_add(sets, name, TAKE_PTR(set)) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        *ret_added = added;
        return 0;
}

/* Before the rename: the new file must load as the server loads it. */
static int check_reference(const char *tmp_path, void *userdata) {
        _cleanup_(kbs_reference_freep) KbsReference *ref = NULL;
        char reason[512];
        int r = kbs_reference_load(tmp_path, &ref, reason, sizeof reason);
        if (r < 0)
                return log_error_errno(-EBADMSG, "The new reference file would not load: %s",
                                       reason);
        return 0;
}

/* "0-7,9": the PCRs of a bitmap, for messages. */
static void format_pcrs(uint32_t bits, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < KBS_PCR_COUNT && len < size; i++) {
                unsigned last = i;
                int n;

                if (!(bits & (UINT32_C(1) << i)))
                        continue;
                while (last + 1 < KBS_PCR_COUNT && (bits & (UINT32_C(1) << (last + 1))))
                        last++;
                n = last == i ? snprintf(buf + len, size - len, "%s%u", len ? "," : "", i)
                              : snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", i, last);
                if (n > 0)
                        len += (size_t) n;
                i = last;
        }
}

static int record(const char *set, const char *reference, const TpmVerified *v, uint32_t want,
                  bool replace) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *dir_copy = NULL, *base_copy = NULL, *text = NULL;
        const char *dir, *base, *json;
        char list[80];
        size_t added = 0;
        mode_t mode = 0644;
        int r;

        dir_copy = strdup(reference);
        base_copy = strdup(reference);
        if (!dir_copy || !base_copy)
                return log_error_errno(-ENOMEM, "Out of memory.");
        dir = dirname(dir_copy);
        base = basename(base_copy);

        r = admin_open_dir_path(dir, true, &dir_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s': %m", dir);
        /* Read, change and replace under the lock: two recordings at once both land. */
        r = admin_lock_dir(dir_fd, dir);
        if (r < 0)
                return r;

        r = reference_read(reference, &root, &mode);
        if (r < 0)
                return r;
        r = merge_set(json_object_object_get(root, "sets"), set, v, want, replace, &added);
        if (r < 0)
                return r;

        json = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!json || asprintf(&text, "%s\n", json) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        r = admin_install(dir_fd, dir, base, text, strlen(text), mode, true, check_reference, NULL);
        if (r == -EBADMSG)
                return r; /* logged by check_reference() */
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", reference);

        format_pcrs(want, list, sizeof list);
        log_info("Recorded PCR %s of AK sha256:%s into set '%s' of '%s': %zu new value%s. "
                 "devgate-kbs reads its reference values when it starts: restart it.",
                 list, v->ak_id, set, reference, added, added == 1 ? "" : "s");
        return 0;
}

int admin_reference(int argc, char *argv[]) {
        enum { ARG_REPORT_DATA = 0x100, ARG_REPLACE, ARG_REFERENCE, ARG_TRUSTED_AKS, ARG_CONFIG };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "set", required_argument, NULL, 's' },
                { "from", required_argument, NULL, 'f' },
                { "pcrs", required_argument, NULL, 'p' },
                { "report-data", required_argument, NULL, ARG_REPORT_DATA },
                { "replace", no_argument, NULL, ARG_REPLACE },
                { "reference", required_argument, NULL, ARG_REFERENCE },
                { "trusted-aks", required_argument, NULL, ARG_TRUSTED_AKS },
                { "config", required_argument, NULL, ARG_CONFIG },
                {},
        };
        const char *set = NULL, *from = NULL, *report_data = NULL, *reference = NULL;
        const char *trusted_aks = NULL, *config = NULL;
        AdminPaths paths = {};
        TpmVerified verified;
        uint32_t want = PCRS_DEFAULT;
        bool replace = false;
        int c, r;

        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                help();
                return ADMIN_EXIT_OK;
        }
        if (argc < 2 || !streq(argv[1], "record")) {
                fprintf(stderr,
                        "devgate-kbs-admin reference: the command is 'reference record'.\n");
                goto usage;
        }
        argc--;
        argv++;

        while ((c = getopt_long(argc, argv, "hs:f:p:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return ADMIN_EXIT_OK;
                case 's':
                        set = optarg;
                        break;
                case 'f':
                        from = optarg;
                        break;
                case 'p':
                        if (parse_pcr_list(optarg, &want) < 0) {
                                fprintf(stderr,
                                        "devgate-kbs-admin reference record: --pcrs takes PCR "
                                        "numbers 0 to 23 and ranges, as \"0-7,9\", not '%s'.\n",
                                        optarg);
                                goto usage;
                        }
                        break;
                case ARG_REPORT_DATA:
                        report_data = optarg;
                        break;
                case ARG_REPLACE:
                        replace = true;
                        break;
                case ARG_REFERENCE:
                        reference = optarg;
                        break;
                case ARG_TRUSTED_AKS:
                        trusted_aks = optarg;
                        break;
                case ARG_CONFIG:
                        config = optarg;
                        break;
                default:
                        goto usage;
                }
        if (optind != argc) {
                fprintf(stderr, "devgate-kbs-admin reference record: unexpected argument '%s'.\n",
                        argv[optind]);
                goto usage;
        }
        if (!set || !from) {
                fprintf(stderr, "devgate-kbs-admin reference record: --set NAME and --from FILE "
                                "are needed.\n");
                goto usage;
        }
        if (!admin_name_valid(set, KBS_POLICY_NAME_MAX)) {
                fprintf(stderr,
                        "devgate-kbs-admin reference record: a set name is 1 to %d letters, "
                        "digits, '.', '_' and '-', not starting with '.' (not '%s').\n",
                        KBS_POLICY_NAME_MAX, set);
                goto usage;
        }
        if (report_data) {
                uint8_t check[TPM_REPORT_DATA_SIZE];
                if (parse_report_data(report_data, check) < 0) {
                        fprintf(stderr,
                                "devgate-kbs-admin reference record: --report-data takes 1 to "
                                "%d bytes in hex, not '%s'.\n",
                                TPM_REPORT_DATA_SIZE, report_data);
                        goto usage;
                }
        }

        if (!reference || !trusted_aks) {
                r = admin_paths_load(config, &paths);
                if (r != ADMIN_EXIT_OK)
                        return r;
        }
        r = verify_evidence(from, trusted_aks ?: paths.trusted_aks, report_data, &verified);
        if (r >= 0)
                r = record(set, reference ?: paths.reference, &verified, want, replace);
        admin_paths_done(&paths);
        if (r == -E2BIG)
                return ADMIN_EXIT_REFUSED;
        return r < 0 ? admin_exit_of(r) : ADMIN_EXIT_OK;
usage:
        fprintf(stderr, "Try 'devgate-kbs-admin reference record --help' for more information.\n");
        return ADMIN_EXIT_USAGE;
}
