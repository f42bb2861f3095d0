# The tag cache's memory stays bounded in a long session: each tag filled
# again after another session's change to a tagged partition (here its
# fillfactor) leaves the replaced tag in the cache's memory until the next
# full reload, which comes after as many refills as the cache holds tagged
# relations (at least 1,024).  The cache's "not tagged" answers, one for
# every table the session ever looked at, do not count: with 6,000 of them
# and 250 of 300 tagged partitions refilled 24 times (6,000 refills; more than 256
# at once would make a full reload), the memory
# grows by about 2.5 kB a refill and drops back at each reload (about 6.5 MB
# at most), where counting them let it grow past 15 MB before any reload.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tag_memory', conf => "max_locks_per_transaction = 256\n");
$node->safe_psql('postgres', q{
CREATE TABLE big (id int, pid text) PARTITION BY LIST (id);
SELECT format('CREATE TABLE big_%s PARTITION OF big FOR VALUES IN (%s)', g, g)
  FROM generate_series(1, 300) g \gexec
SELECT bh_audit.tag_table('big', 'Big', 'id', 'pid');
SELECT format('CREATE TABLE u_%s (x int)', g) FROM generate_series(1, 6000) g \gexec
});

my $a = $node->background_psql('postgres');
foreach my $c (0 .. 2)
{
	my ($from, $to) = ($c * 2000 + 1, $c * 2000 + 2000);
	$a->query_safe(qq{DO \$\$ BEGIN FOR i IN $from..$to LOOP
	  EXECUTE format('SELECT 1 FROM u_%s LIMIT 0', i); END LOOP; END \$\$});
}
$a->query_safe('SELECT count(*) FROM big_3');
my $max = 0;
foreach my $r (1 .. 24)
{
	$node->safe_psql('postgres', qq{DO \$\$ BEGIN FOR i IN 1..250 LOOP
	  EXECUTE format('ALTER TABLE big_%s SET (fillfactor = %s)', i, 50 + $r); END LOOP; END \$\$});
	$a->query_safe('SELECT count(*) FROM big_3');
	my $bytes = $a->query_safe(q{SELECT sum(total_bytes) FROM pg_backend_memory_contexts
	                              WHERE name = 'bh_audit tags'});
	$max = $bytes if $bytes > $max;
}
cmp_ok($max, '<', 10 * 1024 * 1024,
	"the tag cache's memory stays under 10 MB over 6,000 refills (at most $max bytes)");

# and capture is exact after all of it
$a->query_safe(q{INSERT INTO big VALUES (7, 'p7')});
$a->query_safe('SELECT pid FROM big_7');
$a->quit;
is($node->safe_psql('postgres', q{SELECT bh_audit.seal();
  SELECT string_agg(action || ':' || patient_id || ':' || (event -> 'metadata' ->> 'table'), ',' ORDER BY seq)
    FROM bh_audit.events WHERE resource_type = 'Big' AND patient_id = 'p7'}) =~ s/.*\n//sr,
	'CREATE:p7:public.big_7,READ:p7:public.big', 'capture is exact afterwards');

# A table the tag cache had looked at and that was dropped leaves nothing
# behind in the session: its entry is taken out without a catalog cache
# lookup of its OID, which would keep a "no such relation" entry in
# PostgreSQL's cache for the session's life (about 150 bytes a table). A
# temporary table created and dropped per request, 3,000 times, in a
# database with the extension against one without it.
$node->safe_psql('postgres', 'CREATE DATABASE plain');
my %growth;
foreach my $db ('postgres', 'plain')
{
	my $s = $node->background_psql($db);
	my $cache = q{SELECT sum(used_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext'};
	$s->query_safe('CREATE TEMP TABLE req (a int); DROP TABLE req;');
	my $before = $s->query_safe($cache);
	foreach my $i (1 .. 3000)
	{
		$s->query_safe('CREATE TEMP TABLE req (a int)');
		$s->query_safe('DROP TABLE req');
	}
	$growth{$db} = $s->query_safe($cache) - $before;
	$s->quit;
}
cmp_ok($growth{postgres}, '<', $growth{plain} + 64 * 1024,
	"3,000 temporary tables dropped: PostgreSQL's cache grew $growth{postgres} bytes with the extension, $growth{plain} without");

# The same for another session's drops of a tagged table's partitions,
# seen by a session that reads the table after each of them.
my $reader = $node->background_psql('postgres');
my $ddl = $node->background_psql('postgres');
my $cache = q{SELECT sum(used_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext'};
$ddl->query_safe('CREATE TABLE big_new PARTITION OF big FOR VALUES IN (1000); DROP TABLE big_new;');
$reader->query_safe('SELECT count(*) FROM big_3');
my $before = $reader->query_safe($cache);
foreach my $i (1 .. 1000)
{
	$ddl->query_safe('CREATE TABLE big_new PARTITION OF big FOR VALUES IN (1000)');
	$reader->query_safe('SELECT count(*) FROM big_3');
	$ddl->query_safe('DROP TABLE big_new');
	$reader->query_safe('SELECT count(*) FROM big_3');
}
my $grown = $reader->query_safe($cache) - $before;
cmp_ok($grown, '<', 64 * 1024,
	"1,000 partitions of a tagged table dropped by another session: the reader's cache grew $grown bytes");

# And for drops of a tagged table itself, tagged and dropped 1,000 times by
# another session, which the reader reads in between (so that its tag is
# cached).  The drop also changes the tag catalog: the reader's cache is
# loaded again, without the table, and nothing looks its OID up. (The
# table is analyzed: the planner's statistics lookups of a table never
# analyzed leave PostgreSQL's own "no statistics" entries, with or without
# the extension.)
my $tagged_drop = sub {
	$ddl->query_safe(q{CREATE TABLE tagged_new (id int, pid text);
	  INSERT INTO tagged_new VALUES (1, 'p1'); ANALYZE tagged_new;
	  SELECT bh_audit.tag_table('tagged_new', 'New', 'id', 'pid')});
	$reader->query_safe('SELECT count(*) FROM tagged_new');
	$ddl->query_safe('DROP TABLE tagged_new');
	$reader->query_safe('SELECT count(*) FROM big_3');
};
# (measured from the state the first rounds leave: a tagging sends every
# session a reset of its relation cache, which frees what the reader held
# before)
$tagged_drop->() foreach (1 .. 10);
$before = $reader->query_safe($cache);
$tagged_drop->() foreach (1 .. 1000);
$grown = $reader->query_safe($cache) - $before;
cmp_ok($grown, '<', 64 * 1024,
	"1,000 tagged tables dropped by another session: the reader's cache grew $grown bytes");
$reader->quit;
$ddl->quit;

done_testing();
