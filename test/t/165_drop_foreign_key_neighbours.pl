# DROP SCHEMA s, bh_audit CASCADE dropping tagged tables of s that have
# foreign keys to, or from, tables of another schema: PostgreSQL locks
# each of those tables when it drops the key (RemoveConstraintById()), so
# the drop takes them first, with the queue (operations.md), and a reader
# of one of them whose first event comes while the drop waits commits (no
# 40P01).  The keys: one referencing the dropped table (o.ref), one of two
# columns referenced by it (o.ref2), one referencing a partitioned tagged
# table (o.ref3: PostgreSQL keeps a key per partition), among many others
# of the database that the drop leaves alone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('drop_fk');
$node->safe_psql('postgres', q{
CREATE SCHEMA s;
CREATE SCHEMA o;
CREATE TABLE s.tt (id int PRIMARY KEY, pat text);
CREATE TABLE o.ref (id int PRIMARY KEY, tid int REFERENCES s.tt);
CREATE TABLE o.ref2 (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE s.tt2 (id int, pat text, a int, b int, FOREIGN KEY (a, b) REFERENCES o.ref2);
CREATE TABLE s.ptt (id int PRIMARY KEY, pat text) PARTITION BY RANGE (id);
CREATE TABLE s.ptt_a PARTITION OF s.ptt FOR VALUES FROM (0) TO (10);
CREATE TABLE s.ptt_b PARTITION OF s.ptt FOR VALUES FROM (10) TO (20);
CREATE TABLE o.ref3 (id int PRIMARY KEY, pid int REFERENCES s.ptt);
SELECT bh_audit.tag_table('s.tt', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('s.tt2', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('s.ptt', 'ST', 'id', 'pat');
CREATE TABLE o.p (id int PRIMARY KEY);
DO $$ BEGIN FOR i IN 1 .. 100 LOOP
  EXECUTE format('CREATE TABLE o.c%s (id int REFERENCES o.p, j int REFERENCES o.p)', i);
END LOOP; END $$;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_constraint WHERE contype = 'f'}),
	'205', 'the foreign keys: 200 among o\'s tables, 5 with s\'s (o.ref3\'s, one per partition too)');
# the monitor in another database (see t/159)
$node->safe_psql('postgres', 'CREATE DATABASE mon');
my $mon = $node->background_psql('mon');

# DROP SCHEMA s, bh_audit CASCADE (in a transaction, rolled back) waits
# for a reader of $table, which PostgreSQL locks when it drops the key;
# the reader's first event, while the drop waits, commits; then the drop
# runs.
sub drop_waits_for_reader
{
	my ($table) = @_;
	my $oid = $node->safe_psql('postgres', qq{SELECT '$table'::regclass::oid});
	my $r = $node->background_psql('postgres', on_error_stop => 0);
	my $d = $node->background_psql('postgres', on_error_stop => 0);
	$r->query_safe(q{SET deadlock_timeout = '100ms'});
	$d->query_safe(q{SET deadlock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	$r->query_safe('BEGIN');
	$r->query_safe("SELECT count(*) FROM $table");
	my $dpid = $d->query_safe('SELECT pg_backend_pid()');
	$d->query_safe('BEGIN');
	$d->query_until(qr/started/, "\\echo started\nDROP SCHEMA s, bh_audit CASCADE;\n");
	my $waits = 0;
	foreach (1 .. 300)
	{
		$waits = 1, last if $mon->query_safe(qq{SELECT count(*) FROM pg_locks
 WHERE pid = $dpid AND NOT granted AND relation = $oid}) eq '1';
		usleep(100_000);
	}
	ok($waits, "the drop waits for the reader of $table");
	$r->query(q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')});
	$r->query('COMMIT');
	is($r->{stderr}, '', "the reader's first event commits, no deadlock (40P01)");
	is($d->query(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'0', '... and the drop then drops the extension');
	is($d->{stderr}, '', '... without an error');
	$d->query('ROLLBACK');
	$_->quit foreach $r, $d;
}
drop_waits_for_reader('o.ref');     # referencing the dropped s.tt
drop_waits_for_reader('o.ref2');    # referenced by the dropped s.tt2 (a, b)
drop_waits_for_reader('o.ref3');    # referencing the dropped partitions of s.ptt
$mon->quit;
done_testing();
