# home.c takes a queue row for one a copy brought when its raw xmin precedes
# the raw xmin of the database's pg_database row (bh_home_born(): "a later
# one if the row was updated since").  But a transaction whose ID was
# assigned before CREATE DATABASE may update that row after it (GRANT ...
# ON DATABASE in a session open since): the row's xmin is then older than
# the CREATE DATABASE, and a row of the template written between the two
# no longer looks copied.  The first plain commit in the copy then claims
# the home (bh_home_claim: "the queue holds no row older than the
# database"), and the sealer seals the template's row as the copy's own: no
# ledger_continued from the template.  It must record one.
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

my $node = bh_node('born_older_grant', database => 'tmpl');
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');

# a session whose transaction has an ID older than everything below
my $old = $node->background_psql('postgres', on_error_stop => 0);
$old->query_safe('BEGIN');
my $old_xid = $old->query_safe('SELECT txid_current() % 4294967296');

# a row queued in the template, then the copy
$node->safe_psql('tmpl', $event);
is($node->safe_psql('tmpl', 'SELECT count(*) FROM bh_audit.queue'), '1', 'tmpl: one row queued');
$node->safe_psql('postgres', 'CREATE DATABASE db1 TEMPLATE tmpl');

# the old transaction changes db1's pg_database row
$old->query_safe('GRANT CONNECT ON DATABASE db1 TO app');
$old->query_safe('COMMIT');
$old->quit;
is($node->safe_psql('postgres', q{SELECT xmin FROM pg_database WHERE datname = 'db1'}),
	$old_xid, 'db1: its row was last written by the older transaction');

# a plain commit in db1: the template's row is still there
$node->safe_psql('db1', $event);
is($node->safe_psql('db1', 'SELECT count(*) FROM bh_audit.queue'), '2', 'db1: the copied row and its own');
is($node->safe_psql('db1', $home), 'tmpl',
	'db1: the plain commit does not claim the home over a copied row');

$node->append_conf('postgresql.conf', "bh_audit.database = 'db1'");
$node->restart;
$node->safe_psql('db1', 'SELECT bh_audit.seal()');
is($node->safe_psql('db1', 'SELECT count(*) FROM bh_audit.queue'), '0', 'db1: sealed');
is($node->safe_psql('db1', "SELECT count(*) FROM bh_audit.events WHERE $moves AND event->'metadata'->>'previous_database' = 'tmpl'"), '1',
	'db1: the ledger continued from tmpl')
  or diag $node->safe_psql('db1', "SELECT seq, event->'metadata' FROM bh_audit.events ORDER BY seq");
bh_chain_valid($node, 'db1');

$node->stop;
done_testing();
