-- A change to the definition of the ledger (bh_audit.events) or of the
-- ledger's home: each ALTER TABLE changing its columns, their defaults or
-- types, or its constraints is recorded (an AuditConfiguration event of
-- the table, naming the subcommands), as a change to its triggers is: a
-- change of a column rewrites its stored values, a default runs inside
-- the sealer's writes.  What the sealer would run and could fail on (an
-- index: CREATE INDEX, a UNIQUE or EXCLUDE constraint, whose expression or
-- uniqueness failing in a batch stops sealing, or has its events taken
-- for bad data), statistics and a rule (a DO INSTEAD rule sends a
-- restore's rows elsewhere) are refused, as on the queue and the tag
-- catalog (0A000).  A conversion by USING of one of the chain's columns
-- (seq, event, hash_alg, prev_event_hash, event_hash) is refused, for
-- superusers too (55000); without USING, and of a column the superuser
-- added, it is recorded.  A subcommand that attaches nothing (SET
-- STATISTICS) is not recorded.  Each case runs in a transaction rolled
-- back afterwards.
\set VERBOSITY terse
SELECT bh_audit.emit('READ', 'Patient', 's43g_d1', 's43g_d1') IS NOT NULL AS emitted;
SELECT bh_audit.seal() >= 0 AS sealed;
-- the configuration events held by this transaction, in memory or
-- written to the queue already
CREATE FUNCTION pg_temp.config_events() RETURNS TABLE (id text, change text, subcommands text)
LANGUAGE sql AS $$
SELECT e ->> 'event_id', e -> 'metadata' ->> 'change', e -> 'metadata' ->> 'subcommands'
  FROM (SELECT e FROM bh_audit.pending_events() e
        UNION ALL
        SELECT unnest(events) FROM bh_audit.queue) x
 WHERE e -> 'resource' ->> 'type' = 'AuditConfiguration' $$;
-- the events of the statement: the change and its subcommands
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
CREATE FUNCTION public.s43g_boom(jsonb) RETURNS int LANGUAGE sql IMMUTABLE
  AS 'SELECT 1';

BEGIN;
-- an index, a rule, statistics, a unique or exclusion constraint: refused
SELECT * FROM pg_temp.recorded('CREATE INDEX s43g_i ON bh_audit.events (public.s43g_boom(event))');
SELECT * FROM pg_temp.recorded('CREATE UNIQUE INDEX s43g_u ON bh_audit.events (hash_alg)');
SELECT * FROM pg_temp.recorded('CREATE RULE s43g_r AS ON INSERT TO bh_audit.events DO INSTEAD NOTHING');
SELECT * FROM pg_temp.recorded('CREATE STATISTICS s43g_s ON seq, hash_alg FROM bh_audit.events');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD CONSTRAINT s43g_uc UNIQUE (hash_alg)');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD EXCLUDE USING btree (hash_alg WITH =)');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD COLUMN note text DEFAULT ''n/a'' UNIQUE');
SELECT * FROM pg_temp.recorded('CREATE INDEX s43g_hi ON bh_audit.ledger_home (database_oid)');
-- a CHECK constraint, a default: recorded
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD CONSTRAINT s43g_c CHECK (seq > 0)');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events DROP CONSTRAINT s43g_c');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD COLUMN note text, ALTER COLUMN note SET DEFAULT ''n/a''');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN note DROP DEFAULT');
-- a column the superuser added: converted by USING, recorded
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN note TYPE varchar USING ''x''');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events DROP COLUMN note');
-- a chain column without USING (and back: the repair), a generated one
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg TYPE varchar');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg TYPE text');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN resource_id TYPE varchar');
-- the primary key dropped, and added back (the repair of a changed key)
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events DROP CONSTRAINT events_pkey');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ADD PRIMARY KEY (seq)');
-- nothing attached: not recorded
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.events ALTER COLUMN hash_alg SET STATISTICS 10');
-- the ledger's home
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.ledger_home ADD COLUMN note text DEFAULT ''x''');
ROLLBACK;

-- a conversion by USING of each chain column: refused, nothing recorded
BEGIN;
SELECT c, r.*
  FROM unnest(ARRAY['seq bigint', 'event jsonb', 'hash_alg text', 'prev_event_hash text',
                    'event_hash text']) AS c,
       pg_temp.recorded(format('ALTER TABLE bh_audit.events ALTER COLUMN %s TYPE %s USING %s',
                               split_part(c, ' ', 1), split_part(c, ' ', 2), split_part(c, ' ', 1))) r;
ROLLBACK;
-- the error, whole
\set VERBOSITY default
ALTER TABLE bh_audit.events ALTER COLUMN event_hash TYPE text USING lower(event_hash);
CREATE INDEX s43g_i ON bh_audit.events (public.s43g_boom(event));
\set VERBOSITY terse

-- the queue and the tag catalog: refused as before
BEGIN;
SELECT * FROM pg_temp.recorded('CREATE INDEX s43g_qi ON bh_audit.queue (id)');
SELECT * FROM pg_temp.recorded('ALTER TABLE bh_audit.tags ADD COLUMN note text');
ROLLBACK;

-- a role that does not own the ledger: PostgreSQL's refusal, nothing recorded
CREATE ROLE regress_s43g_plain;
GRANT USAGE ON SCHEMA bh_audit TO regress_s43g_plain;
BEGIN;
CREATE TEMP TABLE s43g_before AS SELECT id FROM pg_temp.config_events();
SET LOCAL ROLE regress_s43g_plain;
SELECT regress_err('ALTER TABLE bh_audit.events ADD COLUMN note text') AS not_owner;
RESET ROLE;
SELECT count(*) AS recorded FROM pg_temp.config_events() WHERE id NOT IN (SELECT id FROM s43g_before);
ROLLBACK;
REVOKE USAGE ON SCHEMA bh_audit FROM regress_s43g_plain;
DROP ROLE regress_s43g_plain;
DROP FUNCTION public.s43g_boom(jsonb);
SELECT result FROM bh_audit.verify_chain();
