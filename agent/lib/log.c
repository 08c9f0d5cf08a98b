// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static int kmsg_fd = -EBADF;
static const char *log_prefix = "devgate";

void log_setup(LogTarget target, int max_level) {
        if (target == LOG_TARGET_AUTO)
                /* dracut and systemd both create /etc/initrd-release in the initramfs; early
                 * boot has no journal yet, so the kernel log is where operators look. */
                target = access("/etc/initrd-release", F_OK) == 0 ? LOG_TARGET_KMSG
                                                                  : LOG_TARGET_STDERR;

        if (target == LOG_TARGET_KMSG) {
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (kmsg_fd < 0)
                        target = LOG_TARGET_STDERR;
        }
        log_target = target;
        log_max_level = max_level;
}

int log_target_from_string(const char *s, LogTarget *ret) {
        static const char *const names[] = {
                [LOG_TARGET_AUTO] = "auto",
                [LOG_TARGET_STDERR] = "stderr",
                [LOG_TARGET_KMSG] = "kmsg",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (LogTarget) i;
                        return 0;
                }
        return -EINVAL;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

bool log_to_kmsg(void) {
        return log_target == LOG_TARGET_KMSG;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_internal(int level, int error, const char *format, ...) {
        int saved_errno = errno;
        int abs_error = error < 0 ? -error : error;

        if (level <= log_max_level) {
                char message[1024];
                va_list ap;

                /* glibc expands %m from errno. */
                errno = abs_error;
                va_start(ap, format);
                vsnprintf(message, sizeof message, format, ap);
                va_end(ap);

                if (log_target == LOG_TARGET_KMSG) {
                        char line[1100];
                        int n = snprintf(line, sizeof line, "<%d>%s: %s\n", level, log_prefix,
                                         message);
                        if (n > 0)
                                (void) !write(kmsg_fd, line,
                                              (size_t) n < sizeof line ? (size_t) n
                                                                       : sizeof line - 1);
                } else
                        fprintf(stderr, "%s: %s\n", log_prefix, message);
        }

        errno = saved_errno;
        return -abs_error;
}
