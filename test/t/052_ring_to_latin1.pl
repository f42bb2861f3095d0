# The sealer's database is LATIN1.  A read captured in a UTF8 database is
# chained with its strings converted to LATIN1: the patient 'pat-é' is
# 'pat-é' (not 'pat-Ã©', its UTF-8 bytes read as LATIN1), and a character
# that LATIN1 lacks is '?'.  The export, taken with client_encoding UTF8,
# carries the canonical UTF-8 bytes and passes the independent verifier
# (it returned them as LATIN1 text, which the client converted again).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('ring_to_latin1', 'LATIN1', 'UTF8');
$node->safe_psql('audit', q{
CREATE TABLE notes (id text PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
INSERT INTO notes VALUES ('note-1', 'José');
});

$node->safe_psql('clinic', q{
CREATE EXTENSION bh_audit;
CREATE TABLE patients (id text PRIMARY KEY, name text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
INSERT INTO patients VALUES ('pat-é', 'x'), ('pat-日', 'y');
});
$node->safe_psql('clinic', "SELECT name FROM patients WHERE id = 'pat-é'");
$node->safe_psql('clinic', "SELECT name FROM patients WHERE id = 'pat-日'");
$node->safe_psql('audit', 'SELECT bh_audit.seal()');
is($node->safe_psql('audit', q{
SELECT string_agg(encode(convert_to(patient_id, 'LATIN1'), 'hex'), ' ' ORDER BY seq)
  FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Patient'}),
	'7061742de9 7061742d3f', 'the reads are chained as LATIN1 pat-é and pat-?');
is($node->safe_psql('audit', q{
SELECT string_agg(patient_id, ' ' ORDER BY seq)
  FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Patient'}),
	'pat-é pat-?', 'which a UTF8 client reads as pat-é and pat-?');
is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

# The write of the LATIN1 database's own José, and the reads.
my $export = bh_export_verified($node, 'audit', 'ring_to_latin1');
like($export, qr/"patient_id":"Jos\x{c3}\x{a9}"/, 'the export carries José in UTF-8');
like($export, qr/"patient_id":"pat-\x{c3}\x{a9}"/, 'and pat-é');

# canonical_json() and event_hash() in the LATIN1 database: the canonical
# text comes back as text of the database (José, not its UTF-8 bytes read
# as LATIN1), and an event is hashed as its UTF-8 bytes, as in a UTF8
# database, whether é is written as such or as \u00e9.
is($node->safe_psql('audit', q{SELECT bh_audit.canonical_json('{"b": "José", "a": 1}')}),
	'{"a":1,"b":"José"}', 'canonical_json() returns José as LATIN1 text');
is($node->safe_psql('audit', q{
SELECT bh_audit.canonical_json(event::json) LIKE '%"patient_id":"José"%'
  FROM bh_audit.events WHERE resource_type = 'Note'}), 't',
	'the canonical text of the stored José event names José');
my $hash = $node->safe_psql('clinic', q{SELECT bh_audit.event_hash('{"s": "José"}')});
like($hash, qr/^[0-9a-f]{64}$/, 'a hash in the UTF8 database');
is($node->safe_psql('audit', q{SELECT bh_audit.event_hash('{"s": "José"}')}),
	$hash, 'the same hash in the LATIN1 database');
is($node->safe_psql('audit', q{SELECT bh_audit.event_hash('{"s": "Jos\u00e9"}')}),
	$hash, 'and with the escape \u00e9');

$node->stop;
done_testing();
