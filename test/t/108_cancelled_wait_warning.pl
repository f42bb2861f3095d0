# An event lost because a cancel ended its session's wait for room in a
# full ring (bh_audit.on_ring_full = wait, in a normal statement) is
# counted as dropped and warned about, as every dropped event is: the
# WARNING reaches the server log and the session, before the cancel's
# error.
#
# The sealer is held back by a lock on the ledger and the ring filled
# first under on_ring_full = drop, so that the ring stays full: three
# sessions each read one row and wait for room (ring_wait_timeout is long
# enough that they never give up), and each is cancelled once
# pg_stat_activity shows it waiting; the sealer is let go once the three
# cancels' errors are in the server log (each statement's FAILURE then
# finds room).  Nothing else drops events meanwhile, so each drop counted
# has a WARNING of its own in the server log (one statement drops one
# event).
#
# The same for a wait ended by an error that another interrupt raised: the
# FATAL of a lost client, which exits without unwinding the wait (its event
# used to be neither counted nor warned about).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('cancelled_wait_warning', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '300s'
});
$node->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO t SELECT g, 'P' || g, repeat('x', 100) FROM generate_series(1, 50) g;
SELECT bh_audit.tag_table('t', 'Note', 'id', 'patient_id');
SELECT bh_audit.seal();
});

my $warning = 'bh_audit dropped an audit event: a cancel or terminate request ended the wait for room in the event ring';
my $start_dropped = bh_dropped($node, 'postgres');

my $blocker = bh_hold_sealer($node, 'postgres',
	fill => "SELECT count(body) FROM t;\n" x 5);
my $dropped0 = bh_dropped($node, 'postgres');
my $log_offset = -s $node->logfile;

my @readers;
for my $i (1 .. 3)
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_until(qr/started/, "\\echo started\nSELECT body FROM t WHERE id = 7;\n");
	ok($node->poll_query_until('postgres', qq{
SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid}),
		"reader $i waits for room in the full ring");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	push @readers, $s;
}
# (each statement's FAILURE waits for room at its abort: the sealer is let
# go once the three cancels are in the log)
my $cancels = 0;
foreach (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
{
	$cancels = () = slurp_file($node->logfile, $log_offset) =~
	  /ERROR:  canceling statement due to user request/g;
	last if $cancels >= 3;
	select(undef, undef, undef, 0.1);
}
is($cancels, 3, 'the three statements are cancelled');
$blocker->query_safe('COMMIT');
$blocker->quit;
my $err = '';
foreach my $s (@readers)
{
	$s->query("SELECT 'next'");
	$err .= $s->{stderr};
	$s->quit;
}

my $errors = () = $err =~ /canceling statement due to user request/g;
my $client_warnings = () = $err =~ /WARNING:  \Q$warning\E/g;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $dropped = bh_dropped($node, 'postgres') - $dropped0;
my $log = slurp_file($node->logfile, $log_offset);
my $log_warnings = () = $log =~ /WARNING:  \Q$warning\E/g;
my $all_warnings = () = $log =~ /WARNING:  bh_audit dropped an audit event/g;

note("$errors cancels, $dropped dropped, $log_warnings warnings in the log, "
	  . "$client_warnings in the sessions");
is($dropped, 3, 'the cancels ended waits for room: their 3 events were dropped');
is($log_warnings, $dropped,
	'each dropped event has its WARNING in the server log');
is($all_warnings, $log_warnings, 'no drop of another kind meanwhile');
is($client_warnings, $dropped, 'and the session got each WARNING');
cmp_ok($errors, '>=', $dropped, 'each with the cancel\'s error after it');
like($err, qr/WARNING:  \Q$warning\E\n(?:(?:DETAIL|HINT):[^\n]*\n)*[^\n]*ERROR:  canceling statement due to user request/,
	'the WARNING comes before the error');

# The chain records the losses too (the ring's fill's as well).
my $all_dropped = bh_dropped($node, 'postgres') - $start_dropped;
my $lost = 0;
for (1 .. 60)
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	$lost = $node->safe_psql('postgres', q{
SELECT coalesce(sum((event -> 'metadata' ->> 'events_dropped')::bigint), 0)
  FROM bh_audit.events WHERE error_type = 'EventsLost'});
	last if $lost >= $all_dropped;
	sleep 1;
}
is($lost, $all_dropped, 'the chain\'s EventsLost events count them');

# An error that another interrupt raises while the session waits ends the
# wait too, and the event is warned about as well: here the FATAL of a
# client that went away, which client_connection_check_interval finds
# during the wait (the WARNING reaches the server log only).  The sealer
# is held back by a lock on the ledger; the ring is filled first under
# on_ring_full = drop.
$blocker = bh_hold_sealer($node, 'postgres',
	fill => "SELECT count(body) FROM t;\n" x 5);
$log_offset = -s $node->logfile;
$dropped0 = bh_dropped($node, 'postgres');
my ($vout, $verr) = ('', '');
my $victim = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
		q{SET client_connection_check_interval = '100ms'; SELECT count(body) FROM t WHERE id <= 3 /* victim */} ],
	'>', \$vout, '2>', \$verr);
ok( $node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE query LIKE '%/* victim */%' AND wait_event_type = 'Extension'}),
	'a session waits for room in the full ring');
$victim->signal('KILL');
$victim->finish;
ok( $node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity
 WHERE query LIKE '%/* victim */%' AND pid <> pg_backend_pid()}),
	'its lost client ends the session');
$blocker->query_safe('COMMIT');
$blocker->quit;
$log = slurp_file($node->logfile, $log_offset);
like($log, qr/FATAL:  connection to client lost/, 'the wait was ended by the FATAL of the lost client');
my @warnings = $log =~ /WARNING:  (bh_audit dropped an audit event: [^\n]*)/g;
is_deeply(\@warnings,
	[ 'bh_audit dropped an audit event: an error raised while waiting for room in the event ring ended the wait' ],
	'its events\' drop is warned about once, for the wait the error ended');
is(bh_dropped($node, 'postgres') - $dropped0,
	3, 'the three READ events are counted as dropped');

done_testing();
