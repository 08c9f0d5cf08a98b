// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply.h"
#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "report.h"

static void help(void) {
        printf("Usage: devgate apply --policy FILE [--dry-run] [--json]\n"
               "\n"
               "Decides for every PCI, virtio and USB device which rule of the policy\n"
               "matches (first match wins) and enforces the decision: allowed devices are\n"
               "authorized or bound to their pinned driver, every other device is\n"
               "deauthorized or kept unbound. Records the decisions in the state directory\n"
               "for 'devgate status'.\n"
               "\n"
               "Options:\n"
               "  -p --policy FILE   The policy to enforce\n"
               "  -n --dry-run       Decide and print, write nothing\n"
               "     --json          Print the decisions as JSON instead of a table\n"
               "  -h --help          Show this help\n"
               "\n"
               "Exit status: 0 every decision enforced, 1 error, 2 usage, 3 policy rejected\n"
               "or not for this kernel, 4 some decisions could not be enforced.\n");
}

static int save_state(const char *text, size_t len) {
        _cleanup_free_ char *path = NULL;
        const char *dir = state_dir();
        int r;

        r = mkdir_parents(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory '%s': %m", dir);
        if (asprintf(&path, "%s/state.json", dir) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        r = write_file_atomic(path, text, len, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);
        return 0;
}

int cmd_apply(int argc, char *argv[]) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "policy", required_argument, NULL, 'p' },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_(policy_freep) Policy *policy = NULL;
        const char *policy_path = NULL;
        bool dry_run = false, json = false;
        _cleanup_free_ char *state = NULL;
        ApplyResult result;
        size_t state_len = 0;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "hp:n", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'p':
                        policy_path = optarg;
                        break;
                case 'n':
                        dry_run = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return usage_error("apply ");
                }
        if (!policy_path || optind != argc) {
                fprintf(stderr, "devgate apply: %s\n",
                        policy_path ? "unexpected argument" : "--policy FILE is required");
                return usage_error("apply ");
        }

        r = policy_load(policy_path, &policy);
        if (r < 0)
                return r == -EINVAL || r == -EFBIG ? EXIT_REJECTED : EXIT_ERROR;
        if (!kernel_range_contains(&policy->kernel, kernel_release())) {
                log_error("Policy '%s' is for kernels %s to %s, this is %s: nothing authorized.",
                          policy->name, policy->kernel.min ?: "any", policy->kernel.max ?: "any",
                          kernel_release());
                return EXIT_REJECTED;
        }
        log_info("Applying policy '%s' version %" PRId64 " (sha256 %s)%s.", policy->name,
                 policy->version, policy->sha256, dry_run ? ", dry run" : "");

        r = apply_policy(policy, kernel_release(), dry_run, &result);
        ret = r < 0 ? EXIT_ERROR : result.failed > 0 ? EXIT_INCOMPLETE : EXIT_OK;

        r = state_format(policy, policy_path, kernel_release(), &result, &state, &state_len);
        if (r < 0) {
                log_error_errno(r, "Failed to format the decisions: %m");
                ret = EXIT_ERROR;
        } else if (!dry_run && save_state(state, state_len) < 0 && ret == EXIT_OK)
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

        apply_result_done(&result);
        return ret;
}
