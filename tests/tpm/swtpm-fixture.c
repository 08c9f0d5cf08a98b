// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "swtpm-fixture.h"

static void die_with_parent(gpointer user_data) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static bool socket_accepts(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        g_assert_cmpuint(strlen(path), <, sizeof sa.sun_path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        r = connect(fd, (struct sockaddr *) &sa, sizeof sa);
        close(fd);
        return r == 0;
}

/* Starts swtpm on the state in t->dir: a new TPM the first time, the same TPM after a reboot
 * (swtpm_reboot()); "startup-clear" is a TPM2_Startup(CLEAR), as firmware does at boot. */
static void swtpm_launch(Swtpm *t) {
        g_autoptr(GError) error = NULL;
        g_autofree char *state = NULL, *server = NULL, *ctrl = NULL, *log = NULL;
        int status, log_fd;

        state = g_strdup_printf("dir=%s", t->dir);
        server = g_strdup_printf("type=unixio,path=%s", t->sock);
        ctrl = g_strdup_printf("type=unixio,path=%s.ctrl", t->sock);
        const char *argv[] = {
                "swtpm",
                "socket",
                "--tpm2",
                "--tpmstate",
                state,
                "--server",
                server,
                "--ctrl",
                ctrl,
                "--flags",
                "not-need-init,startup-clear",
                NULL,
        };
        /* swtpm reports every connection on stderr, and the swtpm TCTI connects anew for
         * each command: to a log file, left behind in the directory when a test fails. */
        log = g_build_filename(t->dir, "swtpm.log", NULL);
        log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        g_assert_cmpint(log_fd, >=, 0);
        g_spawn_async_with_fds(NULL, (char **) argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
                               NULL, &t->pid, -1, log_fd, log_fd, &error);
        g_assert_no_error(error);
        close(log_fd);

        /* Up to 10 s: swtpm creates its state and runs TPM2_Startup before it listens. */
        for (int i = 0; !socket_accepts(t->sock); i++) {
                g_assert_cmpint(waitpid(t->pid, &status, WNOHANG), ==, 0);
                g_assert_cmpint(i, <, 1000);
                g_usleep(10 * 1000);
        }
}

static void swtpm_kill(Swtpm *t) {
        g_assert_cmpint(kill(t->pid, SIGTERM), ==, 0);
        g_assert_cmpint(waitpid(t->pid, NULL, 0), ==, t->pid);
        g_spawn_close_pid(t->pid);
}

void swtpm_start(Swtpm *t, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        t->dir = g_dir_make_tmp("devgate-swtpm-XXXXXX", &error);
        g_assert_no_error(error);
        t->sock = g_build_filename(t->dir, "sock", NULL);
        t->tcti = g_strdup_printf("swtpm:path=%s", t->sock);
        swtpm_launch(t);
}

void swtpm_reboot(Swtpm *t) {
        swtpm_kill(t);
        swtpm_launch(t);
}

int tpm2_tool(Swtpm *t, char **ret_stdout, const char *tool, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) env = g_get_environ();
        g_autofree char *out = NULL, *err = NULL;
        const char *arg;
        int status;
        va_list ap;

        g_ptr_array_add(argv, (char *) tool);
        va_start(ap, tool);
        while ((arg = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) arg);
        va_end(ap);
        g_ptr_array_add(argv, NULL);

        env = g_environ_setenv(env, "TPM2TOOLS_TCTI", t->tcti, TRUE);
        env = g_environ_setenv(env, "TSS2_LOG", "all+none", TRUE);
        g_spawn_sync(t->dir, (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                     &err, &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_test_message("%s: %s", tool, err);
        if (ret_stdout)
                *ret_stdout = g_steal_pointer(&out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void swtpm_stop(Swtpm *t, gconstpointer data) {
        static const char *const handle_kinds[] = {
                "handles-transient",
                "handles-loaded-session",
                "handles-saved-session",
        };

        /* Nothing may stay behind in the TPM. */
        for (size_t i = 0; i < G_N_ELEMENTS(handle_kinds); i++) {
                g_autofree char *out = NULL;
                g_assert_cmpint(tpm2_tool(t, &out, "tpm2_getcap", handle_kinds[i], NULL), ==, 0);
                g_strstrip(out);
                g_assert_cmpstr(out, ==, "");
        }

        swtpm_kill(t);
        g_autoptr(GDir) dir = g_dir_open(t->dir, 0, NULL);
        for (const char *name; dir && (name = g_dir_read_name(dir));) {
                g_autofree char *path = g_build_filename(t->dir, name, NULL);
                g_assert_cmpint(g_unlink(path), ==, 0);
        }
        g_assert_cmpint(g_rmdir(t->dir), ==, 0);
        g_free(t->dir);
        g_free(t->sock);
        g_free(t->tcti);
}
