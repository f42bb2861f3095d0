-- A tagged column PostgreSQL drops at a COMMIT with no statement running
-- (a temporary table created ON COMMIT DROP whose row type the column of a
-- tagged temporary table is of) is recorded as the drop of a column (one
-- UPDATE event naming it).  config_guard.c's bh_guard_noting() notes such a
-- drop for the transaction, to record it at the transaction's pre-commit
-- (bh_session_end_xact()), and registers that callback on first use: the
-- first time in a session this happens at COMMIT itself, after the
-- pre-commit callbacks ran, so what it noted is never recorded (no event);
-- the second time the callback is registered and the drop is recorded at
-- once.  Right: one event each time.
\set VERBOSITY terse
SELECT coalesce(max(seq), 0) AS mark FROM bh_audit.events \gset
CREATE TEMP TABLE r2f_notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO r2f_notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
SELECT bh_audit.tag_table('pg_temp.r2f_notes', 'R2fNote', 'id', 'patient_id');
-- first time in the session
BEGIN;
CREATE TEMP TABLE r2f_kind1 (k int) ON COMMIT DROP;
ALTER TABLE r2f_notes ADD COLUMN kind1 r2f_kind1;
COMMIT;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'pg_temp.r2f_notes'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'dropped_columns' AS dropped
  FROM bh_audit.events
 WHERE seq > :mark AND resource_type = 'R2fNote' AND action = 'UPDATE'
 ORDER BY seq;
SELECT coalesce(max(seq), 0) AS mark FROM bh_audit.events \gset
-- second time in the session
BEGIN;
CREATE TEMP TABLE r2f_kind2 (k int) ON COMMIT DROP;
ALTER TABLE r2f_notes ADD COLUMN kind2 r2f_kind2;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'dropped_columns' AS dropped
  FROM bh_audit.events
 WHERE seq > :mark AND resource_type = 'R2fNote' AND action = 'UPDATE'
 ORDER BY seq;
SELECT bh_audit.untag_table('pg_temp.r2f_notes');
DROP TABLE r2f_notes;
\set VERBOSITY default
