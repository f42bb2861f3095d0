# bh_audit.sanitize_error_message() agrees with Python's re on every case:
# test/sanitize_reference.py runs the upstream algorithm with Python 3's own
# re (Unicode \d, \s, \b), checks itself against the vector file, generates
# seeded random strings (digits of several scripts, separators, e-mails,
# whitespace of many kinds) and compares the SQL function's output on each,
# all in one psql session.
use strict;
use warnings;
use File::Basename qw(dirname);
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $testdir = dirname(__FILE__);
my $script = "$testdir/../sanitize_reference.py";
my $vectors = "$testdir/../vectors/sanitize_error_message.json";
my $count = 5000;

# UTF-8 whatever the environment's locale: the strings are Unicode.
my $node = bh_node('sanitize', init => { extra => [ '--encoding=UTF8', '--locale=C' ] });

for my $seed (20260311, 7)
{
	my ($out, $err);
	my $ok = IPC::Run::run(
		[
			'python3', $script,
			'--vectors', $vectors,
			'--count', $count,
			'--seed', $seed,
			'--host', $node->host,
			'--port', $node->port,
			'--dbname', 'postgres'
		],
		'>', \$out, '2>', \$err);
	note($out);
	diag($err) if $err ne '';

	like($out, qr/^vectors: (\d+) of \1 match the reference$/m,
		"seed $seed: the Python reference reproduces every vector case");
	my ($agree, $total, $disagree) =
	  $out =~ /^agreement: (\d+) of (\d+) agree, (\d+) disagree/m;
	ok(defined $total, "seed $seed: the comparison ran")
	  or diag($out);
	$total //= 0;
	$disagree //= -1;
	cmp_ok($total, '>=', $count, "seed $seed: at least $count strings compared");
	is($disagree, 0, "seed $seed: the SQL function agrees with Python on all $total strings")
	  or diag(join("\n", grep { /^(DISAGREE|  python|  sql)/ } split /\n/, $out));
	my ($ssn, $email, $phone, $id) =
	  $out =~ /\(SSN (\d+), EMAIL (\d+), PHONE (\d+), ID (\d+)\)/;
	ok(defined $id && $ssn > 0 && $email > 0 && $phone > 0 && $id > 0,
		"seed $seed: every pattern redacts something in the sample");
	ok($ok, "seed $seed: the agreement script exits 0");
}

$node->stop;
done_testing();
