# The export passes an independent verifier that mirrors bh-audit verify
# (test/verify_jsonl.py, Python's json and hashlib), itself checked against
# every vector of test/vectors/expected_verify_results.json; a tampered
# export fails it.
use strict;
use warnings;
use File::Basename qw(dirname);
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $testdir = dirname(__FILE__);
my $verifier = "$testdir/../verify_jsonl.py";
my $vectors = "$testdir/../vectors";

# The mirror reproduces the expected results of every vector file.
opendir(my $dh, $vectors) or die "no vectors: $!";
my @files = sort grep { /\.jsonl$/ } readdir($dh);
closedir($dh);
cmp_ok(scalar(@files), '>=', 10, 'vector files found');
for my $f (@files)
{
	my ($out, $err);
	my $ok = IPC::Run::run(['python3', $verifier, "$vectors/$f", '--expect',
			"$vectors/expected_verify_results.json", '--name', $f],
		'>', \$out, '2>', \$err);
	ok($ok, "verifier mirror reproduces the expected result of $f");
}

my $node = bh_node('export');

# A chain of several shapes and all three algorithms.
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'pat_' || i, 'pat_' || i,
                     metadata => jsonb_build_object('n', i, 'f', i / 3.0, 's', 'é ☃ 😀 "q" \\ ' || i))
  FROM generate_series(1, 20) i;
SELECT bh_audit.emit('UPDATE', 'Note', 'n1', 'pat_1', 'FAILURE', 'Timeout');
SELECT bh_audit.emit('READ', 'Note', 'n2', 'pat_2', 'DENIED', 'PermissionDenied', data_classification => 'PHI', phi_touched => false);
SELECT bh_audit.seal();
});
# After a reload: once a new session has the setting, the postmaster has
# signalled every process, the sealer too, which takes the setting at the
# start of its next round; seal() ends the round in progress, so that the
# event is sealed by a later one.
for my $alg ('sha384', 'sha512', 'sha256')
{
	$node->safe_psql('postgres', "ALTER SYSTEM SET bh_audit.hash_algorithm = '$alg'");
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT current_setting('bh_audit.hash_algorithm') = '$alg'")
	  or die "the reload of bh_audit.hash_algorithm = $alg did not take";
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	$node->safe_psql('postgres',
		"SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'x_$alg', 'pat_9'); SELECT bh_audit.seal();");
}
is($node->safe_psql('postgres', 'SELECT string_agg(DISTINCT hash_alg, \',\' ORDER BY hash_alg) FROM bh_audit.events'),
	'sha256,sha384,sha512', 'the chain mixes three algorithms');

my $export = $node->safe_psql('postgres', 'SELECT * FROM bh_audit.export_jsonl()');
my $file = "$PostgreSQL::Test::Utils::tmp_check/export.jsonl";
PostgreSQL::Test::Utils::append_to_file($file, "$export\n");

my ($out, $err);
my $ok = IPC::Run::run(['python3', $verifier, $file], '>', \$out, '2>', \$err);
ok($ok, 'the whole export passes the independent verifier');
# (25 emitted, and the three ALTER SYSTEM of the algorithm recorded)
like($out, qr/"events_scanned": 28/, 'every event was scanned');
like($out, qr/"result": "PASS"/, 'result PASS');

# Tampered: one value changed in the middle of the file.
my @lines = split /\n/, $export;
$lines[10] =~ s/"pat_11"/"pat_99"/g or die 'tamper target not found';
my $tampered = "$PostgreSQL::Test::Utils::tmp_check/tampered.jsonl";
PostgreSQL::Test::Utils::append_to_file($tampered, join("\n", @lines) . "\n");
$ok = IPC::Run::run(['python3', $verifier, $tampered], '>', \$out, '2>', \$err);
ok(!$ok, 'a tampered export fails the independent verifier');
like($out, qr/"event_index": 10,\s+"expected": "[0-9a-f]+",\s+"failure_type": "hash_mismatch"/,
	'the tampered line is reported');

# A range export continues the chain: its first line's prev hash is the
# hash of the event before it.  Verified with that hash it passes; read as
# the beginning of a chain, its first line fails (as the upstream verifier
# reads every file); with another hash too.
my $range = $node->safe_psql('postgres', 'SELECT * FROM bh_audit.export_jsonl(5, 9)');
is(scalar(split /\n/, $range), 5, 'a range export has the range');
my $range_file = "$PostgreSQL::Test::Utils::tmp_check/range.jsonl";
PostgreSQL::Test::Utils::append_to_file($range_file, "$range\n");
my $before = $node->safe_psql('postgres', 'SELECT event_hash FROM bh_audit.events WHERE seq = 4');
$ok = IPC::Run::run(['python3', $verifier, $range_file, '--after', $before], '>', \$out, '2>', \$err);
ok($ok, 'the range passes, verified after the hash of the event before it');
like($out, qr/"chain_length": 5,.*"result": "PASS"/s, 'its five events chained');
$ok = IPC::Run::run(['python3', $verifier, $range_file], '>', \$out, '2>', \$err);
ok(!$ok, 'read as the start of a chain, it fails');
like($out, qr/"event_index": 0,.*"failure_type": "chain_gap"/s, 'at its first line');
my $other = $node->safe_psql('postgres', 'SELECT event_hash FROM bh_audit.events WHERE seq = 3');
$ok = IPC::Run::run(['python3', $verifier, $range_file, '--after', $other], '>', \$out, '2>', \$err);
ok(!$ok, 'after another hash, it fails');

$node->stop;
done_testing();
