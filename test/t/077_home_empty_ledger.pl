# A ledger copied while empty has nothing a copy could fork: the sealer's
# first events in it make its database the ledger's home without a
# 'ledger_continued' event — also when the sealer's first batches there,
# after it connects, have nothing to seal (the comparison waits for a batch
# that seals), so that a later restart finds the home its own.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# The extension in template1: every database created after it is a copy
# whose empty ledger names template1 as its home.
my $node = bh_node('empty_home', database => 'probe', create_database => 0,
	extension => 0);
$node->safe_psql('template1', 'CREATE EXTENSION bh_audit');
$node->safe_psql('postgres', 'CREATE DATABASE probe');
is($node->safe_psql('probe', 'SELECT database_name FROM bh_audit.ledger_home'),
	'template1', "the copy's empty ledger names template1");

# The sealer connects and runs batches with nothing to seal.
ok( $node->poll_query_until('probe',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'
		    AND datname = 'probe'}),
	'the sealer works in probe');
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
sleep(1);

# Then events: the first sealed ones make probe the home.
$node->safe_psql('probe', "SELECT bh_audit.emit('READ', 'Patient', 'p1', 'p1')");
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', 'SELECT database_name FROM bh_audit.ledger_home'),
	'probe', 'the first events sealed make probe the home');

$node->restart;
$node->safe_psql('probe', "SELECT bh_audit.emit('READ', 'Patient', 'p2', 'p2')");
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is( $node->safe_psql('probe',
		q{SELECT string_agg(coalesce(event -> 'metadata' ->> 'change', resource_id), ',' ORDER BY seq)
		    FROM bh_audit.events}),
	'p1,p2', 'no ledger_continued after the restart: the two events only');
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
