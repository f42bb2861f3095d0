# A session's own temporary table can be tagged.  After a crash, the next
# session given the dead session's temporary schema cleans it out in its
# first CREATE TEMP TABLE (InitTempTableNamespace() ->
# RemoveTempRelations()), the tagged table with it; autovacuum drops such
# an orphaned table as well (t/309).  Before, the drop
# (tagged_table_dropped) was recorded with the db_user and actor of the
# session whose statement set the clean-up off; now as the server's
# clean-up, as the dead session's tagged columns are (t/300): actor
# postgresql-server, service, statement "temporary schema cleanup",
# temp_schema, triggered_by.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# (no autovacuum: it would drop the orphaned table itself, t/309)
my $node = bh_node('main', conf => "restart_after_crash = on\nautovacuum = off\n");
my ($mark, $schema) = bh_tagged_temp_cleaned_out($node, [
	q{CREATE TEMP TABLE scratch_notes (id int PRIMARY KEY, patient_id text)},
	q{INSERT INTO scratch_notes VALUES (1, 'pat_1')} ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'change',
                            event -> 'actor' ->> 'subject_id',
                            event -> 'actor' ->> 'subject_type',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'temp_schema',
                            event -> 'metadata' ->> 'triggered_by',
                            event ? 'correlation'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' = 'tagged_table_dropped'}),
	"DELETE|tagged_table_dropped|postgresql-server|service|postgres|temporary schema cleanup|$schema|bystander|f",
	'the dead session\'s tagged table cleaned out: the server\'s clean-up, not the later session\'s doing');
bh_events_valid_since($node, 'postgres', $mark);
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
