# A cancel or timeout that arrives while a session loads its tag cache.
# The first statement of a session loads the cache (a tenth of a second
# with thousands of tags); raised inside the load, the cancel left the
# session without a cache, and failure capture, which finds the failing
# statement's tagged tables there, recorded nothing for a statement on a
# tagged table.  The cancel now takes effect once the load is done, and the
# failure is recorded.  Here the load is held up by a session holding
# pg_rewrite (the load reads the views' rules), longer than the statement's
# timeout; then by a cancel from another session.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tagloadcancel');
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clin.notes VALUES (7, 'pat_7', 'x');
SELECT bh_audit.tag_table('clin.notes', 'Note', 'note_id', 'patient_id');
CREATE ROLE clerk LOGIN;
GRANT USAGE ON SCHEMA clin TO clerk;
GRANT SELECT, UPDATE ON clin.notes TO clerk;
});

# Hold $rel (a relation the cache's load reads), start a fresh session's
# statement, wait until its cache load waits for the lock, then run $while
# (if any) and release the lock after $hold_s seconds.  Returns the
# session's stderr.
sub held_load
{
	my ($rel, $options, $sql, $hold_s, $while) = @_;
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	$holder->query_safe("LOCK TABLE $rel IN ACCESS EXCLUSIVE MODE");

	# (settings as connection options: a SET would load the cache itself)
	my $h;
	{
		local $ENV{PGOPTIONS} = $options // '';
		$h = $node->background_psql('postgres',
			on_error_stop => 0,
			extra_params => [ '-U', 'clerk' ]);
	}
	$h->query_until(qr/started/, "\\echo started\n$sql;\n\\echo done\n");
	{
		local $ENV{PGOPTIONS} = '-c bh_audit.enabled=off';
		ok($node->poll_query_until('postgres', qq{
			SELECT count(*) = 1 FROM pg_catalog.pg_lock_status()
			 WHERE NOT granted AND relation = '$rel'::pg_catalog.regclass}),
			"the fresh session's cache load waits for $rel");
		# (functions rather than views: reading a view needs pg_rewrite)
		$while->() if $while;
	}
	sleep($hold_s);
	$holder->query_safe('COMMIT');
	$holder->quit;
	$h->query('SELECT 1');
	my $err = $h->{stderr};
	$h->quit;
	return $err;
}

sub failures_since
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT action || '|' || outcome || '|' || error_type || '|' || (event -> 'metadata' ->> 'table') || '|'
       || (event -> 'metadata' ->> 'db_user')
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' ORDER BY seq});
}

# A statement timeout that expires while the load waits (it runs from the
# statement's start: long enough that the load waits first on a loaded
# machine; the lock held longer, from when the wait is seen).
my $mark = bh_seal_mark($node, 'postgres');
my $err = held_load('pg_catalog.pg_rewrite', '-c statement_timeout=1000',
	"UPDATE clin.notes SET body = 'y' WHERE note_id = 7", 2);
like($err, qr/canceling statement due to statement timeout/,
	'the statement fails with its timeout once the load is done');
is(failures_since($mark), 'UPDATE|FAILURE|query_canceled|clin.notes|clerk',
	'the timed-out UPDATE on the tagged table is a FAILURE event');
is($node->safe_psql('postgres', q{SELECT body FROM clin.notes WHERE note_id = 7}),
	'x', 'and changed nothing');

# A cancel sent by another session while the load waits.
$mark = bh_seal_mark($node, 'postgres');
$err = held_load('pg_catalog.pg_rewrite', undef,
	'SELECT body FROM clin.notes WHERE note_id = 7', 1,
	sub {
		local $ENV{PGOPTIONS} = '-c bh_audit.enabled=off';
		$node->safe_psql('postgres', q{
SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_stat_get_activity(NULL)
 WHERE usesysid = 'clerk'::pg_catalog.regrole AND wait_event_type = 'Lock'});
	});
like($err, qr/canceling statement due to user request/,
	'a cancel takes effect once the load is done');
is(failures_since($mark), 'READ|FAILURE|query_canceled|clin.notes|clerk',
	'the cancelled SELECT on the tagged table is a FAILURE event');

# A wait for the tag catalog's own lock (behind an ALTER or VACUUM FULL of
# bh_audit.tags) is not held: the statement's timeout ends it while the lock
# is still taken.  (Long enough that the wait is seen before it ends, by a
# test that may be stalled for seconds.)
$err = held_load('bh_audit.tags', '-c statement_timeout=5000',
	'SELECT count(*) FROM clin.notes', 0,
	sub {
		ok($node->poll_query_until('postgres', q{
			SELECT count(*) = 0 FROM pg_catalog.pg_lock_status()
			 WHERE NOT granted AND relation = 'bh_audit.tags'::pg_catalog.regclass}),
			'its statement stops waiting while the lock is still held');
	});
like($err, qr/canceling statement due to statement timeout/, 'ended by its timeout');

# The session's later statements are cancellable as usual (the hold was
# released): a timeout while it sleeps.
my $h = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'clerk' ]);
$h->query('SET statement_timeout = 100');
$h->query('SELECT count(*) FROM clin.notes, pg_sleep(5)');
like($h->{stderr}, qr/canceling statement due to statement timeout/,
	'a later statement of a session is cancelled by its timeout');
$h->quit;

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
