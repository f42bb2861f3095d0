-- The tagging events name the id and patient columns as every other event
-- names a column: quoted where SQL would quote it, whatever the session's
-- quote_all_identifiers.  The rename of a tagged column names the column
-- so (metadata.column, new_column), and the chain shows which column the
-- tag reads from by matching those names with the tagging's: tag_table()'s
-- "patient,id", then its rename to "Patient Ref", then untag_table() of
-- that column must all be written alike, or a review following the column
-- through the chain loses it.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE SCHEMA "S46a Clinic";
CREATE TABLE "S46a Clinic"."Notes" ("Note Id" int, "patient,id" text, body text, plain_id int);
SELECT bh_audit.tag_table('"S46a Clinic"."Notes"', 'S46aNote', 'Note Id', 'patient,id');
ALTER TABLE "S46a Clinic"."Notes" RENAME COLUMN "patient,id" TO "Patient Ref";
SELECT bh_audit.untag_table('"S46a Clinic"."Notes"');
-- the same under quote_all_identifiers: plain names stay plain
SET quote_all_identifiers = on;
SELECT bh_audit.tag_table('"S46a Clinic"."Notes"', 'S46aNote', 'plain_id', 'body');
RESET quote_all_identifiers;
SELECT bh_audit.untag_table('"S46a Clinic"."Notes"');
-- without a patient column: none named
SELECT bh_audit.tag_table('"S46a Clinic"."Notes"', 'S46aNote', 'Note Id');
SELECT bh_audit.untag_table('"S46a Clinic"."Notes"');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, event -> 'metadata' ->> 'change' AS change,
       event -> 'metadata' ->> 'id_column' AS id_column,
       event -> 'metadata' ->> 'patient_column' AS patient_column,
       event -> 'metadata' ->> 'column' AS "column",
       event -> 'metadata' ->> 'new_column' AS new_column
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'AuditConfiguration'
 ORDER BY seq;
-- tagged_tables shows the catalog's names, as tag_table() takes them
SELECT bh_audit.tag_table('"S46a Clinic"."Notes"', 'S46aNote', 'Note Id', 'Patient Ref');
SELECT id_column, patient_column FROM bh_audit.tagged_tables
 WHERE tbl = '"S46a Clinic"."Notes"'::regclass;
SELECT bh_audit.untag_table('"S46a Clinic"."Notes"');
DROP SCHEMA "S46a Clinic" CASCADE;
