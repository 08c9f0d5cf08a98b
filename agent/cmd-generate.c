// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "generate.h"

static void help(void) {
        printf("Usage: devgate generate [--name NAME]\n"
               "\n"
               "Prints a policy that allows exactly the PCI, virtio and USB devices present\n"
               "now, each pinned to the driver bound to it, and denies everything else.\n"
               "Virtio devices are named by type (\"net\", \"block\", ...), so the policy\n"
               "covers both their transitional and modern PCI IDs. Review it before use:\n"
               "it trusts whatever the host presents at the time it runs.\n"
               "\n"
               "Options:\n"
               "     --name NAME   The policy's name (default: generated)\n"
               "  -h --help        Show this help\n"
               "\n"
               "Exit status: 0 success, 1 error, 2 usage.\n");
}

int cmd_generate(int argc, char *argv[]) {
        enum { ARG_NAME = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                {},
        };
        DeviceList devices[_BUS_MAX] = {};
        const char *name = "generated";
        json_object *policy;
        int c, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_NAME:
                        name = optarg;
                        break;
                default:
                        return usage_error("generate ");
                }
        if (optind != argc)
                return usage_error("generate ");
        if (strlen(name) == 0 || strlen(name) > 64 ||
            strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                    strlen(name)) {
                fprintf(stderr, "devgate generate: --name may contain only letters, digits, "
                                "'-', '_' and '.' (at most 64)\n");
                return usage_error("generate ");
        }

        if (enumerate_all(devices) < 0)
                ret = EXIT_ERROR;
        else {
                policy = policy_generate(devices, _BUS_MAX, name);
                printf("%s\n", json_object_to_json_string_ext(
                                       policy, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(policy);
        }
        for (Bus b = 0; b < _BUS_MAX; b++)
                device_list_done(&devices[b]);
        return ret;
}
