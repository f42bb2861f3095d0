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
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || patient_id, ',') FROM bh_audit.events WHERE actor_id = 'fetcher'}),
	'READ p1', 'rows the client FETCHes are a READ');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ' ' || patient_id, ',') FROM bh_audit.events WHERE actor_id = 'exporter'}),
	'EXPORT p2', 'rows a COPY ... TO writes out are an EXPORT');
$node->stop;
done_testing();
