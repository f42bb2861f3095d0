-- ALTER TABLE ... SET UNLOGGED, SET UNLOGGED (or SET UNLOGGED, SET LOGGED)
-- PostgreSQL refuses whatever the table ("cannot change persistence
-- setting twice", as it prepares the subcommands, before any runs): of
-- bh_audit's tables, of the queue's identity sequence and of a tagged
-- table it gets that refusal, not bh_audit's "cannot make ... unlogged",
-- which was raised first as if the table would become unlogged.  SET
-- LOGGED, SET UNLOGGED does make a logged table unlogged: bh_audit's
-- refusal, as for a lone SET UNLOGGED.
\set VERBOSITY terse
CREATE TABLE s42d_notes (id int, patient_id text);
SELECT bh_audit.tag_table('s42d_notes', 'Note', 'id', 'patient_id');
SELECT s AS statement, regress_err(s) AS error
  FROM (VALUES
    ('ALTER TABLE bh_audit.events SET UNLOGGED, SET UNLOGGED'),
    ('ALTER TABLE bh_audit.tags SET UNLOGGED, SET LOGGED'),
    ('ALTER TABLE bh_audit.queue SET UNLOGGED, SET TABLESPACE pg_default, SET UNLOGGED'),
    ('ALTER SEQUENCE bh_audit.queue_id_seq SET UNLOGGED, SET UNLOGGED'),
    ('ALTER TABLE s42d_notes SET UNLOGGED, SET UNLOGGED'),
    -- bh_audit's refusal: the relation would become unlogged
    ('ALTER TABLE bh_audit.events SET LOGGED, SET UNLOGGED'),
    ('ALTER TABLE bh_audit.ledger_home SET UNLOGGED'),
    ('ALTER SEQUENCE bh_audit.queue_id_seq SET LOGGED, SET UNLOGGED'),
    ('ALTER TABLE s42d_notes SET LOGGED, SET UNLOGGED')) AS t(s);
-- every one is logged still
SELECT count(*) AS unlogged FROM pg_class
 WHERE oid IN ('bh_audit.events'::regclass, 'bh_audit.tags'::regclass, 'bh_audit.queue'::regclass,
               'bh_audit.queue_id_seq'::regclass, 'bh_audit.ledger_home'::regclass,
               's42d_notes'::regclass)
   AND relpersistence <> 'p';
SELECT bh_audit.untag_table('s42d_notes');
DROP TABLE s42d_notes;
