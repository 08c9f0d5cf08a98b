/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The settings of devgate-kbs. Each one can be given as a command-line flag (--NAME VALUE, or
 * --NAME alone for a switch) or as a line "NAME = VALUE" of the file --config names; flags
 * override the file. In the file: '#' starts a comment line, blank lines are ignored, each
 * NAME at most once, unknown names are errors, switches take true/false (yes/no, 1/0). */

#define KBS_LISTEN_DEFAULT             "127.0.0.1"
#define KBS_PORT_DEFAULT               8080U
#define KBS_SESSION_MAX_DEFAULT        10000U
#define KBS_SESSION_TTL_DEFAULT        300U
#define KBS_CONNECTION_MAX_DEFAULT     1024U
#define KBS_CONNECTION_TIMEOUT_DEFAULT 10U
#define KBS_REQUEST_TIMEOUT_DEFAULT    30U
#define KBS_RESOURCE_SIZE_MAX_DEFAULT  (1024U * 1024U)
#define KBS_CONFIG_SIZE_MAX            (64U * 1024U)

typedef struct KbsConfig {
        char *listen;
        unsigned port;
        char *port_file;
        char *cert;
        char *key;
        bool insecure_http;
        bool insecure_sample;
        char *trusted_aks;
        char *reference;
        char *access;
        char *resources;
        unsigned session_max;
        unsigned session_ttl;
        unsigned connection_max;
        unsigned per_ip_connection_max;
        unsigned connection_timeout;
        unsigned request_timeout; /* 0: no limit */
        unsigned threads;         /* 0: one per CPU */
        unsigned resource_size_max;
        /* Which settings were given, so that the file does not override a flag and does not
         * name one twice. */
        unsigned long long set_by_flag, set_by_file;
} KbsConfig;

void kbs_config_init(KbsConfig *c);
void kbs_config_done(KbsConfig *c);

/* True for settings that are switches (no value on the command line). -ENOENT unknown. */
int kbs_config_is_switch(const char *name);

/* Sets one setting from a flag: -ENOENT unknown name, -EINVAL bad value, with a reason. */
int kbs_config_set_flag(KbsConfig *c, const char *name, const char *value, char *reason,
                        size_t reason_size);

/* Reads a configuration file; settings already given as flags are left alone. -EINVAL with
 * "FILE:LINE: reason", or the error of reading it. */
int kbs_config_load_file(KbsConfig *c, const char *path, char *reason, size_t reason_size);
