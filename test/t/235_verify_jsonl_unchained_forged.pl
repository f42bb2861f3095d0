# test/verify_jsonl.py, the outside verifier operations.md gives auditors,
# over an export with a forged event without an integrity block added at its
# start or its end: export_jsonl() writes an integrity block on every line,
# so such a line was not exported, and the file must FAIL (exit 1).
#
# verify_jsonl.py counts such a line as "unchained" (the upstream verifier's
# word for an event emitted without a chain), resets the running hash and
# fails nothing: at the end of the file nothing follows it, at the start the
# first exported line has no prev_event_hash to disagree; the report says
# PASS, the exit status is 0, and the file's last hash (prepended) is still
# chain_head()'s, the two checks operations.md asks for.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('verify_jsonl_unchained_forged');
my $export = bh_reads_exported($node, 'intact');
my $head = $node->safe_psql('postgres', 'SELECT event_hash FROM bh_audit.chain_head()');

# A forged event as an exported line would show it, without integrity.
my $forged = $node->safe_psql('postgres', q{
SELECT bh_audit.canonical_json(event::json) FROM bh_audit.events ORDER BY seq LIMIT 1});
$forged =~ s/"patient_id":"p1"/"patient_id":"p_forged"/ or die "no patient_id";

foreach my $case ([ 'prepended', "$forged\n$export\n" ],
	[ 'appended', "$export\n$forged\n" ])
{
	my ($status, $out) = bh_verify_jsonl($case->[0], $case->[1]);
	like($out, qr/"unchained_events": 1/, "$case->[0]: the forged line is read");
	is($status, 1, "$case->[0]: the verifier exits 1 (FAIL)");
	like($out, qr/"result": "FAIL"/, "$case->[0]: the report says FAIL");
}

# A line that is not a JSON object: unreadable (exit 2), not a traceback.
{
	my ($status, $out, $err) = bh_verify_jsonl('not_object', "$export\n[1, 2]\n");
	is($status, 2, 'a line that is not a JSON object: the verifier exits 2');
	like($err, qr/^unreadable export: line \d+ is not a JSON object$/m,
		'... saying the export is unreadable');
}

# A hash_alg verify_chain() does not know (md5): a hash_mismatch, as there.
{
	(my $md5 = $export) =~ s/"hash_alg":"sha256"/"hash_alg":"md5"/ or die "no hash_alg";
	my ($status, $out) = bh_verify_jsonl('md5', "$md5\n");
	is($status, 1, 'hash_alg md5: the verifier exits 1 (FAIL)');
	like($out, qr/Unknown hash_alg/, '... with an unknown hash_alg mismatch');
}

# The intact export still passes, and its last hash is the head.
my ($status) = bh_verify_jsonl('intact_again', "$export\n");
is($status, 0, 'the intact export passes');
like($export, qr/"event_hash":"$head"[^\n]*\z/, 'its last line holds the chain head');

done_testing();
