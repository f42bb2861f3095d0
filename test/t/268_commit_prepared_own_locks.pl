# COMMIT PREPARED of a prepared transaction that holds a lock on one of the
# extension's tables (ALTER TABLE ... SET TABLESPACE or CLUSTER of
# bh_audit.events, operations.md "Rewriting or moving the ledger"; the same
# of bh_audit.ledger_home) must commit it.  The home's claim that COMMIT
# PREPARED makes first, in its own transaction (utility.c, home.c
# bh_home_claim(true)), opened bh_audit.ledger_home, then bh_audit.events
# and bh_audit.queue, waiting for their locks: the prepared transaction it
# was about to commit held them, and never lets go (no deadlock is seen: a
# prepared transaction waits for nothing).  Only lock_timeout ended the
# wait, and every new session's COMMIT PREPARED waited again: the
# transaction could only be rolled back.  The same when another session
# waits for such a lock behind the prepared transaction (a DROP EXTENSION
# or a VACUUM FULL of the queue waiting for a two-phase commit's queued
# events), and with a row lock on the home's row (SELECT ... FOR UPDATE)
# held by the prepared transaction, for the claim's delete of the row.
# Now every lock of that claim is taken only if free, and with one not
# free it claims nothing: the home still names the template after the
# COMMIT PREPARED, and a later commit that queues events claims it (the
# prepared transaction's queued row is the database's own, not one a copy
# brought).  The same while another session holds the chain lock (a
# restore of queue rows, left open).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# the sealer in postgres; tmpl holds the extension (its home names it)
my $node = bh_node('commit_prepared_locks', conf => "max_prepared_transactions = 5\n");
$node->safe_psql('postgres', 'CREATE DATABASE tmpl');
$node->safe_psql('tmpl', 'CREATE EXTENSION bh_audit');

# an event queued (as a tagged table's write queues one)
my $event = q{SELECT bh_audit.emit('READ', 'Doc', 'd1', 'p1');};

# commit the prepared transaction gid in db, at most 5 s of lock waits
sub commit_prepared
{
	my ($db, $gid, $what) = @_;
	my ($ret, $out, $err) = $node->psql($db, qq{
SET lock_timeout = '5s';
COMMIT PREPARED '$gid';
});
	is($ret, 0, "$db: COMMIT PREPARED of $what commits it") or diag $err;
	is($node->safe_psql($db, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = '$gid'"),
		'0', "$db: $what is no longer pending");
	$node->safe_psql($db, "ROLLBACK PREPARED '$gid'") if $ret != 0;
	return;
}

# a database created from tmpl: its home names tmpl, its ledger is empty
$node->safe_psql('postgres', 'CREATE DATABASE db1 TEMPLATE tmpl');
is($node->safe_psql('db1', 'SELECT database_name FROM bh_audit.ledger_home'),
	'tmpl', 'db1: its home names tmpl');
$node->safe_psql('db1', q{
BEGIN;
ALTER TABLE bh_audit.events SET TABLESPACE pg_default;
PREPARE TRANSACTION 'move_ledger';
});
commit_prepared('db1', 'move_ledger', 'a move of the ledger');
is($node->safe_psql('db1', 'SELECT database_name FROM bh_audit.ledger_home'),
	'tmpl', 'db1: that COMMIT PREPARED claimed nothing (the ledger\'s lock was held)');
$node->safe_psql('db1', $event);
is($node->safe_psql('db1', 'SELECT database_name FROM bh_audit.ledger_home'),
	'db1', 'db1: a later commit that queued events claimed the home');

$node->safe_psql('postgres', 'CREATE DATABASE db2 TEMPLATE tmpl');
$node->safe_psql('db2', q{
BEGIN;
CLUSTER bh_audit.events USING events_pkey;
PREPARE TRANSACTION 'cluster_ledger';
});
commit_prepared('db2', 'cluster_ledger', 'a CLUSTER of the ledger');

# tmpl: its home names itself (its CREATE EXTENSION); the home's table moved
is($node->safe_psql('tmpl', 'SELECT database_name FROM bh_audit.ledger_home'),
	'tmpl', 'tmpl: its home names itself');
$node->safe_psql('tmpl', q{
BEGIN;
ALTER TABLE bh_audit.ledger_home SET TABLESPACE pg_default;
PREPARE TRANSACTION 'move_home';
});
commit_prepared('tmpl', 'move_home', 'a move of the home\'s table');

# db3: a prepared transaction holding queued events (a two-phase commit's,
# as in t/256), a DROP EXTENSION waiting for it (for the queue): the
# claim's read of the queue waits behind the drop, which waits for the
# prepared transaction, which waits for the COMMIT PREPARED (no deadlock
# seen either).  Its COMMIT PREPARED let the drop through before.
# The same with a VACUUM FULL of the queue waiting (operations.md: how to
# reclaim the queue's space) in db4.
foreach my $case (['db3', 'DROP EXTENSION bh_audit', 'a drop'],
	['db4', 'VACUUM FULL bh_audit.queue', 'a VACUUM FULL of the queue'])
{
	my ($db, $stmt, $what) = @$case;
	$node->safe_psql('postgres', "CREATE DATABASE $db TEMPLATE tmpl");
	$node->safe_psql($db, qq{
BEGIN;
$event
PREPARE TRANSACTION 'events_pending';
});
	my $waiter = $node->background_psql($db, on_error_stop => 0);
	$waiter->query_safe(q{SET lock_timeout = '60s'});
	$waiter->query_until(qr/started/, "\\echo started\n$stmt;\n");
	ok( $node->poll_query_until($db,
			q{SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'}),
		"$db: $what waits for the prepared transaction");
	commit_prepared($db, 'events_pending', "a transaction holding events while $what waits");
	$waiter->quit;
}
# db4's queue holds the prepared transaction's row, claimed by no one: its
# own, not copied, so the next commit claims the home all the same
is($node->safe_psql('db4', 'SELECT (SELECT database_name FROM bh_audit.ledger_home), (SELECT count(*) FROM bh_audit.queue)'),
	'tmpl|1', 'db4: the COMMIT PREPARED behind the VACUUM FULL claimed nothing');
$node->safe_psql('db4', $event);
is($node->safe_psql('db4', 'SELECT database_name FROM bh_audit.ledger_home'),
	'db4', 'db4: a later commit that queued events claimed the home');

# db5: a row lock on the home's row, taken by the prepared transaction (a
# superuser's SELECT ... FOR UPDATE): the claim's delete of that row would
# wait for it
$node->safe_psql('postgres', 'CREATE DATABASE db5 TEMPLATE tmpl');
$node->safe_psql('db5', q{
BEGIN;
SELECT database_name FROM bh_audit.ledger_home FOR UPDATE;
PREPARE TRANSACTION 'lock_home_row';
});
commit_prepared('db5', 'lock_home_row', 'a transaction holding a row lock on the home');
is($node->safe_psql('db5', 'SELECT database_name FROM bh_audit.ledger_home'),
	'tmpl', 'db5: that COMMIT PREPARED claimed nothing (the home\'s row was locked)');

# db6: the chain lock held by another session (rows restored into the
# queue, not committed yet) when COMMIT PREPARED of queued events comes
$node->safe_psql('postgres', 'CREATE DATABASE db6 TEMPLATE tmpl');
$node->safe_psql('db6', qq{
BEGIN;
$event
PREPARE TRANSACTION 'w';
});
my $restorer = $node->background_psql('db6');
$restorer->query_safe('BEGIN');
$restorer->query_safe(q{INSERT INTO bh_audit.queue (events) VALUES (ARRAY['{}'::jsonb])});
commit_prepared('db6', 'w', 'queued events while the chain lock is held');
is($node->safe_psql('db6', 'SELECT database_name FROM bh_audit.ledger_home'),
	'tmpl', 'db6: that COMMIT PREPARED claimed nothing (the chain lock was held)');
$restorer->query_safe('ROLLBACK');
$restorer->quit;
$node->safe_psql('db6', $event);
is($node->safe_psql('db6', 'SELECT (SELECT database_name FROM bh_audit.ledger_home), (SELECT count(*) FROM bh_audit.queue)'),
	'db6|2', 'db6: a later commit that queued events claimed the home');

$node->stop;
done_testing();
