-- untag_table() of a partition that is captured through its tagged parent
-- (at any depth): refused as not tagged, with a detail naming the tagged
-- table it is captured through and a hint to untag that one; a table
-- tagged by nobody gets neither.  Nothing is untagged or recorded.
CREATE SCHEMA utp;
CREATE TABLE utp.visits (id int, pat text, d date) PARTITION BY RANGE (d);
CREATE TABLE utp.visits_2026 PARTITION OF utp.visits
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY RANGE (d);
CREATE TABLE utp.visits_2026_h1 PARTITION OF utp.visits_2026
    FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
CREATE TABLE utp.loose (id int);
SELECT bh_audit.tag_table('utp.visits', 'UtpVisit', 'id', 'pat');
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT max(seq) AS m0 FROM bh_audit.events \gset
\set VERBOSITY default
SELECT bh_audit.untag_table('utp.visits_2026');
SELECT bh_audit.untag_table('utp.visits_2026_h1');
SELECT bh_audit.untag_table('utp.loose');
\set VERBOSITY terse
-- still captured, and nothing recorded by the refusals
SELECT tbl FROM bh_audit.tagged_tables WHERE schema_name = 'utp';
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT count(*) AS recorded FROM bh_audit.events
 WHERE seq > :m0 AND resource_type = 'AuditConfiguration';
SELECT bh_audit.untag_table('utp.visits');
DROP SCHEMA utp CASCADE;
