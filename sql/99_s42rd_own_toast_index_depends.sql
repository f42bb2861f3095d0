-- ALTER INDEX ... DEPENDS ON EXTENSION of the index of a TOAST table of
-- one of bh_audit's tables (the ledger's, the queue's, the tag catalog's):
-- refused (55000) as the tables' own indexes are
-- (99_s42d_own_index_depends).  Let through, a DROP EXTENSION of the other
-- extension (no CASCADE needed) drops the TOAST index with no event, and
-- from then on every value of the table stored out of line fails
-- (XX000 "no valid index found for toast relation"): a large write batch
-- of a tagged table cannot be queued, a large event cannot be sealed.
\set VERBOSITY terse
CREATE EXTENSION pg_surgery;
SELECT c.relname AS own_table,
       regress_err(format('ALTER INDEX %s DEPENDS ON EXTENSION pg_surgery', i.indexrelid::regclass))
       LIKE '55000: cannot make index % depend on extension "pg_surgery": it is an index of bh_audit.%' AS refused
  FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid
 WHERE c.oid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                 'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass)
 ORDER BY 1;
SELECT count(*) AS extension_dependencies
  FROM pg_depend d JOIN pg_index i ON d.objid = i.indexrelid
                   JOIN pg_class c ON c.reltoastrelid = i.indrelid
 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'x'
   AND c.oid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                 'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass);
-- (undo whatever went through, before pg_surgery goes)
DO $$
DECLARE i regclass;
BEGIN
  FOR i IN SELECT x.indexrelid FROM pg_class c JOIN pg_index x ON x.indrelid = c.reltoastrelid
            WHERE c.oid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                            'bh_audit.events'::regclass, 'bh_audit.ledger_home'::regclass) LOOP
    EXECUTE format('ALTER INDEX %s NO DEPENDS ON EXTENSION pg_surgery', i);
  END LOOP;
END $$;
DROP EXTENSION pg_surgery;
-- every TOAST table of bh_audit's tables still has its index
SELECT c.relname AS own_table, count(i.indexrelid) AS toast_indexes
  FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.reltoastrelid
 WHERE c.oid IN ('bh_audit.queue'::regclass, 'bh_audit.tags'::regclass,
                 'bh_audit.events'::regclass)
 GROUP BY 1 ORDER BY 1;
