-- An integrity error raised while the planner folds an IMMUTABLE function
-- (its VOLATILE callee's INSERT meets a unique constraint, no trigger)
-- fails the statement being planned, with no portal running, in a
-- transaction block: not the commit.  No failure is recorded on pt67.q,
-- written earlier in the transaction and undone by the ROLLBACK.
-- Expected: nothing.
CREATE SCHEMA pt67;
CREATE TABLE pt67.q (id int, patient text);
SELECT bh_audit.tag_table('pt67.q', 'Q67', 'id', 'patient');
CREATE TABLE pt67.k (id int PRIMARY KEY);
INSERT INTO pt67.k VALUES (1);
CREATE FUNCTION pt67.wk(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS
$$ BEGIN INSERT INTO pt67.k VALUES (i); RETURN 1; END $$;
CREATE FUNCTION pt67.immk(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RETURN pt67.wk(i); END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
BEGIN;
INSERT INTO pt67.q VALUES (43, 'x');
SELECT pt67.immk(1);
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
SELECT id FROM pt67.q ORDER BY id;
