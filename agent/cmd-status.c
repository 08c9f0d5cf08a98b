// SPDX-License-Identifier: LGPL-2.1-or-later
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "report.h"

#define STATE_SIZE_MAX (16 * 1024 * 1024)

static void help(void) {
        printf("Usage: devgate status [--json]\n"
               "\n"
               "Shows what 'devgate apply' decided at boot: the policy's name, version and\n"
               "SHA-256, and every device's decision, from the state directory.\n"
               "\n"
               "Options:\n"
               "     --json   Print the recorded state as JSON\n"
               "  -h --help   Show this help\n"
               "\n"
               "Exit status: 0 success, 1 no state recorded or unreadable, 2 usage.\n");
}

static const char *get(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_get_string(v))
                return "?";
        return json_object_get_string(v);
}

int cmd_status(int argc, char *argv[]) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_free_ char *path = NULL, *data = NULL;
        json_object *state, *policy, *decisions;
        bool json = false;
        unsigned allowed = 0, denied = 0, failed = 0;
        size_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return usage_error("status ");
                }
        if (optind != argc)
                return usage_error("status ");

        if (asprintf(&path, "%s/state.json", state_dir()) < 0)
                return EXIT_ERROR;
        r = read_full_file(path, STATE_SIZE_MAX, &data, &size);
        if (r == -ENOENT) {
                log_error("No decisions recorded in '%s': devgate apply has not run.", path);
                return EXIT_ERROR;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to read '%s': %m", path);
                return EXIT_ERROR;
        }

        state = json_tokener_parse(data);
        if (!json_object_object_get_ex(state, "policy", &policy) ||
            !json_object_object_get_ex(state, "decisions", &decisions) ||
            !json_object_is_type(decisions, json_type_array)) {
                log_error("'%s' is not a devgate state file.", path);
                json_object_put(state);
                return EXIT_ERROR;
        }

        if (json)
                printf("%s\n",
                       json_object_to_json_string_ext(
                               state, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                for (size_t i = 0; i < json_object_array_length(decisions); i++) {
                        json_object *record = json_object_array_get_idx(decisions, i);
                        if (streq(get(record, "action"), "allow"))
                                allowed++;
                        else
                                denied++;
                        if (streq(get(record, "outcome"), "failed"))
                                failed++;
                }
                printf("Policy:  %s version %s\n"
                       "SHA-256: %s\n"
                       "File:    %s\n"
                       "Kernel:  %s\n"
                       "Devices: %u allowed, %u denied, %u failed\n\n",
                       get(policy, "name"), get(policy, "version"), get(policy, "sha256"),
                       get(policy, "path"), get(state, "kernel"), allowed, denied, failed);
                records_print_table(stdout, decisions);
        }
        json_object_put(state);
        return EXIT_OK;
}
