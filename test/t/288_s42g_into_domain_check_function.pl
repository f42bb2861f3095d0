# A PL/pgSQL SELECT ... INTO (or EXECUTE ... INTO) on a tagged table whose
# target variable is of a domain whose CHECK calls a PL/pgSQL function,
# and that function refuses the value taken from the table (RAISE, or a
# cast in it failing), fails as PL/pgSQL takes the rows SPI returned it:
# read-capture.md says such a statement is its own FAILURE ("a value that
# the target variable's type or its domain's check cannot take (also a
# domain check's function ...)"), and the same cast to the domain in the
# client's statement is one.  Found: nothing is recorded, because the
# error is raised under the check function's own PL/pgSQL frame, which is
# not the frame that ran the statement through SPI (capture_failure_spi.c
# bh_rows_failed: bh_context_mark_is_top / bh_context_plpgsql_rows demand
# that frame innermost).  Controls: a domain whose CHECK is an expression
# (or an inlined SQL function) is recorded; the client's cast is.
# Fixed: the rows a frame under the innermost one is taking are noted
# apart (capture_failure_spi.c bh_rows_taking_under, capture_failure.c
# bh_taking) and recorded if the error leaves that statement.  Guards
# below: a handler in the check function catching the error (nothing) or
# not matching it (the FAILURE), an untagged statement's rows (nothing),
# the check function's own statement failing (its events, then the
# outer READ FAILURE), the client's statement failing with it (once per
# table).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_rec_node('into_domain_check_function');
bh_digits_function($node, 'digits_raise');
$node->safe_psql('postgres', q{
CREATE FUNCTION positive_cast(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN x::int > 0;
END $$;
CREATE DOMAIN d_raise AS text CHECK (digits_raise(VALUE));
CREATE DOMAIN d_cast AS text CHECK (positive_cast(VALUE));
CREATE DOMAIN d_expr AS text CHECK (VALUE::int > 0);
});

sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

# controls
is(failures_of('SELECT v::d_raise FROM rec WHERE id = 1', 'client cast, RAISE'),
	'READ|raise_exception|public.rec|raise_exception',
	"control: the client's cast to the domain whose check function raises is one READ FAILURE");
is(failures_of('SELECT v::d_cast FROM rec WHERE id = 1', 'client cast, cast'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"control: the client's cast to the domain whose check function's cast fails is one READ FAILURE");
is(failures_of('DO $$DECLARE x d_expr; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, expression check'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"control: SELECT ... INTO a domain whose check expression fails is one READ FAILURE");

# the findings
is(failures_of('DO $$DECLARE x d_raise; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, check function raises'),
	'READ|raise_exception|public.rec|raise_exception',
	'SELECT ... INTO a domain whose check function raises is one READ FAILURE');
is(failures_of('DO $$DECLARE x d_cast; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, check function cast'),
	'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"SELECT ... INTO a domain whose check function's cast fails is one READ FAILURE");
is(failures_of(q{DO $$DECLARE x d_raise; BEGIN EXECUTE 'SELECT v FROM rec WHERE id = 1' INTO x; END $$},
		'EXECUTE INTO, check function raises'),
	'READ|raise_exception|public.rec|raise_exception',
	'EXECUTE ... INTO a domain whose check function raises is one READ FAILURE');
is(failures_of(q{DO $$DECLARE x d_raise; BEGIN
    BEGIN SELECT v INTO x FROM rec WHERE id = 1; EXCEPTION WHEN raise_exception THEN NULL; END;
END $$}, 'INTO caught, check function raises', 1),
	'READ|raise_exception|public.rec|raise_exception',
	'caught in an exception block: still its READ FAILURE (as for the other INTO failures)');

# Guards.  A handler in the check function that catches its error: the
# statement goes on and takes the value, no FAILURE; one whose condition
# does not match throws it on: the statement's FAILURE.  A check function
# reading rec (and raising) as PL/pgSQL takes a value of an untagged
# table: nothing (t/253 too).  A statement of a function whose rows
# PL/pgSQL takes fails too when the error leaves the function into the
# client's statement: one FAILURE of rec for both.
$node->safe_psql('postgres', q{
CREATE TABLE other (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('other', 'ClinicalRecord', 'id', 'patient_id');
INSERT INTO other VALUES (1, 'pat_1', 'PHI_TOKEN_K3Q9'), (2, 'pat_2', 'PHI_TOKEN_K3Q9');
CREATE TABLE plain2 (id int PRIMARY KEY, v text);
INSERT INTO plain2 VALUES (1, 'abc');
CREATE FUNCTION digits_caught(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN digits_raise(x);
EXCEPTION WHEN raise_exception THEN
    RETURN true;
END $$;
CREATE DOMAIN d_caught AS text CHECK (digits_caught(VALUE));
CREATE FUNCTION digits_not_caught(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN digits_raise(x);
EXCEPTION WHEN division_by_zero THEN
    RETURN true;
END $$;
CREATE DOMAIN d_not_caught AS text CHECK (digits_not_caught(VALUE));
CREATE FUNCTION reads_rec_raises(x text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT v INTO r FROM rec WHERE id = 1;
    RAISE EXCEPTION 'refused %', x;
END $$;
CREATE DOMAIN d_reads_rec AS text CHECK (reads_rec_raises(VALUE));
-- the check function's own statement on other fails: as PL/pgSQL takes
-- its rows (two rows, STRICT), or in its executor (a cast)
CREATE FUNCTION other_strict(x text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    IF x IS NULL THEN RETURN true; END IF;   -- the variable's initial value
    SELECT v INTO STRICT r FROM other;
    RETURN true;
END $$;
CREATE DOMAIN d_other_strict AS text CHECK (other_strict(VALUE));
CREATE FUNCTION other_cast(x text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    IF x IS NULL THEN RETURN true; END IF;
    SELECT count(*) INTO n FROM other WHERE v::int > 0;
    RETURN true;
END $$;
CREATE DOMAIN d_other_cast AS text CHECK (other_cast(VALUE));
CREATE FUNCTION rec_cast(x text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    IF x IS NULL THEN RETURN true; END IF;
    SELECT count(*) INTO n FROM rec WHERE v::int > 0;
    RETURN true;
END $$;
CREATE DOMAIN d_rec_cast AS text CHECK (rec_cast(VALUE));
CREATE FUNCTION into_raise(i int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE x d_raise;
BEGIN
    SELECT v INTO x FROM rec WHERE id = i;
    RETURN x;
END $$;
});

is(failures_of('DO $$DECLARE x d_caught; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, caught in the check function', 1),
	'', 'the check function catching its error: the statement goes on, no FAILURE');
is(failures_of('DO $$DECLARE x d_not_caught; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, not caught in the check function'),
	'READ|raise_exception|public.rec|raise_exception',
	"the check function's handler not matching: one READ FAILURE");
is(failures_of('DO $$DECLARE x d_reads_rec; BEGIN SELECT v INTO x FROM plain2 WHERE id = 1; END $$',
		'INTO of plain2, the check function reads rec'),
	'', 'a check function reading rec and raising as PL/pgSQL takes a value of an untagged table: '
	  . 'no FAILURE');
is(failures_of('DO $$DECLARE x d_other_strict; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		"INTO, the check function's INTO STRICT fails"),
	"READ|too_many_rows|public.other|query returned more than one row\n"
	  . 'READ|too_many_rows|public.rec|query returned more than one row',
	"the check function's own SELECT ... INTO STRICT on other failing: its READ FAILURE of other, "
	  . 'then the READ FAILURE of rec');
is(failures_of('DO $$DECLARE x d_other_cast; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		"INTO, the check function's query fails"),
	"READ|invalid_text_representation|public.other|invalid input syntax for type integer: \"\"\n"
	  . 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"the check function's own query on other failing in its executor: its READ FAILURE of other, "
	  . 'then the READ FAILURE of rec');
is(failures_of('DO $$DECLARE x d_rec_cast; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		"INTO, the check function's query on rec fails"),
	"READ|invalid_text_representation|public.rec|invalid input syntax for type integer: \"\"\n"
	  . 'READ|invalid_text_representation|public.rec|invalid input syntax for type integer: ""',
	"the check function's own query on rec failing in its executor: its READ FAILURE, "
	  . "then the READ FAILURE of the statement whose rows were being taken (two statements)");
is(failures_of('SELECT into_raise(id) FROM rec WHERE id = 1', "client's statement on rec"),
	'READ|raise_exception|public.rec|raise_exception',
	"the function's SELECT ... INTO failing into the client's statement on rec: one READ FAILURE of rec");
is(failures_of('SELECT into_raise(1) FROM plain2', "client's statement on plain2"),
	'READ|raise_exception|public.rec|raise_exception',
	"the function's SELECT ... INTO failing into the client's statement on plain2: its READ FAILURE");

bh_no_value_recorded($node);
$node->stop;
done_testing();
