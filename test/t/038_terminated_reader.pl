# A reader whose session is ended while its statement runs
# (pg_terminate_backend(): a FATAL error, not a failed statement) has read
# what its scans produced until then: those patients' READ events are
# recorded as the session exits, through the ring, like the reads of a
# statement that fails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('terminated');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes SELECT g, 'p' || g, 'x' FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_writes => false);
SELECT bh_audit.seal();
});
my $mark = $node->safe_psql('postgres', 'SELECT coalesce(max(seq), 0) FROM bh_audit.events');

# The sort takes every row from the scan before the first one is returned;
# each row then sleeps in the outer query, so the statement is still
# running when its scan has produced all 20.
my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_until(qr/started/, q{
SET application_name = 'victim';
\echo started
SELECT note_id, pg_sleep(0.5) FROM (SELECT note_id FROM notes ORDER BY body, patient_id OFFSET 0) s;
});
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'victim' AND wait_event = 'PgSleep'}),
	'the reader runs its statement');
is($node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'}),
	't', 'its session is terminated');
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'victim'}),
	'and has exited');
eval { $reader->quit; };

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(DISTINCT patient_id) || ' ' || string_agg(DISTINCT outcome, ',')
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Note'}),
	'20 20 SUCCESS', 'the 20 patients its scan produced are read, one event each');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND action <> 'READ'}),
	'0', 'and nothing else is recorded (a termination is no failed statement)');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
