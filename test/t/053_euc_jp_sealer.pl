# The sealer's database is EUC_JP.  A failed login whose role name is not
# UTF-8 is chained, with '?' for the byte (U+FFFD, which EUC_JP lacks):
# the sealer discarded it.  A read captured in a UTF8 database of patient
# '患者-😀' is chained as '患者-?' (EUC_JP has 患者, not 😀).  The export,
# taken with client_encoding UTF8, passes the independent verifier (it
# failed with "invalid byte sequence for encoding EUC_JP").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('euc_jp_sealer', 'EUC_JP', 'UTF8',
	conf => "bh_audit.log_connections = on\n");

my ($ret, $out, $err) = bh_login($node, 'clinic', '-U', "jos\xe9", '-w');
isnt($ret, 0, 'the login with a LATIN1 role name is refused');

$node->safe_psql('clinic', q{
CREATE EXTENSION bh_audit;
CREATE TABLE patients (id text PRIMARY KEY, name text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
INSERT INTO patients VALUES ('患者-😀', 'x');
});
$node->safe_psql('clinic', "SELECT name FROM patients WHERE id = '患者-😀'");
# (the refused login's FAILURE is pushed as its process exits, after psql
# got the error)
bh_wait_sealed($node, 'audit', "action = 'LOGIN' AND outcome = 'FAILURE'", 1);
$node->safe_psql('audit', 'SELECT bh_audit.seal()');

is($node->safe_psql('audit', q{
SELECT event->'metadata'->>'role' || ' ' || (event->'metadata'->>'database')
  FROM bh_audit.events WHERE action = 'LOGIN' AND outcome = 'FAILURE'}),
	'jos? clinic', 'the LOGIN event is chained, the byte as ?');
is($node->safe_psql('audit', q{
SELECT string_agg(patient_id, ' ' ORDER BY seq)
  FROM bh_audit.events WHERE action = 'READ' AND resource_type = 'Patient'}),
	'患者-?', 'the read is chained in EUC_JP, 😀 as ?');
is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

# A resource type holding a character UTF-8 lacks (EUC_JP's user-defined
# area) is a resource type like any other: the check for the reserved ones
# reads it without raising.
is($node->safe_psql('audit', q{
SELECT bh_audit.emit('OTHER', convert_from('\x4e6f7465f5a1', 'EUC_JP'), '1', 'p1') IS NOT NULL}),
	't', 'emit() takes a resource type with a character UTF-8 lacks');
$node->safe_psql('audit', 'SELECT bh_audit.seal()');

my $export = bh_export_verified($node, 'audit', 'euc_jp_sealer');
like($export, qr/"patient_id":"患者-\?"/, 'the export carries the patient in UTF-8');

$node->stop;
done_testing();
