# A cursor declared WITH HOLD on rec and fetched by PL/pgSQL after its
# transaction committed, and a cursor over a write's RETURNING rows, give
# their rows from the portal's store: the cursor's executor ran to its end
# into that store (at the COMMIT, at the first fetch), not into SPI, so no
# fetch of it into SPI is seen (capture_failure_spi.c bh_rows_fetched).  A
# row of such a store that a FETCH's variable cannot take is the cursor's
# statement's FAILURE all the same: the statement's tables are kept with
# the portal's store as its executor fills it (bh_rows_stored).  Before,
# nothing was recorded (these checks were TODO).  The same FETCH before the
# COMMIT is the READ FAILURE (control); negative checks: t/306.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('fetch_from_portal_store');
$node->safe_psql('postgres', bh_rec_and_plain());

my $int = 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""';
my $fetch = q{DO $$DECLARE c refcursor := 'hc'; x int; BEGIN FETCH c INTO x; END $$;};

# control: the cursor's executor still there
is(bh_statement_failures($node,
		'BEGIN; DECLARE hc CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; ' . $fetch,
		'held cursor before COMMIT'),
	$int, 'a FETCH of a WITH HOLD cursor on rec before COMMIT, its row refused: one READ FAILURE');
my $held = bh_statement_failures($node,
	'BEGIN; DECLARE hc CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; COMMIT; ' . $fetch,
	'held cursor after COMMIT');
my $held_last = bh_statement_failures($node,
	'BEGIN; DECLARE hc SCROLL CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; COMMIT; '
	  . q{DO $$DECLARE c refcursor := 'hc'; x int; BEGIN FETCH LAST FROM c INTO x; END $$;},
	'held cursor after COMMIT, FETCH LAST');
{
	is($held, $int, 'a FETCH of a WITH HOLD cursor on rec after COMMIT, its row refused: one READ FAILURE');
	is($held_last, $int,
		'a FETCH LAST of a WITH HOLD cursor on rec after COMMIT, its row refused: one READ FAILURE');
}

# A FETCH of a cursor over a write's RETURNING rows (OPEN ... FOR EXECUTE
# of an UPDATE ... RETURNING, a static OPEN of a WITH query writing rec):
# PostgreSQL runs the write to the end into the portal's store at the
# first fetch (PORTAL_ONE_RETURNING, PORTAL_ONE_MOD_WITH: its executor's
# rows go to a tuplestore, not to SPI); the write, rolled back by the
# error, leaves its FAILURE, as the same rows taken by EXECUTE ... INTO and
# SELECT ... INTO do (UPDATE, and READ for the WITH query: t/244).
my $update = bh_statement_failures($node,
	q{DO $$DECLARE c refcursor; x int; BEGIN }
	  . q{OPEN c FOR EXECUTE 'UPDATE rec SET v = v WHERE id = 1 RETURNING v'; FETCH c INTO x; END $$},
	'FETCH of an UPDATE ... RETURNING cursor');
my $with = bh_statement_failures($node,
	q{DO $$DECLARE c refcursor; x int; BEGIN }
	  . q{OPEN c FOR WITH u AS (UPDATE rec SET v = v WHERE id = 1 RETURNING v) SELECT v FROM u; }
	  . q{FETCH c INTO x; END $$},
	'FETCH of a cursor over a WITH query writing rec');
{
	is($update, 'UPDATE|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
		"a FETCH of a cursor over UPDATE rec ... RETURNING, its row refused: the write's FAILURE");
	is($with, $int, "a FETCH of a cursor over a WITH query updating rec, its row refused: one FAILURE "
		  . '(as its SELECT ... INTO)');
}

bh_no_value_recorded($node);

done_testing();
