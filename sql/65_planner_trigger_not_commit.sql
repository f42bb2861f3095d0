-- 6ed01f6 counts any error raised with a trigger depth above 0 while no
-- portal runs as an error at the commit.  The planner runs with no portal:
-- an IMMUTABLE function it folds, calling a VOLATILE one whose INSERT
-- fires a row trigger that raises, fails a statement in a transaction
-- block with a trigger depth of 1.  bh_error_at_commit() takes it for the
-- commit and records a CREATE FAILURE on pt65.q, written earlier in the
-- transaction: its INSERT succeeded, the failing statement was a SELECT
-- writing no tagged table, and the ROLLBACK (not a commit) undoes it.
-- The same statement raising at depth 0 (immb), or the volatile wu() run
-- by the executor (a portal runs), records nothing.  (With SAVEPOINT and
-- ROLLBACK TO the pending failure is dropped: nothing.)  Expected: nothing.
CREATE SCHEMA pt65;
CREATE TABLE pt65.q (id int, patient text);
SELECT bh_audit.tag_table('pt65.q', 'Q65', 'id', 'patient');
CREATE TABLE pt65.u (id int);
CREATE FUNCTION pt65.urefuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'refused'; END $$;
CREATE TRIGGER ur BEFORE INSERT ON pt65.u FOR EACH ROW EXECUTE FUNCTION pt65.urefuse();
CREATE FUNCTION pt65.wu(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS
$$ BEGIN INSERT INTO pt65.u VALUES (i); RETURN 1; END $$;
CREATE FUNCTION pt65.immu(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RETURN pt65.wu(i); END $$;
CREATE FUNCTION pt65.boom(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS
$$ BEGIN RAISE EXCEPTION 'boom'; END $$;
CREATE FUNCTION pt65.immb(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RETURN pt65.boom(i); END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
BEGIN;
INSERT INTO pt65.q VALUES (43, 'x');
SELECT pt65.immu(1);
ROLLBACK;
BEGIN;
INSERT INTO pt65.q VALUES (44, 'x');
SELECT pt65.immb(1);
ROLLBACK;
BEGIN;
INSERT INTO pt65.q VALUES (45, 'x');
SELECT pt65.wu(1);
ROLLBACK;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
SELECT id FROM pt65.q ORDER BY id;
