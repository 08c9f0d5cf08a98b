/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* JSON Web Encryption (RFC 7516) as the Trustee KBS sends resources: the flattened JSON
 * serialization {"protected","encrypted_key","iv","ciphertext","tag"} with "alg"
 * "ECDH-ES+A256KW" (ECDH with the ephemeral key "epk" of the protected header, Concat KDF
 * with SHA-256, AES-256 key wrap) and "enc" "A256GCM". Nothing else is accepted: not RSA1_5
 * nor RSA-OAEP, which the KBS also speaks, not other content ciphers, not compression,
 * not extensions marked critical, and no header parameter outside the protected header.
 *
 * A JWE proves nothing about its sender: whoever has the recipient's public key can make
 * one. It keeps the resource secret from everyone but the holder of the private key, and
 * its authenticity has to come from elsewhere (the signed policy inside it). */

/* The largest JWE read or written. Whoever reads it from the network limits it there too. */
#define JWE_SIZE_MAX           (16U * 1024U * 1024U)
/* The largest plaintext jwe_encrypt() takes: its base64url, headers and all stay within
 * JWE_SIZE_MAX, so that everything encrypted here can be decrypted here. */
#define JWE_PLAINTEXT_SIZE_MAX (JWE_SIZE_MAX / 4U * 3U - 8192U)

/* Decrypts a JWE for recipient_key, an EC P-256 or P-521 private key: the flattened JSON
 * serialization or the compact one (five base64url parts joined by '.'); blanks may follow
 * either. On success returns 0 and the plaintext in *ret_plaintext (malloc'd, NUL-terminated
 * past *ret_size for convenience; it may hold NUL bytes; erase it before freeing it when it
 * is secret). On failure leaves the outputs untouched, writes a one-line reason (the
 * values in it that come from the input are cut short and stripped of control characters)
 * and returns:
 *   -EINVAL       recipient_key is not an EC P-256 or P-521 private key;
 *   -E2BIG        the input is larger than JWE_SIZE_MAX;
 *   -EOPNOTSUPP   a well-formed JWE of a kind devgate refuses (alg, enc, zip, crit, a header
 *                 parameter outside the protected header, several recipients);
 *   -EBADMSG      anything malformed, an "epk" not on our curve, an encrypted key that does
 *                 not unwrap (encrypted to another key, or altered), a tag that does not verify;
 *   -ENOMEM, -EIO (OpenSSL failed). */
int jwe_decrypt(const char *jwe, size_t size, EVP_PKEY *recipient_key, uint8_t **ret_plaintext,
                size_t *ret_size, char *reason, size_t reason_size);

/* Encrypts to recipient_public_key (EC P-256 or P-521; a private key works too) the way the KBS
 * does: a fresh ephemeral key on the recipient's curve, "ECDH-ES+A256KW" and "A256GCM", the
 * flattened JSON serialization as a NUL-terminated string in *ret_json. Returns -EINVAL for
 * another kind of key, -E2BIG above JWE_PLAINTEXT_SIZE_MAX, -ENOMEM, -EIO. */
int jwe_encrypt(const uint8_t *plaintext, size_t size, EVP_PKEY *recipient_public_key,
                char **ret_json);

/* Imports an EC JWK (RFC 7518 section 6.2): "kty" "EC", "crv" "P-256" or "P-521", "x" and "y"
 * of full length, and "d" if private. Other members ("alg", "kid", "key_ops", ...) are
 * ignored. The point must be on the curve and a private key must match its public key.
 * Returns -EOPNOTSUPP for another kty or crv, -EBADMSG with a reason for anything else wrong. */
int jwe_jwk_to_pkey(json_object *jwk, EVP_PKEY **ret, char *reason, size_t reason_size);
