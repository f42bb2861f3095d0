# A failure at Bind of a named prepared statement on a tagged table is
# recorded as a FAILURE (read-capture.md, "At EXECUTE and at Bind"; 032),
# also when the statement was parsed under another role or search_path
# than the Bind runs with.  A driver that prepares a statement once per
# connection (pgjdbc after prepareThreshold, asyncpg, psycopg 3, pgbench
# -M prepared) and runs each request under SET ROLE (the usual way to apply
# row-level security per end user), or with search_path set per
# transaction, binds it under other settings than it was parsed with:
# PostgreSQL converts the parameters before it analyses the statement
# again, and the failure is recorded on the table its text names now.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_role');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id int, body text);
INSERT INTO notes VALUES (1, 10, 'x');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
CREATE ROLE clinician;
GRANT SELECT ON notes TO clinician;
CREATE SEQUENCE gen;
GRANT USAGE ON SEQUENCE gen TO clinician;
});
my $mark = $node->safe_psql('postgres', 'SELECT bh_audit.seal(); SELECT max(seq) FROM bh_audit.events');
$mark = (split /\n/, $mark)[-1];

# pgbench -M prepared prepares each command when it first runs it: the
# SELECT on notes is parsed in transaction 1 (as the login) and bound in
# transaction 2 (the value does not convert) after a change of $change.
for my $case (['SET ROLE clinician', 'SET ROLE'],
	['SET search_path = public, pg_catalog', 'search_path naming the same table'])
{
	my ($change, $name) = @$case;
	$node->safe_psql('postgres', "SELECT setval('gen', 1, false)");
	my $script = "SELECT nextval('public.gen') AS n \\gset\n"
	  . "SELECT CASE WHEN :n = 2 THEN 'PHI_bind_x' ELSE '1' END AS v \\gset\n"
	  . "\\if :n = 2\n$change;\n\\endif\n"
	  . "SELECT body FROM notes WHERE note_id = :v;\n";
	$node->pgbench('-n -M prepared -t 2', 2, [qr{}],
		[qr{invalid input syntax for type integer}], "$name: the second Bind fails",
		{ "116_" . ($name =~ s/\W/_/gr) => $script });
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres', qq{
SELECT string_agg(action || '|' || outcome || '|' || coalesce(error_type, '-'), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note'}),
		'READ|SUCCESS|-, READ|FAILURE|invalid_text_representation',
		"$name: the read and then the failure at Bind are recorded");
	$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
}

# The tenants of 110, both tables tagged, the statement prepared once
# (named) under tenant A's search_path and bound with a value that does
# not convert under tenant B's: PostgreSQL would run it on tb.visits
# (the plan cache analyses it again under the new search_path, after the
# Bind's parameters are converted).  No FAILURE is recorded at all.
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tb;
CREATE TABLE ta.visits (visit_id int PRIMARY KEY, patient_id text);
CREATE TABLE tb.visits (visit_id int PRIMARY KEY, patient_id text);
INSERT INTO ta.visits VALUES (1, 'pa1'); INSERT INTO tb.visits VALUES (1, 'pb1');
SELECT bh_audit.tag_table('ta.visits', 'Visit', 'visit_id', 'patient_id');
SELECT bh_audit.tag_table('tb.visits', 'Visit', 'visit_id', 'patient_id');
SELECT setval('gen', 1, false);
SELECT bh_audit.seal();
});
$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
my $script = "SELECT nextval('public.gen') AS n \\gset\n"
  . "SELECT CASE WHEN :n = 2 THEN 'PHI_bind_x' ELSE '1' END AS v \\gset\n"
  . "\\if :n = 1\nSET search_path = ta;\n\\else\nSET search_path = tb;\n\\endif\n"
  . "SELECT patient_id FROM visits WHERE visit_id = :v;\n";
$node->pgbench('-n -M prepared -t 2', 2, [qr{}],
	[qr{invalid input syntax for type integer}], 'tenants: tenant B\'s Bind fails',
	{ '116_tenants' => $script });
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || '|' || outcome || '|' || (event->'metadata'->>'table'), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Visit'}),
	'READ|SUCCESS|ta.visits, READ|FAILURE|tb.visits',
	'tenants: tenant A\'s read, then tenant B\'s failure at Bind on tb.visits');

$node->stop;
done_testing();
