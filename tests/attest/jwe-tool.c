// SPDX-License-Identifier: LGPL-2.1-or-later
/* A test-only front end to jwe.c, so that shell tests can hand JWEs to and from jose:
 *
 *   jwe-tool encrypt PUBJWK < plaintext > jwe
 *   jwe-tool decrypt PRIVJWK < jwe > plaintext
 *
 * Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 usage. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "json-strict.h"
#include "jwe.h"
#include "keys.h"
#include "macro.h"

#define JWK_SIZE_MAX (64 * 1024)

static int load_jwk(const char *path, EVP_PKEY **ret) {
        _cleanup_free_ char *text = NULL;
        json_object *jwk = NULL;
        char reason[256] = "out of memory";
        size_t size;
        int r;

        r = read_full_file(path, JWK_SIZE_MAX, &text, &size);
        if (r < 0) {
                fprintf(stderr, "jwe-tool: cannot read '%s': %s\n", path, strerror(-r));
                return r;
        }
        r = json_parse_strict(text, size, 4, &jwk, reason, sizeof reason);
        if (r >= 0) {
                r = jwe_jwk_to_pkey(jwk, ret, reason, sizeof reason);
                json_object_put(jwk);
        }
        if (r < 0)
                fprintf(stderr, "jwe-tool: '%s': %s\n", path, reason);
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_free_ uint8_t *input = NULL, *output = NULL;
        _cleanup_free_ char *json = NULL;
        size_t input_size, output_size;
        char reason[256] = "out of memory";
        bool encrypt;
        int r;

        if (argc != 3 || (!streq(argv[1], "encrypt") && !streq(argv[1], "decrypt"))) {
                fprintf(stderr, "usage: jwe-tool encrypt PUBJWK < plaintext > jwe\n"
                                "       jwe-tool decrypt PRIVJWK < jwe > plaintext\n");
                return 2;
        }
        encrypt = streq(argv[1], "encrypt");
        if (load_jwk(argv[2], &key) < 0)
                return 1;

        r = read_full_fd(STDIN_FILENO, encrypt ? JWE_PLAINTEXT_SIZE_MAX : JWE_SIZE_MAX,
                         (char **) &input, &input_size);
        if (r < 0) {
                fprintf(stderr, "jwe-tool: cannot read standard input: %s\n", strerror(-r));
                return 1;
        }

        if (encrypt) {
                r = jwe_encrypt(input, input_size, key, &json);
                if (r < 0) {
                        fprintf(stderr, "jwe-tool: cannot encrypt: %s\n", strerror(-r));
                        return 1;
                }
                r = write_full(STDOUT_FILENO, json, strlen(json));
        } else {
                r = jwe_decrypt((const char *) input, input_size, key, &output, &output_size,
                                reason, sizeof reason);
                if (r < 0) {
                        fprintf(stderr, "jwe-tool: %s\n", reason);
                        return 1;
                }
                r = write_full(STDOUT_FILENO, output, output_size);
        }
        if (r < 0) {
                fprintf(stderr, "jwe-tool: cannot write standard output: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
