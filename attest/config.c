// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "kbs-client.h"
#include "log.h"
#include "macro.h"

void attest_config_init(AttestConfig *c) {
        *c = (AttestConfig){ .handshake_retries = 1 };
        http_options_init(&c->http);
}

void attest_config_done(AttestConfig *c) {
        free(c->url);
        free(c->resource);
        free(c->tee);
        free(c->tcti);
        free(c->ca_file);
        free(c->pinned_pubkey);
        free(c->proxy);
        *c = (AttestConfig){};
}

static int fail(char *reason, size_t reason_size, unsigned line, const char *format, ...)
        _printf_(4, 5);
static int fail(char *reason, size_t reason_size, unsigned line, const char *format, ...) {
        va_list ap;
        int n = snprintf(reason, reason_size, "line %u: ", line);
        va_start(ap, format);
        if (n > 0 && (size_t) n < reason_size)
                vsnprintf(reason + n, reason_size - (size_t) n, format, ap);
        va_end(ap);
        return -EINVAL;
}

static int parse_ms(const char *value, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end || value[0] < '0' || value[0] > '9' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Keys that take a string, and where each one goes. */
typedef struct StringKey {
        const char *name;
        size_t offset;
} StringKey;

static const StringKey string_keys[] = {
        { "url", offsetof(AttestConfig, url) },
        { "resource", offsetof(AttestConfig, resource) },
        { "tee", offsetof(AttestConfig, tee) },
        { "tcti", offsetof(AttestConfig, tcti) },
        { "ca", offsetof(AttestConfig, ca_file) },
        { "pinned-pubkey", offsetof(AttestConfig, pinned_pubkey) },
        { "proxy", offsetof(AttestConfig, proxy) },
};

typedef struct NumberKey {
        const char *name;
        size_t offset;
        long min, max;
} NumberKey;

/* The minimums keep a typo from making every request fail at once (a timeout of 0 ms). */
static const NumberKey number_keys[] = {
        { "connect-timeout-ms", offsetof(HttpOptions, connect_timeout_ms), 100, 600000 },
        { "response-timeout-ms", offsetof(HttpOptions, response_timeout_ms), 100, 600000 },
        { "deadline-ms", offsetof(HttpOptions, deadline_ms), 1000, 3600000 },
        { "backoff-initial-ms", offsetof(HttpOptions, backoff_initial_ms), 1, 60000 },
        { "backoff-max-ms", offsetof(HttpOptions, backoff_max_ms), 1, 600000 },
};

static int set_value(AttestConfig *c, const char *key, const char *value, unsigned line,
                     uint64_t *seen, char *reason, size_t reason_size) {
        for (size_t i = 0; i < ELEMENTSOF(string_keys); i++) {
                if (!streq(key, string_keys[i].name))
                        continue;
                if (*seen & (UINT64_C(1) << i))
                        return fail(reason, reason_size, line, "\"%s\" is set twice", key);
                *seen |= UINT64_C(1) << i;

                if (streq(key, "url") && strncmp(value, "https://", 8) != 0)
                        return fail(reason, reason_size, line, "url must start with https://");
                if (streq(key, "resource") && !kbs_resource_valid(value))
                        return fail(reason, reason_size, line,
                                    "resource must be REPOSITORY/TYPE/TAG of letters, digits, "
                                    "'-', '_' and '.'");
                if (streq(key, "tee") && !streq(value, "auto") && !streq(value, "tpm") &&
                    !streq(value, "tdx") && !streq(value, "snp"))
                        return fail(reason, reason_size, line,
                                    "tee must be auto, tpm, tdx or snp (\"%s\")", value);
                if (streq(key, "pinned-pubkey") && strncmp(value, "sha256//", 8) != 0)
                        return fail(reason, reason_size, line,
                                    "pinned-pubkey must be sha256//BASE64 of the public key");

                char **slot = (char **) ((char *) c + string_keys[i].offset);
                *slot = strdup(value);
                return *slot ? 0 : -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(number_keys); i++) {
                long v;
                if (!streq(key, number_keys[i].name))
                        continue;
                if (*seen & (UINT64_C(1) << (32 + i)))
                        return fail(reason, reason_size, line, "\"%s\" is set twice", key);
                *seen |= UINT64_C(1) << (32 + i);
                if (parse_ms(value, number_keys[i].max, &v) < 0 || v < number_keys[i].min)
                        return fail(reason, reason_size, line,
                                    "%s must be a number of milliseconds from %ld to %ld", key,
                                    number_keys[i].min, number_keys[i].max);
                *(long *) ((char *) &c->http + number_keys[i].offset) = v;
                return 0;
        }

        if (streq(key, "retries") || streq(key, "handshake-retries")) {
                uint64_t bit = UINT64_C(1) << (streq(key, "retries") ? 48 : 49);
                long v;
                if (*seen & bit)
                        return fail(reason, reason_size, line, "\"%s\" is set twice", key);
                *seen |= bit;
                if (parse_ms(value, 100, &v) < 0)
                        return fail(reason, reason_size, line, "%s must be 0 to 100", key);
                *(streq(key, "retries") ? &c->http.retries : &c->handshake_retries) = (unsigned) v;
                return 0;
        }
        return fail(reason, reason_size, line, "unknown key \"%s\"", key);
}

static char *trim(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                s[--n] = '\0';
        return s;
}

int attest_config_parse(AttestConfig *c, const char *text, size_t size, char *reason,
                        size_t reason_size) {
        _cleanup_free_ char *copy = NULL;
        uint64_t seen = 0;
        unsigned line = 0;
        char *next;
        int r;

        if (size > ATTEST_CONFIG_SIZE_MAX)
                return fail(reason, reason_size, 0, "larger than %d bytes", ATTEST_CONFIG_SIZE_MAX);
        if (memchr(text, '\0', size))
                return fail(reason, reason_size, 0, "contains a NUL byte");
        copy = strndup(text, size);
        if (!copy)
                return -ENOMEM;

        for (char *p = copy; p; p = next) {
                char *eq, *key, *value;

                line++;
                next = strchr(p, '\n');
                if (next)
                        *next++ = '\0';
                for (char *q = p; *q; q++)
                        if ((unsigned char) *q < 0x20 && *q != '\t')
                                return fail(reason, reason_size, line, "control character 0x%02x",
                                            (unsigned char) *q);
                p = trim(p);
                if (*p == '\0' || *p == '#')
                        continue;

                eq = strchr(p, '=');
                if (!eq)
                        return fail(reason, reason_size, line, "expected KEY = VALUE");
                *eq = '\0';
                key = trim(p);
                value = trim(eq + 1);
                if (*key == '\0' || *value == '\0')
                        return fail(reason, reason_size, line, "expected KEY = VALUE");
                r = set_value(c, key, value, line, &seen, reason, reason_size);
                if (r < 0)
                        return r;
        }

        if (!c->url || !c->resource || !c->ca_file)
                return fail(reason, reason_size, line, "url, resource and ca are required");
        if (c->http.backoff_max_ms < c->http.backoff_initial_ms)
                return fail(reason, reason_size, line,
                            "backoff-max-ms (%ld) is below backoff-initial-ms (%ld)",
                            c->http.backoff_max_ms, c->http.backoff_initial_ms);
        c->http.ca_file = c->ca_file;
        c->http.pinned_pubkey = c->pinned_pubkey;
        c->http.proxy = c->proxy;
        return 0;
}

int attest_config_load(AttestConfig *c, const char *path) {
        _cleanup_free_ char *text = NULL;
        char reason[256];
        size_t size;
        int r;

        r = read_full_file(path, ATTEST_CONFIG_SIZE_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read attestation config '%s': %m", path);
        r = attest_config_parse(c, text, size, reason, sizeof reason);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, reason);
        return 0;
}
