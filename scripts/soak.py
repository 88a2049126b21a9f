#!/usr/bin/env python3
"""TokenVault's soak runs (scripts/soak.sh runs this): the real binaries, against a real vault.

kills        SIGKILL at a random moment of every write command, each followed by the checks
concurrency  processes mixing reads and writes, with and without the agent, then the checks
disk         writes on a full tmpfs (in a mount namespace of its own): exit 7, nothing lost

The checks: the vault opens, `vault verify` passes, `vault log --json` says its chain verifies,
every write reported as done is there, each entry is either as it was or as the write left it,
and no file in the vault's folder or the backups' folder is open to other users.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PASSPHRASE = "soak passphrase one"
OTHER_PASSPHRASE = "soak passphrase two"


class Finding(Exception):
    pass


class Vault:
    """A private HOME with a vault, and the real binaries run in it."""

    def __init__(self, bindir, home):
        self.bindir = bindir
        self.home = home
        self.folder = os.path.join(home, ".local/share/tokenvault")
        self.backups = os.path.join(home, "backups")
        os.makedirs(os.path.join(home, "run"), mode=0o700, exist_ok=True)
        # Open to others on purpose: a backup's own mode is what keeps it private.
        os.makedirs(self.backups, mode=0o755, exist_ok=True)
        os.chmod(self.backups, 0o755)
        self.passphrase = PASSPHRASE
        self.env = {"HOME": home, "PATH": bindir + ":/usr/bin:/bin", "LANG": "C",
                    "XDG_RUNTIME_DIR": os.path.join(home, "run")}
        # Binaries built with sanitizers (scripts/sanitize.sh's builds) keep their settings.
        self.env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})

    def environment(self, extra=None):
        env = dict(self.env, TOKENVAULT_PASSPHRASE=self.passphrase)
        env.update(extra or {})
        return env

    def start(self, program, args, extra_env=None):
        return subprocess.Popen([os.path.join(self.bindir, program)] + args, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.environment(extra_env), start_new_session=True)

    def run(self, args, stdin=b"", program="vault", extra_env=None, timeout=120):
        process = self.start(program, args, extra_env)
        try:
            out, err = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise Finding(f"{program} {' '.join(args)} hung for {timeout} s")
        return process.returncode, out, err

    def must(self, args, stdin=b"", program="vault", extra_env=None):
        status, out, err = self.run(args, stdin, program, extra_env)
        if status != 0:
            raise Finding(f"{program} {' '.join(args)} failed ({status}): {err.decode(errors='replace').strip()}")
        return out

    def state(self):
        """Every entry not in the trash: name -> (token, rejected), and the trash's names."""
        live = {}
        exported = json.loads(self.must(["export", "--plain-json"]))
        for entry in exported["entries"]:
            if entry.get("deleted") is None:
                live[entry["name"]] = (entry["secret"], entry.get("rejected") is not None)
        trash = {entry["name"] for entry in json.loads(self.must(["list", "--trash", "--json"]))}
        return live, trash

    def setting(self):
        return self.must(["config"]).decode(errors="replace")

    def check(self):
        """The vault opens, verifies, its log's chain verifies, nothing is open to others.
        Returns the state (see `state`)."""
        status, _, err = self.run(["verify"])
        if status != 0:
            raise Finding(f"vault verify failed ({status}): {err.decode(errors='replace').strip()}")
        log = json.loads(self.must(["log", "--json"]))
        if log.get("verified") is not True:
            raise Finding(f"vault log does not verify: {log.get('problem')}")
        self.check_modes()
        return self.state()

    def check_modes(self):
        for folder in (self.folder, self.backups):
            for root, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        mode = os.lstat(path).st_mode
                    except FileNotFoundError:
                        continue
                    if mode & 0o077:
                        raise Finding(f"{path} is open to other users (mode {oct(mode & 0o777)})")

    def unlock_with_either(self):
        """After a killed passwd: exactly the old or the new passphrase opens the vault (asked
        without the agent, which holds the key whichever it is)."""
        status, _, _ = self.run(["status"])
        agent = status == 0
        self.must(["lock"])
        for candidate in (self.passphrase, OTHER_PASSPHRASE if self.passphrase == PASSPHRASE else PASSPHRASE):
            status, _, _ = self.run(["list"], extra_env={"TOKENVAULT_PASSPHRASE": candidate})
            if status == 0:
                self.passphrase = candidate
                if agent:
                    self.must(["unlock", "--timeout", "30m"])
                return
        raise Finding("neither the old nor the new passphrase opens the vault")


def token(tag):
    return f"glpat-soak{tag}{random.randrange(10**12):012d}"


class Kills:
    """SIGKILL at random moments of every write command."""

    KINDS = ["add", "edit-secret", "edit-note", "rename", "rm", "restore", "import", "passwd",
             "config", "git-store", "git-erase", "backup"]

    def __init__(self, vault, count):
        self.vault = vault
        self.count = count
        self.kills = 0
        self.completed = 0
        self.durations = {}
        self.serial = 0
        self.agent = False

    def operation(self, kind, live, trash):
        """(program, args, stdin, extra env, accept(old, new) -> bool, after(killed))."""
        self.serial += 1
        n = self.serial
        names = sorted(live)
        pick = random.choice(names) if names else None

        def same_but(changes, removed=()):
            def accept(old, new):
                expected = {k: v for k, v in old[0].items() if k not in removed}
                expected.update(changes)
                return new[0] == expected
            return accept

        if kind == "add" or pick is None:
            value = token(n)
            return "vault", ["add", f"k{n}"], value.encode(), None, same_but({f"k{n}": (value, False)}), None
        if kind == "edit-secret":
            value = token(n)
            return "vault", ["edit", pick, "--secret"], value.encode(), None, same_but({pick: (value, False)}), None
        if kind == "edit-note":
            return "vault", ["edit", pick, "--note", f"note {n}"], b"", None, same_but({}), None
        if kind == "rename":
            return "vault", ["rename", pick, f"r{n}"], b"", None, same_but({f"r{n}": live[pick]}, [pick]), None
        if kind == "rm":
            return "vault", ["rm", pick, "--yes"], b"", None, same_but({}, [pick]), None
        if kind == "restore":
            if not trash:
                return self.operation("rm", live, trash)
            name = sorted(trash)[0]
            if name in live:  # a name taken again meanwhile: restore refuses, nothing changes
                return self.operation("add", live, trash)
            return "vault", ["restore", name], b"", None, \
                lambda old, new: set(new[0]) == set(old[0]) | {name} and all(new[0][k] == v for k, v in old[0].items()), None
        if kind == "import":
            tokens = [token(f"{n}i{i}") for i in range(3)]
            path = os.path.join(self.vault.home, "git-credentials")
            with open(path, "w") as file:
                file.write("".join(f"https://soak{i}:{t}@import{n}-{i}.example\n" for i, t in enumerate(tokens)))
            os.chmod(path, 0o600)

            def accept(old, new):
                added = {k: v for k, v in new[0].items() if k not in old[0]}
                kept = all(new[0].get(k) == v for k, v in old[0].items())
                return kept and (not added or sorted(v[0] for v in added.values()) == sorted(tokens))
            return "vault", ["import", "git-credentials", path], b"", None, accept, None
        if kind == "passwd":
            new_passphrase = OTHER_PASSPHRASE if self.vault.passphrase == PASSPHRASE else PASSPHRASE
            return "vault", ["passwd", "--kdf", "minimum"], b"", {"TOKENVAULT_NEW_PASSPHRASE": new_passphrase}, \
                same_but({}), self.vault.unlock_with_either
        if kind == "config":
            return "vault", ["config", "trash-days", str(20 + n % 40)], b"", None, same_but({}), None
        if kind == "git-store":
            value = token(n)
            host = f"git{n % 5}.example"
            request = f"protocol=https\nhost={host}\nusername=soak\npassword={value}\n\n".encode()

            def accept(old, new):
                changed = {k: v for k, v in new[0].items() if old[0].get(k) != v}
                gone = set(old[0]) - set(new[0])
                return not gone and (not changed or list(changed.values()) == [(value, False)])
            return "git-credential-vault", ["store"], request, None, accept, None
        if kind == "git-erase":
            stored = [k for k in names if k.startswith("git")] or names
            name = random.choice(stored)
            secret = live[name][0]
            host = f"{name.split('@')[-1]}" if "@" in name else name
            request = f"protocol=https\nhost={host}\nusername=soak\npassword={secret}\n\n".encode()

            def accept(old, new):
                # Marked rejected (or nothing matched): the tokens never change.
                return {k: v[0] for k, v in new[0].items()} == {k: v[0] for k, v in old[0].items()}
            return "git-credential-vault", ["erase"], request, None, accept, None
        if kind == "backup":
            path = os.path.join(self.vault.backups, f"backup-{n}.db")

            def after():
                if os.path.exists(path):
                    status, _, err = self.vault.run(["verify", path])
                    if status != 0:
                        raise Finding(f"backup {path} left by a killed backup does not verify: {err.decode(errors='replace')}")
                    os.unlink(path)
            return "vault", ["backup", path], b"", None, same_but({}), after
        raise ValueError(kind)

    def run(self):
        vault = self.vault
        state = vault.check()
        for i in range(12):
            vault.must(["add", f"seed{i}"], stdin=token(f"s{i}").encode())
        state = vault.check()
        attempts = 0
        while self.kills < self.count and attempts < self.count * 4:
            kind = self.KINDS[attempts % len(self.KINDS)]
            if attempts % len(self.KINDS) == 0:
                # Every other round of commands runs with the agent holding the key.
                self.agent = (attempts // len(self.KINDS)) % 2 == 1
                vault.must(["unlock", "--timeout", "30m"] if self.agent else ["lock"])
            attempts += 1
            program, args, stdin, extra, accept, after = self.operation(kind, *state)
            # Each command's first run is timed, not killed: the kills then fall anywhere in it.
            durations = sorted(self.durations.get(kind, []))
            estimate = durations[len(durations) // 2] if durations else None
            started = time.monotonic()
            process = vault.start(program, args, extra)
            try:
                process.stdin.write(stdin)
                process.stdin.close()
            except BrokenPipeError:
                pass
            if estimate is None:
                process.wait()
            else:
                time.sleep(random.uniform(0, estimate * 1.2))
            killed = process.poll() is None
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
            out, err = process.stdout.read(), process.stderr.read()
            status = process.wait()
            if killed:
                self.kills += 1
            else:
                self.completed += 1
                self.durations.setdefault(kind, []).append(time.monotonic() - started)
                if status != 0:
                    raise Finding(f"{program} {' '.join(args)} failed ({status}): {err.decode(errors='replace').strip()}")
                if kind == "passwd":
                    vault.passphrase = extra["TOKENVAULT_NEW_PASSPHRASE"]
            if after:
                after()
            new = vault.check()
            if not killed and not accept(state, new):
                raise Finding(f"{program} {' '.join(args)} reported done, but the vault does not hold its write")
            if killed and not (new[0] == state[0] or accept(state, new)):
                raise Finding(f"{program} {' '.join(args)} killed: the entries are neither as they were nor as it would leave them")
            state = new
        return {"kills": self.kills, "completed": self.completed}


class Concurrency:
    """Processes mixing reads and writes on names of their own, half through the agent."""

    def __init__(self, vault, workers, seconds):
        self.vault = vault
        self.workers = workers
        self.seconds = seconds
        self.operations = 0
        self.findings = []
        self.lock = threading.Lock()

    def worker(self, number, deadline):
        vault = self.vault
        # Without the agent: a runtime folder of its own, where no agent runs.
        extra = None
        if number % 2:
            folder = os.path.join(vault.home, f"run-{number}")
            os.makedirs(folder, mode=0o700, exist_ok=True)
            extra = {"XDG_RUNTIME_DIR": folder}
        mine = {}
        serial = 0
        try:
            while time.monotonic() < deadline:
                serial += 1
                name = f"w{number}-{serial}"
                choice = random.random()
                if not mine or choice < 0.25:
                    value = token(f"w{number}")
                    vault.must(["add", name], stdin=value.encode(), extra_env=extra)
                    mine[name] = value
                elif choice < 0.40:
                    old = random.choice(sorted(mine))
                    value = token(f"w{number}")
                    vault.must(["edit", old, "--secret"], stdin=value.encode(), extra_env=extra)
                    mine[old] = value
                elif choice < 0.50:
                    old = random.choice(sorted(mine))
                    vault.must(["rename", old, name], extra_env=extra)
                    mine[name] = mine.pop(old)
                elif choice < 0.55:
                    old = random.choice(sorted(mine))
                    vault.must(["rm", old, "--yes"], extra_env=extra)
                    del mine[old]
                elif choice < 0.58:
                    vault.must(["config", "rotate-every", f"{30 + serial % 60}d"], extra_env=extra)
                elif choice < 0.85:
                    old = random.choice(sorted(mine))
                    got = vault.must(["get", old], extra_env=extra).decode().rstrip("\n")
                    if got != mine[old]:
                        raise Finding(f"vault get {old} gave a token other than the one last written")
                else:
                    vault.must(["list", "--json"], extra_env=extra)
                with self.lock:
                    self.operations += 1
        except Finding as finding:
            with self.lock:
                self.findings.append(f"worker {number}: {finding}")
        self.results[number] = mine

    def run(self):
        vault = self.vault
        vault.must(["unlock", "--timeout", "30m"])
        self.results = {}
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.worker, args=(n, deadline)) for n in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        vault.must(["lock"])
        if self.findings:
            raise Finding("; ".join(self.findings))
        live, _ = vault.check()
        for mine in self.results.values():
            for name, value in mine.items():
                if live.get(name, (None,))[0] != value:
                    raise Finding(f"{name}: the last token written is not the one held")
        return {"operations": self.operations}


class FullDisk:
    """Writes on a small tmpfs (run inside `unshare --mount`): exit 7 once it is full, nothing lost."""

    WRITES = [["add", "late"], ["edit", "disk0", "--secret"], ["edit", "disk1", "--note", "x" * 200],
              ["rename", "disk2", "moved"], ["rm", "disk3", "--yes"], ["config", "trash-days", "12"],
              ["import", "git-credentials", "CREDS"], ["passwd", "--kdf", "minimum"]]

    def __init__(self, vault):
        self.vault = vault

    @staticmethod
    def fill(path, size):
        """Appends `size` bytes to `path` (None: until the disk is full); the file may not even be
        created on a full disk."""
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            return
        try:
            written = 0
            while size is None or written < size:
                written += os.write(descriptor, b"\0" * min(65536, (size - written) if size is not None else 65536))
        except OSError:
            pass
        finally:
            os.close(descriptor)

    def run(self):
        vault = self.vault
        for i in range(6):
            vault.must(["add", f"disk{i}"], stdin=token(f"d{i}").encode())
        saved = tempfile.mkdtemp()
        subprocess.run(["cp", "-a", vault.folder + "/.", saved], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2048k,mode=0700", "tmpfs", vault.folder], check=True)
        subprocess.run(["cp", "-a", saved + "/.", vault.folder], check=True)
        shutil.rmtree(saved)
        # All but 128 KiB taken, then writes until the disk fills: each one reported done is kept,
        # the first refused is exit 7.
        filler = os.path.join(vault.folder, "filler")
        space = os.statvfs(vault.folder)
        self.fill(filler, max(0, space.f_bavail * space.f_frsize - 128 * 1024))
        done = {}
        refused = 0
        operations = 0
        for i in range(5000):
            value = token(f"f{i}") + "x" * 2000
            status, _, err = vault.run(["add", f"fill{i}", "--note", "n" * 3000], stdin=value.encode())
            operations += 1
            if status == 7:
                refused += 1
                break
            if status != 0:
                raise Finding(f"vault add on a filling disk failed with {status}, not 7: {err.decode(errors='replace')}")
            done[f"fill{i}"] = value
        if refused == 0:
            raise Finding("the tmpfs never filled")
        self.fill(filler, None)
        before, _ = vault.state()
        credentials = os.path.join(vault.home, "creds")
        with open(credentials, "w") as file:
            file.write(f"https://u:{token('imp')}@full-disk.example\n")
        os.chmod(credentials, 0o600)
        for args in self.WRITES:
            args = [credentials if a == "CREDS" else a for a in args]
            status, _, err = vault.run(args, stdin=token("late").encode(),
                                       extra_env={"TOKENVAULT_NEW_PASSPHRASE": OTHER_PASSPHRASE})
            operations += 1
            if status != 7:
                raise Finding(f"vault {' '.join(args)} on a full disk: exit {status}, not 7: {err.decode(errors='replace')}")
            refused += 1
        request = f"protocol=https\nhost=full.example\nusername=u\npassword={token('g')}\n\n".encode()
        vault.run(["store"], stdin=request, program="git-credential-vault")
        operations += 1
        after, _ = vault.state()
        if after != before:
            raise Finding("a write refused on a full disk changed the vault")
        for name, value in done.items():
            if after.get(name, (None,))[0] != value:
                raise Finding(f"{name}, added before the disk filled, is not held")
        if os.path.exists(filler):
            os.unlink(filler)
        live, _ = vault.check()
        vault.must(["add", "after-full"], stdin=b"glpat-after-full")
        live, _ = vault.check()
        if live.get("after-full", (None,))[0] != "glpat-after-full":
            raise Finding("a write once space is back is not held")
        return {"disk_operations": operations, "disk_refused": refused}


def in_namespace(options, seed):
    """The full-disk part, run again in a mount namespace of its own (its tmpfs goes with it)."""
    unshare = ["unshare", "--mount"] if os.getuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    result = subprocess.run(unshare + [sys.executable, os.path.abspath(__file__), "--bin", options.bin,
                                       "--part", "disk", "--seed", str(seed), "--in-namespace"],
                            stdout=subprocess.PIPE)
    if result.returncode != 0:
        raise Finding(f"the full-disk run in its namespace failed ({result.returncode})")
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the folder of the built or installed binaries")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--part", choices=["kills", "concurrency", "disk"], action="append")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    random.seed(seed)
    parts = options.part or ["kills", "concurrency", "disk"]
    counts = {"kills": 0, "completed": 0, "operations": 0, "disk_operations": 0, "disk_refused": 0}
    failures = 0
    for part in parts:
        if part == "disk" and not options.in_namespace:
            try:
                counts.update(in_namespace(options, seed))
            except Finding as finding:
                failures += 1
                print(f"soak: {part}: FAILURE (seed {seed}): {finding}", file=sys.stderr)
            continue
        home = tempfile.mkdtemp(prefix=f"tokenvault-soak-{part}-")
        os.chmod(home, 0o700)
        vault = Vault(os.path.abspath(options.bin), home)
        try:
            vault.must(["init", "--kdf", "minimum"])
            if part == "kills":
                counts.update(Kills(vault, options.kills).run())
            elif part == "concurrency":
                counts.update(Concurrency(vault, options.workers, options.seconds).run())
            else:
                counts.update(FullDisk(vault).run())
        except Finding as finding:
            failures += 1
            print(f"soak: {part}: FAILURE (seed {seed}): {finding}", file=sys.stderr)
        finally:
            subprocess.run([os.path.join(vault.bindir, "vault"), "lock", "--all"], env=vault.environment(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if part == "disk":
                subprocess.run(["umount", vault.folder], stderr=subprocess.DEVNULL)
            shutil.rmtree(home, ignore_errors=True)
    if options.in_namespace:
        print(json.dumps({key: counts[key] for key in ("disk_operations", "disk_refused")}))
        return 1 if failures else 0
    print(f"soak: kills {counts['kills']} (writes completed {counts['completed']}), operations {counts['operations']}"
          f" ({options.workers} processes, {options.seconds:g} s), full disk {counts['disk_operations']} writes"
          f" ({counts['disk_refused']} refused with exit 7), failures {failures}, seed {seed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
