// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "signed-policy.h"

int signed_policy_load(const char *path, const TrustedKeys *keys, Policy **ret,
                       Verification *ret_verification) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, ENVELOPE_SIZE_MAX, &data, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "Envelope '%s' is larger than %d bytes, refusing.", path,
                                       ENVELOPE_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read envelope '%s': %m", path);
        return signed_policy_parse(path, data, size, keys, ret, ret_verification);
}

int signed_policy_parse(const char *path, const char *data, size_t size, const TrustedKeys *keys,
                        Policy **ret, Verification *ret_verification) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        PolicyError error = {};
        Verification v;
        char reason[256];
        int r;

        if (size > ENVELOPE_SIZE_MAX)
                return log_error_errno(-EFBIG, "Envelope '%s' is larger than %d bytes, refusing.",
                                       path, ENVELOPE_SIZE_MAX);
        r = envelope_parse(data, size, &e, reason, sizeof reason);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, reason);

        r = envelope_verify(e, keys, &v, reason, sizeof reason);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (r < 0)
                return log_error_errno(r, "%s: rejected: %s", path, reason);

        /* Verified bytes only from here on. */
        r = policy_parse((const char *) e->payload, e->payload_size, &policy, &error);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (r < 0)
                return log_error_errno(r, "%s: payload: %s%s%s", path, error.path,
                                       error.path[0] ? ": " : "", error.reason);

        if (ret_verification)
                *ret_verification = v;
        *ret = TAKE_PTR(policy);
        return 0;
}

int version_floor_from_file(VersionFloor *floor, const char *path) {
        _cleanup_free_ char *text = NULL;
        char *end;
        size_t size;
        long long v;
        int r;

        r = read_full_file(path, 64, &text, &size);
        if (r == -ENOENT) {
                log_debug("No version floor file '%s'.", path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read version floor '%s': %m", path);

        errno = 0;
        v = strtoll(text, &end, 10);
        if (errno != 0 || end == text || text[0] < '0' || text[0] > '9' ||
            (*end != '\0' && !streq(end, "\n")))
                return log_error_errno(-EINVAL, "'%s' must hold one decimal version number.", path);
        if (v > floor->version) {
                floor->version = v;
                snprintf(floor->source, sizeof floor->source, "version floor file '%s'", path);
        }
        return 0;
}

int policy_check_fresh(const Policy *policy, const VersionFloor *floor, int64_t now) {
        if (policy->version < floor->version)
                return log_error_errno(
                        -ESTALE,
                        "Policy '%s' version %" PRId64 " is older than version %" PRId64
                        " required by the %s: rollback refused.",
                        policy->name, policy->version, floor->version, floor->source);

        if (policy->expires > 0 && now >= policy->expires) {
                char when[32];
                time_t t = (time_t) policy->expires;
                struct tm tm;
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
                return log_error_errno(-ETIME,
                                       "Policy '%s' version %" PRId64 " expired at %s, refusing.",
                                       policy->name, policy->version, when);
        }
        return 0;
}
