// clinres.user_id / clinres.tenant_id: the per-request context, kept as GUCs so that
// SET LOCAL (set_context(..., is_local => true)) ends with the transaction and
// works under transaction pooling. The check hook parses the uuid once, so reading
// the context inside a per-row policy costs a pointer load.
#include "clinres/access/context.hpp"

#include "clinres/pg/guard.hpp"

#include <cstdlib>

namespace modaccess {

namespace {

struct Parsed {
    bool set;
    Uuid value;
};

char *user_text = nullptr;
char *tenant_text = nullptr;
Parsed user_value{false, {}};
Parsed tenant_value{false, {}};

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// GUC check hook: accepts '' (no context) or a uuid, and hands the parsed value on.
bool check_context_uuid(char **newval, void **extra, GucSource)
{
    Parsed parsed{false, {}};
    if (*newval != nullptr && **newval != '\0') {
        if (!parse_uuid(*newval, parsed.value)) {
            GUC_check_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION);
            GUC_check_errmsg("invalid uuid \"%s\" for the clinres context", *newval);
            GUC_check_errhint("Use clinres.set_context(user_id uuid, tenant_id uuid).");
            return false;
        }
        parsed.set = true;
    }
    auto *out = static_cast<Parsed *>(malloc(sizeof(Parsed))); // GUC extras must be malloc'd
    if (out == nullptr)
        return false;
    *out = parsed;
    *extra = out;
    return true;
}

void assign_user(const char *, void *extra)
{
    user_value = *static_cast<Parsed *>(extra);
}
void assign_tenant(const char *, void *extra)
{
    tenant_value = *static_cast<Parsed *>(extra);
}

} // namespace

bool parse_uuid(const char *s, Uuid &out)
{
    bool braces = *s == '{';
    if (braces)
        ++s;
    for (int i = 0; i < 16; ++i) {
        int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (hi < 0 || lo < 0)
            return false;
        out.bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
        s += 2;
        if (*s == '-' && i % 2 == 1 && i > 0 && i < 15)
            ++s;
    }
    if (braces && *s++ != '}')
        return false;
    return *s == '\0';
}

void init_context()
{
    DefineCustomStringVariable("clinres.user_id", "The user on whose behalf the session acts.",
                               "Set with clinres.set_context(); read by clinres.current_user_id().",
                               &user_text, "", PGC_USERSET, 0, check_context_uuid, assign_user, nullptr);
    DefineCustomStringVariable("clinres.tenant_id", "The tenant in which the session acts.",
                               "Set with clinres.set_context(); read by clinres.current_tenant_id().",
                               &tenant_text, "", PGC_USERSET, 0, check_context_uuid, assign_tenant, nullptr);
}

const Uuid *context_user()
{
    return user_value.set ? &user_value.value : nullptr;
}
const Uuid *context_tenant()
{
    return tenant_value.set ? &tenant_value.value : nullptr;
}

} // namespace modaccess
