-- ALTER TRIGGER ... DEPENDS ON EXTENSION of one of the extension's own
-- triggers (the ledger's append-only guard, the tag catalog's notice to
-- every session's tag cache), followed by DROP EXTENSION of that other
-- extension, which drops the trigger with it, without CASCADE: the guard
-- is gone as surely as by DROP TRIGGER, which is recorded ("drop a ledger
-- trigger").  The same statement on a capture trigger is recorded ("make
-- the capture trigger depend on an extension").  So must this be: at the
-- ALTER, or at the drop.  (Run in a transaction that is rolled back: the
-- held events are read with pending_events().)
\set VERBOSITY terse
CREATE EXTENSION pg_surgery;
BEGIN;
ALTER TRIGGER events_append_only ON bh_audit.events DEPENDS ON EXTENSION pg_surgery;
ALTER TRIGGER tags_changed ON bh_audit.tags DEPENDS ON EXTENSION pg_surgery;
DROP EXTENSION pg_surgery;
-- both triggers are gone
SELECT tgname FROM pg_trigger
 WHERE tgname IN ('events_append_only', 'tags_changed') ORDER BY 1;
SELECT tbl, problem FROM bh_audit.capture_status()
 WHERE tbl IN ('bh_audit.events'::regclass, 'bh_audit.tags'::regclass) ORDER BY 1;
-- and the chain must say so: one event at least for each
SELECT t.trigger,
       (SELECT count(*) FROM bh_audit.pending_events() e
         WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration'
           AND e -> 'metadata' ->> 'trigger' = t.trigger) > 0 AS recorded
  FROM (VALUES ('events_append_only'), ('tags_changed')) AS t(trigger) ORDER BY 1;
ROLLBACK;
DROP EXTENSION pg_surgery;
-- the triggers are back
SELECT tgname FROM pg_trigger
 WHERE tgname IN ('events_append_only', 'tags_changed') ORDER BY 1;
