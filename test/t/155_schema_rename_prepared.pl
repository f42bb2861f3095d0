# ALTER SCHEMA ... RENAME while another session's transaction holds the
# lock of a tagged table (or partition) of the schema: the rename locks none
# of the schema's tables and does not wait, and that session takes it in at
# its next statement, also at one that would take in no invalidation of its
# own before it runs (an EXECUTE of a prepared statement whose table's lock
# the transaction holds).  Its events then name the table by its new name,
# after the tagged_table_renamed event, as every other session's do; a
# prepared statement that names the old schema is analyzed again and fails
# (42P01), as PostgreSQL's would at the transaction's next new lock.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('schemarenameprep');
$node->safe_psql('postgres', q{
CREATE SCHEMA sa;
CREATE TABLE sa.st (id int, pat text);
SELECT bh_audit.tag_table('sa.st', 'ST', 'id', 'pat');
CREATE SCHEMA pa;
CREATE TABLE public.vp (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE pa.vp_1 PARTITION OF public.vp FOR VALUES FROM (0) TO (100);
SELECT bh_audit.tag_table('public.vp', 'VP', 'id', 'pat');
});

my $w = $node->background_psql('postgres', on_error_stop => 0);
$w->query_safe(q{PREPARE ins(int) AS INSERT INTO sa.st VALUES ($1, 'p' || $1)});
$w->query_safe(q{PREPARE ins_vp(int) AS INSERT INTO public.vp VALUES ($1, 'v' || $1)});
$w->query_safe(q{PREPARE rd_vp(int) AS SELECT pat FROM public.vp WHERE id = $1});

# The partition's schema is renamed: the partitioned table's name still
# stands for it.
$w->query_safe('BEGIN');
$w->query_safe('EXECUTE ins_vp(10)');
$w->query_safe('EXECUTE rd_vp(10)');
$node->safe_psql('postgres', 'ALTER SCHEMA pa RENAME TO pb');
$w->query_safe('EXECUTE ins_vp(11)');
$w->query_safe('EXECUTE rd_vp(11)');
$w->query_safe('COMMIT');

# The table's schema is renamed: the statement naming it by the old name
# fails.
$w->query_safe('BEGIN');
$w->query_safe('EXECUTE ins(20)');
$node->safe_psql('postgres', 'ALTER SCHEMA sa RENAME TO sb');
$w->query('EXECUTE ins(21)');
like($w->{stderr}, qr/ERROR:  relation "sa\.st" does not exist/,
	'a prepared statement naming the old schema fails at its next execution');
$w->{stderr} = '';
$w->query_safe('ROLLBACK');
$w->quit;

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT concat_ws('|', resource_type, action, patient_id, event -> 'metadata' ->> 'table',
                 event -> 'metadata' ->> 'new_table')
  FROM bh_audit.events
 WHERE (resource_type IN ('ST', 'VP') AND outcome = 'SUCCESS')
    OR event -> 'metadata' ->> 'change' = 'tagged_table_renamed'
 ORDER BY resource_type, action, patient_id}),
	join("\n",
		'AuditConfiguration|UPDATE|pa.vp_1|pb.vp_1',
		'AuditConfiguration|UPDATE|sa.st|sb.st',
		'VP|CREATE|v10|pa.vp_1',
		'VP|CREATE|v11|pb.vp_1',
		'VP|READ|v10|public.vp',
		'VP|READ|v11|public.vp'),
	'the session\'s write after the rename names the partition by its new schema');
# (the write's events are queued at its commit, after the rename's)
is($node->safe_psql('postgres', q{
SELECT string_agg(coalesce(patient_id, resource_id), ',' ORDER BY seq) FROM bh_audit.events
 WHERE (action = 'CREATE' AND patient_id IN ('v10', 'v11')) OR resource_id = 'pa.vp_1'}),
	'pa.vp_1,v10,v11', 'and both writes are chained after the rename');

# A schema holding no tagged table: its rename is none of bh_audit's, and a
# prepared statement naming it goes on as without bh_audit (its transaction
# took in nothing at its next statement).
$node->safe_psql('postgres', 'CREATE SCHEMA us; CREATE TABLE us.t (a int)');
$w = $node->background_psql('postgres', on_error_stop => 0);
$w->query_safe(q{PREPARE ins_us AS INSERT INTO us.t VALUES (1)});
$w->query_safe('BEGIN');
$w->query_safe('EXECUTE ins_us');
$node->safe_psql('postgres', 'ALTER SCHEMA us RENAME TO us2');
$w->query_safe('EXECUTE ins_us');
$w->query_safe('COMMIT');
$w->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM us2.t'), '2',
	'a schema without tagged tables: the prepared statement runs on after its rename');

done_testing();
