// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "keys.h"
#include "log.h"
#include "macro.h"

#define KEY_FILE_SIZE_MAX (16 * 1024)

static const char *const algorithm_names[_KEY_ALGORITHM_MAX] = {
        [KEY_ED25519] = "ed25519",
        [KEY_ECDSA_P256] = "ecdsa-p256",
};

const char *key_algorithm_to_string(KeyAlgorithm a) {
        return a >= 0 && a < _KEY_ALGORITHM_MAX ? algorithm_names[a] : NULL;
}

KeyAlgorithm key_algorithm_from_string(const char *s) {
        for (KeyAlgorithm a = 0; a < _KEY_ALGORITHM_MAX; a++)
                if (streq(algorithm_names[a], s))
                        return a;
        return _KEY_ALGORITHM_INVALID;
}

KeyAlgorithm key_algorithm_of(EVP_PKEY *pkey) {
        char group[64];
        size_t len;

        switch (EVP_PKEY_get_base_id(pkey)) {
        case EVP_PKEY_ED25519:
                return KEY_ED25519;
        case EVP_PKEY_EC:
                if (EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof group, &len) == 1 &&
                    streq(group, "prime256v1"))
                        return KEY_ECDSA_P256;
                return -EKEYREJECTED;
        default:
                return -EKEYREJECTED;
        }
}

int key_id(EVP_PKEY *pkey, char ret[KEY_ID_LEN + 1]) {
        unsigned char *der = NULL, digest[32];
        unsigned digest_len = 0;
        int len, ok;

        len = i2d_PUBKEY(pkey, &der);
        if (len <= 0)
                return -EINVAL;
        ok = EVP_Digest(der, (size_t) len, digest, &digest_len, EVP_sha256(), NULL);
        OPENSSL_free(der);
        if (ok != 1 || digest_len != sizeof digest)
                return -EIO;
        for (unsigned i = 0; i < sizeof digest; i++)
                sprintf(ret + 2 * i, "%02x", digest[i]);
        return 0;
}

static int parse_threshold(const char *dir, size_t n_keys, unsigned *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size;
        char *end;
        unsigned long v;
        int r;

        if (asprintf(&path, "%s/threshold", dir) < 0)
                return -ENOMEM;
        r = read_full_file(path, 64, &text, &size);
        if (r == -ENOENT) {
                *ret = 1;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);

        errno = 0;
        v = strtoul(text, &end, 10);
        if (errno != 0 || end == text || text[0] < '1' || text[0] > '9' ||
            (*end != '\0' && !streq(end, "\n")) || v == 0 || v > n_keys)
                return log_error_errno(-EINVAL,
                                       "'%s' must hold a number of keys from 1 to %zu, the keys "
                                       "in '%s'.",
                                       path, n_keys, dir);
        *ret = (unsigned) v;
        return 0;
}

/* Reads one PEM key, public or private, of an accepted algorithm. */
static int load_pem_key(const char *path, bool private, EVP_PKEY **ret) {
        _cleanup_free_ char *pem = NULL;
        BIO *bio;
        EVP_PKEY *pkey;
        size_t size;
        int r;

        r = read_full_file(path, KEY_FILE_SIZE_MAX, &pem, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read key '%s': %m", path);
        bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                       : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        ERR_clear_error();
        if (!pkey)
                return log_error_errno(-EBADMSG, "'%s' is not a PEM %s key.", path,
                                       private ? "private" : "public");
        if (key_algorithm_of(pkey) < 0) {
                EVP_PKEY_free(pkey);
                return log_error_errno(-EKEYREJECTED,
                                       "'%s' is neither an Ed25519 nor a P-256 key, refusing.",
                                       path);
        }
        *ret = pkey;
        return 0;
}

static int compare_keys(const void *a, const void *b) {
        return strcmp(((const TrustedKey *) a)->id, ((const TrustedKey *) b)->id);
}

int trusted_keys_load(const char *dir, TrustedKeys **ret) {
        _cleanup_(trusted_keys_freep) TrustedKeys *keys = NULL;
        DIR *d;
        struct dirent *de;
        int r = 0;

        keys = calloc(1, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        keys->keys = calloc(TRUSTED_KEYS_MAX, sizeof *keys->keys);
        if (!keys->keys)
                return -ENOMEM;

        d = opendir(dir);
        if (!d)
                return log_error_errno(negative_errno(), "Failed to open key directory '%s': %m",
                                       dir);
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                TrustedKey key = {};

                if (de->d_name[0] == '.' || len < 5 || !streq(de->d_name + len - 4, ".pub"))
                        continue;
                if (keys->n == TRUSTED_KEYS_MAX) {
                        r = log_error_errno(-E2BIG, "More than %d keys in '%s', refusing.",
                                            TRUSTED_KEYS_MAX, dir);
                        break;
                }
                if (asprintf(&key.path, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = load_pem_key(key.path, false, &key.pkey);
                if (r >= 0)
                        r = key_id(key.pkey, key.id);
                if (r < 0) {
                        EVP_PKEY_free(key.pkey);
                        free(key.path);
                        break;
                }

                /* The same key under two names is one key: it must not count twice. */
                bool seen = false;
                for (size_t i = 0; i < keys->n; i++)
                        seen = seen || streq(keys->keys[i].id, key.id);
                if (seen) {
                        log_warning("'%s' repeats a key already trusted, ignoring.", key.path);
                        EVP_PKEY_free(key.pkey);
                        free(key.path);
                        continue;
                }
                keys->keys[keys->n++] = key;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (keys->n == 0)
                return log_error_errno(-ENOKEY, "No public keys (*.pub) in '%s'.", dir);

        qsort(keys->keys, keys->n, sizeof *keys->keys, compare_keys);
        r = parse_threshold(dir, keys->n, &keys->threshold);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(keys);
        return 0;
}

TrustedKeys *trusted_keys_free(TrustedKeys *keys) {
        if (!keys)
                return NULL;
        for (size_t i = 0; i < keys->n; i++) {
                EVP_PKEY_free(keys->keys[i].pkey);
                free(keys->keys[i].path);
        }
        free(keys->keys);
        free(keys);
        return NULL;
}

int key_generate(KeyAlgorithm algorithm, EVP_PKEY **ret) {
        EVP_PKEY *pkey = algorithm == KEY_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                                  : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!pkey)
                return -EIO;
        *ret = pkey;
        return 0;
}

static int write_pem(const char *path, int mode, EVP_PKEY *pkey, bool private) {
        _cleanup_close_ int fd = -EBADF;
        FILE *f;
        int ok;

        /* O_EXCL: never replace an existing key by accident. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        f = fdopen(TAKE_FD(fd), "w");
        if (!f)
                return negative_errno();
        ok = private ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                     : PEM_write_PUBKEY(f, pkey);
        if (fclose(f) != 0 || ok != 1)
                return -EIO;
        return 0;
}

int key_write_pair(EVP_PKEY *pkey, const char *prefix) {
        _cleanup_free_ char *private_path = NULL, *public_path = NULL;
        int r;

        if (asprintf(&private_path, "%s.key", prefix) < 0 ||
            asprintf(&public_path, "%s.pub", prefix) < 0)
                return -ENOMEM;
        r = write_pem(private_path, 0600, pkey, true);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", private_path);
        r = write_pem(public_path, 0644, pkey, false);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", public_path);
        return 0;
}

int private_key_load(const char *path, EVP_PKEY **ret) {
        return load_pem_key(path, true, ret);
}

static const EVP_MD *digest_of(EVP_PKEY *pkey) {
        /* Ed25519 hashes internally and takes no digest. */
        return key_algorithm_of(pkey) == KEY_ED25519 ? NULL : EVP_sha256();
}

int key_sign(EVP_PKEY *pkey, const void *data, size_t size, unsigned char **ret_sig,
             size_t *ret_sig_size) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char *sig = NULL;
        size_t sig_size = 0;
        int r = -EIO;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit(ctx, NULL, digest_of(pkey), NULL, pkey) == 1 &&
            EVP_DigestSign(ctx, NULL, &sig_size, data, size) == 1 &&
            (sig = OPENSSL_malloc(sig_size)) &&
            EVP_DigestSign(ctx, sig, &sig_size, data, size) == 1) {
                *ret_sig = sig;
                *ret_sig_size = sig_size;
                sig = NULL;
                r = 0;
        }
        OPENSSL_free(sig);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

bool key_verify(EVP_PKEY *pkey, const void *data, size_t size, const unsigned char *sig,
                size_t sig_size) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok;

        if (!ctx)
                return false;
        ok = EVP_DigestVerifyInit(ctx, NULL, digest_of(pkey), NULL, pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_size, data, size) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}
