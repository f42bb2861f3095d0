# PostgreSQL 15's postmaster computes how long to sleep in select() before
# it unblocks signals: a sealer exiting while the postmaster is busy (forking
# a backend, say) is reaped in the moment between the two, and the
# postmaster then sleeps for up to a minute, the restart due a second later
# forgotten until something else wakes it.  A seal() waiting while no sealer
# runs wakes the postmaster (operations.md, "The sealer").  gdb
# stops the postmaster just before its select(), in which moment the sealer
# exits.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'gdb is needed' if system('gdb --version >/dev/null 2>&1') != 0;

my $node = bh_node('sealer_restart_missed');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'before', 'p1');
SELECT bh_audit.seal();
});
my $pm = $node->{_pid};
# gdb may be there and not allowed to attach (ptrace)
my $probe = `gdb -nx -batch -p $pm -ex detach 2>&1`;
plan skip_all => 'gdb cannot attach to the postmaster' if $probe !~ /\(process \d+\) detached/;
my $sealer = `pgrep -f 'bh_audit sealer' -P $pm`;
chomp $sealer;
ok($sealer =~ /^\d+$/, 'a sealer runs');

# a session opened before: its seal() needs no fork of the postmaster
my $bg = bh_seal_session($node, 'postgres');

# gdb stops the postmaster at its next select(), waits there until the
# sealer has exited, and lets it go on: the SIGCHLD is handled before the
# select(), whose timeout was set while no worker was to be restarted.
my $dir = PostgreSQL::Test::Utils::tempdir();
my $gdb = bh_gdb_attach($pm, $dir, <<"EOF");
handle SIGCHLD nostop noprint pass
break select
shell touch $dir/armed
continue
delete
shell for i in \$(seq 200); do st=\$(awk '{print \$3}' /proc/$sealer/stat 2>/dev/null); [ -z "\$st" -o "\$st" = Z ] && break; sleep 0.1; done; touch $dir/gone
detach
quit
EOF
ok(-e "$dir/armed", 'gdb holds the postmaster at its next select()');

# a new backend makes the postmaster loop (accept, fork) into the breakpoint;
# it ends the sealer (status 1: the postmaster restarts it a second later)
$node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer'});
$gdb->finish;
ok(-e "$dir/gone", 'the sealer exited while the postmaster was held')
  or diag(slurp_file("$dir/gdb.log"));

# without a wake-up, the postmaster sleeps past the restart: seal() saw no
# sealer for 5 s
my $said = $bg->query_safe('SELECT pg_temp.try_seal()');
is($said, 'sealed', 'seal() waits for the sealer the postmaster restarts');
my $new = `pgrep -f 'bh_audit sealer' -P $pm`;
chomp $new;
ok($new =~ /^\d+$/ && $new ne $sealer, 'a new sealer runs');
$bg->quit;

$node->stop;
done_testing();
