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
