-- PostgreSQL messages that print a row's value without quotes around it: a
-- number through %d, %u, %g, %x (an index, a date's fields, a code point, a
-- byte, a transaction ID, a large object), a string through %s (an
-- encoding name, a normalization form, a dotted name, an operator), bytes
-- after a colon.  A FAILURE keeps none of the value, only the format's own
-- words; the formats whose bare strings are PostgreSQL's own words (the
-- jsonpath scanner's complaint, a jsonpath method or operator, the type of
-- a date unit or of a numeric conversion) stay readable.
CREATE SCHEMA s46d;
CREATE TABLE s46d.rec (id text PRIMARY KEY, patient_id text, body text, n int,
    big bigint, f float8, b bytea, bits varbit, j jsonb, nm numeric);
SELECT bh_audit.tag_table('s46d.rec', 'UnquotedRecord', 'id', 'patient_id');
INSERT INTO s46d.rec VALUES ('r1', 'pat_s46d', 'PHITOKEN', 918273, 91827364, 918273.5,
    '\xce20', B'101', '[1]', 'NaN');
CREATE SEQUENCE s46d.seq MAXVALUE 100;
SELECT lo_from_bytea(918273, 'x') > 0 AS large_object;
CREATE FUNCTION s46d.dyn(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    EXECUTE q INTO r;
    RETURN r;
END $$;
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark_s46d AS SELECT max(seq) AS seq FROM bh_audit.events;

\set VERBOSITY terse
-- Numbers.
SELECT to_ascii('x', n) FROM s46d.rec;
SELECT make_date(n, 13, 1) FROM s46d.rec;
SELECT make_date(-n * 10, 1, 1) FROM s46d.rec;
SELECT make_time(1, 1, f) FROM s46d.rec;
SELECT make_timestamp(n / 3, 1, 1, 1, 1, 1) FROM s46d.rec;
SELECT setseed(f) FROM s46d.rec;
SELECT percentile_cont(f) WITHIN GROUP (ORDER BY n) FROM s46d.rec GROUP BY f;
SELECT get_bit(bits, n) FROM s46d.rec;
SELECT get_byte(b, n) FROM s46d.rec;
SELECT get_bit(b, big) FROM s46d.rec;
SELECT chr(n * 10) FROM s46d.rec;
SELECT chr(55296 + n - n) FROM s46d.rec;
SELECT unistr('\+' || to_hex(n * 100)) FROM s46d.rec;
SELECT set_masklen('1.2.3.4'::inet, n) FROM s46d.rec;
SELECT trim_array(ARRAY[1, 2, 3], n) FROM s46d.rec;
SELECT array_fill(1, ARRAY[2], ARRAY[2147483647 - n + n]) FROM s46d.rec;
SELECT regexp_substr(body, 'x', -n) FROM s46d.rec;
SELECT to_tsquery('a <' || n || '> b') FROM s46d.rec;
SELECT repeat('a', n / 100)::tsvector FROM s46d.rec;
SELECT pg_xact_status(big::text::xid8) FROM s46d.rec;
SELECT setval('s46d.seq', big) FROM s46d.rec;
SELECT lo_get(n + 1) FROM s46d.rec;
SELECT loread(n, 1) FROM s46d.rec;
SELECT lo_get(n, -big, 1) FROM s46d.rec;
SELECT set_config('extra_float_digits', n::text, false) FROM s46d.rec;
SELECT s46d.dyn('SELECT 1 ORDER BY ' || n) FROM s46d.rec;
SELECT s46d.dyn('SELECT $' || n) FROM s46d.rec;
SELECT s46d.dyn('SELECT 1::numeric(' || n || ')') FROM s46d.rec;
SELECT s46d.dyn('CREATE SEQUENCE pg_temp.s START ' || n || ' MAXVALUE 5') FROM s46d.rec;
-- Bytes.
SELECT convert_from(b, 'UTF8') FROM s46d.rec;
SELECT convert_to(body || 'Ω', 'LATIN1') FROM s46d.rec;
-- Strings.
SELECT to_ascii('x', body) FROM s46d.rec;
SELECT pg_catalog.normalize('x', body) FROM s46d.rec;
SELECT (body || '.a.b.c')::regclass FROM s46d.rec;
SELECT ('a.' || body || '.c')::regtype FROM s46d.rec;
SELECT ('+++' || body)::regoper FROM s46d.rec;
SELECT pg_get_object_address('table', ARRAY[body, 'b', 'c', 'd'], '{}') FROM s46d.rec;
SELECT s46d.dyn('SELECT rec.' || body || ' FROM s46d.rec') FROM s46d.rec;
SELECT s46d.dyn('SELECT 1 FROM s46d.rec TABLESAMPLE ' || body || '(1)') FROM s46d.rec;
-- PostgreSQL's own words printed bare, the value quoted.
SELECT jsonb_path_query(j, ('$.a + ' || n || 'e')::jsonpath) FROM s46d.rec;
SELECT jsonb_path_query(j, ('$.' || body || ' ? (')::jsonpath) FROM s46d.rec;
SELECT jsonb_path_query(to_jsonb(body), '$.double()') FROM s46d.rec;
SELECT jsonb_path_query(j, '$.datetime()') FROM s46d.rec;
SELECT jsonb_path_query(to_jsonb(body), '$.keyvalue()') FROM s46d.rec;
SELECT jsonb_path_query(to_jsonb(body), '$ + 1') FROM s46d.rec;
SELECT jsonb_path_query(to_jsonb(body), '-$') FROM s46d.rec;
SELECT date_trunc(body, now()) FROM s46d.rec;
SELECT date_part(body, '1 day'::interval) FROM s46d.rec;
SELECT nm::int FROM s46d.rec;
SELECT (nm * 0)::bigint FROM s46d.rec;
SELECT ('Infinity'::numeric + n)::smallint FROM s46d.rec;
\set VERBOSITY default

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT action, error_type, event -> 'outcome' ->> 'error_message' AS message
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark_s46d) AND resource_type = 'UnquotedRecord'
   AND outcome = 'FAILURE'
 ORDER BY seq;
-- The row's values, in the forms the messages printed them.
CREATE TEMP TABLE tokens_s46d (t text);
INSERT INTO tokens_s46d VALUES ('PHITOKEN'), ('phitoken'), ('918273'), ('918274'),
    ('91827364'), ('9182730'), ('306091'), ('-9182729'), ('5792C6'), ('55296'), ('9182'),
    ('0xce'), ('0xa9'), ('.a.b.c'), ('a.phitoken'), ('+++');
SELECT t AS leaked_in_messages FROM tokens_s46d
 WHERE EXISTS (SELECT 1 FROM bh_audit.events e WHERE seq > (SELECT seq FROM mark_s46d)
                AND strpos(e.event -> 'outcome' ->> 'error_message', t) > 0);
SELECT lo_unlink(918273);
DROP SCHEMA s46d CASCADE;
