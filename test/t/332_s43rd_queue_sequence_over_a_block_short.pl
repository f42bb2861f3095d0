# bh_audit.queue_id_seq moved by a role that is no superuser (a member of
# pg_write_all_data) to a little more than a block of ids short of its
# maximum: the reservation takes it back only when it is less than a block
# short (bh_seq_floor()), so the application's own writes then take the
# ids left up there, reach the maximum, and from then on every tagged
# write fails ("nextval: reached maximum value of sequence") while the
# queue's highest id is the maximum: in a database whose queue the sealer
# does not empty, for good; in the sealer's, until that row is sealed and
# its index entry vacuumed away (the top is read with SnapshotAny).  The
# docs say a move of the sequence by such a role is harmless ("no workload
# gets there by its writes"; only rows restored close to the maximum make
# the writes fail).  Right: every write goes on, with unique ids that
# follow the order of the writes, and the sealer chains the events in that
# order.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_sequence_over_a_block_short');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic;
CREATE ROLE etl LOGIN;
GRANT pg_write_all_data TO etl;
});
bh_queue_table($node, 'clinic', 332, extension => 1);
bh_queue_table($node, 'postgres', 332);

# 1100 ids short of the maximum: more than a block (1024)
my $short = q{SELECT setval('bh_audit.queue_id_seq', 9223372036854775807 - 1100)};

sub write_rows
{
	my ($db, $from, $to) = @_;
	my ($ret, $out, $err) = $node->psql($db,
		join('', map { "INSERT INTO t332.pat VALUES ($_, 'x');\n" } $from .. $to),
		on_error_stop => 0);
	my @dups = ($err =~ /duplicate key/g);
	my @max = ($err =~ /reached maximum value/g);
	return scalar(@dups) . ' duplicate, ' . scalar(@max) . ' at maximum';
}

sub as_etl
{
	my ($db, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, $sql, extra_params => [ '-U', 'etl' ]);
	return $err;
}

# "clinic": the rows stay queued
is(as_etl('clinic', $short), '', 'the ETL role moves the sequence 1100 ids short of its maximum');
is(write_rows('clinic', 1, 1200), '0 duplicate, 0 at maximum',
	'clinic: 1200 writes after the move, none failing');
is($node->safe_psql('clinic', 'SELECT count(*) FROM t332.pat'), '1200', 'clinic: every row written');
is($node->safe_psql('clinic', q{
SELECT count(*) FROM (
  SELECT (ev -> 'resource' ->> 'id')::int AS pat, q.id,
         lag(q.id) OVER (ORDER BY (ev -> 'resource' ->> 'id')::int) AS prev
    FROM bh_audit.queue q, unnest(q.events) ev
   WHERE ev -> 'resource' ->> 'type' = 'Patient332') s
 WHERE prev IS NOT NULL AND id <= prev}), '0',
	'clinic: the queue ids follow the order of the writes');
is($node->safe_psql('clinic', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'clinic: the queued ids are unique');

# "postgres", the sealer's database
is(as_etl('postgres', $short), '', 'the ETL role moves the sealer database\'s sequence likewise');
is(write_rows('postgres', 1, 1200), '0 duplicate, 0 at maximum',
	'postgres: 1200 writes after the move, none failing');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t332.pat'), '1200', 'postgres: every row written');

my $written = $node->safe_psql('postgres', 'SELECT count(*) FROM t332.pat');
is(bh_wait_sealed($node, 'postgres',
		q{event -> 'resource' ->> 'type' = 'Patient332' AND action = 'CREATE' AND outcome = 'SUCCESS'}, $written),
	$written, 'postgres: every write sealed');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (
  SELECT (event -> 'resource' ->> 'id')::int AS pat,
         lag((event -> 'resource' ->> 'id')::int) OVER (ORDER BY seq) AS prev
    FROM bh_audit.events
   WHERE event -> 'resource' ->> 'type' = 'Patient332' AND action = 'CREATE'
     AND outcome = 'SUCCESS') s
 WHERE prev IS NOT NULL AND pat <= prev}), '0',
	'postgres: chained in the order they were written');
bh_chain_valid($node, 'postgres');

$node->stop;
done_testing();
