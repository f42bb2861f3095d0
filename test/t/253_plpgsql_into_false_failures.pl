# A PL/pgSQL SELECT ... INTO on an untagged table that fails as PL/pgSQL
# takes its rows is no FAILURE of a tagged table that another statement
# read along the way (t/244: the failure of a statement that read the
# tagged table itself).  The statement whose executor ended last
# (capture_failure.c bh_finished in 9372b19) is not always the function's
# statement:
# a domain's check calling a SQL function that reads a tagged table runs
# while PL/pgSQL takes the rows (after SPI returned), and a SQL
# set-returning function cut short by a LIMIT ends its executor inside the
# executor end of the statement that called it, after that statement's.
# The same statements' failures outside PL/pgSQL's taking of rows (a
# PERFORM, the client's statement) record no FAILURE: neither may these.
# And the other way round, a domain check's SQL function reading an
# untagged table hides the failure of a SELECT ... INTO on a tagged one.
# (Then: an EXECUTE failing before its query runs, in a FOR loop whose body
# read the tagged table, taken for the read's failure.  Last: a json or
# jsonb variable refusing a value of the tagged table is missed, its parser
# adding its own innermost context line.)
# Now (capture_failure.c bh_rows_failed) the error is known by the rows
# PL/pgSQL holds, SPI's latest, as those SPI returned of a statement on a
# tagged table run in that call (kept with the rows until they are
# released), under the frame that ran it, innermost: the checks of no
# false FAILURE pass, and so do those of a FAILURE on rec that a domain
# check's function reading plain or the json parser's context line hid
# (plain now).  More guards (after the json ones): a domain check's or a
# cast's function in PL/pgSQL or SQL reading rec, query_to_xml (a core
# function running its query through SPI under the same frame) in a
# domain check, a composite's field, a function of the query, a trigger of
# the statement, a cursor on rec closed by the statement, RAISE (with the
# sqlstate of too many rows), ASSERT, RETURN QUERY, a FETCH, a caught
# failure then another error, a FOR loop's rows fetched one at a time;
# each after or around a read of rec.  And a write given an INTO without
# RETURNING (its refusal after SPI returned no rows is the write's
# FAILURE, t/244) of plain, or of a view doing nothing, or an EXECUTE of
# an empty text, after a write of rec or with a trigger writing rec.  And
# FOR loops and FETCHes failing as they take rows of plain (or a count)
# around those of rec (their own of rec are their FAILUREs, t/281).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('plpgsql_into_false_failures');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
-- a domain whose check looks the value up in rec (not inlined: a sublink)
CREATE FUNCTION known(int) RETURNS bool LANGUAGE sql STABLE
  AS 'SELECT EXISTS (SELECT 1 FROM rec WHERE id = $1)';
CREATE DOMAIN known_id AS int CHECK (VALUE IS NULL OR known(VALUE));
CREATE FUNCTION ids() RETURNS SETOF int LANGUAGE sql AS 'SELECT id FROM rec';
-- a domain whose check looks the value up in plain
CREATE FUNCTION inplain(int) RETURNS bool LANGUAGE sql STABLE
  AS 'SELECT EXISTS (SELECT 1 FROM plain WHERE id = $1)';
CREATE DOMAIN plain_id AS int CHECK (VALUE IS NULL OR inplain(VALUE));
});

# the failures of the statement (it fails, unless $ok), with their messages
sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

# controls: the same failures where PL/pgSQL takes no rows
is(failures_of('DO $$BEGIN PERFORM 3::known_id FROM plain LIMIT 1; END $$', 'domain, PERFORM'),
	'', "a domain check (reading rec) failing in a PERFORM on plain: no FAILURE");
is(failures_of('DO $$DECLARE d known_id; BEGIN d := 3; END $$', 'domain, assignment'),
	'', "a domain check (reading rec) failing in an assignment: no FAILURE");
is(failures_of('SELECT 1/0 FROM plain p, LATERAL (SELECT ids() LIMIT 1) s', 'SRF, client'),
	'', "a client's statement on plain calling ids() failing: no FAILURE");

# the domain's check runs its query after SPI returned the rows of plain
is(failures_of('DO $$DECLARE d known_id; BEGIN SELECT 3 INTO d FROM plain LIMIT 1; END $$',
		'domain, INTO'),
	'', "SELECT ... INTO a domain whose check (reading rec) refuses a value of plain: no FAILURE");
is(failures_of(q{DO $$DECLARE d known_id; BEGIN EXECUTE 'SELECT 3 FROM plain LIMIT 1' INTO d; END $$},
		'domain, EXECUTE INTO'),
	'', "EXECUTE ... INTO a domain whose check (reading rec) refuses a value of plain: no FAILURE");

# ids() cut short ends its executor within the end of the statement on plain
is(failures_of('DO $$DECLARE a text; BEGIN SELECT p.v INTO STRICT a FROM plain p, '
		  . 'LATERAL (SELECT ids() LIMIT 1) s; END $$', 'SRF, INTO STRICT'),
	'', "SELECT ... INTO STRICT of two rows of plain, a function's read of rec cut short: no FAILURE");

# and the other way round: a value of rec that a domain's check (reading
# plain) refuses is rec's READ FAILURE, as in the client's statement and as
# for a domain whose check reads no table (t/244)
my $refused = 'READ|check_violation|public.rec|value for domain plain_id violates check constraint ""';
is(failures_of('SELECT (id + 10)::plain_id FROM rec WHERE id = 1', 'plain domain, client'),
	$refused, "a value of rec refused by a domain check reading plain, the client's statement: READ FAILURE");
is(failures_of('DO $$DECLARE d plain_id; BEGIN SELECT id + 10 INTO d FROM rec WHERE id = 1; END $$',
		'plain domain, INTO'),
	$refused, 'SELECT ... INTO a domain whose check (reading plain) refuses a value of rec: READ FAILURE');
$node->safe_psql('postgres', q{
CREATE FUNCTION inplain_pl(int) RETURNS bool LANGUAGE plpgsql STABLE AS $$
DECLARE x text;
BEGIN
    SELECT v INTO x FROM plain WHERE id = $1;
    RETURN FOUND;
END $$;
CREATE DOMAIN plain_pl_id AS int CHECK (VALUE IS NULL OR inplain_pl(VALUE));
});
is(failures_of('DO $$DECLARE d plain_pl_id; BEGIN SELECT id + 10 INTO d FROM rec WHERE id = 1; END $$',
		'PL/pgSQL plain domain, INTO'),
	'READ|check_violation|public.rec|value for domain plain_pl_id violates check constraint ""',
	'SELECT ... INTO a domain whose check (PL/pgSQL, reading plain through SPI) refuses a value of rec: '
	  . 'READ FAILURE');

# Within a FOR loop over a query, after the body's SELECT ... INTO on rec,
# an error PL/pgSQL raises itself at a later EXECUTE before any query runs
# (a NULL query string, a USING argument that fails) is no statement on
# rec: 9372b19 took a non-NULL SPI_tuptable for "the rows of the statement
# that ended last are being taken", but inside the loop SPI_tuptable is
# not NULL there (the loop's rows) although the SELECT ... INTO's rows
# were taken and released.  Controls: the same statements outside a loop.
# the loop's iteration $at fails with $stmt, each iteration before it read rec
sub loop_failing_at
{
	my ($at, $stmt) = @_;
	return 'DO $$DECLARE r text; q text; x int; d int := 0; BEGIN '
	  . 'FOR x IN SELECT g FROM generate_series(1, 20) g LOOP '
	  . "IF x = $at THEN $stmt; END IF; "
	  . 'SELECT v INTO r FROM rec WHERE id = 1; END LOOP; END $$';
}

# controls: the same, outside a loop
is(failures_of('DO $$DECLARE r text; q text; BEGIN SELECT v INTO r FROM rec WHERE id = 1; EXECUTE q; END $$',
		'NULL query string, no loop'),
	'', 'a NULL query string of EXECUTE after a read of rec, no loop: no FAILURE');
is(failures_of('DO $$DECLARE r text; x int; d int := 0; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . q{EXECUTE 'SELECT $1' INTO x USING 1 / d; END $$}, 'USING argument, no loop'),
	'', 'a USING argument of EXECUTE failing after a read of rec, no loop: no FAILURE');

foreach my $case (['EXECUTE q', 'NULL query string'],
	["EXECUTE 'SELECT \$1' INTO x USING 1 / d", 'USING argument'])
{
	my ($stmt, $what) = @$case;
	is(failures_of(loop_failing_at(5, $stmt), "$what, 5th row"),
		'', "$what failing at the 5th iteration, after reads of rec: no FAILURE");
	is(failures_of(loop_failing_at(11, $stmt), "$what, 11th row"),
		'', "$what failing at the 11th iteration, after reads of rec: no FAILURE");
}

# A value of rec that a json (or jsonb) variable cannot take: the json
# parser adds its own innermost context line ("JSON data, line 1: ...")
# above PL/pgSQL's "at SQL statement" (error_context.c
# bh_context_plpgsql_rows reads it past that line); the client's
# statement records the failure (a control), and so must PL/pgSQL's
my $json = 'READ|invalid_text_representation|public.rec|invalid input syntax for type json';
is(failures_of('SELECT v::json FROM rec WHERE id = 1', 'json, client'),
	$json, "a value of rec that json refuses, the client's statement: READ FAILURE");
foreach my $type ('json', 'jsonb')
{
	is(failures_of("DO \$\$DECLARE d $type; BEGIN SELECT v INTO d FROM rec WHERE id = 1; END \$\$",
			"$type, INTO"),
		$json, "SELECT ... INTO a $type variable that refuses a value of rec: READ FAILURE");
}

# More guards: statements on plain whose rows PL/pgSQL takes, or statements
# after a read of rec, that fail while something else read rec or under
# another statement's line
$node->safe_psql('postgres', q{
-- a domain whose check, in PL/pgSQL, reads rec through SPI (its own frame)
CREATE FUNCTION known_pl(int) RETURNS bool LANGUAGE plpgsql STABLE AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = $1;
    RETURN FOUND;
END $$;
CREATE DOMAIN known_pl_id AS int CHECK (VALUE IS NULL OR known_pl(VALUE));
-- a domain whose check reads rec, then raises with the sqlstate of too many rows
CREATE FUNCTION refuses(int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = 1;
    RAISE EXCEPTION 'refused' USING ERRCODE = 'too_many_rows';
END $$;
CREATE DOMAIN refused_id AS int CHECK (VALUE IS NULL OR refuses(VALUE));
-- a composite whose second field's domain check reads rec
CREATE TYPE pair AS (a int, b known_id);
-- assignment casts to an enum whose function reads rec (SQL, not inlined: a sublink; PL/pgSQL)
CREATE TYPE mood AS ENUM ('seen', 'unseen');
CREATE FUNCTION int_mood(int) RETURNS mood LANGUAGE sql STABLE
  AS $$SELECT CASE WHEN EXISTS (SELECT 1 FROM rec WHERE id = $1) THEN 'seen'::mood ELSE 'unseen'::mood END$$;
CREATE CAST (int AS mood) WITH FUNCTION int_mood(int) AS ASSIGNMENT;
CREATE TYPE mood2 AS ENUM ('seen', 'unseen');
CREATE FUNCTION int_mood2(int) RETURNS mood2 LANGUAGE plpgsql STABLE AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = $1;
    RETURN CASE WHEN FOUND THEN 'seen'::mood2 ELSE 'unseen'::mood2 END;
END $$;
CREATE CAST (int AS mood2) WITH FUNCTION int_mood2(int) AS ASSIGNMENT;
-- a trigger of plain's updates reading rec
CREATE FUNCTION plain_reads_rec() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = 1;
    RETURN NEW;
END $$;
CREATE TRIGGER reads_rec AFTER UPDATE ON plain FOR EACH ROW EXECUTE FUNCTION plain_reads_rec();
-- RETURN QUERY of rec, then a SELECT ... INTO STRICT of two rows of plain
CREATE FUNCTION rec_rows() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    RETURN QUERY SELECT v FROM rec;
    SELECT id INTO STRICT x FROM plain;
END $$;
});

# a function called as PL/pgSQL takes the rows of plain reads rec
is(failures_of('DO $$DECLARE d known_pl_id; BEGIN SELECT 3 INTO d FROM plain LIMIT 1; END $$',
		'PL/pgSQL domain, INTO'),
	'', 'SELECT ... INTO a domain whose check (PL/pgSQL, reading rec) refuses a value of plain: no FAILURE');
is(failures_of('DO $$DECLARE d refused_id; BEGIN SELECT 1 INTO d FROM plain LIMIT 1; END $$',
		'PL/pgSQL domain raising, INTO'),
	'', "SELECT ... INTO a domain whose check reads rec and raises too_many_rows itself: no FAILURE");
is(failures_of('DO $$DECLARE p pair; BEGIN SELECT 1, 3 INTO p FROM plain LIMIT 1; END $$',
		'composite field, INTO'),
	'', "SELECT ... INTO a composite whose field's domain check (reading rec) refuses a value of plain: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE m mood; n int; BEGIN SELECT id, v INTO m, n FROM plain WHERE id = 1; END $$',
		'SQL cast, INTO'),
	'', "SELECT ... INTO of plain failing after an assignment cast's SQL function read rec: no FAILURE");
is(failures_of('DO $$DECLARE m mood2; n int; BEGIN SELECT id, v INTO m, n FROM plain WHERE id = 1; END $$',
		'PL/pgSQL cast, INTO'),
	'', "SELECT ... INTO of plain failing after an assignment cast's PL/pgSQL function read rec: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE r text; BEGIN SELECT p.v INTO STRICT r FROM plain p WHERE known_pl(1); END $$',
		'function of the query'),
	'', "SELECT ... INTO STRICT of two rows of plain, its filter's PL/pgSQL function reading rec: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE x int; BEGIN UPDATE plain SET v = v RETURNING id INTO x; END $$',
		'trigger, RETURNING INTO'),
	'', "UPDATE of plain ... RETURNING ... INTO of two rows, its trigger reading rec: no FAILURE");

# a core function that runs its query through SPI with no frame of its
# own (query_to_xml), called by a domain's check as PL/pgSQL takes a value
# of plain: its query on rec ends under the frame of the function taking
# the rows, as the statement's own did
$node->safe_psql('postgres', q{
CREATE DOMAIN xml_checked AS int
  CHECK (VALUE < 0 OR query_to_xml('SELECT v FROM rec WHERE id = 1', true, false, '') IS NULL);
});
is(failures_of('DO $$DECLARE d xml_checked; BEGIN SELECT 3 INTO d FROM plain LIMIT 1; END $$',
		'query_to_xml domain, INTO'),
	'', "SELECT ... INTO a domain whose check runs query_to_xml on rec, refusing a value of plain: "
	  . 'no FAILURE');

# a cursor on rec closed by the statement that then fails on plain: the
# cursor's executor ends within that statement's SPI call, its rows going
# to SPI (its fetches'), but it read rec at its fetches, not in this call
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT v FROM rec; r text; BEGIN OPEN c; FETCH c INTO r; '
		  . q{EXECUTE 'CLOSE c; SELECT v FROM plain' INTO STRICT r; END $$}, 'cursor closed, INTO STRICT'),
	'', "EXECUTE ... INTO STRICT of two rows of plain closing a cursor on rec first: no FAILURE");

# another statement's failure after a read of rec
is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO r FROM rec WHERE id = 1; '
		  . q{RAISE EXCEPTION 'stop' USING ERRCODE = 'too_many_rows'; END $$}, 'RAISE'),
	'', 'RAISE of too_many_rows right after a read of rec: no FAILURE');
is(failures_of('DO $$DECLARE r text; BEGIN SELECT v INTO r FROM rec WHERE id = 1; ASSERT r IS NULL; END $$',
		'ASSERT'),
	'', 'ASSERT failing right after a read of rec: no FAILURE');
is(failures_of('SELECT * FROM rec_rows()', 'RETURN QUERY'),
	'', 'SELECT ... INTO STRICT of two rows of plain after RETURN QUERY of rec: no FAILURE');
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT v FROM plain; r text; x int; BEGIN '
		  . 'SELECT v INTO r FROM rec WHERE id = 1; OPEN c; FETCH c INTO x; END $$', 'FETCH'),
	'', 'FETCH of plain into a variable that cannot take its value, after a read of rec: no FAILURE');

# after a caught failure of a statement on rec (its FAILURE), a later error
my $caught = 'DO $$DECLARE r text; x int; BEGIN BEGIN SELECT v INTO STRICT r FROM rec; '
  . 'EXCEPTION WHEN too_many_rows THEN NULL; END; ';
my $too_many = 'READ|too_many_rows|public.rec|query returned more than one row';
is(failures_of($caught . 'SELECT id INTO STRICT x FROM plain; END $$', 'caught, then INTO STRICT'),
	$too_many, "a caught failure on rec, then SELECT ... INTO STRICT of two rows of plain: "
	  . "only the caught statement's FAILURE");
is(failures_of($caught . q{RAISE EXCEPTION 'stop' USING ERRCODE = 'too_many_rows'; END $$},
		'caught, then RAISE'),
	$too_many, "a caught failure on rec, then RAISE of too_many_rows: only the caught statement's FAILURE");
is(failures_of($caught . 'SAVEPOINT s; END $$', 'caught, then SAVEPOINT'),
	$too_many, "a caught failure on rec, then a SAVEPOINT refused: only the caught statement's FAILURE");

# A FOR loop of a DO block run outside a transaction block fetches its
# rows one at a time: each iteration starts with the row fetched as SPI's
# latest rows.  The body read rec at the iteration before; an EXECUTE
# failing before its query runs (a USING argument that the integer type
# refuses, as a cast of INTO would) or a statement on plain fails now.
is(failures_of(loop_failing_at(3, q{EXECUTE 'SELECT $1' INTO x USING ('x' || x)::int}),
		'USING argument refused, row by row'),
	'', "a USING argument refused at the 3rd iteration fetched alone, after reads of rec: no FAILURE");
is(failures_of(loop_failing_at(3, q{EXECUTE 'SELECT v FROM plain' INTO STRICT r}),
		'EXECUTE INTO STRICT of plain, row by row'),
	'', "EXECUTE ... INTO STRICT of two rows of plain at the 3rd iteration, after reads of rec: "
	  . 'no FAILURE');
is(failures_of(loop_failing_at(3, 'SELECT v INTO STRICT r FROM plain'),
		'INTO STRICT of plain, row by row'),
	'', "SELECT ... INTO STRICT of two rows of plain at the 3rd iteration, after reads of rec: "
	  . 'no FAILURE');

# a read of rec, then a static OPEN or RETURN QUERY of plain that fails
# (a cursor argument its parameter cannot take; a query whose structure
# is not the function's result): no FAILURE
$node->safe_psql('postgres', q{
CREATE FUNCTION rq_after_read() RETURNS SETOF int LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = 1;
    RETURN QUERY SELECT id, id FROM plain;
END $$;
});
is(failures_of('SELECT * FROM rq_after_read()', 'RETURN QUERY after a read'),
	'', 'RETURN QUERY of plain of the wrong structure after a read of rec: no FAILURE');
is(failures_of(q{DO $$DECLARE r text; c CURSOR (k int) FOR SELECT id FROM plain WHERE id = k;
BEGIN SELECT v INTO r FROM rec WHERE id = 1; OPEN c('x' || r); END $$}, 'OPEN after a read'),
	'', 'OPEN of a cursor on plain whose argument its parameter cannot take, after a read of rec: no FAILURE');

# A write of plain (or nothing) given an INTO without RETURNING, after a
# write of rec without one (SPI returned no rows of either: the refusal,
# "INTO used with a command that cannot return data", is of the statement
# on plain, not of rec's, t/244): no FAILURE.  Also where rec's write is
# a trigger's of plain's, in a FOR loop over rec's rows, an EXECUTE of an
# empty text or of a view whose rule does nothing instead.
$node->safe_psql('postgres', q{
CREATE TABLE plain_w (id int, v text);
INSERT INTO plain_w VALUES (1, 'a');
CREATE FUNCTION plain_w_writes_rec() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rec SET v = v WHERE id = 1;
    EXECUTE 'UPDATE rec SET v = v WHERE id = 2';
    RETURN NEW;
END $$;
CREATE TRIGGER writes_rec AFTER UPDATE ON plain_w FOR EACH ROW EXECUTE FUNCTION plain_w_writes_rec();
CREATE VIEW nothing_v AS SELECT id, v FROM plain;
CREATE RULE nothing_r AS ON UPDATE TO nothing_v DO INSTEAD NOTHING;
});
my $write_rec = 'DO $$DECLARE r int; x int; BEGIN UPDATE rec SET v = v WHERE id = 1; ';
is(failures_of($write_rec . 'UPDATE plain SET v = v WHERE id = 1 INTO r; END $$', 'write INTO of plain'),
	'', "an UPDATE of plain given an INTO without RETURNING after a write of rec: no FAILURE");
is(failures_of($write_rec . q{EXECUTE 'UPDATE plain SET v = v WHERE id = 1' INTO r; END $$},
		'EXECUTE write INTO of plain'),
	'', "EXECUTE of an UPDATE of plain given an INTO after a write of rec: no FAILURE");
is(failures_of($write_rec . q{EXECUTE '' INTO r; END $$}, 'EXECUTE empty INTO'),
	'', "EXECUTE of an empty text given an INTO after a write of rec: no FAILURE");
is(failures_of($write_rec . 'UPDATE nothing_v SET v = v INTO r; END $$', 'write INTO of a view doing nothing'),
	'', "an UPDATE of a view whose rule does nothing instead, given an INTO, after a write of rec: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE r int; BEGIN UPDATE plain_w SET v = v WHERE id = 1 INTO r; END $$',
		'trigger writing rec, INTO'),
	'', "an UPDATE of plain_w given an INTO, its trigger writing rec (also by EXECUTE): no FAILURE");
is(failures_of('DO $$DECLARE r int; x int; BEGIN FOR x IN SELECT id FROM rec LOOP '
		  . 'UPDATE plain SET v = v WHERE id = x INTO r; END LOOP; END $$', 'write INTO in a loop over rec'),
	'', "an UPDATE of plain given an INTO in a FOR loop over rec's rows: no FAILURE");
is(failures_of('DO $$DECLARE r int; BEGIN BEGIN UPDATE rec SET v = v WHERE id = 1 INTO r; '
		  . 'EXCEPTION WHEN syntax_error THEN NULL; END; UPDATE plain SET v = v WHERE id = 1 INTO r; END $$',
		'caught write INTO of rec, then of plain'),
	'UPDATE|syntax_error|public.rec|INTO used with a command that cannot return data',
	"an UPDATE of rec given an INTO, caught, then one of plain: only the caught statement's FAILURE");

# A FOR loop over a query on rec, or a FETCH of a cursor on rec, whose row
# its variable cannot take is that statement's READ FAILURE (t/281); not
# so a caught error of the loop's body, an error of the body's own
# statement on plain (its SELECT ... INTO, a FETCH, a FOR loop over
# plain), a FOR loop over plain after one over rec, a FETCH that fetched
# from a cursor on rec before and now from one on plain (in one function,
# or in a function called again, its frame where the first call's was),
# a FETCH whose count fails, or a loop whose query calls cursor_to_xml() of
# a cursor on rec (fetched under the loop's frame and statement).
$node->safe_psql('postgres', q{
CREATE FUNCTION fetch_int(c refcursor) RETURNS int LANGUAGE plpgsql AS $$
DECLARE x int;
BEGIN
    FETCH c INTO x;
    RETURN x;
END $$;
});
my $loop_rec = 'DO $$DECLARE x int; y int; c CURSOR FOR SELECT v FROM plain; BEGIN '
  . 'FOR x IN SELECT id FROM rec ORDER BY id LOOP ';
is(failures_of($loop_rec . 'BEGIN y := 1 / 0; EXCEPTION WHEN division_by_zero THEN NULL; END; '
		  . 'END LOOP; END $$', 'loop over rec, caught error in its body', 1),
	'', "a FOR loop over rec whose body's error is caught: no FAILURE");
is(failures_of($loop_rec . 'SELECT v INTO y FROM plain WHERE id = x; END LOOP; END $$',
		'loop over rec, INTO of plain'),
	'', "a FOR loop over rec whose body's SELECT ... INTO of plain fails: no FAILURE");
is(failures_of($loop_rec . 'OPEN c; FETCH c INTO y; END LOOP; END $$', 'loop over rec, FETCH of plain'),
	'', "a FOR loop over rec whose body's FETCH of plain fails: no FAILURE");
is(failures_of($loop_rec . 'FOR y IN SELECT v FROM plain LOOP END LOOP; END LOOP; END $$',
		'loop over rec, loop over plain'),
	'', "a FOR loop over rec whose body's FOR loop over plain fails: no FAILURE");
is(failures_of('DO $$DECLARE x int; BEGIN FOR x IN SELECT id FROM rec LOOP END LOOP; '
		  . 'FOR x IN SELECT v FROM plain LOOP END LOOP; END $$', 'loop over plain after one over rec'),
	'', "a FOR loop over plain failing after one over rec: no FAILURE");
is(failures_of('DO $$DECLARE a refcursor; b refcursor; c refcursor; x int; BEGIN '
		  . 'OPEN a FOR SELECT id FROM rec; OPEN b FOR SELECT v FROM plain; '
		  . 'FOR i IN 1..2 LOOP IF i = 1 THEN c := a; ELSE c := b; END IF; FETCH c INTO x; END LOOP; END $$',
		'one FETCH, of rec then of plain'),
	'', "one FETCH of a cursor on rec, then of one on plain that fails: no FAILURE");
is(failures_of('DO $$DECLARE a refcursor; b refcursor; BEGIN '
		  . 'OPEN a FOR SELECT id FROM rec; OPEN b FOR SELECT v FROM plain; '
		  . 'PERFORM fetch_int(a); PERFORM fetch_int(b); END $$', 'a function fetching rec, then plain'),
	'', "a function's FETCH of a cursor on rec, then in its next call of one on plain that fails: "
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT id FROM rec; x int; d int := 0; BEGIN '
		  . 'OPEN c; FETCH c INTO x; FETCH RELATIVE 1 / d FROM c INTO x; END $$', 'FETCH count failing'),
	'', "a FETCH whose count fails, after a FETCH of a cursor on rec: no FAILURE");
is(failures_of('DO $$DECLARE c CURSOR FOR SELECT v FROM rec; x int; BEGIN OPEN c; '
		  . q{FOR x IN SELECT length(cursor_to_xml(c, 1, false, false, ''))::text || 'x' LOOP END LOOP; }
		  . 'END $$', 'loop calling cursor_to_xml of rec'),
	'', "a FOR loop whose row fails, its query calling cursor_to_xml() of a cursor on rec: no FAILURE");

bh_no_value_recorded($node);

done_testing();
