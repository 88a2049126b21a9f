#!/usr/bin/env python3
"""Holds connections to a vault's agent, for bench/run.sh: IDLE connections that send nothing
and SLOW ones that send one byte of a frame and then stall (reconnected when the agent drops
them). Prints "ready" once all are open, and stops after SECONDS or when its stdin closes.

    hold_connections.py VAULT IDLE SLOW SECONDS

The socket is the agent's for VAULT: $XDG_RUNTIME_DIR/tokenvault/agent-HASH.sock, HASH being
BLAKE2b-64 of the vault's real path (Sources/TokenVault/Agent/AgentProtocol+Place.swift).
"""
import hashlib
import os
import select
import socket
import sys
import time

vault, idle, slow, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
digest = hashlib.blake2b(os.path.realpath(vault).encode(), digest_size=8).hexdigest()
path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "tokenvault", "agent-" + digest + ".sock")


def connect(first_byte):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if first_byte:
        s.send(b"\x09")  # The first byte of a frame's length, and nothing more.
    return s


held = [connect(False) for _ in range(idle)]
senders = [connect(True) for _ in range(slow)]
print("ready", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    ready, _, _ = select.select([sys.stdin] + senders, [], [], 0.2)
    if sys.stdin in ready and not sys.stdin.readline():
        break
    for s in ready:
        if s is sys.stdin:
            continue
        if not s.recv(64):  # Dropped by the agent: stall it again.
            senders[senders.index(s)] = connect(True)
            s.close()
