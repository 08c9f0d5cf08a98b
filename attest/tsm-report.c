// SPDX-License-Identifier: LGPL-2.1-or-later
/* configfs-tsm reports: see tsm-report.h for the sequence and why. Every failure is decided
 * here and described once in `reason` (and at debug level in the log); the caller logs it. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "sysfs-io.h"
#include "tsm-report.h"

#define NAME_PREFIX   "devgate-"
#define NAME_RANDOM   8 /* bytes, printed as 16 hex digits */
#define MKDIR_RETRIES 3

typedef struct ReportDir {
        const char *root;
        int root_fd;
        int fd;
        char name[sizeof NAME_PREFIX + 2 * NAME_RANDOM];
} ReportDir;

static const char *const provider_names[] = {
        [TSM_PROVIDER_TDX] = "tdx_guest",
        [TSM_PROVIDER_SNP] = "sev_guest",
};

const char *tsm_provider_tee(TsmProvider p) {
        switch (p) {
        case TSM_PROVIDER_TDX:
                return "tdx";
        case TSM_PROVIDER_SNP:
                return "snp";
        default:
                return NULL;
        }
}

void tsm_report_done(TsmReport *r) {
        free(r->outblob);
        free(r->auxblob);
        *r = (TsmReport){ .provider = TSM_PROVIDER_ANY };
}

_printf_(4, 5) static int fail(char *reason, size_t reason_size, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(reason, reason_size, format, ap);
        va_end(ap);
        return log_debug_errno(r, "%s", reason);
}

static void report_dir_close(ReportDir *d) {
        d->fd = safe_close(d->fd);
        /* configfs removes the attributes with the directory; nothing else is left to clean. */
        if (d->name[0] != '\0' && unlinkat(d->root_fd, d->name, AT_REMOVEDIR) < 0)
                log_warning_errno(errno, "Failed to remove report directory '%s/%s', ignoring: %m",
                                  d->root, d->name);
        d->name[0] = '\0';
        d->root_fd = safe_close(d->root_fd);
}

static int report_dir_open(const char *root, ReportDir *d, char *reason, size_t reason_size) {
        int r;

        *d = (ReportDir){ .root = root, .root_fd = -EBADF, .fd = -EBADF };

        d->root_fd = sysfs_open_dir(root);
        if (d->root_fd == -ENOENT)
                return fail(reason, reason_size, -ENOENT,
                            "No configfs-tsm report interface at '%s' (needs Linux 6.7 or later "
                            "with configfs mounted and the tdx_guest or sev-guest module)",
                            root);
        if (d->root_fd < 0)
                return fail(reason, reason_size, d->root_fd, "Cannot open '%s': %s", root,
                            strerror(-d->root_fd));

        for (unsigned attempt = 0;; attempt++) {
                uint8_t random[NAME_RANDOM];
                char *p = d->name;

                if (getrandom(random, sizeof random, 0) != (ssize_t) sizeof random) {
                        r = negative_errno();
                        d->root_fd = safe_close(d->root_fd);
                        return fail(reason, reason_size, r, "getrandom() failed: %s", strerror(-r));
                }
                p += sprintf(p, NAME_PREFIX);
                for (size_t i = 0; i < sizeof random; i++)
                        p += sprintf(p, "%02x", random[i]);

                if (mkdirat(d->root_fd, d->name, 0700) >= 0)
                        break;
                r = negative_errno();
                d->name[0] = '\0';
                /* Only a collision with someone else's directory is worth another name. */
                if (r != -EEXIST || attempt + 1 >= MKDIR_RETRIES) {
                        report_dir_close(d);
                        return fail(reason, reason_size, r,
                                    "Cannot create a report directory in '%s': %s", root,
                                    strerror(-r));
                }
        }

        d->fd = sysfs_open_dir_at(d->root_fd, d->name);
        if (d->fd < 0) {
                r = d->fd;
                (void) fail(reason, reason_size, r, "Cannot open report directory '%s/%s': %s",
                            root, d->name, strerror(-r));
                report_dir_close(d);
                return r;
        }
        return 0;
}

static int read_provider(ReportDir *d, TsmProvider *ret, char *reason, size_t reason_size) {
        char buf[64];
        ssize_t n;

        n = sysfs_read_at(d->fd, "provider", buf, sizeof buf);
        if (n == -ENXIO) /* the kernel's answer when no provider is registered */
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "No TSM provider is registered (load tdx_guest or sev-guest)");
        if (n == -ENOENT)
                return fail(reason, reason_size, -EPROTO,
                            "Report directory '%s/%s' has no \"provider\": not configfs-tsm",
                            d->root, d->name);
        if (n < 0)
                return fail(reason, reason_size, (int) n, "Cannot read '%s/%s/provider': %s",
                            d->root, d->name, strerror((int) -n));
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        if (n == 0 || strlen(buf) != (size_t) n)
                return fail(reason, reason_size, -EPROTO, "'%s/%s/provider' is empty or not text",
                            d->root, d->name);

        for (size_t i = 0; i < ELEMENTSOF(provider_names); i++)
                if (streq(buf, provider_names[i])) {
                        *ret = (TsmProvider) i;
                        return 0;
                }
        return fail(reason, reason_size, -EOPNOTSUPP,
                    "TSM provider \"%.32s\" is not supported (only tdx_guest and sev_guest)", buf);
}

static int read_generation(ReportDir *d, uint64_t *ret, char *reason, size_t reason_size) {
        char buf[32];
        uint64_t v = 0;
        ssize_t n;

        n = sysfs_read_at(d->fd, "generation", buf, sizeof buf);
        if (n < 0)
                return fail(reason, reason_size, n == -ENOENT ? -EPROTO : (int) n,
                            "Cannot read '%s/%s/generation': %s", d->root, d->name,
                            strerror((int) -n));

        /* The kernel prints "%zu\n"; anything else is not its counter. */
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        if (n == 0 || n > 20)
                goto bad;
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        goto bad;
                if (v > (UINT64_MAX - (uint64_t) (buf[i] - '0')) / 10)
                        goto bad;
                v = v * 10 + (uint64_t) (buf[i] - '0');
        }
        *ret = v;
        return 0;
bad:
        return fail(reason, reason_size, -EPROTO, "'%s/%s/generation' is not a counter", d->root,
                    d->name);
}

static int write_inblob(ReportDir *d, const uint8_t inblob[static TSM_INBLOB_SIZE], char *reason,
                        size_t reason_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        ssize_t n;
        int r;

        /* No O_TRUNC, no O_CREAT: configfs keeps a binary attribute's bytes until close() and
         * hands them to the provider then; there is nothing to truncate or create. */
        fd = openat(d->fd, "inblob", O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                return fail(reason, reason_size, r == -ENOENT ? -EPROTO : r,
                            "Cannot open '%s/%s/inblob': %s", d->root, d->name, strerror(-r));
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return fail(reason, reason_size, -EPROTO, "'%s/%s/inblob' is not an attribute",
                            d->root, d->name);

        do
                n = write(fd, inblob, TSM_INBLOB_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                r = negative_errno();
                return fail(reason, reason_size, r, "Cannot write '%s/%s/inblob': %s", d->root,
                            d->name, strerror(-r));
        }
        if (n != TSM_INBLOB_SIZE)
                return fail(reason, reason_size, -EIO, "Short write to '%s/%s/inblob'", d->root,
                            d->name);

        /* configfs commits on release: a failure there shows as a generation that did not
         * move, which step 5 catches; close() errors are the ones it does report. */
        r = close(TAKE_FD(fd));
        if (r < 0) {
                r = negative_errno();
                return fail(reason, reason_size, r, "Cannot write '%s/%s/inblob': %s", d->root,
                            d->name, strerror(-r));
        }
        return 0;
}

/* Reads a binary attribute of at most max bytes. -ENOENT passes through, for the optional
 * auxblob; an empty attribute gives size 0 and NULL. */
static int read_blob(ReportDir *d, const char *name, size_t max, uint8_t **ret, size_t *ret_size,
                     char *reason, size_t reason_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        /* O_NONBLOCK as in sysfs-io.c: never hang on something that is not an attribute. */
        fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return r;
                return fail(reason, reason_size, r, "Cannot open '%s/%s/%s': %s", d->root, d->name,
                            name, strerror(-r));
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return fail(reason, reason_size, -EPROTO, "'%s/%s/%s' is not an attribute", d->root,
                            d->name, name);

        /* One byte more than allowed tells an attribute of exactly max bytes from a longer one.
         * configfs reports st_size 0 for attributes: read until end of file. */
        buf = malloc(max + 1);
        if (!buf)
                return fail(reason, reason_size, -ENOMEM, "Out of memory");
        while (size <= max) {
                ssize_t n = read(fd, buf + size, max + 1 - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        return fail(reason, reason_size, r, "Cannot read '%s/%s/%s': %s", d->root,
                                    d->name, name, strerror(-r));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > max)
                return fail(reason, reason_size, -EFBIG, "'%s/%s/%s' is larger than %zu bytes",
                            d->root, d->name, name, max);

        if (size == 0) {
                *ret = NULL;
                *ret_size = 0;
                return 0;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int tsm_report_get(const char *root, TsmProvider want, const uint8_t inblob[static TSM_INBLOB_SIZE],
                   TsmReport *ret, char *reason, size_t reason_size) {
        _cleanup_(report_dir_close) ReportDir d = { .root_fd = -EBADF, .fd = -EBADF };
        _cleanup_free_ uint8_t *outblob = NULL, *auxblob = NULL;
        size_t outblob_size = 0, auxblob_size = 0;
        uint64_t before, after;
        TsmProvider provider;
        int r;

        r = report_dir_open(root, &d, reason, reason_size);
        if (r < 0)
                return r;

        r = read_provider(&d, &provider, reason, reason_size);
        if (r < 0)
                return r;
        if (want != TSM_PROVIDER_ANY && provider != want)
                return fail(reason, reason_size, -EMEDIUMTYPE,
                            "This machine's TSM provider is %s, not %s", provider_names[provider],
                            provider_names[want]);

        r = read_generation(&d, &before, reason, reason_size);
        if (r < 0)
                return r;
        r = write_inblob(&d, inblob, reason, reason_size);
        if (r < 0)
                return r;

        r = read_blob(&d, "outblob", TSM_BLOB_MAX, &outblob, &outblob_size, reason, reason_size);
        if (r == -ENOENT)
                return fail(reason, reason_size, -EPROTO, "Report directory '%s/%s' has no outblob",
                            root, d.name);
        if (r < 0)
                return r;
        if (outblob_size == 0)
                return fail(reason, reason_size, -ENODATA, "'%s/%s/outblob' is empty", root,
                            d.name);

        r = read_blob(&d, "auxblob", TSM_BLOB_MAX, &auxblob, &auxblob_size, reason, reason_size);
        if (r < 0 && r != -ENOENT)
                return r;

        r = read_generation(&d, &after, reason, reason_size);
        if (r < 0)
                return r;
        if (before == UINT64_MAX || after != before + 1)
                return fail(reason, reason_size, -EBUSY,
                            "Another writer used report directory '%s/%s' (generation %" PRIu64
                            " -> %" PRIu64 ", expected %" PRIu64 "): the report may not be ours",
                            root, d.name, before, after, before + 1);

        *ret = (TsmReport){
                .provider = provider,
                .outblob = TAKE_PTR(outblob),
                .outblob_size = outblob_size,
                .auxblob = TAKE_PTR(auxblob),
                .auxblob_size = auxblob_size,
        };
        return 0;
}

int tsm_detect(const char *root, TsmProvider *ret, char *reason, size_t reason_size) {
        _cleanup_(report_dir_close) ReportDir d = { .root_fd = -EBADF, .fd = -EBADF };
        int r;

        r = report_dir_open(root, &d, reason, reason_size);
        if (r < 0)
                return r;
        return read_provider(&d, ret, reason, reason_size);
}
