# A statement with parameters failing at Bind (extended query protocol; a
# parameter that does not convert) records what its failure at EXECUTE
# records (docs/read-capture.md "At EXECUTE and at Bind"): through a view
# it names, a FAILURE on each tagged table the view reads (the note made
# after parse analysis, bh_post_parse_analyze in capture_read.c, sees the
# query before the rewriter expands its views: it takes the view's tagged
# tables from the tag cache), alone or joined with a tagged table; and,
# under another search_path, where its target's name now stands for the
# table it reads, that table with the command's action (CREATE), not the
# READ it was noted with as the table read.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_view');
$node->safe_psql('postgres', q{
CREATE SCHEMA bv;
CREATE TABLE bv.a (id int PRIMARY KEY, patient text);
CREATE TABLE bv.t (id int PRIMARY KEY, patient text);
INSERT INTO bv.a VALUES (1, 'pa'); INSERT INTO bv.t VALUES (1, 'pt');
CREATE VIEW bv.v AS SELECT * FROM bv.t;
SELECT bh_audit.tag_table('bv.a', 'BvA', 'id', 'patient');
SELECT bh_audit.tag_table('bv.t', 'BvT', 'id', 'patient');
CREATE SCHEMA sx; CREATE SCHEMA sy;
CREATE TABLE sx.a (id int PRIMARY KEY, patient text);
CREATE TABLE sy.a (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('sx.a', 'SxA', 'id', 'patient');
SELECT bh_audit.tag_table('sy.a', 'SyA', 'id', 'patient');
CREATE SEQUENCE runs;
});

my $mark;

# EXECUTE: recorded on the table the view reads.
$mark = bh_seal_mark($node, 'postgres');
$node->psql('postgres', q{
PREPARE q1(int) AS SELECT patient FROM bv.v WHERE id = $1;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_view'); EXECUTE q1('x'); ROLLBACK;
});
$node->psql('postgres', q{
PREPARE q2(int) AS SELECT v.patient FROM bv.v v JOIN bv.a USING (id) WHERE a.id = $1;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_view_join'); EXECUTE q2('x'); ROLLBACK;
});
is(bh_failures_since($node, 'postgres', $mark, message => 0), join("\n",
	"e_view|READ|FAILURE|invalid_text_representation|bv.t",
	"e_view_join|READ|FAILURE|invalid_text_representation|bv.a",
	"e_view_join|READ|FAILURE|invalid_text_representation|bv.t"),
	'EXECUTE: the table a view reads');

# Bind: the same.
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_view', 2, "SELECT patient FROM bv.v WHERE id = :v;\n");
bh_bind_fails_last($node, 'b_view_join', 2, "SELECT v.patient FROM bv.v v JOIN bv.a USING (id) WHERE a.id = :v;\n");
is(bh_failures_since($node, 'postgres', $mark, message => 0), join("\n",
	"b_view|READ|FAILURE|invalid_text_representation|bv.t",
	"b_view_join|READ|FAILURE|invalid_text_representation|bv.a",
	"b_view_join|READ|FAILURE|invalid_text_representation|bv.t"),
	'Bind: the table a view reads, as at EXECUTE');
# The same under another search_path than the analysis's: by the view's name.
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_view_path', 2, q{SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'bv, public' ELSE 'public, bv' END, true);
SELECT patient FROM v WHERE id = :v;
});
is(bh_failures_since($node, 'postgres', $mark, message => 0), "b_view_path|READ|FAILURE|invalid_text_representation|bv.t",
	'Bind through a view under another search_path');
# The target's name moved to the table the statement reads.
$mark = bh_seal_mark($node, 'postgres');
$node->psql('postgres', q{
SET search_path = sx, public;
PREPARE q3(int) AS INSERT INTO a SELECT id + 10, patient FROM sy.a WHERE id = $1;
SET search_path = sy, public;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_moved_target'); EXECUTE q3('x'); ROLLBACK;
});
bh_bind_fails_last($node, 'b_moved_target', 2, q{SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'sx, public' ELSE 'sy, public' END, true);
INSERT INTO a SELECT id + 10, patient FROM sy.a WHERE id = :v;
});
is(bh_failures_since($node, 'postgres', $mark, message => 0), join("\n",
	"b_moved_target|CREATE|FAILURE|invalid_text_representation|sy.a",
	"e_moved_target|CREATE|FAILURE|invalid_text_representation|sy.a"),
	'target name moved onto the table read: CREATE, as at EXECUTE');
$node->stop;
done_testing();
