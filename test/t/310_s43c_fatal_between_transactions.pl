# A FATAL between the transactions of a multi-transaction command (VACUUM,
# CREATE INDEX CONCURRENTLY, a CALL whose procedure commits): no
# transaction is open, so the exit's AbortOutOfAnyTransaction() aborts
# none and the guard's clean-up at that abort (config_guard.c's
# bh_guard_exit_abort()) never runs; the command's state stays named
# running when RemoveTempRelationsCallback then drops the session's
# temporary objects.  Before, a tagged column dropped with them was noted
# for that command, which never records it: no event.  Now: the column's
# drop at the session's end, one UPDATE event, statement "session end",
# as for any other end of the session (t/299, t/300, t/302).
#
# PostgreSQL checks for interrupts only inside the transactions of these
# commands (a lock wait is in one), so gdb makes the FATAL there: it stops
# the backend as its first CommitTransactionCommand() returns, in the
# middle of the command with no transaction open, and runs the
# ProcessInterrupts() a pg_terminate_backend() there would.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

plan skip_all => 'gdb is needed' if system('gdb --version >/dev/null 2>&1') != 0;

my $node = bh_node('main');
bh_temp_dependency_function($node);
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
ANALYZE notes;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE TABLE other (x int);
CREATE PROCEDURE commit_twice() LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO other VALUES (1);
  COMMIT;
  INSERT INTO other VALUES (2);
END$$;
});

sub fatal_between
{
	my ($column, $statement) = @_;

	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe(q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$});
	$bg->query_safe(qq{ALTER TABLE notes ADD COLUMN $column text GENERATED ALWAYS AS (upper(body)) STORED});
	$bg->query_safe(qq{SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'notes', '$column')});
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	my $mark = bh_seal_mark($node, 'postgres');
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $gdb = bh_gdb_attach($pid, $dir, <<"EOF2");
break CommitTransactionCommand
shell touch $dir/armed
continue
finish
delete
set {int} &InterruptPending = 1
set {int} &ProcDiePending = 1
call (void) ProcessInterrupts()
quit
EOF2
	ok(-e "$dir/armed", "$statement: gdb is attached") or diag(slurp_file("$dir/gdb.log"));
	$bg->query_until(qr/started/, "\\echo started\n$statement;\n");
	$gdb->finish;
	like(slurp_file("$dir/gdb.log"), qr/exited with code 01/,
		"$statement: the backend ends by FATAL between the command's transactions")
	  or diag(slurp_file("$dir/gdb.log"));
	eval { $bg->quit };
	$node->poll_query_until('postgres', qq{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid)
   AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'notes'::regclass
                      AND attname = '$column' AND NOT attisdropped)})
	  or diag("$statement: the column is still there");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns',
                            event -> 'metadata' ->> 'row_count_estimate'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
		"UPDATE|session end|$column|2",
		"$statement: the column's drop at the session's end is recorded");
}

fatal_between('masked_v', 'VACUUM other');
fatal_between('masked_i', 'CREATE INDEX CONCURRENTLY other_x ON other (x)');
fatal_between('masked_c', 'CALL commit_twice()');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
