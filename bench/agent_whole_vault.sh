#!/usr/bin/env bash
# Whole-vault commands through the agent against the same without it, at 1 and at 10,000
# entries, and git credential fill through the helper and the agent against credential-cache.
# The agent must make no round trip per entry: the socket writes of `vault list` are counted
# with strace.
#   bash bench/agent_whole_vault.sh [RESULTS.md]   (alone: builds `make install` into a temp
#                                                   prefix; bench/run.sh calls it with its own)
# Without the agent, the passphrase comes from TOKENVAULT_PASSPHRASE at libsodium's minimum KDF
# cost, so both sides measure storage and crypto, not Argon2id.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
if [ -z "${BENCH_BIN:-}" ]; then
    work=$(mktemp -d)
    trap '"$work/prefix/bin/vault" lock --all >/dev/null 2>&1 || true; git credential-cache exit 2>/dev/null || true; rm -rf "$work"' EXIT
    chmod 700 "$work"
    make -s install PREFIX="$work/prefix" >/dev/null 2>&1
    swift build -c release --static-swift-stdlib --product vault-bench-fill >/dev/null 2>&1
    BENCH_BIN="$work/prefix/bin"
    BENCH_FILL="$(swift build -c release --static-swift-stdlib --show-bin-path)/vault-bench-fill"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    chmod 700 "$work"
fi
bin=$BENCH_BIN
export TOKENVAULT_PASSPHRASE=bench
"$BENCH_FILL" "$work/a1.db" 1
"$BENCH_FILL" "$work/a10k.db" 10000
# One entry with a host of its own (the filler's 10,000 share 50 hosts, 200 each).
printf %s glpat-bench-unique-0000000000 | "$bin/vault" --vault "$work/a10k.db" add unique --url https://unique.example.com >/dev/null 2>&1
# The same vaults under other names, for which no agent runs: every row is called the same way,
# in the same environment (no wrapper on either side); only the vault file differs.
cp "$work/a1.db" "$work/b1.db"
cp "$work/a10k.db" "$work/b10k.db"
export HOME="$work/home" PATH="$bin:$PATH"
mkdir -p "$HOME"

rows() { # title, then hyperfine arguments
    echo "## $1" >> "$out"; shift
    echo >> "$out"
    hyperfine -N -i --warmup 3 --runs 20 --export-markdown "$work/table.md" "$@" >/dev/null 2>&1
    cat "$work/table.md" >> "$out"
    echo >> "$out"
}

commands=("list" "list --json" "check" "history entry-0" "log")

# The agents of a1 and a10k, unlocked once; the rows alternate with and without them.
agents="$work/run"
mkdir -m 700 -p "$agents"
export XDG_RUNTIME_DIR="$agents"
"$bin/vault" --vault "$work/a1.db" unlock --timeout 30m >/dev/null 2>&1
"$bin/vault" --vault "$work/a10k.db" unlock --timeout 30m >/dev/null 2>&1
for c in "${commands[@]}"; do
    rows "vault $c: without the agent (TOKENVAULT_PASSPHRASE, minimum KDF) and through the agent, at 1 and 10,000 entries" \
        -n "$c, no agent, 1 entry" "$bin/vault --vault $work/b1.db $c" \
        -n "$c, no agent, 10,000 entries" "$bin/vault --vault $work/b10k.db $c" \
        -n "$c, agent, 1 entry" "$bin/vault --vault $work/a1.db $c" \
        -n "$c, agent, 10,000 entries" "$bin/vault --vault $work/a10k.db $c"
done

# The target ("at least as fast through the agent"), every command at both sizes, interleaved
# (the machine's noise falls on both sides alike; the hyperfine rows above run one after the
# other and differ by ±20 % from run to run).
for c in "${commands[@]}"; do
    for size in 1 10k; do
        label="1 entry"; [ "$size" = 10k ] && label="10,000 entries"
        PAIRWISE_EXIT_CODES=0,8 python3 bench/pairwise.py 30 "vault $c at $label through the agent against without it, interleaved" \
            "$c, agent" /dev/null "$bin/vault" --vault "$work/a$size.db" $c -- \
            "$c, no agent" /dev/null "$bin/vault" --vault "$work/b$size.db" $c >> "$out"
    done
done

# Round trips: socket writes of one `vault list` and one `vault check` through the agent.
if command -v strace >/dev/null; then
    {
        echo "## Socket writes through the agent (strace -f -e trace=sendto,sendmsg,write -c)"
        echo
        echo "(A large frame may take several sendto calls when the socket's buffer fills. The agent's own"
        echo "count of requests, which AgentBatchTests reads from its status, is the same at 1 and 10,000 entries.)"
        echo
        echo "| Command | 1 entry: sendto | 10,000 entries: sendto |"
        echo "|:---|---:|---:|"
        for c in "list" "check" "log"; do
            counts=()
            for db in a1 a10k; do
                n=$(env -u TOKENVAULT_PASSPHRASE strace -f -e trace=sendto,sendmsg,write -c \
                    "$bin/vault" --vault "$work/$db.db" $c 2>&1 >/dev/null | awk '$NF == "sendto" { print $4 }' || true)
                counts+=("${n:-0}")
            done
            echo "| \`vault $c\` | ${counts[0]} | ${counts[1]} |"
        done
        echo
    } >> "$out"
fi

# git credential fill through the C front end and the agent, against credential-cache: git
# started directly, its stdin a file (bench/pairwise.py), on both sides.
unset TOKENVAULT_PASSPHRASE
git config --global credential.helper "$bin/git-credential-vault"
printf 'protocol=https\nhost=host-0.example.com\nusername=user-0\npassword=glpat-bench-0-0000000000\n\n' \
    | git -c credential.helper= -c credential.helper='cache --timeout=600' credential approve
printf 'protocol=https\nhost=host-0.example.com\n\n' > "$work/host-0.in"
printf 'protocol=https\nhost=host-7.example.com\n\n' > "$work/host-7.in"
printf 'protocol=https\nhost=unique.example.com\n\n' > "$work/unique.in"
git=$(command -v git)
python3 bench/pairwise.py 200 "git credential fill through the helper and the agent, at 1 and 10,000 entries, against credential-cache" \
    "fill, agent, 1 entry" "$work/host-0.in" "$git" -c "credential.helper=" -c "credential.helper=$bin/git-credential-vault --vault $work/a1.db" credential fill -- \
    "fill, agent, 10,000 entries, the host's only one" "$work/unique.in" "$git" -c "credential.helper=" -c "credential.helper=$bin/git-credential-vault --vault $work/a10k.db" credential fill -- \
    "fill, agent, 10,000 entries, 200 on the host" "$work/host-7.in" "$git" -c "credential.helper=" -c "credential.helper=$bin/git-credential-vault --vault $work/a10k.db" credential fill -- \
    "fill, credential-cache" "$work/host-0.in" "$git" -c credential.helper= -c credential.helper=cache credential fill >> "$out"
"$bin/vault" lock --all >/dev/null 2>&1 || true
git credential-cache exit 2>/dev/null || true
