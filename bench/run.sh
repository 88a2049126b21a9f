#!/usr/bin/env bash
# Benchmarks of the release binary, measured with hyperfine in one run on one machine. Every
# figure is reported beside a peer measured in the same run, since the machine is noisy.
#   bash bench/run.sh            (installs hyperfine from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine; }; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
# What `make install` installs, in a private prefix: the programs as users get them.
make -s install PREFIX="$work/prefix" >/dev/null 2>&1
bin="$work/prefix/bin"
swift build -c release --static-swift-stdlib --product vault-bench-fill >/dev/null 2>&1
fill="$(swift build -c release --static-swift-stdlib --show-bin-path)/vault-bench-fill"
export TOKENVAULT_PASSPHRASE=bench
# Vaults at libsodium's minimum KDF cost: these runs measure storage and crypto, not Argon2id.
"$fill" "$work/1.db" 1
"$fill" "$work/10k.db" 10000
# The filler spreads its entries over 50 hosts (200 each); one more entry has a host of its own,
# so that git's request for it measures the store's size, not 200 candidates to rank.
printf %s glpat-bench-unique-0000000000 | "$bin/vault" --vault "$work/10k.db" add unique --url https://unique.example.com >/dev/null 2>&1

out=bench/results.md
{
    echo "# Benchmark results"
    echo
    echo "Made by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m)); means of hyperfine runs."
    echo
} > "$out"

# git's side of a credential request, fed to every command that reads git's description.
printf 'protocol=https\nhost=host-0.example.com\n\n' > "$work/host-0.in"
printf 'protocol=https\nhost=host-7.example.com\n\n' > "$work/host-7.in"
printf 'protocol=https\nhost=unique.example.com\n\n' > "$work/unique.in"
: > "$work/empty.in"
pairwise() { # title, then pairwise.py's commands (NAME STDIN PROGRAM ARGS..., separated by --)
    local title=$1; shift
    python3 bench/pairwise.py 200 "$title" "$@" >> "$out"
}

run() { # title, then hyperfine arguments
    local title=$1; shift
    echo "## $title" >> "$out"
    echo >> "$out"
    hyperfine -N --warmup 5 --runs 40 --export-markdown "$work/table.md" "$@" >/dev/null 2>&1
    cat "$work/table.md" >> "$out"
    echo >> "$out"
}

run "vault list: 1 entry against 10,000 entries" \
    -n "list, 1 entry" "$bin/vault --vault $work/1.db list" \
    -n "list, 10,000 entries" "$bin/vault --vault $work/10k.db list"
run "vault get: 1 entry against 10,000 entries (passphrase from the environment, minimum KDF cost)" \
    -n "get, 1 entry" "$bin/vault --vault $work/1.db get entry-0" \
    -n "get, 10,000 entries" "$bin/vault --vault $work/10k.db get entry-5000" \
    -n "peer: git credential-cache get (no daemon)" "git credential-cache get"

run "The cost of recording a read: get --allow-expired reads the token and writes the activity log's event with the last-used time; get --field reads metadata only and writes nothing (both parse their arguments the same way)" \
    -n "get --field kind (read only)" "$bin/vault --vault $work/1.db get entry-0 --field kind" \
    -n "get --allow-expired (read, logged)" "$bin/vault --vault $work/1.db get entry-0 --allow-expired"

# The git helper answering git, against git credential-cache answering the same, both through
# git credential fill. The vault is unlocked from TOKENVAULT_PASSPHRASE at minimum cost, so this
# is the helper's own cost without the KDF.
# The helper is set up as the README says: its absolute path (git runs it through sh, as it
# runs `git credential-cache` for the peer through a second git).
export HOME="$work/home" PATH="$bin:$PATH" TOKENVAULT_PATH="$work/1.db"
mkdir -p "$HOME"
git config --global credential.helper "$bin/git-credential-vault"
printf 'protocol=https\nhost=host-0.example.com\nusername=user-0\npassword=glpat-bench-0-0000000000\n\n' \
    | git -c credential.helper= -c credential.helper='cache --timeout=300' credential approve
git=$(command -v git)
pairwise "git credential fill: the vault's helper (passphrase from the environment, minimum KDF cost) against git credential-cache (same credential)" \
    "git credential fill via git-credential-vault" "$work/host-0.in" "$git" credential fill -- \
    "git credential fill via credential-cache" "$work/host-0.in" "$git" -c credential.helper= -c credential.helper=cache credential fill

# With the agent: one unlock, then every call seals and opens through it.
export XDG_RUNTIME_DIR="$work/run"
mkdir -m 700 -p "$XDG_RUNTIME_DIR"
"$bin/vault" --vault "$work/1.db" unlock --timeout 30m >/dev/null 2>&1
"$bin/vault" --vault "$work/10k.db" unlock --timeout 30m >/dev/null 2>&1
# A vault at the default cost (Argon2id moderate: 3 passes, 256 MiB), for what the agent saves.
"$bin/vault" --vault "$work/default.db" init >/dev/null 2>&1
printf %s glpat-bench-default-000000 | "$bin/vault" --vault "$work/default.db" add entry-0 >/dev/null 2>&1
# From here on, no passphrase in the environment: only the agent can unlock.
unset TOKENVAULT_PASSPHRASE
pairwise "With an unlocked agent: git credential fill through the vault's helper at 1 and at 10,000 entries, against credential-cache (target: ≤ 1.1×)" \
    "git credential fill via git-credential-vault, agent, 1 entry" "$work/host-0.in" "$git" credential fill -- \
    "git credential fill via git-credential-vault, agent, 10,000 entries, the host's only one" "$work/unique.in" "$git" -c credential.helper= -c "credential.helper=$bin/git-credential-vault --vault $work/10k.db" credential fill -- \
    "git credential fill via git-credential-vault, agent, 10,000 entries, 200 on the host" "$work/host-7.in" "$git" -c credential.helper= -c "credential.helper=$bin/git-credential-vault --vault $work/10k.db" credential fill -- \
    "git credential fill via credential-cache" "$work/host-0.in" "$git" -c credential.helper= -c credential.helper=cache credential fill
# `vault get NAME` as scripts call it (the vault from TOKENVAULT_PATH, exported above): the form
# the C front end answers through the agent; `--vault PATH` and other options go to tokenvault-cli.
pairwise "With an unlocked agent: vault get against git credential-cache get (target: ≤ 1.3×)" \
    "vault get, agent" "$work/empty.in" "$bin/vault" get entry-0 -- \
    "git credential-cache get" "$work/host-0.in" "$git" credential-cache get
run "With an unlocked agent: vault get at 1 and at 10,000 entries" \
    -n "vault get, agent, 1 entry" "env TOKENVAULT_PATH=$work/1.db $bin/vault get entry-0" \
    -n "vault get, agent, 10,000 entries" "env TOKENVAULT_PATH=$work/10k.db $bin/vault get entry-5000"
# A TAB after `vault get ` in bash: the completion script calls `vault ---completion ...` with the
# words typed, and the names come from the unlocked agent. Its peer is the same agent's answer to
# `vault list` (the same names, as a table), both with the vault from TOKENVAULT_PATH.
PAIRWISE_SEPARATOR=:: pairwise "With an unlocked agent: the names a TAB completes after vault get, against vault list, at 10,000 entries" \
    "completion of names (vault get TAB), agent, 10,000 entries" "$work/empty.in" /usr/bin/env TOKENVAULT_PATH="$work/10k.db" "$bin/vault" ---completion get -- positional@0 2 0 vault get '' :: \
    "vault list, agent, 10,000 entries" "$work/empty.in" /usr/bin/env TOKENVAULT_PATH="$work/10k.db" "$bin/vault" list
# The agent under a crowd: 70 idle connections and 10 that send one byte and stall, held open
# while the same clients as above are timed (issue 11: a stalled client never holds up another).
exec 3> >(python3 bench/hold_connections.py "$work/1.db" 70 10 600 > "$work/hold.out")
sleep 1
pairwise "With an unlocked agent held by 70 idle and 10 stalled connections: vault get against git credential-cache get" \
    "vault get, agent, 80 connections held" "$work/empty.in" "$bin/vault" get entry-0 -- \
    "git credential-cache get" "$work/host-0.in" "$git" credential-cache get
exec 3>&-
run "What the agent saves: vault get unlocked by the agent, against TOKENVAULT_PASSPHRASE at the default cost" \
    -n "vault get, agent (1 entry)" "$bin/vault get entry-0" \
    -n "vault get, TOKENVAULT_PASSPHRASE, Argon2id moderate" "env TOKENVAULT_PASSPHRASE=bench $bin/vault --vault $work/default.db get entry-0"
{
    echo "## Peak memory (maximum resident set size, /usr/bin/time)"
    echo
    echo "| Command | Peak RSS [MiB] |"
    echo "|:---|---:|"
    for label_cmd in "vault get, agent|$bin/vault get entry-0" \
                     "git-credential-vault get, agent|printf 'protocol=https\\nhost=host-0.example.com\\n\\n' | $bin/git-credential-vault get" \
                     "git credential-cache get|git credential-cache get" \
                     "vault get, TOKENVAULT_PASSPHRASE, moderate|env TOKENVAULT_PASSPHRASE=bench $bin/vault --vault $work/default.db get entry-0"; do
        label=${label_cmd%%|*}; cmd=${label_cmd#*|}
        kib=$(/usr/bin/time -f %M sh -c "$cmd < /dev/null > /dev/null 2>/dev/null" 2>&1 | tail -1)
        echo "| \`$label\` | $(awk "BEGIN { printf \"%.1f\", $kib / 1024 }") |"
    done
    echo
} >> "$out"
"$bin/vault" lock --all >/dev/null 2>&1 || true
git credential-cache exit 2>/dev/null || true
# Whole-vault commands and git fill, with and without the agent (a script of their own).
BENCH_BIN="$bin" BENCH_FILL="$fill" bash bench/agent_whole_vault.sh "$out"
# Without the agent: check, import, list and log at 1,000 and at 10,000 entries.
unset XDG_RUNTIME_DIR
bash bench/linear.sh "$bin/vault" "$fill" "$work" "$out"

cat "$out"
