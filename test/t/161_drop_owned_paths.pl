# Drops of the extension by DROP SCHEMA ... CASCADE and DROP OWNED that
# reach tagged tables besides the extension's own objects.
#  1. DROP SCHEMA s, bh_audit CASCADE (s holding a tagged table) and
#     DROP OWNED BY the extension's owner (owning a tagged table created
#     after CREATE EXTENSION) drop the extension, as DROP EXTENSION does:
#     the statement's own drop of the table is no change recorded by the
#     transaction (operations.md).
#  2. In a database that is not the sealer's, each statement dropping the
#     extension is refused in a transaction that recorded a change before
#     it (55000), and the ROLLBACK that follows, in the aborted
#     transaction, does not crash the backend.
#  3. DROP OWNED BY the owner dropping its tagged table that is a
#     partition of another role's untagged table, or has a foreign key to
#     another role's table: the drop takes that table first, as PostgreSQL
#     locks it; a reader of it whose first event comes while the drop
#     waits commits (no 40P01).
#  4. DROP OWNED BY the owner without CASCADE, another role's tagged table
#     having a column of the owner's domain: PostgreSQL locks that table
#     before it refuses the statement (2BP01); the drop takes it first, and
#     its reader's first event commits (no 40P01).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('drop_owned', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
CREATE ROLE rr LOGIN;
GRANT CREATE ON SCHEMA public TO rr;
SET ROLE su2;
CREATE TABLE op (id int, pat text);       -- before the extension
CREATE EXTENSION bh_audit;
CREATE TABLE late (id int, pat text);     -- after it
SELECT bh_audit.tag_table('late', 'ST', 'id', 'pat');
RESET ROLE;
CREATE SCHEMA s;
CREATE TABLE s.z (id int, pat text);
SELECT bh_audit.tag_table('s.z', 'ST', 'id', 'pat');
});

# 1. DROP SCHEMA naming a schema with a tagged table
my ($ret, $out, $err) = $node->psql('postgres', q{
SET client_min_messages = warning;
BEGIN; DROP SCHEMA s, bh_audit CASCADE; SELECT 'dropped'; ROLLBACK;});
is($err, '', 'DROP SCHEMA s, bh_audit CASCADE (tagged table in s) drops the extension');
is($out, 'dropped', '... and the statement after it runs');

# 1b. DROP OWNED BY the owner of a tagged table created after the extension
($ret, $out, $err) = $node->psql('postgres', q{
SET client_min_messages = warning;
BEGIN; DROP OWNED BY su2 CASCADE; SELECT 'dropped'; ROLLBACK;});
is($err, '', 'DROP OWNED BY su2 CASCADE (its tagged table created after the extension) drops the extension');

# 2. In a database other than the sealer's, each statement dropping the
# extension, refused in a transaction that recorded a change before it
# (55000), then ROLLBACK: no crash.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', q{
SET client_min_messages = error;
SET ROLE su2;
CREATE EXTENSION bh_audit;
CREATE TABLE late (id int, pat text);
SELECT bh_audit.tag_table('late', 'ST', 'id', 'pat');
CREATE SCHEMA s;
CREATE TABLE s.z (id int, pat text);
SELECT bh_audit.tag_table('s.z', 'ST', 'id', 'pat');
});
foreach my $drop ('DROP EXTENSION bh_audit CASCADE',
	'DROP SCHEMA bh_audit CASCADE', 'DROP SCHEMA s, bh_audit CASCADE', 'DROP OWNED BY su2 CASCADE',
	'DROP OWNED BY su2')
{
	my $log_off = -s $node->logfile;
	($ret, $out, $err) = $node->psql('other', qq{
SET client_min_messages = error;
BEGIN; INSERT INTO late VALUES (1, 'a'); $drop; ROLLBACK; SELECT 'alive';},
		on_error_stop => 0);
	like($err, qr/ERROR:  cannot drop extension bh_audit in a transaction that recorded changes\nDETAIL:  This transaction holds 1 event of changes/,
		"$drop after a write in the transaction: refused (55000)");
	is($out, 'alive', "... and ROLLBACK then runs, the session goes on");
	ok(!($node->log_contains('terminated by signal', $log_off)),
		"... and the server does not crash ($drop)");
	if ($node->log_contains('terminated by signal', $log_off))
	{	# restart_after_crash = off: the server is shut down
		usleep(100_000) while -f $node->data_dir . '/postmaster.pid';
		$node->_update_pid(0);
		$node->start;
	}
}

# 3. a tagged partition (the owner's, created before the extension) of
# another role's untagged parent
$node->safe_psql('postgres', q{
SELECT bh_audit.untag_table('late'); DROP TABLE late;
SELECT bh_audit.untag_table('s.z'); DROP SCHEMA s CASCADE;
SELECT bh_audit.tag_table('op', 'OP', 'id', 'pat');
SET ROLE rr;
CREATE TABLE rp (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE rp_a PARTITION OF rp FOR VALUES FROM (0) TO (10);
RESET ROLE;
ALTER TABLE rp ATTACH PARTITION op FOR VALUES FROM (10) TO (20);
});
# the monitor in another database (see t/159)
my $mon = $node->background_psql('other');

# DROP OWNED BY su2 (dropping the extension and su2's tagged table) waits
# for a reader of a table that PostgreSQL locks with su2's table; the
# reader's first event, while the drop waits, commits; then the drop runs.
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2', 'rp',
	'SELECT count(*) FROM rp WHERE id = 5');	# rp and rp_a only

# 3b. su2's tagged table (the partition above, detached) with a foreign key
# to another role's untagged table: PostgreSQL locks that table when it
# drops the key (RemoveConstraintById()).
$node->safe_psql('postgres', q{
ALTER TABLE rp DETACH PARTITION op;
SET ROLE rr;
CREATE TABLE rref (id int PRIMARY KEY);
RESET ROLE;
ALTER TABLE op ADD FOREIGN KEY (id) REFERENCES rref;
});
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2', 'rref');

# 4. DROP OWNED BY su2 without CASCADE, another role's tagged table rt
# having a column of su2's domain: PostgreSQL locks rt (the column
# depending on the domain, AcquireDeletionLock()) before it refuses the
# statement (2BP01), so the drop waits for rt's reader, as without
# bh_audit; that reader's first event, while the drop waits, commits (it
# was lost, 40P01, while the drop held the queue); then the drop is
# refused.
$node->safe_psql('postgres', q{
SET ROLE su2;
CREATE DOMAIN d_int AS int;
SET ROLE rr;
CREATE TABLE rt (id d_int, pat text);
RESET ROLE;
SELECT bh_audit.tag_table('rt', 'RT', 'id', 'pat');
});
my $rt = $node->safe_psql('postgres', q{SELECT 'rt'::regclass::oid});
my ($r, $d, $dpid) = bh_start_drop($node, 'DROP OWNED BY su2', ['SELECT count(*) FROM rt']);
ok(bh_poll_session($mon, qq{SELECT count(*) FROM pg_locks
 WHERE pid = $dpid AND NOT granted AND relation = $rt}),
	'DROP OWNED (refused for rt, another role\'s tagged table) waits for rt\'s reader');
$r->query(q{INSERT INTO rt VALUES (1, 'a')});
$r->query('COMMIT');
is($r->{stderr}, '', "rt's reader's first event commits, no deadlock (40P01)");
$d->query('SELECT 1');
like($d->{stderr}, qr/ERROR:  cannot drop desired object\(s\) because other objects depend on them\nDETAIL:  .*\ncolumn id of table rt depends on type d_int\n/s,
	'... and then the drop is refused (2BP01)');
$_->quit foreach $r, $d, $mon;
done_testing();
