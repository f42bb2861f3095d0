# A PL/pgSQL FOR loop over EXECUTE's rows (FOR x IN EXECUTE '...') on a
# tagged table whose row its variable cannot take is the loop's statement's
# READ FAILURE, as a FOR loop over a query's is (t/281).  Before, nothing
# was recorded: the loop's cursor is opened from a text PL/pgSQL keeps
# nowhere, so its statement was not known by its text.  It is known as the
# cursor that the function's frame opened at that loop, pinned by the loop,
# fetched last by that frame at that statement, directly (not from inside
# another statement's executor), its executor not running since (capture_failure_spi.c bh_rows_fetched,
# bh_rows_fetched_failed).  Also a later row taken after the loop's body
# ran, with USING, and caught.  Negative checks: loops over plain, a loop
# over plain whose text or query fetches a cursor on rec (cursor_to_xml: a
# DECLAREd one, an enclosing loop's), an inner loop over plain inside one
# over rec, an error of the loop's body.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('plpgsql_for_execute_failure');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE FUNCTION loop_exec(tbl text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE i int; n int := 0; w text;
BEGIN
    FOR i IN EXECUTE format('SELECT CASE WHEN id = 2 THEN v ELSE id::text END FROM %I ORDER BY id', tbl) LOOP
        SELECT v INTO w FROM plain WHERE id = 1;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
});

my $int = 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""';

sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

is(failures_of(q{DO $$DECLARE x int; BEGIN FOR x IN EXECUTE 'SELECT v FROM rec ORDER BY id' LOOP END LOOP; END $$},
		'FOR over EXECUTE'),
	$int, "a FOR loop over EXECUTE's rows of rec, its row refused: one READ FAILURE");
is(failures_of('SELECT loop_exec($$rec$$)', 'FOR over EXECUTE, second row'),
	$int, "its second row, taken after the loop's body ran: one READ FAILURE");
is(failures_of(q{DO $$DECLARE x int; BEGIN FOR x IN EXECUTE 'SELECT v FROM rec WHERE id = $1' USING 2 }
		  . q{LOOP END LOOP; END $$}, 'FOR over EXECUTE USING'),
	$int, "with USING: one READ FAILURE");
is(failures_of(q{DO $$DECLARE x int; BEGIN BEGIN FOR x IN EXECUTE 'SELECT v FROM rec' LOOP END LOOP; }
		  . q{EXCEPTION WHEN others THEN NULL; END; END $$}, 'FOR over EXECUTE, caught', 1),
	$int, "caught: one READ FAILURE");

# negative checks
is(failures_of('SELECT loop_exec($$plain$$)', 'FOR over EXECUTE on plain'),
	'', "the same loop over plain: no FAILURE");
is(failures_of(q{DO $$DECLARE x int; BEGIN FOR x IN EXECUTE 'SELECT id FROM rec' LOOP PERFORM 1 / 0; }
		  . q{END LOOP; END $$}, 'FOR over EXECUTE, body fails'),
	'', "a loop over rec whose body's statement fails: no FAILURE of rec");
is(failures_of(q{DO $$DECLARE x int; y int; BEGIN FOR x IN EXECUTE 'SELECT id FROM rec' LOOP }
		  . q{FOR y IN EXECUTE 'SELECT v FROM plain' LOOP END LOOP; END LOOP; END $$}, 'inner loop on plain'),
	'', "an inner loop over plain, its row refused, in a loop over rec: no FAILURE of rec");
is(failures_of(q{BEGIN; DECLARE hc CURSOR FOR SELECT v FROM rec ORDER BY id; }
		  . q{DO $$DECLARE x int; BEGIN FOR x IN EXECUTE 'SELECT v FROM plain -- ' }
		  . q{|| length(cursor_to_xml('hc', 1, false, false, '')::text) LOOP END LOOP; END $$;},
		'text fetching a cursor on rec'),
	'', "a loop over plain whose text fetches a cursor on rec (cursor_to_xml), its row refused: no FAILURE");
is(failures_of(q{BEGIN; DECLARE hc CURSOR FOR SELECT v FROM rec ORDER BY id; }
		  . q{DO $$DECLARE x int; BEGIN FOR x IN EXECUTE 'SELECT v FROM plain }
		  . q{WHERE cursor_to_xml(''hc'', 1, false, false, '''') IS NOT NULL' LOOP END LOOP; END $$;},
		'query fetching a cursor on rec'),
	'', "a loop over plain whose query fetches a cursor on rec (cursor_to_xml), its row refused: no FAILURE");
# the cursor fetched from inside the inner loop's query is a pinned loop's
# (the outer loop's over rec, named as pg_cursors shows it): it is fetched
# deeper than the inner loop's own statement
is(failures_of(q{DO $$DECLARE x int; y int; n text; BEGIN }
		  . q{FOR x IN EXECUTE 'SELECT id FROM rec ORDER BY id' LOOP }
		  . q{SELECT name INTO n FROM pg_cursors WHERE statement = 'SELECT id FROM rec ORDER BY id'; }
		  . q{FOR y IN EXECUTE format('SELECT v FROM plain WHERE cursor_to_xml(%L, 1, false, false, '''') }
		  . q{IS NOT NULL', n) LOOP END LOOP; END LOOP; END $$;},
		'inner query fetching the outer loop'),
	'', "an inner loop over plain whose query fetches the outer loop's cursor on rec, its row refused: "
	  . 'no FAILURE');
# ... and from the inner loop's text, at the inner loop's own depth: not
# the cursor the inner loop opened
is(failures_of(q{DO $$DECLARE x int; y int; n text; BEGIN }
		  . q{FOR x IN EXECUTE 'SELECT id FROM rec ORDER BY id' LOOP }
		  . q{SELECT name INTO n FROM pg_cursors WHERE statement = 'SELECT id FROM rec ORDER BY id'; }
		  . q{FOR y IN EXECUTE 'SELECT v FROM plain -- ' || length(cursor_to_xml(n::refcursor, 1, false, false, '')::text) }
		  . q{LOOP END LOOP; END LOOP; END $$;},
		'inner text fetching the outer loop'),
	'', "an inner loop over plain whose text fetches the outer loop's cursor on rec, its row refused: "
	  . 'no FAILURE');

bh_no_value_recorded($node);

done_testing();
