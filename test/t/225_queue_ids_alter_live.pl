# The queue's ids (queue_ids.c) after a superuser moves the queue's
# sequence while the database's block still holds ids (no restart in
# between): docs/sql-reference.md says a block holds the ids nextval()
# would give, "from the sequence's value (after ALTER SEQUENCE ... RESTART
# or setval(..., false), that value itself)".  The next write's id is that
# value, as nextval()'s would be, not the next of the old block.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_ids_alter_live');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
bh_queue_table($node, 'clinic', 225, extension => 1);
$node->safe_psql('clinic', "INSERT INTO t225.pat VALUES (1, 'a')");

$node->safe_psql('clinic', 'ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 100000');
$node->safe_psql('clinic', "INSERT INTO t225.pat VALUES (2, 'b')");
is(bh_queue_id($node, 'clinic', 225, 2), '100000',
	'RESTART WITH, block not empty: the next id is the restart value');

$node->safe_psql('clinic', q{SELECT pg_catalog.setval('bh_audit.queue_id_seq', 200000, false)});
$node->safe_psql('clinic', "INSERT INTO t225.pat VALUES (3, 'c')");
is(bh_queue_id($node, 'clinic', 225, 3), '200000',
	'setval(..., false), block not empty: the next id is that value');

# a MAXVALUE below the block's ids (with a RESTART, which allows it):
# nextval() would give the restart value, then fail; no id beyond MAXVALUE
$node->safe_psql('clinic',
	'ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 200001 MAXVALUE 200001');
$node->safe_psql('clinic', "INSERT INTO t225.pat VALUES (4, 'd')");
is(bh_queue_id($node, 'clinic', 225, 4), '200001',
	'RESTART WITH ... MAXVALUE, block not empty: the next id is the restart value');
my ($ret, $out, $err) = $node->psql('clinic', "INSERT INTO t225.pat VALUES (5, 'e')");
like($err, qr/reached maximum value of sequence "queue_id_seq"/,
	'MAXVALUE reached: the write fails, no id beyond MAXVALUE');

# a RESTART below the queue's highest id is not followed (queued ids are
# never given again): with MAXVALUE there too, the write fails
$node->safe_psql('clinic',
	'ALTER SEQUENCE bh_audit.queue_id_seq RESTART WITH 150 MAXVALUE 150');
($ret, $out, $err) = $node->psql('clinic', "INSERT INTO t225.pat VALUES (5, 'e')");
like($err, qr/reached maximum value of sequence "queue_id_seq"/,
	'RESTART below the queue\'s highest id: not followed, the write fails at MAXVALUE');

# A database dropped and created again with its OID (CREATE DATABASE ...
# OID, from a template holding the extension: the same sequence OID): the
# dropped database's block must not be used by the new one, whose sequence
# is the template's; else its ids come from the old block, then start
# again from the sequence's value, given twice (a duplicate key on
# queue_pkey: "c1" keeps its queue rows).
$node->safe_psql('postgres', 'CREATE DATABASE tmpl IS_TEMPLATE true');
bh_queue_table($node, 'tmpl', 225, extension => 1);
$node->safe_psql('postgres', 'CREATE DATABASE c1 OID 70000 TEMPLATE tmpl');
$node->safe_psql('c1', "INSERT INTO t225.pat VALUES (1, 'a')");
$node->safe_psql('postgres', 'DROP DATABASE c1');
$node->safe_psql('postgres', 'CREATE DATABASE c1 OID 70000 TEMPLATE tmpl');
my $seq = $node->safe_psql('c1', 'SELECT last_value + 1 FROM bh_audit.queue_id_seq');
$node->safe_psql('c1', "INSERT INTO t225.pat VALUES (2, 'b')");
is($node->safe_psql('c1', 'SELECT max(id) FROM bh_audit.queue'), $seq,
	'a database created again with its OID: the next id is the one its sequence gives');

# The same, with the template's sequence moved to where the dropped
# database's block left its copy (same relfilenode, same value): the page
# cannot tell them apart, the block is forgotten at DROP DATABASE.
$node->safe_psql('postgres', 'CREATE DATABASE c2 OID 70001 TEMPLATE tmpl');
$node->safe_psql('c2', "INSERT INTO t225.pat VALUES (1, 'a')");
my $left = $node->safe_psql('c2', 'SELECT last_value FROM bh_audit.queue_id_seq');
$node->safe_psql('postgres', 'DROP DATABASE c2');
$node->safe_psql('tmpl', "SELECT pg_catalog.setval('bh_audit.queue_id_seq', $left)");
$node->safe_psql('postgres', 'CREATE DATABASE c2 OID 70001 TEMPLATE tmpl');
$node->safe_psql('c2', "INSERT INTO t225.pat VALUES (2, 'b')");
is($node->safe_psql('c2', 'SELECT max(id) FROM bh_audit.queue'), $left + 1,
	'a database created again with its OID, its sequence where the old block left it: the next id is the one its sequence gives');

done_testing();
