-- The Part 2 review query of docs/compliance-mapping.md, run as the
-- compliance officer (bh_audit_reader), keeps working after any role's
-- emit() sets an allowlisted metadata key part2 to a value that is not a
-- boolean: the query compares metadata.part2 with JSON true, where a
-- ::boolean cast failed the whole review ("invalid input syntax for type
-- boolean") for one event any role can write.
CREATE SCHEMA s43f;
CREATE TABLE s43f.notes (id int PRIMARY KEY, patient_id text);
INSERT INTO s43f.notes VALUES (1, 's43f_p1');
SELECT bh_audit.tag_table('s43f.notes', 'S43fNote', 'id', 'patient_id', part2 => true);
CREATE ROLE regress_s43f_app;
CREATE ROLE regress_s43f_auditor IN ROLE bh_audit_reader;
GRANT SELECT ON s43f.notes TO regress_s43f_app;
GRANT USAGE ON SCHEMA s43f TO regress_s43f_app;
SET bh_audit.metadata_allowlist = 'part2';

SET ROLE regress_s43f_app;
SELECT count(*) FROM s43f.notes;
SELECT bh_audit.emit('READ', 'S43fNote', 'r1', 's43f_p2', metadata => '{"part2": "maybe"}') IS NOT NULL AS emitted;
SELECT bh_audit.emit('READ', 'S43fNote', 'r2', 's43f_p3', metadata => '{"part2": true}') IS NOT NULL AS emitted;
RESET ROLE;
RESET bh_audit.metadata_allowlist;
SELECT bh_audit.seal() >= 0 AS sealed;

-- the documented query, as written, restricted to this file's events
SET ROLE regress_s43f_auditor;
SELECT action, resource_type, resource_id, patient_id
  FROM (
SELECT ts, actor_id, action, resource_type, resource_id, patient_id
  FROM bh_audit.events
 WHERE event -> 'metadata' -> 'part2' = 'true'::jsonb AND ts >= date_trunc('month', now())
   AND resource_type <> 'AuditConfiguration' AND outcome <> 'DENIED'
 ORDER BY ts
       ) q
 WHERE resource_type = 'S43fNote'
 ORDER BY patient_id;
RESET ROLE;

SELECT bh_audit.untag_table('s43f.notes');
DROP TABLE s43f.notes;
DROP SCHEMA s43f;
DROP ROLE regress_s43f_app;
DROP ROLE regress_s43f_auditor;
