#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seeds of corpus/tpm-evidence/ from a fresh swtpm and prints the AK's PEM, which
# fuzz-tpm-evidence.c embeds: the seeds and the harness's key must come from the same run.
# Evidence the verifier accepts for the harness's report data (bytes 0..47, zero-padded to 64),
# evidence each check refuses, and a few malformed documents.
#
# usage: tests/fuzz/make-tpm-evidence-corpus.sh BUILD_DIR
#        (then paste the printed key into fuzz-tpm-evidence.c)
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
if [ -z "${SWTPM_TCTI-}" ]; then
        exec "$src/tests/tpm/swtpm-run.sh" "$0" "$@"
fi

corpus=$src/tests/fuzz/corpus/tpm-evidence
tool=$build/tests/attest/quote-tool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TSS2_LOG=all+none
mkdir -p "$corpus"
cd "$work"

report_data=$(python3 -c 'print(bytes(range(48)).hex() + "00" * 16)')
"$tool" "$SWTPM_TCTI" print-ak >ak.pem
"$tool" "$SWTPM_TCTI" quote "$report_data" >valid.json

# The same AK by tpm2-tools (tpm-quote.h's template): a TPM2_Certify and a quote of fewer PCRs.
tpm2_createprimary -Q -C e -g sha256 -G rsa2048:rsassa-sha256:null \
        -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda' -c ak.ctx
tpm2_flushcontext -t
tpm2_certify -Q -c ak.ctx -C ak.ctx -g sha256 -o certify.msg -s certify.sig
tpm2_flushcontext -t
tpm2_quote -Q -c ak.ctx -l "sha256:$(seq -s, 0 22)" -q "$report_data" -m partial.msg \
        -s partial.sig
tpm2_flushcontext -t

for i in $(seq 0 16) 23; do
        tpm2_pcrextend "$i:sha256=$(printf 'pcr %s' "$i" | openssl dgst -sha256 -r | cut -d' ' -f1)"
done
"$tool" "$SWTPM_TCTI" quote "$report_data" >valid-extended.json

python3 - "$corpus" <<'EOF'
import base64, copy, json, os, sys

corpus = sys.argv[1]
b64 = lambda data: base64.b64encode(data).decode()
valid = json.load(open("valid.json"))
extended = json.load(open("valid-extended.json"))

def write(name, doc):
    text = doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(corpus, name), "w") as f:
        f.write(text)

def variant(base=valid, **quote):
    doc = copy.deepcopy(base)
    doc["tpm_quote"].update(quote)
    return doc

write("valid.json", valid)
write("valid-extended.json", extended)
write("valid-pretty.json", json.dumps(extended, indent=2))

pcrs = list(extended["tpm_quote"]["pcrs"])
pcrs[3] = "%064x" % 1
write("pcr-changed.json", variant(extended, pcrs=pcrs))
write("pcrs-23.json", variant(pcrs=valid["tpm_quote"]["pcrs"][:23]))
write("pcr-uppercase.json",
      variant(extended, pcrs=[p.upper() for p in extended["tpm_quote"]["pcrs"]]))
message = base64.b64decode(valid["tpm_quote"]["message"])
write("message-tampered.json", variant(message=b64(message[:-1] + bytes([message[-1] ^ 1]))))
write("message-trailing.json", variant(message=b64(message + b"\0")))
signature = base64.b64decode(valid["tpm_quote"]["signature"])
write("signature-plain.json", variant(signature=b64(signature[6:])))
write("not-a-quote.json", variant(message=b64(open("certify.msg", "rb").read()),
                                  signature=b64(open("certify.sig", "rb").read())))
write("other-pcrs.json", variant(message=b64(open("partial.msg", "rb").read()),
                                 signature=b64(open("partial.sig", "rb").read())))
other = copy.deepcopy(valid)
other["report_data"] = b64(bytes(64))
write("report-data-member.json", other)
other = copy.deepcopy(valid)
other["ak_public"] = b64(base64.b64decode(valid["ak_public"])[:-1] + b"\x03")
write("ak-unknown.json", other)
other = copy.deepcopy(valid)
other["svn"] = "1"
write("unknown-member.json", other)
other = copy.deepcopy(valid)
del other["tpm_quote"]["signature"]
write("missing-member.json", other)
message_text = valid["tpm_quote"]["message"]
write("bad-base64.json", variant(message=message_text[:4] + "\n" + message_text[4:]))
write("empty-object.json", "{}")
write("array.json", "[]")
EOF

cat ak.pem
