-- Reads by DDL: a statement that makes PostgreSQL evaluate expressions over
-- the stored rows of a tagged table (an index's expression or predicate, a
-- CHECK constraint being validated, a stored generated column being added,
-- a column's conversion, an exclusion constraint; the rebuilds of REINDEX,
-- CLUSTER and VACUUM FULL; ANALYZE's sample) runs its owner's functions on
-- every row, outside any scan read capture watches.  Each such statement is
-- one table-wide READ event per tagged table, recorded before it runs: also
-- when it fails, or its transaction rolls back.
CREATE SCHEMA ddr;
CREATE ROLE bh_regress_ddl_owner;
GRANT USAGE, CREATE ON SCHEMA ddr TO bh_regress_ddl_owner;
CREATE TABLE ddr.notes (note_id int PRIMARY KEY, patient_id text NOT NULL, body text);
INSERT INTO ddr.notes SELECT g, 'p' || (g % 3), 'secret ' || g FROM generate_series(1, 6) g;
CREATE TABLE ddr.plain (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO ddr.plain SELECT g, 'p' || g, 'plain ' || g FROM generate_series(1, 4) g;
CREATE TABLE ddr.unread (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO ddr.unread SELECT g, 'p' || g, 'unread ' || g FROM generate_series(1, 4) g;
CREATE TABLE ddr.visits (visit_id int, patient_id text, reason text) PARTITION BY RANGE (visit_id);
CREATE TABLE ddr.visits_1 PARTITION OF ddr.visits FOR VALUES FROM (1) TO (100);
CREATE TABLE ddr.visits_2 PARTITION OF ddr.visits FOR VALUES FROM (100) TO (200);
INSERT INTO ddr.visits SELECT g * 30, 'p' || g, 'reason ' || g FROM generate_series(1, 5) g;
ALTER TABLE ddr.notes OWNER TO bh_regress_ddl_owner;
ALTER TABLE ddr.plain OWNER TO bh_regress_ddl_owner;
ALTER TABLE ddr.unread OWNER TO bh_regress_ddl_owner;
ALTER TABLE ddr.visits OWNER TO bh_regress_ddl_owner;
ALTER TABLE ddr.visits_1 OWNER TO bh_regress_ddl_owner;
ALTER TABLE ddr.visits_2 OWNER TO bh_regress_ddl_owner;
SELECT bh_audit.tag_table('ddr.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('ddr.unread', 'UnreadNote', 'id', 'patient_id', capture_reads => false);
SELECT bh_audit.tag_table('ddr.visits', 'Visit', 'visit_id', 'patient_id', part2 => true);

CREATE TEMP TABLE mark (seq bigint);
INSERT INTO mark SELECT coalesce(max(seq), 0) FROM bh_audit.events;
-- The events since the last mark (but the tagging's), then move the mark.
CREATE FUNCTION pg_temp.reads() RETURNS TABLE (action text, resource_type text, resource_id text,
                                               patient_id text, meta jsonb)
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.resource_id, e.patient_id,
                        (e.event -> 'metadata') - 'db_user'
                   FROM bh_audit.events e WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY e.resource_type, e.action, e.seq;
    UPDATE mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT count(*) FROM pg_temp.reads();
-- Every READ of this file is phi_touched and classified as its tag says.
CREATE FUNCTION pg_temp.read_shape() RETURNS TABLE (resource_type text, phi_touched text,
                                                    classification text, events bigint)
LANGUAGE sql SECURITY DEFINER AS $$
    SELECT e.resource_type, e.event -> 'action' ->> 'phi_touched',
           e.event -> 'action' ->> 'data_classification', count(*)
      FROM bh_audit.events e
     WHERE e.action = 'READ' AND e.event -> 'metadata' ->> 'table' LIKE 'ddr.%'
     GROUP BY 1, 2, 3 ORDER BY 1
$$;

-- The owner (no superuser) and a function of its own.
SET ROLE bh_regress_ddl_owner;
CREATE FUNCTION ddr.ok(text, text) RETURNS bool LANGUAGE plpgsql IMMUTABLE
    AS $$BEGIN RETURN $1 IS NOT NULL AND $2 IS NOT NULL; END$$;

-- CREATE INDEX: a plain column evaluates nothing; an expression or a
-- predicate runs over every row.
CREATE INDEX notes_pid ON ddr.notes (patient_id);
SELECT * FROM pg_temp.reads();
CREATE INDEX notes_leak ON ddr.notes ((ddr.ok(patient_id, body)));
SELECT * FROM pg_temp.reads();
CREATE INDEX notes_part ON ddr.notes (note_id) WHERE ddr.ok(patient_id, body);
SELECT * FROM pg_temp.reads();
CREATE INDEX CONCURRENTLY notes_both ON ddr.notes (lower(body)) WHERE ddr.ok(patient_id, body);
SELECT * FROM pg_temp.reads();
-- an untagged table, a table whose reads are not captured: nothing
CREATE INDEX plain_leak ON ddr.plain ((ddr.ok(patient_id, body)));
CREATE INDEX unread_leak ON ddr.unread ((ddr.ok(patient_id, body)));
SELECT * FROM pg_temp.reads();
-- rolled back: recorded all the same
BEGIN;
CREATE INDEX notes_gone ON ddr.notes ((ddr.ok(body, patient_id)));
ROLLBACK;
SELECT * FROM pg_temp.reads();

-- A partitioned tagged table: one event naming it, the rows of all its
-- partitions estimated; an index of one partition reads that partition.
-- ON ONLY makes an index of the parent alone, which holds no rows.
CREATE INDEX visits_only ON ONLY ddr.visits ((ddr.ok(patient_id, reason)));
SELECT * FROM pg_temp.reads();
RESET ROLE;
ANALYZE ddr.visits;
SET ROLE bh_regress_ddl_owner;
SELECT * FROM pg_temp.reads();
CREATE INDEX visits_leak ON ddr.visits ((ddr.ok(patient_id, reason)));
SELECT * FROM pg_temp.reads();
CREATE INDEX visits_1_part ON ddr.visits_1 (visit_id) WHERE ddr.ok(patient_id, reason);
SELECT * FROM pg_temp.reads();

-- ALTER TABLE.  A CHECK constraint is validated over every row ...
ALTER TABLE ddr.notes ADD CONSTRAINT notes_ok CHECK (ddr.ok(patient_id, body));
SELECT * FROM pg_temp.reads();
-- ... unless NOT VALID, until VALIDATE CONSTRAINT (once)
ALTER TABLE ddr.notes ADD CONSTRAINT notes_ok2 CHECK (ddr.ok(body, patient_id)) NOT VALID;
SELECT * FROM pg_temp.reads();
ALTER TABLE ddr.notes VALIDATE CONSTRAINT notes_ok2;
SELECT * FROM pg_temp.reads();
ALTER TABLE ddr.notes VALIDATE CONSTRAINT notes_ok2;
SELECT * FROM pg_temp.reads();
-- a CHECK that fails on some row: the statement fails, the read is recorded
ALTER TABLE ddr.notes ADD CONSTRAINT notes_small CHECK (ddr.ok(patient_id, body) AND note_id < 3);
SELECT * FROM pg_temp.reads();
-- a partitioned table: one event for the statement that recurses
ALTER TABLE ddr.visits ADD CONSTRAINT visits_ok CHECK (ddr.ok(patient_id, reason));
SELECT * FROM pg_temp.reads();
-- a column's CHECK (it may read the row's other columns), a stored
-- generated column (the table is rewritten: its indexes are built again)
ALTER TABLE ddr.notes ADD COLUMN checked int CHECK (ddr.ok(patient_id, body));
SELECT * FROM pg_temp.reads();
ALTER TABLE ddr.notes ADD COLUMN digest bool GENERATED ALWAYS AS (ddr.ok(patient_id, body)) STORED;
SELECT * FROM pg_temp.reads();
-- a volatile default rewrites the table too; a constant one reads nothing
ALTER TABLE ddr.notes ADD COLUMN r float8 DEFAULT random();
SELECT * FROM pg_temp.reads();
ALTER TABLE ddr.notes ADD COLUMN flag int DEFAULT 0;
SELECT * FROM pg_temp.reads();
-- a conversion of every value: the write it already was, and a read
ALTER TABLE ddr.notes ALTER COLUMN checked TYPE bigint USING CASE WHEN ddr.ok(patient_id, body) THEN checked END;
SELECT * FROM pg_temp.reads();
-- an exclusion constraint; UNIQUE ... USING INDEX evaluates nothing
ALTER TABLE ddr.notes ADD CONSTRAINT notes_excl EXCLUDE USING btree (note_id WITH =);
SELECT * FROM pg_temp.reads();
CREATE UNIQUE INDEX notes_id2 ON ddr.notes (note_id);
ALTER TABLE ddr.notes ADD CONSTRAINT notes_id2 UNIQUE USING INDEX notes_id2;
SELECT * FROM pg_temp.reads();
-- an untagged table, a table whose reads are not captured: nothing
ALTER TABLE ddr.plain ADD CONSTRAINT plain_ok CHECK (ddr.ok(patient_id, body));
ALTER TABLE ddr.unread ADD CONSTRAINT unread_ok CHECK (ddr.ok(patient_id, body));
SELECT * FROM pg_temp.reads();

-- REINDEX of an index with an expression or a predicate, of a table with
-- one; not of one without.
REINDEX INDEX ddr.notes_leak;
SELECT * FROM pg_temp.reads();
REINDEX INDEX ddr.notes_pid;
SELECT * FROM pg_temp.reads();
REINDEX TABLE ddr.notes;
SELECT * FROM pg_temp.reads();
REINDEX TABLE ddr.visits;
SELECT * FROM pg_temp.reads();
REINDEX TABLE ddr.plain;
REINDEX TABLE ddr.unread;
SELECT * FROM pg_temp.reads();
-- CLUSTER and VACUUM FULL build every index again; plain VACUUM evaluates none
CLUSTER ddr.notes USING notes_pid;
SELECT * FROM pg_temp.reads();
SET client_min_messages = error;
CLUSTER;
SELECT * FROM pg_temp.reads();
VACUUM FULL ddr.notes;
SELECT * FROM pg_temp.reads();
VACUUM (FULL) ddr.visits;
SELECT * FROM pg_temp.reads();
VACUUM (FULL);
SELECT * FROM pg_temp.reads();
VACUUM ddr.notes;
SELECT * FROM pg_temp.reads();
RESET client_min_messages;
-- ANALYZE evaluates the expressions of expression indexes and extended
-- statistics on a sample; a table without either: nothing
ANALYZE ddr.notes;
SELECT * FROM pg_temp.reads();
ANALYZE ddr.notes (note_id);
SELECT * FROM pg_temp.reads();
VACUUM (ANALYZE) ddr.notes;
SELECT * FROM pg_temp.reads();
DROP INDEX ddr.visits_leak;
DROP INDEX ddr.visits_only;
DROP INDEX ddr.visits_1_part;
ANALYZE ddr.visits;
SELECT * FROM pg_temp.reads();
CREATE STATISTICS ddr.visits_st ON (ddr.ok(patient_id, reason)), visit_id FROM ddr.visits;
SELECT * FROM pg_temp.reads();
ANALYZE ddr.visits;
SELECT * FROM pg_temp.reads();
ANALYZE ddr.plain;
SELECT * FROM pg_temp.reads();
RESET ROLE;

-- REINDEX SCHEMA: each tagged table of the schema with such an index (of
-- a partitioned one, the partitions with one); REINDEX DATABASE: each in
-- the database (only this file's shown here); REINDEX SYSTEM: none.
CREATE INDEX visits_2_part ON ddr.visits_2 (visit_id) WHERE reason IS NOT NULL;
SELECT * FROM pg_temp.reads();
REINDEX SCHEMA ddr;
SELECT * FROM pg_temp.reads();
REINDEX DATABASE contrib_regression;
SELECT * FROM pg_temp.reads() WHERE meta ->> 'table' LIKE 'ddr.%';
REINDEX SYSTEM contrib_regression;
SELECT * FROM pg_temp.reads();

-- A function's statements are statements too.
CREATE FUNCTION pg_temp.make_index() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'CREATE INDEX notes_fn ON ddr.notes ((ddr.ok(body, body)))';
END $$;
SELECT pg_temp.make_index();
SELECT * FROM pg_temp.reads();

-- bh_audit.enabled = off: nothing (the switch itself is recorded).
SET bh_audit.enabled = off;
CREATE INDEX notes_off ON ddr.notes ((ddr.ok(patient_id, patient_id)));
ALTER TABLE ddr.notes ADD CONSTRAINT notes_off CHECK (ddr.ok(body, body));
REINDEX TABLE ddr.notes;
SET bh_audit.enabled = on;
SELECT * FROM pg_temp.reads();

-- A statement PostgreSQL refuses or skips for a role that does not own the
-- table evaluates nothing: no event (ANALYZE and VACUUM FULL skip it with a
-- warning, CREATE INDEX and ALTER TABLE fail).
CREATE ROLE bh_regress_ddl_other;
GRANT USAGE ON SCHEMA ddr TO bh_regress_ddl_other;
SET ROLE bh_regress_ddl_other;
SET client_min_messages = error;
ANALYZE ddr.notes;
VACUUM FULL ddr.notes;
RESET client_min_messages;
CREATE INDEX notes_other ON ddr.notes ((ddr.ok(body, body)));
ALTER TABLE ddr.notes ADD CONSTRAINT notes_other CHECK (ddr.ok(body, body));
RESET ROLE;
DROP OWNED BY bh_regress_ddl_other;
DROP ROLE bh_regress_ddl_other;
SELECT * FROM pg_temp.reads();

-- A new access method rewrites the table: its indexes are built again.
CREATE ACCESS METHOD bh_regress_heap2 TYPE TABLE HANDLER heap_tableam_handler;
SET ROLE bh_regress_ddl_owner;
ALTER TABLE ddr.notes SET ACCESS METHOD bh_regress_heap2;
SELECT * FROM pg_temp.reads();

-- A domain's new CHECK constraint is validated over every column of the
-- domain (or of a domain over it) in every table: each tagged one's rows.
CREATE DOMAIN ddr.code AS text CHECK (VALUE <> '');
CREATE DOMAIN ddr.subcode AS ddr.code;
ALTER TABLE ddr.notes ADD COLUMN code ddr.subcode;
ALTER TABLE ddr.plain ADD COLUMN code ddr.code;
SELECT * FROM pg_temp.reads();
ALTER DOMAIN ddr.code ADD CONSTRAINT code_ok CHECK (ddr.ok(VALUE, VALUE));
SELECT * FROM pg_temp.reads();
ALTER DOMAIN ddr.code ADD CONSTRAINT code_later CHECK (VALUE <> 'x') NOT VALID;
SELECT * FROM pg_temp.reads();
ALTER DOMAIN ddr.code VALIDATE CONSTRAINT code_later;
SELECT * FROM pg_temp.reads();

-- A tagged inheritance child, reached through its untagged parent.
CREATE TABLE ddr.base (id int, patient_id text, v int);
CREATE TABLE ddr.child (extra int) INHERITS (ddr.base);
INSERT INTO ddr.child VALUES (1, 'p1', 1, 1);
RESET ROLE;
SELECT bh_audit.tag_table('ddr.child', 'Child', 'id', 'patient_id');
SET ROLE bh_regress_ddl_owner;
ALTER TABLE ddr.base ADD CONSTRAINT base_ok CHECK (ddr.ok(patient_id, patient_id));
SELECT * FROM pg_temp.reads();
ALTER TABLE ONLY ddr.base ADD CONSTRAINT base_only CHECK (v > 0) NO INHERIT;
SELECT * FROM pg_temp.reads();
RESET ROLE;

SELECT * FROM pg_temp.read_shape();

DROP SCHEMA ddr CASCADE;
DROP ACCESS METHOD bh_regress_heap2;
DROP ROLE bh_regress_ddl_owner;
SELECT count(*) FROM pg_temp.reads();
