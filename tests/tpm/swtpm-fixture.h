/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* A fresh swtpm per test, for g_test_add(): started in its own temporary directory on a Unix
 * socket (no port to race for), killed with the test process if that dies (PR_SET_PDEATHSIG),
 * and at the end checked with tpm2-tools to hold no transient object or session. */
typedef struct Swtpm {
        char *dir;
        char *sock;
        char *tcti; /* "swtpm:path=..." for tpm2-tss */
        GPid pid;
} Swtpm;

void swtpm_start(Swtpm *t, gconstpointer data);
void swtpm_stop(Swtpm *t, gconstpointer data);

/* Stops and restarts swtpm on the same state, as a reboot: TPM2_Startup(CLEAR) again. */
void swtpm_reboot(Swtpm *t);

/* Runs a tpm2-tools command, in the fixture's directory, against its TPM; returns the exit
 * status and, if asked, what it printed. */
int tpm2_tool(Swtpm *t, char **ret_stdout, const char *tool, ...) G_GNUC_NULL_TERMINATED;

#define assert_tool(t, ...) g_assert_cmpint(tpm2_tool((t), NULL, __VA_ARGS__, NULL), ==, 0)

/* Whether swtpm is installed: the tests skip only when it is not. */
static inline bool swtpm_available(void) {
        g_autofree char *swtpm = g_find_program_in_path("swtpm");
        return swtpm != NULL;
}
