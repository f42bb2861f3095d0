# The C validator agrees with a reference JSON Schema validator
# (python3-jsonschema, Draft202012Validator + FormatChecker) on thousands
# of deterministic mutations of the bh-audit-schema examples of all four
# versions: test/validator_mutations.py makes them, computes the reference
# verdicts, and has bh_audit.validate_event() / validation_errors() judge
# them all through one psql session.  Every disagreement is printed with
# the mutation's description; none is skipped.
use strict;
use warnings;
use File::Basename qw(dirname);
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $testdir = dirname(__FILE__);
my $script = "$testdir/../validator_mutations.py";
my $examples = "$testdir/../examples";
my $schemas = "$testdir/../../schema";

ok(-d "$schemas/2.1", 'the vendored schemas are reachable');

# UTF-8, so that lengths count code points of multi-byte characters.
my $node = bh_node('validator', init => { extra => [ '--encoding=UTF8', '--locale=C' ] });

my ($out, $err);
my $ok = IPC::Run::run(
	[
		'python3', $script,
		'--examples' => $examples,
		'--schemas' => $schemas,
		'--dbname' => $node->connstr('postgres'),
		'--min' => 1000
	],
	'>', \$out, '2>', \$err);
note($err) if $err;

my ($reference) = $out =~ /^(reference: .*)$/m;
note($reference // 'no reference line');
my ($mutations) = $out =~ /^mutations: (\d+)$/m;
my ($disagreements) = $out =~ /^disagreements: (\d+)$/m;
my ($inconsistent) = $out =~ /^inconsistent: (\d+)$/m;
my ($probe_failures) = $out =~ /^probe failures: (\d+)$/m;
my ($per_version) = $out =~ /^per version: (.*)$/m;
my ($per_kind) = $out =~ /^per kind: (.*)$/m;

ok(defined $mutations, 'the script judged the mutations') or diag("$out\n$err");
cmp_ok($mutations // 0, '>=', 1000, "at least 1000 mutations (" . ($mutations // 0) . ")");
like($reference // '', qr/date-time: \S+.*ipv4: \S+.*ipv6: \S+.*uuid: \S+/,
	'the reference checks the four formats');
for my $v ('1.0', '1.1', '2.0', '2.1')
{
	like($per_version // '', qr/\Q$v\E=(\d{3,})/, "version $v has mutations");
}
for my $kind (qw(remove type length unknown-key format enum conditional count number version combo))
{
	like($per_kind // '', qr/\b\Q$kind\E=\d+/, "mutations of kind $kind");
}

# every disagreement, with its description
diag($_) for ($out =~ /^(DISAGREE .*\n(?:    .*\n)*)/mg);
diag($_) for ($out =~ /^(INCONSISTENT .*)$/mg);
is($disagreements, '0', "the C validator agrees with the reference on all "
	  . ($mutations // 0) . " mutations");
is($inconsistent, '0', 'validate_event() is true exactly when validation_errors() is empty');

# inputs where the reference is known to deviate from the RFCs: C follows the RFC
note($_) for ($out =~ /^(probe .*)$/mg);
is($probe_failures, '0', 'the C verdict is the RFC\'s on every divergence probe');
ok($ok, 'the script exited 0');

$node->stop;
done_testing();
