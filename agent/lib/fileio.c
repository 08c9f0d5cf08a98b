// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return read_full_fd(fd, max_size, ret, ret_size);
}

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uintmax_t) st.st_size > max_size)
                return -EFBIG;

        /* Grow as data arrives rather than trusting st_size: pipes report 0. */
        allocated = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
        buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                if (size + 1 >= allocated) {
                        if (allocated > max_size + 1)
                                return -EFBIG;
                        size_t grow = allocated * 2 > max_size + 2 ? max_size + 2 : allocated * 2;
                        char *p = realloc(buf, grow);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = grow;
                }
                ssize_t n = read(fd, buf + size, allocated - 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
        }

        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int write_full(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t size, int mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r = 0;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();

        r = write_full(fd, data, size);
        if (r == 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r == 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int mkdir_parents(const char *path, int mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, (mode_t) mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, (mode_t) mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}
