// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate: decides which devices a confidential guest lets a driver touch, from a policy,
 * and enforces the decision before the initramfs hands over to the real root. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "enumerate.h"
#include "log.h"
#include "signed-policy.h"

static const char *state_dir_override;

const char *state_dir(void) {
        const char *env = getenv("DEVGATE_STATE_DIR");
        if (state_dir_override)
                return state_dir_override;
        return env && *env ? env : DEVGATE_STATE_DIR_DEFAULT;
}

void set_state_dir(const char *dir) {
        state_dir_override = dir;
}

const char *kernel_release(void) {
        static struct utsname u;
        const char *env = getenv("DEVGATE_KERNEL_RELEASE");

        /* Tests pin the release to exercise kernel-scoped rules on any build machine. */
        if (env && *env)
                return env;
        if (u.release[0] == '\0' && uname(&u) < 0)
                return "0";
        return u.release;
}

int enumerate_all(DeviceList lists[]) {
        for (Bus b = 0; b < _BUS_MAX; b++) {
                int r = enumerate_bus(b, &lists[b]);
                if (r < 0)
                        return log_error_errno(r, "Failed to enumerate %s devices: %m",
                                               bus_to_string(b));
        }
        return 0;
}

int exit_status_of(int r) {
        switch (r) {
        case 0:
                return EXIT_OK;
        case -EINVAL:
        case -EFBIG:
        case -EBADMSG:
        case -EMEDIUMTYPE:
        case -EKEYREJECTED:
        case -ESTALE:
        case -ETIME:
                return EXIT_REJECTED;
        default:
                return EXIT_ERROR;
        }
}

const char *tpm_tcti(const char *tpm) {
        if (tpm && streq(tpm, "off"))
                return NULL;
        if (tpm && !streq(tpm, "auto"))
                return tpm;
        if (access("/dev/tpmrm0", F_OK) < 0)
                return NULL;
        return "device:/dev/tpmrm0";
}

/* The TPM floor: where a TPM holds a devgate counter, the highest version applied so far. */
static int tpm_floor(const char *tpm, VersionFloor *floor, TpmCounter **ret_counter) {
        _cleanup_tpm_counter_ TpmCounter *counter = NULL;
        const char *tcti = tpm_tcti(tpm);
        uint64_t version;
        int r;

        *ret_counter = NULL;
        if (!tcti) {
                log_debug("No TPM: the version floor comes from the file only.");
                return 0;
        }

        r = tpm_counter_open(tcti, DEVGATE_TPM_NV_INDEX, &counter);
        if (r < 0)
                return log_error_errno(r, "Failed to open the TPM (%s): %m", tcti);
        r = tpm_counter_read(counter, &version);
        if (r == -ENOENT)
                log_info("No version recorded in the TPM yet; it will hold this one.");
        else if (r == -EBADMSG)
                return log_error_errno(r,
                                       "TPM NV index 0x%08x is not one devgate defined, refusing.",
                                       DEVGATE_TPM_NV_INDEX);
        else if (r < 0)
                return log_error_errno(r, "Failed to read the version floor from the TPM: %m");
        else if ((int64_t) version > floor->version) {
                floor->version = (int64_t) version;
                snprintf(floor->source, sizeof floor->source, "TPM NV counter 0x%08x",
                         DEVGATE_TPM_NV_INDEX);
        }
        *ret_counter = TAKE_PTR(counter);
        return 0;
}

int policy_source_load(const PolicySource *source, Policy **ret, TpmCounter **ret_counter) {
        _cleanup_(trusted_keys_freep) TrustedKeys *keys = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_tpm_counter_ TpmCounter *counter = NULL;
        Verification verification;
        VersionFloor floor = { .version = 0, .source = "default" };
        int r;

        if (source->envelope || source->envelope_data) {
                if (!source->keys_dir) {
                        log_error("A signed policy needs --keys DIR, the trusted public keys.");
                        return EXIT_USAGE;
                }
                if (trusted_keys_load(source->keys_dir, &keys) < 0)
                        return EXIT_ERROR;
                r = source->envelope
                            ? signed_policy_load(source->envelope, keys, &policy, &verification)
                            : signed_policy_parse(source->envelope_label, source->envelope_data,
                                                  source->envelope_size, keys, &policy,
                                                  &verification);
                if (r >= 0)
                        for (size_t i = 0; i < verification.n_signers; i++)
                                log_info("Policy '%s' version %" PRId64 " is signed by key %s "
                                         "(%zu of %zu trusted keys, %u required).",
                                         policy->name, policy->version, verification.signers[i],
                                         verification.n_signers, keys->n, keys->threshold);
        } else if (source->baseline) {
                r = policy_load(source->baseline, &policy);
                if (r < 0)
                        return exit_status_of(r);
                log_info("Baseline policy '%s' version %" PRId64 " from '%s'.", policy->name,
                         policy->version, source->baseline);
                *ret = TAKE_PTR(policy);
                *ret_counter = NULL;
                return EXIT_OK;
        } else if (source->policy) {
                if (!source->insecure_unsigned) {
                        log_error("Refusing unsigned policy '%s': give --envelope FILE --keys DIR, "
                                  "or --insecure-unsigned to accept a policy nobody signed.",
                                  source->policy);
                        return EXIT_REJECTED;
                }
                log_warning("Using unsigned policy '%s' (--insecure-unsigned).", source->policy);
                r = policy_load(source->policy, &policy);
        } else {
                log_error("No policy: give --envelope FILE --keys DIR.");
                return EXIT_USAGE;
        }
        if (r < 0)
                return exit_status_of(r);

        r = version_floor_from_file(&floor, source->floor_file ?: DEVGATE_FLOOR_FILE_DEFAULT);
        if (r < 0)
                return EXIT_ERROR;
        /* A TPM that is there but cannot be read fails closed: the floor it holds is not
         * known, so no version can be shown to be at or above it. */
        if (tpm_floor(source->tpm, &floor, &counter) < 0)
                return EXIT_ERROR;
        if (policy_check_fresh(policy, &floor, (int64_t) time(NULL)) < 0)
                return EXIT_REJECTED;

        *ret = TAKE_PTR(policy);
        *ret_counter = TAKE_PTR(counter);
        return EXIT_OK;
}

static void help(void) {
        printf("Usage: devgate [OPTIONS] COMMAND ...\n"
               "\n"
               "Lets drivers touch only the PCI, virtio and USB devices a device policy\n"
               "allows, before the initramfs hands over to the real root.\n"
               "\n"
               "Commands:\n"
               "  apply --envelope FILE --keys DIR\n"
               "                           Decide and enforce (see devgate apply --help)\n"
               "  attest                   Attest to the server and fetch the signed policy\n"
               "  device SYSPATH           Decide one device with the policy in force (udev)\n"
               "  status                   What was decided at boot\n"
               "  explain DEVICE           Which rule matches a device, and why\n"
               "  generate                 A policy allowing exactly the devices present\n"
               "  policy check|keygen|sign|verify|show\n"
               "                           Write, sign and check policies\n"
               "  halt [--poweroff] REASON\n"
               "                           Stop the boot (rd.devgate.failure=halt|poweroff)\n"
               "\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "  -v --verbose             Log debug messages\n"
               "  -q --quiet               Log only warnings and errors\n"
               "     --log-target=TARGET   auto, stderr or kmsg (default: auto, which is\n"
               "                           kmsg inside an initramfs)\n"
               "     --state-dir=DIR       Where apply records its decisions (default\n"
               "                           $DEVGATE_STATE_DIR or " DEVGATE_STATE_DIR_DEFAULT ")\n"
               "\n"
               "Exit status: 0 success, 1 error, 2 usage, 3 policy rejected,\n"
               "4 some decisions could not be enforced, 5 attestation or fetch failed.\n"
               "See devgate(8).\n");
}

int usage_error(const char *command) {
        fprintf(stderr, "Try 'devgate %s--help' for more information.\n", command);
        return EXIT_USAGE;
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LOG_TARGET, ARG_STATE_DIR };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {},
        };
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } commands[] = {
                { "apply", cmd_apply },       { "status", cmd_status }, { "explain", cmd_explain },
                { "generate", cmd_generate }, { "policy", cmd_policy }, { "attest", cmd_attest },
                { "device", cmd_device },     { "halt", cmd_halt },
        };
        LogTarget target = LOG_TARGET_AUTO;
        int level = LOG_INFO, c;

        /* "+": stop at the command, whose own options follow it. */
        while ((c = getopt_long(argc, argv, "+hvq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("devgate %s\n", DEVGATE_VERSION);
                        return EXIT_OK;
                case 'v':
                        level = LOG_DEBUG;
                        break;
                case 'q':
                        level = LOG_WARNING;
                        break;
                case ARG_LOG_TARGET:
                        if (log_target_from_string(optarg, &target) < 0) {
                                fprintf(stderr, "devgate: unknown log target '%s'\n", optarg);
                                return usage_error("");
                        }
                        break;
                case ARG_STATE_DIR:
                        set_state_dir(optarg);
                        break;
                default:
                        return usage_error("");
                }

        log_setup(target, level);

        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (streq(commands[i].name, argv[optind])) {
                        argv += optind;
                        argc -= optind;
                        optind = 0; /* restart getopt for the command's own options */
                        return commands[i].run(argc, argv);
                }

        fprintf(stderr, "devgate: unknown command '%s'\n", argv[optind]);
        return usage_error("");
}
