-- PHI never leaves a tagged table through read, denial or failure capture:
-- tokens in WHERE clauses, in literals of failing statements and in the
-- errors PostgreSQL raises never appear in the ledger or its export.
CREATE TABLE rc.phi (id int PRIMARY KEY, patient_id text NOT NULL, ssn text UNIQUE,
                     dob date, name text, diagnosis text, note text, email text);
SELECT bh_audit.tag_table('rc.phi', 'ClinicalRecord', 'id', 'patient_id');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark2 AS SELECT max(seq) AS seq FROM bh_audit.events;
INSERT INTO rc.phi VALUES (1, 'pat_1', 'SSN_123-45-6789', '1990-01-01', 'PATIENT_JANE_DOE',
                           'DIAGNOSIS_BIPOLAR', 'NOTE_TEXT_I_AM_NOT_OK', 'EMAIL_jane.doe@example.com');

-- Reads that name the tokens in their conditions.
SELECT count(*) FROM rc.phi WHERE name = 'PATIENT_JANE_DOE' AND diagnosis LIKE 'DIAGNOSIS_BIPOLAR%';
SELECT count(*) FROM rc.phi WHERE note = 'NOTE_TEXT_I_AM_NOT_OK' OR email = 'EMAIL_jane.doe@example.com';
-- Failures whose messages quote the tokens.
SELECT count(*) FROM rc.phi WHERE dob = 'DOB_1990-01-01'::date;
SELECT count(*) FROM rc.phi WHERE name::int = 1;
SELECT count(*) FROM rc.phi WHERE ssn::int = 1;
SELECT count(*) FROM rc.phi WHERE email::int = 1;
INSERT INTO rc.phi VALUES (2, 'pat_2', 'SSN_123-45-6789');
UPDATE rc.phi SET id = 1 / (id - 1) WHERE note = 'NOTE_TEXT_I_AM_NOT_OK';
-- A failure in parse analysis that an exception block catches.
DO $$ BEGIN
    PERFORM count(*) FROM rc.phi WHERE dob = 'DOB_1990-01-01';
EXCEPTION WHEN invalid_datetime_format THEN NULL;
END $$;
-- Values holding quotes: PostgreSQL quotes the offending value without
-- escaping the quotes in it (jsonb, arrays and records print their strings
-- quoted), so no pairing of quotes can tell where it ends.
SELECT count(*) FROM rc.phi WHERE to_jsonb(name)::text::int = 1;
SELECT count(*) FROM rc.phi WHERE ARRAY[diagnosis || ' x']::text::int = 1;
SELECT count(*) FROM rc.phi WHERE id = 'a"NOTE_TEXT_I_AM_NOT_OK"b';
SELECT count(*) FROM rc.phi WHERE id = 'x"PATIENT_JANE_DOE';
-- Values printed bare after a colon.
SELECT count(*) FROM rc.phi WHERE dob = make_date(1990, 2, 30);
SELECT count(*) FROM rc.phi WHERE convert_from(convert_to(name, 'UTF8') || '\xe9'::bytea, 'UTF8') = '';
-- Numbers printed bare anywhere in a message (a value's index, a
-- percentile, a large object's id, a seed): emptied.
CREATE TABLE rc.phi_n (id int PRIMARY KEY, patient_id text, weight numeric, age int);
SELECT bh_audit.tag_table('rc.phi_n', 'ClinicalRecord', 'id', 'patient_id', capture_writes => false);
INSERT INTO rc.phi_n VALUES (1, 'pat_n', 72.4242, 4242);
SELECT get_byte('\x00'::bytea, age) FROM rc.phi_n;
SELECT percentile_cont(weight) WITHIN GROUP (ORDER BY age) FROM rc.phi_n GROUP BY weight;
SELECT setseed(weight) FROM rc.phi_n;
SELECT lo_get(age) FROM rc.phi_n;
SELECT set_config('work_mem', (-age)::text || 'kB', true) FROM rc.phi_n;
-- An error a parallel worker raised comes to the leader without its
-- format: nothing of its message is kept.
CREATE TABLE rc.phi_w (id int PRIMARY KEY, patient_id text, y int);
SELECT bh_audit.tag_table('rc.phi_w', 'ClinicalRecord', 'id', 'patient_id', capture_reads => false);
INSERT INTO rc.phi_w VALUES (1, 'pat_w', 1990);
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF) SELECT make_date(y, 2, 30) FROM rc.phi_w WHERE id = 1;
SELECT make_date(y, 2, 30) FROM rc.phi_w WHERE id = 1;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
-- A message composed by a function may say anything: none of it is kept.
CREATE FUNCTION rc.phi_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'note % rejected for %', NEW.note, NEW.name;
END $$;
CREATE TRIGGER phi_check BEFORE UPDATE ON rc.phi FOR EACH ROW EXECUTE FUNCTION rc.phi_check();
UPDATE rc.phi SET diagnosis = diagnosis WHERE id = 1;
DROP TRIGGER phi_check ON rc.phi;
DROP FUNCTION rc.phi_check();
-- Denials of a role that passes the tokens.
CREATE ROLE bh_phi_reader;
GRANT USAGE ON SCHEMA rc TO bh_phi_reader;
SET ROLE bh_phi_reader;
SELECT * FROM rc.phi WHERE name = 'PATIENT_JANE_DOE';
DELETE FROM rc.phi WHERE ssn = 'SSN_123-45-6789';
RESET ROLE;
REVOKE ALL ON SCHEMA rc FROM bh_phi_reader;
DROP ROLE bh_phi_reader;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, patient_id, outcome, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark2) AND resource_type = 'ClinicalRecord'
 ORDER BY action = 'CREATE' AND outcome = 'SUCCESS' DESC, seq;  -- the queued write first

CREATE TEMP TABLE tokens2 (t text);
INSERT INTO tokens2 VALUES ('SSN_123-45-6789'), ('123-45-6789'), ('DOB_1990-01-01'), ('PATIENT_JANE_DOE'),
    ('DIAGNOSIS_BIPOLAR'), ('NOTE_TEXT_I_AM_NOT_OK'), ('EMAIL_jane.doe@example.com'), ('jane.doe@example.com'), ('1990-02-30');
SELECT t AS leaked_in_events FROM tokens2
 WHERE EXISTS (SELECT 1 FROM bh_audit.events e WHERE strpos(e.event::text, t) > 0);
SELECT t AS leaked_in_export FROM tokens2
 WHERE EXISTS (SELECT 1 FROM bh_audit.export_jsonl() x WHERE strpos(x, t) > 0);
-- The numbers (checked in messages only: an event id may hold any digits).
SELECT count(*) AS numbers_in_messages FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark2) AND event -> 'outcome' ->> 'error_message' LIKE '%4242%';
-- Control: the search finds the tokens in the table itself.
SELECT count(*) AS found_in_table FROM tokens2
 WHERE EXISTS (SELECT 1 FROM rc.phi p WHERE strpos(p::text, t) > 0);
