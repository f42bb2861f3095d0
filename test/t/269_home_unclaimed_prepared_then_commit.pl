# operations.md: a COMMIT PREPARED that claims nothing (in a read-only
# transaction, or while a batch or a restore holds the chain lock) leaves a
# continuation too many only in "a database whose only writes before a
# change of its pg_database row were committed so".  A database created
# from a template holding the extension, whose first queued events were
# committed by such a COMMIT PREPARED (default_transaction_read_only on,
# as a reporting login's), then by a plain COMMIT, then GRANT ... ON
# DATABASE, must record no ledger_continued at its first seal: the plain
# commit was one of its writes, before the change.  But the plain commit's
# claim (home.c bh_home_claim) took every queued row it did not write for
# one a copy brought ("a copy's: the sealer records it") and settled
# without claiming: the home named the template until the GRANT made the
# rows look older than the database, and the sealer recorded a
# continuation from the template at head_seq 0, though nothing came from
# it.  Now the claim takes for copied only queue rows older than the
# database's pg_database row, as the sealer does (a copy's are).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};
my $home = q{SELECT string_agg(database_name, ',' ORDER BY database_name) FROM bh_audit.ledger_home};
my $event = q{SELECT bh_audit.emit('READ', 'Doc', 'd1', 'p1');};

my $node = bh_node('unclaimed_prepared', database => 'tmpl',
	conf => "max_prepared_transactions = 5\n");
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
$node->safe_psql('postgres', 'CREATE DATABASE db1 TEMPLATE tmpl');

# a two-phase write, committed by a read-only session: no claim (documented)
$node->safe_psql('db1', qq{
BEGIN;
$event
PREPARE TRANSACTION 'w';
});
$node->safe_psql('db1', q{
SET default_transaction_read_only = on;
COMMIT PREPARED 'w';
});
is($node->safe_psql('db1', "SELECT ($home), (SELECT count(*) FROM bh_audit.queue)"),
	'tmpl|1', 'db1: the read-only COMMIT PREPARED claimed nothing (as documented)');

# then a plain commit that queued events, before any change of the database
$node->safe_psql('db1', $event);
is($node->safe_psql('db1', $home), 'db1',
	'db1: a plain commit that queued events makes it the home');

$node->safe_psql('postgres', 'GRANT CONNECT ON DATABASE db1 TO app');
$node->append_conf('postgresql.conf', "bh_audit.database = 'db1'");
$node->restart;
$node->safe_psql('db1', 'SELECT bh_audit.seal()');
is($node->safe_psql('db1', 'SELECT count(*) > 0 FROM bh_audit.events'), 't', 'db1: sealed');
is($node->safe_psql('db1', "SELECT count(*) FROM bh_audit.events WHERE $moves"), '0',
	'db1: no continuation, nothing came from tmpl\'s queue')
  or diag $node->safe_psql('db1', "SELECT event->'metadata' FROM bh_audit.events WHERE $moves");
bh_chain_valid($node, 'db1');

$node->stop;
done_testing();
