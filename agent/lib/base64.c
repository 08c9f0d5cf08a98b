// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base64.h"

static int sextet(char c);

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int url_sextet(char c) {
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        if (c == '+' || c == '/')
                return -1;
        return sextet(c);
}

static int sextet(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_size) {
        size_t padding = 0, size;
        uint8_t *out, *p;

        if (len % 4 != 0)
                return -EBADMSG;
        if (len > 0 && text[len - 1] == '=')
                padding = len > 1 && text[len - 2] == '=' ? 2 : 1;
        size = len / 4 * 3 - padding;

        /* The size is known exactly before anything is allocated. */
        out = malloc(size + 1);
        if (!out)
                return -ENOMEM;
        p = out;

        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int a = sextet(text[i]), b = sextet(text[i + 1]);
                int c = last && padding == 2 ? 0 : sextet(text[i + 2]);
                int d = last && padding >= 1 ? 0 : sextet(text[i + 3]);

                if (a < 0 || b < 0 || c < 0 || d < 0)
                        goto bad;
                uint32_t v =
                        (uint32_t) a << 18 | (uint32_t) b << 12 | (uint32_t) c << 6 | (uint32_t) d;
                *p++ = (uint8_t) (v >> 16);
                if (last && padding == 2) {
                        if (v & 0xffff) /* bits the padding says are not there */
                                goto bad;
                        break;
                }
                *p++ = (uint8_t) (v >> 8);
                if (last && padding == 1) {
                        if (v & 0xff)
                                goto bad;
                        break;
                }
                *p++ = (uint8_t) v;
        }

        *p = 0;
        *ret = out;
        *ret_size = size;
        return 0;
bad:
        free(out);
        return -EBADMSG;
}

/* Both alphabets encode alike; base64url leaves out the padding. */
static int encode(const uint8_t *data, size_t size, const char *table, bool pad, char **ret) {
        char *out, *p;

        if (size > (SIZE_MAX - 1) / 4 * 3)
                return -E2BIG;
        out = malloc((size + 2) / 3 * 4 + 1);
        if (!out)
                return -ENOMEM;
        p = out;
        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) data[i] << 16;
                if (i + 1 < size)
                        v |= (uint32_t) data[i + 1] << 8;
                if (i + 2 < size)
                        v |= data[i + 2];
                *p++ = table[v >> 18];
                *p++ = table[(v >> 12) & 63];
                if (i + 1 < size)
                        *p++ = table[(v >> 6) & 63];
                else if (pad)
                        *p++ = '=';
                if (i + 2 < size)
                        *p++ = table[v & 63];
                else if (pad)
                        *p++ = '=';
        }
        *p = '\0';
        *ret = out;
        return 0;
}

int base64_encode(const uint8_t *data, size_t size, char **ret) {
        return encode(data, size, alphabet, true, ret);
}

int base64url_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_size) {
        size_t size, full = len / 4 * 4;
        uint8_t *out, *p;

        /* One leftover character carries 6 bits: never a whole byte. */
        if (len % 4 == 1)
                return -EBADMSG;
        size = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
        out = malloc(size + 1);
        if (!out)
                return -ENOMEM;
        p = out;

        for (size_t i = 0; i < len; i += 4) {
                size_t n = i < full ? 4 : len - i;
                uint32_t v = 0;
                for (size_t k = 0; k < 4; k++) {
                        int s = k < n ? url_sextet(text[i + k]) : 0;
                        if (s < 0)
                                goto bad;
                        v = v << 6 | (uint32_t) s;
                }
                *p++ = (uint8_t) (v >> 16);
                if (n == 2) {
                        if (v & 0xffff) /* bits past the last byte */
                                goto bad;
                        break;
                }
                *p++ = (uint8_t) (v >> 8);
                if (n == 3) {
                        if (v & 0xff)
                                goto bad;
                        break;
                }
                *p++ = (uint8_t) v;
        }
        *p = 0;
        *ret = out;
        *ret_size = size;
        return 0;
bad:
        free(out);
        return -EBADMSG;
}

int base64url_encode(const uint8_t *data, size_t size, char **ret) {
        return encode(data, size, url_alphabet, false, ret);
}
