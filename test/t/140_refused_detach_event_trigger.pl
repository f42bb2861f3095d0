# A DETACH PARTITION from a tagged table of a table that is not one of its
# partitions (no partition at all, or a partition of another table) is
# refused by PostgreSQL and changes nothing: it leaves no event, also when
# a statement runs while the DETACH does (a ddl_command_start event
# trigger's query), which notes a DETACH whose partition is no longer one
# as in effect.  A DETACH of a partition rolled back is still recorded,
# marked rolled_back, with and without such an event trigger; committed,
# without the mark.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('refused_detach_event_trigger');
$node->safe_psql('postgres', q{
CREATE TABLE rbp (id int, pat text, region int) PARTITION BY LIST (region);
CREATE TABLE rbp_1 PARTITION OF rbp FOR VALUES IN (1);
CREATE TABLE rbq (id int, pat text, region int);
CREATE TABLE rbo (id int, pat text, region int) PARTITION BY LIST (region);
CREATE TABLE rbo_1 PARTITION OF rbo FOR VALUES IN (1);
SELECT bh_audit.tag_table('rbp', 'RBP', 'id', 'pat');
INSERT INTO rbp VALUES (1, 'p1', 1);
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# The partition_detached events since the mark: action, partition,
# rolled_back, in order.
sub detached_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT concat_ws('|', action, event -> 'metadata' ->> 'partition',
                 coalesce(event -> 'metadata' ->> 'rolled_back', '-'))
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' = 'partition_detached'
 ORDER BY seq});
}

foreach my $trigger (0, 1)
{
	my $with = $trigger ? 'with' : 'without';

	if ($trigger)
	{
		$node->safe_psql('postgres', q{
CREATE FUNCTION et() RETURNS event_trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM 1 FROM pg_class LIMIT 1; END$$;
CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION et();
});
	}

	foreach my $other ('rbq', 'rbo_1')
	{
		set_mark();
		my ($ret, $out, $err) = $node->psql('postgres',
			"ALTER TABLE rbp DETACH PARTITION $other");
		like($err, qr/"$other" is not a partition of relation "rbp"/,
			"$with an event trigger: the DETACH of $other is refused");
		is(detached_since(), '',
			"$with an event trigger: the refused DETACH of $other leaves no event");
	}
	is($node->safe_psql('postgres',
			"SELECT relispartition FROM pg_class WHERE oid = 'rbo_1'::regclass"),
		't', "$with an event trigger: rbo_1 is still a partition");

	set_mark();
	is($node->safe_psql('postgres', q{
BEGIN;
ALTER TABLE rbp DETACH PARTITION rbp_1;
SELECT pat FROM rbp_1;
ROLLBACK;
}), 'p1', "$with an event trigger: rbp_1 detached, read");
	is(detached_since(), 'UPDATE|public.rbp_1|true',
		"$with an event trigger: a DETACH rolled back is recorded, rolled back");
}

set_mark();
$node->safe_psql('postgres', 'ALTER TABLE rbp DETACH PARTITION rbp_1');
is(detached_since(), 'UPDATE|public.rbp_1|-',
	'a DETACH committed is recorded once, not rolled back');

done_testing();
