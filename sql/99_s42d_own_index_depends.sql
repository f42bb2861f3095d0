-- ALTER INDEX ... DEPENDS ON EXTENSION of an index of one of bh_audit's
-- tables (the queue's or the tag catalog's primary key, the ledger's
-- indexes): a later DROP EXTENSION of that other extension drops the
-- index, without CASCADE (the ledger's indexes), or with CASCADE a primary
-- key's index and its constraint, with nothing in the chain -- where
-- dropping those constraints by ALTER TABLE is refused (on the queue and
-- the tag catalog) and the same statement on the extension's functions is
-- refused (99_s41h_own_function_extension_dep).  Refused (55000), for superusers
-- too; NO DEPENDS ON EXTENSION, an index of another table, and a role
-- that does not own the index (PostgreSQL's refusal) as before.
\set VERBOSITY terse
CREATE EXTENSION pg_surgery;
SELECT i.indexrelid::regclass AS index,
       regress_err(format('ALTER INDEX %s DEPENDS ON EXTENSION pg_surgery', i.indexrelid::regclass))
       LIKE '55000: cannot make index % depend on extension "pg_surgery": it is an index of bh_audit.%' AS refused
  FROM pg_index i
 WHERE i.indrelid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                      'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass)
 ORDER BY 1::text;
-- the error, whole
\set VERBOSITY default
ALTER INDEX bh_audit.tags_pkey DEPENDS ON EXTENSION pg_surgery;
\set VERBOSITY terse
SELECT count(*) AS extension_dependencies FROM pg_depend d JOIN pg_index i ON d.objid = i.indexrelid
 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'x'
   AND i.indrelid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                      'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass);
-- undoing one, another table's index, and no such extension: as before
ALTER INDEX bh_audit.queue_pkey NO DEPENDS ON EXTENSION pg_surgery;
CREATE TABLE s42d_plain (a int);
CREATE INDEX s42d_plain_a ON s42d_plain (a);
ALTER INDEX s42d_plain_a DEPENDS ON EXTENSION pg_surgery;
ALTER INDEX bh_audit.queue_pkey DEPENDS ON EXTENSION s42d_no_such_extension;
-- a role that does not own the index: PostgreSQL's refusal
CREATE ROLE regress_s42d_idx;
SET ROLE regress_s42d_idx;
ALTER INDEX bh_audit.queue_pkey DEPENDS ON EXTENSION pg_surgery;
RESET ROLE;
DROP ROLE regress_s42d_idx;
-- (clean up whatever happened, before pg_surgery goes)
DO $$
DECLARE i regclass;
BEGIN
  FOR i IN SELECT indexrelid FROM pg_index
            WHERE indrelid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                               'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass) LOOP
    EXECUTE format('ALTER INDEX %s NO DEPENDS ON EXTENSION pg_surgery', i);
  END LOOP;
END $$;
DROP EXTENSION pg_surgery;
-- the plain table's index went with it; bh_audit's indexes are all there
SELECT count(*) AS plain_indexes FROM pg_index WHERE indrelid = 's42d_plain'::regclass;
SELECT count(*) AS own_indexes FROM pg_index
 WHERE indrelid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                    'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass);
DROP TABLE s42d_plain;
