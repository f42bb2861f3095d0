# docs/read-capture.md (49a3298) says a PL/pgSQL FETCH (of the next, prior,
# first or last row) of a cursor on a tagged table whose row its variable
# cannot take is one READ FAILURE, and leaves open only a FOR loop over
# EXECUTE's or RETURNING rows, a FETCH with a count and a loop's rows after
# a procedure's COMMIT inside it.  A cursor declared WITH HOLD on rec and
# fetched by PL/pgSQL after its transaction committed records nothing: its
# rows come from the portal's store, its executor (and bh_audit's record
# of its statement, capture_read.c) gone at the COMMIT, so
# capture_failure_spi.c bh_rows_fetched_failed() finds no statement.  The
# same FETCH before the COMMIT is the READ FAILURE (control).  Likewise a
# FETCH of a cursor over a write's RETURNING rows (below): both take rows
# from the portal's store, which no ExecutorRun into SPI filled.  The docs
# name both among the cases not covered: their checks are TODO (they
# still run, and tell when they pass).
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
# Not covered (docs/read-capture.md): the statements still run, their
# checks TODO until the rows of a portal's store are known
my $held_todo = 'not covered: a held cursor after its COMMIT gives rows from its portal\'s store, '
  . 'its executor and statement record gone (docs/read-capture.md, "Not covered")';
my $held = bh_statement_failures($node,
	'BEGIN; DECLARE hc CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; COMMIT; ' . $fetch,
	'held cursor after COMMIT');
my $held_last = bh_statement_failures($node,
	'BEGIN; DECLARE hc SCROLL CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; COMMIT; '
	  . q{DO $$DECLARE c refcursor := 'hc'; x int; BEGIN FETCH LAST FROM c INTO x; END $$;},
	'held cursor after COMMIT, FETCH LAST');
TODO:
{
	local $TODO = $held_todo;
	is($held, $int, 'a FETCH of a WITH HOLD cursor on rec after COMMIT, its row refused: one READ FAILURE');
	is($held_last, $int,
		'a FETCH LAST of a WITH HOLD cursor on rec after COMMIT, its row refused: one READ FAILURE');
}

# A FETCH of a cursor over a write's RETURNING rows (OPEN ... FOR EXECUTE
# of an UPDATE ... RETURNING, a static OPEN of a WITH query writing rec):
# PostgreSQL runs the write to the end into the portal's store at the
# first fetch (PORTAL_ONE_RETURNING, PORTAL_ONE_MOD_WITH: its executor's
# rows go to a tuplestore, not to SPI), so bh_rows_fetched() marks
# nothing, and the write of rec, rolled back by the error, leaves no
# trace at all (not covered, as a FOR loop over such rows is); the same
# rows taken by EXECUTE ... INTO and SELECT ... INTO are the
# statement's FAILURE (UPDATE, and READ for the WITH query: t/244).
my $returning_todo = 'not covered: the write runs to its end into the portal\'s store at the first '
  . 'fetch, no executor into SPI (docs/read-capture.md, "Not covered")';
my $update = bh_statement_failures($node,
	q{DO $$DECLARE c refcursor; x int; BEGIN }
	  . q{OPEN c FOR EXECUTE 'UPDATE rec SET v = v WHERE id = 1 RETURNING v'; FETCH c INTO x; END $$},
	'FETCH of an UPDATE ... RETURNING cursor');
my $with = bh_statement_failures($node,
	q{DO $$DECLARE c refcursor; x int; BEGIN }
	  . q{OPEN c FOR WITH u AS (UPDATE rec SET v = v WHERE id = 1 RETURNING v) SELECT v FROM u; }
	  . q{FETCH c INTO x; END $$},
	'FETCH of a cursor over a WITH query writing rec');
TODO:
{
	local $TODO = $returning_todo;
	is($update, 'UPDATE|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
		"a FETCH of a cursor over UPDATE rec ... RETURNING, its row refused: the write's FAILURE");
	is($with, $int, "a FETCH of a cursor over a WITH query updating rec, its row refused: one FAILURE "
		  . '(as its SELECT ... INTO)');
}

bh_no_value_recorded($node);

done_testing();
