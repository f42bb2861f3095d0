# bh_audit.queue_id_seq moved back by a role that is no superuser (a member
# of pg_write_all_data: setval() needs only UPDATE on it) after a
# superuser's ALTER SEQUENCE of it that changed nothing that matters (CACHE
# 1, its default: PostgreSQL 15 still rewrites the sequence into a new
# relfilenode), before the next tagged write.  bh_seq_floor() then takes
# the sequence as "altered" and applies no floor at all, the queue's
# highest id included: the next writes take ids of rows still queued (a
# duplicate key on queue_pkey, each such write failing), as the move back
# did before the floor existed.  The change claims a setval() by such a
# role can no longer make tagged writes fail or give queued ids again (the
# same shape with a move to the maximum is sql/99_s43rd_queue_sequence_
# altered_then_moved).  Right: no write fails, and the queued ids stay
# unique.  "clinic" is not the sealer's database: its rows stay queued.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_sequence_back_after_alter');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic;
CREATE ROLE etl LOGIN;
GRANT pg_write_all_data TO etl;
});
bh_queue_table($node, 'clinic', 348, extension => 1);

sub write_rows
{
	my ($from, $to) = @_;
	my ($ret, $out, $err) = $node->psql('clinic',
		join('', map { "INSERT INTO t348.pat VALUES ($_, 'x');\n" } $from .. $to),
		on_error_stop => 0);
	my @dups = ($err =~ /duplicate key/g);
	return scalar(@dups) . ' duplicate';
}

is(write_rows(1, 5), '0 duplicate', 'five writes queued');
$node->safe_psql('clinic', 'ALTER SEQUENCE bh_audit.queue_id_seq CACHE 1');
my ($ret, $out, $err) = $node->psql('clinic',
	q{SELECT setval('bh_audit.queue_id_seq', 1)}, extra_params => [ '-U', 'etl' ]);
is($err, '', 'the ETL role moves the sequence back after the ALTER SEQUENCE');
is(write_rows(6, 10), '0 duplicate', 'writes after the move back: no duplicate key');
is($node->safe_psql('clinic', 'SELECT count(*) FROM t348.pat'), '10', 'every row written');
is($node->safe_psql('clinic', 'SELECT count(*) = count(DISTINCT id) FROM bh_audit.queue'),
	't', 'the queued ids are unique');

$node->stop;
done_testing();
