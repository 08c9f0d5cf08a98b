// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json-strict.h"
#include "macro.h"

/* Key/value pairs in the text: one ':' outside string literals each. */
static size_t count_pairs_in_text(const char *data, size_t size) {
        size_t pairs = 0;
        bool in_string = false;

        for (size_t i = 0; i < size; i++) {
                char c = data[i];
                if (in_string) {
                        if (c == '\\')
                                i++; /* the escaped character cannot end the string */
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"')
                        in_string = true;
                else if (c == ':')
                        pairs++;
        }
        return pairs;
}

/* Members in the parsed tree. Where the text names a key twice, json-c keeps one member
 * (and drops the other value with everything inside it), so the tree holds fewer. */
static size_t count_pairs_in_tree(json_object *o) {
        size_t pairs = 0;

        switch (json_object_get_type(o)) {
        case json_type_object: {
                json_object_object_foreach (o, key, value) {
                        (void) key;
                        pairs += 1 + count_pairs_in_tree(value);
                }
                break;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        pairs += count_pairs_in_tree(json_object_array_get_idx(o, i));
                break;
        default:
                break;
        }
        return pairs;
}

int json_parse_strict(const char *data, size_t size, int max_depth, json_object **ret, char *reason,
                      size_t reason_size) {
        json_tokener *tok;
        json_object *root;
        enum json_tokener_error error;
        size_t end;

        if (size > INT32_MAX) {
                snprintf(reason, reason_size, "too large");
                return -EBADMSG;
        }
        tok = json_tokener_new_ex(max_depth);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        root = json_tokener_parse_ex(tok, data, (int) size);
        error = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (error == json_tokener_continue) {
                snprintf(reason, reason_size, "not valid JSON: unexpected end of input");
                goto fail;
        }
        if (error != json_tokener_success) {
                snprintf(reason, reason_size, "not valid JSON at byte %zu: %s", end,
                         json_tokener_error_desc(error));
                goto fail;
        }
        for (; end < size; end++)
                if (!strchr(" \t\r\n", data[end]) || data[end] == '\0') {
                        snprintf(reason, reason_size, "not valid JSON: trailing data at byte %zu",
                                 end);
                        goto fail;
                }
        if (count_pairs_in_text(data, size) != count_pairs_in_tree(root)) {
                snprintf(reason, reason_size, "an object names the same key twice");
                goto fail;
        }

        *ret = root;
        return 0;
fail:
        json_object_put(root);
        return -EBADMSG;
}

const char *json_unknown_member(json_object *o, const char *const *allowed) {
        json_object_object_foreach (o, key, value) {
                const char *const *a = allowed;
                (void) value;
                while (*a && !streq(*a, key))
                        a++;
                if (!*a)
                        return key;
        }
        return NULL;
}
