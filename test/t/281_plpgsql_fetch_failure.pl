# A PL/pgSQL FOR loop over a query on a tagged table, or a FETCH of a
# cursor on one, whose row its variable cannot take (a text value of rec
# into an integer, into json) fails as PL/pgSQL takes the rows it fetched:
# that is the loop's or the FETCH's READ FAILURE of rec, as SELECT ... INTO's
# is (t/244).  Before, nothing was recorded: the rows come through the
# cursor's fetches (pl_exec.c exec_for_query, exec_stmt_fetch), not from a
# statement SPI ran, and the error's context has only the function's line
# "... at FOR over SELECT rows" or "... at FETCH" (capture_failure_spi.c
# bh_rows_fetched_failed).  Also a loop's later row, taken after its body's
# statements ran (a function: its loop fetches ten rows at a time), a
# caught one, and under a translated lc_messages.  Controls: the same
# loop's cursor failing in its executor is one FAILURE (its executor's),
# not two; the same loops and FETCHes on plain record none.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# made before the node starts, which inherits their place (bh_locale)
my @langs = bh_locales(qw(fr_FR de_DE ja_JP ka_GE));
my $node = bh_node('plpgsql_fetch_failure',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', bh_rec_and_plain() . q{
-- a loop whose second row its variable cannot take, after a statement of its body
CREATE FUNCTION loop_ids(from_rec bool) RETURNS int LANGUAGE plpgsql AS $$
DECLARE i int; n int := 0; w text;
BEGIN
    IF from_rec THEN
        FOR i IN SELECT CASE WHEN id = 2 THEN v ELSE id::text END FROM rec ORDER BY id LOOP
            SELECT v INTO w FROM plain WHERE id = 1;
            n := n + 1;
        END LOOP;
    ELSE
        FOR i IN SELECT CASE WHEN id = 2 THEN v ELSE id::text END FROM plain ORDER BY id LOOP
            SELECT v INTO w FROM rec WHERE id = 1;
            n := n + 1;
        END LOOP;
    END IF;
    RETURN n;
END $$;
});

sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

my $int = 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""';

is(failures_of('DO $$DECLARE i int; BEGIN FOR i IN SELECT v FROM rec LOOP END LOOP; END $$', 'FOR'),
	$int, "a FOR loop over rec whose row its integer variable cannot take is one READ FAILURE");
is(failures_of('SELECT loop_ids(true)', 'FOR, second row'),
	$int, "a FOR loop over rec whose second row, taken after its body ran, its variable cannot take: "
	  . 'one READ FAILURE');
is(failures_of('DO $$DECLARE j json; BEGIN FOR j IN SELECT v FROM rec LOOP END LOOP; END $$', 'FOR, json'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type json',
	"a FOR loop over rec whose row its json variable cannot take is one READ FAILURE");
is(failures_of('DO $$DECLARE i int; BEGIN BEGIN FOR i IN SELECT v FROM rec LOOP END LOOP; '
		  . 'EXCEPTION WHEN invalid_text_representation THEN NULL; END; END $$', 'FOR, caught', 1),
	$int, "a FOR loop over rec whose row its variable cannot take, caught, is one READ FAILURE");
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT v FROM rec WHERE id = 1; x int; '
		  . 'BEGIN OPEN c; FETCH c INTO x; END $$', 'FETCH'),
	$int, "a FETCH of a cursor on rec whose row its integer variable cannot take is one READ FAILURE");
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT id, v FROM rec ORDER BY id; x int; y int; '
		  . 'BEGIN OPEN c; FETCH NEXT FROM c INTO x, y; END $$', 'FETCH, two columns'),
	$int, "a FETCH of a cursor on rec whose row's second column its variable cannot take is one "
	  . 'READ FAILURE');

# controls: the loop's cursor failing in its executor (its second row,
# fetched alone in a DO block) is its executor's FAILURE, once; the same
# loops and FETCH on plain record none
is(failures_of('DO $$DECLARE i int; BEGIN FOR i IN SELECT 1 / (id - 2) FROM rec ORDER BY id LOOP '
		  . 'END LOOP; END $$', 'FOR, executor'),
	'READ|division_by_zero|public.rec|division by zero',
	"a FOR loop over rec whose query fails at its second row is one READ FAILURE");
is(failures_of('DO $$DECLARE i int; BEGIN FOR i IN SELECT v FROM plain LOOP END LOOP; END $$', 'FOR, plain'),
	'', "a FOR loop over plain whose row its variable cannot take: no FAILURE");
is(failures_of('SELECT loop_ids(false)', 'FOR, plain, second row'),
	'', "a FOR loop over plain whose second row its variable cannot take, its body reading rec: no FAILURE");
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT v FROM plain; x int; BEGIN OPEN c; FETCH c INTO x; END $$',
		'FETCH, plain'),
	'', "a FETCH of a cursor on plain whose row its variable cannot take: no FAILURE");

# under a translated lc_messages: the loop's line read as translated (the
# message made safe from its translated format, its type left out)
@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language to translate to (above why): only C checked') if !@langs;
my $int_translated = 'READ|invalid_text_representation|public.rec|invalid input syntax for type %s: ""';
for my $lang (@langs)
{
	is(failures_of("SET lc_messages = '$lang'; "
			  . 'DO $$DECLARE i int; BEGIN FOR i IN SELECT v FROM rec LOOP END LOOP; END $$', "$lang: FOR"),
		$int_translated, "$lang: a FOR loop over rec whose row its variable cannot take is one READ FAILURE");
	is(failures_of("SET lc_messages = '$lang'; "
			  . 'DO $$DECLARE c CURSOR FOR SELECT v FROM rec WHERE id = 1; x int; '
			  . 'BEGIN OPEN c; FETCH c INTO x; END $$', "$lang: FETCH"),
		$int_translated,
		"$lang: a FETCH of a cursor on rec whose row its variable cannot take is one READ FAILURE");
}

bh_no_value_recorded($node);

done_testing();
