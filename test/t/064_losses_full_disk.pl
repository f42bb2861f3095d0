# The account of lost events when it cannot be written the usual way (a
# full disk): the postmaster writes pg_stat_tmp/bh_audit_losses through a
# .tmp file renamed over it, which needs new space.  When that fails it
# overwrites the file in place (its block is already there), and when that
# fails too it carries the account of a crash restart in its own memory, so
# that neither an unclean stop nor the events a crash left in the ring go
# unrecorded.
#
# The .tmp file cannot be created while a directory of that name stands in
# its place, and the server (not root) cannot write the file in place once
# it is read-only.  The sealer is held back with SIGSTOP so that reads wait
# in the ring.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('losses_full', database => 'clinic', conf => q{
restart_after_crash = on
});
my $account = $node->data_dir . '/pg_stat_tmp/bh_audit_losses';
my $tmp = "$account.tmp";

$node->safe_psql('clinic', q{
CREATE TABLE obs (id int PRIMARY KEY, patient_id text);
INSERT INTO obs SELECT g, 'P' || g FROM generate_series(1, 10) g;
SELECT bh_audit.tag_table('obs', 'Observation', 'id', 'patient_id');
SELECT bh_audit.seal();
});
bh_losses_view($node, 'clinic');

sub account
{
	return slurp_file($account);
}

# Stop the sealer and make $n tagged reads, which wait in the ring; returns
# the sealer's pid.
sub reads_in_ring
{
	my ($n, $what) = @_;
	$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
	my $sealer = bh_stop_sealer($node, 'clinic');
	$node->safe_psql('clinic', "SELECT * FROM obs WHERE id = $_") for 1 .. $n;
	is($node->safe_psql('clinic', 'SELECT ring_events FROM bh_audit.stats()'),
		$n, "$what: $n reads wait in the ring");
	return $sealer;
}


is(bh_loss_lines($node, 'clinic'), '', 'a new ledger records no loss');
$node->stop('fast');
# The account's line: state, events lost in the ring, dropped, unclean
# stops, and two flags kept until recorded (no account found at a start;
# a start in archive recovery): format 2 since those flags were added.
is(account(), "bh_audit losses 3\nstopped 0 0 0 0 0 0\n", 'a clean stop leaves "stopped"');

# (A) The server starts while the account cannot be replaced: "running" is
# written in place, so that a killed postmaster is still an unclean stop.
mkdir $tmp or die "mkdir $tmp: $!";
my $log_offset = -s $node->logfile;
$node->start;
is(account(), "bh_audit losses 3\nrunning 0 0 0 0 0 0\n",
	'the account says "running", written in place');
like(slurp_file($node->logfile, $log_offset),
	qr/wrote file "pg_stat_tmp\/bh_audit_losses" in place/,
	'the server log says it was written in place');
my @pids = split /\n/, $node->safe_psql('clinic', 'SELECT pid FROM pg_stat_activity');
push @pids, (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
my $sealer = reads_in_ring(3, 'A');
$node->kill9;
# the stopped sealer would hold the old shared memory
kill 'KILL', $sealer;
my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
usleep(100_000) while grep({ kill(0, $_) } @pids) && time() < $deadline;
ok(!grep({ kill(0, $_) } @pids), 'the killed server\'s processes are gone');
rmdir $tmp or die "rmdir $tmp: $!";
$node->start;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(bh_loss_lines($node, 'clinic'), '||1', 'the killed postmaster is recorded as one unclean stop');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Observation'}),
	'0', 'the reads in the ring did not reach the chain');

# (B) A crash restart while the account can be written neither way: the
# postmaster counted the ring's events when it discarded shared memory, and
# hands that number to the new shared memory itself.
is(account(), "bh_audit losses 3\nrunning 0 0 0 0 0 0\n", 'the account was recorded');
mkdir $tmp or die "mkdir $tmp: $!";
chmod 0444, $account or die "chmod $account: $!";
$log_offset = -s $node->logfile;
$sealer = reads_in_ring(4, 'B');
ok(bh_crash_restart($node, $sealer, 'clinic'),
	'the postmaster reinitialises shared memory after the sealer\'s crash, and accepts connections again');
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(bh_loss_lines($node, 'clinic'), "||1\n4||", 'the four reads lost in the ring are recorded, counted');
like(slurp_file($node->logfile, $log_offset),
	qr/WARNING:  could not write the account of lost bh_audit events/,
	'the server log warns that the account could not be written');
is(account(), "bh_audit losses 3\nrunning 0 0 0 0 0 0\n", 'the file was left as it was');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Observation'}),
	'0', 'the reads in the ring did not reach the chain');

# The disk has room again: a clean stop writes the account as usual, and
# nothing more is recorded.
chmod 0600, $account or die "chmod $account: $!";
rmdir $tmp or die "rmdir $tmp: $!";
$node->stop('fast');
is(account(), "bh_audit losses 3\nstopped 0 0 0 0 0 0\n", 'a clean stop leaves "stopped"');
$node->start;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(bh_loss_lines($node, 'clinic'), "||1\n4||", 'and a start after it records no loss');

# (C) An empty account (what is left when not even an in-place write was
# possible, but truncating it was) is an unclean stop.
$node->stop('fast');
open(my $fh, '>', $account) or die "truncate $account: $!";
close $fh;
$node->start;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(bh_loss_lines($node, 'clinic'), "||1\n4||\n||1", 'an empty account is recorded as an unclean stop');

is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
