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
use Time::HiRes qw(usleep);

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
	foreach (1 .. 300)
	{
		return 1 if $mon->query_safe(qq{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query = '$stmt;'}) eq '1';
		usleep(100_000);
	}
	return 0;
}

# The transaction runs $steps, then $drop starts and waits for it; the
# transaction runs $after and commits.  $tag: tag st (capture triggers
# depending on the extension: a drop without CASCADE would be refused).
sub run_case
{
	my ($name, $drop, $tag, $steps, $after) = @_;
	$node->safe_psql('postgres', q{
SET ROLE su2;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE SCHEMA IF NOT EXISTS other;
} . ($tag ? q{SELECT bh_audit.tag_table('st', 'ST', 'id', 'pat');} : ''));
	$mon->query_safe('SELECT count(*) FROM plain');
	my $w = $node->background_psql('postgres', on_error_stop => 0);
	my $d = $node->background_psql('postgres', on_error_stop => 0);
	$w->query_safe(q{SET deadlock_timeout = '100ms'});
	$d->query_safe(q{SET deadlock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	$w->query_safe('BEGIN');
	$w->query_safe($_) foreach @$steps;
	$d->query_until(qr/started/, "\\echo started\n$drop;\n");
	ok(drop_waits($drop), "$name: the drop waits for the transaction");
	$w->query($_) foreach @$after, 'COMMIT';
	is($w->{stderr}, '', "$name: the transaction commits");
	$d->query(q{SELECT 'next'});
	is($d->{stderr}, '', "$name: the drop completes");
	$w->quit;
	$d->quit;
	is($mon->query_safe(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'0', "$name: the extension is gone");
}

my $emit = [q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')}];
run_case('DROP SCHEMA, emit()', 'DROP SCHEMA bh_audit CASCADE', 1, $emit, []);
run_case('DROP SCHEMA, a write', 'DROP SCHEMA bh_audit CASCADE', 1,
	[q{INSERT INTO st VALUES (1, 'a')}], [q{INSERT INTO st VALUES (2, 'b')}]);
run_case('DROP SCHEMA of two schemas', 'DROP SCHEMA other, bh_audit CASCADE', 1,
	[q{INSERT INTO st VALUES (3, 'c')}], []);
run_case('DROP OWNED, emit()', 'DROP OWNED BY su2 CASCADE', 1, $emit, []);
run_case('DROP OWNED, a write', 'DROP OWNED BY su2 CASCADE', 1,
	[q{INSERT INTO st VALUES (4, 'd')}], [q{INSERT INTO st VALUES (5, 'e')}]);
# without CASCADE: nothing depends on the extension from outside
run_case('DROP OWNED of two roles', 'DROP OWNED BY r3, su2', 0, $emit, []);
is($mon->query_safe('SELECT string_agg(pat, \',\' ORDER BY id) FROM st'), 'a,b,c,d,e',
	'the transactions\' writes are committed');

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
