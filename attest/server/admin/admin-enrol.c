// SPDX-License-Identifier: LGPL-2.1-or-later
/* devgate-kbs-admin enrol-ak: registers a guest's attestation key in the server's
 * --trusted-aks directory. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "kbs-admin.h"
#include "log.h"
#include "macro.h"
#include "tpm-verify.h"

#define AK_NAME_MAX 64
#define AK_ID_LEN   (2 * TPM_VERIFY_SHA256_SIZE)

static void help(void) {
        printf("Usage: devgate-kbs-admin enrol-ak [OPTIONS] FILE|-\n"
               "\n"
               "Registers a guest's TPM attestation key (AK) with devgate-kbs. FILE (\"-\":\n"
               "standard input) is what 'devgate attest --print-ak' prints on the guest. The\n"
               "key is checked as devgate-kbs checks its --trusted-aks directory (one RSA-2048\n"
               "public key, PEM), refused if it or the name is enrolled already, and installed\n"
               "as DIR/NAME.pub, mode 0644. Prints the AK's id, the SHA-256 of its DER public\n"
               "key, as the server logs it and access rules name it.\n"
               "\n"
               "Options:\n"
               "  -n --name NAME     The file's name, without .pub: letters, digits, '.', '_',\n"
               "                     '-' (default: ak-<the first 16 digits of the id>)\n"
               "  -d --dir DIR       The server's --trusted-aks directory, made if missing\n"
               "                     (default: from the configuration, else\n"
               "                     " ADMIN_TRUSTED_AKS_DEFAULT ")\n"
               "     --config FILE  devgate-kbs's configuration file\n"
               "                     (default " ADMIN_CONFIG_DEFAULT ", if it exists)\n"
               "  -h --help          Show this help\n"
               "\n"
               "devgate-kbs reads its AKs when it starts: restart it afterwards.\n"
               "\n"
               "Exit status: 0 enrolled, 1 failed, 2 usage, 3 not an AK devgate-kbs accepts,\n"
               "4 this AK or this name is enrolled already.\n");
}

/* The AK directory as the server reads it: *.pub, not hidden (as tpm_ak_set_load()). */
static bool is_pub_name(const char *name) {
        size_t len = strlen(name);
        return name[0] != '.' && len > 4 && streq(name + len - 4, ".pub");
}

/* The id of an enrolled file, read through the directory fd as the server reads it: symlinks
 * followed, only regular files. */
static int enrolled_id(int dir_fd, const char *name, char ret[AK_ID_LEN + 1]) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        char reason[256];
        size_t size;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        r = read_full_fd(fd, TPM_AK_FILE_SIZE_MAX, &text, &size);
        if (r < 0)
                return r;
        return tpm_ak_pem_parse(text, size, name, ret, reason, sizeof reason);
}

/* -EEXIST, logged, when the key or the name is enrolled already. */
static int check_not_enrolled(int dir_fd, const char *dir, const char *file, const char *id) {
        _cleanup_close_ int list_fd = -EBADF;
        char other[AK_ID_LEN + 1];
        struct dirent *de;
        DIR *d;
        int r = 0;

        list_fd = dup(dir_fd);
        if (list_fd < 0)
                return log_error_errno(negative_errno(), "Failed to list '%s': %m", dir);
        d = fdopendir(list_fd);
        if (!d)
                return log_error_errno(negative_errno(), "Failed to list '%s': %m", dir);
        TAKE_FD(list_fd);

        while (r >= 0 && (de = readdir(d))) {
                if (!is_pub_name(de->d_name))
                        continue;
                /* The whole directory loaded a moment ago: a file that does not parse now was
                 * replaced since, and is not this key. */
                if (enrolled_id(dir_fd, de->d_name, other) < 0)
                        continue;
                if (streq(other, id))
                        r = log_error_errno(-EEXIST,
                                            "AK sha256:%s is enrolled already, as '%s/%s'.", id,
                                            dir, de->d_name);
        }
        closedir(d);
        if (r < 0)
                return r;

        if (faccessat(dir_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                r = enrolled_id(dir_fd, file, other);
                return log_error_errno(
                        -EEXIST, "'%s/%s' exists already%s%s%s: choose another --name.", dir, file,
                        r >= 0 ? " (AK sha256:" : "", r >= 0 ? other : "", r >= 0 ? ")" : "");
        }
        return 0;
}

/* The name given, or one made from the id; ".pub" is added, not doubled. */
static int make_file_name(const char *name, const char *id, char ret[static AK_NAME_MAX + 8]) {
        size_t len;

        if (!name) {
                snprintf(ret, AK_NAME_MAX + 8, "ak-%.16s.pub", id);
                return 0;
        }
        len = strlen(name);
        if (len > 4 && streq(name + len - 4, ".pub"))
                len -= 4;
        if (len <= AK_NAME_MAX) {
                memcpy(ret, name, len);
                ret[len] = '\0';
                if (admin_name_valid(ret, AK_NAME_MAX)) {
                        strcpy(ret + len, ".pub");
                        return 0;
                }
        }
        log_error("--name takes 1 to %d letters, digits, '.', '_' and '-', not starting with '.' "
                  "(not '%s').",
                  AK_NAME_MAX, name);
        return -EINVAL;
}

int admin_enrol_ak(int argc, char *argv[]) {
        enum { ARG_CONFIG = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, 'n' },
                { "dir", required_argument, NULL, 'd' },
                { "config", required_argument, NULL, ARG_CONFIG },
                {},
        };
        _cleanup_tpm_ak_set_ TpmAkSet *before = NULL, *after = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        const char *name = NULL, *dir = NULL, *config = NULL, *input;
        char id[AK_ID_LEN + 1], file[AK_NAME_MAX + 8], reason[512];
        AdminPaths paths = {};
        size_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, "hn:d:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return ADMIN_EXIT_OK;
                case 'n':
                        name = optarg;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case ARG_CONFIG:
                        config = optarg;
                        break;
                default:
                        goto usage;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "devgate-kbs-admin enrol-ak: %s.\n",
                        optind == argc ? "which key? Give FILE, or - for standard input"
                                       : "one FILE only");
                goto usage;
        }
        input = argv[optind];

        r = admin_read_input(input, TPM_AK_FILE_SIZE_MAX, &text, &size);
        if (r == -EFBIG) {
                log_error("'%s' is larger than %d bytes: not a PEM public key.", input,
                          TPM_AK_FILE_SIZE_MAX);
                return ADMIN_EXIT_REFUSED;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to read '%s': %m", input);
                return ADMIN_EXIT_FAILED;
        }
        r = tpm_ak_pem_parse(text, size, streq(input, "-") ? "standard input" : input, id, reason,
                             sizeof reason);
        if (r < 0) {
                log_error("Refusing the AK: %s.", reason);
                return admin_exit_of(r);
        }
        if (make_file_name(name, id, file) < 0)
                return ADMIN_EXIT_USAGE;

        if (!dir) {
                r = admin_paths_load(config, &paths);
                if (r != ADMIN_EXIT_OK)
                        return r;
                dir = paths.trusted_aks;
        }
        r = admin_open_dir_path(dir, true, &dir_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to open the AK directory '%s': %m", dir);
                r = ADMIN_EXIT_FAILED;
                goto finish;
        }
        r = admin_lock_dir(dir_fd, dir);
        if (r < 0) {
                r = ADMIN_EXIT_FAILED;
                goto finish;
        }

        /* A directory the server would not start with is not made worse: it is fixed first. */
        r = tpm_ak_set_load(dir, &before, reason, sizeof reason);
        if (r < 0) {
                log_error("The AK directory does not load as devgate-kbs reads it: %s. Fix it "
                          "first.",
                          reason);
                r = ADMIN_EXIT_FAILED;
                goto finish;
        }
        r = check_not_enrolled(dir_fd, dir, file, id);
        if (r < 0) {
                r = r == -EEXIST ? ADMIN_EXIT_CONFLICT : ADMIN_EXIT_FAILED;
                goto finish;
        }

        /* The bytes that were checked, not a re-encoding of them. */
        r = admin_install(dir_fd, dir, file, text, size, 0644, false, NULL, NULL);
        if (r == -EEXIST) {
                log_error("'%s/%s' appeared meanwhile: choose another --name.", dir, file);
                r = ADMIN_EXIT_CONFLICT;
                goto finish;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to install '%s/%s': %m", dir, file);
                r = ADMIN_EXIT_FAILED;
                goto finish;
        }

        /* What the server will see at its next start. */
        r = tpm_ak_set_load(dir, &after, reason, sizeof reason);
        if (r < 0 || tpm_ak_set_size(after) != tpm_ak_set_size(before) + 1) {
                (void) unlinkat(dir_fd, file, 0);
                log_error("'%s/%s' does not load as one more AK (%s), removed it again.", dir, file,
                          r < 0 ? reason : "the set did not grow");
                r = ADMIN_EXIT_FAILED;
                goto finish;
        }

        printf("%s\n", id);
        log_info("Enrolled AK sha256:%s as '%s/%s'. devgate-kbs reads its AKs when it starts: "
                 "restart it.",
                 id, dir, file);
        r = fflush(stdout) == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAILED;
finish:
        admin_paths_done(&paths);
        return r;
usage:
        fprintf(stderr, "Try 'devgate-kbs-admin enrol-ak --help' for more information.\n");
        return ADMIN_EXIT_USAGE;
}
