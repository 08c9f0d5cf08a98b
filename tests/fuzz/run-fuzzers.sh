#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs each libFuzzer binary of a clang build for a bounded time, on top of the corpus replay
# that `meson test` does in every build.
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS_EACH
#
# BUILD_DIR must be built already (ninja -C BUILD_DIR); its tests/fuzz/fuzzers.list, written
# by tests/fuzz/meson.build, names the fuzzers it has and their max_len. Each fuzzer works on
# a copy of its corpus in a temporary directory, so runs do not grow the repository. A crash,
# leak, timeout or out-of-memory input is copied to tests/fuzz/corpus/<name>/ as
# regression-<sha1>, where `meson test` replays it from then on, and the script exits 1.
set -eu

usage() {
        echo "Usage: $0 BUILD_DIR SECONDS_EACH" >&2
        exit 2
}
[ $# -eq 2 ] || usage
build=$(cd "$1" && pwd)
seconds=$2
case $seconds in '' | *[!0-9]*) usage ;; esac
here=$(cd "$(dirname "$0")" && pwd)
list=$build/tests/fuzz/fuzzers.list

if [ ! -r "$list" ]; then
        echo "No $list: is $build configured from this tree, with tests/fuzz in it?" >&2
        exit 2
fi
if ! grep -q '^[^#]' "$list"; then
        echo "$build has no libFuzzer binaries: configure it with CC=clang." >&2
        exit 2
fi

# libFuzzer records a finding only when the process dies, and UBSan by default prints and
# carries on. ASan's defaults already stop at the first error, and libFuzzer turns on
# LeakSanitizer itself.
: "${UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1}"
export UBSAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/devgate-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The last value libFuzzer printed for "stat::<name>:", or "-".
stat() {
        v=$(sed -n "s/^stat::$1: *//p" "$2" | tail -n 1)
        echo "${v:--}"
}

failed=0
printf '%-22s %6s %10s %8s %6s %7s %12s %5s  %s\n' fuzzer seconds execs execs/s cov ft corpus new \
        result >"$work/summary"

while read -r name max_len; do
        case $name in '' | '#'*) continue ;; esac
        bin=$build/tests/fuzz/fuzz-$name
        dir=$work/$name
        if [ ! -x "$bin" ]; then
                echo "$bin is not built: run ninja -C $build first." >&2
                exit 2
        fi

        mkdir -p "$dir/corpus" "$dir/artifacts"
        cp -R "$here/corpus/$name/." "$dir/corpus/"
        # -timeout: a parser of a few KiB that runs for seconds is a finding in early boot.
        set -- -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
                -print_final_stats=1 -artifact_prefix="$dir/artifacts/"
        if [ -f "$here/$name.dict" ]; then
                set -- "$@" -dict="$here/$name.dict"
        fi

        printf '=== fuzz-%s: %s s, max_len %s\n' "$name" "$seconds" "$max_len"
        start=$(date +%s)
        status=0
        # stdin is the list being read.
        "$bin" "$@" "$dir/corpus" >"$dir/log" 2>&1 </dev/null || status=$?
        elapsed=$(($(date +%s) - start))

        result=ok
        for artifact in "$dir/artifacts"/*; do
                [ -e "$artifact" ] || continue
                kind=${artifact##*/}
                kind=${kind%%-*}
                case $kind in
                slow) # slow-unit-*: slower than -report_slow_units, below -timeout
                        echo "fuzz-$name: slow input (not a failure): $(basename "$artifact")"
                        continue
                        ;;
                esac
                sha1=$(sha1sum <"$artifact" | cut -d' ' -f1)
                regression=$here/corpus/$name/regression-$sha1
                cp "$artifact" "$regression"
                result=$kind
                failed=1
                echo "fuzz-$name: $kind, saved as $regression"
                echo "  reproduce: $bin $regression"
                echo "  replay:    meson test -C $build --print-errorlogs fuzz-$name"
        done
        if [ "$status" -ne 0 ]; then
                [ "$result" != ok ] || result="exit-$status"
                failed=1
                echo "fuzz-$name exited with status $status:"
                # The report, without libFuzzer's progress lines and ASan's shadow memory map.
                grep -v '^#[0-9]' "$dir/log" | sed '/^Shadow bytes around/,/ABORTING$/d' |
                        tail -n 80
        fi

        # "#123456 DONE cov: 812 ft: 2051 corp: 140/24Kb ...": the last such line.
        cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/\1 \2 \3/p' \
                "$dir/log" | tail -n 1)
        # Split on purpose: three numbers, or three dashes when libFuzzer printed none.
        # shellcheck disable=SC2086
        set -- ${cov:-- - -}
        printf '%-22s %6s %10s %8s %6s %7s %12s %5s  %s\n' "fuzz-$name" "$elapsed" \
                "$(stat number_of_executed_units "$dir/log")" \
                "$(stat average_exec_per_sec "$dir/log")" "$1" "$2" "$3" \
                "$(stat new_units_added "$dir/log")" "$result" >>"$work/summary"
done <"$list"

echo
cat "$work/summary"
exit "$failed"
