#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devgate-kbs under load (kbs-load.c): full attestations (auth, attest with a TPM-format quote
# signed by a software AK, resource, JWE decryption) by 1, 16 and 128 concurrent clients over
# HTTPS on loopback, SECONDS each; then 100,000 auth requests whose sessions are abandoned,
# against a server with the default --session-max (10000) and one with a cap of 200000, and
# the server's memory before, halfway, after and at its peak (VmHWM).
#
# Targets (issue 5, "Load"): at least 1,000 full attestations/s at 16 clients, p99 latency
# under 100 ms, server memory bounded by the session cap. Printed as "met" or "NOT met"; a
# missed target does not fail the benchmark, only a broken setup does.
#
# The client and the server share this machine's 2 cores, and the client's share is not
# small: an RSA-2048 signature per quote, a P-256 key, ECDH and AES for the JWE, its half of
# TLS. So the rates are a lower bound for the server; the "cpu ms" columns say how the CPU
# time of one attestation splits between the two, and "other load" how much of the cores
# other processes took meanwhile (builds and tests of others, on a shared machine). At 128
# clients the server's 2 threads also compete with 128 client threads for the scheduler.
#
# Each client does one unmeasured attestation first (its TLS handshake; keep-alive makes
# later ones rare), then attests in a loop; latency is of a whole attestation, auth to
# decrypted resource, client crypto included.
#
# usage: kbs-load.sh DEVGATE DEVGATE_KBS KBS_LOAD POLICY [SECONDS]
set -eu

devgate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kbs=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
load=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
policy=$(cd "$(dirname "$4")" && pwd)/$(basename "$4")
seconds=${5:-10}
flood=100000
setup=$(cd "$(dirname "$0")/../attest" && pwd)/kbs-setup.sh
work=$(mktemp -d)
trap 'for p in $kbs_pids; do kill "$p" 2>/dev/null || :; done; [ -n "${KEEP-}" ] || rm -rf "$work"' EXIT
cd "$work"

. "$setup"
kbs_tls
kbs_publish "$devgate" "$policy"
name=$(basename "$policy" .json)
resource=default/devgate-policy/$name

# The software AK, registered as "devgate attest --print-ak" would register a TPM's.
mkdir -p aks
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ak.key 2>/dev/null &&
        openssl pkey -in ak.key -pubout -out aks/guest.pub ||
        { echo "Bail out! cannot make the software AK"; exit 1; }
ak_id=$(openssl pkey -pubin -in aks/guest.pub -outform DER | sha256sum | cut -c1-64)

# 24 made-up SHA-256 PCR values, all of them in the reference set (the verifier then compares
# every PCR, as a strict operator's set would).
for i in $(seq 0 23); do
        printf 'pcr-%s' "$i" | sha256sum | cut -c1-64
done >pcrs.txt
i=0 sep=""
{
        printf '{"sets": {"known-good": {"pcrs": {'
        while read -r value; do
                printf '%s"%d": ["%s"]' "$sep" "$i" "$value"
                sep=", " i=$((i + 1))
        done <pcrs.txt
        printf '}}}}\n'
} >reference.json
printf '{"rules":[{"resource":"%s","ak":"%s","reference":"known-good"}]}\n' \
        "$resource" "$ak_id" >access.json

last_pid() { echo "${kbs_pids##* }"; }

# Full attestations.
kbs_serve "$kbs" load --trusted-aks aks --reference reference.json --access access.json
pid=$(last_pid)
for clients in 1 16 128; do
        "$load" --url "$(cat load.url)" --ca ca.pem --resource "$resource" \
                --expect "resources/$resource" --ak-key ak.key --pcrs pcrs.txt \
                --clients "$clients" --seconds "$seconds" --server-pid "$pid" >>load.txt 2>load.err ||
                { echo "Bail out! kbs-load failed at $clients clients"; sed 's/^/# /' load.err; exit 1; }
        sed 's/^/# /' load.err
done
kill "$pid"

# Abandoned sessions: a fresh server per cap, so that its VmHWM is this flood's alone.
for cap in 10000 200000; do
        kbs_serve "$kbs" "flood-$cap" --session-max "$cap"
        pid=$(last_pid)
        out=$("$load" --url "$(cat "flood-$cap.url")" --ca ca.pem --flood "$flood" --clients 16 \
                --server-pid "$pid" 2>flood.err) ||
                { echo "Bail out! kbs-load --flood failed"; sed 's/^/# /' flood.err; exit 1; }
        sed 's/^/# /' flood.err
        # Each auth that made room says so in its log line.
        evicted=$(grep -c 'oldest session evicted' "flood-$cap.log" || :)
        echo "cap=$cap $out evicted=$evicted" >>flood.txt
        kill "$pid"
done

python3 - "$seconds" <<'PY'
import sys
seconds = sys.argv[1]

def records(path):
    """One run per line, key=value fields."""
    return [dict(f.partition("=")[::2] for f in line.split()) for line in open(path)]

print("devgate-kbs, full attestations over HTTPS on loopback, %s s per row "
      "(client and server share 2 cores: a lower bound for the server)" % seconds)
print("%8s | %14s | %7s | %7s | %7s | %6s | %13s | %13s | %11s"
      % ("clients", "attestations/s", "p50 ms", "p99 ms", "max ms", "errors",
         "client cpu ms", "server cpu ms", "other load"))
rows = {}
for r in records("load.txt"):
    rows[int(r["clients"])] = r
    print("%8s | %14.1f | %7.2f | %7.2f | %7.2f | %6s | %13.3f | %13.3f | %10s%%"
          % (r["clients"], float(r["rate"]), float(r["p50_ms"]), float(r["p99_ms"]),
             float(r["max_ms"]), r["errors"], float(r["client_cpu_ms"]),
             float(r["server_cpu_ms"]), r["other_cpu_pct"]))
print("  cpu ms: CPU time per attestation of the client process and of devgate-kbs;")
print("  other load: share of the 2 cores other processes took during the row (0%: a quiet machine)")

print()
print("devgate-kbs, 100,000 auth requests whose sessions are abandoned (16 clients)")
print("%11s | %16s | %15s | %13s | %14s | %12s | %15s"
      % ("session cap", "sessions created", "live at the end", "RSS before MB",
         "RSS halfway MB", "RSS after MB", "server peak RSS"))
floods = {}
for r in records("flood.txt"):
    cap = int(r["cap"])
    floods[cap] = r
    live = min(int(r["created"]) - int(r["evicted"]), cap)
    mb = lambda k: int(r[k]) / 1024
    print("%11d | %16s | %15d | %13.1f | %14.1f | %12.1f | %12.1f MB"
          % (cap, r["created"], live, mb("rss_start_kb"), mb("rss_mid_kb"), mb("rss_end_kb"),
             mb("hwm_kb")))
small, large = floods[10000], floods[200000]
# What a live session costs, from the server that kept them all; and whether the capped server
# stopped growing once full (it is full after 10% of the flood, so its second half is all
# eviction).
per_session = (int(large["hwm_kb"]) - int(large["rss_start_kb"])) * 1024 / max(
    int(large["created"]) - int(large["evicted"]), 1)
second_half_small = int(small["rss_end_kb"]) - int(small["rss_mid_kb"])
second_half_large = int(large["rss_end_kb"]) - int(large["rss_mid_kb"])
print("  about %.0f bytes of server memory per live session (cap 200000 server); in the second"
      % per_session)
print("  half of the flood the RSS grew by %d KiB at cap 10000, %d KiB at cap 200000"
      % (second_half_small, second_half_large))

print()
r16 = rows.get(16, {})
rate16 = float(r16.get("rate", 0))
p99 = float(r16.get("p99_ms", "inf"))
errors = sum(int(r["errors"]) for r in rows.values())
growth_small = int(small["hwm_kb"]) - int(small["rss_start_kb"])
growth_large = int(large["hwm_kb"]) - int(large["rss_start_kb"])
# Bounded: the capped server keeps at most its cap, and once full it does not grow: its second
# half adds less than a tenth of what the uncapped server's second half adds (which keeps
# 50,000 more sessions), and its peak growth stays below what 2 x cap sessions would cost
# plus 4 MB (malloc arenas of the worker threads, connection buffers).
kept_small = int(small["created"]) - int(small["evicted"])
bounded = (kept_small <= 10000 and second_half_small * 10 < max(second_half_large, 1) and
           growth_small * 1024 < 2 * 10000 * per_session + 4 * 1024 * 1024)
say = lambda ok: "met" if ok else "NOT met"
print("Target >= 1000 full attestations/s at 16 clients: %.1f/s: %s" % (rate16, say(rate16 >= 1000)))
print("Target p99 < 100 ms at 16 clients: %.2f ms: %s" % (p99, say(p99 < 100)))
server_ms = float(r16.get("server_cpu_ms", -1))
if server_ms > 0:
    print("  (devgate-kbs spent %.3f ms of CPU per attestation at 16 clients: on 2 cores of its own"
          " that is at most about %.0f/s)" % (server_ms, 2000 / server_ms))
# The latency target is the one at 16 clients, with the rate target. At 128 closed-loop clients
# every client waits behind the others: by Little's law the mean latency is clients / rate,
# whatever the server does.
r128 = rows.get(128)
if r128:
    print("  (at 128 clients p99 is %.2f ms; its mean is bound to be 128 / rate = %.0f ms)"
          % (float(r128["p99_ms"]), 128e3 / float(r128["rate"])))
print("Target memory bounded by the session cap: peak grew %.1f MB at cap 10000 vs %.1f MB at "
      "cap 200000: %s" % (growth_small / 1024, growth_large / 1024, say(bounded)))
print("Errors during the runs: %d" % errors)
PY
