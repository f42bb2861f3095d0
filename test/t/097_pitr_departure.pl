# A point-in-time recovery discards every event sealed after its target, as
# it discards every other change, and the chain goes on from the target on
# a new timeline, giving the later seq numbers to other events.  The one
# record of it in the recovered chain is the sealer's EventsLost event
# (ring_account: recovery ended), which says where the chain departs from
# the previous timeline and why: the timeline the server is on, and from
# that timeline's history file the previous timeline, the switch point and
# PostgreSQL's own words for the end of recovery.
#  (1) recovery to a restore point (recovery_target_name, action promote):
#      the events up to the restore point are there and verify, the later
#      ones are not, an anchor taken on the old server after them no longer
#      verifies (head_mismatch), and one EventsLost event follows with
#      timeline 2, previous_timeline 1, the switch point of the server's
#      history file and recovery_end 'at restore point "before_b [REDACTED-EMAIL]"'
#      (the name, an administrator's free text, sanitised as error messages are);
#  (2) a standby promoted: the same keys, recovery_end
#      'no recovery target specified';
#  (3) a standby of that server, started without standby.signal and
#      without its timeline's history file: the loss event is still
#      recorded, without those keys.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $recovery_reason =
  "recovery ended (promotion, or a recovery target): the previous server's ring is not known";

my $primary = bh_node('primary', init => { allows_streaming => 1, has_archiving => 1 });
$primary->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id int);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
$primary->backup('b');

# Activity before the restore point: tagged writes and reads, sealed.
$primary->safe_psql('postgres', q{
INSERT INTO notes SELECT i, i FROM generate_series(1, 5) i;
SELECT count(*) FROM notes;
SELECT bh_audit.seal();
});

# A write committed before the restore point but not sealed yet (the
# sealer stopped until the restore point is made): the recovered server
# seals it again, on the new timeline, after the loss event that marks
# where the chain departs.
my $sealer = bh_stop_sealer($primary, 'postgres');
$primary->safe_psql('postgres', 'INSERT INTO notes VALUES (99, 99)');

# The ledger as it is at the restore point: no sealer commit can come
# between the look and the restore point's WAL record (a SHARE lock keeps
# the sealer's rows out, and waits for a batch in progress).
my $before = $primary->safe_psql('postgres', q{
BEGIN;
LOCK TABLE bh_audit.events IN SHARE MODE;
SELECT max(seq) || ' ' || string_agg(seq || ':' || event_id, ',' ORDER BY seq)
  FROM bh_audit.events;
SELECT pg_create_restore_point('before_b ops@clinic.example') IS NOT NULL;
COMMIT;
});
my ($head_a, $prefix) = split /[ \n]/, $before;
kill 'CONT', $sealer;
cmp_ok($head_a, '>', 5, 'the first activity is sealed before the restore point');

# Activity after it, sealed, and an anchor taken on the old server.
$primary->safe_psql('postgres', q{
INSERT INTO notes SELECT i, i FROM generate_series(6, 10) i;
SELECT count(*) FROM notes WHERE id > 5;
SELECT bh_audit.emit('READ', 'Patient', 'late' || i, 'late' || i) FROM generate_series(1, 30) i;
SELECT bh_audit.seal();
});
my ($anchor_seq, $anchor) = split /\|/,
  $primary->safe_psql('postgres', 'SELECT seq, event_hash FROM bh_audit.chain_head()');
my $later = $primary->safe_psql('postgres',
	"SELECT string_agg(quote_literal(event_id), ',') FROM bh_audit.events WHERE seq > $head_a AND resource_id <> '99'");
my $queued_id = $primary->safe_psql('postgres',
	"SELECT event_id FROM bh_audit.events WHERE seq > $head_a AND resource_id = '99' AND action = 'CREATE'");
isnt($queued_id, '', 'the write queued before the restore point is sealed after it on the old timeline');
my $n_later = $primary->safe_psql('postgres',
	"SELECT count(*) FROM bh_audit.events WHERE seq > $head_a");
cmp_ok($n_later, '>=', 40, 'the second activity is sealed after the restore point');
is($anchor_seq, $head_a + $n_later, 'the anchor is the head after it');
is($primary->safe_psql('postgres',
		"SELECT result FROM bh_audit.verify_chain(expected_head => '$anchor')"),
	'PASS', 'the anchor verifies on the old server');
my $walfile = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_switch_wal())');
ok($primary->poll_query_until('postgres',
		"SELECT '$walfile' <= last_archived_wal FROM pg_stat_archiver"),
	'the WAL past the restore point is archived');

# The metadata expected of a loss event, as jsonb prints it.
sub expected_meta
{
	my ($node, %keys) = @_;
	my $json = join(', ',
		'"db_user": "postgres"', qq("ring_account": "$recovery_reason"),
		map {
			my $v = $keys{$_};
			$v =~ /^\d+$/ ? qq("$_": $v) : qq("$_": ") . ($v =~ s/"/\\"/gr) . '"'
		} sort keys %keys);
	return $node->safe_psql('postgres', "SELECT \$j\${$json}\$j\$::jsonb");
}

# The loss events' metadata, one line each, once n of them are sealed.
sub losses
{
	my ($node, $n) = @_;
	is(bh_wait_sealed($node, 'postgres', "error_type = 'EventsLost'", $n),
		$n, "$n loss event(s) sealed");
	return $node->safe_psql('postgres', q{
SELECT string_agg((event -> 'metadata')::text, E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE error_type = 'EventsLost'});
}

# (1) Recovery to the restore point.
my $pitr = PostgreSQL::Test::Cluster->new('pitr');
$pitr->init_from_backup($primary, 'b', has_restoring => 1);
$pitr->append_conf('postgresql.conf',
	"recovery_target_name = 'before_b ops\@clinic.example'\nrecovery_target_action = 'promote'\n");
$pitr->start;
ok($pitr->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
	'the recovered server leaves recovery at the restore point');
is($pitr->safe_psql('postgres',
		'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)'),
	'00000002', 'it writes timeline 2');
my ($parent, $switch, $reason) = bh_timeline_switch($pitr, 2);
is("$parent $reason", '1 at restore point "before_b ops@clinic.example"',
	'its history file says it left timeline 1 at the restore point');
is(losses($pitr, 1),
	expected_meta($pitr, timeline => 2, previous_timeline => 1,
		timeline_switch_lsn => $switch,
		recovery_end => 'at restore point "before_b [REDACTED-EMAIL]"'),
	'one loss event: recovery ended, on timeline 2, which left timeline 1 at the history file\'s switch point, at the restore point');
is($pitr->safe_psql('postgres',
		"SELECT string_agg(seq || ':' || event_id, ',' ORDER BY seq) FROM bh_audit.events WHERE seq <= $head_a"),
	$prefix, 'the events sealed up to the restore point are there, the same');
is($pitr->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE event_id IN ($later)"),
	'0', 'none of the events sealed after it is');
is($pitr->safe_psql('postgres',
		"SELECT min(seq) FROM bh_audit.events WHERE seq > $head_a"),
	$head_a + 1, 'the chain goes on from the restore point: the later seq numbers are given again');
my $loss_seq = $pitr->safe_psql('postgres',
	"SELECT seq FROM bh_audit.events WHERE error_type = 'EventsLost'");
is($loss_seq, $head_a + 1,
	'the loss event comes first after the restore point, at a seq the old timeline gave to another event');
is($pitr->safe_psql('postgres',
		"SELECT seq > $loss_seq FROM bh_audit.events WHERE event_id = '$queued_id'"),
	't', 'the write queued before the restore point is sealed on the new timeline after it');
is($pitr->safe_psql('postgres', q{
SELECT concat_ws(' ', action, resource_type, resource_id, outcome, bh_audit.validate_event(event))
  FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	'OTHER AuditLog bh_audit.events FAILURE t', 'it is a valid AuditLog FAILURE');
is($pitr->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the recovered chain verifies');
is($pitr->safe_psql('postgres',
		"SELECT result FROM bh_audit.verify_chain(expected_head => '$anchor')"),
	'FAIL', 'the anchor taken on the old timeline after the restore point does not');
is($pitr->safe_psql('postgres',
		"SELECT string_agg(failure_type, ',') FROM bh_audit.chain_failures(expected_head => '$anchor')"),
	'head_mismatch', 'a head mismatch');
$pitr->stop;

# (2) A standby promoted (no recovery target).
$primary->backup('s');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 's', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
$standby->promote;
($parent, $switch, $reason) = bh_timeline_switch($standby, 2);
is("$parent $reason", '1 no recovery target specified',
	'the promoted standby\'s history file says it left timeline 1 without a target');
is(losses($standby, 1),
	expected_meta($standby, timeline => 2, previous_timeline => 1,
		timeline_switch_lsn => $switch,
		recovery_end => 'no recovery target specified'),
	'one loss event: recovery ended, on timeline 2, which left timeline 1 at the promotion');
is($standby->safe_psql('postgres', q{
SELECT bh_audit.validate_event(event) FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	't', 'it validates');
is($standby->safe_psql('postgres',
		"SELECT result FROM bh_audit.verify_chain(expected_head => '$anchor')"),
	'PASS', 'the promoted standby has every event of the old timeline: the anchor verifies');

# (3) A standby of the promoted one, stopped, then started without
# standby.signal and without its timeline's history file: the end of
# recovery is recorded, without the facts of a history it cannot read.
$standby->backup('s2');
my $second = PostgreSQL::Test::Cluster->new('second');
$second->init_from_backup($standby, 's2', has_streaming => 1);
$second->start;
$standby->wait_for_catchup($second);
$second->stop;
unlink($second->data_dir . '/standby.signal') or die "unlink: $!";
my $history = $second->data_dir . '/pg_wal/00000002.history';
unlink($history);
ok(!-e $history, 'the second standby has no history file of timeline 2');
$second->start;
my $standby_loss = losses($standby, 1);
is(losses($second, 2), "$standby_loss\n" . expected_meta($second),
	'a second loss event, recovery ended, without the timeline\'s facts');
is($second->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'its chain verifies');

$second->stop;
$standby->stop;
$primary->stop;
done_testing();
