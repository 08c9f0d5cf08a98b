// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate policy check|keygen|sign|verify|show: for the people who write and sign policies. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "envelope.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "signed-policy.h"

static void help(void) {
        printf("Usage: devgate policy check FILE\n"
               "       devgate policy keygen [--algorithm ed25519|ecdsa-p256] PREFIX\n"
               "       devgate policy sign --key KEY [--output FILE] INPUT\n"
               "       devgate policy verify --keys DIR [--min-version N] [--floor-file FILE] "
               "ENVELOPE\n"
               "       devgate policy show ENVELOPE\n"
               "\n"
               "check    Validates a plain policy; errors name the JSON path and the reason.\n"
               "keygen   Writes a key pair: PREFIX.key (private, mode 0600) and PREFIX.pub.\n"
               "         The key id is the SHA-256 of the public key's DER encoding.\n"
               "sign     Signs a plain policy (wrapping it in a DSSE envelope of type\n"
               "         " DEVGATE_PAYLOAD_TYPE ")\n"
               "         or adds a signature to an envelope. Writes to --output or stdout.\n"
               "verify   Checks an envelope against the public keys in DIR (and DIR/threshold),\n"
               "         then the policy inside and its version floor and expiry; prints the\n"
               "         signers' key ids and the policy's name and version.\n"
               "show     Prints an envelope's payload, pretty-printed, WITHOUT verifying it.\n"
               "\n"
               "Exit status: 0 success, 1 error, 2 usage, 3 policy rejected.\n");
}

static int policy_check(const char *path) {
        _cleanup_(policy_freep) Policy *policy = NULL;
        int r = policy_load(path, &policy);
        if (r < 0)
                return exit_status_of(r);

        printf("%s: policy '%s' version %" PRId64 ", %zu rule%s, default %s\n", path, policy->name,
               policy->version, policy->n_rules, policy->n_rules == 1 ? "" : "s",
               action_to_string(policy->default_action));
        if (policy->default_action == ACTION_ALLOW)
                log_warning("%s: \"default\": \"allow\" leaves unmatched devices as the kernel "
                            "has them; only explicit rules authorize.",
                            path);
        for (size_t i = 0; i < policy->n_rules; i++) {
                const Rule *rule = &policy->rules[i];
                printf("  rules[%zu] %-5s %-7s%s%s%s\n", i, action_to_string(rule->action),
                       bus_to_string(rule->match.bus), rule->comment ?: "",
                       rule->driver ? " -> driver " : "", rule->driver ?: "");
        }
        return EXIT_OK;
}

static int policy_keygen(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "algorithm", required_argument, NULL, 'a' },
                {},
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        KeyAlgorithm algorithm = KEY_ED25519;
        char id[KEY_ID_LEN + 1];
        int c;

        while ((c = getopt_long(argc, argv, "ha:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'a':
                        algorithm = key_algorithm_from_string(optarg);
                        if (algorithm < 0) {
                                fprintf(stderr,
                                        "devgate policy keygen: unknown algorithm '%s' "
                                        "(ed25519, ecdsa-p256)\n",
                                        optarg);
                                return usage_error("policy ");
                        }
                        break;
                default:
                        return usage_error("policy ");
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "devgate policy keygen: expected one PREFIX\n");
                return usage_error("policy ");
        }

        if (key_generate(algorithm, &pkey) < 0 || key_id(pkey, id) < 0) {
                log_error("Failed to generate a %s key.", key_algorithm_to_string(algorithm));
                return EXIT_ERROR;
        }
        if (key_write_pair(pkey, argv[optind]) < 0)
                return EXIT_ERROR;
        printf("%s key %s\n  private: %s.key\n  public:  %s.pub\n",
               key_algorithm_to_string(algorithm), id, argv[optind], argv[optind]);
        return EXIT_OK;
}

static int write_output(const char *path, const char *text, size_t size) {
        int r;

        if (!path) {
                fwrite(text, 1, size, stdout);
                return fflush(stdout) == 0 ? 0 : -EIO;
        }
        r = write_file_atomic(path, text, size, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);
        return 0;
}

static int policy_sign(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "key", required_argument, NULL, 'k' },
                { "output", required_argument, NULL, 'o' },
                {},
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_free_ char *data = NULL, *text = NULL;
        const char *key_path = NULL, *output = NULL, *input;
        PolicyError error = {};
        char reason[256], id[KEY_ID_LEN + 1];
        size_t size, text_size;
        int c, r;

        while ((c = getopt_long(argc, argv, "hk:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'k':
                        key_path = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return usage_error("policy ");
                }
        if (!key_path || optind + 1 != argc) {
                fprintf(stderr, "devgate policy sign: %s\n",
                        key_path ? "expected one INPUT" : "--key KEY is required");
                return usage_error("policy ");
        }
        input = argv[optind];

        if (private_key_load(key_path, &pkey) < 0)
                return EXIT_ERROR;
        r = read_full_file(input, ENVELOPE_SIZE_MAX, &data, &size);
        if (r < 0) {
                log_error_errno(r, "Failed to read '%s': %m", input);
                return exit_status_of(r == -EFBIG ? r : -EIO);
        }

        /* An envelope gets one more signature; anything else must be a valid policy, which
         * is wrapped: nobody should sign what devgate would refuse to read. */
        if (envelope_parse(data, size, &e, reason, sizeof reason) < 0) {
                r = policy_parse(data, size, &policy, &error);
                if (r < 0) {
                        log_error("%s: neither a DSSE envelope nor a valid policy: %s%s%s", input,
                                  error.path, error.path[0] ? ": " : "", error.reason);
                        return EXIT_REJECTED;
                }
                r = envelope_new((const uint8_t *) data, size, &e);
                if (r < 0)
                        return EXIT_ERROR;
        } else if (!streq(e->payload_type, DEVGATE_PAYLOAD_TYPE)) {
                log_error("%s: payloadType is \"%s\", not a devgate policy.", input,
                          e->payload_type);
                return EXIT_REJECTED;
        } else if (policy_parse((const char *) e->payload, e->payload_size, &policy, &error) < 0) {
                /* A co-signer vouches for the payload, so it is checked like a new one. */
                log_error("%s: payload: %s%s%s", input, error.path, error.path[0] ? ": " : "",
                          error.reason);
                return EXIT_REJECTED;
        }

        r = envelope_sign(e, pkey);
        if (r == -EEXIST) {
                log_error("%s is already signed by this key.", input);
                return EXIT_ERROR;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to sign '%s': %m", input);
                return EXIT_ERROR;
        }
        if (envelope_format(e, &text, &text_size) < 0 || write_output(output, text, text_size) < 0)
                return EXIT_ERROR;
        key_id(pkey, id);
        log_info("Signed '%s' with key %s (%zu signature%s).", input, id, e->n_signatures,
                 e->n_signatures == 1 ? "" : "s");
        return EXIT_OK;
}

static int policy_verify(int argc, char *argv[]) {
        enum { ARG_FLOOR_FILE = 0x100, ARG_MIN_VERSION };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "keys", required_argument, NULL, 'k' },
                { "floor-file", required_argument, NULL, ARG_FLOOR_FILE },
                { "min-version", required_argument, NULL, ARG_MIN_VERSION },
                {},
        };
        _cleanup_(trusted_keys_freep) TrustedKeys *keys = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        VersionFloor floor = { .version = 0, .source = "command line" };
        const char *keys_dir = NULL, *floor_file = NULL;
        Verification v;
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "hk:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'k':
                        keys_dir = optarg;
                        break;
                case ARG_FLOOR_FILE:
                        floor_file = optarg;
                        break;
                case ARG_MIN_VERSION:
                        errno = 0;
                        floor.version = strtoll(optarg, &end, 10);
                        if (*optarg < '0' || *optarg > '9' || *end || errno != 0) {
                                fprintf(stderr, "devgate policy verify: --min-version takes a "
                                                "version number\n");
                                return usage_error("policy ");
                        }
                        snprintf(floor.source, sizeof floor.source, "--min-version option");
                        break;
                default:
                        return usage_error("policy ");
                }
        if (!keys_dir || optind + 1 != argc) {
                fprintf(stderr, "devgate policy verify: %s\n",
                        keys_dir ? "expected one ENVELOPE" : "--keys DIR is required");
                return usage_error("policy ");
        }

        r = trusted_keys_load(keys_dir, &keys);
        if (r < 0)
                return EXIT_ERROR;
        if (floor_file && version_floor_from_file(&floor, floor_file) < 0)
                return EXIT_ERROR;
        r = signed_policy_load(argv[optind], keys, &policy, &v);
        if (r >= 0)
                r = policy_check_fresh(policy, &floor, (int64_t) time(NULL));
        if (r < 0)
                return exit_status_of(r);

        printf("%s: policy '%s' version %" PRId64 " (sha256 %s)\n", argv[optind], policy->name,
               policy->version, policy->sha256);
        printf("signed by %zu of %zu trusted keys (%u required):\n", v.n_signers, keys->n,
               keys->threshold);
        for (size_t i = 0; i < v.n_signers; i++)
                printf("  %s\n", v.signers[i]);
        return EXIT_OK;
}

static int policy_show(const char *path) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_free_ char *data = NULL;
        json_object *payload;
        char reason[256];
        size_t size;
        int r;

        r = read_full_file(path, ENVELOPE_SIZE_MAX, &data, &size);
        if (r < 0) {
                log_error_errno(r, "Failed to read '%s': %m", path);
                return exit_status_of(r == -EFBIG ? r : -EIO);
        }
        if (envelope_parse(data, size, &e, reason, sizeof reason) < 0) {
                log_error("%s: %s", path, reason);
                return EXIT_REJECTED;
        }
        log_warning("%s: showing the payload WITHOUT verifying its %zu signature%s.", path,
                    e->n_signatures, e->n_signatures == 1 ? "" : "s");
        payload = json_tokener_parse((const char *) e->payload);
        if (!payload) {
                fwrite(e->payload, 1, e->payload_size, stdout);
                return EXIT_OK;
        }
        printf("%s\n", json_object_to_json_string_ext(
                               payload, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(payload);
        return EXIT_OK;
}

int cmd_policy(int argc, char *argv[]) {
        const char *sub;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help();
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        sub = argv[1];
        argc--;
        argv++;
        optind = 0;

        if (streq(sub, "keygen"))
                return policy_keygen(argc, argv);
        if (streq(sub, "sign"))
                return policy_sign(argc, argv);
        if (streq(sub, "verify"))
                return policy_verify(argc, argv);

        if (streq(sub, "check") || streq(sub, "show")) {
                if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                        help();
                        return EXIT_OK;
                }
                if (argc != 2) {
                        fprintf(stderr, "devgate policy %s: expected one FILE\n", sub);
                        return usage_error("policy ");
                }
                return streq(sub, "check") ? policy_check(argv[1]) : policy_show(argv[1]);
        }

        fprintf(stderr,
                "devgate policy: unknown subcommand '%s' (check, keygen, sign, verify, "
                "show)\n",
                sub);
        return usage_error("policy ");
}
