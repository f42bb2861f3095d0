# A restore into the sealer's database: the ring's events (here logins,
# from any database of the server) are sealed into that database's ledger as
# soon as the extension exists there.  Restored in one transaction, nothing
# of the restore is seen before its commit, so the dump's ledger comes back
# whole and the logins made meanwhile chain on after it.  Restored in steps,
# a login between them starts a new chain in the empty ledger, which the
# dump's ledger rows then cannot continue (docs/operations.md, "Backup and
# restore").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $source = bh_node('source', database => 'clinic');
$source->safe_psql('clinic', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes SELECT g, 'pat_' || g FROM generate_series(1, 40) g;
SELECT count(*) FROM notes WHERE note_id < 4;
});
bh_wait_sealed($source, 'clinic', "action = 'READ'", 3);
my $head = $source->safe_psql('clinic',
	'SELECT seq || \'|\' || event_hash FROM bh_audit.chain_head()');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$source->command_ok(['pg_dump', '-Fc', '-d', $source->connstr('clinic'), '-f', $dump],
	'pg_dump');
$source->stop;

# The target server's sealer serves "restored", which has no extension yet.
my $target = bh_node('target', database => 'restored', extension => 0,
	conf => "bh_audit.log_connections = on\n");

# Logins every 50 ms while the restore runs, in one transaction.
my $logins = 60;
my $loop = IPC::Run::start(
	[
		'bash', '-c',
		"for i in \$(seq 1 $logins); do psql -X -q -d '"
		  . $target->connstr('postgres')
		  . "' -c 'SELECT 1' >/dev/null || exit 1; sleep 0.05; done"
	]);
select(undef, undef, undef, 0.3);
$target->command_ok(
	[
		'pg_restore', '--exit-on-error', '--single-transaction', '-d',
		$target->connstr('restored'), $dump
	],
	'pg_restore in one transaction, logins arriving meanwhile');
ok($loop->finish, 'every login succeeded');
bh_wait_sealed($target, 'restored', "action = 'LOGIN'", $logins);
is($target->safe_psql('restored', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
my ($head_seq) = split /\|/, $head;
is( $target->safe_psql('restored',
		"SELECT seq || '|' || event_hash FROM bh_audit.events WHERE seq = $head_seq"),
	$head, "the dump's ledger is restored whole, its head where it was");
is( $target->safe_psql('restored',
		"SELECT count(*) FILTER (WHERE seq <= $head_seq), min(seq) FILTER (WHERE action = 'LOGIN') > $head_seq
		   FROM bh_audit.events WHERE action = 'LOGIN'"),
	'0|t', 'every login made during the restore is chained after it');
cmp_ok(
	$target->safe_psql('restored',
		"SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'postgres'"),
	'>=', $logins, 'all the logins are there');

# In steps, into a database that is the sealer's: a login between the steps
# is sealed into the empty ledger, and the dump's ledger is refused.
$target->safe_psql('postgres', 'CREATE DATABASE parts');
$target->append_conf('postgresql.conf', "bh_audit.database = 'parts'\n");
$target->restart;
$target->command_ok(
	[
		'pg_restore', '--exit-on-error', '--section=pre-data', '-d',
		$target->connstr('parts'), $dump
	],
	'pg_restore, the schema first');
$target->safe_psql('postgres', 'SELECT 1');
bh_wait_sealed($target, 'parts', "action = 'LOGIN'", 1);
$target->command_fails_like(
	[
		'pg_restore', '--exit-on-error', '--section=data', '-t', 'events', '-d',
		$target->connstr('parts'), $dump
	],
	qr/the row is not the next event of the chain/,
	"then the ledger's rows: refused, a new chain has begun");

done_testing();
