# A prepared transaction's events count as emitted when it commits, however
# it is finished: by COMMIT PREPARED in a session, or by the apply worker of
# a two_phase subscription, which prepares and commits without any utility
# statement.  More such transactions than max_prepared_transactions leave
# nothing behind: the emitted and sealed counters agree, and a session's own
# PREPARE TRANSACTION / COMMIT PREPARED is still counted exactly.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "max_prepared_transactions = 3\n");
$pub->start;
$pub->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
CREATE PUBLICATION notes_pub FOR TABLE notes;
});

my $sub = bh_node('subscriber', database => 'clinic',
	conf => "max_prepared_transactions = 3\n");
$sub->safe_psql('clinic', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('clinic',
	"CREATE SUBSCRIPTION notes_sub CONNECTION '$connstr' PUBLICATION notes_pub WITH (two_phase = true)");
ok($sub->poll_query_until('clinic',
		q{SELECT subtwophasestate = 'e' FROM pg_subscription WHERE subname = 'notes_sub'}),
	'the subscription applies prepared transactions as prepared');
$pub->wait_for_catchup('notes_sub');

my $stats = sub {
	$sub->safe_psql('clinic', 'SELECT bh_audit.seal()');
	return $sub->safe_psql('clinic',
		'SELECT events_emitted_total, events_emitted_total - events_sealed_total FROM bh_audit.stats()');
};
my $notes = sub {
	my ($where) = @_;
	return $sub->safe_psql('clinic',
		"SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND $where");
};
my ($emitted0, $diff0) = split /\|/, $stats->();
is($diff0, 0, 'before: emitted and sealed agree');

# The first remote transaction is prepared on the subscriber: its events
# are not counted while it is.
$pub->safe_psql('postgres',
	q{BEGIN; INSERT INTO notes VALUES (1, 'p1'); PREPARE TRANSACTION 'remote_1'});
$pub->wait_for_catchup('notes_sub');
is($sub->safe_psql('clinic', 'SELECT count(*) FROM pg_prepared_xacts'),
	'1', 'the apply worker prepared the transaction on the subscriber');
is($stats->(), "$emitted0|0", 'a prepared remote transaction is not counted');
$pub->safe_psql('postgres', "COMMIT PREPARED 'remote_1'");
$pub->wait_for_catchup('notes_sub');

# The apply worker's COMMIT PREPARED wakes nobody: the sealer's polling
# chains the events.
ok($sub->poll_query_until('clinic',
		q{SELECT count(*) = 1 FROM bh_audit.events WHERE resource_type = 'Note'}),
	'the sealer chains what the apply worker committed, without seal()');

# More remote prepared transactions than max_prepared_transactions.
for my $i (2 .. 5)
{
	$pub->safe_psql('postgres',
		"BEGIN; INSERT INTO notes VALUES ($i, 'p$i'), (${i}0, 'p$i'); PREPARE TRANSACTION 'remote_$i'");
	$pub->safe_psql('postgres', "COMMIT PREPARED 'remote_$i'");
}
# and one rolled back after it was prepared on the subscriber
$pub->safe_psql('postgres',
	q{BEGIN; INSERT INTO notes VALUES (6, 'p6'); PREPARE TRANSACTION 'remote_6'});
$pub->wait_for_catchup('notes_sub');
is($sub->safe_psql('clinic', 'SELECT count(*) FROM pg_prepared_xacts'),
	'1', 'the sixth is prepared on the subscriber');
$pub->safe_psql('postgres', "ROLLBACK PREPARED 'remote_6'");
$pub->wait_for_catchup('notes_sub');
is($sub->safe_psql('clinic', 'SELECT count(*) FROM pg_prepared_xacts'),
	'0', 'and rolled back there');
is($stats->(), ($emitted0 + 9) . '|0',
	'remote prepared transactions: all committed events counted, none of the rolled back');
is($notes->('true'), '9', 'nine remote events chained');

# A session's own prepared transactions are still counted exactly.
$sub->safe_psql('clinic',
	q{BEGIN; INSERT INTO notes VALUES (101, 'l1'), (102, 'l1'); PREPARE TRANSACTION 'local_kept'});
$sub->safe_psql('clinic',
	q{BEGIN; INSERT INTO notes VALUES (103, 'l2'); PREPARE TRANSACTION 'local_dropped'});
is($stats->(), ($emitted0 + 9) . '|0', 'local prepared transactions: not counted while prepared');
$sub->safe_psql('clinic', "COMMIT PREPARED 'local_kept'");
$sub->safe_psql('clinic', "ROLLBACK PREPARED 'local_dropped'");
is($stats->(), ($emitted0 + 11) . '|0',
	'local COMMIT PREPARED counted, ROLLBACK PREPARED not');
is($notes->(q{event -> 'resource' ->> 'patient_id' IN ('l1', 'l2')}), '2',
	'the committed local events are chained, the rolled back ones not');

# Many more than max_prepared_transactions in a row, each finished at once.
for my $i (1 .. 8)
{
	$sub->safe_psql('clinic',
		"BEGIN; INSERT INTO notes VALUES (200 + $i, 'l3'); PREPARE TRANSACTION 'local_$i'; COMMIT PREPARED 'local_$i'");
}
is($stats->(), ($emitted0 + 19) . '|0', 'eight more local prepared transactions counted');

$sub->stop;
$pub->stop;
done_testing();
