# The sealer's database is EUC_JP (the same holds for EUC_KR, EUC_CN,
# EUC_JIS_2004, WIN125x, LATIN3, ISO_8859_6/7/8, WIN874): PostgreSQL
# accepts in its text a character that is valid in form but has no UTF-8
# mapping (EUC_JP 0xA9A1, in an unassigned row of JIS X 0208; WIN1258
# 0x81), which the canonical form cannot take.  Any role can put one into
# an event: its own bh_audit.actor_id, an emit() argument, a tagged row's
# id.  Each such event is sealed with the character as '?' (as an event
# from a database of another encoding is), the ledger holding what its hash
# covers: nothing dropped, the chain and the export verify.  (They were
# discarded, counted as dropped, the chain keeping only their number.)  An
# event that cannot be sealed for another reason (a number without a
# canonical form, in a queue row written by other means) is still
# discarded, even with such a character in it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('unmapped_chars', 'EUC_JP', undef);
bh_queue_raw_function($node, 'audit');
$node->safe_psql('audit', q{
CREATE TABLE notes (id text PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
CREATE ROLE clerk LOGIN;
GRANT ALL ON notes TO clerk;
SELECT bh_audit.seal();
});
my $before = $node->safe_psql('audit', 'SELECT max(seq) FROM bh_audit.events');

# an end user's context value with the character, then a write and a read
# of a row whose id has it too, by a role without any privilege of
# bh_audit's, then an emitted event with it in its resource id
$node->safe_psql('audit', q{
SET ROLE clerk;
BEGIN;
SELECT set_config('bh_audit.actor_id', 'mallory' || convert_from('\xa9a1'::bytea, 'EUC_JP'), true) IS NOT NULL;
INSERT INTO notes VALUES ('n1' || convert_from('\xa9a1'::bytea, 'EUC_JP'), 'pat-1', 'x');
UPDATE notes SET body = 'y' WHERE patient = 'pat-1';
SELECT patient, body FROM notes;
COMMIT;
SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'x' || convert_from('\xa9a1'::bytea, 'EUC_JP'), 'pat-2');
RESET ROLE;
SELECT bh_audit.seal();
});

is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'no committed event is dropped');
is($node->safe_psql('audit', qq{
SELECT string_agg(action || ' ' || resource_type || ' ' || coalesce(resource_id, '-') || ' ' ||
                  coalesce(actor_id, '-'), ', ' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $before AND resource_type IN ('Note', 'PatientRecord')}),
	'CREATE Note n1? mallory?, UPDATE Note n1? mallory?, READ Note - mallory?, EXPORT PatientRecord x? postgres',
	'the write, the update, the read and the emitted event are sealed, the character as ?');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
bh_export_verified($node, 'audit', 'unmapped_chars');

# A queue row written by other means, with the character and a number
# without a canonical form: discarded as before.
my $log_offset = -s $node->logfile;
my $bad = $node->safe_psql('audit', q{
SELECT jsonb_set(jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)),
                 '{metadata}', jsonb_build_object('n', ('1' || repeat('0', 4400))::numeric))::text
  FROM bh_audit.events WHERE action = 'EXPORT' AND resource_type = 'PatientRecord'});
$bad =~ s/'/''/g;
$node->safe_psql('audit', qq{
SELECT queue_raw('$bad');
SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'after' || convert_from('\\xa9a1'::bytea, 'EUC_JP'), 'pat-3');
SELECT bh_audit.seal();
});
is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '1',
	'the event with a number without a canonical form is dropped');
is($node->safe_psql('audit', q{
SELECT string_agg(resource_id, ' ' ORDER BY seq) FROM bh_audit.events
 WHERE action = 'EXPORT' AND resource_type = 'PatientRecord'}),
	'x? after?', 'the one behind it is sealed');
ok($node->log_contains(
		qr/WARNING:  bh_audit sealer discarded 1 event it could not seal\n[^\n]*DETAIL:  A number without a canonical form/,
		$log_offset),
	'the sealer says why in the log');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;

# WIN1258: 0x81 has no UTF-8 mapping
my $win = bh_encoding_node('unmapped_chars_win1258', 'WIN1258', undef);
$win->safe_psql('audit', q{
SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'x' || convert_from('\x81'::bytea, 'WIN1258'), 'pat-1');
SELECT bh_audit.seal();
});
is($win->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped in the WIN1258 database');
is($win->safe_psql('audit',
		"SELECT resource_id FROM bh_audit.events WHERE action = 'EXPORT'"),
	'x?', 'the emitted event is sealed there, 0x81 as ?');
bh_export_verified($win, 'audit', 'unmapped_chars_win1258');
$win->stop;

done_testing();
