#!/usr/bin/env bash
# The background monitor, in a cluster of its own with clinres preloaded and a 1 s
# interval: samples fill clinres.connection_usage_history (bounded by
# clinres.monitor_history), and crossing the warning level logs one WARNING, not one
# per sample; going back logs once too. The reserved slots (superuser_reserved_connections,
# plus reserved_connections from PostgreSQL 16) are not counted as usable.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
own_cluster monitor 55432

own_cluster_init
cat >>"$dir/data/postgresql.conf" <<CONF
max_connections = 100
superuser_reserved_connections = 3
shared_preload_libraries = 'clinres'
clinres.monitor_interval = 1
clinres.monitor_history = 5
clinres.connection_critical_pct = 50
clinres.connection_warning_pct = 4
CONF
major=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
reserved=3
if [ "$major" -ge 16 ]; then echo "reserved_connections = 2" >>"$dir/data/postgresql.conf"; reserved=5; fi
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
q() { psql -X -At -h "$dir" -p "$port" -U postgres -d postgres -c "$1"; }
q "CREATE EXTENSION clinres CASCADE" >/dev/null
got=$(q "SELECT reserved_connections || ' ' || (available + connections) || ' ' || clinres.pool_size(1)
           FROM clinres.connection_usage")
[ "$got" = "$reserved $((100 - reserved)) $((100 - reserved))" ] \
    || fail "PostgreSQL $major: reserved, usable and pool_size(1) are '$got', expected $reserved and $((100 - reserved))"
echo "  PostgreSQL $major: $reserved reserved slots, $((100 - reserved)) usable"
# at_least N SQL: the number SQL answers is at least N.
at_least() { [ "$(q "$2")" -ge "$1" ]; }
wait_for 10 "no sample" at_least 1 "SELECT count(*) FROM clinres.connection_usage_history WHERE monitor = 'running'"
# Five sessions: 5 or 6 of 97 (95 from 16) usable connections, above the 4% warning level, for 4 s.
for i in 1 2 3 4 5; do psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "SELECT pg_sleep(4)" >/dev/null & done
wait_for 6 "the history shows fewer than two samples at warning" \
    at_least 2 "SELECT count(*) FROM clinres.connection_usage_history WHERE alert_level = 'warning'"
wait
# Back to ok, with at least 5 samples taken: the history then holds 5 (clinres.monitor_history).
back_to_ok() {
    [ "$(q "SELECT alert_level FROM clinres.connection_usage_history ORDER BY sampled_at DESC LIMIT 1")" = ok ] \
        && grep -q "connection usage is back to ok" "$dir/log" && at_least 5 "SELECT count(*) FROM clinres.connection_usage_history"
}
wait_for 10 "the last sample is not back to ok" back_to_ok
samples=$(q "SELECT count(*) FROM clinres.connection_usage_history")
[ "$samples" -eq 5 ] || fail "history holds $samples samples, expected 5 (clinres.monitor_history)"
warnings=$(grep -c "WARNING:  connection usage is warning" "$dir/log" || true)
backs=$(grep -c "connection usage is back to ok" "$dir/log" || true)
[ "$warnings" -eq 1 ] || fail "expected one WARNING for the warning level, the log has $warnings"
[ "$backs" -eq 1 ] || fail "expected one 'back to ok' message, the log has $backs"
grep "connection usage is" "$dir/log" | sed 's/^.*LOG: */  /; s/^.*WARNING: */  WARNING: /'

# The thresholds in postgresql.conf order, warning 97 before critical 99, at start: both hold.
printf 'clinres.connection_warning_pct = 97\nclinres.connection_critical_pct = 99\n' >>"$dir/data/postgresql.conf"
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w restart >/dev/null
got=$(q "SELECT current_setting('clinres.connection_warning_pct') || '/' || current_setting('clinres.connection_critical_pct')")
[ "$got" = 97/99 ] || fail "warning 97 and critical 99 in postgresql.conf gave $got"
grep -q "invalid value for parameter" "$dir/log" && fail "a valid pair of thresholds was rejected at start"
# An inconsistent pair (critical back to 95): the monitor warns once, the view raises 22023.
printf 'clinres.connection_critical_pct = 95\n' >>"$dir/data/postgresql.conf"
as_postgres "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
# The warning, then two more samples taken with the pair still inconsistent (it is logged once).
wait_for 10 "no WARNING for the inconsistent thresholds" \
    grep -q "WARNING:  clinres.connection_warning_pct exceeds clinres.connection_critical_pct" "$dir/log"
seen=$(q "SELECT max(sampled_at) FROM clinres.connection_usage_history")
wait_for 10 "no samples after the WARNING" at_least 2 "SELECT count(*) FROM clinres.connection_usage_history WHERE sampled_at > '$seen'"
pairs=$(grep -c "WARNING:  clinres.connection_warning_pct exceeds clinres.connection_critical_pct" "$dir/log" || true)
[ "$pairs" -eq 1 ] || fail "expected one WARNING for the inconsistent thresholds, the log has $pairs"
err=$(psql -X -At -h "$dir" -p "$port" -U postgres -d postgres -v VERBOSITY=verbose \
        -c "SELECT alert_level FROM clinres.connection_usage" 2>&1 || true)
[[ "$err" == *"22023"*"exceeds clinres.connection_critical_pct (95)"* ]] || fail "connection_usage with warning 97 > critical 95: $err"
echo "  thresholds: 97/99 from postgresql.conf kept; 97/95 logged once and refused by the view (22023)"
echo "monitor: samples every second, history bounded at 5, one WARNING per crossing; thresholds checked where used"
