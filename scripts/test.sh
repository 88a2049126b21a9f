#!/usr/bin/env bash
# Installs what is missing, builds everything (library, CLI, examples) and runs the whole test
# suite against the real binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

swift build --build-tests
swift test --skip-build
