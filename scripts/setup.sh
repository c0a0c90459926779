#!/usr/bin/env bash
# Installs the Debian packages Ordergate builds against, when they are missing. Idempotent: a second run installs
# nothing. Used by `make run`, `make test` and CI.
set -euo pipefail
packages=(libxml2-dev libcurl4-openssl-dev libsqlite3-dev pkg-config python3 openssl)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "setup: swift is not on PATH (Ordergate needs Swift 6.2 or later; see README.md)" >&2
    exit 1
fi
