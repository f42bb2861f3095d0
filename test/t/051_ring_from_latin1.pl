# A read captured in a LATIN1 database (the extension created there too)
# is chained in the sealer's UTF8 database with its strings converted: the
# patient 'José' is 'José' in the ledger, not the LATIN1 byte 0xE9 (which
# is no UTF-8 and broke the export and pg_dump), and the export verifies.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('ring_from_latin1', 'UTF8', 'LATIN1');

my ($ret, $out, $err) = $node->psql('clinic', q{
CREATE EXTENSION bh_audit;
CREATE TABLE patients (id text PRIMARY KEY, name text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
INSERT INTO patients VALUES ('José', 'x');
}, on_error_stop => 1);
is($ret, 0, 'the extension is created in the LATIN1 database');
like($err, qr/their text converted from LATIN1 to UTF8/,
	'its warning says that the text is converted');
is($node->safe_psql('clinic', q{SELECT encode(convert_to(id, 'LATIN1'), 'hex') FROM patients}),
	'4a6f73e9', 'the row holds LATIN1 é');

$node->safe_psql('clinic', "SELECT name FROM patients WHERE id = 'José'");
$node->safe_psql('audit', 'SELECT bh_audit.seal()');
# (the two reads of the row: the check above, and this one)
is($node->safe_psql('audit', q{
SELECT string_agg(encode(convert_to(patient_id, 'UTF8'), 'hex') || ' ' || patient_id, ', ' ORDER BY seq)
  FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Patient'}),
	'4a6f73c3a9 José, 4a6f73c3a9 José', 'the reads are chained with the patient converted to UTF-8');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

bh_export_verified($node, 'audit', 'ring_from_latin1');

$node->stop;
done_testing();
