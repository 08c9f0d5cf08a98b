/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Every access below is resolved relative to a directory fd, never re-resolved from a path,
 * and refuses symlinks in the last component: sysfs content is host-controlled, and a
 * directory swapped between two accesses must not redirect a write. */

/* Opens a device (or bus) directory; refuses a symlink as the last component. */
int sysfs_open_dir(const char *path);
int sysfs_open_dir_at(int dfd, const char *name);

/* Reads a regular file of at most size-1 bytes into buf, NUL-terminated; returns its length.
 * -EFBIG if it is larger, -ELOOP for a symlink, -EBADFD if it is not a regular file. */
ssize_t sysfs_read_at(int dfd, const char *name, char *buf, size_t size);

/* Replaces the value of an attribute such as "authorized" or "driver_override". */
int sysfs_write_at(int dfd, const char *name, const char *value);

/* Sends one command to a command file such as "drivers_probe" or "unbind". Opened with
 * O_APPEND: sysfs ignores the offset, and in a fake tree the file keeps every command. */
int sysfs_command_at(int dfd, const char *name, const char *value);

/* Reads the name of the driver bound to the device (the last component of its "driver"
 * link); -ENOENT when none is bound. */
int sysfs_read_driver_at(int dfd, char *buf, size_t size);
