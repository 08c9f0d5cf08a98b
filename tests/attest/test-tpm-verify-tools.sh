#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate's verifier (tpm-verify.c) on evidence it did not make: tpm2-tools makes the AK
# (tpm2_createak, a child of the EK: not devgate's template) and the quote (tpm2_quote), and a
# few lines of Python put them in Trustee's "tpm" evidence JSON. The verifier must accept it
# with that AK registered, and refuse it for the right reason with a PCR value changed, with
# other report data, with only another AK registered, and with the signature in tpm2-tools'
# "plain" format instead of a TPMT_SIGNATURE. Runs against a fresh swtpm.
#
# usage: test-tpm-verify-tools.sh TPM_VERIFY_TOOL SWTPM_RUN
set -u

tool=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") swtpm_run=$2

. "$(dirname "$0")/tap.sh"
tap_require swtpm tpm2_createak tpm2_quote python3 openssl
# Once more inside swtpm-run.sh, which starts the swtpm and sets $TPM2TOOLS_TCTI.
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$swtpm_run" "$0" "$@"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export TSS2_LOG=all+none

# Without a resource manager, every tool leaves what it loaded in the TPM, and the TPM has
# room for three objects: flushed after each.
flush() { tpm2_flushcontext -t && tpm2_flushcontext -s; }

# Report data as a KBS makes it: a SHA-384 digest zero-padded to 64 bytes.
report_data=$(openssl rand -hex 48)00000000000000000000000000000000
other_data=$(openssl rand -hex 48)00000000000000000000000000000000

# Distinct values in every PCR the OS can extend (17-22 belong to localities 3 and 4): a
# value in the wrong place or a lost value shows up as a digest mismatch.
extend_pcrs() {
        for i in $(seq 0 16) 23; do
                tpm2_pcrextend "$i:sha256=$(printf '%s' "pcr $i" | openssl dgst -sha256 -r |
                        cut -d' ' -f1)" || return 1
        done
}

make_ak() { # make_ak NAME: an RSA-2048 RSASSA-SHA256 AK under the EK, NAME.pem and NAME.ctx
        tpm2_createak -C ek.ctx -c "$1.ctx" -G rsa -g sha256 -s rsassa -u "$1.pem" -f pem \
                -n "$1.name" >/dev/null && flush
}

make_quote() { # make_quote SIGNATURE_FORMAT: msg, sig and pcrs from tpm2_quote
        tpm2_quote -Q -c ak.ctx -l "sha256:$(seq -s, 0 23)" -q "$report_data" -g sha256 \
                -m msg -s sig -f "$1" -o pcrs -F values && flush
}

# evidence.json from ak.pem, msg, sig, pcrs, as guest-components' TPM attester lays it out.
write_evidence() {
        openssl pkey -pubin -in ak.pem -outform DER -out ak.der || return 1
        python3 - "$report_data" <<'EOF'
import base64, binascii, json, sys

b64 = lambda name: base64.b64encode(open(name, "rb").read()).decode()
values = open("pcrs", "rb").read()
assert len(values) == 24 * 32, len(values)
evidence = {
    "ak_public": b64("ak.der"),
    "report_data": base64.b64encode(binascii.unhexlify(sys.argv[1])).decode(),
    "tpm_quote": {
        "message": b64("msg"),
        "pcrs": [values[i:i + 32].hex() for i in range(0, len(values), 32)],
        "signature": b64("sig"),
    },
}
json.dump(evidence, open("evidence.json", "w"))
pcr = evidence["tpm_quote"]["pcrs"]
pcr[7] = pcr[7][:-1] + ("1" if pcr[7][-1] == "0" else "0")
json.dump(evidence, open("evidence-pcr7.json", "w"))
EOF
}

verify() { # verify EVIDENCE AK_DIR REPORT_DATA: the tool's verdict in verdict.out
        "$tool" "$@" >verdict.out
}

accepted() {
        verify "$@" && grep -qx "accepted sha256:$ak_id" verdict.out && return 0
        sed 's/^/#   /' verdict.out
        return 1
}

refused_with() { # refused_with ERRNO_NAME VERIFY-ARGS...: refused, and for that reason
        errno_name=$1
        shift
        verify "$@"
        status=$?
        if [ "$status" -ne 1 ]; then
                echo "# tpm-verify-tool exited with $status, not 1 (refused)"
                sed 's/^/#   /' verdict.out
                return 1
        fi
        sed 's/^/#   /' verdict.out
        grep -q "^refused $errno_name: " verdict.out
}

same_pcrs() {
        tpm2_pcrread -Q "sha256:$(seq -s, 0 23)" -o tpm-pcrs && cmp -s pcrs tpm-pcrs &&
                for i in $(seq 0 23); do
                        expected=$(dd if=tpm-pcrs bs=32 skip="$i" count=1 2>/dev/null | od -An -tx1 |
                                tr -d ' \n')
                        grep -qx "pcr$i $expected" verdict.out || return 1
                done
}

check "extend the PCRs" extend_pcrs
make_ek() { tpm2_createek -c ek.ctx -G rsa -u ek.pub && flush; }
check "tpm2_createek" make_ek
check "tpm2_createak" make_ak ak
another_ak() { make_ak other && ! cmp -s ak.pem other.pem; }
check "another tpm2_createak: another key" another_ak
check "tpm2_quote" make_quote tss
check "the evidence JSON" write_evidence

mkdir aks other-aks
cp ak.pem aks/ak.pub
cp other.pem other-aks/other.pub
ak_id=$(openssl dgst -sha256 -r ak.der | cut -d' ' -f1)

check "accepted with the AK registered" accepted evidence.json aks "$report_data"
check "the PCR values it vouches for are the TPM's" same_pcrs
cp other.pem aks/other.pub
check "accepted with another AK registered too" accepted evidence.json aks "$report_data"
rm aks/other.pub
check "refused with PCR 7 changed" refused_with EBADE evidence-pcr7.json aks "$report_data"
check "refused with other report data" refused_with EBADE evidence.json aks "$other_data"
check "refused with only another AK registered" refused_with ENOKEY evidence.json other-aks \
        "$report_data"

# The raw RSA signature, as "-f plain" writes it: not a TPMT_SIGNATURE.
check "tpm2_quote -f plain" make_quote plain
check "the evidence JSON, plain signature" write_evidence
check "refused with a plain signature" refused_with 'E\(BADMSG\|KEYREJECTED\)' evidence.json aks "$report_data"

nothing_left() { [ -z "$(tpm2_getcap handles-transient)" ]; }
check "nothing left in the TPM" nothing_left

tap_done
