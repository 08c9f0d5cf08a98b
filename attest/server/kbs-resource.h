/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The resources devgate-kbs serves: files RESOURCES/<repository>/<type>/<tag>, typically
 * signed policy envelopes, read through a directory fd opened at startup. */

#define KBS_RESOURCE_PART_MAX 128

typedef struct KbsResourceName {
        char repository[KBS_RESOURCE_PART_MAX + 1];
        char type[KBS_RESOURCE_PART_MAX + 1];
        char tag[KBS_RESOURCE_PART_MAX + 1];
} KbsResourceName;

/* Parses what follows "/kbs/v0/resource/" in the request path, exactly as it came on the wire
 * (the server does not percent-decode paths). Three parts of letters, digits, '.', '_' and
 * '-', none empty, "." or "..": nothing that could climb out of the directory, name another
 * file through an encoding, or be absolute. Anything else is -EINVAL with a reason; '%' is
 * refused outright, rather than decoded, so that "%2e%2e" never becomes "..". */
int kbs_resource_name_parse(const char *path, KbsResourceName *ret, char *reason,
                            size_t reason_size);

/* Reads the resource below the directory dir_fd without following symlinks anywhere on the
 * way (O_NOFOLLOW at each step): -ENOENT missing (or a directory part missing), -ELOOP a
 * symlink, -EISDIR / -EBADFD not a regular file, -EFBIG larger than max_size, other read
 * errors as they are. */
int kbs_resource_read(int dir_fd, const KbsResourceName *name, size_t max_size, uint8_t **ret,
                      size_t *ret_size);
