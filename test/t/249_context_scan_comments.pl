# A failing statement's text in an error's context ends at the first '"'
# and new line outside its literals, quoted identifiers and comments, read
# as PostgreSQL's scanner reads SQL (error_context.c,
# bh_statement_end_lexed): a statement of an untagged table whose text
# holds '"', a new line and then a line of its own SQL statement "..."
# naming a tagged table the transaction has read is no statement of that
# table (no FAILURE of it).  Here the '"' and the new line are
#  - in a nested block comment (/* a /* b */ "...*/: PostgreSQL's block
#    comments nest, the first */ does not end it);
#  - at the end of a line comment (-- say "), the text going on below it
#    (a line comment ends at its line's end, and the statement goes on).
# Controls: the same statements' shapes failing on the tagged table are one
# READ FAILURE of it; a text that does end in a line comment ending in '"'
# (the function's frame line follows) ends there: one READ FAILURE of
# notes for a statement of notes, none for one of scratch.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_notes_c_node('context_scan_comments');
$node->safe_psql('postgres', q{
CREATE TABLE scratch (x int);
INSERT INTO scratch VALUES (1);
CREATE FUNCTION raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
});
# in scratch's (or notes') statement: where the statement line is quoted
my %quoting = (
	nested_comment => q{0 /* a /* b */ "
SQL statement "SELECT * FROM notes"
*/},
	line_comment => q{0 -- say "
  + length('
SQL statement "SELECT * FROM notes"
')});
$node->safe_psql('postgres', join '', map { qq{
CREATE FUNCTION scratch_$_() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM scratch WHERE x <> $quoting{$_} AND raw_div(0) = 1;
    RETURN n;
END \$\$;
CREATE FUNCTION notes_$_() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM notes WHERE note_id <> $quoting{$_} AND raw_div(0) = 1;
    RETURN n;
END \$\$;} } sort keys %quoting);
$node->safe_psql('postgres', join '', map { qq{
CREATE FUNCTION ${_}_comment_end() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
    PERFORM count(*) FROM notes;
    SELECT count(*) INTO n FROM $_ WHERE raw_div(0) = 1 -- say "
    ;
    RETURN n;
END \$\$;} } qw(scratch notes));

for my $k (sort(keys %quoting), 'comment_end')
{
	for my $c ([ "scratch_$k", 0 ], [ "notes_$k", 1 ])
	{
		my ($fn, $fails) = @$c;
		my $mark = bh_seal_mark($node, 'postgres');
		my ($ret, $out, $err) = $node->psql('postgres', "SELECT $fn();", on_error_stop => 0);
		like($err, qr/division by zero/, "$fn fails");
		my $got = bh_failures_since($node, 'postgres', $mark,
			message => 0, error_type => 0);
		my $want = $fails ? qr/\A[^\n]*\|READ\|FAILURE\|public\.notes\z/ : qr/\A\z/;
		like($got, $want, "$fn: " . ($fails ? 'one READ FAILURE of notes' : 'no failure'));
	}
}

$node->stop;
done_testing();
