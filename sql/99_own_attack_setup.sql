-- The functions the sql/99_own_* tests share, created once before them:
-- a role's traps for code of the extension's that would run as a
-- superuser on a path reaching her pg_temp (the tests check that she
-- comes out of it no superuser), and a superuser's look-up by an
-- unqualified name.
CREATE SCHEMA regress_own;
GRANT USAGE ON SCHEMA regress_own TO PUBLIC;
-- a trigger on the role's temporary table: run as another role than the
-- session's (a superuser), it makes the session's role a superuser
CREATE FUNCTION regress_own.grab_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> session_user THEN
    EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
  END IF;
  RETURN NEW;
END $$;
-- the same, for a temporary view: in a session of WHO, also notes in SEEN
-- (su boolean) whether it runs as a superuser; returns 0
CREATE FUNCTION regress_own.grab(who name, seen regclass) RETURNS int
LANGUAGE plpgsql AS $$
BEGIN
  IF session_user = who THEN
    EXECUTE format('INSERT INTO %s SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user', seen);
  END IF;
  IF current_user <> session_user THEN
    EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
  END IF;
  RETURN 0;
END $$;
-- a superuser's immutable look-up: max(k) of the table CFG as the path
-- finds it, 0 where the path has none
CREATE FUNCTION regress_own.cfg_k(cfg text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE k int;
BEGIN
  IF pg_catalog.to_regclass(cfg) IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('SELECT max(k) FROM %s', cfg) INTO k;
  RETURN k;
END $$;
