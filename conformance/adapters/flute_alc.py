"""flute-alc (PyPI: the flute crate's Python binding) as an rmt-conform receiver.

    python flute_alc.py [--group G] --port P --source IP --mode flute|fcast --out DIR [--idle S]

Receives UDP datagrams on G:P (joining G when it is a multicast group) and pushes those from IP (as a source-specific join
would deliver them) to flute.receiver.MultiReceiver, which writes complete objects into DIR.
FCAST is not implemented by the package: exit code 127 (unsupported).
"""
import argparse
import os
import socket
import sys
import time

from flute import receiver


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--group", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--source", default="127.0.0.1")
    p.add_argument("--mode", default="flute")
    p.add_argument("--out", required=True)
    p.add_argument("--idle", type=float, default=1.0)
    a = p.parse_args()
    # The unknown-case probe (quic-interop-runner's convention): rmt-conform names each case in
    # TESTCASE, and a case this adapter does not know gets 127, "unsupported".
    if not os.environ.get("TESTCASE", "rfc").startswith("rfc"):
        print("unknown test case", file=sys.stderr)
        return 127
    if a.mode != "flute":
        print("flute-alc implements FLUTE, not FCAST", file=sys.stderr)
        return 127
    os.makedirs(a.out, exist_ok=True)
    writer = receiver.ObjectWriterBuilder(a.out)
    rx = receiver.MultiReceiver(writer, receiver.Config())
    endpoint = receiver.UDPEndpoint(a.group, a.port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A large buffer, so that a receiver briefly without CPU loses nothing (SO_RCVBUFFORCE, 33,
    # goes past net.core.rmem_max as root).
    for opt in (33, socket.SO_RCVBUF):
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
            break
        except OSError:
            pass
    s.bind((a.group, a.port))
    if 224 <= int(a.group.split(".")[0]) <= 239:
        # rmt-conform's multicast transport: join the group on any interface.
        mreq = socket.inet_aton(a.group) + socket.inet_aton("0.0.0.0")
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.settimeout(0.1)
    last = time.monotonic()
    while time.monotonic() - last < a.idle:
        try:
            data, (ip, _) = s.recvfrom(65536)
        except socket.timeout:
            continue
        last = time.monotonic()
        if ip != a.source:
            continue
        try:
            rx.push(endpoint, data)
        except Exception as e:  # the package raises on packets it rejects
            print(f"push: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
