// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "policy.h"

static void help(void) {
        printf("Usage: devgate policy check FILE\n"
               "\n"
               "Validates a policy: on success prints its name, version and rules; on\n"
               "failure names the JSON path and the reason, e.g.\n"
               "  policy.json: rules[3].match.class: expected \"0xCCSSPP\" or ...\n"
               "\n"
               "Options:\n"
               "  -h --help   Show this help\n"
               "\n"
               "Exit status: 0 valid, 1 unreadable, 2 usage, 3 rejected.\n");
}

static int policy_check(const char *path) {
        _cleanup_(policy_freep) Policy *policy = NULL;
        int r = policy_load(path, &policy);
        if (r == -EINVAL || r == -EFBIG)
                return EXIT_REJECTED;
        if (r < 0)
                return EXIT_ERROR;

        printf("%s: policy '%s' version %" PRId64 ", %zu rule%s, default %s\n", path, policy->name,
               policy->version, policy->n_rules, policy->n_rules == 1 ? "" : "s",
               action_to_string(policy->default_action));
        if (policy->default_action == ACTION_ALLOW)
                log_warning("%s: \"default\": \"allow\" leaves unmatched devices as the kernel "
                            "has them; only explicit rules authorize.",
                            path);
        for (size_t i = 0; i < policy->n_rules; i++) {
                const Rule *rule = &policy->rules[i];
                printf("  rules[%zu] %-5s %-7s%s%s%s\n", i, action_to_string(rule->action),
                       bus_to_string(rule->match.bus), rule->comment ?: "",
                       rule->driver ? " -> driver " : "", rule->driver ?: "");
        }
        return EXIT_OK;
}

int cmd_policy(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return usage_error("policy ");
                }
        if (optind < argc && streq(argv[optind], "check")) {
                optind++;
                if (optind < argc && (streq(argv[optind], "--help") || streq(argv[optind], "-h"))) {
                        help();
                        return EXIT_OK;
                }
                if (optind + 1 != argc) {
                        fprintf(stderr, "devgate policy check: expected one FILE\n");
                        return usage_error("policy ");
                }
                return policy_check(argv[optind]);
        }
        fprintf(stderr, "devgate policy: expected a subcommand: check\n");
        return usage_error("policy ");
}
