# A client's prepared statement with parameters naming a tagged table or a
# view over one, then, after the Parse, the relation renamed away and
# another one given its name (a migration swapping two tables, a table
# renamed to _old and a new one created and tagged, a view renamed and a
# new one created), then a Bind whose parameter does not convert: had the
# Bind gone on, PostgreSQL would have analysed the statement again and read
# the relation the name stands for now, so the READ FAILURE is on that
# one.  The note of the Parse keeps the name each relation had at the
# analysis (ece76b8); the failure path looks up the relation's name as it
# is NOW (renamed: a name the text does not hold) and so records nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_renamed_since');
$node->safe_psql('postgres', q{
CREATE SCHEMA rn;
CREATE TABLE rn.a (id int PRIMARY KEY, patient text);
CREATE TABLE rn.b (id int PRIMARY KEY, patient text);
CREATE TABLE rn.c (id int PRIMARY KEY, patient text);
CREATE TABLE rn.d (id int PRIMARY KEY, patient text);
CREATE TABLE rn.e (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('rn.a', 'RnA', 'id', 'patient');
SELECT bh_audit.tag_table('rn.b', 'RnB', 'id', 'patient');
SELECT bh_audit.tag_table('rn.c', 'RnC', 'id', 'patient');
SELECT bh_audit.tag_table('rn.d', 'RnD', 'id', 'patient');
SELECT bh_audit.tag_table('rn.e', 'RnE', 'id', 'patient');
CREATE VIEW rn.v AS SELECT id FROM rn.d;
CREATE TABLE rn.f (id int PRIMARY KEY, patient text);
CREATE TABLE rn.g (id int PRIMARY KEY, patient text);
CREATE TABLE rn.h (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('rn.f', 'RnF', 'id', 'patient');
SELECT bh_audit.tag_table('rn.g', 'RnG', 'id', 'patient');
SELECT bh_audit.tag_table('rn.h', 'RnH', 'id', 'patient');
CREATE SEQUENCE runs;
});

sub renamed
{
	my ($name, $rel, $ddl, $want) = @_;
	my $mark = bh_seal_mark($node, 'postgres');

	# run 1 parses the statement and runs the migration; run 2's Bind fails
	bh_bind_fails_last($node, $name, 2,
		"BEGIN;\nSELECT bh_audit.set_context(actor_id => '$name');\n"
		  . "SELECT id FROM $rel WHERE id = :v::int;\nCOMMIT;\n"
		  . $ddl,
		actor => 0);
	is(bh_failures_since($node, 'postgres', $mark, message => 0),
		defined $want ? "$name|READ|FAILURE|invalid_text_representation|$want" : '',
		defined $want ? "$name: READ FAILURE on the relation the name stands for now"
		  : "$name: nothing recorded, the name stands for no tagged relation now");
}

# control: nothing renamed
renamed('control', 'rn.d', "SELECT 1;\n", 'rn.d');
# a and b swap their names: the text's rn.a is b's table now
renamed('swapped', 'rn.a',
	"ALTER TABLE rn.a RENAME TO tmp;\nALTER TABLE rn.b RENAME TO a;\n"
	  . "ALTER TABLE rn.tmp RENAME TO b;\n",
	'rn.a');
# c renamed to c_old, a new rn.c created and tagged
renamed('renamed_away', 'rn.c',
	"ALTER TABLE rn.c RENAME TO c_old;\n"
	  . "CREATE TABLE rn.c (id int PRIMARY KEY, patient text);\n"
	  . "SELECT bh_audit.tag_table('rn.c', 'RnC2', 'id', 'patient');\n",
	'rn.c');
# the view renamed to v_old, a new rn.v created over another tagged table
renamed('view_renamed_away', 'rn.v',
	"ALTER VIEW rn.v RENAME TO v_old;\nCREATE VIEW rn.v AS SELECT id FROM rn.e;\n",
	'rn.e');
# f renamed to f_old, an untagged rn.f created: the name stands for no
# tagged table now; nothing is recorded (not on f_old, which it was)
renamed('renamed_untagged', 'rn.f',
	"ALTER TABLE rn.f RENAME TO f_old;\n"
	  . "CREATE TABLE rn.f (id int PRIMARY KEY, patient text);\n",
	undef);
# g renamed to g_old, an untagged partitioned rn.g created whose partition
# is tagged on its own: a new analysis reads the partition
renamed('renamed_partitioned', 'rn.g',
	"ALTER TABLE rn.g RENAME TO g_old;\n"
	  . "CREATE TABLE rn.g (id int, patient text) PARTITION BY RANGE (id);\n"
	  . "CREATE TABLE rn.g1 PARTITION OF rn.g FOR VALUES FROM (0) TO (100);\n"
	  . "SELECT bh_audit.tag_table('rn.g1', 'RnG1', 'id', 'patient');\n",
	'rn.g1');
# h renamed to h_old, a view rn.h created over another tagged table
renamed('table_renamed_view', 'rn.h',
	"ALTER TABLE rn.h RENAME TO h_old;\nCREATE VIEW rn.h AS SELECT id FROM rn.e;\n",
	'rn.e');
$node->stop;
done_testing();
