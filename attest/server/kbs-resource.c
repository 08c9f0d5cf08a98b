// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "kbs-resource.h"
#include "macro.h"

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
}

int kbs_resource_name_parse(const char *path, KbsResourceName *ret, char *reason,
                            size_t reason_size) {
        char *parts[3] = { ret->repository, ret->type, ret->tag };
        size_t n = 0, len = 0;

        if (strchr(path, '%')) {
                snprintf(reason, reason_size, "percent-encoding is not accepted in resource paths");
                return -EINVAL;
        }
        for (const char *p = path;; p++) {
                if (*p == '/' || *p == '\0') {
                        if (len == 0) {
                                snprintf(reason, reason_size,
                                         "resource path has an empty part: expected "
                                         "REPOSITORY/TYPE/TAG");
                                return -EINVAL;
                        }
                        parts[n][len] = '\0';
                        if (streq(parts[n], ".") || streq(parts[n], "..")) {
                                snprintf(reason, reason_size,
                                         "\".\" and \"..\" are not resource names");
                                return -EINVAL;
                        }
                        n++;
                        len = 0;
                        if (*p == '\0')
                                break;
                        if (n == 3) {
                                snprintf(reason, reason_size,
                                         "resource path has more than three parts: expected "
                                         "REPOSITORY/TYPE/TAG");
                                return -EINVAL;
                        }
                        continue;
                }
                if (!name_char(*p)) {
                        snprintf(reason, reason_size,
                                 "resource names are letters, digits, '.', '_' and '-' "
                                 "(character 0x%02x)",
                                 (unsigned char) *p);
                        return -EINVAL;
                }
                if (len >= KBS_RESOURCE_PART_MAX) {
                        snprintf(reason, reason_size, "resource name longer than %u characters",
                                 KBS_RESOURCE_PART_MAX);
                        return -EINVAL;
                }
                parts[n][len++] = *p;
        }
        if (n != 3) {
                snprintf(reason, reason_size,
                         "resource path has %zu parts: expected REPOSITORY/TYPE/TAG", n);
                return -EINVAL;
        }
        return 0;
}

static int open_below(int dir_fd, const char *name, int flags) {
        int fd;
        do
                fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
                return errno == ENOTDIR ? -ENOENT : negative_errno();
        return fd;
}

int kbs_resource_read(int dir_fd, const KbsResourceName *name, size_t max_size, uint8_t **ret,
                      size_t *ret_size) {
        _cleanup_close_ int repo_fd = -EBADF, type_fd = -EBADF, fd = -EBADF;
        struct stat st;

        /* O_DIRECTORY|O_NOFOLLOW on the directories: a symlinked directory gives ELOOP... or
         * ENOTDIR, which is "not there" for the client either way. */
        repo_fd = open_below(dir_fd, name->repository, O_RDONLY | O_DIRECTORY);
        if (repo_fd < 0)
                return repo_fd;
        type_fd = open_below(repo_fd, name->type, O_RDONLY | O_DIRECTORY);
        if (type_fd < 0)
                return type_fd;
        /* O_NONBLOCK: a FIFO planted in the tree must not hang the request. */
        fd = open_below(type_fd, name->tag, O_RDONLY | O_NONBLOCK);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_full_fd(fd, max_size, (char **) ret, ret_size);
}
