# bh_audit.queue_id_seq moved back by a role that is no superuser (a member
# of pg_write_all_data) once the queue's highest id, or the last id given,
# is the sequence's maximum: a row restored there (the case the docs name:
# "the writes fail until they are sealed"), or the application's own writes
# that got there after the role's setval() to a little more than a block
# short of it (t/332).  bh_seq_floor() then finds its floor overflowing
# (max + 1) and, the sequence being back within reach, applies no floor at
# all: the next writes take the ids the sequence gives again, those of rows
# still queued among them (a duplicate key on queue_pkey, one failed write
# per queued id, as before the change); the docs say a setval() or
# nextval() by such a role "costs no duplicate key".  Right: no write fails
# on a duplicate key, and the queued ids stay unique.  "clinic" and
# "clinic2" are not the sealer's database: their rows stay queued.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_sequence_back_after_maximum');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic;
CREATE DATABASE clinic2;
CREATE ROLE etl LOGIN;
GRANT pg_write_all_data TO etl;
});
bh_queue_table($node, 'clinic', 334, extension => 1);
bh_queue_table($node, 'clinic2', 334, extension => 1);

sub write_rows
{
	my ($db, $from, $to) = @_;
	my ($ret, $out, $err) = $node->psql($db,
		join('', map { "INSERT INTO t334.pat VALUES ($_, 'x');\n" } $from .. $to),
		on_error_stop => 0);
	my @dups = ($err =~ /duplicate key/g);
	return scalar(@dups) . ' duplicate';
}

sub as_etl
{
	my ($db, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, $sql, extra_params => [ '-U', 'etl' ]);
	return $err;
}

# "clinic": a row restored with the maximum id (a dump taken after such a
# move on an earlier version), behind five rows queued
is(write_rows('clinic', 1, 5), '0 duplicate', 'clinic: five writes queued');
$node->safe_psql('clinic', q{
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
SELECT 9223372036854775807, events FROM bh_audit.queue ORDER BY id DESC LIMIT 1});
is(as_etl('clinic', q{SELECT setval('bh_audit.queue_id_seq', 1)}), '',
	'clinic: the ETL role moves the sequence back');
is(write_rows('clinic', 6, 10), '0 duplicate', 'clinic: writes after the move back: no duplicate key');
is($node->safe_psql('clinic', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'clinic: the queued ids are unique');

# "clinic2": the application's writes get to the maximum after a move to
# 1100 ids short of it, then the sequence is moved back
is(write_rows('clinic2', 1, 5), '0 duplicate', 'clinic2: five writes queued');
is(as_etl('clinic2', q{SELECT setval('bh_audit.queue_id_seq', 9223372036854775807 - 1100)}), '',
	'clinic2: the ETL role moves the sequence 1100 ids short of its maximum');
write_rows('clinic2', 6, 1105);
is(as_etl('clinic2', q{SELECT setval('bh_audit.queue_id_seq', 1)}), '',
	'clinic2: then back');
is(write_rows('clinic2', 1106, 1110), '0 duplicate',
	'clinic2: writes after the move back: no duplicate key');
is($node->safe_psql('clinic2', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'clinic2: the queued ids are unique');

$node->stop;
done_testing();
