# test/verify_jsonl.py over an export whose integrity block holds a hash
# that is not a JSON string (an edited line: export_jsonl() writes every
# hash as text).  The verifier must answer as it does for any other edit,
# with its report: a hash_mismatch, FAIL, exit 1 (or call the file
# unreadable, exit 2), never a Python traceback without a report.  Where
# such a hash is the running previous hash of the next line, chain_hash()
# called .encode() on it and the verifier died with AttributeError.
# Likewise a line holding a lone surrogate escape ("\ud800", which no
# export holds: jsonb refuses it): chain_hash() encodes the canonical form
# as UTF-8 outside read_events()' handling, and UnicodeEncodeError escaped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $verifier = "$FindBin::RealBin/../verify_jsonl.py";
my $node = bh_node('verify_jsonl_hash_not_text');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'd' || i, 'p1') FROM generate_series(1, 3) i;
SELECT bh_audit.seal();
});
my $export = bh_export_verified($node, 'postgres', 'hash_not_text_intact');
my @lines = split /\n/, $export;

foreach my $case (['number', '12345'], ['null', 'null'], ['object', '{"hex":"ab"}'])
{
	my ($name, $value) = @$case;
	my @edited = @lines;
	# the first line's own hash, which the second line's link is checked against
	$edited[0] =~ s/"event_hash":"[0-9a-f]+"/"event_hash":$value/ or die "no event_hash";
	my $file = "$PostgreSQL::Test::Utils::tmp_check/hash_$name.jsonl";
	PostgreSQL::Test::Utils::append_to_file($file, join("\n", @edited) . "\n");
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'python3', $verifier, $file ], '>', \$out, '2>', \$err);
	my $status = $? >> 8;
	unlike($err, qr/Traceback/, "event_hash $name: no traceback")
	  or diag $err;
	ok(($status == 1 && $out =~ /"result": "FAIL"/)
		  || ($status == 2 && $err =~ /^unreadable export: /m),
		"event_hash $name: a FAIL report (exit 1) or unreadable (exit 2)")
	  or diag "status $status\n$out$err";
}

# a lone surrogate escape in a value of the first line
{
	my @edited = @lines;
	$edited[0] =~ s/"subject_id":"[^"]*"/"subject_id":"\\ud800"/ or die "no subject_id";
	my $file = "$PostgreSQL::Test::Utils::tmp_check/surrogate.jsonl";
	PostgreSQL::Test::Utils::append_to_file($file, join("\n", @edited) . "\n");
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'python3', $verifier, $file ], '>', \$out, '2>', \$err);
	my $status = $? >> 8;
	unlike($err, qr/Traceback/, 'a lone surrogate escape: no traceback')
	  or diag $err;
	ok(($status == 1 && $out =~ /"result": "FAIL"/)
		  || ($status == 2 && $err =~ /^unreadable export: /m),
		'a lone surrogate escape: a FAIL report (exit 1) or unreadable (exit 2)')
	  or diag "status $status\n$out$err";
}

done_testing();
