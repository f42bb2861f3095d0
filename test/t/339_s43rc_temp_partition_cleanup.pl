# A crashed session's tagged temporary partitioned table, cleaned out by the
# next session given its temporary schema (InitTempTableNamespace() ->
# RemoveTempRelations()): the table's drop is the server's clean-up
# (tagged_table_dropped, t/311), and so is its partition's, dropped first
# (partition_dropped, config_guard.c's bh_object_access(): the
# bh_tag_partition_event() there takes no cleaned schema): before, that
# event named the later session's login and end-user context as its
# actor, the statement of which PostgreSQL cleaned the schema in.  The same
# for the orphaned partition autovacuum drops (second part): its
# partition_dropped names the worker's login (the bootstrap superuser) as a
# "human" actor, not the server's clean-up.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# (no autovacuum: it would drop the orphaned partition itself, below)
my $node = bh_node('main', conf => "restart_after_crash = on\nautovacuum = off\n");
my ($mark) = bh_tagged_temp_cleaned_out($node, [
	q{CREATE TEMP TABLE scratch_notes (id int, patient_id text, PRIMARY KEY (id, patient_id)) PARTITION BY LIST (patient_id)},
	q{CREATE TEMP TABLE scratch_notes_1 PARTITION OF scratch_notes FOR VALUES IN ('pat_1')},
	q{INSERT INTO scratch_notes VALUES (1, 'pat_1')} ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $ev = $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'change',
                            event -> 'actor' ->> 'subject_id',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' IN ('tagged_table_dropped', 'partition_dropped')});
diag($ev);
like($ev, qr/tagged_table_dropped\|postgresql-server\|postgres\|temporary schema cleanup/,
	'the tagged table cleaned out: the server\'s clean-up');
unlike($ev, qr/bystander/,
	'no event names the later session\'s login or end-user context for the clean-up');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark
   AND event -> 'metadata' ->> 'change' = 'partition_dropped'
   AND (event -> 'actor' ->> 'subject_id' <> 'postgresql-server'
        OR event -> 'metadata' ->> 'statement' IS DISTINCT FROM 'temporary schema cleanup')}),
	'0', 'a partition_dropped event of the clean-up is the server\'s');
bh_events_valid_since($node, 'postgres', $mark);

# autovacuum: each orphaned temporary table (the partition; not the
# partitioned table, which it leaves) dropped on its own
my $av = bh_node('av', conf => qq{restart_after_crash = on\nautovacuum_naptime = 1\nautovacuum = on});
$mark = bh_seal_mark($av, 'postgres');
my $bg = $av->background_psql('postgres', on_error_stop => 1);
$bg->query_safe(q{CREATE TEMP TABLE scratch_notes (id int, patient_id text, PRIMARY KEY (id, patient_id)) PARTITION BY LIST (patient_id)});
$bg->query_safe(q{CREATE TEMP TABLE scratch_notes_1 PARTITION OF scratch_notes FOR VALUES IN ('pat_1')});
$bg->query_safe(q{SELECT bh_audit.tag_table('pg_temp.scratch_notes', 'ScratchNote', 'id', 'patient_id')});
bh_crash_session($av, $bg, 'postgres');
ok($av->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_class WHERE relname = 'scratch_notes_1'}),
	'autovacuum dropped the orphaned partition');
$av->safe_psql('postgres', 'SELECT bh_audit.seal()');
$ev = $av->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'change',
                            event -> 'actor' ->> 'subject_id',
                            event -> 'actor' ->> 'subject_type',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'triggered_by'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' = 'partition_dropped'});
diag($ev);
is($ev, 'DELETE|partition_dropped|postgresql-server|service|temporary schema cleanup|autovacuum',
	'the orphaned partition autovacuum dropped: the server\'s clean-up');
bh_events_valid_since($av, 'postgres', $mark);
done_testing();
