#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Signed policies end to end: keygen, sign (two algorithms, several signers), verify, and
# apply --envelope on the q35 fixture; then every kind of bad input the agent may be handed
# through the host, each of which must be rejected with exit status 3, a message that says
# what is wrong, and nothing written to sysfs.
#
# usage: test-signed.sh DEVGATE FIXTURE POLICY_DIR SWTPM_RUN
set -u

devgate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") fixture=$2 policies=$3 swtpm_run=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check NAME COMMAND...
        name=$1; shift
        if "$@"; then
                passed=$((passed + 1)); echo "ok - $name"
        else
                failed=$((failed + 1)); echo "not ok - $name"
        fi
}

contains() { # contains FILE TEXT
        grep -qF -- "$2" "$1" || { echo "# '$1' lacks: $2"; sed 's/^/#   /' "$1"; return 1; }
}

# Envelopes are edited with python3 (meson's own dependency) to craft each attack.
edit() { # edit IN OUT PYTHON: runs PYTHON with e = the envelope as a dict
        python3 - "$1" "$2" "$3" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
b64 = lambda b: base64.b64encode(b).decode()
payload = lambda: base64.b64decode(e["payload"])
exec(sys.argv[3])
if isinstance(e, dict):
    json.dump(e, open(sys.argv[2], "w"))
PY
}

cd "$work" || exit 1
"$devgate" policy keygen alice >alice.out
alice_id=$(sed -n 's/^ed25519 key //p' alice.out)
"$devgate" policy keygen --algorithm ecdsa-p256 bob >/dev/null
"$devgate" policy keygen mallory >/dev/null
mkdir keys keys2
cp alice.pub bob.pub keys/
cp alice.pub bob.pub keys2/ && echo 2 >keys2/threshold

sign() { "$devgate" policy sign --key "$1" --output "$3" "$2" 2>/dev/null; }
sign alice.key "$policies/cc-default.json" cc.dsse
sign bob.key cc.dsse cc-ab.dsse
sign mallory.key "$policies/cc-default.json" cc-mallory.dsse

# The good path
check "verify: one trusted signer" sh -c "'$devgate' policy verify --keys keys cc.dsse >out 2>&1"
check "verify names the policy" contains out "policy 'cc-default' version 1"
check "verify names the signer" contains out "  $alice_id"
check "verify: two signers meet a threshold of two" \
        sh -c "'$devgate' policy verify --keys keys2 cc-ab.dsse >out 2>&1"
check "verify lists both" contains out "signed by 2 of 2 trusted keys (2 required)"
check "show prints the payload" sh -c "'$devgate' policy show cc.dsse 2>/dev/null | grep -q '\"name\": \"cc-default\"'"

# The signature is interoperable: OpenSSL verifies the ECDSA signature over the DSSE
# pre-authentication encoding on its own.
edit cc-ab.dsse /dev/null '
t = e["payloadType"].encode(); p = payload()
open("pae", "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(p), p))
open("sig.der", "wb").write(base64.b64decode(e["signatures"][1]["sig"]))'
check "openssl verifies bob's ECDSA signature" \
        sh -c "openssl dgst -sha256 -verify bob.pub -signature sig.der pae >/dev/null 2>&1"

# Every bad input, applied in the fixture's testbed: exit 3, the message, sysfs untouched.
cat >in-testbed.sh <<'SH'
# Runs inside umockdev-run: /sys is the fixture's.
devgate=$1 envelope=$2 keys=$3 floor=$4
for bus in pci virtio usb; do echo 1 >/sys/bus/$bus/drivers_autoprobe; done
DEVGATE_STATE_DIR=$PWD/state "$devgate" apply --envelope "$envelope" --keys "$keys" \
        --floor-file "$floor" --tpm "${SWTPM_TCTI:-off}" >apply.out 2>&1
echo $? >apply.rc
cat /sys/bus/pci/drivers_autoprobe /sys/devices/pci0000:00/0000:00:1f.2/driver_override \
        /sys/devices/pci0000:00/0000:00:09.0/usb1/authorized >sysfs.after
SH
echo 0 >floor

rejected() { # rejected NAME ENVELOPE MESSAGE [KEYS]
        rm -rf state apply.out
        umockdev-run -d "$fixture" -- sh in-testbed.sh "$devgate" "$2" "${4:-keys}" floor
        check "$1: exit 3" [ "$(cat apply.rc)" = 3 ]
        check "$1: says why" contains apply.out "$3"
        check "$1: nothing written" [ "$(tr '\n' ' ' <sysfs.after)" = "1 (null) 1 " ]
        check "$1: no state recorded" [ ! -e state/state.json ]
}

head -c 100 cc.dsse >truncated.dsse
rejected "truncated envelope" truncated.dsse "truncated.dsse: not valid JSON: unexpected end of input"
echo "hello" >text.dsse
rejected "not JSON" text.dsse "text.dsse: not valid JSON at byte 0"
edit cc.dsse type.dsse 'e["payloadType"] = "application/vnd.in-toto+json"'
rejected "wrong payloadType" type.dsse 'payloadType is "application/vnd.in-toto+json", expected'
edit cc.dsse b64.dsse 'e["payload"] = e["payload"][:-2] + "!="'
rejected "payload not base64" b64.dsse "payload: not valid base64"
edit cc.dsse b64pad.dsse 'e["payload"] = e["payload"].rstrip("=")'
rejected "payload without padding" b64pad.dsse "payload: not valid base64"
edit cc.dsse sigb64.dsse 'e["signatures"][0]["sig"] = "@@@@"'
rejected "signature not base64" sigb64.dsse "signatures[0].sig: not valid base64"
rejected "untrusted key" cc-mallory.dsse "rejected: signed by 0 of the trusted keys, 1 required"
edit cc.dsse swapped.dsse '
p = json.loads(payload()); p["default"] = "allow"; p["rules"] = []
e["payload"] = b64(json.dumps(p).encode())'
rejected "valid signature over other bytes" swapped.dsse "rejected: signed by 0 of the trusted keys"
edit cc.dsse keyid.dsse 'e["signatures"][0]["keyid"] = "0" * 64'
check "a wrong keyid hint does not matter" sh -c \
        "'$devgate' policy verify --keys keys keyid.dsse >/dev/null 2>&1"
rejected "threshold not met" cc.dsse "signed by 1 of the trusted keys, 2 required" keys2
edit cc.dsse twice.dsse 'e["signatures"].append(dict(e["signatures"][0]))'
rejected "one key signing twice counts once" twice.dsse \
        "signed by 1 of the trusted keys, 2 required (2 signatures in the envelope)" keys2

# Version floor and expiry: valid signatures over policies that must not be used.
echo 5 >floor
rejected "version below the floor" cc.dsse \
        "Policy 'cc-default' version 1 is older than version 5 required by the version floor file"
echo 0 >floor
sed 's/"default": "deny",/"default": "deny", "expires": "2001-01-01T00:00:00Z",/' \
        "$policies/cc-default.json" >expired.json
sign alice.key expired.json expired.dsse
rejected "expired policy" expired.dsse "Policy 'cc-default' version 1 expired at 2001-01-01T00:00:00Z"

# Oversized, deep, NUL bytes, duplicate keys.
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >huge.dsse
rejected "64 MiB envelope" huge.dsse "huge.dsse' is larger than 2097152 bytes"
python3 -c 'print("[" * 100000 + "]" * 100000)' >deep.dsse
rejected "deeply nested envelope" deep.dsse "deep.dsse: not valid JSON at byte 4: nesting too deep"
python3 -c 'import json; print(json.dumps({"format": 1, "name": "n", "version": 2, "rules": [[[[[[[[]]]]]]]]}))' >deep.json
check "sign refuses a deeply nested policy" sh -c \
        "! '$devgate' policy sign --key alice.key deep.json >/dev/null 2>out && grep -q 'nesting too deep' out"
edit cc.dsse nul.dsse 'e["payloadType"] = "application/vnd.devgate.policy+json\u0000x"'
rejected "NUL byte in a string" nul.dsse "payloadType: expected a string"
python3 - cc.dsse <<'PY' >dupkey.dsse
import json, sys, base64
e = json.load(open(sys.argv[1]))
# Two "payload" members: a reader that keeps the first and one that keeps the last see
# different policies under one signature.
evil = base64.b64encode(b'{"format": 1, "name": "evil", "version": 9, "default": "allow", "rules": []}').decode()
print('{"payloadType": "%s", "payload": "%s", "payload": "%s", "signatures": %s}'
      % (e["payloadType"], e["payload"], evil, json.dumps(e["signatures"])))
PY
rejected "duplicate key in the envelope" dupkey.dsse "an object names the same key twice"
printf '{"format": 1, "name": "dup", "version": 2, "default": "deny", "default": "allow", "rules": []}' >dup.json
check "sign refuses a policy naming a key twice" sh -c \
        "! '$devgate' policy sign --key alice.key dup.json >/dev/null 2>out && grep -q 'names the same key twice' out"

# The good path applied: the signed policy is enforced.
umockdev-run -d "$fixture" -- sh in-testbed.sh "$devgate" cc-ab.dsse keys2 floor
check "apply --envelope enforces a policy signed 2 of 2" [ "$(cat apply.rc)" = 0 ]
check "apply --envelope blocked AHCI" [ "$(tr '\n' ' ' <sysfs.after)" = "0 devgate-denied 0 " ]

# Rollback against a TPM NV counter (swtpm), its state kept from one boot to the next.
sed 's/"version": 1,/"version": 2,/' "$policies/cc-default.json" >v2.json
sign alice.key v2.json cc-v2.dsse
boot() { # boot ENVELOPE: one apply with the TPM of the previous boots
        "$swtpm_run" --state tpm-state \
                umockdev-run -d "$fixture" -- sh in-testbed.sh "$devgate" "$1" keys floor
}
mkdir tpm-state
boot cc.dsse
check "TPM boot 1: version 1 applied" [ "$(cat apply.rc)" = 0 ]
check "TPM boot 1: the counter records it" contains apply.out "records version 1."
boot cc-v2.dsse
check "TPM boot 2: version 2 applied" [ "$(cat apply.rc)" = 0 ]
boot cc.dsse
check "TPM boot 3: version 1 is a rollback" [ "$(cat apply.rc)" = 3 ]
check "TPM boot 3: the message names both versions and the TPM" contains apply.out \
        "Policy 'cc-default' version 1 is older than version 2 required by the TPM NV counter 0x01306467: rollback refused."
check "TPM boot 3: nothing written" [ "$(tr '\n' ' ' <sysfs.after)" = "1 (null) 1 " ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
