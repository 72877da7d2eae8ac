
-- Scale-out on Citus (docs/scale-out.md): the catalog as reference tables, module policies
-- in the form Citus accepts, the context sent to the workers, and a health check.

-- clinres's tables in foreign-key order (a table after every table it references).
CREATE OR REPLACE FUNCTION clinres._catalog_tables_in_fk_order() RETURNS SETOF regclass
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE tables AS (
        SELECT c.oid FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                     AND d.objid = c.oid
                                     AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                                     AND d.deptype = 'e'
          JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                                        AND e.extname = 'clinres'
         WHERE c.relkind = ANY ('{r,p}')
           AND c.relnamespace = 'clinres'::pg_catalog.regnamespace
    ), refs AS (
        SELECT DISTINCT f.conrelid AS child, f.confrelid AS parent FROM pg_catalog.pg_constraint f
         WHERE f.contype = 'f' AND f.conrelid <> f.confrelid
           AND f.conrelid IN (SELECT oid FROM tables) AND f.confrelid IN (SELECT oid FROM tables)
    ), depth (rel, depth) AS (
        SELECT t.oid, 0 FROM tables t
        UNION ALL
        SELECT r.child, d.depth + 1 FROM depth d JOIN refs r ON r.parent = d.rel
    )
    SELECT d.rel::pg_catalog.regclass FROM depth d
     GROUP BY d.rel ORDER BY pg_catalog.max(d.depth), d.rel::pg_catalog.regclass::pg_catalog.text
$$;
REVOKE ALL ON FUNCTION clinres._catalog_tables_in_fk_order() FROM PUBLIC;

-- Triggers on Citus placements. Citus applies a write to a reference table on every node's
-- placement (clinres.user_tenants_102059) and fires the placement's copy of each trigger
-- there; the shell on the coordinator holds no rows (only its TRUNCATE triggers fire, for
-- truncate_local_data_after_distributing_table or a TRUNCATE of the table). A clinres
-- trigger that reads or writes another catalog table must then use this node's placement of
-- it: a query on the reference table from inside a query on a placement is refused by Citus
-- (or would write every node from every node), and each node changing its own copy the same
-- way keeps the copies equal.

-- This node's placement of the reference table target (the table a trigger fired on a
-- placement must use instead of target).
CREATE OR REPLACE FUNCTION clinres._local_placement(target regclass) RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard bigint;
    placement text;
BEGIN
    -- (dynamic: pg_dist_shard exists only where Citus is installed)
    EXECUTE 'SELECT s.shardid FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1' INTO shard USING target;
    SELECT pg_catalog.format('%I.%I', n.nspname, c.relname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) shard)
      INTO placement FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = target;
    IF shard IS NULL OR pg_catalog.to_regclass(placement) IS NULL THEN
        RAISE EXCEPTION 'this Citus node has no placement of %', target
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run clinres.distribute() on the coordinator.';
    END IF;
    RETURN placement;
END
$$;
COMMENT ON FUNCTION clinres._local_placement(regclass) IS
    'on a Citus node: the name of this node''s placement of the reference table (what a trigger fired on a placement reads and writes)';

-- Whether rel is a Citus table (the coordinator's shell of a reference table): its
-- statement triggers do nothing, the placements' triggers do the work on every node.
CREATE OR REPLACE FUNCTION clinres._is_citus_table(rel regclass) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found boolean;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)' INTO found USING rel;
    RETURN found;
END
$$;
COMMENT ON FUNCTION clinres._is_citus_table(regclass) IS
    'whether the table is distributed by Citus (a shell on the coordinator, whose rows are in its placements)';
REVOKE ALL ON FUNCTION clinres._local_placement(regclass), clinres._is_citus_table(regclass) FROM PUBLIC;

-- Raises 55000 unless this database is a Citus coordinator's; true otherwise.
CREATE OR REPLACE FUNCTION clinres._require_citus_coordinator(caller text) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'extension "citus" is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s works on a Citus coordinator only.', caller),
                  HINT = 'Without Citus there is nothing to do: clinres''s catalog is already where every query reads it.';
    END IF;
    IF (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) <> 0 THEN
        RAISE EXCEPTION '% must run on the Citus coordinator', caller
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'This node is a Citus worker.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node n WHERE n.groupid = 0) THEN
        RAISE EXCEPTION 'the Citus coordinator is not in pg_dist_node'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Without it the coordinator holds no copy of the reference tables and never hears of catalog changes.',
                  HINT = 'Run SELECT citus_set_coordinator_host(''<host>'', <port>) first.';
    END IF;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION clinres._require_citus_coordinator(text) FROM PUBLIC;

-- Turns the catalog into Citus reference tables (docs/scale-out.md). Runs as the caller
-- (a superuser or the extension's owner) in one transaction; each step is reported
-- (so Citus's notices about each table are kept quiet).
CREATE OR REPLACE FUNCTION clinres.distribute() RETURNS TABLE (step int, object text, action text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
DECLARE
    rel pg_catalog.regclass;
    made pg_catalog.regclass[] := '{}';
    pol record;
    is_reference boolean;
    missing int;
BEGIN
    PERFORM clinres._require_citus_coordinator('clinres.distribute()');
    -- Citus refuses tables with triggers, and converts a local foreign-key graph that the
    -- workers (where CREATE EXTENSION already made the tables) cannot take: both settings
    -- for this transaction only.
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM pg_catalog.set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    step := 0;
    FOR rel IN SELECT t FROM clinres._catalog_tables_in_fk_order() t LOOP
        step := step + 1;
        object := rel::pg_catalog.text;
        SELECT p.partmethod = 'n' AND p.repmodel = 't' INTO is_reference
          FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = rel;
        IF NOT FOUND THEN
            PERFORM pg_catalog.create_reference_table(rel);
            made := made || rel;
            action := 'made a reference table';
        ELSIF is_reference THEN
            action := 'already a reference table';
        ELSE
            RAISE EXCEPTION 'table % is distributed, but not as a reference table', rel
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'clinres''s tables must be reference tables: undistribute it (undistribute_table) and run clinres.distribute() again.';
        END IF;
        RETURN NEXT;
    END LOOP;
    -- The rows a shell kept on the coordinator are hidden by Citus but still on disk.
    FOREACH rel IN ARRAY made LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(rel);
        step := step + 1;
        object := rel::pg_catalog.text;
        action := 'removed the local rows left in the shell';
        RETURN NEXT;
    END LOOP;
    -- A node added after the tables were made has no copy until they are replicated.
    SELECT pg_catalog.count(*) INTO missing FROM pg_catalog.pg_dist_node n
     WHERE n.isactive AND n.noderole = 'primary'
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_shard s
                         JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
                        WHERE s.logicalrelid = 'clinres.modules'::pg_catalog.regclass
                          AND pl.groupid = n.groupid);
    step := step + 1;
    object := 'nodes';
    IF missing > 0 THEN
        PERFORM pg_catalog.replicate_reference_tables('block_writes');
        action := pg_catalog.format('copied the reference tables to %s node(s) that had none', missing);
    ELSE
        action := 'every node has a copy of the reference tables';
    END IF;
    RETURN NEXT;
    -- Module policies with subqueries are refused on distributed tables: rewritten in
    -- the form without them (enable_module_rls chooses it once the catalog is distributed;
    -- called on a partitioned table, it rewrites its partitions too).
    FOR pol IN
        SELECT p.polrelid::pg_catalog.regclass AS tbl, m.code, a.attname
          FROM pg_catalog.pg_policy p
          JOIN clinres.modules m ON p.polname = clinres._module_policy_name(m.code)
          JOIN pg_catalog.pg_class c ON c.oid = p.polrelid AND NOT c.relispartition
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
                                     AND d.objid = p.oid
                                     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                     AND d.refobjsubid > 0
          JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid
                                        AND a.attnum = d.refobjsubid
         WHERE pg_catalog.pg_get_expr(p.polqual, p.polrelid) ~ 'SELECT'
         ORDER BY 1, 2
    LOOP
        PERFORM clinres.enable_module_rls(pol.tbl, pol.code, pol.attname);
        step := step + 1;
        object := pg_catalog.format('policy %s on %s', clinres._module_policy_name(pol.code), pol.tbl);
        action := 'rewritten without subqueries';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.distribute() IS
    'on a Citus coordinator: makes clinres''s tables reference tables in foreign-key order, copies them to every node and rewrites module policies for distributed tables; reports each step; safe to run again';
REVOKE ALL ON FUNCTION clinres.distribute() FROM PUBLIC;

-- One row per Citus node: whether it can answer clinres's questions.
CREATE OR REPLACE FUNCTION clinres.citus_check() RETURNS TABLE (node text, ok boolean, detail text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'clinres');
    tables pg_catalog.regclass[];
    distributed int;
    r record;
BEGIN
    PERFORM clinres._require_citus_coordinator('clinres.citus_check()');
    tables := ARRAY(SELECT t FROM clinres._catalog_tables_in_fk_order() t);
    SELECT pg_catalog.count(*) INTO distributed FROM pg_catalog.pg_dist_partition p
     WHERE p.logicalrelid = ANY (tables)
       AND p.partmethod = 'n' AND p.repmodel = 't';
    FOR r IN
        SELECT n.nodename, n.nodeport, n.groupid, v.success, v.result,
               (SELECT pg_catalog.string_agg(t::pg_catalog.text, ', ' ORDER BY t::pg_catalog.text)
                  FROM pg_catalog.unnest(tables) t
                 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_dist_shard s
                                     JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
                                    WHERE s.logicalrelid = t
                                      AND pl.groupid = n.groupid)) AS without_copy
          FROM pg_catalog.pg_dist_node n
          LEFT JOIN pg_catalog.run_command_on_all_nodes(
                $q$SELECT coalesce((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'), 'none')$q$) v
                 ON v.nodeid = n.nodeid
         WHERE n.isactive AND n.noderole = 'primary'
         ORDER BY n.groupid, n.nodename, n.nodeport
    LOOP
        node := pg_catalog.format('%s:%s%s', r.nodename, r.nodeport, CASE WHEN r.groupid = 0 THEN ' (coordinator)' ELSE '' END);
        ok := false;
        IF r.success IS NOT TRUE THEN
            detail := pg_catalog.format('unreachable: %s', coalesce(r.result, 'no answer'));
        ELSIF r.result = 'none' THEN
            detail := 'extension clinres is not installed';
        ELSIF r.result <> version THEN
            detail := pg_catalog.format('clinres %s, the coordinator has %s: run ALTER EXTENSION clinres UPDATE on the coordinator', r.result, version);
        ELSIF distributed < pg_catalog.cardinality(tables) THEN
            detail := pg_catalog.format('%s of %s catalog tables are reference tables: run SELECT * FROM clinres.distribute()',
                                        distributed, pg_catalog.cardinality(tables));
        ELSIF r.without_copy IS NOT NULL THEN
            detail := pg_catalog.format('no copy of %s: run SELECT * FROM clinres.distribute()', r.without_copy);
        ELSE
            ok := true;
            detail := pg_catalog.format('clinres %s, %s reference tables with a local copy', version, distributed);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.citus_check() IS
    'on a Citus coordinator: one row per node, ok when it has clinres at the coordinator''s version and a copy of every catalog table';
REVOKE ALL ON FUNCTION clinres.citus_check() FROM PUBLIC;
