#!/usr/bin/env bash
# Builds TokenVault and shows its main job on a throwaway vault: create a vault, add a token
# from standard input, get it back, list it. Nothing outside a temporary folder is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS_FOR=demo source scripts/deps.sh

swift build -c release --product vault 2>&1 | grep -v '^\[' || true
swift build -c release --product tokenvault-cli 2>&1 | grep -v '^\[' || true
vault="$(swift build -c release --show-bin-path)/vault"

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export TOKENVAULT_PATH="$demo/vault.db"
# For the demo only: a passphrase in the environment (see SECURITY.md for why that is weaker).
export TOKENVAULT_PASSPHRASE="demo passphrase"

set -x
"$vault" init --kdf interactive
printf '%s' 'glpat-DEMO0000000000000000' | "$vault" add gitlab-demo --url https://gitlab.com --username oauth2 --scopes read_api --expires 2099-12-31
"$vault" get gitlab-demo
"$vault" list
set +x
echo "The token above came back out of $TOKENVAULT_PATH, where it is encrypted:"
if grep -l 'glpat-DEMO' "$TOKENVAULT_PATH"*; then echo "(found in plain text: this is a bug)"; exit 1; fi
echo "grep finds no 'glpat-DEMO' in the vault file or its side files ($(cd "$demo" && echo vault.db*))."
