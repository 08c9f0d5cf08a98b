/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "device.h"

/* Exit codes, documented in devgate(8). */
enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1,      /* could not run: unreadable file, no sysfs, out of memory */
        EXIT_USAGE = 2,      /* bad command line */
        EXIT_REJECTED = 3,   /* the policy is invalid or does not apply to this kernel */
        EXIT_INCOMPLETE = 4, /* some decisions could not be enforced */
};

#define DEVGATE_STATE_DIR_DEFAULT "/run/devgate"

/* The state directory: --state-dir, $DEVGATE_STATE_DIR, or /run/devgate. */
const char *state_dir(void);
void set_state_dir(const char *dir);

/* The running kernel's release, for policies scoped to kernel versions. */
const char *kernel_release(void);

/* Enumerates every bus into lists[_BUS_MAX]; logs what failed. */
int enumerate_all(DeviceList lists[]);

/* Prints a command's --help text. Exits with EXIT_USAGE on an unknown option. */
int usage_error(const char *command);

int cmd_apply(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_explain(int argc, char *argv[]);
int cmd_generate(int argc, char *argv[]);
int cmd_policy(int argc, char *argv[]);
