#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The devgate command as a user runs it: exit codes, messages that name the file and the
# reason, and apply → status → explain → generate on the recorded q35 fixture, inside a
# umockdev testbed (umockdev-run) so that /sys is the fixture's.
#
# usage: test-cli.sh DEVGATE FIXTURE POLICY_DIR
set -u

devgate=$1 fixture=$2 policies=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check NAME COMMAND...: the command must succeed
        name=$1; shift
        if "$@"; then
                passed=$((passed + 1)); echo "ok - $name"
        else
                failed=$((failed + 1)); echo "not ok - $name"
        fi
}

expect_exit() { # expect_exit CODE FILE-FOR-OUTPUT COMMAND...
        code=$1 out=$2; shift 2
        "$@" >"$out" 2>&1
        rc=$?
        [ "$rc" -eq "$code" ] || { echo "# exit $rc, expected $code:"; sed 's/^/#   /' "$out"; return 1; }
}

contains() { # contains FILE TEXT
        grep -qF -- "$2" "$1" || { echo "# '$1' lacks: $2"; sed 's/^/#   /' "$1"; return 1; }
}

# --help on every command
for cmd in "" apply device halt status explain generate "policy check"; do
        # shellcheck disable=SC2086 # $cmd is split on purpose
        check "help: devgate $cmd --help" expect_exit 0 "$work/help" "$devgate" $cmd --help
        check "help: devgate $cmd --help prints usage" contains "$work/help" "Usage: devgate"
done
check "usage: unknown command" expect_exit 2 "$work/out" "$devgate" frobnicate
check "usage: apply without a policy" expect_exit 2 "$work/out" "$devgate" apply
check "usage: apply without a policy says why" contains "$work/out" \
        "give one of --envelope FILE, --fetch URL, --attest, --baseline FILE, --in-force or --policy FILE"
check "usage: --baseline with --policy is refused" expect_exit 2 "$work/out" \
        "$devgate" apply -n --baseline "$policies/cc-default.json" --policy "$policies/cc-default.json"
check "usage: device without a path" expect_exit 2 "$work/out" "$devgate" device
check "usage: halt without a reason" expect_exit 2 "$work/out" "$devgate" halt
check "device with no policy in force does nothing" expect_exit 0 "$work/out" \
        env DEVGATE_STATE_DIR="$work/empty-state" "$devgate" device /devices/pci0000:00/0000:00:1f.2
check "apply refuses an unsigned policy" expect_exit 3 "$work/out" \
        "$devgate" apply -n -p "$policies/cc-default.json"
check "the refusal says how to proceed" contains "$work/out" \
        "Refusing unsigned policy '$policies/cc-default.json': give --envelope FILE --keys DIR"

# policy check: the shipped policies are valid; errors name file, path and reason
for p in "$policies"/cc-default.json "$policies"/strict.json "$policies"/permissive.json; do
        check "policy check $(basename "$p")" expect_exit 0 "$work/out" "$devgate" policy check "$p"
done
cat >"$work/bad.json" <<'JSON'
{ "format": 1, "name": "bad", "version": 1, "rules": [
  { "action": "deny", "match": { "bus": "pci" } },
  { "action": "deny", "match": { "bus": "pci" } },
  { "action": "deny", "match": { "bus": "pci" } },
  { "action": "deny", "match": { "bus": "pci", "class": "0x06" } } ] }
JSON
check "policy check rejects a bad class" expect_exit 3 "$work/out" "$devgate" policy check "$work/bad.json"
check "policy check names file, path and reason" contains "$work/out" \
        "$work/bad.json: rules[3].match.class: expected \"0xCCSSPP\" or \"0xCCSSPP/0xMASK\""
check "policy check on a missing file" expect_exit 1 "$work/out" "$devgate" policy check "$work/none.json"
check "missing file is named" contains "$work/out" "Failed to read policy '$work/none.json'"
check "apply with a missing policy is an error" expect_exit 1 "$work/out" "$devgate" apply -n --insecure-unsigned -p "$work/none.json"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$work/huge.json"
check "oversized policy is rejected" expect_exit 3 "$work/out" "$devgate" policy check "$work/huge.json"
check "oversized policy says so" contains "$work/out" "is larger than"

# apply rejects a policy scoped to other kernels, and applies nothing
sed 's/"default": "deny",/"default": "deny", "kernel": { "min": "7.0" },/' \
        "$policies/cc-default.json" >"$work/future.json"
check "apply refuses a policy for other kernels" expect_exit 3 "$work/out" \
        env DEVGATE_KERNEL_RELEASE=6.1.0-56-amd64 "$devgate" apply -p "$work/future.json" --insecure-unsigned -n
check "the refusal names both kernels" contains "$work/out" "is for kernels 7.0 to any, this is 6.1.0-56-amd64"

# In the fixture's testbed: apply a signed cc-default, then status, explain and generate.
"$devgate" policy keygen "$work/site" >/dev/null
mkdir "$work/keys" && cp "$work/site.pub" "$work/keys/"
"$devgate" policy sign --key "$work/site.key" --output "$work/cc-default.dsse" \
        "$policies/cc-default.json" 2>/dev/null
cat >"$work/in-testbed.sh" <<'SH'
set -u
devgate=$1 policies=$2 work=$3
for bus in pci virtio usb; do
        echo 1 >/sys/bus/$bus/drivers_autoprobe
        : >/sys/bus/$bus/drivers_probe
done
for link in /sys/bus/*/devices/*/driver; do
        [ -L "$link" ] || continue
        dir=$(dirname "$link"); bus=$(basename "$(dirname "$(dirname "$dir")")")
        mkdir -p "/sys/bus/$bus/drivers/$(basename "$(readlink "$link")")"
        : >"/sys/bus/$bus/drivers/$(basename "$(readlink "$link")")/unbind"
done
export DEVGATE_STATE_DIR=$work/state DEVGATE_KERNEL_RELEASE=6.1.0-56-amd64
"$devgate" apply --envelope "$work/cc-default.dsse" --keys "$work/keys" >"$work/apply.out" 2>&1; echo $? >"$work/apply.rc"
cat /sys/devices/pci0000:00/0000:00:1f.2/driver_override >"$work/ahci.override"
cp "$work/state/policy.json" "$work/policy-in-force.json"
# The udev rule's command: one device, with the policy apply installed.
echo ahci >/sys/devices/pci0000:00/0000:00:1f.2/driver_override
"$devgate" --log-target=stderr device /devices/pci0000:00/0000:00:1f.2 >"$work/device.out" 2>&1; echo $? >"$work/device.rc"
cat /sys/devices/pci0000:00/0000:00:1f.2/driver_override >"$work/device-ahci.override"
"$devgate" --log-target=stderr device /sys/devices/pci0000:00/0000:00:09.0 >"$work/device-gone.out" 2>&1; echo $? >"$work/device-gone.rc"
"$devgate" --log-target=stderr device /devices/../../etc >"$work/device-dots.out" 2>&1; echo $? >"$work/device-dots.rc"
DEVGATE_STATE_DIR=$work/baseline-state "$devgate" apply --baseline "$policies/cc-default.json" >"$work/baseline.out" 2>&1; echo $? >"$work/baseline.rc"
DEVGATE_STATE_DIR=$work/baseline-state "$devgate" apply --in-force >"$work/in-force.out" 2>&1; echo $? >"$work/in-force.rc"
DEVGATE_STATE_DIR=$work/no-state "$devgate" apply --in-force >"$work/no-force.out" 2>&1; echo $? >"$work/no-force.rc"
"$devgate" status >"$work/status.out" 2>&1; echo $? >"$work/status.rc"
"$devgate" status --json >"$work/status.json" 2>&1
"$devgate" explain -p "$policies/cc-default.json" 0000:00:06.0 >"$work/explain.out" 2>&1; echo $? >"$work/explain.rc"
"$devgate" explain -p "$policies/cc-default.json" 0000:09:00.0 >"$work/explain-none.out" 2>&1; echo $? >"$work/explain-none.rc"
"$devgate" generate --name q35 >"$work/generated.json" 2>"$work/generate.err"; echo $? >"$work/generate.rc"
"$devgate" apply --policy "$work/generated.json" --insecure-unsigned --dry-run --json >"$work/generated-apply.json" 2>"$work/generated-apply.err"; echo $? >"$work/generated-apply.rc"
SH
umockdev-run -d "$fixture" -- sh "$work/in-testbed.sh" "$devgate" "$policies" "$work"

check "apply in the testbed exits 0" [ "$(cat "$work/apply.rc")" = 0 ]
check "apply prints the summary" contains "$work/apply.out" "Applied 'cc-default' version 1: 13 allowed, 13 denied, 0 failed."
check "apply blocked AHCI" [ "$(cat "$work/ahci.override")" = devgate-denied ]
check "apply installs the verified policy for devgate device" \
        cmp -s "$work/policy-in-force.json" "$policies/cc-default.json"
check "device decides one device with it" [ "$(cat "$work/device.rc")" = 0 ]
check "device logs its decision" contains "$work/device.out" "deny pci 0000:00:1f.2"
check "device blocks AHCI again" [ "$(cat "$work/device-ahci.override")" = devgate-denied ]
check "device leaves a path that is no device alone" [ "$(cat "$work/device-gone.rc")" = 0 ]
check "device leaves a dot path alone" [ "$(cat "$work/device-dots.rc")" = 0 ]
check "apply --baseline applies the image's plain policy" [ "$(cat "$work/baseline.rc")" = 0 ]
check "apply --baseline says so" contains "$work/baseline.out" "Baseline policy 'cc-default' version 1"
check "apply --baseline installs it" cmp -s "$work/baseline-state/policy.json" "$policies/cc-default.json"
check "apply --in-force applies the policy in force" [ "$(cat "$work/in-force.rc")" = 0 ]
check "apply --in-force prints the summary" contains "$work/in-force.out" "Applied 'cc-default' version 1: 13 allowed, 13 denied, 0 failed."
check "apply --in-force without one fails" [ "$(cat "$work/no-force.rc")" = 1 ]
check "apply --in-force without one says so" contains "$work/no-force.out" "No policy in force in '$work/no-state'"
check "status exits 0" [ "$(cat "$work/status.rc")" = 0 ]
check "status shows the policy" contains "$work/status.out" "Policy:  cc-default version 1"
check "status shows the envelope" contains "$work/status.out" "File:    $work/cc-default.dsse"
check "status shows the policy hash" contains "$work/status.out" \
        "SHA-256: $(sha256sum "$policies/cc-default.json" | cut -d' ' -f1)"
check "status lists AHCI as blocked" contains "$work/status.out" "blocked, unbound from ahci"
check "status --json is the state" contains "$work/status.json" '"sha256":'
check "explain exits 0" [ "$(cat "$work/explain.rc")" = 0 ]
check "explain says why rules[0] does not match rng" contains "$work/explain.out" \
        "virtio rng (1af4:1005 subsystem device 0004) is not listed"
check "explain shows the matching rule" contains "$work/explain.out" "rules[6] deny"
check "explain ends with the decision" contains "$work/explain.out" "Decision: deny"
check "explain of an unknown device fails" [ "$(cat "$work/explain-none.rc")" = 1 ]
check "generate exits 0" [ "$(cat "$work/generate.rc")" = 0 ]
check "generated policy is valid" expect_exit 0 "$work/out" "$devgate" policy check "$work/generated.json"
check "generated policy names virtio types" contains "$work/generated.json" '"virtio": "console"'
check "generated policy applies in the testbed" [ "$(cat "$work/generated-apply.rc")" = 0 ]
# The generated policy allows every device present when it was generated, and nothing is
# left to the default.
check "generated policy allows all 26 devices" \
        [ "$(grep -c '"action": *"allow"' "$work/generated-apply.json")" = 26 ]
check "generated policy pins drivers" contains "$work/generated.json" '"driver": "virtio_console"'
check "unbound devices get no pin" \
        [ "$(grep -c '"driver":' "$work/generated.json")" -lt "$(grep -c '"action": "allow"' "$work/generated.json")" ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
