# Verification and export are read-only: they run on a hot standby, where
# sealing does not.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = bh_node('primary', init => { allows_streaming => 1 });
$primary->safe_psql('postgres',
	"SELECT bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i) FROM generate_series(1, 100) i");
$primary->safe_psql('postgres', 'SELECT bh_audit.seal()');

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres',
	"SELECT bh_audit.emit('READ', 'Patient', 'late', 'late'); SELECT bh_audit.seal();");
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby in recovery');
is($standby->safe_psql('postgres',
		'SELECT result, events_scanned FROM bh_audit.verify_chain()'),
	'PASS|101', 'verify_chain runs on the standby');
is($standby->safe_psql('postgres',
		'SELECT (SELECT event_hash FROM bh_audit.chain_head()) = ' . "'"
		  . $primary->safe_psql('postgres', 'SELECT event_hash FROM bh_audit.chain_head()') . "'"),
	't', 'the standby has the primary\'s head');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.export_jsonl()'),
	'101', 'export_jsonl runs on the standby');
my ($ret, $out, $err) = $standby->psql('postgres', 'SELECT bh_audit.seal()');
like($err, qr/cannot run during recovery/, 'seal() is refused on the standby');

is($standby->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() on a standby with no tagged table: nothing to capture');

# Reads on the standby are not captured (the ledger cannot be written there):
# nothing piles up in the ring, nothing is dropped, no warning.
$primary->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id int);
INSERT INTO notes SELECT i, i % 7 FROM generate_series(1, 50) i;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
$primary->wait_for_catchup($standby);
($ret, $out, $err) = $standby->psql('postgres', 'SELECT count(*) FROM notes');
is($out, '50', 'a tagged table is readable on the standby');
is($err, '', 'without any warning');
is($standby->safe_psql('postgres', 'SELECT ring_events, events_dropped_total FROM bh_audit.stats()'),
	'0|0', 'and nothing waits in (or was dropped from) the standby\'s ring');

# Tagging cannot change on a standby: refused as PostgreSQL refuses a write
# there, before any statement of the call runs.
($ret, $out, $err) = $standby->psql('postgres', q{SELECT bh_audit.tag_table('notes', 'Note', 'id')});
like($err, qr/ERROR:  cannot execute bh_audit\.tag_table\(\) during recovery/,
	'tag_table() on the standby: refused as a write during recovery');
($ret, $out, $err) = $standby->psql('postgres', q{SELECT bh_audit.untag_table('notes')});
like($err, qr/ERROR:  cannot execute bh_audit\.untag_table\(\) during recovery/,
	'untag_table() on the standby: refused the same way');

# So capture_status() says so on the standby, once a table is tagged (a
# monitoring check there alerts), and not on the primary.
is($standby->safe_psql('postgres', q{SELECT coalesce(tbl::text, '-') || '|' || problem FROM bh_audit.capture_status()}),
	'-|this server is a hot standby: reads, denials and failures of tagged tables here are not captured (logins are, with bh_audit.log_connections, sealed after a promotion)',
	'capture_status() on the standby: reads there are not captured');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() on the primary: complete');

# A session's switch of bh_audit.enabled on the standby is let through and
# records nothing: nothing a session does there is captured or queued.
for my $sql ('SET bh_audit.enabled = off', 'SET bh_audit.enabled = on',
	'SET bh_audit.enabled = off; RESET bh_audit.enabled',
	'BEGIN; SET LOCAL bh_audit.enabled = off; COMMIT',
	"SELECT set_config('bh_audit.enabled', 'off', false)",
	"BEGIN; SELECT set_config('bh_audit.enabled', 'off', true); ROLLBACK")
{
	($ret, $out, $err) = $standby->psql('postgres', "$sql; SHOW bh_audit.enabled");
	is("$ret|$err", '0|', "on the standby: $sql");
}
is($standby->safe_psql('postgres', 'SELECT ring_events, events_dropped_total FROM bh_audit.stats()'),
	'0|0', 'the switches put nothing in the standby\'s ring');

# A statement the configuration guard checks (ALTER TABLE, RENAME COLUMN,
# CREATE RULE of a tagged table, its rename however named, the rename of
# its schema, a superuser's DROP TRIGGER of a capture trigger, a drop of
# the extension or of one of its functions) asks for no lock on a standby
# and records nothing: it is refused at once with
# PostgreSQL's own error as a write (25006 in a read-only transaction), as
# without bh_audit, not with 55000 (no ACCESS EXCLUSIVE lock during
# recovery) nor with the guard's refusal, or its refusal to record an event
# there.
for my $case (['ALTER TABLE notes ADD COLUMN z int', 'ALTER TABLE'],
	['ALTER TABLE notes RENAME COLUMN patient_id TO p', 'ALTER TABLE'],
	['CREATE RULE notes_r AS ON INSERT TO notes DO INSTEAD NOTHING', 'CREATE RULE'],
	['ALTER TABLE notes RENAME TO notes2', 'ALTER TABLE'],
	['ALTER INDEX notes RENAME TO notes2', 'ALTER INDEX'],
	['ALTER SCHEMA public RENAME TO public2', 'ALTER SCHEMA'],
	['DROP TRIGGER bh_audit_capture_row ON notes', 'DROP TRIGGER'],
	['ALTER EXTENSION bh_audit DROP FUNCTION bh_audit.verify_chain()', 'ALTER EXTENSION'],
	['DROP EXTENSION bh_audit CASCADE', 'DROP EXTENSION'])
{
	my ($sql, $command) = @$case;
	($ret, $out, $err) = $standby->psql('postgres', $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  25006: cannot execute \Q$command\E in a read-only transaction$/m,
		"on the standby: $sql refused as PostgreSQL refuses a write");
}

$standby->stop;
$primary->stop;
done_testing();
