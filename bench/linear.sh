#!/usr/bin/env bash
# Whole-vault commands without the agent at 1,000 and at 10,000 entries: `vault check` and
# `vault import` must grow linearly (at 10,000 entries at most 11× their time at 1,000); `list`,
# `list --json` and `log` are measured beside them. Each pair is measured in one hyperfine run,
# and the ratio of the means reported.
#   bash bench/linear.sh                     (alone: builds the release programs, prints the table)
#   bench/linear.sh VAULT FILL WORK OUT      (from bench/run.sh: its vault program, the filler, a
#                                             private folder and the results file to append to)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine; }; }
    swift build -c release --static-swift-stdlib --product vault >/dev/null 2>&1
    swift build -c release --static-swift-stdlib --product tokenvault-cli >/dev/null 2>&1
    swift build -c release --static-swift-stdlib --product vault-bench-fill >/dev/null 2>&1
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    chmod 700 "$work"
    set -- "$bin/vault" "$bin/vault-bench-fill" "$work" "$work/results.md"
    standalone=1
fi
vault=$1 fill=$2 work=$3 out=$4
export TOKENVAULT_PASSPHRASE=bench
# Vaults at libsodium's minimum KDF cost (the filler's): these runs measure storage and crypto.
for n in 1000 10000; do
    rm -f "$work/linear-$n.db"*
    "$fill" "$work/linear-$n.db" "$n"
    # A git-credentials file of n lines: 50 hosts, one user and one token per line.
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "https://user-%d:glpat-import-%06d-abcdefghij@host-%d.example.com\n", i, i, i % 50 }' \
        > "$work/credentials-$n"
    chmod 600 "$work/credentials-$n"
done
rm -f "$work/linear-empty.db"*
"$fill" "$work/linear-empty.db" 0

pair() { # title, command at 1,000, command at 10,000, then more hyperfine arguments
    local title=$1 small=$2 large=$3; shift 3
    # Exit codes are ignored: `vault check` exits 8 when it has findings, as it has here.
    hyperfine -N -i --warmup 2 --runs 10 --export-json "$work/pair.json" "$@" \
        -n "1,000" "$small" -n "10,000" "$large" >/dev/null 2>&1
    python3 - "$work/pair.json" "$title" >> "$out" <<'PY'
import json, sys
small, large = (r["mean"] for r in json.load(open(sys.argv[1]))["results"])
print(f"| {sys.argv[2]} | {small * 1000:.0f} ms | {large * 1000:.0f} ms | {large / small:.1f}× |")
PY
}

{
    echo "## Whole-vault commands without the agent: 1,000 entries against 10,000 (target for check and import: ≤ 11×)"
    echo
    echo "| command | 1,000 | 10,000 | ratio |"
    echo "|:---|---:|---:|---:|"
} >> "$out"
pair "\`vault check\`" "$vault --vault $work/linear-1000.db check" "$vault --vault $work/linear-10000.db check"
# Each import into a fresh empty vault, with its write-ahead log removed.
pair "\`vault import git-credentials\` (lines, into an empty vault)" \
    "$vault --vault $work/import.db import git-credentials $work/credentials-1000" \
    "$vault --vault $work/import.db import git-credentials $work/credentials-10000" \
    --prepare "sh -c 'rm -f $work/import.db*; cp $work/linear-empty.db $work/import.db'"
pair "\`vault list\`" "$vault --vault $work/linear-1000.db list" "$vault --vault $work/linear-10000.db list"
pair "\`vault list --json\`" "$vault --vault $work/linear-1000.db list --json" "$vault --vault $work/linear-10000.db list --json"
pair "\`vault log\`" "$vault --vault $work/linear-1000.db log" "$vault --vault $work/linear-10000.db log"
echo >> "$out"
if [ -n "${standalone:-}" ]; then cat "$out"; fi
