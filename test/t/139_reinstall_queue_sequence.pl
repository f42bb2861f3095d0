# A session that wrote events before bh_audit was dropped and created again
# (here, by another session) writes to the new queue with the new queue's
# identity sequence, also when something else in the session (any ALTER
# TABLE checks whether it names the extension's tables) looked the new
# queue up first: the sequence is the one of the queue it was looked up
# for.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('reinstall_queue_sequence');
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text);
SELECT bh_audit.tag_table('pt', 'PT', 'id', 'pid');
});

my $s = $node->background_psql('postgres', on_error_stop => 0);
$s->query_safe(q{INSERT INTO pt VALUES (1, 'p1')});

$node->safe_psql('postgres', q{
SELECT bh_audit.untag_table('pt');
DROP EXTENSION bh_audit;
CREATE EXTENSION bh_audit;
SELECT bh_audit.tag_table('pt', 'PT', 'id', 'pid');
});

# any ALTER TABLE, before the session's next event
$s->query_safe(q{CREATE TEMP TABLE tmp1 (a int); ALTER TABLE tmp1 ADD COLUMN b int});
my ($out, $ret) = $s->query(q{INSERT INTO pt VALUES (2, 'p2')});
is($ret, 0, 'a write to a tagged table after the reinstall succeeds');
($out, $ret) = $s->query(q{SELECT bh_audit.emit('READ', 'Patient', '3', 'p3') IS NOT NULL});
is($ret, 0, 'emit() after the reinstall succeeds');
$s->quit;

is($node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(action || ' ' || coalesce(resource_id, '-'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE resource_type IN ('PT', 'Patient')}),
	"t\nCREATE 2,READ 3", 'both events are in the new ledger');

done_testing();
