#!/usr/bin/env bash
# Installs the system packages TokenVault builds and tests with, when they are missing, and
# checks that a Swift 6 toolchain is on PATH. Debian 12 / Ubuntu 22.04 or later; run as root
# or with sudo.
set -euo pipefail

packages=(libsodium-dev libsqlite3-dev libcurl4-openssl-dev pkg-config git python3 openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/deps.sh: installing ${missing[*]} needs root: run it with sudo" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # A new machine may have empty package lists.
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}"
    }
fi

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "scripts/deps.sh: no Swift toolchain on PATH: install Swift 6 from swift.org" >&2
    exit 1
fi
