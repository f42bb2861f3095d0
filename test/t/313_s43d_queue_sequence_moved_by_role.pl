# bh_audit.queue_id_seq moved by a role that is no superuser: a member of
# pg_write_all_data (an ETL login) holds UPDATE on every sequence, and
# PostgreSQL checks setval()'s and nextval()'s privilege itself, with no
# hook to refuse them by.  Such a move must be harmless to the queue:
#   - set back below the ids still queued: before, the next writes took
#     those ids again (a duplicate key on queue_pkey: every tagged write
#     failed until the ids went past them), and, once past, later commits
#     took ids below earlier ones (chained before them);
#   - set to its maximum: before, every tagged write failed ("reached
#     maximum value") until a superuser put it back;
#   - set just below its maximum: before, the writes took the ids left
#     there, and then failed as above;
#   - set back while the server is down (the blocks in shared memory gone):
#     the ids go on after the rows still queued all the same.
# Right: the ids of the queue never go back below an id given since the
# server started or a row still queued, whatever the sequence says, and a
# sequence moved out of reach by setval() (its MAXVALUE the type's) is
# taken back from there.  A superuser's ALTER SEQUENCE is followed as
# before (t/220, t/225).  "clinic" is not the sealer's database: its rows
# stay queued; in "postgres", the sealer's, the events of writes made
# after a move back are chained after those made before it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_sequence_moved');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic;
CREATE ROLE etl LOGIN;
GRANT pg_write_all_data TO etl;
});
bh_queue_table($node, 'clinic', 313, extension => 1);

sub write_rows
{
	my ($db, $from, $to) = @_;
	my ($ret, $out, $err) = $node->psql($db,
		join('', map { "INSERT INTO t313.pat VALUES ($_, 'x');\n" } $from .. $to));
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

is(write_rows('clinic', 1, 5), '0 duplicate, 0 at maximum', 'five writes queued');
my $top = $node->safe_psql('clinic', 'SELECT max(id) FROM bh_audit.queue');
# (the tagging's own event is queued too)
my $queued = $node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue');

# set back below the queued ids
is(as_etl('clinic', q{SELECT setval('bh_audit.queue_id_seq', 1)}), '', 'the ETL role moves the sequence back');
is(write_rows('clinic', 6, 10), '0 duplicate, 0 at maximum',
	'writes after the move back: no duplicate key');
is($node->safe_psql('clinic', qq{SELECT count(*) FROM bh_audit.queue WHERE id <= $top}), $queued,
	'the writes after the move back took ids after those queued before it');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue'), $queued + 5, 'five rows more queued');

# nextval(): one id spent, nothing else
is(as_etl('clinic', q{SELECT nextval('bh_audit.queue_id_seq')}) , '', 'the ETL role takes nextval()');
is(write_rows('clinic', 11, 12), '0 duplicate, 0 at maximum', 'writes after its nextval()');

# set to its maximum
is(as_etl('clinic', q{SELECT setval('bh_audit.queue_id_seq', 9223372036854775807)}), '',
	'the ETL role moves the sequence to its maximum');
is(write_rows('clinic', 13, 15), '0 duplicate, 0 at maximum', 'writes after the move to the maximum');
is($node->safe_psql('clinic', q{SELECT max(id) < 1000000 FROM bh_audit.queue}), 't',
	'their ids go on after those queued');
is($node->safe_psql('clinic', q{SELECT last_value < 1000000 FROM bh_audit.queue_id_seq}), 't',
	'the sequence is taken back from its maximum');

# set just below its maximum: before, the writes took the ids left there
# and then failed
is(as_etl('clinic', q{SELECT setval('bh_audit.queue_id_seq', 9223372036854775806)}), '',
	'the ETL role moves the sequence just below its maximum');
is(write_rows('clinic', 16, 18), '0 duplicate, 0 at maximum', 'writes after that move');
is($node->safe_psql('clinic', q{SELECT max(id) < 1000000 FROM bh_audit.queue}), 't',
	'their ids go on after those queued (2)');

# set back, then the server restarted (no block in shared memory)
$top = $node->safe_psql('clinic', 'SELECT max(id) FROM bh_audit.queue');
is(as_etl('clinic', q{SELECT setval('bh_audit.queue_id_seq', 1)}), '', 'moved back again');
$node->restart;
is(write_rows('clinic', 19, 21), '0 duplicate, 0 at maximum', 'writes after a restart: no duplicate key');
is($node->safe_psql('clinic', qq{SELECT count(*) FROM bh_audit.queue WHERE id > $top}), '3',
	'they took ids after those queued');
is($node->safe_psql('clinic', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'the queued ids are unique');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue'), $queued + 16,
	'every write queued');

# The sealer's database: events of writes after a move back chained after
# the earlier ones.
bh_queue_table($node, 'postgres', 313);
my $hold = bh_hold_sealer($node, 'postgres');
write_rows('postgres', 1, 3);
as_etl('postgres', q{SELECT setval('bh_audit.queue_id_seq', 1)});
write_rows('postgres', 4, 6);
$hold->query_safe('COMMIT');
$hold->quit;
is(bh_wait_sealed($node, 'postgres', q{event -> 'resource' ->> 'type' = 'Patient313' AND outcome = 'SUCCESS'}, 6), 6,
	'six events sealed');
is($node->safe_psql('postgres', q{
SELECT string_agg(event -> 'resource' ->> 'id', ',' ORDER BY seq) FROM bh_audit.events
 WHERE event -> 'resource' ->> 'type' = 'Patient313' AND outcome = 'SUCCESS'}), '1,2,3,4,5,6',
	'chained in the order they were written');
bh_chain_valid($node, 'postgres');

$node->stop;
done_testing();
