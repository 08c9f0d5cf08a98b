// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "macro.h"

/* 2^53 - 1: up to it, every integer has a double of exactly its value. */
#define MAX_SAFE_INTEGER INT64_C(9007199254740991)

typedef struct Buffer {
        char *data;
        size_t len, allocated;
} Buffer;

static int put(Buffer *b, const char *s, size_t len) {
        if (b->len + len + 1 > b->allocated) {
                size_t want = b->allocated ? b->allocated : 256;
                while (want < b->len + len + 1)
                        want *= 2;
                char *grown = realloc(b->data, want);
                if (!grown)
                        return -ENOMEM;
                b->data = grown;
                b->allocated = want;
        }
        memcpy(b->data + b->len, s, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

/* Decodes the code point at s[*i], strictly: no overlong forms, no surrogates (they have
 * no place in UTF-8, and RFC 8785 refuses lone ones), nothing above U+10FFFF. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *ret) {
        unsigned char c = s[*i];
        uint32_t cp, min;
        size_t n;

        if (c < 0x80) {
                *ret = c;
                (*i)++;
                return 0;
        }
        if (c >= 0xc2 && c <= 0xdf)
                n = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
                n = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 3, cp = c & 0x07, min = 0x10000;
        else
                return -EINVAL;
        if (len - *i <= n)
                return -EINVAL;
        for (size_t k = 1; k <= n; k++) {
                if ((s[*i + k] & 0xc0) != 0x80)
                        return -EINVAL;
                cp = cp << 6 | (s[*i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return -EINVAL;
        *ret = cp;
        *i += n + 1;
        return 0;
}

static int validate_utf8(const char *s, size_t len) {
        uint32_t cp;
        for (size_t i = 0; i < len;) {
                int r = utf8_next((const unsigned char *) s, len, &i, &cp);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int put_string(Buffer *b, const char *s, size_t len) {
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;
        int r;

        r = validate_utf8(s, len);
        if (r < 0)
                return r;

        r = put(b, "\"", 1);
        for (size_t i = 0; r >= 0 && i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[6] = { '\\' };
                size_t esc_len = 2;

                /* RFC 8785 section 3.2.2.2: the two-character escapes where JSON has them,
                 * \u00xx in lowercase for the other controls, everything else as it is (no
                 * escaped "/", no escaped non-ASCII: json-c would add the first, Python's
                 * default json.dumps the second). */
                switch (c) {
                case '"':
                case '\\':
                        esc[1] = (char) c;
                        break;
                case '\b':
                        esc[1] = 'b';
                        break;
                case '\f':
                        esc[1] = 'f';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        if (c >= 0x20)
                                continue;
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xf];
                        esc_len = 6;
                }
                r = put(b, s + start, i - start);
                if (r >= 0)
                        r = put(b, esc, esc_len);
                start = i + 1;
        }
        if (r >= 0)
                r = put(b, s + start, len - start);
        if (r >= 0)
                r = put(b, "\"", 1);
        return r;
}

/* The UTF-16 code unit sequence of a code point: a BMP code point is its own unit, one
 * above it a high surrogate (0xd800-0xdbff) and a low one. */
static void utf16_units(uint32_t cp, uint16_t units[2]) {
        if (cp < 0x10000) {
                units[0] = (uint16_t) cp;
                units[1] = 0;
        } else {
                cp -= 0x10000;
                units[0] = (uint16_t) (0xd800 | cp >> 10);
                units[1] = (uint16_t) (0xdc00 | (cp & 0x3ff));
        }
}

/* Orders two valid UTF-8 names by their UTF-16 code units, as RFC 8785 section 3.2.3
 * requires. This is code point order (and so byte order) except that every code point
 * above U+FFFF sorts below U+E000-U+FFFF, its high surrogate being smaller. */
static int compare_utf16(const char *a, const char *b) {
        size_t alen = strlen(a), blen = strlen(b), i = 0, j = 0;

        while (i < alen && j < blen) {
                uint32_t ca, cb;
                uint16_t ua[2], ub[2];

                /* Both names were validated before sorting: decoding cannot fail. */
                (void) utf8_next((const unsigned char *) a, alen, &i, &ca);
                (void) utf8_next((const unsigned char *) b, blen, &j, &cb);
                if (ca == cb)
                        continue;
                utf16_units(ca, ua);
                utf16_units(cb, ub);
                if (ua[0] != ub[0])
                        return ua[0] < ub[0] ? -1 : 1;
                return ua[1] < ub[1] ? -1 : 1;
        }
        return (i < alen) - (j < blen);
}

typedef struct Member {
        const char *name;
        json_object *value;
} Member;

static int compare_members(const void *a, const void *b) {
        return compare_utf16(((const Member *) a)->name, ((const Member *) b)->name);
}

static int put_value(Buffer *b, json_object *o, unsigned depth);

static int put_object(Buffer *b, json_object *o, unsigned depth) {
        _cleanup_free_ Member *members = NULL;
        size_t n = 0, count = (size_t) json_object_object_length(o);
        int r;

        if (count > 0) {
                members = calloc(count, sizeof *members);
                if (!members)
                        return -ENOMEM;
        }
        json_object_object_foreach (o, name, value) {
                if (n == count)
                        return -EINVAL;
                r = validate_utf8(name, strlen(name));
                if (r < 0)
                        return r;
                members[n++] = (Member){ name, value };
        }
        if (n != count)
                return -EINVAL;
        if (n > 1)
                qsort(members, n, sizeof *members, compare_members);

        r = put(b, "{", 1);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                /* json-c keeps one value per name, unless a caller added a member with
                 * JSON_C_OBJECT_ADD_KEY_IS_NEW: which of the two was meant is unknowable. */
                if (i > 0 && compare_utf16(members[i - 1].name, members[i].name) == 0)
                        return -EINVAL;
                if (i > 0)
                        r = put(b, ",", 1);
                if (r >= 0)
                        r = put_string(b, members[i].name, strlen(members[i].name));
                if (r >= 0)
                        r = put(b, ":", 1);
                if (r >= 0)
                        r = put_value(b, members[i].value, depth + 1);
        }
        if (r >= 0)
                r = put(b, "}", 1);
        return r;
}

static int put_integer(Buffer *b, int64_t v) {
        char text[24];
        int n;

        if (v < -MAX_SAFE_INTEGER || v > MAX_SAFE_INTEGER)
                return -ERANGE;
        n = snprintf(text, sizeof text, "%" PRId64, v);
        return put(b, text, (size_t) n);
}

static int put_value(Buffer *b, json_object *o, unsigned depth) {
        int r = 0;

        switch (json_object_get_type(o)) {
        case json_type_null:
                return put(b, "null", 4);
        case json_type_boolean:
                return json_object_get_boolean(o) ? put(b, "true", 4) : put(b, "false", 5);
        case json_type_int:
                /* A value above INT64_MAX (json-c keeps those as uint64) reads as INT64_MAX
                 * here: out of range either way. */
                return put_integer(b, json_object_get_int64(o));
        case json_type_double: {
                double d = json_object_get_double(o);
                if (!isfinite(d))
                        return -EINVAL;
                /* Every double beyond 2^53 is an integer: checking the range first leaves
                 * only values the cast below converts exactly. */
                if (d < (double) -MAX_SAFE_INTEGER || d > (double) MAX_SAFE_INTEGER)
                        return -ERANGE;
                if ((double) (int64_t) d != d)
                        return -EINVAL;
                /* -0.0 becomes 0, as ECMAScript prints it. */
                return put_integer(b, (int64_t) d);
        }
        case json_type_string:
                return put_string(b, json_object_get_string(o),
                                  (size_t) json_object_get_string_len(o));
        case json_type_array: {
                size_t n = json_object_array_length(o);
                if (depth >= JCS_MAX_DEPTH)
                        return -EINVAL;
                r = put(b, "[", 1);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        if (i > 0)
                                r = put(b, ",", 1);
                        if (r >= 0)
                                r = put_value(b, json_object_array_get_idx(o, i), depth + 1);
                }
                if (r >= 0)
                        r = put(b, "]", 1);
                return r;
        }
        case json_type_object:
                if (depth >= JCS_MAX_DEPTH)
                        return -EINVAL;
                return put_object(b, o, depth);
        }
        return -EINVAL;
}

int jcs_serialize(json_object *o, char **ret, size_t *ret_len) {
        Buffer b = {};
        int r;

        r = put_value(&b, o, 0);
        if (r < 0) {
                free(b.data);
                return r;
        }
        *ret = b.data;
        if (ret_len)
                *ret_len = b.len;
        return 0;
}
