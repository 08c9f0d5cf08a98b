#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A KBS client for testing devgate-kbs, written from the protocol (Trustee's RCAR 0.4.0) with
nothing but the Python standard library, plus jose (latchset) to decrypt what the server
encrypts: the happy path with "sample" evidence, then every bad input the server must answer
with the right 4xx while it keeps serving. TAP on stdout.

usage: kbs-server-client.py WORKDIR
WORKDIR holds what test-kbs-server.sh made: ca.pem, key.jwk, resources/, reference.json, the
software AKs ak.key (registered) and other-ak.key (not), the servers' port files (port-main:
--insecure-sample; port-strict: without it; port-small: --session-max 3, --session-ttl 2,
--connection-timeout 2; port-slow: --request-timeout 3, --connection-timeout 10) and their logs
(main.log, ...).
"""
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time

WORK = sys.argv[1]
ERRORS = "https://github.com/confidential-containers/kbs/errors/"
COOKIE_RE = re.compile(r"^kbs-session-id=([0-9a-f]{32}); Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} "
                       r"\d{4} \d\d:\d\d:\d\d GMT$")
RESOURCE = "default/devgate-policy/cc-default"

tests = 0
failures = 0


def port(name):
    with open(os.path.join(WORK, "port-" + name)) as f:
        return int(f.read())


CONTEXT = ssl.create_default_context(cafile=os.path.join(WORK, "ca.pem"))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def problem(self):
        """The RFC 7807 error's name and detail, or (None, body) if it is not one."""
        try:
            p = self.json()
            if set(p) == {"type", "detail"} and p["type"].startswith(ERRORS):
                return p["type"][len(ERRORS):], p["detail"]
        except (ValueError, AttributeError):
            pass
        return None, self.body

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.body[:300])


def request(server, method, path, body=None, cookie=None, headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port(server), context=CONTEXT, timeout=10)
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = "kbs-session-id=" + cookie
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()


def raw_request(server, data, wait=10):
    """Sends bytes as they are (what http.client refuses to send) and returns the answer."""
    with socket.create_connection(("127.0.0.1", port(server)), timeout=wait) as s:
        with CONTEXT.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            tls.sendall(data)
            out = b""
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except (ConnectionError, ssl.SSLError, socket.timeout):
                pass
    return out


def ok(cond, name, diag=None):
    global tests, failures
    tests += 1
    if cond:
        print("ok %d - %s" % (tests, name))
    else:
        failures += 1
        print("not ok %d - %s" % (tests, name))
        if diag is not None:
            for line in str(diag).splitlines() or [""]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def expect_problem(r, status, name, detail_re, test):
    got_name, detail = r.problem()
    return ok(r.status == status and got_name == name and re.search(detail_re, str(detail)),
              "%s: %d %s" % (test, status, name), r)


def alive(server="main"):
    r = request(server, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tpm",
                                                  "extra-params": ""})
    return r.status == 200


def check_alive(test, server="main"):
    ok(alive(server), "%s: the server still answers" % test)


# The guest's key: made by jose, so that jose can decrypt what the server encrypts to it.
with open(os.path.join(WORK, "key.jwk")) as f:
    PRIVATE_JWK = json.load(f)
TEE_PUBKEY = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
              "x": PRIVATE_JWK["x"], "y": PRIVATE_JWK["y"]}


def report_data(nonce, tee_pubkey=TEE_PUBKEY):
    """SHA-384 of the runtime data in RFC 8785 form, which for these ASCII strings is what
    json.dumps writes with sorted keys and no blanks."""
    runtime = {"additional-evidence": "", "nonce": nonce, "tee-pubkey": tee_pubkey}
    text = json.dumps(runtime, sort_keys=True, separators=(",", ":"))
    return hashlib.sha384(text.encode()).digest()


def sample_attestation(nonce, tee_pubkey=TEE_PUBKEY, evidence_nonce=None):
    rd = report_data(evidence_nonce or nonce, tee_pubkey)
    return {
        "runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey},
        "tee-evidence": {
            "primary_evidence": {"svn": "1", "report_data": base64.b64encode(rd).decode()},
            "additional_evidence": "",
        },
    }


def auth(server="main", tee="sample"):
    r = request(server, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": tee,
                                                  "extra-params": ""})
    if r.status != 200:
        return None, None, r
    m = COOKIE_RE.match(r.headers.get("Set-Cookie", ""))
    return (m.group(1) if m else None), r.json().get("nonce"), r


def attested_session(server="main"):
    session, nonce, _ = auth(server)
    r = request(server, "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    return session if r.status == 200 else None


# TPM evidence in Trustee's format (attest/tpm-quote.h), made here from the TPM 2.0 structures
# and signed with a software AK by openssl: the verifier cannot tell it from a TPM's.
TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018
TPM_ALG_SHA256 = 0x000B
TPM_ALG_RSASSA = 0x0014


def reference_pcrs(name):
    """The 24 PCRs of a guest matching reference set NAME (other PCRs: zeros)."""
    with open(os.path.join(WORK, "reference.json")) as f:
        sets = json.load(f)["sets"]
    pcrs = [bytes(32)] * 24
    for index, values in sets[name]["pcrs"].items():
        pcrs[int(index)] = bytes.fromhex(values[-1])
    return pcrs


def ak_der(key):
    return subprocess.run(["openssl", "pkey", "-in", os.path.join(WORK, key), "-pubout",
                           "-outform", "DER"], capture_output=True, check=True).stdout


def tpm_evidence(report, pcrs, key="ak.key", signer=None, digest_pcrs=None):
    rd = report + bytes(64 - len(report))
    pcr_digest = hashlib.sha256(b"".join(digest_pcrs or pcrs)).digest()
    name = TPM_ALG_SHA256.to_bytes(2, "big") + hashlib.sha256(b"ak").digest()
    message = (TPM_GENERATED_VALUE.to_bytes(4, "big") + TPM_ST_ATTEST_QUOTE.to_bytes(2, "big") +
               len(name).to_bytes(2, "big") + name +
               len(rd).to_bytes(2, "big") + rd +
               (1234).to_bytes(8, "big") + (1).to_bytes(4, "big") + (0).to_bytes(4, "big") +
               b"\x01" + (0x20240101).to_bytes(8, "big") +
               (1).to_bytes(4, "big") + TPM_ALG_SHA256.to_bytes(2, "big") + b"\x03\xff\xff\xff" +
               len(pcr_digest).to_bytes(2, "big") + pcr_digest)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign",
                          os.path.join(WORK, signer or key)],
                         input=message, capture_output=True, check=True).stdout
    signature = (TPM_ALG_RSASSA.to_bytes(2, "big") + TPM_ALG_SHA256.to_bytes(2, "big") +
                 len(sig).to_bytes(2, "big") + sig)
    return {
        "ak_public": base64.b64encode(ak_der(key)).decode(),
        "report_data": base64.b64encode(rd).decode(),
        "tpm_quote": {
            "message": base64.b64encode(message).decode(),
            "pcrs": [p.hex() for p in pcrs],
            "signature": base64.b64encode(signature).decode(),
        },
    }


def tpm_attestation(nonce, pcrs, **kwargs):
    return {
        "runtime-data": {"nonce": nonce, "tee-pubkey": TEE_PUBKEY},
        "tee-evidence": {"primary_evidence": tpm_evidence(report_data(nonce), pcrs, **kwargs),
                         "additional_evidence": ""},
    }


def tpm_session(pcrs, server="main", **kwargs):
    session, nonce, _ = auth(server, tee="tpm")
    r = request(server, "POST", "/kbs/v0/attest", tpm_attestation(nonce, pcrs, **kwargs),
                cookie=session)
    return session, r


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jose_decrypt(jwe_bytes):
    path = os.path.join(WORK, "resp.jwe")
    with open(path, "wb") as f:
        f.write(jwe_bytes)
    p = subprocess.run(["jose", "jwe", "dec", "-i", path, "-k", os.path.join(WORK, "key.jwk")],
                       capture_output=True)
    return p.returncode, p.stdout, p.stderr


def test_happy_path():
    session, nonce, r = auth()
    ok(r.status == 200 and r.headers.get("Content-Type") == "application/json",
       "auth: 200 application/json", r)
    ok(session is not None, "auth: Set-Cookie kbs-session-id=<32 hex>; Expires=<date>",
       r.headers.get("Set-Cookie"))
    body = r.json()
    ok(set(body) == {"nonce", "extra-params"} and body["extra-params"] == "",
       "auth: body is {nonce, extra-params: \"\"}", body)
    ok(len(base64.b64decode(nonce, validate=True)) == 32 and len(nonce) == 44,
       "auth: nonce is the standard base64 of 32 bytes", nonce)
    other, other_nonce, _ = auth()
    ok(other != session and other_nonce != nonce, "auth: each session its own id and nonce")

    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    ok(r.status == 200, "attest: 200", r)
    token = r.json().get("token", "") if r.status == 200 else ""
    parts = token.split(".")
    good = len(parts) == 3
    if good:
        header, claims = b64url_json(parts[0]), b64url_json(parts[1])
        good = (header.get("alg") == "ES256" and claims.get("tee") == "sample" and
                claims.get("exp", 0) > time.time() and
                len(base64.urlsafe_b64decode(parts[2] + "==")) == 64)
    ok(good, "attest: token is an ES256 JWT for tee sample with exp", token)

    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    ok(r.status == 200 and r.headers.get("Content-Type") == "application/json",
       "resource: 200 application/json", r)
    jwe = r.json() if r.status == 200 else {}
    ok(set(jwe) == {"protected", "encrypted_key", "iv", "ciphertext", "tag"},
       "resource: flattened JWE", jwe)
    protected = b64url_json(jwe.get("protected", "e30"))
    ok(protected.get("alg") == "ECDH-ES+A256KW" and protected.get("enc") == "A256GCM",
       "resource: ECDH-ES+A256KW / A256GCM", protected)
    with open(os.path.join(WORK, "resources", RESOURCE), "rb") as f:
        expected = f.read()
    rc, out, err = jose_decrypt(r.body)
    ok(rc == 0 and out == expected, "resource: jose decrypts it to exactly the file's bytes",
       err.decode(errors="replace") or out[:200])

    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    rc, out, _ = jose_decrypt(r.body)
    ok(r.status == 200 and rc == 0 and out == expected,
       "resource: an attested session fetches again")
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/empty", cookie=session)
    rc, out, _ = jose_decrypt(r.body)
    ok(r.status == 200 and rc == 0 and out == b"", "resource: an empty file", r)


def test_bad_auth():
    t = "auth with malformed JSON"
    r = request("main", "POST", "/kbs/v0/auth", '{"version": "0.4.0", "tee": ')
    expect_problem(r, 401, "AttestationError", r"not valid JSON", t)
    check_alive(t)

    t = "auth with a duplicate key"
    r = request("main", "POST", "/kbs/v0/auth",
                '{"version":"0.4.0","tee":"sample","tee":"tpm","extra-params":""}')
    expect_problem(r, 401, "AttestationError", r"same key twice", t)

    t = "auth with an array"
    r = request("main", "POST", "/kbs/v0/auth", "[]")
    expect_problem(r, 401, "AttestationError", r"not an object", t)

    t = "auth without a body"
    r = request("main", "POST", "/kbs/v0/auth", "")
    expect_problem(r, 401, "AttestationError", r"empty request body", t)

    t = "auth with an unknown member"
    r = request("main", "POST", "/kbs/v0/auth",
                {"version": "0.4.0", "tee": "sample", "extra-params": "", "admin": True})
    expect_problem(r, 401, "AttestationError", r'unknown member "admin"', t)

    t = "auth with the wrong version"
    r = request("main", "POST", "/kbs/v0/auth",
                {"version": "0.3.0", "tee": "sample", "extra-params": ""})
    expect_problem(r, 401, "AttestationError", r"Version Mismatch: expect =0\.4\.0 .*0\.3\.0", t)
    ok("Set-Cookie" not in r.headers, "%s: no session cookie" % t)
    check_alive(t)

    t = "auth with an unknown TEE"
    r = request("main", "POST", "/kbs/v0/auth",
                {"version": "0.4.0", "tee": "quantum", "extra-params": ""})
    expect_problem(r, 401, "AttestationError", r'unknown TEE "quantum"', t)
    check_alive(t)

    t = "auth with a TEE devgate-kbs does not verify"
    r = request("main", "POST", "/kbs/v0/auth",
                {"version": "0.4.0", "tee": "tdx", "extra-params": ""})
    expect_problem(r, 401, "AttestationError", r'"tdx" is not supported', t)

    t = "auth with extra-params {} and none at all"
    r1 = request("main", "POST", "/kbs/v0/auth",
                 {"version": "0.4.0", "tee": "sample", "extra-params": {}})
    r2 = request("main", "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "sample"})
    ok(r1.status == 200 and r2.status == 200, t, (r1, r2))

    t = "sample refused without --insecure-sample"
    r = request("strict", "POST", "/kbs/v0/auth",
                {"version": "0.4.0", "tee": "sample", "extra-params": ""})
    expect_problem(r, 401, "AttestationError", r"--insecure-sample", t)
    check_alive(t, "strict")

    t = "wrong method"
    r = request("main", "GET", "/kbs/v0/auth")
    ok(r.status == 405 and r.headers.get("Allow") == "POST", "%s: 405 Allow: POST" % t, r)
    r = request("main", "POST", "/kbs/v0/resource/" + RESOURCE, "{}")
    ok(r.status == 405 and r.headers.get("Allow") == "GET", "%s: 405 Allow: GET" % t, r)

    t = "unknown endpoint"
    r = request("main", "GET", "/kbs/v0/secret")
    expect_problem(r, 404, "InvalidRequestPath", r"serves", t)
    r = request("main", "GET", "/")
    expect_problem(r, 404, "InvalidRequestPath", r"serves", t + " (/)")


def test_bad_attest():
    t = "attest without auth"
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation("AAAA"))
    expect_problem(r, 401, "AttestationError", r"no kbs-session-id cookie", t)
    check_alive(t)

    t = "attest with an unknown session"
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation("AAAA"), cookie="0" * 32)
    expect_problem(r, 401, "AttestationError", r"unknown session", t)
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation("AAAA"),
                cookie="../../etc/passwd")
    expect_problem(r, 401, "AttestationError", r"unknown session", t + " (not an id)")

    t = "attest with malformed JSON"
    session, nonce, _ = auth()
    r = request("main", "POST", "/kbs/v0/attest", '{"runtime-data": [', cookie=session)
    expect_problem(r, 401, "AttestationError", r"not valid JSON", t)
    check_alive(t)
    t = "attest after a failed attempt (the nonce is spent)"
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"used already", t)

    t = "reused nonce"
    session, nonce, _ = auth()
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    ok(r.status == 200, "%s: first attest 200" % t, r)
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"used already", t)
    check_alive(t)

    t = "nonce of another session"
    session_a, nonce_a, _ = auth()
    session_b, nonce_b, _ = auth()
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce_b), cookie=session_a)
    expect_problem(r, 401, "AttestationError", r"not the one this session was given", t)
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce_a), cookie=session_b)
    expect_problem(r, 401, "AttestationError", r"not the one", t + " (the other way)")
    check_alive(t)

    t = "evidence bound to another nonce"
    session, nonce, _ = auth()
    _, other_nonce, _ = auth()
    r = request("main", "POST", "/kbs/v0/attest",
                sample_attestation(nonce, evidence_nonce=other_nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"does not bind", t)

    t = "evidence bound to another key"
    session, nonce, _ = auth()
    body = sample_attestation(nonce)
    other_key = dict(TEE_PUBKEY, x=TEE_PUBKEY["y"], y=TEE_PUBKEY["x"])
    body["tee-evidence"]["primary_evidence"]["report_data"] = base64.b64encode(
        report_data(nonce, other_key)).decode()
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session)
    expect_problem(r, 401, "AttestationError", r"does not bind", t)

    t = "padded report data for sample"
    session, nonce, _ = auth()
    body = sample_attestation(nonce)
    body["tee-evidence"]["primary_evidence"]["report_data"] = base64.b64encode(
        report_data(nonce) + bytes(16)).decode()
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session)
    expect_problem(r, 401, "AttestationError", r"base64 of 48 bytes", t)

    t = "tee-pubkey with a private part"
    session, nonce, _ = auth()
    key = dict(TEE_PUBKEY, d=PRIVATE_JWK["d"])
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce, key), cookie=session)
    expect_problem(r, 401, "AttestationError", r"tee-pubkey", t)

    t = "tee-pubkey off the curve"
    session, nonce, _ = auth()
    key = dict(TEE_PUBKEY, x=base64.urlsafe_b64encode(bytes(31) + b"\x01").decode().rstrip("="))
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce, key), cookie=session)
    expect_problem(r, 401, "AttestationError", r"tee-pubkey", t)

    t = "additional evidence"
    session, nonce, _ = auth()
    body = sample_attestation(nonce)
    body["tee-evidence"]["additional_evidence"] = '{"sample":{}}'
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session)
    expect_problem(r, 401, "AttestationError", r"additional_evidence", t)

    t = "tpm evidence that is not"
    session, nonce, _ = auth(tee="tpm")
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"verify TEE evidence failed", t)
    check_alive(t)


def test_tpm():
    t = "tpm: evidence matching known-good"
    session, r = tpm_session(reference_pcrs("known-good"))
    ok(r.status == 200, "%s: attested" % t, r)
    claims = b64url_json(r.json()["token"].split(".")[1]) if r.status == 200 else {}
    ak_id = hashlib.sha256(ak_der("ak.key")).hexdigest()
    ok(claims.get("tee") == "tpm" and claims.get("ak") == ak_id and
       claims.get("reference") == ["known-good"], "%s: token names tee, AK and set" % t, claims)
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/tpm-only",
                cookie=session)
    rc, out, _ = jose_decrypt(r.body)
    ok(r.status == 200 and rc == 0 and out == b"tpm\n",
       "%s: the resource granted to this AK and set" % t, r)
    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    expect_problem(r, 403, "PolicyDeny", r"no access rule allows", t + ": nothing else")

    t = "tpm: evidence matching fw-b"
    session, r = tpm_session(reference_pcrs("fw-b"))
    ok(r.status == 200, "%s: attested" % t, r)
    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    ok(r.status == 200, "%s: the resource granted to fw-b" % t, r)
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/tpm-only",
                cookie=session)
    expect_problem(r, 403, "PolicyDeny", r"access rule 2 denies", t + ": not tpm-only")

    t = "tpm: a sample session does not get what tpm sessions get"
    session = attested_session()
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/tpm-only",
                cookie=session)
    expect_problem(r, 403, "PolicyDeny", r"denies", t)

    t = "tpm: PCR mismatch"
    pcrs = reference_pcrs("known-good")
    pcrs[7] = hashlib.sha256(b"evil").digest()
    session, r = tpm_session(pcrs)
    expect_problem(r, 401, "AttestationError",
                   r'match no reference set: "known-good": PCR 7, "fw-b": PCR 0', t)
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/tpm-only",
                cookie=session)
    expect_problem(r, 401, "TokenNotFound", r"not attested", t + ": no resource")
    check_alive(t)

    t = "tpm: PCR values that are not the quoted ones"
    good = reference_pcrs("known-good")
    session, r = tpm_session(good, digest_pcrs=[bytes(32)] * 24)
    expect_problem(r, 401, "AttestationError", r"pcrDigest", t)

    t = "tpm: an unregistered AK"
    session, r = tpm_session(reference_pcrs("known-good"), key="other-ak.key")
    expect_problem(r, 401, "AttestationError", r"is not registered", t)
    check_alive(t)

    t = "tpm: signed by another key than ak_public"
    session, r = tpm_session(reference_pcrs("known-good"), signer="other-ak.key")
    expect_problem(r, 401, "AttestationError", r"verify TEE evidence failed", t)

    t = "tpm: a quote for another session"
    session, nonce, _ = auth(tee="tpm")
    _, other_nonce, _ = auth(tee="tpm")
    body = tpm_attestation(nonce, reference_pcrs("known-good"))
    body["tee-evidence"]["primary_evidence"] = tpm_evidence(report_data(other_nonce),
                                                            reference_pcrs("known-good"))
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session)
    expect_problem(r, 401, "AttestationError", r"not the report data of this session", t)

    t = "tpm: the same quote replayed on a new session"
    session, nonce, _ = auth(tee="tpm")
    body = tpm_attestation(nonce, reference_pcrs("known-good"))
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session)
    ok(r.status == 200, "%s: first use attested" % t, r)
    session2, nonce2, _ = auth(tee="tpm")
    body["runtime-data"]["nonce"] = nonce2
    r = request("main", "POST", "/kbs/v0/attest", body, cookie=session2)
    expect_problem(r, 401, "AttestationError", r"report data", t)

    t = "tpm: sample evidence on a tpm session"
    session, nonce, _ = auth(tee="tpm")
    r = request("main", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"verify TEE evidence failed", t)

    t = "tpm: without --insecure-sample"
    session, r = tpm_session(reference_pcrs("known-good"), server="strict")
    ok(r.status == 200, "%s: tpm attests on the strict server" % t, r)
    check_alive(t, "strict")


def test_oversized():
    t = "oversized body (Content-Length)"
    # The server answers 413 as soon as it has the headers and closes without reading the
    # body: whether the client still reads the answer or first fails to write the rest of
    # the body is a race on the client's side. Either way the server must have answered
    # 413, which its log says.
    with open(os.path.join(WORK, "main.log"), errors="replace") as f:
        answered_before = f.read().count(" path=/kbs/v0/auth session=- status=413 ")
    try:
        r = request("main", "POST", "/kbs/v0/auth", "x" * (64 * 1024 + 1))
        name, detail = r.problem()
        read = bool(r.status == 413 and name == "PayloadTooLarge" and
                    re.search(r"larger than 65536", str(detail)))
        seen = r
    except (ssl.SSLError, ConnectionError) as e:
        read, seen = None, "connection closed before the body was all written: %s" % e
    time.sleep(0.2)
    with open(os.path.join(WORK, "main.log"), errors="replace") as f:
        answered = f.read().count(" path=/kbs/v0/auth session=- status=413 ")
    ok(read is not False and answered == answered_before + 1,
       "%s: 413 PayloadTooLarge, logged" % t, seen)
    check_alive(t)

    t = "oversized body announced, not sent"
    out = raw_request("main", b"POST /kbs/v0/attest HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 1000000000\r\n\r\n")
    ok(out.startswith(b"HTTP/1.1 413"), "%s: 413 before reading it" % t, out[:200])
    check_alive(t)

    t = "oversized chunked body"
    chunk = b"x" * 16384
    data = (b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            (b"4000\r\n" + chunk + b"\r\n") * 5 + b"0\r\n\r\n")
    out = raw_request("main", data)
    ok(b"200 OK" not in out, "%s: refused (the connection is closed)" % t, out[:200])
    check_alive(t)

    t = "body of exactly the limit"
    body = json.dumps({"version": "0.4.0", "tee": "sample", "extra-params": ""})
    body += " " * (64 * 1024 - len(body))
    r = request("main", "POST", "/kbs/v0/auth", body)
    ok(r.status == 200, "%s: read" % t, r)


def test_resources():
    t = "resource before attest"
    session, _, _ = auth()
    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    expect_problem(r, 401, "TokenNotFound", r"not attested", t)
    check_alive(t)

    t = "resource without a session"
    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE)
    expect_problem(r, 401, "TokenNotFound", r"no kbs-session-id cookie", t)
    r = request("main", "GET", "/kbs/v0/resource/" + RESOURCE, cookie="f" * 32)
    expect_problem(r, 401, "TokenNotFound", r"unknown session", t + " (unknown id)")

    session = attested_session()
    ok(session is not None, "an attested session for the resource tests")

    t = "access denied"
    r = request("main", "GET", "/kbs/v0/resource/other/devgate-policy/cc-default",
                cookie=session)
    expect_problem(r, 403, "PolicyDeny", r"no access rule allows", t)
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/denied", cookie=session)
    expect_problem(r, 403, "PolicyDeny", r"access rule 0 denies", t + " (deny rule)")
    check_alive(t)

    t = "missing resource"
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/nothing-here",
                cookie=session)
    expect_problem(r, 404, "ResourceNotFound", r"not found", t)
    r = request("main", "GET", "/kbs/v0/resource/default/nothing/cc-default", cookie=session)
    expect_problem(r, 404, "ResourceNotFound", r"not found", t + " (directory)")
    check_alive(t)

    t = "symlink resource"
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/link", cookie=session)
    expect_problem(r, 404, "ResourceNotFound", r"not found", t)
    t = "directory as resource"
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/subdir", cookie=session)
    expect_problem(r, 404, "ResourceNotFound", r"not found", t)

    for t, path in [
        ("path traversal ../", "/kbs/v0/resource/../../../etc/passwd"),
        ("path traversal ..", "/kbs/v0/resource/default/devgate-policy/.."),
        ("path traversal .", "/kbs/v0/resource/default/./cc-default"),
        ("path traversal %2e%2e", "/kbs/v0/resource/%2e%2e/%2e%2e/passwd"),
        ("path traversal %2f", "/kbs/v0/resource/default/devgate-policy%2fcc-default/x"),
        ("percent-encoded name", "/kbs/v0/resource/default/devgate-policy/cc%2ddefault"),
        ("absolute path", "/kbs/v0/resource//etc/passwd/x"),
        ("NUL byte %00", "/kbs/v0/resource/default/devgate-policy/cc-default%00.x"),
        ("four parts", "/kbs/v0/resource/default/devgate-policy/cc-default/x"),
        ("two parts", "/kbs/v0/resource/default/cc-default"),
        ("trailing slash", "/kbs/v0/resource/default/devgate-policy/cc-default/"),
        ("backslash", "/kbs/v0/resource/default/devgate-policy/..\\..\\x"),
    ]:
        r = request("main", "GET", path, cookie=session)
        expect_problem(r, 404, "InvalidRequestPath", r"invalid", t)
    check_alive("path traversal")

    t = "raw NUL byte in the path"
    out = raw_request("main", b"GET /kbs/v0/resource/default/devgate-policy/cc-default\x00/../x"
                              b" HTTP/1.1\r\nHost: x\r\nCookie: kbs-session-id=" +
                      session.encode() + b"\r\nConnection: close\r\n\r\n")
    status = out.split(b"\r\n", 1)[0]
    ok(re.match(rb"HTTP/1\.[01] 4\d\d", status) is not None, "%s: 4xx" % t, out[:300])
    check_alive(t)

    t = "raw .. in the request line"
    out = raw_request("main", b"GET /kbs/v0/resource/default/../../etc HTTP/1.1\r\nHost: x\r\n"
                              b"Cookie: kbs-session-id=" + session.encode() +
                      b"\r\nConnection: close\r\n\r\n")
    ok(out.startswith(b"HTTP/1.1 404"), "%s: 404" % t, out[:300])


def test_sessions():
    t = "session cap: the oldest session is evicted"
    first, first_nonce, _ = auth("small")
    later = [auth("small") for _ in range(3)]
    r = request("small", "POST", "/kbs/v0/attest", sample_attestation(first_nonce), cookie=first)
    expect_problem(r, 401, "AttestationError", r"unknown session", t)
    session, nonce, _ = later[-1]
    r = request("small", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    ok(r.status == 200, "%s: the newest session still attests" % t, r)
    check_alive(t, "small")

    t = "session flood"
    for _ in range(50):
        auth("small")
    r = request("small", "GET", "/kbs/v0/resource/" + RESOURCE, cookie=session)
    expect_problem(r, 401, "TokenNotFound", r"unknown session", t + ": attested session evicted")
    check_alive(t, "small")

    t = "session expiry"
    session, nonce, _ = auth("small")
    time.sleep(2.5)
    r = request("small", "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    expect_problem(r, 401, "AttestationError", r"expired|unknown session", t)

    t = "slow client (connection timeout)"
    with socket.create_connection(("127.0.0.1", port("small")), timeout=10) as s:
        with CONTEXT.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            try:
                closed = tls.recv(1) == b""
            except (ConnectionError, ssl.SSLError, socket.timeout) as e:
                closed = not isinstance(e, socket.timeout)
            elapsed = time.monotonic() - start
    ok(closed and elapsed < 8, "%s: closed after %.1f s" % (t, elapsed))
    check_alive(t, "small")


def bearer(token, scheme="Bearer"):
    return {"Authorization": "%s %s" % (scheme, token)}


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def attested_token(server="main"):
    session, nonce, _ = auth(server)
    r = request(server, "POST", "/kbs/v0/attest", sample_attestation(nonce), cookie=session)
    return session, (r.json()["token"] if r.status == 200 else "")


def test_bearer():
    with open(os.path.join(WORK, "resources", RESOURCE), "rb") as f:
        expected = f.read()
    path = "/kbs/v0/resource/" + RESOURCE

    t = "Bearer token instead of the cookie"
    session, token = attested_token()
    r = request("main", "GET", path, headers=bearer(token))
    rc, out, err = jose_decrypt(r.body)
    ok(r.status == 200 and rc == 0 and out == expected,
       "%s: served, encrypted to the session's tee-pubkey" % t, r)
    claims = b64url_json(token.split(".")[1]) if token else {}
    ok(claims.get("sid") == session, "%s: the token names its session" % t, claims)
    r = request("main", "GET", path, headers=bearer(token, "bearer"))
    ok(r.status == 200, "%s: the scheme in any case" % t, r)
    r = request("main", "GET", path, cookie="0" * 32, headers=bearer(token))
    ok(r.status == 200, "%s: the token wins over another cookie" % t, r)

    t = "Bearer token: access rules still apply"
    r = request("main", "GET", "/kbs/v0/resource/default/devgate-policy/tpm-only",
                headers=bearer(token))
    expect_problem(r, 403, "PolicyDeny", r"denies", t)

    t = "Bearer token with altered claims"
    other, _ = attested_token()
    h, c, sig = token.split(".")
    forged = dict(claims, sid=other)
    r = request("main", "GET", path,
                headers=bearer(".".join([h, b64url(json.dumps(forged).encode()), sig])))
    expect_problem(r, 401, "TokenNotFound", r"signature does not verify", t)

    t = "Bearer token with alg none"
    none = b64url(b'{"alg":"none","typ":"JWT"}')
    r = request("main", "GET", path, headers=bearer(".".join([none, c, ""])))
    expect_problem(r, 401, "TokenNotFound", r"header is not", t)
    r = request("main", "GET", path, headers=bearer(".".join([none, c, sig])))
    expect_problem(r, 401, "TokenNotFound", r"header is not", t + " and a signature")

    t = "Bearer token of another server"
    _, r = tpm_session(reference_pcrs("known-good"), server="strict")
    strict_token = r.json().get("token", "") if r.status == 200 else ""
    r = request("main", "GET", path, headers=bearer(strict_token))
    expect_problem(r, 401, "TokenNotFound", r"signature does not verify", t)

    t = "a bad Bearer token and a good cookie"
    r = request("main", "GET", path, cookie=session, headers=bearer(token[:-4] + "AAAA"))
    expect_problem(r, 401, "TokenNotFound", r"not valid", t + ": the token decides")

    for t, value in [("garbage", "Bearer abc"), ("empty", "Bearer "),
                     ("two parts", "Bearer a.b"), ("four parts", "Bearer a.b.c.d"),
                     ("Basic", "Basic dXNlcjpwdw=="),
                     ("too long", "Bearer " + "a" * 5000 + ".b.c")]:
        r = request("main", "GET", path, headers={"Authorization": value})
        expect_problem(r, 401, "TokenNotFound", r"not valid", "Authorization: %s" % t)
    check_alive("bad Authorization headers")

    t = "Bearer token of an evicted session"
    _, token = attested_token("small")
    for _ in range(4):
        auth("small")
    r = request("small", "GET", path, headers=bearer(token))
    expect_problem(r, 401, "TokenNotFound", r"unknown session", t)

    t = "Bearer token past its exp"
    _, token = attested_token("small")
    time.sleep(2.5)
    r = request("small", "GET", path, headers=bearer(token))
    expect_problem(r, 401, "TokenNotFound", r"token expired", t)

    with open(os.path.join(WORK, "main.log"), errors="replace") as f:
        log = f.read()
    ok(" session=%s status=200 verdict=served " % session in log,
       "Bearer token: the log names the token's session")


def trickle(server, head, body, seconds):
    """Sends head at once, then body one byte a second, for at most `seconds`, checking that
    another client is served meanwhile. Returns (seconds until the server closed the
    connection or None, bytes of body sent, whether the other client was served)."""
    served = False
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port(server)), timeout=10) as s:
        with CONTEXT.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            tls.sendall(head)
            for sent in range(len(body)):
                if time.monotonic() - start > seconds:
                    return None, sent, served
                try:
                    tls.sendall(body[sent:sent + 1])
                    # Waits a second for an answer the server should not give: the pause
                    # between two bytes, and how a close shows.
                    tls.settimeout(1.0)
                    closed = tls.recv(1) == b""
                except socket.timeout:
                    closed = False
                except (ConnectionError, ssl.SSLError):
                    closed = True
                if closed:
                    return time.monotonic() - start, sent, served
                if sent == 1:
                    served = alive(server)
    return None, len(body), served


def test_slow_clients():
    body = json.dumps({"version": "0.4.0", "tee": "sample", "extra-params": ""}).encode()

    t = "slow body, a byte a second (request timeout 3 s)"
    head = (b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    closed, sent, served = trickle("slow", head, body, 15)
    ok(closed is not None and 2.5 <= closed <= 6 and sent < len(body),
       "%s: cut off after %s s, %d of %d bytes sent" % (
           t, "%.1f" % closed if closed else "no", sent, len(body)))
    ok(served, "%s: another client is served meanwhile" % t)
    check_alive(t, "slow")

    t = "slow headers, a byte a second"
    closed, sent, served = trickle("slow", b"", b"POST /kbs/v0/auth HTTP/1.1\r\nHost: " +
                                   b"x" * 40, 15)
    ok(closed is not None and 2.5 <= closed <= 6,
       "%s: cut off after %s s, before the idle timeout (10 s)" % (
           t, "%.1f" % closed if closed else "no"))
    ok(served, "%s: another client is served meanwhile" % t)

    t = "a kept-alive connection slower than the timeout in all"
    conn = http.client.HTTPSConnection("127.0.0.1", port("slow"), context=CONTEXT, timeout=10)
    statuses = []
    try:
        for _ in range(3):
            conn.request("POST", "/kbs/v0/auth", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            statuses.append(r.status)
            time.sleep(1.5)
    except (OSError, http.client.HTTPException) as e:
        statuses.append(repr(e))
    finally:
        conn.close()
    ok(statuses == [200, 200, 200],
       "%s: each request has its own deadline" % t, statuses)

    with open(os.path.join(WORK, "slow.log"), errors="replace") as f:
        log = f.read()
    ok(log.count(" status=408 verdict=timeout reason=\"no complete request within 3 s, "
                 "connection closed\"") == 2,
       "slow clients: each cut-off is logged once", log[-2000:])


def test_log():
    with open(os.path.join(WORK, "main.log"), errors="replace") as f:
        lines = [l for l in f if l.startswith("devgate-kbs: client=")]
    line_re = re.compile(r'^devgate-kbs: client=127\.0\.0\.1 method=(GET|POST) path=\S+ '
                         r'session=([0-9a-f]{32}|-) status=\d{3} verdict=[a-z-]+ reason="'
                         r'([^"\\]|\\x[0-9a-f]{2})*"$')
    bad = [l for l in lines if not line_re.match(l.rstrip("\n"))]
    ok(lines and not bad, "log: one well-formed line per request (%d lines)" % len(lines),
       "".join(bad[:5]))
    ok(any(" status=200 verdict=attested " in l for l in lines), "log: an attested verdict")
    ok(any(" status=403 verdict=denied " in l for l in lines), "log: a denied verdict")
    ok(all("\x00" not in l for l in lines), "log: no raw control characters")


def main():
    for test in [test_happy_path, test_bad_auth, test_bad_attest, test_tpm, test_oversized,
                 test_resources, test_sessions, test_bearer, test_slow_clients, test_log]:
        print("# " + test.__name__)
        try:
            test()
        except Exception as e:  # a crash of the client or the server must show as a failure
            ok(False, "%s raised %s: %s" % (test.__name__, type(e).__name__, e))
    print("1..%d" % tests)
    return 1 if failures else 0


sys.exit(main())
