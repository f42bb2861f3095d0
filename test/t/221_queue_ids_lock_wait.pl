# The reservation of a block of queue ids (emit.c, bh_queue_next_id) runs
# pg_sequence_last_value() and setval() of the queue's sequence while it
# holds the one LWLock of every database's blocks: setval() looks the
# sequence up in pg_sequence (a catalog read, on a backend's first
# reservation or after an invalidation), which waits for a lock a
# transaction holds on that catalog (here a superuser's LOCK TABLE; a
# REINDEX TABLE pg_sequence in a transaction takes one on its index).
# While it waits, holding the LWLock:
# - a write in another database must not wait for it (each database's
#   pg_sequence is its own);
# - the waiting write must be cancellable (pg_cancel_backend);
# - the lock's holder writing a tagged table must not deadlock with it: an
#   LWLock wait is not seen by the deadlock detector, nor cancellable, and
#   the cluster's tagged writes would all hang until a crash restart.
# With nextval() the waiting write held no LWLock: all three held.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids_lock_wait');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
$node->safe_psql('clinic', 'CREATE EXTENSION bh_audit');
bh_queue_table($node, $_, 221) for ('postgres', 'clinic');

my $k = 0;

# sessions, opened before the catalog is locked; after a restart (no block
# reserved yet, no backend has the sequence in its caches)
sub sessions
{
	$node->restart;
	my %s;
	for my $name ('mon', 'holder', 'writer', 'other')
	{
		$s{$name} = $node->background_psql($name eq 'other' ? 'clinic' : 'postgres',
			on_error_stop => 0);
		$s{$name}->query_safe("SET application_name = 't221_$name'");
	}
	return \%s;
}

# whether session $name's statement ended (idle, out of a transaction)
# within 10 s
sub ended
{
	my ($s, $name) = @_;
	return bh_poll_session($s->{mon}, qq{
SELECT count(*) FROM pg_stat_activity
 WHERE application_name = 't221_$name' AND state = 'idle'}, '1', 100);
}

sub start_write
{
	my ($s, $name) = @_;
	$k++;
	$s->{$name}->query_until(qr/started/,
		"\\echo started\nINSERT INTO t221.pat VALUES ($k, 'x');\n");
	return;
}

sub lock_and_wait
{
	my ($s) = @_;
	$s->{holder}->query_safe('BEGIN');
	$s->{holder}->query_safe('LOCK TABLE pg_catalog.pg_sequence IN ACCESS EXCLUSIVE MODE');
	start_write($s, 'writer');
	ok( bh_poll_session($s->{mon}, q{
SELECT count(*) FROM pg_stat_activity
 WHERE application_name = 't221_writer' AND wait_event_type = 'Lock'}, '1', 100),
		'the write waits for the lock on pg_sequence');
	return;
}

sub end_sessions
{
	my ($s, $stuck) = @_;
	# a hung backend ignores cancels and terminations: stop the server
	$node->stop('immediate') if $stuck;
	eval { $_->quit } for values %$s;
	$node->start if $stuck;
	return;
}

# 1: another database's write; a cancel of the waiting write
my $s = sessions();
lock_and_wait($s);
start_write($s, 'other');
ok(ended($s, 'other'), "a write in another database does not wait");
$s->{mon}->query_safe(q{
SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 't221_writer'});
ok(ended($s, 'writer'), 'the waiting write is cancelled');
$s->{holder}->query_safe('ROLLBACK');
end_sessions($s, !(ended($s, 'other') && ended($s, 'writer')));

# 2: the lock's holder writes a tagged table, and commits
$s = sessions();
lock_and_wait($s);
$s->{holder}->query_until(qr/started/,
	"\\echo started\nINSERT INTO t221.pat VALUES (1000, 'h');\nCOMMIT;\n");
my $done = ended($s, 'holder');
ok($done, "the lock holder's write and commit end (no undetected deadlock)");
ok(ended($s, 'writer'), 'the waiting write ends after that commit');
end_sessions($s, !($done && ended($s, 'writer')));

is($node->safe_psql('postgres', 'SELECT count(*) FROM t221.pat WHERE id = 1000'), '1',
	"the lock holder's write committed");

done_testing();
