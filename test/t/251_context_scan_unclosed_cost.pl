# The error watch reads each statement's text in an error's context as SQL
# to find where it ends (error_context.c, bh_statement_end_lexed); a text
# whose literal, dollar-quoted or not, is not closed where the text ends
# (here: a dollar quote after a nested block comment's first */, whose tag
# differs in each frame) is lexed on to the end of the whole context, then
# taken to end at the first '"' and new line.  In a recursion of N such
# frames, each lexing ran to the context's end: the walk was quadratic in
# the context's length (8 times, 1.3 s against 0.16 s with the tags closed,
# for 300 frames of 10 kB).  Block comments nest (t/249): a text that stays
# unclosed so is a literal '\' of each frame's statement, parsed with
# standard_conforming_strings on, read as the error is raised with it off
# (the innermost frame sets it so): backslashes escape quotes then, and
# each literal runs on into the next frame (recs).
#
# Whether the walk stays linear is a comparison of timings, which
# test/bench/context_scan_bench.sh makes (docs/benchmarks.md); here, what
# does not depend on the machine's speed: each recursion, the texts closed
# or not, fails as it should and records its FAILURE events, one for each
# frame's statement on notes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('context_scan_unclosed_cost');
$node->safe_psql('postgres',
	slurp_file("$FindBin::RealBin/../lib/context_scan_recursions.sql"));

# the failing recursion: its error, and the FAILURE events of notes
foreach my $fn ('recx', 'recs')
{
	foreach my $unclosed ('false', 'true')
	{
		my $before = $node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT coalesce(max(seq), 0) FROM bh_audit.events});
		$before =~ s/^t\n//;
		my ($ret, $out, $err) = $node->psql('postgres',
			"BEGIN; SELECT count(*) FROM notes; SELECT $fn(300, repeat('y', 10000), $unclosed); ROLLBACK;",
			on_error_stop => 0);
		like($err, qr/division by zero/, "the recursion fails ($fn, unclosed: $unclosed)");
		is( $node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events
 WHERE seq > $before AND resource_type = 'Note' AND outcome = 'FAILURE'}),
			"t\n300", "one FAILURE of notes for each frame ($fn, unclosed: $unclosed)");
	}
}

$node->stop;
done_testing();
