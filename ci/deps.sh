#!/usr/bin/env bash
# deps.sh -- install every Debian package lkarchive's build, tests and quick start need.
# apt-get update once, then apt-get install -y by name. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config git ca-certificates
    libcurl4-openssl-dev libyajl-dev libpq-dev libjwt-dev libyaml-dev zlib1g-dev
    libmicrohttpd-dev libcmocka-dev
    postgresql-15 postgresql-client-15
    clang libclang-rt-14-dev valgrind cppcheck clang-format curl time
    groff-base python3 systemd dpkg-dev file bsdutils
)

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${PACKAGES[@]}"
