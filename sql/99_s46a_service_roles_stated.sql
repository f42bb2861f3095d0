-- bh_audit.service_roles makes the login a service actor only where the
-- context states neither an actor nor an actor type: an application's pool
-- login listed there, stating the clinician (bh_audit.actor_id) for each
-- request, records that clinician as human, not as a service; a stated
-- actor_type wins over the list either way.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
CREATE TABLE s46a_notes (note_id int, patient_id text);
SELECT bh_audit.tag_table('s46a_notes', 'S46aNote', 'note_id', 'patient_id');
SELECT set_config('bh_audit.service_roles', quote_ident(session_user), false) IS NOT NULL AS listed;
-- 1: nothing stated: the login, a service
INSERT INTO s46a_notes VALUES (1, 'p1');
-- 2: an actor stated: human
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_s46a');
INSERT INTO s46a_notes VALUES (2, 'p1');
COMMIT;
-- 3: an actor and its type stated: that type
BEGIN;
SELECT bh_audit.set_context(actor_id => 'etl_s46a', actor_type => 'service');
INSERT INTO s46a_notes VALUES (3, 'p1');
COMMIT;
-- 4: only the type stated, human: the login, human
BEGIN;
SET LOCAL bh_audit.actor_type = 'human';
INSERT INTO s46a_notes VALUES (4, 'p1');
COMMIT;
-- emit() alike
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_s46a');
SELECT bh_audit.emit('EXPORT', 'S46aNote', '2', 'p1') IS NOT NULL AS emitted;
COMMIT;
RESET bh_audit.service_roles;
-- 5: not listed, only the type stated, service: the login, a service
BEGIN;
SET LOCAL bh_audit.actor_type = 'service';
INSERT INTO s46a_notes VALUES (5, 'p1');
COMMIT;
-- 6: not listed, nothing stated: the login, human
INSERT INTO s46a_notes VALUES (6, 'p1');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, resource_id,
       actor_id = session_user AS actor_is_login,
       CASE WHEN actor_id = session_user THEN NULL ELSE actor_id END AS stated_actor,
       event -> 'actor' ->> 'subject_type' AS subject_type
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'S46aNote'
 ORDER BY seq;
SELECT bh_audit.untag_table('s46a_notes');
DROP TABLE s46a_notes;
