// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "decision.h"
#include "log.h"
#include "match.h"

static void help(void) {
        printf("Usage: devgate explain --policy FILE DEVICE\n"
               "\n"
               "Shows which rule of the policy matches a device and why each earlier rule\n"
               "did not. DEVICE is a device name as in the apply table (0000:00:02.0,\n"
               "virtio0, 1-1) or its /sys/devices path.\n"
               "\n"
               "Options:\n"
               "  -p --policy FILE   The policy to explain\n"
               "  -h --help          Show this help\n"
               "\n"
               "Exit status: 0 success, 1 no such device, 2 usage, 3 policy rejected.\n");
}

int cmd_explain(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "policy", required_argument, NULL, 'p' },
                {},
        };
        _cleanup_(policy_freep) Policy *policy = NULL;
        DeviceList devices[_BUS_MAX] = {};
        const char *policy_path = NULL;
        Device *device = NULL;
        Decision decision;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "hp:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'p':
                        policy_path = optarg;
                        break;
                default:
                        return usage_error("explain ");
                }
        if (!policy_path || optind + 1 != argc) {
                fprintf(stderr, "devgate explain: %s\n",
                        policy_path ? "expected one DEVICE" : "--policy FILE is required");
                return usage_error("explain ");
        }

        r = policy_load(policy_path, &policy);
        if (r < 0)
                return r == -EINVAL || r == -EFBIG ? EXIT_REJECTED : EXIT_ERROR;
        if (enumerate_all(devices) < 0) {
                ret = EXIT_ERROR;
                goto finish;
        }
        for (Bus b = 0; b < _BUS_MAX && !device; b++)
                device = device_list_find(&devices[b], argv[optind]);
        if (!device) {
                log_error("No PCI, virtio or USB device '%s'.", argv[optind]);
                ret = EXIT_ERROR;
                goto finish;
        }

        printf("Device:  %s (%s)\n"
               "Path:    %s\n"
               "IDs:     %s\n"
               "Driver:  %s\n\n",
               device->name, bus_to_string(device->id.bus), device->syspath, device->ids,
               device->driver[0] ? device->driver : "(none)");
        if (device->identity_error < 0)
                printf("Its identity could not be read (%s): denied whatever the policy says.\n",
                       strerror(-device->identity_error));

        if (!kernel_range_contains(&policy->kernel, kernel_release()))
                printf("The policy is for kernels %s to %s, this is %s: apply would refuse it "
                       "and authorize nothing.\n\n",
                       policy->kernel.min ?: "any", policy->kernel.max ?: "any", kernel_release());

        decide(policy, device, kernel_release(), &decision);
        for (size_t i = 0; i < policy->n_rules && device->identity_error >= 0; i++) {
                const Rule *rule = &policy->rules[i];
                char why[256];
                bool match = rule_matches(rule, device, kernel_release(), why, sizeof why);

                printf("rules[%zu] %-5s %s%s%s\n", i, action_to_string(rule->action),
                       rule->comment ?: "", rule->comment ? ": " : "", match ? "MATCHES" : why);
                if (match)
                        break;
        }
        if (decision.rule < 0)
                printf("No rule matches: the policy's default applies.\n");

        printf("\nDecision: %s", action_to_string(decision.action));
        if (decision.driver)
                printf(", only driver %s may bind", decision.driver);
        if (decision.action == ACTION_ALLOW && decision.rule < 0)
                printf(" (by default: left as the kernel has it, never authorized)");
        printf("\n");

finish:
        for (Bus b = 0; b < _BUS_MAX; b++)
                device_list_done(&devices[b]);
        return ret;
}
