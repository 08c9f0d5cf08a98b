/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Reads a whole regular file of at most max_size bytes; -EFBIG if larger. The buffer is
 * NUL-terminated past *ret_size for convenience; the content may contain NUL bytes. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* The same for a file already open, from its current offset. */
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);

/* Writes all of data to fd, across short writes and EINTR. */
int write_full(int fd, const void *data, size_t size);

/* Replaces a file atomically: written to a temporary file beside it, then renamed. */
int write_file_atomic(const char *path, const char *data, size_t size, int mode);

/* Creates a directory and its parents. */
int mkdir_parents(const char *path, int mode);
