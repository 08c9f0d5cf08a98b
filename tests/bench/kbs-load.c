// SPDX-License-Identifier: LGPL-2.1-or-later
/* kbs-load: a load generator for devgate-kbs. N client threads, each with one libcurl easy
 * handle (one kept-alive TLS connection), do what a guest does, in a loop:
 *
 *   POST /kbs/v0/auth (tee "tpm"), a fresh P-256 tee key, the report data of the nonce and
 *   that key, a TPM quote (TPMS_ATTEST) over 24 SHA-256 PCRs with the report data as
 *   extraData, signed RSASSA-SHA256 by a software AK, POST /kbs/v0/attest, GET the resource,
 *   decrypt the JWE and compare it with the published bytes.
 *
 * No TPM: the quote is built with the TSS marshalling functions and signed by OpenSSL with the
 * AK's private key, which the verifier cannot tell from a TPM's quote (it checks the
 * signature, the structure, the PCR digest and the report data, as tpm-verify.h says). The
 * tee key is made anew for every attestation, as devgate attest does: it costs a P-256 key
 * generation (tens of microseconds), little next to the RSA signature the quote needs.
 *
 * Prints one line of key=value pairs: attestations per second, latency of a whole attestation
 * (auth to decrypted resource) at p50/p99/max, errors, and the CPU time per attestation of the
 * client and (with --server-pid) of the server, and the share of the machine's CPUs that
 * other processes took meanwhile (other_cpu_pct: this benchmark runs on shared machines).
 *
 * --flood N instead sends N auth requests and abandons every session they create, then prints
 * the server's VmRSS before, halfway and after, and its VmHWM (peak), from /proc/PID/status.
 *
 *   kbs-load --url URL --ca FILE --resource REPO/TYPE/TAG --expect FILE --ak-key PEM
 *            --pcrs FILE [--clients N] [--seconds S | --attestations N] [--server-pid PID]
 *   kbs-load --url URL --ca FILE --flood N [--clients N] [--server-pid PID]
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "base64.h"
#include "fileio.h"
#include "jwe.h"
#include "jwk.h"
#include "macro.h"
#include "reportdata.h"
#include "tpm-quote.h"

#define PCR_SIZE        32
#define AK_RSA_BYTES    256
#define SESSION_ID_LEN  32
#define COOKIE_NAME     "kbs-session-id"
#define ERRORS_SHOWN    5
#define REQUEST_TIMEOUT 30000L /* ms: far above any answer; a hung server shows as an error */

typedef struct Options {
        const char *url, *ca, *resource, *expect, *ak_key, *pcrs;
        unsigned clients;
        double seconds;
        long attestations; /* 0: run for --seconds */
        long flood;        /* auth requests; 0: full attestations */
        long server_pid;   /* 0: none */
} Options;

/* What every client reads, set up once before they start. */
typedef struct Shared {
        const Options *o;
        char *auth_url, *attest_url, *resource_url;
        char *ak_pem; /* each client parses its own copy of the key, see client_setup() */
        size_t ak_pem_size;
        char *ak_public_b64;
        uint8_t ak_name[2 + PCR_SIZE]; /* TPM2_ALG_SHA256 || SHA-256 of the AK's DER */
        char pcr_hex[TPM_QUOTE_PCRS][2 * PCR_SIZE + 1];
        uint8_t pcr_digest[PCR_SIZE];
        char *expected;
        size_t expected_size;
        EVP_MD *sha256; /* fetched once: an implicit fetch per use takes OpenSSL's global lock */

        pthread_barrier_t ready, go;
        atomic_long budget;   /* --attestations, or the requests of --flood, left to start */
        atomic_long sent;     /* --flood: requests done, for the halfway RSS */
        atomic_uint finished; /* clients that returned */
        atomic_bool setup_failed;
        uint64_t deadline_usec;

        pthread_mutex_t errors_lock;
        unsigned n_errors_shown;
        char errors_shown[ERRORS_SHOWN][384];
} Shared;

typedef struct Client {
        Shared *shared;
        pthread_t thread;
        CURL *curl;
        struct curl_slist *headers;
        EVP_PKEY *ak;
        char *body;
        size_t body_size, body_allocated;
        char session[SESSION_ID_LEN + 1];
        char cookie[sizeof(COOKIE_NAME) + SESSION_ID_LEN + 1];
        char curl_error[CURL_ERROR_SIZE];
        double *latencies_ms;
        size_t n_latencies, latencies_allocated;
        long done, created, errors;
} Client;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

#define MAX(a, b) ((a) > (b) ? (a) : (b))

static void evp_pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

static void EVP_MD_CTX_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

static void BIO_freep(BIO **p) {
        BIO_free(*p);
}

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void json_putp(json_object **o) {
        json_object_put(*o);
}

/* The first few distinct failures, for the operator: the count alone says nothing about why. */
static void record_error(Client *c, const char *format, ...) _printf_(2, 3);
static void record_error(Client *c, const char *format, ...) {
        Shared *s = c->shared;
        char message[384];
        va_list ap;

        c->errors++;
        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);

        pthread_mutex_lock(&s->errors_lock);
        bool seen = false;
        for (unsigned i = 0; i < s->n_errors_shown; i++)
                seen = seen || streq(s->errors_shown[i], message);
        if (!seen && s->n_errors_shown < ERRORS_SHOWN)
                memcpy(s->errors_shown[s->n_errors_shown++], message, sizeof message);
        pthread_mutex_unlock(&s->errors_lock);
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        Client *c = userdata;
        size_t len = size * n;

        if (c->body_size + len + 1 > c->body_allocated) {
                size_t want = MAX(c->body_allocated * 2, c->body_size + len + 1);
                char *p = realloc(c->body, want);
                if (!p)
                        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
                c->body = p;
                c->body_allocated = want;
        }
        memcpy(c->body + c->body_size, data, len);
        c->body_size += len;
        c->body[c->body_size] = '\0';
        return len;
}

/* Takes the session id from "Set-Cookie: kbs-session-id=<32 hex>; Expires=...". */
static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        static const char prefix[] = "Set-Cookie: " COOKIE_NAME "=";
        Client *c = userdata;
        size_t len = size * n;

        if (len >= sizeof prefix - 1 + SESSION_ID_LEN &&
            strncasecmp(data, prefix, sizeof prefix - 1) == 0) {
                memcpy(c->session, data + sizeof prefix - 1, SESSION_ID_LEN);
                c->session[SESSION_ID_LEN] = '\0';
        }
        return len;
}

/* One request on the client's connection. post_body NULL: GET. Returns the HTTP status, or
 * -EIO with the reason recorded. */
static int http(Client *c, const char *url, const char *post_body, bool with_cookie) {
        CURLcode rc;
        long status = 0;

        c->body_size = 0;
        if (c->body)
                c->body[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        if (post_body) {
                curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, post_body);
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long) strlen(post_body));
        } else
                curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        if (with_cookie) {
                snprintf(c->cookie, sizeof c->cookie, COOKIE_NAME "=%s", c->session);
                curl_easy_setopt(c->curl, CURLOPT_COOKIE, c->cookie);
        } else
                curl_easy_setopt(c->curl, CURLOPT_COOKIE, NULL);

        rc = curl_easy_perform(c->curl);
        if (rc != CURLE_OK) {
                record_error(c, "%s: %s", url,
                             c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
                return -EIO;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        return (int) status;
}

static int expect_200(Client *c, const char *what, int status) {
        if (status < 0)
                return status;
        if (status != 200) {
                record_error(c, "%s: HTTP %d %.300s", what, status, c->body ?: "");
                return -EBADMSG;
        }
        return 0;
}

static const char auth_body[] = "{\"version\":\"0.4.0\",\"tee\":\"tpm\",\"extra-params\":\"\"}";

/* POST auth: a new session (c->session) and its nonce. */
static int do_auth(Client *c, char **ret_nonce) {
        _cleanup_(json_putp) json_object *answer = NULL;
        json_object *nonce;
        int r;

        c->session[0] = '\0';
        r = expect_200(c, "auth", http(c, c->shared->auth_url, auth_body, false));
        if (r < 0)
                return r;
        if (strlen(c->session) != SESSION_ID_LEN) {
                record_error(c, "auth: no %s cookie in the answer", COOKIE_NAME);
                return -EBADMSG;
        }
        c->created++;
        if (!ret_nonce)
                return 0;
        answer = json_tokener_parse(c->body);
        if (!answer || !json_object_object_get_ex(answer, "nonce", &nonce) ||
            !json_object_is_type(nonce, json_type_string)) {
                record_error(c, "auth: no nonce in %.160s", c->body);
                return -EBADMSG;
        }
        *ret_nonce = strdup(json_object_get_string(nonce));
        return *ret_nonce ? 0 : -ENOMEM;
}

/* What a TPM's TPM2_Quote returns for these PCRs and this qualifying data: the TPMS_ATTEST
 * it signs, and the TPMT_SIGNATURE, both marshalled as the TPM sends them. */
static int make_quote(Client *c, const uint8_t report_data[static TPM_REPORT_DATA_SIZE],
                      uint8_t *message, size_t message_max, size_t *ret_message_size,
                      uint8_t *signature, size_t signature_max, size_t *ret_signature_size) {
        Shared *s = c->shared;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        TPMS_ATTEST attest = {
                .magic = TPM2_GENERATED_VALUE,
                .type = TPM2_ST_ATTEST_QUOTE,
                .clockInfo = { .clock = now_usec() / 1000U, .safe = TPM2_YES },
                .firmwareVersion = 0x20240101,
        };
        TPMS_QUOTE_INFO *q = &attest.attested.quote;
        TPMT_SIGNATURE sig = { .sigAlg = TPM2_ALG_RSASSA };
        size_t offset = 0, sig_size = AK_RSA_BYTES;

        attest.qualifiedSigner.size = sizeof s->ak_name;
        memcpy(attest.qualifiedSigner.name, s->ak_name, sizeof s->ak_name);
        attest.extraData.size = TPM_REPORT_DATA_SIZE;
        memcpy(attest.extraData.buffer, report_data, TPM_REPORT_DATA_SIZE);
        q->pcrSelect.count = 1;
        q->pcrSelect.pcrSelections[0] = (TPMS_PCR_SELECTION){
                .hash = TPM2_ALG_SHA256,
                .sizeofSelect = 3,
                .pcrSelect = { 0xff, 0xff, 0xff }, /* PCRs 0-23 */
        };
        q->pcrDigest.size = PCR_SIZE;
        memcpy(q->pcrDigest.buffer, s->pcr_digest, PCR_SIZE);
        if (Tss2_MU_TPMS_ATTEST_Marshal(&attest, message, message_max, &offset) != TSS2_RC_SUCCESS)
                return -EIO;
        *ret_message_size = offset;

        sig.signature.rsassa.hash = TPM2_ALG_SHA256;
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestSignInit(ctx, NULL, s->sha256, NULL, c->ak) != 1 ||
            EVP_DigestSign(ctx, sig.signature.rsassa.sig.buffer, &sig_size, message, offset) != 1 ||
            sig_size != AK_RSA_BYTES)
                return -EIO;
        sig.signature.rsassa.sig.size = (UINT16) sig_size;
        offset = 0;
        if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, signature, signature_max, &offset) !=
            TSS2_RC_SUCCESS)
                return -EIO;
        *ret_signature_size = offset;
        return 0;
}

static int add_b64(json_object *o, const char *key, const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        int r = base64_encode(data, size, &text);
        if (r < 0)
                return r;
        return json_object_object_add(o, key, json_object_new_string(text)) < 0 ? -ENOMEM : 0;
}

/* The attest request body, Trustee's "tpm" evidence in it (tpm-quote.h). */
static int make_attest_body(Client *c, const char *nonce, json_object *jwk,
                            const uint8_t report_data[static TPM_REPORT_DATA_SIZE], char **ret) {
        Shared *s = c->shared;
        _cleanup_(json_putp) json_object *body = json_object_new_object();
        json_object *runtime = json_object_new_object(), *tee = json_object_new_object(),
                    *evidence = json_object_new_object(), *quote = json_object_new_object(),
                    *pcrs = json_object_new_array_ext(TPM_QUOTE_PCRS);
        uint8_t message[sizeof(TPMS_ATTEST)], signature[sizeof(TPMT_SIGNATURE)];
        size_t message_size, signature_size;
        int r;

        /* Attached first, so that the body's cleanup frees whatever was made. */
        if (!body || !runtime || !tee || !evidence || !quote || !pcrs ||
            json_object_object_add(body, "runtime-data", runtime) < 0 ||
            json_object_object_add(body, "tee-evidence", tee) < 0 ||
            json_object_object_add(tee, "primary_evidence", evidence) < 0 ||
            json_object_object_add(evidence, "tpm_quote", quote) < 0 ||
            json_object_object_add(quote, "pcrs", pcrs) < 0) {
                json_object_put(runtime);
                json_object_put(tee);
                json_object_put(evidence);
                json_object_put(quote);
                json_object_put(pcrs);
                return -ENOMEM;
        }

        r = make_quote(c, report_data, message, sizeof message, &message_size, signature,
                       sizeof signature, &signature_size);
        if (r < 0)
                return r;

        if (json_object_object_add(runtime, "nonce", json_object_new_string(nonce)) < 0 ||
            json_object_object_add(runtime, "tee-pubkey", json_object_get(jwk)) < 0 ||
            json_object_object_add(tee, "additional_evidence", json_object_new_string("")) < 0 ||
            json_object_object_add(evidence, "ak_public",
                                   json_object_new_string(s->ak_public_b64)) < 0)
                return -ENOMEM;
        r = add_b64(evidence, "report_data", report_data, TPM_REPORT_DATA_SIZE);
        if (r >= 0)
                r = add_b64(quote, "message", message, message_size);
        if (r >= 0)
                r = add_b64(quote, "signature", signature, signature_size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++)
                if (json_object_array_add(pcrs, json_object_new_string(s->pcr_hex[i])) < 0)
                        return -ENOMEM;

        *ret = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}

/* One whole attestation, as a guest does it. 0 or a negative errno, the reason recorded. */
static int attest_once(Client *c) {
        Shared *s = c->shared;
        _cleanup_free_ char *nonce = NULL, *body = NULL;
        _cleanup_free_ uint8_t *plaintext = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
        _cleanup_(json_putp) json_object *jwk = NULL;
        uint8_t report_data[KBS_REPORT_DATA_SIZE];
        char reason[256];
        size_t size;
        int r;

        r = do_auth(c, &nonce);
        if (r < 0)
                return r;

        r = tee_key_generate(&key);
        if (r >= 0)
                r = jwk_from_public_key(key, &jwk);
        if (r >= 0)
                r = kbs_report_data(nonce, jwk, "", report_data);
        if (r >= 0)
                r = make_attest_body(c, nonce, jwk, report_data, &body);
        if (r < 0) {
                record_error(c, "cannot make the evidence: %s", strerror(-r));
                return r;
        }

        r = expect_200(c, "attest", http(c, s->attest_url, body, true));
        if (r < 0)
                return r;
        r = expect_200(c, "resource", http(c, s->resource_url, NULL, true));
        if (r < 0)
                return r;

        r = jwe_decrypt(c->body, c->body_size, key, &plaintext, &size, reason, sizeof reason);
        if (r < 0) {
                record_error(c, "resource: cannot decrypt the JWE: %s", reason);
                return r;
        }
        if (size != s->expected_size || memcmp(plaintext, s->expected, size) != 0) {
                record_error(c, "resource: decrypted %zu bytes that are not the published %zu",
                             size, s->expected_size);
                return -EBADMSG;
        }
        return 0;
}

static int add_latency(Client *c, double ms) {
        if (c->n_latencies == c->latencies_allocated) {
                size_t want = MAX(c->latencies_allocated * 2, (size_t) 1024);
                double *p = realloc(c->latencies_ms, want * sizeof *p);
                if (!p)
                        return -ENOMEM;
                c->latencies_ms = p;
                c->latencies_allocated = want;
        }
        c->latencies_ms[c->n_latencies++] = ms;
        return 0;
}

static int client_setup(Client *c) {
        Shared *s = c->shared;
        _cleanup_(BIO_freep) BIO *bio = NULL;

        /* The same AK, parsed by each client: an RSA key signing from several threads at once
         * serializes them on the key's blinding lock, a cost no guest has. */
        if (s->ak_pem) {
                bio = BIO_new_mem_buf(s->ak_pem, (int) s->ak_pem_size);
                if (!bio || !(c->ak = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
                        return -EIO;
        }

        c->curl = curl_easy_init();
        /* No Expect: 100-continue for the attest body (over 1 KiB): it waits for a round trip. */
        c->headers = curl_slist_append(NULL, "Content-Type: application/json");
        c->headers = c->headers ? curl_slist_append(c->headers, "Expect:") : NULL;
        if (!c->curl || !c->headers)
                return -ENOMEM;
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_error);
        curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, s->o->ca);
        curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
        return 0;
}

static void client_done(Client *c) {
        curl_easy_cleanup(c->curl);
        curl_slist_free_all(c->headers);
        EVP_PKEY_free(c->ak);
        free(c->body);
        free(c->latencies_ms);
}

/* Takes one unit of --attestations or --flood; always true when running for a time. */
static bool take_budget(Shared *s) {
        if (s->o->attestations == 0 && s->o->flood == 0)
                return true;
        return atomic_fetch_sub(&s->budget, 1) > 0;
}

static void *client_run(void *userdata) {
        Client *c = userdata;
        Shared *s = c->shared;
        bool ok = client_setup(c) >= 0;

        if (!ok) {
                record_error(c, "client setup failed");
                atomic_store(&s->setup_failed, true);
        } else if (s->o->flood == 0)
                /* Warm-up, not measured: the TLS handshake, which keep-alive makes rare. */
                (void) attest_once(c);

        pthread_barrier_wait(&s->ready);
        pthread_barrier_wait(&s->go);

        while (ok && take_budget(s)) {
                uint64_t start = now_usec();

                if (s->o->flood > 0) {
                        (void) do_auth(c, NULL);
                        atomic_fetch_add(&s->sent, 1);
                        continue;
                }
                if (s->o->attestations == 0 && start >= s->deadline_usec)
                        break;
                if (attest_once(c) >= 0) {
                        c->done++;
                        if (add_latency(c, (double) (now_usec() - start) / 1000.0) < 0)
                                break;
                }
        }
        atomic_fetch_add(&s->finished, 1);
        return NULL;
}

/* VmRSS and VmHWM of the server, in KiB; -1 when unknown. */
static void read_memory(long pid, long *ret_rss, long *ret_hwm) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[64], line[256];

        *ret_rss = *ret_hwm = -1;
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "VmRSS:", 6) == 0)
                        *ret_rss = strtol(line + 6, NULL, 10);
                else if (strncmp(line, "VmHWM:", 6) == 0)
                        *ret_hwm = strtol(line + 6, NULL, 10);
        }
}

/* The server's user+system CPU time in seconds, -1 when unknown. */
static double read_cpu(long pid) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[64], line[1024], *p;
        unsigned long utime, stime;

        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        f = fopen(path, "re");
        if (!f || !fgets(line, sizeof line, f))
                return -1;
        /* The command name may hold anything, ')' too: fields start after the last one. */
        p = strrchr(line, ')');
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                         &stime) != 2)
                return -1;
        return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

/* The busy time of the whole machine, all CPUs, in seconds: what neither the client nor the
 * server used of it is other load, which this shared machine may have and which would
 * otherwise read as a slow server. */
static double machine_busy(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/stat", "re");
        unsigned long long v[8] = {};

        if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
                return -1;
        /* user nice system idle iowait irq softirq steal: all but idle and iowait. */
        return (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double) sysconf(_SC_CLK_TCK);
}

static double own_cpu(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
               (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of all values at or below it. */
static double percentile(const double *sorted, size_t n, double p) {
        size_t rank = (size_t) ceil(p * (double) n);
        return n == 0 ? 0 : sorted[rank > 0 ? rank - 1 : 0];
}

static int load_pcrs(Shared *s, const char *path) {
        _cleanup_free_ char *text = NULL;
        uint8_t values[TPM_QUOTE_PCRS][PCR_SIZE];
        size_t size, n = 0;
        char *save = NULL;

        if (read_full_file(path, 64 * 1024, &text, &size) < 0)
                return -EINVAL;
        for (char *word = strtok_r(text, " \t\r\n", &save); word;
             word = strtok_r(NULL, " \t\r\n", &save)) {
                if (n == TPM_QUOTE_PCRS || strlen(word) != 2 * PCR_SIZE ||
                    strspn(word, "0123456789abcdef") != 2 * PCR_SIZE)
                        return -EINVAL;
                for (size_t i = 0; i < PCR_SIZE; i++)
                        values[n][i] = (uint8_t) strtoul(
                                (char[]){ word[2 * i], word[2 * i + 1], 0 }, NULL, 16);
                memcpy(s->pcr_hex[n++], word, 2 * PCR_SIZE + 1);
        }
        if (n != TPM_QUOTE_PCRS)
                return -EINVAL;
        /* What the verifier recomputes from the values sent: SHA-256 of PCR 0 || ... || 23. */
        return EVP_Digest(values, sizeof values, s->pcr_digest, NULL, s->sha256, NULL) == 1 ? 0
                                                                                            : -EIO;
}

static int load_ak(Shared *s, const char *path) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        uint8_t *p;
        int der_size;

        if (read_full_file(path, 64 * 1024, &s->ak_pem, &s->ak_pem_size) < 0)
                return -EINVAL;
        bio = BIO_new_mem_buf(s->ak_pem, (int) s->ak_pem_size);
        if (!bio || !(key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) ||
            EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) != 2048)
                return -EINVAL;
        der_size = i2d_PUBKEY(key, NULL);
        if (der_size <= 0 || !(der = malloc((size_t) der_size)))
                return -ENOMEM;
        p = der;
        if (i2d_PUBKEY(key, &p) != der_size)
                return -EIO;
        /* A TPM names its key nameAlg || H(TPMT_PUBLIC); the verifier does not read it, so a
         * hash of the DER stands in for it. */
        s->ak_name[0] = (uint8_t) (TPM2_ALG_SHA256 >> 8);
        s->ak_name[1] = (uint8_t) TPM2_ALG_SHA256;
        if (EVP_Digest(der, (size_t) der_size, s->ak_name + 2, NULL, s->sha256, NULL) != 1)
                return -EIO;
        return base64_encode(der, (size_t) der_size, &s->ak_public_b64);
}

static void usage(FILE *f) {
        fprintf(f, "usage: kbs-load --url URL --ca FILE --resource REPO/TYPE/TAG --expect FILE\n"
                   "                --ak-key PEM --pcrs FILE [--clients N]\n"
                   "                [--seconds S | --attestations N] [--server-pid PID]\n"
                   "       kbs-load --url URL --ca FILE --flood N [--clients N] [--server-pid "
                   "PID]\n");
}

static int parse_long(const char *s, long min, long *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || v < min)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_options(int argc, char *argv[], Options *o) {
        static const struct option longopts[] = {
                { "url", required_argument, NULL, 'u' },
                { "ca", required_argument, NULL, 'c' },
                { "resource", required_argument, NULL, 'r' },
                { "expect", required_argument, NULL, 'e' },
                { "ak-key", required_argument, NULL, 'k' },
                { "pcrs", required_argument, NULL, 'p' },
                { "clients", required_argument, NULL, 'n' },
                { "seconds", required_argument, NULL, 's' },
                { "attestations", required_argument, NULL, 'a' },
                { "flood", required_argument, NULL, 'f' },
                { "server-pid", required_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        long v;
        int opt;

        *o = (Options){ .clients = 1, .seconds = 10 };
        while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (opt) {
                case 'u':
                        o->url = optarg;
                        break;
                case 'c':
                        o->ca = optarg;
                        break;
                case 'r':
                        o->resource = optarg;
                        break;
                case 'e':
                        o->expect = optarg;
                        break;
                case 'k':
                        o->ak_key = optarg;
                        break;
                case 'p':
                        o->pcrs = optarg;
                        break;
                case 'n':
                        if (parse_long(optarg, 1, &v) < 0 || v > 4096)
                                return -EINVAL;
                        o->clients = (unsigned) v;
                        break;
                case 's': {
                        char *end;
                        o->seconds = strtod(optarg, &end);
                        if (end == optarg || *end || !(o->seconds > 0))
                                return -EINVAL;
                        break;
                }
                case 'a':
                        if (parse_long(optarg, 1, &o->attestations) < 0)
                                return -EINVAL;
                        break;
                case 'f':
                        if (parse_long(optarg, 1, &o->flood) < 0)
                                return -EINVAL;
                        break;
                case 'P':
                        if (parse_long(optarg, 1, &o->server_pid) < 0)
                                return -EINVAL;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        return -EINVAL;
                }
        }
        if (optind != argc || !o->url || !o->ca)
                return -EINVAL;
        if (o->flood == 0 && (!o->resource || !o->expect || !o->ak_key || !o->pcrs))
                return -EINVAL;
        return 0;
}

static int shared_setup(Shared *s, const Options *o) {
        size_t len = strlen(o->url);
        int r;

        *s = (Shared){ .o = o };
        /* "URL/" and "URL" name the same server. */
        while (len > 0 && o->url[len - 1] == '/')
                len--;
        if (asprintf(&s->auth_url, "%.*s/kbs/v0/auth", (int) len, o->url) < 0 ||
            asprintf(&s->attest_url, "%.*s/kbs/v0/attest", (int) len, o->url) < 0 ||
            asprintf(&s->resource_url, "%.*s/kbs/v0/resource/%s", (int) len, o->url,
                     o->resource ?: "") < 0)
                return -ENOMEM;
        s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (!s->sha256)
                return -EIO;
        if (o->flood == 0) {
                r = load_ak(s, o->ak_key);
                if (r < 0) {
                        fprintf(stderr, "kbs-load: '%s' is not an RSA-2048 private key in PEM.\n",
                                o->ak_key);
                        return r;
                }
                r = load_pcrs(s, o->pcrs);
                if (r < 0) {
                        fprintf(stderr,
                                "kbs-load: '%s' does not hold 24 SHA-256 values in "
                                "lowercase hex.\n",
                                o->pcrs);
                        return r;
                }
                r = read_full_file(o->expect, JWE_PLAINTEXT_SIZE_MAX, &s->expected,
                                   &s->expected_size);
                if (r < 0) {
                        fprintf(stderr, "kbs-load: cannot read '%s': %s\n", o->expect,
                                strerror(-r));
                        return r;
                }
        }
        atomic_init(&s->budget, o->flood > 0 ? o->flood : o->attestations);
        atomic_init(&s->sent, 0);
        atomic_init(&s->finished, 0);
        atomic_init(&s->setup_failed, false);
        if (pthread_mutex_init(&s->errors_lock, NULL) != 0 ||
            pthread_barrier_init(&s->ready, NULL, o->clients + 1) != 0 ||
            pthread_barrier_init(&s->go, NULL, o->clients + 1) != 0)
                return -ENOMEM;
        return 0;
}

static void print_errors(const Shared *s, long errors) {
        for (unsigned i = 0; i < s->n_errors_shown; i++)
                fprintf(stderr, "kbs-load: error: %s\n", s->errors_shown[i]);
        if (errors > (long) s->n_errors_shown)
                fprintf(stderr, "kbs-load: %ld errors in all\n", errors);
}

int main(int argc, char *argv[]) {
        _cleanup_free_ Client *clients = NULL;
        _cleanup_free_ double *all = NULL;
        Options o;
        Shared s;
        long done = 0, created = 0, errors = 0, rss_start = -1, rss_mid = -1, rss_end = -1,
             hwm = -1, unused;
        double elapsed, server_cpu = -1, client_cpu, busy, other_pct = -1;
        uint64_t start;
        size_t n_all = 0;
        int r;

        if (parse_options(argc, argv, &o) < 0) {
                usage(stderr);
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        r = shared_setup(&s, &o);
        if (r < 0)
                return 1;

        clients = calloc(o.clients, sizeof *clients);
        if (!clients)
                return 1;
        for (unsigned i = 0; i < o.clients; i++) {
                clients[i].shared = &s;
                if (pthread_create(&clients[i].thread, NULL, client_run, &clients[i]) != 0) {
                        fprintf(stderr, "kbs-load: cannot start client %u\n", i);
                        return 1; /* the others wait at the barrier: exit ends them */
                }
        }

        pthread_barrier_wait(&s.ready);
        if (o.server_pid > 0) {
                read_memory(o.server_pid, &rss_start, &unused);
                server_cpu = read_cpu(o.server_pid);
        }
        client_cpu = own_cpu();
        busy = machine_busy();
        start = now_usec();
        s.deadline_usec = start + (uint64_t) (o.seconds * 1e6);
        pthread_barrier_wait(&s.go);

        /* The halfway point of a flood: a server whose memory is bounded stops growing long
         * before it, one that keeps every session grows to the end. */
        while (o.flood > 0 && o.server_pid > 0 && rss_mid < 0 &&
               atomic_load(&s.finished) < o.clients) {
                if (atomic_load(&s.sent) >= o.flood / 2)
                        read_memory(o.server_pid, &rss_mid, &unused);
                else
                        (void) usleep(2000);
        }
        for (unsigned i = 0; i < o.clients; i++)
                pthread_join(clients[i].thread, NULL);
        elapsed = (double) (now_usec() - start) / 1e6;
        client_cpu = own_cpu() - client_cpu;
        if (o.server_pid > 0) {
                double cpu = read_cpu(o.server_pid);
                server_cpu = cpu >= 0 && server_cpu >= 0 ? cpu - server_cpu : -1;
                read_memory(o.server_pid, &rss_end, &hwm);
        }
        if (server_cpu >= 0 && busy >= 0) {
                double now_busy = machine_busy();
                if (now_busy >= 0)
                        other_pct = MAX(now_busy - busy - client_cpu - server_cpu, 0.0) * 100.0 /
                                    (elapsed * (double) sysconf(_SC_NPROCESSORS_ONLN));
        }

        for (unsigned i = 0; i < o.clients; i++) {
                done += clients[i].done;
                created += clients[i].created;
                errors += clients[i].errors;
                n_all += clients[i].n_latencies;
        }
        print_errors(&s, errors);

        if (o.flood > 0) {
                printf("auths=%ld created=%ld errors=%ld seconds=%.2f rate=%.1f rss_start_kb=%ld "
                       "rss_mid_kb=%ld rss_end_kb=%ld hwm_kb=%ld\n",
                       o.flood, created, errors, elapsed, (double) o.flood / elapsed, rss_start,
                       rss_mid, rss_end, hwm);
        } else {
                all = malloc(MAX(n_all, (size_t) 1) * sizeof *all);
                if (!all)
                        return 1;
                n_all = 0;
                for (unsigned i = 0; i < o.clients; i++) {
                        memcpy(all + n_all, clients[i].latencies_ms,
                               clients[i].n_latencies * sizeof *all);
                        n_all += clients[i].n_latencies;
                }
                qsort(all, n_all, sizeof *all, compare_double);
                printf("clients=%u attestations=%ld errors=%ld seconds=%.2f rate=%.1f p50_ms=%.2f "
                       "p99_ms=%.2f max_ms=%.2f client_cpu_ms=%.3f server_cpu_ms=%.3f "
                       "other_cpu_pct=%.0f\n",
                       o.clients, done, errors, elapsed, (double) done / elapsed,
                       percentile(all, n_all, 0.50), percentile(all, n_all, 0.99),
                       n_all ? all[n_all - 1] : 0, done ? client_cpu * 1e3 / (double) done : 0,
                       done && server_cpu >= 0 ? server_cpu * 1e3 / (double) done : -1, other_pct);
        }

        /* Errors are figures; a run where nothing worked is a broken setup. */
        r = atomic_load(&s.setup_failed) || (o.flood > 0 ? created : done) == 0 ? 1 : 0;

        for (unsigned i = 0; i < o.clients; i++)
                client_done(&clients[i]);
        pthread_barrier_destroy(&s.ready);
        pthread_barrier_destroy(&s.go);
        pthread_mutex_destroy(&s.errors_lock);
        EVP_MD_free(s.sha256);
        free(s.auth_url);
        free(s.attest_url);
        free(s.resource_url);
        free(s.ak_pem);
        free(s.ak_public_b64);
        free(s.expected);
        curl_global_cleanup();
        return r;
}
