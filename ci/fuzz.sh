#!/usr/bin/env bash
# fuzz.sh -- build and run the libFuzzer target of the streaming JSON extractor
# (tests/fuzz/fuzz_extract.c: sanitizers plus an oracle for what PostgreSQL accepts).
#
#   bash ci/fuzz.sh --ci      a fixed run for CI: -seed=1, LK_FUZZ_RUNS executions (default
#                             150000, about 35 s here) from a fresh copy of the seed corpus,
#                             so it finds the same things every time and cannot flake
#   bash ci/fuzz.sh [SECONDS] explore for SECONDS (default 60), growing $LK_FUZZ_DIR/corpus
#                             between runs (LK_FUZZ_DIR: default build-fuzz; a long run in
#                             its own directory leaves the CI run alone)
#
# Seeds: tests/fuzz/corpus (one file per hostile case; the first byte picks the body and the
# chunk size, see the target) and the API fixtures. Any crash, leak, sanitizer report or
# oracle failure fails the script, and the input is left in $LK_FUZZ_DIR (crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${LK_FUZZ_DIR:-build-fuzz}
mkdir -p "$OUT"
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -DLK_VERSION=\"fuzz\" -g -O1 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc"
# shellcheck disable=SC2086
clang $FLAGS tests/fuzz/fuzz_extract.c src/extract*.c src/convert.c src/error.c src/log.c \
    src/escape.c src/utf8.c src/strmap.c src/date.c \
    $(pkg-config --cflags --libs yajl) -o "$OUT/fuzz_extract"

# seed_into DIR: the repo's seeds, and the fixtures with their header byte (list: chunk 7,
# details: chunk 13)
seed_into() {
    mkdir -p "$1"
    cp tests/fuzz/corpus/* "$1/"
    for f in tests/fixtures/api/list_*.json; do
        { printf '\x0c'; cat "$f"; } >"$1/fixture_$(basename "$f" .json)"
    done
    for f in tests/fixtures/api/details_*.json; do
        { printf '\x19'; cat "$f"; } >"$1/fixture_$(basename "$f" .json)"
    done
}

if [ "${1:-}" = "--ci" ]; then
    corpus="$OUT/corpus-ci"
    rm -rf "$corpus"
    seed_into "$corpus"
    set -- -seed=1 -runs="${LK_FUZZ_RUNS:-150000}"
else
    corpus="$OUT/corpus"
    seed_into "$corpus"
    set -- -max_total_time="${1:-60}"
fi
log="$OUT/fuzz.log"
if ! (cd "$OUT" && ./fuzz_extract "$@" -max_len=65536 -timeout=10 -print_final_stats=1 \
    "${corpus#"$OUT"/}") >"$log" 2>&1; then
    tail -60 "$log" >&2
    echo "fuzz: the extractor failed on an input (saved as $OUT/crash-* or $OUT/leak-*)" >&2
    exit 1
fi
grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" "$log" || tail -5 "$log"
echo "fuzz: no crash, leak, sanitizer report or oracle failure"
