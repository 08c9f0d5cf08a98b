#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate-kbs-admin, each command's happy path and refusals, then the operator's workflow end to
# end with nothing else: the guest's AK from "devgate attest --print-ak" enrolled, its PCRs
# recorded from "devgate attest --print-evidence", a signed policy published, and
# "devgate attest" against devgate-kbs fetching exactly that policy. swtpm is the guest's TPM.
#
# usage: test-kbs-admin.sh DEVGATE_KBS_ADMIN DEVGATE_KBS DEVGATE POLICY_DIR SWTPM_RUN
set -u

. "$(dirname "$0")/tap.sh"
tap_require swtpm tpm2_pcrread tpm2_pcrextend python3 openssl
# Once more inside swtpm-run.sh, which starts the swtpm and sets $SWTPM_TCTI.
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$5" "$0" "$@"
fi

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
admin=$(abs "$1") kbs=$(abs "$2") devgate=$(abs "$3") policies=$(abs "$4")
setup=$(cd "$(dirname "$0")" && pwd)/kbs-setup.sh
work=$(mktemp -d)
kbs_pids=""
cleanup() {
        for p in $kbs_pids; do kill "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
export TSS2_LOG=all+none

# exits STATUS COMMAND...: COMMAND exits with STATUS; its stdout in out, its stderr in err.
exits() {
        want=$1
        shift
        "$@" >out 2>err
        got=$?
        [ "$got" -eq "$want" ] && return 0
        echo "exit status $got, not $want" >&2
        sed 's/^/  /' out err >&2
        return 1
}

says() { # says TEXT: the last command's stderr has TEXT
        grep -qF -- "$1" err && return 0
        echo "stderr lacks: $1" >&2
        sed 's/^/  /' err >&2
        return 1
}

no_temporary() { [ -z "$(find "$1" -name '.*' ! -name . 2>/dev/null)" ]; }
key_id() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -c1-64; }
rsa_pub() { # rsa_pub BITS FILE
        openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" 2>/dev/null |
                openssl pkey -pubout -out "$2"
}

### enrol-ak
rsa_pub 2048 ak.pem
rsa_pub 2048 ak2.pem
rsa_pub 1024 small.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
        openssl pkey -pubout -out ec.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private.pem 2>/dev/null
cat ak.pem ak2.pem >two.pem
echo "not a key" >junk.pem
: >empty.pem
head -c 20000 /dev/zero | tr '\0' 'A' >large.pem
ak_id=$(key_id ak.pem)
ak_file=aks/ak-$(echo "$ak_id" | cut -c1-16).pub

check "--help" exits 0 "$admin" --help
check "enrol-ak --help" exits 0 "$admin" enrol-ak --help
check "no command: exit 2" exits 2 "$admin"
check "unknown command: exit 2" exits 2 "$admin" frobnicate
check "enrol-ak without FILE: exit 2" exits 2 "$admin" enrol-ak --dir aks

(umask 077 && exits 0 "$admin" enrol-ak --dir aks ak.pem)
check "enrol-ak: enrolled (umask 077)" [ $? -eq 0 ]
check "enrol-ak: prints the AK's id" [ "$(cat out)" = "$ak_id" ]
check "enrol-ak: the directory is made" [ -d aks ]
check "enrol-ak: installed as ak-<id>.pub" cmp ak.pem "$ak_file"
check "enrol-ak: mode 0644 whatever the umask" [ "$(stat -c %a "$ak_file")" = 644 ]
check "enrol-ak: says the server must be restarted" says "restart it"

check "enrol-ak from stdin with --name NAME.pub" sh -c \
        "'$admin' enrol-ak --dir aks --name guest2.pub - <ak2.pem >out2"
check "enrol-ak: NAME.pub is not doubled" cmp ak2.pem aks/guest2.pub
check "enrol-ak: the id of the stdin key" [ "$(cat out2)" = "$(key_id ak2.pem)" ]

check "the same key again: exit 4" exits 4 "$admin" enrol-ak --dir aks --name again ak.pem
check "the same key again: names the enrolled file" says "is enrolled already, as '$ak_file'"
check "the same key again: nothing installed" [ ! -e aks/again.pub ]
rsa_pub 2048 ak3.pem
check "another key, a taken name: exit 4" exits 4 "$admin" enrol-ak --dir aks --name guest2 ak3.pem
check "another key, a taken name: says so" says "'aks/guest2.pub' exists already"
check "another key, a taken name: the old file stays" cmp ak2.pem aks/guest2.pub

for t in "junk.pem:not a PEM public key" "empty.pem:not a PEM public key" \
        "ec.pem:an AK must be RSA-2048" "small.pem:1024-bit RSA key" \
        "two.pem:holds 2 PEM blocks" "private.pem:not a PEM public key" \
        "large.pem:larger than 16384 bytes"; do
        file=${t%%:*} reason=${t#*:}
        check "enrol-ak $file: exit 3" exits 3 "$admin" enrol-ak --dir aks --name bad "$file"
        check "enrol-ak $file: $reason" says "$reason"
done
check "nothing installed by the refusals" [ ! -e aks/bad.pub ]
check "enrol-ak a missing file: exit 1" exits 1 "$admin" enrol-ak --dir aks missing.pem
check "enrol-ak --name ../x: exit 2" exits 2 "$admin" enrol-ak --dir aks --name ../x ak3.pem
check "enrol-ak --name .hidden: exit 2" exits 2 "$admin" enrol-ak --dir aks --name .hidden ak3.pem
mkdir broken-aks
cp junk.pem broken-aks/old.pub
check "enrol-ak into a directory the server would refuse: exit 1" exits 1 "$admin" enrol-ak \
        --dir broken-aks ak3.pem
check "... and says which file" says "broken-aks/old.pub"
check "no temporary file left behind" no_temporary aks
check "devgate-kbs loads the enrolled keys" sh -c "timeout 5 '$kbs' --insecure-http --port 0 \
        --trusted-aks aks --port-file port.x 2>kbs.x & sleep 1; kill \$! 2>/dev/null;
        grep -q \"2 trusted AK(s) in 'aks'\" kbs.x"

# The configuration file says where the AK directory is.
printf 'trusted-aks = %s/conf-aks\ninsecure-http = true\n' "$work" >kbs.conf
check "enrol-ak: the directory from --config" exits 0 "$admin" enrol-ak --config kbs.conf ak3.pem
check "enrol-ak: installed there" [ -e "conf-aks/ak-$(key_id ak3.pem | cut -c1-16).pub" ]
printf 'bogus = 1\n' >bad.conf
check "enrol-ak with a bad --config: exit 2" exits 2 "$admin" enrol-ak --config bad.conf ak3.pem

### reference record: from the guest's evidence, verified against the enrolled AK
check "devgate attest --print-ak" sh -c "'$devgate' attest --print-ak --tcti '$SWTPM_TCTI' >guest.pem"
check "enrol the guest's AK" exits 0 "$admin" enrol-ak --dir aks --name guest guest.pem
guest_id=$(cat out)
nonce=$(openssl rand -hex 64)
evidence() { # evidence FILE [REPORT-DATA]
        "$devgate" attest --print-evidence ${2:+--report-data "$2"} --tcti "$SWTPM_TCTI" >"$1"
}
check "devgate attest --print-evidence" evidence ev1.json "$nonce"
check "--print-evidence --report-data of a bad length: exit 2" exits 2 "$devgate" attest \
        --print-evidence --report-data abc --tcti "$SWTPM_TCTI"
check "--report-data without --print-evidence: exit 2" exits 2 "$devgate" attest \
        --report-data 00 --tcti "$SWTPM_TCTI"

record() { "$admin" reference record --reference ref/reference.json --trusted-aks aks "$@"; }
check "reference --help" exits 0 "$admin" reference --help
check "record: recorded" exits 0 record --set known-good --from ev1.json --report-data "$nonce"
check "record: says what" says "Recorded PCR 0-7 of AK sha256:$guest_id into set 'known-good'"
tpm2_pcrread -Q "sha256:$(seq -s, 0 23)" -o pcrs1.bin
same_values() { # same_values SET PCR-BIN PCRS...: the set holds exactly the PCRs' values
        python3 - "$@" <<'EOF'
import json, sys
name, binary, want = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
values = open(binary, "rb").read()
pcrs = json.load(open("ref/reference.json"))["sets"][name]["pcrs"]
assert sorted(int(k) for k in pcrs) == want, sorted(pcrs)
for p in want:
    assert values[32 * p:32 * p + 32].hex() in pcrs[str(p)], (p, pcrs[str(p)])
EOF
}
check "record: PCRs 0-7 as tpm2_pcrread reads them" same_values known-good pcrs1.bin 0 1 2 3 4 5 6 7
check "record: mode 0644" [ "$(stat -c %a ref/reference.json)" = 644 ]

tpm2_pcrextend "7:sha256=$(printf 'next boot' | openssl dgst -sha256 -r | cut -c1-64)"
check "a second boot's evidence" evidence ev2.json
check "record without --report-data: recorded" exits 0 record --set known-good --from ev2.json
check "record without --report-data: warns that freshness is not checked" says \
        "freshness is not checked"
tpm2_pcrread -Q "sha256:$(seq -s, 0 23)" -o pcrs2.bin
merged() {
        python3 - <<'EOF'
import json
pcrs = json.load(open("ref/reference.json"))["sets"]["known-good"]["pcrs"]
assert len(pcrs["7"]) == 2, pcrs["7"]
assert all(len(pcrs[str(p)]) == 1 for p in range(7)), pcrs
EOF
}
check "record: merged, PCR 7 accepts both values, the others one" merged
check "record: both boots' PCR 7" same_values known-good pcrs2.bin 0 1 2 3 4 5 6 7
check "record: the same evidence again adds nothing" exits 0 record --set known-good --from ev2.json
check "record: ... and says so" says "0 new values"
check "record --pcrs 7,16 --set other" exits 0 record --set other --pcrs 7,16 --from ev2.json
check "record: another set, the first kept" same_values other pcrs2.bin 7 16
check "record --replace --pcrs 0-2" exits 0 record --set known-good --replace --pcrs 0-2 \
        --from ev2.json
check "record --replace: only the new values" same_values known-good pcrs2.bin 0 1 2
strict_json() {
        python3 -c '
import json, sys
def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)
json.load(open(sys.argv[1]), object_pairs_hook=no_duplicates)' "$1"
}
check "the reference file is strict JSON" strict_json ref/reference.json
check "devgate-kbs loads it" sh -c "timeout 5 '$kbs' --insecure-http --port 0 --port-file port.y \
        --reference ref/reference.json 2>kbs.y & sleep 1; kill \$! 2>/dev/null;
        grep -q \"2 reference set(s)\" kbs.y"
check "no temporary file left behind" no_temporary ref

cp ref/reference.json reference.before
check "record with other report data: exit 3" exits 3 record --set x --from ev1.json \
        --report-data "$(openssl rand -hex 64)"
check "record with other report data: says why" says "qualifying data is not the report data"
python3 - <<'EOF'
import json
e = json.load(open("ev1.json"))
v = e["tpm_quote"]["pcrs"][3]
e["tpm_quote"]["pcrs"][3] = v[:-1] + ("1" if v[-1] == "0" else "0")
json.dump(e, open("ev-pcr3.json", "w"))
EOF
check "record with a PCR value changed: exit 3" exits 3 record --set x --from ev-pcr3.json
check "record with a PCR value changed: says why" says "pcrDigest differs"
mkdir other-aks
cp ak.pem other-aks/
check "record, the AK not enrolled: exit 3" exits 3 "$admin" reference record --set x \
        --from ev1.json --reference ref/reference.json --trusted-aks other-aks
check "record, the AK not enrolled: says so" says "is not registered"
echo '{"ak_public": ' >malformed.json
check "record malformed JSON: exit 3" exits 3 record --set x --from malformed.json
echo '{"svn": "1", "report_data": "AAAA"}' >sample.json
check "record evidence that is not tpm: exit 3" exits 3 record --set x --from sample.json
check "record --pcrs 24: exit 2" exits 2 record --set x --from ev1.json --pcrs 24
check "record --pcrs 7-3: exit 2" exits 2 record --set x --from ev1.json --pcrs 7-3
check "record --set ../x: exit 2" exits 2 record --set ../x --from ev1.json
check "record without --set: exit 2" exits 2 record --from ev1.json
check "reference without record: exit 2" exits 2 "$admin" reference --set x --from ev1.json
check "the refusals left the reference file alone" cmp reference.before ref/reference.json
echo '{"sets": {"a": {"pcrs": {"24": ["00"]}}}}' >ref/broken.json
check "record into a file the server refuses: exit 3" exits 3 "$admin" reference record --set x \
        --from ev1.json --reference ref/broken.json --trusted-aks aks
check "... and says what is wrong" says 'sets."a".pcrs."24": not a PCR index'

### publish: verified as the guests verify it
"$devgate" policy keygen author >/dev/null 2>&1
"$devgate" policy keygen stranger >/dev/null 2>&1
mkdir keys
cp author.pub keys/
sign() { # sign KEY VERSION OUT [DESCRIPTION]
        python3 - "$policies/cc-default.json" "$2" "${4:-}" <<'EOF' >policy.json
import json, sys
p = json.load(open(sys.argv[1]))
p["version"] = int(sys.argv[2])
if sys.argv[3]:
    p["description"] = sys.argv[3]
print(json.dumps(p))
EOF
        "$devgate" policy sign --key "$1.key" --output "$3" policy.json 2>/dev/null
}
sign author 1 v1.dsse
sign author 2 v2.dsse
sign author 2 v2b.dsse "another text"
sign stranger 3 stranger.dsse
head -c 100 v1.dsse >truncated.dsse
published=resources/default/devgate-policy/cc-default
publish() { "$admin" publish --keys keys --resources resources "$@"; }

check "publish --help" exits 0 "$admin" publish --help
check "publish version 1" exits 0 publish --resource default/devgate-policy/cc-default v1.dsse
check "publish: the bytes as signed" cmp v1.dsse "$published"
check "publish: mode 0644" [ "$(stat -c %a "$published")" = 644 ]
check "publish the same again: exit 0" exits 0 publish --resource default/devgate-policy/cc-default v1.dsse
check "publish the same again: says so" says "published as default/devgate-policy/cc-default already"
check "publish version 2" exits 0 publish --resource default/devgate-policy/cc-default v2.dsse
check "publish version 2: replaced" cmp v2.dsse "$published"
check "publish version 1 over 2: exit 4" exits 4 publish --resource default/devgate-policy/cc-default v1.dsse
check "publish version 1 over 2: says why" says "guests that applied it refuse version 1"
check "publish other content as version 2: exit 4" exits 4 publish \
        --resource default/devgate-policy/cc-default v2b.dsse
check "the refusals left version 2 published" cmp v2.dsse "$published"
check "publish --force version 1 over 2" exits 0 publish --force \
        --resource default/devgate-policy/cc-default v1.dsse
check "publish --force: replaced" cmp v1.dsse "$published"
check "publish an envelope signed by an untrusted key: exit 3" exits 3 publish \
        --resource default/devgate-policy/cc-default stranger.dsse
check "... says so" says "signed by 0 of the trusted keys"
check "publish a truncated envelope: exit 3" exits 3 publish \
        --resource default/devgate-policy/cc-default truncated.dsse
check "the refusals left version 1 published" cmp v1.dsse "$published"
for name in ../devgate-policy/x default/devgate-policy %2e%2e/a/b /etc/passwd/x a/b/c/d \
        'default/devgate policy/x' default/./x; do
        check "publish --resource '$name': exit 2" exits 2 publish --resource "$name" v1.dsse
done
mkdir -p elsewhere resources/linked
ln -s "$work/elsewhere" resources/linked/devgate-policy
check "publish through a symlinked directory: exit 1" exits 1 publish \
        --resource linked/devgate-policy/x v1.dsse
check "... nothing written there" [ -z "$(ls -A elsewhere)" ]
check "publish without --keys: exit 2" exits 2 "$admin" publish --resources resources \
        --resource a/b/c v1.dsse
check "no temporary file left behind" no_temporary resources/default

### The whole workflow: enrol, record, publish, and the guest fetches what was published
. "$setup"
kbs_tls
mkdir e2e
check "e2e: enrol the guest's AK" sh -c "'$devgate' attest --print-ak --tcti '$SWTPM_TCTI' |
        '$admin' enrol-ak --dir e2e/aks --name guest - >e2e/id"
nonce=$(openssl rand -hex 32)
check "e2e: the guest's evidence" evidence e2e/evidence.json "$nonce"
check "e2e: record it as known-good" exits 0 "$admin" reference record --set known-good \
        --from e2e/evidence.json --report-data "$nonce" --reference e2e/reference.json \
        --trusted-aks e2e/aks
check "e2e: publish the policy" exits 0 "$admin" publish --keys keys --resources e2e/resources \
        --resource default/devgate-policy/cc-default v2.dsse
cat >e2e/access.json <<EOF
{"rules": [{"resource": "default/devgate-policy/cc-default", "ak": "$(cat e2e/id)",
            "reference": "known-good"}]}
EOF
"$kbs" --port 0 --port-file e2e.port --cert server.pem --key server.key \
        --trusted-aks e2e/aks --reference e2e/reference.json --access e2e/access.json \
        --resources e2e/resources 2>e2e.log &
kbs_pids="$kbs_pids $!"
for _ in $(seq 100); do [ -s e2e.port ] && break; sleep 0.05; done
check "e2e: devgate attest fetches it" sh -c "'$devgate' attest \
        --url https://127.0.0.1:$(cat e2e.port) --resource default/devgate-policy/cc-default \
        --ca ca.pem --tee tpm --tcti '$SWTPM_TCTI' --out fetched.dsse 2>attest.err ||
        { cat attest.err e2e.log >&2; false; }"
check "e2e: the policy as published" cmp v2.dsse fetched.dsse
check "e2e: the server attested the enrolled AK and the recorded set" grep -q \
        "verdict=attested reason=\"tee tpm, ak $(cat e2e/id), reference known-good\"" e2e.log
check "e2e: devgate verifies it with the guests' keys" sh -c \
        "'$devgate' policy verify --keys keys fetched.dsse >/dev/null 2>&1"

tap_done
