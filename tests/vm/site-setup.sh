# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh) by the VM tests and the demo: a site's side of an attested boot, in
# the current directory, for a guest that reaches the server at 10.0.2.100:8443
# (vm-lib.sh's guestfwd). Needs $devgate, $kbs (the built binaries) and $top (the sources).
# The TLS certificates come from tests/attest/kbs-setup.sh: kbs_tls 10.0.2.100.
#
#   site_policy VERSION KEY DIR cc-default renamed "site-cc" at VERSION, signed with
#                               KEY.key, as DIR/default/devgate-policy/site
#   site_keys                   signing keys "author" (trusted by the guest) and "rogue"
#   site_confdir                etc-devgate/: the guest's trusted keys, CA and attest.conf,
#                               for the dracut module's devgate_confdir
#   site_enrol TPMSTATE         the AK of the swtpm TPM in TPMSTATE (made now, before the
#                               guest boots with it) in aks/guest.pub, its id in $site_ak_id;
#                               access.json grants it the site policy
#   site_references             reference.json ("any-boot": matches a genuine quote of a
#                               fresh boot) and reference-bad.json (a PCR 7 no boot has)
#   site_serve NAME DIR REFERENCE
#                               devgate-kbs serving DIR's resources, checking quotes against
#                               REFERENCE; its port in VM_KBS_PORT, its log in NAME.kbs.log
#   site_stop                   stops it
#
# Each prints "Bail out! ..." and exits when something it needs fails.

site_kbs_pid=""

site_keys() {
        "$devgate" policy keygen author >/dev/null && "$devgate" policy keygen rogue >/dev/null ||
                { echo "Bail out! cannot make the signing keys"; exit 1; }
}

site_policy() {
        mkdir -p "$3/default/devgate-policy"
        sed -e 's/"name": "cc-default"/"name": "site-cc"/' \
                -e "s/\"version\": 1,/\"version\": $1,/" \
                "$top/policies/cc-default.json" >"site-v$1.json" &&
                "$devgate" policy sign --key "$2.key" --output "$3/default/devgate-policy/site" \
                        "site-v$1.json" 2>/dev/null ||
                { echo "Bail out! cannot sign the site policy version $1"; exit 1; }
}

site_confdir() {
        mkdir -p etc-devgate/keys
        cp author.pub etc-devgate/keys/
        cp ca.pem etc-devgate/ca.pem
        cat >etc-devgate/attest.conf <<EOF
url = https://10.0.2.100:8443
ca = $PWD/etc-devgate/ca.pem
resource = default/devgate-policy/site
tee = tpm
deadline-ms = 20000
EOF
}

# A free TCP port on loopback.
site_free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

site_enrol() {
        mkdir -p "$1" aks
        _site_port=$(site_free_port)
        swtpm socket --tpm2 --tpmstate dir="$1" \
                --server type=tcp,port="$_site_port",bindaddr=127.0.0.1 \
                --ctrl type=tcp,port=$((_site_port + 1)),bindaddr=127.0.0.1 \
                --flags not-need-init,startup-clear >/dev/null 2>&1 &
        _site_swtpm=$!
        # The AK is a primary key: the guest's TPM, booted later from this state, has it too.
        for _ in $(seq 50); do
                "$devgate" attest --print-ak --tcti "swtpm:host=127.0.0.1,port=$_site_port" \
                        >aks/guest.pub 2>ak.err && break
                sleep 0.1
        done
        kill "$_site_swtpm" 2>/dev/null
        wait "$_site_swtpm" 2>/dev/null
        [ -s aks/guest.pub ] ||
                { echo "Bail out! cannot read the TPM's AK"; sed 's/^/# /' ak.err; exit 1; }
        site_ak_id=$(openssl pkey -pubin -in aks/guest.pub -outform DER 2>/dev/null |
                sha256sum | cut -c1-64)
        printf '{"rules": [{"resource": "default/devgate-policy/site", "ak": "%s", "reference": "*"}]}\n' \
                "$site_ak_id" >access.json
}

site_references() {
        # PCR 23 is never extended during these boots: all zeros in every genuine quote of
        # a fresh boot. PCR 7 is never all ones.
        _site_zeros=0000000000000000000000000000000000000000000000000000000000000000
        _site_ones=1111111111111111111111111111111111111111111111111111111111111111
        printf '{"sets": {"any-boot": {"pcrs": {"23": ["%s"]}}}}\n' "$_site_zeros" >reference.json
        printf '{"sets": {"other-firmware": {"pcrs": {"7": ["%s"]}}}}\n' "$_site_ones" \
                >reference-bad.json
}

site_stop() {
        if [ -n "$site_kbs_pid" ]; then
                kill "$site_kbs_pid" 2>/dev/null
                wait "$site_kbs_pid" 2>/dev/null
        fi
        site_kbs_pid=""
}

site_serve() {
        site_stop
        rm -f "$1.port"
        "$kbs" --port 0 --port-file "$1.port" --cert server.pem --key server.key \
                --resources "$2" --trusted-aks aks --reference "$3" --access access.json \
                2>"$1.kbs.log" &
        site_kbs_pid=$!
        for _ in $(seq 100); do
                [ -s "$1.port" ] && break
                sleep 0.05
        done
        [ -s "$1.port" ] ||
                { echo "Bail out! devgate-kbs did not start"; sed 's/^/# /' "$1.kbs.log"; exit 1; }
        VM_KBS_PORT=$(cat "$1.port")
        export VM_KBS_PORT
}
