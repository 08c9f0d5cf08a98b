/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648 section 4) with padding, nothing else: no whitespace, no
 * URL-safe alphabet, no missing or extra padding, no non-zero bits in the last
 * character. One spelling per byte string, so that what was signed is what is read. */
int base64_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_size);
int base64_encode(const uint8_t *data, size_t size, char **ret);

/* base64url (RFC 4648 section 5) without padding, as JOSE uses it (RFC 7515 section 2), just
 * as strictly: no padding, no standard alphabet, no whitespace, no stray low bits. */
int base64url_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_size);
int base64url_encode(const uint8_t *data, size_t size, char **ret);
