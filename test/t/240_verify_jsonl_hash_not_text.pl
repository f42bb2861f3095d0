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

my $node = bh_node('verify_jsonl_hash_not_text');
my $export = bh_reads_exported($node, 'hash_not_text_intact');
my @lines = split /\n/, $export;

# The verifier on the edited lines (file $file): no traceback, and a FAIL
# report (exit 1) or an unreadable export (exit 2).
sub fails_cleanly
{
	my ($file, $what, @edited) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($status, $out, $err) = bh_verify_jsonl($file, join("\n", @edited) . "\n");

	unlike($err, qr/Traceback/, "$what: no traceback")
	  or diag $err;
	ok(($status == 1 && $out =~ /"result": "FAIL"/)
		  || ($status == 2 && $err =~ /^unreadable export: /m),
		"$what: a FAIL report (exit 1) or unreadable (exit 2)")
	  or diag "status $status\n$out$err";
	return;
}

foreach my $case (['number', '12345'], ['null', 'null'], ['object', '{"hex":"ab"}'])
{
	my ($name, $value) = @$case;
	my @edited = @lines;
	# the first line's own hash, which the second line's link is checked against
	$edited[0] =~ s/"event_hash":"[0-9a-f]+"/"event_hash":$value/ or die "no event_hash";
	fails_cleanly("hash_$name", "event_hash $name", @edited);
}

# a lone surrogate escape in a value of the first line
{
	my @edited = @lines;
	$edited[0] =~ s/"subject_id":"[^"]*"/"subject_id":"\\ud800"/ or die "no subject_id";
	fails_cleanly('surrogate', 'a lone surrogate escape', @edited);
}

done_testing();
