#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs test-http against a real HTTPS server on loopback, with a CA and a server
# certificate made for this run, and a second CA the server's certificate does not chain to.
# usage: test-http.sh TEST-HTTP SERVER.py
set -eu
test_http=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") server=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
pid=""
cleanup() {
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
        rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
ca() { # ca NAME
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
ca test-ca
ca other-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA test-ca.pem -CAkey test-ca.key -CAcreateserial \
        -days 2 -extfile san.ext -out server.pem 2>/dev/null

python3 "$server" server.pem server.key port &
pid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || { echo "Bail out! test server did not start"; exit 1; }

# A port nothing listens on, for "server down".
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$test_http" "https://127.0.0.1:$(cat port)" "$work/test-ca.pem" "$work/other-ca.pem" \
        "https://127.0.0.1:$closed"
