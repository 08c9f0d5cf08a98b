#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Remote attestation end to end, with nothing faked but the devices: swtpm as the guest's
# TPM, devgate-kbs over HTTPS on loopback holding a signed policy, and
# "devgate apply --fetch" in the q35 fixture's testbed. The operator's side is done as an
# operator would: the AK from "devgate attest --print-ak", the reference values from
# tpm2_pcrread, an access rule for that AK. Then the server refuses in every way it can
# (unregistered AK, PCR mismatch, access denied, no such resource) and a fetched policy
# below the rollback floor is refused: each ends with nothing applied.
#
# usage: test-attest-e2e.sh DEVGATE DEVGATE_KBS FIXTURE POLICY_DIR SWTPM_RUN
set -u

. "$(dirname "$0")/tap.sh"
tap_require swtpm tpm2_pcrread umockdev-run openssl python3
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$5" "$0" "$@"
fi

devgate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kbs=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
fixture=$3 policies=$4
setup=$(cd "$(dirname "$0")" && pwd)/kbs-setup.sh
work=$(mktemp -d)
cleanup() {
        for p in $kbs_pids; do kill "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

. "$setup"
kbs_tls
# The policy author publishes cc-default, signed; "forbidden" is published but granted to
# nobody.
kbs_publish "$devgate" "$policies/cc-default.json"
cp resources/default/devgate-policy/cc-default resources/default/devgate-policy/forbidden

# The operator registers the guest's AK and records its PCRs as the reference.
kbs_enrol "$devgate" "$SWTPM_TCTI"
check "print-ak gives a PEM public key" sh -c "openssl pkey -pubin -in aks/guest.pub -noout"
mkdir no-aks
python3 - "$ak_id" <<'PY'
import json, sys
ref = json.load(open("reference.json"))
pcrs = ref["sets"]["known-good"]["pcrs"]
json.dump({"sets": {"other-firmware": {"pcrs": dict(pcrs, **{"7": ["11" * 32]})}}},
          open("reference-bad.json", "w"))
rule = {"resource": "default/devgate-policy/cc-default", "ak": sys.argv[1],
        "reference": "known-good"}
# "missing" is granted but not published: access is checked first, so that a guest cannot
# learn which resources exist; only a granted one can be answered 404.
json.dump({"rules": [rule, dict(rule, resource="default/devgate-policy/missing")]},
          open("access.json", "w"))
json.dump({"rules": [dict(rule, reference="other-firmware")]}, open("access-bad.json", "w"))
PY

serve() { kbs_serve "$kbs" "$@"; }
serve good --trusted-aks aks --reference reference.json --access access.json
serve no-ak --trusted-aks no-aks --reference reference.json --access access.json
serve bad-pcr --trusted-aks aks --reference reference-bad.json --access access-bad.json

# devgate attest: the fetched bytes are the published envelope, over one TLS connection.
"$devgate" attest --url "$(cat good.url)" --resource default/devgate-policy/cc-default \
        --ca ca.pem --tee tpm --tcti "$SWTPM_TCTI" --out fetched.dsse --timings 2>attest.err
check "attest: exit 0" [ $? = 0 ]
check "attest: the policy as published" cmp -s fetched.dsse resources/default/devgate-policy/cc-default
check "attest: one handshake, one TLS connection" contains attest.err "1 handshake, 1 connection"
check "attest: the server logged the verdict" grep -q "verdict=attested" good.log
sed 's/^/# /' attest.err

# apply --fetch in the testbed: the real thing, with the TPM for the floor and the quote.
cat >in-testbed.sh <<'SH'
devgate=$1 url=$2 resource=$3 floor=$4
for bus in pci virtio usb; do echo 1 >/sys/bus/$bus/drivers_autoprobe; done
DEVGATE_STATE_DIR=$PWD/state "$devgate" apply --fetch "$url" --resource "$resource" \
        --ca ca.pem --tee tpm --keys keys --floor-file "$floor" --tpm "$SWTPM_TCTI" \
        >apply.out 2>&1
echo $? >apply.rc
cat /sys/bus/pci/drivers_autoprobe /sys/devices/pci0000:00/0000:00:1f.2/driver_override \
        /sys/devices/pci0000:00/0000:00:09.0/usb1/authorized >sysfs.after
SH
echo 0 >floor

fetch_apply() { # fetch_apply SERVER RESOURCE [FLOOR-FILE]
        rm -rf state apply.out apply.rc sysfs.after
        umockdev-run -d "$fixture" -- sh in-testbed.sh "$devgate" "$(cat "$1.url")" "$2" "${3:-floor}"
}

refused() { # refused NAME SERVER RESOURCE STATUS MESSAGE
        fetch_apply "$2" "$3"
        check "$1: exit $4" [ "$(cat apply.rc)" = "$4" ]
        check "$1: says why" contains apply.out "$5"
        check "$1: nothing written to sysfs" [ "$(tr '\n' ' ' <sysfs.after)" = "1 (null) 1 " ]
        check "$1: no state recorded" [ ! -e state/state.json ]
        check "$1: nothing measured" [ ! -e state/measure.log ]
        grep -E 'failed:|rejected|below' apply.out | sed 's/^/# /'
}

refused "AK not registered" no-ak default/devgate-policy/cc-default 5 "attest: server answered 401"
check "AK not registered: the server says so" grep -q "is not registered" no-ak.log
refused "PCR 7 differs from the reference" bad-pcr default/devgate-policy/cc-default 5 \
        "attest: server answered 401"
check "PCR mismatch: the server names the PCR" grep -q "PCR 7" bad-pcr.log
refused "resource not granted" good default/devgate-policy/forbidden 5 \
        "resource: server answered 403"
refused "no such resource" good default/devgate-policy/missing 5 "resource: server answered 404"

# Rollback: a floor of 2 refuses the fetched version 1, after attestation and verification.
echo 2 >floor2
fetch_apply good default/devgate-policy/cc-default floor2
check "below the floor: exit 3" [ "$(cat apply.rc)" = 3 ]
check "below the floor: says why" contains apply.out "rollback refused"
check "below the floor: nothing written" [ "$(tr '\n' ' ' <sysfs.after)" = "1 (null) 1 " ]

check "below the floor: nothing measured" [ ! -e state/measure.log ]

check "the server still attests after all this" sh -c \
        "'$devgate' attest --url '$(cat good.url)' --resource default/devgate-policy/cc-default \
                --ca ca.pem --tee tpm --tcti '$SWTPM_TCTI' --out again.dsse 2>/dev/null"

# Last, as at boot: the measurement extends PCR 14, which the reference values (taken
# before devgate ran) no longer match.
fetch_apply good default/devgate-policy/cc-default
check "apply --fetch: exit 0" [ "$(cat apply.rc)" = 0 ]
check "apply --fetch: one TLS connection" contains apply.out "1 handshake, 1 TLS connection"
check "apply --fetch: signature verified" contains apply.out "is signed by key"
check "apply --fetch: applied" contains apply.out "Applied 'cc-default' version 1"
check "apply --fetch: AHCI denied in sysfs" [ "$(tr '\n' ' ' <sysfs.after)" = "0 devgate-denied 0 " ]
check "apply --fetch: state recorded" contains state/state.json '"policy"'
check "apply --fetch: the state names where the policy came from" \
        contains state/state.json "/kbs/v0/resource/default/devgate-policy/cc-default"
check "apply --fetch: TPM counter advanced" contains apply.out "records version 1"
check "apply --fetch: measured" contains state/measure.log \
        "devgate:policy name=cc-default version=1 sha256="
# Replaying the event log gives PCR 14 as the TPM holds it: a later attestation can prove
# which policy this boot enforced.
tpm2_pcrread sha256:14 >pcr14.yaml
check "apply --fetch: PCR 14 replays from measure.log" python3 - <<'PY'
import hashlib, json, re
pcr = bytes(32)
for line in open("state/measure.log"):
    record = json.loads(line)
    if record.get("pcr") == 14:
        event = record["content"]["string"].encode()
        pcr = hashlib.sha256(pcr + hashlib.sha256(event).digest()).digest()
tpm = re.search(r"14\s*:\s*0x([0-9A-Fa-f]{64})", open("pcr14.yaml").read()).group(1).lower()
assert pcr != bytes(32) and pcr.hex() == tpm, (pcr.hex(), tpm)
PY

tap_done
