-- COPY through an UNTAGGED partitioned table (2c40427, bh_sql_is_copy_from),
-- compared with the same access by INSERT / SELECT.  Expected for each pair:
-- the same events.
CREATE SCHEMA ce;
CREATE TABLE ce.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE ce.p1 PARTITION OF ce.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE ce.p2 PARTITION OF ce.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ce.p1', 'CeOne', 'id', 'patient');
CREATE VIEW ce.v AS SELECT * FROM ce.parent;
CREATE TABLE ce.ref (id int PRIMARY KEY);
CREATE TABLE ce.child (id int, ref_id int REFERENCES ce.ref DEFERRABLE INITIALLY DEFERRED,
                       patient text) PARTITION BY RANGE (id);
CREATE TABLE ce.c1 PARTITION OF ce.child FOR VALUES FROM (0) TO (10);
CREATE TABLE ce.c2 PARTITION OF ce.child FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('ce.c1', 'CeChild', 'id', 'patient');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
-- 1. An error at the implicit commit (a deferred foreign key) of a single
-- statement whose only row went to the untagged c2: the INSERT records
-- nothing (no tagged table written); the COPY records CREATE FAILURE on
-- ce.c1, which it never wrote.  Expected: nothing for both.
INSERT INTO ce.child VALUES (15, 999, 'x');
COPY ce.child FROM STDIN;
15	999	x
\.
-- 2. COPY ... FROM run by PL/pgSQL (static, or EXECUTE) failing on a bad
-- row: nothing recorded; the same INSERT through EXECUTE records CREATE
-- FAILURE on ce.p1.  Expected: CREATE FAILURE on ce.p1 for each.
CREATE FUNCTION ce.load_copy() RETURNS void LANGUAGE plpgsql AS
$$ BEGIN EXECUTE 'COPY ce.parent FROM PROGRAM ''printf "15\tp\nabc\tp\n"'''; END $$;
CREATE FUNCTION ce.load_insert() RETURNS void LANGUAGE plpgsql AS
$$ BEGIN EXECUTE 'INSERT INTO ce.parent VALUES (15, ''p''), (1/0, ''q'')'; END $$;
BEGIN;
SELECT bh_audit.set_context('ce_fn_insert');
SELECT ce.load_insert();
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ce_fn_copy');
SELECT ce.load_copy();
ROLLBACK;
-- 3. COPY (query) TO through the parent, or a view over it, failing in
-- parse analysis: nothing recorded (it runs inside a portal), while the
-- same SELECT records READ FAILURE on ce.p1 and COPY (SELECT ... FROM
-- ce.p1 ...) TO records EXPORT FAILURE.  Expected: EXPORT FAILURE on ce.p1.
BEGIN;
SELECT bh_audit.set_context('ce_select_view');
SELECT * FROM ce.v WHERE id = 'abc';
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ce_copyto_view');
COPY (SELECT * FROM ce.v WHERE id = 'abc') TO STDOUT;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ce_copyto_parent');
COPY (SELECT * FROM ce.parent WHERE id = 'abc') TO STDOUT;
ROLLBACK;
-- 4. A role without INSERT on the parent: the INSERT's refusal records
-- nothing on ce.p1; the COPY's (same error, 42501 on "parent") records a
-- CREATE FAILURE on ce.p1.  Expected: the same as the INSERT (nothing).
CREATE ROLE regress_ce_user;
GRANT USAGE ON SCHEMA ce TO regress_ce_user;
GRANT USAGE ON SCHEMA bh_audit TO regress_ce_user;
GRANT SELECT ON ce.parent TO regress_ce_user;
SET ROLE regress_ce_user;
BEGIN;
SELECT bh_audit.set_context('ce_denied_insert');
INSERT INTO ce.parent VALUES (15, 'p');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('ce_denied_copy');
COPY ce.parent FROM STDIN;
15	p
\.
ROLLBACK;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT CASE WHEN actor_id = current_user THEN '(login)' ELSE actor_id END AS actor, action, outcome, event -> 'metadata' ->> 'table' AS tbl,
       bh_audit.validate_event(event) AS valid
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
DROP OWNED BY regress_ce_user;
DROP ROLE regress_ce_user;
