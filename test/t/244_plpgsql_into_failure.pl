# A PL/pgSQL SELECT ... INTO on a tagged table that fails after its query
# ran (INTO STRICT finding more than one row; a column's value that the
# target variable's type cannot take) is a statement on a tagged table
# that fails, as read-capture.md says of a function's statements ("A
# statement inside the function that fails on a tagged table is that
# statement's own FAILURE"): one READ FAILURE on the table, its message
# made safe, as for the same query failing in the executor (a scalar
# subquery of more than one row, a PERFORM of the cast).  Found by the
# sweep of t/243.  So too INTO STRICT finding no row, a write's RETURNING
# ... INTO of two rows (its action), a domain's check of the target, a
# SELECT without INTO, EXECUTE ... INTO STRICT or into a variable that
# cannot take the value (and an EXECUTE whose query text, read from rec by
# its expression's query, is null), a statement of a loop's body, under a
# translated lc_messages (and RETURN QUERY, failing in its executor,
# once); also where an exception block catches the error, once
# from a nested function, with the client's own where the error fails
# that too.  Not the failure of a statement that names no tagged table
# after one that does (a SELECT ... INTO STRICT on an untagged table, a
# SAVEPOINT or a COPY to the client that SPI refuses, a SHOW, an EXECUTE
# of a CALL whose procedure read rec last, a GET DIAGNOSTICS, an
# assignment, a loop's body after a read of its query, a loop's next rows
# after a read in its body).  A write without RETURNING given an INTO
# (UPDATE, INSERT, DELETE, EXECUTE of one; caught, in a loop whose other
# writes are of plain) is its FAILURE too.  The false FAILUREs that the
# first try (9372b19, judging by the executor that ended last) made are
# guarded by t/253.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# made before the node starts, which inherits their place (bh_locale)
# (ka_GE: its line "PL/pgSQL ფუნქცია %s ხაზზე %d %s-სთან" has only a space
# before the statement's type, and "SQL ოპერატორი" has one in it; ja_JP:
# the type before the line's end)
my @langs = bh_locales(qw(fr_FR de_DE ja_JP ka_GE));
my $node = bh_node('plpgsql_into_failure',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE TABLE rec2 (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('rec2', 'ClinicalRecord', 'id', 'patient_id');
INSERT INTO rec2 VALUES (1, 'pat_1', 'PHI_TOKEN_9QC3');
CREATE DOMAIN small AS int CHECK (VALUE < 1);
CREATE FUNCTION one_v() RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT v INTO STRICT r FROM rec;
    RETURN r;
END $$;
CREATE FUNCTION ints() RETURNS SETOF int LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT v FROM rec;
END $$;
CREATE PROCEDURE one_row(INOUT r text) LANGUAGE plpgsql AS $$
BEGIN
    SELECT v INTO r FROM rec WHERE id = 1;
END $$;
});

# the failures of the statement (it fails, unless $ok), with their messages
sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

# controls: the same failures in the executor are recorded
is(failures_of('SELECT (SELECT v FROM rec)', 'scalar subquery'),
	'READ|cardinality_violation|public.rec|more than one row returned by a subquery used as an expression',
	'a scalar subquery of two rows is one READ FAILURE');
is(failures_of('DO $$BEGIN PERFORM v::int FROM rec WHERE id = 1; END $$', 'PERFORM'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	'a PERFORM whose cast fails is one READ FAILURE');

is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO STRICT r FROM rec; END $$', 'INTO STRICT'),
	'READ|too_many_rows|public.rec|query returned more than one row',
	'SELECT ... INTO STRICT of two rows is one READ FAILURE');
is(failures_of('DO $$DECLARE r int; BEGIN SELECT v INTO r FROM rec WHERE id = 1; END $$', 'INTO int'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	'SELECT ... INTO a variable that cannot take the value is one READ FAILURE');

my $too_many = 'READ|too_many_rows|public.rec|query returned more than one row';

# what is recorded of it: the READs of the rows its query read
{
	my $mark = bh_seal_mark($node, 'postgres');
	$node->psql('postgres', 'DO $$DECLARE r text; BEGIN SELECT v INTO STRICT r FROM rec; END $$');
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, outcome, event -> 'metadata' ->> 'table'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark}),
		'READ|SUCCESS|public.rec,READ|SUCCESS|public.rec,READ|FAILURE|public.rec',
		'SELECT ... INTO STRICT of two rows: its READs of both rows are recorded, then its FAILURE');
}
is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO STRICT r FROM rec WHERE id = 9; END $$',
		'INTO STRICT, no row'),
	'READ|no_data_found|public.rec|query returned no rows',
	'SELECT ... INTO STRICT of no row is one READ FAILURE');
is(failures_of('DO $$DECLARE r int; BEGIN UPDATE rec SET v = v RETURNING id INTO r; END $$',
		'RETURNING INTO'),
	'UPDATE|too_many_rows|public.rec|query returned more than one row',
	'UPDATE ... RETURNING ... INTO of two rows is one UPDATE FAILURE');
is(failures_of('DO $$DECLARE d small; BEGIN SELECT id INTO d FROM rec WHERE id = 1; END $$',
		'INTO a domain'),
	'READ|check_violation|public.rec|value for domain small violates check constraint ""',
	'SELECT ... INTO a variable whose domain refuses the value is one READ FAILURE');
is(failures_of('DO $$BEGIN SELECT v FROM rec; END $$', 'no INTO'),
	'READ|syntax_error|public.rec|query has no destination for result data',
	'a SELECT without INTO is one READ FAILURE');
is(failures_of(q{DO $$DECLARE r text; BEGIN EXECUTE 'SELECT v FROM rec' INTO STRICT r; END $$},
		'EXECUTE INTO STRICT'),
	$too_many, 'EXECUTE ... INTO STRICT of two rows is one READ FAILURE');
is(failures_of(q{DO $$DECLARE r int; BEGIN EXECUTE 'SELECT v FROM rec WHERE id = $1' INTO r USING 1; END $$},
		'EXECUTE INTO int'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	'EXECUTE ... INTO a variable that cannot take the value is one READ FAILURE');
is(failures_of('DO $$BEGIN EXECUTE (SELECT CASE WHEN v IS NULL THEN 1 END::text FROM rec WHERE id = 1); END $$',
		'EXECUTE of a null text read from rec'),
	'READ|null_value_not_allowed|public.rec|query string argument of EXECUTE is null',
	"EXECUTE whose query text, read from rec by its expression's query, is null: one READ FAILURE");
is(failures_of('DO $$DECLARE r text; BEGIN FOR i IN 1..2 LOOP SELECT v INTO STRICT r FROM rec; END LOOP; END $$',
		'in a loop'),
	$too_many, 'SELECT ... INTO STRICT in a loop is one READ FAILURE');
is(failures_of('SELECT * FROM ints()', 'RETURN QUERY'),
	'READ|datatype_mismatch|public.rec|datatype_mismatch',
	'RETURN QUERY whose rows the function cannot return is one READ FAILURE (its executor\'s)');

# a write without RETURNING given an INTO: it runs, SPI returns no rows,
# and PL/pgSQL refuses the INTO ("INTO used with a command that cannot
# return data"): one FAILURE with the write's action
my $into_used = 'syntax_error|public.rec|INTO used with a command that cannot return data';
is(failures_of('DO $$DECLARE r int; BEGIN UPDATE rec SET v = v WHERE id = 1 INTO r; END $$',
		'UPDATE INTO without RETURNING'),
	"UPDATE|$into_used", 'an UPDATE given an INTO without RETURNING is one UPDATE FAILURE');
is(failures_of(q{DO $$DECLARE r int; BEGIN INSERT INTO rec VALUES (3, 'pat_3', 'x') INTO r; END $$},
		'INSERT INTO without RETURNING'),
	"CREATE|$into_used", 'an INSERT given an INTO without RETURNING is one CREATE FAILURE');
is(failures_of('DO $$DECLARE r int; BEGIN DELETE FROM rec WHERE id = 9 INTO r; END $$',
		'DELETE INTO without RETURNING'),
	"DELETE|$into_used", 'a DELETE (of no row) given an INTO without RETURNING is one DELETE FAILURE');
is(failures_of(q{DO $$DECLARE r int; BEGIN EXECUTE 'UPDATE rec SET v = v WHERE id = 1' INTO r; END $$},
		'EXECUTE of an UPDATE INTO'),
	"UPDATE|$into_used", 'EXECUTE of an UPDATE without RETURNING given an INTO is one UPDATE FAILURE');
is(failures_of(q{DO $$DECLARE r int; BEGIN EXECUTE 'UPDATE plain SET v = v; UPDATE rec SET v = v' INTO r; END $$},
		'EXECUTE of two UPDATEs INTO'),
	"UPDATE|$into_used", 'EXECUTE of an UPDATE of plain, then of rec, given an INTO is one UPDATE FAILURE');
is(failures_of('DO $$DECLARE r int; BEGIN BEGIN UPDATE rec SET v = v WHERE id = 1 INTO r; '
		  . 'EXCEPTION WHEN syntax_error THEN NULL; END; END $$', 'UPDATE INTO caught', 1),
	"UPDATE|$into_used", 'an UPDATE given an INTO without RETURNING, caught, is one UPDATE FAILURE');
is(failures_of(q{DO $$DECLARE r int; t text; BEGIN FOREACH t IN ARRAY ARRAY['plain', 'rec', 'plain'] LOOP }
		  . q{BEGIN EXECUTE format('UPDATE %I SET v = v WHERE id = 1', t) INTO r; }
		  . 'EXCEPTION WHEN syntax_error THEN NULL; END; END LOOP; END $$', 'EXECUTE INTO caught in a loop', 1),
	"UPDATE|$into_used", 'one EXECUTE of UPDATEs of plain, rec, plain given an INTO, caught each time: '
	  . 'one UPDATE FAILURE');

# caught, nested, with the client's statement's own
is(failures_of('DO $$DECLARE r text; BEGIN BEGIN SELECT v INTO STRICT r FROM rec; '
		  . 'EXCEPTION WHEN too_many_rows THEN NULL; END; END $$', 'caught', 1),
	$too_many, 'SELECT ... INTO STRICT caught by an exception block is one READ FAILURE');
is(failures_of('SELECT one_v()', 'a function'), $too_many,
	"a function's SELECT ... INTO STRICT is one READ FAILURE");
is(failures_of('DO $$BEGIN PERFORM one_v(); END $$', 'a function in a function'), $too_many,
	"a function's SELECT ... INTO STRICT, called by a function, is one READ FAILURE");
is(failures_of('SELECT one_v() FROM rec2', 'a function on a tagged table'),
	"$too_many\nREAD|too_many_rows|public.rec2|query returned more than one row",
	"a function's SELECT ... INTO STRICT called by a read of another tagged table: "
	  . 'one READ FAILURE on each');

# the failure of another statement after a read of rec
is(failures_of('DO $$DECLARE r text; x int; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . 'SELECT id INTO STRICT x FROM plain; END $$', 'untagged INTO STRICT'),
	'', 'SELECT ... INTO STRICT on an untagged table after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO r FROM rec WHERE id = 1; SAVEPOINT s; END $$',
		'SAVEPOINT'),
	'', 'a SAVEPOINT refused after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . 'COPY plain TO STDOUT; END $$', 'COPY TO STDOUT'),
	'', 'a COPY to the client refused after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r text; x int; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . 'SHOW work_mem INTO x; END $$', 'SHOW'),
	'', 'a SHOW whose value its variable cannot take after a read of rec: no FAILURE');
is(failures_of(q{DO $$DECLARE x int; BEGIN EXECUTE 'CALL one_row(NULL)' INTO x; END $$},
		'CALL'),
	'', "a CALL whose row its variable cannot take, the procedure's last statement a read of rec: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE r text; d small; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . 'GET DIAGNOSTICS d = ROW_COUNT; END $$', 'GET DIAGNOSTICS'),
	'', 'GET DIAGNOSTICS failing after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r text; x int; BEGIN SELECT v INTO r FROM rec WHERE id = 1; x := r; END $$',
		'assignment'),
	'', 'an assignment failing after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r record; x int; BEGIN FOR r IN SELECT v FROM rec LOOP '
		  . 'SELECT r.v INTO x; END LOOP; END $$', 'loop body'),
	'', "a loop's body failing to take a value of its query on rec: no FAILURE");
is(failures_of('DO $$DECLARE x int; r text; BEGIN FOR x IN SELECT CASE WHEN g < 11 THEN g::text '
		  . q{ELSE 'abc' END FROM generate_series(1, 11) g LOOP }
		  . 'SELECT v INTO r FROM rec WHERE id = 1; END LOOP; END $$', 'loop rows'),
	'', "a loop's next rows failing after its body read rec: no FAILURE");

# An expression whose query on rec returns two rows, refused as PL/pgSQL
# takes its value (pl_exec.c exec_eval_expr: "query returned more than one
# row", its own context line "query: ..." above PL/pgSQL's "at assignment",
# "at RETURN", "at EXECUTE"): a statement on rec failing as PL/pgSQL takes
# the rows SPI returned it, as a SELECT ... INTO STRICT is (and as the
# client's scalar subquery of two rows is).  Its query's text may run over
# lines of its own; an expression on plain of two rows after a read of rec
# records none (a guard)
my $expr_many = 'READ|cardinality_violation|public.rec|query returned more than one row';
$node->safe_psql('postgres', q{
CREATE FUNCTION returns_v() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN v FROM rec;
END $$;
});
is(failures_of('DO $$DECLARE x text; BEGIN x := v FROM rec; END $$', 'assignment of two rows'),
	$expr_many, 'an assignment of a query on rec returning two rows is one READ FAILURE');
is(failures_of('SELECT returns_v()', 'RETURN of two rows'),
	$expr_many, 'RETURN of a query on rec returning two rows is one READ FAILURE');
is(failures_of('DO $$BEGIN EXECUTE v FROM rec; END $$', 'EXECUTE text of two rows'),
	$expr_many, "EXECUTE of a query text read from rec's two rows is one READ FAILURE");
is(failures_of("DO \$\$DECLARE x text; BEGIN x := v\n  FROM rec\n  WHERE true; END \$\$",
		'assignment of two rows, query of three lines'),
	$expr_many, 'an assignment of a query of three lines on rec returning two rows is one READ FAILURE');
is(failures_of('DO $$DECLARE x text; BEGIN x := v FROM rec WHERE id = 1; x := v FROM plain; END $$',
		'assignment of two rows of plain'),
	'', 'an assignment of a query on plain returning two rows after one on rec: no FAILURE');
is(failures_of('DO $$DECLARE x text; BEGIN x := v FROM rec WHERE id = 1; x := v, id FROM plain; END $$',
		'assignment of two columns of plain'),
	'', 'an assignment of a query on plain of two columns after one on rec: no FAILURE');

# under a translated lc_messages: the PL/pgSQL line read as translated
@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language to translate to (above why): only C checked') if !@langs;
for my $lang (@langs)
{
	is(failures_of("SET lc_messages = '$lang'; "
			  . 'DO $$DECLARE r text; BEGIN SELECT v INTO STRICT r FROM rec; END $$', "$lang: INTO STRICT"),
		$too_many, "$lang: SELECT ... INTO STRICT of two rows is one READ FAILURE");
	is(failures_of("SET lc_messages = '$lang'; "
			  . q{DO $$DECLARE r text; BEGIN EXECUTE 'SELECT v FROM rec' INTO STRICT r; END $$},
			"$lang: EXECUTE INTO STRICT"),
		$too_many, "$lang: EXECUTE ... INTO STRICT of two rows is one READ FAILURE");
}

bh_no_value_recorded($node);

done_testing();
