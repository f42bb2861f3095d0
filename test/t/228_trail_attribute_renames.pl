# ALTER TYPE ... RENAME ATTRIBUTE of one of the trail's relations: the
# grammar's other spelling of a column rename, which PostgreSQL applies to
# a table's or a view's row type too (renameatt() checks no relkind for
# it).  Like ALTER TABLE ... RENAME COLUMN (t/216) it must be refused, by
# bh_audit, for a superuser too.  Renaming bh_audit.tags' column tbl this
# way made every statement of the database fail ('column "tbl" does not
# exist', the rename back too) until a restart without the preload.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('trail_attribute_renames');
$node->safe_psql('postgres', q{
CREATE TABLE public.pat228 (id int PRIMARY KEY, name text);
SELECT bh_audit.tag_table('public.pat228', 'Patient228', 'id', 'id');
INSERT INTO public.pat228 VALUES (1, 'a');
});

my $names = q{
SELECT string_agg(c.relname || '.' || a.attname, ',' ORDER BY c.relname, a.attnum)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'bh_audit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped};
my $names_before = $node->safe_psql('postgres', $names);

my @refusals = (
	[ 'ALTER TYPE bh_audit.tags RENAME ATTRIBUTE tbl TO tbl228', 'tbl', 'bh_audit.tags' ],
	[ 'ALTER TYPE bh_audit.events RENAME ATTRIBUTE seq TO seq228', 'seq', 'bh_audit.events' ],
	[ 'ALTER TYPE bh_audit.queue RENAME ATTRIBUTE id TO id228', 'id', 'bh_audit.queue' ],
	[ 'ALTER TYPE bh_audit.tagged_tables RENAME ATTRIBUTE table_name TO t228',
		'table_name', 'bh_audit.tagged_tables' ]);
for my $r (@refusals)
{
	my ($sql, $col, $rel) = @$r;
	# in a transaction rolled back: today's rename would break the database
	my ($ret, undef, $err) = $node->psql('postgres', "BEGIN; $sql; ROLLBACK;",
		on_error_stop => 1);
	ok($ret != 0 &&
		$err =~ /cannot rename column \Q$col\E of \Q$rel\E: it belongs to extension bh_audit/,
		"refused by bh_audit: $sql") or diag("ret $ret: $err");
}

# a column a superuser added to the ledger is refused too (operations.md)
my ($aret, undef, $aerr) = $node->psql('postgres', q{BEGIN;
ALTER TABLE bh_audit.events ADD COLUMN note228 text;
ALTER TABLE bh_audit.events RENAME COLUMN note228 TO n228;
ROLLBACK;}, on_error_stop => 1);
ok($aret != 0 &&
	$aerr =~ /cannot rename column note228 of bh_audit.events: it belongs to extension bh_audit/,
	'a column a superuser added to bh_audit.events is not renamed either')
  or diag("ret $aret: $aerr");

# and committed: the tagged table is still read, the names stay
my ($ret, undef, $err) = $node->psql('postgres',
	'ALTER TYPE bh_audit.tags RENAME ATTRIBUTE tbl TO tbl228');
($ret) = $node->psql('postgres', 'SELECT 1');
if ($ret != 0)
{
	# undo it where nothing of bh_audit runs
	$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
	$node->restart;
	$node->safe_psql('postgres', 'ALTER TYPE bh_audit.tags RENAME ATTRIBUTE tbl228 TO tbl');
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'");
	$node->restart;
}
is($ret, 0, 'after ALTER TYPE bh_audit.tags RENAME ATTRIBUTE, a statement on nothing of bh_audit runs');
is($node->safe_psql('postgres', $names), $names_before,
	'the extension\'s relations keep their column names');

my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM public.pat228');
$node->safe_psql('postgres', q{SET statement_timeout = '120s'; SELECT bh_audit.seal()});
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND event -> 'metadata' ->> 'table' = 'public.pat228'}),
	'1', 'a read of the tagged table is recorded');

done_testing();
