#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate-kbs, running, against evidence nobody here wrote: tpm2-tools on swtpm makes the AK
# (tpm2_createak, a child of the EK, not devgate's template) and each quote (tpm2_quote, with
# the REPORTDATA of the session's nonce and tee-pubkey as qualifying data), and
# kbs-tpm2-tools-client.py, Python's standard library only, speaks the protocol. The server
# must attest it and serve the resource, which jose (latchset) decrypts with the guest's key;
# and it must refuse with 401, for the right reason, the same quote with one PCR value changed
# in the evidence, a genuine quote of a PCR that no longer matches the reference, and a quote
# by an AK it does not know. The resource is fetched once more with the attest answer's token
# as "Authorization: Bearer". One server for all of it, still serving at the end.
#
# usage: test-kbs-tpm2-tools.sh DEVGATE_KBS CLIENT_PY SWTPM_RUN
set -u

. "$(dirname "$0")/tap.sh"
tap_require swtpm tpm2_createak tpm2_quote tpm2_pcrread jose python3 openssl
# Once more inside swtpm-run.sh, which starts the swtpm and sets $TPM2TOOLS_TCTI.
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$3" "$0" "$@"
fi

kbs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
client=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
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

flush() { tpm2_flushcontext -t && tpm2_flushcontext -s; }

# Distinct values in every PCR the OS can extend (17-22 belong to localities 3 and 4): a
# value in the wrong place shows up as a digest or reference mismatch.
extend_pcrs() {
        for i in $(seq 0 16) 23; do
                tpm2_pcrextend "$i:sha256=$(printf '%s' "pcr $i" | openssl dgst -sha256 -r |
                        cut -d' ' -f1)" || return 1
        done
}

make_ak() { # make_ak NAME: NAME.ctx, NAME.pem, NAME.der
        tpm2_createak -C ek.ctx -c "$1.ctx" -G rsa -g sha256 -s rsassa -u "$1.pem" -f pem \
                -n "$1.name" >/dev/null && flush &&
                openssl pkey -pubin -in "$1.pem" -outform DER -out "$1.der"
}

# The reference: every PCR as the TPM holds it now, read by tpm2_pcrread.
record_reference() {
        tpm2_pcrread -Q "sha256:$(seq -s, 0 23)" -o pcrs.bin && python3 - <<'EOF'
import json
values = open("pcrs.bin", "rb").read()
assert len(values) == 24 * 32, len(values)
pcrs = {str(i): [values[32 * i:32 * i + 32].hex()] for i in range(24)}
json.dump({"sets": {"known-good": {"pcrs": pcrs}}}, open("reference.json", "w"))
EOF
}

. "$setup"
kbs_tls
jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o key.jwk
mkdir -p aks resources/default/devgate-policy
head -c 2000 /dev/urandom >resources/default/devgate-policy/cc-default

check "extend the PCRs" extend_pcrs
make_ek() { tpm2_createek -c ek.ctx -G rsa -u ek.pub && flush; }
check "tpm2_createek" make_ek
check "tpm2_createak" make_ak ak
check "another tpm2_createak, not registered" make_ak stranger
check "tpm2_pcrread: the reference values" record_reference
cp ak.pem aks/tools-ak.pub
ak_id=$(openssl dgst -sha256 -r ak.der | cut -d' ' -f1)
cat >access.json <<EOF
{"rules": [{"resource": "default/devgate-policy/cc-default", "ak": "$ak_id",
            "reference": "known-good"}]}
EOF
kbs_serve "$kbs" tools --trusted-aks aks --reference reference.json --access access.json
url=$(cat tools.url)

attest() { # attest OUT AK [CLIENT-OPTIONS...]: one attestation, its steps in OUT
        out=$1 ak=$2
        shift 2
        python3 "$client" "$url" ca.pem key.jwk "$ak.ctx" "$ak.der" \
                default/devgate-policy/cc-default "$@" >"$out"
}

check "a tpm2-tools quote: the client ran" attest good.out ak
check "a tpm2-tools quote: attested" contains good.out "attest 200"
check "a tpm2-tools quote: the resource is served" contains good.out "resource 200"
decrypts() { jose jwe dec -i resource.jwe -k key.jwk -O decrypted &&
        cmp decrypted resources/default/devgate-policy/cc-default; }
check "jose decrypts it to the published bytes with the guest's key" decrypts
check "the server logged the AK and the set" contains tools.log \
        "verdict=attested reason=\"tee tpm, ak $ak_id, reference known-good\""
check "a tpm2-tools quote, the resource by Bearer token: the client ran" attest bearer.out ak \
        --bearer
check "the resource by Bearer token: served" contains bearer.out "resource 200"
check "the resource by Bearer token: jose decrypts it" decrypts

check "PCR 7 changed in the evidence: the client ran" attest pcr7.out ak --tamper-pcr 7
check "PCR 7 changed in the evidence: 401" contains pcr7.out "attest 401 AttestationError"
check "PCR 7 changed in the evidence: the PCR values are not those quoted" contains pcr7.out \
        "pcrDigest differs"
check "PCR 7 changed in the evidence: no resource step" sh -c '! grep -q "^resource" pcr7.out'

check "an unregistered AK: the client ran" attest stranger.out stranger
check "an unregistered AK: 401" contains stranger.out "attest 401 AttestationError"
check "an unregistered AK: named" contains stranger.out "is not registered"

# A genuine quote, but of a PCR extended since the reference was recorded.
check "extend PCR 16" tpm2_pcrextend "16:sha256=$(printf x | openssl dgst -sha256 -r | cut -c1-64)"
check "PCR 16 extended since: the client ran" attest pcr16.out ak
check "PCR 16 extended since: 401" contains pcr16.out "attest 401 AttestationError"
check "PCR 16 extended since: the set and the PCR are named" contains pcr16.out \
        'match no reference set: "known-good": PCR 16'

check "the server is still up" kill -0 "${kbs_pids# }"
check "every refusal was logged" sh -c "[ \$(grep -c ' status=401 verdict=refused ' tools.log) = 3 ]"
nothing_left() { [ -z "$(tpm2_getcap handles-transient)" ]; }
check "nothing left in the TPM" nothing_left

tap_done
