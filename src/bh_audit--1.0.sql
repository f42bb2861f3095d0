/* bh_audit--1.0.sql: install script (objects in schema bh_audit) */

\echo Use "CREATE EXTENSION bh_audit" to load this file. \quit

-- Refuse to install unless the library is preloaded: the sealer worker, the
-- shared counters and (later) the capture hooks only exist then.
CREATE FUNCTION bh_audit._check_preloaded()
RETURNS void
AS 'MODULE_PATHNAME', 'bh_audit_check_preloaded'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._check_preloaded() FROM PUBLIC;
SELECT bh_audit._check_preloaded();

-- Roles: created if missing, never dropped with the extension (they are
-- cluster-wide and may own grants elsewhere).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'bh_audit_reader') THEN
        CREATE ROLE bh_audit_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'bh_audit_admin') THEN
        CREATE ROLE bh_audit_admin NOLOGIN;
    END IF;
END
$roles$;
GRANT bh_audit_reader TO bh_audit_admin;

REVOKE ALL ON SCHEMA bh_audit FROM PUBLIC;
GRANT USAGE ON SCHEMA bh_audit TO PUBLIC;
-- bh_audit's objects that would be granted to no role are granted to
-- bh_audit_reader a privilege it holds already or that gives it nothing
-- (USAGE of the schema here, which PUBLIC has; REFERENCES of a column of
-- the queue, the tag catalog and the ledger's home below, which no unique
-- index covers: no foreign key can reference it, and it reads nothing):
-- pg_shdepend then records them, with their owners, where a session of
-- another database sees them (ALTER ROLE ... NOSUPERUSER of their owner is
-- refused from any database: own_acl.c).
GRANT USAGE ON SCHEMA bh_audit TO bh_audit_reader;

--------------------------------------------------------------------------
-- Timestamps: events carry RFC 3339 UTC text; the typed column is derived
-- from it.  The text always has an explicit offset ('Z'), so the result
-- does not depend on TimeZone or DateStyle: immutable in practice.
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.event_timestamp(ts text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'bh_audit_event_timestamp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bh_audit.event_timestamp(text) IS
    'Parse an event''s RFC 3339 timestamp (with explicit offset) into timestamptz';

--------------------------------------------------------------------------
-- The pending queue: transactional events (emit(), write capture) wait
-- here, committed with the change that caused them, until the sealer
-- chains them.  A row holds the events of one transaction (or a part of
-- them: rows stay under a page, stored as they are, without compression).
-- Nobody but the extension touches it: the extension's C code inserts and
-- deletes its rows directly.  The sealer vacuums it (sealer.c), except
-- while another vacuum holds it: autovacuum's runs over it are not
-- throttled, so that they hold it no longer than the sealer's would.
--------------------------------------------------------------------------
CREATE TABLE bh_audit.queue (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    events  jsonb[] NOT NULL
) WITH (toast_tuple_target = 8160, autovacuum_vacuum_cost_delay = 0,
        toast.autovacuum_vacuum_cost_delay = 0);
REVOKE ALL ON bh_audit.queue FROM PUBLIC;
GRANT REFERENCES (events) ON bh_audit.queue TO bh_audit_reader;	-- (a mark: see above)
COMMENT ON TABLE bh_audit.queue IS
    'Committed events waiting for the sealer (internal; use bh_audit.stats() to watch it)';
-- Rows that come in by SQL, not from the extension (a restore's COPY of
-- events still queued at the dump): the identity goes on after them.
CREATE FUNCTION bh_audit._queue_restored()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_queue_restored'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._queue_restored() FROM PUBLIC;
CREATE TRIGGER queue_restored
    AFTER INSERT ON bh_audit.queue
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._queue_restored();
-- Those rows hold JSON objects only (a NULL element aside, which the
-- sealer skips): the sealer chains each event as it is, and the ledger's
-- export and its guard in a restore take nothing else.  Refused, by a row
-- trigger enabled ALWAYS, for an INSERT, a COPY or an UPDATE; named to
-- fire after queue_applied_skip (row triggers of one timing fire in name
-- order), which skips a logical replication worker's rows.
CREATE FUNCTION bh_audit._check_queued()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_check_queued'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._check_queued() FROM PUBLIC;
CREATE TRIGGER queue_objects_only
    BEFORE INSERT OR UPDATE ON bh_audit.queue
    FOR EACH ROW EXECUTE FUNCTION bh_audit._check_queued();
ALTER TABLE bh_audit.queue ENABLE ALWAYS TRIGGER queue_objects_only;

--------------------------------------------------------------------------
-- The ledger.  "event" is the bh-audit-schema event without its integrity
-- block; everything access review filters on is derived from it, so a
-- typed column can never disagree with the hashed content.  The ids that
-- the indexes lead with compare bytewise (COLLATE "C"): they are
-- identifiers, and every ledger row costs an index entry for each.
--------------------------------------------------------------------------
CREATE TABLE bh_audit.events (
    seq             bigint PRIMARY KEY,
    event           jsonb NOT NULL,
    hash_alg        text NOT NULL,
    prev_event_hash text,
    event_hash      text NOT NULL,
    event_id        uuid GENERATED ALWAYS AS ((event ->> 'event_id')::uuid) STORED,
    ts              timestamptz GENERATED ALWAYS AS (bh_audit.event_timestamp(event ->> 'timestamp')) STORED,
    actor_id        text COLLATE "C" GENERATED ALWAYS AS (event -> 'actor' ->> 'subject_id') STORED,
    patient_id      text COLLATE "C" GENERATED ALWAYS AS (event -> 'resource' ->> 'patient_id') STORED,
    resource_type   text GENERATED ALWAYS AS (event -> 'resource' ->> 'type') STORED,
    resource_id     text GENERATED ALWAYS AS (event -> 'resource' ->> 'id') STORED,
    action          text GENERATED ALWAYS AS (event -> 'action' ->> 'type') STORED,
    outcome         text GENERATED ALWAYS AS (event -> 'outcome' ->> 'status') STORED,
    error_type      text GENERATED ALWAYS AS (event -> 'outcome' ->> 'error_type') STORED
);
CREATE INDEX events_patient_ts ON bh_audit.events (patient_id, ts) WHERE patient_id IS NOT NULL;
CREATE INDEX events_actor_ts ON bh_audit.events (actor_id, ts);
CREATE INDEX events_denied_ts ON bh_audit.events (ts) WHERE outcome = 'DENIED';
CREATE INDEX events_unattributed_ts ON bh_audit.events (resource_type, ts) WHERE patient_id IS NULL;
-- Time-bounded review queries that no other index serves (Part 2 access,
-- cross-organisation access: "ts >= ..." with a condition on the event)
-- read only the block ranges of their period instead of the whole ledger:
-- ts follows seq in this append-only table, so each range of heap pages
-- covers a narrow span of time.  Near-free for the sealer: its rows go
-- into the last range, which is not summarised yet, and an insert into an
-- unsummarised range touches no summary; VACUUM (autovacuum's insert-driven
-- runs over the ledger) summarises the ranges it completes.
CREATE INDEX events_ts_brin ON bh_audit.events USING brin (ts);
REVOKE ALL ON bh_audit.events FROM PUBLIC;
GRANT SELECT ON bh_audit.events TO bh_audit_reader;
COMMENT ON TABLE bh_audit.events IS
    'Append-only, hash-chained bh-audit-schema events in chain order (seq)';
COMMENT ON COLUMN bh_audit.events.event IS
    'The event without its integrity block; canonical_json() of it is what event_hash covers';

-- Append-only for everyone: statement-level guards refuse UPDATE, DELETE
-- and TRUNCATE (even of zero rows); a row-level guard lets the sealer
-- insert and accepts other rows only when they continue the chain exactly
-- (a restore).  ENABLE ALWAYS keeps them on under
-- session_replication_role = replica.
CREATE FUNCTION bh_audit._refuse_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_refuse_change'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._refuse_change() FROM PUBLIC;
CREATE FUNCTION bh_audit._check_append()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_check_append'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._check_append() FROM PUBLIC;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON bh_audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._refuse_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON bh_audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._refuse_change();
CREATE TRIGGER events_chain_only
    BEFORE INSERT ON bh_audit.events
    FOR EACH ROW EXECUTE FUNCTION bh_audit._check_append();
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_append_only;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_no_truncate;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_chain_only;

-- pg_dump keeps the rows of both tables (the ledger must survive a restore).
-- (in chain order: the ledger's guard accepts a restored row only as the
-- next event of the chain, whatever order the rows have on disk)
SELECT pg_catalog.pg_extension_config_dump('bh_audit.events', 'WHERE true ORDER BY seq');
SELECT pg_catalog.pg_extension_config_dump('bh_audit.queue', '');

--------------------------------------------------------------------------
-- Canonical JSON and hashing
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.canonical_json(event json)
RETURNS text
AS 'MODULE_PATHNAME', 'bh_audit_canonical_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bh_audit.canonical_json(json) IS
    'The canonical serialisation (Python json.dumps sort_keys, compact, ensure_ascii=False) of an event without its top-level integrity key';

CREATE FUNCTION bh_audit.event_hash(event json, prev_event_hash text DEFAULT NULL,
                                    hash_alg text DEFAULT 'sha256')
RETURNS text
AS 'MODULE_PATHNAME', 'bh_audit_event_hash'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION bh_audit.event_hash(json, text, text) IS
    'Chain hash of an event: hex(H(prev_event_hash || canonical_json(event))), H = sha256 | sha384 | sha512';

--------------------------------------------------------------------------
-- Manual events
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.emit(
    action text,
    resource_type text,
    resource_id text DEFAULT NULL,
    patient_id text DEFAULT NULL,
    outcome text DEFAULT 'SUCCESS',
    error_type text DEFAULT NULL,
    error_message text DEFAULT NULL,
    metadata jsonb DEFAULT NULL,
    data_classification text DEFAULT NULL,
    phi_touched boolean DEFAULT NULL,
    action_name text DEFAULT NULL)
RETURNS uuid
AS 'MODULE_PATHNAME', 'bh_audit_emit'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bh_audit.emit(text, text, text, text, text, text, text, jsonb, text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.emit(text, text, text, text, text, text, text, jsonb, text, boolean, text) TO PUBLIC;
COMMENT ON FUNCTION bh_audit.emit(text, text, text, text, text, text, text, jsonb, text, boolean, text) IS
    'Queue an application event in the current transaction; returns its event_id (NULL if bh_audit.validation_mode = drop discarded it as invalid)';

--------------------------------------------------------------------------
-- End-user context
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.set_context(
    actor_id text DEFAULT NULL,
    actor_type text DEFAULT NULL,
    roles text[] DEFAULT NULL,
    org_id text DEFAULT NULL,
    owner_org_id text DEFAULT NULL,
    request_id text DEFAULT NULL,
    trace_id text DEFAULT NULL,
    session_id text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'bh_audit_set_context'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bh_audit.set_context(text, text, text[], text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.set_context(text, text, text[], text, text, text, text, text) TO PUBLIC;
COMMENT ON FUNCTION bh_audit.set_context(text, text, text[], text, text, text, text, text) IS
    'State the end user and correlation ids for the current transaction (NULL leaves a value unchanged)';

--------------------------------------------------------------------------
-- Tagging PHI tables (write capture)
--------------------------------------------------------------------------
-- The login: the role that authenticated (a superuser's SET SESSION
-- AUTHORIZATION changes session_user, not who connected), as the events'
-- metadata.db_user names it; who tagged a table (tags.tagged_by).
CREATE FUNCTION bh_audit._login()
RETURNS name
AS 'MODULE_PATHNAME', 'bh_audit_login'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION bh_audit._login() FROM PUBLIC;

-- One row per tagged table.  Columns are named, not numbered, so that a
-- dump and restore (which renumbers columns) keeps the catalog right; the
-- extension follows column renames itself.
CREATE TABLE bh_audit.tags (
    tbl             regclass PRIMARY KEY,
    resource_type   text NOT NULL CHECK (length(resource_type) BETWEEN 1 AND 128),
    id_column       name NOT NULL,
    patient_column  name,
    classification  text NOT NULL CHECK (classification IN ('PHI', 'PII', 'NONE', 'UNKNOWN')),
    part2           boolean NOT NULL,
    capture_reads   boolean NOT NULL,
    capture_writes  boolean NOT NULL,
    tagged_at       timestamptz NOT NULL DEFAULT now(),
    tagged_by       name NOT NULL DEFAULT bh_audit._login()
);
REVOKE ALL ON bh_audit.tags FROM PUBLIC;
GRANT REFERENCES (resource_type) ON bh_audit.tags TO bh_audit_reader;	-- (a mark: see above)
SELECT pg_catalog.pg_extension_config_dump('bh_audit.tags', '');
COMMENT ON TABLE bh_audit.tags IS
    'The tagged PHI tables (internal; read bh_audit.tagged_tables, change with tag_table()/untag_table())';
-- Every change of the catalog reaches every backend's tag cache: also rows
-- that come in by SQL (a restore's COPY), not by tag_table().
CREATE FUNCTION bh_audit._tags_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_tags_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._tags_changed() FROM PUBLIC;
CREATE TRIGGER tags_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bh_audit.tags
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._tags_changed();

--------------------------------------------------------------------------
-- The ledger's home: the database (and the cluster, by its system
-- identifier) that last sealed the ledger.  Genesis is here.  A sealer that
-- continues a ledger last sealed elsewhere (a TEMPLATE copy, a restore, a
-- pg_upgrade) records so in the chain and writes its own database; a
-- restore's row replaces the one written here (a row naming this database
-- itself is skipped); nothing else changes it.
--------------------------------------------------------------------------
CREATE TABLE bh_audit.ledger_home (
    database_oid      oid NOT NULL,
    database_name     name NOT NULL,
    system_identifier bigint NOT NULL
);
REVOKE ALL ON bh_audit.ledger_home FROM PUBLIC;
GRANT REFERENCES (database_name) ON bh_audit.ledger_home TO bh_audit_reader;	-- (a mark)
COMMENT ON TABLE bh_audit.ledger_home IS
    'The database and cluster that last sealed the ledger (internal; written by the sealer)';
INSERT INTO bh_audit.ledger_home
SELECT d.oid, d.datname, s.system_identifier
  FROM pg_catalog.pg_database d, pg_catalog.pg_control_system() s
 WHERE d.datname = pg_catalog.current_database();
SELECT pg_catalog.pg_extension_config_dump('bh_audit.ledger_home', '');
CREATE FUNCTION bh_audit._home_restored()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_home_restored'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._home_restored() FROM PUBLIC;
CREATE TRIGGER ledger_home_no_change
    BEFORE UPDATE OR DELETE OR TRUNCATE ON bh_audit.ledger_home
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._refuse_change();
CREATE TRIGGER ledger_home_restored
    BEFORE INSERT ON bh_audit.ledger_home
    FOR EACH ROW EXECUTE FUNCTION bh_audit._home_restored();
ALTER TABLE bh_audit.ledger_home ENABLE ALWAYS TRIGGER ledger_home_no_change;
ALTER TABLE bh_audit.ledger_home ENABLE ALWAYS TRIGGER ledger_home_restored;

--------------------------------------------------------------------------
-- Logical replication: the four tables are this server's own.  A
-- publication FOR ALL TABLES (or of schema bh_audit) carries another
-- server's queue, ledger, tags and ledger home; a subscriber skips their rows (the
-- apply worker's changes and the table synchronisation's copy) and keeps
-- its own rows through a replicated TRUNCATE.  The row triggers' names sort
-- before the ledger's row guard (triggers of one timing fire in name
-- order), so the guard never sees a skipped row.  Enabled ALWAYS: the
-- replication workers run with session_replication_role = replica.
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit._skip_applied()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_skip_applied'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._skip_applied() FROM PUBLIC;
CREATE FUNCTION bh_audit._keep_on_truncate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_keep_on_truncate'
LANGUAGE C;
REVOKE ALL ON FUNCTION bh_audit._keep_on_truncate() FROM PUBLIC;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['queue', 'events', 'tags', 'ledger_home'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE ON bh_audit.%I '
                       'FOR EACH ROW EXECUTE FUNCTION bh_audit._skip_applied()',
                       t || '_applied_skip', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON bh_audit.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._keep_on_truncate()',
                       t || '_applied_truncate_keep', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON bh_audit.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._keep_on_truncate()',
                       t || '_applied_truncate_restore', t);
        EXECUTE format('ALTER TABLE bh_audit.%I ENABLE ALWAYS TRIGGER %I', t, t || '_applied_skip');
        EXECUTE format('ALTER TABLE bh_audit.%I ENABLE ALWAYS TRIGGER %I', t, t || '_applied_truncate_keep');
        EXECUTE format('ALTER TABLE bh_audit.%I ENABLE ALWAYS TRIGGER %I', t, t || '_applied_truncate_restore');
    END LOOP;
END $$;

CREATE VIEW bh_audit.tagged_tables AS
SELECT t.tbl,
       n.nspname AS schema_name,
       c.relname AS table_name,
       c.relkind = 'p' AS partitioned,
       t.resource_type, t.id_column, t.patient_column, t.classification, t.part2,
       t.capture_reads, t.capture_writes, t.tagged_at, t.tagged_by
  FROM bh_audit.tags t
  JOIN pg_catalog.pg_class c ON c.oid = t.tbl
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
REVOKE ALL ON bh_audit.tagged_tables FROM PUBLIC;
GRANT SELECT ON bh_audit.tagged_tables TO bh_audit_reader;
COMMENT ON VIEW bh_audit.tagged_tables IS
    'Tables whose rows are PHI, how their events are named and what is captured';

CREATE FUNCTION bh_audit.tag_table(
    tbl regclass,
    resource_type text,
    id_column name,
    patient_column name DEFAULT NULL,
    classification text DEFAULT 'PHI',
    part2 boolean DEFAULT false,
    capture_reads boolean DEFAULT true,
    capture_writes boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'bh_audit_tag_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION bh_audit.tag_table(regclass, text, name, name, text, boolean, boolean, boolean) IS
    'Tag a table as holding PHI: every change to its rows becomes an audit event (superusers and bh_audit_admin)';

CREATE FUNCTION bh_audit.untag_table(tbl regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'bh_audit_untag_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION bh_audit.untag_table(regclass) IS
    'Stop capturing a tagged table (recorded as an AuditConfiguration event; superusers and bh_audit_admin)';

-- Was the library loaded through shared_preload_libraries?  (Without it,
-- the extension's tables stay, but nothing is captured: capture_status().)
CREATE FUNCTION bh_audit._preloaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'bh_audit_preloaded'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION bh_audit._preloaded() FROM PUBLIC;

-- Why no sealer runs (not registered: max_worker_processes; or none for a
-- few seconds), NULL while one runs or is expected to (recovery); for
-- capture_status().
CREATE FUNCTION bh_audit._sealer_absence()
RETURNS text
AS 'MODULE_PATHNAME', 'bh_audit_sealer_absence'
LANGUAGE C VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION bh_audit._sealer_absence() FROM PUBLIC;

-- bh_audit.enabled in the server's configuration in force (the
-- postmaster's: its files as last read, its command line), NULL without
-- the preload; for capture_status().
CREATE FUNCTION bh_audit._server_enabled()
RETURNS boolean
AS 'MODULE_PATHNAME', 'bh_audit_server_enabled'
LANGUAGE C VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION bh_audit._server_enabled() FROM PUBLIC;

-- PL/pgSQL, not SQL: a SQL function's body is resolved whole as it starts,
-- so one of the extension's tables or functions gone (dropped, renamed or
-- moved while the library was not preloaded) would make it fail; here
-- each is looked up (to_regclass(), to_regprocedure()) and reported
-- missing, the tag catalog read only if it exists, the helpers called only
-- if they are the library's.
CREATE FUNCTION bh_audit.capture_status(
    OUT tbl regclass,
    OUT problem text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- its plan over the catalogs is estimated past jit_above_cost with a few
-- hundred partitions, and compiling it costs ten times the query (1,000
-- partitions: 120 ms with JIT, 12 ms without)
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    -- the extension's functions as its script installs them (but this
    -- one): one taken out of the extension is still judged, one gone is
    -- missing (sql/99_s43a2_member_functions: each member is here)
    listed CONSTANT text[] := ARRAY[
        'bh_audit._check_preloaded()', 'bh_audit.event_timestamp(text)',
        'bh_audit._queue_restored()', 'bh_audit._check_queued()',
        'bh_audit._refuse_change()',
        'bh_audit._check_append()', 'bh_audit._login()',
        'bh_audit.canonical_json(json)',
        'bh_audit.event_hash(json,text,text)',
        'bh_audit.emit(text,text,text,text,text,text,text,jsonb,text,boolean,text)',
        'bh_audit.set_context(text,text,text[],text,text,text,text,text)',
        'bh_audit._tags_changed()', 'bh_audit._home_restored()',
        'bh_audit._skip_applied()', 'bh_audit._keep_on_truncate()',
        'bh_audit.tag_table(regclass,text,name,name,text,boolean,boolean,boolean)',
        'bh_audit.untag_table(regclass)', 'bh_audit._preloaded()',
        'bh_audit._sealer_absence()', 'bh_audit._server_enabled()',
        'bh_audit._capture_row()', 'bh_audit._capture_truncate()',
        'bh_audit.pending_events()', 'bh_audit.seal()',
        'bh_audit.verify_chain(bigint,bigint,text)',
        'bh_audit.chain_failures(bigint,bigint,text)', 'bh_audit.chain_head()',
        'bh_audit.export_jsonl(bigint,bigint)',
        'bh_audit.sanitize_error_message(text,integer)',
        'bh_audit.validate_event(jsonb,text)', 'bh_audit.validation_errors(jsonb,text)',
        'bh_audit.stats()'];
    -- the extension's tables, NULL for one gone
    rel_events CONSTANT regclass := to_regclass('bh_audit.events');
    rel_queue CONSTANT regclass := to_regclass('bh_audit.queue');
    rel_tags CONSTANT regclass := to_regclass('bh_audit.tags');
    rel_home CONSTANT regclass := to_regclass('bh_audit.ledger_home');
    -- the schema the extension is in, and whether bh_audit is one
    ext_schema name;
    schema_gone CONSTANT boolean := to_regnamespace('bh_audit') IS NULL;
    -- what the library's helpers say, NULL when they are not its own
    is_preloaded boolean;
    sealer_absent text;
    server_on boolean;
    genuine_helpers text[];
    -- the tag catalog's rows (as arrays: it is read only if it exists)
    tag_rels regclass[] := '{}';
    tag_writes boolean[] := '{}';
    tag_ids name[] := '{}';
    tag_patients name[] := '{}';
    tags_failure text;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
     WHERE x.extname = 'bh_audit';

    -- each helper called only if it is the library's C function of its
    -- name (as the fns part below judges the extension's functions) and
    -- of its return type: one replaced (reported below) could fail
    SELECT coalesce(array_agg(p.proname::text), '{}') INTO genuine_helpers
      FROM (VALUES ('bh_audit._preloaded()', 'boolean'::regtype),
                   ('bh_audit._sealer_absence()', 'text'::regtype),
                   ('bh_audit._server_enabled()', 'boolean'::regtype)) AS h(sig, ret)
      JOIN pg_proc p ON p.oid = to_regprocedure(h.sig) AND p.prorettype = h.ret
      JOIN pg_language l ON l.oid = p.prolang
     WHERE l.lanname = 'c' AND p.probin = 'MODULE_PATHNAME'
       AND p.prosrc = 'bh_audit_' || ltrim(p.proname, '_');
    IF '_preloaded' = ANY (genuine_helpers) THEN
        is_preloaded := bh_audit._preloaded();
    END IF;
    IF '_sealer_absence' = ANY (genuine_helpers) THEN
        sealer_absent := bh_audit._sealer_absence();
    END IF;
    IF '_server_enabled' = ANY (genuine_helpers) THEN
        server_on := bh_audit._server_enabled();
    END IF;

    -- the tag catalog, by its OID: a column of it dropped or renamed is
    -- reported, not an error
    IF rel_tags IS NOT NULL THEN
        BEGIN
            EXECUTE format('SELECT coalesce(array_agg(tbl), ''{}''), coalesce(array_agg(capture_writes), ''{}''), '
                           'coalesce(array_agg(id_column), ''{}''), coalesce(array_agg(patient_column), ''{}'') '
                           'FROM %s', rel_tags)
               INTO tag_rels, tag_writes, tag_ids, tag_patients;
        EXCEPTION WHEN OTHERS THEN
            tags_failure := SQLERRM;
        END;
    END IF;

    RETURN QUERY
    WITH RECURSIVE tags AS (
        SELECT t.tbl, t.capture_writes, t.id_column, t.patient_column
          FROM unnest(tag_rels, tag_writes, tag_ids, tag_patients)
               AS t(tbl, capture_writes, id_column, patient_column)
    ), members AS (
        SELECT d.objid AS oid
          FROM pg_depend d
          JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'bh_audit'
         WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.deptype = 'e'
    ), fns AS (
        -- the extension's functions, its members and those listed: each
        -- of them (but this one) is the library's C function of its name,
        -- unless replaced while the library was not preloaded (nothing
        -- refuses it then)
        SELECT p.oid,
               l.lanname = 'c' AND p.probin IS NOT DISTINCT FROM 'MODULE_PATHNAME'
               AND p.prosrc = 'bh_audit_' || ltrim(p.proname, '_') AS genuine,
               p.oid IN (SELECT oid FROM members) AS member
          FROM pg_proc p
          JOIN pg_language l ON l.oid = p.prolang
         WHERE (p.oid IN (SELECT oid FROM members)
                OR p.oid IN (SELECT to_regprocedure(s.sig) FROM unnest(listed) AS s(sig)))
           AND NOT (p.proname = 'capture_status' AND p.pronargs = 0)
    ), writes AS (
        -- a materialized view has no capture triggers: REFRESH is recorded
        SELECT t.tbl FROM tags t JOIN pg_class c ON c.oid = t.tbl
         WHERE t.capture_writes AND c.relkind <> 'm'
    ), rels(tagged, relid) AS (
        -- the tagged tables and their partitions at any depth, with one
        -- whose DETACH ... CONCURRENTLY is pending (pg_partition_tree()
        -- leaves it out): it is captured until the detach completes
        SELECT t.tbl, t.tbl::oid
          FROM writes t
        UNION
        SELECT r.tagged, i.inhrelid
          FROM rels r JOIN pg_inherits i ON i.inhparent = r.relid
    ), expected AS (
        SELECT r.relid, k.kind, k.name
          FROM rels r
         CROSS JOIN (VALUES ('row', 'bh_audit_capture_row'),
                            ('truncate', 'bh_audit_capture_truncate')) AS k(kind, name)
         WHERE k.kind = 'truncate' OR r.relid = r.tagged
            OR (SELECT relkind FROM pg_class WHERE oid = r.relid) = 'r'
    ), triggers AS (
    SELECT e.relid::regclass AS tbl,
           e.kind || CASE WHEN tg.oid IS NULL THEN ' trigger missing'
                          WHEN NOT e.genuine THEN ' trigger is not bh_audit''s (another function, other events, a condition or columns)'
                          WHEN NOT e.fn_genuine THEN ' trigger is not bh_audit''s: its function '
                               || tg.tgfoid::regprocedure::text || ' was replaced'
                          WHEN tg.tgenabled = 'D' THEN ' trigger disabled'
                          ELSE ' trigger not enabled ALWAYS (skipped under session_replication_role = replica)' END
           AS problem
      FROM (SELECT e.*, tg.oid AS tgoid,
                   -- the function, the events (29: AFTER ROW INSERT, UPDATE,
                   -- DELETE; 34: BEFORE TRUNCATE) and no WHEN or column list
                   -- (to_regprocedure(): NULL, never an error, for one gone)
                   tg.oid IS NULL
                   OR (tg.tgfoid IS NOT DISTINCT FROM
                           to_regprocedure(CASE e.kind WHEN 'row' THEN 'bh_audit._capture_row()'
                                                       ELSE 'bh_audit._capture_truncate()' END)
                       AND tg.tgtype = CASE e.kind WHEN 'row' THEN 29 ELSE 34 END
                       AND tg.tgqual IS NULL AND tg.tgattr = ''::int2vector) AS genuine,
                   coalesce((SELECT f.genuine FROM fns f WHERE f.oid = tg.tgfoid), true) AS fn_genuine
              FROM expected e
              LEFT JOIN pg_trigger tg ON tg.tgrelid = e.relid AND tg.tgname = e.name) e
      LEFT JOIN pg_trigger tg ON tg.oid = e.tgoid
     WHERE tg.oid IS NULL OR NOT e.genuine OR NOT e.fn_genuine OR tg.tgenabled <> 'A'
    ), diverted AS (
        -- an enabled DO INSTEAD rule sends the table's writes elsewhere
        SELECT rw.ev_class::regclass AS tbl,
               'rule ' || quote_ident(rw.rulename) || ' does its '
               || CASE rw.ev_type WHEN '2' THEN 'UPDATE' WHEN '3' THEN 'INSERT' ELSE 'DELETE' END
               || ' INSTEAD (those writes are not captured)' AS problem
          FROM (SELECT DISTINCT relid FROM rels) r
          JOIN pg_rewrite rw ON rw.ev_class = r.relid
         WHERE rw.is_instead AND rw.ev_type IN ('2', '3', '4') AND rw.ev_enabled <> 'D'
    ), guards AS (
        -- the triggers of the extension's own tables (those that exist:
        -- one gone is reported as such): the ledger's guard (append-only,
        -- no TRUNCATE, chained rows only), the tag catalog's news to every
        -- backend's cache, a restored queue's identity, the queue's JSON
        -- objects only (in rows that come by SQL), the ledger home's guard,
        -- and the four tables' skipping of another server's replicated
        -- rows; each with its function and events (tgtype: 1
        -- row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate), no
        -- WHEN nor column list, as the capture triggers.  Those that must
        -- also fire for a replication apply (always) are enabled ALWAYS;
        -- the others (a restore's, in ordinary sessions) enabled, not for
        -- replica sessions only
        SELECT g.tbl,
               g.what || ' trigger ' || g.name
               || CASE WHEN g.tgoid IS NULL THEN ' missing'
                       WHEN NOT g.genuine
                            THEN ' is not bh_audit''s (another function, other events, a condition or columns)'
                       WHEN NOT g.fn_genuine
                            THEN ' is not bh_audit''s: its function ' || g.tgfoid::regprocedure::text || ' was replaced'
                       WHEN g.tgenabled = 'D' THEN ' disabled'
                       WHEN g.always THEN ' not enabled ALWAYS (skipped under session_replication_role = replica)'
                       ELSE ' enabled REPLICA (fires only under session_replication_role = replica: never in an ordinary session)' END
               AS problem
          FROM (SELECT r.tbl, k.name, k.always, tg.oid AS tgoid, tg.tgfoid, tg.tgenabled,
                       CASE k.tbl WHEN 'bh_audit.events' THEN 'ledger' WHEN 'bh_audit.queue' THEN 'queue'
                                  WHEN 'bh_audit.ledger_home' THEN 'ledger home' ELSE 'tag catalog' END AS what,
                       tg.oid IS NULL
                       OR (tg.tgfoid IS NOT DISTINCT FROM to_regprocedure('bh_audit.' || k.fn || '()')
                           AND tg.tgtype = k.type AND tg.tgqual IS NULL AND tg.tgattr = ''::int2vector) AS genuine,
                       coalesce(f.genuine, true) AS fn_genuine
                  FROM (VALUES ('bh_audit.events', 'events_append_only', true, '_refuse_change', 26),
                               ('bh_audit.events', 'events_no_truncate', true, '_refuse_change', 34),
                               ('bh_audit.events', 'events_chain_only', true, '_check_append', 7),
                               ('bh_audit.events', 'events_applied_skip', true, '_skip_applied', 31),
                               ('bh_audit.events', 'events_applied_truncate_keep', true, '_keep_on_truncate', 34),
                               ('bh_audit.events', 'events_applied_truncate_restore', true, '_keep_on_truncate', 32),
                               ('bh_audit.queue', 'queue_restored', false, '_queue_restored', 4),
                               ('bh_audit.queue', 'queue_objects_only', true, '_check_queued', 23),
                               ('bh_audit.queue', 'queue_applied_skip', true, '_skip_applied', 31),
                               ('bh_audit.queue', 'queue_applied_truncate_keep', true, '_keep_on_truncate', 34),
                               ('bh_audit.queue', 'queue_applied_truncate_restore', true, '_keep_on_truncate', 32),
                               ('bh_audit.tags', 'tags_changed', false, '_tags_changed', 60),
                               ('bh_audit.tags', 'tags_applied_skip', true, '_skip_applied', 31),
                               ('bh_audit.tags', 'tags_applied_truncate_keep', true, '_keep_on_truncate', 34),
                               ('bh_audit.tags', 'tags_applied_truncate_restore', true, '_keep_on_truncate', 32),
                               ('bh_audit.ledger_home', 'ledger_home_no_change', true, '_refuse_change', 58),
                               ('bh_audit.ledger_home', 'ledger_home_restored', true, '_home_restored', 7),
                               ('bh_audit.ledger_home', 'ledger_home_applied_skip', true, '_skip_applied', 31),
                               ('bh_audit.ledger_home', 'ledger_home_applied_truncate_keep', true, '_keep_on_truncate', 34),
                               ('bh_audit.ledger_home', 'ledger_home_applied_truncate_restore', true, '_keep_on_truncate', 32))
                        AS k(tbl, name, always, fn, type)
                 CROSS JOIN LATERAL (SELECT to_regclass(k.tbl) AS tbl) r
                  LEFT JOIN pg_trigger tg ON tg.tgrelid = r.tbl AND tg.tgname = k.name
                  LEFT JOIN fns f ON f.oid = tg.tgfoid
                 WHERE r.tbl IS NOT NULL) g
         WHERE g.tgoid IS NULL OR NOT g.genuine OR NOT g.fn_genuine OR g.tgenabled = 'D'
            OR (g.always AND g.tgenabled <> 'A') OR (NOT g.always AND g.tgenabled = 'R')
    ), tagged_tree(relid) AS (
        -- every tagged relation that exists, and its partitions
        SELECT c.oid FROM tags t JOIN pg_class c ON c.oid = t.tbl
        UNION
        SELECT i.inhrelid FROM tagged_tree r JOIN pg_inherits i ON i.inhparent = r.relid
    ), stray AS (
        -- the capture triggers on a relation that is not captured (a
        -- partition detached while the library was not preloaded, when
        -- nothing recorded it): its changes leave no event
        SELECT DISTINCT tg.tgrelid::regclass AS tbl,
               'not tagged nor a partition of a tagged table, but it has bh_audit''s '
               || CASE WHEN tg.tgfoid = to_regprocedure('bh_audit._capture_row()') THEN 'row' ELSE 'truncate' END
               || ' trigger (a partition detached?): its changes are not captured' AS problem
          FROM pg_trigger tg
         WHERE tg.tgfoid IN (to_regprocedure('bh_audit._capture_row()'), to_regprocedure('bh_audit._capture_truncate()'))
           -- NOT EXISTS, not NOT IN: an anti-join, where NOT IN's subplan
           -- is not hashed once the tree's estimate outgrows hash_mem and
           -- each trigger would scan the whole tree
           AND NOT EXISTS (SELECT 1 FROM tagged_tree t WHERE t.relid = tg.tgrelid)
    ), stale_tags AS (
        -- a tag whose table or column is gone (dropped or renamed while
        -- the library was not preloaded, when nothing followed it)
        SELECT t.tbl,
               'tagged table no longer exists (its tag names OID ' || t.tbl::oid
               || ', which another table may take): bh_audit.untag_table(' || t.tbl::oid
               || ') removes the tag' AS problem
          FROM tags t
         WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.tbl)
        UNION ALL
        SELECT t.tbl,
               'the tag''s ' || k.role || ' column ' || quote_ident(k.col)
               || ' is gone (dropped or renamed): '
               || CASE k.role WHEN 'id' THEN 'its events name no record' ELSE 'its reads are not captured' END
               || '; untag the table and tag it again' AS problem
          FROM tags t
          JOIN pg_class c ON c.oid = t.tbl
         CROSS JOIN LATERAL (VALUES ('id', t.id_column), ('patient', t.patient_column)) AS k(role, col)
         WHERE k.col IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                            WHERE a.attrelid = t.tbl AND a.attname = k.col
                              AND a.attnum > 0 AND NOT a.attisdropped)
    ), own_tables AS (
        -- the extension's tables gone (taken out of it and dropped,
        -- renamed or moved; all of them with the schema renamed: said
        -- once, below), out of an inheritance tree or partition
        -- (statements on another table reach their rows, past their
        -- guards), or unlogged (a crash empties them); so do tagged tables
        -- and their partitions, unlogged: their rows go with no DELETE event
        SELECT NULL::regclass AS tbl,
               'table ' || o.name || ' (' || o.what || ') does not exist (dropped, renamed or moved): '
               || 'bh_audit cannot work without it' AS problem
          FROM (VALUES ('bh_audit.events', 'the ledger', rel_events), ('bh_audit.queue', 'the queue', rel_queue),
                       ('bh_audit.tags', 'the tag catalog', rel_tags),
                       ('bh_audit.ledger_home', 'the ledger''s home', rel_home)) AS o(name, what, rel)
         WHERE o.rel IS NULL AND NOT schema_gone
        UNION ALL
        SELECT rel_tags, 'the tag catalog cannot be read (' || tags_failure || '): its tables'' capture is not checked'
         WHERE tags_failure IS NOT NULL
        UNION ALL
        SELECT o.tbl,
               CASE WHEN i.inhrelid = o.tbl AND c.relispartition
                         THEN 'is a partition of ' || i.inhparent::regclass::text
                    WHEN i.inhrelid = o.tbl
                         THEN 'inherits from ' || i.inhparent::regclass::text
                    ELSE 'is inherited by ' || i.inhrelid::regclass::text END
               || ': statements on that table reach its rows past bh_audit''s guards'
          FROM (VALUES (rel_events), (rel_queue), (rel_tags), (rel_home)) AS o(tbl)
          JOIN pg_inherits i ON o.tbl IN (i.inhrelid, i.inhparent)
          JOIN pg_class c ON c.oid = o.tbl
        UNION ALL
        SELECT c.oid::regclass, 'is unlogged: a crash or an immediate shutdown empties it (ALTER TABLE ... SET LOGGED)'
          FROM pg_class c
         WHERE c.relpersistence = 'u'
           AND c.oid IN (SELECT relid FROM tagged_tree
                         UNION ALL
                         VALUES (rel_events::oid), (rel_queue::oid), (rel_tags::oid), (rel_home::oid))
    ), replaced AS (
        SELECT NULL::regclass AS tbl,
               'function ' || f.oid::regprocedure::text || ' was replaced: it is not bh_audit''s C function '
               || 'bh_audit_' || ltrim(p.proname, '_') AS problem
          FROM fns f JOIN pg_proc p ON p.oid = f.oid
         WHERE NOT f.genuine
        UNION ALL
        -- one taken out of the extension (ALTER EXTENSION ... DROP
        -- FUNCTION), or gone (dropped, renamed or moved; all of them with
        -- the schema renamed: said once, below)
        SELECT NULL::regclass,
               'function ' || f.oid::regprocedure::text || ' is not a member of extension bh_audit any more '
               || '(taken out by ALTER EXTENSION bh_audit DROP FUNCTION)'
          FROM fns f
         WHERE NOT f.member
        UNION ALL
        SELECT NULL::regclass,
               'function ' || l.sig || ' does not exist (dropped, renamed or moved): bh_audit''s C function '
               || 'bh_audit_' || ltrim(split_part(substr(l.sig, 10), '(', 1), '_') || ' must be created again'
          FROM unnest(listed) AS l(sig)
         WHERE to_regprocedure(l.sig) IS NULL AND NOT schema_gone
    ), switched_off AS (
        -- the settings of bh_audit.enabled that sessions take, stored ones
        -- (ALTER ROLE or DATABASE ... SET, made while the library was not
        -- preloaded, when nothing recorded it), that switch capture off:
        -- only a value PostgreSQL takes as off (parse_bool(): a prefix of
        -- false, no or off, "of" at least, or 0, ASCII letters in any
        -- case, no blanks); one it refuses (WARNING at each login) leaves
        -- capture on.  Setrole 0 with setdatabase 0 is ALTER ROLE ALL SET;
        -- with a database, ALTER DATABASE SET (the same row as ALTER ROLE
        -- ALL IN DATABASE)
        SELECT NULL::regclass AS tbl,
               CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'ALTER ROLE ALL'
                    WHEN s.setrole = 0 THEN 'ALTER DATABASE ' || quote_ident(d.datname)
                    ELSE 'ALTER ROLE ' || quote_ident(r.rolname)
                         || CASE WHEN s.setdatabase = 0 THEN ''
                                 ELSE ' IN DATABASE ' || quote_ident(d.datname) END END
               || ' SET bh_audit.enabled = ' || quote_literal(val.raw) || ': capture is off in those sessions'
               AS problem
          FROM pg_db_role_setting s
          LEFT JOIN pg_roles r ON r.oid = s.setrole
          LEFT JOIN pg_database d ON d.oid = s.setdatabase
         CROSS JOIN LATERAL unnest(s.setconfig) AS cfg
         CROSS JOIN LATERAL (SELECT substr(cfg, strpos(cfg, '=') + 1) AS raw) AS val
         CROSS JOIN LATERAL (SELECT translate(val.raw, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                              'abcdefghijklmnopqrstuvwxyz') AS v) AS low
         WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
           AND lower(split_part(cfg, '=', 1)) = 'bh_audit.enabled'
           AND low.v <> ''
           AND (starts_with('false', low.v) OR starts_with('no', low.v)
                OR low.v IN ('of', 'off', '0'))
        UNION ALL
        -- and the server's own, in force: the postmaster's value (its
        -- files as last read, its command line), which the sealer and
        -- every session take but where a stored one applies; not the files
        -- as they read now (pg_file_settings: an edit not yet reloaded, or
        -- one the command line outranks).  Where it comes from as this
        -- session has it, when it has no other (the file's name only: its
        -- path is for superusers to see)
        SELECT NULL::regclass,
               'bh_audit.enabled is off in the server''s configuration'
               || coalesce((SELECT CASE s.source
                                       WHEN 'configuration file'
                                       THEN ' (' || regexp_replace(s.sourcefile, '^.*/', '')
                                            || ' line ' || s.sourceline || ')'
                                       WHEN 'command line' THEN ' (the server''s command line)' END
                              FROM pg_settings s
                             WHERE s.name = 'bh_audit.enabled' AND NOT s.setting::boolean), '')
               || ': capture is off for the whole server (in every session but those a stored setting switches on)'
         WHERE NOT server_on
    )
    SELECT NULL::regclass, 'bh_audit is not loaded through shared_preload_libraries: '
           'reads, denials and failures are not captured, and writes to tagged tables are refused, '
           'until it is preloaded again'
     WHERE NOT is_preloaded
    UNION ALL
    -- the extension's schema renamed (refused with the preload): none of
    -- its tables and functions is where bh_audit looks for them
    SELECT NULL::regclass, 'the extension''s schema is ' || quote_ident(ext_schema) || ', not bh_audit '
           '(renamed): bh_audit finds none of its tables and functions (ALTER SCHEMA '
           || quote_ident(ext_schema) || ' RENAME TO bh_audit)'
     WHERE ext_schema <> 'bh_audit'
    UNION ALL
    -- a hot standby: the ledger cannot be written there, so its reads,
    -- denials and failures are not captured (its logins wait in its ring)
    SELECT NULL::regclass, 'this server is a hot standby: reads, denials and failures of tagged '
           'tables here are not captured (logins are, with bh_audit.log_connections, sealed after a promotion)'
     WHERE pg_is_in_recovery() AND cardinality(tag_rels) > 0
    UNION ALL
    -- no sealer for the cluster: nothing is chained, the ring fills
    SELECT rel_events, 'no sealer is running: events are not sealed (' || sealer_absent || ')'
     WHERE sealer_absent IS NOT NULL
    UNION ALL
    -- a database with the extension that is not the sealer's (a TEMPLATE
    -- copy, a restore to inspect): its writes are queued for ever
    SELECT rel_queue,
           'events queued here are not sealed: bh_audit.database is "'
           || current_setting('bh_audit.database', true) || '"'
     WHERE is_preloaded
       AND current_setting('bh_audit.database', true) <> current_database()
    UNION ALL
    SELECT tbl, problem FROM triggers
    UNION ALL
    SELECT tbl, problem FROM diverted
    UNION ALL
    SELECT tbl, problem FROM guards
    UNION ALL
    SELECT tbl, problem FROM stray
    UNION ALL
    SELECT tbl, problem FROM stale_tags
    UNION ALL
    SELECT tbl, problem FROM own_tables
    UNION ALL
    SELECT tbl, problem FROM replaced
    UNION ALL
    SELECT tbl, problem FROM switched_off
     ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION bh_audit.capture_status() IS
    'Tagged tables (and partitions) whose capture triggers are missing or disabled, whose writes a DO INSTEAD rule sends elsewhere, the extension''s own tables if a trigger guarding them is missing, weakened, calls another function or fires only for replica sessions, one of those tables or the extension''s schema gone or renamed, bh_audit.queue in a database that is not the sealer''s (its events are never sealed), bh_audit.events when no sealer runs (it could not be registered, or none has run for a few seconds), what was changed unseen while the library was not preloaded (an extension function replaced, taken out of the extension or gone, an extension table in an inheritance tree or unlogged, a tagged table or partition unlogged, a tag naming a table or column that is gone, capture triggers left on a table no longer captured, bh_audit.enabled switched off by ALTER ROLE or DATABASE ... SET), bh_audit.enabled off in the server''s configuration in force (the postmaster''s value), and a row without a table when the library is not preloaded or, with tables tagged, on a hot standby (reads there are not captured); empty when capture is complete';

-- Trigger functions of the capture path (C; attached by tag_table()).
CREATE FUNCTION bh_audit._capture_row()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_capture_row'
LANGUAGE C;
CREATE FUNCTION bh_audit._capture_truncate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'bh_audit_capture_truncate'
LANGUAGE C;

REVOKE ALL ON FUNCTION bh_audit.tag_table(regclass, text, name, name, text, boolean, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bh_audit.untag_table(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION bh_audit.capture_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.tag_table(regclass, text, name, name, text, boolean, boolean, boolean) TO bh_audit_admin;
GRANT EXECUTE ON FUNCTION bh_audit.untag_table(regclass) TO bh_audit_admin;
GRANT EXECUTE ON FUNCTION bh_audit.capture_status() TO bh_audit_reader;
-- Triggers run their function with the privileges of whoever changes the
-- table, so every role must be able to execute the capture functions.
GRANT EXECUTE ON FUNCTION bh_audit._capture_row() TO PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit._capture_truncate() TO PUBLIC;

--------------------------------------------------------------------------
-- Sealing
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.pending_events()
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'bh_audit_pending_events'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION bh_audit.pending_events() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.pending_events() TO bh_audit_admin;
COMMENT ON FUNCTION bh_audit.pending_events() IS
    'The events this transaction has queued that are still held in memory, not yet written to bh_audit.queue';

CREATE FUNCTION bh_audit.seal()
RETURNS bigint
AS 'MODULE_PATHNAME', 'bh_audit_seal'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION bh_audit.seal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.seal() TO bh_audit_admin;
COMMENT ON FUNCTION bh_audit.seal() IS
    'Have the sealer chain every event committed so far, wait for it, and return how many it sealed';

--------------------------------------------------------------------------
-- Verification, head, export
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.verify_chain(
    from_seq bigint DEFAULT NULL,
    to_seq bigint DEFAULT NULL,
    expected_head text DEFAULT NULL,
    OUT result text,
    OUT events_scanned bigint,
    OUT chain_length bigint,
    OUT chain_gaps bigint,
    OUT hash_mismatches bigint,
    OUT head_seq bigint,
    OUT head_hash text)
RETURNS record
AS 'MODULE_PATHNAME', 'bh_audit_verify_chain'
LANGUAGE C STABLE;
COMMENT ON FUNCTION bh_audit.verify_chain(bigint, bigint, text) IS
    'Re-render and re-hash the chain (optionally a seq range, optionally against a head stored elsewhere); PASS or FAIL with the verifier''s counts';

CREATE FUNCTION bh_audit.chain_failures(
    from_seq bigint DEFAULT NULL,
    to_seq bigint DEFAULT NULL,
    expected_head text DEFAULT NULL,
    OUT seq bigint,
    OUT event_id uuid,
    OUT failure_type text,
    OUT expected text,
    OUT actual text,
    OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bh_audit_chain_failures'
LANGUAGE C STABLE;
COMMENT ON FUNCTION bh_audit.chain_failures(bigint, bigint, text) IS
    'One row per verification failure: hash_mismatch, chain_gap, seq_gap, column_mismatch or head_mismatch';

CREATE FUNCTION bh_audit.chain_head(
    OUT seq bigint,
    OUT event_hash text,
    OUT ts timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'bh_audit_chain_head'
LANGUAGE C STABLE;
COMMENT ON FUNCTION bh_audit.chain_head() IS
    'The last sealed event: store its hash outside the database and pass it to verify_chain(expected_head => ...)';

CREATE FUNCTION bh_audit.export_jsonl(from_seq bigint DEFAULT NULL, to_seq bigint DEFAULT NULL)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'bh_audit_export_jsonl'
LANGUAGE C STABLE;
COMMENT ON FUNCTION bh_audit.export_jsonl(bigint, bigint) IS
    'One canonical JSON line per sealed event, in seq order, with its integrity block (verifiable by bh-audit verify)';

REVOKE ALL ON FUNCTION bh_audit.verify_chain(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION bh_audit.chain_failures(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION bh_audit.chain_head() FROM PUBLIC;
REVOKE ALL ON FUNCTION bh_audit.export_jsonl(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.verify_chain(bigint, bigint, text) TO bh_audit_reader;
GRANT EXECUTE ON FUNCTION bh_audit.chain_failures(bigint, bigint, text) TO bh_audit_reader;
GRANT EXECUTE ON FUNCTION bh_audit.chain_head() TO bh_audit_reader;
GRANT EXECUTE ON FUNCTION bh_audit.export_jsonl(bigint, bigint) TO bh_audit_reader;

--------------------------------------------------------------------------
-- PHI safety: the upstream error-message sanitiser (every event's
-- error_message goes through it, cut to bh_audit.error_message_max_len).
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.sanitize_error_message(message text, max_len integer DEFAULT 200)
RETURNS text
AS 'MODULE_PATHNAME', 'bh_audit_sanitize_error_message'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
GRANT EXECUTE ON FUNCTION bh_audit.sanitize_error_message(text, integer) TO PUBLIC;
COMMENT ON FUNCTION bh_audit.sanitize_error_message(text, integer) IS
    'The bh-audit-logger error-message sanitiser: trim, collapse whitespace, redact SSN, e-mail, phone and long-number patterns (Python re semantics), cut to max_len characters ending in "..."';

--------------------------------------------------------------------------
-- Schema conformance: JSON Schema validation against the bh-audit-schema
-- versions compiled into the library (1.0, 1.1, 2.0, 2.1).  IMMUTABLE: the
-- result depends only on the arguments and on the schemas embedded at
-- build time.
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.validate_event(event jsonb, version text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'bh_audit_validate_event'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
GRANT EXECUTE ON FUNCTION bh_audit.validate_event(jsonb, text) TO PUBLIC;
COMMENT ON FUNCTION bh_audit.validate_event(jsonb, text) IS
    'Does the event validate against bh-audit-schema version (NULL: the event''s own schema_version)? An unknown version is an error';

CREATE FUNCTION bh_audit.validation_errors(event jsonb, version text DEFAULT NULL)
RETURNS TABLE(path text, message text)
AS 'MODULE_PATHNAME', 'bh_audit_validation_errors'
LANGUAGE C IMMUTABLE PARALLEL SAFE
ROWS 5;
GRANT EXECUTE ON FUNCTION bh_audit.validation_errors(jsonb, text) TO PUBLIC;
COMMENT ON FUNCTION bh_audit.validation_errors(jsonb, text) IS
    'One row per schema violation of the event: a JSON pointer and a message naming the keyword and its limit, never the offending value';

--------------------------------------------------------------------------
-- Counters
--------------------------------------------------------------------------
CREATE FUNCTION bh_audit.stats(
    OUT events_emitted_total bigint,
    OUT events_sealed_total bigint,
    OUT events_dropped_total bigint,
    OUT validation_failures_total bigint,
    OUT queued_events bigint,
    OUT ring_events bigint,
    OUT sealer_last_seal_at timestamptz,
    OUT sealer_pid integer)
RETURNS record
AS 'MODULE_PATHNAME', 'bh_audit_stats'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION bh_audit.stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.stats() TO bh_audit_reader;
COMMENT ON FUNCTION bh_audit.stats() IS
    'Counters since server start, events waiting in the queue and in the ring now, and the sealer''s last activity';

