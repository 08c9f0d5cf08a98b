#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# relay.py HOST PORT: run by QEMU's guestfwd "cmd:" once per guest connection, which is its
# stdin and stdout; relays both ways to HOST:PORT on the host. slirp also makes the guest
# connection its stderr, so nothing may ever be written there: a traceback would reach the
# guest as if the server had sent it. A server that cannot be reached therefore just closes
# the guest's connection. $DEVGATE_RELAY_LOG, when set, gets one line per connection.
import os, select, socket, sys

os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
sys.stderr = open(os.devnull, "w")
what = "closed"
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.settimeout(None)
    up = True
    while True:
        # An idle limit, so that a relay never outlives its test by much.
        r = select.select([s] + ([0] if up else []), [], [], 300)[0]
        if not r:
            what = "idle"
            break
        if 0 in r:
            d = os.read(0, 65536)
            if d:
                s.sendall(d)
            else:
                up = False
                s.shutdown(socket.SHUT_WR)
        if s in r:
            d = s.recv(65536)
            if not d:
                break
            os.write(1, d)
except BaseException as e:
    what = repr(e)
if os.environ.get("DEVGATE_RELAY_LOG"):
    try:
        with open(os.environ["DEVGATE_RELAY_LOG"], "a") as log:
            log.write("%s %s\n" % (":".join(sys.argv[1:3]), what))
    except BaseException:
        pass
