-- Reads through tuple routing and of rows moved across partitions: a
-- partition tagged on its own under an untagged parent, reached through
-- the parent by INSERT ... ON CONFLICT DO UPDATE; the earlier patients of
-- a row an UPDATE moves to another partition, handed to that row's insert
-- only (not to another insert that happens to come next); the stored row
-- an ON CONFLICT DO UPDATE shows to a user's function after the
-- transaction moved it; and the memory the hand-off takes.
CREATE SCHEMA ho;
CREATE ROLE regress_ho_u1;
GRANT ALL ON SCHEMA ho TO regress_ho_u1;
-- pp: untagged parent, pp1 tagged on its own, pp2 untagged.
CREATE TABLE ho.pp (id int PRIMARY KEY, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE ho.pp1 PARTITION OF ho.pp FOR VALUES FROM (1) TO (100);
CREATE TABLE ho.pp2 PARTITION OF ho.pp FOR VALUES FROM (100) TO (200);
INSERT INTO ho.pp VALUES (1, 'pa', 'b1'), (150, 'pz', 'b150');
SELECT bh_audit.tag_table('ho.pp1', 'PP', 'id', 'patient_id');
-- lp: untagged parent, lp1 tagged on its own without write capture; lp2
-- tagged on its own with it.
CREATE TABLE ho.lp (id int PRIMARY KEY, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE ho.lp1 PARTITION OF ho.lp FOR VALUES FROM (1) TO (100);
CREATE TABLE ho.lp2 PARTITION OF ho.lp FOR VALUES FROM (100) TO (200);
INSERT INTO ho.lp VALUES (1, 'p_owner', 'x'), (101, 'p_two', 'y');
SELECT bh_audit.tag_table('ho.lp1', 'LP', 'id', 'patient_id', capture_writes => false);
SELECT bh_audit.tag_table('ho.lp2', 'LP2', 'id', 'patient_id');
-- mp: tagged partitioned table; an AFTER DELETE trigger (firing after the
-- capture trigger) writes a row of another tagged table, log (but for
-- row 2); a BEFORE
-- INSERT trigger drops rows whose body is 'vanish'.
CREATE TABLE ho.mp (id int PRIMARY KEY, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE ho.mp1 PARTITION OF ho.mp FOR VALUES FROM (1) TO (100);
CREATE TABLE ho.mp2 PARTITION OF ho.mp FOR VALUES FROM (100) TO (200);
INSERT INTO ho.mp VALUES (1, 'p_owner', 'x'), (2, 'p_two', 'y'), (3, 'p_three', 'z');
CREATE TABLE ho.log (log_id int PRIMARY KEY, patient_id text, what text);
SELECT bh_audit.tag_table('ho.mp', 'MP', 'id', 'patient_id');
SELECT bh_audit.tag_table('ho.log', 'LOG', 'log_id', 'patient_id');
CREATE FUNCTION ho.log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.id <> 2 THEN
    INSERT INTO ho.log VALUES (OLD.id, 'p_logpat', 'deleted');
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER zz_log_delete AFTER DELETE ON ho.mp FOR EACH ROW EXECUTE FUNCTION ho.log_delete();
CREATE FUNCTION ho.vanish() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.body = 'vanish' THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER vanish BEFORE INSERT ON ho.mp FOR EACH ROW EXECUTE FUNCTION ho.vanish();
-- mq: untagged parent, mq1 tagged on its own, mq2 untagged.
CREATE TABLE ho.mq (id int PRIMARY KEY, patient_id text, body text) PARTITION BY RANGE (id);
CREATE TABLE ho.mq1 PARTITION OF ho.mq FOR VALUES FROM (1) TO (100);
CREATE TABLE ho.mq2 PARTITION OF ho.mq FOR VALUES FROM (100) TO (200);
INSERT INTO ho.mq VALUES (1, 'p_owner', 'x');
SELECT bh_audit.tag_table('ho.mq1', 'MQ', 'id', 'patient_id');
-- n: a plain tagged table.
CREATE TABLE ho.n (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO ho.n SELECT g, 'p' || g, 'b' || g FROM generate_series(1, 5) g;
SELECT bh_audit.tag_table('ho.n', 'N', 'id', 'patient_id');
GRANT ALL ON ALL TABLES IN SCHEMA ho TO regress_ho_u1;
SELECT regress_reads.mark_now();

SET ROLE regress_ho_u1;
CREATE FUNCTION pg_temp.leak_text(t text) RETURNS text LANGUAGE plpgsql
AS $$BEGIN RAISE NOTICE 'LEAK %', t; RETURN t; END$$;

-- 1. ON CONFLICT DO UPDATE through an untagged parent: the stored row of
-- the partition tagged on its own that the SET list is given is read (pa);
-- pp2's (pz) is no tagged table's.
BEGIN;
INSERT INTO ho.pp VALUES (1, 'zz', 'zz'), (150, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = pg_temp.leak_text(pp.patient_id || pp.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- ... as aimed at the partition itself.
BEGIN;
INSERT INTO ho.pp1 VALUES (1, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = pg_temp.leak_text(pp1.patient_id || pp1.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- A partition tagged on its own without write capture, updated through the
-- untagged parent: its moves are not followed, the row the transaction
-- updated is read as such (rows_updated_in_transaction); as directly.
BEGIN;
INSERT INTO ho.lp VALUES (1, 'p_decoy', 'x') ON CONFLICT (id) DO UPDATE SET patient_id = excluded.patient_id;
SELECT * FROM ho.lp WHERE id = 1;
ROLLBACK;
RESET ROLE;
SELECT * FROM regress_reads.reads();
SET ROLE regress_ho_u1;
BEGIN;
INSERT INTO ho.lp1 VALUES (1, 'p_decoy', 'x') ON CONFLICT (id) DO UPDATE SET patient_id = excluded.patient_id;
SELECT * FROM ho.lp WHERE id = 1;
ROLLBACK;
RESET ROLE;
SELECT * FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- ... an insert through the parent routed elsewhere (lp2) leaves lp1
-- followed: the row the transaction inserted there reads as its own.
BEGIN;
INSERT INTO ho.lp1 VALUES (5, 'p_five', 'x');
INSERT INTO ho.lp VALUES (101, 'p_decoy', 'x') ON CONFLICT (id) DO UPDATE SET body = excluded.body;
SELECT * FROM ho.lp1;
ROLLBACK;
RESET ROLE;
SELECT * FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- An UPDATE through the parent moving a row from lp2 into lp1 (not among
-- the partitions it scans): lp1 not followed either.
BEGIN;
UPDATE ho.lp SET id = 50, patient_id = 'p_decoy' WHERE id = 101;
SELECT * FROM ho.lp WHERE id = 50;
ROLLBACK;
RESET ROLE;
SELECT * FROM regress_reads.reads();
SET ROLE regress_ho_u1;

-- 2. A row moved to another partition hands its earlier patient to its own
-- new version, not to the log row the AFTER DELETE trigger writes between.
BEGIN;
UPDATE ho.mp SET id = 150, patient_id = 'p_decoy' WHERE id = 1;
SELECT * FROM ho.mp WHERE id = 150;
SELECT * FROM ho.log;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- Two rows moved by one statement: each its own earlier patient.
BEGIN;
UPDATE ho.mp SET id = id + 100, patient_id = 'p_decoy' WHERE id IN (1, 3);
SELECT * FROM ho.mp WHERE id = 101;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
BEGIN;
UPDATE ho.mp SET id = id + 100, patient_id = 'p_decoy' WHERE id IN (1, 3);
SELECT * FROM ho.mp WHERE id = 103;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
-- No insert takes the earlier patients when the moved row's is not
-- captured: its new partition untagged; a BEFORE INSERT trigger dropping
-- it; the move rolled back to a savepoint.  The next insert is its own.
BEGIN;
UPDATE ho.mq SET id = 150 WHERE id = 1;
INSERT INTO ho.log VALUES (900, 'p_new', 'n');
SELECT * FROM ho.log;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
BEGIN;
UPDATE ho.mp SET id = 160, body = 'vanish' WHERE id = 2;
INSERT INTO ho.mp VALUES (170, 'p_new', 'n');
SELECT * FROM ho.mp WHERE id >= 100;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;
BEGIN;
SAVEPOINT s;
UPDATE ho.mq SET id = 150 WHERE id = 1;
ROLLBACK TO SAVEPOINT s;
INSERT INTO ho.log VALUES (900, 'p_new', 'n');
SELECT * FROM ho.log;
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
SET ROLE regress_ho_u1;

-- 3. The stored row ON CONFLICT DO UPDATE gives a user's function, moved
-- by the transaction to another patient: p5's record, read as p5's too.
BEGIN;
UPDATE ho.n SET patient_id = 'p_decoy' WHERE id = 5;
INSERT INTO ho.n VALUES (5, 'zz', 'zz')
  ON CONFLICT (id) DO UPDATE SET body = pg_temp.leak_text(n.patient_id || n.body);
ROLLBACK;
RESET ROLE;
SELECT action, resource_type, patient_id FROM regress_reads.reads();

-- 4. Rows moved to another partition without a change of patient leave
-- nothing behind in the transaction's memory.
CREATE TABLE ho.big (id int PRIMARY KEY, patient_id text) PARTITION BY RANGE (id);
CREATE TABLE ho.big1 PARTITION OF ho.big FOR VALUES FROM (1) TO (1000000);
CREATE TABLE ho.big2 PARTITION OF ho.big FOR VALUES FROM (1000000) TO (3000000);
INSERT INTO ho.big SELECT g, 'b' || g FROM generate_series(1, 20000) g;
SELECT bh_audit.tag_table('ho.big', 'Big', 'id', 'patient_id');
BEGIN;
UPDATE ho.big SET id = id + 1000000;
SELECT coalesce(sum(total_bytes), 0) < 65536 AS small
  FROM pg_backend_memory_contexts WHERE name = 'bh_audit moved rows';
ROLLBACK;
SELECT regress_reads.mark_now();

DROP FUNCTION pg_temp.leak_text(text);
DROP SCHEMA ho CASCADE;
DROP ROLE regress_ho_u1;
