// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "kbs-config.h"
#include "kbs-handlers.h"
#include "kbs-session.h"
#include "macro.h"

typedef enum SettingType {
        SETTING_STRING,
        SETTING_SWITCH,
        SETTING_NUMBER,
} SettingType;

typedef struct Setting {
        const char *name;
        SettingType type;
        size_t offset;
        unsigned min, max; /* SETTING_NUMBER */
} Setting;

#define STRING(n, field)                                                                           \
        { n, SETTING_STRING, offsetof(KbsConfig, field), 0, 0 }
#define SWITCH(n, field)                                                                           \
        { n, SETTING_SWITCH, offsetof(KbsConfig, field), 0, 0 }
#define NUMBER(n, field, lo, hi)                                                                   \
        { n, SETTING_NUMBER, offsetof(KbsConfig, field), lo, hi }

static const Setting settings[] = {
        STRING("listen", listen),
        NUMBER("port", port, 0, 65535),
        STRING("port-file", port_file),
        STRING("cert", cert),
        STRING("key", key),
        SWITCH("insecure-http", insecure_http),
        SWITCH("insecure-sample", insecure_sample),
        STRING("trusted-aks", trusted_aks),
        STRING("reference", reference),
        STRING("access", access),
        STRING("resources", resources),
        NUMBER("session-max", session_max, 1, KBS_SESSION_MAX_LIMIT),
        NUMBER("session-ttl", session_ttl, 1, KBS_SESSION_TTL_MAX),
        NUMBER("connection-max", connection_max, 1, 1000000),
        NUMBER("per-ip-connection-max", per_ip_connection_max, 0, 1000000),
        NUMBER("connection-timeout", connection_timeout, 1, 3600),
        NUMBER("request-timeout", request_timeout, 0, 3600),
        NUMBER("threads", threads, 0, 256),
        NUMBER("resource-size-max", resource_size_max, 1, 12U * 1024U * 1024U),
};

void kbs_config_init(KbsConfig *c) {
        *c = (KbsConfig){
                .port = KBS_PORT_DEFAULT,
                .session_max = KBS_SESSION_MAX_DEFAULT,
                .session_ttl = KBS_SESSION_TTL_DEFAULT,
                .connection_max = KBS_CONNECTION_MAX_DEFAULT,
                .connection_timeout = KBS_CONNECTION_TIMEOUT_DEFAULT,
                .request_timeout = KBS_REQUEST_TIMEOUT_DEFAULT,
                .resource_size_max = KBS_RESOURCE_SIZE_MAX_DEFAULT,
        };
}

void kbs_config_done(KbsConfig *c) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (settings[i].type == SETTING_STRING)
                        free(*(char **) ((char *) c + settings[i].offset));
        *c = (KbsConfig){};
}

static const Setting *find(const char *name, size_t *ret_index) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (streq(settings[i].name, name)) {
                        *ret_index = i;
                        return &settings[i];
                }
        return NULL;
}

int kbs_config_is_switch(const char *name) {
        size_t i;
        const Setting *s = find(name, &i);
        return s ? s->type == SETTING_SWITCH : -ENOENT;
}

static int parse_switch(const char *value, bool *ret) {
        if (streq(value, "true") || streq(value, "yes") || streq(value, "1"))
                *ret = true;
        else if (streq(value, "false") || streq(value, "no") || streq(value, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_number(const char *value, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        if (value[0] < '0' || value[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno != 0 || *end || v < min || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int apply(KbsConfig *c, const Setting *s, const char *value, char *reason,
                 size_t reason_size) {
        void *field = (char *) c + s->offset;
        int r;

        switch (s->type) {
        case SETTING_STRING:
                if (!value[0]) {
                        snprintf(reason, reason_size, "%s needs a value", s->name);
                        return -EINVAL;
                }
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                free(*(char **) field);
                *(char **) field = copy;
                return 0;
        case SETTING_SWITCH:
                r = parse_switch(value, field);
                if (r < 0)
                        snprintf(reason, reason_size, "%s takes true or false, not \"%s\"", s->name,
                                 value);
                return r;
        case SETTING_NUMBER:
                r = parse_number(value, s->min, s->max, field);
                if (r < 0)
                        snprintf(reason, reason_size, "%s takes a number from %u to %u, not \"%s\"",
                                 s->name, s->min, s->max, value);
                return r;
        }
        return -EINVAL;
}

int kbs_config_set_flag(KbsConfig *c, const char *name, const char *value, char *reason,
                        size_t reason_size) {
        size_t i;
        const Setting *s = find(name, &i);
        int r;

        if (!s) {
                snprintf(reason, reason_size, "unknown setting \"%s\"", name);
                return -ENOENT;
        }
        r = apply(c, s, value ?: "true", reason, reason_size);
        if (r >= 0)
                c->set_by_flag |= 1ULL << i;
        return r;
}

static char *strip(char *s) {
        char *end;
        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                *--end = '\0';
        return s;
}

int kbs_config_load_file(KbsConfig *c, const char *path, char *reason, size_t reason_size) {
        _cleanup_free_ char *text = NULL;
        char why[256], *line, *next;
        unsigned number = 0;
        size_t size;
        int r;

        r = read_full_file(path, KBS_CONFIG_SIZE_MAX, &text, &size);
        if (r < 0) {
                snprintf(reason, reason_size, "%s: %s", path,
                         r == -EFBIG ? "file too large" : strerror(-r));
                return r;
        }
        if (strlen(text) != size) {
                snprintf(reason, reason_size, "%s: contains a NUL byte", path);
                return -EINVAL;
        }

        for (line = text; line; line = next) {
                char *key, *value, *eq;
                const Setting *s;
                size_t i;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                number++;
                line = strip(line);
                if (!line[0] || line[0] == '#')
                        continue;

                eq = strchr(line, '=');
                if (!eq) {
                        snprintf(reason, reason_size, "%s:%u: expected NAME = VALUE", path, number);
                        return -EINVAL;
                }
                *eq = '\0';
                key = strip(line);
                value = strip(eq + 1);
                s = find(key, &i);
                if (!s || streq(key, "config")) {
                        snprintf(reason, reason_size, "%s:%u: unknown setting \"%.64s\"", path,
                                 number, key);
                        return -EINVAL;
                }
                if (c->set_by_file & (1ULL << i)) {
                        snprintf(reason, reason_size, "%s:%u: \"%s\" is set twice", path, number,
                                 key);
                        return -EINVAL;
                }
                c->set_by_file |= 1ULL << i;
                if (c->set_by_flag & (1ULL << i))
                        continue; /* the command line wins */
                r = apply(c, s, value, why, sizeof why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        snprintf(reason, reason_size, "%s:%u: %s", path, number, why);
                        return r;
                }
        }
        return 0;
}
