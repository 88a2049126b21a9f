#!/usr/bin/env bash
# Remakes the test vectors under Tests/Vectors/ (docs/FORMAT.md, "Test vectors") with the real,
# built CLI: small vaults at --kdf minimum, each with the decoded contents the CLI prints for it
# (NAME.json; a vault that needs a key file has it beside, NAME.key), and known-answer values for the
# key hierarchy (known-answers.json).
#
#   scripts/make-vectors.sh [OUTPUT_FOLDER [VECTOR...]]
#
# (default Tests/Vectors and every vector: basic unicode pruned gitlab keyfile; build first: swift
# build). The committed vectors are the fixed reference: VectorTests opens them with the current
# code, so remaking them is for a deliberate change of format only (a new vector, or a new
# version), never to make a failing test pass: name the new vector alone (`scripts/make-vectors.sh
# Tests/Vectors keyfile`), and the others stay as they were. known-answers.json is computed from
# the basic and keyfile vectors in OUTPUT_FOLDER. Every state comes from the CLI; revoked and
# rotation-pending come from `vault gitlab revoke` and `vault gitlab rotate` against the GitLab stand-in the tests use
# (Tests/GitServer/gitlab_stand_in.py, its rotate mode "500": GitLab revokes the old token and
# fails, so the rotation's outcome is unknown). Needs python3 with PyNaCl, openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-Tests/Vectors}")
[ $# -gt 0 ] && shift
vectors=("$@")
[ ${#vectors[@]} -gt 0 ] || vectors=(basic unicode pruned gitlab keyfile)
for vector in "${vectors[@]}"; do
    case $vector in
        basic|unicode|pruned|gitlab|keyfile) ;;
        *) echo "make-vectors.sh: no vector named '$vector' (basic, unicode, pruned, gitlab, keyfile)" >&2; exit 2 ;;
    esac
done
bin=$(swift build --show-bin-path)
for tool in vault tokenvault-cli tokenvault-gitlab; do
    [ -x "$bin/$tool" ] || { echo "make-vectors.sh: $bin/$tool is missing: run swift build first" >&2; exit 1; }
done
mkdir -p "$out"
work=$(mktemp -d)
chmod 700 "$work"
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# One HOME per vector; `v` runs the built vault there with the vector's passphrase (and key file,
# when `start NAME PASSPHRASE --key-file` makes one with `vault keyfile new`).
start() {
    name=$1
    export HOME="$work/$name" TOKENVAULT_PASSPHRASE="$2" LANG=C XDG_RUNTIME_DIR="$work/$name/run"
    unset TOKENVAULT_PATH XDG_DATA_HOME TOKENVAULT_ASKPASS TOKENVAULT_KEY_FILE
    mkdir -p -m 700 "$HOME" "$XDG_RUNTIME_DIR"
    if [ "${3:-}" = --key-file ]; then
        v keyfile new "$HOME/$name.key"
        v init --kdf minimum --key-file "$HOME/$name.key" 2>/dev/null
        export TOKENVAULT_KEY_FILE="$HOME/$name.key"
    else
        v init --kdf minimum 2>/dev/null
    fi
}
v() { "$bin/vault" "$@"; }
add() { local name=$1 token=$2; shift 2; printf '%s' "$token" | v add "$name" "$@" 2>/dev/null; }

# The vault as the CLI sees it, from a scratch copy of the vector (reads record themselves).
finish() {
    local vector="$out/$name.vault"
    rm -f "$vector"
    v backup "$vector" 2>/dev/null
    chmod 644 "$vector"
    if [ -n "${TOKENVAULT_KEY_FILE:-}" ]; then
        install -m 644 "$TOKENVAULT_KEY_FILE" "$out/$name.key"
    fi
    local scratch="$work/$name-scratch"
    mkdir -m 700 "$scratch"
    install -m 600 "$vector" "$scratch/vault.db"
    local s=(--vault "$scratch/vault.db")
    v list "${s[@]}" --json >"$scratch/list.json"
    v list "${s[@]}" --trash --json >"$scratch/trash.json"
    v log "${s[@]}" --json >"$scratch/log.json" 2>/dev/null
    v config "${s[@]}" >"$scratch/config.txt"
    v id show "${s[@]}" >"$scratch/id.txt"
    v id list "${s[@]}" --json >"$scratch/trusted.json"
    v export "${s[@]}" --plain-json --with-history >"$scratch/export.json" 2>/dev/null
    python3 - "$scratch" "$out/$name.json" "$TOKENVAULT_PASSPHRASE" "${TOKENVAULT_KEY_FILE:+$name.key}" <<'EOF'
import json, sqlite3, sys
scratch, target, passphrase, key_file = sys.argv[1:]
load = lambda f: json.load(open(f"{scratch}/{f}"))
drop = lambda o: {k: v for k, v in o.items() if k != "schema_version"}
exported = {e["name"]: e for e in load("export.json")["entries"]}
entries = []
for e in sorted(load("list.json") + load("trash.json"), key=lambda e: e["name"]):
    e = drop(e)
    x = exported[e["name"]]
    e["token_since"] = x["token_since"]
    e["secret"] = x["secret"]
    e["history"] = [{"version": i + 1, "replaced": h["replaced"], "secret": h["secret"]} for i, h in enumerate(x["history"])]
    entries.append(e)
settings = {}
for line in open(f"{scratch}/config.txt", encoding="utf-8"):
    key, value = line.rstrip("\n").split(" ", 1)
    settings[key] = value
log = drop(load("log.json"))
db = sqlite3.connect(f"file:{scratch}/vault.db?mode=ro", uri=True)
fmt, = db.execute("SELECT format FROM vault").fetchone()
schema, = db.execute("PRAGMA user_version").fetchone()
expected = {"passphrase": passphrase, "passphrase_utf8_hex": passphrase.encode().hex(), "format": fmt, "schema": schema,
            "entries": entries, "settings": settings, "identity": open(f"{scratch}/id.txt").read().strip(),
            "trusted": [drop(t) for t in load("trusted.json")], "log": log}
if key_file:
    expected["key_file"] = key_file
json.dump(expected, open(target, "w"), ensure_ascii=False, indent=1)
open(target, "a").write("\n")
EOF
    echo "make-vectors.sh: $name.vault" >&2
}

# 1. basic: metadata of every kind, an edited token (history), the trash, settings, a trusted identity.
vector_basic() {
    start basic "correct horse battery staple"
    add ci glpat-BasicVectorToken0001 --url https://GitLab.example.com/team/app --kind gitlab \
        --username alice --scopes api,read_repository --expires 2099-01-31 --note "deploys the app"
    v edit ci --rotate-every 60d 2>/dev/null
    printf 'glpat-BasicVectorToken0002' | v edit ci --secret 2>/dev/null
    printf 'glpat-BasicVectorToken0003' | v edit ci --secret 2>/dev/null
    add github ghp_BasicVectorGitHubToken0000000001 --url https://github.com --kind github
    v edit github --git-default 2>/dev/null
    add old-token old-generic-token-1 --note "gone"
    v rm old-token --yes 2>/dev/null
    add expired expired-generic-token --expires 2020-02-29
    v get ci >/dev/null 2>&1
    v history ci >/dev/null 2>&1
    v config rotate-every 45d 2>/dev/null
    v config trash-days 14 2>/dev/null
    v config agent-autostart off 2>/dev/null
    v config gitlab-api-url.example.com https://example.com/gitlab/api/v4 2>/dev/null
    v config gitlab-admin.gitlab.example.com ci 2>/dev/null
    v id trust teammate tvid1-ut2erdkcpx4sxgxf56ooojq66atwsb5ok7nov4ysweeghmn7maeavggynvmk7rr75lb75fvaxm4g7l6cpuoc2jk6szlllwnwrumkn4c3fhnlw 2>/dev/null
    finish
}

# 2. unicode: a UTF-8 passphrase, names and notes beyond ASCII.
vector_unicode() {
    start unicode "pässwörd ünïcode"
    add "cafe-token" "token-with-ünïcode-€" --note "für Übung · 日本語" --username "jürgen"
    add plain plain-token-0001
    printf 'plain-token-0002' | v edit plain --secret 2>/dev/null
    finish
}

# 3. pruned: a log of at most 3 events, so the oldest were removed and the manifest keeps the anchor.
vector_pruned() {
    start pruned "pruned vector passphrase"
    v config log-events 3 2>/dev/null
    for i in 1 2 3 4 5; do add "token-$i" "pruned-token-000$i"; done
    v get token-1 >/dev/null 2>&1
    printf 'pruned-token-0006' | v edit token-2 --secret 2>/dev/null
    v rm token-5 --yes 2>/dev/null
    finish
}

# 4. gitlab: revoked, rotation pending, a CI/CD variable link and GitLab's id of a token, made by
# `vault gitlab` against the stand-in.
vector_gitlab() {
    start gitlab "gitlab vector passphrase"
    gl="$work/gitlab-server"
    mkdir -m 700 "$gl"
    (
        cd "$gl"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=TokenVault Vector CA"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext
    ) >/dev/null 2>&1
    cat >"$gl/state.json" <<'EOF'
{"tokens": {
  "glpat-VectorRevokedToken01": {"id": 11, "name": "ci", "scopes": ["api"], "expires_at": "2099-01-31", "revoked": false, "family": 1},
  "glpat-VectorRotatedToken01": {"id": 12, "name": "ci", "scopes": ["api"], "expires_at": "2099-01-31", "revoked": false, "family": 2},
  "glpat-VectorRevokedLive01": {"id": 14, "name": "ci", "scopes": ["api"], "expires_at": "2099-01-31", "revoked": true, "family": 4},
  "glpat-VectorVerifiedTok01": {"id": 13, "name": "ci", "scopes": ["api", "read_api"], "expires_at": "2099-03-31", "revoked": false, "family": 3}},
 "mode": {"rotate": "500"}, "delay": 0}
EOF
    coproc SERVER { exec python3 "$root/Tests/GitServer/gitlab_stand_in.py" "$gl/server.pem" "$gl/server.key" "$gl/state.json" "$gl/requests.jsonl"; }
    server_pid=$SERVER_PID
    read -r port <&"${SERVER[0]}"
    url="https://127.0.0.1:$port"
    add revoked glpat-VectorRevokedToken01 --url "$url" --kind gitlab
    add rotating glpat-VectorRotatedToken01 --url "$url" --kind gitlab
    add verified glpat-VectorVerifiedTok01 --url "$url" --kind gitlab --scopes api
    add revoked-at-gitlab glpat-VectorRevokedLive01 --url "$url" --kind gitlab
    v gitlab verify revoked-at-gitlab --ca-file "$gl/ca.pem" >/dev/null 2>&1 || true
    v gitlab revoke revoked --yes --ca-file "$gl/ca.pem" >/dev/null 2>&1
    v gitlab rotate rotating --ca-file "$gl/ca.pem" >/dev/null 2>&1 || true
    v gitlab verify verified --ca-file "$gl/ca.pem" >/dev/null 2>&1
    v gitlab link verified --project team/app --variable DEPLOY_TOKEN --environment-scope production --protected 2>/dev/null
    kill "$server_pid"
    server_pid=
    finish
}

# 5. keyfile: schema 5, a vault that needs a key file (`vault init --key-file`), beside it as
# keyfile.key; a history and a settings change, so its manifest holds tag 32 with the others.
vector_keyfile() {
    start keyfile "key file vector passphrase" --key-file
    add deploy glpat-KeyFileVectorToken01 --url https://gitlab.example.com/ops --kind gitlab --note "needs the key file"
    printf 'glpat-KeyFileVectorToken02' | v edit deploy --secret 2>/dev/null
    add plain plain-keyfile-token-1
    v get deploy >/dev/null 2>&1
    v config trash-days 7 2>/dev/null
    finish
}

for vector in "${vectors[@]}"; do "vector_$vector"; done
unset TOKENVAULT_KEY_FILE

# Known answers for the key hierarchy, from the basic vector, and for a key file's KEK, from the
# keyfile vector (computed with libsodium through recover.py's functions; VectorTests checks them
# against the Swift code). The same vaults give the same answers.
for vector in basic keyfile; do
    [ -f "$out/$vector.vault" ] || { echo "make-vectors.sh: known-answers.json needs $out/$vector.vault: make it too" >&2; exit 1; }
done
python3 - "$out" <<'EOF'
import json, sqlite3, sys
sys.dont_write_bytecode = True  # no scripts/__pycache__ left behind
sys.path.insert(0, "scripts")
import recover
out = sys.argv[1]
expected = json.load(open(f"{out}/basic.json"))
db = sqlite3.connect(f"file:{out}/basic.vault?mode=ro&immutable=1", uri=True)
fmt, vault_id, alg, ops, mem, salt, wrapped, manifest = db.execute(
    "SELECT format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest FROM vault").fetchone()
passphrase = expected["passphrase"].encode()
kek = recover.passphrase_key(passphrase, salt, ops, mem, alg)
vault_key = recover.open_box(wrapped, kek)
keys = recover.Keys(vault_key)
lookup = keys.lookup(b"ci")
metadata, = db.execute("SELECT metadata FROM entries WHERE lookup = ?", (lookup,)).fetchone()
seq, sealed, mac = db.execute("SELECT seq, sealed, mac FROM events ORDER BY seq LIMIT 1").fetchone()
previous = bytes(32)  # the basic vector's log was never pruned
answers = {
    "about": "Known answers for docs/FORMAT.md, from Tests/Vectors/basic.vault. All bytes in hex.",
    "passphrase_utf8_hex": passphrase.hex(),
    "kdf": {"algorithm": alg, "opslimit": ops, "memlimit": mem, "salt": salt.hex(), "kek": kek.hex()},
    "wrapped_key": wrapped.hex(),
    "vault_key": vault_key.hex(),
    "subkeys": {str(i): keys.sub[i].hex() for i in sorted(keys.sub)},
    "lookup": {"name": "ci", "lookup": lookup.hex()},
    "sealed_record": {"subkey": 3, "sealed": metadata.hex(),
                      "plaintext": recover.open_box(metadata, keys.sub[3]).hex()},
    "chain_mac": {"previous": previous.hex(), "sequence": seq, "sealed": sealed.hex(),
                  "input": (previous + seq.to_bytes(8, "little") + sealed).hex(), "mac": mac.hex()},
}
assert recover.keyed_hash(bytes.fromhex(answers["chain_mac"]["input"]), keys.sub[7]) == mac
expected = json.load(open(f"{out}/keyfile.json"))
db = sqlite3.connect(f"file:{out}/keyfile.vault?mode=ro&immutable=1", uri=True)
alg, ops, mem, salt, wrapped, key_file = db.execute(
    "SELECT kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, key_file FROM vault").fetchone()
assert key_file == 1
passphrase = expected["passphrase"].encode()
content = open(f"{out}/{expected['key_file']}", "rb").read()
argon2 = recover.passphrase_key(passphrase, salt, ops, mem, alg)
digest = recover.key_file_digest(content)
kek = recover.key_file_kek(argon2, digest)
answers["key_file"] = {
    "about": "From Tests/Vectors/keyfile.vault and keyfile.key (docs/FORMAT.md, 'Key file (schema 5)').",
    "passphrase_utf8_hex": passphrase.hex(),
    "kdf": {"algorithm": alg, "opslimit": ops, "memlimit": mem, "salt": salt.hex()},
    "key_file": content.hex(), "argon2": argon2.hex(), "file_digest": digest.hex(), "kek": kek.hex(),
    "wrapped_key": wrapped.hex(), "vault_key": recover.open_box(wrapped, kek).hex(),
}
json.dump(answers, open(f"{out}/known-answers.json", "w"), indent=1)
open(f"{out}/known-answers.json", "a").write("\n")
EOF
echo "make-vectors.sh: known-answers.json" >&2
