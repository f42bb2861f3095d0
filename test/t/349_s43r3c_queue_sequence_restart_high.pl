# A superuser's ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH a value
# above 2^62, in the sealer's database once its queue is sealed and
# vacuumed (empty).  The docs (sql-reference.md) say such a sequence "is
# taken back to just after" the ids given since the server started or the
# queue's highest, "or to its MINVALUE when none is known (no block since
# the server started, the queue empty)".  A block was given since the
# server started, but bh_seq_floor() forgets it once the sequence is in
# another relfilenode (the ALTER): the ids start again at MINVALUE, below
# the ids given and sealed before, in the same server and sealer (whose
# noted ids, bh_queue_high, then no longer tell a gap).  Right: the ids go
# on after those given.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_sequence_restart_high');
bh_queue_table($node, 'postgres', 349);

$node->safe_psql('postgres',
	join('', map { "INSERT INTO t349.pat VALUES ($_, 'x');\n" } 1 .. 5));
my $given = $node->safe_psql('postgres', 'SELECT last_value FROM bh_audit.queue_id_seq');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$node->safe_psql('postgres', 'VACUUM bh_audit.queue');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.queue'), '0',
	'the queue is sealed');
$node->safe_psql('postgres',
	'ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 4611686018427387905');
$node->safe_psql('postgres', "INSERT INTO t349.pat VALUES (6, 'x')");
my $first = $node->safe_psql('postgres',
	'SELECT last_value - 1023 FROM bh_audit.queue_id_seq');
note "ids given before: up to $given; the next block from $first";
cmp_ok($first, '>', $given, 'the next ids go on after those given since the server started');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events WHERE event -> 'resource' ->> 'type' = 'Patient349'}),
	'6', 'every write sealed');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

$node->stop;
done_testing();
