-- set_context(roles => ...): a NULL element is skipped, as an element of
-- blanks is; an array of several dimensions gives its elements in their
-- stored order (as unnest() does).  What the events take is what the
-- setting then holds.
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_s46m', roles => ARRAY[NULL, 'nurse', NULL, ' lead ', '  ']);
SELECT current_setting('bh_audit.actor_roles') AS roles;
SELECT bh_audit.emit('READ', 'S46mThing', '1') IS NOT NULL AS emitted;
SELECT e -> 'actor' -> 'roles' AS event_roles FROM bh_audit.pending_events() e;
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context(roles => ARRAY[['a', 'b'], ['c', NULL]]);
SELECT current_setting('bh_audit.actor_roles') AS roles;
SELECT bh_audit.emit('READ', 'S46mThing', '2') IS NOT NULL AS emitted;
SELECT e -> 'actor' -> 'roles' AS event_roles FROM bh_audit.pending_events() e;
ROLLBACK;
-- only NULLs: no roles
BEGIN;
SELECT bh_audit.set_context(roles => ARRAY[NULL, NULL]::text[]);
SELECT current_setting('bh_audit.actor_roles') AS roles;
SELECT bh_audit.emit('READ', 'S46mThing', '3') IS NOT NULL AS emitted;
SELECT e -> 'actor' ? 'roles' AS has_roles FROM bh_audit.pending_events() e;
ROLLBACK;
