/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* A key's id: the lowercase hex SHA-256 of its public key in DER SubjectPublicKeyInfo form
 * (what "openssl pkey -pubin -outform DER | sha256sum" prints), so anyone can recompute
 * it from the .pub file. */
#define KEY_ID_LEN 64

/* Signature algorithms devgate accepts: Ed25519 (the default) and ECDSA over P-256 with
 * SHA-256 (DER-encoded signatures). */
typedef enum KeyAlgorithm {
        KEY_ED25519,
        KEY_ECDSA_P256,
        _KEY_ALGORITHM_MAX,
        _KEY_ALGORITHM_INVALID = -EINVAL,
} KeyAlgorithm;

const char *key_algorithm_to_string(KeyAlgorithm a);
KeyAlgorithm key_algorithm_from_string(const char *s);
/* The algorithm of a key, or -EKEYREJECTED for any other kind or curve. */
KeyAlgorithm key_algorithm_of(EVP_PKEY *pkey);

int key_id(EVP_PKEY *pkey, char ret[KEY_ID_LEN + 1]);

typedef struct TrustedKey {
        EVP_PKEY *pkey;
        char id[KEY_ID_LEN + 1];
        char *path;
} TrustedKey;

/* The trust configuration: a directory of PEM public keys ("*.pub") and, optionally, a file
 * "threshold" holding how many distinct keys must sign (default 1). */
typedef struct TrustedKeys {
        TrustedKey *keys;
        size_t n;
        unsigned threshold;
} TrustedKeys;

#define TRUSTED_KEYS_MAX 64

/* Logs what is wrong, naming the file. */
int trusted_keys_load(const char *dir, TrustedKeys **ret);
TrustedKeys *trusted_keys_free(TrustedKeys *keys);
static inline void trusted_keys_freep(TrustedKeys **k) {
        trusted_keys_free(*k);
}

int key_generate(KeyAlgorithm algorithm, EVP_PKEY **ret);
/* Writes PREFIX.key (private, mode 0600) and PREFIX.pub. */
int key_write_pair(EVP_PKEY *pkey, const char *prefix);
int private_key_load(const char *path, EVP_PKEY **ret);

/* Signs or verifies bytes the way each algorithm is specified: Ed25519 over the message
 * itself, ECDSA over its SHA-256. */
int key_sign(EVP_PKEY *pkey, const void *data, size_t size, unsigned char **ret_sig,
             size_t *ret_sig_size);
bool key_verify(EVP_PKEY *pkey, const void *data, size_t size, const unsigned char *sig,
                size_t sig_size);

static inline void EVP_PKEY_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}
