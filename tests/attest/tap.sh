# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh) by the shell tests in tests/attest: TAP output and the checks they share.
#
#   tap_require PROGRAM...   skip the whole test ("1..0 # SKIP") when one is not installed
#   check NAME COMMAND...    one TAP line: ok if COMMAND succeeds; its stderr shown if not
#   contains FILE TEXT       FILE holds TEXT; if not, says so and shows FILE
#   tap_done                 the plan, and the exit status: 0 only if every check passed
#
# check writes the command's stderr to check.err in the current directory: call it from the
# test's own work directory.

n=0 failed=0

tap_require() {
        for program; do
                command -v "$program" >/dev/null 2>&1 && continue
                echo "1..0 # SKIP $program is not installed"
                exit 0
        done
}

check() {
        name=$1
        shift
        n=$((n + 1))
        if "$@" 2>check.err; then
                echo "ok $n - $name"
        else
                failed=$((failed + 1))
                echo "not ok $n - $name"
                sed 's/^/# /' check.err
        fi
}

contains() {
        grep -qF -- "$2" "$1" || { echo "# '$1' lacks: $2"; sed 's/^/#   /' "$1"; return 1; }
}

tap_done() {
        echo "1..$n"
        [ "$failed" -eq 0 ]
}
