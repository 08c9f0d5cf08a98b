// SPDX-License-Identifier: LGPL-2.1-or-later
/* Policy v1: JSON → Policy. Every rejection names the JSON path and the reason, and any
 * key the format does not define is an error: a misspelt "subsytem_vendor" silently
 * ignored would widen an allow rule. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "json-strict.h"
#include "macro.h"
#include "policy.h"
#include "virtio-ids.h"

/* Deep enough for the format (policy → rules → rule → match → list), shallow enough that
 * hostile nesting stops in the tokenizer. */
#define POLICY_JSON_DEPTH_MAX 8
#define POLICY_NAME_MAX       64
#define POLICY_TEXT_MAX       4096

typedef struct Parser {
        char path[256];
        PolicyError *error;
} Parser;

static int fail(Parser *p, const char *format, ...) _printf_(2, 3);
static int fail(Parser *p, const char *format, ...) {
        va_list ap;

        if (p->error) {
                snprintf(p->error->path, sizeof p->error->path, "%s", p->path);
                va_start(ap, format);
                vsnprintf(p->error->reason, sizeof p->error->reason, format, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Appends ".key" or "[i]" to the path; returns the length to restore afterwards. */
static size_t path_push_key(Parser *p, const char *key) {
        size_t len = strlen(p->path);
        snprintf(p->path + len, sizeof p->path - len, "%s%s", len ? "." : "", key);
        return len;
}

static size_t path_push_index(Parser *p, size_t i) {
        size_t len = strlen(p->path);
        snprintf(p->path + len, sizeof p->path - len, "[%zu]", i);
        return len;
}

static void path_pop(Parser *p, size_t len) {
        p->path[len] = '\0';
}

static const char *json_type_name(json_object *o) {
        return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/* Rejects keys outside `allowed` (a NULL-terminated list). */
static int check_keys(Parser *p, json_object *obj, const char *const *allowed) {
        json_object_object_foreach (obj, key, value) {
                bool known = false;
                (void) value;
                for (const char *const *a = allowed; *a; a++)
                        if (streq(*a, key)) {
                                known = true;
                                break;
                        }
                if (!known) {
                        size_t saved = path_push_key(p, key);
                        int r = fail(p, "unknown key");
                        path_pop(p, saved);
                        return r;
                }
        }
        return 0;
}

static int get_string(Parser *p, json_object *o, size_t max, const char **ret) {
        if (!json_object_is_type(o, json_type_string))
                return fail(p, "expected a string, got %s", json_type_name(o));
        const char *s = json_object_get_string(o);
        size_t len = (size_t) json_object_get_string_len(o);
        if (strlen(s) != len)
                return fail(p, "string contains a NUL byte");
        /* Policy text ends up on terminals and in the kernel log: no escape sequences, no
         * line breaks that would forge a log line. */
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return fail(p, "string contains control character 0x%02x",
                                    (unsigned char) *c);
        if (len == 0)
                return fail(p, "must not be empty");
        if (len > max)
                return fail(p, "longer than %zu characters", max);
        *ret = s;
        return 0;
}

static int dup_string(Parser *p, json_object *o, size_t max, char **ret) {
        const char *s;
        int r = get_string(p, o, max, &s);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

static int dup_identifier(Parser *p, json_object *o, const char *what, char **ret) {
        const char *s;
        int r = get_string(p, o, POLICY_NAME_MAX, &s);
        if (r < 0)
                return r;
        for (const char *c = s; *c; c++)
                if (!is_name_char(*c))
                        return fail(p, "%s may contain only letters, digits, '-', '_' and '.'",
                                    what);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_hex_digits(const char *s, size_t len, uint32_t *ret) {
        uint32_t v = 0;
        if (len == 0 || len > 8)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int d = hex_digit_value(s[i]);
                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (uint32_t) d;
        }
        *ret = v;
        return 0;
}

/* "0x1af4": an ID of at most `digits` hex digits. */
static int parse_id(Parser *p, json_object *o, unsigned digits, uint32_t *ret) {
        const char *s;
        int r = get_string(p, o, 16, &s);
        if (r < 0)
                return r;
        size_t len = strlen(s);
        if (len < 3 || len > 2 + digits || s[0] != '0' || s[1] != 'x' ||
            parse_hex_digits(s + 2, len - 2, ret) < 0)
                return fail(p, "expected a hex ID \"0x%.*s\" of at most %u digits, got \"%s\"",
                            (int) digits, "ffffffff", digits, s);
        return 0;
}

/* A list field accepts one value or an array of them. Checks the count, allocates one
 * element of `size` bytes per value, and calls `item` for each. */
typedef int (*ItemParser)(Parser *p, json_object *o, const void *ctx, void *ret_item);

static int parse_list(Parser *p, json_object *o, ItemParser item, const void *ctx, size_t size,
                      void **ret_items, size_t *ret_n) {
        bool array = json_object_is_type(o, json_type_array);
        size_t n = array ? json_object_array_length(o) : 1;
        uint8_t *items;
        int r;

        if (n == 0)
                return fail(p, "must list at least one value");
        if (n > POLICY_LIST_MAX)
                return fail(p, "lists more than %d values", POLICY_LIST_MAX);

        /* Owned by the caller's structure from here on, so freed with it on failure. */
        items = calloc(n, size);
        if (!items)
                return -ENOMEM;
        *ret_items = items;

        for (size_t i = 0; i < n; i++) {
                size_t saved = array ? path_push_index(p, i) : strlen(p->path);
                r = item(p, array ? json_object_array_get_idx(o, i) : o, ctx, items + i * size);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }
        *ret_n = n;
        return 0;
}

static int id_item(Parser *p, json_object *o, const void *ctx, void *ret_item) {
        const unsigned *digits = ctx;
        return parse_id(p, o, *digits, ret_item);
}

static int parse_id_list(Parser *p, json_object *o, unsigned digits, IdList *ret) {
        return parse_list(p, o, id_item, &digits, sizeof *ret->ids, (void **) &ret->ids, &ret->n);
}

/* "0x0604xx": a byte written "xx" matches anything; "0x060400/0xffff00": explicit mask. */
static int parse_class(const char *s, ClassPattern *ret) {
        uint32_t value = 0, mask = 0;

        if (strlen(s) < 8 || s[0] != '0' || s[1] != 'x')
                return -EINVAL;
        for (unsigned byte = 0; byte < 3; byte++) {
                const char *b = s + 2 + 2 * byte;
                uint32_t v;
                value <<= 8;
                mask <<= 8;
                if (b[0] == 'x' && b[1] == 'x')
                        continue;
                if (parse_hex_digits(b, 2, &v) < 0)
                        return -EINVAL;
                value |= v;
                mask |= 0xff;
        }

        const char *rest = s + 8;
        if (*rest == '/') {
                uint32_t explicit_mask;
                if (mask != 0xffffff || strncmp(rest + 1, "0x", 2) != 0 || strlen(rest + 3) != 6 ||
                    parse_hex_digits(rest + 3, 6, &explicit_mask) < 0)
                        return -EINVAL;
                mask = explicit_mask;
        } else if (*rest != '\0')
                return -EINVAL;

        *ret = (ClassPattern){ .value = value & mask, .mask = mask };
        return 0;
}

static int class_item(Parser *p, json_object *o, const void *ctx, void *ret_item) {
        const char *s;
        int r = get_string(p, o, 32, &s);
        if (r < 0)
                return r;
        if (parse_class(s, ret_item) < 0)
                return fail(p,
                            "expected \"0xCCSSPP\" or \"0xCCSSPP/0xMASK\" (\"xx\" for any "
                            "byte), got \"%s\"",
                            s);
        return 0;
}

static int parse_class_list(Parser *p, json_object *o, ClassList *ret) {
        return parse_list(p, o, class_item, NULL, sizeof *ret->patterns, (void **) &ret->patterns,
                          &ret->n);
}

static int virtio_item(Parser *p, json_object *o, const void *ctx, void *ret_item) {
        const char *s;
        int r = get_string(p, o, 32, &s);
        if (r < 0)
                return r;
        if (virtio_type_from_name(s, ret_item) < 0)
                return fail(p, "unknown virtio device type \"%s\" (known: %s)", s,
                            virtio_known_names());
        return 0;
}

static int parse_virtio_list(Parser *p, json_object *o, IdList *ret) {
        return parse_list(p, o, virtio_item, NULL, sizeof *ret->ids, (void **) &ret->ids, &ret->n);
}

static const char *const pci_match_keys[] = {
        "bus",      "vendor", "device", "subsystem_vendor", "subsystem_device", "class",
        "revision", "virtio", NULL,
};
static const char *const virtio_match_keys[] = { "bus", "virtio", "vendor", NULL };
static const char *const usb_match_keys[] = {
        "bus", "vendor", "product", "interface_class", NULL,
};

static int parse_match(Parser *p, json_object *o, Match *m) {
        json_object *bus;
        const char *s;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(p, "expected an object, got %s", json_type_name(o));
        if (!json_object_object_get_ex(o, "bus", &bus))
                return fail(p, "missing \"bus\" (one of \"pci\", \"virtio\", \"usb\")");

        size_t saved = path_push_key(p, "bus");
        r = get_string(p, bus, 16, &s);
        if (r >= 0) {
                m->bus = bus_from_string(s);
                if (m->bus < 0)
                        r = fail(p, "expected \"pci\", \"virtio\" or \"usb\", got \"%s\"", s);
        }
        path_pop(p, saved);
        if (r < 0)
                return r;

        r = check_keys(p, o,
                       m->bus == BUS_PCI      ? pci_match_keys
                       : m->bus == BUS_VIRTIO ? virtio_match_keys
                                              : usb_match_keys);
        if (r < 0) {
                if (p->error)
                        snprintf(p->error->reason, sizeof p->error->reason,
                                 "not a property of %s devices", bus_to_string(m->bus));
                return r;
        }

        json_object_object_foreach (o, key, value) {
                saved = path_push_key(p, key);
                if (streq(key, "bus"))
                        r = 0;
                else if (streq(key, "vendor"))
                        r = parse_id_list(p, value, 4, &m->vendor);
                else if (streq(key, "device"))
                        r = parse_id_list(p, value, 4, &m->device);
                else if (streq(key, "subsystem_vendor"))
                        r = parse_id_list(p, value, 4, &m->subsystem_vendor);
                else if (streq(key, "subsystem_device"))
                        r = parse_id_list(p, value, 4, &m->subsystem_device);
                else if (streq(key, "revision"))
                        r = parse_id_list(p, value, 2, &m->revision);
                else if (streq(key, "class"))
                        r = parse_class_list(p, value, &m->class);
                else if (streq(key, "virtio"))
                        r = parse_virtio_list(p, value, &m->virtio);
                else if (streq(key, "product"))
                        r = parse_id_list(p, value, 4, &m->product);
                else /* interface_class */
                        r = parse_id_list(p, value, 2, &m->interface_class);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }

        if (m->bus == BUS_PCI && m->virtio.n > 0 && m->device.n > 0) {
                saved = path_push_key(p, "device");
                r = fail(p, "\"virtio\" already names the device IDs; use one or the other");
                path_pop(p, saved);
                return r;
        }
        return 0;
}

static bool valid_kernel_bound(const char *s) {
        /* Dotted numbers: "6", "6.1", "6.1.112". */
        bool digit = false;
        for (; *s; s++) {
                if (*s >= '0' && *s <= '9')
                        digit = true;
                else if (*s == '.' && digit)
                        digit = false;
                else
                        return false;
        }
        return digit;
}

static int parse_kernel_range(Parser *p, json_object *o, KernelRange *ret) {
        static const char *const keys[] = { "min", "max", NULL };
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(p, "expected an object with \"min\" and/or \"max\", got %s",
                            json_type_name(o));
        r = check_keys(p, o, keys);
        if (r < 0)
                return r;

        json_object_object_foreach (o, key, value) {
                char **bound = streq(key, "min") ? &ret->min : &ret->max;
                size_t saved = path_push_key(p, key);
                r = dup_string(p, value, 32, bound);
                if (r >= 0 && !valid_kernel_bound(*bound))
                        r = fail(p, "expected a kernel version such as \"6.1\", got \"%s\"",
                                 *bound);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }
        if (!ret->min && !ret->max)
                return fail(p, "expected \"min\" and/or \"max\"");
        return 0;
}

/* "2027-01-31T00:00:00Z": RFC 3339 in UTC, to the second, and nothing else. strptime()
 * accepts days and seconds past the end of a month or minute and normalizes them, so the
 * time is printed back and must read the same. */
static int parse_timestamp(Parser *p, json_object *o, int64_t *ret) {
        struct tm tm = {}, back;
        char printed[32];
        const char *s, *end;
        time_t t;
        int r;

        r = get_string(p, o, 32, &s);
        if (r < 0)
                return r;
        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        t = end && *end == '\0' ? timegm(&tm) : (time_t) -1;
        if (t <= 0 || !gmtime_r(&t, &back) ||
            strftime(printed, sizeof printed, "%Y-%m-%dT%H:%M:%SZ", &back) == 0 ||
            !streq(printed, s))
                return fail(p,
                            "expected a UTC time after 1970 such as \"2027-01-31T00:00:00Z\", "
                            "got \"%s\"",
                            s);
        *ret = (int64_t) t;
        return 0;
}

static int parse_action(Parser *p, json_object *o, Action *ret) {
        const char *s;
        int r = get_string(p, o, 16, &s);
        if (r < 0)
                return r;
        *ret = action_from_string(s);
        if (*ret < 0)
                return fail(p, "expected \"allow\" or \"deny\", got \"%s\"", s);
        return 0;
}

static int parse_rule(Parser *p, json_object *o, Rule *rule) {
        static const char *const keys[] = {
                "action", "comment", "match", "driver", "kernel", NULL
        };
        json_object *action, *match;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(p, "expected an object, got %s", json_type_name(o));
        r = check_keys(p, o, keys);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "action", &action))
                return fail(p, "missing \"action\" (\"allow\" or \"deny\")");
        if (!json_object_object_get_ex(o, "match", &match))
                return fail(p, "missing \"match\"");

        json_object_object_foreach (o, key, value) {
                size_t saved = path_push_key(p, key);
                if (streq(key, "action"))
                        r = parse_action(p, value, &rule->action);
                else if (streq(key, "comment"))
                        r = dup_string(p, value, POLICY_TEXT_MAX, &rule->comment);
                else if (streq(key, "match"))
                        r = parse_match(p, value, &rule->match);
                else if (streq(key, "driver"))
                        r = dup_identifier(p, value, "a driver name", &rule->driver);
                else
                        r = parse_kernel_range(p, value, &rule->kernel);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }

        if (rule->driver) {
                size_t saved = path_push_key(p, "driver");
                if (rule->action != ACTION_ALLOW)
                        r = fail(p, "only an allow rule can pin a driver");
                else if (rule->match.bus == BUS_USB)
                        r = fail(p, "usb devices are authorized as a whole, not per driver");
                path_pop(p, saved);
        }
        return r;
}

static int parse_rules(Parser *p, json_object *o, Policy *policy) {
        if (!json_object_is_type(o, json_type_array))
                return fail(p, "expected an array, got %s", json_type_name(o));

        size_t n = json_object_array_length(o);
        if (n > POLICY_RULES_MAX)
                return fail(p, "more than %d rules", POLICY_RULES_MAX);
        policy->rules = calloc(n ? n : 1, sizeof *policy->rules);
        if (!policy->rules)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                size_t saved = path_push_index(p, i);
                /* Counted before parsing so that a half-parsed rule is freed too. */
                policy->n_rules = i + 1;
                int r = parse_rule(p, json_object_array_get_idx(o, i), &policy->rules[i]);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_policy(Parser *p, json_object *root, Policy *policy) {
        static const char *const keys[] = {
                "format", "name",    "version", "description", "default",
                "kernel", "expires", "rules",   NULL,
        };
        static const char *const required[] = { "format", "name", "version", "rules" };
        int r;

        if (!json_object_is_type(root, json_type_object))
                return fail(p, "expected a policy object, got %s", json_type_name(root));
        r = check_keys(p, root, keys);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!json_object_object_get_ex(root, required[i], NULL))
                        return fail(p, "missing \"%s\"", required[i]);

        policy->default_action = ACTION_DENY;
        json_object_object_foreach (root, key, value) {
                size_t saved = path_push_key(p, key);
                if (streq(key, "format")) {
                        if (!json_object_is_type(value, json_type_int) ||
                            json_object_get_int64(value) != POLICY_FORMAT)
                                r = fail(p, "expected %d, the only format this devgate reads",
                                         POLICY_FORMAT);
                } else if (streq(key, "name"))
                        r = dup_identifier(p, value, "a policy name", &policy->name);
                else if (streq(key, "version")) {
                        if (!json_object_is_type(value, json_type_int) ||
                            json_object_get_int64(value) < 0 ||
                            json_object_get_int64(value) == INT64_MAX)
                                r = fail(p, "expected a non-negative integer, got %s",
                                         json_object_to_json_string(value));
                        else
                                policy->version = json_object_get_int64(value);
                } else if (streq(key, "description"))
                        r = dup_string(p, value, POLICY_TEXT_MAX, &policy->description);
                else if (streq(key, "default"))
                        r = parse_action(p, value, &policy->default_action);
                else if (streq(key, "kernel"))
                        r = parse_kernel_range(p, value, &policy->kernel);
                else if (streq(key, "expires"))
                        r = parse_timestamp(p, value, &policy->expires);
                else
                        r = parse_rules(p, value, policy);
                path_pop(p, saved);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_parse(const char *data, size_t size, Policy **ret, PolicyError *error) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        Parser p = { .error = error };
        char reason[sizeof p.error->reason];
        int r;

        if (size > POLICY_SIZE_MAX)
                return fail(&p, "larger than %d bytes", POLICY_SIZE_MAX);

        r = json_parse_strict(data, size, POLICY_JSON_DEPTH_MAX, &root, reason, sizeof reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(&p, "%s", reason);

        policy = calloc(1, sizeof *policy);
        if (!policy)
                return -ENOMEM;
        r = parse_policy(&p, root, policy);
        if (r < 0)
                return r;

        /* +1: a terminating NUL, so that the bytes can be passed on as a string too. */
        policy->json = malloc(size + 1);
        if (!policy->json)
                return -ENOMEM;
        memcpy(policy->json, data, size);
        policy->json[size] = '\0';
        policy->json_size = size;
        policy_hash(data, size, policy->sha256);
        *ret = TAKE_PTR(policy);
        return 0;
}
