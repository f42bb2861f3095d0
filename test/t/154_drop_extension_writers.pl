# DROP EXTENSION bh_audit while other sessions' transactions hold events
# (emit(), a write to a tagged table): the drop locks the queue first and
# waits for them, each holding the queue's lock from its first event, and
# they commit; then the drop proceeds.  Before, a transaction that had
# loaded its tag cache held the tag catalog, which the drop waited for
# while holding the queue, and its commit, which writes the queue,
# deadlocked with the drop (40P01, the transaction lost).  Meanwhile other
# sessions' statements do not wait behind the drop: no session holds the
# tag catalog beyond its cache's load.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('dropwriters');
$node->safe_psql('postgres', q{
CREATE TABLE st (id int, pat text);
CREATE TABLE plain (id int);
});

# A session that watches: its tag cache loaded, it reads no tag catalog.
my $mon = $node->background_psql('postgres');

sub drop_waits
{
	return bh_poll_session($mon, q{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query LIKE 'DROP EXTENSION%'});
}

# $steps before the drop starts, $after while it runs; then COMMIT.
sub run_case
{
	my ($name, $steps, $after, $waits) = @_;
	$node->safe_psql('postgres', q{
CREATE EXTENSION IF NOT EXISTS bh_audit;
SELECT bh_audit.tag_table('st', 'ST', 'id', 'pat');
});
	$mon->query_safe('SELECT count(*) FROM plain');	# its cache loaded again
	my ($w, $d) = bh_start_drop($node, 'DROP EXTENSION bh_audit CASCADE', $steps);
	if ($waits)
	{
		ok(drop_waits(), "$name: the drop waits for the transaction");
		my $timed_out = 0;
		my $ret = $node->psql('postgres', 'SELECT count(*) FROM plain',
			timeout => 20, timed_out => \$timed_out);
		ok(!$timed_out && $ret == 0,
			"$name: a new session's statement does not wait behind the drop");
	}
	else
	{
		ok(bh_poll_session($mon,
				q{SELECT count(*) = 0 FROM pg_extension WHERE extname = 'bh_audit'}, 't', 100),
			"$name: the drop does not wait for the transaction");
	}
	bh_drop_after_commit($mon, $name, $w, $d, $after);
}

run_case('emit()', [q{SELECT bh_audit.emit('EXPORT', 'X', 'x2', 'p1')}], [], 1);
run_case('a write', [q{INSERT INTO st VALUES (1, 'a')}],
	[q{INSERT INTO st VALUES (2, 'b')}], 1);
# A transaction that holds no events when the drop starts: the drop does
# not wait for it (the tag catalog its first statement read is not held);
# its write, after the drop, is not captured.
run_case('a read, then a write', ['SELECT count(*) FROM plain'],
	[q{INSERT INTO st VALUES (3, 'c')}], 0);
is($mon->query_safe('SELECT string_agg(pat, \',\' ORDER BY id) FROM st'), 'a,b,c',
	'the transactions\' writes are committed');

# The drop rolled back: the transaction's events, committed while it
# waited, are chained.
$node->safe_psql('postgres', 'CREATE EXTENSION bh_audit');
$mon->query_safe('SELECT count(*) FROM plain');
my $d = $node->background_psql('postgres', on_error_stop => 0);
my $w = $node->background_psql('postgres', on_error_stop => 0);
$w->query_safe('BEGIN');
$w->query_safe(q{SELECT bh_audit.emit('EXPORT', 'X', 'x4', 'p4')});
$d->query_until(qr/started/,
	"\\echo started\nBEGIN;\nDROP EXTENSION bh_audit;\n");
ok(drop_waits(), 'the drop in a transaction waits');
$w->query_safe('COMMIT');
$d->query_safe('ROLLBACK');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($mon->query_safe(q{SELECT string_agg(patient_id, ',') FROM bh_audit.events
 WHERE resource_type = 'X'}), 'p4', 'the committed event is chained after the drop\'s rollback');
$w->quit;
$d->quit;

# An event that waits for the drop's commit: refused once the queue is gone.
$mon->query_safe('SELECT count(*) FROM plain');
$d = $node->background_psql('postgres', on_error_stop => 0);
$w = $node->background_psql('postgres', on_error_stop => 0);
$w->query_safe('SELECT count(*) FROM plain');
$d->query_safe('BEGIN');
$d->query_safe('DROP EXTENSION bh_audit');
$w->query_until(qr/sent/, "\\echo sent\nSELECT bh_audit.emit('EXPORT', 'X', 'x3', 'p3');\n");
ok(bh_poll_session($mon, q{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query LIKE '%emit(%'}),
	'an event waits for the drop');
$d->query_safe('COMMIT');
$w->query('SELECT 1');
like($w->{stderr}, qr/ERROR:  bh_audit is not installed in this database/,
	'and fails once the drop has committed');
$w->quit;
$d->quit;

done_testing();
