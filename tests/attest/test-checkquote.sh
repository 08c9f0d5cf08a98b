#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A quote devgate made, checked by an independent verifier: tpm2_checkquote (tpm2-tools) gets
# the files written from the evidence JSON alone, with the AK as "devgate attest --print-ak"
# prints it. It must pass, and fail for the right reason on a tampered message, wrong
# qualifying data, a tampered PCR value and another key. Runs against a fresh swtpm.
#
# usage: test-checkquote.sh QUOTE_TOOL SWTPM_RUN
set -u

tool=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") swtpm_run=$2

. "$(dirname "$0")/tap.sh"
tap_require swtpm tpm2_checkquote python3 openssl
# Once more inside swtpm-run.sh, which starts the swtpm and sets $SWTPM_TCTI and
# $TPM2TOOLS_TCTI.
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$swtpm_run" "$0" "$@"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export TSS2_LOG=all+none

no_transient_objects() {
        tpm2_getcap handles-transient >handles || return 1
        [ ! -s handles ] || { sed 's/^/# left in the TPM: /' handles; return 1; }
}

checkquote() { # checkquote PUBKEY MSG SIG PCRS QUALIFYING-DATA
        tpm2_checkquote -u "$1" -m "$2" -s "$3" -f "$4" -g sha256 -q "$5" >checkquote.out 2>&1
}

passes() {
        checkquote "$@" && return 0
        sed 's/^/#   /' checkquote.out
        return 1
}

fails_with() { # fails_with REASON CHECKQUOTE-ARGS...: refused, and for that reason
        reason=$1
        shift
        if checkquote "$@"; then
                echo "# tpm2_checkquote accepted it"
                return 1
        fi
        grep -qF -- "$reason" checkquote.out && return 0
        echo "# refused, but not with: $reason"
        sed 's/^/#   /' checkquote.out
        return 1
}

# Report data as a KBS makes it: a SHA-384 digest zero-padded to 64 bytes.
report_data=$(openssl rand -hex 48)00000000000000000000000000000000
other_data=$(openssl rand -hex 48)00000000000000000000000000000000

print_ak() { "$tool" "$SWTPM_TCTI" print-ak >"$1"; }
is_rsa_2048() { openssl pkey -pubin -in "$1" -noout -text | grep -q "(2048 bit)"; }
same_ak_again() { print_ak ak-again.pem && [ -s ak.pem ] && cmp -s ak.pem ak-again.pem; }
make_quote() { "$tool" "$SWTPM_TCTI" quote "$report_data" >evidence.json; }

check "print-ak" print_ak ak.pem
check "print-ak leaves no transient object" no_transient_objects
check "the AK is RSA-2048" is_rsa_2048 ak.pem
check "print-ak again: the same key" same_ak_again

check "quote" make_quote
check "quote leaves no transient object" no_transient_objects

# The files tpm2_checkquote reads, from the evidence alone. "pcrs" is tpm2-tools' own
# "serialized" format (what tpm2_quote -o writes): the TPML_PCR_SELECTION and TPML_DIGEST
# structures as they are laid out in memory, little-endian, 8 digests per TPML_DIGEST. (Raw
# values with "-l sha256:0,...,23" would be simpler, but tpm2-tools 5.4 loses every 8th value
# that way.)
write_files() {
        python3 - "$report_data" <<'EOF'
import base64, binascii, json, struct, sys

e = json.load(open("evidence.json"))
assert sorted(e) == ["ak_public", "report_data", "tpm_quote"], sorted(e)
q = e["tpm_quote"]
assert sorted(q) == ["message", "pcrs", "signature"], sorted(q)
b64 = lambda s: base64.b64decode(s, validate=True)
assert b64(e["report_data"]) == binascii.unhexlify(sys.argv[1])
open("ak.der", "wb").write(b64(e["ak_public"]))
open("msg", "wb").write(b64(q["message"]))
open("sig", "wb").write(b64(q["signature"]))

pcrs = [binascii.unhexlify(p) for p in q["pcrs"]]
assert len(pcrs) == 24 and all(len(p) == 32 for p in pcrs)
open("pcrs.raw", "wb").write(b"".join(pcrs))

def serialized(pcrs):
    # TPML_PCR_SELECTION: count, then 16 TPMS_PCR_SELECTION of 8 bytes (hash, sizeofSelect,
    # pcrSelect[4], one byte of padding).
    out = struct.pack("<I", 1) + struct.pack("<HB4sx", 0x000B, 3, b"\xff\xff\xff\x00")
    out += bytes(8 * 15)
    lists = [pcrs[i:i + 8] for i in range(0, len(pcrs), 8)]
    out += struct.pack("<I", len(lists))
    for digests in lists:
        # TPML_DIGEST: count, then 8 TPM2B_DIGEST of 66 bytes (size, buffer[64]).
        out += struct.pack("<I", len(digests))
        for d in digests + [b""] * (8 - len(digests)):
            out += struct.pack("<H", len(d)) + d.ljust(64, b"\0")
    return out

open("pcrs", "wb").write(serialized(pcrs))
pcrs[7] = bytes(31) + b"\x01"
open("pcrs.tampered", "wb").write(serialized(pcrs))
EOF
}
check "the evidence has every field, decodable" write_files

same_der() { openssl pkey -pubin -in ak.pem -outform DER -out ak-pem.der && cmp -s ak.der ak-pem.der; }
same_pcrs() {
        tpm2_pcrread -Q "sha256:$(seq -s, 0 23)" -o tpm-pcrs.raw && cmp -s pcrs.raw tpm-pcrs.raw
}
check "ak_public is the DER of the printed AK" same_der
check "the PCR values are the TPM's" same_pcrs
if tpm2_print -t TPMS_ATTEST msg >attest.yaml 2>&1; then
        sed 's/^/# /' attest.yaml
fi
check "the quote's extraData is the report data" grep -qx "extraData: $report_data" attest.yaml

check "tpm2_checkquote accepts the quote" passes ak.pem msg sig pcrs "$report_data"

# The same message with its last byte changed (the end of pcrDigest).
python3 -c 'm = bytearray(open("msg", "rb").read()); m[-1] ^= 1; open("msg.tampered", "wb").write(m)' \
        2>/dev/null
check "tpm2_checkquote refuses a tampered message" fails_with \
        "Error validating signed message" ak.pem msg.tampered sig pcrs "$report_data"
check "tpm2_checkquote refuses other qualifying data" fails_with \
        "Error validating nonce from quote" ak.pem msg sig pcrs "$other_data"
check "tpm2_checkquote refuses a tampered PCR value" fails_with \
        "Error validating PCR composite" ak.pem msg sig pcrs.tampered "$report_data"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null |
        openssl pkey -pubout -out other.pem
check "tpm2_checkquote refuses another key" fails_with \
        "Error validating signed message" other.pem msg sig pcrs "$report_data"

tap_done
