# An error raised deep in nested function calls (a recursive PL/pgSQL
# function, 600 frames: 1,200 lines of context) costs little more than
# the same calls returning: the error watch looks for the statements' texts
# in the error's context (bh_context_statement_next in error_context.c,
# for each statement line, each of its three formats from there to the
# end of the text), which must stay a fast search (strstr before 8be7298:
# failing 20-40 ms against 10-15 ms returning; bh_find_text's strncmp at
# each byte since: 210-300 ms, 25 times the calls returning, 2 s for 2,600
# frames under max_stack_depth = 7MB, where the error cannot be
# cancelled).  No event is involved (no tagged table is read): any error of
# any statement, in every database of a server that preloads bh_audit.  The
# time of the failing call is compared with the time of the same calls
# returning, the best of five of each (elapsed, in one session).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('deep_context_error_cost');
$node->safe_psql('postgres', q{
CREATE FUNCTION nest(n int, depth int, fail bool) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF n >= depth THEN
        IF fail THEN
            PERFORM 1 / 0;
        END IF;
        RETURN 0;
    END IF;
    PERFORM nest(n + 1, depth, fail);
    RETURN 1;
END $$;
});

# the best of five elapsed times (ms) of a call, as psql's \timing shows it
sub best_ms
{
	my ($fail) = @_;
	my $sql = "\\timing on\n" . "SELECT nest(1, 600, $fail);\n" x 5;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
	my @ms = ($out =~ /^Time: ([0-9.]+) ms/mg);
	is(scalar @ms, 5, "five timed calls (fail = $fail)") or diag($err);
	my ($best) = sort { $a <=> $b } @ms;
	return $best;
}

my $returning = best_ms('false');
my $failing = best_ms('true');
note("600 nested calls: returning $returning ms, failing $failing ms");
cmp_ok($failing, '<', 3 * $returning + 20,
	'an error raised 600 calls deep costs less than three times the calls returning');

$node->stop;
done_testing();
