# ALTER SCHEMA ... RENAME in one session: every other session that has the
# tag cache loaded names the schema's tables (tagged, and partitions of a
# tagged table elsewhere) by their new schema in the events that follow,
# reads and writes, as the renaming session does (sql/22_config_guard.sql).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('schemarename');
$node->safe_psql('postgres', q{
CREATE SCHEMA ya;
CREATE TABLE ya.t (id int, pat text);
SELECT bh_audit.tag_table('ya.t', 'YT', 'id', 'pat');
CREATE SCHEMA pz;
CREATE TABLE public.vp (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE pz.vp_1 PARTITION OF public.vp FOR VALUES FROM (0) TO (10);
SELECT bh_audit.tag_table('public.vp', 'VP', 'id', 'pat');
});

# The other session, its cache loaded, names filled in.
my $other = $node->background_psql('postgres');
$other->query_safe(q{INSERT INTO ya.t VALUES (1, 'a')});
$other->query_safe('SELECT pat FROM ya.t');
$other->query_safe(q{INSERT INTO public.vp VALUES (1, 'p')});

my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'ALTER SCHEMA ya RENAME TO yb; ALTER SCHEMA pz RENAME TO pz2');

$other->query_safe(q{INSERT INTO yb.t VALUES (2, 'b')});
$other->query_safe('SELECT pat FROM yb.t WHERE id = 2');
$other->query_safe(q{UPDATE public.vp SET pat = 'q' WHERE id = 1});
$other->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT concat_ws('|', resource_type, action, patient_id, event -> 'metadata' ->> 'table',
                 event -> 'metadata' ->> 'new_table')
  FROM bh_audit.events
 WHERE seq > $mark ORDER BY resource_type, action, patient_id, seq}),
	join("\n",
		'AuditConfiguration|UPDATE|ya.t|yb.t',
		'AuditConfiguration|UPDATE|pz.vp_1|pz2.vp_1',
		'VP|UPDATE|p|pz2.vp_1',
		'VP|UPDATE|q|pz2.vp_1',
		'YT|CREATE|b|yb.t',
		'YT|READ|b|yb.t'),
	'the renames are recorded, and the other session\'s events name the new schema');

done_testing();
