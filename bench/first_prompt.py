#!/usr/bin/env python3
"""The first git call at a terminal: git-credential-vault get, the passphrase typed at a real
pseudo-terminal, at the default KDF cost, timed from the typed passphrase to the helper's exit,
with agent-autostart on (the helper starts the agent and hands it the key) and off.

    python3 bench/first_prompt.py PREFIX/bin     (needs pexpect: pip install pexpect)
"""
import os, subprocess, sys, tempfile, time, statistics
import pexpect
N = sys.argv[1]
home = tempfile.mkdtemp()
os.makedirs(home + "/run", mode=0o700)
env = {"HOME": home, "PATH": N + ":/usr/bin:/bin", "XDG_RUNTIME_DIR": home + "/run", "TOKENVAULT_PATH": home + "/v.db"}
pw = "pt passphrase"
subprocess.run([N + "/vault", "init"], env=dict(env, TOKENVAULT_PASSPHRASE=pw), check=True, capture_output=True)
subprocess.run([N + "/vault", "add", "e", "--url", "https://h.example"], input=b"glpat-ptptptptptptpt000000", env=dict(env, TOKENVAULT_PASSPHRASE=pw), check=True, capture_output=True)
def once():
    subprocess.run([N + "/vault", "lock", "--all"], env=env, capture_output=True)
    c = pexpect.spawn(N + "/git-credential-vault", ["get"], env=env)
    c.send("protocol=https\nhost=h.example\n\n")
    c.expect("Passphrase")
    t = time.monotonic()
    c.sendline(pw)
    c.expect(pexpect.EOF, timeout=30)
    return time.monotonic() - t
results = {}
for setting in ["on", "off"]:
    subprocess.run([N + "/vault", "config", "agent-autostart", setting], env=dict(env, TOKENVAULT_PASSPHRASE=pw), check=True, capture_output=True)
    results[setting] = [once() for _ in range(7)]
for k, v in results.items():
    print(f"autostart {k}: median {statistics.median(v):.3f} s  (runs {', '.join(f'{x:.2f}' for x in v)})")
subprocess.run([N + "/vault", "lock", "--all"], env=env, capture_output=True)
import shutil
shutil.rmtree(home, ignore_errors=True)
