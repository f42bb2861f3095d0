-- PHI never leaves a tagged table through write capture: synthetic PHI
-- tokens in every column, changed, deleted, truncated and forced into
-- errors whose DETAIL quotes them, never appear in the ledger or its export.
CREATE TABLE clinic.phi (
    id          int PRIMARY KEY,
    patient     int NOT NULL,
    ssn         text UNIQUE,
    dob         text,
    name        text,
    diagnosis   text,
    note        text,
    email       text
);
SELECT bh_audit.tag_table('clinic.phi', 'ClinicalRecord', 'id', 'patient');
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

INSERT INTO clinic.phi VALUES (1, 100, 'SSN_123-45-6789', 'DOB_1990-01-01', 'PATIENT_JANE_DOE',
                               'DIAGNOSIS_BIPOLAR', 'NOTE_TEXT_I_AM_NOT_OK', 'EMAIL_jane.doe@example.com');
UPDATE clinic.phi SET note = note || ' NOTE_TEXT_I_AM_NOT_OK', diagnosis = 'DIAGNOSIS_BIPOLAR II' WHERE id = 1;
-- A unique violation whose DETAIL carries the SSN token.
INSERT INTO clinic.phi VALUES (2, 101, 'SSN_123-45-6789', NULL, NULL, NULL, NULL, NULL);
-- A type error whose message quotes the value.
INSERT INTO clinic.phi (id, patient) VALUES (3, 'PATIENT_JANE_DOE'::int);
UPDATE clinic.phi SET patient = 102 WHERE id = 1;
DELETE FROM clinic.phi WHERE id = 1;
INSERT INTO clinic.phi VALUES (4, 103, 'SSN_123-45-6789', 'DOB_1990-01-01', 'PATIENT_JANE_DOE',
                               'DIAGNOSIS_BIPOLAR', 'NOTE_TEXT_I_AM_NOT_OK', 'EMAIL_jane.doe@example.com');
TRUNCATE clinic.phi;
SELECT bh_audit.seal() >= 0 AS sealed;

-- What was captured: ids, patients, column NAMES only.
SELECT action, resource_id, patient_id, event -> 'metadata' ->> 'changed_columns' AS changed,
       outcome, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events WHERE seq > (SELECT seq FROM mark) AND resource_type = 'ClinicalRecord'
 ORDER BY outcome <> 'SUCCESS', seq;  -- failures come through the ring: their place among
                                      -- queued events depends on when they were sealed

-- No token anywhere in the ledger, in any form, or in the export.
CREATE TEMP TABLE tokens (t text);
INSERT INTO tokens VALUES ('SSN_123-45-6789'), ('123-45-6789'), ('DOB_1990-01-01'), ('PATIENT_JANE_DOE'),
    ('DIAGNOSIS_BIPOLAR'), ('NOTE_TEXT_I_AM_NOT_OK'), ('EMAIL_jane.doe@example.com'), ('jane.doe@example.com');
SELECT t AS leaked_in_events FROM tokens
 WHERE EXISTS (SELECT 1 FROM bh_audit.events e WHERE strpos(e.event::text, t) > 0);
SELECT t AS leaked_in_export FROM tokens
 WHERE EXISTS (SELECT 1 FROM bh_audit.export_jsonl() x WHERE strpos(x, t) > 0);
SELECT t AS leaked_in_queue FROM tokens
 WHERE EXISTS (SELECT 1 FROM bh_audit.queue q WHERE strpos(q.events::text, t) > 0);
-- Control: the same search finds every token where it is present.
SELECT count(*) AS found_in_control FROM tokens
 WHERE strpos('SSN_123-45-6789 DOB_1990-01-01 PATIENT_JANE_DOE DIAGNOSIS_BIPOLAR '
              'NOTE_TEXT_I_AM_NOT_OK EMAIL_jane.doe@example.com', t) > 0;
