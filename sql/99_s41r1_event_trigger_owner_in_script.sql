-- An event trigger that gives every new table, view and function to the
-- application's owner role (a common DBA set-up: ddl_command_end,
-- ALTER ... OWNER TO for each of pg_event_trigger_ddl_commands()) fires
-- for each command of bh_audit's install script too, and CREATE EXTENSION
-- bh_audit then leaves the ledger, the queue, the tag catalog and every
-- function of the extension owned by that role, which is no superuser:
-- own_acl.c skips its owner check while an extension's script runs
-- (creating_extension).  The owner can grant itself any privilege on the
-- trail, or replace the extension's functions.  Right: the ownership
-- change refused (CREATE EXTENSION fails), or bh_audit's objects owned
-- by superusers after it.  (In a database of its own.)
\set VERBOSITY terse
CREATE ROLE regress_s41r1_app_owner;
CREATE DATABASE regress_s41r1_db;
\c regress_s41r1_db
\set VERBOSITY terse
CREATE FUNCTION public.give_new_objects() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF current_setting('s41r1.busy', true) = 'on' THEN RETURN; END IF;
  PERFORM set_config('s41r1.busy', 'on', true);
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
            WHERE object_type IN ('table', 'view', 'function') LOOP
    EXECUTE format('ALTER %s %s OWNER TO regress_s41r1_app_owner', r.object_type, r.object_identity);
  END LOOP;
  PERFORM set_config('s41r1.busy', 'off', true);
END $$;
CREATE EVENT TRIGGER give_new_objects ON ddl_command_end EXECUTE FUNCTION public.give_new_objects();
SET client_min_messages = error;
-- (refused, or not: what counts is who owns what is left)
DO $$
BEGIN
  CREATE EXTENSION bh_audit;
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$;
RESET client_min_messages;
SELECT count(*) AS owned_by_no_superuser
  FROM (SELECT relowner AS owner FROM pg_class
         WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'bh_audit')
        UNION ALL
        SELECT proowner FROM pg_proc
         WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'bh_audit')) o
 WHERE NOT (SELECT rolsuper FROM pg_roles WHERE oid = o.owner);
DROP EVENT TRIGGER give_new_objects;
\c contrib_regression
DROP DATABASE regress_s41r1_db;
DROP ROLE regress_s41r1_app_owner;
