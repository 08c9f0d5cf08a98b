// SPDX-License-Identifier: LGPL-2.1-or-later
/* A fake configfs-tsm report root served over the kernel's FUSE protocol (linux/fuse.h): see
 * fake-tsm.h. One thread reads requests from /dev/fuse and answers each with one write(2).
 * Nothing is cached by the kernel (entry and attribute timeouts 0, direct I/O), so every
 * access of the code under test reaches the fake, as every access reaches configfs. Inode
 * numbers are never reused, so a stale kernel inode can never name a new directory. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-tsm.h"

#define MAX_DIRS        64
#define INBLOB_MAX      64
#define DIR_NODE(i)     (0x100 + (uint64_t) (i) *8)
#define ATTR_NODE(i, a) (DIR_NODE(i) + 1 + (uint64_t) (a))

typedef enum Attr {
        ATTR_PROVIDER,
        ATTR_GENERATION,
        ATTR_INBLOB,
        ATTR_OUTBLOB,
        ATTR_AUXBLOB,
        _ATTR_MAX
} Attr;

static const char *const attr_names[_ATTR_MAX] = {
        [ATTR_PROVIDER] = "provider", [ATTR_GENERATION] = "generation", [ATTR_INBLOB] = "inblob",
        [ATTR_OUTBLOB] = "outblob",   [ATTR_AUXBLOB] = "auxblob",
};

typedef struct Dir {
        bool live;
        char name[256];
        uint64_t generation;
        uint8_t pending[INBLOB_MAX]; /* inblob bytes written, committed on flush */
        size_t pending_size;
        bool dirty;
} Dir;

struct FakeTsm {
        FakeTsmConfig config;
        char *tmp, *root;
        int fd;
        pthread_t thread;
        pthread_mutex_t lock;
        Dir dirs[MAX_DIRS];
        unsigned n_dirs;
        FakeTsmStats stats;
};

bool fake_tsm_unshare(void) {
        uid_t uid = getuid();
        gid_t gid = getgid();

        if (unshare(CLONE_NEWNS) < 0) {
                char map[64];
                int fd;

                /* Not root: a user namespace in which we are, and may mount FUSE (Linux 4.18+). */
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        return false;
                fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) !write(fd, "deny", 4);
                        close(fd);
                }
                snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
                if (!g_file_set_contents("/proc/self/uid_map", map, -1, NULL))
                        return false;
                snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
                if (!g_file_set_contents("/proc/self/gid_map", map, -1, NULL))
                        return false;
        }
        /* Mounts made from here on stay in this process's namespace. */
        return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) >= 0;
}

static int find_dir(FakeTsm *f, const char *name) {
        for (unsigned i = 0; i < f->n_dirs; i++)
                if (f->dirs[i].live && strcmp(f->dirs[i].name, name) == 0)
                        return (int) i;
        return -1;
}

static bool attr_present(FakeTsm *f, Attr a) {
        if (a == ATTR_PROVIDER)
                return f->config.provider || f->config.provider_errno;
        if (a == ATTR_AUXBLOB)
                return f->config.auxblob != NULL;
        return true;
}

/* Resolves a node id: -1 root, dir index in *dir and attribute in *attr (-1 for the dir). */
static bool resolve(FakeTsm *f, uint64_t node, int *dir, int *attr) {
        if (node == FUSE_ROOT_ID) {
                *dir = *attr = -1;
                return true;
        }
        if (node < DIR_NODE(0) || node >= DIR_NODE(MAX_DIRS))
                return false;
        *dir = (int) ((node - DIR_NODE(0)) / 8);
        *attr = (int) ((node - DIR_NODE(0)) % 8) - 1;
        if (!f->dirs[*dir].live || *attr >= _ATTR_MAX)
                return false;
        return *attr < 0 || attr_present(f, (Attr) *attr);
}

static void fill_attr(struct fuse_attr *a, uint64_t node, int attr) {
        *a = (struct fuse_attr){
                .ino = node, .nlink = 1, .uid = getuid(), .gid = getgid(), .blksize = 4096
        };
        if (attr < 0) {
                a->mode = S_IFDIR | 0755;
                a->nlink = 2;
        } else if (attr == ATTR_INBLOB)
                a->mode = S_IFREG | 0200;
        else
                a->mode = S_IFREG | 0444;
}

static int reply(FakeTsm *f, uint64_t unique, int error, const void *data, size_t size) {
        struct fuse_out_header h = { .len = (uint32_t) (sizeof h + size),
                                     .error = -error,
                                     .unique = unique };
        uint8_t buf[sizeof h + 65536];

        g_assert_cmpuint(size, <=, sizeof buf - sizeof h);
        memcpy(buf, &h, sizeof h);
        if (size > 0)
                memcpy(buf + sizeof h, data, size);
        /* ENOENT: the kernel dropped the request (an interrupted waiter); nothing to do. */
        if (write(f->fd, buf, sizeof h + size) < 0 && errno != ENOENT)
                g_printerr("fake-tsm: reply: %s\n", g_strerror(errno));
        return 0;
}

static int reply_entry(FakeTsm *f, uint64_t unique, uint64_t node, int attr) {
        struct fuse_entry_out e = { .nodeid = node, .generation = 1 };

        fill_attr(&e.attr, node, attr);
        return reply(f, unique, 0, &e, sizeof e);
}

/* The content of an attribute as configfs-tsm shows it. */
static GBytes *attr_content(FakeTsm *f, Dir *d, Attr a) {
        switch (a) {
        case ATTR_PROVIDER:
                return g_bytes_new_take(g_strdup_printf("%s\n", f->config.provider),
                                        strlen(f->config.provider) + 1);
        case ATTR_GENERATION: {
                char *s = g_strdup_printf("%" G_GUINT64_FORMAT "\n", d->generation);
                return g_bytes_new_take(s, strlen(s));
        }
        case ATTR_OUTBLOB:
                f->stats.outblob_reads++;
                return g_bytes_new(f->config.outblob,
                                   f->config.outblob ? f->config.outblob_size : 0);
        case ATTR_AUXBLOB:
                return g_bytes_new(f->config.auxblob, f->config.auxblob_size);
        default:
                return NULL;
        }
}

/* Answers one request; the value only lets each case end in "return reply(...)". */
static int handle(FakeTsm *f, const struct fuse_in_header *in, const uint8_t *arg) {
        int dir, attr;

        switch (in->opcode) {
        case FUSE_INIT: {
                const struct fuse_init_in *i = (const void *) arg;
                struct fuse_init_out o = {
                        .major = FUSE_KERNEL_VERSION,
                        .minor = MIN(i->minor, (uint32_t) FUSE_KERNEL_MINOR_VERSION),
                        .max_readahead = i->max_readahead,
                        .max_background = 16,
                        .congestion_threshold = 12,
                        .max_write = 65536,
                        .time_gran = 1,
                };
                return reply(f, in->unique, 0, &o, sizeof o);
        }
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT:
                return 0; /* no reply expected */

        case FUSE_LOOKUP: {
                const char *name = (const char *) arg;
                if (!resolve(f, in->nodeid, &dir, &attr) || attr >= 0)
                        return reply(f, in->unique, ENOENT, NULL, 0);
                if (dir < 0) {
                        int i = find_dir(f, name);
                        return i < 0 ? reply(f, in->unique, ENOENT, NULL, 0)
                                     : reply_entry(f, in->unique, DIR_NODE(i), -1);
                }
                for (int a = 0; a < _ATTR_MAX; a++)
                        if (strcmp(name, attr_names[a]) == 0 && attr_present(f, (Attr) a))
                                return reply_entry(f, in->unique, ATTR_NODE(dir, a), a);
                return reply(f, in->unique, ENOENT, NULL, 0);
        }
        case FUSE_GETATTR:
        case FUSE_SETATTR: {
                struct fuse_attr_out o = {};
                if (!resolve(f, in->nodeid, &dir, &attr))
                        return reply(f, in->unique, ENOENT, NULL, 0);
                fill_attr(&o.attr, in->nodeid, attr);
                return reply(f, in->unique, 0, &o, sizeof o);
        }
        case FUSE_MKDIR: {
                const struct fuse_mkdir_in *m = (const void *) arg;
                const char *name = (const char *) (m + 1);
                Dir *d;
                if (in->nodeid != FUSE_ROOT_ID)
                        return reply(f, in->unique, EPERM, NULL, 0);
                if (find_dir(f, name) >= 0)
                        return reply(f, in->unique, EEXIST, NULL, 0);
                if (f->n_dirs >= MAX_DIRS || strlen(name) >= sizeof d->name)
                        return reply(f, in->unique, ENOSPC, NULL, 0);
                d = &f->dirs[f->n_dirs];
                *d = (Dir){ .live = true, .generation = f->config.generation };
                strcpy(d->name, name);
                f->stats.mkdirs++;
                f->stats.live_dirs++;
                f->stats.last_mode = m->mode & 07777;
                g_strlcpy(f->stats.last_name, name, sizeof f->stats.last_name);
                return reply_entry(f, in->unique, DIR_NODE(f->n_dirs++), -1);
        }
        case FUSE_RMDIR: {
                int i = in->nodeid == FUSE_ROOT_ID ? find_dir(f, (const char *) arg) : -1;
                if (i < 0)
                        return reply(f, in->unique, ENOENT, NULL, 0);
                f->dirs[i].live = false;
                f->stats.rmdirs++;
                f->stats.live_dirs--;
                return reply(f, in->unique, 0, NULL, 0);
        }
        case FUSE_OPENDIR:
        case FUSE_OPEN: {
                const struct fuse_open_in *o = (const void *) arg;
                struct fuse_open_out out = { .open_flags = FOPEN_DIRECT_IO };
                int acc = o->flags & O_ACCMODE;
                if (!resolve(f, in->nodeid, &dir, &attr))
                        return reply(f, in->unique, ENOENT, NULL, 0);
                if (in->opcode == FUSE_OPEN &&
                    (attr < 0 || (attr == ATTR_INBLOB) != (acc == O_WRONLY)))
                        return reply(f, in->unique, EACCES, NULL, 0);
                if (attr == ATTR_INBLOB)
                        f->dirs[dir].pending_size = 0;
                out.fh = in->nodeid;
                return reply(f, in->unique, 0, &out, sizeof out);
        }
        case FUSE_READ: {
                const struct fuse_read_in *r = (const void *) arg;
                g_autoptr(GBytes) content = NULL;
                const uint8_t *p;
                size_t size;
                if (!resolve(f, in->nodeid, &dir, &attr) || attr < 0)
                        return reply(f, in->unique, ENOENT, NULL, 0);
                if (attr == ATTR_PROVIDER && f->config.provider_errno)
                        return reply(f, in->unique, f->config.provider_errno, NULL, 0);
                content = attr_content(f, &f->dirs[dir], (Attr) attr);
                if (!content)
                        return reply(f, in->unique, EINVAL, NULL, 0);
                p = g_bytes_get_data(content, &size);
                if (r->offset >= size)
                        return reply(f, in->unique, 0, NULL, 0);
                return reply(f, in->unique, 0, p + r->offset, MIN(size - r->offset, r->size));
        }
        case FUSE_WRITE: {
                const struct fuse_write_in *w = (const void *) arg;
                struct fuse_write_out out = { .size = w->size };
                Dir *d;
                if (!resolve(f, in->nodeid, &dir, &attr) || attr != ATTR_INBLOB)
                        return reply(f, in->unique, EACCES, NULL, 0);
                d = &f->dirs[dir];
                if (w->offset > INBLOB_MAX || w->size > INBLOB_MAX - w->offset)
                        return reply(f, in->unique, EFBIG, NULL, 0);
                memcpy(d->pending + w->offset, w + 1, w->size);
                d->pending_size = MAX(d->pending_size, (size_t) (w->offset + w->size));
                d->dirty = true;
                return reply(f, in->unique, 0, &out, sizeof out);
        }
        case FUSE_FLUSH:
                if (resolve(f, in->nodeid, &dir, &attr) && attr == ATTR_INBLOB &&
                    f->dirs[dir].dirty) {
                        Dir *d = &f->dirs[dir];
                        d->dirty = false;
                        d->generation += 1 + f->config.racing_writes;
                        memcpy(f->stats.inblob, d->pending, d->pending_size);
                        f->stats.inblob_size = d->pending_size;
                        f->stats.inblob_commits++;
                }
                return reply(f, in->unique, 0, NULL, 0);
        case FUSE_READDIR:
                return reply(f, in->unique, 0, NULL, 0); /* nobody lists: an empty directory */
        case FUSE_RELEASE:
        case FUSE_RELEASEDIR:
        case FUSE_FSYNC:
        case FUSE_FSYNCDIR:
                return reply(f, in->unique, 0, NULL, 0);
        case FUSE_DESTROY:
                return reply(f, in->unique, 0, NULL, 0);
        default:
                return reply(f, in->unique, ENOSYS, NULL, 0);
        }
}

static void *serve(void *userdata) {
        FakeTsm *f = userdata;
        /* FUSE wants a buffer of at least max_write plus a page for the headers. */
        static const size_t size = 65536 + 8192;
        g_autofree uint8_t *buf = g_malloc(size);

        for (;;) {
                ssize_t n = read(f->fd, buf, size);
                const struct fuse_in_header *in = (const void *) buf;

                if (n < 0 && (errno == EINTR || errno == ENOENT))
                        continue;
                if (n < 0) /* ENODEV: unmounted */
                        break;
                if ((size_t) n < sizeof *in || in->len != (uint32_t) n)
                        break;
                pthread_mutex_lock(&f->lock);
                (void) handle(f, in, buf + sizeof *in);
                pthread_mutex_unlock(&f->lock);
        }
        return NULL;
}

FakeTsm *fake_tsm_start(const FakeTsmConfig *config) {
        g_autofree char *opts = NULL;
        FakeTsm *f = g_new0(FakeTsm, 1);

        f->config = *config;
        f->fd = -1;
        pthread_mutex_init(&f->lock, NULL);
        f->tmp = g_dir_make_tmp("devgate-fake-tsm-XXXXXX", NULL);
        g_assert_nonnull(f->tmp);
        f->root = g_build_filename(f->tmp, "report", NULL);
        g_assert_cmpint(g_mkdir(f->root, 0755), ==, 0);

        f->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (f->fd < 0) {
                g_test_message("cannot open /dev/fuse: %s", g_strerror(errno));
                goto fail;
        }
        opts = g_strdup_printf("fd=%d,rootmode=40000,user_id=%u,group_id=%u", f->fd,
                               (unsigned) getuid(), (unsigned) getgid());
        if (mount("fake-tsm", f->root, "fuse.fake-tsm", MS_NOSUID | MS_NODEV, opts) < 0) {
                g_test_message("cannot mount FUSE: %s", g_strerror(errno));
                goto fail;
        }
        g_assert_cmpint(pthread_create(&f->thread, NULL, serve, f), ==, 0);
        return f;

fail:
        if (f->fd >= 0)
                close(f->fd);
        g_rmdir(f->root);
        g_rmdir(f->tmp);
        g_free(f->root);
        g_free(f->tmp);
        g_free(f);
        return NULL;
}

const char *fake_tsm_root(FakeTsm *f) {
        return f->root;
}

void fake_tsm_stats(FakeTsm *f, FakeTsmStats *ret) {
        pthread_mutex_lock(&f->lock);
        *ret = f->stats;
        pthread_mutex_unlock(&f->lock);
}

void fake_tsm_stop(FakeTsm *f) {
        if (!f)
                return;
        /* Unmounting aborts the connection: the thread's read() fails with ENODEV. */
        g_assert_cmpint(umount2(f->root, MNT_DETACH), ==, 0);
        pthread_join(f->thread, NULL);
        close(f->fd);
        pthread_mutex_destroy(&f->lock);
        g_assert_cmpint(g_rmdir(f->root), ==, 0);
        g_assert_cmpint(g_rmdir(f->tmp), ==, 0);
        g_free(f->root);
        g_free(f->tmp);
        g_free(f);
}
