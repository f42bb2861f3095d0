# capture_status() (a DBA's routine check, and bh_audit_reader's) costs in
# proportion to the tagged tables, not to their square: on a database with
# thousands of tagged tables it must stay a fraction of a second.  Its
# check for capture triggers left on a relation that is not captured (a
# partition detached while the library was not preloaded) asks, for each
# capture trigger, whether its relation is in the tagged trees; planned as
# NOT IN over the recursive CTE, whose estimate (a hundred rows or more
# per tag where a partitioned table has a few hundred partitions, tagged
# or not) outgrows hash_mem, the subplan is not hashed (NOT IN cannot
# spill) and each trigger scans the whole tree: with the default work_mem
# from 3,000 to 4,000 tagged tables on; 8,000 took 7 s (90 ms before
# 0cd1949).  The time of the call with 4,000 tagged tables is compared
# with its time with 500, the best of three of each (elapsed, in one
# session, JIT off: its compilation time is the plan's, not the tables').
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('capture_status_cost', conf => "max_locks_per_transaction = 256\n");
$node->safe_psql('postgres', q{
CREATE TABLE logs (id int, d int) PARTITION BY LIST (id);
SELECT format('CREATE TABLE logs_%s PARTITION OF logs FOR VALUES IN (%s)', g, g)
  FROM generate_series(1, 200) g \\gexec
});

sub tag_tables
{
	my ($from, $to) = @_;
	for (my $s = $from; $s <= $to; $s += 250)
	{
		my $e = $s + 249 > $to ? $to : $s + 249;
		$node->safe_psql('postgres', qq{
DO \$\$
BEGIN
  FOR i IN $s..$e LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, pid text)', i);
    PERFORM bh_audit.tag_table(format('t%s', i)::regclass, 'Cost', 'id', 'pid');
  END LOOP;
END \$\$});
	}
	$node->safe_psql('postgres', 'ANALYZE bh_audit.tags; ANALYZE pg_class; ANALYZE pg_trigger; ANALYZE pg_inherits');
}

# the best of three elapsed times (ms) of capture_status(), and its rows
sub best_ms
{
	my $script = "SET jit = off;\nSELECT count(*) FROM bh_audit.capture_status();\n\\timing on\n";
	$script .= "SELECT count(*) FROM bh_audit.capture_status();\n" for 1 .. 3;
	my ($ret, $out, $err) = $node->psql('postgres', $script, extra_params => ['-a']);
	my @ms = ($out =~ /^Time: ([0-9.]+) ms/mg);
	my @rows = ($out =~ /^(\d+)$/mg);
	my $best = (sort { $a <=> $b } @ms)[0];
	return ($best, $rows[-1]);
}

tag_tables(1, 500);
my ($small, $rows_small) = best_ms();
tag_tables(501, 4000);
my ($large, $rows_large) = best_ms();
diag("capture_status(): ${small} ms with 500 tagged tables, ${large} ms with 4,000");

is($rows_small . '/' . $rows_large, '0/0', 'capture_status() reports no problem');
ok($large < 16 * $small + 50,
	"capture_status() with 8 times the tagged tables costs less than 16 times as much ($small ms, $large ms)");

done_testing();
