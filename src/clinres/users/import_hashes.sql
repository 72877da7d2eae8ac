
-- Passwords imported as bcrypt hashes (docs/import.md, "Password hashes"): the form an import's
-- password_hash cell must have, and the comparison login makes, which accepts every prefix of the
-- one algorithm ($2a$, $2b$, $2y$) although pgcrypto's crypt() reads $2a$ only.

-- The problem of a password_hash cell, or NULL: a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit
-- cost, 53 characters of salt and hash), at a cost a login may verify: at most clinres.bcrypt_cost,
-- the cost of an unknown identifier's dummy verification (a login of the user costs 2^cost rounds:
-- above it, a failure would take longer than an unknown identifier's and tell the user exists;
-- below it, login pads, clinres._bcrypt_padding), and not beside a password. Plain SQL without a SET clause, like
-- clinres._field_problem: the check inlines it into the set, a regular expression per row.
CREATE OR REPLACE FUNCTION clinres._password_hash_problem(hash text, with_password boolean) RETURNS text
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN $1 IS NULL THEN NULL
        WHEN $2 THEN 'a row gives a password or a password_hash, not both'
        WHEN $1 OPERATOR(pg_catalog.!~) '^\$2[aby]\$[0-9][0-9]\$[./A-Za-z0-9]{53}$'
        THEN 'password_hash is not a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, $, then 53 characters of ./A-Za-z0-9)'
        WHEN pg_catalog.substr($1, 5, 2)::int OPERATOR(pg_catalog.<) 4
          OR pg_catalog.substr($1, 5, 2)::int OPERATOR(pg_catalog.>) clinres._bcrypt_cost()
        THEN pg_catalog.format('password_hash has bcrypt cost %s: from 04 to %s (clinres.bcrypt_cost) are accepted',
                               pg_catalog.substr($1, 5, 2), pg_catalog.lpad(clinres._bcrypt_cost()::text, 2, '0'))
    END
$$;
COMMENT ON FUNCTION clinres._password_hash_problem(text, boolean) IS
    'why a password_hash cell cannot be stored (not bcrypt, cost out of range, beside a password), or NULL';

-- Whether password matches the bcrypt hash: $2b$ and $2y$ are $2a$ under another name (the same
-- algorithm; the prefixes tell which implementation's old bug the hash does not have), so they are
-- verified as $2a$, the prefix pgcrypto reads. Exactly one bcrypt computation, as login needs.
CREATE OR REPLACE FUNCTION clinres._password_matches(password text, hash text) RETURNS boolean
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT clinres._crypt($1, x.h) = x.h
      FROM (SELECT CASE WHEN pg_catalog.left($2, 4) = ANY (ARRAY['$2b$', '$2y$'])
                        THEN '$2a$' || pg_catalog.substr($2, 5) ELSE $2 END) x(h)
$$;
COMMENT ON FUNCTION clinres._password_matches(text, text) IS
    'whether the password matches the bcrypt hash, of prefix $2a$, $2b$ or $2y$ (one bcrypt computation)';

-- What makes a login verified against a bcrypt hash of cost c below clinres.bcrypt_cost (C) take
-- as long as one verified against the dummy hash at C (an unknown identifier's): one bcrypt at
-- each cost from c to C - 1, 2^c + ... + 2^(C-1) = 2^C - 2^c rounds, so that 2^C are spent in
-- all. Nothing at or above C (an import accepts no cost above it), nor for NULL or another form.
-- The rounds it spent, which are 2^cost per bcrypt.
CREATE OR REPLACE FUNCTION clinres._bcrypt_padding(hash text) RETURNS int
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    target int := clinres._bcrypt_cost();
    spent int := 0;
BEGIN
    IF $1 !~ '^\$2[aby]\$[0-9][0-9]\$' OR $1 IS NULL THEN
        RETURN 0;
    END IF;
    FOR c IN GREATEST(4, pg_catalog.substr($1, 5, 2)::int) .. target - 1 LOOP -- bcrypt has no cost below 4
        PERFORM clinres._crypt('', '$2a$' || pg_catalog.lpad(c::text, 2, '0') || '$' || pg_catalog.repeat('.', 53));
        spent := spent + (1 << c);
    END LOOP;
    RETURN spent;
END
$$;
COMMENT ON FUNCTION clinres._bcrypt_padding(text) IS
    'bcrypt at each cost from the hash''s up to clinres.bcrypt_cost, so that verifying it costs as much as the dummy; the rounds spent';

REVOKE ALL ON FUNCTION clinres._password_hash_problem(text, boolean), clinres._password_matches(text, text),
    clinres._bcrypt_padding(text) FROM PUBLIC;
