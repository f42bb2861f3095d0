# A statement that fails while a scan of a tagged table evaluates a row
# (its filter or its output columns) may show that row's values in the
# error sent to the client: the row's patient is read.  Only errors that
# PostgreSQL raises to stop a statement (a cancel, a deadlock, a lock not
# obtained...) show no row.  Class 42 and 58 errors are raised from values
# (casts to the reg* types, tsquery syntax, current_setting(),
# pg_read_file()); a function's RAISE may give its message any code; and
# set_config() names the parameter it was given in 55P02.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('failure_row_exempt_classes');
$node->safe_psql('postgres', q{
CREATE SCHEMA t;
CREATE TABLE t.pat (id text PRIMARY KEY, name text, ssn text);
INSERT INTO t.pat VALUES ('p1', 'Alice', '111-11-1111'), ('p2', 'Bob', '222-22-2222'),
  ('p3', 'Carol', '333-33-3333'), ('p4', 'Dan', '444-44-4444'), ('p5', 'Eve', '555-55-5555'),
  ('p6', 'port', '666-66-6666');
SELECT bh_audit.tag_table('t.pat', 'Patient', 'id', 'id', capture_writes => false);
CREATE ROLE reader LOGIN;
GRANT USAGE ON SCHEMA t TO reader;
GRANT SELECT ON t.pat TO reader;
});

# The statement's error, and the patients its events name.  With
# cancel => 1, sql ends in a statement calling pg_sleep(), cancelled once
# it sleeps (bh_cancel_waiting).
sub run
{
	my ($sql, %opt) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my $err;
	if ($opt{cancel})
	{
		(undef, $err) = bh_cancel_waiting($node, 'postgres', $sql);
	}
	else
	{
		(undef, undef, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
	}
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $ev = $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(coalesce(patient_id, '-') || ' ' || outcome, ', ' ORDER BY seq), '')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Patient' AND action = 'READ'});
	$err =~ s/^.*?ERROR:\s+//s;
	$err =~ s/\n.*//s;
	return ($err, $ev);
}

my @cases = (
	# the control: a data exception (class 22) reads the row
	[ q{SELECT ssn::int FROM t.pat WHERE id = 'p1'}, qr/"111-11-1111"/, 'p1' ],
	# class 42 from a value (undefined_table, undefined_object, syntax_error)
	[ q{SELECT ssn::regclass FROM t.pat WHERE id = 'p2'}, qr/"222-22-2222"/, 'p2' ],
	[ q{SELECT count(*) FROM t.pat WHERE id = 'p3' AND name::regtype IS NOT NULL}, qr/"carol"/, 'p3' ],
	[ q{SELECT (name || ' Smith')::tsquery FROM t.pat WHERE id = 'p4'}, qr/"Dan Smith"/, 'p4' ],
	[ q{SELECT current_setting('x.' || name) FROM t.pat WHERE id = 'p5'}, qr/"x\.Eve"/, 'p5' ],
	# a RAISE choosing a code of an exempt class (serialization_failure, 40001)
	[ q{CREATE FUNCTION pg_temp.leak(v text) RETURNS text LANGUAGE plpgsql AS
	      $$ BEGIN RAISE EXCEPTION 'got %', v USING ERRCODE = 'serialization_failure'; END $$;
	    SELECT pg_temp.leak(ssn) FROM t.pat WHERE id = 'p3'}, qr/got 333-33-3333/, 'p3' ],
	# a RAISE choosing the code of a cancel
	[ q{CREATE FUNCTION pg_temp.leak2(v text) RETURNS text LANGUAGE plpgsql AS
	      $$ BEGIN RAISE EXCEPTION 'got %', v USING ERRCODE = 'query_canceled'; END $$;
	    SELECT pg_temp.leak2(ssn) FROM t.pat WHERE id = 'p4'}, qr/got 444-44-4444/, 'p4' ],
	# a run-time parameter refused (55P02) names the value given
	[ q{SELECT set_config(name, '1', true) FROM t.pat WHERE id = 'p6'}, qr/"port"/, 'p6' ],
);

for my $role ('postgres', 'reader')
{
	for my $c (@cases)
	{
		my ($sql, $shown, $pat) = @$c;
		my ($err, $ev) = run("SET ROLE $role; $sql");
		like($err, $shown, "$role: the client is shown the row's value: $sql");
		like($ev, qr/(^|, )$pat SUCCESS(,|$)/,
			"$role: the row shown in the error is read ($pat): $sql [events: $ev]");
	}
}

# class 58 from a value (a role with pg_read_server_files)
my ($err, $ev) = run(q{SELECT pg_read_file(name) FROM t.pat WHERE id = 'p5'});
like($err, qr/"Eve"/, 'pg_read_file(): the client is shown the value');
like($ev, qr/(^|, )p5 SUCCESS(,|$)/, "pg_read_file(): the row is read [events: $ev]");

# A refused privilege (42501) prints the object's name, which a row may
# give (nextval(name::regclass)): the row counts.
$node->safe_psql('postgres', 'CREATE SEQUENCE t.seq');
($err, $ev) = run(q{SET ROLE reader; SELECT nextval('t.seq'), name FROM t.pat WHERE id = 'p2'});
like($err, qr/^permission denied for sequence seq$/, 'a refused privilege naming an object');
is($ev, 'p2 SUCCESS, - FAILURE', "a refusal printing a name reads the row [events: $ev]");

# An error that prints no text shows the row all the same when it comes
# from a function the row was given (its CONTEXT names the function; the
# function may have shown the row before: RAISE NOTICE), or from a
# statement a built-in ran (query_to_xml(): the CONTEXT shows its text).
$node->safe_psql('postgres', q{
CREATE FUNCTION public.leak(v text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'leak: %', v; PERFORM lastval(); RETURN v; END $$;
CREATE FUNCTION public.show(v text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'show: %', v; RETURN v; END $$;
ALTER FUNCTION public.leak(text) OWNER TO reader;
ALTER FUNCTION public.show(text) OWNER TO reader;
GRANT UPDATE ON t.pat TO reader;
});
for my $role ('postgres', 'reader')
{
	($err, $ev) = run(qq{SET ROLE $role; SELECT public.leak(ssn) FROM t.pat WHERE id = 'p3'});
	like($err, qr/^lastval is not yet defined in this session$/, "$role: lastval() fails in a function");
	is($ev, 'p3 SUCCESS, - FAILURE', "$role: the function's row is read [events: $ev]");

	($err, $ev) = run(qq{SET ROLE $role;
SELECT query_to_xml('SELECT lastval() /* ' || ssn || ' */', true, false, '')
  FROM t.pat WHERE id = 'p4'});
	like($err, qr/^lastval is not yet defined in this session$/, "$role: lastval() fails in query_to_xml()");
	is($ev, 'p4 SUCCESS, - FAILURE', "$role: the row its CONTEXT shows is read [events: $ev]");

	# the function shows the row and returns; the statement is cancelled
	# after it (as it sleeps), computing the same output row
	($err, $ev) = run(qq{SET ROLE $role;
SELECT public.show(ssn), pg_sleep(5) FROM t.pat WHERE id = 'p5'}, cancel => 1);
	like($err, qr/^canceling statement due to user request$/, "$role: cancelled after a function");
	is($ev, 'p5 SUCCESS, - FAILURE', "$role: the row the function was given is read [events: $ev]");

	# the same in an UPDATE's RETURNING list
	($err, $ev) = run(qq{SET ROLE $role;
UPDATE t.pat SET name = name WHERE id = 'p2' RETURNING public.show(ssn), pg_sleep(5)},
		cancel => 1);
	like($err, qr/^canceling statement due to user request$/, "$role: RETURNING cancelled");
	# (its FAILURE is an UPDATE; a READ without a patient counts the row
	# the UPDATE changed, rows_updated_in_transaction)
	is($ev, 'p2 SUCCESS, - SUCCESS', "$role: the row RETURNING gave the function is read [events: $ev]");
}

# A cancel (57014) while the row's output is computed shows nothing of it:
# the FAILURE only.
($err, $ev) = run(q{SELECT pg_sleep(5), ssn FROM t.pat WHERE id = 'p1'}, cancel => 1);
like($err, qr/^canceling statement due to user request$/, 'a cancel');
is($ev, '- FAILURE', "a cancel reads no row [events: $ev]");

$node->stop;
done_testing();
