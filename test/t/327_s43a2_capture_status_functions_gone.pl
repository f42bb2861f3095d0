# capture_status() and the extension's functions and guard triggers
# changed while bh_audit was not preloaded, beyond the reviewer's t/322 and
# t/323: a guard's function replaced in place is reported for each trigger
# that calls it; a guard's function dropped (its triggers with it) and a
# capture function moved to another schema are reported, without an ERROR
# (the functions are found by to_regprocedure()); and bh_audit.enabled
# switched off on the postmaster's command line is reported as the
# configuration files' setting is (t/321), naming where it comes from.
# The caller is a member of bh_audit_reader, as documented.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43a2_functions_gone');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

sub status
{
	my ($ret, $out, $err) = $node->psql('postgres',
		q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
		extra_params => [ '-U', 'auditor' ]);
	note("capture_status():\n$out\n$err");
	is($ret, 0, "capture_status() runs ($_[0])");
	return $out;
}

sub without_preload
{
	my ($sql) = @_;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
	$node->restart;
	$node->safe_psql('postgres', $sql);
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
	$node->restart;
}

is(status('as installed'), '', 'capture_status() is empty to begin with');

# 1. the ledger guards' function replaced in place
without_preload(q{
CREATE OR REPLACE FUNCTION bh_audit._refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
});
my $status = status('guard function replaced');
for my $t ('bh_audit.events|ledger trigger events_append_only',
	'bh_audit.events|ledger trigger events_no_truncate',
	'bh_audit.ledger_home|ledger home trigger ledger_home_no_change')
{
	like($status, qr/^\Q$t\E is not bh_audit's: its function bh_audit\._refuse_change\(\) was replaced$/m,
		"$t is reported, its function replaced");
}
like($status, qr/^\|function bh_audit\._refuse_change\(\) was replaced/m,
	'the function itself is reported');

# 2. taken out of the extension and dropped, its triggers with it
without_preload(q{
ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._refuse_change();
DROP FUNCTION bh_audit._refuse_change() CASCADE;
});
$status = status('guard function dropped');
like($status, qr/^bh_audit\.events\|ledger trigger events_append_only missing$/m,
	'the ledger guard dropped with it is reported missing');
like($status, qr/^\|function bh_audit\._refuse_change\(\) does not exist \(dropped, renamed or moved\)/m,
	'the function is reported missing');

# 3. a capture function moved to another schema: the trigger still calls it
without_preload(q{
CREATE SCHEMA elsewhere;
ALTER FUNCTION bh_audit._capture_truncate() SET SCHEMA elsewhere;
});
$status = status('capture function moved');
like($status, qr/^notes\|truncate trigger is not bh_audit's \(another function/m,
	'the table whose trigger calls the moved function is reported');
like($status, qr/^\|function bh_audit\._capture_truncate\(\) does not exist/m,
	'the function is reported missing under its name');
unlike($status, qr/elsewhere/,
	'the moved function, still a member and the library\'s C function, is not reported itself');

# 4. bh_audit.enabled off on the postmaster's command line
$node->stop;
command_ok([ 'pg_ctl', '-D', $node->data_dir, '-l', $node->logfile, '-w',
	'-o', '-c bh_audit.enabled=off', 'start' ], 'started with bh_audit.enabled=off');
like(status('command line'),
	qr/^\|bh_audit\.enabled is off in the server's configuration \(the server's command line\): capture is off for the whole server/m,
	'bh_audit.enabled off on the command line is reported');
command_ok([ 'pg_ctl', '-D', $node->data_dir, '-w', 'stop' ], 'stopped');
$node->start;
unlike(status('command line gone'), qr/bh_audit\.enabled/,
	'nothing of bh_audit.enabled once started without it');

done_testing();
