#!/usr/bin/env bash
# deps.sh -- install every Debian package lkarchive's build, tests and quick start need.
# apt-get update once, then apt-get install -y by name. Needs root (or sudo).
# mmdebstrap and systemd-container build and boot test_systemd_boot's Debian container (its
# own packages come from this machine's apt sources); lintian checks the .deb (ci/package.sh).
# chromium: test_report.sh renders the HTML report in headless Chromium.
# Then Citus for PostgreSQL 15 (test_citus.sh starts a real cluster), from the project's
# installer: $LK_CITUS_INSTALL, ../shared/citus/install.sh beside the clone, or
# /work/shared/citus/install.sh. Without one, test_citus fails and says so.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config git ca-certificates
    libcurl4-openssl-dev libssl-dev libyajl-dev libpq-dev libjwt-dev libyaml-dev zlib1g-dev
    libmicrohttpd-dev libcmocka-dev nginx-light openssl
    postgresql-15 postgresql-client-15
    clang libclang-rt-14-dev valgrind cppcheck clang-format curl time
    groff-base python3 systemd dpkg-dev file bsdutils
    mmdebstrap systemd-container lintian
    chromium prometheus
)

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
else
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q "${PACKAGES[@]}"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f /usr/lib/postgresql/15/lib/citus.so ]; then
    for installer in "${LK_CITUS_INSTALL:-}" "$root/../shared/citus/install.sh" /work/shared/citus/install.sh; do
        if [ -n "$installer" ] && [ -f "$installer" ]; then
            $SUDO bash "$installer"
            break
        fi
    done
    [ -f /usr/lib/postgresql/15/lib/citus.so ] ||
        echo "deps: Citus is not installed and no installer was found (set LK_CITUS_INSTALL); test_citus will fail" >&2
fi
