-- ALTER SEQUENCE of the queue's identity sequence bh_audit.queue_id_seq
-- with a negative increment is refused by bh_audit (sql/99_open_queue_sequence);
-- a statement PostgreSQL itself refuses gets PostgreSQL's error first, as
-- for any other sequence: a duplicate option (before: bh_audit's refusal,
-- read from the last INCREMENT), bounds, a cache or a type PostgreSQL
-- refuses, an OWNED BY of no table.  A negative increment PostgreSQL
-- accepts (INCREMENT without BY, with AS smallint, with MINVALUE) is still
-- bh_audit's refusal.  Nothing changes in pg_sequence.
CREATE TEMP TABLE s41e_seq AS
SELECT s.* FROM pg_sequence s WHERE s.seqrelid = 'bh_audit.queue_id_seq'::regclass;

-- PostgreSQL's own errors
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY 1 INCREMENT BY -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT -1 INCREMENT 2$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 MAXVALUE 0$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 RESTART 0$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 CACHE 0$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 AS text$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 AS smallint AS int$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 OWNED BY s41e_nothing.x$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -99999999999999999999$$);

-- accepted by PostgreSQL: bh_audit's refusal
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT -1$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -1 AS smallint$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY -2 MINVALUE -100 CACHE 5$$);
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq NO CYCLE INCREMENT BY -1$$);
-- a positive increment, a duplicate of it: PostgreSQL's error
SELECT regress_err($$ALTER SEQUENCE bh_audit.queue_id_seq INCREMENT BY 1 INCREMENT BY 1$$);
-- SET UNLOGGED is refused before PostgreSQL checks the rest of the
-- statement (docs/operations.md), but for one PostgreSQL refuses as it
-- prepares it, before anything runs: PostgreSQL's error
-- (99_s42d_own_unlogged_twice)
SELECT regress_err($$ALTER TABLE bh_audit.queue_id_seq SET UNLOGGED, SET UNLOGGED$$);

-- nothing changed
SELECT (SELECT row(s.*)::text FROM pg_sequence s
         WHERE s.seqrelid = 'bh_audit.queue_id_seq'::regclass) =
       (SELECT row(o.*)::text FROM s41e_seq o) AS sequence_unchanged;
