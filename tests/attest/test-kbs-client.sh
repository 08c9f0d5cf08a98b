#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The agent's KBS client against servers that misbehave (hostile-kbs.py, one scenario per
# URL prefix) and against no server at all: every failure must end in exit status 5, a
# message naming the step and the reason, and nothing written: no policy file from
# "devgate attest --out", no state and no sysfs write from "devgate apply --fetch".
#
# usage: test-kbs-client.sh DEVGATE HOSTILE_KBS.py JWE_TOOL FIXTURE
set -u

. "$(dirname "$0")/tap.sh"

devgate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
server=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
jwe_tool=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
fixture=$4
work=$(mktemp -d)
pid=""
cleanup() {
        [ -z "$pid" ] || kill "$pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

# A CA and a server certificate for 127.0.0.1, and a second CA that signed nothing.
ca() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
ca test-ca
ca other-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA test-ca.pem -CAkey test-ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null

# A resource encrypted to some other guest's key, and one in the algorithm nobody may use.
python3 - <<'PY'
import base64, json
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
# RSA1_5 is refused by name, before any of the rest is looked at.
json.dump({"protected": b64(json.dumps({"alg": "RSA1_5", "enc": "A256GCM"}).encode()),
           "encrypted_key": b64(b"k" * 256), "iv": b64(b"i" * 12),
           "ciphertext": b64(b"policy"), "tag": b64(b"t" * 16)}, open("rsa1_5.jwe", "w"))
PY
jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o other.jwk
jose jwk pub -i other.jwk -o other-pub.jwk
echo '{"a policy":"for someone else"}' | "$jwe_tool" encrypt other-pub.jwk >other-key.jwe
[ -s other-key.jwe ] || { echo "Bail out! cannot make a JWE for another key"; exit 1; }

python3 "$server" server.pem server.key port other-key.jwe rsa1_5.jwe &
pid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || { echo "Bail out! hostile-kbs.py did not start"; exit 1; }
base="https://127.0.0.1:$(cat port)"
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Short timeouts, so that the slow server is past the deadline in seconds, not minutes.
config() { # config FILE URL CA
        cat >"$1" <<EOF
url = $2
ca = $3
resource = default/devgate-policy/cc-default
connect-timeout-ms = 2000
response-timeout-ms = 2000
deadline-ms = 3000
retries = 2
backoff-initial-ms = 50
backoff-max-ms = 200
EOF
}

fails() { # fails NAME SCENARIO-URL MESSAGE [CA]
        rm -f policy.out attest.err
        config attest.conf "$2" "${4:-$work/test-ca.pem}"
        "$devgate" attest --insecure --tee sample --config attest.conf --out policy.out 2>attest.err
        echo $? >attest.rc
        check "$1: exit 5" [ "$(cat attest.rc)" = 5 ]
        check "$1: says why" contains attest.err "$3"
        check "$1: no policy written" [ ! -e policy.out ]
        grep 'failed:' attest.err | sed 's/^/# /'
}

fails "server down" "https://127.0.0.1:$closed" "auth: https://127.0.0.1:$closed/kbs/v0/auth:"
fails "certificate not from the pinned CA" "$base/ok" "auth:" "$work/other-ca.pem"
check "wrong CA: says it is the certificate" grep -qi "certificate" attest.err
fails "slow server, past the deadline" "$base/slow" "auth:"
check "slow server: says it timed out" grep -qiE "deadline|timed? ?out" attest.err
fails "500 answers, retried then given up" "$base/500" "the server is broken"
fails "nonce not base64" "$base/bad-nonce" "auth: the nonce is not canonical base64"
fails "nonce too short" "$base/short-nonce" "auth: a nonce of 4 bytes, expected 16 to 64"
fails "no nonce" "$base/no-nonce" "auth: the challenge has no nonce"
fails "nonce not a string" "$base/number-nonce" "auth: the nonce is not a string"
fails "unexpected member in the challenge" "$base/extra-member" "unexpected member"
fails "challenge not JSON" "$base/not-json" "auth: malformed answer"
fails "challenge with the nonce twice" "$base/duplicate-nonce" "names the same key twice"
fails "attestation refused (401)" "$base/refuse-attest" "attest: server answered 401"
check "the problem detail is shown" contains attest.err "PCR 7 does not match"
fails "no token" "$base/no-token" "attest: the answer has no token"
fails "resource 401, after a second handshake" "$base/401" "resource: server answered 401"
fails "resource 403" "$base/403" "resource: server answered 403"
check "403: the problem detail is shown" contains attest.err "answered 403 to /kbs/v0/resource"
fails "resource 404" "$base/404" "resource: server answered 404"
fails "resource of 20 MiB" "$base/huge" "resource:"
check "20 MiB: says it is too large" grep -qiE "larger|too big|limit" attest.err
fails "truncated resource" "$base/truncated" "resource:"
fails "resource encrypted to another key" "$base/other-key" "resource:"
fails "resource in RSA1_5" "$base/rsa1_5" "RSA1_5"
fails "resource not a JWE" "$base/not-jwe" "resource:"

# sample only on the command line and with --insecure: never from the config file.
config attest.conf "$base/ok" "$work/test-ca.pem"
"$devgate" attest --tee sample --config attest.conf --out policy.out 2>attest.err
check "sample without --insecure: exit 2" [ $? = 2 ]
check "sample without --insecure: says why" contains attest.err "Refusing TEE 'sample'"
echo "tee = sample" >>attest.conf
"$devgate" attest --insecure --config attest.conf --out policy.out 2>attest.err
check "sample in the config file: exit 1" [ $? = 1 ]
check "sample in the config file: says why" contains attest.err \
        'attest.conf: line 10: tee must be auto, tpm, tdx or snp ("sample")'
config attest.conf "$base/ok" "$work/test-ca.pem"

# Settings that cannot work are usage errors, found before anything is sent.
usage() { # usage NAME MESSAGE ARGS...
        name=$1 message=$2
        shift 2
        "$devgate" attest "$@" 2>attest.err
        check "$name: exit 2" [ $? = 2 ]
        check "$name: says why" contains attest.err "$message"
}
usage "plain http" "must start with https://" --insecure --tee sample --config attest.conf \
        --url "http://127.0.0.1:$(cat port)"
usage "a '.' in the resource" "REPOSITORY/TYPE/TAG" --insecure --tee sample --config attest.conf \
        --resource ./devgate-policy/cc-default
usage "--out on a device" "Refusing to replace '/dev/null'" --insecure --tee sample \
        --config attest.conf --out /dev/null
"$devgate" apply --fetch "$base/ok" --insecure --tee sample --attest-config attest.conf \
        --dry-run 2>attest.err
check "apply --fetch without --keys: exit 2" [ $? = 2 ]
check "apply --fetch without --keys: says why before attesting" sh -c \
        "grep -q 'needs --keys DIR' attest.err && ! grep -q Attesting attest.err"

# apply --fetch: a failed fetch applies nothing, in the fixture's testbed.
config attest.conf "$base/403" "$work/test-ca.pem"
"$devgate" policy keygen signer >/dev/null 2>&1 && mkdir keys && mv signer.pub keys/
cat >in-testbed.sh <<'SH'
devgate=$1
for bus in pci virtio usb; do echo 1 >/sys/bus/$bus/drivers_autoprobe; done
DEVGATE_STATE_DIR=$PWD/state "$devgate" apply --attest --attest-config attest.conf \
        --tee sample --insecure \
        --keys keys --floor-file /dev/null --tpm off >apply.out 2>&1
echo $? >apply.rc
cat /sys/bus/pci/drivers_autoprobe /sys/devices/pci0000:00/0000:00:1f.2/driver_override \
        /sys/devices/pci0000:00/0000:00:09.0/usb1/authorized >sysfs.after
SH
umockdev-run -d "$fixture" -- sh in-testbed.sh "$devgate"
check "apply --attest, resource refused: exit 5" [ "$(cat apply.rc)" = 5 ]
check "apply --attest: says nothing was applied" contains apply.out "Nothing applied"
check "apply --attest: nothing written to sysfs" [ "$(tr '\n' ' ' <sysfs.after)" = "1 (null) 1 " ]
check "apply --attest: no state recorded" [ ! -e state/state.json ]

tap_done
