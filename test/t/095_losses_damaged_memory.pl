# The postmaster's account of lost events when what it reads is damaged.
# As shared memory goes after a crash, the postmaster adds up what the
# ring, the counters and the sessions' slots say was lost (losses.c); a
# process that crashed may have written over any of it, and the account
# file may be damaged too.  A count that makes no sense is not believed: it
# is recorded as an unclean stop (a stop whose losses nothing counted),
# never as a made-up number in the chain, and the postmaster goes on.
#
# Shared memory is written over through gdb attached to a backend (the
# extension's library is built with symbols).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'gdb is not installed' unless system('gdb --version >/dev/null 2>&1') == 0;

my $node = bh_node('losses_damaged', conf => q{
restart_after_crash = on
});
bh_losses_view($node, 'postgres');

my $mark;

sub mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# The loss events after the mark: their metadata less db_user, one line each.
sub losses_since_mark
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg((meta - 'db_user')::text, E'\\n' ORDER BY seq), '')
  FROM losses WHERE seq > $mark});
}

# Write over shared memory through a backend ($what: what is written over;
# @assignments: gdb expressions), then kill that backend: a crash restart.
sub damage_and_crash
{
	my ($what, @assignments) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	my $commands = join(' ', map { "-ex 'set var $_'" } @assignments);
	my $out = `gdb -p $pid -batch $commands -ex 'print $assignments[-1]' 2>&1`;
	like($out, qr/^\$1 = /m, "gdb wrote over $what") or diag($out);
	ok(bh_crash_restart($node, $pid, 'postgres'),
		"after $what, the postmaster reinitialises shared memory and accepts connections again");
	eval { $s->quit };
}

# (a) A session's slot of held events: 2^64 - 1.  Without the check it was
# added up and recorded as -1 events lost in sessions.
mark();
damage_and_crash("a session's slot", 'bh_losses->held[50].value = 18446744073709551615');
is(losses_since_mark(), '{"unclean_stops": 1}',
	'a slot that makes no sense is recorded as one unclean stop, no number of events');

# (b) A large slot within the bound is believed; two whose sum passes it are not.
mark();
damage_and_crash("a session's slot (2e14)", 'bh_losses->held[50].value = 200000000000000');
is(losses_since_mark(), '{"events_lost_in_sessions": 200000000000000}',
	'a large slot within the bound is counted as it is');
mark();
damage_and_crash('two slots (2e14 each)', 'bh_losses->held[50].value = 200000000000000',
	'bh_losses->held[51].value = 200000000000000');
is(losses_since_mark(), '{"unclean_stops": 1}',
	'slots whose sum passes 2^48 are recorded as one unclean stop');

# (c) The losses of earlier shared memory not yet recorded, written over.
mark();
damage_and_crash('the earlier losses', 'bh_losses->earlier.ring_lost = 9223372036854775808');
is(losses_since_mark(), '{"unclean_stops": 1}',
	'earlier losses that make no sense are recorded as one unclean stop');

# (d) The account file damaged while the server is stopped: a count past
# the bound is not believed either.
mark();
$node->stop;
my $account = $node->data_dir . '/pg_stat_tmp/bh_audit_losses';
PostgreSQL::Test::Utils::append_to_file($account . '.new',
	"bh_audit losses 3\nstopped 0 0 0 0 0 18446744073709551615\n");
rename($account . '.new', $account) or die "rename: $!";
$node->start;
is(losses_since_mark(), '{"unclean_stops": 1}',
	'an account file counting more than can be is recorded as one unclean stop');
like(slurp_file($node->logfile), qr/counts more lost events than can be: counted as an unclean stop/,
	'and the server log says why');

# (e) The chain verifies, every event in it is valid.
bh_chain_valid($node, 'postgres');

$node->stop;
done_testing();
