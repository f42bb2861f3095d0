# DROP SCHEMA bh_audit CASCADE and DROP OWNED BY the extension's owner (with
# CASCADE, or without it where it drops the extension), also naming several
# schemas or roles, while other sessions' transactions hold events (emit(),
# a write to a tagged table): the drop locks the queue first, as DROP
# EXTENSION does (t/154), and waits for them while it holds nothing their
# commits need; they commit, then the drop proceeds.  Before, such a drop
# locked the extension's objects in PostgreSQL's order, the queue's
# sequence before the queue, and a transaction's commit (which takes the
# sequence's next value) deadlocked with it (40P01, the transaction lost).
# A drop that PostgreSQL refuses before it locks the extension's objects
# (in a read-only transaction, by a role not allowed, naming a role whose
# objects the system requires, or a schema that does not exist) is refused
# at once, not after waiting for the transaction.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('dropcascade', extension => 0);
# the extension's owner: a superuser other than the bootstrap one, whose
# objects DROP OWNED cannot drop
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
CREATE ROLE r3;
CREATE TABLE st (id int, pat text);
CREATE TABLE plain (id int);
});

my $mon = $node->background_psql('postgres');

sub drop_waits
{
	my ($stmt) = @_;
	return bh_poll_session($mon, qq{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query = '$stmt;'});
}

# The transaction runs $steps, then $drop starts and waits for it; the
# transaction runs $after and commits.  $tag: the table to tag (capture triggers depending on the extension: a
# drop without CASCADE is refused unless it drops the table too).
sub run_case
{
	my ($name, $drop, $tag, $steps, $after) = @_;
	$node->safe_psql('postgres', q{
SET ROLE su2;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE SCHEMA IF NOT EXISTS other;
} . ($tag ? qq{SELECT bh_audit.tag_table('$tag', 'ST', 'id', 'pat');} : ''));
	$mon->query_safe('SELECT count(*) FROM plain');
	my ($w, $d) = bh_start_drop($node, $drop, $steps);
	ok(drop_waits($drop), "$name: the drop waits for the transaction");
	bh_drop_after_commit($mon, $name, $w, $d, $after);
}

my $emit = [q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')}];
run_case('DROP SCHEMA, emit()', 'DROP SCHEMA bh_audit CASCADE', 'st', $emit, []);
run_case('DROP SCHEMA, a write', 'DROP SCHEMA bh_audit CASCADE', 'st',
	[q{INSERT INTO st VALUES (1, 'a')}], [q{INSERT INTO st VALUES (2, 'b')}]);
run_case('DROP SCHEMA of two schemas', 'DROP SCHEMA other, bh_audit CASCADE', 'st',
	[q{INSERT INTO st VALUES (3, 'c')}], []);
run_case('DROP OWNED, emit()', 'DROP OWNED BY su2 CASCADE', 'st', $emit, []);
run_case('DROP OWNED, a write', 'DROP OWNED BY su2 CASCADE', 'st',
	[q{INSERT INTO st VALUES (4, 'd')}], [q{INSERT INTO st VALUES (5, 'e')}]);
# without CASCADE: nothing depends on the extension from outside
run_case('DROP OWNED of two roles', 'DROP OWNED BY r3, su2', '', $emit, []);
is($mon->query_safe('SELECT string_agg(pat, \',\' ORDER BY id) FROM st'), 'a,b,c,d,e',
	'the transactions\' writes are committed');

# A transaction whose first event comes while the drop runs: it holds the
# tagged table (here from a read before the drop), and its write waits for
# no lock of the drop's.  The drop takes the queue, the extension's other
# relations and, with CASCADE, the tables whose capture triggers it drops
# together, or waits for the one it cannot have while holding none; the
# transaction commits, then the drop proceeds.  Before, the drop held the
# queue and waited for the table, the write waited for the queue (40P01,
# the transaction lost).
foreach my $drop ('DROP EXTENSION bh_audit CASCADE', 'DROP SCHEMA bh_audit CASCADE',
	'DROP OWNED BY su2 CASCADE')
{
	run_case("$drop, a first event while it waits", $drop, 'st',
		['SELECT count(*) FROM st'], [q{INSERT INTO st VALUES (6, 'f')}]);
	$node->safe_psql('postgres', 'DELETE FROM st WHERE id = 6');
}
# DROP OWNED without CASCADE drops a tagged table of the owner's with it
$node->safe_psql('postgres', q{CREATE TABLE sto (id int, pat text); ALTER TABLE sto OWNER TO su2});
run_case('DROP OWNED, its tagged table, a first event while it waits', 'DROP OWNED BY su2', 'sto',
	['SELECT count(*) FROM sto'], [q{INSERT INTO sto VALUES (1, 'a')}]);
is($mon->query_safe(q{SELECT count(*) FROM pg_class WHERE relname = 'sto'}), '0',
	'the tagged table of the owner\'s is dropped');
# so with a relation of the extension's own that it holds (a read of the
# ledger), without CASCADE too
run_case('a read of the ledger, then a first event', 'DROP EXTENSION bh_audit', '',
	['SELECT count(*) FROM bh_audit.events'], $emit);

# Writers that hold the queue already are not caught either: one holds
# events of st and goes on to write st2, which another transaction holds
# (a read) when the drop begins, and writes then (its first event).  The
# drop gives way to both: they commit, then it proceeds.
$node->safe_psql('postgres', q{
SET ROLE su2;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE TABLE st2 (id int, pat text);
SELECT bh_audit.tag_table('st', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('st2', 'ST', 'id', 'pat');
});
$mon->query_safe('SELECT count(*) FROM plain');
{
	my $w1 = $node->background_psql('postgres', on_error_stop => 0);
	my $w2 = $node->background_psql('postgres', on_error_stop => 0);
	my $d = $node->background_psql('postgres', on_error_stop => 0);
	$_->query_safe(q{SET deadlock_timeout = '100ms'}) foreach $w1, $w2;
	$d->query_safe(q{SET deadlock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	$w2->query_safe('BEGIN');
	$w2->query_safe('SELECT count(*) FROM st2');
	$d->query_until(qr/started/, "\\echo started\nDROP EXTENSION bh_audit CASCADE;\n");
	ok(drop_waits('DROP EXTENSION bh_audit CASCADE'), 'the drop waits for the reader of st2');
	$w1->query_safe('BEGIN');
	$w1->query_until(qr/sent/,
		"\\echo sent\nINSERT INTO st VALUES (7, 'g');\nINSERT INTO st2 VALUES (8, 'h');\n");
	ok(bh_poll_session($mon, q{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO st2 VALUES (8%'}),
		'the writer holding events waits for st2 behind the drop');
	$w2->query(q{INSERT INTO st2 VALUES (9, 'i')});
	$w2->query('COMMIT');
	is($w2->{stderr}, '', 'the reader of st2 writes it and commits');
	$w1->query('COMMIT');
	is($w1->{stderr}, '', 'the writer holding events writes st2 and commits');
	$d->query(q{SELECT 'next'});
	is($d->{stderr}, '', 'the drop completes');
	$_->quit foreach $w1, $w2, $d;
	is($mon->query_safe(q{SELECT (SELECT string_agg(pat, ',' ORDER BY id) FROM st) || ' ' ||
 (SELECT string_agg(pat, ',' ORDER BY id) FROM st2) || ' ' ||
 (SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit')}),
		'a,b,c,d,e,g h,i 0', 'both transactions\' writes are committed, the extension is gone');
}

# A drop PostgreSQL refuses before it locks anything does not lock the
# queue first either, nor wait for the transaction: refused at once.
$node->safe_psql('postgres', q{
SET ROLE su2;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE ROLE r4 LOGIN;
});
my $w = $node->background_psql('postgres', on_error_stop => 0);
$w->query_safe('BEGIN');
$w->query_safe($emit->[0]);
foreach my $case (
	[ 'in a read-only transaction', 'postgres',
		'BEGIN READ ONLY; DROP EXTENSION bh_audit',
		qr/ERROR:  cannot execute DROP EXTENSION in a read-only transaction/ ],
	[ 'of a role whose objects the system requires', 'postgres',
		'DROP OWNED BY postgres, su2 CASCADE',
		qr/ERROR:  cannot drop objects owned by role postgres because they are required by the database system/ ],
	[ 'by a role that may not', 'r4', 'DROP OWNED BY su2 CASCADE',
		qr/ERROR:  permission denied to drop objects/ ],
	[ 'naming a schema that does not exist', 'postgres',
		'DROP SCHEMA bh_audit, nosuch CASCADE',
		qr/ERROR:  schema "nosuch" does not exist/ ])
{
	my ($name, $role, $sql, $err) = @$case;
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SET lock_timeout = '5s'; $sql;", extra_params => [ '-U', $role ]);
	like($stderr, $err, "a drop $name is refused at once");
}
$w->query_safe('COMMIT');
$w->quit;
is($mon->query_safe(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
	'1', 'the extension is there');

$mon->quit;
done_testing();
