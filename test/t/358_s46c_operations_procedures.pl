# A DBA's procedures of docs/operations.md, run as the docs give them:
#  - upgrading: ALTER EXTENSION bh_audit UPDATE changes nothing, with
#    PostgreSQL's notice;
#  - rewriting or moving the ledger: with the ledger held by a statement
#    (ALTER TABLE ... SET TABLESPACE, in a session with lock_timeout),
#    reads wait for the ring's room up to ring_wait_timeout and are then
#    dropped; raised to '30min' by ALTER SYSTEM and a reload for the
#    window (at most 1h) they wait and nothing is dropped; the indexes stay
#    where they were until moved one by one under the names the docs give;
#    the queue moves the same way; sealing goes on and the chain verifies;
#  - the ledger's freezing and its block-range index: ALTER TABLE ... SET
#    (autovacuum_freeze_min_age = 0) and VACUUM (FREEZE); with autovacuum
#    off for the ledger, brin_summarize_new_values() of events_ts_brin, or
#    VACUUM, summarises the block ranges the sealer filled;
#  - the sealer's restart: pg_terminate_backend() of stats().sealer_pid,
#    it drains, and another sealer runs within seconds;
#  - backups: pg_dump -Fd -j 2, restored by pg_restore -j 2 into a database
#    of another name (the chain whole, the tags and capture triggers back,
#    nothing recorded by the load), and in sections (pre-data, data,
#    post-data) into a database that is not the sealer's, which the sealer
#    is then pointed at: one ledger_continued, from the dumped head; and a
#    plain dump restored by psql -1 into the sealer's database;
#  - CREATE DATABASE ... TEMPLATE, ALTER DATABASE ... RENAME TO and SET
#    TABLESPACE of the sealer's database: refused while the sealer is
#    connected, as DROP DATABASE is, and run once it is pointed elsewhere;
#  - DROP EXTENSION (refused while tables are tagged, then with CASCADE)
#    and CREATE EXTENSION again: the schema bh_audit, which CREATE
#    EXTENSION created, outlives the drop without the reader's mark, and
#    the extension is created again in it with a fresh chain.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

# A small ring, so that one statement's reads fill it.
my $node = bh_node('ops', database => 'clinic', conf => "bh_audit.ring_size = '64kB'\n");
$node->safe_psql('clinic', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes SELECT g, 'pat_' || g, repeat('x', 3000) FROM generate_series(1, 400) g;
SELECT bh_audit.seal();
});

# ---------------------------------------------------------------------------
# Upgrading: one version, no update script.
my ($ret, $out, $err) = $node->psql('clinic', 'ALTER EXTENSION bh_audit UPDATE');
is($ret, 0, 'ALTER EXTENSION bh_audit UPDATE succeeds');
like($err, qr/NOTICE:  version "1\.0" of extension "bh_audit" is already installed/,
	'with the notice that 1.0 is installed already');

# ---------------------------------------------------------------------------
# Rewriting or moving the ledger.
my $tsdir = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('clinic', "CREATE TABLESPACE audit_disk LOCATION '$tsdir'");

# The READ events of notes sealed after $mark, and the events dropped so far.
sub reads_since
{
	my ($mark) = @_;
	return $node->safe_psql('clinic', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Note'});
}

# One maintenance window: ring_wait_timeout set to $timeout by ALTER SYSTEM
# and a reload (a session connected before the reload gets it), the ledger
# held by ALTER TABLE ... SET TABLESPACE in a transaction for $hold
# seconds while that session reads every row of notes (400 patients, more
# events than the ring holds), then $end (COMMIT or ROLLBACK).  Returns the
# READ events sealed and the events dropped meanwhile, and the reader's
# stderr.
sub window
{
	my ($timeout, $hold, $end) = @_;
	my $reader = $node->background_psql('clinic', on_error_stop => 0);

	$reader->query_safe("SET application_name = 'window_reader'");
	$node->safe_psql('clinic', "ALTER SYSTEM SET bh_audit.ring_wait_timeout = '$timeout'");
	$node->safe_psql('clinic', 'SELECT pg_reload_conf()');
	my $shown = '';
	for (1 .. 100)
	{
		$shown = $reader->query_safe('SHOW bh_audit.ring_wait_timeout');
		last if $shown eq $timeout;
		usleep(100_000);
	}
	is($shown, $timeout, "ring_wait_timeout is $timeout in a session connected before the reload");

	my $mark = bh_last_seq($node, 'clinic');
	my $dropped = bh_dropped($node, 'clinic');
	my $holder = $node->background_psql('clinic');
	$holder->query_safe(q{SET lock_timeout = '5s'});
	$holder->query_safe('BEGIN');
	$holder->query_safe('ALTER TABLE bh_audit.events SET TABLESPACE audit_disk');
	$reader->query_until(qr/started/, qq{
\\echo started
SELECT count(*) FROM notes;
});
	ok($node->poll_query_until('clinic', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'window_reader' AND wait_event_type = 'Extension'}),
		"($timeout) the reader waits for room in the ring");
	sleep($hold);
	$holder->query_safe($end);
	$holder->quit;
	my ($output) = $reader->query('SELECT 1');
	my $stderr = $reader->{stderr};
	is($output, "400\n1", "($timeout) the statement returns its rows");
	$reader->quit;
	$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
	return (reads_since($mark), bh_dropped($node, 'clinic') - $dropped, $stderr);
}

# A window longer than ring_wait_timeout: the reads are dropped.
my ($reads, $dropped, $stderr) = window('1s', 3, 'ROLLBACK');
cmp_ok($dropped, '>', 0, "with ring_wait_timeout 1s, a 3 s window drops reads ($dropped)");
is($reads + $dropped, 400, 'the reads sealed and dropped make the 400 patients');
like($stderr, qr/WARNING/, 'and the reader is warned');

# The docs' precaution: '30min' for the window; the read waits it out.
($reads, $dropped, $stderr) = window('30min', 3, 'COMMIT');
is($dropped, 0, "with ring_wait_timeout '30min', the same window drops nothing");
is($reads, 400, 'every READ event of the statement is sealed');
unlike($stderr, qr/WARNING/, 'and the reader is not warned');

($ret, $out, $err) = $node->psql('clinic',
	q{ALTER SYSTEM SET bh_audit.ring_wait_timeout = '2h'});
like($err, qr/ERROR:  7200000 ms is outside the valid range for parameter "bh_audit\.ring_wait_timeout" \(1 \.\. 3600000\)/,
	'ring_wait_timeout is at most 1h');
$node->safe_psql('clinic', 'ALTER SYSTEM RESET bh_audit.ring_wait_timeout');
$node->safe_psql('clinic', 'SELECT pg_reload_conf()');
ok($node->poll_query_until('clinic', 'SHOW bh_audit.ring_wait_timeout', '10s'),
	'ALTER SYSTEM RESET and a reload give back the default, 10s');

# The table and its TOAST table moved; its indexes stayed, then each moves
# under its name.
my $where = q{
SELECT string_agg(c.relname || '=' || coalesce(t.spcname, 'default'), ',' ORDER BY c.relname)
  FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
 WHERE c.oid IN ('bh_audit.events'::regclass,
                 (SELECT reltoastrelid FROM pg_class WHERE oid = 'bh_audit.events'::regclass))
    OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'bh_audit.events'::regclass)};
my $toast = $node->safe_psql('clinic',
	q{SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'bh_audit.events'::regclass});
$toast =~ s/^pg_toast\.//;
is($node->safe_psql('clinic', $where),
	"events=audit_disk,events_actor_ts=default,events_denied_ts=default,events_patient_ts=default,events_pkey=default,events_ts_brin=default,events_unattributed_ts=default,$toast=audit_disk",
	'ALTER TABLE ... SET TABLESPACE moved the ledger and its TOAST table, not its indexes');
$node->safe_psql('clinic', join('',
	map { "ALTER INDEX bh_audit.$_ SET TABLESPACE audit_disk;\n" }
	  qw(events_pkey events_patient_ts events_actor_ts events_denied_ts events_unattributed_ts events_ts_brin)));
is($node->safe_psql('clinic', $where),
	"events=audit_disk,events_actor_ts=audit_disk,events_denied_ts=audit_disk,events_patient_ts=audit_disk,events_pkey=audit_disk,events_ts_brin=audit_disk,events_unattributed_ts=audit_disk,$toast=audit_disk",
	'ALTER INDEX ... SET TABLESPACE moves each of the six indexes the docs name');
$node->safe_psql('clinic', 'ALTER TABLE bh_audit.queue SET TABLESPACE audit_disk');
is($node->safe_psql('clinic', q{
SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
 WHERE c.oid = 'bh_audit.queue'::regclass}),
	'audit_disk', 'the queue moves the same way');
my $mark = bh_last_seq($node, 'clinic');
$node->safe_psql('clinic', q{
INSERT INTO notes VALUES (401, 'pat_401', 'y');
SELECT bh_audit.seal();
});
is($node->safe_psql('clinic',
		"SELECT string_agg(action || ' ' || resource_id, ',') FROM bh_audit.events WHERE seq > $mark"),
	'CREATE 401', 'sealing goes on in the moved ledger, through the moved queue');
bh_chain_valid($node, 'clinic');

# Freezing the ledger as it is written.
$node->safe_psql('clinic', 'ALTER TABLE bh_audit.events SET (autovacuum_freeze_min_age = 0)');
is($node->safe_psql('clinic',
		q{SELECT reloptions FROM pg_class WHERE oid = 'bh_audit.events'::regclass}),
	'{autovacuum_freeze_min_age=0}', 'the ledger takes autovacuum_freeze_min_age = 0');
$node->safe_psql('clinic', 'VACUUM (FREEZE) bh_audit.events');
bh_chain_valid($node, 'clinic');

# Autovacuum off for the ledger: the block ranges the sealer fills stay
# without a summary until brin_summarize_new_values() or a VACUUM.
$node->safe_psql('clinic', 'ALTER TABLE bh_audit.events SET (autovacuum_enabled = off)');
my $fill = q{
SELECT count(bh_audit.emit('READ', 'Patient', 'pat_' || g, 'pat_' || g)) FROM generate_series(1, 3000) g;
SELECT bh_audit.seal();
};
my $pages = q{SELECT pg_relation_size('bh_audit.events') / current_setting('block_size')::int};
my $before = $node->safe_psql('clinic', $pages);
$node->safe_psql('clinic', $fill);
my $ranges = int($node->safe_psql('clinic', $pages) / 128) - int($before / 128);
cmp_ok($ranges, '>=', 2, "the sealer filled $ranges block ranges");
cmp_ok($node->safe_psql('clinic', q{SELECT brin_summarize_new_values('bh_audit.events_ts_brin')}),
	'>=', $ranges, 'brin_summarize_new_values() summarises each of them');
$before = $node->safe_psql('clinic', $pages);
$node->safe_psql('clinic', $fill);
$ranges = int($node->safe_psql('clinic', $pages) / 128) - int($before / 128);
cmp_ok($ranges, '>=', 2, "the sealer filled $ranges more");
$node->safe_psql('clinic', 'VACUUM bh_audit.events');
cmp_ok($node->safe_psql('clinic', q{SELECT brin_summarize_new_values('bh_audit.events_ts_brin')}),
	'<=', 1, 'VACUUM bh_audit.events summarised them (all but the range being filled)');
$node->safe_psql('clinic', 'ALTER TABLE bh_audit.events RESET (autovacuum_enabled)');

# ---------------------------------------------------------------------------
# The sealer's restart and its monitoring.
my $pid = $node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()');
like($pid, qr/^\d+$/, 'stats() names the sealer');
my $log_offset = -s $node->logfile;
$node->safe_psql('clinic', "SELECT pg_terminate_backend($pid)");
$node->wait_for_log(qr/bh_audit sealer stopping: the queue and the ring are drained/, $log_offset);
ok($node->poll_query_until('clinic',
		"SELECT sealer_pid IS NOT NULL AND sealer_pid <> $pid FROM bh_audit.stats()"),
	'after pg_terminate_backend() another sealer runs');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() returns no rows');
($ret, $out, $err) = $node->psql('clinic',
	'SELECT queued_events, events_dropped_total > 0, validation_failures_total, sealer_pid IS NOT NULL FROM bh_audit.stats()',
	extra_params => [ '-U', 'auditor' ]);
is($out, '0|t|0|t', "a member of bh_audit_reader reads stats(): the drops of the first window show");

# ---------------------------------------------------------------------------
# Backups: a directory dump taken and restored with two jobs each.
$node->safe_psql('clinic', 'INSERT INTO notes VALUES (403, \'pat_403\', \'q\'); SELECT bh_audit.seal()');
my $head = $node->safe_psql('clinic',
	q{SELECT seq || '|' || event_hash FROM bh_audit.chain_head()});
my $dir = "$PostgreSQL::Test::Utils::tmp_check/clinic_dir";
$node->command_ok([ 'pg_dump', '-Fd', '-j', '2', '-d', $node->connstr('clinic'), '-f', $dir ],
	'pg_dump -Fd -j 2');

# Into a database of another name, whole.
$node->safe_psql('postgres', 'CREATE DATABASE clinic_copy');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-j', '2', '-d', $node->connstr('clinic_copy'), $dir ],
	'pg_restore -j 2 into clinic_copy');
is($node->safe_psql('clinic_copy', q{SELECT seq || '|' || event_hash FROM bh_audit.chain_head()}),
	$head, 'the ledger is restored to the head it had at the dump');
bh_chain_valid($node, 'clinic_copy');
is($node->safe_psql('clinic_copy',
		'SELECT tbl::text, resource_type, id_column, patient_column FROM bh_audit.tagged_tables'),
	'notes|Note|note_id|patient_id', 'the tag is restored');
is($node->safe_psql('clinic_copy', q{
SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname)
  FROM pg_trigger WHERE tgrelid = 'notes'::regclass}),
	'bh_audit_capture_row=A,bh_audit_capture_truncate=A', 'and the capture triggers, ALWAYS');
is($node->safe_psql('clinic_copy', 'SELECT count(*) FROM notes'), '402', 'the rows are restored');
is($node->safe_psql('clinic_copy', 'SELECT count(*) FROM bh_audit.queue'),
	'0', 'loading them recorded nothing');
is($node->safe_psql('clinic_copy', 'SELECT tbl, problem FROM bh_audit.capture_status()'),
	'bh_audit.queue|events queued here are not sealed: bh_audit.database is "clinic"',
	'capture_status() says only that this is not the sealer\'s database');

# In sections into clinic_steps, which the sealer is then pointed at.
$node->safe_psql('postgres', 'CREATE DATABASE clinic_steps');
for my $section (qw(pre-data data post-data))
{
	$node->command_ok(
		[
			'pg_restore', '--exit-on-error', '-j', '2', "--section=$section", '-d',
			$node->connstr('clinic_steps'), $dir
		],
		"pg_restore -j 2 --section=$section");
}
is($node->safe_psql('clinic_steps', 'SELECT count(*) FROM bh_audit.queue'),
	'0', 'the restore in sections recorded nothing');
# While the sealer is connected to clinic, PostgreSQL refuses to copy it as
# a template, rename it or move it (after waiting 5 s for its sessions to
# leave), as it refuses a plain DROP DATABASE.
is($node->safe_psql('postgres',
		q{SELECT string_agg(backend_type, ',') FROM pg_stat_activity WHERE datname = 'clinic'}),
	'bh_audit sealer', 'the sealer is the one session in clinic');
for my $refused (
	[ 'CREATE DATABASE clinic_tmpl TEMPLATE clinic', qr/ERROR:  source database "clinic" is being accessed by other users\nDETAIL:  There is 1 other session using the database\./ ],
	[ 'ALTER DATABASE clinic RENAME TO clinic_old', qr/ERROR:  database "clinic" is being accessed by other users\nDETAIL:  There is 1 other session using the database\./ ],
	[ 'ALTER DATABASE clinic SET TABLESPACE audit_disk', qr/ERROR:  database "clinic" is being accessed by other users\nDETAIL:  There is 1 other session using the database\./ ],
	[ 'DROP DATABASE clinic', qr/ERROR:  database "clinic" is being accessed by other users\nDETAIL:  There is 1 other session using the database\./ ])
{
	($ret, $out, $err) = $node->psql('postgres', $refused->[0]);
	like($err, $refused->[1], "$refused->[0]: refused while the sealer is connected to clinic");
}
bh_seal_in($node, 'clinic_steps');
# With the sealer pointed elsewhere, they run.
$node->safe_psql('postgres', 'CREATE DATABASE clinic_tmpl TEMPLATE clinic');
$node->safe_psql('postgres', 'ALTER DATABASE clinic RENAME TO clinic_old');
is($node->safe_psql('clinic_tmpl', q{SELECT seq || '|' || event_hash FROM bh_audit.chain_head()}),
	$node->safe_psql('clinic_old', q{SELECT seq || '|' || event_hash FROM bh_audit.chain_head()}),
	'the template copy holds the same chain');
my ($head_seq) = split /\|/, $head;
is(bh_continued($node, 'clinic_steps',
		q{count(*) || '|' || min(seq) || '|' || min(event->'metadata'->>'previous_database') || '|' || min(event->'metadata'->>'head_seq')}),
	'1|' . ($head_seq + 1) . "|clinic|$head_seq",
	'the sealer pointed at it records one ledger_continued, from the dumped head');
bh_chain_valid($node, 'clinic_steps');
is($node->safe_psql('clinic_steps', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() there returns no rows');
is($node->safe_psql('clinic_old', 'SELECT tbl, problem FROM bh_audit.capture_status()'),
	'bh_audit.queue|events queued here are not sealed: bh_audit.database is "clinic_steps"',
	'the old database says its events are not sealed');
$mark = bh_last_seq($node, 'clinic_steps');
$node->safe_psql('clinic_steps', q{
UPDATE notes SET body = 'w' WHERE note_id = 1;
SELECT bh_audit.seal();
});
is($node->safe_psql('clinic_steps',
		"SELECT string_agg(action || ' ' || resource_id, ',') FROM bh_audit.events WHERE seq > $mark"),
	'UPDATE 1', 'a write there is captured and sealed');

# A plain dump restored by psql -1 into the sealer's database, the docs'
# way into that database: in one transaction, the sealer sees nothing of it
# before the commit, and then continues the restored ledger.
my $plain = "$PostgreSQL::Test::Utils::tmp_check/clinic_old.sql";
my $old_head = $node->safe_psql('clinic_old', q{SELECT seq || '|' || event_hash FROM bh_audit.chain_head()});
$node->command_ok([ 'pg_dump', '-d', $node->connstr('clinic_old'), '-f', $plain ], 'plain pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE clinic_plain');
$node->append_conf('postgresql.conf', "bh_audit.database = 'clinic_plain'");
$node->restart;
$node->command_ok(
	[ 'psql', '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('clinic_plain'), '-f', $plain ],
	'psql -1 restores the plain dump into the sealer\'s database');
$node->safe_psql('clinic_plain', 'SELECT bh_audit.seal()');
my ($old_seq, $old_hash) = split /\|/, $old_head;
is($node->safe_psql('clinic_plain', "SELECT event_hash FROM bh_audit.events WHERE seq = $old_seq"),
	$old_hash, 'the dumped ledger is there whole');
is(bh_continued($node, 'clinic_plain', q{count(*) || '|' || min(event->'metadata'->>'head_seq')}),
	"1|$old_seq", 'one ledger_continued, from the dumped head');
bh_chain_valid($node, 'clinic_plain');
bh_seal_in($node, 'clinic_steps');

# ---------------------------------------------------------------------------
# DROP EXTENSION and CREATE EXTENSION again, in the sealer's database.
($ret, $out, $err) = $node->psql('clinic_steps', 'DROP EXTENSION bh_audit');
like($err, qr/ERROR:  cannot drop extension bh_audit because other objects depend on it/,
	'DROP EXTENSION is refused while a table is tagged');
$node->safe_psql('clinic_steps', 'DROP EXTENSION bh_audit CASCADE');
is($node->safe_psql('clinic_steps', q{
SELECT nspowner::regrole::text || '|' ||
       (SELECT count(*) FROM aclexplode(nspacl) a WHERE a.grantee = 'bh_audit_reader'::regrole)
  FROM pg_namespace WHERE nspname = 'bh_audit'}),
	'postgres|0',
	'the schema bh_audit, which CREATE EXTENSION created, outlives the drop, without the reader\'s mark');
is($node->safe_psql('clinic_steps', q{
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'notes'::regclass}),
	'0', 'the capture triggers are gone');
($ret, $out, $err) = $node->psql('clinic_steps', 'CREATE EXTENSION bh_audit');
is($ret, 0, 'CREATE EXTENSION again, in the schema left behind');
is($node->safe_psql('clinic_steps', q{
SELECT count(*) FROM pg_namespace, aclexplode(nspacl) a
 WHERE nspname = 'bh_audit' AND a.grantee = 'bh_audit_reader'::regrole}),
	'1', 'which has the reader\'s mark again');
$node->safe_psql('clinic_steps', q{
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (404, 'pat_404', 'n');
SELECT bh_audit.seal();
});
is($node->safe_psql('clinic_steps',
		q{SELECT string_agg(seq || ' ' || action || ' ' || resource_type, ',' ORDER BY seq) FROM bh_audit.events}),
	'1 CREATE AuditConfiguration,2 CREATE Note',
	'a fresh chain: the tagging, then the write');
bh_chain_valid($node, 'clinic_steps');
is($node->safe_psql('clinic_steps', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() returns no rows');

$node->stop;
done_testing();
