#!/usr/bin/env bash
# Installs what is missing, builds everything (library, CLI, examples), runs the whole test
# suite against the real binaries, and builds the library's DocC documentation with warnings as
# errors (a broken symbol link or article reference fails).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

swift build --build-tests
# swift-argument-parser's man page generator, which `make install` runs and ManPageTests run as
# it does: SwiftPM builds another package's executable only when asked for it by name.
swift build --product generate-manual
# The documentation first, so that the test runner's summary is the last thing printed.
swift package generate-documentation --target TokenVault --warnings-as-errors
swift test --skip-build
