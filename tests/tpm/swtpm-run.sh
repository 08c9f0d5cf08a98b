#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs a command against a fresh swtpm and stops the swtpm afterwards, whatever happens:
#
#   tests/tpm/swtpm-run.sh [--state DIR] COMMAND [ARGS...]
#
# The command finds the TPM's TCTI string in $SWTPM_TCTI (for devgate) and in $TPM2TOOLS_TCTI
# (for tpm2-tools). With --state, the TPM's state is kept in DIR, so that successive runs see
# the same TPM, as successive boots do; without it, a temporary directory is used and removed.
# Exits 77 (skipped, for meson) when swtpm is not installed; else with the command's status.
set -eu

state=""
if [ "${1-}" = "--state" ]; then
        state=$2
        shift 2
fi
if [ $# -eq 0 ]; then
        echo "usage: $0 [--state DIR] COMMAND [ARGS...]" >&2
        exit 2
fi
if ! command -v swtpm >/dev/null 2>&1; then
        echo "swtpm is not installed, skipping" >&2
        exit 77
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/swtpm-run-XXXXXX")
pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
        if [ -n "$pid" ]; then
                kill "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        fi
        rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$state" ]; then
        state=$run/state
fi
mkdir -p "$state"

# swtpm logs every client connection to stderr, and the swtpm TCTI connects once per command.
swtpm socket --tpm2 --tpmstate dir="$state" \
        --server type=unixio,path="$run/sock" --ctrl type=unixio,path="$run/sock.ctrl" \
        --flags not-need-init,startup-clear >"$run/swtpm.log" 2>&1 &
pid=$!

# Up to 10 s for swtpm to set up its state and listen.
i=0
while [ ! -S "$run/sock" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
                cat "$run/swtpm.log" >&2
                echo "swtpm did not start" >&2
                exit 1
        fi
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
                echo "swtpm did not listen within 10 s" >&2
                exit 1
        fi
        sleep 0.1
done

SWTPM_TCTI="swtpm:path=$run/sock"
TPM2TOOLS_TCTI=$SWTPM_TCTI
export SWTPM_TCTI TPM2TOOLS_TCTI

status=0
"$@" || status=$?
exit "$status"
