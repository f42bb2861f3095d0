# A database created from a template holding the extension (its ledger and
# queue empty), whose own writes are queued while its sealer is elsewhere,
# is no copy of anything: its queued events were never in the template.
# Its first seal must record no ledger_continued, whatever was done to the
# database meanwhile: GRANT ... ON DATABASE or ALTER DATABASE rewrite its
# pg_database row (a newer xmin than the rows queued before), which the
# rule of home.c (bh_home_queue_copied) takes for "queued before the copy".
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};

my $node = bh_node('copy_altered', database => 'tmpl');
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('postgres', 'CREATE DATABASE plain TEMPLATE tmpl');
$node->safe_psql('postgres', 'CREATE DATABASE granted TEMPLATE tmpl');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
for my $db ('plain', 'granted')
{
	$node->safe_psql($db, q{
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
INSERT INTO notes VALUES (1, 'p1'), (2, 'p2');
});
}
# the everyday step of a new database: let the application's role in
$node->safe_psql('postgres', 'GRANT CONNECT ON DATABASE granted TO app');
$node->safe_psql('postgres', 'ALTER DATABASE granted CONNECTION LIMIT 50');

for my $db ('plain', 'granted')
{
	is($node->safe_psql($db, 'SELECT (SELECT count(*) FROM bh_audit.queue) > 0, (SELECT count(*) FROM bh_audit.events)'),
		't|0', "$db: its own events queued, its ledger empty");
	$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node->restart;
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	is($node->safe_psql($db, 'SELECT count(*) > 0 FROM bh_audit.events'), 't', "$db: sealed");
	is($node->safe_psql($db, "SELECT count(*) FROM bh_audit.events WHERE $moves"), '0',
		"$db: no continuation, nothing came from the template's queue")
	  or diag $node->safe_psql($db, "SELECT event->'metadata' FROM bh_audit.events WHERE $moves");
	bh_chain_valid($node, $db);
}

# A copy whose queue holds the template's events does record one, its own
# writes and a GRANT after them notwithstanding: the first of its writes
# found those events queued and left the home to the sealer.
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('tmpl', q{
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
INSERT INTO notes VALUES (1, 'p1');
});
$node->safe_psql('postgres', 'CREATE DATABASE copied TEMPLATE tmpl');
$node->safe_psql('copied', "INSERT INTO notes VALUES (2, 'p2')");
$node->safe_psql('postgres', 'GRANT CONNECT ON DATABASE copied TO app');
$node->append_conf('postgresql.conf', "bh_audit.database = 'copied'");
$node->restart;
$node->safe_psql('copied', 'SELECT bh_audit.seal()');
is( $node->safe_psql('copied',
		"SELECT count(*), string_agg(event->'metadata'->>'previous_database', ','),
		        string_agg(event->'metadata'->>'head_seq', ',') FROM bh_audit.events WHERE $moves"),
	'1|tmpl|0', 'copied: one continuation, from tmpl, whose queued events it holds');
bh_chain_valid($node, 'copied');

$node->stop;
done_testing();
