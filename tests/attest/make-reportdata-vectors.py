#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes reportdata-vectors.json: expected RFC 8785 (JCS) texts and KBS report data,
computed here independently of the C code, with nothing but the Python standard library:
its own canonicalization, its own P-256 arithmetic (to make and check keys), hashlib.

The tests read the JSON file, which is committed; Python is needed only to regenerate it:

    python3 tests/attest/make-reportdata-vectors.py > tests/attest/reportdata-vectors.json

The report data of RCAR protocol 0.4.0 (Trustee kbs/src/attestation/backend.rs builds the
object, attestation-service/src/lib.rs hashes it; guest-components'
kbs_protocol/src/client/rcar_client.rs does the same on the client side):

    sha384(JCS({"additional-evidence": s, "nonce": n, "tee-pubkey": jwk})) || 16 zero bytes
"""

import base64
import hashlib
import json
import sys

# --- RFC 8785, written from the RFC, not from the C code -------------------------------

MAX_SAFE_INTEGER = 2**53 - 1


def jcs_string(s):
    out = ['"']
    for ch in s:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("lone surrogate")
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integer outside the exact range of a double")
        return str(value)
    if isinstance(value, float):
        # Only what devgate supports: integral values, printed as ECMAScript prints them.
        if value != value or value in (float("inf"), float("-inf")) or value != int(value):
            raise ValueError("not an integral number")
        return jcs(int(value))
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        # Section 3.2.3: by UTF-16 code units, which big-endian UTF-16 bytes compare like.
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(value[k]) for k in names) + "}"
    raise TypeError(type(value))


def python_dumps(value):
    """What people use as "canonical JSON" in Python; equal to JCS only on some data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- P-256, to make keys from fixed private scalars and to check every point ------------

P = 2**256 - 2**224 + 2**192 + 2**96 - 1
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def on_curve(pt):
    x, y = pt
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % P == 0:
        return None
    if p1 == p2:
        m = (3 * p1[0] * p1[0] + A) * pow(2 * p1[1], -1, P) % P
    else:
        m = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x = (m * m - p1[0] - p2[0]) % P
    return (x, (m * (p1[0] - x) - p1[1]) % P)


def multiply(k, pt):
    result = None
    while k:
        if k & 1:
            result = add(result, pt)
        pt = add(pt, pt)
        k >>= 1
    return result


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk(x, y):
    """In the order guest-components' serde writes kbs-types TeePubKey::EC."""
    return {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ECDH-ES+A256KW",
        "x": b64url(x.to_bytes(32, "big")),
        "y": b64url(y.to_bytes(32, "big")),
    }


def jwk_point(key):
    return (int.from_bytes(unb64url(key["x"]), "big"), int.from_bytes(unb64url(key["y"]), "big"))


def key_with_short_x():
    """The first private scalar from a fixed seed whose public x is below 2^248: its JWK x
    starts with a zero byte, which must be kept (RFC 7518 section 6.2.1.2)."""
    counter = 0
    while True:
        seed = hashlib.sha256(b"devgate reportdata vectors %d" % counter).digest()
        k = int.from_bytes(seed, "big") % N
        pt = multiply(k, G)
        if pt[0] < 2**248:
            return k, pt
        counter += 1


# Public P-256 keys from the JOSE RFCs, so that anyone can check them elsewhere.
RFC7515_A3 = {
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
RFC7517_A1 = {
    "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
    "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
}
RFC7518_C_BOB = {
    "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
    "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
}


def rfc_jwk(coords):
    pt = jwk_point(coords)
    key = jwk(*pt)
    assert key["x"] == coords["x"] and key["y"] == coords["y"]
    return key


def nonce_with(chars):
    """A nonce as Trustee makes them (standard base64 of 32 bytes) containing chars."""
    counter = 0
    while True:
        nonce = base64.b64encode(hashlib.sha256(b"devgate nonce %d" % counter).digest()).decode()
        if all(c in nonce for c in chars):
            return nonce
        counter += 1


# --- the vectors -------------------------------------------------------------------------


def jcs_vectors():
    vectors = []

    def vector(name, text, note=None, sha384=None):
        value = json.loads(text)
        canonical = jcs(value)
        v = {"name": name, "input": text, "canonical": canonical}
        dumped = python_dumps(value)
        v["python_json_dumps_equal"] = dumped == canonical
        if dumped != canonical:
            v["python_json_dumps"] = dumped
        if sha384:
            got = hashlib.sha384(canonical.encode()).hexdigest()
            assert got == sha384, (name, got)
            v["sha384"] = sha384
        if note:
            v["note"] = note
        vectors.append(v)
        return v

    # Trustee attestation-service/src/lib.rs, test parse_runtimedata_json_binding: the
    # only published digest of structured runtime data.
    vector(
        "trustee-parse-runtimedata-json-binding",
        '{"b": 1, "a": "test", "c": {"d": "e"}}',
        note="Trustee attestation-service/src/lib.rs test vector (SHA-384)",
        sha384="e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c"
        "4597480a186427c813ca941da78870c3",
    )

    # RFC 8785 section 3.2.2.2 (string) and 3.2.3 (sorting).
    v = vector(
        "rfc8785-3.2.2.2-string",
        r"""{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"}""",
    )
    assert v["canonical"] == '{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    v = vector(
        "rfc8785-3.2.2-without-numbers",
        r"""{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}""",
        note="RFC 8785 3.2.2 example minus its non-integral numbers, which devgate refuses",
    )
    assert v["canonical"] == '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    v = vector(
        "rfc8785-3.2.3-sorting",
        r'{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",'
        r' "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",'
        r' "\u00f6": "Latin Small Letter O With Diaeresis"}',
        note="RFC 8785 3.2.3: U+1F600 sorts before U+FB33 (its high surrogate is D83D); "
        "Python's sort_keys orders code points and puts it last",
    )
    names = list(json.loads("{" + v["canonical"][1:]).keys())
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"], names
    assert not v["python_json_dumps_equal"]

    vector(
        "non-bmp-vs-bmp",
        r'{"\uffff": 1, "\ue000": 2, "\ud83d\ude00": 3, "\ud800\udc00": 4, "\u00e9": 5, "z": 6}',
        note="U+10000 and U+1F600 sort between U+00E9 and U+E000 in UTF-16 order",
    )

    # ASCII names, integers, strings, literals: Python's json.dumps with sort_keys and
    # ensure_ascii=False writes exactly JCS here.
    for name, text in [
        ("ascii-nested", '{"z": [3, 2, 1], "a": {"y": null, "x": true, "B": false}, "_": {}, "A": []}'),
        ("ascii-integers", '{"max": 9007199254740991, "min": -9007199254740991, "zero": 0, "neg": -7}'),
        ("ascii-prefix-names", '{"aa": 1, "a": 2, "a1": 3, "a-": 4, "a_": 5, "": 6}'),
        (
            "ascii-escapes",
            r'{"s": "tab\there \"q\" back\\slash /slash nl\n cr\r ff\f bs\b nul\u0000 us\u001f del\u007f"}',
        ),
        ("ascii-unicode-values", r'{"s": "nöncé €, 😀, \u2028 \ufeff"}'),
        ("ascii-empty", "{}"),
        ("ascii-array-top", '[1, "two", [3], {"b": 4, "a": 5}]'),
        ("ascii-string-top", '"x/y+z="'),
    ]:
        v = vector(name, text)
        assert v["python_json_dumps_equal"], name

    v = vector(
        "integral-doubles",
        '{"one": 1.0, "minus-zero": -0.0, "hundred": 1e2, "big": 9007199254740991.0}',
        note="doubles with integral values print as integers; Python keeps 1.0, -0.0, 100.0",
    )
    assert v["canonical"] == '{"big":9007199254740991,"hundred":100,"minus-zero":0,"one":1}'
    assert not v["python_json_dumps_equal"]
    return vectors


def report_data_vectors():
    k, pt = key_with_short_x()
    short_x = jwk(*pt)
    assert short_x["x"][0] == "A" and len(short_x["x"]) == 43
    generated = jwk(*multiply(0xDE7647E, G))

    vectors = []

    def vector(name, nonce, key, additional_evidence="", note=None):
        assert on_curve(jwk_point(key)), name
        runtime_data = {"additional-evidence": additional_evidence, "nonce": nonce, "tee-pubkey": key}
        canonical = jcs(runtime_data)
        digest = hashlib.sha384(canonical.encode()).digest()
        v = {
            "name": name,
            "nonce": nonce,
            "additional_evidence": additional_evidence,
            "tee_pubkey": key,
            "canonical": canonical,
            "sha384": digest.hex(),
            "report_data": (digest + bytes(16)).hex(),
        }
        # All names are ASCII here: the shortcut people take agrees with JCS.
        assert python_dumps(runtime_data) == canonical
        if note:
            v["note"] = note
        vectors.append(v)

    slash_plus = nonce_with("/+")
    vector("nonce-slash-plus-rfc7515", slash_plus, rfc_jwk(RFC7515_A3), note="'/' is not escaped")
    vector("nonce-slash-plus-rfc7517", slash_plus, rfc_jwk(RFC7517_A1))
    vector("rfc7518-bob", nonce_with("+"), rfc_jwk(RFC7518_C_BOB))
    vector(
        "short-x",
        nonce_with("/"),
        short_x,
        note="private scalar %#x: x below 2^248, encoded with its leading zero byte" % k,
    )
    vector("generated", nonce_with(""), generated, note="private scalar 0xde7647e")
    vector(
        "members-in-other-order",
        slash_plus,
        dict(reversed(list(rfc_jwk(RFC7515_A3).items()))),
        note="same key as nonce-slash-plus-rfc7515, members written y, x, alg, crv, kty",
    )
    vector(
        "additional-evidence-string",
        slash_plus,
        rfc_jwk(RFC7515_A3),
        additional_evidence='{"nvidia":["gpu",{"evidence":"a/b+c=","certificate":"x\\ny"}]}',
        note="additional evidence is hashed as the JSON string it is sent as",
    )
    vector(
        "json-nonce",
        '{\n  "image_id": "abc",\n  "nonce": "a\\"b",\n\t"tab": "\t"\n}',
        generated,
        note="SE sends JSON text as the nonce: any string must work",
    )
    vector("unicode-nonce", "nöncé € 😀", generated)
    assert vectors[0]["report_data"] == vectors[5]["report_data"]
    return vectors


def main():
    document = {
        "comment": "Generated by make-reportdata-vectors.py; do not edit.",
        "jcs": jcs_vectors(),
        "report_data": report_data_vectors(),
    }
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
