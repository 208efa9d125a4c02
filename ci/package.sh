#!/usr/bin/env bash
# package.sh -- the Debian package: a Release build, `cpack -G DEB` (dependencies from
# dpkg-shlibdeps), installed with apt-get, then the installed lkarchive's --version, its man
# page, its units, and `lkarchive check` against the simulator and a private PostgreSQL.
# Called by ci/test.sh after the tests (needs the simulator of $LK_TEST_BUILD_DIR); needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${LK_PACKAGE_BUILD_DIR:-build-pkg}
SIM=${LKSIM_BIN:-$ROOT/${LK_TEST_BUILD_DIR:-build-test}/tests/lkarchive-sim}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLK_WERROR=ON -DLK_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
rm -f "$BUILD"/lkarchive_*.deb
(cd "$BUILD" && cpack -G DEB >/dev/null)
deb=$(ls "$BUILD"/lkarchive_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
echo "package: $(basename "$deb"), Depends: $depends"
for lib in libcurl libyajl libpq libjwt libyaml; do
    grep -q "$lib" <<<"$depends" || { echo "package: Depends lacks $lib" >&2; exit 1; }
done
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --allow-downgrades "./$deb" >/dev/null
for f in /usr/bin/lkarchive /usr/share/man/man1/lkarchive.1 /usr/lib/systemd/system/lkarchive.service \
    /usr/lib/systemd/system/lkarchive.timer /usr/share/doc/lkarchive/lkarchive.example.yaml \
    /usr/share/lkarchive/sql/001_schema.sql; do
    [ -e "$f" ] || { echo "package: $f not installed" >&2; exit 1; }
done
/usr/bin/lkarchive --version
# the installed units, with the installed binary and man page
out=$(systemd-analyze verify /usr/lib/systemd/system/lkarchive.service \
    /usr/lib/systemd/system/lkarchive.timer 2>&1) && [ -z "$out" ] \
    || { echo "package: systemd-analyze verify: $out" >&2; exit 1; }

# `lkarchive check` of the installed binary against the simulator and a private PostgreSQL
export LKARCHIVE_BIN=/usr/bin/lkarchive LKSIM_BIN=$SIM LK_SOURCE_DIR=$ROOT
bash -c 'source tests/integration/lib.sh
    TEST_NAME=package
    pg_start
    sim_start --today 2026-11-20 --sessions-per-day 4
    lk check --today 2026-11-20; expect_status 0 "installed lkarchive check"
    grep -q "credentials accepted" "$WORK/last.out" || fail "check output"
    log "installed package: check passed"' package
echo "package: built, installed, --version and check passed"
