# A copy of a database whose ledger is empty but whose queue holds events
# (the extension in a database that was not, or not yet, the sealer's): a
# TEMPLATE copy, or a pg_dump restored into another cluster, holds the same
# queued events.  Each copy's sealer then seals them into its own ledger,
# which share those events and go on differently: a fork, as much as a
# copy of a ledger that holds events is.  The copy's sealer records where it
# continued (ledger_continued, naming the database the events were queued
# in) before it seals the events that came with the copy.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# seq:resource_id:change of a ledger, in seq order
my $trail = q{SELECT string_agg(seq || ':' || coalesce(resource_id, '') || ':'
  || coalesce(event->'metadata'->>'change', ''), ' ' ORDER BY seq) FROM bh_audit.events};

# The extension in clinic while the sealer works in postgres (no
# extension there): clinic's writes stay queued, its ledger empty.
my $node = bh_node('copied_queue', database => 'clinic');
my $clinic_oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'clinic'");
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
bh_queued_unsealed($node, 'clinic');
my $queued = $node->safe_psql('clinic',
	q{SELECT string_agg(e->>'event_id', ',' ORDER BY e->>'event_id') FROM bh_audit.queue q, unnest(q.events) e});

# Case 1: a TEMPLATE copy, then the sealer in the copy, then back in clinic.
$node->safe_psql('postgres', 'CREATE DATABASE copy1 TEMPLATE clinic');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('clinic'), '-f', $dump], 'pg_dump of clinic');
bh_seal_in($node, 'copy1');
bh_seal_in($node, 'clinic');

my $in_both = q{SELECT string_agg(event_id::text, ',' ORDER BY event_id::text) FROM bh_audit.events WHERE event_id::text IN (}
  . join(',', map { "'$_'" } split(/,/, $queued)) . ')';
is($node->safe_psql('copy1', $in_both), $queued, 'the copy sealed the events queued in clinic');
is($node->safe_psql('clinic', $in_both), $queued, 'and so did clinic: the two ledgers share them');
is(bh_continued($node, 'clinic', 'count(*)'), '0',
	'clinic, the ledger\'s own home, records no continuation');
is(bh_continued($node, 'copy1', 'count(*)'), '1',
	'the copy records one continuation')
  or diag 'copy1: ' . $node->safe_psql('copy1', $trail);
is( bh_continued($node, 'copy1',
		"seq = 1, event->'metadata'->>'previous_database', event->'metadata'->>'previous_database_oid',
		 event->'metadata'->>'head_seq'"),
	"t|clinic|$clinic_oid|0",
	'first, naming clinic, before the events that came with the copy');
is($node->safe_psql('copy1', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the copy\'s chain verifies');

# Case 2: the dump restored into the sealer's database of another cluster.
my $node2 = bh_node('copied_queue_b', database => 'restored', extension => 0);
$node2->command_ok(['pg_restore', '--exit-on-error', '--single-transaction',
		'-d', $node2->connstr('restored'), $dump], 'pg_restore into another cluster');
$node2->safe_psql('restored', 'SELECT bh_audit.seal()');
is($node2->safe_psql('restored', $in_both), $queued, 'the restored database sealed the events queued in clinic');
is(bh_continued($node2, 'restored', 'count(*)'), '1',
	'after one continuation')
  or diag 'restored: ' . $node2->safe_psql('restored', $trail);
is( bh_continued($node2, 'restored',
		"seq = 1, event->'metadata'->>'previous_database', event->'metadata'->>'head_seq'"),
	't|clinic|0', 'first, naming clinic');

$node2->stop;
$node->stop;
done_testing();
