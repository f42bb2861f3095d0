# A statement that fails before its executor runs (parse analysis, a lock
# wait) is matched against the tag cache by the names its text gives.  A
# name without its schema is the relation PostgreSQL finds through the
# search_path set when it fails: of the tagged tables of that name, the one
# whose schema comes first in the path, and none when no such schema is in
# it.  Here every table of the name is locked by an earlier read of the
# same transaction: only the path tells them apart.  The path's text is
# read as PostgreSQL reads it: quoted names keep their case, unquoted ones
# are downcased, "$user" is the schema named as the role the statement
# runs as, a function's own SET search_path counts inside it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('search_path_names');
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tb; CREATE SCHEMA "Tenant D";
CREATE ROLE alice LOGIN;
CREATE SCHEMA alice AUTHORIZATION alice;
CREATE TABLE ta.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE tb.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE "Tenant D".notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE alice.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE public.events (id int);
SELECT bh_audit.tag_table('ta.notes', 'NoteA', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('tb.notes', 'NoteB', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('"Tenant D".notes', 'NoteD', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('alice.notes', 'NoteU', 'note_id', 'patient_id');
GRANT USAGE ON SCHEMA ta, tb, "Tenant D" TO alice;
GRANT SELECT ON ta.notes, tb.notes, "Tenant D".notes TO alice;
ALTER TABLE alice.notes OWNER TO alice;
CREATE VIEW ta.v_notes AS SELECT * FROM ta.notes;
CREATE VIEW tb.v_notes AS SELECT * FROM tb.notes;
CREATE FUNCTION tb_lookup() RETURNS void LANGUAGE plpgsql SET search_path = tb
AS $$ BEGIN EXECUTE 'SELECT nosuchcol FROM notes'; END $$;
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# the failures since the mark: actor, resource type, table
sub failures_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || resource_type || ' ' || (event -> 'metadata' ->> 'table'),
                  ', ' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

# Reads every table of the name (locking it), then fails in parse
# analysis naming it without its schema under $path (as $user, if given).
sub fail_under
{
	my ($actor, $path, $user, $tail) = @_;
	set_mark();
	my ($ret, $stdout, $stderr) = $node->psql('postgres', qq{
BEGIN;
SELECT bh_audit.set_context(actor_id => '$actor');
SELECT count(*) FROM ta.notes;
SELECT count(*) FROM tb.notes;
SELECT count(*) FROM "Tenant D".notes;
@{[ $user eq 'alice' ? 'SELECT count(*) FROM alice.notes;' : '' ]}
SET LOCAL search_path = $path;
@{[ $tail // 'SELECT nosuchcol FROM notes;' ]}
ROLLBACK;
}, extra_params => [ '-U', $user ]);
	like($stderr, qr/(column "nosuchcol"|relation "notes") does not exist/,
		"$actor: the statement fails");
	return failures_since();
}

is(fail_under('order_ba', 'tb, ta', 'postgres'), 'order_ba NoteB tb.notes',
	'path tb, ta: the failure is tb.notes\'s, the first of the path');
is(fail_under('order_ab', 'ta, tb', 'postgres'), 'order_ab NoteA ta.notes',
	'path ta, tb: the failure is ta.notes\'s');
is(fail_under('upper', 'TB', 'postgres'), 'upper NoteB tb.notes',
	'an unquoted name of the path is downcased');
is(fail_under('quoted', '"Tenant D", ta', 'postgres'), 'quoted NoteD "Tenant D".notes',
	'a quoted name of the path keeps its case and spaces');
is(fail_under('nothing', 'public', 'postgres'), '',
	'no schema of the path holds a tagged table of the name: no failure');
is(fail_under('user_alice', '"$user", tb', 'alice'), 'user_alice NoteU alice.notes',
	'"$user" is the schema named as the role the statement runs as');
is(fail_under('user_pg', '"$user", tb', 'postgres'), 'user_pg NoteB tb.notes',
	'"$user" of another role is not alice\'s schema');
is(fail_under('function', 'ta', 'postgres', 'SELECT public.tb_lookup();'), 'function NoteB tb.notes',
	'a function\'s own SET search_path: its statement\'s failure is tb.notes\'s, not ta.notes\'s');

# Views over tagged tables go by the same rules: qualified, that schema's
# view only; unqualified, the one the path finds first.
set_mark();
foreach my $case ([ 'view_q', 'ta', 'SELECT nosuchcol FROM tb.v_notes;' ],
	[ 'view_u', 'ta', 'SELECT nosuchcol FROM v_notes;' ])
{
	my ($actor, $path, $stmt) = @$case;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', qq{
BEGIN;
SELECT bh_audit.set_context(actor_id => '$actor');
SELECT count(*) FROM ta.v_notes;
SELECT count(*) FROM tb.v_notes;
SET LOCAL search_path = $path;
$stmt
ROLLBACK;
});
	like($stderr, qr/column "nosuchcol" does not exist/, "$actor: the statement fails");
}
is(failures_since(), 'view_q NoteB tb.notes, view_u NoteA ta.notes',
	'a view named with its schema is that schema\'s; without, the one of the path');

# A prepared statement EXECUTEd under another search_path than the one it
# was prepared under: PostgreSQL analyses it again, and its failure (a
# parameter that does not convert) is on the table its names stand for
# now; a WITH query's name is no table.
set_mark();
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET search_path = ta;
PREPARE w(int) AS WITH notes AS (SELECT 1 AS note_id) SELECT * FROM notes WHERE note_id = $1;
PREPARE z(int) AS SELECT count(*) FROM ta.notes WHERE note_id = $1;
PREPARE u(int) AS SELECT count(*) FROM notes WHERE note_id = $1;
EXECUTE w(1); EXECUTE z(1); EXECUTE u(1);
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'exec_cte');
EXECUTE w('x');
ROLLBACK;
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'exec_qualified');
EXECUTE z('x');
ROLLBACK;
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'exec_unqualified');
EXECUTE u('x');
ROLLBACK;
}, on_error_stop => 0);
is(failures_since(), 'exec_qualified NoteA ta.notes, exec_unqualified NoteB tb.notes',
	'EXECUTE under another path: a qualified name stays, an unqualified one is the path\'s now');

# The ledger is bh_audit.events: an unqualified "events" is it only when
# bh_audit is in the path.
set_mark();
foreach my $path ('public', 'bh_audit')
{
	($ret, $stdout, $stderr) = $node->psql('postgres', qq{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'ledger_$path');
SET LOCAL search_path = $path;
SELECT count(*) FROM bh_audit.events;
SELECT nosuchcol FROM events;
ROLLBACK;
});
	like($stderr, qr/column "nosuchcol" does not exist/, "ledger_$path: the statement fails");
}
is(failures_since(), 'ledger_bh_audit AuditLog bh_audit.events',
	'public.events failing is no failure on the ledger; events under search_path bh_audit is');

$node->stop;
done_testing();
