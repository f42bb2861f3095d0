# A transaction that narrowed read capture in its session (capture switched
# off, a table untagged, a partition detached) cannot be prepared: the
# session keeps a SET after PREPARE TRANSACTION, and a later ROLLBACK
# PREPARED would take the change's event away although the change was in
# effect.  The refused PREPARE rolls the transaction back, which records the
# change as rolled back; a transaction without such a change prepares and
# commits as before.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('prepare_narrowing', conf => "max_prepared_transactions = 2\n");
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
INSERT INTO notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

# The configuration events after a mark: change, value, rolled_back.
sub config_after
{
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(concat_ws(' ', event -> 'metadata' ->> 'change',
                            event -> 'metadata' ->> 'value',
                            event -> 'metadata' ->> 'rolled_back'), E'\\n' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'AuditConfiguration'});
}

my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
\set ON_ERROR_STOP 0
BEGIN;
SET bh_audit.enabled = off;
SELECT patient_id FROM notes;
PREPARE TRANSACTION 'x';
SHOW bh_audit.enabled;
});
like($stderr,
	qr/ERROR:  cannot PREPARE a transaction that narrowed bh_audit's read capture/,
	'PREPARE TRANSACTION is refused after capture was switched off');
like($stdout, qr/^p1\non$/m, 'the transaction rolled back: capture is on again');
is(config_after($mark), "t\nSET off true",
	'the switch is recorded as rolled back');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0',
	'nothing was prepared');

$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SELECT bh_audit.untag_table('notes');
PREPARE TRANSACTION 'y';
});
like($stderr, qr/ERROR:  cannot PREPARE a transaction that narrowed/,
	'PREPARE TRANSACTION is refused after an untag');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tagged_tables'), '1',
	'the table is still tagged');
is(config_after($mark), "t\nuntag_table true",
	'the untag is recorded as rolled back');

# A transaction with writes only prepares and commits; its events are kept.
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO notes VALUES (2, 'p2');
PREPARE TRANSACTION 'z';
COMMIT PREPARED 'z';
});
my $m = (split /\n/, $mark)[-1];
is($node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(action || ' ' || patient_id, ',' ORDER BY seq) FROM bh_audit.events
 WHERE seq > $m AND resource_type = 'Note' AND action <> 'READ'}), 't
CREATE p2', 'a prepared transaction without such a change commits its events');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
