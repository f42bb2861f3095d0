# Events a session holds when shared memory goes are counted as lost.  A
# statement's read set lives in its backend until its ExecutorEnd (or the
# flush at its transaction's end, or its failure, which pushes it): a
# cursor after a FETCH (the client has the rows) holds the READ events of
# the rows fetched.  A crash restart (a
# backend killed with SIGKILL) or an immediate shutdown kills the backend
# without that flush; the READ events it would have given are then counted
# by the postmaster and recorded in the chain as one EventsLost event with
# metadata key events_lost_in_sessions.  So is the record of a change
# narrowing read capture in a transaction still open, which its rollback
# would have pushed.  A cursor closed before the crash left its events in
# the ring (counted there, if not sealed), and a fast shutdown lets the
# backend flush them: neither counts them so.  A statement still running
# (a COPY TO streams its rows to the client) holds those of the rows its
# scans have read so far.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('held_reads', conf => q{
restart_after_crash = on
});
# 20 rows, each of its own patient: a FETCH of 5 of a sequential scan reads
# 5 patients, 5 READ events
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text, v text);
INSERT INTO pt SELECT g, 'p' || g, 'x' FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('pt', 'Patient', 'id', 'pid');
SELECT bh_audit.seal();
});
bh_losses_view($node, 'postgres');

my $mark;

sub seal
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
}

sub mark
{
	seal();
	$mark = $node->safe_psql('postgres',
		'SELECT coalesce(max(seq), 0) FROM bh_audit.events');
}

# The loss events after the mark, one line each: their count of reads lost
# in sessions ('-' when absent).
sub held_losses
{
	seal();
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(coalesce(meta ->> 'events_lost_in_sessions', '-'), E'\n'
                           ORDER BY seq), '')
  FROM losses WHERE seq > $mark});
}

# The READ events of pt after the mark, their patients.
sub reads
{
	seal();
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(patient_id, ',' ORDER BY patient_id), '')
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Patient'});
}

# The events lost in the ring after the mark, summed.
sub ring_losses
{
	return $node->safe_psql('postgres', qq{
SELECT coalesce(sum((meta ->> 'events_lost_in_ring')::bigint), 0)
  FROM losses WHERE seq > $mark});
}


# A session with a cursor over pt after FETCH 5 (closed again if $close).
sub open_cursor
{
	my ($close) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN');
	$s->query_safe('DECLARE c CURSOR FOR SELECT id, pid FROM pt');
	my $rows = $s->query_safe('FETCH 5 FROM c');
	is(scalar(split /\n/, $rows), 5, 'the client has the five rows');
	$s->query_safe('CLOSE c') if $close;
	return $s;
}

# A crash restart: another backend killed with SIGKILL.
sub crash
{
	my $other = $node->background_psql('postgres', on_error_stop => 0);
	my $victim = $other->query_safe('SELECT pg_backend_pid()');
	chomp $victim;
	ok(bh_crash_restart($node, $victim, 'postgres'),
		'the postmaster reinitialises shared memory after the crash, and accepts connections again');
	eval { $other->quit };
}

# (a) A crash restart while the cursor is open: its five READ events are
# counted as lost, in one loss event.  With a second cursor, under
# max_patients_per_statement = 2, of 5 patients: 2 named, 1 for the further
# ones, 3 more.
mark();
my $s = open_cursor(0);
$s->query_safe('SET LOCAL bh_audit.max_patients_per_statement = 2');
$s->query_safe('DECLARE c2 CURSOR FOR SELECT id, pid FROM pt WHERE id > 10');
$s->query_safe('FETCH 5 FROM c2');
crash();
eval { $s->quit };
is(held_losses(), '8', 'a crash restart records the 8 READ events the cursors held as lost');
is(reads(), '', 'and none of them reached the chain');

# (b) An immediate shutdown while the cursor is open: the same.
mark();
$s = open_cursor(0);
$node->stop('immediate');
eval { $s->quit };
my $account = $node->data_dir . '/pg_stat_tmp/bh_audit_losses';
is(slurp_file($account), "bh_audit losses 3\nstopped 0 0 0 0 0 5\n",
	'the postmaster wrote them in its account as it stopped');
$node->start;
is(held_losses(), '5', 'an immediate shutdown records the 5 READ events the cursor held as lost');
is(reads(), '', 'and none of them reached the chain');

# (b2) A FETCH that fails, of a cursor that outlives the error (opened
# before a savepoint that ROLLBACK TO leaves open, or before a PL/pgSQL
# EXCEPTION block around the FETCH): the failure pushes the READ events of
# what the cursor read (the rows of the earlier FETCH, and the row the
# failing one was evaluating) to the ring, before its FAILURE, and from
# then on the session holds none of them, although the cursor stays until
# the transaction ends, closed or not.  So a seal() before an immediate
# shutdown chains all three, and nothing is counted as lost; were they
# still counted as held, each would be both chained and counted as lost.
# Likewise a FETCH failing without a savepoint (the abort flushes the
# cursor at once; the transaction is left open) and a PL/pgSQL loop that
# fails inside an EXCEPTION block.  A statement prefixed with '!' fails.
my $failing = 'SELECT id, pid, 1 / (id - 3) FROM pt';
my $fetch_in_block = qq{DO \$\$
DECLARE
	c refcursor := 'c';
	r record;
BEGIN
	OPEN c FOR $failing;
	FETCH c INTO r;
	FETCH c INTO r;
	BEGIN
		FETCH c INTO r;
	EXCEPTION WHEN division_by_zero THEN
		RAISE NOTICE 'caught';
	END;
END \$\$};
my $loop_in_block = qq{DO \$\$
DECLARE
	r record;
BEGIN
	FOR r IN $failing LOOP
	END LOOP;
EXCEPTION WHEN division_by_zero THEN
	RAISE NOTICE 'caught';
END \$\$};
foreach my $case (
	[ 'a failed FETCH in a savepoint rolled back',
	  "DECLARE c CURSOR FOR $failing", 'FETCH 2 FROM c', 'SAVEPOINT s',
	  '!FETCH 5 FROM c', 'ROLLBACK TO s' ],
	[ 'a failed FETCH in a savepoint rolled back, the cursor closed',
	  "DECLARE c CURSOR FOR $failing", 'FETCH 2 FROM c', 'SAVEPOINT s',
	  '!FETCH 5 FROM c', 'ROLLBACK TO s', 'CLOSE c' ],
	[ 'a failed FETCH without a savepoint',
	  "DECLARE c CURSOR FOR $failing", 'FETCH 2 FROM c', '!FETCH 5 FROM c' ],
	[ 'a failed FETCH in a PL/pgSQL EXCEPTION block', $fetch_in_block ],
	[ 'a failed PL/pgSQL loop in an EXCEPTION block', $loop_in_block ])
{
	my ($name, @statements) = @$case;

	mark();
	$s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN');
	foreach my $q (@statements)
	{
		if ($q =~ s/^!//)
		{
			$s->query($q);
			like($s->{stderr}, qr/division by zero/, "$name: the FETCH fails");
			$s->{stderr} = '';
		}
		else
		{
			$s->query($q);
			unlike($s->{stderr}, qr/ERROR/, "$name: $q")
			  or diag($s->{stderr});
			$s->{stderr} = '';
		}
	}
	seal();
	$node->stop('immediate');
	eval { $s->quit };
	is(slurp_file($account), "bh_audit losses 3\nstopped 0 0 0 0 0 0\n",
		"$name: the postmaster counted nothing as held as it stopped");
	$node->start;
	is(held_losses(), '', "$name: no loss is recorded");
	is(reads(), 'p1,p2,p3', "$name: the 3 READ events are chained, once each");
}

# (b2') The transaction that left such a cursor open ends (committed or
# rolled back): its flush pushes none of the events again, also when
# bh_audit.max_patients_per_statement, lower while the FETCH failed (set in
# the savepoint), is back to its default by then.  The failure read 5
# patients (rows 1-2 of the first FETCH, 3-4 and the 5th it was evaluating
# of the second): 2 named and one event of the further 3, as the failure
# pushed them.
foreach my $end ('COMMIT', 'ROLLBACK')
{
	mark();
	$s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN');
	$s->query_safe('DECLARE c CURSOR FOR SELECT id, pid, 1 / (id - 5) FROM pt');
	$s->query_safe('FETCH 2 FROM c');
	$s->query_safe('SAVEPOINT s');
	$s->query_safe('SET LOCAL bh_audit.max_patients_per_statement = 2');
	$s->query('FETCH 5 FROM c');
	like($s->{stderr}, qr/division by zero/, "$end: the FETCH fails");
	$s->{stderr} = '';
	$s->query_safe('ROLLBACK TO s');
	$s->query_safe($end);
	$s->quit;
	seal();
	is($node->safe_psql('postgres', qq{
SELECT count(*) || ' events, ' || count(DISTINCT patient_id) || ' patients named, '
       || coalesce(sum((event -> 'metadata' ->> 'further_patients')::int), 0) || ' further'
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND outcome = 'SUCCESS'
   AND resource_type = 'Patient'}),
		'3 events, 2 patients named, 3 further',
		"$end: the end of the transaction pushes none of the cursor's READ events again");
}

# (b3) A transaction that switched capture off, still open: its record of
# the change, which its rollback would have pushed, is counted as lost.
mark();
$s = $node->background_psql('postgres', on_error_stop => 0);
$s->query_safe('BEGIN');
$s->query_safe('SET LOCAL bh_audit.enabled = off');
$s->query_safe('SELECT count(*) FROM pt');
$node->stop('immediate');
eval { $s->quit };
$node->start;
is(held_losses(), '1',
	'an open transaction that switched capture off: its record is counted as lost');

# (c) The cursor closed before the crash: its events went to the ring at
# its close; the sealer chained them, or the crash lost them in the ring.
# Nothing is counted as held by a session.
mark();
$s = open_cursor(1);
crash();
eval { $s->quit };
my $held = held_losses();
ok($held !~ /\d/, 'a cursor closed before the crash counts nothing as held by a session')
  or diag("loss events: $held");
my @read = split /,/, reads();
is(scalar(@read) + ring_losses(), 5,
	'its five READ events were chained or counted as lost in the ring');

# (d) A fast shutdown while the cursor is open: the backend flushes its
# reads as it exits (chained by the final drain, or counted in the ring if
# pushed after it); nothing is counted as held by a session.
mark();
$s = open_cursor(0);
$node->stop('fast');
eval { $s->quit };
$node->start;
$held = held_losses();
ok($held !~ /\d/, 'a fast shutdown counts nothing as held by a session')
  or diag("loss events: $held");
@read = split /,/, reads();
is(scalar(@read) + ring_losses(), 5,
	'the five READ events were chained or counted as lost in the ring');

# (d2) Statements still running: a SELECT whose scan has returned 7 rows
# (7 patients) and sleeps in the 8th row's projection, and a COPY TO (the
# rows stream to the client as they are read) that has read 2: their read
# sets are counted as they grow, so a crash restart records the 7 READ and
# 2 EXPORT events as lost.
mark();
my @running;
foreach my $q (
	'SELECT id, pid, CASE WHEN id = 8 THEN pg_sleep(300) END FROM pt',
	'COPY (SELECT id, pid, CASE WHEN id = 13 THEN pg_sleep(300) END FROM pt WHERE id > 10) TO STDOUT')
{
	my $r = $node->background_psql('postgres', on_error_stop => 0);
	$r->query_until(qr/started/, "\\echo started\n$q;\n");
	push @running, $r;
}
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) = 2 FROM pg_stat_activity WHERE wait_event = 'PgSleep'}),
	'both statements are running, in the middle of their scans');
crash();
eval { $_->quit } foreach @running;
is(held_losses(), '9',
	'a crash restart records the 9 events of the two running statements as lost');
is(reads(), '', 'and none of them reached the chain');

# (e) An account written before held reads were counted ("bh_audit losses
# 2", without the last field) is still read.
mark();
$node->stop;
PostgreSQL::Test::Utils::append_to_file($account . '.new', "bh_audit losses 2\nstopped 3 0 0 0 0\n");
rename($account . '.new', $account) or die "rename: $!";
$node->start;
seal();
is($node->safe_psql('postgres', qq{
SELECT string_agg(meta::text, E'\n' ORDER BY seq) FROM losses WHERE seq > $mark}),
	'{"db_user": "postgres", "events_lost_in_ring": 3}',
	'an account of the earlier format is read');

# (f) The chain and its events.
bh_chain_valid($node, 'postgres');

$node->stop;
done_testing();
