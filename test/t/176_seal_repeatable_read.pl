# An access review in a REPEATABLE READ transaction that calls
# bh_audit.seal() after its snapshot: the events committed by another
# session after that snapshot are sealed by the call, but the transaction
# does not see them.  seal() warns (and does not in READ COMMITTED, whose
# next statement sees them).
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
like($stderr, qr/WARNING:  this transaction does not see the events bh_audit.seal\(\) waited for/,
	'seal() warns that the transaction does not see what it sealed');
is($review->query_safe(q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rr'}),
	'0', 'the review does not see the event sealed by its call');
$review->query_safe('COMMIT');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rr'}),
	'1', 'the event is in the ledger');

# READ COMMITTED: no warning, the next statement sees it
$review->query_safe('BEGIN ISOLATION LEVEL READ COMMITTED');
$review->query_safe('SELECT count(*) FROM bh_audit.events');
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Doc', 'rc1', 'p_rc')});
$review->query('SELECT bh_audit.seal() >= 0');
unlike($review->{stderr}, qr/WARNING/, 'no warning in read committed');
is($review->query_safe(q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'p_rc'}),
	'1', 'read committed: the next statement sees the sealed event');
$review->query_safe('COMMIT');
$review->quit;

done_testing();
