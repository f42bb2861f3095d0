# The queue's ids (emit.c, bh_queue_next_id) after a superuser moved the
# queue's identity sequence by ALTER SEQUENCE ... RESTART WITH or by
# setval(..., false): the sequence's value is then not yet "called", and
# nextval() would give that value itself.  A block reserved after it (here
# the first one after a restart) must begin at that value, not at the
# sequence's START: else a database whose queue keeps its rows ("clinic",
# not the sealer's) fails every write with a duplicate key on queue_pkey,
# and the sealer's database hands out ids below those already used.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids_restart_with');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
bh_queue_table($node, 'clinic', 220, extension => 1);
$node->safe_psql('clinic', q{
INSERT INTO t220.pat VALUES (1, 'a');
INSERT INTO t220.pat VALUES (2, 'b');});

# the write after the sequence moved and a restart: its row's id
sub write_after
{
	my ($move, $pat) = @_;
	$node->safe_psql('clinic', $move);
	$node->restart;
	my ($ret, $out, $err) = $node->psql('clinic',
		"INSERT INTO t220.pat VALUES ($pat, 'x')");
	is( $err =~ /(duplicate key|out of bounds)/ ? $1 : $ret, 0,
		"$move: the next write succeeds");
	return bh_queue_id($node, 'clinic', 220, $pat);
}

is(write_after('ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 100000', 3),
	'100000', 'RESTART WITH: the next id is the restart value');
is(write_after(q{SELECT pg_catalog.setval('bh_audit.queue_id_seq', 200000, false)}, 4),
	'200000', 'setval(..., false): the next id is that value');

# A MAXVALUE a superuser set near the sequence's value: nextval() gives
# every id up to it; a block must not be refused whole (setval() beyond
# MAXVALUE: "setval: value ... is out of bounds") while ids are left.
$node->safe_psql('clinic', q{
DO $$BEGIN
  EXECUTE format('ALTER SEQUENCE bh_audit.queue_id_seq MAXVALUE %s',
                 (SELECT last_value + 10 FROM bh_audit.queue_id_seq));
END$$});
my $next = $node->safe_psql('clinic', 'SELECT last_value + 1 FROM bh_audit.queue_id_seq');
is(write_after('SELECT 1', 5), $next,
	'MAXVALUE near the value: the next id is the one after it');

# An INCREMENT: the ids are those nextval() would give, spaced by it.
$node->safe_psql('clinic',
	'ALTER SEQUENCE bh_audit.queue_id_seq NO MAXVALUE INCREMENT BY 3');
$next = $node->safe_psql('clinic', 'SELECT last_value + 3 FROM bh_audit.queue_id_seq');
my $ids = write_after('SELECT 1', 6);
$node->safe_psql('clinic', "INSERT INTO t220.pat VALUES (7, 'x')");
$ids .= ' ' . bh_queue_id($node, 'clinic', 220, 7);
is($ids, "$next " . ($next + 3), 'INCREMENT BY 3: the ids are spaced by it');

# No id left before MAXVALUE: the write fails as nextval() would, no id
# given beyond it.
$node->safe_psql('clinic', q{
DO $$BEGIN
  EXECUTE format('ALTER SEQUENCE bh_audit.queue_id_seq MAXVALUE %s',
                 (SELECT last_value FROM bh_audit.queue_id_seq));
END$$});
$node->restart;
my ($ret, $out, $err) = $node->psql('clinic', "INSERT INTO t220.pat VALUES (8, 'x')");
like($err, qr/reached maximum value of sequence "queue_id_seq"/,
	'MAXVALUE reached: the write fails as nextval() would');

done_testing();
