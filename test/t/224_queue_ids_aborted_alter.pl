# The queue's ids (queue_ids.c) after a reservation made in a transaction
# that rewrote the queue's sequence (ALTER SEQUENCE ... RESTART, which
# gives it a new relfilenode) and then rolled back: the reservation read
# and moved the new relfilenode, which the rollback throws away, but the
# block stays installed in shared memory.  The ids that follow must still
# go on after those already used ("clinic" keeps its queue rows): not
# below them, and never one of them again (a duplicate key on queue_pkey).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids_aborted_alter');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
bh_queue_table($node, 'clinic', 224, extension => 1);
$node->safe_psql('clinic', q{
ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 500;});
$node->restart;
$node->safe_psql('clinic', "INSERT INTO t224.pat VALUES (1, 'a')");
my $max = $node->safe_psql('clinic', 'SELECT max(id) FROM bh_audit.queue');
is($max, '500', 'the committed write took id 500');

# blocks empty; a transaction restarts the sequence, writes enough for
# queue rows before its commit (a reservation), and rolls back
$node->restart;
$node->safe_psql('clinic', q{
BEGIN;
ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 100;
INSERT INTO t224.pat SELECT g, 'many' FROM generate_series(1000, 1300) g;
ROLLBACK;});

$node->safe_psql('clinic', "INSERT INTO t224.pat VALUES (2, 'b')");
my $id = bh_queue_id($node, 'clinic', 224, 2);
cmp_ok($id, '>', $max,
	'after the rollback, the next id goes on after those already used');

# 600 writes, each its own transaction: none fails with a duplicate key
my ($ret, $out, $err) = $node->psql('clinic',
	join('', map { "INSERT INTO t224.pat VALUES ($_, 'x');\n" } 3 .. 602),
	on_error_stop => 1);
is($err =~ /(duplicate key[^\n]*)/ ? $1 : $ret, 0,
	'600 writes after the rollback: no duplicate key on the queue');
is($node->safe_psql('clinic', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'the queue ids are unique');

done_testing();
