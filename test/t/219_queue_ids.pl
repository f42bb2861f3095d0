# The queue's ids (emit.c, bh_queue_next_id) come from blocks reserved in
# bh_audit.queue_id_seq by setval(), not from nextval(), which would make
# the queue's sequence the session's lastval() (sql/99_queue_seq_lastval).
# They stay unique and increasing, in write order, across a restart and a
# crash (a block's reservation is WAL-logged before any of its ids
# commits), and after rows restored into the queue by COPY (the block is
# forgotten, the next id comes after them): no write fails with a duplicate
# key, and every write's events are sealed.  Two databases: "postgres"
# (the sealer's: its events are sealed) and "clinic" (never sealed: its
# queue rows stay, to read their ids), whose blocks are kept apart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
$node->safe_psql('clinic', 'CREATE EXTENSION bh_audit');
bh_queue_table($node, $_, 219) for ('postgres', 'clinic');

my $k = 0;
my $rows = 0;

# one row by itself, then 300 in a transaction (several queue rows before
# its commit), in both databases; the writes' lastval() is the table's
sub write_both
{
	for my $db ('postgres', 'clinic')
	{
		$node->safe_psql($db, "INSERT INTO t219.pat VALUES (" . ($k + 1) . ", 'one')");
		$node->safe_psql($db,
			"INSERT INTO t219.pat SELECT g, 'many' FROM generate_series("
			  . ($k + 2) . ", " . ($k + 301) . ") g");
	}
	$k += 301;
	$rows += 301;
	return;
}

# clinic's queue: its rows in id order hold the patients in write order
# (ids unique and increasing), and every write's event is there once
sub clinic_in_order
{
	my ($what) = @_;
	is( $node->safe_psql('clinic', q{
WITH e AS (
  SELECT q.id, o, (ev -> 'resource' ->> 'id')::int AS pat
    FROM bh_audit.queue q, unnest(q.events) WITH ORDINALITY AS u(ev, o)
   WHERE ev -> 'resource' ->> 'type' = 'Patient219')
SELECT count(*) || ':' || count(DISTINCT pat) || ':'
       || bool_and(pat > coalesce(prev, 0))
  FROM (SELECT pat, lag(pat) OVER (ORDER BY id, o) AS prev FROM e) x}),
		"$rows:$rows:true", "clinic, $what: ids in write order, every event once");
	return;
}

sub sealed
{
	my ($what) = @_;
	is(bh_wait_sealed($node, 'postgres',
			"event -> 'resource' ->> 'type' = 'Patient219'", $rows),
		$rows, "postgres, $what: every write's event sealed");
	return;
}

write_both();
clinic_in_order('first writes');

$node->restart;
write_both();
clinic_in_order('after a restart');
sealed('after a restart');

# a crash: the last block's ids were reserved before the commits
$node->stop('immediate');
$node->start;
write_both();
clinic_in_order('after a crash');
sealed('after a crash');

# a restore's COPY of queue rows, with the next ids of the current block
# and one after it
my $last = $node->safe_psql('clinic',
	q{SELECT id || E'\t' || replace(events::text, E'\\\\', E'\\\\\\\\')
	    FROM bh_audit.queue ORDER BY id DESC LIMIT 1});
my ($id, $events) = split /\t/, $last, 2;
my $copied = join('', map { ($id + $_) . "\t$events\n" } 1, 2, 5000);
$node->safe_psql('clinic', "COPY bh_audit.queue (id, events) FROM stdin;\n${copied}\\.\n");
is($node->safe_psql('clinic', 'SELECT max(id) FROM bh_audit.queue'), $id + 5000,
	'the restored rows are in the queue');
my $before = $node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue');
$node->safe_psql('clinic', "INSERT INTO t219.pat VALUES (" . ($k + 1) . ", 'after')");
is( $node->safe_psql('clinic',
		"SELECT count(*) || ':' || count(*) FILTER (WHERE id > $id + 5000) FROM bh_audit.queue WHERE id > $id"),
	'4:1', 'a write after the restore takes an id after the restored rows');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue'), $before + 1,
	'its row is written');

# lastval() is the application's, in both databases
for my $db ('postgres', 'clinic')
{
	$node->safe_psql($db, q{
CREATE TABLE t219.s (id serial, v text);
SELECT bh_audit.tag_table('t219.s', 'S219', 'id', 'id');});
	is( $node->safe_psql($db, q{
INSERT INTO t219.s (v) VALUES ('a'), ('b');
SELECT lastval()}), '2', "$db: lastval() is the tagged table's sequence's");
}

done_testing();
