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
