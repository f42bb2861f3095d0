# A statement's capture that looks the tags up more than once while other
# sessions commit tag changes.  Each committed tag_table() makes this
# backend load its tag cache again at its next lookup, and a load frees the
# one before the last: a tag taken from the cache before two loads is gone.
# Capture that looked a table's tag up and then looked other tables (or
# columns) up before writing its event must not use the tag it took first:
#  (a) ALTER TYPE ... RENAME VALUE of an enum used by three columns of a
#      tagged table (each column checked in turn): its UPDATE event;
#  (b) VACUUM ANALYZE of four tagged tables with expression indexes: the
#      table-wide READ event of each.
# Before, the backend read freed memory: a SIGSEGV (the server restarted
# every session) or an event missing or wrong.
#
# gdb, attached to the backend, holds it at each AcceptInvalidationMessages
# of the statement's capture, while another session commits one more
# tag_table(): the invalidation arrives there, as it would from any session
# committing at that moment.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'gdb is not installed' unless system('gdb --version >/dev/null 2>&1') == 0;

my $node = bh_node('tag_held_across_reloads', conf => "restart_after_crash = on\n");
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my ($host, $port) = ($node->host, $node->port);

# One tag change committed by another session: a new table tagged.
my $flip = "$dir/flip.sh";
PostgreSQL::Test::Utils::append_to_file($flip, qq{#!/bin/sh
n=\$(cat $dir/flip.n 2>/dev/null || echo 0); n=\$((n+1)); echo \$n > $dir/flip.n
PGOPTIONS='-c lock_timeout=30s' psql -X -q -h '$host' -p $port -d postgres -c "CREATE TABLE public.other_\$n (id int, pid text); SELECT bh_audit.tag_table('public.other_\$n', 'Other', 'id', 'pid')" >/dev/null 2>&1
});
chmod 0755, $flip;

$node->safe_psql('postgres', q{
CREATE SCHEMA c1;
CREATE TYPE c1.level AS ENUM ('low', 'top');
CREATE TABLE c1.enum_notes (id int PRIMARY KEY, pid text, lvl c1.level, lvls c1.level[],
                            lvl3 c1.level);
INSERT INTO c1.enum_notes VALUES (1, 'p1', 'low', '{top}', 'low');
SELECT bh_audit.tag_table('c1.enum_notes', 'EnumNote', 'id', 'pid');
CREATE SCHEMA dd;
CREATE TABLE dd.n1 (id int, pid text, body text);
CREATE TABLE dd.n2 (id int, pid text, body text);
CREATE TABLE dd.n3 (id int, pid text, body text);
CREATE TABLE dd.n4 (id int, pid text, body text);
CREATE INDEX ON dd.n1 (lower(body));
CREATE INDEX ON dd.n2 (lower(body));
CREATE INDEX ON dd.n3 (lower(body));
CREATE INDEX ON dd.n4 (lower(body));
SELECT bh_audit.tag_table('dd.n' || i, 'NoteN' || i, 'id', 'pid') FROM generate_series(1, 4) i;
});

# Run $sql in a session held by gdb: from the first call of $start on, at
# each AcceptInvalidationMessages, one tag change is committed by another
# session, and one more after each load of the tag cache (at most 8), until
# $end is called.  Returns gdb's output; the statement's error, if any, in
# $$err.
sub held_statement
{
	my ($name, $sql, $start, $end, $err) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	my $ready = "$dir/$name.ready";
	my $script = "$dir/$name.gdb";
	PostgreSQL::Test::Utils::append_to_file($script, qq{set pagination off
set breakpoint pending on
set \$flips = 0
set \$maxflips = 1
break $start
commands
  silent
  enable 2
  continue
end
break AcceptInvalidationMessages
disable 2
commands
  silent
  if \$flips < \$maxflips && \$flips < 8
    shell $flip
    set \$flips = \$flips + 1
  end
  continue
end
break bh_tags_load
commands
  silent
  set \$maxflips = \$flips + 1
  continue
end
break $end
commands
  silent
  disable 2
  continue
end
break pg_backend_pid
commands
  silent
  printf "gdb: statement done after %d tag changes\\n", \$flips
  detach
  quit
end
shell touch $ready
continue
printf "gdb: the backend stopped\\n"
bt 10
detach
quit
});
	my $out = '';
	my $gdb = IPC::Run::start([ 'gdb', '-batch', '-x', $script, '-p', $pid ],
		'>', \$out, '2>&1', IPC::Run::timeout(180));
	for (1 .. 600)
	{
		last if -e $ready;
		select(undef, undef, undef, 0.1);
	}
	ok(-e $ready, "$name: gdb attached");
	# the session ends if its backend crashes
	$$err = eval { $s->query($sql); $s->{stderr} } // "the session ended: $@";
	eval { $s->query('SELECT pg_backend_pid()') };
	eval { $gdb->finish };
	eval { $s->quit };
	bh_wait_ready($node, 'postgres');
	return $out;
}

# The last event sealed so far.
sub survived
{
	my ($name, $log_offset, $out) = @_;

	note($out);
	unlike(slurp_file($node->logfile, $log_offset), qr/terminated by signal/,
		"$name: no backend crashed, the server did not restart")
	  or diag($out);
	like($out, qr/gdb: statement done after [2-8] tag changes/,
		"$name: the tag cache was loaded again while the statement's capture ran")
	  or diag($out);
}

# (a) ALTER TYPE ... RENAME VALUE: the UPDATE event of the tagged table.
my $offset = -s $node->logfile;
my $mark = bh_seal_mark($node, 'postgres');
my $err = '';
my $out = held_statement('enum_rename', q{ALTER TYPE c1.level RENAME VALUE 'top' TO 'high'},
	'bh_check_enum_rename', 'bh_write_table_event', \$err);
survived('enum rename', $offset, $out);
is($err, '', 'enum rename: the statement succeeded');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', action, resource_type, event -> 'metadata' ->> 'table',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'changed_columns'), E'\\n' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND event -> 'metadata' ->> 'table' = 'c1.enum_notes'}),
	'UPDATE EnumNote c1.enum_notes ALTER TYPE lvl,lvl3,lvls',
	'enum rename: the UPDATE event of the tagged table, with its three columns');
is($node->safe_psql('postgres', 'SELECT lvl3::text FROM c1.enum_notes'), 'low',
	'enum rename: committed');

# (b) VACUUM ANALYZE of four tagged tables: a READ event for each.
$offset = -s $node->logfile;
$mark = bh_seal_mark($node, 'postgres');
$out = held_statement('vacuum', 'VACUUM ANALYZE dd.n1, dd.n2, dd.n3, dd.n4',
	'bh_capture_ddl_reads', 'bh_event_for_tag', \$err);
survived('vacuum analyze', $offset, $out);
is($err, '', 'vacuum analyze: the statement succeeded');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', action, resource_type, event -> 'metadata' ->> 'table',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'evaluated'), E'\\n' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND event -> 'metadata' ->> 'table' LIKE 'dd.%'}),
	join("\n", map { "READ NoteN$_ dd.n$_ VACUUM index expression" } 1 .. 4),
	'vacuum analyze: one table-wide READ event for each tagged table');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
