#!/usr/bin/env bash
# package.sh -- the Debian package: a Release build with Debian's hardening flags
# (dpkg-buildflags), `cpack -G DEB` (dependencies from dpkg-shlibdeps, binary stripped), lintian
# (any error fails), installed with apt-get, then the installed lkarchive's --version, its man
# page, its units, its user and `lkarchive check` against the simulator and a private PostgreSQL.
#   bash ci/package.sh build   only build the .deb; its path is the last line printed
#   bash ci/package.sh         build (or take $LK_DEB), lintian, install, check
# ci/test.sh builds it before the tests (tests/integration/test_systemd_boot.sh installs it in
# a booted Debian container) and checks it after them (needs the simulator of
# $LK_TEST_BUILD_DIR); needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${LK_PACKAGE_BUILD_DIR:-build-pkg}
SIM=${LKSIM_BIN:-$ROOT/${LK_TEST_BUILD_DIR:-build-test}/tests/lkarchive-sim}
MODE=${1:-check}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

build_deb() {
    CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
        LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
        cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLK_WERROR=ON -DLK_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" >/dev/null
    rm -f "$BUILD"/lkarchive_*.deb
    (cd "$BUILD" && cpack -G DEB >/dev/null)
    realpath "$BUILD"/lkarchive_*.deb
}

if [ "$MODE" = build ]; then
    build_deb
    exit 0
fi
deb=${LK_DEB:-}
[ -n "$deb" ] && [ -f "$deb" ] || deb=$(build_deb | tail -1)
depends=$(dpkg-deb -f "$deb" Depends)
echo "package: $(basename "$deb"), Depends: $depends"
for lib in libcurl libyajl libpq libjwt libyaml; do
    grep -q "$lib" <<<"$depends" || { echo "package: Depends lacks $lib" >&2; exit 1; }
done
# lintian: errors fail (warnings are printed); as a plain user, as lintian asks
lint=$(mktemp -d)
cp "$deb" "$lint/" && chmod -R a+rX "$lint"
lintian_out=$(runuser -u nobody -- lintian --no-cfg "$lint/$(basename "$deb")" 2>&1) || true
rm -rf "$lint"
[ -z "$lintian_out" ] || echo "$lintian_out"
if grep -q '^E:' <<<"$lintian_out"; then echo "package: lintian reports errors" >&2; exit 1; fi
echo "package: lintian: no error"

DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --allow-downgrades "$deb" >/dev/null
for f in /usr/bin/lkarchive /usr/share/man/man1/lkarchive.1.gz /usr/lib/systemd/system/lkarchive.service \
    /usr/lib/systemd/system/lkarchive.timer /usr/share/doc/lkarchive/lkarchive.example.yaml \
    /usr/share/doc/lkarchive/copyright /usr/share/doc/lkarchive/changelog.gz \
    /usr/lib/sysusers.d/lkarchive.conf /usr/lib/tmpfiles.d/lkarchive.conf \
    /usr/share/lkarchive/grafana/lkarchive-dashboard.json /usr/share/lkarchive/sql/001_schema.sql; do
    [ -e "$f" ] || { echo "package: $f not installed" >&2; exit 1; }
done
getent passwd lkarchive >/dev/null || { echo "package: postinst created no user lkarchive" >&2; exit 1; }
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
echo "package: built, lintian-clean, installed, --version and check passed"
