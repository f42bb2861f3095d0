# The error watch reads the statements' texts in an error's context in one
# walk (BhContextScan, bh_context_statement_next in error_context.c):
# under lc_messages = C as before that walk, and under translations (fr,
# de, ja, zh_CN), an error in a statement reading a tagged table is its
# READ FAILURE, once: nested PL/pgSQL and SQL functions, PL/pgSQL
# expressions, DO blocks, EXECUTE, multi-line statements, statement texts
# holding the context formats' own words, quotes and newlines.  A
# statement's own failure is recorded whether or not an exception block
# catches it (read-capture.md, "Errors a function catches"); an error
# raised in what it calls and caught there is none:
#  - also under ja_JP where the catching PL/pgSQL function's name is
#    quoted ("SafeDiv", any name not in lower-case ASCII: a Japanese one):
#    its frame, PL/pgSQL関数"SafeDiv"(integer)の3行目 - RETURN, holds
#    SQL関数" (Japanese for PostgreSQL's "SQL expression \"%s\"") and must
#    not be read as an expression running on to the statement line below;
#  - also where the statement's text (on an untagged table, in a function
#    the transaction's earlier read of the tagged table) holds a string
#    literal beginning with '"' and a new line, then a line of its own
#    SQL statement "SELECT * FROM notes": the statement's text is the whole
#    literal, not a statement line of the tagged table (caught below it,
#    or not caught: the failure of a statement on an untagged table).
#    Also in a dollar-quoted literal, after an escaped quote (E'it\'s) and
#    in a block comment; a text ending with a quoted identifier ends there
#    (error_context.c, bh_statement_end_lexed).
#  - the walk stays linear in the context's length under ja_JP too: a
#    statement text (1.6 MB) holding SQL関数"x"の行番号 1 80,000 times, each
#    taken for a SQL function's frame (bh_context_function_frame looks for
#    the end of the line from each: quadratic), costs less than three times
#    the same error under lc_messages = C (best of three, + 20 ms).
# A language is left out, loudly (diag), only where its locale cannot be
# made (bh_locale).  BH_ONLY_C=1 runs lc_messages = C only.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @langs = ([ 'C', 'C' ]);
for my $lang ($ENV{BH_ONLY_C} ? () : qw(fr_FR de_DE ja_JP zh_CN))
{
	my $locale = bh_locale("$lang.UTF-8");
	push @langs, [ $locale, $lang ] if defined $locale;
}

my $node = bh_notes_c_node('context_scan');
$node->safe_psql('postgres', q{
CREATE FUNCTION inner_read(d int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE note_id / d = 1;
    RETURN n;
END $$;
CREATE FUNCTION outer_read(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN inner_read(d);
END $$;
CREATE FUNCTION outer_caught(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN inner_read(d);
EXCEPTION WHEN division_by_zero THEN
    RETURN -1;
END $$;
CREATE FUNCTION words_read(d int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM notes
     WHERE patient_id <> E'x\nPL/pgSQL function y line 3 at RETURN\nSQL statement "SELECT 1"\n'
       AND patient_id <> 'SQL expression "'
       AND note_id / d = 1;
    RETURN n;
END $$;
CREATE FUNCTION words_caught(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN words_read(d);
EXCEPTION WHEN division_by_zero THEN
    RETURN -1;
END $$;
CREATE FUNCTION sql_read(d int) RETURNS bigint LANGUAGE sql AS
  'SELECT 1; SELECT count(*) FROM notes WHERE note_id / d = 1';
CREATE FUNCTION sql_caught(d int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN sql_read(d);
EXCEPTION WHEN division_by_zero THEN
    RETURN -1;
END $$;
CREATE FUNCTION expr_read(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM notes WHERE note_id / d = 1) > 0 THEN
        RETURN 1;
    END IF;
    RETURN 0;
END $$;
CREATE FUNCTION expr_caught(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN expr_read(d);
EXCEPTION WHEN division_by_zero THEN
    RETURN -1;
END $$;
CREATE FUNCTION helper_div(a int) RETURNS int LANGUAGE sql AS 'SELECT 1; SELECT 10 / a';
CREATE FUNCTION safe_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN helper_div(a);
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE TABLE scratch (x int);
INSERT INTO scratch VALUES (1);
CREATE FUNCTION fooled_div(a int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM scratch
     WHERE E'x"\nSQL statement "SELECT * FROM notes"\nPL/pgSQL function f() line 1 at SQL statement' <> ''
       AND 10 / a = 1;
    RETURN n;
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION read_fooled() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE coalesce(fooled_div(0), 1) = 1;
    RETURN n;
END $$;
CREATE FUNCTION plain_div(a int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM scratch WHERE 10 / a = 1;
    RETURN n;
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION read_plain() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE coalesce(plain_div(0), 1) = 1;
    RETURN n;
END $$;
CREATE FUNCTION assign_div(a int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    n := 10 / a;
    RETURN n;
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION quoting_wrapper() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM scratch WHERE x <> length('"
SQL statement "SELECT * FROM notes"
') AND coalesce(plain_div(0), 1) = 1;
    RETURN n;
END $$;
CREATE FUNCTION quoting_wrapper_fn() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM scratch WHERE x <> length('x
PL/pgSQL function f() line 2 at SQL statement
SQL statement "SELECT * FROM notes"
') AND coalesce(plain_div(0), 1) = 1;
    RETURN n;
END $$;
CREATE FUNCTION raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
CREATE FUNCTION quoting_uncaught() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM scratch WHERE x <> length('"
SQL statement "SELECT * FROM notes"
') AND raw_div(0) = 1;
    RETURN n;
END $$;
CREATE FUNCTION ident_read(d int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE note_id / d = 1 AND '' <> "patient_id";
    RETURN n;
END $$;
CREATE FUNCTION ident_caught(d int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ident_read(d);
    RETURN 0;
EXCEPTION WHEN division_by_zero THEN
    RETURN -1;
END $$;
CREATE FUNCTION "SafeDiv"(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION "SafeSql"(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN helper_div(a);
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION add_note_quoted(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notes VALUES (n, "SafeDiv"(0)::text);
END $$;
CREATE FUNCTION add_note_quoted_sql(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notes VALUES (n, "SafeSql"(0)::text);
END $$;
CREATE FUNCTION read_quoted() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE coalesce("SafeDiv"(0), 1) = 1;
    RETURN n;
END $$;
CREATE FUNCTION read_safe() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM notes
     WHERE coalesce(safe_div(0), 1) = 1 AND patient_id <> E'SQL function "helper_div" statement 2\n';
    RETURN n;
END $$;
});
# quoting_uncaught's statement line in a dollar-quoted literal, after an
# escaped quote, in a block comment
my %quoting = (
	quoting_dollar => q{length($q$"
SQL statement "SELECT * FROM notes"
$q$)},
	quoting_escape => q{length(E'it\'s "
SQL statement "SELECT * FROM notes"
')},
	quoting_comment => q{0 /* it's "
SQL statement "SELECT * FROM notes"
*/});
$node->safe_psql('postgres', join '', map { qq{
CREATE FUNCTION $_() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM scratch WHERE x <> $quoting{$_} AND raw_div(0) = 1;
    RETURN n;
END \$\$;} } sort keys %quoting);

# client statement => does it leave a READ FAILURE of notes?
my @cases = (
	[ 'nested PL/pgSQL, uncaught', 'SELECT outer_read(0)', 1 ],
	[ 'nested PL/pgSQL, caught (its statement failed)', 'SELECT outer_caught(0)', 1 ],
	[ 'format words in the statement, uncaught', 'SELECT words_read(0)', 1 ],
	[ 'format words in the statement, caught (its statement failed)', 'SELECT words_caught(0)', 1 ],
	[ 'SQL function, uncaught', 'SELECT sql_read(0)', 1 ],
	[ 'SQL function, caught (its statement failed)', 'SELECT sql_caught(0)', 1 ],
	[ 'PL/pgSQL expression, uncaught', 'SELECT expr_read(0)', 1 ],
	[ 'PL/pgSQL expression, caught (its statement failed)', 'SELECT expr_caught(0)', 1 ],
	[ 'caught in a SQL function called by a read', 'SELECT read_safe()', 0 ],
	[ 'caught in a PL/pgSQL function called by a read', 'SELECT read_plain()', 0 ],
	[ 'client read calling a PL/pgSQL function whose statement fails, caught',
	  'SELECT count(*) FROM notes WHERE coalesce(plain_div(0), 1) = 1', 0 ],
	[ 'client read calling a PL/pgSQL function whose assignment fails, caught',
	  'SELECT count(*) FROM notes WHERE coalesce(assign_div(0), 1) = 1', 0 ],
	[ 'caught below a statement of an untagged table quoting a statement line of a tagged one',
	  'SELECT quoting_wrapper()', 0 ],
	[ 'caught below a statement of an untagged table quoting a function and a statement line',
	  'SELECT quoting_wrapper_fn()', 0 ],
	[ 'uncaught below a statement of an untagged table quoting a statement line of a tagged one',
	  'SELECT quoting_uncaught()', 0 ],
	[ 'uncaught below a statement of an untagged table quoting a statement line in a dollar-quoted literal',
	  'SELECT quoting_dollar()', 0 ],
	[ 'uncaught below a statement of an untagged table quoting a statement line after an escaped quote',
	  'SELECT quoting_escape()', 0 ],
	[ 'uncaught below a statement of an untagged table quoting a statement line in a comment',
	  'SELECT quoting_comment()', 0 ],
	[ 'a statement ending with a quoted identifier, caught (its statement failed)',
	  'SELECT ident_caught(0)', 1 ],
	[ 'caught in a PL/pgSQL function of a quoted name called by an INSERT',
	  'SELECT add_note_quoted((random() * 1e9)::int + 10)', 0 ],
	[ 'caught in a PL/pgSQL function of a quoted name calling a SQL function, called by an INSERT',
	  'SELECT add_note_quoted_sql((random() * 1e9)::int + 10)', 0 ],
	[ 'caught in a PL/pgSQL function of a quoted name called by a read',
	  'SELECT read_quoted()', 0 ],
	[ 'caught in a function whose statement quotes a statement line', 'SELECT read_fooled()', 0 ],
	[ 'a statement quoting a statement line, failing on an untagged table',
	  q{SELECT count(*) FROM scratch WHERE E'"\nSQL statement "SELECT * FROM notes"\n' <> '' AND 1 / 0 = 1}, 0 ],
	[ 'DO block, uncaught', q{DO $$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM notes
     WHERE patient_id <> E'\nSQL statement "' AND note_id / 0 = 1;
END $$}, 1 ],
	[ 'DO block, caught (its statement failed)', q{DO $$
DECLARE n int;
BEGIN
    BEGIN
        SELECT count(*) INTO n FROM notes
         WHERE patient_id <> E'"\nPL/pgSQL function inline_code_block line 5 at SQL statement\n'
           AND note_id / 0 = 1;
    EXCEPTION WHEN division_by_zero THEN
        n := -1;
    END;
END $$}, 1 ],
	[ 'DO block, EXECUTE uncaught', q{DO $$
BEGIN
    EXECUTE E'SELECT count(*)\n  FROM notes\n WHERE patient_id <> ''SQL expression "x"'' AND note_id / 0 = 1';
END $$}, 1 ],
);

for my $l (@langs)
{
	my ($locale, $name) = @$l;
	for my $c (@cases)
	{
		my ($label, $sql, $fails) = @$c;
		my $mark = bh_seal_mark($node, 'postgres');
		$node->psql('postgres', "SET lc_messages = '$locale';\n$sql;",
			on_error_stop => 0);
		my $got = bh_failures_since($node, 'postgres', $mark,
			message => 0, error_type => 0);
		my $want = $fails ? qr/\A[^\n]*\|READ\|FAILURE\|public\.notes\z/ : qr/\A\z/;
		like($got, $want, "$name: $label: " . ($fails ? 'one READ FAILURE' : 'no failure'));
	}
}

# the best of three elapsed times (ms) of a failing call under lc_messages
sub best_ms
{
	my ($locale, $call) = @_;
	my $sql = "SET lc_messages = '$locale';\n\\timing on\n" . "$call;\n" x 3;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
	my @ms = ($out =~ /^(?:Time|時間): ([0-9.]+) ms/mg);
	is(scalar @ms, 3, "three timed calls ($locale)") or diag($err);
	my ($best) = sort { $a <=> $b } @ms;
	return $best;
}

my ($ja) = map { $_->[0] } grep { $_->[1] eq 'ja_JP' } @langs;
SKIP:
{
	skip 'no ja_JP locale', 3 unless defined $ja;
	$node->safe_psql('postgres', q{
CREATE FUNCTION boom(t text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN length(t) / 0;
END $$;
CREATE FUNCTION run_big(k int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    PERFORM count(*) FROM notes;
    EXECUTE 'SELECT boom(''' || repeat('SQL関数"x"の行番号 1 ', k) || ''')' INTO r;
    RETURN r;
END $$;
});
	my $c_ms = best_ms('C', 'SELECT run_big(80000)');
	my $ja_ms = best_ms($ja, 'SELECT run_big(80000)');
	note("80,000 function-frame-like texts in a statement: C $c_ms ms, ja_JP $ja_ms ms");
	cmp_ok($ja_ms, '<', 3 * $c_ms + 20,
		'under ja_JP the context walk costs less than three times its cost under C');
}

$node->stop;
done_testing();
