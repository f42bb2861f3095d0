# validation_errors() over an event of a million items is interruptible: a
# statement timeout (like a cancel, a termination or a shutdown) takes
# effect while the walk runs, not once it is done.  Measured as a ratio
# against the same call run to its end, so that the machine's speed does
# not matter: the time is the behaviour here, so the bound is generous, half
# the walk (at least 1 s, against some 0.05 s the cut takes; a walk that
# is not interruptible is cut only at its end, after the whole walk).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = bh_node('validation_interrupts');

# An event whose roles are n numbers: n + 1 errors (maxItems, then each item
# is not a string).  Doubled until the whole call takes two seconds or more.
# Both calls are timed in one session already connected, so that neither
# counts a client's start or its connection.
my $s = $node->background_psql('postgres', on_error_stop => 0);
my ($n, $full, $errors) = (1000000, 0, 0);
while (1)
{
	$s->query_safe(qq{
SET client_min_messages = warning; DROP TABLE IF EXISTS big;
CREATE TABLE big AS SELECT ('{"schema_version": "1.1", "actor": {"roles": ['
       || (SELECT string_agg('1', ',') FROM generate_series(1, $n)) || ']}}')::jsonb AS e;
});
	my $t0 = time;
	$errors = $s->query_safe(
		q{SELECT count(*) FROM big, bh_audit.validation_errors(e) WHERE path LIKE '/actor/roles/%'});
	$full = time - $t0;
	last if $full >= 2.0 || $n >= 8000000;
	$n *= 2;
}
is($errors, $n, "validation_errors() lists each of the $n failing items");
note(sprintf('%d items: %.2f s to the end', $n, $full));

# Cut three times; the quickest counts, so that one cut that a stalled
# machine holds up for a second or more does not decide (a walk that is not
# interruptible makes all three as long as the walk).
$s->query_safe(q{SET statement_timeout = '50ms'});
my ($cut, $timeouts);
for (1 .. 3)
{
	$s->{stderr} = '';
	my $t0 = time;
	$s->query(q{SELECT count(*) FROM big, bh_audit.validation_errors(e)});
	my $took = time - $t0;
	$timeouts++ if $s->{stderr} =~ /canceling statement due to statement timeout/;
	$cut = $took if !defined $cut || $took < $cut;
	note(sprintf('cut after %.2f s', $took));
}
is($timeouts, 3, 'a statement timeout ends the call');
ok($cut < $full / 2,
	sprintf('while the walk runs (%.2f s at the quickest of three, against %.2f s to the end)',
		$cut, $full));
$s->quit;

$node->stop;
done_testing();
