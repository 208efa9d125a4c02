#!/usr/bin/env bash
# The store's isolation of a refused value, at COPY time, against a real PostgreSQL: see
# tests/dbtest/test_store_isolation.c (it needs a database, so it runs here, not as a unit).
source "$(dirname "$0")/lib.sh"
: "${LK_DBTEST_DIR:?set LK_DBTEST_DIR to the folder of the database test binaries}"

pg_start
"$LK_DBTEST_DIR/test_store_isolation" || fail "test_store_isolation failed"
log "a value refused at COPY time: LK_EVALUE streaming, one session left out in isolation"
