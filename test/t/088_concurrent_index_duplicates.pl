# A unique index built CONCURRENTLY on a tagged table meets a duplicate
# at its validation: a row inserted while the index was being built (not
# yet taking inserts) has the key of a stored row.  PostgreSQL raises it
# as a write's duplicate ("duplicate key value violates unique
# constraint"), with the stored key in its DETAIL: a READ of the table
# without a patient, metadata.shown_in_error = unique_violation, as for a
# unique index build that finds the duplicates itself.  (An INSERT's own
# duplicate is no read: the control.)
#
# The build is held by its index expression, which waits for an advisory
# lock the test holds; the insert comes once pg_stat_activity shows the
# build waiting (a fixed pause could miss the build on a loaded machine).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('cic_dup');
$node->safe_psql('postgres', q{
CREATE FUNCTION slow_key(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(88); RETURN $1; END $$;
CREATE TABLE uq (id int PRIMARY KEY, patient_id text, k int);
INSERT INTO uq SELECT g, 'p' || g, g FROM generate_series(1, 200) g;
SELECT bh_audit.tag_table('public.uq', 'Uq', 'id', 'patient_id');
});

sub shown
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'Uq' AND action = 'READ' AND patient_id IS NULL
   AND event -> 'metadata' ->> 'shown_in_error' = 'unique_violation'});
}

# Control: an INSERT's own duplicate key.
my ($ret, $out, $err) = $node->psql('postgres', q{INSERT INTO uq VALUES (1, 'p1', 1)});
like($err, qr/duplicate key value violates unique constraint "uq_pkey"/, 'the insert fails');
is(shown(), '0', "an INSERT's own duplicate is no read");

my $gate = $node->background_psql('postgres');
$gate->query_safe('SELECT pg_advisory_lock(88)');
my $builder = $node->background_psql('postgres', on_error_stop => 0);
my $bpid = $builder->query_safe('SELECT pg_backend_pid()');
$builder->query_until(qr/started/, q{
\echo started
CREATE UNIQUE INDEX CONCURRENTLY uq_k ON uq (slow_key(k));
\echo done
});
ok($node->poll_query_until('postgres', qq{
SELECT wait_event = 'advisory' FROM pg_stat_activity WHERE pid = $bpid}),
	'the build waits in its index expression');
$node->safe_psql('postgres', q{INSERT INTO uq VALUES (1000, 'p_new', 77)});
$gate->query_safe('SELECT pg_advisory_unlock(88)');
$gate->quit;
$builder->query_until(qr/done/, '');
like($builder->{stderr}, qr/duplicate key value violates unique constraint "uq_k"/,
	'the concurrent build fails at its validation on the row inserted meanwhile');
$builder->quit;
is(shown(), '1', 'its duplicate key is a read of the table, without a patient');

$node->stop;
done_testing();
