// SPDX-License-Identifier: LGPL-2.1-or-later
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "envelope.h"
#include "json-strict.h"
#include "json-writer.h"
#include "macro.h"

/* envelope → signatures → signature: nothing deeper is valid. */
#define ENVELOPE_JSON_DEPTH_MAX 4

Envelope *envelope_free(Envelope *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_signatures; i++) {
                free(e->signatures[i].keyid);
                free(e->signatures[i].sig);
        }
        free(e->signatures);
        free(e->payload_type);
        free(e->payload);
        free(e);
        return NULL;
}

static int fail(char *reason, size_t reason_size, const char *format, ...) _printf_(3, 4);
static int fail(char *reason, size_t reason_size, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(reason, reason_size, format, ap);
        va_end(ap);
        return -EBADMSG;
}

/* A string member, without NUL bytes; NULL if absent and optional. */
static int get_string(json_object *o, const char *key, bool required, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = NULL;
                return required ? -ENOENT : 0;
        }
        if (!json_object_is_type(v, json_type_string) ||
            strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return -EINVAL;
        *ret = json_object_get_string(v);
        return 0;
}

static int parse_signature(json_object *o, size_t i, EnvelopeSignature *ret, char *reason,
                           size_t reason_size) {
        static const char *const keys[] = { "keyid", "sig", NULL };
        const char *keyid, *sig;

        if (!json_object_is_type(o, json_type_object) || json_unknown_member(o, keys))
                return fail(reason, reason_size,
                            "signatures[%zu]: expected an object with \"keyid\" and \"sig\"", i);
        if (get_string(o, "keyid", false, &keyid) < 0)
                return fail(reason, reason_size, "signatures[%zu].keyid: expected a string", i);
        if (get_string(o, "sig", true, &sig) < 0)
                return fail(reason, reason_size, "signatures[%zu].sig: expected a string", i);
        if (base64_decode(sig, strlen(sig), &ret->sig, &ret->sig_size) < 0)
                return fail(reason, reason_size, "signatures[%zu].sig: not valid base64", i);
        if (keyid) {
                ret->keyid = strdup(keyid);
                if (!ret->keyid)
                        return -ENOMEM;
        }
        return 0;
}

int envelope_parse(const char *data, size_t size, Envelope **ret, char *reason,
                   size_t reason_size) {
        static const char *const keys[] = { "payload", "payloadType", "signatures", NULL };
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        json_object *signatures;
        const char *payload, *payload_type;
        size_t n;
        int r;

        if (size > ENVELOPE_SIZE_MAX)
                return fail(reason, reason_size, "larger than %d bytes", ENVELOPE_SIZE_MAX);
        r = json_parse_strict(data, size, ENVELOPE_JSON_DEPTH_MAX, &root, reason, reason_size);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object) || json_unknown_member(root, keys))
                return fail(reason, reason_size,
                            "not a DSSE envelope: expected an object with \"payload\", "
                            "\"payloadType\" and \"signatures\" only");
        if (get_string(root, "payloadType", true, &payload_type) < 0)
                return fail(reason, reason_size, "payloadType: expected a string");
        if (get_string(root, "payload", true, &payload) < 0)
                return fail(reason, reason_size, "payload: expected a base64 string");
        if (!json_object_object_get_ex(root, "signatures", &signatures) ||
            !json_object_is_type(signatures, json_type_array))
                return fail(reason, reason_size, "signatures: expected an array");
        n = json_object_array_length(signatures);
        if (n > ENVELOPE_SIGNATURES_MAX)
                return fail(reason, reason_size, "signatures: more than %d",
                            ENVELOPE_SIGNATURES_MAX);

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->payload_type = strdup(payload_type);
        e->signatures = calloc(n ? n : 1, sizeof *e->signatures);
        if (!e->payload_type || !e->signatures)
                return -ENOMEM;
        r = base64_decode(payload, strlen(payload), &e->payload, &e->payload_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(reason, reason_size, "payload: not valid base64");

        for (size_t i = 0; i < n; i++) {
                e->n_signatures = i + 1; /* freed with the envelope if it fails half-way */
                r = parse_signature(json_object_array_get_idx(signatures, i), i, &e->signatures[i],
                                    reason, reason_size);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(e);
        return 0;
}

/* "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal. */
static int pae(const Envelope *e, uint8_t **ret, size_t *ret_size) {
        char header[128];
        size_t type_len = strlen(e->payload_type);
        int n;
        uint8_t *buf;

        n = snprintf(header, sizeof header, "DSSEv1 %zu ", type_len);
        if (n < 0 || (size_t) n >= sizeof header)
                return -EINVAL;
        char middle[32];
        int m = snprintf(middle, sizeof middle, " %zu ", e->payload_size);
        size_t size = (size_t) n + type_len + (size_t) m + e->payload_size;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, header, (size_t) n);
        memcpy(buf + n, e->payload_type, type_len);
        memcpy(buf + n + type_len, middle, (size_t) m);
        memcpy(buf + n + type_len + m, e->payload, e->payload_size);
        *ret = buf;
        *ret_size = size;
        return 0;
}

int envelope_verify(const Envelope *e, const TrustedKeys *keys, Verification *ret, char *reason,
                    size_t reason_size) {
        _cleanup_free_ uint8_t *message = NULL;
        size_t message_size;
        Verification v = {};
        int r;

        /* The type is checked first: a signature over another type of document, even by a
         * trusted key, is not a signature over a policy. */
        if (!streq(e->payload_type, DEVGATE_PAYLOAD_TYPE)) {
                snprintf(reason, reason_size, "payloadType is \"%.64s\", expected \"%s\"",
                         e->payload_type, DEVGATE_PAYLOAD_TYPE);
                return -EMEDIUMTYPE;
        }

        r = pae(e, &message, &message_size);
        if (r < 0)
                return r;

        /* Each trusted key counts once, whatever the keyid hints say and however many
         * signatures it made. */
        for (size_t k = 0; k < keys->n; k++)
                for (size_t s = 0; s < e->n_signatures; s++)
                        if (key_verify(keys->keys[k].pkey, message, message_size,
                                       e->signatures[s].sig, e->signatures[s].sig_size)) {
                                strcpy(v.signers[v.n_signers++], keys->keys[k].id);
                                break;
                        }

        *ret = v;
        if (v.n_signers < keys->threshold) {
                snprintf(reason, reason_size,
                         "signed by %zu of the trusted keys, %u required (%zu signature%s in "
                         "the envelope)",
                         v.n_signers, keys->threshold, e->n_signatures,
                         e->n_signatures == 1 ? "" : "s");
                return -EKEYREJECTED;
        }
        return 0;
}

int envelope_new(const uint8_t *payload, size_t size, Envelope **ret) {
        _cleanup_(envelope_freep) Envelope *e = calloc(1, sizeof *e);

        if (!e)
                return -ENOMEM;
        e->payload_type = strdup(DEVGATE_PAYLOAD_TYPE);
        e->payload = malloc(size ? size : 1);
        if (!e->payload_type || !e->payload)
                return -ENOMEM;
        memcpy(e->payload, payload, size);
        e->payload_size = size;
        *ret = TAKE_PTR(e);
        return 0;
}

int envelope_sign(Envelope *e, EVP_PKEY *key) {
        _cleanup_free_ uint8_t *message = NULL;
        unsigned char *sig = NULL;
        size_t message_size, sig_size;
        char id[KEY_ID_LEN + 1];
        EnvelopeSignature *grown;
        int r;

        r = key_id(key, id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n_signatures; i++)
                if (e->signatures[i].keyid && streq(e->signatures[i].keyid, id))
                        return -EEXIST;
        if (e->n_signatures >= ENVELOPE_SIGNATURES_MAX)
                return -E2BIG;

        r = pae(e, &message, &message_size);
        if (r < 0)
                return r;
        r = key_sign(key, message, message_size, &sig, &sig_size);
        if (r < 0)
                return r;

        grown = reallocarray(e->signatures, e->n_signatures + 1, sizeof *grown);
        if (!grown) {
                OPENSSL_free(sig);
                return -ENOMEM;
        }
        e->signatures = grown;
        EnvelopeSignature *s = &e->signatures[e->n_signatures];
        *s = (EnvelopeSignature){ .keyid = strdup(id),
                                  .sig = malloc(sig_size),
                                  .sig_size = sig_size };
        if (!s->keyid || !s->sig) {
                free(s->keyid);
                free(s->sig);
                OPENSSL_free(sig);
                return -ENOMEM;
        }
        memcpy(s->sig, sig, sig_size);
        OPENSSL_free(sig);
        e->n_signatures++;
        return 0;
}

int envelope_format(const Envelope *e, char **ret, size_t *ret_size) {
        _cleanup_free_ char *payload = NULL;
        JsonWriter w = {};
        int r;

        r = base64_encode(e->payload, e->payload_size, &payload);
        if (r < 0)
                return r;
        json_writer_begin(&w, '{');
        json_writer_key(&w, "payloadType");
        json_writer_string(&w, e->payload_type);
        json_writer_key(&w, "payload");
        json_writer_string(&w, payload);
        json_writer_key(&w, "signatures");
        json_writer_begin(&w, '[');
        for (size_t i = 0; i < e->n_signatures; i++) {
                _cleanup_free_ char *sig = NULL;
                r = base64_encode(e->signatures[i].sig, e->signatures[i].sig_size, &sig);
                if (r < 0) {
                        free(w.buf);
                        return r;
                }
                json_writer_newline(&w);
                json_writer_begin(&w, '{');
                json_writer_field(&w, "keyid", e->signatures[i].keyid);
                json_writer_key(&w, "sig");
                json_writer_string(&w, sig);
                json_writer_end(&w, '}');
        }
        json_writer_end(&w, ']');
        json_writer_end(&w, '}');
        json_writer_newline(&w);
        return json_writer_finish(&w, ret, ret_size);
}
