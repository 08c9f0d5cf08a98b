// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "measure.h"
#include "report.h"
#include "state.h"

static void help(void) {
        printf("Usage: devgate apply --envelope FILE --keys DIR [--floor-file FILE]\n"
               "                     [--dry-run] [--json]\n"
               "       devgate apply --fetch URL|--attest --keys DIR [ATTEST OPTIONS] ...\n"
               "       devgate apply --baseline FILE|--in-force [--dry-run] [--json]\n"
               "       devgate apply --policy FILE --insecure-unsigned [--dry-run] [--json]\n"
               "\n"
               "Decides for every PCI, virtio and USB device which rule of the policy\n"
               "matches (first match wins) and enforces the decision: allowed devices are\n"
               "authorized or bound to their pinned driver, every other device is\n"
               "deauthorized or kept unbound. Installs the policy in the state directory,\n"
               "where 'devgate device' decides devices that appear later, and records the\n"
               "decisions there for 'devgate status'.\n"
               "\n"
               "Options:\n"
               "  -e --envelope FILE     The signed policy (a DSSE envelope) to enforce\n"
               "  -k --keys DIR          The trusted public keys (*.pub) and DIR/threshold\n"
               "     --floor-file FILE   The lowest policy version to accept (default\n"
               "                         " DEVGATE_FLOOR_FILE_DEFAULT ")\n"
               "     --tpm WHAT          The TPM that keeps the version floor: auto (the\n"
               "                         default: /dev/tpmrm0 if there is one), off, or a\n"
               "                         TCTI string such as swtpm:path=SOCKET. After a real\n"
               "                         run its counter is advanced to the policy's version.\n"
               "     --fetch URL         Attest to the server at URL and fetch the signed\n"
               "                         policy from it (see devgate attest --help)\n"
               "     --attest            The same, with the server from the config file\n"
               "     --attest-config FILE, --resource PATH, --ca FILE, --tee TEE\n"
               "                         As for devgate attest. The TPM that attests is --tpm\n"
               "                         when that is a TCTI, else the config file's tcti\n"
               "     --insecure          Allow --tee sample (tests only)\n"
               "     --timings           Print how long each attestation step took\n"
               "     --pcr N             The PCR the applied policy is measured into, 8-15\n"
               "                         (default 14; TDX: RTMR 2 as well)\n"
               "  -b --baseline FILE     The plain policy that came inside the initramfs\n"
               "                         image (trusted with the image, which the boot\n"
               "                         measures; no version floor, not measured again)\n"
               "     --in-force          The policy in force (the state directory's\n"
               "                         policy.json, verified when it was installed)\n"
               "  -p --policy FILE       A plain, unsigned policy: refused unless\n"
               "     --insecure-unsigned is given too\n"
               "  -n --dry-run           Decide and print, write nothing\n"
               "     --json              Print the decisions as JSON instead of a table\n"
               "  -h --help              Show this help\n"
               "\n"
               "Exit status: 0 every decision enforced, 1 error, 2 usage, 3 policy rejected\n"
               "or not for this kernel, 4 some decisions could not be enforced, 5 attestation\n"
               "or fetch failed (nothing applied).\n");
}

/* Records which policy this boot enforced, for later attestations: see measure.h. */
static int measure(const Policy *policy, const char *tpm, unsigned pcr) {
        _cleanup_free_ char *log_path = NULL;
        MeasureOptions o;

        if (asprintf(&log_path, "%s/measure.log", state_dir()) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        o = (MeasureOptions){ .tcti = tpm_tcti(tpm), .pcr = pcr, .log_path = log_path };
        return measure_policy(&o, policy);
}

int cmd_apply(int argc, char *argv[]) {
        enum {
                ARG_JSON = 0x100,
                ARG_FLOOR_FILE,
                ARG_INSECURE_UNSIGNED,
                ARG_TPM,
                ARG_FETCH,
                ARG_ATTEST,
                ARG_ATTEST_CONFIG,
                ARG_RESOURCE,
                ARG_CA,
                ARG_TEE,
                ARG_INSECURE,
                ARG_TIMINGS,
                ARG_PCR,
                ARG_IN_FORCE,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "envelope", required_argument, NULL, 'e' },
                { "keys", required_argument, NULL, 'k' },
                { "floor-file", required_argument, NULL, ARG_FLOOR_FILE },
                { "tpm", required_argument, NULL, ARG_TPM },
                { "insecure-unsigned", no_argument, NULL, ARG_INSECURE_UNSIGNED },
                { "policy", required_argument, NULL, 'p' },
                { "baseline", required_argument, NULL, 'b' },
                { "in-force", no_argument, NULL, ARG_IN_FORCE },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, ARG_JSON },
                { "fetch", required_argument, NULL, ARG_FETCH },
                { "attest", no_argument, NULL, ARG_ATTEST },
                { "attest-config", required_argument, NULL, ARG_ATTEST_CONFIG },
                { "resource", required_argument, NULL, ARG_RESOURCE },
                { "ca", required_argument, NULL, ARG_CA },
                { "tee", required_argument, NULL, ARG_TEE },
                { "insecure", no_argument, NULL, ARG_INSECURE },
                { "timings", no_argument, NULL, ARG_TIMINGS },
                { "pcr", required_argument, NULL, ARG_PCR },
                {},
        };
        _cleanup_(policy_freep) Policy *policy = NULL;
        PolicySource source = {};
        _cleanup_tpm_counter_ TpmCounter *counter = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        bool dry_run = false, json = false, applied;
        _cleanup_free_ char *state = NULL, *fetched = NULL, *fetched_label = NULL,
                            *in_force_path = NULL;
        AttestArgs attest = {};
        unsigned measure_pcr = 0;
        bool fetch = false, in_force = false;
        const char *label;
        ApplyResult result;
        size_t state_len = 0;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "he:k:p:b:n", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'e':
                        source.envelope = optarg;
                        break;
                case 'k':
                        source.keys_dir = optarg;
                        break;
                case ARG_FLOOR_FILE:
                        source.floor_file = optarg;
                        break;
                case ARG_TPM:
                        source.tpm = optarg;
                        break;
                case ARG_INSECURE_UNSIGNED:
                        source.insecure_unsigned = true;
                        break;
                case 'p':
                        source.policy = optarg;
                        break;
                case 'b':
                        source.baseline = optarg;
                        break;
                case ARG_IN_FORCE:
                        in_force = true;
                        break;
                case 'n':
                        dry_run = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_FETCH:
                        attest.url = optarg;
                        fetch = true;
                        break;
                case ARG_ATTEST:
                        fetch = true;
                        break;
                case ARG_ATTEST_CONFIG:
                        attest.config = optarg;
                        break;
                case ARG_RESOURCE:
                        attest.resource = optarg;
                        break;
                case ARG_CA:
                        attest.ca_file = optarg;
                        break;
                case ARG_TEE:
                        attest.tee = optarg;
                        break;
                case ARG_INSECURE:
                        attest.insecure = true;
                        break;
                case ARG_TIMINGS:
                        attest.timings = true;
                        break;
                case ARG_PCR: {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*optarg < '0' || *optarg > '9' || *end || v < 8 || v > 15) {
                                fprintf(stderr, "devgate apply: --pcr must be 8 to 15\n");
                                return usage_error("apply ");
                        }
                        measure_pcr = (unsigned) v;
                        break;
                }
                default:
                        return usage_error("apply ");
                }
        if (!!source.envelope + !!source.policy + !!source.baseline + fetch + in_force != 1 ||
            optind != argc) {
                fprintf(stderr, "devgate apply: %s\n",
                        optind != argc ? "unexpected argument"
                                       : "give one of --envelope FILE, --fetch URL, --attest, "
                                         "--baseline FILE, --in-force or --policy FILE");
                return usage_error("apply ");
        }

        if (fetch) {
                /* Checked before attesting: a fetched policy that cannot be verified is an
                 * attestation wasted. */
                if (!source.keys_dir) {
                        log_error("A fetched policy needs --keys DIR, the trusted public keys.");
                        return EXIT_USAGE;
                }
                /* The TPM given for the version floor is the one that attests too. */
                if (source.tpm && !streq(source.tpm, "auto") && !streq(source.tpm, "off"))
                        attest.tcti = source.tpm;
                ret = attest_fetch(&attest, &fetched, &source.envelope_size, &fetched_label);
                if (ret != EXIT_OK) {
                        log_error("Nothing applied: no policy was fetched.");
                        return ret;
                }
                source.envelope_data = fetched;
                source.envelope_label = fetched_label;
        }

        if (in_force) {
                /* Verified, or the image's baseline, when it was installed; not measured or
                 * counted again. */
                r = state_load_policy(&policy);
                if (r == -ENOENT)
                        log_error("No policy in force in '%s'.", state_dir());
                if (r < 0)
                        return r == -ENOENT ? EXIT_ERROR : exit_status_of(r);
                if (asprintf(&in_force_path, "%s/policy.json", state_dir()) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory."), EXIT_ERROR;
        } else {
                ret = policy_source_load(&source, &policy, &counter);
                if (ret != EXIT_OK)
                        return ret;
        }
        if (!kernel_range_contains(&policy->kernel, kernel_release())) {
                log_error("Policy '%s' is for kernels %s to %s, this is %s: nothing authorized.",
                          policy->name, policy->kernel.min ?: "any", policy->kernel.max ?: "any",
                          kernel_release());
                return EXIT_REJECTED;
        }
        log_info("Applying policy '%s' version %" PRId64 " (sha256 %s)%s.", policy->name,
                 policy->version, policy->sha256, dry_run ? ", dry run" : "");

        /* Installed before the pass: a device that appears while it runs (a virtio device
         * behind a function the pass binds) is decided by "devgate device" with this
         * policy, once the pass is done and the lock released. */
        if (!dry_run) {
                lock_fd = state_lock();
                if (lock_fd < 0 || state_save_policy(policy) < 0)
                        return EXIT_ERROR;
        }

        r = apply_policy(policy, kernel_release(), dry_run, &result);
        applied = r >= 0 && !dry_run;
        ret = r < 0 ? EXIT_ERROR : result.failed > 0 ? EXIT_INCOMPLETE : EXIT_OK;

        label = source.envelope ?: source.envelope_label ?: source.baseline ?: source.policy;
        r = state_format(policy, label ?: in_force_path, kernel_release(), &result, &state,
                         &state_len);
        if (r < 0) {
                log_error_errno(r, "Failed to format the decisions: %m");
                ret = EXIT_ERROR;
        } else if (!dry_run && state_save_decisions(state, state_len) < 0 && ret == EXIT_OK)
                ret = EXIT_ERROR;

        if (json && state)
                fputs(state, stdout);
        else if (!json) {
                decisions_print_table(stdout, &result);
                printf("\n%s '%s' version %" PRId64 ": %u allowed, %u denied, %u failed.\n",
                       dry_run ? "Would apply" : "Applied", policy->name, policy->version,
                       result.allowed, result.denied, result.failed);
        }
        log_info("Policy '%s' version %" PRId64 ": %u allowed, %u denied, %u failed.", policy->name,
                 policy->version, result.allowed, result.denied, result.failed);

        /* Once applied, this version is the TPM's floor: no older policy is accepted again. */
        if (counter && applied) {
                int k = tpm_counter_advance(counter, (uint64_t) policy->version);
                if (k < 0) {
                        log_error_errno(
                                k, "Failed to record version %" PRId64 " in the TPM NV counter: %m",
                                policy->version);
                        ret = EXIT_ERROR;
                } else
                        log_info("TPM NV counter 0x%08x records version %" PRId64 ".",
                                 DEVGATE_TPM_NV_INDEX, policy->version);
        }

        /* The counter's connection to the TPM is closed before the measurement opens its own:
         * a TPM without a resource manager (swtpm, /dev/tpm0) serves one at a time. */
        counter = tpm_counter_free(counter);

        /* Only a policy enforced in full is measured: a record of a partly enforced one would
         * let a verifier believe more than was done. */
        if (applied && ret == EXIT_OK && !source.baseline && !in_force &&
            measure(policy, source.tpm, measure_pcr) < 0)
                ret = EXIT_ERROR;

        apply_result_done(&result);
        return ret;
}
