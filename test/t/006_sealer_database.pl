# The sealer and a bh_audit.database that does not exist yet: it retries
# with growing pauses (a log line every few seconds, not every second),
# and connects once the database is created.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sealer_db', database => 'clinic_later', create_database => 0,
	extension => 0);
sleep(9);
my $log = slurp_file($node->logfile);
my $fatals = () = $log =~ /FATAL:  database "clinic_later" does not exist/g;
note("connection failures in 9 s: $fatals");
# attempts at about 0, 3, 8 s (restart after 1 s, then 2 and 4 s pauses);
# every second without the pauses
cmp_ok($fatals, '>=', 2, 'the sealer keeps trying');
cmp_ok($fatals, '<=', 4, 'with growing pauses between attempts');
like($log, qr/bh_audit sealer connects to database "clinic_later" in \d+ s \(after \d+ failed attempts\)/,
	'each pause is logged');

$node->safe_psql('postgres', 'CREATE DATABASE clinic_later');
ok($node->poll_query_until('clinic_later',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'the sealer connects once the database exists');
$node->safe_psql('clinic_later', 'CREATE EXTENSION bh_audit');
$node->safe_psql('clinic_later', "SELECT bh_audit.emit('READ', 'Patient', 'p1', 'p1')");
$node->safe_psql('clinic_later', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic_later', 'SELECT count(*) FROM bh_audit.events'), '1',
	'and seals');

# After a connection the pauses start over: a sealer killed now is back at once.
my $pid = $node->safe_psql('clinic_later',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('clinic_later',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer' AND pid <> $pid"),
	'a terminated sealer is restarted');

$node->stop;
done_testing();
