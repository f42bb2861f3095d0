-- The ledger's append guard (bh_audit._check_append()) accepted a row
-- whose event is not a JSON object (an array, a string, a number, JSON
-- null) when its hashes continue the chain: verify_chain() passes on it,
-- but export_jsonl() stops at it for good (XX001, "its event is not a
-- JSON object": it cannot make a line of it), and an append-only ledger
-- keeps it.  The sealer never writes such an event; the guard must refuse
-- it, as it refuses a NULL event.  Each case runs in a transaction rolled
-- back afterwards.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43e_n1', 's43e_n1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq AS s43e_hs, event_hash AS s43e_hh FROM bh_audit.chain_head() \gset
-- an INSERT of the next row with this event, run in a subtransaction:
-- refused (an error) or not
CREATE FUNCTION pg_temp.append_refused(ev jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	head record;
BEGIN
	SELECT seq, event_hash INTO head FROM bh_audit.chain_head();
	INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
	VALUES (head.seq + 1, ev, 'sha256', head.event_hash,
	        bh_audit.event_hash(ev::json, head.event_hash, 'sha256'));
	RETURN false;
EXCEPTION WHEN others THEN
	RETURN true;
END $$;
-- the whole export read, or failed
CREATE FUNCTION pg_temp.export_fails() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM count(*) FROM (SELECT bh_audit.export_jsonl()) x;
	RETURN false;
EXCEPTION WHEN others THEN
	RETURN true;
END $$;

-- 0. The reference: an object continuing the chain is accepted.
BEGIN;
SELECT pg_temp.append_refused(jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)))
       AS object_refused
  FROM bh_audit.events WHERE seq = :s43e_hs;
SELECT result, pg_temp.export_fails() AS export_fails FROM bh_audit.verify_chain();
ROLLBACK;

-- 1-4. Events that are no JSON object: refused.
BEGIN;
SELECT pg_temp.append_refused('[1, 2]') AS array_refused;
ROLLBACK;
BEGIN;
SELECT pg_temp.append_refused('"an event"') AS string_refused;
ROLLBACK;
BEGIN;
SELECT pg_temp.append_refused('42') AS number_refused;
ROLLBACK;
BEGIN;
SELECT pg_temp.append_refused('null') AS json_null_refused;
ROLLBACK;

-- 5. Whatever the guard lets into the ledger, verification and the
-- export agree on it: never a chain that passes but cannot be exported.
BEGIN;
SELECT pg_temp.append_refused('[1, 2]') IS NOT NULL AS tried;
SELECT result = 'PASS' AND pg_temp.export_fails() AS passes_but_cannot_export
  FROM bh_audit.verify_chain();
ROLLBACK;
SELECT result, pg_temp.export_fails() AS export_fails FROM bh_audit.verify_chain();
