#!/usr/bin/env bash
# function_length.sh -- report source files in src/ over FILE_LIMIT lines (default 700) and
# functions longer than LIMIT lines (default 60), from the opening brace to the closing one. clang-format puts both braces of a function at
# column 0, so the braces alone find every function. A function may be longer when
# ci/long-functions.txt names it ("file:function  reason"); every other one fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-60}
FILE_LIMIT=${FILE_LIMIT:-700}
ALLOW=ci/long-functions.txt

long=$(awk -v limit="$LIMIT" '
    FNR == 1 { signature = "" }
    /^[A-Za-z_].*\(/ { signature = $0 }
    /^\{/ { start = FNR; name = signature; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name) }
    /^\}/ && start { if (FNR - start + 1 > limit) printf "%s:%s %d\n", FILENAME, name, FNR - start + 1; start = 0 }
' src/*.c)
status=0
while read -r where lines; do
    [ -n "$where" ] || continue
    if grep -q "^${where}[[:space:]]" "$ALLOW" 2>/dev/null; then
        echo "lint: $where is $lines lines (allowed: $(grep "^${where}[[:space:]]" "$ALLOW" | sed -E 's/^[^[:space:]]+[[:space:]]+//'))"
    else
        echo "lint: $where is $lines lines, over $LIMIT: split it, or name it in $ALLOW with a reason" >&2
        status=1
    fi
done <<<"$long"
for file in src/*.[ch]; do
    lines=$(wc -l <"$file")
    if [ "$lines" -gt "$FILE_LIMIT" ]; then
        echo "lint: $file is $lines lines, over $FILE_LIMIT: split it where its concerns split" >&2
        status=1
    fi
done
exit $status
