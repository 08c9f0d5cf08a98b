#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sets up a fresh Debian 12 machine and runs the whole suite: a warnings-as-errors build
# with every test, the boots under QEMU among them (tests/vm); the same suite, boots
# excepted, under AddressSanitizer and UndefinedBehaviorSanitizer (clang: umockdev's
# preload does not mix with gcc's shared ASan runtime); a clang-format check; and the
# benchmarks, which print their figures. Exits non-zero if any test fails.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tests/setup-debian.sh

step() { printf '\n=== %s\n' "$*"; }

step "format check"
clang-format --dry-run --Werror agent/*.c agent/*.h agent/lib/*.c agent/lib/*.h attest/*.c attest/*.h \
        tests/unit/*.c tests/device/*.c tests/bench/*.c tests/tpm/*.c tests/tpm/*.h \
        tests/fuzz/*.c tests/fuzz/*.h tests/attest/*.c tests/attest/*.h attest/server/*.c \
        attest/server/*.h attest/server/admin/*.c attest/server/admin/*.h

step "build (gcc, warnings as errors) and test"
rm -rf build-ci
meson setup build-ci -Dwerror=true >/dev/null
ninja -C build-ci
meson test -C build-ci --print-errorlogs

step "build (clang, ASan + UBSan) and test"
rm -rf build-asan
CC=clang meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        meson test -C build-asan --print-errorlogs --no-suite vm

step "fuzz (libFuzzer on the ASan + UBSan build, 30 s per fuzzer)"
tests/fuzz/run-fuzzers.sh build-asan 30

step "benchmark"
meson test -C build-ci --benchmark --verbose --logbase benchlog

# One closing line over both builds, counting every TAP subtest (test-cli.sh prints TAP too).
python3 - build-ci/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-ci/meson-logs/benchlog.json <<'PY'
import json, re, sys
passed = failed = 0
for log in sys.argv[1:]:
    for line in open(log):
        test = json.loads(line)
        ok = len(re.findall(r"^ok ", test["stdout"], re.M))
        not_ok = len(re.findall(r"^not ok ", test["stdout"], re.M))
        if test["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
            not_ok = max(not_ok, 1)
        passed += ok
        failed += not_ok
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
