#!/usr/bin/env python3
"""Read a TokenVault vault without TokenVault.

    python3 scripts/recover.py [--json] [--passphrase-file PATH] [--key-file FILE] [VAULT]

A stand-alone decoder written from docs/FORMAT.md, needing only Python 3's standard library and
PyNaCl (`pip install pynacl`, libsodium's bindings). It copies the vault file and its `-wal`
into a private temporary folder, opens the copy read-only with sqlite3, asks for the passphrase
(the prompt, `--passphrase-file PATH`, or `TOKENVAULT_PASSPHRASE`) and, for a vault that needs
one, its key file (`--key-file FILE`, `TOKENVAULT_KEY_FILE`, or the `key-file` line of the
settings file `VAULT.settings` beside the vault, as `vault` finds it), prints every entry (token,
metadata, previous tokens, the trash), the vault's settings, its identity, its OpenBao remotes
(with their credentials) and the activity log, and checks everything the format lets a reader check: the header's binding, every record's
row and revision, the manifest's listing, the key ring, and the activity log's chain and
anchors. The original file is never opened by SQLite, never written.

Exit codes: 0 every check passed; 1 any other failure (no file, not a vault, unreadable);
2 usage; 3 wrong passphrase or key file, or none given; 4 a newer format or schema than this tool reads;
5 the vault was tampered with or is damaged (what verified is still printed).

Messages never hold a token, a passphrase or a key; only the output asked for holds tokens.
"""
import argparse
import datetime
import getpass
import json
import os
import re
import shutil
import sqlite3
import stat
import sys
import tempfile
import unicodedata

try:
    from nacl import bindings as sodium
    from nacl.exceptions import CryptoError
except ImportError:  # pragma: no cover - said to the user
    sys.stderr.write("recover.py: error: PyNaCl is missing: pip install pynacl\n")
    sys.exit(1)

PROG = "recover.py"

# docs/FORMAT.md, "Versions": what this reader knows.
FORMAT_VERSION = 1
SCHEMA_VERSION = 5

EXIT_OTHER, EXIT_USAGE, EXIT_LOCKED, EXIT_NEWER, EXIT_TAMPERED = 1, 2, 3, 4, 5

ARGON2ID13 = 2
OPSLIMIT_MIN, MEMLIMIT_MIN = 1, 8192
OPSLIMIT_SENSITIVE, MEMLIMIT_SENSITIVE = 4, 1 << 30
NONCE, MAC = 24, 16
KEY_BYTES = 32
LOOKUP_BYTES = 32
PREFIX_BYTES = 16
PAD_BLOCK = 64
CONTEXT = b"TokVault"
MAX_PASSPHRASE = 64 * 1024
# docs/FORMAT.md, "Key file (schema 5)".
KEY_FILE_TAG = 32
KEY_FILE_MIN, KEY_FILE_MAX = 32, 1 << 20
KEY_FILE_PERSONAL, KEK_PERSONAL = b"TokVault-keyfile", b"TokVault-kek-kf1"
KEY_FILE_VARIABLE = "TOKENVAULT_KEY_FILE"
SETTINGS_MAX = 16 * 1024

# Subkey ids (docs/FORMAT.md, "Key hierarchy").
MANIFEST, LOOKUP, METADATA, SECRET, EVENTS, CHAIN, USAGE, KEYRING = 1, 2, 3, 4, 6, 7, 8, 9

DEFAULT_SETTINGS = {"rotate_every": 90 * 86400, "trash_days": 30, "log_events": 10000, "log_days": 365,
                    "agent_autostart": 1}


class Failure(Exception):
    """A message for stderr (never a secret) and an exit code."""

    def __init__(self, message, code=EXIT_OTHER, hint=None):
        super().__init__(message)
        self.code = code
        self.hint = hint


# ---------------------------------------------------------------------------------------------
# Bytes

def u32(b, at):
    return int.from_bytes(b[at:at + 4], "little")


def u64(b, at):
    return int.from_bytes(b[at:at + 8], "little")


def i64(b):
    """A signed little-endian 64-bit integer, or None unless exactly 8 bytes."""
    return int.from_bytes(b, "little", signed=True) if len(b) == 8 else None


def fields(body):
    """Tag-length-value fields: tag (1 byte), length (u32 LE), value. Raises on a truncated one."""
    at, out = 0, []
    while at < len(body):
        if at + 5 > len(body):
            raise ValueError("a field is truncated")
        tag, length = body[at], u32(body, at + 1)
        if at + 5 + length > len(body):
            raise ValueError("a field is truncated")
        out.append((tag, bytes(body[at + 5:at + 5 + length])))
        at += 5 + length
    return out


def text(value):
    return value.decode("utf-8", "replace")


def unpad(plaintext):
    if len(plaintext) == 0 or len(plaintext) % PAD_BLOCK:
        return None
    try:
        return sodium.sodium_unpad(plaintext, PAD_BLOCK)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# Keys

def derive_subkey(key, subkey_id):
    """libsodium's crypto_kdf_derive_from_key (PyNaCl does not bind it), exactly as libsodium
    1.0.18 implements it: BLAKE2b with the master key as key, no message, the id as u64 LE in
    the first 8 bytes of a 16-byte salt, and the 8-byte context in the first 8 bytes of a
    16-byte personalisation."""
    salt = subkey_id.to_bytes(8, "little") + bytes(8)
    person = CONTEXT + bytes(8)
    return sodium.crypto_generichash_blake2b_salt_personal(b"", digest_size=KEY_BYTES, key=key, salt=salt,
                                                            person=person)


def keyed_hash(message, key):
    """crypto_generichash (BLAKE2b) with a key: 32 bytes."""
    return sodium.crypto_generichash_blake2b_salt_personal(message, digest_size=32, key=key)


def open_box(box, key):
    """nonce (24) || crypto_secretbox_easy: the plaintext, or None."""
    if not isinstance(box, bytes) or len(box) < NONCE + MAC:
        return None
    try:
        return sodium.crypto_secretbox_open_easy(box[NONCE:], box[:NONCE], key)
    except CryptoError:
        return None


def passphrase_key(passphrase, salt, ops, mem, alg):
    return sodium.crypto_pwhash_alg(KEY_BYTES, passphrase, salt, ops, mem, alg)


def key_file_digest(content):
    """F = BLAKE2b-256 of the key file's bytes, personalised "TokVault-keyfile"."""
    return sodium.crypto_generichash_blake2b_salt_personal(content, digest_size=KEY_BYTES, person=KEY_FILE_PERSONAL)


def key_file_kek(argon2, digest):
    """The KEK of a vault that needs a key file: BLAKE2b-256 of the Argon2id output, keyed with F,
    personalised "TokVault-kek-kf1"."""
    return sodium.crypto_generichash_blake2b_salt_personal(argon2, digest_size=KEY_BYTES, key=digest, person=KEK_PERSONAL)


class Keys:
    def __init__(self, vault_key):
        self.vault_key = vault_key
        self.sub = {i: derive_subkey(vault_key, i) for i in (MANIFEST, LOOKUP, METADATA, SECRET, EVENTS, CHAIN, USAGE,
                                                            KEYRING)}

    def lookup(self, name_bytes):
        return keyed_hash(name_bytes, self.sub[LOOKUP])


def open_record(box, key, lookup, revision):
    """A record's body, after checking its binding (version 1, lookup, revision); None when it
    does not open or belongs elsewhere."""
    plaintext = open_box(box, key)
    if plaintext is None:
        return None
    plain = unpad(plaintext)
    if plain is None or len(plain) < 41 or plain[0] != 1:
        return None
    if not sodium.sodium_memcmp(plain[1:33], lookup) or u64(plain, 33) != revision:
        return None
    return plain[41:]


# ---------------------------------------------------------------------------------------------
# Presentation, as `vault show --json` prints it

def iso8601(seconds):
    clamped = min(max(seconds, -62135596800), 253402300799)
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=clamped)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")


def date_string(seconds):
    return iso8601(seconds)[:10]


def whole_days(seconds):
    return int(seconds / 86400) if abs(seconds) < (1 << 52) else (abs(seconds) // 86400) * (1 if seconds >= 0 else -1)


def parse_url(stored):
    """The URL as the CLI shows it (scheme://host[/path], scheme and host lower case), and its host."""
    scheme, rest = "https", stored
    if "://" in stored:
        scheme, rest = stored.split("://", 1)
        if not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
            return None, None
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    authority, path = rest[:end], rest[end:]
    for stop in "?#":
        if stop in path:
            path = path[:path.index(stop)]
    path = path.strip("/")
    if "@" in authority:
        userinfo, authority = authority.rsplit("@", 1)
        if ":" in userinfo:
            return None, None
    if not authority or " " in authority or "\t" in authority:
        return None, None
    host = authority.lower()
    return scheme.lower() + "://" + host + ("/" + path if path else ""), host


def escape(value):
    """Text for a terminal: controls, format and separator characters made visible."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\x1b\n\r\t":
            out.append({"\x1b": "\\e", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20 or code == 0x7F:
            out.append("\\x%02X" % code)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append("\\u{%04X}" % code)
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Records

KINDS = ("gitlab", "github", "generic")


def decode_link(value):
    link = {"owner": None, "variable": None, "environment_scope": "*", "protected": False, "hidden": False,
            "pushed": None, "pending": None, "pending_reason": None}
    try:
        parts = fields(value)
    except ValueError:
        return None
    for tag, v in parts:
        if tag in (1, 2):
            link["owner"] = ("project" if tag == 1 else "group", text(v))
        elif tag == 3:
            link["variable"] = text(v)
        elif tag == 4:
            link["environment_scope"] = text(v)
        elif tag == 5:
            link["protected"] = v[:1] == b"\x01"
        elif tag == 6:
            link["hidden"] = v[:1] == b"\x02"
        elif tag in (7, 8):
            t = i64(v)
            link["pushed" if tag == 7 else "pending"] = iso8601(t) if t is not None else None
        elif tag == 9:
            link["pending_reason"] = text(v)
    if link["owner"] is None or link["variable"] is None:
        return None
    kind, path = link.pop("owner")
    return dict([(kind, path)] + list(link.items()))


def decode_gitlab_token(value):
    try:
        parts = fields(value)
    except ValueError:
        return None
    ids = [i64(v) for tag, v in parts if tag == 1]
    return ids[-1] if ids and ids[-1] is not None and ids[-1] > 0 else None


def decode_metadata(body, now):
    """An entry's metadata body as `vault show --json` prints it (plus token_since)."""
    e = {"name": None, "kind": "generic", "url": None, "host": None, "username": None, "scopes": [],
         "expires": None, "expired": False, "notes": None, "created": iso8601(0), "updated": iso8601(0),
         "last_used": None, "rejected": None, "revoked": None, "rotation_started": None, "git_default": False,
         "stored_by_git": False, "rotate_every_days": None, "deleted": None, "gitlab_links": [],
         "gitlab_token_id": None, "token_since": None, "auth_type": None}
    times = {6: "expires", 8: "created", 9: "updated", 12: "rejected", 14: "token_since", 15: "deleted",
             16: "revoked", 17: "rotation_started"}
    expires = None
    for tag, v in fields(body):
        if tag == 1:
            e["name"] = text(v)
        elif tag == 2:
            e["url"], e["host"] = parse_url(text(v))
        elif tag == 3:
            e["username"] = text(v)
        elif tag == 4:
            e["kind"] = text(v) if text(v) in KINDS else "generic"
        elif tag == 5:
            e["scopes"].append(text(v))
        elif tag in times:
            t = i64(v)
            if tag == 6:
                expires = t
                e["expires"] = date_string(t) if t is not None else None
            elif tag in (8, 9):
                if t is not None:
                    e[times[tag]] = iso8601(t)
            else:
                e[times[tag]] = iso8601(t) if t is not None else None
        elif tag == 7:
            e["notes"] = text(v)
        elif tag == 11:
            e["git_default"] = v[:1] == b"\x01"
        elif tag == 13:
            t = i64(v)
            e["rotate_every_days"] = whole_days(t) if t is not None else None
        elif tag == 18:
            e["auth_type"] = text(v)
        elif tag == 19:
            e["stored_by_git"] = v[:1] == b"\x01"
        elif tag == 20:
            link = decode_link(v)
            if link is not None:
                e["gitlab_links"].append(link)
        elif tag == 21:
            if e["gitlab_token_id"] is None:
                e["gitlab_token_id"] = decode_gitlab_token(v)
        # Tag 10 is retired; any other tag is a later version's field: skipped.
    if e["name"] is None:
        raise ValueError("an entry has no name")
    e["expired"] = expires is not None and expires <= now
    return e


def decode_secret(body):
    current, previous, refresh = None, [], None
    for tag, v in fields(body):
        if tag == 1:
            current = v
        elif tag == 2:
            if len(v) < 8:
                raise ValueError("a previous version of a token is truncated")
            previous.append((i64(v[:8]), v[8:]))
        elif tag == 3:
            refresh = v
    if current is None:
        raise ValueError("a secret record holds no token")
    return current, previous, refresh


def token_text(secret):
    return secret.decode("utf-8", "replace")


def decode_remote(record):
    """An OpenBao remote (a key-ring record of kind 3, docs/FORMAT.md "Key-ring body"), or None
    when a field it needs is missing: its name (7), added (6), URLs (10, joined by LF), mount
    (11), prefix (12), optional namespace (13) and CA file (14), and its credential, a token
    (15) or an AppRole role id and secret id (16, 17)."""
    added = i64(record.get(6, b""))
    if added is None or any(tag not in record for tag in (7, 10, 11, 12)):
        return None
    if 15 in record:
        credential = {"type": "token", "token": token_text(record[15])}
    elif 16 in record and 17 in record:
        credential = {"type": "approle", "role_id": text(record[16]), "secret_id": token_text(record[17])}
    else:
        return None

    def optional(tag):
        return text(record[tag]) if tag in record else None
    return {"name": text(record[7]), "added": iso8601(added), "urls": [text(u) for u in record[10].split(b"\n") if u],
            "mount": text(record[11]), "prefix": text(record[12]), "namespace": optional(13), "ca_file": optional(14),
            "credential": credential}


# ---------------------------------------------------------------------------------------------
# The manifest

def parse_manifest(plain):
    """The manifest's fields, or None when it does not parse."""
    if plain is None or len(plain) < 72 or plain[:4] != b"TVM1":
        return None
    m = {"vault_id": plain[4:20], "format": u32(plain, 20), "kdf_alg": u32(plain, 24), "kdf_ops": u64(plain, 28),
         "kdf_mem": u64(plain, 36), "salt": plain[44:60], "generation": u64(plain, 60)}
    count = u32(plain, 68)
    at = 72
    if len(plain) < at + count * 24:
        return None
    m["records"] = {}
    for i in range(count):
        record = plain[at + i * 24:at + (i + 1) * 24]
        m["records"][bytes(record[:16])] = u64(record, 16)
    m["record_count"] = count
    try:
        tail = fields(plain[at + count * 24:])
    except ValueError:
        return None
    settings = dict(DEFAULT_SETTINGS)
    m["api_urls"], m["admins"], m["keyring"] = {}, {}, {}
    m["pruned"] = m["head"] = None
    m["key_file"] = False
    for tag, v in tail:
        if tag in (1, 2, 3, 4, 5):
            t = i64(v)
            if t is not None:
                settings[{1: "rotate_every", 2: "trash_days", 3: "log_events", 4: "log_days", 5: "agent_autostart"}[tag]] = t
        elif tag == 8 and b"\x00" in v:
            host, url = v.split(b"\x00", 1)
            m["api_urls"][text(host)] = text(url)
        elif tag == 9:
            pair = dict(fields(v))
            if 1 in pair and 2 in pair:
                m["admins"][text(pair[1])] = text(pair[2])
        elif tag in (16, 17):
            if len(v) < 40:
                return None
            m["pruned" if tag == 16 else "head"] = (u64(v, 0), bytes(v[8:40]))
        elif tag == 18:
            if len(v) % 40:
                return None
            for i in range(0, len(v), 40):
                m["keyring"][bytes(v[i:i + 32])] = u64(v, i + 32)
        elif tag == KEY_FILE_TAG:
            # Binds the header's key_file: the integer 1, at most once; anything else is tampering.
            m["key_file"] = None if m["key_file"] is not False or i64(v) != 1 else True
        # Any other tag is a later version's setting: skipped.
    m["settings"] = settings
    return m


def settings_json(m):
    s = m["settings"]
    shown = {"rotate-every": "%dd" % whole_days(s["rotate_every"]), "trash-days": str(s["trash_days"]),
             "log-events": str(s["log_events"]), "log-days": str(s["log_days"]),
             "agent-autostart": "on" if s["agent_autostart"] != 0 else "off"}
    for host in sorted(m["api_urls"]):
        shown["gitlab-api-url." + host] = m["api_urls"][host]
    for host in sorted(m["admins"]):
        shown["gitlab-admin." + host] = m["admins"][host]
    return shown


# ---------------------------------------------------------------------------------------------
# Identities

B32 = "abcdefghijklmnopqrstuvwxyz234567"


def base32(data):
    bits, value, out = 0, 0, []
    for byte in data:
        value = (value << 8) | byte
        bits += 8
        while bits >= 5:
            out.append(B32[(value >> (bits - 5)) & 31])
            bits -= 5
        value &= (1 << bits) - 1
    if bits:
        out.append(B32[(value << (5 - bits)) & 31])
    return "".join(out)


def identity_text(keys64):
    checksum = sodium.crypto_generichash_blake2b_salt_personal(b"tvid1" + keys64, digest_size=16)[:4]
    return "tvid1-" + base32(keys64 + checksum)


# ---------------------------------------------------------------------------------------------
# Copying and opening

def copy_vault(path, folder):
    """Copies the vault and its -wal (not -shm: SQLite rebuilds it from the log) into `folder`,
    again while either changed during the copy (a writer was folding the log)."""
    target = os.path.join(folder, "vault.db")
    for _ in range(5):
        before = [os.stat(p) if os.path.exists(p) else None for p in (path, path + "-wal")]
        for suffix in ("", "-wal"):
            if os.path.exists(target + suffix):
                os.unlink(target + suffix)
            if os.path.exists(path + suffix):
                with open(path + suffix, "rb") as src, \
                        os.fdopen(os.open(target + suffix, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as dst:
                    shutil.copyfileobj(src, dst)
        after = [os.stat(p) if os.path.exists(p) else None for p in (path, path + "-wal")]
        same = all((a is None and b is None) or (a and b and (a.st_mtime_ns, a.st_size, a.st_ino) ==
                                                 (b.st_mtime_ns, b.st_size, b.st_ino)) for a, b in zip(before, after))
        if same:
            return target
    raise Failure("the vault kept changing while it was copied", hint="stop every vault command and the agent, then try again")


# docs/FORMAT.md, "Schema": each migration's SQL, as SQLite keeps it in sqlite_master.
CREATE_SQL = {
    "vault": """CREATE TABLE vault (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    format      INTEGER NOT NULL,
    vault_id    BLOB NOT NULL,
    kdf_alg     INTEGER NOT NULL,
    kdf_ops     INTEGER NOT NULL,
    kdf_mem     INTEGER NOT NULL,
    kdf_salt    BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    manifest    BLOB NOT NULL
)""",
    "entries": """CREATE TABLE entries (
    id       INTEGER PRIMARY KEY,
    lookup   BLOB NOT NULL UNIQUE,
    metadata BLOB NOT NULL,
    secret   BLOB NOT NULL
)""",
    "usage": """CREATE TABLE usage (
    lookup BLOB PRIMARY KEY,
    sealed BLOB NOT NULL
)""",
    "events": """CREATE TABLE events (
    seq    INTEGER PRIMARY KEY,
    sealed BLOB NOT NULL,
    mac    BLOB NOT NULL
)""",
    "keyring": """CREATE TABLE keyring (
    lookup BLOB PRIMARY KEY,
    sealed BLOB NOT NULL
)""",
}
# Schema: (tables it creates, SQLite's automatic indexes of its tables).
MIGRATIONS = {1: (("vault", "entries"), ("sqlite_autoindex_entries_1",)), 2: (("usage",), ("sqlite_autoindex_usage_1",)),
              3: (("events",), ()), 4: (("keyring",), ("sqlite_autoindex_keyring_1",)), 5: ((), ())}
# Migration 5's `ALTER TABLE vault ADD COLUMN ...`: SQLite writes ", DEFINITION" just before the
# closing parenthesis of the table's SQL.
KEY_FILE_COLUMN = "key_file INTEGER NOT NULL DEFAULT 0 CHECK (key_file IN (0, 1))"


def fold(sql):
    """Every run of spaces, tabs, line feeds and carriage returns folded into one space, trimmed."""
    return " ".join(part for part in re.split(r"[ \t\n\r]+", sql) if part)


def expected_objects(version):
    """sqlite_master of a vault of this schema: (type, name, table, folded SQL or None)."""
    objects = set()
    for step in range(1, version + 1):
        tables, indexes = MIGRATIONS[step]
        for table in tables:
            sql = CREATE_SQL[table]
            if table == "vault" and version >= 5:
                sql = sql[:sql.rindex(")")] + ", " + KEY_FILE_COLUMN + ")"
            objects.add(("table", table, table, fold(sql)))
        for index in indexes:
            objects.add(("index", index, index.split("_")[2], None))
    return objects


def open_database(copy):
    try:
        db = sqlite3.connect(copy)
        db.execute("PRAGMA trusted_schema = OFF")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError:
        raise Failure("the file is not a TokenVault vault (SQLite cannot read it)")
    if version == 0:
        raise Failure("the file is not a TokenVault vault (its schema version is 0)")
    if version > SCHEMA_VERSION:
        raise Failure("the vault has schema version %d; this tool reads up to %d" % (version, SCHEMA_VERSION),
                      EXIT_NEWER, "use a newer recover.py (docs/FORMAT.md, 'Versions')")
    if version < 0:
        raise Failure("the vault's schema version is %d" % version, EXIT_TAMPERED)
    # Exactly TokenVault's tables, defined as it defines them, and SQLite's own indexes for them:
    # a view or trigger would run when read, a changed definition changes what a write saves.
    found = {(t, n, tb, fold(sql) if isinstance(sql, str) else sql) for t, n, tb, sql in rows}
    expected = expected_objects(version)
    for kind, name, _, _ in sorted(found - expected, key=lambda o: str(o[1])):
        if any(kind == e[0] and name == e[1] for e in expected):
            raise Failure("its %s '%s' is not defined as TokenVault defines it" % (kind, escape(str(name))), EXIT_TAMPERED)
        raise Failure("the vault's database holds a %s TokenVault never creates" % (
            kind if kind in ("view", "trigger") else "table or index"), EXIT_TAMPERED)
    for kind, name, _, _ in sorted(expected - found):
        raise Failure("the vault's %s '%s' is missing" % (kind, name), EXIT_TAMPERED)
    db.execute("PRAGMA query_only = ON")
    return db, version


def read_header(db, schema):
    # Schema 5 adds key_file; before it, the passphrase alone unlocks.
    rows = db.execute("SELECT format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest, %s "
                      "FROM vault WHERE id = 1" % ("key_file" if schema >= 5 else "0")).fetchall()
    if len(rows) != 1:
        raise Failure("the vault header is missing", EXIT_TAMPERED)
    h = dict(zip(("format", "vault_id", "kdf_alg", "kdf_ops", "kdf_mem", "salt", "wrapped_key", "manifest", "key_file"),
                 rows[0]))
    if h["key_file"] not in (0, 1) or not isinstance(h["key_file"], int):
        raise Failure("the vault header's key_file is neither 0 nor 1", EXIT_TAMPERED)
    for name in ("format", "kdf_alg", "kdf_ops", "kdf_mem"):
        if not isinstance(h[name], int) or h[name] < 0:
            raise Failure("the vault header's %s is not a number" % name, EXIT_TAMPERED)
    lengths = {"vault_id": 16, "salt": 16, "wrapped_key": NONCE + MAC + KEY_BYTES, "manifest": None}
    for name, length in lengths.items():
        if not isinstance(h[name], bytes) or (length is not None and len(h[name]) != length):
            raise Failure("the vault header's %s is damaged" % name, EXIT_TAMPERED)
    if h["format"] > FORMAT_VERSION:
        raise Failure("the vault has format version %d; this tool reads version %d" % (h["format"], FORMAT_VERSION),
                      EXIT_NEWER, "use a newer recover.py (docs/FORMAT.md, 'Versions')")
    return h


# ---------------------------------------------------------------------------------------------
# Reading the whole vault

class Reader:
    def __init__(self, db, schema, header, keys, now):
        self.db, self.schema, self.header, self.keys, self.now = db, schema, header, keys, now
        self.problems = []

    def problem(self, message):
        if message not in self.problems:
            self.problems.append(message)

    def blob(self, value, what, length=None):
        if not isinstance(value, bytes) or (length is not None and len(value) != length):
            self.problem("%s is not stored as %s" % (what, "%d bytes" % length if length else "bytes"))
            return None
        return value

    def read(self):
        m = parse_manifest(unpad(open_box(self.header["manifest"], self.keys.sub[MANIFEST]) or b""))
        if m is None:
            raise Failure("the vault header was tampered with (its manifest does not open)", EXIT_TAMPERED)
        h = self.header
        if (m["vault_id"], m["format"], m["kdf_alg"], m["kdf_ops"], m["kdf_mem"], m["salt"]) != \
                (h["vault_id"], h["format"], h["kdf_alg"], h["kdf_ops"], h["kdf_mem"], h["salt"]):
            raise Failure("the vault header was tampered with (its columns differ from the manifest's)", EXIT_TAMPERED)
        if m["key_file"] is None:
            raise Failure("the vault header was tampered with (the manifest's key-file field is damaged)", EXIT_TAMPERED)
        if m["key_file"] != bool(h["key_file"]):
            raise Failure("the vault header was tampered with (its key_file column differs from the manifest's)",
                          EXIT_TAMPERED)
        self.manifest = m
        usage = self.read_usage()
        entries = self.read_entries(usage)
        identity, trusted, remotes, skipped = self.read_keyring() if self.schema >= 4 else (None, [], [], [])
        log = self.read_log() if self.schema >= 3 else {"verified": True, "problem": None, "events": []}
        if log["problem"]:
            self.problem("the activity log: " + log["problem"])
        return {"format": h["format"], "schema": self.schema, "vault_id": h["vault_id"].hex(), "key_file": m["key_file"],
                "kdf": {"algorithm": h["kdf_alg"], "opslimit": h["kdf_ops"], "memlimit": h["kdf_mem"]},
                "entries": entries, "settings": settings_json(m), "identity": identity, "trusted": trusted,
                "remotes": remotes, "keyring_skipped": skipped, "log": log, "verified": not self.problems, "problems": self.problems}

    def read_usage(self):
        if self.schema < 2:
            return {}
        found = {}
        for lookup, sealed in self.db.execute("SELECT lookup, sealed FROM usage"):
            if self.blob(lookup, "a last-used time's lookup", LOOKUP_BYTES) and self.blob(sealed, "a last-used time"):
                found[lookup] = sealed
        return found

    def read_entries(self, usage):
        m, keys = self.manifest, self.keys
        entries, seen = [], set()
        for rowid, lookup, metadata, secret in self.db.execute("SELECT id, lookup, metadata, secret FROM entries"):
            what = "entry row %s" % rowid
            if not (self.blob(lookup, what + "'s lookup", LOOKUP_BYTES) and self.blob(metadata, what + "'s metadata")
                    and self.blob(secret, what + "'s secret")):
                continue
            revision = m["records"].get(lookup[:PREFIX_BYTES])
            if revision is None or lookup[:PREFIX_BYTES] in seen:
                self.problem("%s is not listed in the manifest (added or copied)" % what)
                continue
            seen.add(lookup[:PREFIX_BYTES])
            meta_body = open_record(metadata, keys.sub[METADATA], lookup, revision)
            secret_body = open_record(secret, keys.sub[SECRET], lookup, revision)
            if meta_body is None or secret_body is None:
                self.problem("%s does not open at its revision, or belongs to another row (changed, moved or "
                             "put back from an older copy)" % what)
                continue
            try:
                entry = decode_metadata(meta_body, self.now)
                current, previous, refresh = decode_secret(secret_body)
            except ValueError as error:
                self.problem("%s is damaged: %s" % (what, error))
                continue
            if keys.lookup(entry["name"].encode("utf-8", "surrogatepass")) != lookup:
                self.problem("%s holds another entry's name" % what)
                continue
            if lookup in usage:
                body = open_record(usage[lookup], keys.sub[USAGE], lookup, 0)
                t = i64(body) if body is not None else None
                if t is None:
                    self.problem("the last-used time of %s does not open, or belongs to another entry" % what)
                else:
                    entry["last_used"] = iso8601(t)
            entry["secret"] = token_text(current)
            entry["refresh_token"] = token_text(refresh) if refresh is not None else None
            entry["history"] = [{"version": i + 1, "replaced": iso8601(t if t is not None else 0), "secret": token_text(s)}
                                for i, (t, s) in enumerate(previous)]
            entries.append(entry)
        if len(seen) != m["record_count"]:
            self.problem("%d entries the manifest lists are missing" % (m["record_count"] - len(seen)))
        return sorted(entries, key=lambda e: e["name"])

    def read_keyring(self):
        listing, keys = self.manifest["keyring"], self.keys
        identity, trusted, remotes, skipped, seen = None, [], [], [], set()
        for lookup, sealed in self.db.execute("SELECT lookup, sealed FROM keyring"):
            if not (self.blob(lookup, "a key-ring row's lookup", LOOKUP_BYTES) and self.blob(sealed, "a key-ring row")):
                continue
            revision = listing.get(lookup)
            if revision is None:
                self.problem("a key-ring row is not listed in the manifest")
                continue
            seen.add(lookup)
            body = open_record(sealed, keys.sub[KEYRING], lookup, revision)
            if body is None:
                self.problem("a key-ring row does not open at its revision, or belongs to another row")
                continue
            try:
                record = dict(fields(body))
            except ValueError:
                self.problem("a key-ring row is damaged")
                continue
            kind = record.get(1, b"")
            created = i64(record.get(6, b""))
            if kind == b"\x01" and len(record.get(2, b"")) == 32 and len(record.get(4, b"")) == 32:
                if keys.lookup(b"\x00identity") != lookup:
                    self.problem("the vault's identity is in another row")
                    continue
                identity = identity_text(record[2] + record[4])
            elif kind == b"\x02" and 7 in record and len(record.get(8, b"")) == 64:
                if keys.lookup(b"\x00trusted\x00" + record[7]) != lookup:
                    self.problem("a trusted identity is in another row")
                    continue
                trusted.append({"name": text(record[7]), "identity": identity_text(record[8]),
                                "added": iso8601(created if created is not None else 0)})
            elif kind == b"\x03":
                remote = decode_remote(record)
                if remote is None:
                    self.problem("an OpenBao remote in the key ring is damaged")
                    continue
                if keys.lookup(b"\x00remote\x00" + record[7]) != lookup:
                    self.problem("an OpenBao remote is in another row")
                    continue
                remotes.append(remote)
            else:
                # A kind this version does not know (a later version's): not an error.
                skipped.append(kind[0] if len(kind) == 1 else None)
        if len(seen) != len(listing):
            self.problem("%d key-ring rows the manifest lists are missing" % (len(listing) - len(seen)))
        return identity, sorted(trusted, key=lambda t: t["name"]), sorted(remotes, key=lambda r: r["name"]), skipped

    def read_log(self):
        m, keys = self.manifest, self.keys
        pruned_seq, pruned_mac = m["pruned"] if m["pruned"] else (0, bytes(32))
        previous, expected = pruned_mac, pruned_seq + 1
        events, macs, problem = [], {}, None
        for seq, sealed, mac in self.db.execute("SELECT seq, sealed, mac FROM events ORDER BY seq"):
            if not isinstance(seq, int) or seq <= 0:
                problem = problem or "an event has an impossible sequence number"
                continue
            if not isinstance(sealed, bytes) or not isinstance(mac, bytes):
                problem = problem or "event %d is not stored as sealed bytes: it was changed" % seq
                previous, expected = b"", seq + 1
                continue
            if problem is None:
                if seq != expected:
                    problem = "event %d is missing" % expected if seq > expected else "event %d is out of place" % seq
                elif keyed_hash(previous + seq.to_bytes(8, "little") + sealed, keys.sub[CHAIN]) != mac:
                    problem = "event %d was changed, moved or removed" % seq
            body = open_record(sealed, keys.sub[EVENTS], bytes(32), seq)
            event = None
            if body is not None:
                try:
                    event = self.decode_event(seq, body)
                except ValueError:
                    event = None
            if event is None:
                problem = problem or "event %d does not open: it was changed" % seq
            else:
                events.append(event)
            macs[seq] = mac
            previous, expected = mac, seq + 1
        head = m["head"]
        if problem is None and head and head[0] > pruned_seq and macs.get(head[0]) != head[1]:
            problem = ("events up to %d were cut off the end of the log" % head[0] if head[0] >= expected
                       else "event %d was changed" % head[0])
        anchored = max(head[0] if head else 0, pruned_seq)
        if problem is None:
            for event in events:
                action = event["action"]
                if event["sequence"] > anchored and not (action == "read" or action.startswith("read ")):
                    problem = ("event %d records a change made after the vault header was written: the header and "
                               "entries were put back from an older copy" % event["sequence"])
                    break
        return {"verified": problem is None, "problem": problem, "events": events}

    @staticmethod
    def decode_event(seq, body):
        e = {"sequence": seq, "time": iso8601(0), "action": "", "entry": None, "actor": "", "parent_pid": None,
             "parent": None, "detail": None}
        for tag, v in fields(body):
            if tag == 1:
                t = i64(v)
                e["time"] = iso8601(t if t is not None else 0)
            elif tag in (2, 3, 4, 6, 7):
                e[{2: "action", 3: "entry", 4: "actor", 6: "parent", 7: "detail"}[tag]] = text(v)
            elif tag == 5:
                e["parent_pid"] = i64(v)
        return e


# ---------------------------------------------------------------------------------------------
# The passphrase

def first_line(data):
    line = data.split(b"\n", 1)[0] if b"\n" in data else data
    if b"\n" in data and line.endswith(b"\r"):
        line = line[:-1]
    return line


def passphrase(args):
    if args.passphrase_file:
        try:
            with open(args.passphrase_file, "rb") as f:
                data = f.read(MAX_PASSPHRASE + 1)
        except OSError as error:
            raise Failure("cannot read the passphrase file: %s" % error.strerror, EXIT_LOCKED)
        if len(data) > MAX_PASSPHRASE and b"\n" not in data[:MAX_PASSPHRASE + 1]:
            raise Failure("the passphrase file's first line is longer than 64 KiB", EXIT_LOCKED)
        value = first_line(data)
    elif os.environb.get(b"TOKENVAULT_PASSPHRASE") is not None:
        value = os.environb[b"TOKENVAULT_PASSPHRASE"]
    else:
        if not sys.stdin.isatty():
            raise Failure("no passphrase: give --passphrase-file PATH, set TOKENVAULT_PASSPHRASE, or run on a terminal",
                          EXIT_LOCKED)
        entered = getpass.getpass("Passphrase for the vault: ")
        value = entered.encode(sys.stdin.encoding or "utf-8", "surrogateescape")
    if not value:
        raise Failure("the passphrase is empty", EXIT_LOCKED)
    return value


# ---------------------------------------------------------------------------------------------
# The key file (docs/FORMAT.md, "Key file (schema 5)")

def settings_key_file(vault_path):
    """The key-file line of VAULT.settings beside the vault, read as the CLI reads it (hostile
    input): None when the file does not exist or names no key file."""
    path = vault_path + ".settings"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise Failure("cannot open the settings file '%s': %s" % (escape(path), error.strerror))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Failure("the settings file '%s' is not a regular file" % escape(path))
        if info.st_uid != os.geteuid():
            raise Failure("the settings file '%s' belongs to another user" % escape(path))
        if info.st_mode & 0o077:
            raise Failure("the settings file '%s' is open to other users" % escape(path), hint="chmod 600 '%s'" % escape(path))
        data = f.read(SETTINGS_MAX + 1)
    if len(data) > SETTINGS_MAX:
        raise Failure("the settings file '%s' is longer than %d bytes" % (escape(path), SETTINGS_MAX))
    names = set()
    found = None
    for number, line in enumerate(data.split(b"\n"), 1):
        def refuse(why):
            return Failure("the settings file '%s', line %d: %s" % (escape(path), number, why))
        if any(b < 0x20 or b == 0x7F for b in line):
            raise refuse("a control character")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("not UTF-8")
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise refuse("not name=value")
        name, value = line.split("=", 1)
        if not name or not all("a" <= c <= "z" or c == "-" for c in name):
            raise refuse("a name of other characters than a-z and -")
        if name in names:
            raise refuse("'%s' a second time" % name)
        names.add(name)
        if name == "key-file":
            if not value.startswith("/") or len(value.encode()) > 4096:
                raise refuse("key-file is not an absolute path")
            found = value
    return found


def locate_key_file(args, vault_path):
    """The key file's path and what named it, in the CLI's order: --key-file, TOKENVAULT_KEY_FILE,
    the settings file beside the vault. None when none does."""
    if args.key_file:
        return args.key_file, "--key-file"
    if os.environ.get(KEY_FILE_VARIABLE):
        return os.environ[KEY_FILE_VARIABLE], KEY_FILE_VARIABLE
    path = settings_key_file(vault_path)
    return (path, "the key-file line of '%s'" % escape(vault_path + ".settings")) if path else None


def read_key_file(path, source):
    """F of the key file at `path`: a regular file of this user that no one else may read or
    write, of 32 bytes to 1 MiB, read whole. Missing or not a key file: exit 3, as the CLI."""
    hint = "the key file's path came from %s" % source
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as error:
        raise Failure("cannot open the key file '%s': %s" % (escape(path), error.strerror), EXIT_LOCKED, hint)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Failure("the key file '%s' is not a regular file" % escape(path), EXIT_LOCKED, hint)
        if info.st_uid != os.geteuid():
            raise Failure("the key file '%s' belongs to another user" % escape(path))
        if info.st_mode & 0o077:
            raise Failure("the key file '%s' is readable by other users (mode %o)" % (escape(path), info.st_mode & 0o777),
                          hint="chmod 600 '%s'" % escape(path))
        content = f.read(KEY_FILE_MAX + 1)
    if not KEY_FILE_MIN <= len(content) <= KEY_FILE_MAX:
        raise Failure("the key file '%s' has %d bytes: a key file has from 32 bytes to 1 MiB" % (escape(path), len(content)),
                      EXIT_LOCKED, hint)
    return key_file_digest(content)


def key_file_digest_for(header, args, vault_path):
    """F for a vault that needs a key file (or a failure saying none was given); for one that
    needs none, F of a key file a source names and that reads (to find a changed header), else None."""
    if not header["key_file"]:
        try:
            located = locate_key_file(args, vault_path)
            return read_key_file(*located) if located else None
        except Failure:
            return None
    located = locate_key_file(args, vault_path)
    if located is None:
        raise Failure("this vault needs its key file as well as the passphrase, and no key file was given", EXIT_LOCKED,
                      "give it with --key-file FILE or %s, or the key-file line of '%s'" % (
                          KEY_FILE_VARIABLE, escape(vault_path + ".settings")))
    return read_key_file(*located)


# ---------------------------------------------------------------------------------------------
# Output

def print_text(vault):
    out = sys.stdout
    out.write("vault format %d, schema %d, id %s%s\n" % (vault["format"], vault["schema"], vault["vault_id"],
                                                     ", needs a key file" if vault["key_file"] else ""))
    labels = [("kind", "kind"), ("url", "url"), ("username", "username"), ("scopes", "scopes"), ("expires", "expires"),
              ("notes", "notes"), ("created", "created"), ("updated", "updated"), ("last_used", "last used"),
              ("token_since", "token since"), ("rejected", "rejected"), ("revoked", "revoked"),
              ("rotation_started", "rotation"), ("rotate_every_days", "rotate days"), ("deleted", "trash since"),
              ("gitlab_token_id", "gitlab id"), ("auth_type", "authtype")]
    for e in vault["entries"]:
        out.write("\n[%s]%s\n" % (escape(e["name"]), " (in the trash)" if e["deleted"] else ""))
        for key, label in labels:
            value = e[key]
            if value is None or value == [] or value is False:
                continue
            if isinstance(value, list):
                value = ",".join(value)
            out.write("  %-12s %s\n" % (label + ":", escape(str(value))))
        if e["git_default"]:
            out.write("  %-12s %s\n" % ("git:", "the default for its host"))
        for link in e["gitlab_links"]:
            out.write("  %-12s %s\n" % ("link:", escape(json.dumps(link, ensure_ascii=False))))
        out.write("  %-12s %s\n" % ("token:", escape(e["secret"])))
        if e["refresh_token"] is not None:
            out.write("  %-12s %s\n" % ("refresh:", escape(e["refresh_token"])))
        for version in e["history"]:
            out.write("  %-12s %s (replaced %s)\n" % ("version %d:" % version["version"], escape(version["secret"]),
                                                    version["replaced"]))
    out.write("\nsettings:\n")
    for key, value in vault["settings"].items():
        out.write("  %s %s\n" % (escape(key), escape(value)))
    if vault["identity"]:
        out.write("identity: %s\n" % vault["identity"])
    for t in vault["trusted"]:
        out.write("trusted: %s %s (added %s)\n" % (escape(t["name"]), t["identity"], t["added"]))
    for r in vault["remotes"]:
        out.write("remote: %s (added %s)\n" % (escape(r["name"]), r["added"]))
        out.write("  %-12s %s\n" % ("urls:", escape(" ".join(r["urls"]))))
        out.write("  %-12s %s\n" % ("mount:", escape(r["mount"])))
        out.write("  %-12s %s\n" % ("prefix:", escape(r["prefix"])))
        for key, label in (("namespace", "namespace:"), ("ca_file", "ca file:")):
            if r[key] is not None:
                out.write("  %-12s %s\n" % (label, escape(r[key])))
        c = r["credential"]
        if c["type"] == "token":
            out.write("  %-12s %s\n" % ("token:", escape(c["token"])))
        else:
            out.write("  %-12s %s\n" % ("role id:", escape(c["role_id"])))
            out.write("  %-12s %s\n" % ("secret id:", escape(c["secret_id"])))
    for kind in vault["keyring_skipped"]:
        out.write("key ring: a record of kind %s: unknown, skipped\n" % kind)
    log = vault["log"]
    out.write("activity log: %d events%s\n" % (len(log["events"]), ", chain verified" if log["verified"] else ""))
    for ev in log["events"]:
        out.write("  %s  %s  %s  %s%s\n" % (ev["time"], escape(ev["action"]), escape(ev["entry"] or "-"), escape(ev["actor"]),
                                         " (%s)" % escape(ev["detail"]) if ev["detail"] else ""))


def check_known_answers(path):
    """Checks this tool's key derivation (Argon2id, the subkeys it derives itself, the blind
    index, opening a record, the chain MAC, a key file's KEK) against Tests/Vectors/known-answers.json. Prints
    the names of the values that differ, never a value."""
    with open(path, encoding="utf-8") as f:
        ka = json.load(f)
    h = bytes.fromhex
    kdf = ka["kdf"]
    results = {}
    kek = passphrase_key(h(ka["passphrase_utf8_hex"]), h(kdf["salt"]), kdf["opslimit"], kdf["memlimit"], kdf["algorithm"])
    results["kek"] = kek == h(kdf["kek"])
    vault_key = open_box(h(ka["wrapped_key"]), kek)
    results["vault_key"] = vault_key == h(ka["vault_key"])
    keys = Keys(h(ka["vault_key"]))
    for subkey_id, value in ka["subkeys"].items():
        results["subkey " + subkey_id] = derive_subkey(h(ka["vault_key"]), int(subkey_id)) == h(value)
    results["lookup"] = keys.lookup(ka["lookup"]["name"].encode()) == h(ka["lookup"]["lookup"])
    record = ka["sealed_record"]
    results["sealed_record"] = open_box(h(record["sealed"]), keys.sub[record["subkey"]]) == h(record["plaintext"])
    chain = ka["chain_mac"]
    mac_input = h(chain["previous"]) + chain["sequence"].to_bytes(8, "little") + h(chain["sealed"])
    results["chain_mac"] = mac_input == h(chain["input"]) and keyed_hash(mac_input, keys.sub[CHAIN]) == h(chain["mac"])
    kf = ka.get("key_file")
    if kf is not None:
        # A vault that needs a key file: Argon2id, F, the KEK, and the vault key it unwraps.
        kdf = kf["kdf"]
        argon2 = passphrase_key(h(kf["passphrase_utf8_hex"]), h(kdf["salt"]), kdf["opslimit"], kdf["memlimit"],
                                kdf["algorithm"])
        results["key_file argon2"] = argon2 == h(kf["argon2"])
        digest = key_file_digest(h(kf["key_file"]))
        results["key_file file_digest"] = digest == h(kf["file_digest"])
        results["key_file kek"] = key_file_kek(argon2, digest) == h(kf["kek"])
        results["key_file vault_key"] = open_box(h(kf["wrapped_key"]), key_file_kek(argon2, digest)) == h(kf["vault_key"])
    failed = [name for name, ok in results.items() if not ok]
    for name in failed:
        sys.stderr.write("%s: error: known answer '%s' differs\n" % (PROG, name))
    if not failed:
        sys.stderr.write("%s: all %d known answers equal\n" % (PROG, len(results)))
    return EXIT_OTHER if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="Print every entry of a TokenVault vault, without TokenVault (docs/FORMAT.md).",
        epilog="The passphrase: --passphrase-file PATH (its first line), else TOKENVAULT_PASSPHRASE (as it is), else "
               "a prompt. Exit codes: 0 verified, 1 failure, 2 usage, 3 wrong or no passphrase or key file, 4 newer version, "
               "5 tampered or damaged.")
    parser.add_argument("vault", nargs="?", help="the vault file (default: $TOKENVAULT_PATH, "
                                                 "$XDG_DATA_HOME/tokenvault/vault.db, ~/.local/share/tokenvault/vault.db)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--passphrase-file", metavar="PATH", help="read the passphrase from the first line of PATH")
    parser.add_argument("--key-file", metavar="FILE", help="the vault's key file, when it needs one (else "
                                                           "TOKENVAULT_KEY_FILE, else the key-file line of VAULT.settings)")
    parser.add_argument("--allow-costly-kdf", action="store_true",
                        help="accept a key derivation costlier than libsodium's 'sensitive' (at most 4 times)")
    parser.add_argument("--check-known-answers", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check_known_answers:
        return check_known_answers(args.check_known_answers)
    path = args.vault or os.environ.get("TOKENVAULT_PATH") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "tokenvault", "vault.db")
    folder = None
    try:
        if not os.path.isfile(path):
            raise Failure("no vault file at '%s'" % escape(path))
        folder = tempfile.mkdtemp(prefix="tokenvault-recover-")
        os.chmod(folder, stat.S_IRWXU)
        db, schema = open_database(copy_vault(path, folder))
        header = read_header(db, schema)
        if header["kdf_alg"] != ARGON2ID13 or not (OPSLIMIT_MIN <= header["kdf_ops"] <= 4 * OPSLIMIT_SENSITIVE) or \
                not (MEMLIMIT_MIN <= header["kdf_mem"] <= 4 * MEMLIMIT_SENSITIVE):
            raise Failure("the vault header's key-derivation parameters are not valid", EXIT_TAMPERED)
        if (header["kdf_ops"] > OPSLIMIT_SENSITIVE or header["kdf_mem"] > MEMLIMIT_SENSITIVE) and not args.allow_costly_kdf:
            raise Failure("the vault header asks for a key derivation costlier than 'sensitive'", EXIT_TAMPERED,
                          "--allow-costly-kdf accepts it, if the vault was made so on purpose")
        digest = key_file_digest_for(header, args, path)
        secret = passphrase(args)
        argon2 = passphrase_key(secret, header["salt"], header["kdf_ops"], header["kdf_mem"], header["kdf_alg"])
        # The header's configuration first; the other costs one hash and finds a changed key_file
        # (the manifest binds it: Reader.read refuses the difference).
        with_file = key_file_kek(argon2, digest) if digest is not None else None
        keks = [k for k in ((with_file, argon2) if header["key_file"] else (argon2, with_file)) if k is not None]
        vault_key = next((key for key in (open_box(header["wrapped_key"], kek) for kek in keks) if key is not None), None)
        if vault_key is None or len(vault_key) != KEY_BYTES:
            raise Failure("wrong passphrase%s (or a changed salt, cost or wrapped key)" % (
                " or key file" if header["key_file"] else ""), EXIT_LOCKED)
        vault = Reader(db, schema, header, Keys(vault_key), int(datetime.datetime.now(datetime.timezone.utc).timestamp())).read()
        db.close()
        if args.json:
            sys.stdout.write(json.dumps(vault, ensure_ascii=False, indent=1) + "\n")
        else:
            print_text(vault)
        if vault["problems"]:
            for problem in vault["problems"]:
                sys.stderr.write("%s: error: the vault was tampered with or is damaged: %s\n" % (PROG, escape(problem)))
            sys.stderr.write("%s: hint: what is printed verified; what is named above did not, and is left out\n" % PROG)
            return EXIT_TAMPERED
        return 0
    except Failure as failure:
        message = str(failure)
        if failure.code == EXIT_TAMPERED and "tampered" not in message:
            message = "the vault was tampered with or is damaged: " + message
        sys.stderr.write("%s: error: %s\n" % (PROG, message))
        if failure.hint:
            sys.stderr.write("%s: hint: %s\n" % (PROG, failure.hint))
        return failure.code
    except (sqlite3.DatabaseError, OSError) as error:
        # SQLite's and the OS's messages name no secret.
        sys.stderr.write("%s: error: cannot read the vault: %s\n" % (PROG, escape(str(error))))
        return EXIT_OTHER
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
