# Schema per tenant: every clinic has its own schema with the same table
# names (notes), some tenants' tables tagged (ta: Note, tb: ClinicalNote
# with other id and patient columns), others not (tc), and the application
# switches search_path per request.  A failure or a refusal must be
# recorded on the table the statement runs on under its search_path, never
# on another tenant's table that merely has the same name: an access
# review per tenant would otherwise show one tenant's end user failing (or
# being denied) on another tenant's PHI table.
#
# Each case below is one request of one tenant; the expected events are
# those of that tenant's own table, and none for tc (untagged).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tenant_same_names');
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tb; CREATE SCHEMA tc;
CREATE TABLE ta.notes (note_id int PRIMARY KEY, patient_id text, body text, score int);
CREATE TABLE tb.notes (id int PRIMARY KEY, pat text, body text, score int, note_id int);
CREATE TABLE tc.notes (note_id int PRIMARY KEY, patient_id text, body text, score int);
INSERT INTO ta.notes VALUES (1, 'pa1', 'a', 0);
INSERT INTO tb.notes VALUES (1, 'pb1', 'b', 0, 1);
INSERT INTO tc.notes VALUES (1, 'pc1', 'c', 0);
CREATE VIEW ta.v_notes AS SELECT * FROM ta.notes;
CREATE VIEW tb.v_notes AS SELECT * FROM tb.notes;
CREATE VIEW tc.v_notes AS SELECT * FROM tc.notes;
SELECT bh_audit.tag_table('ta.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('tb.notes', 'ClinicalNote', 'id', 'pat');
CREATE ROLE app_c LOGIN;
GRANT USAGE ON SCHEMA ta, tb, tc TO app_c;
GRANT SELECT ON ta.notes, tc.notes TO app_c;
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# the failures and denials since the mark: actor, outcome, table
sub refusals_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || action || ' ' || outcome || ' ' || resource_type
                  || ' ' || (event -> 'metadata' ->> 'table'), ', ' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

# (1) A request's read waits for a migration's lock on its own tenant's
# table and times out: the failure is that table's, and nothing for tc.
foreach my $t ('tc', 'tb')
{
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	$holder->query_safe("LOCK TABLE $t.notes IN ACCESS EXCLUSIVE MODE");
	set_mark();
	my ($ret, $stdout, $stderr) = $node->psql('postgres', qq{
BEGIN;
SET LOCAL search_path = $t;
SET LOCAL lock_timeout = '100ms';
SELECT bh_audit.set_context(actor_id => 'lock_$t');
SELECT body FROM notes WHERE score = 0;
ROLLBACK;
});
	like($stderr, qr/lock timeout/, "$t: the request times out on $t.notes");
	is(refusals_since(),
		$t eq 'tc' ? '' : "lock_tb READ FAILURE ClinicalNote tb.notes",
		"$t: lock timeout recorded on $t.notes only, not on every tenant's notes");
	$holder->query_safe('COMMIT');
	$holder->quit;
}

# (2) tc's TRUNCATE of its own (untagged) table, refused: no event.
set_mark();
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SET LOCAL search_path = tc;
SELECT bh_audit.set_context(actor_id => 'trunc_c');
TRUNCATE notes;
ROLLBACK;
}, extra_params => [ '-U', 'app_c' ]);
like($stderr, qr/permission denied for table notes/, 'TRUNCATE of tc.notes is refused');
is(refusals_since(), '', 'no DELETE FAILURE on ta.notes or tb.notes for a TRUNCATE of tc.notes');

# (3) One transaction serving two tenants (a report, a pooled pipeline):
# ta's table read, then tc's statement fails in parse analysis.
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'parse_c');
SET LOCAL search_path = ta; SELECT count(*) FROM notes;
SET LOCAL search_path = tc; SELECT nosuchcol FROM notes;
ROLLBACK;
});
like($stderr, qr/column "nosuchcol" does not exist/, 'tc statement fails in parse analysis');
is(refusals_since(), '', 'no FAILURE on ta.notes for a statement on tc.notes');

# (4) The same through views, the view named with its schema.
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'view_c');
SELECT count(*) FROM ta.v_notes;
SELECT nosuchcol FROM tc.v_notes;
ROLLBACK;
});
like($stderr, qr/column "nosuchcol" does not exist/, 'tc.v_notes statement fails');
is(refusals_since(), '',
	'no FAILURE on ta.notes for a statement naming tc.v_notes (a qualified view name is only that schema\'s)');

# (5) COPY into tc's table refused after a read of ta's: no DENIED of ta.notes.
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'copy_c');
SET LOCAL search_path = ta; SELECT count(*) FROM notes;
SET LOCAL search_path = tc;
COPY notes FROM STDIN;
ROLLBACK;
}, extra_params => [ '-U', 'app_c' ]);
like($stderr, qr/permission denied for table notes/, 'COPY into tc.notes is refused');
is(refusals_since(), '', 'no DENIED CREATE of ta.notes, which the COPY never named');

# (6) A statement PREPAREd under ta's search_path, EXECUTEd by other
# tenants' requests: PostgreSQL analyses it again under theirs.
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET search_path = ta;
PREPARE q(int) AS SELECT body FROM notes WHERE note_id = $1;
EXECUTE q(9);
BEGIN; SET LOCAL search_path = tc; SELECT bh_audit.set_context(actor_id => 'exec_c');
EXECUTE q('x');
ROLLBACK;
BEGIN; SET LOCAL search_path = tc; SELECT bh_audit.set_context(actor_id => 'exec_c');
EXECUTE q(9);
COMMIT;
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'exec_b');
EXECUTE q('x');
ROLLBACK;
}, on_error_stop => 0);
is(refusals_since(), 'exec_b READ FAILURE ClinicalNote tb.notes',
	'EXECUTE failures: none on ta.notes for tc\'s request, one on tb.notes for tb\'s');

# (7) The same with the extended query protocol: a named statement
# (pgbench -M prepared), parsed and run by ta's request, then bound by
# tb's with a parameter that does not convert (one server session, the
# same command for both requests: its first run is ta's).
$node->safe_psql('postgres', 'CREATE TABLE public.seen (n int)');
set_mark();
{
	local $ENV{PGOPTIONS} = '-c search_path=ta';
	my ($ret, $out, $err) = bh_pgbench_script($node, 'postgres', 'prepared', q{
SELECT CASE WHEN count(*) = 0 THEN 'ta' ELSE 'tb' END AS t,
       CASE WHEN count(*) = 0 THEN '9' ELSE 'x' END AS v FROM public.seen \gset
INSERT INTO public.seen VALUES (1);
BEGIN;
SELECT set_config('search_path', :t, true);
SELECT bh_audit.set_context(actor_id => 'bind_' || :t);
SELECT body FROM notes WHERE note_id = :v;
COMMIT;
},
		transactions => 2);
	like($err, qr/invalid input syntax for type integer/, 'the Bind fails under tb');
}
is(refusals_since(), 'bind_tb READ FAILURE ClinicalNote tb.notes',
	'the Bind failure is recorded on tb.notes, the table the statement names under tb');

$node->stop;
done_testing();
