# read-capture.md: rows a COPY ... TO writes out are an EXPORT, rows the
# client fetches a READ, whatever was running when the statement started: a
# cursor a function opens inside a COPY ... TO and the client then FETCHes
# is a READ; a cursor declared before a COPY ... TO whose query fetches it
# into the copy's output is an EXPORT.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('cursor_copy_action');
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'p1', 'a'), (2, 'p2', 'b');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE FUNCTION open_c() RETURNS refcursor LANGUAGE plpgsql AS $$
DECLARE c refcursor := 'c_opened'; BEGIN OPEN c FOR SELECT * FROM notes WHERE id = 1; RETURN c; END $$;
CREATE FUNCTION fetch_all(c refcursor) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r record; BEGIN LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; RETURN NEXT r.body; END LOOP; END $$;
});
$node->safe_psql('postgres', q{
BEGIN;
SET LOCAL bh_audit.actor_id = 'fetcher';
COPY (SELECT open_c()) TO STDOUT;
FETCH ALL IN c_opened;
COMMIT;
BEGIN;
SET LOCAL bh_audit.actor_id = 'exporter';
DECLARE c2 CURSOR FOR SELECT * FROM notes WHERE id = 2;
COPY (SELECT fetch_all('c2')) TO STDOUT;
COMMIT;});
# a failing statement's FAILURE names the action its reads have, either way
$node->safe_psql('postgres', q{
CREATE FUNCTION fetch_ids(c refcursor) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r record; BEGIN LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; RETURN NEXT r.id::text; END LOOP; END $$;
CREATE FUNCTION open_failing() RETURNS refcursor LANGUAGE plpgsql AS $$
DECLARE c refcursor := 'c_failing';
BEGIN OPEN c FOR SELECT id, 1 / (id - 13) AS z FROM notes_more WHERE id BETWEEN 11 AND 15 ORDER BY id; RETURN c; END $$;
CREATE TABLE notes_more (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes_more SELECT g, 'p' || g, 'x' FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('notes_more', 'NoteMore', 'id', 'patient_id');
});
my ($rc, $out, $err) = $node->psql('postgres', q{
BEGIN;
SET LOCAL bh_audit.actor_id = 'failing_export';
DECLARE cf CURSOR FOR SELECT id, 1 / (id - 3) AS z FROM notes_more WHERE id BETWEEN 1 AND 5 ORDER BY id;
COPY (SELECT fetch_ids('cf')) TO STDOUT;
ROLLBACK;});
like($err, qr/division by zero/, 'the export fails');
($rc, $out, $err) = $node->psql('postgres', q{
BEGIN;
SET LOCAL bh_audit.actor_id = 'failing_read';
COPY (SELECT open_failing()) TO STDOUT;
FETCH ALL IN c_failing;
ROLLBACK;});
like($err, qr/division by zero/, 'the fetch fails');
# a cursor WITH HOLD is read at its transaction's commit, which stores its rows
$node->safe_psql('postgres', q{
BEGIN;
SET LOCAL bh_audit.actor_id = 'held';
DECLARE ch CURSOR WITH HOLD FOR SELECT * FROM notes_more WHERE id = 10;
COMMIT;
COPY (SELECT fetch_ids('ch')) TO STDOUT;
CLOSE ch;});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || coalesce(patient_id, '-') || ' ' || outcome, ',' ORDER BY seq)
  FROM bh_audit.events WHERE actor_id = 'failing_export'}),
	'EXPORT p1 SUCCESS,EXPORT p2 SUCCESS,EXPORT p3 SUCCESS,EXPORT - FAILURE',
	"a failing export's FAILURE is an EXPORT, as its reads");
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || coalesce(patient_id, '-') || ' ' || outcome, ',' ORDER BY seq)
  FROM bh_audit.events WHERE actor_id = 'failing_read'}),
	'READ p11 SUCCESS,READ p12 SUCCESS,READ p13 SUCCESS,READ - FAILURE',
	"a failing fetch's FAILURE is a READ, as its reads");
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || patient_id, ',') FROM bh_audit.events WHERE actor_id = 'held'}),
	'READ p10', 'a cursor WITH HOLD is read at its commit, not by the COPY that fetches it later');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || patient_id, ',') FROM bh_audit.events WHERE actor_id = 'fetcher'}),
	'READ p1', 'rows the client FETCHes are a READ');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || patient_id, ',') FROM bh_audit.events WHERE actor_id = 'exporter'}),
	'EXPORT p2', 'rows a COPY ... TO writes out are an EXPORT');
$node->stop;
done_testing();
