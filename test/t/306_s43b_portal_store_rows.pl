# Rows a PL/pgSQL FETCH or FOR loop takes from a portal's store (a WITH
# HOLD cursor after its COMMIT, a cursor over a write's RETURNING rows, a
# procedure's FOR loop after a COMMIT in its body, which holds the loop's
# cursor) that its variable cannot take: the cursor's statement's FAILURE
# (capture_failure_spi.c bh_rows_stored_failed; t/294 for FETCH).  Here:
# the procedure's loop, and the errors that are no such taking, which must
# record no FAILURE of rec: a FETCH that fails in the cursor itself (a
# backward FETCH of a cursor that cannot scan backward), a FETCH statement
# run again on another cursor, cursors and loops over plain, an error of
# the loop's body, an inner loop over plain inside a held loop over rec.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('portal_store_rows');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
-- a loop whose first row fits, then commits (its cursor held: a store),
-- then takes a row its variable cannot take
CREATE PROCEDURE loop_commit(tbl text) LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    IF tbl = 'rec' THEN
        FOR x IN SELECT CASE WHEN id = 1 THEN '1' ELSE v END FROM rec ORDER BY id LOOP
            COMMIT;
        END LOOP;
    ELSE
        FOR x IN SELECT CASE WHEN id = 1 THEN '1' ELSE v END FROM plain ORDER BY id LOOP
            COMMIT;
        END LOOP;
    END IF;
END $$;
-- the held loop over rec (its rows fit) fails in its body's own statement
CREATE PROCEDURE loop_commit_body() LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN SELECT id FROM rec ORDER BY id LOOP
        COMMIT;
        IF x = 2 THEN PERFORM 1 / 0; END IF;
    END LOOP;
END $$;
-- the held loop over rec, an inner loop over plain whose row does not fit
CREATE PROCEDURE loop_commit_inner() LANGUAGE plpgsql AS $$
DECLARE x int; y int;
BEGIN
    FOR x IN SELECT id FROM rec ORDER BY id LOOP
        COMMIT;
        FOR y IN SELECT v FROM plain LOOP END LOOP;
    END LOOP;
END $$;
});

my $int = 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""';

is(bh_statement_failures($node, 'CALL loop_commit($$rec$$)', 'procedure loop after COMMIT'),
	$int, "a procedure's FOR loop over rec, its row after a COMMIT refused: one READ FAILURE");
is(bh_statement_failures($node, 'CALL loop_commit($$plain$$)', 'procedure loop on plain'),
	'', "the same loop over plain: no FAILURE");
is(bh_statement_failures($node, 'CALL loop_commit_body()', 'held loop body fails'),
	'', "a held loop over rec whose body's statement fails: no FAILURE of rec");
is(bh_statement_failures($node, 'CALL loop_commit_inner()', 'inner loop in held loop'),
	'', "an inner loop over plain, its row refused, in a held loop over rec: no FAILURE of rec");

# FETCH of held cursors
my $hold = 'BEGIN; DECLARE hc CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; '
  . 'DECLARE hp CURSOR WITH HOLD FOR SELECT v FROM plain ORDER BY id; COMMIT; ';
is(bh_statement_failures($node,
		$hold . q{DO $$DECLARE c refcursor := 'hp'; x int; BEGIN FETCH c INTO x; END $$;},
		'held cursor on plain'),
	'', 'a FETCH of a WITH HOLD cursor on plain after COMMIT, its row refused: no FAILURE');
is(bh_statement_failures($node,
		$hold . q{DO $$DECLARE c refcursor; x int; t text; n text; BEGIN }
		  . q{FOREACH n IN ARRAY ARRAY['hc', 'hp'] LOOP c := n; }
		  . q{IF n = 'hc' THEN FETCH c INTO t; ELSE FETCH c INTO x; END IF; END LOOP; END $$;},
		'held cursors, FETCH of the plain one'),
	'', 'a FETCH of the held cursor on rec (its row taken), then one on plain refused: no FAILURE');
is(bh_statement_failures($node,
		$hold . q{DO $$DECLARE c refcursor := 'hp'; x int; t text; BEGIN }
		  . q{FETCH c INTO t; c := 'hc'; FETCH c INTO t; c := 'hp'; FETCH c INTO x; END $$;},
		'one FETCH statement, rec then plain'),
	'', 'FETCHes of the held cursors on plain, rec, then plain refused: no FAILURE');
is(bh_statement_failures($node,
		'BEGIN; DECLARE hn NO SCROLL CURSOR WITH HOLD FOR SELECT v FROM rec ORDER BY id; COMMIT; '
		  . q{DO $$DECLARE c refcursor := 'hn'; x int; BEGIN FETCH PRIOR FROM c INTO x; END $$;},
		'backward FETCH of a held cursor'),
	'', 'a backward FETCH of a held NO SCROLL cursor on rec, refused by the cursor: no FAILURE');
is(bh_statement_failures($node,
		$hold . q{DO $$DECLARE c refcursor := 'hc'; t text; BEGIN FETCH c INTO t; }
		  . q{PERFORM 1 / 0; END $$;},
		'held cursor, then an error'),
	'', 'a FETCH of the held cursor on rec that fits, then another error: no FAILURE');

# FOR loops over a write's RETURNING rows (its cursor's store)
is(bh_statement_failures($node,
		q{DO $$DECLARE x int; BEGIN FOR x IN UPDATE rec SET v = v WHERE id = 1 RETURNING v LOOP END LOOP; END $$},
		'FOR over UPDATE rec RETURNING'),
	'UPDATE|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"a FOR loop over UPDATE rec ... RETURNING, its row refused: the write's FAILURE");
is(bh_statement_failures($node,
		q{DO $$DECLARE x int; BEGIN FOR x IN UPDATE plain SET v = v WHERE id = 1 RETURNING v LOOP END LOOP; END $$},
		'FOR over UPDATE plain RETURNING'),
	'', "a FOR loop over UPDATE plain ... RETURNING, its row refused: no FAILURE");

# a FETCH FIRST run again on a NO SCROLL cursor on rec (its row taken the
# first time) is refused by the cursor as it would go back, before any
# executor run: the cursor's statement fetched last by that very FETCH is
# still marked (bh_rows_fetched), yet no row is taken
is(bh_statement_failures($node,
		q{DO $$DECLARE c refcursor; t text; BEGIN OPEN c NO SCROLL FOR SELECT v FROM rec ORDER BY id; }
		  . q{FOR i IN 1 .. 2 LOOP FETCH FIRST FROM c INTO t; END LOOP; END $$},
		'FETCH FIRST again, NO SCROLL'),
	'', 'a FETCH FIRST run again on a NO SCROLL cursor on rec, refused by the cursor: no FAILURE');

# RETURNING cursors over plain
is(bh_statement_failures($node,
		q{DO $$DECLARE c refcursor; x int; BEGIN }
		  . q{OPEN c FOR EXECUTE 'UPDATE plain SET v = v WHERE id = 1 RETURNING v'; FETCH c INTO x; END $$},
		'RETURNING cursor on plain'),
	'', 'a FETCH of a cursor over UPDATE plain ... RETURNING, its row refused: no FAILURE');
is(bh_statement_failures($node,
		q{DO $$DECLARE c refcursor; d refcursor; x int; t text; BEGIN }
		  . q{OPEN c FOR EXECUTE 'UPDATE rec SET v = v WHERE id = 1 RETURNING v'; FETCH c INTO t; }
		  . q{OPEN d FOR EXECUTE 'UPDATE plain SET v = v WHERE id = 1 RETURNING v'; FETCH d INTO x; END $$},
		'RETURNING cursors on rec then plain'),
	'', 'a FETCH of a RETURNING cursor on rec that fits, then one on plain refused: no FAILURE of rec');

bh_no_value_recorded($node);

done_testing();
