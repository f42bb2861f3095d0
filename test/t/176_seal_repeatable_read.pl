# An access review in a REPEATABLE READ transaction that calls
# bh_audit.seal() after its snapshot: the events committed by another
# session after that snapshot are sealed by the call, but the transaction
# does not see them.  The transaction's first read of the ledger after the
# call warns, once (nothing is said in READ COMMITTED, whose next statement
# sees them).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('seal_repeatable_read');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

my $review = $node->background_psql('postgres', on_error_stop => 0);
$review->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$review->query_safe('SELECT count(*) FROM bh_audit.events');

# committed after the review's snapshot
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Doc', 'rr1', 'p_rr')});

my $sealed = $review->query('SELECT bh_audit.seal() >= 0');
my $stderr = $review->{stderr};
$review->{stderr} = '';
is($sealed, 't', 'seal() returns in the repeatable read transaction');
unlike($stderr, qr/WARNING/, 'seal() itself says nothing: nothing read yet');
is($review->query(q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rr'}),
	'0', 'the review does not see the event sealed by its call');
like($review->{stderr}, qr/WARNING:  this transaction does not see the events bh_audit.seal\(\) waited for/,
	'the review\'s read warns that the transaction does not see what was sealed');
$review->{stderr} = '';
is($review->query(q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rr'}),
	'0', 'a second read does not see it either');
unlike($review->{stderr}, qr/WARNING/, 'the warning is given once a transaction');
$review->query_safe('COMMIT');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rr'}),
	'1', 'the event is in the ledger');

# READ COMMITTED: no warning, the next statement sees it
$review->query_safe('BEGIN ISOLATION LEVEL READ COMMITTED');
$review->query_safe('SELECT count(*) FROM bh_audit.events');
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Doc', 'rc1', 'p_rc')});
$review->query('SELECT bh_audit.seal() >= 0');
is($review->query(q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rc'}),
	'1', 'read committed: the next statement sees the sealed event');
unlike($review->{stderr}, qr/WARNING/, 'no warning in read committed');
$review->query_safe('COMMIT');
$review->quit;

# The extended query protocol: statements sent before one Sync (a pipeline)
# share one transaction without a transaction block; a read there after the
# call does not see the events, and warns.  Each statement synced on its
# own is a transaction of its own: nothing to say.
sub run_pgbench
{
	my ($sql) = @_;
	local $ENV{PGOPTIONS} = '-c default_transaction_isolation=serializable';
	return (bh_pgbench_script($node, 'postgres', 'extended', $sql))[2];
}

my $warning = qr/WARNING:  this transaction does not see the events bh_audit.seal\(\) waited for/;
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Doc', 'pl1', 'p_pipe')});
like(run_pgbench(<<'EOS'), $warning, 'a read after the call in a pipeline warns');
\startpipeline
SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_pipe';
\endpipeline
EOS
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Doc', 'pl2', 'p_pipe')});
unlike(run_pgbench(<<'EOS'), qr/WARNING|error/i, 'each statement synced on its own: no warning');
SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_pipe';
EOS
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_pipe'}),
	'2', 'both events are in the ledger');

done_testing();
