# A PL/pgSQL SELECT ... INTO on a tagged table whose target's domain CHECK
# calls a function that raises, and catches its own error in a handler,
# goes on: no FAILURE (read-capture.md, t/288).  The error watch's note of
# that statement (capture_failure.c bh_taking) is forgotten when PL/pgSQL
# releases the rows or at any new error (bh_note_taking), also a FATAL
# one that fails no statement: where the session is ended by
# pg_terminate_backend() while the check function runs after its handler
# caught the error, the abort as the process exits records nothing (it
# recorded the caught error as the statement's READ FAILURE: 2 of 11
# checks failed).  read-capture.md: a session ended by
# pg_terminate_backend() is no failed statement; the same FATAL after the
# same caught error in the client's statement on rec records nothing
# (control below).  Guard: the check function's error raised as FATAL by
# exit_on_error does fail the statement.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_rec_node('fatal_after_caught_check_error');
bh_digits_function($node, 'digits_raise');
$node->safe_psql('postgres', q{
-- catches the error, then the session is ended (as by another session's
-- pg_terminate_backend(): the FATAL comes at the next interrupt check)
CREATE FUNCTION caught_then_ended(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN digits_raise(x);
EXCEPTION WHEN raise_exception THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
    RETURN true;
END $$;
CREATE DOMAIN d_caught_then_ended AS text CHECK (caught_then_ended(VALUE));
-- ended without an error before
CREATE FUNCTION ended(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF x IS NULL THEN RETURN true; END IF;
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
    RETURN true;
END $$;
CREATE DOMAIN d_ended AS text CHECK (ended(VALUE));
});

sub failures_of
{
	my ($sql, $name) = @_;
	return bh_statement_failures($node, $sql, $name);
}

# controls
is(failures_of('DO $$DECLARE x d_ended; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, the check function ended'),
	'', 'control: the session ended in the check function as PL/pgSQL takes rec\'s rows: no FAILURE');
is(failures_of('SELECT caught_then_ended(v) FROM rec WHERE id = 1',
		"client's statement on rec, ended after a caught error"),
	'', "control: the client's statement on rec ended after the function caught its error: no FAILURE");

# the findings
is(failures_of('DO $$DECLARE x d_caught_then_ended; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, ended after the check function caught its error'),
	'', 'the session ended after the check function caught its error: no FAILURE (the caught error '
	  . 'is not recorded as the exit aborts the transaction)');
is(failures_of(q{DO $$DECLARE x d_caught_then_ended; BEGIN
    BEGIN SELECT v INTO x FROM rec WHERE id = 1; EXCEPTION WHEN others THEN NULL; END;
END $$}, 'INTO in an exception block, ended after the check function caught its error'),
	'', 'in an exception block: no FAILURE either (the exit aborting the subtransaction)');

# guard: an error that exit_on_error raises as FATAL fails the statement
# (read-capture.md): the check function's error ending the session so is
# rec's READ FAILURE, recorded as the process exits
$node->safe_psql('postgres', q{
CREATE DOMAIN d_raise AS text CHECK (digits_raise(VALUE));
});
is(failures_of('SET exit_on_error = on; DO $$DECLARE x d_raise; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO under exit_on_error, the check function raising'),
	'READ|raise_exception|public.rec|raise_exception',
	'guard: the check function\'s error raised as FATAL by exit_on_error: rec\'s READ FAILURE');

bh_no_value_recorded($node);
$node->stop;
done_testing();
