// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-writer.h"

/* Makes room for `len` more bytes and the terminating NUL; false once out of memory. */
static bool reserve(JsonWriter *w, size_t len) {
        if (w->failed)
                return false;
        if (w->len + len + 1 <= w->allocated)
                return true;

        size_t want = w->allocated ? w->allocated : 4096;
        while (want < w->len + len + 1)
                want *= 2;
        char *grown = realloc(w->buf, want);
        if (!grown) {
                w->failed = true;
                return false;
        }
        w->buf = grown;
        w->allocated = want;
        return true;
}

static void put(JsonWriter *w, const char *s, size_t len) {
        if (!reserve(w, len))
                return;
        memcpy(w->buf + w->len, s, len);
        w->len += len;
        w->buf[w->len] = '\0';
}

static void separate(JsonWriter *w) {
        if (w->comma)
                put(w, ",", 1);
}

void json_writer_begin(JsonWriter *w, char bracket) {
        separate(w);
        put(w, &bracket, 1);
        w->comma = false;
}

void json_writer_end(JsonWriter *w, char bracket) {
        put(w, &bracket, 1);
        w->comma = true;
}

void json_writer_key_n(JsonWriter *w, const char *key, size_t len) {
        /* Keys are the program's own identifiers: nothing to escape. */
        char *p;

        if (!reserve(w, len + 4))
                return;
        p = w->buf + w->len;
        if (w->comma)
                *p++ = ',';
        *p++ = '"';
        memcpy(p, key, len);
        p += len;
        *p++ = '"';
        *p++ = ':';
        *p = '\0';
        w->len = (size_t) (p - w->buf);
        w->comma = false;
}

/* Whether any of the 8 bytes in v is a quote, a backslash or a control character: the
 * classic "has zero byte" test applied to v ^ '"', v ^ '\\' and to v - 0x20. */
static bool word_needs_escape(uint64_t v) {
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');

        return (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
                ((v - ones * 0x20) & ~v)) &
               highs;
}

void json_writer_string(JsonWriter *w, const char *s) {
        static const char hex[] = "0123456789abcdef";
        size_t len = strlen(s), i = 0;
        char *p;

        /* Room for the worst case, every byte escaped as \u00XX, a comma and the quotes:
         * the loops below then write without checking. */
        if (!reserve(w, 6 * len + 3))
                return;
        p = w->buf + w->len;
        if (w->comma)
                *p++ = ',';
        *p++ = '"';

        while (i < len) {
                /* Plain text, the common case, is checked and copied a word at a time. */
                uint64_t word;
                if (len - i >= sizeof word) {
                        memcpy(&word, s + i, sizeof word);
                        if (!word_needs_escape(word)) {
                                memcpy(p, &word, sizeof word);
                                p += sizeof word;
                                i += sizeof word;
                                continue;
                        }
                }

                unsigned char c = (unsigned char) s[i++];
                if (c >= 0x20 && c != '"' && c != '\\')
                        *p++ = (char) c;
                else if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char) c;
                } else {
                        memcpy(p, "\\u00", 4);
                        p[4] = hex[c >> 4];
                        p[5] = hex[c & 0xf];
                        p += 6;
                }
        }
        *p++ = '"';
        *p = '\0';
        w->len = (size_t) (p - w->buf);
        w->comma = true;
}

void json_writer_int(JsonWriter *w, int64_t v) {
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%" PRId64, v);
        separate(w);
        put(w, buf, (size_t) n);
        w->comma = true;
}

void json_writer_newline(JsonWriter *w) {
        put(w, "\n", 1);
}

int json_writer_finish(JsonWriter *w, char **ret, size_t *ret_len) {
        put(w, "", 0);
        if (w->failed) {
                free(w->buf);
                *w = (JsonWriter){};
                return -ENOMEM;
        }
        *ret = w->buf;
        *ret_len = w->len;
        *w = (JsonWriter){};
        return 0;
}
