// The session context (user and tenant) that row-level-security policies read,
// and the rules for who may set it (docs/sessions.md).
#pragma once

#include "clinres/access/model.hpp"

namespace modaccess {

// Defines the GUCs clinres.user_id, clinres.tenant_id, clinres.require_signed_session
// and clinres.allow_session_context; called from _PG_init.
void init_context();

// The context user / tenant, or null when not set or not to be trusted: a value a
// non-superuser session set directly is ignored while clinres.require_signed_session
// is on, and a session-level one while clinres.allow_session_context is off.
const Uuid *context_user();
const Uuid *context_tenant();

// Parses a uuid in PostgreSQL's accepted spellings; false if s is not one.
bool parse_uuid(const char *s, Uuid &out);

// Whether the session's user (not a SECURITY DEFINER's) is a superuser.
bool session_is_superuser();

// Raises 42501 unless this session may set the context with set_context or the
// unsigned begin_request (is_local false: for the whole session).
void check_may_set_context(bool is_local);

// Sets the context user and tenant (null: none) for the transaction (is_local) or
// the session. signed_by_token: a verified session token vouches for it, so it is
// accepted while signed sessions are required.
void set_context(const Uuid *user, const Uuid *tenant, bool is_local, bool signed_by_token);

} // namespace modaccess
