// SPDX-License-Identifier: LGPL-2.1-or-later
/* "devgate halt": how the boot stops when rd.devgate.failure= says so. The initramfs
 * may have no halt or poweroff command of its own (the shell flavour has none), and a
 * guest whose policy could not be verified must not go on, so this asks the kernel
 * directly. */
#include <getopt.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

static void help(void) {
        printf("Usage: devgate halt [--poweroff] REASON\n"
               "\n"
               "Logs REASON to the kernel log and the console, then halts the machine (or\n"
               "powers it off) at once, without stopping services: for an initramfs whose\n"
               "boot must not go on.\n"
               "\n"
               "Options:\n"
               "     --poweroff          Power off instead of halting\n"
               "  -h --help              Show this help\n"
               "\n"
               "Exit status: does not return on success; 1 if the kernel refused, 2 usage.\n");
}

int cmd_halt(int argc, char *argv[]) {
        enum { ARG_POWEROFF = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "poweroff", no_argument, NULL, ARG_POWEROFF },
                {},
        };
        bool poweroff = false;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_POWEROFF:
                        poweroff = true;
                        break;
                default:
                        return usage_error("halt ");
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "devgate halt: give the REASON\n");
                return usage_error("halt ");
        }

        log_internal(LOG_CRIT, 0, "%s: %s.", argv[optind], poweroff ? "powering off" : "halting");
        sync();
        (void) reboot(poweroff ? RB_POWER_OFF : RB_HALT_SYSTEM);
        log_error_errno(negative_errno(), "Failed to %s: %m", poweroff ? "power off" : "halt");
        return EXIT_ERROR;
}
