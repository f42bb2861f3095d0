-- A stored value that PostgreSQL prints bare -- neither quoted, nor after
-- a ": ", nor through a numeric conversion -- must not reach the ledger
-- either: every string conversion outside quotes is emptied, except in
-- formats that print only names of existing objects ("invalid input syntax
-- for type integer", "permission denied for table notes").  Forms:
-- to_ascii()'s "%s is not a valid encoding name", pg_get_object_address()'s
-- "function %s does not exist", a function name built from a column by
-- dynamic SQL, the bytes of a character another encoding lacks.
CREATE SCHEMA bs;
CREATE TABLE bs.rec (id text PRIMARY KEY, patient_id text, name text, mrn int, dob date);
SELECT bh_audit.tag_table('bs.rec', 'BareRecord', 'id', 'patient_id');
INSERT INTO bs.rec VALUES ('r1', 'pat_bs', 'PATIENT_JANE_DOE', 4815162, '1961-07-23'),
                          ('r2', 'pat_bs2', 'ΩMEGA_DOE', 4815163, '1962-08-24');
CREATE FUNCTION bs.dyn(t text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    EXECUTE 'SELECT ' || t || '(1)' INTO r;
    RETURN r;
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_bs AS SELECT max(seq) AS seq FROM bh_audit.events;

\set VERBOSITY terse
SELECT to_ascii('x', name) FROM bs.rec WHERE id = 'r1';
SELECT to_ascii('x', mrn::text) FROM bs.rec WHERE id = 'r1';
SELECT to_ascii('x', dob::text) FROM bs.rec WHERE id = 'r1';
UPDATE bs.rec SET name = to_ascii('x', name) WHERE id = 'r1';
SELECT pg_get_object_address('function', ARRAY[name], ARRAY['int']) FROM bs.rec WHERE id = 'r1';
SELECT pg_get_object_address('aggregate', ARRAY[mrn::text], ARRAY['int']) FROM bs.rec WHERE id = 'r1';
SELECT pg_get_object_address('procedure', ARRAY['bs', dob::text], '{}') FROM bs.rec WHERE id = 'r1';
SELECT bs.dyn(name) FROM bs.rec WHERE id = 'r1';
SELECT convert_to(name, 'LATIN1') FROM bs.rec WHERE id = 'r2';
-- Names of existing objects stay.
SELECT mrn + 'abc' FROM bs.rec WHERE id = 'r1';
-- A literal of the failing statement (client text) printed the same way.
SELECT * FROM bs.rec WHERE to_ascii('x', 'PATIENT_JANE_DOE') = '';
\set VERBOSITY default

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark_bs) AND resource_type = 'BareRecord' AND outcome = 'FAILURE'
 ORDER BY seq;
CREATE TEMP TABLE tokens_bs (t text);
INSERT INTO tokens_bs VALUES ('PATIENT_JANE_DOE'), ('patient_jane_doe'), ('4815162'),
    ('07-23-1961'), ('1961-07-23'), ('0xce 0xa9'), ('MEGA_DOE');
SELECT t AS leaked_in_events FROM tokens_bs
 WHERE EXISTS (SELECT 1 FROM bh_audit.events e WHERE seq > (SELECT seq FROM mark_bs)
                AND strpos(e.event::text, t) > 0);
DROP SCHEMA bs CASCADE;
