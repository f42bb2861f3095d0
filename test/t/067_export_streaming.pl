# bh_audit.export_jsonl() streams when called in the SELECT list: on a
# ledger of 200,000 events, `SELECT bh_audit.export_jsonl() LIMIT 1` and a
# cursor read to its end write no temporary file (the function makes one
# line per call; called in FROM, PostgreSQL stores the whole result first,
# which spills to a temporary file: the control), a cursor's backend
# memory stays flat, and the documented psql command (FETCH_COUNT, SELECT
# list) writes the same bytes as the FROM form, which pass the independent
# verifier (test/verify_jsonl.py) in bounded memory.  An export stopped early — a LIMIT, a cursor closed or left
# open at commit, a rescan, a savepoint released or rolled back, a cursor
# WITH HOLD — ends its scan: no resource is left for the commit to warn
# about.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Compare;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $verifier = dirname(__FILE__) . '/../verify_jsonl.py';
my $events = 200_000;
my $node = bh_node('export_streaming',
	conf => "log_temp_files = 0\nwork_mem = '4MB'\n");

$node->safe_psql('postgres',
	"SELECT count(bh_audit.emit('READ', 'Patient', 'pat_' || i, 'pat_' || (i % 5000)))
	   FROM generate_series(1, $events) i");
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events'),
	$events, "a ledger of $events events");

# The temporary files a statement's session logged (log_temp_files = 0
# logs each as it is removed, before the statement returns).
sub temp_files_of
{
	my ($sql) = @_;
	my $offset = -s $node->logfile;
	my $out = $node->safe_psql('postgres', $sql);
	my $log = slurp_file($node->logfile, $offset);
	my $n = () = $log =~ /LOG:  temporary file: /g;
	return ($out, $n);
}

# The export, by the documented command and by the FROM form, to files.
local $ENV{PGCLIENTENCODING} = 'UTF8';
my $streamed = "$PostgreSQL::Test::Utils::tmp_check/streamed.jsonl";
my $from = "$PostgreSQL::Test::Utils::tmp_check/from.jsonl";
$node->command_ok(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-At', '--set=FETCH_COUNT=1000',
	  '-c', 'SELECT bh_audit.export_jsonl()', '-o', $streamed ],
	'the documented export command runs');
$node->command_ok(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-At',
	  '-c', 'SELECT * FROM bh_audit.export_jsonl()', '-o', $from ],
	'the FROM form runs');
is(compare($streamed, $from), 0, 'both write the same bytes');
# The verifier reads it line by line: within 256 MB of address space (read
# whole, its events took 800 MB).
my ($out, $err);
ok(IPC::Run::run([ 'sh', '-c', 'ulimit -v 262144 && exec python3 "$0" "$1"', $verifier, $streamed ],
		'>', \$out, '2>', \$err),
	'the streamed export passes the independent verifier, in 256 MB')
  or diag($out . $err);
like($out, qr/"events_scanned": $events,/, 'with every event');
open(my $fh, '<', $streamed) or die "$streamed: $!";
my $first = <$fh>;
my $second = <$fh>;
close($fh);
chomp($first);
chomp($second);

# LIMIT 1 in the SELECT list reads one event: no temporary file.  In FROM,
# the whole result is stored first and spills (the check can fail).
my ($line, $files) = temp_files_of('SELECT bh_audit.export_jsonl() LIMIT 1');
is($line, $first, 'LIMIT 1 returns the first line of the export');
is($files, 0, 'and writes no temporary file');
($line, $files) = temp_files_of('SELECT * FROM bh_audit.export_jsonl() LIMIT 1');
is($line, $first, 'in FROM, LIMIT 1 returns the same line');
cmp_ok($files, '>=', 1, 'after storing the whole export in a temporary file');

# A cursor read to its end: no temporary file, and the backend's private
# memory after all 200,000 lines is what it was after the first 10,000.
my $anon = q{SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status')
                               FROM 'RssAnon:\s+(\d+) kB')::int};
my $mem;
($mem, $files) = temp_files_of(qq{
BEGIN;
DECLARE c NO SCROLL CURSOR FOR SELECT bh_audit.export_jsonl();
MOVE 10000 IN c;
$anon;
MOVE ALL IN c;
$anon;
FETCH 1 FROM c;
CLOSE c;
COMMIT;
});
my ($at_10k, $at_end) = split /\n/, $mem;
is($files, 0, 'a cursor read to its end writes no temporary file');
cmp_ok($at_end - $at_10k, '<', 8192,
	"its backend's memory stays flat (RssAnon $at_10k kB after 10,000 lines, $at_end kB after all)");

# Exports stopped early, inside a transaction that commits: no WARNING of
# a relation, snapshot or buffer left by the scan; each gives the lines of
# the export it stopped in.
my $sql = q{
BEGIN;
DECLARE c CURSOR FOR SELECT bh_audit.export_jsonl();
FETCH 2 FROM c;
CLOSE c;
SELECT bh_audit.export_jsonl() LIMIT 1;
SELECT bool_and((SELECT x FROM (SELECT bh_audit.export_jsonl(g, NULL) x) s LIMIT 1)
                = (SELECT x FROM bh_audit.export_jsonl(g, g) x))
  FROM generate_series(1, 3) g;
SELECT count(*) FROM (SELECT bh_audit.export_jsonl(10, 5)) s;
SAVEPOINT s;
DECLARE d CURSOR FOR SELECT bh_audit.export_jsonl();
MOVE 1 IN d;
RELEASE s;
FETCH 1 FROM d;
SAVEPOINT s2;
DECLARE e CURSOR FOR SELECT bh_audit.export_jsonl();
MOVE 100 IN e;
ROLLBACK TO s2;
DECLARE left_open CURSOR FOR SELECT bh_audit.export_jsonl();
MOVE 10 IN left_open;
COMMIT;
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT bh_audit.export_jsonl(1, 10);
MOVE 1 IN h;
COMMIT;
FETCH 1 FROM h;
CLOSE h;
};
my ($rc, $stdout, $stderr) = $node->psql('postgres', $sql);
is($rc, 0, 'exports stopped early, in transactions that commit');
is($stderr, '', 'leave nothing for the commit to warn about');
is($stdout, join("\n", $first, $second, $first, 't', '0', $second, $second),
	'and each returned the lines of the export where it stopped');

# Row-level security restricting the role: refused before the first line.
$node->safe_psql('postgres', q{
CREATE ROLE streamer;
GRANT bh_audit_reader TO streamer;
ALTER TABLE bh_audit.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY streamer_rows ON bh_audit.events FOR SELECT TO streamer USING (true);
});
($rc, $stdout, $stderr) = $node->psql('postgres',
	'SET ROLE streamer; SELECT bh_audit.export_jsonl() LIMIT 1');
like($stderr, qr/ERROR:  bh_audit.export_jsonl\(\) exports every event, and row-level security/,
	'in the SELECT list, a role that policies restrict is refused');
is($stdout, '', 'before any line');

$node->stop;
done_testing();
