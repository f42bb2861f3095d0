# DROP DATABASE forgets the dropped database's queue id block (utility.c,
# bh_queue_ids_forget_database()).  The OID is looked up by name before the
# drop waits for the database's lock: a concurrent transaction that renames
# the named database away and another one to that name makes the drop drop
# the other database, whose block then stays, and a database created later
# with its OID from a template whose sequence stands where that block left
# it takes ids from the dropped database's block.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids_drop_renamed');
$node->safe_psql('postgres', 'CREATE DATABASE tmpl IS_TEMPLATE true');
bh_queue_table($node, 'tmpl', 227, extension => 1);
$node->safe_psql('postgres', 'CREATE DATABASE victim OID 70102 TEMPLATE tmpl');
$node->safe_psql('postgres', 'CREATE DATABASE other OID 70103 TEMPLATE tmpl');
$node->safe_psql('victim', "INSERT INTO t227.pat VALUES (1, 'a')");
my $left = $node->safe_psql('victim', 'SELECT last_value FROM bh_audit.queue_id_seq');

# a transaction renames "other" away and "victim" to "other"
my $renamer = $node->background_psql('postgres');
$renamer->query_safe('BEGIN');
$renamer->query_safe('ALTER DATABASE other RENAME TO other_old');
$renamer->query_safe('ALTER DATABASE victim RENAME TO other');

# DROP DATABASE other: looks up 70103, waits for its lock
my $dropper = $node->background_psql('postgres', on_error_stop => 0);
$dropper->query_until(qr/start/, "\\echo start\nDROP DATABASE other;\n");
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_locks
 WHERE locktype = 'object' AND objid = 70103 AND NOT granted}),
	'the drop waits for the renamed database');
$renamer->query_safe('COMMIT');
$renamer->quit;
$dropper->query_safe('SELECT 1');
$dropper->quit;
is($node->safe_psql('postgres',
	q{SELECT string_agg(oid::text || '=' || datname, ',' ORDER BY oid)
	    FROM pg_database WHERE oid IN (70102, 70103)}),
	'70103=other_old', 'the drop dropped the database named so when it got the lock (70102)');

# a database created again with 70102, its sequence where the block left it
$node->safe_psql('tmpl', "SELECT pg_catalog.setval('bh_audit.queue_id_seq', $left)");
$node->safe_psql('postgres', 'CREATE DATABASE again OID 70102 TEMPLATE tmpl');
$node->safe_psql('again', "INSERT INTO t227.pat VALUES (2, 'b')");
is($node->safe_psql('again', 'SELECT max(id) FROM bh_audit.queue'), $left + 1,
	'the dropped database\'s block is forgotten: the next id is the one its sequence gives');

# --- the sealer's home check waits for the home table's lock ----------------
# A batch with the home check due (a relcache invalidation of
# bh_audit.ledger_home) takes the chain lock, the queue's and the ledger's
# together (sealer.c, bh_seal_lock()), then the home table's ROW EXCLUSIVE
# lock in bh_home_check() (home.c) while it holds them: a transaction
# holding a SHARE lock on the home table that then locks the queue
# deadlocks with it.
$node->safe_psql('postgres', q{
CREATE SCHEMA s227;
CREATE TABLE s227.pat (id int PRIMARY KEY, name text);
SELECT bh_audit.tag_table('s227.pat', 'Patient227', 'id', 'id');
INSERT INTO s227.pat VALUES (0, 'x');});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $log_offset = -s $node->logfile;
my $holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe("SET deadlock_timeout = '100ms'");
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE bh_audit.ledger_home IN SHARE MODE');
# a relcache invalidation of the home table: the check is due
$node->safe_psql('postgres', 'GRANT SELECT ON bh_audit.ledger_home TO PUBLIC');
$node->safe_psql('postgres', "INSERT INTO s227.pat VALUES (1, 'x')");
ok(bh_poll_session($node->background_psql('postgres'), q{
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
 WHERE a.backend_type = 'bh_audit sealer' AND NOT l.granted}),
	'the sealer waits for the holder');
$holder->query('LOCK TABLE bh_audit.queue IN SHARE MODE');
my $holder_err = $holder->{stderr};
$holder->query('COMMIT');
$holder->quit;
unlike($holder_err, qr/deadlock detected/,
	'the holder of the home table\'s lock locks the queue without a deadlock');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
unlike(slurp_file($node->logfile, $log_offset), qr/deadlock detected/,
	'no deadlock in the log');

done_testing();
