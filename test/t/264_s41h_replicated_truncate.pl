# A subscription's apply worker writing a tagged table of the subscriber:
# a replicated TRUNCATE (of a plain table and of a partitioned one, whose
# partitions the apply worker truncates one by one), a replicated UPDATE
# moving a row to another patient, and rows arriving through a partitioned
# table published via its root: each is recorded on the subscriber, as the
# same change made there by a session would be.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = bh_node('pub', init => { allows_streaming => 'logical' });
my $sub = bh_node('sub');

my $tables = q{
CREATE TABLE notes (id int PRIMARY KEY, patient text, body text);
CREATE TABLE parts (id int, patient text, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE parts1 PARTITION OF parts FOR VALUES FROM (0) TO (10);
CREATE TABLE parts2 PARTITION OF parts FOR VALUES FROM (10) TO (20);
};
$pub->safe_psql('postgres', $tables . q{
INSERT INTO notes VALUES (1, 'pubpat1', 'x'), (2, 'pubpat2', 'y');
INSERT INTO parts VALUES (1, 'pubpat1', 1), (2, 'pubpat2', 11);
CREATE PUBLICATION p FOR TABLE notes, parts WITH (publish_via_partition_root = true);
});
$sub->safe_psql('postgres', $tables . q{
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
SELECT bh_audit.tag_table('parts', 'Part', 'id', 'patient', capture_reads => false);
});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION p");
ok($sub->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pg_subscription_rel WHERE srsubstate = 'r'"),
	'the tables are synchronised');
ok($sub->poll_query_until('postgres', 'SELECT (SELECT count(*) FROM notes) + (SELECT count(*) FROM parts) = 4'),
	'the rows are copied');
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $mark = $sub->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

$pub->safe_psql('postgres', q{
UPDATE notes SET patient = 'pubpat9' WHERE id = 1;
UPDATE parts SET k = 12 WHERE id = 1;
TRUNCATE notes;
TRUNCATE parts;
INSERT INTO notes VALUES (3, 'pubpat3', 'z');
});
ok($sub->poll_query_until('postgres', q{SELECT (SELECT string_agg(id::text, ',') FROM notes) = '3'
   AND (SELECT count(*) FROM parts) = 0}),
	'the changes are applied');
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($sub->safe_psql('postgres', qq{SELECT string_agg(coalesce(event->'metadata'->>'table', '-') || ':' ||
     coalesce(resource_id, '-') || ':' || action || ':' || coalesce(patient_id, '-') ||
     coalesce(':' || (event->'metadata'->>'patient_moved'), ''), ',' ORDER BY seq)
   FROM bh_audit.events WHERE seq > $mark AND action <> 'READ'}),
	'public.notes:1:UPDATE:pubpat9:to,public.notes:1:UPDATE:pubpat1:from,'
	. 'public.parts1:1:DELETE:pubpat1,public.parts2:1:CREATE:pubpat1,'
	. 'public.notes:-:DELETE:-,public.parts:-:DELETE:-,public.parts1:-:DELETE:-,public.parts2:-:DELETE:-,'
	. 'public.notes:3:CREATE:pubpat3',
	'each applied change of the tagged tables is recorded: the move, the row moved between partitions, both TRUNCATEs, the insert');
is($sub->safe_psql('postgres', 'SELECT apply_error_count FROM pg_stat_subscription_stats'),
	'0', 'no apply error');

$sub->stop;
$pub->stop;
done_testing();
