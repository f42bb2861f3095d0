# An event keeps within the schema's maxLength (counted in Unicode code
# points) whatever the encoding of the database that captured it.  In an
# EUC_JIS_2004 database one character can be two code points in UTF-8
# (0xA4F7 is U+304B U+309A): a patient id or an actor_id cut to 256 of the
# database's characters is still up to 512 code points once converted,
# in the sealer's UTF8 database (reads captured in another database) or
# in the UTF-8 export of a ledger kept in an EUC_JIS_2004 database.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

# 300 characters, each U+304B U+309A
my $long = "convert_from(decode(repeat('a4f7', 300), 'hex'), 'EUC_JIS_2004')";
my $setup = qq{
CREATE EXTENSION IF NOT EXISTS bh_audit;
CREATE TABLE patients (id text PRIMARY KEY, note text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
INSERT INTO patients SELECT $long, 'x';
};
# a role of 40 such characters: 80 code points, over the 64 of roles' items
my $role = "convert_from(decode(repeat('a4f7', 40), 'hex'), 'EUC_JIS_2004')";
my $read = qq{
SELECT set_config('bh_audit.actor_id', $long, false) IS NOT NULL;
SELECT set_config('bh_audit.actor_roles', 'nurse,' || $role, false) IS NOT NULL;
SELECT count(*) FROM patients WHERE note = 'x';
};

# The longest actor.subject_id and resource.patient_id, in code points, of
# the exported events that have one.
sub longest
{
	my ($export) = @_;
	my ($actor, $patient, $role) = (0, 0, 0);

	foreach my $line (split /\n/, $export)
	{
		next if $line eq '';
		my $ev = JSON::PP->new->utf8->decode($line);
		my $a = length($ev->{actor}{subject_id} // '');
		my $p = length($ev->{resource}{patient_id} // '');
		$actor = $a if $a > $actor;
		$patient = $p if $p > $patient;
		foreach my $r (@{ $ev->{actor}{roles} // [] })
		{
			$role = length($r) if length($r) > $role;
		}
	}
	return ($actor, $patient, $role);
}

# Reads captured in an EUC_JIS_2004 database, chained in the UTF8 one.
{
	my $node = bh_encoding_node('euc_jis_reads', 'UTF8', 'EUC_JIS_2004');
	my $mark = bh_seal_mark($node, 'audit');

	$node->safe_psql('clinic', $setup);
	$node->safe_psql('clinic', $read);
	is(bh_wait_sealed($node, 'audit',
			"seq > $mark AND action = 'READ' AND resource_type = 'Patient'", 1),
		1, 'the read is chained in the UTF8 database');
	is($node->safe_psql('audit', qq{
SELECT max(length(actor_id)) <= 256 AND max(length(patient_id)) <= 256
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Patient'}),
		't', 'its actor_id and patient_id are within 256 code points');
	is($node->safe_psql('audit', qq{
SELECT count(*) FROM bh_audit.events e, bh_audit.validation_errors(e.event) v
 WHERE e.seq > $mark}),
		'0', 'the chained events validate against their schema');
	is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'),
		'PASS', 'the chain verifies');
	$node->stop;
}

# A ledger kept in an EUC_JIS_2004 database: its export is UTF-8.
{
	my $node = bh_encoding_node('euc_jis_ledger', 'EUC_JIS_2004');

	$node->safe_psql('audit', $setup);
	$node->safe_psql('audit', $read);
	$node->safe_psql('audit', 'SELECT bh_audit.seal()');
	my $export = bh_export_verified($node, 'audit', 'euc_jis_ledger');
	my ($actor, $patient, $role) = longest($export);
	ok($actor <= 256 && $patient <= 256,
		'the exported actor.subject_id and resource.patient_id are within 256 code points')
	  or diag("longest actor.subject_id $actor, resource.patient_id $patient");
	ok($role > 0 && $role <= 64, 'the exported roles are within 64 code points')
	  or diag("longest role $role");

	# The validator, emit() and tag_table() count code points too.
	my $c200 = "convert_from(decode(repeat('a4f7', 200), 'hex'), 'EUC_JIS_2004')";
	is($node->safe_psql('audit', qq{
SELECT count(*)
  FROM (SELECT event FROM bh_audit.events WHERE resource_type = 'Patient' LIMIT 1) e,
       bh_audit.validation_errors(jsonb_set(e.event, '{actor,subject_id}',
                                            to_jsonb($c200))) v}),
		'1', 'the validator refuses an actor.subject_id of 200 characters, 400 code points');
	my ($ret, $out, $err) = $node->psql('audit',
		"SELECT bh_audit.emit('READ', 'Patient', $c200)");
	like($err, qr/resource_id is longer than 256 characters/,
		'emit() refuses a resource_id of 200 characters, 400 code points');
	($ret, $out, $err) = $node->psql('audit', qq{
CREATE TABLE notes (id int PRIMARY KEY);
SELECT bh_audit.tag_table('notes',
  convert_from(decode(repeat('a4f7', 100), 'hex'), 'EUC_JIS_2004'), 'id', 'id')});
	like($err, qr/resource_type must be 1 to 128 characters/,
		'tag_table() refuses a resource_type of 100 characters, 200 code points');
	$node->stop;
}

done_testing();
