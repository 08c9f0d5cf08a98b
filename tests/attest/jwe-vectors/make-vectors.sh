#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Re-creates the known-answer vectors that test-jwe.c decrypts. Every JWE here was made by
# jose (latchset, Debian package "jose"), which shares no code with devgate, and this script has
# jose decrypt each one it accepts before keeping it. The exception is p256-aad.json: jose puts
# "epk" in an unprotected header in its JSON output, which devgate refuses, and jose 11 fails
# to verify the tag of any JWE with "aad", even one it made itself. That one is put together by
# the Python below from pyca/cryptography and hashlib (the Concat KDF by hand), following RFC
# 7516 section 5.1 step 14. Keys and JWEs come out new each time; test-jwe.c only needs them
# to agree with each other.
#
# usage: cd tests/attest/jwe-vectors && sh make-vectors.sh   (needs jose, python3-cryptography)
set -eu

enc_compact() { # enc_compact KEY PROTECTED PLAINTEXT OUT
        jose jwk pub -i "$1" -o pub.tmp
        jose jwe enc -c -i "{\"protected\":$2}" -I "$3" -k pub.tmp -o "$4"
        rm pub.tmp
}

# The same JWE in the flattened JSON serialization, as the KBS sends it: a change of form
# only, the bytes of each part are those jose wrote.
to_flattened() { # to_flattened COMPACT OUT
        python3 - "$1" "$2" <<'PY'
import json, sys
parts = open(sys.argv[1]).read().strip().split(".")
names = ["protected", "encrypted_key", "iv", "ciphertext", "tag"]
json.dump(dict(zip(names, parts)), open(sys.argv[2], "w"))
PY
}

jose jwk gen -i '{"kty":"EC","crv":"P-256"}' -o p256.jwk
jose jwk gen -i '{"kty":"EC","crv":"P-521"}' -o p521.jwk

printf '{"name":"cc-default","version":7,"rules":[{"bus":"virtio","allow":true}],"note":"d\303\251j\303\240 vu"}\n' >msg.txt
: >empty.bin
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 167 + 13) % 256 for i in range(1000)))' >binary.bin

kbs='{"alg":"ECDH-ES+A256KW","enc":"A256GCM"}'
enc_compact p256.jwk "$kbs" msg.txt p256-compact.jwe
to_flattened p256-compact.jwe p256-flattened.json
enc_compact p256.jwk "$kbs" binary.bin p256-binary.jwe
enc_compact p256.jwk "$kbs" empty.bin p256-empty.jwe
enc_compact p521.jwk "$kbs" msg.txt p521-compact.jwe
to_flattened p521-compact.jwe p521-flattened.json
# PartyUInfo "devgate", PartyVInfo "kbs": both enter the Concat KDF.
enc_compact p256.jwk '{"alg":"ECDH-ES+A256KW","enc":"A256GCM","apu":"ZGV2Z2F0ZQ","apv":"a2Jz"}' \
        msg.txt p256-apu-apv.jwe

# What devgate refuses, each for its own reason.
enc_compact p256.jwk '{"alg":"ECDH-ES+A256KW","enc":"A128GCM"}' msg.txt p256-a128gcm.jwe
enc_compact p256.jwk '{"alg":"ECDH-ES","enc":"A256GCM"}' msg.txt p256-ecdh-es.jwe
enc_compact p256.jwk '{"alg":"ECDH-ES+A128KW","enc":"A256GCM"}' msg.txt p256-a128kw.jwe
jose jwk pub -i p256.jwk -o pub.tmp
jose jwe enc -i "{\"protected\":$kbs}" -I msg.txt -k pub.tmp -o p256-header-epk.json
rm pub.tmp

# With "aad": the AEAD input is then protected || '.' || aad (RFC 7516 section 5.1 step 14).
python3 - p256.jwk msg.txt p256-aad.json <<'PY'
import base64, hashlib, json, os, sys
from cryptography.hazmat.primitives import keywrap
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
unb64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
jwk = json.load(open(sys.argv[1]))
recipient = ec.EllipticCurvePublicNumbers(
    int.from_bytes(unb64(jwk["x"]), "big"), int.from_bytes(unb64(jwk["y"]), "big"), ec.SECP256R1()
).public_key()
ephemeral = ec.generate_private_key(ec.SECP256R1())
z = ephemeral.exchange(ec.ECDH(), recipient)
alg = b"ECDH-ES+A256KW"
other_info = len(alg).to_bytes(4, "big") + alg + bytes(4) + bytes(4) + (256).to_bytes(4, "big")
kek = hashlib.sha256((1).to_bytes(4, "big") + z + other_info).digest()
cek, iv = os.urandom(32), os.urandom(12)
n = ephemeral.public_key().public_numbers()
header = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM",
          "epk": {"crv": "P-256", "kty": "EC", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}}
protected = b64(json.dumps(header, separators=(",", ":")).encode())
aad = b64(b"resource default/policy/cc-default")
sealed = AESGCM(cek).encrypt(iv, open(sys.argv[2], "rb").read(), (protected + "." + aad).encode())
json.dump({"protected": protected, "encrypted_key": b64(keywrap.aes_key_wrap(kek, cek)),
           "aad": aad, "iv": b64(iv), "ciphertext": b64(sealed[:-16]), "tag": b64(sealed[-16:])},
          open(sys.argv[3], "w"))
PY

# jose must read back every vector devgate has to accept.
check() { # check JWE KEY PLAINTEXT
        jose jwe dec -i "$1" -k "$2" -O out.tmp
        cmp -s out.tmp "$3" || { echo "jose does not decrypt $1 to $3" >&2; exit 1; }
        rm out.tmp
}
check p256-compact.jwe p256.jwk msg.txt
check p256-flattened.json p256.jwk msg.txt
check p256-binary.jwe p256.jwk binary.bin
check p256-empty.jwe p256.jwk empty.bin
check p521-compact.jwe p521.jwk msg.txt
check p521-flattened.json p521.jwk msg.txt
check p256-apu-apv.jwe p256.jwk msg.txt
check p256-header-epk.json p256.jwk msg.txt
echo "vectors written and checked with jose"
