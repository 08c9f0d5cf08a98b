// SPDX-License-Identifier: LGPL-2.1-or-later
/* Replays fuzzer inputs as an ordinary test: runs LLVMFuzzerTestOneInput() over every file in
 * the directories and files named on the command line and prints TAP. Linked with a harness
 * in place of libFuzzer, so the seeds and every regression input run in every build, gcc or
 * clang, with or without sanitizers. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "macro.h"

/* Far beyond any target's max_len; only there so that a stray huge file fails cleanly. */
#define INPUT_SIZE_MAX (16 * 1024 * 1024)

/* The input being run, for the crash reports below. */
static const char *volatile current;
static volatile sig_atomic_t crash_reported;

static void write_str(const char *s) {
        (void) !write(STDOUT_FILENO, s, strlen(s));
}

/* A crash ends the process without another TAP line; name the input that caused it. */
static void report_crash(void) {
        if (crash_reported)
                return; /* a sanitizer's report, then its abort() */
        crash_reported = 1;
        if (current) {
                write_str("Bail out! crashed on ");
                write_str(current);
        } else
                write_str("Bail out! a sanitizer stopped the run after the last input");
        write_str("\n");
}

static void on_crash_signal(int sig) {
        report_crash();
        raise(sig); /* SA_RESETHAND: the default action now, core dump included */
}

/* Provided by the ASan, UBSan and LSan runtimes, absent otherwise. Sanitizers report and
 * exit (or abort, with abort_on_error=1) from inside their runtime: the death callback is the
 * one hook that sees every finding. The leak check finds what one input leaked, rather than
 * what all of them did, at exit. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void catch_crashes(void) {
        static const int signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };

        if (__sanitizer_set_death_callback)
                __sanitizer_set_death_callback(report_crash);

        /* Only where nobody else listens: ASan's own SIGSEGV handler prints the better
         * report, and it ends in the death callback anyway. */
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                struct sigaction old, sa = {
                        .sa_handler = on_crash_signal,
                        .sa_flags = (int) (SA_RESETHAND | SA_NODEFER),
                };
                if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
                        (void) sigaction(signals[i], &sa, NULL);
        }
}

static bool leaked(void) {
        return __lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check() != 0;
}

typedef struct Inputs {
        char **paths;
        size_t n;
} Inputs;

static int inputs_add(Inputs *inputs, const char *path) {
        char **paths = realloc(inputs->paths, (inputs->n + 1) * sizeof *paths);
        if (!paths)
                return -ENOMEM;
        inputs->paths = paths;
        inputs->paths[inputs->n] = strdup(path);
        if (!inputs->paths[inputs->n])
                return -ENOMEM;
        inputs->n++;
        return 0;
}

static int visible(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* A directory contributes its regular files in name order, so that test numbers stay put
 * when a regression input is added. */
static int inputs_add_dir(Inputs *inputs, const char *dir) {
        struct dirent **entries;
        int n, r = 0;

        n = scandir(dir, &entries, visible, alphasort);
        if (n < 0)
                return negative_errno();
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (r >= 0 && asprintf(&path, "%s/%s", dir, entries[i]->d_name) < 0) {
                        path = NULL;
                        r = -ENOMEM;
                }
                if (r >= 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                        r = inputs_add(inputs, path);
                free(entries[i]);
        }
        free(entries);
        return r;
}

/* Reads into a buffer of exactly the file's size, as libFuzzer does, so that ASan sees a
 * read past the end of the input. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t size, done = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > INPUT_SIZE_MAX)
                return -EFBIG;
        size = (size_t) st.st_size;

        buf = malloc(size);
        if (!buf && size > 0)
                return -ENOMEM;
        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO; /* shrank while being read */
                done += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int main(int argc, char *argv[]) {
        Inputs inputs = {};
        bool failed = false;
        int r;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s DIRECTORY|FILE...\n", argv[0]);
                return 2;
        }

        /* Every line out before a crash can cut the output short. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        catch_crashes();

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "Cannot access '%s': %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                r = S_ISDIR(st.st_mode) ? inputs_add_dir(&inputs, argv[i])
                                        : inputs_add(&inputs, argv[i]);
                if (r < 0) {
                        fprintf(stderr, "Failed to list '%s': %s\n", argv[i], strerror(-r));
                        return EXIT_FAILURE;
                }
        }

        printf("1..%zu\n", inputs.n);
        for (size_t i = 0; i < inputs.n; i++) {
                _cleanup_free_ uint8_t *data = NULL;
                size_t size = 0;

                r = read_input(inputs.paths[i], &data, &size);
                if (r < 0) {
                        printf("not ok %zu - %s # cannot read: %s\n", i + 1, inputs.paths[i],
                               strerror(-r));
                        failed = true;
                } else {
                        current = inputs.paths[i];
                        (void) LLVMFuzzerTestOneInput(data, size);
                        current = NULL;
                        if (leaked()) {
                                printf("not ok %zu - %s # leaks memory, see LeakSanitizer's "
                                       "report\n",
                                       i + 1, inputs.paths[i]);
                                failed = true;
                        } else
                                printf("ok %zu - %s\n", i + 1, inputs.paths[i]);
                }
                free(inputs.paths[i]);
        }
        free(inputs.paths);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
