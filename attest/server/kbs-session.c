// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base64.h"
#include "kbs-session.h"
#include "macro.h"

typedef enum SessionState {
        SESSION_AUTHED,     /* challenge sent, nonce unused */
        SESSION_NONCE_USED, /* an attestation took the nonce and did not succeed (yet) */
        SESSION_ATTESTED,
} SessionState;

typedef struct Session Session;
struct Session {
        char id[KBS_SESSION_ID_LEN + 1];
        char nonce[KBS_NONCE_LEN + 1];
        SessionState state;
        uint64_t expires_usec; /* CLOCK_MONOTONIC: the wall clock may jump */
        time_t expires;        /* the same on the wall clock, for the cookie and the token */
        KbsAttested attested;  /* SESSION_ATTESTED only */
        Session *bucket_next;
        /* Creation order, oldest first. With one lifetime for all, this is expiry order too. */
        Session *older, *newer;
};

struct KbsSessionTable {
        pthread_mutex_t lock;
        Session **buckets;
        size_t n_buckets; /* a power of two */
        Session *oldest, *newest;
        size_t count, max;
        uint64_t ttl_usec;
        unsigned ttl_sec;
};

static const char *const tee_names[_KBS_TEE_MAX] = {
        [KBS_TEE_TPM] = "tpm",
        [KBS_TEE_SAMPLE] = "sample",
};

const char *kbs_tee_to_string(KbsTee tee) {
        return tee >= 0 && tee < _KBS_TEE_MAX ? tee_names[tee] : NULL;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

void kbs_attested_done(KbsAttested *a) {
        EVP_PKEY_free(a->tee_key);
        *a = (KbsAttested){};
}

int kbs_session_table_new(size_t max, unsigned ttl_sec, KbsSessionTable **ret) {
        _cleanup_free_ KbsSessionTable *t = NULL;
        size_t n = 16;

        if (max == 0 || max > KBS_SESSION_MAX_LIMIT || ttl_sec == 0 ||
            ttl_sec > KBS_SESSION_TTL_MAX)
                return -EINVAL;

        /* About one session per bucket when full; ids are random, chains stay short. */
        while (n < max)
                n <<= 1;

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->buckets = calloc(n, sizeof *t->buckets);
        if (!t->buckets)
                return -ENOMEM;
        if (pthread_mutex_init(&t->lock, NULL) != 0) {
                free(t->buckets);
                return -ENOMEM;
        }
        t->n_buckets = n;
        t->max = max;
        t->ttl_sec = ttl_sec;
        t->ttl_usec = (uint64_t) ttl_sec * 1000000U;
        *ret = TAKE_PTR(t);
        return 0;
}

static void session_free(Session *s) {
        kbs_attested_done(&s->attested);
        free(s);
}

KbsSessionTable *kbs_session_table_free(KbsSessionTable *t) {
        if (!t)
                return NULL;
        for (Session *s = t->oldest, *next; s; s = next) {
                next = s->newer;
                session_free(s);
        }
        pthread_mutex_destroy(&t->lock);
        free(t->buckets);
        free(t);
        return NULL;
}

static size_t bucket_of(const KbsSessionTable *t, const char *id) {
        /* The id is random: any of its bits hash well. FNV-1a over all of it anyway, so that
         * the ids a client makes up to look up cannot pile into one chain by design. */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = id; *p; p++)
                h = (h ^ (unsigned char) *p) * 0x100000001b3ULL;
        return (size_t) h & (t->n_buckets - 1);
}

static Session **find_slot(KbsSessionTable *t, const char *id) {
        Session **slot = &t->buckets[bucket_of(t, id)];
        for (; *slot; slot = &(*slot)->bucket_next)
                if (streq((*slot)->id, id))
                        return slot;
        return slot;
}

static void unlink_and_free(KbsSessionTable *t, Session *s) {
        Session **slot = find_slot(t, s->id);

        if (*slot == s)
                *slot = s->bucket_next;
        if (s->older)
                s->older->newer = s->newer;
        else
                t->oldest = s->newer;
        if (s->newer)
                s->newer->older = s->older;
        else
                t->newest = s->older;
        t->count--;
        session_free(s);
}

/* Expired sessions sit at the old end of the list: drop them from there. */
static void drop_expired(KbsSessionTable *t, uint64_t now) {
        while (t->oldest && t->oldest->expires_usec <= now)
                unlink_and_free(t, t->oldest);
}

bool kbs_session_id_valid(const char *s) {
        size_t i;
        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == KBS_SESSION_ID_LEN;
}

static int random_bytes(uint8_t *buf, size_t size) {
        size_t done = 0;
        while (done < size) {
                ssize_t n = getrandom(buf + done, size - done, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                done += (size_t) n;
        }
        return 0;
}

int kbs_session_create(KbsSessionTable *t, KbsTee tee, KbsChallenge *ret, size_t *ret_evicted) {
        _cleanup_free_ Session *s = NULL;
        _cleanup_free_ char *nonce = NULL;
        uint8_t id[KBS_SESSION_ID_SIZE], raw_nonce[KBS_NONCE_SIZE];
        size_t evicted = 0;
        uint64_t now;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        r = random_bytes(id, sizeof id);
        if (r >= 0)
                r = random_bytes(raw_nonce, sizeof raw_nonce);
        if (r < 0)
                return -EIO;
        for (size_t i = 0; i < sizeof id; i++) {
                s->id[2 * i] = "0123456789abcdef"[id[i] >> 4];
                s->id[2 * i + 1] = "0123456789abcdef"[id[i] & 15];
        }
        r = base64_encode(raw_nonce, sizeof raw_nonce, &nonce);
        if (r < 0)
                return r;
        if (strlen(nonce) != KBS_NONCE_LEN)
                return -EIO;
        memcpy(s->nonce, nonce, sizeof s->nonce);
        s->state = SESSION_AUTHED;
        s->attested.tee = tee;

        pthread_mutex_lock(&t->lock);
        now = now_usec();
        drop_expired(t, now);
        while (t->count >= t->max) {
                unlink_and_free(t, t->oldest);
                evicted++;
        }
        /* 128 random bits do not collide; a broken generator would, and must not make two
         * clients share a session. */
        Session **slot = find_slot(t, s->id);
        if (*slot) {
                pthread_mutex_unlock(&t->lock);
                return -EIO;
        }
        s->expires_usec = now + t->ttl_usec;
        s->older = t->newest;
        if (t->newest)
                t->newest->newer = s;
        else
                t->oldest = s;
        t->newest = s;
        *slot = s;
        t->count++;

        memcpy(ret->id, s->id, sizeof ret->id);
        memcpy(ret->nonce, s->nonce, sizeof ret->nonce);
        s->expires = time(NULL) + (time_t) t->ttl_sec;
        ret->expires = s->expires;
        TAKE_PTR(s);
        pthread_mutex_unlock(&t->lock);

        if (ret_evicted)
                *ret_evicted = evicted;
        return 0;
}

/* Finds a live session; drops it if it expired. Called with the lock held. */
static int lookup(KbsSessionTable *t, const char *id, Session **ret) {
        Session *s;

        if (!kbs_session_id_valid(id))
                return -ENOENT;
        s = *find_slot(t, id);
        if (!s)
                return -ENOENT;
        if (s->expires_usec <= now_usec()) {
                unlink_and_free(t, s);
                return -ETIME;
        }
        *ret = s;
        return 0;
}

int kbs_session_take_nonce(KbsSessionTable *t, const char *id, KbsChallenge *ret, KbsTee *ret_tee) {
        Session *s;
        int r;

        pthread_mutex_lock(&t->lock);
        r = lookup(t, id, &s);
        if (r >= 0 && s->state != SESSION_AUTHED)
                r = -EALREADY;
        if (r >= 0) {
                s->state = SESSION_NONCE_USED;
                *ret_tee = s->attested.tee;
                memcpy(ret->id, s->id, sizeof ret->id);
                memcpy(ret->nonce, s->nonce, sizeof ret->nonce);
                ret->expires = s->expires;
        }
        pthread_mutex_unlock(&t->lock);
        return r;
}

int kbs_session_set_attested(KbsSessionTable *t, const char *id, const KbsAttested *a) {
        Session *s;
        int r;

        pthread_mutex_lock(&t->lock);
        r = lookup(t, id, &s);
        /* Only the attestation that took the nonce gets here, so the state is NONCE_USED. */
        if (r >= 0 && s->state != SESSION_NONCE_USED)
                r = -EALREADY;
        if (r >= 0) {
                if (EVP_PKEY_up_ref(a->tee_key) != 1)
                        r = -EIO;
                else {
                        s->attested = *a;
                        s->state = SESSION_ATTESTED;
                }
        }
        pthread_mutex_unlock(&t->lock);
        return r == -ETIME ? -ENOENT : r;
}

int kbs_session_get_attested(KbsSessionTable *t, const char *id, KbsAttested *ret) {
        Session *s;
        int r;

        pthread_mutex_lock(&t->lock);
        r = lookup(t, id, &s);
        if (r >= 0 && s->state != SESSION_ATTESTED)
                r = -EACCES;
        if (r >= 0) {
                if (EVP_PKEY_up_ref(s->attested.tee_key) != 1)
                        r = -EIO;
                else
                        *ret = s->attested;
        }
        pthread_mutex_unlock(&t->lock);
        return r;
}

size_t kbs_session_count(KbsSessionTable *t) {
        size_t n;
        pthread_mutex_lock(&t->lock);
        n = t->count;
        pthread_mutex_unlock(&t->lock);
        return n;
}
