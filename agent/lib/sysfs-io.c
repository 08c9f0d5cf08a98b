// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sysfs-io.h"

int sysfs_open_dir(const char *path) {
        return sysfs_open_dir_at(AT_FDCWD, path);
}

int sysfs_open_dir_at(int dfd, const char *name) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

ssize_t sysfs_read_at(int dfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t total;
        ssize_t n;

        if (size == 0)
                return -EINVAL;

        /* O_NONBLOCK: a FIFO planted where an attribute should be must not hang the boot. */
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        /* sysfs hands out an attribute in one read, and a regular file reads short only at
         * its end: a second read is needed only to tell a full buffer from a longer file. */
        do
                n = read(fd, buf, size - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        total = (size_t) n;
        if (total == size - 1) {
                char probe;
                do
                        n = read(fd, &probe, 1);
                while (n < 0 && errno == EINTR);
                if (n != 0)
                        return n < 0 ? negative_errno() : -EFBIG;
        }
        buf[total] = '\0';
        return (ssize_t) total;
}

static int write_all_at(int dfd, const char *name, const char *value, int extra_flags) {
        _cleanup_close_ int fd = -EBADF;
        char line[256];
        ssize_t n;

        /* Newline-terminated, as "echo" writes it: every store the kernel has for these
         * attributes strips it, and a fake tree's command files stay one command a line. */
        size_t len = strlen(value);
        if (len + 1 >= sizeof line)
                return -EINVAL;
        memcpy(line, value, len);
        line[len++] = '\n';

        fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | extra_flags);
        if (fd < 0)
                return negative_errno();

        /* A sysfs store takes one write; a short write would be a different value. */
        do
                n = write(fd, line, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int sysfs_write_at(int dfd, const char *name, const char *value) {
        return write_all_at(dfd, name, value, O_TRUNC);
}

int sysfs_command_at(int dfd, const char *name, const char *value) {
        return write_all_at(dfd, name, value, O_APPEND);
}

int sysfs_read_driver_at(int dfd, char *buf, size_t size) {
        char target[4096];
        ssize_t n = readlinkat(dfd, "driver", target, sizeof target - 1);
        if (n < 0)
                return negative_errno();
        target[n] = '\0';

        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (*base == '\0' || strlen(base) >= size)
                return -EINVAL;
        strcpy(buf, base);
        return 0;
}
