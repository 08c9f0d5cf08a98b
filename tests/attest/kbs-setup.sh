# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh): the operator's side of an attestation, for the tests and the
# benchmark that run devgate against devgate-kbs on loopback. In the current directory:
#
#   kbs_tls [IP...]             ca.pem, and server.pem/server.key for the addresses (default
#                               127.0.0.1)
#   kbs_publish DEVGATE POLICY  signs POLICY with a new key "author" (keys/author.pub) and
#                               publishes it as resources/default/devgate-policy/NAME
#   kbs_enrol DEVGATE TCTI      the TPM's AK in aks/guest.pub (as "devgate attest
#                               --print-ak" prints it), its id in $ak_id, and its PCRs
#                               now in reference.json as the set "known-good"
#   kbs_serve KBS NAME ARGS...  starts devgate-kbs; its URL in NAME.url, its pid added to
#                               $kbs_pids, its log in NAME.log
#
# Each prints "Bail out!" and exits when something it needs fails. Their own variables
# start with _kbs, so that they do not overwrite the caller's.

kbs_pids=""

kbs_tls() {
        _kbs_names=${*:-127.0.0.1}
        _kbs_san=$(printf 'IP:%s,' $_kbs_names)
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null &&
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                        -subj "/CN=${_kbs_names%% *}" -keyout server.key -out server.csr 2>/dev/null &&
                printf 'subjectAltName=%s\n' "${_kbs_san%,}" >san.ext &&
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                        -days 2 -extfile san.ext -out server.pem 2>/dev/null ||
                { echo "Bail out! cannot make the TLS certificates"; exit 1; }
}

kbs_publish() {
        _kbs_name=$(basename "$2" .json)
        mkdir -p keys resources/default/devgate-policy
        { [ -e author.key ] || "$1" policy keygen author >/dev/null; } &&
                cp author.pub keys/ &&
                "$1" policy sign --key author.key \
                        --output "resources/default/devgate-policy/$_kbs_name" "$2" 2>/dev/null ||
                { echo "Bail out! cannot sign $2"; exit 1; }
}

kbs_enrol() {
        mkdir -p aks
        "$1" attest --print-ak --tcti "$2" >aks/guest.pub 2>ak.err ||
                { echo "Bail out! print-ak failed"; sed 's/^/# /' ak.err; exit 1; }
        ak_id=$(openssl pkey -pubin -in aks/guest.pub -outform DER 2>/dev/null | sha256sum |
                cut -c1-64)
        TPM2TOOLS_TCTI=$2 tpm2_pcrread sha256 >pcrs.yaml &&
                python3 - <<'PY' || { echo "Bail out! cannot record the PCRs"; exit 1; }
import json, re
pcrs = {}
for line in open("pcrs.yaml"):
    m = re.match(r"\s+(\d+)\s*:\s*0x([0-9A-Fa-f]{64})", line)
    if m:
        pcrs[m.group(1)] = [m.group(2).lower()]
assert len(pcrs) == 24, pcrs
json.dump({"sets": {"known-good": {"pcrs": pcrs}}}, open("reference.json", "w"))
PY
}

kbs_serve() {
        _kbs=$1 _kbs_name=$2
        shift 2
        "$_kbs" --port 0 --port-file "$_kbs_name.port" --cert server.pem --key server.key \
                --resources resources "$@" 2>"$_kbs_name.log" &
        kbs_pids="$kbs_pids $!"
        for _ in $(seq 100); do [ -s "$_kbs_name.port" ] && break; sleep 0.05; done
        [ -s "$_kbs_name.port" ] ||
                { echo "Bail out! devgate-kbs $_kbs_name did not start"; sed "s/^/# /" "$_kbs_name.log"; exit 1; }
        echo "https://127.0.0.1:$(cat "$_kbs_name.port")" >"$_kbs_name.url"
}
