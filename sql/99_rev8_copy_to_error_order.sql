-- COPY tagged_table TO is run as COPY (SELECT ...) TO (capture_read.c,
-- bh_rewrite_copy_to), which must refuse what PostgreSQL's COPY of the
-- table refuses, in PostgreSQL's order: COPY checks the role's privileges
-- on the table (then row-level security) before it reads its options
-- (BeginCopyTo), whereas COPY (query) TO reads its options first and
-- checks the query's privileges only as it runs.  A role without SELECT
-- must get "permission denied" (an EXPORT DENIED), as for the untagged
-- twin, not an option's error (a FAILURE); with row_security off,
-- "permission denied" too, not the row-level security refusal.
CREATE SCHEMA ceo;
CREATE TABLE ceo.t (id int, pid text, note text);
CREATE TABLE ceo.u (id int, pid text, note text);
INSERT INTO ceo.t VALUES (1, 'p1', 'x');
INSERT INTO ceo.u VALUES (1, 'p1', 'x');
ALTER TABLE ceo.t ENABLE ROW LEVEL SECURITY;
ALTER TABLE ceo.u ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON ceo.t USING (true);
CREATE POLICY p ON ceo.u USING (true);
SELECT bh_audit.tag_table('ceo.t', 'CeoT', 'id', 'pid');
CREATE ROLE regress_ceo_none;
CREATE ROLE regress_ceo_cols;
GRANT USAGE ON SCHEMA ceo TO regress_ceo_none, regress_ceo_cols;
GRANT SELECT (id, pid) ON ceo.t, ceo.u TO regress_ceo_cols;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE ceo_mark AS
SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;
GRANT SELECT ON ceo_mark TO PUBLIC;

SET ROLE regress_ceo_none;
-- the untagged twin: the privilege first
COPY ceo.u TO STDOUT (FORMAT csv, FORCE_NOT_NULL (pid));
COPY ceo.u TO STDOUT (FORMAT bogus);
-- the tagged table: the same
COPY ceo.t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (pid));
COPY ceo.t TO STDOUT (FORMAT bogus);
COPY ceo.t (id) TO STDOUT (DELIMITER 'ab');
-- row-level security off: the privilege first too
SET row_security = off;
COPY ceo.u TO STDOUT;
COPY ceo.t TO STDOUT;
RESET ROLE;
SET ROLE regress_ceo_cols;
COPY ceo.u TO STDOUT;
COPY ceo.t TO STDOUT;
RESET row_security;
RESET ROLE;

-- five COPYs of ceo.t refused for their privilege: five EXPORT DENIED
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT event -> 'action' ->> 'type' AS action, event -> 'outcome' ->> 'status' AS status,
       event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM ceo_mark) AND event -> 'metadata' ->> 'table' = 'ceo.t'
 ORDER BY seq;

SELECT bh_audit.untag_table('ceo.t');
DROP SCHEMA ceo CASCADE;
DROP ROLE regress_ceo_none, regress_ceo_cols;
