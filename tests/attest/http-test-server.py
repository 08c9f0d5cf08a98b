#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# An HTTPS server on loopback whose paths each misbehave in one way, for the HTTP layer's
# tests: usage: http-test-server.py CERT KEY PORTFILE. Writes the port it listens on to
# PORTFILE and serves until killed.
import http.server
import json
import socketserver
import ssl
import sys
import time

cert, key, portfile = sys.argv[1:4]
counts = {}


class Handler(http.server.BaseHTTPRequestHandler):
    # Keep-alive: one TLS connection serves every request of an attestation.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.send(200, json.dumps({"echo": json.loads(body)}))

    def do_GET(self):
        path = self.path
        counts[path] = counts.get(path, 0) + 1
        if path == "/ok":
            self.send(200, '{"ok": true}')
        elif path == "/set-cookie":
            self.send(200, "{}", headers=[("Set-Cookie", "kbs-session-id=s3cr3t; Path=/")])
        elif path == "/need-cookie":
            if "kbs-session-id=s3cr3t" in (self.headers.get("Cookie") or ""):
                self.send(200, '{"session": "ok"}')
            else:
                self.send(401, '{"type": "https://example/errors/UnAuthenticated", '
                               '"detail": "no session"}')
        elif path == "/problem":
            self.send(403, '{"type": "https://example/errors/PolicyDeny", '
                           '"detail": "the resource policy denies this guest"}',
                      "application/problem+json")
        elif path == "/flaky":
            # Two server errors, then an answer: retried with backoff.
            if counts[path] <= 2:
                self.send(503, '{"detail": "busy"}')
            else:
                self.send(200, '{"after": %d}' % counts[path])
        elif path == "/always-500":
            self.send(500, '{"detail": "broken"}')
        elif path == "/slow":
            time.sleep(3)
            self.send(200, "{}")
        elif path == "/big":
            self.send(200, b"x" * (20 * 1024 * 1024), "application/octet-stream")
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"cut": ')
            self.close_connection = True
        else:
            self.send(404, '{"detail": "not found"}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
