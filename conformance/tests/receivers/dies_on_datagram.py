#!/usr/bin/env python3
"""A test receiver that dies on purpose: it binds the case's port (joining the group when it
is a multicast one), takes N datagrams, then dies with a signal or exits with a status. It
makes the runner's crash, could-not-test and exit-status verdicts testable without timing:
the death comes from a datagram, not from a clock.

    dies_on_datagram.py --group G --port P --after N (--signal SEGV | --status S)
"""
import argparse
import os
import signal
import socket
import struct

a = argparse.ArgumentParser()
a.add_argument("--group", required=True)
a.add_argument("--port", type=int, required=True)
a.add_argument("--after", type=int, default=1)
a.add_argument("--signal")
a.add_argument("--status", type=int, default=1)
args = a.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first_octet = int(args.group.split(".")[0])
if 224 <= first_octet <= 239:
    s.bind(("0.0.0.0", args.port))
    mreq = struct.pack("4s4s", socket.inet_aton(args.group), socket.inet_aton("0.0.0.0"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
else:
    s.bind((args.group, args.port))
# Bounded: a case sends at most a few thousand datagrams; the runner stops it anyway.
s.settimeout(30)
for _ in range(args.after):
    s.recv(65536)
if args.signal:
    os.kill(os.getpid(), getattr(signal, "SIG" + args.signal))
raise SystemExit(args.status)
