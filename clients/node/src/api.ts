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
export type LoginResult = SessionProfile & { token: string; token_expires_at: string };

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

/** A guarded request: by ids (trusted backend) or by a signed session token. */
export type RequestSpec = { user: string; tenant: string; module: string } | { token: string; module: string };

/** A context without a module check: by ids (trusted backend) or by a signed session token. */
export type ContextSpec = { user: string; tenant: string } | { token: string };

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

export type NavItem = ResultOf<"user_modules">[number];
export type UserRow = ResultOf<"list_users">[number];
export type AdminLogRow = ResultOf<"list_admin_logs">[number];
export type ListUsersArgs = ArgsOf<"list_users">;
export type CreateUserArgs = ArgsOf<"create_user">;

/** Sets the request's context and checks its module in one call (begin_request, either form). */
export async function beginRequest(exec: Executor, req: RequestSpec): Promise<RequestContext> {
    const ctx = "token" in req
        ? await call(exec, "begin_request_token", { token: req.token, module_code: req.module })
        : await call(exec, "begin_request", { user_id: req.user, tenant_id: req.tenant, module_code: req.module });
    return ctx as RequestContext;
}

/** Sets the context for this transaction only (set_session(token), or set_context(user, tenant, true)); the user id. */
export async function setContext(exec: Executor, spec: ContextSpec): Promise<string> {
    const user = "token" in spec
        ? await call(exec, "set_session", { token: spec.token })
        : await call(exec, "set_context", { user_id: spec.user, tenant_id: spec.tenant, is_local: true });
    return user as string;
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
        setSession: (token: string) => call(exec, "set_session", { token }),
        setContext: (user: string, tenant: string) => call(exec, "set_context", { user_id: user, tenant_id: tenant, is_local: true }),
        currentUserId: () => call(exec, "current_user_id", {}),
        currentTenantId: () => call(exec, "current_tenant_id", {}),
        beginRequest: (req: RequestSpec) => beginRequest(exec, req),
        poolSize: (maxInstances: number, maxConnections?: number) =>
            call(exec, "pool_size", { max_instances: maxInstances, max_connections: maxConnections }),
        // user management (API.md section 5); the actor is the context user
        listUsers: (args: ListUsersArgs = {}) => call(exec, "list_users", args),
        getUser: async (user: string) => (await call(exec, "get_user", { user_id: user })) as UserDetail | null,
        createUser: (args: CreateUserArgs) => call(exec, "create_user", args),
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
        setUserModules: async (user: string, tenant: string, modules: string[]) =>
            (await call(exec, "set_user_modules", { user_id: user, tenant_id: tenant, modules })) as UserDetail,
        tenantOptions: () => call(exec, "tenant_options", {}),
        moduleOptions: (tenant: string) => call(exec, "module_options", { tenant_id: tenant }),
        listAdminLogs: (args: ArgsOf<"list_admin_logs"> = {}) => call(exec, "list_admin_logs", args),
    };
}

export type Clinres = ReturnType<typeof bind>;
