// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate-kbs-admin: the operator's tool for devgate-kbs. A program of its own rather than a
 * mode of the server: it writes the files the server only reads, runs as the operator (the
 * server runs as a service user that should not be able to write them), and links the
 * envelope verification of the guest, which the server has no use for. */
#include <stdio.h>
#include <string.h>

#include "kbs-admin.h"
#include "log.h"
#include "macro.h"

static void help(void) {
        printf("Usage: devgate-kbs-admin COMMAND [OPTIONS] ...\n"
               "\n"
               "The operator's side of devgate-kbs: registers what the server trusts and\n"
               "publishes what it serves, each checked first the way the server or the guests\n"
               "will check it, then installed atomically.\n"
               "\n"
               "Commands:\n"
               "  enrol-ak FILE|-                   Register a guest's TPM attestation key\n"
               "                                    (the PEM of 'devgate attest --print-ak')\n"
               "  reference record --set NAME --from FILE\n"
               "                                    Record a known-good guest's PCR values,\n"
               "                                    from its verified evidence\n"
               "                                    ('devgate attest --print-evidence')\n"
               "  publish --resource PATH --keys DIR FILE\n"
               "                                    Publish a signed policy as a resource\n"
               "\n"
               "  -h --help                         Show this help ('COMMAND --help' for one)\n"
               "     --version                      Show the version\n"
               "\n"
               "Each command reads where the server's files are from devgate-kbs's\n"
               "configuration (--config FILE, default " ADMIN_CONFIG_DEFAULT ").\n"
               "\n"
               "Exit status: 0 done, 1 failed, 2 usage, 3 the input is refused, 4 it conflicts\n"
               "with what is installed. See devgate-kbs-admin(8).\n");
}

int main(int argc, char *argv[]) {
        log_set_prefix("devgate-kbs-admin");
        log_setup(LOG_TARGET_STDERR, LOG_INFO);

        if (argc < 2) {
                fprintf(stderr, "devgate-kbs-admin: a command is needed.\n"
                                "Try 'devgate-kbs-admin --help' for more information.\n");
                return ADMIN_EXIT_USAGE;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                help();
                return ADMIN_EXIT_OK;
        }
        if (streq(argv[1], "--version")) {
                printf("devgate-kbs-admin " DEVGATE_VERSION "\n");
                return ADMIN_EXIT_OK;
        }
        if (streq(argv[1], "enrol-ak"))
                return admin_enrol_ak(argc - 1, argv + 1);
        if (streq(argv[1], "reference"))
                return admin_reference(argc - 1, argv + 1);
        if (streq(argv[1], "publish"))
                return admin_publish(argc - 1, argv + 1);

        fprintf(stderr,
                "devgate-kbs-admin: unknown command '%s'.\n"
                "Try 'devgate-kbs-admin --help' for more information.\n",
                argv[1]);
        return ADMIN_EXIT_USAGE;
}
