-- 2b6b5c4 takes a 42501 naming the COPY's table for rows routed whenever
-- CopyFromErrorCallback is anywhere on the error context stack.  A COPY
-- ... FROM run by a trigger of an OUTER COPY ... FROM (into an untagged,
-- unpartitioned table) that PostgreSQL refuses at its own privilege
-- check (the role lacks INSERT on nc.parent; file never opened) has
-- routed no row, yet the outer COPY's frame is on the stack:
-- bh_pending_context_statements() -> bh_copy_from_routing() says routed
-- and CREATE FAILURE is recorded on nc.p1.  The same inner COPY under an
-- outer INSERT, or an inner INSERT under the outer COPY, records nothing.
-- Expected: nothing for all three.
CREATE SCHEMA nc;
CREATE TABLE nc.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE nc.p1 PARTITION OF nc.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE nc.p2 PARTITION OF nc.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('nc.p1', 'NcOne', 'id', 'patient');
CREATE TABLE nc.staging (id int, patient text);
CREATE FUNCTION nc.load() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  IF NEW.id = 1 THEN COPY nc.parent FROM '/nonexistent/bh_nc_rows.txt';
  ELSE INSERT INTO nc.parent VALUES (3, 'x'); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER load BEFORE INSERT ON nc.staging FOR EACH ROW EXECUTE FUNCTION nc.load();
CREATE ROLE regress_nc_loader;
GRANT pg_read_server_files TO regress_nc_loader;
GRANT USAGE ON SCHEMA nc TO regress_nc_loader;
GRANT INSERT ON nc.staging TO regress_nc_loader;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
SET ROLE regress_nc_loader;
COPY nc.staging FROM STDIN;
1	a
\.
INSERT INTO nc.staging VALUES (1, 'a');
COPY nc.staging FROM STDIN;
2	a
\.
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE seq > :m0 AND outcome <> 'SUCCESS'
 ORDER BY seq;
DROP OWNED BY regress_nc_loader;
DROP ROLE regress_nc_loader;
-- The same inner COPY run by a SECURITY DEFINER trigger (its owner may
-- read server files but not insert into nd.parent) of an outer COPY ...
-- FROM of a table of the same name: told by the name alone, the outer
-- COPY's reading made it look past its check.  Into other.parent (another
-- schema, untagged): CREATE FAILURE on nd.p1, where the same INSERT records
-- nothing.  Into nd.parent itself, from a function (FROM PROGRAM), the
-- refusal caught by the trigger's handler and the outer COPY going on:
-- CREATE FAILURE on nd.p1, where the same INSERT records nothing.
-- Expected: nothing for those; a refusal that fails the outer COPY of
-- nd.parent (not caught) is that COPY's failure while reading its rows,
-- CREATE FAILURE on nd.p1, as the same INSERT's (from the client and from
-- a function).
CREATE SCHEMA nd;
CREATE SCHEMA other;
CREATE TABLE nd.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE nd.p1 PARTITION OF nd.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE nd.p2 PARTITION OF nd.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('nd.p1', 'NdOne', 'id', 'patient');
CREATE TABLE other.parent (id int, patient text);
CREATE ROLE regress_nd_owner;
CREATE ROLE regress_nd_loader;
GRANT pg_read_server_files TO regress_nd_owner;
GRANT USAGE ON SCHEMA nd, other TO regress_nd_owner, regress_nd_loader;
GRANT INSERT ON nd.parent, other.parent TO regress_nd_loader;
CREATE FUNCTION nd.load() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN
  IF NEW.patient = 'caught' THEN
    BEGIN
      COPY nd.parent FROM '/nonexistent/bh_nd_rows.txt';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
  ELSE
    COPY nd.parent FROM '/nonexistent/bh_nd_rows.txt';
  END IF;
  RETURN NEW;
END $$;
ALTER FUNCTION nd.load() OWNER TO regress_nd_owner;
CREATE TRIGGER load BEFORE INSERT ON nd.parent FOR EACH ROW EXECUTE FUNCTION nd.load();
CREATE TRIGGER load BEFORE INSERT ON other.parent FOR EACH ROW EXECUTE FUNCTION nd.load();
CREATE FUNCTION nd.copy_in(p text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN
  EXECUTE format('COPY nd.parent FROM PROGRAM %L (FORMAT csv)', 'echo 1,' || p);
END $$;
CREATE FUNCTION nd.insert_in(p text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN
  INSERT INTO nd.parent VALUES (1, p);
END $$;
GRANT EXECUTE ON FUNCTION nd.copy_in(text), nd.insert_in(text) TO regress_nd_loader;
SET ROLE regress_nd_loader;
BEGIN;
SELECT bh_audit.set_context('nd_other_copy');
COPY other.parent FROM STDIN;
1	a
\.
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_other_insert');
INSERT INTO other.parent VALUES (1, 'a');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_caught_copy');
SELECT nd.copy_in('caught');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_caught_insert');
SELECT nd.insert_in('caught');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_failed_copy');
SELECT nd.copy_in('a');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_failed_insert');
SELECT nd.insert_in('a');
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_client_copy');
COPY nd.parent FROM STDIN;
1	a
\.
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_client_caught_copy');
COPY nd.parent FROM STDIN;
1	caught
\.
ROLLBACK;
BEGIN;
SELECT bh_audit.set_context('nd_client_insert');
INSERT INTO nd.parent VALUES (1, 'a');
ROLLBACK;
RESET ROLE;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT actor_id, action, outcome, event -> 'metadata' ->> 'table' AS tbl
  FROM bh_audit.events
 WHERE actor_id LIKE 'nd\_%' AND outcome <> 'SUCCESS'
 ORDER BY seq;
DROP FUNCTION nd.load() CASCADE;
DROP OWNED BY regress_nd_owner, regress_nd_loader;
DROP ROLE regress_nd_owner, regress_nd_loader;
