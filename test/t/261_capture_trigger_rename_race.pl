# The owner of a tagged table (not a superuser) must not be able to drop,
# rename or replace its capture trigger: threat-model.md promises that
# this is refused.  config_guard.c judges DROP TRIGGER, ALTER TRIGGER ...
# RENAME and CREATE OR REPLACE TRIGGER by the table the name stands for
# when its hook runs (RangeVarGetRelid(..., NoLock)), without a lock;
# PostgreSQL then looks the name up again, waits for the table's lock and
# looks again after the wait.  So the owner names an untagged table of
# theirs that another transaction of theirs holds renamed (the hook sees
# the committed name: an untagged table without the capture trigger, so
# nothing to refuse), and while the statement waits, that transaction
# renames the tagged table to the name and commits: the statement goes on
# with the tagged table.  The capture trigger is gone, renamed or replaced
# by the owner's own, no AuditConfiguration event says so (only the two
# renames of the tagged table are recorded), and the table's next UPDATE
# leaves no event.  ALTER TABLE ... DISABLE TRIGGER is refused after the
# same race (its check runs where the table is locked): it is the control.
#
# Each case: session C runs the statement on clin.x and waits for B, which
# has renamed clin.x to x_old; B renames the tagged clin.notes to x and
# commits.  Checked: C's statement is refused, the capture trigger is
# there and bh_audit's, depends on no extension, and capture_status() is
# empty.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('trigrace');
$node->safe_psql('postgres', q{
CREATE ROLE owner_role LOGIN;
CREATE SCHEMA clin AUTHORIZATION owner_role;
SET ROLE owner_role;
CREATE TABLE clin.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clin.notes VALUES (1, 'p1', 'a');
CREATE FUNCTION clin.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
RESET ROLE;
SELECT bh_audit.tag_table('clin.notes', 'Note', 'id', 'patient_id');
});

my $b = $node->background_psql('postgres',
	extra_params => [ '-U', 'owner_role' ]);
my $c = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'owner_role' ]);
my $cpid = $c->query_safe('SELECT pg_backend_pid()');

my $state = sub {
	return $node->safe_psql('postgres', q{
SELECT string_agg(tgname || ':' || tgfoid::regproc || ':' || (tgqual IS NULL), ',' ORDER BY tgname)
  FROM pg_trigger WHERE tgrelid = 'clin.notes'::regclass;
SELECT count(*) FROM pg_depend d JOIN pg_trigger t ON d.objid = t.oid
 WHERE d.classid = 'pg_trigger'::regclass AND d.deptype = 'x'
   AND t.tgrelid = 'clin.notes'::regclass;
SELECT count(*) FROM bh_audit.capture_status();});
};
my $want = $state->();
is($want, "bh_audit_capture_row:bh_audit._capture_row:true,"
	  . "bh_audit_capture_truncate:bh_audit._capture_truncate:true\n0\n0",
	'the tagged table has its capture triggers');

sub race
{
	my ($sql, $what, $keep) = @_;
	$node->safe_psql('postgres',
		'CREATE TABLE clin.x (id int PRIMARY KEY, patient_id text, body text)',
		extra_params => [ '-U', 'owner_role' ]);
	$b->query_safe('BEGIN');
	$b->query_safe('ALTER TABLE clin.x RENAME TO x_old');
	$c->query_until(qr/started/, "\\echo started\n$sql;\n");
	$node->poll_query_until('postgres', qq{
		SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $cpid})
	  or die "$what: the statement does not wait";
	$b->query_safe('ALTER TABLE clin.notes RENAME TO x');
	$b->query_safe('COMMIT');
	my $out = $c->query(q{\echo :SQLSTATE :LAST_ERROR_MESSAGE});
	$c->{stderr} = '';
	$out = (split /\n/, $out)[-1];
	$out = 'done' if $out =~ /^00000 /;
	# the names put back (the tag follows the table's OID)
	$node->safe_psql('postgres', q{
ALTER TABLE clin.x RENAME TO notes; DROP TABLE clin.x_old;},
		extra_params => [ '-U', 'owner_role' ]);
	isnt($out, 'done', "$what: refused ($out)");
	is($state->(), $want, "$what: the capture triggers are intact");
	# put the triggers back for the next case
	$node->safe_psql('postgres', q{
SELECT bh_audit.untag_table('clin.notes');
DROP TRIGGER IF EXISTS bh_audit_capture_row ON clin.notes;
DROP TRIGGER IF EXISTS renamed ON clin.notes;
SELECT bh_audit.tag_table('clin.notes', 'Note', 'id', 'patient_id');})
	  if !$keep && $state->() ne $want;
}

race('ALTER TABLE clin.x DISABLE TRIGGER bh_audit_capture_row',
	'ALTER TABLE ... DISABLE TRIGGER (control)');
race('DROP TRIGGER bh_audit_capture_row ON clin.x', 'DROP TRIGGER');
race('ALTER TRIGGER bh_audit_capture_row ON clin.x RENAME TO renamed',
	'ALTER TRIGGER ... RENAME');
race('CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT ON clin.x '
	  . 'FOR EACH ROW WHEN (false) EXECUTE FUNCTION clin.noop()',
	'CREATE OR REPLACE TRIGGER');
# a dependency on an extension lets DROP EXTENSION drop the trigger
race('ALTER TRIGGER bh_audit_capture_row ON clin.x DEPENDS ON EXTENSION bh_audit',
	'ALTER TRIGGER ... DEPENDS ON EXTENSION');

# What the owner gains: an UPDATE of the tagged table without its event.
my $mark = bh_seal_mark($node, 'postgres');
race('DROP TRIGGER bh_audit_capture_row ON clin.x', 'DROP TRIGGER, again', 1);
$node->safe_psql('postgres', q{UPDATE clin.notes SET body = 'b' WHERE id = 1},
	extra_params => [ '-U', 'owner_role' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND event->'action'->>'type' = 'UPDATE'
   AND event->'resource'->>'type' = 'Note'}),
	'1', 'the UPDATE of the tagged table after the race has its event');

# The lock is the statement's own, taken as PostgreSQL takes it: ALTER
# TRIGGER ... RENAME by a role that does not own the table is refused
# before any lock (renametrig()'s callback), not after a wait for the
# table's holder.
$node->safe_psql('postgres', q{
CREATE ROLE other_role LOGIN;
GRANT USAGE ON SCHEMA clin TO other_role;});
$b->query_safe('BEGIN');
$b->query_safe('LOCK TABLE clin.notes IN ACCESS EXCLUSIVE MODE');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET lock_timeout = '5s';
ALTER TRIGGER bh_audit_capture_row ON clin.notes RENAME TO renamed;},
	extra_params => [ '-U', 'other_role' ]);
like($stderr, qr/ERROR:  (?!canceling statement due to lock timeout)/,
	'ALTER TRIGGER ... RENAME by another role: refused without waiting for the lock');
$b->query_safe('ROLLBACK');

$b->quit;
$c->quit;
done_testing();
