# A pg_dump of a database restored with psql (each COPY its own
# transaction) into the sealer's running database: the ledger is a copy
# of clinic's, continued here, one fork, so exactly one ledger_continued,
# naming clinic, and the chain verifies.  The dump holds the ledger's rows
# (bh_audit.events) before the home's row (bh_audit.ledger_home): once the
# ledger's rows commit, the mark names an "unknown" previous home, and the
# sealer, looking at the home again, records that; the home's row arriving
# next names clinic, and the sealer records a second continuation for the
# same fork, at the head it had sealed meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};
my $trail = q{SELECT string_agg(seq || ':' || coalesce(event->'metadata'->>'change', '')
  || ':' || coalesce(event->'metadata'->>'previous_database', ''), ' ' ORDER BY seq)
  FROM bh_audit.events};

my $node = bh_node('restore_running', database => 'clinic');
bh_notes_ledger($node, 'clinic');
# what a plain restore does: each statement its own transaction, the sealer
# sealing meanwhile (other sessions' events, logins: here a batch after
# each COPY, which seal() waits for)
my $paced = bh_paced_dump($node, 'clinic', 'clinic_paced');
# the same with an event queued before each of those batches (below)
my $busy = bh_paced_dump($node, 'clinic', 'clinic_busy', busy => 1);

$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->append_conf('postgresql.conf', "bh_audit.database = 'restored'");
$node->restart;
$node->safe_psql('restored', 'SELECT 1');
bh_restore_file($node, 'restored', $paced, 'restored with psql');
$node->safe_psql('restored', 'SELECT bh_audit.seal()');
is($node->safe_psql('restored', "SELECT count(*) FROM bh_audit.events WHERE $moves"), '1',
	'one continuation for one copy')
  or diag 'restored: ' . $node->safe_psql('restored', $trail);
is($node->safe_psql('restored', "SELECT string_agg(event->'metadata'->>'previous_database', ',') FROM bh_audit.events WHERE $moves"),
	'clinic', 'naming clinic');
bh_chain_valid($node, 'restored');

# The same restore with an event to seal after each COPY (another session's
# write, a login): the batch after the ledger's COPY must chain onto the
# restored head, so it records the continuation then, from a home the
# restore has not said yet ("unknown"); the home's row arriving next finds
# the fork on record and records nothing more.
$node->safe_psql('postgres', 'CREATE DATABASE restored2');
$node->append_conf('postgresql.conf', "bh_audit.database = 'restored2'");
$node->restart;
$node->safe_psql('restored2', 'SELECT 1');
bh_restore_file($node, 'restored2', $busy, 'restored with psql, an event sealed after each COPY');
$node->safe_psql('restored2', 'SELECT bh_audit.seal()');
is( $node->safe_psql('restored2',
		"SELECT count(*), string_agg(event->'metadata'->>'previous_database', ','),
		        string_agg(event->'metadata'->>'head_seq', ',') FROM bh_audit.events WHERE $moves"),
	'1|unknown|3', 'busy: one continuation, at the restored head, from an unknown home')
  or diag 'restored2: ' . $node->safe_psql('restored2', $trail);
bh_chain_valid($node, 'restored2');

$node->stop;
done_testing();
