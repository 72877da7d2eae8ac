// The SQL signatures this client calls, as PostgreSQL's catalog spells them (format_type names).
// The TypeScript argument and row types are derived from this table (see sqltypes.ts) and every
// call is built from it (named notation with casts), so it is the single source of the client's
// view of the API. test/signatures.test.ts compares it with pg_proc on a live server and fails on
// drift; `npm run signatures` prints the table as the server has it (review, then commit).
//
// args:    [name, type], or [name, type, "default"] when the SQL argument has a DEFAULT, or
//          [name, type, "null"] when NULL is a meaning of its own (set_user_modules: inherit)
// returns: a scalar type, or { setof: type }, or { table: [[column, type] | [column, type, "null"]] }
//          ("null": the column can be NULL; the TypeScript row type says `| null`)

export type SqlArg = readonly [string, string] | readonly [string, string, "default" | "null"];
export type SqlColumn = readonly [string, string] | readonly [string, string, "null"];
export type SqlReturn = string | { readonly setof: string } | { readonly table: readonly SqlColumn[] };
export interface SqlSignature {
    readonly fn: string;
    readonly args: readonly SqlArg[];
    readonly returns: SqlReturn;
}

export const signatures = {
    // section 2: module access and the session context
    has_module: { fn: "has_module", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["module_code", "text"]], returns: "boolean" },
    user_modules: {
        fn: "user_modules",
        args: [["user_id", "uuid"], ["tenant_id", "uuid"]],
        returns: { table: [["code", "text"], ["name", "text"], ["route", "text", "null"], ["sort_order", "integer"], ["schema_name", "name", "null"]] },
    },
    require_module: { fn: "require_module", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["module_code", "text"]], returns: "boolean" },
    has_permission: { fn: "has_permission", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["permission_code", "text"]], returns: "boolean" },
    landing_module: { fn: "landing_module", args: [["user_id", "uuid"], ["tenant_id", "uuid"]], returns: "text" },
    session_profile: { fn: "session_profile", args: [["user_id", "uuid"], ["tenant_id", "uuid"]], returns: "jsonb" },
    set_context: { fn: "set_context", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["is_local", "boolean", "default"]], returns: "uuid" },
    current_user_id: { fn: "current_user_id", args: [], returns: "uuid" },
    current_tenant_id: { fn: "current_tenant_id", args: [], returns: "uuid" },
    // signed sessions and the one-call request
    login: { fn: "login", args: [["identifier", "text"], ["password", "text"], ["tenant_code", "text", "default"]], returns: "jsonb" },
    set_session: { fn: "set_session", args: [["token", "text"]], returns: "uuid" },
    begin_request: { fn: "begin_request", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["module_code", "text"]], returns: "jsonb" },
    begin_request_token: { fn: "begin_request", args: [["token", "text"], ["module_code", "text"]], returns: "jsonb" },
    logout: { fn: "logout", args: [["token", "text"]], returns: "uuid" },
    list_sessions: {
        fn: "list_sessions",
        args: [["of_user", "uuid", "default"]],
        returns: { table: [["session_id", "uuid"], ["user_id", "uuid"], ["tenant_id", "uuid", "null"], ["created_at", "timestamp with time zone"],
                           ["last_seen_at", "timestamp with time zone"], ["expires_at", "timestamp with time zone"]] },
    },
    revoke_sessions: { fn: "revoke_sessions", args: [["user_id", "uuid"], ["session_id", "uuid", "default"]], returns: "integer" },
    // section 4
    pool_size: { fn: "pool_size", args: [["max_instances", "integer"], ["max_connections", "integer", "default"]], returns: "integer" },
    // section 5: user management
    list_users: {
        fn: "list_users",
        args: [["tenant_id", "uuid", "default"], ["search", "text", "default"], ["role_code", "text", "default"],
               ["status", "text", "default"], ["module_code", "text", "default"], ["page", "integer", "default"],
               ["page_size", "integer", "default"], ["sort", "text", "default"]],
        returns: { table: [["id", "uuid"], ["email", "text"], ["name", "text"], ["phone", "text", "null"], ["status", "text"],
                           ["role_code", "text", "null"], ["membership_status", "text", "null"], ["modules", "text[]", "null"],
                           ["created_at", "timestamp with time zone"], ["last_login_at", "timestamp with time zone", "null"],
                           ["total_count", "bigint"]] },
    },
    count_users: {
        fn: "count_users",
        args: [["tenant_id", "uuid", "default"], ["search", "text", "default"], ["role_code", "text", "default"],
               ["status", "text", "default"], ["module_code", "text", "default"]],
        returns: "bigint",
    },
    get_user: { fn: "get_user", args: [["user_id", "uuid"]], returns: "jsonb" },
    create_user: {
        fn: "create_user",
        args: [["email", "text"], ["name", "text"], ["password", "text", "default"], ["tenant_id", "uuid", "default"],
               ["role_code", "text", "default"], ["modules", "text[]", "default"], ["phone", "text", "default"]],
        returns: "uuid",
    },
    update_user: { fn: "update_user", args: [["user_id", "uuid"], ["changes", "jsonb"]], returns: "jsonb" },
    set_user_status: { fn: "set_user_status", args: [["user_id", "uuid"], ["status", "text"], ["tenant_id", "uuid", "default"]], returns: "jsonb" },
    reset_password: { fn: "reset_password", args: [["user_id", "uuid"], ["new_password", "text", "default"]], returns: "text" },
    delete_user: { fn: "delete_user", args: [["user_id", "uuid"], ["tenant_id", "uuid", "default"], ["everywhere", "boolean", "default"]], returns: "uuid" },
    assign_tenant: {
        fn: "assign_tenant",
        args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["role_code", "text", "default"], ["modules", "text[]", "default"],
               ["valid_from", "timestamp with time zone", "default"], ["valid_until", "timestamp with time zone", "default"]],
        returns: "jsonb",
    },
    set_tenant_role: { fn: "set_tenant_role", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["role_code", "text"]], returns: "jsonb" },
    remove_tenant: { fn: "remove_tenant", args: [["user_id", "uuid"], ["tenant_id", "uuid"]], returns: "jsonb" },
    set_user_modules: { fn: "set_user_modules", args: [["user_id", "uuid"], ["tenant_id", "uuid"], ["modules", "text[]", "null"]], returns: "jsonb" },
    tenant_options: { fn: "tenant_options", args: [], returns: { table: [["id", "uuid"], ["code", "text"], ["name", "text"]] } },
    module_options: { fn: "module_options", args: [["tenant_id", "uuid", "null"]], returns: { table: [["code", "text"], ["name", "text"]] } },
    list_admin_logs: {
        fn: "list_admin_logs",
        args: [["tenant_id", "uuid", "default"], ["page", "integer", "default"], ["page_size", "integer", "default"]],
        returns: { table: [["id", "bigint"], ["created_at", "timestamp with time zone"], ["actor_id", "uuid", "null"],
                           ["actor_email", "text", "null"], ["tenant_id", "uuid", "null"], ["action", "text"],
                           ["target", "text", "null"], ["detail", "jsonb", "null"], ["total_count", "bigint"]] },
    },
    // section 6: import and export (docs/import.md)
    import_users: {
        fn: "import_users",
        args: [["data", "bytea"], ["tenant_id", "uuid", "default"], ["format", "text", "default"], ["dry_run", "boolean", "default"],
               ["on_existing", "text", "default"], ["sheet", "text", "default"]],
        returns: { table: [["row_no", "integer"], ["email", "text", "null"], ["name", "text", "null"], ["action", "text"],
                           ["user_id", "uuid", "null"], ["message", "text", "null"], ["field", "text", "null"]] },
    },
    import_template: { fn: "import_template", args: [["format", "text", "default"]], returns: "bytea" },
    export_users: { fn: "export_users", args: [["tenant_id", "uuid", "default"], ["format", "text", "default"]], returns: "bytea" },
} as const satisfies Record<string, SqlSignature>;

export type FnKey = keyof typeof signatures;
