# The events a transaction holds are written to the queue at its commit,
# under a snapshot (PostgreSQL wants one for a heap insert into a table with
# a TOAST table).  A transaction that never took one — only a SET of
# bh_audit.enabled ran, which queues its event — must not take its first
# snapshot there: in a SERIALIZABLE READ ONLY DEFERRABLE transaction that
# first snapshot waits for a safe one, that is for every serializable
# read-write transaction running, and the COMMIT would wait with it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('commit_snapshot');
$node->safe_psql('postgres', 'CREATE TABLE w (id int)');

# A serializable read-write transaction that stays open.
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE');
$writer->query_safe('INSERT INTO w VALUES (1)');

my $timed_out = 0;
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;
SET LOCAL bh_audit.enabled = off;
COMMIT;
SELECT 'committed';
}, timeout => 30, timed_out => \$timed_out);
is($timed_out, 0, 'the COMMIT does not wait for the serializable writer');
is($stdout, 'committed', 'the transaction committed');

$writer->query_safe('COMMIT');
$writer->quit;

is($node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events
 WHERE resource_id = 'bh_audit.enabled' AND event -> 'metadata' ->> 'value' = 'off'}),
	"t\n1", 'its event was written and sealed');

$node->stop;
done_testing();
