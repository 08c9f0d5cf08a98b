/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* Parses a JSON document the strict way every signed or host-supplied input is read:
 * the whole buffer must be one value of valid UTF-8 (trailing blanks allowed), nesting is
 * bounded, and
 * an object that names a key twice is an error: json-c would keep the last value, and a
 * verifier and a second reader that keep different ones disagree about what was signed.
 * On failure returns -EBADMSG and a reason ("duplicate key", "not valid JSON at byte 12:
 * unexpected character"). A bare number is never complete to json-c: devgate reads
 * objects. */
int json_parse_strict(const char *data, size_t size, int max_depth, json_object **ret, char *reason,
                      size_t reason_size);

/* The first member of object o whose name is not in allowed (NULL-terminated), or NULL if
 * there is none: a member a reader would ignore is one a writer may believe was checked. */
const char *json_unknown_member(json_object *o, const char *const *allowed);

/* For _cleanup_(json_object_putp): drops the reference a parse or constructor returned. */
static inline void json_object_putp(json_object **o) {
        json_object_put(*o);
}
