#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# devgate's JWE against jose (latchset), an implementation that shares no code with it, in
# both directions: jose encrypts and devgate decrypts, devgate encrypts and jose decrypts, for
# P-256 and P-521 keys and plaintexts from empty to 1 MiB; then what devgate must refuse.
# Keys are made afresh by jose at each run. Skips (exit 77) only when jose is not installed.
#
# usage: test-jwe-jose.sh JWE_TOOL
set -u

if ! command -v jose >/dev/null 2>&1; then
        echo "jose is not installed (apt-get install jose), skipping" >&2
        exit 77
fi
tool=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
passed=0 failed=0

check() { # check NAME COMMAND...
        name=$1
        shift
        if "$@"; then
                passed=$((passed + 1))
                echo "ok - $name"
        else
                failed=$((failed + 1))
                echo "not ok - $name"
                [ -s err ] && sed 's/^/#   /' err
        fi
        rm -f out err
}

kbs='{"alg":"ECDH-ES+A256KW","enc":"A256GCM"}'

# devgate decrypts FILE with key.jwk to exactly PLAINTEXT.
devgate_decrypts() { # devgate_decrypts FILE PLAINTEXT
        "$tool" decrypt key.jwk <"$1" >out 2>err && cmp -s out "$2"
}

# jose decrypts FILE with key.jwk to exactly PLAINTEXT. jose writes the plaintext out before it
# has checked the tag and reports a bad tag only in its exit status: both are checked.
jose_decrypts() { # jose_decrypts FILE PLAINTEXT
        jose jwe dec -i "$1" -k key.jwk -O out 2>err && cmp -s out "$2"
}

devgate_refuses() { # devgate_refuses FILE REASON
        ! "$tool" decrypt key.jwk <"$1" >out 2>err && grep -qF -- "$2" err
}

# The same JWE in the flattened JSON serialization, as the KBS sends it.
to_flattened() { # to_flattened COMPACT OUT
        python3 - "$1" "$2" <<'PY'
import json, sys
parts = open(sys.argv[1]).read().strip().split(".")
names = ["protected", "encrypted_key", "iv", "ciphertext", "tag"]
json.dump(dict(zip(names, parts)), open(sys.argv[2], "w"))
PY
}

# Flips one bit of one decoded member of a flattened JWE.
flip() { # flip IN MEMBER OUT
        python3 - "$1" "$2" "$3" <<'PY'
import base64, json, sys
j = json.load(open(sys.argv[1]))
v = bytearray(base64.urlsafe_b64decode(j[sys.argv[2]] + "=" * (-len(j[sys.argv[2]]) % 4)))
v[len(v) // 2] ^= 0x10
j[sys.argv[2]] = base64.urlsafe_b64encode(bytes(v)).rstrip(b"=").decode()
json.dump(j, open(sys.argv[3], "w"))
PY
}

: >empty
printf 'hello' >short
printf '{"name":"cc-default","version":7,"note":"d\303\251j\303\240 vu"}\n' >policy.json
head -c 1000 /dev/urandom >random-1000
head -c 1048576 /dev/urandom >random-1m

for crv in P-256 P-521; do
        jose jwk gen -i "{\"kty\":\"EC\",\"crv\":\"$crv\"}" -o key.jwk
        jose jwk pub -i key.jwk -o pub.jwk
        for pt in empty short policy.json random-1000 random-1m; do
                jose jwe enc -c -i "{\"protected\":$kbs}" -I "$pt" -k pub.jwk -o jose.jwe
                check "jose -> devgate, $crv, $pt, compact" devgate_decrypts jose.jwe "$pt"
                to_flattened jose.jwe jose.json
                check "jose -> devgate, $crv, $pt, flattened" devgate_decrypts jose.json "$pt"

                "$tool" encrypt pub.jwk <"$pt" >devgate.json
                check "devgate -> jose, $crv, $pt" jose_decrypts devgate.json "$pt"
                check "devgate -> devgate, $crv, $pt" devgate_decrypts devgate.json "$pt"
        done

        jose jwe enc -c -i '{"protected":{"alg":"ECDH-ES+A256KW","enc":"A256GCM","apu":"ZGV2Z2F0ZQ","apv":"a2Jz"}}' \
                -I policy.json -k pub.jwk -o apu.jwe
        check "jose -> devgate, $crv, apu and apv in the Concat KDF" devgate_decrypts apu.jwe policy.json

        # A tampered tag is refused by both, so the check above means something for jose too.
        "$tool" encrypt pub.jwk <policy.json >devgate.json
        flip devgate.json tag bad-tag.json
        check "devgate -> jose, $crv, altered tag refused by jose" sh -c \
                '! jose jwe dec -i bad-tag.json -k key.jwk -O out 2>err'
        check "devgate, $crv, altered tag refused" devgate_refuses bad-tag.json "JWE tag does not verify"
        flip devgate.json encrypted_key bad-key.json
        check "devgate, $crv, altered encrypted_key refused" devgate_refuses bad-key.json \
                "JWE encrypted_key does not unwrap"
done

# What jose writes by default and devgate does not take.
jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o key.jwk
jose jwk pub -i key.jwk -o pub.jwk
jose jwe enc -i "{\"protected\":$kbs}" -I policy.json -k pub.jwk -o header.json
check "jose's JSON with epk in an unprotected header: jose itself reads it" jose_decrypts header.json policy.json
check "jose's JSON with epk in an unprotected header: refused" devgate_refuses header.json \
        'JWE header parameters outside the protected header ("header") are not accepted'
for enc in A128GCM A192GCM A256CBC-HS512; do
        jose jwe enc -c -i "{\"protected\":{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"$enc\"}}" \
                -I policy.json -k pub.jwk -o enc.jwe
        check "jose with enc $enc: refused" devgate_refuses enc.jwe "JWE enc \"$enc\" is not accepted"
done
for alg in ECDH-ES ECDH-ES+A128KW ECDH-ES+A192KW; do
        jose jwe enc -c -i "{\"protected\":{\"alg\":\"$alg\",\"enc\":\"A256GCM\"}}" \
                -I policy.json -k pub.jwk -o alg.jwe
        check "jose with alg $alg: refused" devgate_refuses alg.jwe "JWE alg \"$alg\" is not accepted"
done
# What an old KBS sends to an RSA key. (jose 11 on Debian 12 fails to make RSA-OAEP JWEs at
# all; test-jwe.c covers RSA-OAEP-256 with a header of its own.)
jose jwk gen -i '{"kty":"RSA","bits":2048}' -o rsa.jwk
jose jwk pub -i rsa.jwk -o rsa-pub.jwk
jose jwe enc -c -i '{"protected":{"alg":"RSA1_5","enc":"A256GCM"}}' -I policy.json -k rsa-pub.jwk \
        -o rsa.jwe
check "jose with alg RSA1_5: refused" devgate_refuses rsa.jwe 'JWE alg "RSA1_5" is not accepted'

# Encrypted to another key.
jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o other.jwk
jose jwk pub -i other.jwk -o other-pub.jwk
jose jwe enc -c -i "{\"protected\":$kbs}" -I policy.json -k other-pub.jwk -o other.jwe
check "jose to another key: refused" devgate_refuses other.jwe "JWE encrypted_key does not unwrap"
"$tool" encrypt other-pub.jwk <policy.json >other.json
check "devgate to another key: jose refuses" sh -c '! jose jwe dec -i other.json -k key.jwk -O out 2>err'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
