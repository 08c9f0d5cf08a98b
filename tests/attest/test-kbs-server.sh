#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate-kbs over HTTPS on loopback, against kbs-server-client.py (Python's standard library
# and jose, nothing of devgate's): the protocol with "sample" evidence and every bad input.
# Four servers: "main" with --insecure-sample, "strict" without it, "small" with a cap of 3
# sessions living 2 s and a 2 s connection timeout, "slow" with a 3 s request timeout. Then the start-up checks: bad flags, bad
# operator files, each with its documented exit status. Skips (77) without jose.
#
# usage: test-kbs-server.sh DEVGATE-KBS KBS-SERVER-CLIENT.py
set -u

if ! command -v jose >/dev/null 2>&1; then
        echo "1..0 # SKIP jose is not installed (apt-get install jose)"
        exit 77
fi
kbs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
client=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
pids=""
cleanup() {
        for p in $pids; do
                kill "$p" 2>/dev/null
        done
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

# A CA of this run and a server certificate for 127.0.0.1, as test-http.sh makes them.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=kbs-test-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null
# The guest's key, made by jose so that jose decrypts what the server encrypts to it.
jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o key.jwk

mkdir -p resources/default/devgate-policy/subdir resources/other/devgate-policy \
        resources/default/nothing
head -c 3000 /dev/urandom >resources/default/devgate-policy/cc-default
: >resources/default/devgate-policy/empty
echo secret >resources/default/devgate-policy/denied
echo other >resources/other/devgate-policy/cc-default
echo outside >outside
ln -s "$work/outside" resources/default/devgate-policy/link
echo tpm >resources/default/devgate-policy/tpm-only

# A software AK, registered, and one that is not: the client signs TPM-format quotes with
# them (no TPM needed), so the "tpm" path is tested against reference values and rules too.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ak.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other-ak.key 2>/dev/null
mkdir aks
openssl pkey -in ak.key -pubout -out aks/guest.pub
echo "not a key" >aks/README
ak_id=$(openssl pkey -pubin -in aks/guest.pub -outform DER | sha256sum | cut -c1-64)
pcr() { printf %s "$1" | sha256sum | cut -c1-64; }
cat >reference.json <<EOF
{"sets": {
  "known-good": {"pcrs": {"0": ["$(pcr fw-a)"], "7": ["$(pcr sb-1)", "$(pcr sb-2)"]}},
  "fw-b": {"pcrs": {"0": ["$(pcr fw-b)"]}}
}}
EOF
cat >access.json <<EOF
{"rules": [
  {"resource": "default/devgate-policy/denied", "tee": "*", "ak": "*", "reference": "*",
   "action": "deny"},
  {"resource": "default/devgate-policy/tpm-only", "ak": "$ak_id", "reference": "known-good"},
  {"resource": "default/devgate-policy/tpm-only", "tee": "*", "ak": "*", "reference": "*",
   "action": "deny"},
  {"resource": "default/devgate-policy/*", "ak": "*", "reference": "fw-b"},
  {"resource": "default/*/*", "tee": "sample", "ak": "*", "reference": "*"}
]}
EOF

start() { # start NAME FLAGS...: a server whose port lands in port-NAME, log in NAME.log
        name=$1
        shift
        "$kbs" --listen 127.0.0.1 --port 0 --port-file "port-$name" --cert server.pem \
                --key server.key --access access.json --resources resources "$@" \
                2>"$name.log" &
        pids="$pids $!"
        for _ in $(seq 100); do
                [ -s "port-$name" ] && return 0
                sleep 0.05
        done
        echo "Bail out! devgate-kbs ($name) did not start"
        sed 's/^/# /' "$name.log"
        exit 1
}
start main --insecure-sample --trusted-aks aks --reference reference.json
start strict --trusted-aks aks --reference reference.json
start small --insecure-sample --reference reference.json --session-max 3 --session-ttl 2 --connection-timeout 2
start slow --insecure-sample --reference reference.json --request-timeout 3 --connection-timeout 10

python3 "$client" "$work" >client.tap
status=$?
# Renumber: the client's TAP is followed by the checks below in one plan.
n=$(grep -c '^\(not \)\?ok ' client.tap)
grep -v '^1\.\.' client.tap

t=$n
failed=0
check() { # check NAME COMMAND...
        t=$((t + 1))
        name=$1
        shift
        if "$@" >out 2>err; then
                echo "ok $t - $name"
        else
                failed=1
                echo "not ok $t - $name"
                sed 's/^/#   /' err out | head -20
        fi
}
exits() { # exits STATUS COMMAND...: COMMAND exits with STATUS (within 10 s)
        want=$1
        shift
        timeout 10 "$@" 2>last.err
        got=$?
        cat last.err >&2
        [ $got -eq "$want" ]
}

check "the insecure flag is announced at startup" grep -q 'WARNING: --insecure-sample' main.log
check "no insecure warning without it" exits 1 grep -q 'WARNING: --insecure-sample' strict.log
check "--help" "$kbs" --help
check "--version" "$kbs" --version
check "unknown flag: exit 2" exits 2 "$kbs" --frobnicate
check "HTTPS without --cert: exit 2" exits 2 "$kbs" --port 0
check "--insecure-http with --cert: exit 2" exits 2 "$kbs" --insecure-http --cert server.pem
check "bad --session-max: exit 2" exits 2 "$kbs" --insecure-http --session-max 0
check "bad --request-timeout: exit 2" exits 2 "$kbs" --insecure-http --request-timeout 3601
check "bad --listen: exit 2" exits 2 "$kbs" --insecure-http --listen localhost
check "bad port: exit 2" exits 2 "$kbs" --insecure-http --port 70000

printf 'port = 0\nbogus = 1\n' >bad.conf
check "unknown config setting: exit 2" exits 2 "$kbs" --config bad.conf --insecure-http
check "the config error names file and line" grep -q 'bad.conf:2: unknown setting' last.err
printf 'port = 0\nport = 1\n' >twice.conf
check "config setting twice: exit 2" exits 2 "$kbs" --config twice.conf --insecure-http

echo '{"sets": {"a": {"pcrs": {"24": ["00"]}}}}' >bad-reference.json
check "bad reference file: exit 3" exits 3 "$kbs" --insecure-http --reference bad-reference.json
check "the reference error names file and reason" \
        grep -q 'bad-reference.json: sets."a".pcrs."24": not a PCR index' last.err
echo '{"sets": {"a": {"pcrs": {}}}}' >empty-set.json
check "a reference set without PCRs: exit 3" exits 3 "$kbs" --insecure-http \
        --reference empty-set.json
echo '{"rules": [{"resource": "a/b/c", "ak": "*", "reference": "nope"}]}' >bad-access.json
check "access rule naming an unknown set: exit 3" exits 3 "$kbs" --insecure-http \
        --access bad-access.json
check "the access error names file and reason" \
        grep -q 'bad-access.json: rules\[0\].reference: no reference set "nope"' last.err
echo '{"rules": [{"resource": "a/b/c", "ak": "*", "reference": "*", "allow": true}]}' \
        >typo-access.json
check "access rule with an unknown member: exit 3" exits 3 "$kbs" --insecure-http \
        --access typo-access.json
check "missing resources directory: exit 3" exits 3 "$kbs" --insecure-http \
        --resources "$work/none"
check "missing certificate: exit 3" exits 3 "$kbs" --cert "$work/none.pem" --key server.key
check "a certificate that is not PEM: exit 3" exits 3 "$kbs" --cert reference.json --key server.key
mkdir bad-aks
echo "not a key" >bad-aks/x.pub
check "an AK file that is not a key: exit 3" exits 3 "$kbs" --insecure-http --trusted-aks bad-aks
check "the AK error names the file" grep -q 'x.pub' last.err

# A config file sets what flags do not; flags override it.
printf '# devgate-kbs\nlisten = 127.0.0.1\nport = 1\ninsecure-http = true\n' >good.conf
"$kbs" --config good.conf --port 0 --port-file port-conf 2>conf.log &
pids="$pids $!"
for _ in $(seq 100); do [ -s port-conf ] && break; sleep 0.05; done
check "config file with a flag overriding it" grep -q 'Listening on http://127.0.0.1:' conf.log

kill $pids 2>/dev/null
for p in $pids; do
        # Under the sanitizers, a leak or error found at exit shows as a non-zero status.
        check "SIGTERM stops server $p with exit status 0" wait "$p"
done
pids=""
check "the stop is logged" grep -q 'Stopping (signal 15)' main.log
check "no sanitizer report in the server logs" \
        exits 1 grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' main.log strict.log \
        small.log slow.log conf.log

echo "1..$t"
[ $status -eq 0 ] && [ $failed -eq 0 ]
