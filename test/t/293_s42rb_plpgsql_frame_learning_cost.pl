# Cost on a hot path of 49a3298: every statement that SPI runs on a tagged
# table now asks whether the innermost error context frame is PL/pgSQL's
# (capture_read.c ExecutorRun -> capture_failure_spi.c bh_rows_fetched),
# and every write of one without RETURNING whose SPI call returns asks it
# of the frame that called SPI (bh_rows_none_keep).  bh_frame_is_plpgsql()
# learns PL/pgSQL's callback from the first PL/pgSQL frame it sees and
# remembers only the LAST other callback it looked up with dladdr(): in a
# session that has not run a PL/pgSQL statement on a tagged table, a PL/Perl
# (or PL/Python) function writing rec alternates between SPI's own frame
# (at ExecutorRun) and PL/Perl's (as SPI returns), so each write costs two
# dladdr() calls (a scan of the dynamic symbols of the postgres binary:
# about 20-45 us a statement here, 200 calls for 100 writes).  The
# callbacks looked up once should be known after that: a handful of calls
# for the whole session.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

plan skip_all => 'gdb is needed' if system('gdb --version >/dev/null 2>&1') != 0;

my $node = bh_node('plpgsql_frame_learning_cost');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE EXTENSION plperl;
CREATE FUNCTION perl_writes(n int) RETURNS int LANGUAGE plperl AS $$
my $p = spi_prepare(q{UPDATE rec SET v = v WHERE id = 1});
spi_exec_prepared($p) for 1 .. $_[0];
return $_[0];
$$;
});

my $s = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $s->query_safe('SELECT pg_backend_pid()');
my $probe = `gdb -nx -batch -p $pid -ex detach 2>&1`;
plan skip_all => 'gdb cannot attach to a backend' if $probe !~ /\(process \d+\) detached/;

# gdb counts the calls of dladdr() until the session's next
# pg_backend_pid(), after the writes
my $dir = PostgreSQL::Test::Utils::tempdir();
my $gdb = bh_gdb_attach($pid, $dir, <<"EOF2");
handle SIGINT nostop noprint pass
set \$n = 0
break dladdr
commands 1
silent
set \$n = \$n + 1
continue
end
break pg_backend_pid
commands 2
printf "dladdr calls: %d\\n", \$n
delete
detach
quit
end
shell touch $dir/armed
continue
EOF2
ok(-e "$dir/armed", 'gdb is attached to the session');
is($s->query_safe('SELECT perl_writes(100)'), '100', 'the PL/Perl function writes rec 100 times');
$s->query_safe('SELECT pg_backend_pid()');
$gdb->finish;
my ($calls) = slurp_file("$dir/gdb.log") =~ /dladdr calls: (\d+)/;
ok(defined $calls, 'gdb counted the calls of dladdr()') or diag(slurp_file("$dir/gdb.log"));
cmp_ok($calls // 1e9, '<=', 10,
	'100 writes of rec by a PL/Perl function (no PL/pgSQL run in the session) call dladdr() a '
	  . 'handful of times, not twice a write');
$s->quit;

done_testing();
