# Private PostgreSQL cluster and Redis server for scripts/run, scripts/test
# and bench/run. Sourced (bash); every function takes its state directory and
# ports as arguments, so the three users never share anything.
#
#   nexus_pg_start STATE PORT [DB]    initdb once, start, create role + db
#   nexus_pg_stop STATE               pg_ctl stop -m fast (no-op if stopped)
#   nexus_pg_running STATE            true if the cluster's postmaster runs
#   nexus_pg_wait PORT [SECONDS]      wait until it accepts connections
#   nexus_pg_ensure_db PORT DB        role `nexus` + database DB (owner nexus)
#   nexus_pg_recreate_db PORT DB      drop (WITH FORCE) and create DB again
#   nexus_psql PORT DB [psql args]    psql as role nexus over 127.0.0.1
#   nexus_redis_start STATE PORT      generated config, daemonized, no persistence
#   nexus_redis_stop STATE            by pid file (no-op if stopped)
#   nexus_redis_running STATE
#   nexus_redis_wait PORT [SECONDS]
#   nexus_pid_alive PID               true for a live, non-zombie process
#
# Layout under STATE: pg/data (cluster), pg/sock (unix socket), pg/postgres.log,
# redis/redis.conf, redis/redis.pid, redis/redis.log.
#
# PostgreSQL refuses to run as root: as root the server side runs as the
# `postgres` system user (created by Debian's postgresql package), owns
# STATE/pg, and every directory above it is made traversable (o+x) for it.
# Clients (psql) always connect over TCP 127.0.0.1 with trust auth, as
# whatever user calls them.
#
# Environment knobs:
#   NEXUS_PG_DURABLE=1   keep fsync/synchronous_commit on (scripts/run uses it)
#   NEXUS_QUIET=1        less chatter

_nexus_log() { [ -n "${NEXUS_QUIET:-}" ] || echo "$*" >&2; }

nexus_pid_alive() {
    local pid=${1:-} state
    case $pid in ''|*[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    # a zombie still answers kill -0: it is dead for our purposes (PID 1 may
    # take a while to reap a daemon we stopped)
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

_nexus_abs() { # absolute path of a (possibly not yet existing) directory
    mkdir -p "$1" && (cd "$1" && pwd -P)
}

_nexus_is_root() { [ "$(id -u)" -eq 0 ]; }

_nexus_pg_bindir() {
    local d
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
        echo "$d"; return 0
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    done
    d=$(command -v pg_ctl 2>/dev/null || true)
    if [ -n "$d" ]; then dirname "$(readlink -f "$d")"; return 0; fi
    echo "PostgreSQL server binaries not found (install the postgresql package)" >&2
    return 1
}

# Run a server-side PostgreSQL command as the right user, from / so that an
# unreadable working directory does not matter.
_nexus_as_pg() {
    if _nexus_is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# Make every directory from / down to $1 traversable by the postgres user.
_nexus_pg_traversable() {
    local dir=$1 p
    _nexus_is_root || return 0
    p=$dir
    while [ "$p" != / ] && [ -n "$p" ]; do
        if ! runuser -u postgres -- test -x "$p" 2>/dev/null; then
            _nexus_log "stack: chmod o+x $p (the postgres user must traverse it)"
            chmod o+x "$p"
        fi
        p=$(dirname "$p")
    done
}

_nexus_pg_dirs() { # sets pg_root pg_data pg_sock pg_log from STATE
    local state
    state=$(_nexus_abs "$1") || return 1
    pg_root=$state/pg
    pg_data=$pg_root/data
    pg_sock=$pg_root/sock
    pg_log=$pg_root/postgres.log
}

nexus_pg_running() {
    local pg_root pg_data pg_sock pg_log bindir pid
    _nexus_pg_dirs "$1" || return 1
    [ -f "$pg_data/postmaster.pid" ] || return 1
    pid=$(head -1 "$pg_data/postmaster.pid" 2>/dev/null)
    nexus_pid_alive "$pid"
}

nexus_pg_wait() {
    local port=$1 secs=${2:-30} i=0
    while [ $i -lt $((secs * 10)) ]; do
        if pg_isready -q -h 127.0.0.1 -p "$port" -t 1 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "stack: PostgreSQL on 127.0.0.1:$port did not answer within ${secs}s" >&2
    return 1
}

_nexus_pg_write_conf() { # port
    local port=$1 fsync=off
    [ -n "${NEXUS_PG_DURABLE:-}" ] && fsync=on
    _nexus_as_pg tee "$pg_data/nexus.conf" >/dev/null <<EOF
# written by scripts/lib/stack.sh on every start; edits are lost
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pg_sock'
max_connections = 200
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 128MB
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
max_wal_size = 1GB
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
    _nexus_as_pg tee "$pg_data/pg_hba.conf" >/dev/null <<EOF
# private dev/test cluster: trust on the local socket and loopback only
local   all  all                 trust
host    all  all  127.0.0.1/32   trust
host    all  all  ::1/128        trust
EOF
}

nexus_pg_start() {
    local state=$1 port=$2 db=${3:-} pg_root pg_data pg_sock pg_log bindir
    [ -n "$state" ] && [ -n "$port" ] || { echo "usage: nexus_pg_start STATE PORT [DB]" >&2; return 2; }
    _nexus_pg_dirs "$state" || return 1
    bindir=$(_nexus_pg_bindir) || return 1

    if nexus_pg_running "$state"; then
        # already ours and running: make sure it is on the expected port
        if ! grep -q "^port = $port\$" "$pg_data/nexus.conf" 2>/dev/null; then
            echo "stack: the cluster in $pg_data runs, but not on port $port; stop it first" >&2
            return 1
        fi
        nexus_pg_wait "$port" 30 || return 1
        [ -z "$db" ] || nexus_pg_ensure_db "$port" "$db" || return 1
        return 0
    fi

    mkdir -p "$pg_root" "$pg_sock"
    if _nexus_is_root; then
        id postgres >/dev/null 2>&1 || {
            echo "stack: running as root needs the postgres system user (apt-get install postgresql)" >&2
            return 1; }
        chown postgres: "$pg_root" "$pg_sock"
        [ ! -d "$pg_data" ] || chown -R postgres: "$pg_data"
        touch "$pg_log" && chown postgres: "$pg_log"
        _nexus_pg_traversable "$pg_root"
    fi
    # nginx workers (another user) connect on the socket; loopback TCP is
    # open to local users with trust auth anyway, so this exposes nothing new
    chmod 755 "$pg_sock"

    if [ ! -f "$pg_data/PG_VERSION" ]; then
        _nexus_log "stack: initdb $pg_data"
        rm -rf "$pg_data"
        _nexus_as_pg mkdir -p "$pg_data"
        _nexus_as_pg "$bindir/initdb" -D "$pg_data" -U postgres -E UTF8 \
            --locale=C -A trust --no-instructions >"$pg_root/initdb.log" 2>&1 || {
            cat "$pg_root/initdb.log" >&2; return 1; }
        echo "include_if_exists = 'nexus.conf'" | _nexus_as_pg tee -a "$pg_data/postgresql.conf" >/dev/null
    fi
    # a crash or a reboot can leave a stale pid file behind
    rm -f "$pg_data/postmaster.pid"
    _nexus_pg_write_conf "$port"

    _nexus_log "stack: starting PostgreSQL on 127.0.0.1:$port ($pg_data)"
    if ! _nexus_as_pg "$bindir/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t 60 \
            -s start >/dev/null; then
        echo "stack: PostgreSQL failed to start; last lines of $pg_log:" >&2
        tail -20 "$pg_log" >&2
        return 1
    fi
    nexus_pg_wait "$port" 30 || return 1
    [ -z "$db" ] || nexus_pg_ensure_db "$port" "$db" || return 1
}

nexus_pg_stop() {
    local state=$1 pg_root pg_data pg_sock pg_log bindir
    _nexus_pg_dirs "$state" || return 1
    nexus_pg_running "$state" || return 0
    bindir=$(_nexus_pg_bindir) || return 1
    _nexus_log "stack: stopping PostgreSQL ($pg_data)"
    _nexus_as_pg "$bindir/pg_ctl" -D "$pg_data" -m fast -w -t 60 -s stop >/dev/null
}

_nexus_psql_su() { # port db args...: as the cluster's superuser
    local port=$1 db=$2; shift 2
    PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
        -U postgres -d "$db" "$@"
}

nexus_psql() { # port db args...: as role nexus
    local port=$1 db=$2; shift 2
    PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
        -U nexus -d "$db" "$@"
}

nexus_pg_ensure_db() {
    local port=$1 db=$2
    if [ "$(_nexus_psql_su "$port" postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'nexus'")" != 1 ]; then
        _nexus_psql_su "$port" postgres -c "CREATE ROLE nexus LOGIN CREATEDB" || return 1
    fi
    if [ "$(_nexus_psql_su "$port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
        _nexus_log "stack: creating database $db (owner nexus)"
        _nexus_psql_su "$port" postgres -c "CREATE DATABASE \"$db\" OWNER nexus ENCODING 'UTF8' TEMPLATE template0" || return 1
    fi
}

nexus_pg_recreate_db() {
    local port=$1 db=$2
    _nexus_psql_su "$port" postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || return 1
    nexus_pg_ensure_db "$port" "$db"
}

# ---------------------------------------------------------------- Redis

_nexus_redis_dir() { local s; s=$(_nexus_abs "$1") || return 1; echo "$s/redis"; }

nexus_redis_running() {
    local dir pid
    dir=$(_nexus_redis_dir "$1") || return 1
    [ -f "$dir/redis.pid" ] || return 1
    pid=$(cat "$dir/redis.pid" 2>/dev/null)
    nexus_pid_alive "$pid"
}

nexus_redis_wait() {
    local port=$1 secs=${2:-15} i=0
    while [ $i -lt $((secs * 20)) ]; do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        sleep 0.05
        i=$((i + 1))
    done
    echo "stack: Redis on 127.0.0.1:$port did not answer within ${secs}s" >&2
    return 1
}

nexus_redis_start() {
    local state=$1 port=$2 dir
    [ -n "$state" ] && [ -n "$port" ] || { echo "usage: nexus_redis_start STATE PORT" >&2; return 2; }
    dir=$(_nexus_redis_dir "$state") || return 1
    mkdir -p "$dir"
    if nexus_redis_running "$state"; then
        if ! grep -q "^port $port\$" "$dir/redis.conf" 2>/dev/null; then
            echo "stack: the Redis in $dir runs, but not on port $port; stop it first" >&2
            return 1
        fi
        nexus_redis_wait "$port" 15
        return
    fi
    cat >"$dir/redis.conf" <<EOF
# written by scripts/lib/stack.sh on every start; edits are lost
port $port
bind 127.0.0.1
protected-mode yes
daemonize yes
supervised no
pidfile $dir/redis.pid
logfile $dir/redis.log
loglevel notice
dir $dir
save ""
appendonly no
databases 16
maxmemory 256mb
maxmemory-policy allkeys-lru
EOF
    rm -f "$dir/redis.pid"
    _nexus_log "stack: starting Redis on 127.0.0.1:$port ($dir)"
    if ! redis-server "$dir/redis.conf"; then
        echo "stack: redis-server failed; last lines of $dir/redis.log:" >&2
        tail -20 "$dir/redis.log" >&2
        return 1
    fi
    nexus_redis_wait "$port" 15 || { tail -20 "$dir/redis.log" >&2; return 1; }
}

nexus_redis_stop() {
    local state=$1 dir pid i=0
    dir=$(_nexus_redis_dir "$state") || return 1
    nexus_redis_running "$state" || { rm -f "$dir/redis.pid"; return 0; }
    pid=$(cat "$dir/redis.pid")
    _nexus_log "stack: stopping Redis (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while nexus_pid_alive "$pid"; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
        if [ $i -gt 300 ]; then echo "stack: Redis pid $pid does not exit" >&2; return 1; fi
        sleep 0.05
    done
    rm -f "$dir/redis.pid"
}
