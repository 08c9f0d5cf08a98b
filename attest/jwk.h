/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>

/* The TEE key of the KBS protocol ("tee-pubkey"): an ephemeral EC P-256 key, made for one
 * run and never stored, to which the KBS encrypts resources with ECDH-ES+A256KW. Its
 * public half is bound into the evidence through the report data (reportdata.h). */
#define JWK_EC_KTY               "EC"
#define JWK_EC_CRV               "P-256"
#define JWK_EC_ALG               "ECDH-ES+A256KW"
/* The size of a P-256 coordinate: JWK writes each one at full size (RFC 7518 6.2.1.2). */
#define JWK_P256_COORDINATE_SIZE 32

/* A fresh P-256 key pair from OpenSSL's default random generator. -EIO if OpenSSL fails. */
int tee_key_generate(EVP_PKEY **ret);

/* The public key as guest-components sends it (kbs-types TeePubKey::EC, serialized by
 * serde in this order): {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x":...,"y":...},
 * x and y unpadded base64url of the 32-byte big-endian coordinates. -EKEYREJECTED for any
 * key but EC P-256, -ENOMEM. */
int jwk_from_public_key(EVP_PKEY *key, json_object **ret);

/* The other direction, for the KBS side and for tests, as strict as the rest of devgate:
 * exactly the members kty, crv, alg, x, y, all strings; kty "EC", crv "P-256", alg
 * "ECDH-ES+A256KW"; x and y strict base64url (base64.h) of exactly 32 bytes each; the point
 * on the curve. Anything more is refused, a private "d" above all: Trustee re-serializes the
 * key from the five members it knows before hashing it, so a JWK with other members could
 * never match the report data made from it.
 *   -EBADMSG       not an object, a member missing, extra or not a string, bad base64url,
 *                  a coordinate of the wrong size
 *   -EKEYREJECTED  another key type, curve or algorithm; coordinates not below the field
 *                  prime; a point not on the curve
 *   -ENOMEM, -EIO (OpenSSL failed otherwise) */
int jwk_to_public_key(json_object *jwk, EVP_PKEY **ret);
