/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* More levels of nested arrays and objects than this are refused: the serializer recurses. */
#define JCS_MAX_DEPTH 64

/* Serializes a json-c value the way RFC 8785 (JSON Canonicalization Scheme) does, so that
 * two parties that hold the same JSON data hash the same bytes: object members sorted by
 * the UTF-16 code units of their names, no whitespace, strings with only the escapes of
 * RFC 8785 section 3.2.2.2 (\" \\ \b \f \n \r \t, \u00xx for the other controls; all
 * other text as UTF-8), numbers as ECMAScript prints them.
 *
 * Only integral numbers are supported, which is everything the KBS protocol hashes:
 * integers, and doubles with an integral value (1.0 is written "1"), both within
 * +-(2^53 - 1), where ECMAScript prints every integer exactly. Refused:
 *   -EINVAL  a double with a fraction, NaN or an infinity; a string or member name that is
 *            not valid UTF-8 (overlong forms, surrogates, beyond U+10FFFF); two members with
 *            the same name; more than JCS_MAX_DEPTH levels of arrays and objects
 *   -ERANGE  an integral number outside +-(2^53 - 1): RFC 8785 would print the nearest
 *            double, not the number that was meant
 *   -ENOMEM
 * The text is NUL-terminated and contains no other NUL (U+0000 is written \u0000);
 * ret_len, if not NULL, receives its length. Nothing is written on failure. A NULL object
 * is JSON null, as everywhere in json-c. */
int jcs_serialize(json_object *o, char **ret, size_t *ret_len);
