// SPDX-License-Identifier: LGPL-2.1-or-later
/* What the commands of devgate-kbs-admin share: the server's configuration, directories opened
 * once and used through their fd, and atomic installation. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "kbs-admin.h"
#include "kbs-config.h"
#include "kbs-policy.h"
#include "log.h"
#include "macro.h"

static int dup_default(const char *value, const char *fallback, char **ret) {
        *ret = strdup(value ?: fallback);
        return *ret ? 0 : -ENOMEM;
}

int admin_paths_load(const char *config, AdminPaths *ret) {
        const char *path = config;
        char reason[512];
        KbsConfig c;
        int r;

        kbs_config_init(&c);
        if (!path && access(ADMIN_CONFIG_DEFAULT, F_OK) >= 0)
                path = ADMIN_CONFIG_DEFAULT;
        if (path) {
                r = kbs_config_load_file(&c, path, reason, sizeof reason);
                if (r < 0) {
                        log_error("Invalid configuration: %s", reason);
                        kbs_config_done(&c);
                        return ADMIN_EXIT_USAGE;
                }
        }

        *ret = (AdminPaths){ .resource_size_max = c.resource_size_max };
        r = dup_default(c.trusted_aks, ADMIN_TRUSTED_AKS_DEFAULT, &ret->trusted_aks);
        if (r >= 0)
                r = dup_default(c.reference, ADMIN_REFERENCE_DEFAULT, &ret->reference);
        if (r >= 0)
                r = dup_default(c.resources, ADMIN_RESOURCES_DEFAULT, &ret->resources);
        kbs_config_done(&c);
        if (r < 0) {
                admin_paths_done(ret);
                log_error_errno(r, "Out of memory.");
                return ADMIN_EXIT_FAILED;
        }
        return ADMIN_EXIT_OK;
}

void admin_paths_done(AdminPaths *p) {
        free(p->trusted_aks);
        free(p->reference);
        free(p->resources);
        *p = (AdminPaths){};
}

int admin_exit_of(int r) {
        switch (r) {
        case -EINVAL:
        case -EBADMSG:
        case -EFBIG:
        case -EKEYREJECTED:
        case -EMEDIUMTYPE:
        case -ENOKEY:
        case -EBADE:
        case -ETIME:
        case -ESTALE:
                return ADMIN_EXIT_REFUSED;
        case -EEXIST:
                return ADMIN_EXIT_CONFLICT;
        default:
                return ADMIN_EXIT_FAILED;
        }
}

int admin_open_dir(int dir_fd, const char *name, bool create, int *ret_fd) {
        int fd;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int admin_open_dir_path(const char *path, bool create, int *ret_fd) {
        int fd, r;

        /* An operator's path may well pass through symlinks (/etc/devgate -> ...): followed,
         * unlike the names below it that a command creates itself. */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                r = mkdir_parents(path, 0755);
                if (r < 0)
                        return r;
                log_info("Created '%s'.", path);
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int admin_lock_dir(int dir_fd, const char *dir_path) {
        if (flock(dir_fd, LOCK_EX | LOCK_NB) >= 0)
                return 0;
        if (errno != EWOULDBLOCK)
                return log_error_errno(negative_errno(), "Failed to lock '%s': %m", dir_path);
        log_info("Waiting for another devgate-kbs-admin working in '%s'...", dir_path);
        while (flock(dir_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return log_error_errno(negative_errno(), "Failed to lock '%s': %m",
                                               dir_path);
        return 0;
}

/* The file's final name is not chosen until the rename, so the temporary one starts with '.':
 * devgate-kbs ignores hidden "*.pub" files, and a hidden resource name is one no access rule
 * written for the real one matches. */
static int make_temporary(int dir_fd, const char *name, char *ret, size_t size, int *ret_fd) {
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                uint8_t random[8];
                char suffix[2 * sizeof random + 1];
                int fd;

                if (getrandom(random, sizeof random, 0) != sizeof random)
                        return -EIO;
                for (size_t i = 0; i < sizeof random; i++)
                        snprintf(suffix + 2 * i, 3, "%02x", random[i]);
                if ((size_t) snprintf(ret, size, ".%s.%s", name, suffix) >= size)
                        return -ENAMETOOLONG;
                fd = openat(dir_fd, ret, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
                if (fd >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

static int rename_noreplace(int dir_fd, const char *from, const char *to) {
        if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) >= 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return negative_errno();
        /* A file system without RENAME_NOREPLACE: link(2) refuses an existing name as well. */
        if (linkat(dir_fd, from, dir_fd, to, 0) < 0)
                return negative_errno();
        (void) unlinkat(dir_fd, from, 0);
        return 0;
}

int admin_install(int dir_fd, const char *dir_path, const char *name, const void *data, size_t size,
                  mode_t mode, bool replace, AdminCheckFn check, void *userdata) {
        _cleanup_close_ int fd = -EBADF;
        char tmp[512];
        int r;

        r = make_temporary(dir_fd, name, tmp, sizeof tmp, &fd);
        if (r < 0)
                return r;
        /* fchmod: the mode the server's readers need, whatever the operator's umask. */
        r = write_full(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && check) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir_path, tmp) < 0)
                        r = -ENOMEM;
                else
                        r = check(path, userdata);
        }
        if (r >= 0) {
                if (replace)
                        r = renameat(dir_fd, tmp, dir_fd, name) < 0 ? negative_errno() : 0;
                else
                        r = rename_noreplace(dir_fd, tmp, name);
        }
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        /* The rename itself made durable: after a crash the server finds the new file or the
         * old one, never none. */
        if (fsync(dir_fd) < 0)
                log_warning_errno(negative_errno(), "Failed to sync '%s', ignoring: %m", dir_path);
        return 0;
}

int admin_read_input(const char *path, size_t max, char **ret, size_t *ret_size) {
        if (streq(path, "-"))
                return read_full_fd(STDIN_FILENO, max, ret, ret_size);
        return read_full_file(path, max, ret, ret_size);
}

bool admin_name_valid(const char *s, size_t max) {
        /* Not hidden either: the server ignores hidden "*.pub" files. */
        return kbs_policy_name_valid(s, max) && s[0] != '.';
}
