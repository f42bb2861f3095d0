# The queue does not grow with the number of transactions: the sealer
# vacuums it after every 1,024 rows it deleted, so that writers reuse the
# space of rows already chained instead of extending the table until
# autovacuum comes.  Autovacuum is off here: only the sealer can keep the
# queue small.  The load comes in chunks of 250 transactions, each chunk
# sealed (seal()) before the next, so that the queue's size shows its dead
# rows and at most one chunk's backlog, however fast the sealer is.
# Without the sealer's vacuum, 6,000 transactions of one queue row each
# left it at 430 pages, and 6,000 more at 859 (about one page for every
# 14); with it, 100 to 120 (one chunk's rows and the dead rows left
# between vacuums).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_vacuum', conf => "autovacuum = off\n");
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id serial PRIMARY KEY, patient_id int, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_reads => false);
SELECT bh_audit.seal();
});
my $before = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

# 24 chunks of 250 transactions, each inserting one row of a tagged table.
sub load
{
	my ($name) = @_;
	for my $chunk (1 .. 24)
	{
		$node->pgbench('-n -c 2 -j 2 -t 125', 0, [qr{processed: 250/250}], [qr{^$}],
			"$name, chunk $chunk: 250 transactions",
			{ "033_${name}_$chunk" => q{INSERT INTO notes (patient_id, body) VALUES (1 + (random() * 99)::int, 'x');} });
		$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	}
}

load('first');
is($node->safe_psql('postgres', qq{
SELECT count(*), count(DISTINCT resource_id) FROM bh_audit.events
 WHERE seq > $before AND resource_type = 'Note' AND action = 'CREATE'}),
	'6000|6000', 'every insert is chained, once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.queue'), '0',
	'the queue is empty');

my ($pages, $vacuums) = split /\|/, $node->safe_psql('postgres', q{
SELECT pg_relation_size('bh_audit.queue') / current_setting('block_size')::int,
       vacuum_count
  FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass});
cmp_ok($vacuums, '>=', 2, "the sealer vacuumed the queue ($vacuums times)");
cmp_ok($pages, '<=', 200, "the queue stayed small ($pages pages for 6,000 rows)");

# The writers' space was reused: the ledger verifies, and a later load
# does not grow the queue again.
load('second');
my $pages2 = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('bh_audit.queue') / current_setting('block_size')::int});
cmp_ok($pages2, '<=', $pages + 50, "the second load reused the queue's pages ($pages2 pages)");
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

$node->stop;
done_testing();
