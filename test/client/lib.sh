# Helpers for the client tests (sourced).
# Runs a command as the postgres OS user when we are root (initdb and pgbouncer refuse root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on loopback.
free_port() {
    local port
    for port in $(seq "$1" $(($1 + 100))); do
        if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    return 1
}

# Fails the test with a message.
fail() { echo "FAIL: $*"; exit 1; }

# A server of the suite's own, for settings a shared cluster cannot have (preloading): sets bin,
# dir (/tmp/clinres-NAME.XXXXXX) and port (the first free one from PORT), and stops and removes
# it all on exit. Usage: own_cluster NAME PORT; then own_cluster_init, append settings to
# "$dir/data/postgresql.conf", and start it with pg_ctl.
own_cluster() {
    bin=$(pg_config --bindir)
    dir=$(mktemp -d "/tmp/clinres-$1.XXXXXX")
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    port=$(free_port "$2")
    trap 'as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
}

# (Re)creates own_cluster's data directory, listening on its socket directory and port only.
own_cluster_init() {
    rm -rf "$dir/data"
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    printf "port = %s\nlisten_addresses = ''\nunix_socket_directories = '%s'\n" "$port" "$dir" >>"$dir/data/postgresql.conf"
}

# Starts Debian's pgbouncer on 127.0.0.1:PORT in transaction mode (as the postgres OS user), in front
# of database DB of the cluster on $PGPORT, for one role with a password; pid file in DIR.
start_pgbouncer() {
    local dir=$1 port=$2 db=$3 role=$4 password=$5
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
$db = host=127.0.0.1 port=$PGPORT dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = plain
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-6}
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    echo "\"$role\" \"$password\"" >"$dir/users.txt"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
    as_postgres pgbouncer -d -q "$dir/pgbouncer.ini"
    for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
    fail "pgbouncer did not start: $(cat "$dir/pgbouncer.log" 2>/dev/null)"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND (every 0.1 s) until it succeeds; fails the test
# with WHAT after SECONDS. For a condition that the server makes true in its own time.
wait_for() {
    local seconds=$1 what=$2 i
    shift 2
    for ((i = 0; i < seconds * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "$what (waited ${seconds}s)"
}

# The last release: the newest version a script listed in versions/SHA256SUMS installs or updates
# to (only the first release has an install script of its own; later ones are upgrade steps).
last_release() {
    sed -E 's/^[0-9a-f]+  clinres--(.*)\.sql$/\1/; s/.*--//' versions/SHA256SUMS | sort -V | tail -1
}
