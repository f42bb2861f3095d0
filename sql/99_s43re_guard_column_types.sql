-- The ledger's append guard reads a row's chain columns as the types the
-- install script declares (seq bigint, event jsonb, the hashes text): with
-- one converted by a superuser (ALTER COLUMN event TYPE json once the
-- generated columns are dropped, seq TYPE numeric: recorded changes) an
-- INSERT or a restore's COPY into the ledger is refused with the error
-- the sealer and the readers give (42P16), as they refuse such a ledger;
-- before, the guard took the json text for a jsonb and the server crashed
-- (signal 11) rendering it.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.drop_generated() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	c text;
BEGIN
	FOR c IN SELECT attname FROM pg_attribute
	          WHERE attrelid = 'bh_audit.events'::regclass AND attgenerated = 's' LOOP
		EXECUTE format('ALTER TABLE bh_audit.events DROP COLUMN %I', c);
	END LOOP;
END $$;
BEGIN;
SELECT pg_temp.drop_generated();
ALTER TABLE bh_audit.events ALTER COLUMN event TYPE json;
SELECT regress_err($$INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
  VALUES (1, '{"a":1}', 'sha256', NULL, 'abc')$$);
SELECT regress_err($$INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
  VALUES (1, ' {"a":1}', 'sha256', NULL, 'abc')$$);
ROLLBACK;
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN seq TYPE numeric;
SELECT regress_err($$INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
  VALUES (1, '{"a":1}', 'sha256', NULL, 'abc')$$);
ROLLBACK;
SELECT result FROM bh_audit.verify_chain();
