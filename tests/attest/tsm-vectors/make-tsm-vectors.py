#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rebuilds the binary configfs-tsm vectors from the public texts beside this script.

  tdx-quote-v4-gcp.b64        -> tdx-quote-v4-gcp.bin
  trustee-e2e-evidence.json   -> snp-report-v2-milan.bin  (the 1184-byte ATTESTATION_REPORT)
  trustee-e2e-vcek.json       -> snp-vcek-milan.der
  (VCEK + two made-up entries) -> snp-auxblob.bin         (a GHCB certificate table)

The SNP report is laid out field by field from the sev crate's JSON (AMD SEV-SNP firmware ABI,
report version 2, pre-Turin TCB layout); every byte that JSON does not carry is reserved and
zero. The rebuilt bytes are then checked against the AMD signature with the VCEK's public key
(openssl): a wrong offset anywhere in the signed part would fail that check, so the file is the
report the PSP signed, byte for byte. Run from any directory; writes next to itself."""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def tcb_legacy(t):
    # BOOT_LOADER, TEE, 4 reserved bytes, SNP, MICROCODE
    assert t["fmc"] is None
    return bytes([t["bootloader"], t["tee"], 0, 0, 0, 0, t["snp"], t["microcode"]])


def snp_report(r):
    assert r["version"] == 2
    b = bytearray()
    b += struct.pack("<IIQ", r["version"], r["guest_svn"], r["policy"])
    b += bytes(r["family_id"]) + bytes(r["image_id"])
    b += struct.pack("<II", r["vmpl"], r["sig_algo"])
    b += tcb_legacy(r["current_tcb"])
    b += struct.pack("<QII", r["plat_info"], r["key_info"], 0)
    for k in ("report_data", "measurement", "host_data", "id_key_digest", "author_key_digest",
              "report_id", "report_id_ma"):
        b += bytes(r[k])
    b += tcb_legacy(r["reported_tcb"])
    b += bytes(24)  # version 2: no CPUID fields, 24 reserved bytes
    b += bytes(r["chip_id"])
    b += tcb_legacy(r["committed_tcb"])
    for v in (r["current"], r["committed"]):
        b += bytes([v["build"], v["minor"], v["major"], 0])
    b += tcb_legacy(r["launch_tcb"])
    b += bytes(168)
    assert len(b) == 0x2A0, hex(len(b))
    sig = r["signature"]
    b += bytes(sig["r"]) + bytes(sig["s"]) + bytes(512 - 144)
    assert len(b) == 1184
    return bytes(b), int.from_bytes(bytes(sig["r"]), "little"), int.from_bytes(bytes(sig["s"]), "little")


def der_int(v):
    raw = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big")
    return b"\x02" + bytes([len(raw)]) + raw


def der_ecdsa(r, s):
    body = der_int(r) + der_int(s)
    assert len(body) < 128
    return b"\x30" + bytes([len(body)]) + body


def check_signature(report, r, s, vcek_der):
    with tempfile.TemporaryDirectory() as d:
        files = {"vcek.der": vcek_der, "msg": report[:0x2A0], "sig": der_ecdsa(r, s)}
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        subprocess.run(["openssl", "x509", "-inform", "der", "-in", "vcek.der", "-pubkey",
                        "-noout", "-out", "vcek.pub"], cwd=d, check=True)
        subprocess.run(["openssl", "dgst", "-sha384", "-verify", "vcek.pub", "-signature", "sig",
                        "msg"], cwd=d, check=True, stdout=subprocess.DEVNULL)


GUID_VCEK = bytes.fromhex("63da758de6644564adc5f4b93be8accd")
GUID_OTHER = bytes.fromhex("11111111222233334444555555555555")


def auxblob(vcek):
    # Entries: GUID (RFC 4122 byte order, as the sev crate reads it), offset, length, both
    # little-endian and relative to the table's start; an all-zero entry ends the table. The
    # unknown GUID stands for what a host may add (devgate leaves such entries out); the data
    # area is padded to a page, as the kernel hands it out.
    other = b"not a certificate"
    table_size = 3 * 24
    entries = struct.pack("<16sII", GUID_VCEK, table_size, len(vcek))
    entries += struct.pack("<16sII", GUID_OTHER, table_size + len(vcek), len(other))
    entries += bytes(24)
    blob = entries + vcek + other
    return blob + bytes(-len(blob) % 4096)


def main():
    with open(path("tdx-quote-v4-gcp.b64")) as f:
        quote = base64.b64decode("".join(f.read().split()), validate=True)
    with open(path("trustee-e2e-evidence.json")) as f:
        evidence = json.load(f)
    with open(path("trustee-e2e-vcek.json")) as f:
        vcek = bytes(json.load(f))

    report, r, s = snp_report(evidence["attestation_report"])
    check_signature(report, r, s, vcek)

    outputs = {
        "tdx-quote-v4-gcp.bin": quote,
        "snp-report-v2-milan.bin": report,
        "snp-vcek-milan.der": vcek,
        "snp-auxblob.bin": auxblob(vcek),
    }
    for name, data in outputs.items():
        with open(path(name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")
    print("SNP report signature verified with the VCEK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
