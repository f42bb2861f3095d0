# A held procedure loop's store (capture_failure_spi.c bh_rows_stored) is
# found at a FOR loop's error by the loop's query text alone
# (bh_rows_stored_failed: "the only one kept, pinned, of the loop's
# query's text"): any other FOR loop of the same text, in any frame, whose
# row its variable cannot take while the held loop runs, is taken for the
# held loop's, though its text names another table.  Here the text
# "SELECT v FROM t ORDER BY id" names the tagged public.t in the held
# loop, and an untagged table in the failing loop: a session's temporary
# table t (first in the search_path without any change to it), read by a
# function the held loop's body calls; an inner loop of the same
# procedure after its search_path changed.  Neither failing loop reads a
# tagged table: no FAILURE is to be recorded; nor where the failing loop
# is a procedure's that the held loop's body calls.  Control: the held
# loop's own row refused is its READ FAILURE.  And the other way round,
# two loops of the same text over the tagged table, an outer procedure's
# and the inner one's that it calls, both held at the inner one's COMMIT:
# the inner loop's row refused is its READ FAILURE, told from the outer
# loop's store by its frame and statement (before: none, as one of two
# stores of that text).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('held_loop_same_text');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE TABLE public.t (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('public.t', 'ClinicalRecord', 'id', 'patient_id');
INSERT INTO public.t VALUES (1, 'pat_1', '1'), (2, 'pat_2', '2');
CREATE SCHEMA other;
CREATE TABLE other.t (id int, v text);
INSERT INTO other.t VALUES (1, 'a');
-- a function's loop of the same text as the held loop's
CREATE FUNCTION scan_t() RETURNS int LANGUAGE plpgsql AS $$
DECLARE y int; n int := 0;
BEGIN
    FOR y IN SELECT v FROM t ORDER BY id LOOP n := n + 1; END LOOP;
    RETURN n;
END $$;
-- held loop over public.t; its body makes a temporary t and calls scan_t()
CREATE PROCEDURE held_then_temp() LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN SELECT v FROM t ORDER BY id LOOP
        COMMIT;
        CREATE TEMP TABLE IF NOT EXISTS t (id int, v text);
        INSERT INTO pg_temp.t VALUES (1, 'a');
        PERFORM scan_t();
    END LOOP;
END $$;
-- held loop over public.t; an inner loop of the same text over other.t
CREATE PROCEDURE held_then_inner() LANGUAGE plpgsql AS $$
DECLARE x int; y int;
BEGIN
    FOR x IN SELECT v FROM t ORDER BY id LOOP
        COMMIT;
        PERFORM set_config('search_path', 'other', false);
        FOR y IN SELECT v FROM t ORDER BY id LOOP END LOOP;
    END LOOP;
END $$;
-- held loop over public.t; a procedure it calls, whose loop of the same
-- text reads other.t (search_path changed)
CREATE PROCEDURE scan_t_proc() LANGUAGE plpgsql AS $$
DECLARE y int;
BEGIN
    FOR y IN SELECT v FROM t ORDER BY id LOOP END LOOP;
END $$;
CREATE PROCEDURE held_then_call() LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN SELECT v FROM t ORDER BY id LOOP
        COMMIT;
        PERFORM set_config('search_path', 'other', false);
        CALL public.scan_t_proc();
    END LOOP;
END $$;
-- two procedures' loops of the same text over rec, both held at the
-- inner one's COMMIT; the inner loop's second row refused
CREATE PROCEDURE inner_same_rec() LANGUAGE plpgsql AS $$
DECLARE y int;
BEGIN
    FOR y IN SELECT CASE WHEN id = 1 THEN '1' ELSE v END FROM rec ORDER BY id LOOP
        COMMIT;
    END LOOP;
END $$;
CREATE PROCEDURE held_two_same() LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN SELECT CASE WHEN id = 1 THEN '1' ELSE v END FROM rec ORDER BY id LOOP
        CALL inner_same_rec();
    END LOOP;
END $$;
-- control: the held loop's own second row refused
CREATE PROCEDURE held_own_row() LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FOR x IN SELECT CASE WHEN id = 1 THEN '1' ELSE v END FROM rec ORDER BY id LOOP
        COMMIT;
    END LOOP;
END $$;
});

is(bh_statement_failures($node, 'CALL held_own_row()', 'held loop, own row'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"control: the held loop's own row after its COMMIT refused: its READ FAILURE");
is(bh_statement_failures($node, 'CALL held_then_temp()', 'temp table of the same name'),
	'', "a function's loop over a temporary t, its row refused, under a held loop of the "
	  . "same text over the tagged t: no FAILURE");
is(bh_statement_failures($node, 'CALL held_then_inner()', 'inner loop, other search_path'),
	'', "an inner loop of the same text over an untagged t (search_path changed), its row "
	  . "refused, in a held loop over the tagged t: no FAILURE");
is(bh_statement_failures($node, 'CALL held_then_call()', 'called procedure, other search_path'),
	'', "a called procedure's loop of the same text over an untagged t (search_path "
	  . "changed), its row refused, in a held loop over the tagged t: no FAILURE");
is(bh_statement_failures($node, 'CALL held_two_same()', 'two held loops of the same text'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"the inner of two held procedure loops of the same text over rec, its row refused: "
	  . "its READ FAILURE");

bh_no_value_recorded($node);

done_testing();
