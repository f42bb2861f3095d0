# A session that wrote events before bh_audit was dropped and created again
# (here, by another session) writes to the new queue with the new queue's
# identity sequence, also when something else in the session (any ALTER
# TABLE checks whether it names the extension's tables) looked the new
# queue up first: the sequence is the one of the queue it was looked up
# for.  A refused read of the trail's relations other than the ledger (the
# queue, the tag catalog, tagged_tables, the ledger's home) is a denial of
# the new ones, whether another session or the same one made them: the
# OIDs that told those relations apart before are looked up again
# (capture_read.c, bh_trail_rels_refresh).
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
$node->safe_psql('postgres', q{CREATE ROLE nobody139});

# $s reads the trail's relations other than the ledger as nobody139, each
# refused; then the DENIED events in the ledger (a new one each time)
sub trail_denials
{
	$s->query(q{SET ROLE nobody139;
SELECT FROM bh_audit.queue;
SELECT FROM bh_audit.tags;
SELECT FROM bh_audit.tagged_tables;
SELECT FROM bh_audit.ledger_home;
RESET ROLE;});
	my $refused = () = $s->{stderr} =~ /permission denied/g;
	$s->{stderr} = '';
	is($refused, 4, 'the four reads are refused');
	return $node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(action || ' ' || outcome || ' ' || (event -> 'metadata' ->> 'table'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE outcome = 'DENIED'});
}
my $all_denied = "t\nREAD DENIED bh_audit.queue,READ DENIED bh_audit.tags,"
  . "READ DENIED bh_audit.tagged_tables,READ DENIED bh_audit.ledger_home";

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

is($node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(action || ' ' || coalesce(resource_id, '-'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE resource_type IN ('PT', 'Patient')}),
	"t\nCREATE 2,READ 3", 'both events are in the new ledger');

# refused reads of the new relations by the session that looked up the
# old ones before the reinstall
is(trail_denials(), $all_denied,
	'refused reads of the new trail relations by a session older than them are denials');

# the same session drops and creates the extension again, then is refused
$s->query_safe(q{SELECT bh_audit.untag_table('pt');
DROP EXTENSION bh_audit;
CREATE EXTENSION bh_audit;});
is(trail_denials(), $all_denied,
	'refused reads of the trail relations the session itself created again are denials');
$s->quit;

done_testing();
