# Closing many WITH HOLD cursors on a tagged table must cost what it cost
# before the cursors' stores kept their statements' tables
# (capture_failure_spi.c bh_rows_stored).  Each store's entry is on one
# list, newest first, and leaves it as the store goes (bh_rows_unstored)
# by a walk from the list's head: closing n held cursors oldest first, or
# all of them (CLOSE ALL, DISCARD ALL as a connection pool resets a
# session), walks O(n^2) entries.  20,000 cursors: CLOSE ALL took 0.2 s
# before, 30 s and more after.  The bound here, 10 s, is 50 times the
# time it took.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('many_held_cursors_close');
$node->safe_psql('postgres', bh_rec_and_plain());

my $out = $node->safe_psql('postgres', q{
BEGIN;
DO $$BEGIN FOR i IN 1 .. 20000 LOOP
    EXECUTE format('DECLARE h%s CURSOR WITH HOLD FOR SELECT v FROM rec', i);
END LOOP; END $$;
COMMIT;
SELECT count(*) FROM pg_cursors WHERE is_holdable;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
CLOSE ALL;
SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1);
SELECT count(*) FROM pg_cursors;
});
my ($held, $secs, $left) = split /\n/, $out;

is($held, '20000', '20,000 WITH HOLD cursors on rec, held at their COMMIT');
is($left, '0', 'CLOSE ALL closed them');
cmp_ok($secs, '<', 10, "CLOSE ALL of 20,000 held cursors on rec takes under 10 s (took $secs s)");

done_testing();
