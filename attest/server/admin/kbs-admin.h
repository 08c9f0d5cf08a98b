/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* devgate-kbs-admin: the operator's side of devgate-kbs. Each command checks what it is given
 * the way the server (or the guest) will, so that nothing is installed that would be refused
 * later, and installs it atomically: a file is written beside its target, synced, and renamed
 * into place, so that the server never reads half of one. */

/* Exit status, as devgate-kbs-admin(8) documents it. */
enum {
        ADMIN_EXIT_OK = 0,
        ADMIN_EXIT_FAILED = 1,   /* could not do it: a file unreadable or unwritable, memory */
        ADMIN_EXIT_USAGE = 2,    /* bad command line, malformed option value */
        ADMIN_EXIT_REFUSED = 3,  /* the input is not acceptable: key, evidence, envelope */
        ADMIN_EXIT_CONFLICT = 4, /* it conflicts with what is installed: already there, newer */
};

#define ADMIN_CONFIG_DEFAULT      "/etc/devgate/kbs.conf"
#define ADMIN_TRUSTED_AKS_DEFAULT "/etc/devgate/kbs/aks"
#define ADMIN_REFERENCE_DEFAULT   "/etc/devgate/kbs/reference.json"
#define ADMIN_RESOURCES_DEFAULT   "/var/lib/devgate-kbs/resources"

/* Where the server's files are: the --config file's settings (default ADMIN_CONFIG_DEFAULT, if
 * it exists), else the defaults above; a command's own flags override both. */
typedef struct AdminPaths {
        char *trusted_aks;
        char *reference;
        char *resources;
        unsigned resource_size_max;
} AdminPaths;

/* Reads the server's configuration file: config (NULL: the default one, which may be
 * missing). Logs what is wrong; returns an exit status. */
int admin_paths_load(const char *config, AdminPaths *ret);
void admin_paths_done(AdminPaths *p);

/* The exit status for a negative errno from reading or writing files. */
int admin_exit_of(int r);

/* Opens the directory name below dir_fd (AT_FDCWD for a path) without following a symlink as
 * its last component; with create, makes it (mode 0755) when missing. */
int admin_open_dir(int dir_fd, const char *name, bool create, int *ret_fd);

/* Opens a directory path, creating it and its parents (0755) with create. */
int admin_open_dir_path(const char *path, bool create, int *ret_fd);

/* Writes data to a hidden temporary file in dir_fd, syncs it and renames it to name, then
 * syncs the directory. replace false: -EEXIST when name exists, decided by the rename itself,
 * so two operators cannot both install it. check, if not NULL, is called with the temporary
 * file's path (below dir_path) before the rename: a negative return keeps the old file. */
typedef int (*AdminCheckFn)(const char *tmp_path, void *userdata);
int admin_install(int dir_fd, const char *dir_path, const char *name, const void *data, size_t size,
                  mode_t mode, bool replace, AdminCheckFn check, void *userdata);

/* Serializes admin commands working on one directory: an exclusive flock(2) on it. */
int admin_lock_dir(int dir_fd, const char *dir_path);

/* Reads a file, or standard input for "-", of at most max bytes: -EFBIG when larger. */
int admin_read_input(const char *path, size_t max, char **ret, size_t *ret_size);

/* True for names made of letters, digits, '.', '_' and '-' that do not start with '.', of 1
 * to max characters: file names that cannot climb out of a directory or hide in it. */
bool admin_name_valid(const char *s, size_t max);

int admin_enrol_ak(int argc, char *argv[]);
int admin_reference(int argc, char *argv[]);
int admin_publish(int argc, char *argv[]);
