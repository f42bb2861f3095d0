-- ALTER COLUMN ... TYPE of one of the ledger's chain columns without USING
-- but through a cast the superuser defined (CREATE CAST ... WITH FUNCTION
-- ... AS ASSIGNMENT), or to a type the superuser defined (its input
-- function makes the values): the function rewrites every sealed value,
-- as USING would, so it is refused as USING is (55000), for superusers
-- too.  A built-in cast (the repair setting a type back) is recorded.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43re_c1', 's43re_c1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE FUNCTION pg_temp.config_events() RETURNS TABLE (id text, change text, subcommands text)
LANGUAGE sql AS $$
SELECT e ->> 'event_id', e -> 'metadata' ->> 'change', e -> 'metadata' ->> 'subcommands'
  FROM (SELECT e FROM bh_audit.pending_events() e
        UNION ALL
        SELECT unnest(events) FROM bh_audit.queue) x
 WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration' $$;
CREATE FUNCTION pg_temp.recorded(stmt text) RETURNS TABLE (res text, change text, subcommands text)
LANGUAGE plpgsql AS $$
DECLARE
	before text[] := ARRAY(SELECT c.id FROM pg_temp.config_events() c);
BEGIN
	res := regress_err(stmt);
	FOR change, subcommands IN
		SELECT c.change, c.subcommands FROM pg_temp.config_events() c
		 WHERE c.id <> ALL (before)
	LOOP
		RETURN NEXT;
	END LOOP;
	IF NOT FOUND THEN
		change := NULL;
		subcommands := NULL;
		RETURN NEXT;
	END IF;
END $$;
CREATE FUNCTION public.s43re_forge(text) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$SELECT '\x00'::bytea$$;
CREATE FUNCTION public.s43re_unforge(bytea) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$SELECT 'forged'::text$$;
CREATE CAST (text AS bytea) WITH FUNCTION public.s43re_forge(text) AS ASSIGNMENT;
CREATE CAST (bytea AS text) WITH FUNCTION public.s43re_unforge(bytea) AS ASSIGNMENT;
CREATE DOMAIN public.s43re_d AS text;
CREATE TEMP TABLE s43re_hashes AS SELECT seq, event_hash FROM bh_audit.events;
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE bytea');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN prev_event_hash TYPE bytea');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg TYPE bytea');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE text');
SELECT count(*) FILTER (WHERE event_hash = 'forged') AS rewritten FROM bh_audit.events;
ROLLBACK;
-- a domain over the built-in type, a built-in cast: recorded
BEGIN;
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE public.s43re_d');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE text');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg TYPE varchar');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg TYPE text');
SELECT count(*) AS changed FROM bh_audit.events e JOIN pg_temp.s43re_hashes h USING (seq)
 WHERE e.event_hash IS DISTINCT FROM h.event_hash;
ROLLBACK;
DROP DOMAIN public.s43re_d;
DROP CAST (text AS bytea);
DROP CAST (bytea AS text);
DROP FUNCTION public.s43re_forge(text), public.s43re_unforge(bytea);
SELECT result FROM bh_audit.verify_chain();
