# A database created from a template holding the extension (its home names
# the template, its ledger and queue empty) whose first writes are
# committed by PREPARE TRANSACTION and COMMIT PREPARED (a two-phase commit
# coordinator's) must become the ledger's home as a plain COMMIT's make it
# (home.c bh_home_claim, t/239): the claim ran at pre-commit only, not for
# a prepared transaction, so
#  - after a GRANT on the database (a newer xmin of its pg_database row
#    than its queued rows), its sealer's first seal recorded a
#    ledger_continued from tmpl at head_seq 0, though nothing came from
#    tmpl's queue (db1: "1" continuation, not "0");
#  - a TEMPLATE copy of it, holding its queued events, recorded its
#    continuation from tmpl, a database that never held them, not from
#    the database they were queued in (copy2: "1|tmpl|0", not
#    "1|clinic2|0").
# The claim runs at COMMIT PREPARED, in that statement's transaction before
# it commits the prepared one: never at PREPARE TRANSACTION, which would
# keep the chain lock (and a deleted row of the home) until COMMIT
# PREPARED, holding up the claims of other sessions and the sealer.  So a
# prepared transaction rolled back claims nothing, and one pending holds up
# no other session's commit.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};
my $home = 'SELECT string_agg(database_name, \',\' ORDER BY database_name) FROM bh_audit.ledger_home';
my $continued = qq{SELECT count(*), string_agg(event->'metadata'->>'previous_database', ','),
  string_agg(event->'metadata'->>'head_seq', ',') FROM bh_audit.events WHERE $moves};

my $node = bh_node('home_prepared', database => 'tmpl', conf => "max_prepared_transactions = 5\n");
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');

# DB created from tmpl: its home names tmpl
sub tmpl_copy
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db TEMPLATE tmpl");
	is($node->safe_psql($db, "SELECT ($home), (SELECT count(*) FROM bh_audit.queue)"),
		'tmpl|0', "$db: its home names tmpl, its queue is empty");
	return;
}

sub seal_in
{
	my ($db) = @_;
	$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node->restart;
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	return;
}

# an event queued (as a tagged table's write queues one)
my $event = q{SELECT bh_audit.emit('READ', 'Doc', 'd1', 'p1');};
my $prepared_event = qq{
BEGIN;
$event
PREPARE TRANSACTION 'w';
COMMIT PREPARED 'w';
};

# db1: written by two-phase commits only, then GRANT
tmpl_copy('db1');
$node->safe_psql('db1', $prepared_event);
is($node->safe_psql('db1', "SELECT ($home), (SELECT count(*) > 0 FROM bh_audit.queue)"),
	'db1|t', 'db1: COMMIT PREPARED of its first queued events makes it the home');
$node->safe_psql('postgres', 'GRANT CONNECT ON DATABASE db1 TO app');
seal_in('db1');
is($node->safe_psql('db1', 'SELECT count(*) > 0 FROM bh_audit.events'), 't', 'db1: sealed');
is($node->safe_psql('db1', "SELECT count(*) FROM bh_audit.events WHERE $moves"), '0',
	'db1: no continuation, nothing came from tmpl\'s queue')
  or diag $node->safe_psql('db1', "SELECT event->'metadata' FROM bh_audit.events WHERE $moves");
bh_chain_valid($node, 'db1');

# clinic2: written by a two-phase commit, then copied with its events queued
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
tmpl_copy('clinic2');
$node->safe_psql('clinic2', $prepared_event);
$node->safe_psql('postgres', 'CREATE DATABASE copy2 TEMPLATE clinic2');
seal_in('copy2');
is($node->safe_psql('copy2', $continued), '1|clinic2|0',
	'copy2: one continuation, from clinic2, where its queued events were written');
bh_chain_valid($node, 'copy2');

# db3: a prepared transaction rolled back claims nothing; one pending holds
# up no other session's commit, which claims the home
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
tmpl_copy('db3');
$node->safe_psql('db3', qq{
BEGIN;
$event
PREPARE TRANSACTION 'r';
ROLLBACK PREPARED 'r';
});
is($node->safe_psql('db3', "SELECT ($home), (SELECT count(*) FROM bh_audit.queue)"),
	'tmpl|0', 'db3: ROLLBACK PREPARED leaves the home to tmpl');
$node->safe_psql('db3', qq{
BEGIN;
$event
PREPARE TRANSACTION 'pending';
});
my ($ret, $out, $err) = $node->psql('db3', qq{
SET lock_timeout = '5s';
$event
});
is($ret, 0, 'db3: a commit while a prepared transaction is pending does not wait for it')
  or diag $err;
is($node->safe_psql('db3', $home), 'db3', 'db3: that commit made it the home');
$node->safe_psql('db3', q{COMMIT PREPARED 'pending'});
$node->safe_psql('postgres', 'ALTER DATABASE db3 CONNECTION LIMIT 50');
seal_in('db3');
is($node->safe_psql('db3', "SELECT count(*) FROM bh_audit.events WHERE $moves"), '0',
	'db3: no continuation');
bh_chain_valid($node, 'db3');

$node->stop;
done_testing();
