# bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
# read of the ledger after the call warns (sealer.c, bh_seal_unseen).  A
# read that a parallel worker makes for the transaction (a user's function
# labelled PARALLEL SAFE reading the ledger, run by a worker: in a database
# with no tagged table the planner keeps it parallel) uses the leader's
# transaction snapshot and misses the sealed events just the same: it must
# warn too.  The flag lives in the leader; the worker's read must still be
# told (before cb5bf32 the call itself warned in a transaction block).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('seal_read_in_parallel_worker');
$node->safe_psql('postgres', q{
CREATE FUNCTION public.review_count(t text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT count(*) FROM bh_audit.events WHERE resource_type = t $$;
CREATE FUNCTION public.review_verify() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT result FROM bh_audit.verify_chain() $$;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tagged_tables'),
	'0', 'no tagged table: parallel plans are kept');

my $warning = qr/WARNING:  this transaction does not see the events bh_audit.seal\(\) waited for/;
my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET force_parallel_mode = on');
like($session->query_safe(
		q{EXPLAIN (COSTS OFF) SELECT public.review_count('SealPar')}),
	qr/Single Copy: true/, 'the function runs in a worker');

# a query on the ledger in a worker
$node->safe_psql('postgres', q{SELECT bh_audit.emit('OTHER', 'SealPar')});
$session->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$session->query_safe('SELECT bh_audit.seal()');
$session->{stderr} = '';
is($session->query(q{SELECT public.review_count('SealPar')}), '0',
	'the worker\'s read does not see the sealed event');
like($session->{stderr}, $warning, 'the worker\'s read of the ledger warns');
$session->query_safe('COMMIT');
is($session->query_safe(q{SELECT public.review_count('SealPar')}), '1',
	'the next transaction sees it');

# verify_chain() in a worker
$node->safe_psql('postgres', q{SELECT bh_audit.emit('OTHER', 'SealParVerify')});
$session->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$session->query_safe('SELECT bh_audit.seal()');
$session->{stderr} = '';
is($session->query(q{SELECT public.review_verify()}), 'PASS',
	'verify_chain() in a worker');
like($session->{stderr}, $warning, 'verify_chain() in a worker warns');
$session->query_safe('COMMIT');
$session->quit;

$node->stop;
done_testing();
