# A PL/pgSQL FOR loop over EXECUTE's rows of a write's RETURNING (FOR x IN
# EXECUTE 'UPDATE ... RETURNING ...', or a WITH query writing the table)
# on a tagged table, whose row its variable cannot take: the write's
# FAILURE, as for the same loop over a static query (FOR x IN UPDATE ...
# RETURNING, t/306) and for a FETCH of a cursor opened FOR EXECUTE of the
# same text (t/294).  docs/read-capture.md says a FOR loop over EXECUTE's
# rows is covered, only "after a procedure's COMMIT inside it" left open.
# Now nothing is recorded: the rows come from the cursor's store, filled
# at its first fetch, no executor's into SPI (bh_rows_fetched), and
# bh_rows_stored_failed passes over every loop over EXECUTE.  Likewise a
# procedure's FOR loop over EXECUTE's rows of rec held at a COMMIT inside
# it, its row refused (left open before: the loop's text kept nowhere),
# now known by its frame and statement, which fetched its rows last before
# the COMMIT; not the same loop over plain, nor an inner loop over plain.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('for_execute_returning');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE PROCEDURE exec_loop_commit(tbl text) LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN EXECUTE format('SELECT CASE WHEN id = 1 THEN ''1'' ELSE v END FROM %I ORDER BY id', tbl)
    LOOP
        COMMIT;
    END LOOP;
END $$;
CREATE PROCEDURE exec_loop_commit_inner() LANGUAGE plpgsql AS $$
DECLARE x int; y int;
BEGIN
    FOR x IN EXECUTE 'SELECT id FROM rec ORDER BY id' LOOP
        COMMIT;
        FOR y IN EXECUTE 'SELECT v FROM plain' LOOP END LOOP;
    END LOOP;
END $$;
});

my $msg = 'invalid_text_representation|public.rec|invalid input syntax for type integer: ""';

sub loop_of
{
	my ($query, $name) = @_;
	return bh_statement_failures($node,
		qq{DO \$\$DECLARE x int; BEGIN FOR x IN $query LOOP END LOOP; END \$\$}, $name);
}

# controls: the static loops, the FETCH of a cursor opened FOR EXECUTE
is(loop_of(q{UPDATE rec SET v = v WHERE id = 1 RETURNING v}, 'static UPDATE RETURNING'),
	"UPDATE|$msg", 'control: FOR x IN UPDATE rec ... RETURNING, its row refused: the FAILURE');
is(bh_statement_failures($node,
		q{DO $$DECLARE c refcursor; x int; BEGIN OPEN c FOR EXECUTE }
		  . q{'UPDATE rec SET v = v WHERE id = 1 RETURNING v'; FETCH c INTO x; END $$},
		'FETCH of OPEN FOR EXECUTE RETURNING'),
	"UPDATE|$msg", 'control: a FETCH of a cursor opened FOR EXECUTE of that text: the FAILURE');
is(loop_of(q{WITH u AS (UPDATE rec SET v = v WHERE id = 1 RETURNING v) SELECT v FROM u},
		'static WITH UPDATE'),
	"READ|$msg", 'control: a static FOR loop over a WITH query writing rec: the FAILURE');

# the loops over EXECUTE
is(loop_of(q{EXECUTE 'UPDATE rec SET v = v WHERE id = 1 RETURNING v'}, 'EXECUTE UPDATE RETURNING'),
	"UPDATE|$msg", "FOR x IN EXECUTE 'UPDATE rec ... RETURNING v', its row refused: the FAILURE");
is(loop_of(q{EXECUTE 'UPDATE rec SET v = v WHERE id = $1 RETURNING v' USING 1},
		'EXECUTE UPDATE RETURNING USING'),
	"UPDATE|$msg", 'the same with USING: the FAILURE');
is(loop_of(q{EXECUTE 'WITH u AS (UPDATE rec SET v = v WHERE id = 1 RETURNING v) SELECT v FROM u'},
		'EXECUTE WITH UPDATE'),
	"READ|$msg", 'FOR x IN EXECUTE of a WITH query writing rec, its row refused: the FAILURE');

# negative check
is(loop_of(q{EXECUTE 'UPDATE plain SET v = v WHERE id = 1 RETURNING v'}, 'EXECUTE on plain'),
	'', 'the loop over EXECUTE of UPDATE plain ... RETURNING: no FAILURE');

# a procedure's loop over EXECUTE, held at a COMMIT inside it
is(bh_statement_failures($node, 'CALL exec_loop_commit($$rec$$)', 'held EXECUTE loop on rec'),
	"READ|$msg", "a procedure's FOR loop over EXECUTE's rows of rec, its row after a COMMIT "
	  . 'refused: the READ FAILURE');
is(bh_statement_failures($node, 'CALL exec_loop_commit($$plain$$)', 'held EXECUTE loop on plain'),
	'', 'the same loop over plain: no FAILURE');
is(bh_statement_failures($node, 'CALL exec_loop_commit_inner()', 'inner EXECUTE loop in held one'),
	'', 'an inner loop over EXECUTE on plain, its row refused, in a held one over rec: no FAILURE');

bh_no_value_recorded($node);

done_testing();
