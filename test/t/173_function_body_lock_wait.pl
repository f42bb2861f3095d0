# A wait for the lock of a tagged table that the body of a SQL function
# names, ended during the body's parse analysis — before bh_audit knows the
# body's tables — by statement_timeout, a cancel request
# (pg_cancel_backend()) or lock_timeout, is a FAILURE on that table
# (QueryCanceled's query_canceled, or lock_not_available), as for the
# same wait of a client's statement naming the table: for a function the
# executor runs (a VOLATILE set-returning one in FROM, "SQL function ...
# during startup"), one the planner inlines (a set-returning STABLE one in
# FROM, "... during inlining"), one whose body it analyses to see whether
# it can inline it (a scalar VOLATILE one, "... during inlining") and one
# it folds (IMMUTABLE, called with constants: run while it plans, "...
# during startup").  Controls: the same wait on an untagged table, and a
# client's statement naming the tagged table, for comparison.  A body
# naming a view over the tagged table waits in the rewriter, after its
# analysis: inlined (STABLE), its planning records the FAILURE on the
# view's tagged table, which the analysis noted.  Documented limit
# (docs/read-capture.md, "Not covered"): the same body run (VOLATILE, "...
# during startup"), where neither the parser's frame nor an internal query
# gives the body's text: no event, whatever ends the wait.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('body_lock_wait');
$node->safe_psql('postgres', q{
CREATE SCHEMA bw;
CREATE TABLE bw.notes (id int PRIMARY KEY, patient text, body text);
INSERT INTO bw.notes VALUES (1, 'p1', 'b1');
CREATE TABLE bw.plain (id int);
SELECT bh_audit.tag_table('bw.notes', 'BwNote', 'id', 'patient');
CREATE FUNCTION bw.ids_v() RETURNS SETOF int LANGUAGE sql VOLATILE
  AS 'SELECT id FROM bw.notes';
CREATE FUNCTION bw.cnt_v() RETURNS bigint LANGUAGE sql VOLATILE
  AS 'SELECT count(*) FROM bw.notes';
CREATE FUNCTION bw.ids_s() RETURNS TABLE (id int) LANGUAGE sql STABLE
  AS 'SELECT id FROM bw.notes';
CREATE FUNCTION bw.cnt_i() RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT count(*) FROM bw.notes';
CREATE FUNCTION bw.plain_v() RETURNS bigint LANGUAGE sql VOLATILE
  AS 'SELECT count(*) FROM bw.plain';
CREATE VIEW bw.notes_v AS SELECT id FROM bw.notes;
CREATE FUNCTION bw.view_v() RETURNS SETOF int LANGUAGE sql VOLATILE
  AS 'SELECT id FROM bw.notes_v';
CREATE FUNCTION bw.view_s() RETURNS SETOF int LANGUAGE sql STABLE
  AS 'SELECT id FROM bw.notes_v';
});
# the functions' bodies checked as they were created: their tables are
# known to no session now
my $mark = bh_seal_mark($node, 'postgres');

my %calls = (
	run => 'SELECT * FROM bw.ids_v()',
	scalar => 'SELECT bw.cnt_v()',
	inlined => 'SELECT id FROM bw.ids_s()',
	folded => 'SELECT bw.cnt_i()',
	client => 'SELECT count(*) FROM bw.notes',
	untagged => 'SELECT bw.plain_v()',
	view => 'SELECT * FROM bw.view_v()',
	view_inlined => 'SELECT * FROM bw.view_s()');

bh_lock_waits_ended($node, 'LOCK TABLE bw.notes, bw.plain IN ACCESS EXCLUSIVE MODE', \%calls);

my $expected = join("\n",
	map { my $t = $_; my $e = $t eq 'lt' ? 'lock_not_available' : 'query_canceled';
		  map { "${t}_$_|READ|FAILURE|$e|bw.notes" }
		  qw(client folded inlined run scalar view_inlined) }
	  qw(cx lt st));
is(bh_failures_since($node, 'postgres', $mark, message => 0), $expected,
	'each wait on the tagged table: one FAILURE READ on it; none on the untagged one');

done_testing();
