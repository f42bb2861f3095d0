-- ALTER TABLE ... OF a composite type, of the ledger (or its home), is
-- refused, for superusers too (0A000): a typed table's columns follow
-- ALTER TYPE ... CASCADE, which is no ALTER TABLE of the ledger, so that
-- RENAME ATTRIBUTE renamed a chain column (RENAME COLUMN is refused), ALTER
-- ATTRIBUTE ... TYPE converted one by a cast the superuser created and
-- DROP ATTRIBUTE dropped seq, none of it refused or recorded.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43re_t1', 's43re_t1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
-- a composite type with the columns of the table
CREATE FUNCTION pg_temp.type_like(tbl regclass, typ text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE (SELECT format('CREATE TYPE %s AS (%s)', typ,
	                       string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
	                                  || coalesce(' COLLATE ' || quote_ident(c.collname), ''), ', ' ORDER BY a.attnum))
	           FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 0
	          WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped);
END $$;
CREATE FUNCTION public.s43re_forge(text) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$SELECT '\x00'::bytea$$;
BEGIN;
SELECT pg_temp.type_like('bh_audit.events', 'public.s43re_lt');
SELECT pg_temp.type_like('bh_audit.ledger_home', 'public.s43re_ht');
CREATE CAST (text AS bytea) WITH FUNCTION public.s43re_forge(text) AS ASSIGNMENT;
SELECT regress_err('ALTER TABLE bh_audit.events OF public.s43re_lt');
SELECT regress_err('ALTER TABLE bh_audit.ledger_home OF public.s43re_ht');
SELECT regress_err('ALTER TYPE public.s43re_lt RENAME ATTRIBUTE event_hash TO forged_hash CASCADE');
SELECT regress_err('ALTER TYPE public.s43re_lt ALTER ATTRIBUTE prev_event_hash TYPE bytea CASCADE');
SELECT regress_err('ALTER TYPE public.s43re_lt DROP ATTRIBUTE seq CASCADE');
-- the ledger's columns as declared, its hashes as sealed
SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS chain_columns
  FROM pg_attribute WHERE attrelid = 'bh_audit.events'::regclass AND attnum BETWEEN 1 AND 5 AND NOT attisdropped;
SELECT count(*) FILTER (WHERE prev_event_hash::text = '\x00') AS forged FROM bh_audit.events;
SELECT reloftype = 0 AS untyped FROM pg_class WHERE oid = 'bh_audit.events'::regclass;
ROLLBACK;
DROP FUNCTION public.s43re_forge(text);
SELECT result FROM bh_audit.verify_chain();
