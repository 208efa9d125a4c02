#!/usr/bin/env bash
# The operator path under a real systemd: a Debian 12 container (mmdebstrap, minbase) booted
# with systemd-nspawn, the .deb that CPack builds installed in it with apt-get, PostgreSQL (the
# host's PostgreSQL 15 binaries, bind-mounted read-only) as a unit of that systemd, the
# simulator on this machine as the API (the container shares its network).
#  - the timer is enabled; `systemctl start lkarchive.service` exits 0 and the archive is exact.
#    The config names api_secret_file /etc/lkarchive/api_secret (root's, mode 600: the unit's
#    user cannot read it), as the example does: LoadCredential's LKARCHIVE_API_SECRET_FILE
#    wins and the file's one is not opened. /etc/default/lkarchive gives the project and a
#    DATABASE_URL with spaces; the config names another project and no database.
#  - the real prometheus-node-exporter (Debian's package and unit, as its user prometheus)
#    scrapes /var/lib/lkarchive/textfile through its textfile collector: no scrape error, the
#    lkarchive series there.
#  - the cron line of the package, run as cron runs it (`env -i sh -c LINE` as lkarchive),
#    uses /etc/default/lkarchive's values; a bare `lkarchive check` reads the default config.
# The tree is cached in $LK_SYSTEMD_CACHE (default /var/cache/lkarchive-tests; "none": build
# it every time) for 7 days and booted through an overlay, so the cache is never changed; no
# cache costs about 90 s more. Without root, mmdebstrap or systemd-nspawn the test says why
# and is skipped (exit 77); it never fakes a boot. The .deb is $LK_DEB, else built by
# ci/package.sh build in $LK_PACKAGE_BUILD_DIR.
source "$(dirname "$0")/lib.sh"

SKIP=77
skip() { log "SKIPPED: $*"; exit "$SKIP"; }
T0=$(date +%s)
step() { log "$(( $(date +%s) - T0 )) s: $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap builds a tree, systemd-nspawn boots it)"
for tool in mmdebstrap systemd-nspawn nsenter curl; do
    command -v "$tool" >/dev/null ||
        skip "$tool is not installed (ci/deps.sh installs mmdebstrap, systemd-container, curl)"
done
unshare --mount --pid --fork true 2>/dev/null ||
    skip "this machine does not let root make mount and pid namespaces (a container without privileges?)"
[ -x "$PG_BIN/postgres" ] || fail "$PG_BIN/postgres missing (ci/deps.sh installs postgresql-15)"

# the packages of the tree: systemd, the scraper, the package's libraries and PostgreSQL's
# (no cron daemon: the test runs the cron line as cron would)
PACKAGES=systemd,systemd-sysv,dbus,prometheus-node-exporter
PACKAGES+=,libcurl4,libyajl2,libpq5,libjwt0,libyaml-0-2
PACKAGES+=,libicu72,libxml2,libldap-2.5-0,libgssapi-krb5-2,liblz4-1,libreadline8,libpam0g,libzstd1

# ---- the .deb -------------------------------------------------------------------------------
DEB=${LK_DEB:-}
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
    DEB=$(LK_PACKAGE_BUILD_DIR=${LK_PACKAGE_BUILD_DIR:-$WORK/pkg} \
        bash "$LK_SOURCE_DIR/ci/package.sh" build | tail -1)
fi
[ -f "$DEB" ] || fail "no .deb was built"
step "package $(basename "$DEB")"

# ---- the tree: cached, never changed --------------------------------------------------------
# mmdebstrap takes the host's apt sources (a MIRROR argument naming a file): no mirror here
SOURCES=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q '^[^#]' "$f" && SOURCES+=("$f")
done
[ "${#SOURCES[@]}" -gt 0 ] || fail "the host has no apt sources for mmdebstrap"
build_tree() { # DIR
    mmdebstrap --variant=minbase --include="$PACKAGES" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        bookworm "$1" "${SOURCES[@]}" >"$WORK/mmdebstrap.log" 2>&1 ||
        { tail -30 "$WORK/mmdebstrap.log" >&2; fail "mmdebstrap could not build the tree"; }
}
CACHE=${LK_SYSTEMD_CACHE:-/var/cache/lkarchive-tests}
key=$( { mmdebstrap --version; echo "$PACKAGES"; cat "${SOURCES[@]}"; } | sha256sum | cut -c1-16)
if [ "$CACHE" = none ]; then
    TREE=$WORK/tree
    build_tree "$TREE"
    step "tree built (no cache)"
else
    TREE=$CACHE/bookworm-$key
    mkdir -p "$CACHE"
    exec 8>"$CACHE/.lock"
    flock 8
    if [ ! -f "$TREE/.complete" ] || [ -n "$(find "$TREE/.complete" -mtime +7)" ]; then
        rm -rf "$TREE" "$TREE.new"
        build_tree "$TREE.new"
        touch "$TREE.new/.complete"
        mv "$TREE.new" "$TREE"
        step "tree built and cached in $TREE"
    else
        step "tree from the cache $TREE"
    fi
    flock -u 8
fi

ROOT=$WORK/root
NSPAWN_PID=
CPID=
OVERLAY=
mkdir -p "$ROOT" "$WORK/upper" "$WORK/ovl-work"
if mount -t overlay overlay \
    -o "lowerdir=$TREE,upperdir=$WORK/upper,workdir=$WORK/ovl-work" "$ROOT" 2>/dev/null; then
    OVERLAY=1
else
    cp -a "$TREE/." "$ROOT/"
fi

container_stop() {
    if [ -n "$CPID" ] && kill -0 "$CPID" 2>/dev/null; then
        nsenter --target "$CPID" --all systemctl poweroff >/dev/null 2>&1 || true
    fi
    if [ -n "$NSPAWN_PID" ]; then
        for _ in $(seq 1 150); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$NSPAWN_PID" 2>/dev/null; then
            log "the container did not power off in 30 s: killing systemd-nspawn"
            kill -KILL "$NSPAWN_PID" 2>/dev/null || true
        fi
        wait "$NSPAWN_PID" 2>/dev/null || true
    fi
    NSPAWN_PID=
    CPID=
    if [ -n "$OVERLAY" ]; then umount "$ROOT" 2>/dev/null || umount -l "$ROOT"; fi
    OVERLAY=
}
trap 'st=$?; container_stop; (exit $st); cleanup' EXIT

# ct: run a command in the container (all its namespaces)
ct() { nsenter --target "$CPID" --all "$@"; }

# ---- this machine's side: the simulator, free ports -----------------------------------------
TODAY=$(date -u +%F)
sim_start --today "$TODAY" --seed 7 --days 7 --sessions-per-day 12 --participants 3 \
    --connections 3 --active-today 2 --quirks all --expected-dir "$WORK/expected"
PG_PORT=$(free_port)
NE_PORT=$(free_port)

# ---- the container's files, before it boots -------------------------------------------------
mkdir -p "$ROOT/srv" "$ROOT/etc/lkarchive" "$ROOT/etc/systemd/system"
# the tree was built without docs, man pages and locales; the package is installed whole
rm -f "$ROOT/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
cp "$DEB" "$ROOT/srv/"
# what an operator writes: the secret (root's, 600), the config (root's, 644; no secret in it)
install -m 600 /dev/stdin "$ROOT/etc/lkarchive/api_secret" <<<"$LIVEKIT_API_SECRET"
cat >"$ROOT/etc/lkarchive/lkarchive.yaml" <<EOF
# the operator's config: the example's api_secret_file uncommented (for the cron line)
api_key: $LIVEKIT_API_KEY
api_secret_file: /etc/lkarchive/api_secret
projects: [p_not_this_one]
EOF
chmod 644 "$ROOT/etc/lkarchive/lkarchive.yaml"
cat >"$ROOT/etc/default/lkarchive" <<EOF
# written as config/lkarchive.env.example says
LIVEKIT_PROJECT_ID=p_sim
LIVEKIT_ANALYTICS_URL=http://127.0.0.1:$SIM_PORT
DATABASE_URL="host=/var/run/postgresql port=$PG_PORT dbname=livekit"
EOF
# node_exporter: Debian's unit and user, pointed at lkarchive's directory as the README says
cat >"$ROOT/etc/default/prometheus-node-exporter" <<EOF
ARGS="--web.listen-address=127.0.0.1:$NE_PORT --collector.textfile.directory=/var/lib/lkarchive/textfile"
EOF
# PostgreSQL 15: the host's binaries, a cluster of the container's own
cat >"$ROOT/etc/systemd/system/postgresql.service" <<EOF
[Unit]
Description=PostgreSQL 15 (test_systemd_boot: the host's binaries, bind-mounted)
[Service]
Type=notify
User=postgres
RuntimeDirectory=postgresql
ExecStart=$PG_BIN/postgres -D /var/lib/postgresql/data -c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=/var/run/postgresql -c jit=off -c fsync=off -c full_page_writes=off
EOF

systemd-nspawn -D "$ROOT" --register=no --keep-unit --boot --console=read-only \
    --bind-ro="$(dirname "$PG_BIN")":/usr/lib/postgresql/15 --bind-ro=/usr/share/postgresql/15 \
    </dev/null >"$WORK/nspawn.log" 2>&1 &
NSPAWN_PID=$!
# the container's systemd: nspawn's child, or that child's child
children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
for _ in $(seq 1 100); do
    for pid in $(children "$NSPAWN_PID") $(for c in $(children "$NSPAWN_PID"); do children "$c"; done); do
        if [ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" = systemd ]; then CPID=$pid; fi
    done
    [ -z "$CPID" ] || break
    kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/nspawn.log" >&2; fail "systemd-nspawn exited"; }
    sleep 0.1
done
[ -n "$CPID" ] || { cat "$WORK/nspawn.log" >&2; fail "no systemd in the container"; }
# its bus comes up a moment after it starts; then it says when the boot has ended
for _ in $(seq 1 150); do
    state=$(ct timeout 60 systemctl is-system-running --wait 2>&1) || true
    case $state in *"connect to bus"*) sleep 0.2 ;; *) break ;; esac
done
[ "$state" = running ] || { ct systemctl --failed >&2 || true; fail "the container's systemd is $state"; }
step "booted (systemd pid $CPID on this machine)"

# ---- PostgreSQL in the container ------------------------------------------------------------
ct useradd --system --home-dir /var/lib/postgresql --create-home postgres
ct runuser -u postgres -- "$PG_BIN/initdb" -D /var/lib/postgresql/data -U postgres -E UTF8 \
    --locale=C.UTF-8 --auth-local=peer --auth-host=trust >"$WORK/initdb.log" 2>&1 ||
    { cat "$WORK/initdb.log" >&2; fail "initdb in the container"; }
ct systemctl start postgresql.service || { ct journalctl -u postgresql --no-pager >&2; fail "PostgreSQL"; }
export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=postgres
unset DATABASE_URL
step "PostgreSQL runs in the container (port $PG_PORT for this test's psql)"

# ---- the package, as an operator installs it ------------------------------------------------
ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/srv/$(basename "$DEB")" \
    >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt-get install of the .deb"; }
ct id lkarchive >/dev/null || fail "the package created no user lkarchive"
# the README's database set-up: a role of the service's user (peer), its database
psql_q "CREATE ROLE lkarchive LOGIN" >/dev/null
psql_q "CREATE DATABASE livekit OWNER lkarchive" >/dev/null
ct systemctl enable --now lkarchive.timer >/dev/null 2>&1 || fail "systemctl enable --now lkarchive.timer"
[ "$(ct systemctl is-active lkarchive.timer)" = active ] || fail "lkarchive.timer is not active"
step "package installed, timer enabled"

# ---- the service ----------------------------------------------------------------------------
if ! ct systemctl start lkarchive.service; then
    ct journalctl -u lkarchive.service --no-pager >&2 || true
    fail "systemctl start lkarchive.service failed"
fi
ct journalctl -u lkarchive.service --no-pager >"$WORK/journal.out" 2>&1 || true
[ "$(ct systemctl show -P ExecMainStatus lkarchive.service)" = 0 ] || fail "the service's exit status"
[ "$(ct systemctl show -P Result lkarchive.service)" = success ] || fail "the service's result"
step "lkarchive.service: exit 0"
export PGDATABASE=livekit
load_expected "$WORK/expected"
compare_all
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE project_id <> 'p_sim'")" -eq 0 ] ||
    fail "a project other than /etc/default/lkarchive's was archived"
step "the archive is exact"

# ---- the metrics, scraped by the real node_exporter -----------------------------------------
prom=/var/lib/lkarchive/textfile/lkarchive.prom
[ "$(ct stat -c '%a %U' "$prom")" = "644 lkarchive" ] || fail "$prom: $(ct stat -c '%a %U' "$prom")"
[ "$(ct systemctl show -P User prometheus-node-exporter.service)" = prometheus ] ||
    fail "node_exporter does not run as its own user"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NE_PORT/metrics" >"$WORK/scrape.txt" && break; sleep 0.2; done
grep -q '^node_textfile_scrape_error 0$' "$WORK/scrape.txt" ||
    { grep textfile "$WORK/scrape.txt" >&2; fail "node_exporter: textfile scrape error"; }
grep -q '^lkarchive_last_success_timestamp_seconds{project="p_sim"} ' "$WORK/scrape.txt" ||
    { grep lkarchive "$WORK/scrape.txt" >&2; fail "node_exporter serves no lkarchive_last_success"; }
step "node_exporter (user prometheus) scrapes $(grep -c '^lkarchive_' "$WORK/scrape.txt") lkarchive samples, no scrape error"

# ---- the cron line, as cron runs it ---------------------------------------------------------
# for cron the secret file is the lkarchive user's (config/lkarchive.cron says so)
ct chown lkarchive /etc/lkarchive/api_secret
echo "LKARCHIVE_LOG_LEVEL=debug" >>"$ROOT/etc/default/lkarchive"
line=$(ct sed -n 's/^[0-9*][^ ]* \+[^ ]\+ \+[^ ]\+ \+[^ ]\+ \+[^ ]\+ \+lkarchive \+//p' \
    /usr/share/doc/lkarchive/lkarchive.cron)
[ -n "$line" ] || fail "no cron line in the installed lkarchive.cron"
runs=$(psql_q "SELECT count(*) FROM livekit.archive_runs")
ct runuser -u lkarchive -- env -i sh -c "$line" || {
    ct cat /var/log/lkarchive/lkarchive.log >&2 || true
    fail "the cron line failed"
}
ct cat /var/log/lkarchive/lkarchive.log >"$WORK/cron.out"
grep -q 'level=debug' "$WORK/cron.out" || fail "the cron line ignored LKARCHIVE_LOG_LEVEL"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_runs")" -eq $((runs + 1)) ] &&
    [ "$(psql_q "SELECT status FROM livekit.archive_runs ORDER BY run_id DESC LIMIT 1")" = ok ] ||
    fail "the cron line's run is not recorded as ok"
compare_all
# the control: the old line sourced the file without exporting it, and here that fails
ct runuser -u lkarchive -- env -i sh -c '. /etc/default/lkarchive; /usr/bin/lkarchive run' \
    >"$WORK/unexported.out" 2>&1 && fail "a cron line that does not export the file passed too"
step "the cron line used /etc/default/lkarchive (project, DATABASE_URL with spaces, log level)"

# a bare `lkarchive check` reads /etc/lkarchive/lkarchive.yaml: api_key and the secret file
ct runuser -u lkarchive -- env -i LIVEKIT_PROJECT_ID=p_sim "LIVEKIT_ANALYTICS_URL=http://127.0.0.1:$SIM_PORT" \
    "DATABASE_URL=host=/var/run/postgresql port=$PG_PORT dbname=livekit" /usr/bin/lkarchive check \
    >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out" >&2; fail "bare lkarchive check"; }
step "bare lkarchive check read /etc/lkarchive/lkarchive.yaml"

container_stop
step "powered off"
