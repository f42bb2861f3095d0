-- A function's statement on a tagged table that SUCCEEDS, during which an
-- error is raised deeper down (a trigger's or a called function's own
-- statement that names no tagged table) and caught by a PL/pgSQL handler
-- there, records a FAILURE on the tagged table: the error watch
-- (bh_pending_context_statements, capture_failure.c) skips the inner SPI
-- statements that name no tagged table and takes the function's outer
-- statement for the failing one; the handler's subtransaction abort
-- (bh_failure_subxact_abort) then records it.  The same statement sent by
-- the client records nothing (in_function), and 0de4d20 fixed the same for
-- a function's COPY ... FROM (awaited_copy) only.  Older than 0de4d20 (also
-- on bdfd49a).  docs/read-capture.md "Errors a function catches": the
-- statement went on, so no failure; expected: no FAILURE on fc.t at all.
CREATE SCHEMA fc;
CREATE TABLE fc.t (id int PRIMARY KEY, patient text, code text);
CREATE TABLE fc.plain (id int PRIMARY KEY);
INSERT INTO fc.t VALUES (1, 'p1', '12'), (2, 'p2', 'abc'), (3, 'p3', 'def');
INSERT INTO fc.plain VALUES (1);
SELECT bh_audit.tag_table('fc.t', 'FcT', 'id', 'patient');
-- a "safe cast" helper, a common idiom
CREATE FUNCTION fc.safe_int(s text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RETURN s::int; EXCEPTION WHEN invalid_text_representation THEN RETURN NULL; END $$;
CREATE FUNCTION fc.report() RETURNS bigint LANGUAGE plpgsql AS
$$ DECLARE n bigint;
BEGIN SELECT count(*) INTO n FROM fc.t WHERE fc.safe_int(code) IS NULL; RETURN n; END $$;
CREATE FUNCTION fc.trg() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  BEGIN PERFORM 1/0; EXCEPTION WHEN division_by_zero THEN NULL; END;
  BEGIN INSERT INTO fc.plain VALUES (1); EXCEPTION WHEN unique_violation THEN NULL; END;
  RETURN NEW;
END $$;
CREATE TRIGGER trg BEFORE INSERT ON fc.t FOR EACH ROW EXECUTE FUNCTION fc.trg();
CREATE FUNCTION fc.ins(i int) RETURNS void LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO fc.t VALUES (i, 'p', '1'); END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
BEGIN;
SELECT bh_audit.set_context(actor_id => 'client_select');
SELECT count(*) FROM fc.t WHERE fc.safe_int(code) IS NULL;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'client_insert');
INSERT INTO fc.t VALUES (10, 'p', '1');
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'function_select');
SELECT fc.report();
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'function_insert');
SELECT fc.ins(11);
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'do_insert');
DO $$ BEGIN INSERT INTO fc.t VALUES (12, 'p', '1'); END $$;
COMMIT;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
SELECT count(*) FROM fc.t;
