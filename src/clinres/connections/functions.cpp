// SQL entry points of connection usage (docs/reference.md, "Connection usage").
#include "clinres/connections/monitor.hpp"
#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/srf.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "common/ip.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
}

#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace {

// A usage percentage rounded to one decimal, as double precision (a number, not a
// string, in every client driver).
Datum pct_datum(double pct)
{
    return Float8GetDatum(std::round(pct * 10.0) / 10.0);
}

// Values of one usage row, in the order of the SQL columns.
void usage_values(const conn::Usage &u, Datum *values)
{
    values[0] = Int32GetDatum(u.connections);
    values[1] = Int32GetDatum(u.max_connections);
    values[2] = Int32GetDatum(u.reserved);
    values[3] = Int32GetDatum(u.available);
    values[4] = pct_datum(u.pct);
    pg::call([&] { values[5] = CStringGetTextDatum(conn::level_name(u.level)); });
}

// _connection_usage() -> one row
Datum connection_usage(FunctionCallInfo fcinfo)
{
    conn::check_thresholds();
    conn::Usage u = conn::current_usage();
    Datum values[6];
    bool nulls[6] = {};
    usage_values(u, values);
    return pg::composite(fcinfo, values, nulls);
}

const char *state_name(BackendState state)
{
    switch (state) {
    case STATE_IDLE:
        return "idle";
    case STATE_RUNNING:
        return "active";
    case STATE_IDLEINTRANSACTION:
        return "idle in transaction";
    case STATE_FASTPATH:
        return "fastpath function call";
    case STATE_IDLEINTRANSACTION_ABORTED:
        return "idle in transaction (aborted)";
    case STATE_DISABLED:
        return "disabled";
    default:
        return nullptr;
    }
}

// One client backend as copied out of the status snapshot.
struct Client {
    char addr[NI_MAXHOST]; // empty for Unix-domain sockets
    char app[NAMEDATALEN];
    Oid user, db;
    BackendState state;
};

// The client backends whose details the current user may see (pg_stat_activity's rule).
std::vector<Client> visible_clients()
{
    Client *raw = nullptr;
    int n = 0;
    pg::call([&] {
        int total = pgstat_fetch_stat_numbackends();
        bool see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
        raw = static_cast<Client *>(palloc0(sizeof(Client) * (total + 1)));
        for (int i = 1; i <= total; ++i) {
            LocalPgBackendStatus *local = pg::local_backend_status(i);
            if (local == nullptr)
                continue;
            PgBackendStatus *be = &local->backendStatus;
            if (be->st_backendType != B_BACKEND ||
                !(see_all || has_privs_of_role(GetUserId(), be->st_userid)))
                continue;
            Client &c = raw[n++];
            int family = be->st_clientaddr.addr.ss_family;
            if ((family == AF_INET || family == AF_INET6) &&
                pg_getnameinfo_all(&be->st_clientaddr.addr, be->st_clientaddr.salen, c.addr, sizeof c.addr,
                                   nullptr, 0, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                clean_ipv6_addr(family, c.addr);
            strlcpy(c.app, be->st_appname ? be->st_appname : "", sizeof c.app);
            c.user = be->st_userid;
            c.db = be->st_databaseid;
            c.state = be->st_state;
        }
    });
    return std::vector<Client>(raw, raw + n);
}

// _connections_by_client() -> client_addr, application_name, usename, datname, state, connections
Datum connections_by_client(FunctionCallInfo fcinfo)
{
    using Group = std::tuple<std::string, std::string, Oid, Oid, int>;
    std::map<Group, int> groups;
    for (const Client &c : visible_clients())
        ++groups[Group{c.addr, c.app, c.user, c.db, static_cast<int>(c.state)}];
    pg::materialize(fcinfo, false, [&](auto put) {
        for (const auto &entry : groups) {
            const Group &g = entry.first;
            const char *addr = std::get<0>(g).c_str();
            const char *user = GetUserNameFromId(std::get<2>(g), true);
            const char *db = OidIsValid(std::get<3>(g)) ? get_database_name(std::get<3>(g)) : nullptr;
            const char *state = state_name(static_cast<BackendState>(std::get<4>(g)));
            Datum values[6] = {0, 0, 0, 0, 0, Int32GetDatum(entry.second)};
            bool nulls[6] = {*addr == '\0', false, user == nullptr, db == nullptr, state == nullptr, false};
            if (!nulls[0])
                values[0] = DirectFunctionCall1(inet_in, CStringGetDatum(addr));
            values[1] = CStringGetTextDatum(std::get<1>(g).c_str());
            if (user)
                values[2] = DirectFunctionCall1(namein, CStringGetDatum(user));
            if (db)
                values[3] = DirectFunctionCall1(namein, CStringGetDatum(db));
            if (state)
                values[4] = CStringGetTextDatum(state);
            put(values, nulls);
        }
    });
    return 0;
}

// pool_size(max_instances, max_connections DEFAULT NULL) -> int
Datum pool_size(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0))
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "max_instances must not be null");
    int total = PG_ARGISNULL(1) ? conn::usable_connections() : PG_GETARG_INT32(1);
    return Int32GetDatum(conn::pool_size(PG_GETARG_INT32(0), total));
}

// _connection_usage_history() -> the monitor's samples, or one row saying it is not running
Datum connection_usage_history(FunctionCallInfo fcinfo)
{
    bool running = conn::monitor_running();
    std::vector<conn::Sample> samples = conn::monitor_history();
    std::vector<std::array<Datum, 7>> rows;
    for (const conn::Sample &s : samples) {
        std::array<Datum, 7> v{};
        v[0] = TimestampTzGetDatum(s.at);
        usage_values(s.usage, v.data() + 1);
        rows.push_back(v);
    }
    pg::materialize(fcinfo, false, [&](auto put) {
        Datum values[8];
        bool nulls[8] = {};
        if (!running) {
            for (bool &n : nulls)
                n = true;
            nulls[7] = false;
            values[7] = CStringGetTextDatum("not running: add clinres to shared_preload_libraries");
            put(values, nulls);
        }
        for (const auto &row : rows) {
            for (int i = 0; i < 7; ++i)
                values[i] = row[i];
            values[7] = CStringGetTextDatum("running");
            put(values, nulls);
        }
    });
    return 0;
}

} // namespace

CLINRES_FUNCTION(clinres_connection_usage, connection_usage)
CLINRES_FUNCTION(clinres_connections_by_client, connections_by_client)
CLINRES_FUNCTION(clinres_pool_size, pool_size)
CLINRES_FUNCTION(clinres_connection_usage_history, connection_usage_history)
