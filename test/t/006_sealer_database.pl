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
use Time::HiRes qw(usleep);

my $node = bh_node('sealer_db', database => 'clinic_later', create_database => 0,
	extension => 0);
my $fatal = qr/FATAL:  database "clinic_later" does not exist/;
my $pause = qr/bh_audit sealer connects to database "clinic_later" in \d+ s \(after \d+ failed attempts?\)/;

# Wait for the second attempt's pause line (on a loaded machine the
# postmaster's restart of the worker can take longer than its second).
my $log = '';
for (my $i = 0; $i < 300 && $log !~ $pause; $i++)
{
	usleep(200_000);
	$log = slurp_file($node->logfile);
}
like($log, $pause, 'the sealer tries again, and logs the pause before it');
my $fatals = () = $log =~ /$fatal/g;
cmp_ok($fatals, '>=', 1, 'after a failed connection');

# Then 5 s more: the 2 s and 4 s pauses allow at most two more attempts;
# without the pauses there would be one every second.
sleep(5);
$log = slurp_file($node->logfile);
my $more = (() = $log =~ /$fatal/g) - $fatals;
note("connection failures in the 5 s after the first pause: $more");
cmp_ok($more, '<=', 2, 'with growing pauses between attempts');

$node->safe_psql('postgres', 'CREATE DATABASE clinic_later');
ok($node->poll_query_until('clinic_later',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'the sealer connects once the database exists');
$node->safe_psql('clinic_later', 'CREATE EXTENSION bh_audit');
$node->safe_psql('clinic_later', "SELECT bh_audit.emit('READ', 'Patient', 'p1', 'p1')");
$node->safe_psql('clinic_later', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic_later', 'SELECT count(*) FROM bh_audit.events'), '1',
	'and seals');

# The extension in another database: a warning at CREATE EXTENSION (its
# queued writes are never sealed), and its reads are chained in the
# sealer's database, naming theirs; events of the sealer's own database
# name none.
my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION bh_audit');
like($err, qr/WARNING:  bh_audit's sealer works in database "clinic_later", not in this one/,
	'CREATE EXTENSION in another database warns');
$node->safe_psql('postgres', q{
CREATE TABLE pn (id int, patient_id text);
INSERT INTO pn VALUES (1, 'p9');
SELECT bh_audit.tag_table('pn', 'Note', 'id', 'patient_id');
});
$node->safe_psql('postgres', 'SELECT * FROM pn');
$node->safe_psql('clinic_later', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic_later',
		"SELECT string_agg(coalesce(event->'metadata'->>'database', '-') || '/' || action || '/' || coalesce(patient_id, ''), ',' ORDER BY seq) FROM bh_audit.events"),
	'-/READ/p1,postgres/READ/p9', 'its read is chained in the sealer\'s database, naming its own');

# After a connection the pauses start over: a sealer killed now is back at once.
my $pid = $node->safe_psql('clinic_later',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('clinic_later',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer' AND pid <> $pid"),
	'a terminated sealer is restarted');

$node->stop;
done_testing();
