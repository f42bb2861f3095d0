# test/lib/BhAuditTest.pm: set-up shared by the Perl TAP tests (test/t).
#
# bh_node(NAME, OPTION => VALUE, ...) returns a started
# PostgreSQL::Test::Cluster node with bh_audit in shared_preload_libraries:
#   database        bh_audit.database, the sealer's database (default
#                   'postgres'); created unless it is 'postgres' or
#                   create_database => 0
#   conf            further postgresql.conf lines
#   init            a hash of options for init() (allows_streaming, extra)
#   extension       CREATE EXTENSION bh_audit in that database (default 1;
#                   0 leaves it to the test)
#
# bh_event_function(NODE, DB, ACTOR) creates the SQL function ev(tag text)
# in DB: a complete, schema-valid event (bh-audit-schema 1.1) of ACTOR for
# resource id and patient tag, for tests that push events into the ring
# themselves, and the test hook that does it, ring_push(event json): the
# library's bh_audit_ring_push_test, which the install script does not
# declare (superuser only: no role can push forged events).
# bh_queue_raw_function(NODE, DB) creates in DB the test hook
# queue_raw(text): the library's bh_audit_test_queue_event, which queues
# the event of that JSON text through the queue's own path (its runtime
# validation included), for events the event builder never makes; not
# declared by the install script, superuser only (PUBLIC's EXECUTE
# revoked).
# bh_encoding_node(NAME, LEDGER, OTHER, OPTION => VALUE, ...) returns a
# node (bh_node's options) whose ledger is in database "audit" of encoding
# LEDGER (the extension created there, the sealer connected, checked with
# ok()), and, if OTHER is given, a database "clinic" of encoding OTHER, for
# the tests of events crossing encodings.
#
# bh_export_verified(NODE, DB, NAME) exports DB's ledger as the documented
# command does (export_jsonl() in the SELECT list, psql's FETCH_COUNT) to a
# file NAME.jsonl, checks with ok() that it passes the independent verifier
# (test/verify_jsonl.py), and returns the export's text.
#
# bh_wait_sealed(NODE, DB, WHERE, N) seals (bh_audit.seal()) until at least
# N rows of bh_audit.events match the SQL condition WHERE, for at most the
# harness's timeout, and returns their number.  For events pushed after the
# client could see their cause (a refused login's FAILURE is pushed as its
# process exits, after the client got the FATAL error): a test waits for
# the number it expects and then compares the rows exactly.
#
# bh_losses_view(NODE, DB) creates in DB the view losses (seq, meta: the
# metadata) of the EventsLost events of the ledger, ordered by seq.
# bh_loss_lines(NODE, DB) returns those events so far, one line each:
# "events_lost_in_ring|events_dropped|unclean_stops" (empty when absent).
#
# bh_chain_valid(NODE, DB) checks with is() that DB's chain verifies
# (verify_chain()) and that every event of its ledger is valid
# (validate_event()), the loss events too.
#
# bh_wait_ready(NODE, DB) waits until NODE accepts connections to DB again
# (after a crash restart), for at most 60 s; returns whether it does.
#
# bh_crash_restart(NODE, PID, DB) kills the server process PID with SIGKILL
# and waits until the postmaster has reinitialised shared memory (its log
# says so) and accepts connections to DB again; returns whether both came
# within 60 s each.
#
# bh_session_given(NODE, DB, SCHEMA, PARAMS) opens a background_psql
# session of DB (on_error_stop off; extra_params PARAMS, e.g. [ '-U', 'x' ])
# that PostgreSQL gives the temporary schema SCHEMA (pg_temp_N), for a test
# whose session must clean out a dead session's schema.  A session is given
# the schema of its backend id, the lowest free at its login, and any
# process of the server's (a session still exiting, an autovacuum worker,
# a restarted background worker) may hold a lower one or N itself at that
# moment: sessions are opened one at a time, each told its backend id by
# its own transaction's virtual xid (pg_locks: no temporary object made,
# which would clean a schema out), those given an id below N held open
# until one is given N; one given an id above N (N held meanwhile) is
# closed and another tried 0.1 s later.  Returns that session, or dies
# after 30 s (naming the sessions then connected).
#
# bh_stop_sealer(NODE, DB) waits until the sealer naps (idle, in its
# latch wait: holding no lock of the ring), stops it with SIGSTOP and
# returns its pid (SIGCONT resumes it).
#
# bh_hold_sealer(NODE, DB, OPTION => VALUE, ...) holds the sealer back: a
# background_psql session of DB (on_error_stop off: a crash may end it)
# holding a lock on bh_audit.events in a transaction (the sealer cannot
# write the ledger while it is held), which it returns; COMMIT in it lets
# the sealer go on:
#   mode            the lock's mode (default EXCLUSIVE; ACCESS EXCLUSIVE
#                   holds back readers of the ledger too)
#   fill            SQL run then in a session of its own under
#                   bh_audit.on_ring_full = drop, to fill the ring (what
#                   does not fit is dropped at once)
#
# bh_dropped(NODE, DB) returns events_dropped_total (bh_audit.stats()).
# bh_last_seq(NODE, DB) returns the highest seq of bh_audit.events (0 if
# none), without sealing first (bh_seal_mark seals).
# bh_lost_recorded(NODE, DB, MARK) returns the events counted as dropped
# by the EventsLost events chained after seq MARK (their events_dropped).
# bh_wait_lost(NODE, DB, MARK, N) seals until those count N drops (they
# are recorded by the batch after the drops were counted), for at most
# 60 s.
#
# bh_seal_session(NODE, DB) returns a background_psql session of DB in
# which SELECT pg_temp.try_seal() calls bh_audit.seal() and returns
# 'sealed', or the error's message and detail on two lines: opened before
# the test holds the postmaster (or the sealer), its seal() needs no new
# backend.
#
# bh_gdb_attach(PID, DIR, COMMANDS) starts gdb in batch mode attached to
# the process PID, running the commands COMMANDS (written to DIR/gdb.cmd
# after the settings every such script needs: no paging, no questions,
# PostgreSQL's SIGUSR1 and SIGUSR2 passed on; its output in DIR/gdb.log),
# which touch DIR/armed once the breakpoint is set: waits for that file,
# at most 60 s, and returns the IPC::Run handle (finish() waits for gdb).
#
# bh_login_refused_late(NODE, DB, NAME, ARGS...) logs in to DB with an
# invalid startup option (work_mem=bogus), which PostgreSQL refuses once
# the database is chosen, and checks with like() (named NAME) that it was
# refused for it; ARGS are further psql arguments (-U role).
#
# bh_login(NODE, DB, ARGS...) runs psql -c 'SELECT 1' against DB with the
# further psql arguments ARGS (-U role, -w) and returns (exit code, output,
# errors).  For logins that may be refused: the statement is an argument,
# not psql's standard input, which a psql that has already exited would
# refuse (EPIPE, failing the test).
#
# bh_timeline_switch(NODE, TLI) reads NODE's history file of timeline TLI
# (pg_wal/<TLI>.history, written by PostgreSQL as recovery ended) and
# returns its last line's fields: the parent timeline, the switch point
# ("X/X") and the reason, as PostgreSQL wrote them.
#
# bh_seal_mark(NODE, DB) seals (bh_audit.seal()) and returns the highest
# seq of bh_audit.events (0 if none): the mark after which a test reads
# the events of its next statements.
#
# bh_failures_since(NODE, DB, MARK, message => 0, error_type => 0) seals
# and returns the events after seq MARK that are not SUCCESS, a line each,
# "actor_id|action|outcome|error_type|table|error_message" (the table
# from the event's metadata; without the message if message => 0, without
# the error_type if error_type => 0), ordered by actor_id and table: each
# statement's (run under its own actor) failures, by table; with
# in_order => 1 without actor_id, joined by ',' in the order of seq.
# bh_failures_in_order(NODE, DB, MARK) returns them so, as
# "action|outcome|table" ('' if none): the statements of one actor, in
# the order they were recorded.
#
# bh_pgbench_script(NODE, DB, MODE, SCRIPT, OPTION => VALUE, ...) runs
# pgbench -n -M MODE once over the script SCRIPT (written to a file of
# tmp_check) against DB and returns (exit code, output, errors):
#   transactions    -t (default 1)
#   set             -D VAR=VALUE (e.g. 'v=-1'; default none)
#   user            -U (default the node's)
#
# bh_run_protocols(NODE, DB, OPTION => VALUE, ...) runs one statement (or
# script) under each query protocol of protocols (default simple,
# extended, prepared) in that order, each after bh_seal_mark(), and calls
# check with (protocol, exit code, errors, events), events being
# bh_failures_in_order() since that mark:
#   protocols       a list of some of simple, extended, prepared
#   simple          the SQL psql sends for the simple protocol
#   script          the pgbench script of the extended and prepared ones
#                   (bh_pgbench_script, with transactions, set and user)
#   user            the role of both clients (-U)
#   on_error_stop   psql's (default 0)
#   wait_gone       1: wait until user's sessions have ended before the
#                   events are read (their aborts recorded)
#   check           the callback
#
# bh_bind_fails_last(NODE, NAME, N, BODY, actor => 0) runs pgbench -M
# prepared for N transactions of the script BODY (against the node's
# default database) and checks that it fails at the last Bind: pgbench
# sends its variables as parameters of prepared statements; in BODY :n
# counts the transactions (1 to N, from the sequence public.runs, which
# the test creates; restarted first) and :v is '9' but in the last, where
# it is 'x' (a parameter that does not convert: "invalid input syntax for
# type integer", or bigint).  BODY runs in a transaction under
# bh_audit.set_context(actor_id => NAME), unless actor => 0 (BODY as is).
#
# bh_bind_tables(NODE) creates, in the node's default database, the
# schemas bx and by, each with tagged tables a and b (id int, patient text;
# resource types BxA, BxB, ByA, ByB; bx.a and bx.b one row each), the
# untagged partitioned table bx.parent with its partitions p1 (ids 0-9)
# and p2 (10-19) tagged on their own (BxP1, BxP2), and the sequence
# public.runs: the set-up of the tests of Bind failures over several tables.
#
# bh_moved_path_tables(NODE) creates, in the node's default database, the
# schemas sx and sy, each with a tagged table a (id int, patient text; one
# row: 1, 'x' and 1, 'y'; resource types SxA and SyA), the view bv.ve over
# the ledger and the sequence public.runs: the set-up of the tests of a
# Bind under a search_path changed since the statement's analysis.
#
# bh_bind_as_execute(NODE, NAME, SQL, WANT) checks with is() that SQL,
# with %s for its one integer parameter, records WANT when it fails at
# EXECUTE (PREPARE under search_path sx, EXECUTE under sy with 'x', as actor
# e_NAME) and the same when it fails at Bind (bh_bind_fails_last, the path
# switched from sx to sy within the run's last transaction, as actor
# b_NAME).  WANT is bh_failures_since's lines without error_type and
# message, the first line's actor left out and the others' given as %s.
#
# bh_queue_table(NODE, DB, N, extension => 1) creates in DB (after CREATE
# EXTENSION bh_audit if extension => 1) the schema tN with the tagged
# table tN.pat (id int PRIMARY KEY, name text; resource type PatientN,
# the patient its id): the set-up of the tests of the queue's ids.
# bh_queue_id(NODE, DB, N, PAT) returns the id of the row of DB's
# bh_audit.queue holding the event of tN.pat's row PAT.
#
# bh_app_table(NODE, N, PRIVS, elog => 1) creates, in the node's default
# database, the login role appN and the schema cN (USAGE granted to it)
# with the tagged table cN.pat (id int PRIMARY KEY, name text; resource
# type PatientN, the patient its id; one row, 1, 'x') on which appN is
# granted PRIVS (e.g. 'SELECT, INSERT'), and, with elog => 1, the table
# cN.elog (msg text) appN may insert into: the set-up of the tests of an
# application role's statements in functions.
#
# bh_reads_as(NODE, ACTOR, ROLE, SQL) runs SQL with psql as ROLE (-U) in
# a session whose bh_audit.actor_id is ACTOR (errors tolerated), seals,
# and returns the patients recorded read by ACTOR (sorted, joined by ',')
# and what the client saw ("stdout\nstderr").
#
# bh_lock_waits_ended(NODE, LOCK, CALLS) runs LOCK (a LOCK TABLE
# statement) in a transaction of a session of its own, which holds it
# (rolled back at the end), and each statement of the hash CALLS
# (name => SQL), which waits for that lock, in a
# transaction of its own under actor "<how>_<name>", ended three ways: by a
# statement_timeout (st) of 1 s, a lock_timeout (lt) of 150 ms, and by
# pg_cancel_backend() once pg_stat_activity shows it waiting (cx); checks
# with like() and ok() that each waits and ends so.  The test then reads
# the FAILUREs each recorded.
#
# bh_poll_session(SESSION, SQL, WANT, TRIES) runs SQL on the
# background_psql SESSION (query_safe) every 0.1 s until it returns WANT
# (default '1'), at most TRIES times (default 300: 30 s); returns whether
# it did.  For a monitor that a lock must not hold up (a session of its
# own, often in another database), where poll_query_until's new
# connections could wait.
#
# bh_start_drop(NODE, DROP, STEPS, begin => 1) opens two background_psql
# sessions of the node's default database: a transaction (deadlock_timeout
# 100 ms) that runs each statement of the list STEPS, then a session
# (deadlock_timeout 10 s: the other finds a deadlock; client_min_messages
# warning) that starts DROP, a statement dropping the extension, without
# waiting for it to end (in a transaction if begin => 1, for the test to
# roll back).  Returns (the transaction's session, the drop's, the drop's
# pid).
#
# bh_drop_after_commit(MON, NAME, W, D, AFTER) ends a drop started by
# bh_start_drop (no begin) that waits for the transaction W: W runs the
# statements of the list AFTER and commits; checks with is() that it
# commits, that the drop D completes and (asked of MON, a background_psql
# session) that the extension is gone; ends W and D.
#
# bh_drop_waits_for_reader(NODE, MON, DROP, TABLE, READ) checks with ok()
# that DROP, a statement dropping the extension that PostgreSQL makes lock
# TABLE, lets a reader of TABLE commit: a session reads TABLE (READ; by
# default SELECT count(*) FROM TABLE) in a transaction, another starts
# DROP in a transaction and waits for TABLE (seen in pg_locks by MON, a
# background_psql session, best in another database, which no lock of the
# drop's can hold up); the reader's first event (bh_audit.emit()) comes
# and its transaction commits without an error (no deadlock, 40P01); the
# drop then drops the extension without an error, and is rolled back.
#
# bh_cancel_waiting(NODE, DB, SQL, WAIT) runs SQL with psql in a session
# of its own and cancels it with pg_cancel_backend() once pg_stat_activity
# shows it in WAIT (a wait_event or wait_event_type: by default PgSleep, a
# statement calling pg_sleep(); 'Lock'...): the statement has then done
# all it does before that wait, however slow the machine (a
# statement_timeout could fire before).  Checks with ok() that it waits.
# Returns psql's stdout and stderr (notices, the cancel's ERROR).
#
# bh_locale(NAME) returns the locale NAME (language_TERRITORY.CHARMAP,
# e.g. fr_FR.UTF-8) for the processes the test starts from then on (initdb,
# the server, psql): the machine's own if a process started now gets it,
# else one made with localedef (package locales) into the directory
# locales of the test's own (tmp_check), which LOCPATH names ahead of
# glibc's directory /usr/lib/locale (C.utf8 and the like: glibc reads no
# other place, its archive of locale-gen's locales neither, once LOCPATH
# is set; a locale only there is then made too).  Nothing is installed on
# the machine.  Returns undef, with a diag saying why, where the locale
# cannot be made (no localedef, no sources of it).
#
# bh_locales(NAME...) returns the locales NAME.UTF-8 (NAME
# language_TERRITORY) that bh_locale could give, in that order: made
# before the node starts, which inherits LOCPATH.
# bh_translated(NODE, DOMAINS, LOCALE...) returns those LOCALEs for which
# NODE's PostgreSQL has each message catalog of DOMAINS (e.g.
# ['postgres', 'plpgsql'], of the server's major version; the catalog of
# the locale's language_TERRITORY or language), with a diag for each left
# out.
# bh_events_under(NODE, LANG, SQL, types => 1) runs SQL with psql under
# lc_messages LANG (its errors ignored) and returns the events it
# recorded (sealed), a line each in the order of seq:
# "action|outcome|table|error_message", with types => 1
# "action|outcome|table|error_type|resource_type|error_message".
# bh_reads_since(NODE, MARK, TYPE) seals and returns the patients (sorted,
# comma-separated) of the READ events of resource type TYPE after seq MARK
# (bh_seal_mark).
# bh_while_change_held(NODE, CHANGE, STATEMENT, WHAT, fails => 1) runs the
# psql input STATEMENT in a session of its own while another transaction
# holds CHANGE uncommitted, checks with ok() that it waits for it (WHAT
# names it), then commits CHANGE, lets STATEMENT end and returns what its
# session wrote to stderr (its NOTICEs, its error); fails => 1: STATEMENT
# is to fail.  For the re-check of a concurrently changed row
# (EvalPlanQual).
#
# bh_notes_ledger(NODE, DB) tags a table notes (id, patient) of DB, inserts
# two rows and seals them: a ledger to dump.
# bh_paced_dump(NODE, DB, NAME, args => [...], busy => 1) dumps DB with
# pg_dump (plain SQL, with the further options args, as --section=data),
# checked with ok(), and writes tmp_check/NAME.sql: the dump with a
# bh_audit.seal() after each COPY's data, so that a sealer's batch runs
# between the transactions of a psql restore (each COPY its own), as the
# sealer of a running database seals meanwhile; busy => 1 queues an event
# before each of those seals, so that the batch has events to chain.
# Returns the file's path.
# bh_restore_file(NODE, DB, FILE, WHAT) restores FILE into DB with psql
# (ON_ERROR_STOP), checked with ok() named "DB: WHAT".
package BhAuditTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(bh_node bh_event_function bh_queue_raw_function
  bh_encoding_node bh_export_verified bh_wait_sealed bh_losses_view
  bh_loss_lines bh_chain_valid bh_wait_ready bh_crash_restart bh_login
  bh_login_refused_late
  bh_stop_sealer bh_hold_sealer bh_seal_session bh_gdb_attach bh_dropped
  bh_last_seq bh_lost_recorded bh_wait_lost bh_timeline_switch bh_seal_mark
  bh_failures_since bh_failures_in_order bh_pgbench_script bh_run_protocols
  bh_bind_fails_last bh_bind_tables bh_moved_path_tables bh_bind_as_execute
  bh_queue_table bh_queue_id bh_app_table bh_reads_as bh_lock_waits_ended
  bh_poll_session bh_start_drop bh_drop_after_commit bh_drop_waits_for_reader
  bh_cancel_waiting bh_locale bh_locales bh_translated bh_events_under
  bh_reads_since bh_while_change_held bh_queued_unsealed bh_continued
  bh_verify_jsonl bh_reads_exported bh_notes_c_node bh_seal_in bh_notes_ledger
  bh_paced_dump bh_restore_file bh_rec_and_plain bh_statement_failures
  bh_no_value_recorded bh_temp_dependency_function bh_session_given
  bh_clinic_notes bh_wait_temp_dropped bh_crash_session bh_cleaned_out_by
  bh_events_valid_since bh_pg_upgrade bh_rec_node bh_digits_function
  bh_masked_session bh_masked_dropped bh_tagged_temp_cleaned_out);

sub bh_node
{
	my ($name, %opt) = @_;
	my $db = $opt{database} // 'postgres';
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(%{ $opt{init} // {} });
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'bh_audit'\nbh_audit.database = '$db'\n"
		  . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"})
	  if $db ne 'postgres' && ($opt{create_database} // 1);
	$node->safe_psql($db, 'CREATE EXTENSION bh_audit') if $opt{extension} // 1;
	return $node;
}

# depend_on_temp(fn, rel, VARIADIC cols) and depend_on_temp_type(typ, rel,
# VARIADIC cols), created in $db by a superuser, callable by anyone: give
# the generated columns cols of rel (their expressions, pg_attrdef) a
# dependency on function fn, or on type typ, by hand, as PostgreSQL records
# one on a function the expression calls or a type it casts to.  With fn or
# typ an object of the caller's temporary schema (typ: a temporary table's
# row type), PostgreSQL drops the columns when that object goes (the
# session's end, a crashed session's clean-up), as it would a generated
# column calling or casting to it, which the guard refuses
# (column_guard.c): it stands for any dependency on the temporary schema
# that a check misses.
sub bh_temp_dependency_function
{
	my ($node, $db) = @_;

	$node->safe_psql($db // 'postgres', q{
CREATE FUNCTION public.depend_on_temp_object(refclass regclass, refobj oid, rel regclass, cols name[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
INSERT INTO pg_catalog.pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
SELECT 'pg_catalog.pg_attrdef'::regclass, d.oid, 0, refclass, refobj, 0, 'n'
  FROM pg_catalog.pg_attrdef d
  JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = rel AND a.attname = ANY (cols) AND a.attgenerated = 's'
$$;
CREATE FUNCTION public.depend_on_temp(fn regprocedure, rel regclass, VARIADIC cols name[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
SELECT public.depend_on_temp_object('pg_catalog.pg_proc', fn, rel, cols)
$$;
CREATE FUNCTION public.depend_on_temp_type(typ regtype, rel regclass, VARIADIC cols name[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
SELECT public.depend_on_temp_object('pg_catalog.pg_type', typ, rel, cols)
$$;
REVOKE ALL ON FUNCTION public.depend_on_temp_object(regclass, oid, regclass, name[]) FROM PUBLIC;
});
	return;
}

sub bh_event_function
{
	my ($node, $db, $actor) = @_;
	$node->safe_psql($db, qq{
CREATE FUNCTION ev(tag text) RETURNS json LANGUAGE sql VOLATILE AS \$\$
  SELECT json_build_object(
    'schema_version', '1.1',
    'event_id', gen_random_uuid(),
    'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'service', json_build_object('name', 'postgresql'),
    'actor', json_build_object('subject_id', '$actor', 'subject_type', 'human'),
    'action', json_build_object('type', 'READ', 'phi_touched', true),
    'resource', json_build_object('type', 'Patient', 'id', tag, 'patient_id', tag),
    'outcome', json_build_object('status', 'SUCCESS'))
\$\$;
CREATE FUNCTION ring_push(event json) RETURNS boolean
AS '\$libdir/bh_audit', 'bh_audit_ring_push_test' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ring_push(json) FROM PUBLIC;
});
	return;
}

sub bh_queue_raw_function
{
	my ($node, $db) = @_;

	$node->safe_psql($db, q{
CREATE FUNCTION queue_raw(text) RETURNS boolean
AS '$libdir/bh_audit', 'bh_audit_test_queue_event' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION queue_raw(text) FROM PUBLIC;
});
	return;
}

sub bh_encoding_node
{
	my ($name, $ledger, $other, %opt) = @_;
	my $node = bh_node($name, %opt, database => 'audit', create_database => 0,
		extension => 0);

	foreach my $db ([ 'audit', $ledger ], [ 'clinic', $other ])
	{
		next unless defined $db->[1];
		$node->safe_psql('postgres',
			"CREATE DATABASE $db->[0] ENCODING '$db->[1]' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	}
	$node->safe_psql('audit', 'CREATE EXTENSION bh_audit');
	ok($node->poll_query_until('audit',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
		"the sealer works in the $ledger database");
	return $node;
}

sub bh_export_verified
{
	my ($node, $db, $name) = @_;
	my $export = $node->safe_psql($db, 'SELECT bh_audit.export_jsonl()',
		extra_params => ['--set=FETCH_COUNT=1000']);
	my ($status, $out, $err) = bh_verify_jsonl($name, "$export\n");

	ok($status == 0, 'the export passes the independent verifier')
	  or diag($out . $err);
	return $export;
}

# test/verify_jsonl.py, the auditors' outside verifier, run on $text as a
# file named $name: its exit status (128 + the signal's number if one ended
# it), report and standard error.
sub bh_verify_jsonl
{
	my ($name, $text) = @_;
	my $verifier = dirname(__FILE__) . '/../verify_jsonl.py';
	my $file = "$PostgreSQL::Test::Utils::tmp_check/$name.jsonl";
	my ($out, $err) = ('', '');

	PostgreSQL::Test::Utils::append_to_file($file, $text);
	IPC::Run::run([ 'python3', $verifier, $file ], '>', \$out, '2>', \$err);
	return (($? & 127) ? 128 + ($? & 127) : $? >> 8, $out, $err);
}

# Three READ events (Doc d1 to d3, patient p1) sealed in postgres's ledger,
# exported as $name: the export, which passes the verifier (one check).
sub bh_reads_exported
{
	my ($node, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'd' || i, 'p1') FROM generate_series(1, 3) i;
SELECT bh_audit.seal();
});
	return bh_export_verified($node, 'postgres', $name);
}

sub bh_wait_sealed
{
	my ($node, $db, $where, $n) = @_;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	my $count;
	while (1)
	{
		$node->safe_psql($db, 'SELECT bh_audit.seal()');
		$count = $node->safe_psql($db,
			"SELECT count(*) FROM bh_audit.events WHERE $where");
		last if $count >= $n || time() > $deadline;
		select(undef, undef, undef, 0.1);
	}
	return $count;
}

sub bh_losses_view
{
	my ($node, $db) = @_;

	$node->safe_psql($db, q{
CREATE VIEW losses AS
  SELECT seq, event -> 'metadata' AS meta FROM bh_audit.events
   WHERE error_type = 'EventsLost' ORDER BY seq;
});
	return;
}

sub bh_loss_lines
{
	my ($node, $db) = @_;

	return $node->safe_psql($db, q{
SELECT string_agg(concat_ws('|', coalesce(meta ->> 'events_lost_in_ring', ''),
                            coalesce(meta ->> 'events_dropped', ''),
                            coalesce(meta ->> 'unclean_stops', '')), E'\n' ORDER BY seq)
  FROM losses});
}

sub bh_chain_valid
{
	my ($node, $db) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	is($node->safe_psql($db, 'SELECT result FROM bh_audit.verify_chain()'),
		'PASS', 'the chain verifies');
	is($node->safe_psql($db,
			'SELECT count(*) FROM bh_audit.events WHERE NOT bh_audit.validate_event(event)'),
		'0', 'every event in the ledger is valid');
	return;
}

sub bh_wait_ready
{
	my ($node, $db) = @_;
	for (1 .. 600)
	{
		my ($ret) = bh_login($node, $db);
		return 1 if $ret == 0;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

sub bh_crash_restart
{
	my ($node, $pid, $db) = @_;
	my $log_offset = -s $node->logfile;
	my $restarted = 0;

	kill 'KILL', $pid;
	for (1 .. 600)
	{
		$restarted = 1, last
		  if slurp_file($node->logfile, $log_offset) =~
		  /all server processes terminated; reinitializing/;
		select(undef, undef, undef, 0.1);
	}
	return $restarted && bh_wait_ready($node, $db);
}

sub bh_session_given
{
	my ($node, $db, $schema, $params) = @_;
	my ($n) = $schema =~ /^pg_temp_(\d+)$/
	  or die "not a temporary schema: $schema";
	my @held;

	for (1 .. 300)
	{
		my $s = $node->background_psql($db, on_error_stop => 0,
			extra_params => $params // []);
		my $id = $s->query_safe(q{
SELECT split_part(virtualtransaction, '/', 1) FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'virtualxid'});
		if ($id == $n)
		{
			$_->quit foreach @held;
			return $s;
		}
		if ($id < $n)
		{
			push @held, $s;
			next;
		}
		$s->quit;
		select(undef, undef, undef, 0.1);
	}
	my $who = $node->safe_psql($db, q{
SELECT string_agg(backend_type || coalesce(' ' || usename, ''), ', ')
  FROM pg_stat_activity WHERE pid <> pg_backend_pid()});
	$_->quit foreach @held;
	die "no session was given backend id $n within 30 s (connected: $who)";
}

sub bh_stop_sealer
{
	my ($node, $db) = @_;
	my $pid = '';

	my $napping = q{
SELECT pid FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND state = 'idle' AND wait_event = 'Extension'};

	# (it may wake between the look and the signal: looked at again once
	# stopped, when it can no longer change what it reports)
	for (1 .. 600)
	{
		$pid = $node->safe_psql($db, $napping);
		if ($pid ne '')
		{
			kill 'STOP', $pid;
			return $pid if $node->safe_psql($db, $napping) eq $pid;
			kill 'CONT', $pid;
		}
		select(undef, undef, undef, 0.1);
	}
	die "the bh_audit sealer did not nap within 60 s";
}

sub bh_hold_sealer
{
	my ($node, $db, %opt) = @_;
	my $s = $node->background_psql($db, on_error_stop => 0);
	my $mode = $opt{mode} // 'EXCLUSIVE';

	$s->query_safe('BEGIN');
	$s->query_safe("LOCK TABLE bh_audit.events IN $mode MODE");
	$node->safe_psql($db, "SET bh_audit.on_ring_full = drop;\n$opt{fill}")
	  if defined $opt{fill};
	return $s;
}

sub bh_dropped
{
	my ($node, $db) = @_;

	return $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
}

sub bh_last_seq
{
	my ($node, $db) = @_;

	return $node->safe_psql($db, 'SELECT coalesce(max(seq), 0) FROM bh_audit.events');
}

sub bh_lost_recorded
{
	my ($node, $db, $mark) = @_;

	return $node->safe_psql($db, qq{
SELECT coalesce(sum((event -> 'metadata' ->> 'events_dropped')::bigint), 0)
  FROM bh_audit.events WHERE seq > $mark AND error_type = 'EventsLost'});
}

sub bh_wait_lost
{
	my ($node, $db, $mark, $n) = @_;

	for (1 .. 120)
	{
		$node->safe_psql($db, 'SELECT bh_audit.seal()');
		return if bh_lost_recorded($node, $db, $mark) >= $n;
		select(undef, undef, undef, 0.5);
	}
	return;
}

sub bh_seal_session
{
	my ($node, $db) = @_;
	my $s = $node->background_psql($db);

	$s->query_safe(q{
CREATE FUNCTION pg_temp.try_seal() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE m text; d text;
BEGIN
  PERFORM bh_audit.seal();
  RETURN 'sealed';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN m || E'\n' || d;
END $f$});
	return $s;
}

sub bh_gdb_attach
{
	my ($pid, $dir, $commands) = @_;
	my $deadline = time() + 60;

	PostgreSQL::Test::Utils::append_to_file("$dir/gdb.cmd", q{set pagination off
set confirm off
handle SIGUSR1 nostop noprint pass
handle SIGUSR2 nostop noprint pass
} . $commands);
	my $gdb = IPC::Run::start([ 'gdb', '-nx', '-batch', '-p', $pid, '-x', "$dir/gdb.cmd" ],
		'>', "$dir/gdb.log", '2>&1');
	select(undef, undef, undef, 0.05) until -e "$dir/armed" || time() > $deadline;
	return $gdb;
}

sub bh_login
{
	my ($node, $db, @args) = @_;
	my ($out, $err) = ('', '');

	IPC::Run::run(
		[ 'psql', '-XAtq', '-d', $node->connstr($db), @args, '-c', 'SELECT 1' ],
		'<', \undef, '>', \$out, '2>', \$err);
	chomp $out;
	# a psql killed by a signal did not log in either
	return ($? & 127 ? 128 + ($? & 127) : $? >> 8, $out, $err);
}

sub bh_login_refused_late
{
	my ($node, $db, $name, @args) = @_;
	local $ENV{PGOPTIONS} = '-c work_mem=bogus';
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my (undef, undef, $err) = $node->psql($db, 'SELECT 1', extra_params => \@args);

	like($err, qr/invalid value for parameter "work_mem"/, $name);
	return;
}

sub bh_timeline_switch
{
	my ($node, $tli) = @_;
	my $history = slurp_file(sprintf('%s/pg_wal/%08X.history', $node->data_dir, $tli));
	my @lines = grep { /\S/ && !/^\s*#/ } split /\n/, $history;

	die "no switch in the history file of timeline $tli" unless @lines;
	$lines[-1] =~ /^\s*(\d+)\t([0-9A-F]+\/[0-9A-F]+)\t(.*)$/
	  or die "unexpected history line: $lines[-1]";
	return ($1, $2, $3);
}

sub bh_seal_mark
{
	my ($node, $db) = @_;
	my $mark = $node->safe_psql($db,
		'SELECT bh_audit.seal(); SELECT coalesce(max(seq), 0) FROM bh_audit.events');

	return (split /\n/, $mark)[-1];
}

sub bh_failures_since
{
	my ($node, $db, $mark, %opt) = @_;
	my $in_order = $opt{in_order} // 0;
	my $actor = $in_order ? '' : ' actor_id,';
	my $message = ($opt{message} // 1)
	  ? ", event -> 'outcome' ->> 'error_message'" : '';
	my $error_type = ($opt{error_type} // 1) ? ' error_type,' : '';
	my $joined = $in_order ? q{',' ORDER BY seq}
	  : q{E'\n' ORDER BY actor_id, event -> 'metadata' ->> 'table'};

	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	return $node->safe_psql($db, qq{
SELECT string_agg(concat_ws('|',$actor action, outcome,$error_type
                            event -> 'metadata' ->> 'table'$message),
                  $joined)
  FROM bh_audit.events
 WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

sub bh_failures_in_order
{
	my ($node, $db, $mark) = @_;

	return bh_failures_since($node, $db, $mark, in_order => 1,
		error_type => 0, message => 0);
}

sub bh_pgbench_script
{
	my ($node, $db, $mode, $script, %opt) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/bh_pgbench_script.sql";
	my ($out, $err) = ('', '');

	open my $fh, '>', $file or die "could not write $file: $!";
	print $fh $script;
	close $fh;
	IPC::Run::run(
		[
			'pgbench', '-n', '-M', $mode, '-t', $opt{transactions} // 1,
			(defined $opt{set} ? ('-D', $opt{set}) : ()),
			(defined $opt{user} ? ('-U', $opt{user}) : ()),
			'-h', $node->host, '-p', $node->port, '-f', $file, $db
		],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub bh_run_protocols
{
	my ($node, $db, %opt) = @_;
	my $user = $opt{user};

	foreach my $protocol (@{ $opt{protocols} // [qw(simple extended prepared)] })
	{
		my $mark = bh_seal_mark($node, $db);
		my ($ret, $out, $err);

		if ($protocol eq 'simple')
		{
			($ret, $out, $err) = $node->psql($db, $opt{simple},
				on_error_stop => $opt{on_error_stop} // 0,
				extra_params => [ defined $user ? ('-U', $user) : () ]);
		}
		else
		{
			($ret, $out, $err) = bh_pgbench_script($node, $db, $protocol,
				$opt{script}, %opt{qw(transactions set user)});
		}
		$node->poll_query_until($db,
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = '$user'")
		  or die "$user still connected"
		  if $opt{wait_gone};
		$opt{check}->($protocol, $ret, $err,
			bh_failures_in_order($node, $db, $mark));
	}
	return;
}

sub bh_bind_fails_last
{
	my ($node, $name, $n, $body, %opt) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$body = "BEGIN;\nSELECT bh_audit.set_context(actor_id => '$name');\n"
	  . $body . "COMMIT;\n"
	  if $opt{actor} // 1;
	$node->safe_psql('postgres', 'ALTER SEQUENCE public.runs RESTART');
	$node->pgbench("-n -M prepared -t $n", 2, [qr{}],
		[qr{invalid input syntax for type (integer|bigint)}], "$name: the last Bind fails",
		{ "bind_$name" => "SELECT nextval('public.runs') AS n \\gset\n"
			  . "SELECT CASE WHEN :n = $n THEN 'x' ELSE '9' END AS v \\gset\n"
			  . $body });
	return;
}

sub bh_bind_tables
{
	my ($node) = @_;

	$node->safe_psql('postgres', q{
CREATE SCHEMA bx; CREATE SCHEMA by;
CREATE TABLE bx.a (id int PRIMARY KEY, patient text);
CREATE TABLE bx.b (id int PRIMARY KEY, patient text);
CREATE TABLE by.a (id int PRIMARY KEY, patient text);
CREATE TABLE by.b (id int PRIMARY KEY, patient text);
INSERT INTO bx.a VALUES (1, 'pa'); INSERT INTO bx.b VALUES (1, 'pb');
SELECT bh_audit.tag_table('bx.a', 'BxA', 'id', 'patient');
SELECT bh_audit.tag_table('bx.b', 'BxB', 'id', 'patient');
SELECT bh_audit.tag_table('by.a', 'ByA', 'id', 'patient');
SELECT bh_audit.tag_table('by.b', 'ByB', 'id', 'patient');
CREATE TABLE bx.parent (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE bx.p1 PARTITION OF bx.parent FOR VALUES FROM (0) TO (10);
CREATE TABLE bx.p2 PARTITION OF bx.parent FOR VALUES FROM (10) TO (20);
SELECT bh_audit.tag_table('bx.p1', 'BxP1', 'id', 'patient');
SELECT bh_audit.tag_table('bx.p2', 'BxP2', 'id', 'patient');
CREATE SEQUENCE runs;
});
	return;
}

sub bh_moved_path_tables
{
	my ($node) = @_;

	$node->safe_psql('postgres', q{
CREATE SCHEMA sx; CREATE SCHEMA sy; CREATE SCHEMA bv;
CREATE TABLE sx.a (id int PRIMARY KEY, patient text);
CREATE TABLE sy.a (id int PRIMARY KEY, patient text);
INSERT INTO sx.a VALUES (1, 'x'); INSERT INTO sy.a VALUES (1, 'y');
SELECT bh_audit.tag_table('sx.a', 'SxA', 'id', 'patient');
SELECT bh_audit.tag_table('sy.a', 'SyA', 'id', 'patient');
CREATE VIEW bv.ve AS SELECT seq FROM bh_audit.events;
CREATE SEQUENCE runs;
});
	return;
}

sub bh_bind_as_execute
{
	my ($node, $name, $sql, $want) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($mark, $actor, $lines);

	$actor = "e_$name";
	$mark = bh_seal_mark($node, 'postgres');
	$node->psql('postgres', sprintf(q{
SET search_path = sx, public;
PREPARE q(int) AS %s;
SET search_path = sy, public;
BEGIN; SELECT bh_audit.set_context(actor_id => '%s'); EXECUTE q('x'); ROLLBACK;
}, sprintf($sql, '$1'), $actor));
	($lines = "$actor|$want") =~ s/%s/$actor/g;
	is(bh_failures_since($node, 'postgres', $mark, message => 0, error_type => 0),
		$lines, "EXECUTE: $name");

	$actor = "b_$name";
	$mark = bh_seal_mark($node, 'postgres');
	bh_bind_fails_last($node, $actor, 2,
		"SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'sx, public' ELSE 'sy, public' END, true);\n"
		  . sprintf($sql, ':v') . ";\n");
	($lines = "$actor|$want") =~ s/%s/$actor/g;
	is(bh_failures_since($node, 'postgres', $mark, message => 0, error_type => 0),
		$lines, "Bind: $name, as at EXECUTE");
	return;
}

sub bh_queue_table
{
	my ($node, $db, $n, %opt) = @_;

	$node->safe_psql($db, ($opt{extension} ? "CREATE EXTENSION bh_audit;\n" : '') . qq{
CREATE SCHEMA t$n;
CREATE TABLE t$n.pat (id int PRIMARY KEY, name text);
SELECT bh_audit.tag_table('t$n.pat', 'Patient$n', 'id', 'id');
});
	return;
}

sub bh_queue_id
{
	my ($node, $db, $n, $pat) = @_;

	return $node->safe_psql($db, qq{
SELECT q.id FROM bh_audit.queue q, unnest(q.events) ev
 WHERE ev -> 'resource' ->> 'type' = 'Patient$n'
   AND (ev -> 'resource' ->> 'id')::int = $pat});
}

sub bh_app_table
{
	my ($node, $n, $privs, %opt) = @_;

	$node->safe_psql('postgres', qq{
CREATE ROLE app$n LOGIN;
CREATE SCHEMA c$n;
GRANT USAGE ON SCHEMA c$n TO app$n;
CREATE TABLE c$n.pat (id int PRIMARY KEY, name text);
GRANT $privs ON c$n.pat TO app$n;
SELECT bh_audit.tag_table('c$n.pat', 'Patient$n', 'id', 'id');
INSERT INTO c$n.pat VALUES (1, 'x');
} . ($opt{elog} ? qq{CREATE TABLE c$n.elog (msg text);
GRANT INSERT ON c$n.elog TO app$n;
} : ''));
	return;
}

sub bh_reads_as
{
	my ($node, $actor, $role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET bh_audit.actor_id = '$actor';\n$sql", on_error_stop => 0,
		extra_params => [ '-U', $role ]);

	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $read = $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(DISTINCT patient_id, ',' ORDER BY patient_id), '')
  FROM bh_audit.events WHERE action = 'READ' AND actor_id = '$actor'
   AND patient_id IS NOT NULL});
	return ($read, "$out\n$err");
}

sub bh_lock_waits_ended
{
	my ($node, $lock, $calls) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my %calls = %$calls;
	my $holder = $node->background_psql('postgres');

	$holder->query_safe('BEGIN');
	$holder->query_safe($lock);

	# (a statement_timeout runs from the statement's start: long enough
	# that the statement reaches its wait first on a loaded machine, since
	# a timeout that fires before leaves its FAILURE out; lock_timeout runs
	# from the wait's start)
	foreach my $how ([ 'st', q{SET LOCAL statement_timeout = '1s'}, 'statement timeout' ],
		[ 'lt', q{SET LOCAL lock_timeout = '150ms'}, 'lock timeout' ])
	{
		my ($tag, $set, $why) = @$how;
		foreach my $call (sort keys %calls)
		{
			my ($ret, $out, $err) = $node->psql('postgres', qq{
BEGIN;
SELECT bh_audit.set_context(actor_id => '${tag}_$call');
$set;
$calls{$call};
});
			like($err, qr/canceling statement due to $why/, "$tag $call: waits and is cancelled");
		}
	}

	foreach my $call (sort keys %calls)
	{
		my $s = $node->background_psql('postgres', on_error_stop => 0);
		$s->query_safe("SET application_name = 'cancel_$call'");
		$s->query_safe('BEGIN');
		$s->query_safe("SELECT bh_audit.set_context(actor_id => 'cx_$call')");
		$s->query_until(qr/started/, "\\echo started\n$calls{$call};\n");
		ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'cancel_$call' AND wait_event_type = 'Lock'}),
			"cx $call: waits for the lock");
		$node->safe_psql('postgres',
			"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'cancel_$call'");
		$s->query("SELECT 'next'");
		like($s->{stderr}, qr/canceling statement due to user request/, "cx $call: cancelled");
		$s->quit;
	}
	$holder->query_safe('ROLLBACK');
	$holder->quit;
	return;
}

sub bh_poll_session
{
	my ($session, $sql, $want, $tries) = @_;

	foreach (1 .. ($tries // 300))
	{
		return 1 if $session->query_safe($sql) eq ($want // '1');
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

sub bh_start_drop
{
	my ($node, $drop, $steps, %opt) = @_;
	my $w = $node->background_psql('postgres', on_error_stop => 0);
	my $d = $node->background_psql('postgres', on_error_stop => 0);

	$w->query_safe(q{SET deadlock_timeout = '100ms'});
	$d->query_safe(q{SET deadlock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	$w->query_safe('BEGIN');
	$w->query_safe($_) foreach @$steps;
	my $dpid = $d->query_safe('SELECT pg_backend_pid()');
	$d->query_safe('BEGIN') if $opt{begin};
	$d->query_until(qr/started/, "\\echo started\n$drop;\n");
	return ($w, $d, $dpid);
}

sub bh_drop_after_commit
{
	my ($mon, $name, $w, $d, $after) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$w->query($_) foreach @$after, 'COMMIT';
	is($w->{stderr}, '', "$name: the transaction commits");
	$d->query(q{SELECT 'next'});
	is($d->{stderr}, '', "$name: the drop completes");
	$w->quit;
	$d->quit;
	is($mon->query_safe(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'0', "$name: the extension is gone");
	return;
}

sub bh_drop_waits_for_reader
{
	my ($node, $mon, $drop, $table, $read) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $oid = $node->safe_psql('postgres', qq{SELECT '$table'::regclass::oid});
	my ($r, $d, $dpid) = bh_start_drop($node, $drop,
		[ $read // "SELECT count(*) FROM $table" ], begin => 1);

	ok(bh_poll_session($mon, qq{SELECT count(*) FROM pg_locks
 WHERE pid = $dpid AND NOT granted AND relation = $oid}),
		"the drop waits for the reader of $table");
	$r->query(q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')});
	$r->query('COMMIT');
	is($r->{stderr}, '', "the reader's first event commits, no deadlock (40P01)");
	is($d->query(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'0', '... and the drop then drops the extension');
	is($d->{stderr}, '', '... without an error');
	$d->query('ROLLBACK');
	$_->quit foreach $r, $d;
	return;
}

sub bh_cancel_waiting
{
	my ($node, $db, $sql, $wait) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $s = $node->background_psql($db, on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');

	$wait //= 'PgSleep';
	$s->query_until(qr/started/, "\\echo started\n$sql;\n");
	ok($node->poll_query_until($db, qq{
SELECT '$wait' IN (wait_event, wait_event_type) FROM pg_stat_activity WHERE pid = $pid}),
		"the statement waits ($wait)")
	  or diag("$s->{stderr}");
	$node->safe_psql($db, "SELECT pg_cancel_backend($pid)");
	my $out = $s->query("SELECT 'cancelled'");
	my $err = $s->{stderr};
	$s->quit;
	return ($out, $err);
}

# does a process started now (LC_ALL=NAME) get the locale NAME, of the
# character map CHARMAP?
sub _bh_locale_known
{
	my ($name, $charmap) = @_;
	my ($out, $err) = ('', '');
	my $norm = sub { (my $c = lc shift) =~ s/[^a-z0-9]//g; return $c };

	local $ENV{LC_ALL} = $name;
	eval { IPC::Run::run([ 'locale', 'charmap' ], '>', \$out, '2>', \$err) }
	  or return 0;
	chomp $out;
	return $err eq '' && $norm->($out) eq $norm->($charmap);
}

sub bh_locale
{
	my ($name) = @_;
	my ($input, $charmap) = $name =~ /^([^.]+)\.(.+)$/
	  or die "bh_locale: $name is not language_TERRITORY.CHARMAP";
	my $dir = "$PostgreSQL::Test::Utils::tmp_check/locales";
	my ($out, $err) = ('', '');

	return $name if _bh_locale_known($name, $charmap);
	mkdir $dir;
	# (exits with 1 after warnings, the locale made all the same)
	my $made = eval {
		IPC::Run::run([ 'localedef', '-i', $input, '-f', $charmap, "$dir/$name" ],
			'<', \undef, '>', \$out, '2>', \$err);
		1;
	};
	if (!$made || !-e "$dir/$name/LC_CTYPE")
	{
		diag("localedef (package locales) could not make the locale $name: "
			  . ($made ? "$out$err" : $@));
		return undef;
	}
	$ENV{LOCPATH} = "$dir:/usr/lib/locale";
	return $name if _bh_locale_known($name, $charmap);
	diag("the locale $name made with localedef into $dir is not found under LOCPATH");
	return undef;
}

sub bh_locales
{
	return grep { defined } map { bh_locale("$_.UTF-8") } @_;
}

sub bh_translated
{
	my ($node, $domains, @locales) = @_;
	my $localedir = $node->safe_psql('postgres',
		"SELECT setting FROM pg_config WHERE name = 'LOCALEDIR'");
	my $major = $node->pg_version->major;

	return grep {
		my ($locale, $cat) = ($_, $_ =~ s/\..*//r);
		my $found = 1;
		for my $domain (map { "$_-$major" } @$domains)
		{
			next if grep { -e "$localedir/$_/LC_MESSAGES/$domain.mo" } ($cat, $cat =~ s/_.*//r);
			diag("no message catalog $domain.mo of $cat under $localedir: $locale left out");
			$found = 0;
		}
		$found;
	} @locales;
}

sub bh_events_under
{
	my ($node, $lang, $sql, %opt) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my $types = $opt{types} ? " event -> 'outcome' ->> 'error_type', resource_type," : '';

	$node->psql('postgres', "SET lc_messages = '$lang';\n$sql");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, outcome, event -> 'metadata' ->> 'table',$types
                            event -> 'outcome' ->> 'error_message'), E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark});
}

sub bh_reads_since
{
	my ($node, $mark, $type) = @_;

	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = '$type'});
}

sub bh_while_change_held
{
	my ($node, $change, $statement, $what, %opt) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $writer = $node->background_psql('postgres');

	$writer->query_safe('BEGIN');
	$writer->query_safe($change);
	my $waiter = $node->background_psql('postgres', on_error_stop => !$opt{fails});
	$waiter->query_until(qr/waiting/, "\\echo waiting\n$statement\n");
	ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'}),
		"$what waits for the concurrent update");
	$writer->query_safe('COMMIT');
	$writer->quit;
	$waiter->quit;
	return $waiter->{stderr};
}

# notes (id, patient) tagged for writes in $db, holding (1, 'p1') and
# (2, 'p2'): two CREATE events queued.
sub bh_notes_two_rows
{
	my ($node, $db) = @_;

	$node->safe_psql($db, q{
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
INSERT INTO notes VALUES (1, 'p1'), (2, 'p2');
});
	return;
}

# A tagged table, notes, written in $db while the sealer works in another
# database: its two rows' events stay queued and $db's ledger empty (one
# check).  A copy of $db then holds those queued events (t/237, t/241).
sub bh_queued_unsealed
{
	my ($node, $db) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	bh_notes_two_rows($node, $db);
	is($node->safe_psql($db,
			'SELECT (SELECT count(*) FROM bh_audit.queue) > 0, (SELECT count(*) FROM bh_audit.events)'),
		't|0', "$db: events queued, its ledger empty");
	return;
}

# notes in $db as bh_notes_two_rows() makes it, its two events sealed into
# $db's ledger (t/242, t/248).
sub bh_notes_ledger
{
	my ($node, $db) = @_;

	bh_notes_two_rows($node, $db);
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	return;
}

# The sealer moved to $db (bh_audit.database, a restart), then a seal()
# there: what $db's queue holds is in its ledger.
sub bh_seal_in
{
	my ($node, $db) = @_;

	$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node->restart;
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	return;
}

# $columns (aggregates, or one event's columns) of the ledger_continued
# events in $db's ledger.
sub bh_continued
{
	my ($node, $db, $columns) = @_;

	return $node->safe_psql($db,
		"SELECT $columns FROM bh_audit.events WHERE event->'metadata'->>'change' = 'ledger_continued'");
}

# A node initialised in the C locale (UTF8), its messages untranslated,
# with notes (note_id, patient_id) tagged in postgres, holding (1, 'p1').
sub bh_notes_c_node
{
	my ($name) = @_;
	my $node = bh_node($name, init => { extra => [ '--locale=C', '--encoding=UTF8' ] });

	$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
});
	return $node;
}


# A plain dump of $db (pg_dump @{$opt{args}}) rewritten so that a seal()
# (after an emit() too, with busy => 1) runs after each COPY's data as psql
# restores it: the sealer seals between the restore's COPYs.  Returns the
# file's name.
sub bh_paced_dump
{
	my ($node, $db, $name, %opt) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my @args = @{ $opt{args} // [] };
	my $dump = "$PostgreSQL::Test::Utils::tmp_check/${name}_dump.sql";
	my $file = "$PostgreSQL::Test::Utils::tmp_check/$name.sql";
	my $seal = ($opt{busy} ? "SELECT bh_audit.emit('READ', 'Doc', 'd1', 'p1');\n" : '')
	  . "SELECT bh_audit.seal();\n";

	$node->command_ok(['pg_dump', '-d', $node->connstr($db), @args, '-f', $dump],
		join(' ', 'pg_dump', @args, "of $db"));
	my $sql = slurp_file($dump);
	$sql =~ s/^(\\\.\n)/$1$seal/mg;
	unlink $file;
	append_to_file($file, $sql);
	return $file;
}

# $file restored by psql into $db, stopping at the first error (one check).
sub bh_restore_file
{
	my ($node, $db, $file, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
			'-f', $file], "$db: $what");
	return;
}

# A tagged table rec of two rows, whose values hold PHI_TOKEN (see
# bh_no_value_recorded), and an untagged table plain of two rows
sub bh_rec_and_plain
{
	return q{
CREATE TABLE rec (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('rec', 'ClinicalRecord', 'id', 'patient_id');
INSERT INTO rec VALUES (1, 'pat_1', 'PHI_TOKEN_7QA1'), (2, 'pat_2', 'PHI_TOKEN_8QB2');
CREATE TABLE plain (id int, v text);
INSERT INTO plain VALUES (1, 'a'), (2, 'b');
};
}

# The failures that the statement (failing, or succeeding with ok => 1)
# recorded, one line each in the order of the ledger: action, error type,
# table and message
sub bh_statement_failures
{
	my ($node, $sql, $name, %opt) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = $node->psql('postgres', $sql);

	if ($opt{ok})
	{
		is($ret, 0, "$name: the statement succeeds") or diag($err);
	}
	else
	{
		isnt($ret, 0, "$name: the statement fails");
	}
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, error_type, event -> 'metadata' ->> 'table',
                            event -> 'outcome' ->> 'error_message'), E'\\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

# The closing checks of a test on bh_rec_and_plain's tables: no value of
# rec in the ledger, whose chain is valid
sub bh_no_value_recorded
{
	my ($node) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'PHI_TOKEN') > 0}),
		'0', 'no value of the table is in the ledger');
	bh_chain_valid($node, 'postgres');
}


# The login role clinic_owner, owner of the schema clinic and of its table
# notes (id int PRIMARY KEY, patient_id text, body text), tagged in postgres
# (resource type Note, the patient patient_id), holding (1, 'pat_1', 'a')
# and (2, 'pat_2', 'b'), analyzed (its row estimate 2) unless analyze => 0:
# the set-up of the tests of a tagged table's columns that go with a
# session's temporary objects.
sub bh_clinic_notes
{
	my ($node, %opt) = @_;
	my $analyze = ($opt{analyze} // 1) ? "ANALYZE clinic.notes;\n" : '';

	$node->safe_psql('postgres', qq{
CREATE ROLE clinic_owner LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
${analyze}SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
});
	return;
}

# Waits until no session of the role $role is connected to postgres and no
# function $func is left (the temporary schema's, dropped as the session
# ended), for at most the harness's timeout; else a diag ($what, by
# default "the temporary schema was not emptied"), the test's own checks
# then failing on what is left.
sub bh_wait_temp_dropped
{
	my ($node, $role, $func, $what) = @_;

	$node->poll_query_until('postgres', qq{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = '$role')
   AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = '$func')})
	  or diag($what // 'the temporary schema was not emptied');
	return;
}

# clinic_owner (bh_clinic_notes), in a session of its own (ON_ERROR_STOP),
# creates the function pg_temp.mask_tmp(text) and adds to clinic.notes the
# generated column masked, given a dependency on that function by hand
# (depend_on_temp(), bh_temp_dependency_function), then runs $sql: the
# column goes with the session's temporary schema when the session ends.
# Returns psql's exit code and stderr.
sub bh_masked_session
{
	my ($node, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$;
ALTER TABLE clinic.notes ADD COLUMN masked text GENERATED ALWAYS AS (upper(body)) STORED;
SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.notes', 'masked');
} . ($sql // ''), extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);

	return ($ret, $err);
}

# Once bh_masked_session's session has ended (bh_wait_temp_dropped),
# checks with is() that PostgreSQL dropped the column masked, and that
# the drop is recorded after seq $mark as one UPDATE event of clinic.notes
# naming it, statement "session end", with the row estimate (the check
# named $name).
sub bh_masked_dropped
{
	my ($node, $mark, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	bh_wait_temp_dropped($node, 'clinic_owner', 'mask_tmp');
	is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked' AND NOT attisdropped}),
		'0', 'PostgreSQL dropped the column at the session\'s end');
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, resource_id, event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns',
                            event -> 'metadata' ->> 'row_count_estimate'), ';')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
		'UPDATE|session end|masked|2', $name);
	return;
}

# The backend of the background_psql session $bg of $db killed (SIGKILL: a
# crash, which leaves its temporary schema and objects behind for the next
# session given that schema, or autovacuum, to clean out), checked with ok()
# that the server restarts (bh_crash_restart); $bg ended.  Returns the name
# of $bg's temporary schema (pg_temp_N).
sub bh_crash_session
{
	my ($node, $bg, $db) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	my $schema = $bg->query_safe(q{SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()});
	chomp $schema;
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	ok(bh_crash_restart($node, $pid, $db), 'the server restarts after the crash');
	eval { $bg->quit };
	return $schema;
}

# A session of the role $role given the crashed session's temporary schema
# $schema (bh_session_given) runs the statements of the list settings (SETs
# of its end-user context; default none), then its first CREATE TEMP
# TABLE, in which PostgreSQL cleans that schema out
# (InitTempTableNamespace() -> RemoveTempRelations()); checked with is()
# that the statement succeeds and that the session was given $schema (the
# check named given, by default "that session was given the dead
# session's temporary schema").  The session is ended.
sub bh_cleaned_out_by
{
	my ($node, $db, $schema, $role, %opt) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $by = bh_session_given($node, $db, $schema, [ '-U', $role ]);

	$by->query_safe($_) foreach @{ $opt{settings} // [] };
	my ($out, $ret) = $by->query(q{CREATE TEMP TABLE scratch (x int)});
	is($ret, 0, 'a later session creates a temporary table') or diag($by->{stderr});
	is($by->query_safe(q{SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()}),
		$schema, $opt{given} // 'that session was given the dead session\'s temporary schema');
	$by->quit;
	return;
}

# A session of postgres (the bootstrap superuser) runs the statements of
# the list $statements, which make its temporary table scratch_notes, and
# tags it (ScratchNote, the patient patient_id); its backend then crashes
# (bh_crash_session), and a session of the login role bystander (created
# first), under the actor bystander_actor, cleans its temporary schema out
# (bh_cleaned_out_by); checked with is() that the tagged table and its tag
# are gone.  Returns the mark taken before (bh_seal_mark) and the schema.
sub bh_tagged_temp_cleaned_out
{
	my ($node, $statements) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	$node->safe_psql('postgres', q{CREATE ROLE bystander LOGIN});
	my $mark = bh_seal_mark($node, 'postgres');
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_safe($_) foreach @$statements;
	$bg->query_safe(q{SELECT bh_audit.tag_table('pg_temp.scratch_notes', 'ScratchNote', 'id', 'patient_id')});
	my $schema = bh_crash_session($node, $bg, 'postgres');
	# A session is given the temporary schema of its backend id, the lowest
	# free at its login, which a session of the test's own still exiting,
	# or a worker of the server's, may hold: the bystander's session is one
	# given the dead session's (bh_session_given).
	bh_cleaned_out_by($node, 'postgres', $schema, 'bystander',
		settings => [ q{SET bh_audit.actor_id = 'bystander_actor'} ]);
	is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.tagged_tables}),
		'0', 'it cleaned the tagged table out, and its tag');
	return ($mark, $schema);
}

# Checks with is() that every event of $db's ledger after seq $mark is
# valid (validate_event()).
sub bh_events_valid_since
{
	my ($node, $db, $mark) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	is($node->safe_psql($db, qq{
SELECT count(*) FILTER (WHERE NOT bh_audit.validate_event(event))
  FROM bh_audit.events WHERE seq > $mark}), '0', 'the events validate against the schema');
	return;
}

# The node $old (stopped) upgraded by pg_upgrade into a new node $name
# (initialised, bh_audit preloaded, sealing $db; not started), checked with
# ok(); if it fails, the restore's error from pg_upgrade's logs in a diag.
# Returns the new node and whether the upgrade completed.
sub bh_pg_upgrade
{
	my ($old, $name, $db) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $new = PostgreSQL::Test::Cluster->new($name);

	$new->init;
	$new->append_conf('postgresql.conf',
		"shared_preload_libraries = 'bh_audit'\nbh_audit.database = '$db'\n");

	my $bindir = $old->config_data('--bindir');
	# pg_upgrade writes its logs and scripts into the working directory
	chdir $PostgreSQL::Test::Utils::tmp_check;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[
			'pg_upgrade', '--no-sync',
			'-d', $old->data_dir, '-D', $new->data_dir,
			'-b', $bindir, '-B', $bindir,
			'-s', $new->host,
			'-p', $old->port, '-P', $new->port
		],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, 'pg_upgrade completes');
	if (!$ok)
	{
		# the restore's error, for the reader
		for my $log (glob($new->data_dir . '/pg_upgrade_output.d/*/log/pg_upgrade_dump_*.log'))
		{
			my $text = slurp_file($log);
			diag($1) if $text =~ /(ERROR:.*)/;
		}
	}
	return ($new, $ok);
}

# A node initialised in the C locale (UTF8) with the table rec (id,
# patient_id, v) tagged in postgres (resource type ClinicalRecord), holding
# (1, 'pat_1', 'PHI_TOKEN_5RW2'): a value that must not reach the ledger.
sub bh_rec_node
{
	my ($name) = @_;
	my $node = bh_node($name, init => { extra => [ '--locale=C', '--encoding=UTF8' ] });

	$node->safe_psql('postgres', q{
CREATE TABLE rec (id int PRIMARY KEY, patient_id text NOT NULL, v text);
SELECT bh_audit.tag_table('rec', 'ClinicalRecord', 'id', 'patient_id');
INSERT INTO rec VALUES (1, 'pat_1', 'PHI_TOKEN_5RW2');
});
	return $node;
}

# The PL/pgSQL function $func(x text) in postgres, a domain check: true
# if x is digits, else it raises (RAISE EXCEPTION, the value in its
# message and DETAIL); SECURITY DEFINER with definer => 1.
sub bh_digits_function
{
	my ($node, $func, %opt) = @_;
	my $security = $opt{definer} ? "\nSECURITY DEFINER" : '';

	$node->safe_psql('postgres', qq{
CREATE FUNCTION $func(x text) RETURNS boolean LANGUAGE plpgsql$security AS \$\$
BEGIN
    IF x !~ '^[0-9]+\$' THEN
        RAISE EXCEPTION 'not digits: %', x USING DETAIL = x;
    END IF;
    RETURN true;
END \$\$;
});
	return;
}

1;
