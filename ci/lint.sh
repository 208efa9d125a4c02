#!/usr/bin/env bash
# lint.sh -- the second compiler and the static checkers: a clang build with -Werror (gcc is
# the test build's), valgrind on the unit tests, cppcheck over src/ and the simulator, and clang-format's verdict on the
# layout (reported, not enforced), then a fixed, seeded fuzz run of the extractor (ci/fuzz.sh
# --ci: the same executions every time). Called by ci/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Debug -DLK_WERROR=ON \
    -DCMAKE_C_FLAGS=-gdwarf-4 >/dev/null
cmake --build build-clang -j "$(nproc)" >/dev/null
echo "lint: clang -Werror build clean"
# valgrind's memcheck on the unit tests of the uninstrumented clang build (-gdwarf-4: the
# DWARF 5 of clang 14 is too new for valgrind 3.19): every test CTest labels `unit`
unit_tests=$(ctest --test-dir build-clang -N -L '^unit$' | sed -n 's/^ *Test *#[0-9]*: //p')
[ -n "$unit_tests" ] || { echo "lint: CTest lists no unit test in build-clang" >&2; exit 1; }
for t in $unit_tests; do
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "build-clang/tests/$t" >/dev/null 2>"build-clang/$t.valgrind" \
        || { cat "build-clang/$t.valgrind" >&2; echo "lint: valgrind found errors in $t" >&2; exit 1; }
done
echo "lint: valgrind memcheck clean on the unit tests ($(wc -w <<<"$unit_tests") of them)"
cppcheck --quiet --enable=warning,portability,performance --std=c11 --error-exitcode=1 \
    --inline-suppr -I src src tests/sim
echo "lint: cppcheck clean"
unformatted=$(for f in src/*.[ch]; do clang-format --dry-run "$f" 2>&1 | grep -c "warning" || true; done | awk '{ s += $1 } END { print s + 0 }')
[ "$unformatted" -eq 0 ] || { echo "lint: clang-format would change $unformatted line(s) in src/: run clang-format -i src/*.[ch]" >&2; exit 1; }
echo "lint: clang-format clean"
bash ci/function_length.sh
echo "lint: no function over 60 lines, no file over 700 in src/ (beyond ci/long-functions.txt)"
bash ci/fuzz.sh --ci
