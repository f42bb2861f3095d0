# The error watch reads each statement's text in an error's context as SQL
# to find where it ends (error_context.c, bh_statement_end_lexed); a text
# whose literal, dollar-quoted or not, is not closed where the text ends
# (here: a dollar quote after a nested block comment's first */, whose tag
# differs in each frame) is lexed on to the end of the whole context, then
# taken to end at the first '"' and new line.  In a recursion of N such
# frames, each lexing runs to the context's end: the walk is quadratic in
# the context's length.  The same error with the tags closed (the same
# lengths) is the baseline: best of three, the unclosed one must cost less
# than three times it, + 100 ms (before: 8 times, 1.3 s against 0.16 s for
# 300 frames of 10 kB).  Block comments nest (t/249): a text that stays
# unclosed so is a literal '\' of each frame's statement, parsed with
# standard_conforming_strings on, read as the error is raised with it off
# (the innermost frame sets it so): backslashes escape quotes then, and
# each literal runs on into the next frame (recs).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('context_scan_unclosed_cost');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
CREATE FUNCTION recx(n int, pad text, unclosed bool) RETURNS int LANGUAGE plpgsql AS $b$
DECLARE r int;
BEGIN
  IF n = 0 THEN RETURN 1 / 0; END IF;
  EXECUTE format('SELECT recx(%s, $1, $2) FROM notes /* /* */ %s %s */', n - 1,
                 CASE WHEN unclosed THEN '$t' || n || '$' ELSE 'x' || n || 'x' END, pad)
     INTO r USING pad, unclosed;
  RETURN r;
END $b$;
CREATE FUNCTION recs(n int, pad text, unclosed bool) RETURNS int LANGUAGE plpgsql AS $b$
DECLARE r int;
BEGIN
  IF n = 0 THEN SET LOCAL standard_conforming_strings = off; RETURN 1 / 0; END IF;
  EXECUTE format('SELECT recs(%s, $1, $2) FROM notes WHERE %s <> $1 /* %s */', n - 1,
                 '''' || CASE WHEN unclosed THEN chr(92) ELSE '/' END || '''', pad)
     INTO r USING pad, unclosed;
  RETURN r;
END $b$;
});

# the best of three elapsed times (ms) of the failing recursion
sub best_ms
{
	my ($fn, $unclosed) = @_;
	my $sql = "\\timing on\n"
	  . "BEGIN; SELECT count(*) FROM notes; SELECT $fn(300, repeat('y', 10000), $unclosed); ROLLBACK;\n"
	  x 3;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
	like($err, qr/division by zero/, "the recursion fails ($fn, unclosed: $unclosed)");
	my @ms = ($out =~ /^Time: ([0-9.]+) ms/mg);
	# per run: BEGIN, count, recx, ROLLBACK: the recursion's is the third
	my @calls = map { $ms[4 * $_ + 2] } 0 .. 2;
	is(scalar @ms, 12, "twelve timed statements ($fn, unclosed: $unclosed)");
	my ($best) = sort { $a <=> $b } @calls;
	return $best;
}

my $closed = best_ms('recx', 'false');
my $unclosed = best_ms('recx', 'true');
note("300 frames of 10 kB: tags closed $closed ms, unclosed $unclosed ms");
cmp_ok($unclosed, '<', 3 * $closed + 100,
	'unclosed dollar quotes in each frame: the context walk stays linear');
$closed = best_ms('recs', 'false');
$unclosed = best_ms('recs', 'true');
note("300 frames of 10 kB: quotes closed $closed ms, unclosed $unclosed ms");
cmp_ok($unclosed, '<', 3 * $closed + 100,
	'a literal of each frame escaping its quote: the context walk stays linear');

$node->stop;
done_testing();
