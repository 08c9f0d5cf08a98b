// SPDX-License-Identifier: LGPL-2.1-or-later
/* The reference values and access rules of devgate-kbs (formats in kbs-policy.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hex.h"
#include "json-strict.h"
#include "kbs-policy.h"
#include "macro.h"

#define POLICY_FILE_SIZE_MAX  (1024U * 1024U)
#define POLICY_JSON_DEPTH_MAX 8
#define PCR_VALUES_MAX        KBS_PCR_VALUES_MAX
#define ACCESS_RULES_MAX      4096

typedef struct ReferenceSet {
        char *name;
        /* Per PCR: the accepted values, n_values[i] == 0 when the set does not list PCR i. */
        uint8_t (*values[KBS_PCR_COUNT])[KBS_PCR_SIZE];
        size_t n_values[KBS_PCR_COUNT];
} ReferenceSet;

struct KbsReference {
        ReferenceSet *sets;
        size_t n_sets;
};

typedef struct AccessRule {
        char *part[3];  /* repository, type, tag; "*" matches any */
        char *tee;      /* "tpm", "sample" or "*" */
        char *ak;       /* 64 hex or "*" */
        long reference; /* index of the set, or -1 for "*" */
        bool allow;
} AccessRule;

struct KbsAccess {
        AccessRule *rules;
        size_t n_rules;
};

/* Where in which file the parser is, for errors that point at the problem. */
typedef struct Parser {
        const char *file;
        char path[192];
        char *reason;
        size_t reason_size;
} Parser;

static int fail(Parser *p, const char *format, ...) _printf_(2, 3);
static int fail(Parser *p, const char *format, ...) {
        va_list ap;
        int n = snprintf(p->reason, p->reason_size, "%s: %s%s", p->file, p->path,
                         p->path[0] ? ": " : "");
        va_start(ap, format);
        if (n > 0 && (size_t) n < p->reason_size)
                vsnprintf(p->reason + n, p->reason_size - (size_t) n, format, ap);
        va_end(ap);
        return -EINVAL;
}

static size_t path_push(Parser *p, const char *format, ...) _printf_(2, 3);
static size_t path_push(Parser *p, const char *format, ...) {
        size_t len = strlen(p->path);
        va_list ap;
        va_start(ap, format);
        vsnprintf(p->path + len, sizeof p->path - len, format, ap);
        va_end(ap);
        return len;
}

static void path_pop(Parser *p, size_t len) {
        p->path[len] = '\0';
}

static const char *type_name(json_object *o) {
        return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

static int load_json(Parser *p, const char *path, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        char why[160];
        size_t size;
        int r;

        r = read_full_file(path, POLICY_FILE_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return fail(p, "larger than %u bytes", POLICY_FILE_SIZE_MAX);
        if (r < 0) {
                snprintf(p->reason, p->reason_size, "%s: %s", path, strerror(-r));
                return r;
        }
        r = json_parse_strict(text, size, POLICY_JSON_DEPTH_MAX, ret, why, sizeof why);
        if (r < 0)
                return fail(p, "%s", why);
        if (!json_object_is_type(*ret, json_type_object)) {
                json_object_put(*ret);
                *ret = NULL;
                return fail(p, "expected a JSON object");
        }
        return 0;
}

/* Refuses members other than those in allowed (NULL-terminated) and missing required ones
 * (the first n_required of allowed). */
static int check_members(Parser *p, json_object *o, const char *const *allowed, size_t n_required) {
        if (!json_object_is_type(o, json_type_object))
                return fail(p, "expected an object, got %s", type_name(o));
        const char *unknown = json_unknown_member(o, allowed);
        if (unknown)
                return fail(p, "unknown member \"%.64s\"", unknown);
        for (size_t i = 0; i < n_required; i++)
                if (!json_object_object_get_ex(o, allowed[i], NULL))
                        return fail(p, "\"%s\" is missing", allowed[i]);
        return 0;
}

bool kbs_policy_name_valid(const char *s, size_t max) {
        size_t n = 0;
        for (; s[n]; n++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                            s[n]))
                        return false;
        return n > 0 && n <= max && !streq(s, ".") && !streq(s, "..");
}

static int get_string(Parser *p, json_object *o, const char **ret) {
        if (!json_object_is_type(o, json_type_string))
                return fail(p, "expected a string, got %s", type_name(o));
        *ret = json_object_get_string(o);
        if (strlen(*ret) != (size_t) json_object_get_string_len(o))
                return fail(p, "string contains a NUL byte");
        return 0;
}

/* 64 hex digits, either case, to 32 bytes. */
static bool parse_sha256_hex(const char *s, uint8_t ret[KBS_PCR_SIZE]) {
        if (strlen(s) != 2 * KBS_PCR_SIZE)
                return false;
        for (size_t i = 0; i < KBS_PCR_SIZE; i++) {
                int hi = hex_digit_value(s[2 * i]), lo = hex_digit_value(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return true;
}

static int parse_pcr_index(const char *key, size_t *ret) {
        /* Canonical decimal only: "07" and "7" naming one PCR twice would hide a duplicate. */
        if (!key[0] || strlen(key) > 2 || (key[0] == '0' && key[1]) ||
            !strchr("0123456789", key[0]) || (key[1] && !strchr("0123456789", key[1])))
                return -EINVAL;
        size_t i = (size_t) strtoul(key, NULL, 10);
        if (i >= KBS_PCR_COUNT)
                return -EINVAL;
        *ret = i;
        return 0;
}

static int parse_set(Parser *p, json_object *o, ReferenceSet *set) {
        static const char *const members[] = { "pcrs", NULL };
        json_object *pcrs;
        size_t saved;
        int r;

        r = check_members(p, o, members, 1);
        if (r < 0)
                return r;
        pcrs = json_object_object_get(o, "pcrs");
        saved = path_push(p, ".pcrs");
        if (!json_object_is_type(pcrs, json_type_object))
                return fail(p, "expected an object, got %s", type_name(pcrs));
        if (json_object_object_length(pcrs) == 0)
                return fail(p, "lists no PCR: the set would accept any evidence");

        json_object_object_foreach (pcrs, key, values) {
                size_t index, n, saved_pcr = path_push(p, ".\"%.8s\"", key);

                if (parse_pcr_index(key, &index) < 0)
                        return fail(p, "not a PCR index from 0 to 23");
                if (!json_object_is_type(values, json_type_array))
                        return fail(p, "expected an array of hex strings, got %s",
                                    type_name(values));
                n = json_object_array_length(values);
                if (n == 0)
                        return fail(p, "no accepted value");
                if (n > PCR_VALUES_MAX)
                        return fail(p, "more than %u accepted values", PCR_VALUES_MAX);
                set->values[index] = calloc(n, KBS_PCR_SIZE);
                if (!set->values[index])
                        return -ENOMEM;
                set->n_values[index] = n;
                for (size_t i = 0; i < n; i++) {
                        const char *s;
                        size_t saved_value = path_push(p, "[%zu]", i);
                        r = get_string(p, json_object_array_get_idx(values, i), &s);
                        if (r < 0)
                                return r;
                        if (!parse_sha256_hex(s, set->values[index][i]))
                                return fail(p, "not a SHA-256 value in hex (64 digits)");
                        path_pop(p, saved_value);
                }
                path_pop(p, saved_pcr);
        }
        path_pop(p, saved);
        return 0;
}

int kbs_reference_load(const char *path, KbsReference **ret, char *reason, size_t reason_size) {
        static const char *const members[] = { "sets", NULL };
        _cleanup_(kbs_reference_freep) KbsReference *ref = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        Parser p = { .file = path, .reason = reason, .reason_size = reason_size };
        json_object *sets;
        int r;

        r = load_json(&p, path, &root);
        if (r < 0)
                return r;
        r = check_members(&p, root, members, 1);
        if (r < 0)
                return r;
        sets = json_object_object_get(root, "sets");
        path_push(&p, "sets");
        if (!json_object_is_type(sets, json_type_object))
                return fail(&p, "expected an object, got %s", type_name(sets));
        if ((size_t) json_object_object_length(sets) > KBS_REFERENCE_SETS_MAX)
                return fail(&p, "more than %u sets", KBS_REFERENCE_SETS_MAX);

        ref = calloc(1, sizeof *ref);
        if (!ref)
                return -ENOMEM;
        ref->sets = calloc((size_t) json_object_object_length(sets) + 1, sizeof *ref->sets);
        if (!ref->sets)
                return -ENOMEM;

        json_object_object_foreach (sets, name, set) {
                size_t saved = path_push(&p, ".\"%.64s\"", name);
                ReferenceSet *s = &ref->sets[ref->n_sets];

                if (!kbs_policy_name_valid(name, KBS_POLICY_NAME_MAX))
                        return fail(&p, "a set name is 1 to %u letters, digits, '.', '_', '-'",
                                    KBS_POLICY_NAME_MAX);
                s->name = strdup(name);
                if (!s->name)
                        return -ENOMEM;
                ref->n_sets++;
                r = parse_set(&p, set, s);
                if (r < 0)
                        return r;
                path_pop(&p, saved);
        }

        *ret = TAKE_PTR(ref);
        return 0;
}

KbsReference *kbs_reference_free(KbsReference *ref) {
        if (!ref)
                return NULL;
        for (size_t i = 0; i < ref->n_sets; i++) {
                free(ref->sets[i].name);
                for (size_t j = 0; j < KBS_PCR_COUNT; j++)
                        free(ref->sets[i].values[j]);
        }
        free(ref->sets);
        free(ref);
        return NULL;
}

size_t kbs_reference_count(const KbsReference *ref) {
        return ref ? ref->n_sets : 0;
}

const char *kbs_reference_name(const KbsReference *ref, size_t index) {
        return ref && index < ref->n_sets ? ref->sets[index].name : NULL;
}

bool kbs_reference_match_has(const KbsReferenceMatch *m, size_t index) {
        return index < KBS_REFERENCE_SETS_MAX && (m->sets[index / 8] & (1U << (index % 8)));
}

/* The first PCR of the set the values do not satisfy, or -1. */
static int first_mismatch(const ReferenceSet *s, const uint8_t pcrs[KBS_PCR_COUNT][KBS_PCR_SIZE]) {
        for (int i = 0; i < KBS_PCR_COUNT; i++) {
                bool ok = s->n_values[i] == 0;
                for (size_t j = 0; !ok && j < s->n_values[i]; j++)
                        ok = memcmp(s->values[i][j], pcrs[i], KBS_PCR_SIZE) == 0;
                if (!ok)
                        return i;
        }
        return -1;
}

int kbs_reference_match(const KbsReference *ref, const uint8_t pcrs[KBS_PCR_COUNT][KBS_PCR_SIZE],
                        KbsReferenceMatch *ret, char *reason, size_t reason_size) {
        KbsReferenceMatch m = {};
        bool any = false;
        size_t len;

        len = (size_t) snprintf(reason, reason_size, "PCR values match no reference set%s",
                                kbs_reference_count(ref) == 0 ? " (none configured)" : "");

        for (size_t i = 0; i < kbs_reference_count(ref); i++) {
                int pcr = first_mismatch(&ref->sets[i], pcrs);
                if (pcr < 0) {
                        m.sets[i / 8] |= (uint8_t) (1U << (i % 8));
                        any = true;
                } else if (len < reason_size) {
                        int n = snprintf(reason + len, reason_size - len, "%s \"%s\": PCR %d",
                                         i == 0 ? ":" : ",", ref->sets[i].name, pcr);
                        if (n > 0)
                                len += (size_t) n;
                }
        }
        if (!any)
                return -EBADE;
        *ret = m;
        if (reason_size > 0)
                reason[0] = '\0';
        return 0;
}

void kbs_reference_match_names(const KbsReference *ref, const KbsReferenceMatch *m, char *buf,
                               size_t size) {
        size_t len = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < kbs_reference_count(ref) && len < size; i++) {
                if (!kbs_reference_match_has(m, i))
                        continue;
                int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", ref->sets[i].name);
                if (n > 0)
                        len += (size_t) n;
        }
}

static long reference_index(const KbsReference *ref, const char *name) {
        for (size_t i = 0; i < kbs_reference_count(ref); i++)
                if (streq(ref->sets[i].name, name))
                        return (long) i;
        return -1;
}

static int parse_resource_pattern(Parser *p, const char *s, AccessRule *rule) {
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL, *tok;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        if (s[0] == '/' || strstr(s, "//") || (s[0] && s[strlen(s) - 1] == '/'))
                return fail(p, "expected REPOSITORY/TYPE/TAG");
        for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (n >= 3)
                        return fail(p, "expected REPOSITORY/TYPE/TAG (three parts)");
                if (!streq(tok, "*") && !kbs_policy_name_valid(tok, KBS_POLICY_NAME_MAX * 2))
                        return fail(p,
                                    "\"%.64s\" is neither \"*\" nor a name of letters, "
                                    "digits, '.', '_', '-'",
                                    tok);
                rule->part[n] = strdup(tok);
                if (!rule->part[n])
                        return -ENOMEM;
                n++;
        }
        if (n != 3)
                return fail(p, "expected REPOSITORY/TYPE/TAG (three parts)");
        return 0;
}

static int parse_rule(Parser *p, json_object *o, const KbsReference *ref, AccessRule *rule) {
        static const char *const members[] = {
                "resource", "ak", "reference", "tee", "action", NULL
        };
        const char *s;
        size_t saved;
        int r;

        r = check_members(p, o, members, 3);
        if (r < 0)
                return r;

        saved = path_push(p, ".resource");
        r = get_string(p, json_object_object_get(o, "resource"), &s);
        if (r >= 0)
                r = parse_resource_pattern(p, s, rule);
        if (r < 0)
                return r;
        path_pop(p, saved);

        saved = path_push(p, ".ak");
        r = get_string(p, json_object_object_get(o, "ak"), &s);
        if (r < 0)
                return r;
        uint8_t digest[KBS_PCR_SIZE];
        if (!streq(s, "*") && !parse_sha256_hex(s, digest))
                return fail(p, "expected \"*\" or the AK's SHA-256 in hex (64 digits)");
        rule->ak = strdup(s);
        if (!rule->ak)
                return -ENOMEM;
        /* The AK id is compared as tpm-verify prints it: lowercase. */
        for (char *c = rule->ak; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                        *c = (char) (*c - 'A' + 'a');
        path_pop(p, saved);

        saved = path_push(p, ".reference");
        r = get_string(p, json_object_object_get(o, "reference"), &s);
        if (r < 0)
                return r;
        rule->reference = -1;
        if (!streq(s, "*")) {
                rule->reference = reference_index(ref, s);
                if (rule->reference < 0)
                        return fail(p, "no reference set \"%.64s\" in the reference file", s);
        }
        path_pop(p, saved);

        saved = path_push(p, ".tee");
        s = "tpm";
        if (json_object_object_get_ex(o, "tee", NULL)) {
                r = get_string(p, json_object_object_get(o, "tee"), &s);
                if (r < 0)
                        return r;
                if (!streq(s, "tpm") && !streq(s, "sample") && !streq(s, "*"))
                        return fail(p, "expected \"tpm\", \"sample\" or \"*\"");
        }
        rule->tee = strdup(s);
        if (!rule->tee)
                return -ENOMEM;
        path_pop(p, saved);

        saved = path_push(p, ".action");
        rule->allow = true;
        if (json_object_object_get_ex(o, "action", NULL)) {
                r = get_string(p, json_object_object_get(o, "action"), &s);
                if (r < 0)
                        return r;
                if (!streq(s, "allow") && !streq(s, "deny"))
                        return fail(p, "expected \"allow\" or \"deny\"");
                rule->allow = streq(s, "allow");
        }
        path_pop(p, saved);
        return 0;
}

int kbs_access_load(const char *path, const KbsReference *ref, KbsAccess **ret, char *reason,
                    size_t reason_size) {
        static const char *const members[] = { "rules", NULL };
        _cleanup_(kbs_access_freep) KbsAccess *access = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        Parser p = { .file = path, .reason = reason, .reason_size = reason_size };
        json_object *rules;
        size_t n;
        int r;

        r = load_json(&p, path, &root);
        if (r < 0)
                return r;
        r = check_members(&p, root, members, 1);
        if (r < 0)
                return r;
        rules = json_object_object_get(root, "rules");
        path_push(&p, "rules");
        if (!json_object_is_type(rules, json_type_array))
                return fail(&p, "expected an array, got %s", type_name(rules));
        n = json_object_array_length(rules);
        if (n > ACCESS_RULES_MAX)
                return fail(&p, "more than %u rules", ACCESS_RULES_MAX);

        access = calloc(1, sizeof *access);
        if (!access)
                return -ENOMEM;
        access->rules = calloc(n + 1, sizeof *access->rules);
        if (!access->rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t saved = path_push(&p, "[%zu]", i);
                access->n_rules++;
                r = parse_rule(&p, json_object_array_get_idx(rules, i), ref, &access->rules[i]);
                if (r < 0)
                        return r;
                path_pop(&p, saved);
        }

        *ret = TAKE_PTR(access);
        return 0;
}

KbsAccess *kbs_access_free(KbsAccess *access) {
        if (!access)
                return NULL;
        for (size_t i = 0; i < access->n_rules; i++) {
                AccessRule *r = &access->rules[i];
                for (size_t j = 0; j < ELEMENTSOF(r->part); j++)
                        free(r->part[j]);
                free(r->tee);
                free(r->ak);
        }
        free(access->rules);
        free(access);
        return NULL;
}

size_t kbs_access_count(const KbsAccess *access) {
        return access ? access->n_rules : 0;
}

static bool rule_matches(const AccessRule *rule, const KbsAccessRequest *req) {
        const char *parts[3] = { req->repository, req->type, req->tag };

        for (size_t i = 0; i < 3; i++)
                if (!streq(rule->part[i], "*") && !streq(rule->part[i], parts[i]))
                        return false;
        if (!streq(rule->tee, "*") && !streq(rule->tee, req->tee))
                return false;
        if (!streq(rule->ak, "*") && !streq(rule->ak, req->ak_id))
                return false;
        if (rule->reference >= 0 &&
            !kbs_reference_match_has(req->reference, (size_t) rule->reference))
                return false;
        return true;
}

bool kbs_access_check(const KbsAccess *access, const KbsAccessRequest *req, long *ret_rule) {
        for (size_t i = 0; i < kbs_access_count(access); i++)
                if (rule_matches(&access->rules[i], req)) {
                        *ret_rule = (long) i;
                        return access->rules[i].allow;
                }
        *ret_rule = -1;
        return false;
}
