/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO, /* /dev/kmsg inside an initramfs, stderr otherwise */
        LOG_TARGET_STDERR,
        LOG_TARGET_KMSG,
} LogTarget;

void log_setup(LogTarget target, int max_level);
int log_target_from_string(const char *s, LogTarget *ret);
int log_get_max_level(void);
/* What every line starts with, "devgate" unless another program sets its own name; the string
 * must outlive the logging. */
void log_set_prefix(const char *prefix);
bool log_to_kmsg(void);

/* Logs the message and returns -abs(error) so that callers can write
 * "return log_error_errno(r, ...)". %m in the format expands to strerror(error). */
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...)            log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)             log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)           log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...)          log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)            log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_internal(LOG_ERR, (e), __VA_ARGS__)
