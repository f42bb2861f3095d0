# The sealer's repair of an event holding a character without a UTF-8
# equivalent (t/150) changes only such characters.  EUC_JP's conversion to
# UTF-8 and back is not one-to-one: 23 codes (NEC row 13 symbols such as
# 0xADF0, IBM extensions such as 0x8FA2F1) come back as their JIS X 0208
# twins (0xADF0 -> 0xA2E2).  Any role can set its own bh_audit.actor_id
# with 0xA9A1, so a repair that round-tripped every string would seal its
# READ of a patient whose id holds such a code under another patient_id
# than the patient's other events, and an access review by that id would
# miss it.  A metadata key with such a character, which the repair could
# turn into another key of the event, is refused by emit().
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('repair_keeps_chars', 'EUC_JP', undef);
$node->safe_psql('audit', q{
CREATE TABLE notes (id text PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
CREATE ROLE clerk LOGIN;
GRANT ALL ON notes TO clerk;
INSERT INTO notes VALUES ('d1', 'pat' || convert_from('\xadf0'::bytea, 'EUC_JP'), 'x');
SELECT bh_audit.seal();
});

# one read by an ordinary end user, one by a role whose actor_id has 0xA9A1
$node->safe_psql('audit', q{
SET ROLE clerk;
SELECT count(*) FROM notes WHERE id = 'd1';
SELECT set_config('bh_audit.actor_id', 'mallory' || convert_from('\xa9a1'::bytea, 'EUC_JP'), false) IS NOT NULL;
SELECT count(*) FROM notes WHERE id = 'd1';
RESET ROLE;
SELECT bh_audit.seal();
});

is($node->safe_psql('audit', q{
SELECT string_agg(action || ' ' || encode(convert_to(actor_id, 'EUC_JP'), 'hex') || ' ' ||
                  encode(convert_to(patient_id, 'EUC_JP'), 'hex'), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE resource_type = 'Note'}),
	'CREATE 706f737467726573 706174adf0, READ 706f737467726573 706174adf0, READ 6d616c6c6f72793f 706174adf0',
	'the repaired READ keeps the patient id as stored: only 0xA9A1 becomes ?');
is($node->safe_psql('audit', q{
SELECT count(*) FROM bh_audit.events
 WHERE patient_id = (SELECT patient FROM notes WHERE id = 'd1')}),
	'3', 'an access review by the patient id finds all three events');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

# A metadata key with 0xA9A1 is refused by emit() (22P05), nothing queued:
# repaired to note?, it could be taken for another key of the event.
my ($ret, $out, $err) = $node->psql('audit', q{
SELECT set_config('bh_audit.metadata_allowlist', 'note' || convert_from('\xa9a1'::bytea, 'EUC_JP') || ',note?', false) IS NOT NULL;
SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'k1', 'pat-1',
       metadata => jsonb_build_object('note' || convert_from('\xa9a1'::bytea, 'EUC_JP'), 'first', 'note?', 'second'));
}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  22P05: character with byte sequence 0xa9 0xa1 in encoding "EUC_JP" has no equivalent in encoding "UTF8"/,
	'emit() refuses a metadata key without a UTF-8 form');
$node->safe_psql('audit', 'SELECT bh_audit.seal()');
is($node->safe_psql('audit', q{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'k1'}),
	'0', 'and records nothing');
# a value with it is taken, repaired by the sealer
$node->safe_psql('audit', q{
SELECT set_config('bh_audit.metadata_allowlist', 'note', false) IS NOT NULL;
SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'k2', 'pat-1',
       metadata => jsonb_build_object('note', 'a' || convert_from('\xa9a1'::bytea, 'EUC_JP') || convert_from('\xadf0'::bytea, 'EUC_JP')));
SELECT bh_audit.seal();
});
is($node->safe_psql('audit', q{
SELECT encode(convert_to(event->'metadata'->>'note', 'EUC_JP'), 'hex') FROM bh_audit.events WHERE resource_id = 'k2'}),
	'613fadf0', 'a metadata value keeps its other characters as they were');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;

done_testing();
