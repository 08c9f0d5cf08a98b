/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes JSON into a growing buffer, for the state file and "--json": one record per device
 * at boot is cheaper written directly than built as a tree and serialized. Errors (only
 * out-of-memory) are sticky and reported by json_writer_finish(). */
typedef struct JsonWriter {
        char *buf;
        size_t len, allocated;
        bool comma; /* a value was written at this level: the next one needs a comma */
        bool failed;
} JsonWriter;

void json_writer_begin(JsonWriter *w, char bracket); /* '{' or '[' */
void json_writer_end(JsonWriter *w, char bracket);   /* '}' or ']' */
void json_writer_key_n(JsonWriter *w, const char *key, size_t len);
/* Keys are the program's own literals: their length is known when it is compiled. */
#define json_writer_key(w, key) json_writer_key_n((w), "" key, sizeof(key) - 1)
void json_writer_string(JsonWriter *w, const char *s);
void json_writer_int(JsonWriter *w, int64_t v);
void json_writer_newline(JsonWriter *w);

/* A key with a string value, skipped when the value is NULL or empty. */
#define json_writer_field(w, key, value)                                                           \
        do {                                                                                       \
                const char *_v_ = (value);                                                         \
                if (_v_ && *_v_) {                                                                 \
                        json_writer_key((w), key);                                                 \
                        json_writer_string((w), _v_);                                              \
                }                                                                                  \
        } while (0)

/* Hands over the NUL-terminated text, or returns -ENOMEM; frees it on failure. */
int json_writer_finish(JsonWriter *w, char **ret, size_t *ret_len);
