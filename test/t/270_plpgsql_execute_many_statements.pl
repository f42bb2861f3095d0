# An EXECUTE whose query string holds several statements runs them all in
# one SPI call; PL/pgSQL takes the rows of the last one only (SPI's
# latest).  A statement on rec before it ended its executor in that call,
# but capture_failure_spi.c keeps only the last statement of the call's
# text with the rows SPI returns: an INTO STRICT finding two rows of plain,
# or none, or a value of SHOW that the variable cannot take, is no FAILURE
# of rec (a READ, or an UPDATE for a write); rec's statement was over and
# its rows are not those PL/pgSQL takes.  The client's own string of the
# same statements records none (a control), nor does the same EXECUTE
# without the statement on rec.  And the other way round (a guard): the
# last statement's rows being rec's, their failure is rec's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('plpgsql_execute_many_statements');
$node->safe_psql('postgres', bh_rec_and_plain());

sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

# runs the query string q with EXECUTE ... INTO (of a variable of type t)
sub execute_into
{
	my ($q, $into, $type) = @_;
	$type //= 'text';
	return "DO \$\$DECLARE r $type; BEGIN EXECUTE '$q' INTO $into r; END \$\$";
}

# controls
is(failures_of('SELECT v FROM rec WHERE id = 1; SELECT v::int FROM plain', 'client, two statements'),
	'', "the client's string of a read of rec and a statement on plain failing: no FAILURE");
is(failures_of(execute_into('SELECT v FROM plain', 'STRICT'), 'EXECUTE, plain alone'),
	'', 'EXECUTE ... INTO STRICT of two rows of plain: no FAILURE');

# the statement on rec first, the failing rows plain's
is(failures_of(execute_into('SELECT v FROM rec WHERE id = 1; SELECT v FROM plain', 'STRICT'),
		'EXECUTE, read of rec then plain'),
	'', 'EXECUTE of a read of rec, then of plain, INTO STRICT of its two rows: no FAILURE');
is(failures_of(execute_into('SELECT v FROM rec LIMIT 0; SELECT v FROM plain', 'STRICT'),
		'EXECUTE, read of no row of rec then plain'),
	'', 'EXECUTE of a read of no row of rec, then of plain, INTO STRICT of its two rows: no FAILURE');
is(failures_of(execute_into('SELECT v FROM rec WHERE id = 1; SELECT v FROM plain WHERE false', 'STRICT'),
		'EXECUTE, read of rec then no row of plain'),
	'', 'EXECUTE of a read of rec, then of plain, INTO STRICT of no row: no FAILURE');
is(failures_of(execute_into('UPDATE rec SET v = v WHERE id = 1; SELECT v FROM plain', 'STRICT'),
		'EXECUTE, update of rec then plain'),
	'', 'EXECUTE of an UPDATE of rec, then a read of plain, INTO STRICT of its two rows: no FAILURE');
is(failures_of(execute_into('SELECT v FROM rec WHERE id = 1; SHOW work_mem', '', 'int'),
		'EXECUTE, read of rec then SHOW'),
	'', 'EXECUTE of a read of rec, then SHOW, INTO an int that cannot take its value: no FAILURE');

# A statement SPI refuses to run (SAVEPOINT, COPY to the client) after a
# read of rec in the same string: SPI stops there and returns the read's
# rows as its latest (spi.c _SPI_execute_plan, "goto fail"); PL/pgSQL
# takes none of them, it refuses the statement ("EXECUTE of transaction
# commands is not implemented", "cannot COPY to/from client in
# PL/pgSQL"): no READ FAILURE of rec, the read not being the text's last
# statement (read-capture.md: "a SAVEPOINT or a COPY ... TO STDOUT that SPI
# refuses to run" records none).  Controls: the same refusals alone.
is(failures_of(q{DO $$BEGIN EXECUTE 'SAVEPOINT s'; END $$}, 'EXECUTE, SAVEPOINT alone'),
	'', 'EXECUTE of a SAVEPOINT: no FAILURE');
is(failures_of(q{DO $$BEGIN EXECUTE 'COPY plain TO STDOUT'; END $$}, 'EXECUTE, COPY alone'),
	'', 'EXECUTE of a COPY to the client: no FAILURE');
is(failures_of(q{DO $$BEGIN EXECUTE 'SELECT v FROM rec WHERE id = 1; SAVEPOINT s'; END $$},
		'EXECUTE, read of rec then SAVEPOINT'),
	'', 'EXECUTE of a read of rec, then a SAVEPOINT that SPI refuses: no FAILURE');
is(failures_of(q{DO $$BEGIN EXECUTE 'SELECT v FROM rec WHERE id = 1; COPY plain TO STDOUT'; END $$},
		'EXECUTE, read of rec then COPY'),
	'', 'EXECUTE of a read of rec, then a COPY to the client that SPI refuses: no FAILURE');

# guard: the last statement's rows are rec's
is(failures_of(execute_into('SELECT v FROM plain WHERE false; SELECT v FROM rec', 'STRICT'),
		'EXECUTE, plain then rec'),
	'READ|too_many_rows|public.rec|query returned more than one row',
	'EXECUTE of a read of plain, then of rec, INTO STRICT of its two rows: READ FAILURE');

bh_no_value_recorded($node);

done_testing();
