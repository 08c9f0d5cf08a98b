#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A KBS that speaks RCAR well enough to get a client to each step, then misbehaves in one
# way chosen by the first path segment: a client pointed at https://HOST:PORT/SCENARIO
# meets SCENARIO. The well-behaved server is devgate-kbs; this one is for the answers a
# real server never gives. usage: hostile-kbs.py CERT KEY PORTFILE OTHER-KEY.JWE RSA1_5.JWE
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import time

cert, key, portfile, other_key_jwe, rsa1_5_jwe = sys.argv[1:6]
COOKIE = "kbs-session-id"


def nonce():
    return base64.b64encode(os.urandom(32)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def problem(self, status, name, detail):
        self.send(status, json.dumps({
            "type": "https://github.com/confidential-containers/kbs/errors/" + name,
            "detail": detail}))

    def route(self):
        parts = self.path.split("/", 2)
        return parts[1], "/" + (parts[2] if len(parts) > 2 else "")

    def has_cookie(self):
        return COOKIE + "=" in self.headers.get("Cookie", "")

    def do_POST(self):
        scenario, path = self.route()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if scenario == "500":
            return self.problem(500, "InternalError", "the server is broken")
        if path == "/kbs/v0/auth":
            request = json.loads(body)
            if request.get("version") != "0.4.0":
                return self.problem(401, "ProtocolVersion", "wrong version")
            if scenario == "slow":
                time.sleep(10)
            answers = {
                "bad-nonce": {"nonce": "not base64!", "extra-params": ""},
                "short-nonce": {"nonce": base64.b64encode(b"1234").decode(),
                                "extra-params": ""},
                "no-nonce": {"extra-params": ""},
                "number-nonce": {"nonce": 12, "extra-params": ""},
                "extra-member": {"nonce": nonce(), "extra-params": "", "debug": True},
            }
            if scenario == "not-json":
                return self.send(200, "<html>hello</html>")
            if scenario == "duplicate-nonce":
                return self.send(200, '{"nonce":"%s","nonce":"%s","extra-params":""}'
                                 % (nonce(), nonce()))
            answer = answers.get(scenario, {"nonce": nonce(), "extra-params": ""})
            return self.send(200, json.dumps(answer),
                             [("Set-Cookie", COOKIE + "=" + os.urandom(16).hex() + "; Path=/")])
        if path == "/kbs/v0/attest":
            if not self.has_cookie():
                return self.problem(401, "UnAuthenticated", "no session cookie")
            if scenario == "refuse-attest":
                return self.problem(401, "AttestationFailed", "PCR 7 does not match")
            if scenario == "no-token":
                return self.send(200, "{}")
            return self.send(200, json.dumps({"token": "e30.e30.c2ln"}))
        self.problem(404, "NotFound", path)

    def do_GET(self):
        scenario, path = self.route()
        if not path.startswith("/kbs/v0/resource/"):
            return self.problem(404, "NotFound", path)
        if not self.has_cookie():
            return self.problem(401, "UnAuthenticated", "no session cookie")
        if scenario in ("401", "403", "404"):
            names = {"401": "UnAuthenticated", "403": "PolicyDeny", "404": "ResourceNotFound"}
            return self.problem(int(scenario), names[scenario],
                                "answered %s to %s" % (scenario, path))
        if scenario == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(20 * 1024 * 1024))
            self.end_headers()
            chunk = b"A" * 65536
            try:
                for _ in range(320):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if scenario == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'{"protected":"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9"')
            self.wfile.flush()
            self.close_connection = True
            return
        if scenario == "other-key":
            return self.send(200, open(other_key_jwe, "rb").read())
        if scenario == "rsa1_5":
            return self.send(200, open(rsa1_5_jwe, "rb").read())
        if scenario == "not-jwe":
            return self.send(200, '{"hello":"world"}')
        self.problem(404, "ResourceNotFound", path)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
