#!/usr/bin/env bash
# The systemd units and the cron line of config/ (not unit tests): systemd-analyze verify
# accepts the service and the timer (with ExecStart pointed at the binary under test: verify
# wants it to exist) without a word,
# the units keep their hardening, their user and the credential plumbing, the cron line is well
# formed. (test_systemd_boot.sh runs them under a real systemd.)
source "$(dirname "$0")/lib.sh"

CONFIG=$LK_SOURCE_DIR/config
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (ci/deps.sh installs systemd)"
mkdir -p "$WORK/units"
sed "s#/usr/bin/lkarchive#$LKARCHIVE_BIN#" "$CONFIG/lkarchive.service" >"$WORK/units/lkarchive.service"
cp "$CONFIG/lkarchive.timer" "$WORK/units/"
# --man=no: Documentation=man:lkarchive(1) is installed only with the package
systemd-analyze verify --man=no "$WORK/units/lkarchive.service" "$WORK/units/lkarchive.timer" \
    >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify failed"; }
[ ! -s "$WORK/verify.log" ] || { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify warns"; }

for setting in 'Type=oneshot' 'User=lkarchive' 'StateDirectoryMode=0755' 'ProtectSystem=strict' 'NoNewPrivileges=true' \
    'PrivateTmp=true' 'After=network-online.target' 'Wants=network-online.target' \
    'LoadCredential=livekit-api-secret:' 'Environment=LKARCHIVE_API_SECRET_FILE=%d/livekit-api-secret'; do
    grep -q "^$setting" "$CONFIG/lkarchive.service" || fail "lkarchive.service lacks $setting"
done
# the pseudonyms' key, handed over as the secret is: the two lines, once uncommented, verify too
grep -q '^#LoadCredential=lkarchive-pseudonymize-key:/etc/lkarchive/pseudonymize_key$' "$CONFIG/lkarchive.service" \
    && grep -q '^#Environment=LKARCHIVE_PSEUDONYMIZE_KEY_FILE=%d/lkarchive-pseudonymize-key$' "$CONFIG/lkarchive.service" \
    || fail "lkarchive.service lacks the pseudonym key's LoadCredential= lines"
sed -i 's/^#\(LoadCredential=lkarchive-pseudonymize-key\|Environment=LKARCHIVE_PSEUDONYMIZE_KEY_FILE\)/\1/' \
    "$WORK/units/lkarchive.service"
systemd-analyze verify --man=no "$WORK/units/lkarchive.service" >"$WORK/verify.log" 2>&1 \
    || { cat "$WORK/verify.log" >&2; fail "the unit with the pseudonym key's credential does not verify"; }
for setting in 'Persistent=true' 'RandomizedDelaySec=' 'OnCalendar=' 'WantedBy=timers.target'; do
    grep -q "^$setting" "$CONFIG/lkarchive.timer" || fail "lkarchive.timer lacks $setting"
done
# the service's command line parses: the same options against --help
args=$(sed -n 's#^ExecStart=/usr/bin/lkarchive ##p' "$CONFIG/lkarchive.service")
lk $args --help; expect_status 0 "ExecStart's options"
# the cron line: five time fields, a user, a command
awk '!/^#/ && !/^[A-Z_]+=/ && NF { if (NF < 7 || $1 !~ /^[0-9*,\/-]+$/ || $6 != "lkarchive") exit 1 }' \
    "$CONFIG/lkarchive.cron" || fail "malformed cron line"
grep -q '^#LIVEKIT_API_KEY=' "$CONFIG/lkarchive.env.example" || fail "environment file example"
grep -q 'SECRET=' "$CONFIG/lkarchive.env.example" && fail "the environment file example holds a secret"
log "systemd units verified, cron line and environment file well formed"
