/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "kbs-handlers.h"

/* The HTTP(S) front of devgate-kbs, on libmicrohttpd: bodies limited before they are read,
 * idle connections timed out, slow requests cut off, the number of connections capped, one
 * log line per request. */

typedef struct KbsHttpOptions {
        const char *listen;   /* an IPv4 or IPv6 address; "::" listens on both */
        uint16_t port;        /* 0: any free port */
        const char *cert_pem; /* PEM certificate chain and key; NULL for plain HTTP */
        const char *key_pem;
        unsigned threads;
        unsigned connection_max;
        unsigned per_ip_connection_max; /* 0: no limit */
        unsigned connection_timeout;    /* seconds without progress before a connection goes */
        /* Seconds a request may take in all, from the connection's start or the end of the
         * previous request on it to the last byte of the answer; 0: no limit. */
        unsigned request_timeout;
} KbsHttpOptions;

typedef struct KbsHttp KbsHttp;

/* Starts serving in threads of its own. -EINVAL for a bad address, -EADDRINUSE and the like
 * when it cannot listen, -EKEYREJECTED when the TLS library refuses the certificate or key,
 * -EOPNOTSUPP when libmicrohttpd was built without TLS; logged here. */
int kbs_http_start(KbsServer *server, const KbsHttpOptions *o, KbsHttp **ret, uint16_t *ret_port);

/* Stops listening, finishes or closes what is in flight. Accepts NULL, returns NULL. */
KbsHttp *kbs_http_stop(KbsHttp *h);
