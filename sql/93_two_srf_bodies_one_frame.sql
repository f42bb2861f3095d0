-- Two set-returning SQL functions in one FROM that the planner analyses to
-- inline them, one after the other, each under its own "SQL function ...
-- during inlining" frame, which the planner pushes at the same place of the
-- stack (same frame address, callback and argument).  Only the inlined
-- body's tables are the planned query's; a planning that then fails
-- (WHERE p.id = 1/0) records no FAILURE on a table that only the body not
-- inlined names, as sql/83 (case 1) shows for that function alone.
-- Case 5: a body inlined in a subquery the planner plans apart
-- (docs/read-capture.md: such a body is taken as inlined), with the same
-- function in the query's own FROM WITH ORDINALITY (never inlined, still a
-- function's entry): the subquery's failing planning records its FAILURE,
-- as without the other entry (case 6).
-- Case 7: the function not inlined called nine times in one FROM (more
-- entries than BhPlanBody keeps): still not inlined, nothing; as for eight
-- (case 8, control).
-- Case 9: a body inlined where the query shows no entry of it (in the copy
-- of a body the planner inlined in a subquery it plans apart), with a
-- VOLATILE function of the same text in the query's FROM (never analysed to
-- be inlined): the subquery's failing planning records its FAILURE.
-- Case 10: an IMMUTABLE SQL function of two statements, the first reading
-- secrets, folded as the query is planned (it runs: its statements are
-- analysed one after the other under one frame, then planned), the
-- query's condition failing after: its READ only, no FAILURE (sql/79).
CREATE SCHEMA tb;
CREATE TABLE tb.notes (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('tb.notes', 'TbNote', 'id', 'patient');
CREATE TABLE tb.secrets (id int PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('tb.secrets', 'TbSecret', 'id', 'patient');
INSERT INTO tb.notes VALUES (1, 'tp1', 'b1');
INSERT INTO tb.secrets VALUES (1, 'tp1', 's1');
CREATE TABLE tb.plain (id int PRIMARY KEY);
INSERT INTO tb.plain VALUES (1);
-- inlined, reads notes
CREATE FUNCTION tb.notes_inl() RETURNS SETOF tb.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM tb.notes';
-- inlined, reads the untagged table only
CREATE FUNCTION tb.plain_inl() RETURNS SETOF tb.plain LANGUAGE sql STABLE
  AS 'SELECT * FROM tb.plain';
-- never analysed to be inlined, the text of notes_inl
CREATE FUNCTION tb.notes_vol() RETURNS SETOF tb.notes LANGUAGE sql VOLATILE
  AS 'SELECT * FROM tb.notes';
-- inlined, its body calls notes_inl
CREATE FUNCTION tb.notes_outer() RETURNS SETOF tb.notes LANGUAGE sql STABLE
  AS 'SELECT * FROM tb.notes_inl()';
-- folded, two statements
CREATE FUNCTION tb.two_imm() RETURNS int LANGUAGE sql IMMUTABLE
  AS 'SELECT count(*) FROM tb.secrets; SELECT 1';
-- analysed for inlining, not inlined: the whole row as its one column
CREATE FUNCTION tb.secrets_whole() RETURNS SETOF tb.secrets LANGUAGE sql STABLE
  AS 'SELECT s FROM tb.secrets s';
EXPLAIN (COSTS OFF) SELECT a.id FROM tb.plain_inl() a, tb.secrets_whole() b;
EXPLAIN (COSTS OFF) SELECT a.id, s.id FROM tb.notes_vol() a,
  (SELECT x.id FROM tb.notes_outer() x WHERE x.id = 1 LIMIT 5) s;
EXPLAIN (COSTS OFF, VERBOSE) SELECT tb.two_imm() FROM tb.plain p;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY terse
-- 1. the inlined body first (untagged), then the one not inlined: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_1_plain_then_whole');
SELECT a.id FROM tb.plain_inl() a, tb.secrets_whole() b, tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 2. the inlined body first (notes), then the one not inlined: notes only
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_2_notes_then_whole');
SELECT a.id FROM tb.notes_inl() a, tb.secrets_whole() b, tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 3. the one not inlined first, then the inlined body (notes): notes only
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_3_whole_then_notes');
SELECT a.id FROM tb.secrets_whole() b, tb.notes_inl() a, tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 4. control, the one not inlined alone: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_4_whole_alone');
SELECT b.id FROM tb.secrets_whole() b, tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 5. the body inlined in a LIMIT subquery whose condition fails, the same
-- function in the query's FROM WITH ORDINALITY: notes
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_5_sub_ordinality');
SELECT a.id, s.id FROM tb.notes_inl() WITH ORDINALITY a,
  (SELECT x.id FROM tb.notes_inl() x WHERE x.id = 1/0 LIMIT 5) s;
COMMIT;
-- 6. control, the subquery alone: notes
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_6_sub_alone');
SELECT s.id FROM (SELECT x.id FROM tb.notes_inl() x WHERE x.id = 1/0 LIMIT 5) s;
COMMIT;
-- 7. the one not inlined, called nine times: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_7_whole_nine');
SELECT b1.id FROM tb.secrets_whole() b1, tb.secrets_whole() b2, tb.secrets_whole() b3,
  tb.secrets_whole() b4, tb.secrets_whole() b5, tb.secrets_whole() b6,
  tb.secrets_whole() b7, tb.secrets_whole() b8, tb.secrets_whole() b9,
  tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 8. control, called eight times: nothing
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_8_whole_eight');
SELECT b1.id FROM tb.secrets_whole() b1, tb.secrets_whole() b2, tb.secrets_whole() b3,
  tb.secrets_whole() b4, tb.secrets_whole() b5, tb.secrets_whole() b6,
  tb.secrets_whole() b7, tb.secrets_whole() b8,
  tb.plain p WHERE p.id = 1/0;
COMMIT;
-- 9. the body inlined in the copy of another one in a LIMIT subquery whose
-- condition fails, a VOLATILE function of its text in the query's FROM: notes
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_9_nested_volatile');
SELECT a.id, s.id FROM tb.notes_vol() a,
  (SELECT x.id FROM tb.notes_outer() x WHERE x.id = 1/0 LIMIT 5) s;
COMMIT;
-- 10. a folded function of two statements, the first reading secrets, then
-- the query's condition fails: the READ of its run, no FAILURE
BEGIN;
SELECT bh_audit.set_context(actor_id => 'tb_10_folded_two');
SELECT tb.two_imm() FROM tb.plain p WHERE p.id = 1/0;
COMMIT;
\set VERBOSITY default
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, resource_type, outcome, error_type,
       event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0
 ORDER BY seq;
