// SPDX-License-Identifier: LGPL-2.1-or-later
/* Measuring the applied policy: see measure.h for what is measured, where, and the log format.
 * Order of work in measure_event(): open and lock the log (nothing is extended if it cannot be
 * written), mark it as being written, extend the TPM PCR in all its banks with one
 * TPM2_PCR_Extend (atomic across banks), extend the RTMR, append one record per register that was
 * extended, unmark. */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "fileio.h"
#include "json-strict.h"
#include "json-writer.h"
#include "log.h"
#include "measure.h"
#include "tss2-util.h"

/* A log holds a few records per boot; this bounds what a corrupted one costs to read. */
#define LOG_SIZE_MAX (4 * 1024 * 1024)
/* Event strings are short: a policy's is under 200 bytes. */
#define EVENT_MAX    1024
#define DIGEST_MAX   64 /* SHA-512 */
#define RTMR_SIZE    48 /* SHA-384: an RTMR write is exactly one digest */

typedef struct HashAlgorithm {
        TPMI_ALG_HASH id;
        const char *name; /* as systemd's log names them */
        const EVP_MD *(*md)(void);
        size_t size;
} HashAlgorithm;

static const HashAlgorithm hash_algorithms[] = {
        { TPM2_ALG_SHA1, "sha1", EVP_sha1, 20 },
        { TPM2_ALG_SHA256, "sha256", EVP_sha256, 32 },
        { TPM2_ALG_SHA384, "sha384", EVP_sha384, 48 },
        { TPM2_ALG_SHA512, "sha512", EVP_sha512, 64 },
};
#define SHA384 (&hash_algorithms[2])

static const HashAlgorithm *hash_algorithm_from_id(TPMI_ALG_HASH id) {
        for (size_t i = 0; i < ELEMENTSOF(hash_algorithms); i++)
                if (hash_algorithms[i].id == id)
                        return &hash_algorithms[i];
        return NULL;
}

/* What one register was extended with, for its log record. */
typedef struct Record {
        bool rtmr; /* an RTMR, else a TPM PCR */
        unsigned index;
        size_t n_digests;
        struct {
                const HashAlgorithm *algorithm;
                uint8_t value[DIGEST_MAX];
        } digests[ELEMENTSOF(hash_algorithms)];
} Record;

static int record_add_digest(Record *record, const HashAlgorithm *a, const char *event) {
        unsigned len = 0;

        if (record->n_digests >= ELEMENTSOF(record->digests))
                return -E2BIG;
        if (EVP_Digest(event, strlen(event), record->digests[record->n_digests].value, &len,
                       a->md(), NULL) != 1 ||
            len != a->size)
                return log_debug_errno(EIO, "Failed to compute the %s digest of the event.",
                                       a->name);
        record->digests[record->n_digests++].algorithm = a;
        return 0;
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

int measure_policy_string(const char *name, int64_t version, const char *sha256, char **ret) {
        char *s;

        /* The alphabets policy-parse.c enforces; checked again because the string must read one
         * way whoever calls this. */
        if (!name || !*name || strlen(name) > 64 || !sha256 || strlen(sha256) != 64)
                return -EINVAL;
        for (const char *c = name; *c; c++)
                if (!is_name_char(*c))
                        return -EINVAL;
        for (const char *c = sha256; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return -EINVAL;

        if (asprintf(&s, "devgate:policy name=%s version=%" PRId64 " sha256=%s", name, version,
                     sha256) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The TPM: one connection per measurement, nothing loaded, nothing to flush. */

typedef struct Tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
} Tpm;

static void tpm_close(Tpm *t) {
        /* Esys_Finalize() frees the ESYS context only; the TCTI is ours. */
        Esys_Finalize(&t->esys);
        Tss2_TctiLdr_Finalize(&t->tcti);
}

static void esys_freep(void *p) {
        Esys_Free(*(void **) p);
}

static int esys_get_capability_pcrs(Tpm *t, TPMS_CAPABILITY_DATA **ret) {
        TPMI_YES_NO more = TPM2_NO;
        TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_PCRS, 0, 1, &more, ret);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_GetCapability(TPM2_CAP_PCRS)", 0);
}

static int esys_pcr_extend(Tpm *t, unsigned pcr, const TPML_DIGEST_VALUES *values) {
        TSS2_RC rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                     ESYS_TR_NONE, values);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_PCR_Extend", pcr);
}

/* Extends every bank the TPM allocates for this PCR, each with its own hash of the event, as
 * systemd-pcrextend does: a verifier may read any bank. Banks whose hash devgate does not compute
 * (SM3, SHA-3) are left alone. One command for all banks: they change together or not at all. */
static int tpm_extend(const char *tcti, unsigned pcr, const char *event, Record *ret) {
        _cleanup_(esys_freep) TPMS_CAPABILITY_DATA *cap = NULL;
        _cleanup_(tpm_close) Tpm t = {};
        TPML_DIGEST_VALUES values = {};
        Record record = { .index = pcr };
        int r;

        r = tss2_connect(tcti, &t.tcti, &t.esys);
        if (r < 0)
                return r;
        r = esys_get_capability_pcrs(&t, &cap);
        if (r < 0)
                return r;

        const TPML_PCR_SELECTION *banks = &cap->data.assignedPCR;
        for (uint32_t i = 0; i < banks->count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *s = &banks->pcrSelections[i];
                const HashAlgorithm *a;

                if (pcr / 8 >= s->sizeofSelect || !(s->pcrSelect[pcr / 8] & (1U << (pcr % 8))))
                        continue; /* allocated, but not for this PCR */
                a = hash_algorithm_from_id(s->hash);
                if (!a) {
                        log_debug("PCR bank 0x%04x has a hash devgate does not compute, skipping.",
                                  s->hash);
                        continue;
                }
                if (values.count >= ELEMENTSOF(values.digests))
                        break;
                r = record_add_digest(&record, a, event);
                if (r < 0)
                        return r;
                values.digests[values.count].hashAlg = a->id;
                memcpy(&values.digests[values.count].digest,
                       record.digests[record.n_digests - 1].value, a->size);
                values.count++;
        }
        if (values.count == 0)
                return log_debug_errno(EOPNOTSUPP,
                                       "No PCR bank of the TPM allocates PCR %u with a hash "
                                       "devgate computes.",
                                       pcr);

        r = esys_pcr_extend(&t, pcr, &values);
        if (r < 0)
                return r;
        *ret = record;
        return 0;
}

/* The TDX measurement registers, -ENOENT if there are none (no TDX guest, kernel before 6.16). */
static int tdx_open(const char *root, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", root ?: "", MEASURE_TDX_DIR) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot open '%s': %m", path);
        *ret_fd = fd;
        return 0;
}

/* Writing the 48-byte digest to rtmr<N>:sha384 extends RTMR<N>: one write at offset 0 of
 * exactly that size, else the kernel refuses it (EINVAL). Opened inside the directory, never
 * through a symlink, and only if it is a regular file (as sysfs attributes are): a FIFO planted
 * in a fake tree must not hang the boot (O_NONBLOCK). */
static int rtmr_extend(int dfd, unsigned index, const char *event, Record *ret) {
        _cleanup_close_ int fd = -EBADF;
        Record record = { .rtmr = true, .index = index };
        char name[sizeof "rtmr0:sha384"];
        struct stat st;
        ssize_t n;
        int r;

        r = record_add_digest(&record, SHA384, event);
        if (r < 0)
                return r;

        (void) snprintf(name, sizeof name, "rtmr%u:sha384", index);
        fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot open '%s': %m", name);
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return log_debug_errno(EBADFD, "'%s' is not a regular file.", name);

        do
                n = write(fd, record.digests[0].value, RTMR_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return log_debug_errno(errno, "Cannot write '%s': %m", name);
        if (n != RTMR_SIZE)
                return log_debug_errno(EIO, "Short write to '%s': %zd bytes.", name, n);

        *ret = record;
        return 0;
}

/* The event log, open and locked for one measurement. */
typedef struct MeasureLog {
        int fd;
        uint64_t next_recnum;
        bool aborted; /* found marked: an earlier writer died between extending and logging */
        bool writing; /* marked by us */
} MeasureLog;

static void measure_log_close(MeasureLog *l) {
        /* Closing drops the lock. */
        safe_close(l->fd);
}

/* The recnum after the last record: 0 for an empty log. A log whose last line is incomplete or
 * is not a record with a recnum was damaged or written by something else: refused, rather than
 * numbering records in a way a verifier cannot follow. */
static int measure_log_next_recnum(const char *data, size_t size, uint64_t *ret) {
        _cleanup_(json_object_putp) json_object *record = NULL;
        json_object *recnum;
        char reason[128];
        size_t start;
        int64_t v;
        int r;

        if (size == 0) {
                *ret = 0;
                return 0;
        }
        if (data[size - 1] != '\n')
                return log_debug_errno(EBADMSG, "The log's last record is incomplete.");
        for (start = size - 1; start > 0 && data[start - 1] != '\n'; start--)
                ;
        r = json_parse_strict(data + start, size - 1 - start, 8, &record, reason, sizeof reason);
        if (r < 0)
                return log_debug_errno(r, "The log's last record is not JSON: %s", reason);
        if (!json_object_object_get_ex(record, "recnum", &recnum) ||
            !json_object_is_type(recnum, json_type_int))
                return log_debug_errno(EBADMSG, "The log's last record has no recnum.");
        v = json_object_get_int64(recnum);
        if (v < 0 || v == INT64_MAX)
                return log_debug_errno(EBADMSG, "The log's last recnum %" PRId64 " is invalid.", v);
        *ret = (uint64_t) v + 1;
        return 0;
}

static int measure_log_open(const char *path, MeasureLog *ret) {
        _cleanup_free_ char *dir = NULL, *data = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
        uint64_t next = 0;
        struct stat st;
        ssize_t n;
        int r;

        if (!*base)
                return -EINVAL;
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        r = mkdir_parents(dir, 0755);
        if (r < 0)
                return log_debug_errno(r, "Cannot create '%s': %m", dir);

        /* Created inside the directory, never through a symlink. Mode 0600 as systemd's: whoever
         * can open the log can flock() it and stall every writer. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_debug_errno(errno, "Cannot open '%s': %m", dir);
        fd = openat(dfd, base, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                    0600);
        if (fd < 0)
                return negative_errno();

        /* Held until every record of this measurement is written: concurrent writers extend and
         * log in the same order. */
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return negative_errno();

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > LOG_SIZE_MAX)
                return -EFBIG;

        /* Read under the lock: the last record is then the last one for good. */
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        for (size_t done = 0; done < (size_t) st.st_size; done += (size_t) n) {
                n = pread(fd, data + done, (size_t) st.st_size - done, (off_t) done);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO; /* shrank under the lock: someone writes without locking */
        }
        r = measure_log_next_recnum(data, (size_t) st.st_size, &next);
        if (r < 0)
                return r;

        *ret = (MeasureLog){
                .fd = TAKE_FD(fd),
                .next_recnum = next,
                .aborted = st.st_mode & S_ISVTX,
        };
        return 0;
}

/* The sticky bit says "a writer is between extending and logging", as in systemd's log: tmpfs,
 * where /run lives, has no user xattrs to say it with. */
static int measure_log_mark(MeasureLog *l) {
        if (l->aborted)
                return 0;
        if (fchmod(l->fd, 0600 | S_ISVTX) < 0)
                return negative_errno();
        l->writing = true;
        return 0;
}

static int measure_log_unmark(MeasureLog *l) {
        if (!l->writing)
                return 0;
        if (fchmod(l->fd, 0600) < 0)
                return negative_errno();
        l->writing = false;
        return 0;
}

static void hex_format(const uint8_t *data, size_t size, char *ret) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < size; i++) {
                ret[2 * i] = digits[data[i] >> 4];
                ret[2 * i + 1] = digits[data[i] & 0xf];
        }
        ret[2 * size] = '\0';
}

static void record_format(JsonWriter *w, const Record *record, uint64_t recnum,
                          const char *event_type, const char *event, uint64_t timestamp) {
        char hex[2 * DIGEST_MAX + 1];

        json_writer_begin(w, '{');
        json_writer_key(w, "recnum");
        json_writer_int(w, (int64_t) recnum);
        if (record->rtmr)
                json_writer_key(w, "rtmr");
        else
                json_writer_key(w, "pcr");
        json_writer_int(w, record->index);
        json_writer_key(w, "digests");
        json_writer_begin(w, '[');
        for (size_t i = 0; i < record->n_digests; i++) {
                hex_format(record->digests[i].value, record->digests[i].algorithm->size, hex);
                json_writer_begin(w, '{');
                json_writer_key(w, "hashAlg");
                json_writer_string(w, record->digests[i].algorithm->name);
                json_writer_key(w, "digest");
                json_writer_string(w, hex);
                json_writer_end(w, '}');
        }
        json_writer_end(w, ']');
        json_writer_key(w, "content_type");
        json_writer_string(w, "devgate");
        json_writer_key(w, "content");
        json_writer_begin(w, '{');
        json_writer_key(w, "eventType");
        json_writer_string(w, event_type);
        json_writer_key(w, "string");
        json_writer_string(w, event);
        json_writer_key(w, "timestamp");
        json_writer_int(w, (int64_t) timestamp);
        json_writer_end(w, '}');
        json_writer_end(w, '}');
        json_writer_newline(w);
        w->comma = false; /* the next record starts a new line, not a list */
}

/* All records in one write: O_APPEND puts them at the end even if a writer that ignores the lock
 * appended meanwhile. */
static int measure_log_append(MeasureLog *l, const Record *records, size_t n_records,
                              const char *event_type, const char *event) {
        _cleanup_free_ char *text = NULL;
        JsonWriter w = {};
        struct timespec ts;
        uint64_t timestamp;
        size_t len;
        int r;

        /* CLOCK_BOOTTIME, as systemd's records: orders devgate's events against its. */
        if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
                return negative_errno();
        timestamp = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;

        for (size_t i = 0; i < n_records; i++)
                record_format(&w, &records[i], l->next_recnum + i, event_type, event, timestamp);
        r = json_writer_finish(&w, &text, &len);
        if (r < 0)
                return r;

        r = write_full(l->fd, text, len);
        if (r < 0)
                return r;
        if (fsync(l->fd) < 0 && errno != EINVAL)
                return negative_errno();
        l->next_recnum += n_records;
        return 0;
}

static bool event_valid(const char *event_type, const char *event) {
        size_t len;

        if (!event_type || !*event_type || !event)
                return false;
        for (const char *c = event_type; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
                        return false;
        /* Printable ASCII with devgate's prefix: the string in the log is then byte for byte
         * what was hashed, and it cannot pass for another program's event. */
        len = strlen(event);
        if (len >= EVENT_MAX || strncmp(event, "devgate:", 8) != 0)
                return false;
        for (const char *c = event; *c; c++)
                if (*c < 0x20 || *c > 0x7e)
                        return false;
        return true;
}

static void format_targets(const Record *records, size_t n_records, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n_records && len < size; i++) {
                const Record *r = &records[i];
                if (r->rtmr) {
                        len += (size_t) snprintf(buf + len, size - len, "%sRTMR%u",
                                                 i > 0 ? " and " : "", r->index);
                        continue;
                }
                len += (size_t) snprintf(buf + len, size - len, "%sPCR %u (", i > 0 ? " and " : "",
                                         r->index);
                for (size_t j = 0; j < r->n_digests && len < size; j++)
                        len += (size_t) snprintf(buf + len, size - len, "%s%s", j > 0 ? ", " : "",
                                                 r->digests[j].algorithm->name);
                if (len < size)
                        len += (size_t) snprintf(buf + len, size - len, ")");
        }
}

int measure_event(const MeasureOptions *o, const char *event_type, const char *event) {
        _cleanup_(measure_log_close) MeasureLog log = { .fd = -EBADF };
        _cleanup_close_ int tdx_fd = -EBADF;
        Record records[2];
        size_t n_records = 0;
        unsigned pcr, rtmr;
        int r, error = 0;
        char targets[128];

        if (!o || !o->log_path || !*o->log_path)
                return log_error_errno(EINVAL, "No measurement log given.");
        if (!event_valid(event_type, event))
                return log_error_errno(EINVAL, "Refusing to measure a malformed event.");
        pcr = o->pcr ?: MEASURE_PCR_DEFAULT;
        if (pcr < 8 || pcr > 15)
                return log_error_errno(
                        EINVAL,
                        "PCR %u cannot record the policy: PCRs 0-7 are the "
                        "firmware's, 16 and 23 can be reset by anyone, 17-22 cannot be "
                        "extended by the OS. Choose one of 8-15.",
                        pcr);
        rtmr = o->rtmr ?: MEASURE_RTMR_DEFAULT;
        if (rtmr < 2 || rtmr > 3)
                return log_error_errno(EINVAL,
                                       "RTMR%u cannot record the policy: RTMR0 and RTMR1 are the "
                                       "firmware's. Choose 2 or 3.",
                                       rtmr);

        if (!o->no_rtmr) {
                r = tdx_open(o->rtmr_root, &tdx_fd);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r,
                                               "Failed to open the TDX measurement registers: %m");
        }
        if (!o->tcti && tdx_fd < 0) {
                log_notice("No TPM and no TDX RTMR: '%s' not measured.", event);
                return 0;
        }

        r = measure_log_open(o->log_path, &log);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to open the measurement log '%s', nothing "
                                       "measured: %m",
                                       o->log_path);
        if (log.aborted)
                log_warning("Measurement log '%s' lacks a record: a writer stopped between "
                            "extending and logging. Appending anyway.",
                            o->log_path);
        r = measure_log_mark(&log);
        if (r < 0)
                return log_error_errno(r, "Failed to mark the measurement log '%s': %m",
                                       o->log_path);

        if (o->tcti) {
                r = tpm_extend(o->tcti, pcr, event, &records[n_records]);
                if (r < 0)
                        error = log_error_errno(r, "Failed to extend PCR %u of the TPM '%s': %m",
                                                pcr, o->tcti);
                else
                        n_records++;
        }
        if (tdx_fd >= 0) {
                r = rtmr_extend(tdx_fd, rtmr, event, &records[n_records]);
                if (r < 0) {
                        r = log_error_errno(r, "Failed to extend TDX RTMR%u: %m", rtmr);
                        error = error ?: r;
                } else
                        n_records++;
        }

        format_targets(records, n_records, targets, sizeof targets);
        if (n_records > 0) {
                r = measure_log_append(&log, records, n_records, event_type, event);
                if (r < 0)
                        /* The mark stays: the log now misses what the registers hold. */
                        return log_error_errno(r,
                                               "Extended %s, but failed to record it in the "
                                               "measurement log '%s': %m",
                                               targets, o->log_path);
        }
        r = measure_log_unmark(&log);
        if (r < 0) {
                r = log_error_errno(r, "Failed to unmark the measurement log '%s': %m",
                                    o->log_path);
                error = error ?: r;
        }
        if (error < 0)
                return error;

        log_info("Measured '%s' into %s, record %" PRIu64 " of '%s'.", event, targets,
                 log.next_recnum - n_records, o->log_path);
        return (int) n_records;
}

int measure_policy(const MeasureOptions *o, const Policy *policy) {
        _cleanup_free_ char *event = NULL;
        int r;

        r = measure_policy_string(policy->name, policy->version, policy->sha256, &event);
        if (r < 0)
                return log_error_errno(r, "Policy '%s' has no valid name or digest to measure.",
                                       policy->name ?: "");
        return measure_event(o, "policy", event);
}
