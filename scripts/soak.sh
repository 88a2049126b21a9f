#!/usr/bin/env bash
# Soak runs against the real binaries (scripts/soak.py says what each part checks):
#   SIGKILL at random moments of every write command, concurrent readers and writers with and
#   without the agent, and writes on a full disk (a small tmpfs in a mount namespace of its own,
#   which needs root or user namespaces). Prints one summary line; exits 1 on any finding.
#
#   scripts/soak.sh [--kills N] [--seconds S] [--workers N] [--part kills|concurrency|disk]... [--seed N]
#
# Defaults: 200 kills, 8 processes for 60 s (SOAK_KILLS, SOAK_SECONDS, SOAK_WORKERS set them
# too). The binaries: TOKENVAULT_BIN_DIR, or the debug build (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

kills=${SOAK_KILLS:-200}
seconds=${SOAK_SECONDS:-60}
workers=${SOAK_WORKERS:-8}
parts=()
seed=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kills) kills=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --part) parts+=("$2"); shift 2 ;;
        --seed) seed=(--seed "$2"); shift 2 ;;
        *) echo "usage: scripts/soak.sh [--kills N] [--seconds S] [--workers N] [--part kills|concurrency|disk]... [--seed N]" >&2; exit 64 ;;
    esac
done

bin=${TOKENVAULT_BIN_DIR:-}
if [ -z "$bin" ]; then
    swift build --product vault >/dev/null
    swift build --product tokenvault-cli >/dev/null
    swift build --product git-credential-vault >/dev/null
    swift build --product tokenvault-git-helper >/dev/null
    bin=$(swift build --show-bin-path)
fi

parts=("${parts[@]/#/--part=}")
exec python3 scripts/soak.py --bin "$bin" --kills "$kills" --seconds "$seconds" --workers "$workers" "${parts[@]}" "${seed[@]}"
