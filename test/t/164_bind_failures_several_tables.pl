# A statement with parameters over several tagged tables (a join, a
# subquery, a WITH query, an INSERT ... SELECT), failing at Bind (a
# parameter that does not convert, before any table is opened), records a
# FAILURE on each tagged table it names, as the same statement failing
# unprepared does: the same action (its command's on its target, a read
# elsewhere), outcome, error_type and message.  Also when the search_path
# changed since its analysis (its names resolved as they are now), and for
# the partitions tagged on their own under an untagged partitioned table
# it names.  pgbench -M prepared sends its variables as parameters of
# prepared statements; :n counts the transactions of a run, and the last
# Bind fails ('x' for an integer).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_tables');
bh_bind_tables($node);

my $mark;

# The same statements failing unprepared, in parse analysis ('x').
sub run_unprepared
{
	my ($name, $sql) = @_;
	$sql =~ s/:v/'x'/g;
	my ($ret) = $node->psql('postgres',
		"BEGIN; SELECT bh_audit.set_context(actor_id => '$name'); $sql ROLLBACK;",
		on_error_stop => 0);
}

my %statements = (
	join => 'SELECT a.patient, b.patient FROM bx.a JOIN bx.b USING (id) WHERE a.id = :v;',
	subquery => 'SELECT patient FROM bx.a WHERE id IN (SELECT id FROM bx.b WHERE id = :v);',
	cte => 'WITH w AS (SELECT id FROM bx.b) SELECT patient FROM bx.a WHERE id IN (SELECT id FROM w) AND id = :v;',
	insert => 'INSERT INTO bx.a SELECT id + 10, patient FROM bx.b WHERE id = :v;',
);

$mark = bh_seal_mark($node, 'postgres');
for my $name (sort keys %statements)
{
	bh_bind_fails_last($node, "b_$name", 2, "$statements{$name}\n");
	# (unprepared, the INSERT fails in parse analysis, where its text alone
	# tells the tables: CREATE on both; its executor's failure is as above)
	run_unprepared("u_$name", $statements{$name}) unless $name eq 'insert';
}
my $msg = 'invalid input syntax for type integer: ""';
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_cte|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_cte|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"b_insert|CREATE|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_insert|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"b_join|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_join|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"b_subquery|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_subquery|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"u_cte|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"u_cte|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"u_join|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"u_join|READ|FAILURE|invalid_text_representation|bx.b|$msg",
	"u_subquery|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"u_subquery|READ|FAILURE|invalid_text_representation|bx.b|$msg"),
	'each Bind failure is recorded on both tagged tables, as the unprepared statement');

# Analysed under bx, bound failing under by (no analysis again: the Bind
# fails first): the names as they resolve now, by.a and by.b.
$mark = bh_seal_mark($node, 'postgres');
{
	local $ENV{PGOPTIONS} = '-c search_path=bx';
	bh_bind_fails_last($node, 'b_moved', 2, q{SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'bx' ELSE 'by' END, true);
SELECT a.patient FROM a JOIN b USING (id) WHERE a.id = :v;
});
}
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_moved|READ|FAILURE|invalid_text_representation|by.a|$msg",
	"b_moved|READ|FAILURE|invalid_text_representation|by.b|$msg"),
	'under another search_path: both tables the names stand for now');

# Through an untagged partitioned table: its partitions tagged on their
# own, as the unprepared INSERT failing in parse analysis.
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_parent', 2, "INSERT INTO bx.parent VALUES (:v, 'p');\n");
run_unprepared('u_parent', "INSERT INTO bx.parent VALUES (:v, 'p');");
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_parent|CREATE|FAILURE|invalid_text_representation|bx.p1|$msg",
	"b_parent|CREATE|FAILURE|invalid_text_representation|bx.p2|$msg",
	"u_parent|CREATE|FAILURE|invalid_text_representation|bx.p1|$msg",
	"u_parent|CREATE|FAILURE|invalid_text_representation|bx.p2|$msg"),
	'through the partitioned table: each partition tagged on its own');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
