#!/usr/bin/env bash
# The binary COPY stage against a real PostgreSQL: every value archived through it equals what
# the server reads from the same text; see tests/dbtest/test_stage_values.c.
source "$(dirname "$0")/lib.sh"
: "${LK_DBTEST_DIR:?set LK_DBTEST_DIR to the folder of the database test binaries}"

pg_start
"$LK_DBTEST_DIR/test_stage_values" || fail "test_stage_values failed"
log "timestamps rounded as the server rounds them; integer ends, text, jsonb, numeric as sent"
