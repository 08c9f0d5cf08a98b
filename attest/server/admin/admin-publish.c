// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate-kbs-admin publish: a signed policy into the server's resources. The envelope is
 * checked as the guests check it (signature against their trusted keys and threshold, payload
 * type, policy syntax, expiry), so that the operator cannot publish what every guest would
 * refuse; then the very bytes that were checked, read once, are installed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "kbs-admin.h"
#include "kbs-resource.h"
#include "keys.h"
#include "log.h"
#include "macro.h"
#include "signed-policy.h"

static void help(void) {
        printf("Usage: devgate-kbs-admin publish --resource REPOSITORY/TYPE/TAG --keys DIR\n"
               "                                [OPTIONS] FILE\n"
               "\n"
               "Publishes a signed policy (a DSSE envelope made by 'devgate policy sign') as a\n"
               "resource of devgate-kbs. The envelope is verified as the guests verify it,\n"
               "against DIR, the trusted keys the guests hold (what 'devgate apply --keys'\n"
               "names); its policy must parse and must not have expired. Then its bytes\n"
               "replace RESOURCES/REPOSITORY/TYPE/TAG atomically: the server serves the new\n"
               "policy from the next request on, no restart needed.\n"
               "\n"
               "Options:\n"
               "  -r --resource PATH    REPOSITORY/TYPE/TAG, as the guests' attest.conf names\n"
               "                        it: letters, digits, '.', '_', '-' in each part\n"
               "  -k --keys DIR         The guests' trusted keys: *.pub, and their threshold\n"
               "     --resources DIR    The server's --resources directory (default: from the\n"
               "                        configuration, else " ADMIN_RESOURCES_DEFAULT ")\n"
               "     --force            Replace a published policy of a higher version, or of\n"
               "                        the same version with other content\n"
               "     --config FILE      devgate-kbs's configuration file\n"
               "                        (default " ADMIN_CONFIG_DEFAULT ", if it exists)\n"
               "  -h --help             Show this help\n"
               "\n"
               "Exit status: 0 published (or published already), 1 failed, 2 usage or a bad\n"
               "resource name, 3 the envelope is refused, 4 a newer policy is published.\n");
}

/* The policy published now, if it verifies with the same keys: its version, and whether it
 * is byte for byte the new one. Quiet: an old envelope that no longer verifies (the keys were
 * rotated) is simply replaced. */
static int published_version(int resources_fd, const KbsResourceName *name, const TrustedKeys *keys,
                             const char *data, size_t size, int64_t *ret_version, bool *ret_same) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_free_ uint8_t *old = NULL;
        PolicyError error;
        Verification v;
        char reason[256];
        size_t old_size;
        int r;

        r = kbs_resource_read(resources_fd, name, ENVELOPE_SIZE_MAX, &old, &old_size);
        if (r < 0)
                return r;
        *ret_same = old_size == size && memcmp(old, data, size) == 0;
        if (envelope_parse((const char *) old, old_size, &e, reason, sizeof reason) < 0 ||
            envelope_verify(e, keys, &v, reason, sizeof reason) < 0 ||
            policy_parse((const char *) e->payload, e->payload_size, &policy, &error) < 0)
                return -EBADMSG;
        *ret_version = policy->version;
        return 0;
}

static int open_type_dir(const char *resources, const KbsResourceName *name, int *ret_fd,
                         int *ret_resources_fd) {
        _cleanup_close_ int resources_fd = -EBADF, repo_fd = -EBADF;
        int r;

        r = admin_open_dir_path(resources, true, &resources_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open the resources directory '%s': %m",
                                       resources);
        /* Not following symlinks: the server would not either (kbs-resource.h). */
        r = admin_open_dir(resources_fd, name->repository, true, &repo_fd);
        if (r >= 0)
                r = admin_open_dir(repo_fd, name->type, true, ret_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s/%s/%s' (a symlink?): %m", resources,
                                       name->repository, name->type);
        *ret_resources_fd = TAKE_FD(resources_fd);
        return 0;
}

static int publish(const char *file, const char *resource, const KbsResourceName *name,
                   const char *keys_dir, const char *resources, size_t size_max, bool force) {
        _cleanup_(trusted_keys_freep) TrustedKeys *keys = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_close_ int resources_fd = -EBADF, type_fd = -EBADF;
        _cleanup_free_ char *data = NULL, *type_path = NULL;
        VersionFloor no_floor = { .version = 0 };
        Verification v;
        int64_t version;
        size_t size;
        bool same = false;
        int r;

        r = trusted_keys_load(keys_dir, &keys);
        if (r < 0)
                return r;
        r = admin_read_input(file, ENVELOPE_SIZE_MAX, &data, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "'%s' is larger than %d bytes: not an envelope.", file,
                                       ENVELOPE_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", file);
        /* What 'devgate apply' does with a fetched envelope, up to the guest's own floor. */
        r = signed_policy_parse(file, data, size, keys, &policy, &v);
        if (r >= 0)
                r = policy_check_fresh(policy, &no_floor, (int64_t) time(NULL));
        if (r < 0)
                return r;
        if (size > size_max)
                return log_error_errno(-EFBIG,
                                       "'%s' has %zu bytes, more than devgate-kbs serves "
                                       "(resource-size-max %zu).",
                                       file, size, size_max);

        r = open_type_dir(resources, name, &type_fd, &resources_fd);
        if (r < 0)
                return r;
        if (asprintf(&type_path, "%s/%s/%s", resources, name->repository, name->type) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        r = admin_lock_dir(type_fd, type_path);
        if (r < 0)
                return r;

        r = published_version(resources_fd, name, keys, data, size, &version, &same);
        if (r >= 0 && same) {
                log_info("'%s' version %" PRId64 " is published as %s already.", policy->name,
                         policy->version, resource);
                return 0;
        }
        if (r >= 0 && !force && version > policy->version)
                return log_error_errno(-EEXIST,
                                       "Version %" PRId64 " is published as %s: guests that "
                                       "applied it refuse version %" PRId64
                                       " (--force to publish it anyway).",
                                       version, resource, policy->version);
        if (r >= 0 && !force && version == policy->version)
                return log_error_errno(-EEXIST,
                                       "Another policy of version %" PRId64
                                       " is published as %s: raise the version (--force to "
                                       "replace it anyway).",
                                       version, resource);

        r = admin_install(type_fd, type_path, name->tag, data, size, 0644, true, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s/%s': %m", type_path, name->tag);
        log_info("Published '%s' version %" PRId64 ", signed by %zu trusted key%s, as %s "
                 "('%s/%s').",
                 policy->name, policy->version, v.n_signers, v.n_signers == 1 ? "" : "s", resource,
                 type_path, name->tag);
        return 0;
}

int admin_publish(int argc, char *argv[]) {
        enum { ARG_RESOURCES = 0x100, ARG_FORCE, ARG_CONFIG };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "resource", required_argument, NULL, 'r' },
                { "keys", required_argument, NULL, 'k' },
                { "resources", required_argument, NULL, ARG_RESOURCES },
                { "force", no_argument, NULL, ARG_FORCE },
                { "config", required_argument, NULL, ARG_CONFIG },
                {},
        };
        const char *resource = NULL, *keys = NULL, *resources = NULL, *config = NULL;
        AdminPaths paths = {};
        KbsResourceName name;
        char reason[256];
        bool force = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "hr:k:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return ADMIN_EXIT_OK;
                case 'r':
                        resource = optarg;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case ARG_RESOURCES:
                        resources = optarg;
                        break;
                case ARG_FORCE:
                        force = true;
                        break;
                case ARG_CONFIG:
                        config = optarg;
                        break;
                default:
                        goto usage;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "devgate-kbs-admin publish: %s.\n",
                        optind == argc ? "which envelope? Give FILE" : "one FILE only");
                goto usage;
        }
        if (!resource || !keys) {
                fprintf(stderr, "devgate-kbs-admin publish: --resource PATH and --keys DIR are "
                                "needed.\n");
                goto usage;
        }
        /* As the server parses the path of a request: a name it would answer 404 for is never
         * published, and none can climb out of the directory. */
        if (kbs_resource_name_parse(resource, &name, reason, sizeof reason) < 0) {
                fprintf(stderr, "devgate-kbs-admin publish: --resource '%s': %s.\n", resource,
                        reason);
                goto usage;
        }

        r = admin_paths_load(config, &paths);
        if (r != ADMIN_EXIT_OK)
                return r;
        r = publish(argv[optind], resource, &name, keys, resources ?: paths.resources,
                    paths.resource_size_max, force);
        admin_paths_done(&paths);
        return r < 0 ? admin_exit_of(r) : ADMIN_EXIT_OK;
usage:
        fprintf(stderr, "Try 'devgate-kbs-admin publish --help' for more information.\n");
        return ADMIN_EXIT_USAGE;
}
