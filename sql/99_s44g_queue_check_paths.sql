-- The queue's row trigger queue_objects_only (bh_audit._check_queued())
-- checks every row that reaches bh_audit.queue through the executor, by
-- whichever statement: INSERT ... ON CONFLICT DO UPDATE (the proposed row,
-- and the row the update makes), MERGE (its INSERT and its UPDATE), an
-- INSERT ... SELECT, a data-modifying WITH, a function's INSERT; a
-- DELETE is not checked.  Its hiding of a COPY's line from the error's
-- context concerns a COPY into the queue only: a COPY into another table
-- whose trigger writes into the queue keeps its own line in the context.
-- Everything here runs in transactions rolled back: the sealer never
-- sees these rows.
CREATE FUNCTION pg_temp.outcome(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'accepted';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT count(*) AS s44g_rows FROM bh_audit.queue WHERE id BETWEEN 44700 AND 44799;

BEGIN;
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES (44701, ARRAY['{}'::jsonb]);
-- 1. INSERT ... ON CONFLICT DO UPDATE: the row the update makes is
-- checked, and so is the proposed row (BEFORE INSERT fires before the
-- conflict is found), DO NOTHING too.
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  VALUES (44701, ARRAY['{}'::jsonb]) ON CONFLICT (id) DO UPDATE SET events = ARRAY['7'::jsonb]$$);
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  VALUES (44701, ARRAY['{}', '"x"'::jsonb]) ON CONFLICT (id) DO UPDATE SET events = ARRAY['{}'::jsonb]$$);
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  VALUES (44701, ARRAY['[]'::jsonb]) ON CONFLICT (id) DO NOTHING$$);
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  VALUES (44701, ARRAY['{}'::jsonb]) ON CONFLICT (id) DO UPDATE SET events = ARRAY['{"a": 1}'::jsonb]$$);
SELECT id, events FROM bh_audit.queue WHERE id >= 44700 ORDER BY id;

-- 2. MERGE: its UPDATE and its INSERT are checked; its DELETE is not.
SELECT pg_temp.outcome($$MERGE INTO bh_audit.queue q
  USING (VALUES (44701::bigint, ARRAY['true'::jsonb])) s(id, events) ON q.id = s.id
  WHEN MATCHED THEN UPDATE SET events = s.events$$);
SELECT pg_temp.outcome($$MERGE INTO bh_audit.queue q
  USING (VALUES (44702::bigint, ARRAY['null'::jsonb])) s(id, events) ON q.id = s.id
  WHEN NOT MATCHED THEN INSERT (id, events) OVERRIDING SYSTEM VALUE VALUES (s.id, s.events)$$);
SELECT pg_temp.outcome($$MERGE INTO bh_audit.queue q
  USING (VALUES (44701::bigint, ARRAY['{"b": 2}'::jsonb]), (44702, ARRAY['{"c": 3}'::jsonb])) s(id, events)
     ON q.id = s.id
  WHEN MATCHED THEN UPDATE SET events = s.events
  WHEN NOT MATCHED THEN INSERT (id, events) OVERRIDING SYSTEM VALUE VALUES (s.id, s.events)$$);
SELECT id, events FROM bh_audit.queue WHERE id >= 44700 ORDER BY id;
SELECT pg_temp.outcome($$MERGE INTO bh_audit.queue q
  USING (VALUES (44702::bigint)) s(id) ON q.id = s.id
  WHEN MATCHED THEN DELETE$$);

-- 3. INSERT ... SELECT, a data-modifying WITH, a function's INSERT.
SELECT pg_temp.outcome($$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  SELECT 44702 + n, ARRAY[CASE WHEN n = 3 THEN '3'::jsonb ELSE '{}' END] FROM generate_series(1, 3) n$$);
SELECT pg_temp.outcome($$WITH w AS (INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
  VALUES (44706, ARRAY['"w"'::jsonb]) RETURNING id) SELECT * FROM w$$);
CREATE FUNCTION pg_temp.s44g_queue(bigint, jsonb[]) RETURNS void LANGUAGE sql
AS $$INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES ($1, $2)$$;
SELECT pg_temp.outcome($$SELECT pg_temp.s44g_queue(44707, ARRAY['{}', '1.5']::jsonb[])$$);
SELECT id, events FROM bh_audit.queue WHERE id >= 44700 ORDER BY id;
ROLLBACK;

-- 4. A COPY into another table whose row trigger writes into the queue:
-- the queue's refusal (caught by the trigger) leaves that COPY's line in
-- the context of a later error on the same line (its own CHECK, after
-- BEFORE triggers).
CREATE TABLE s44g_staging (id bigint CHECK (id < 44790), events jsonb[]);
CREATE FUNCTION s44g_push() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE VALUES (NEW.id, NEW.events);
    EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'queue refused: %', SQLERRM;
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER s44g_push BEFORE INSERT ON s44g_staging FOR EACH ROW EXECUTE FUNCTION s44g_push();
\set VERBOSITY default
BEGIN;
COPY s44g_staging FROM STDIN;
44795	{"\\"staged\\""}
\.
ROLLBACK;
-- and a COPY into the queue itself (here FROM PROGRAM), the line it
-- refuses shown without its data
BEGIN;
COPY bh_audit.queue (id, events) FROM PROGRAM $$printf '44712\t{"{}"}\n44713\t{"{}","\\\\"hidden\\\\""}\n'$$;
ROLLBACK;
\set VERBOSITY terse
DROP TABLE s44g_staging;
DROP FUNCTION s44g_push();
SELECT count(*) AS s44g_rows FROM bh_audit.queue WHERE id BETWEEN 44700 AND 44799;
