// The typed API over one Executor: what a platform backend calls (login, navigation, the
// route guard, the user-management admin endpoints).
import { call, type Executor } from "./call.js";
import type { ArgsOf, ResultOf } from "./sqltypes.js";

/** clinres.session_profile(user, tenant): what a login endpoint returns (never a password hash). */
export interface SessionProfile {
    user: { id: string; name: string; email: string; phone: string | null; status: string; platform_role: string | null };
    tenant: { id: string; code: string; name: string; status: string } | null;
    role: string | null;
    permissions: string[];
    modules: string[];
    landing: string | null;
}

/** clinres.login: the profile plus a signed session token for set_session / begin_request(token, module). */
export type LoginResult = SessionProfile & { token: string; token_expires_at: string; session_id: string };

/** What begin_request returns: the context it set and what a request handler needs of the user. */
export interface RequestContext {
    user_id: string;
    tenant_id: string;
    module: string;
    role: string | null;
    platform_role: string | null;
    permissions: string[];
    modules: string[];
}

/**
 * What withContext gives: begin_request's answer without a module (tenant_id null when the context
 * has no tenant; role, permissions and modules are then unknown: null, [] and []).
 */
export type SessionContext = Omit<RequestContext, "module" | "tenant_id"> & { tenant_id: string | null };

/**
 * Why the request changes what it changes (e.g. an `X-Change-Reason` header): set as
 * clinres.change_reason for its transaction only, recorded in every audit row it writes
 * (docs/compliance.md). Empty or absent: none (an error with clinres.require_change_reason on).
 */
export interface WithReason { reason?: string | null }

/** A guarded request: by ids (trusted backend) or by a signed session token. */
export type RequestSpec = ({ user: string; tenant: string; module: string } | { token: string; module: string }) & WithReason;

/** A context without a module check: by ids (trusted backend) or by a signed session token. */
export type ContextSpec = ({ user: string; tenant: string } | { token: string }) & WithReason;

/** Sets clinres.change_reason for this transaction when a reason is given (one statement, then). */
async function setReason(exec: Executor, spec: WithReason) {
    if (spec.reason !== undefined && spec.reason !== null && spec.reason !== "") {
        await exec.query("SELECT pg_catalog.set_config('clinres.change_reason', $1::pg_catalog.text, true)", [spec.reason]);
    }
}

/** clinres.get_user and every mutation's result: the user and the memberships the actor may see. */
export interface UserDetail {
    id: string;
    email: string;
    name: string;
    phone: string | null;
    status: string;
    platform_role: string | null;
    [field: string]: unknown;
}

/** One row of import_users' report (docs/import.md). */
export interface ImportRow {
    row_no: number;
    email: string | null;
    name: string | null;
    action: "created" | "added" | "updated" | "skipped" | "error";
    user_id: string | null;
    message: string | null;
    /** An error row's field (email, phone, role, ..., user); an added row's fields not applied. */
    field: string | null;
}

/** importUsers: the report, and whether the rows were written (never some of them). */
export interface ImportResult {
    /** true: every row was written; false: nothing was (a dry run, or some row is an error). */
    imported: boolean;
    dry_run: boolean;
    rows: ImportRow[];
    /** the rows whose action is "error" (empty when imported or a clean dry run) */
    errors: ImportRow[];
}

export interface ImportOptions {
    tenant?: string | null;
    format?: "xlsx" | "csv" | "csv-utf8" | "csv-gb18030" | null;
    dryRun?: boolean;
    onExisting?: "error" | "skip" | "update";
    sheet?: string | null;
}

export type NavItem = ResultOf<"user_modules">[number];
export type UserRow = ResultOf<"list_users">[number];
export type AdminLogRow = ResultOf<"list_admin_logs">[number];
export type ListUsersArgs = ArgsOf<"list_users">;
export type CountUsersArgs = ArgsOf<"count_users">;

/** listUsersPage: a page of users (without total_count) and the total, also past the last page. */
export interface UsersPage {
    items: Omit<UserRow, "total_count">[];
    total: number;
}
export type CreateUserArgs = ArgsOf<"create_user">;

/** Sets the request's context and checks its module in one call (begin_request, either form). */
export async function beginRequest(exec: Executor, req: RequestSpec): Promise<RequestContext> {
    needsTransaction(exec, "beginRequest");
    await setReason(exec, req);
    const ctx = "token" in req
        ? await call(exec, "begin_request_token", { token: req.token, module_code: req.module })
        : await call(exec, "begin_request", { user_id: req.user, tenant_id: req.tenant, module_code: req.module });
    return ctx as RequestContext;
}

/** Throws when `exec` may run each statement on another connection: `what` needs one transaction. */
function needsTransaction(exec: Executor, what: string) {
    if (exec.pooled) {
        throw new TypeError(`@clinres/client: ${what} needs one transaction on one connection, `
            + "not a pool (each call may run on another connection): use withContext / withRequest");
    }
}

/**
 * Sets the context for this transaction only (set_session(token), or set_context(user, tenant, true))
 * and reads it back with session_profile, in one statement.
 */
export async function setContext(exec: Executor, spec: ContextSpec): Promise<SessionContext> {
    needsTransaction(exec, "setting a context");
    await setReason(exec, spec);
    const [set, params] = "token" in spec
        ? ["clinres.set_session($1::text)", [spec.token]]
        : ["clinres.set_context($1::uuid, $2::uuid, true)", [spec.user, spec.tenant]];
    const rows = await exec.query(
        "SELECT s.u::pg_catalog.text AS user_id, clinres.current_tenant_id()::pg_catalog.text AS tenant_id, "
        + `(clinres.session_profile(s.u, clinres.current_tenant_id()))::pg_catalog.text AS profile FROM ${set} AS s(u)`, params);
    const row = rows[0] as { user_id: string; tenant_id: string | null; profile: string | null };
    const p = row.profile === null ? null : (JSON.parse(row.profile) as SessionProfile);
    return { user_id: row.user_id, tenant_id: row.tenant_id, role: p?.role ?? null, platform_role: p?.user.platform_role ?? null,
             permissions: p?.permissions ?? [], modules: p?.modules ?? [] };
}

/** The typed functions of clinres bound to one Executor (a pg client or a Prisma transaction). */
export function bind(exec: Executor) {
    return {
        sessionProfile: async (user: string, tenant: string) =>
            (await call(exec, "session_profile", { user_id: user, tenant_id: tenant })) as SessionProfile | null,
        userModules: (user: string, tenant: string) => call(exec, "user_modules", { user_id: user, tenant_id: tenant }),
        hasModule: (user: string, tenant: string, module: string) =>
            call(exec, "has_module", { user_id: user, tenant_id: tenant, module_code: module }),
        login: async (identifier: string, password: string, tenantCode?: string) =>
            (await call(exec, "login", { identifier, password, tenant_code: tenantCode })) as LoginResult | null,
        setSession: (token: string) => setContext(exec, { token }),
        /** Ends the token's session (28000 when it does not verify or is over); its session id. */
        logout: (token: string) => call(exec, "logout", { token }) as Promise<string>,
        /** The live sessions of a user (null: the context user) that the context user may manage. */
        listSessions: (user: string | null = null) => call(exec, "list_sessions", { of_user: user }),
        /** Ends one session of the user, or all it may manage (no session given); how many ended. */
        revokeSessions: (user: string, session?: string) => call(exec, "revoke_sessions", { user_id: user, session_id: session }),
        setContext: (user: string, tenant: string) => setContext(exec, { user, tenant }),
        currentUserId: () => call(exec, "current_user_id", {}),
        currentTenantId: () => call(exec, "current_tenant_id", {}),
        beginRequest: (req: RequestSpec) => beginRequest(exec, req),
        poolSize: (maxInstances: number, maxConnections?: number) =>
            call(exec, "pool_size", { max_instances: maxInstances, max_connections: maxConnections }),
        // user management (API.md section 5); the actor is the context user
        listUsers: (args: ListUsersArgs = {}) => call(exec, "list_users", args),
        /** The number of users listUsers would list with these filters (its total_count). */
        countUsers: async (args: CountUsersArgs = {}) => Number(await call(exec, "count_users", args)),
        /**
         * A page and its total: total_count of the first row, or count_users when the page is empty
         * (past the end, where no row carries the total; one more call then, with the same filters).
         */
        listUsersPage: async (args: ListUsersArgs = {}): Promise<UsersPage> => {
            const rows = await call(exec, "list_users", args);
            const items = rows.map(({ total_count: _, ...r }) => r);
            if (rows.length > 0) return { items, total: Number(rows[0].total_count) };
            if ((args.page ?? 1) === 1) return { items, total: 0 };
            const { tenant_id, search, role_code, status, module_code } = args;
            return { items, total: Number(await call(exec, "count_users", { tenant_id, search, role_code, status, module_code })) };
        },
        getUser: async (user: string) => (await call(exec, "get_user", { user_id: user })) as UserDetail | null,
        /** create_user, then get_user in the same transaction: the user as every other mutation returns it. */
        createUser: async (args: CreateUserArgs) => {
            needsTransaction(exec, "createUser");
            const id = (await call(exec, "create_user", args)) as string;
            return (await call(exec, "get_user", { user_id: id })) as UserDetail;
        },
        updateUser: async (user: string, changes: { name?: string; email?: string; phone?: string | null }) =>
            (await call(exec, "update_user", { user_id: user, changes: JSON.stringify(changes) })) as UserDetail,
        setUserStatus: async (user: string, status: "active" | "disabled", tenant?: string) =>
            (await call(exec, "set_user_status", { user_id: user, status, tenant_id: tenant })) as UserDetail,
        resetPassword: (user: string, newPassword?: string) => call(exec, "reset_password", { user_id: user, new_password: newPassword }),
        // Removes the user from the tenant; deleteAccount deletes the user everywhere.
        deleteUser: (user: string, tenant: string) => call(exec, "delete_user", { user_id: user, tenant_id: tenant }),
        deleteAccount: (user: string) => call(exec, "delete_user", { user_id: user, everywhere: true }),
        assignTenant: async (user: string, tenant: string, roleCode?: string, modules?: string[] | null) =>
            (await call(exec, "assign_tenant", { user_id: user, tenant_id: tenant, role_code: roleCode, modules })) as UserDetail,
        setTenantRole: async (user: string, tenant: string, roleCode: string) =>
            (await call(exec, "set_tenant_role", { user_id: user, tenant_id: tenant, role_code: roleCode })) as UserDetail,
        removeTenant: async (user: string, tenant: string) =>
            (await call(exec, "remove_tenant", { user_id: user, tenant_id: tenant })) as UserDetail,
        /** modules null: the member inherits every module its tenant subscribes. */
        setUserModules: async (user: string, tenant: string, modules: string[] | null) =>
            (await call(exec, "set_user_modules", { user_id: user, tenant_id: tenant, modules })) as UserDetail,
        tenantOptions: () => call(exec, "tenant_options", {}),
        /** tenant null: the context tenant. */
        moduleOptions: (tenant: string | null = null) => call(exec, "module_options", { tenant_id: tenant }),
        listAdminLogs: (args: ArgsOf<"list_admin_logs"> = {}) => call(exec, "list_admin_logs", args),
        // import and export (docs/import.md); the file is a Buffer (an uploaded .xlsx or CSV)
        importUsers: async (data: Uint8Array, opt: ImportOptions = {}): Promise<ImportResult> => {
            const dryRun = opt.dryRun ?? false;
            const rows = (await call(exec, "import_users", { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
                tenant_id: opt.tenant, format: opt.format, dry_run: dryRun, on_existing: opt.onExisting, sheet: opt.sheet })) as ImportRow[];
            const errors = rows.filter((r) => r.action === "error");
            return { imported: !dryRun && errors.length === 0, dry_run: dryRun, rows, errors };
        },
        importTemplate: (format: "xlsx" | "csv" = "xlsx") => call(exec, "import_template", { format }) as Promise<Buffer>,
        exportUsers: (opt: { tenant?: string | null; format?: "xlsx" | "csv" } = {}) =>
            call(exec, "export_users", { tenant_id: opt.tenant, format: opt.format }) as Promise<Buffer>,
    };
}

export type Clinres = ReturnType<typeof bind>;
