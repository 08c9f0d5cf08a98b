// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "state.h"

static int state_path(const char *name, char **ret) {
        if (asprintf(ret, "%s/%s", state_dir(), name) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        return 0;
}

static int state_dir_create(void) {
        int r = mkdir_parents(state_dir(), 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory '%s': %m", state_dir());
        return 0;
}

int state_lock(void) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (state_dir_create() < 0 || state_path("lock", &path) < 0)
                return -EIO;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(negative_errno(), "Failed to open '%s': %m", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return log_error_errno(negative_errno(), "Failed to lock '%s': %m", path);
        return TAKE_FD(fd);
}

static int state_write(const char *name, const char *data, size_t size, int mode) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (state_dir_create() < 0 || state_path(name, &path) < 0)
                return -EIO;
        r = write_file_atomic(path, data, size, mode);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);
        return 0;
}

int state_save_policy(const Policy *policy) {
        /* Readable by root only: a site's policy says which devices its guests trust. */
        return state_write("policy.json", policy->json, policy->json_size, 0600);
}

int state_load_policy(Policy **ret) {
        _cleanup_free_ char *path = NULL;

        if (state_path("policy.json", &path) < 0)
                return -ENOMEM;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return -ENOENT;
        return policy_load(path, ret);
}

int state_save_decisions(const char *text, size_t size) {
        return state_write("state.json", text, size, 0644);
}
