// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate-kbs: the reference attestation server for devgate guests. It speaks the subset of
 * the Trustee KBS protocol (RCAR 0.4.0) the agent uses: checks a guest's TPM evidence against
 * the operator's registered AKs and reference values, and hands it the resources (signed
 * device policies) the access rules allow, encrypted to the key bound into its evidence. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "kbs-config.h"
#include "kbs-handlers.h"
#include "kbs-http.h"
#include "log.h"
#include "macro.h"
#include "tpm-verify.h"

/* Exit status, as devgate-kbs(8) documents it. */
enum {
        EXIT_STOPPED = 0, /* stopped by SIGTERM or SIGINT */
        EXIT_FAILED = 1,  /* could not start or keep running: listening, memory */
        EXIT_USAGE = 2,   /* bad flags or configuration file */
        EXIT_INPUT = 3,   /* an operator file is unreadable or invalid */
};

#define PEM_SIZE_MAX (1024U * 1024U)
#define THREADS_MAX  64L

static void help(void) {
        printf("Usage: devgate-kbs [OPTIONS]\n"
               "\n"
               "Attestation server for devgate guests: the Trustee KBS protocol "
               "(RCAR " KBS_PROTOCOL_VERSION ")\n"
               "subset devgate speaks. Verifies TPM evidence against registered attestation\n"
               "keys and reference PCR values, then serves the resources the access rules\n"
               "allow, encrypted (JWE) to the key bound into the evidence.\n"
               "\n"
               "Endpoints: POST /kbs/v0/auth, POST /kbs/v0/attest,\n"
               "           GET /kbs/v0/resource/REPOSITORY/TYPE/TAG\n"
               "\n"
               "Options (each also a NAME = VALUE line of the --config file; flags win):\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "  -v --verbose              Log debug messages\n"
               "     --config FILE          Read settings from FILE\n"
               "     --listen ADDR          IPv4 or IPv6 address to listen on; \"::\" for all\n"
               "                            (default " KBS_LISTEN_DEFAULT ")\n"
               "     --port N               TCP port; 0 picks a free one (default %u)\n"
               "     --port-file FILE       Write the port listened on to FILE once serving\n"
               "     --cert FILE            PEM certificate chain of the server (HTTPS)\n"
               "     --key FILE             PEM private key of the server, unencrypted\n"
               "     --insecure-http        Serve plain HTTP (behind a TLS proxy only)\n"
               "     --trusted-aks DIR      Registered TPM attestation keys: PEM *.pub files\n"
               "     --reference FILE       Reference PCR values, JSON (see devgate-kbs(8))\n"
               "     --access FILE          Access rules, JSON; without it nothing is served\n"
               "     --resources DIR        Resources, as DIR/REPOSITORY/TYPE/TAG files\n"
               "     --resource-size-max N  Largest resource served, bytes (default %u)\n"
               "     --insecure-sample      Accept TEE \"sample\", which proves nothing (tests)\n"
               "     --session-max N        Sessions kept; the oldest go first (default %u)\n"
               "     --session-ttl SEC      Session lifetime from auth (default %u)\n"
               "     --connection-max N     Concurrent connections (default %u)\n"
               "     --per-ip-connection-max N\n"
               "                            Concurrent connections per client address\n"
               "                            (default 0: no limit)\n"
               "     --connection-timeout SEC\n"
               "                            Idle time before a connection is closed (default %u)\n"
               "     --request-timeout SEC  Time a request may take in all, slow clients\n"
               "                            included; 0: no limit (default %u)\n"
               "     --threads N            Worker threads (default 0: one per CPU)\n"
               "\n"
               "Exit status: 0 stopped by SIGTERM or SIGINT, 1 could not start or run,\n"
               "2 usage or configuration error, 3 an operator file is unreadable or invalid.\n"
               "See devgate-kbs(8).\n",
               KBS_PORT_DEFAULT, KBS_RESOURCE_SIZE_MAX_DEFAULT, KBS_SESSION_MAX_DEFAULT,
               KBS_SESSION_TTL_DEFAULT, KBS_CONNECTION_MAX_DEFAULT, KBS_CONNECTION_TIMEOUT_DEFAULT,
               KBS_REQUEST_TIMEOUT_DEFAULT);
}

static int usage_error(void) {
        fprintf(stderr, "Try 'devgate-kbs --help' for more information.\n");
        return EXIT_USAGE;
}

static int parse_argv(int argc, char *argv[], KbsConfig *c, char **ret_config) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_SETTING };
        static const char *const names[] = {
                "listen",
                "port",
                "port-file",
                "cert",
                "key",
                "insecure-http",
                "insecure-sample",
                "trusted-aks",
                "reference",
                "access",
                "resources",
                "session-max",
                "session-ttl",
                "connection-max",
                "per-ip-connection-max",
                "connection-timeout",
                "request-timeout",
                "threads",
                "resource-size-max",
        };
        struct option options[ELEMENTSOF(names) + 5] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "verbose", no_argument, NULL, 'v' },
                { "config", required_argument, NULL, ARG_CONFIG },
        };
        char reason[256];
        int opt, index;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                options[4 + i] =
                        (struct option){ names[i],
                                         kbs_config_is_switch(names[i]) > 0 ? no_argument
                                                                            : required_argument,
                                         NULL, ARG_SETTING };

        while ((opt = getopt_long(argc, argv, "hv", options, &index)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("devgate-kbs " DEVGATE_VERSION "\n");
                        return 0;
                case 'v':
                        log_setup(LOG_TARGET_STDERR, LOG_DEBUG);
                        break;
                case ARG_CONFIG:
                        free(*ret_config);
                        *ret_config = strdup(optarg);
                        if (!*ret_config)
                                return -ENOMEM;
                        break;
                case ARG_SETTING:
                        if (kbs_config_set_flag(c, options[index].name, optarg, reason,
                                                sizeof reason) < 0) {
                                log_error("--%s: %s", options[index].name, reason);
                                return -EINVAL;
                        }
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int read_pem(const char *path, const char *what, char **ret) {
        size_t size;
        int r = read_full_file(path, PEM_SIZE_MAX, ret, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the %s '%s': %m", what, path);
        if (strlen(*ret) != size || !strstr(*ret, "-----BEGIN ")) {
                free(*ret);
                *ret = NULL;
                return log_error_errno(-EINVAL, "The %s '%s' is not PEM.", what, path);
        }
        return 0;
}

static void announce_insecure(const KbsConfig *c) {
        if (c->insecure_sample) {
                /* Loud on purpose: a production server started like this hands resources to
                 * anyone who can compute a SHA-384. */
                log_warning("*****************************************************************");
                log_warning("WARNING: --insecure-sample: TEE \"sample\" evidence is ACCEPTED.");
                log_warning("WARNING: It is signed by nothing and proves nothing: any client can");
                log_warning("WARNING: attest with it. For tests only, never in production.");
                log_warning("*****************************************************************");
        }
        if (c->insecure_http)
                log_warning("WARNING: --insecure-http: serving plain HTTP. Only behind a TLS "
                            "proxy on the same host.");
}

typedef struct Loaded {
        TpmAkSet *aks;
        KbsReference *reference;
        KbsAccess *access;
        int resources_fd;
        char *cert_pem, *key_pem;
} Loaded;

static void loaded_done(Loaded *l) {
        tpm_ak_set_free(l->aks);
        kbs_reference_free(l->reference);
        kbs_access_free(l->access);
        safe_close(l->resources_fd);
        free(l->cert_pem);
        if (l->key_pem) {
                explicit_bzero(l->key_pem, strlen(l->key_pem));
                free(l->key_pem);
        }
        *l = (Loaded){ .resources_fd = -EBADF };
}

/* Everything the operator provides, checked before serving: a typo fails the start, not the
 * first guest. */
static int load_inputs(const KbsConfig *c, Loaded *l) {
        char reason[512];
        int r;

        if (!c->insecure_http) {
                r = read_pem(c->cert, "certificate", &l->cert_pem);
                if (r >= 0)
                        r = read_pem(c->key, "private key", &l->key_pem);
                if (r < 0)
                        return r;
        }

        if (c->trusted_aks) {
                r = tpm_ak_set_load(c->trusted_aks, &l->aks, reason, sizeof reason);
                if (r < 0)
                        return log_error_errno(r, "Failed to load the trusted AKs from '%s': %s",
                                               c->trusted_aks, reason);
                log_info("%zu trusted AK(s) in '%s'.", tpm_ak_set_size(l->aks), c->trusted_aks);
        } else
                log_warning("No --trusted-aks: every \"tpm\" attestation will be refused.");

        if (c->reference) {
                r = kbs_reference_load(c->reference, &l->reference, reason, sizeof reason);
                if (r < 0)
                        return log_error_errno(r, "Invalid reference values: %s", reason);
                log_info("%zu reference set(s) in '%s'.", kbs_reference_count(l->reference),
                         c->reference);
        } else
                log_warning("No --reference: every \"tpm\" attestation will be refused.");

        if (c->access) {
                r = kbs_access_load(c->access, l->reference, &l->access, reason, sizeof reason);
                if (r < 0)
                        return log_error_errno(r, "Invalid access rules: %s", reason);
                log_info("%zu access rule(s) in '%s'.", kbs_access_count(l->access), c->access);
        } else
                log_warning("No --access: every resource request will be denied.");

        if (c->resources) {
                l->resources_fd = open(c->resources, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (l->resources_fd < 0)
                        return log_error_errno(negative_errno(),
                                               "Failed to open the resources directory '%s': %m",
                                               c->resources);
        } else
                log_warning("No --resources: every resource request will get 404.");
        return 0;
}

static int write_port_file(const char *path, unsigned port) {
        char text[16];
        int n = snprintf(text, sizeof text, "%u\n", port);
        int r = write_file_atomic(path, text, (size_t) n, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the port file '%s': %m", path);
        return 0;
}

static int run(const KbsConfig *c) {
        _cleanup_(kbs_session_table_freep) KbsSessionTable *sessions = NULL;
        _cleanup_(kbs_token_signer_freep) KbsTokenSigner *signer = NULL;
        _cleanup_(loaded_done) Loaded loaded = { .resources_fd = -EBADF };
        KbsHttp *http = NULL;
        KbsHttpOptions http_options;
        KbsServer server;
        sigset_t stop;
        uint16_t port;
        long threads = c->threads;
        int r, sig;

        announce_insecure(c);
        if (load_inputs(c, &loaded) < 0)
                return EXIT_INPUT;

        r = kbs_session_table_new(c->session_max, c->session_ttl, &sessions);
        if (r >= 0)
                r = kbs_token_signer_new(&signer);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILED;
        }

        server = (KbsServer){
                .sessions = sessions,
                .verifier = {
                        .trusted_aks = loaded.aks,
                        .reference = loaded.reference,
                        .insecure_sample = c->insecure_sample,
                },
                .reference = loaded.reference,
                .access = loaded.access,
                .signer = signer,
                .resources_fd = loaded.resources_fd,
                .resource_size_max = c->resource_size_max,
        };

        if (threads == 0) {
                threads = sysconf(_SC_NPROCESSORS_ONLN);
                threads = threads < 1 ? 1 : threads > THREADS_MAX ? THREADS_MAX : threads;
        }
        http_options = (KbsHttpOptions){
                .listen = c->listen ?: KBS_LISTEN_DEFAULT,
                .port = (uint16_t) c->port,
                .cert_pem = loaded.cert_pem,
                .key_pem = loaded.key_pem,
                .threads = (unsigned) threads,
                .connection_max = c->connection_max,
                .per_ip_connection_max = c->per_ip_connection_max,
                .connection_timeout = c->connection_timeout,
                .request_timeout = c->request_timeout,
        };

        /* Blocked before the server's threads start, so that they inherit the mask and the
         * signals reach sigwait() below. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = kbs_http_start(&server, &http_options, &http, &port);
        if (r < 0)
                return EXIT_FAILED;
        log_info("Listening on %s://%s%s%s:%u (%ld threads, sessions: %u max, %u s).",
                 c->insecure_http ? "http" : "https", strchr(http_options.listen, ':') ? "[" : "",
                 http_options.listen, strchr(http_options.listen, ':') ? "]" : "", port, threads,
                 c->session_max, c->session_ttl);
        if (c->port_file && write_port_file(c->port_file, port) < 0) {
                kbs_http_stop(http);
                return EXIT_FAILED;
        }

        do
                r = sigwait(&stop, &sig);
        while (r != 0);
        log_info("Stopping (signal %d).", sig);
        kbs_http_stop(http);
        return EXIT_STOPPED;
}

static bool listen_address_valid(const char *s) {
        struct in6_addr a;
        return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *config_file = NULL;
        KbsConfig c;
        char reason[512];
        int r;

        log_set_prefix("devgate-kbs");
        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        kbs_config_init(&c);

        r = parse_argv(argc, argv, &c, &config_file);
        if (r <= 0) {
                kbs_config_done(&c);
                return r == 0 ? EXIT_SUCCESS : r == -ENOMEM ? EXIT_FAILED : usage_error();
        }
        if (config_file) {
                r = kbs_config_load_file(&c, config_file, reason, sizeof reason);
                if (r < 0) {
                        log_error("Invalid configuration: %s", reason);
                        kbs_config_done(&c);
                        return EXIT_USAGE;
                }
        }

        if (!listen_address_valid(c.listen ?: KBS_LISTEN_DEFAULT)) {
                log_error("--listen takes an IPv4 or IPv6 address, not '%s'.", c.listen);
                r = EXIT_USAGE;
        } else if (c.insecure_http && (c.cert || c.key)) {
                log_error("--insecure-http and --cert/--key exclude each other.");
                r = EXIT_USAGE;
        } else if (!c.insecure_http && (!c.cert || !c.key)) {
                log_error("HTTPS needs --cert FILE and --key FILE (or --insecure-http behind a "
                          "TLS proxy).");
                r = EXIT_USAGE;
        } else
                r = run(&c);

        kbs_config_done(&c);
        return r;
}
