#!/usr/bin/env bash
# The man page doc/lkarchive.1 cannot drift from the program: every command of `--help` has
# a section and its own `COMMAND --help`; every option of every help text is in the man page
# and every option of the man page is in some help text; every key of the key table in
# src/config.c, every environment variable of --help and every exit status of cli.h is
# documented; groff formats it without a warning.
source "$(dirname "$0")/lib.sh"

MAN=$LK_SOURCE_DIR/doc/lkarchive.1
[ -f "$MAN" ] || fail "no man page at $MAN"
groff -man -ww -z "$MAN" 2>"$WORK/groff.err"
[ ! -s "$WORK/groff.err" ] || { cat "$WORK/groff.err" >&2; fail "groff warns about the man page"; }
# the page as text, with roff's \- turned into -
man_text=$(sed 's/\\-/-/g' "$MAN")

lk --help; expect_status 0 "--help"
cp "$WORK/last.out" "$WORK/help.all"
commands=$(awk '/^commands/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$WORK/help.all")
[ -n "$commands" ] || fail "no command listed in --help"
for cmd in $commands; do
    lk "$cmd" --help; expect_status 0 "$cmd --help"
    grep -q "^usage: lkarchive \[options\] $cmd" "$WORK/last.out" || fail "$cmd --help: no usage line"
    cat "$WORK/last.out" >>"$WORK/help.all"
    lk help "$cmd"; expect_status 0 "help $cmd"
    grep -qx "\.SS $cmd" "$MAN" || fail "the man page has no section for the command $cmd"
done
# and no section for a command the program does not have
for section in $(sed -n 's/^\.SS \([a-z-]*\)$/\1/p' "$MAN"); do
    grep -qw "$section" <<<"$commands" || fail "the man page documents a command lkarchive lacks: $section"
done

help_options=$(grep -o -- '--[a-z][a-z-]*' "$WORK/help.all" | sort -u)
man_options=$(grep -o -- '--[a-z][a-z-]*' <<<"$man_text" | sort -u)
for opt in $help_options; do
    grep -qx -- "$opt" <<<"$man_options" || fail "option $opt of --help is not in the man page"
done
for opt in $man_options; do
    grep -qx -- "$opt" <<<"$help_options" || fail "option $opt of the man page is in no --help text"
done

keys=$(sed -n 's/^ *{"\([a-z_]*\)", KIND_.*/\1/p' "$LK_SOURCE_DIR/src/config.c")
[ "$(wc -w <<<"$keys")" -ge 20 ] || fail "could not read the key table of src/config.c"
for key in $keys; do
    grep -Eq "^\.B $key\$" "$MAN" || fail "config key $key is not in the man page"
done

for var in $(grep -o '[A-Z][A-Z_]*[A-Z]' "$WORK/help.all" | grep -E '^(LIVEKIT|LKARCHIVE|DATABASE)_' | sort -u); do
    grep -qx "\.B $var" "$MAN" || fail "environment variable $var is not in the man page"
done

for status in $(sed -n 's/^ *CLI_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$LK_SOURCE_DIR/src/cli.h") 130 143; do
    [ "$status" = 128 ] && continue
    grep -qx "\.B $status" "$MAN" || fail "exit status $status is not in the man page"
done
log "man page, --help texts, key table, environment and exit statuses agree"
