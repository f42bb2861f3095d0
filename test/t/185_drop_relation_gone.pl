# A relation dropped by another session while a DROP OWNED BY the
# extension's owner collects the relations it takes first
# (extension_drop.c, bh_drop_own_relations()) is no error: the statement
# goes on without it, as PostgreSQL alone does (it drops what is still
# there).  gdb holds the drop just as it looks for the tables under the
# owner's partitioned table, after it has listed the owner's relations;
# meanwhile the owner's plain table is dropped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

plan skip_all => 'gdb is needed' if system('gdb --version >/dev/null 2>&1') != 0;

my $node = bh_node('drop_relation_gone', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
SET ROLE su2;
CREATE EXTENSION bh_audit;
CREATE TABLE pa (id int) PARTITION BY RANGE (id);
CREATE TABLE pa1 PARTITION OF pa FOR VALUES FROM (0) TO (10);
CREATE TABLE gone (id int);
});
my $pa = $node->safe_psql('postgres', q{SELECT 'pa'::regclass::oid});

my $d = $node->background_psql('postgres', on_error_stop => 0);
my $dpid = $d->query_safe('SELECT pg_backend_pid()');
my $probe = `gdb -nx -batch -p $dpid -ex detach 2>&1`;
plan skip_all => 'gdb cannot attach to a backend' if $probe !~ /\(process \d+\) detached/;

# gdb stops the drop at has_subclass() of pa (on x86_64 the first argument
# is in rdi), waits until "gone" is dropped, and lets it go on
my $dir = PostgreSQL::Test::Utils::tempdir();
my $gdb = bh_gdb_attach($dpid, $dir, <<"EOF2");
handle SIGINT nostop noprint pass
break has_subclass if \$rdi == $pa
shell touch $dir/armed
continue
shell touch $dir/held; for i in \$(seq 600); do [ -e $dir/dropped ] && break; sleep 0.1; done
delete
detach
quit
EOF2
my $deadline = time() + 60;
$d->query_until(qr/started/, "\\echo started\nDROP OWNED BY su2 CASCADE;\n");
usleep(50_000) until -e "$dir/held" || time() > $deadline;
ok(-e "$dir/held", 'gdb holds the drop as it looks under the partitioned table')
  or diag(slurp_file("$dir/gdb.log"));
$node->safe_psql('postgres', 'DROP TABLE gone');
open(my $f, '>', "$dir/dropped") or die;
close $f;
$gdb->finish;

$d->query(q{SELECT 1});
is($d->{stderr}, '', 'the drop goes on without the table dropped meanwhile, no error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
	'0', 'the extension is dropped');
$d->quit;
$node->stop;
done_testing();
