#!/usr/bin/env bash
# Benchmarks of the release binary, measured with hyperfine in one run on one machine. Every
# figure is reported beside a peer measured in the same run, since the machine is noisy.
#   bash bench/run.sh            (installs hyperfine from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine; }; }

swift build -c release --static-swift-stdlib >/dev/null 2>&1
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
export TOKENVAULT_PASSPHRASE=bench
# Vaults at libsodium's minimum KDF cost: these runs measure storage and crypto, not Argon2id.
"$bin/vault-bench-fill" "$work/1.db" 1
"$bin/vault-bench-fill" "$work/10k.db" 10000

out=bench/results.md
{
    echo "# Benchmark results"
    echo
    echo "Made by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m)); means of hyperfine runs."
    echo
} > "$out"

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

cat "$out"
