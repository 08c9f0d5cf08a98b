#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One KBS attestation with evidence made by tpm2-tools, for test-kbs-tpm2-tools.sh: nothing of
devgate's on the client side. Python's standard library speaks the protocol (Trustee RCAR
0.4.0), tpm2_quote makes the quote with the AK tpm2_createak made, and the evidence is laid
out in Trustee's "tpm" JSON as guest-components' attester does.

usage: kbs-tpm2-tools-client.py URL CA_PEM KEY_JWK AK_CTX AK_DER RESOURCE [options]
  --tamper-pcr N   after quoting, change PCR N's value in the evidence (the quote stays)
  --bearer         fetch the resource with "Authorization: Bearer TOKEN" and no cookie
  --out FILE       where the resource's body goes (default resource.jwe)

The TPM is the one $TPM2TOOLS_TCTI names. Prints one line per step: "auth STATUS",
"attest STATUS PROBLEM-NAME DETAIL", "resource STATUS PROBLEM-NAME DETAIL"; the resource
step only follows an attest answered 200. Exits 0 when every step got an HTTP answer (any
status), 1 otherwise.
"""
import argparse
import base64
import hashlib
import http.client
import json
import re
import ssl
import subprocess
import sys
import urllib.parse

ERRORS = "https://github.com/confidential-containers/kbs/errors/"


def parse_args():
    p = argparse.ArgumentParser()
    for name in ["url", "ca", "key", "ak_ctx", "ak_der", "resource"]:
        p.add_argument(name)
    p.add_argument("--tamper-pcr", type=int)
    p.add_argument("--bearer", action="store_true")
    p.add_argument("--out", default="resource.jwe")
    return p.parse_args()


class Kbs:
    """One TLS connection for the three requests, as devgate's client and Trustee's use."""

    def __init__(self, url, ca):
        u = urllib.parse.urlsplit(url)
        context = ssl.create_default_context(cafile=ca)
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=context, timeout=30)
        self.cookie = None

    def request(self, method, path, body=None, cookie=True, headers=None):
        h = dict(headers or {})
        if cookie and self.cookie:
            h["Cookie"] = "kbs-session-id=" + self.cookie
        if body is not None:
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        m = re.match(r"kbs-session-id=([0-9a-f]+);", r.headers.get("Set-Cookie", ""))
        if m:
            self.cookie = m.group(1)
        return r.status, data


def problem(data):
    try:
        p = json.loads(data)
        return p["type"][len(ERRORS):], p["detail"]
    except (ValueError, KeyError, TypeError):
        return "-", ""


def report_data(nonce, tee_pubkey):
    """SHA-384 of the runtime data in RFC 8785 form (for these ASCII strings, sorted keys and
    no blanks), zero-padded to 64 bytes."""
    runtime = {"additional-evidence": "", "nonce": nonce, "tee-pubkey": tee_pubkey}
    text = json.dumps(runtime, sort_keys=True, separators=(",", ":"))
    return hashlib.sha384(text.encode()).digest() + bytes(16)


def tpm2(*args):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL)


def quote(ak_ctx, qualifying):
    """tpm2_quote over SHA-256 PCRs 0-23; without a resource manager the tools leave what they
    loaded in the TPM, which has room for three objects: flushed after."""
    tpm2("tpm2_quote", "-Q", "-c", ak_ctx, "-l", "sha256:" + ",".join(map(str, range(24))),
         "-q", qualifying.hex(), "-g", "sha256", "-m", "quote.msg", "-s", "quote.sig",
         "-f", "tss", "-o", "quote.pcrs", "-F", "values")
    tpm2("tpm2_flushcontext", "-t")
    tpm2("tpm2_flushcontext", "-s")
    with open("quote.msg", "rb") as m, open("quote.sig", "rb") as s, \
            open("quote.pcrs", "rb") as p:
        return m.read(), s.read(), p.read()


def main():
    a = parse_args()
    with open(a.key) as f:
        private = json.load(f)
    tee_pubkey = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
                  "x": private["x"], "y": private["y"]}
    with open(a.ak_der, "rb") as f:
        ak_der = f.read()

    kbs = Kbs(a.url, a.ca)
    status, data = kbs.request("POST", "/kbs/v0/auth",
                               {"version": "0.4.0", "tee": "tpm", "extra-params": ""})
    print("auth %d" % status)
    if status != 200:
        return 0
    nonce = json.loads(data)["nonce"]

    rd = report_data(nonce, tee_pubkey)
    message, signature, values = quote(a.ak_ctx, rd)
    pcrs = [values[i:i + 32].hex() for i in range(0, len(values), 32)]
    if len(pcrs) != 24:
        print("tpm2_quote wrote %d PCR values, not 24" % len(pcrs), file=sys.stderr)
        return 1
    if a.tamper_pcr is not None:
        v = pcrs[a.tamper_pcr]
        pcrs[a.tamper_pcr] = v[:-1] + ("1" if v[-1] == "0" else "0")
    evidence = {
        "ak_public": base64.b64encode(ak_der).decode(),
        "report_data": base64.b64encode(rd).decode(),
        "tpm_quote": {
            "message": base64.b64encode(message).decode(),
            "pcrs": pcrs,
            "signature": base64.b64encode(signature).decode(),
        },
    }
    status, data = kbs.request("POST", "/kbs/v0/attest", {
        "runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey},
        "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""},
    })
    print("attest %d %s %s" % ((status,) + problem(data)))
    if status != 200:
        return 0
    token = json.loads(data)["token"]

    path = "/kbs/v0/resource/" + a.resource
    if a.bearer:
        status, data = kbs.request("GET", path, cookie=False,
                                   headers={"Authorization": "Bearer " + token})
    else:
        status, data = kbs.request("GET", path)
    print("resource %d %s %s" % ((status,) + problem(data)))
    with open(a.out, "wb") as f:
        f.write(data)
    return 0


try:
    sys.exit(main())
except (OSError, subprocess.CalledProcessError, http.client.HTTPException, ValueError) as e:
    print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
