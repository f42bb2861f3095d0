-- test/regress/s45g_database.sql: included (\i) by
-- sql/99_s45g_actor_roles_invisible.sql in each database it makes (one per
-- encoding): the extension, and actor_now(), the actor of an event queued
-- now, but for its subject: {} when it has no roles.  The last one, in a
-- transaction of several.
SET client_min_messages = warning;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
CREATE FUNCTION actor_now() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    actor jsonb;
BEGIN
    PERFORM bh_audit.emit('READ', 'Ctx45g', 'roles');
    SELECT e -> 'actor' INTO actor
      FROM bh_audit.pending_events() WITH ORDINALITY AS p(e, n)
     WHERE e -> 'resource' ->> 'type' = 'Ctx45g' ORDER BY n DESC LIMIT 1;
    RETURN actor - 'subject_id' - 'subject_type';
END $$;
