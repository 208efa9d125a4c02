#!/usr/bin/env bash
# test.sh -- the test command (README): install dependencies, build with -Werror and
# AddressSanitizer + UndefinedBehaviorSanitizer, run every unit and integration test with
# CTest (integration tests start their own private PostgreSQL and the API simulator).
# The Debian package is built first (test_systemd_boot installs it in a booted container);
# after the tests, the linters (ci/lint.sh) and the package checked, installed and run
# (ci/package.sh). Set LK_TEST_BUILD_DIR to reuse a build directory; CTEST_ARGS to pass extra ctest options.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/deps.sh
BUILD=${LK_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DLK_WERROR=ON -DLK_SANITIZE=address,undefined
cmake --build "$BUILD" -j "$(nproc)"
LK_DEB=$(bash ci/package.sh build | tail -1)
export LK_DEB
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure -j 2 ${CTEST_ARGS:-}
cd ..
bash ci/lint.sh
LK_TEST_BUILD_DIR=$BUILD LK_DEB=$LK_DEB bash ci/package.sh
