#!/usr/bin/env bash
# fuzz.sh -- run the libFuzzer target of the streaming JSON extractor for N seconds
# (default 60), seeded with the API fixtures. Any crash, leak or sanitizer report fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
cp tests/fixtures/api/*.json "$OUT/corpus/" 2>/dev/null || true
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -DLK_VERSION=\"fuzz\" -g -O1 -fsanitize=fuzzer,address,undefined -Isrc"
# shellcheck disable=SC2086
clang $FLAGS tests/fuzz/fuzz_extract.c src/extract*.c src/convert.c src/error.c src/log.c \
    src/escape.c src/utf8.c \
    $(pkg-config --cflags --libs yajl) -o "$OUT/fuzz_extract"
"$OUT/fuzz_extract" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -print_final_stats=1 \
    "$OUT/corpus" 2>&1 | tail -12
