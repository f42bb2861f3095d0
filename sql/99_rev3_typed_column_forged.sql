-- The typed columns of bh_audit.events (patient_id, actor_id, ts, ...) are
-- generated from the hashed event, which threat-model.md counts on: "a
-- filter column can never disagree with what the hash covers".  A
-- superuser's ALTER TABLE that drops a column's expression and rewrites its
-- values (ALTER COLUMN ... TYPE ... USING: no trigger fires, no guard is
-- switched off) must not leave a row whose filter column shows another
-- patient than its event while verification passes: either the change is
-- refused, or verify_chain() fails.  In a transaction rolled back.
SELECT bh_audit.emit('READ', 'Doc', 'rev3_col', 'p_rev3_col') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
BEGIN;
CREATE TEMP TABLE forged (refused boolean);
DO $$
BEGIN
  ALTER TABLE bh_audit.events ALTER COLUMN patient_id DROP EXPRESSION;
  ALTER TABLE bh_audit.events ALTER COLUMN patient_id TYPE text COLLATE "C"
    USING (CASE WHEN event -> 'resource' ->> 'id' = 'rev3_col' THEN 'p_other' ELSE patient_id END);
  INSERT INTO forged VALUES (false);
EXCEPTION WHEN OTHERS THEN
  INSERT INTO forged VALUES (true);
END
$$;
SELECT refused OR (SELECT result = 'FAIL' FROM bh_audit.verify_chain()) AS forgery_seen
  FROM forged;
ROLLBACK;
SELECT count(*) AS shown_as_another_patient FROM bh_audit.events
 WHERE patient_id IS DISTINCT FROM event -> 'resource' ->> 'patient_id';
-- DROP EXPRESSION of an access-review column is refused, for superusers too
\set VERBOSITY terse
ALTER TABLE bh_audit.events ALTER COLUMN ts DROP EXPRESSION;
\set VERBOSITY default
-- Dropping the column and adding it again (the repair of a changed type)
-- can add it back plain, with other values: verification compares each
-- row's columns with what its event gives them, a column_mismatch.
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN patient_id;
ALTER TABLE bh_audit.events ADD COLUMN patient_id text COLLATE "C" DEFAULT 'p_other';
SELECT result, hash_mismatches > 0 AS counted, chain_gaps FROM bh_audit.verify_chain();
SELECT (SELECT count(*) FROM bh_audit.chain_failures()
         WHERE failure_type = 'column_mismatch')
     = (SELECT count(*) FROM bh_audit.events
         WHERE event -> 'resource' ->> 'patient_id' IS DISTINCT FROM 'p_other')
       AS each_row_seen,
       (SELECT count(*) FROM bh_audit.chain_failures()
         WHERE failure_type <> 'column_mismatch') AS other_failures;
SELECT f.failure_type, f.expected, f.actual, f.message
  FROM bh_audit.chain_failures() f JOIN bh_audit.events e USING (seq)
 WHERE e.event -> 'resource' ->> 'id' = 'rev3_col';
ROLLBACK;
-- added back as the install script declares it: the chain verifies
BEGIN;
ALTER TABLE bh_audit.events DROP COLUMN patient_id;
ALTER TABLE bh_audit.events ADD COLUMN patient_id text COLLATE "C"
  GENERATED ALWAYS AS (event -> 'resource' ->> 'patient_id') STORED;
SELECT result FROM bh_audit.verify_chain();
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
