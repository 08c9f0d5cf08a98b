/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fake configfs-tsm report root for tests: a FUSE file system, served by a thread of the test
 * through the kernel's FUSE protocol (no libfuse), that behaves as the kernel's configfs-tsm
 * does where devgate can see it, which a tree of plain files cannot:
 *
 *   - mkdir creates a report directory that already holds provider, generation, inblob,
 *     outblob and (if configured) auxblob; rmdir removes it with them;
 *   - a write to inblob is committed when the file is closed (configfs commits binary
 *     attributes on release; FLUSH is the synchronous step of close()) and increments
 *     generation, as every attribute write does in the kernel;
 *   - outblob returns the configured recorded blob, as generated for whatever inblob holds
 *     (the fake cannot sign: the blob's own REPORTDATA is what the test writes as inblob).
 *
 * The mount lives in the test's private mount namespace (fake_tsm_unshare()), so that it
 * disappears with the test process even when the test crashes. */

typedef struct FakeTsmConfig {
        const char *provider;   /* without newline; NULL: no provider attribute */
        int provider_errno;     /* non-zero: reading provider fails with it */
        const uint8_t *outblob; /* NULL: an empty outblob */
        size_t outblob_size;
        const uint8_t *auxblob; /* NULL: no auxblob attribute (as for TDX) */
        size_t auxblob_size;
        unsigned racing_writes; /* another writer's inblob writes after ours */
        uint64_t generation;    /* of a new directory */
} FakeTsmConfig;

typedef struct FakeTsmStats {
        unsigned mkdirs, rmdirs, live_dirs;
        unsigned last_mode;
        char last_name[256];
        uint8_t inblob[64];
        size_t inblob_size;
        unsigned inblob_commits, outblob_reads;
} FakeTsmStats;

typedef struct FakeTsm FakeTsm;

/* Call first in main(), before any thread exists: enters a private mount namespace (and a user
 * namespace when not root). false if that is not allowed here: the tests then skip. */
bool fake_tsm_unshare(void);

/* Mounts a fake on a new temporary directory; NULL (with the reason in the log) when FUSE
 * cannot be mounted here. */
FakeTsm *fake_tsm_start(const FakeTsmConfig *config);
const char *fake_tsm_root(FakeTsm *f);
void fake_tsm_stats(FakeTsm *f, FakeTsmStats *ret);
/* Unmounts, stops the thread, removes the directory. */
void fake_tsm_stop(FakeTsm *f);
