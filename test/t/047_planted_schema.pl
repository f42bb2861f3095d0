# A schema named bh_audit that is not the extension's.  The library is
# preloaded in every database, and its internal queries run as the
# bootstrap superuser: a role that may create a database (or a schema in
# one without the extension) must not get them to read relations it
# planted as bh_audit's own -- a view calling its function would run that
# function as superuser.  Nor may such a schema receive the extension.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('planted');
$node->safe_psql('postgres', q{
CREATE ROLE eve LOGIN CREATEDB;
CREATE TABLE pn (id int PRIMARY KEY, patient_id text);
INSERT INTO pn VALUES (1, 'p1');
SELECT bh_audit.tag_table('pn', 'Note', 'id', 'patient_id');
SELECT bh_audit.seal();
});
my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

# eve's database, no extension; a bh_audit schema of hers whose relations
# call her function, which notes who runs it
my $eve = $node->connstr('postgres') . ' user=eve';
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $eve,
		'-c', 'CREATE DATABASE evil'], 'eve creates a database');
my $evil = $node->connstr('evil') . ' user=eve';
sub as_eve
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('evil', $sql, connstr => $evil);
	return ($ret, $out, $err);
}
my ($ret, $out, $err) = as_eve(q{
CREATE TABLE public.calls (who name);
CREATE FUNCTION public.noted() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.calls VALUES (current_user);
  IF current_user <> 'eve' THEN EXECUTE 'ALTER ROLE eve SUPERUSER'; END IF;
  RETURN true;
END$$;
CREATE SCHEMA bh_audit;
CREATE VIEW bh_audit.tags AS
  SELECT 'public.calls'::regclass AS tbl, 'Note'::text AS resource_type,
         'who'::name AS id_column, 'who'::name AS patient_column,
         'PHI'::text AS classification, false AS part2,
         true AS capture_reads, true AS capture_writes
   WHERE public.noted();
CREATE VIEW bh_audit.queue AS SELECT 1::bigint AS id, NULL::jsonb[] AS events WHERE public.noted();
CREATE VIEW bh_audit.events AS SELECT 1::bigint AS seq WHERE public.noted();
});
is($ret, 0, 'eve plants a bh_audit schema') or diag($err);

# statements that make the library look at its catalog, record a read, a
# failure, a configuration change, a ledger read
($ret, $out, $err) = as_eve(q{
SELECT 1;
SELECT * FROM public.calls;
CREATE TABLE t2 (id int);
ALTER TABLE t2 ADD COLUMN x int;
DROP TABLE t2;
SELECT count(*) FROM bh_audit.events;
});
is($ret, 0, 'her statements run as usual') or diag($err);
as_eve('SELECT 1/0 FROM public.calls');
is($node->safe_psql('evil', 'SELECT string_agg(who, \',\') FROM public.calls'), 'eve',
	'her function ran only when she read her own view')
  ;
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'eve'"),
	'f', 'eve did not become superuser');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE seq > $mark"),
	'0', 'her planted tags recorded nothing in the ledger');

# The extension in a database whose bh_audit schema another role owns:
# that role could change or drop the extension's objects.
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $eve,
		'-c', 'CREATE DATABASE evil2'], 'eve creates another database');
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('evil2') . ' user=eve', '-c', 'CREATE SCHEMA bh_audit'],
	'with an empty bh_audit schema');
($ret, $out, $err) = $node->psql('evil2', 'CREATE EXTENSION bh_audit');
isnt($ret, 0, 'CREATE EXTENSION refuses a bh_audit schema owned by another role');
like($err, qr/ERROR:  schema "bh_audit" is owned by role "eve", not by a superuser/,
	'naming the schema and its owner');
# given to a superuser, the schema takes the extension, which then works
$node->safe_psql('evil2', 'ALTER SCHEMA bh_audit OWNER TO CURRENT_USER');
$node->safe_psql('evil2', q{
SET client_min_messages = error;
CREATE EXTENSION bh_audit;
CREATE TABLE pe (id int, patient_id text);
INSERT INTO pe VALUES (1, 'p7');
SELECT bh_audit.tag_table('pe', 'Note', 'id', 'patient_id');
SELECT * FROM pe;
});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || '/' || coalesce(patient_id, '') || '/' || (event->'metadata'->>'database'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark}),
	'READ/p7/evil2', 'and its read is recorded');

$node->stop;
done_testing();
