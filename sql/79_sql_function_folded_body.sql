-- The body of a SQL function that the planner analyses but does not put into the
-- query (a scalar function reading a table, which it cannot inline; an IMMUTABLE one
-- called with constants, which it folds: runs while it plans) is not the planned
-- query's: a planning that fails for another reason (WHERE id = 1/0 elsewhere in the
-- query, another folded expression) records no FAILURE on the tables of that body,
-- only the folded function's own READ; a FAILURE on them only when the error comes
-- from that body (its own statement failing, its refusal by row-level security as
-- it is prepared) or from a body the planner inlined (a set-returning function in
-- FROM).  docs/read-capture.md, "A SQL function's body".
CREATE SCHEMA fo;
CREATE ROLE fo_clerk;
GRANT USAGE ON SCHEMA fo TO fo_clerk;
CREATE TABLE fo.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('fo.notes', 'FoNote', 'id', 'patient');
INSERT INTO fo.notes VALUES (1, 'fp1', 'b1');
ALTER TABLE fo.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON fo.notes FOR SELECT USING (true);
CREATE TABLE fo.rooms (id int PRIMARY KEY, label text);
SELECT bh_audit.tag_table('fo.rooms', 'FoRoom', 'id');
INSERT INTO fo.rooms VALUES (1, 'r1');
CREATE TABLE fo.plain (id int PRIMARY KEY);
INSERT INTO fo.plain VALUES (1);
GRANT SELECT ON fo.notes, fo.rooms, fo.plain TO fo_clerk;
-- folded (IMMUTABLE, constant arguments), its statement succeeding or failing
CREATE FUNCTION fo.cnt_imm() RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT count(*) FROM fo.notes';
CREATE FUNCTION fo.dz_imm() RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT count(*) FROM fo.notes WHERE id = 1/0';
-- analysed to be inlined, not inlined (it reads a table), not folded (STABLE)
CREATE FUNCTION fo.cnt_st() RETURNS bigint LANGUAGE sql STABLE
  AS 'SELECT count(*) FROM fo.notes';
-- inlined (set-returning, STABLE, in FROM)
CREATE FUNCTION fo.rows_s() RETURNS SETOF fo.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM fo.notes';
CREATE FUNCTION fo.rooms_s() RETURNS SETOF fo.rooms LANGUAGE sql STABLE
  AS 'SELECT * FROM fo.rooms';
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fo TO fo_clerk;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
SET ROLE fo_clerk;
\set VERBOSITY terse
-- 1. folded, then the query's own condition fails: the READ only
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_1_where');
SELECT fo.cnt_imm() FROM fo.plain WHERE id = 1/0;
COMMIT;
-- 2. folded, then another folded expression fails: the READ only
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_2_expr');
SELECT fo.cnt_imm(), 1/0;
COMMIT;
-- 3. folded, the query naming another tagged table: its FAILURE, and the READ
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_3_named');
SELECT fo.cnt_imm() FROM fo.rooms WHERE id = 1/0;
COMMIT;
-- 4. analysed to be inlined, neither inlined nor run: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_4_not_inlined');
SELECT fo.cnt_st() FROM fo.plain WHERE id = 1/0;
COMMIT;
-- 5. the folded function's own statement fails: its FAILURE, once
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_5_body_fails');
SELECT fo.dz_imm() FROM fo.plain;
COMMIT;
-- 6. the folded function refused by row-level security as it starts: DENIED
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_6_body_refused');
SET LOCAL row_security = off;
SELECT fo.cnt_imm() FROM fo.plain;
COMMIT;
-- 7. an inlined body: the query reads its table, which fails with it
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_7_inlined');
SELECT n.id FROM fo.rows_s() n, fo.plain p WHERE p.id = 1/0;
COMMIT;
-- 8. the same refused as it is inlined: DENIED
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_8_inlined_refused');
SET LOCAL row_security = off;
SELECT n.id FROM fo.rows_s() n, fo.plain p WHERE p.id = 1/0;
COMMIT;
-- 9. an inlined body, then a folded one: the inlined body's table only fails
BEGIN;
SELECT bh_audit.set_context(actor_id => 'fo_9_inlined_folded');
SELECT fo.cnt_imm() FROM fo.rooms_s() r WHERE r.id = 1/0;
COMMIT;
\set VERBOSITY default
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, resource_type, outcome, error_type,
       event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
