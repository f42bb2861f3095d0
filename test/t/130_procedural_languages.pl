# Code that runs inside the database beyond SQL and PL/pgSQL: PL/Perl and
# PL/Python reading and writing a tagged table through SPI (queries,
# cursors, prepared plans), catching errors (eval {}, try/except
# plpy.SPIError, plpy.subtransaction()) and raising errors that carry PHI;
# procedures that COMMIT and ROLLBACK in the middle (PL/pgSQL, PL/Python,
# PL/Perl); loopback connections through dblink.  The languages and dblink
# are installed by test/lib/common.sh (postgresql-plperl-15,
# postgresql-plpython3-15; dblink is in postgresql-15): a missing one fails
# the test.
#
# The end-user context is set like SET LOCAL: a procedure's own COMMIT or
# ROLLBACK ends it with the transaction, and the statements after it carry
# the session's values again (here the login as the actor, no request id)
# until the procedure sets it again.  A
# cursor a procedure keeps open across its COMMIT (a FOR loop, plpy.cursor,
# spi_query) is made holdable there: PostgreSQL runs its query to the end,
# and every patient of the result is read at that COMMIT, with the context
# of the transaction it ends, rows never fetched included.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('proc_langs', database => 'clinic');
my $db = 'clinic';

$node->safe_psql($db, q{
CREATE TABLE notes(note_id int PRIMARY KEY, patient_id text NOT NULL, body text);
SELECT bh_audit.tag_table('public.notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'pat_A', 'PHI_TOKEN_A'), (2, 'pat_B', 'PHI_TOKEN_B'),
                         (3, 'pat_C', 'PHI_TOKEN_C');
CREATE ROLE app LOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO app;
CREATE TABLE mark(seq bigint);
INSERT INTO mark SELECT coalesce(max(seq), 0) FROM bh_audit.events;
});

# The events since the mark, one line each (fields that are NULL left out),
# and the mark moved on.
sub events_since
{
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	my $out = $node->safe_psql($db, q{
SELECT string_agg(concat_ws('|', action, patient_id, outcome, error_type, actor_id,
                            event #>> '{correlation,request_id}',
                            event #>> '{outcome,error_message}',
                            event #>> '{metadata,db_user}'), E'\n' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'Note'});
	$node->safe_psql($db,
		'UPDATE mark SET seq = (SELECT max(seq) FROM bh_audit.events)');
	return $out;
}

sub sorted { return join("\n", sort split /\n/, $_[0]); }

events_since();	# the inserts'

# --- Procedures with transaction control (PL/pgSQL) -----------------------
# The cursors of the loops below yield note 1 (pat_A) first, and note 3
# (pat_C) only when their query runs on: each loop fetches one row.
$node->safe_psql($db, q{
CREATE PROCEDURE proc_tc() LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bh_audit.set_context(actor_id => 'dr_proc', request_id => 'tc1');
  PERFORM * FROM notes WHERE patient_id = 'pat_A';
  UPDATE notes SET body = body || '.' WHERE note_id = 1;
  COMMIT;
  PERFORM * FROM notes WHERE patient_id = 'pat_B';
  PERFORM bh_audit.set_context(actor_id => 'dr_proc', request_id => 'tc2');
  PERFORM * FROM notes WHERE patient_id = 'pat_C';
  UPDATE notes SET body = body || '.' WHERE note_id = 2;
  ROLLBACK;
  PERFORM * FROM notes WHERE patient_id = 'pat_A';
  SET LOCAL bh_audit.actor_id = 'dr_local';
  PERFORM * FROM notes WHERE patient_id = 'pat_B';
END $$;
CREATE PROCEDURE proc_loop(hold boolean) LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  PERFORM bh_audit.set_context(actor_id => 'dr_loop');
  FOR r IN SELECT * FROM notes WHERE note_id = 1 UNION ALL SELECT * FROM notes WHERE note_id = 3 LOOP
    IF hold THEN COMMIT; END IF;
    EXIT;
  END LOOP;
  PERFORM * FROM notes WHERE patient_id = 'pat_B';
END $$;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO app;
});
$node->safe_psql($db, 'CALL proc_tc()', extra_params => [ '-U', 'app' ]);
is( events_since(),
	join("\n",
		'READ|pat_A|SUCCESS|dr_proc|tc1|app',
		'UPDATE|pat_A|SUCCESS|dr_proc|tc1|app',
		# after the procedure's COMMIT the context is gone: the login
		'READ|pat_B|SUCCESS|app|app',
		# set again for the next transaction
		'READ|pat_C|SUCCESS|dr_proc|tc2|app',
		# the UPDATE of note 2 was rolled back with its event, and the
		# ROLLBACK ended the context too
		'READ|pat_A|SUCCESS|app|app',
		# a SET LOCAL after it holds for the new transaction
		'READ|pat_B|SUCCESS|dr_local|app'),
	'procedure: the context ends at its own COMMIT and ROLLBACK, holds when set again');

# The FOR loop stops after one row: without a COMMIT only that row's
# patient is read, with one the whole result is, at the COMMIT, with the
# context of the transaction it ends.
$node->safe_psql($db, 'CALL proc_loop(false)', extra_params => [ '-U', 'app' ]);
is( events_since(),
	join("\n",
		'READ|pat_A|SUCCESS|dr_loop|app',
		'READ|pat_B|SUCCESS|dr_loop|app'),
	'procedure: a FOR loop left after one row reads that row only');
$node->safe_psql($db, 'CALL proc_loop(true)', extra_params => [ '-U', 'app' ]);
is( events_since(),
	join("\n",
		'READ|pat_A|SUCCESS|dr_loop|app',
		'READ|pat_C|SUCCESS|dr_loop|app',
		'READ|pat_B|SUCCESS|app|app'),
	'procedure: a FOR loop across COMMIT reads its whole result at the COMMIT');

# --- dblink loopback -------------------------------------------------------
{
	$node->safe_psql($db, 'CREATE EXTENSION dblink');
	my $conn = 'host=' . $node->host . ' port=' . $node->port . " dbname=$db user=app";
	my ($ret, $out, $err) = $node->psql($db, qq{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_remote');
SELECT * FROM dblink('$conn', 'SELECT note_id FROM notes WHERE patient_id = ''pat_A''') AS t(id int);
SELECT * FROM dblink('$conn', 'SELECT body::int FROM notes WHERE patient_id = ''pat_B''') AS t(x int);
ROLLBACK;
SELECT n.note_id FROM notes n, dblink('$conn', 'SELECT body::int FROM notes WHERE patient_id = ''pat_C''') AS t(x int);
}, on_error_stop => 0);
	like($err, qr/PHI_TOKEN_B/, 'the remote error text is re-raised locally');
	# a remote session records the rows its failed scan evaluated as it
	# aborts, after its client got the error: wait for them
	bh_wait_sealed($node, $db,
		q{seq > (SELECT seq FROM mark) AND resource_type = 'Note'}, 6);
	is( sorted(events_since()),
		sorted(join("\n",
			# remote: the dblink login, not the caller's context
			'READ|pat_A|SUCCESS|app|app',
			'READ|FAILURE|invalid_text_representation|app|invalid input syntax for type integer: ""|app',
			'READ|pat_B|SUCCESS|app|app',
			'READ|FAILURE|invalid_text_representation|app|invalid input syntax for type integer: ""|app',
			'READ|pat_C|SUCCESS|app|app',
			# local: a statement on the tagged table failing with the
			# remote's text (format "%s"): only its error type
			'READ|FAILURE|invalid_text_representation|postgres|invalid_text_representation|postgres')),
		'dblink: remote events carry the remote login; no remote text in the local failure');
	events_since();
}

# --- PL/Perl and PL/Python -------------------------------------------------
{
	$node->safe_psql($db, q{
CREATE EXTENSION plperl;
CREATE FUNCTION perl_all(pid text) RETURNS text LANGUAGE plperl AS $$
  spi_exec_query("SELECT * FROM notes WHERE patient_id = " . quote_literal($_[0]));
  my $plan = spi_prepare('SELECT * FROM notes WHERE patient_id = $1', 'text');
  my $sth = spi_query_prepared($plan, 'pat_B');
  while (defined (my $row = spi_fetchrow($sth))) { }
  spi_exec_query("INSERT INTO notes VALUES (10, 'pat_D', 'x')");
  my $ok = eval { spi_exec_query("SELECT * FROM notes WHERE note_id = 'PHI_TOKEN_Q'"); 1 };
  return $ok ? 'no error' : 'caught';
$$;
CREATE FUNCTION perl_raise(pid text) RETURNS text LANGUAGE plperl AS $$
  my $rv = spi_exec_query("SELECT body FROM notes WHERE patient_id = " . quote_literal($_[0]));
  elog(ERROR, "patient says " . $rv->{rows}[0]->{body});
$$;
CREATE PROCEDURE perl_loop(hold boolean) LANGUAGE plperl AS $$
  spi_exec_query("SELECT bh_audit.set_context(actor_id => 'dr_perlproc')");
  my $sth = spi_query('SELECT * FROM notes WHERE note_id = 1 UNION ALL SELECT * FROM notes WHERE note_id = 3');
  spi_fetchrow($sth);
  spi_commit() if $_[0] eq 't';
  spi_cursor_close($sth);
  spi_exec_query("SELECT * FROM notes WHERE patient_id = 'pat_B'");
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO app;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO app;
});
	# (the sealer held back until the client is done: the caught failure
	# comes by the ring at once, the INSERT's event by the queue at the
	# commit after it; chained in one batch they are merged by timestamp,
	# the INSERT's first, as it happened, while a sealer that took the
	# failure from the ring before the commit chained it first)
	my $blocker = bh_hold_sealer($node, $db);
	my ($ret, $out, $err) = $node->psql($db, q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_perl');
SELECT perl_all('pat_A');
COMMIT;
SELECT perl_raise('pat_C') FROM notes WHERE note_id = 2;
}, extra_params => [ '-U', 'app' ], on_error_stop => 0);
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	like($err, qr/PHI_TOKEN_C/, 'PL/Perl: the function raised the note text');
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_perl|app',
			'READ|pat_B|SUCCESS|dr_perl|app',
			'CREATE|pat_D|SUCCESS|dr_perl|app',
			'READ|FAILURE|invalid_text_representation|dr_perl|invalid input syntax for type integer: ""|app',
			# the function's read, then the client's statement's, then its failure
			'READ|pat_C|SUCCESS|app|app',
			'READ|pat_B|SUCCESS|app|app',
			'READ|FAILURE|external_routine_exception|app|external_routine_exception|app'),
		'PL/Perl: reads per patient, writes, caught and raised failures without PHI');
	$node->safe_psql($db, 'CALL perl_loop(false)', extra_params => [ '-U', 'app' ]);
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_perlproc|app',
			'READ|pat_B|SUCCESS|dr_perlproc|app'),
		'PL/Perl procedure: a cursor closed after one row reads that row only');
	$node->safe_psql($db, 'CALL perl_loop(true)', extra_params => [ '-U', 'app' ]);
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_perlproc|app',
			'READ|pat_C|SUCCESS|dr_perlproc|app',
			'READ|pat_B|SUCCESS|app|app'),
		'PL/Perl procedure: spi_query across spi_commit() reads its whole result there, the context ends');
}

{
	$node->safe_psql($db, q{
CREATE EXTENSION plpython3u;
CREATE FUNCTION py_all() RETURNS text LANGUAGE plpython3u AS $$
plpy.execute("SELECT * FROM notes WHERE patient_id = 'pat_A'")
c = plpy.cursor("SELECT * FROM notes ORDER BY note_id")
c.fetch(2)
try:
    with plpy.subtransaction():
        plpy.execute("INSERT INTO notes VALUES (20, 'pat_E', 'y')")
        plpy.execute("SELECT * FROM notes WHERE patient_id = 'pat_C'")
        plpy.execute("UPDATE notes SET note_id = body::int WHERE patient_id = 'pat_B'")
except plpy.SPIError:
    pass
plpy.error("patient says PHI_TOKEN_P")
$$;
CREATE PROCEDURE py_loop(hold boolean) LANGUAGE plpython3u AS $$
plpy.execute("SELECT bh_audit.set_context(actor_id => 'dr_pyproc')")
c = plpy.cursor("SELECT * FROM notes WHERE note_id = 1 UNION ALL SELECT * FROM notes WHERE note_id = 3")
c.fetch(1)
if hold:
    plpy.commit()
c.close()
plpy.execute("SELECT * FROM notes WHERE patient_id = 'pat_B'")
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO app;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO app;
});
	my ($ret, $out, $err) = $node->psql($db, q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_py');
SELECT py_all() FROM notes WHERE note_id = 3;
ROLLBACK;
}, extra_params => [ '-U', 'app' ], on_error_stop => 0);
	like($err, qr/PHI_TOKEN_P/, 'PL/Python: the function raised PHI');
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_py|app',
			# the subtransaction's INSERT is gone, its reads stay (the
			# UPDATE's row before its failure)
			'READ|pat_C|SUCCESS|dr_py|app',
			'READ|pat_B|SUCCESS|dr_py|app',
			'UPDATE|FAILURE|invalid_text_representation|dr_py|invalid input syntax for type integer: ""|app',
			# the cursor left open, then the client's statement's read,
			# before its failure
			'READ|pat_A|SUCCESS|dr_py|app',
			'READ|pat_B|SUCCESS|dr_py|app',
			'READ|pat_C|SUCCESS|dr_py|app',
			'READ|FAILURE|internal_error|dr_py|internal_error|app'),
		'PL/Python: cursors, subtransactions and plpy.error without PHI');
	$node->safe_psql($db, 'CALL py_loop(false)', extra_params => [ '-U', 'app' ]);
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_pyproc|app',
			'READ|pat_B|SUCCESS|dr_pyproc|app'),
		'PL/Python procedure: a cursor closed after one row reads that row only');
	$node->safe_psql($db, 'CALL py_loop(true)', extra_params => [ '-U', 'app' ]);
	is( events_since(),
		join("\n",
			'READ|pat_A|SUCCESS|dr_pyproc|app',
			'READ|pat_C|SUCCESS|dr_pyproc|app',
			'READ|pat_B|SUCCESS|app|app'),
		'PL/Python procedure: plpy.cursor across plpy.commit() reads its whole result there, the context ends');
}

# The notes' events are the 3 inserts and the 42 compared above; no event
# at all carries a token of the notes' text or of the errors raised.
is( $node->safe_psql($db, q{
SELECT count(*) FILTER (WHERE resource_type = 'Note'),
       count(*) FILTER (WHERE event::text ~ 'PHI_TOKEN') FROM bh_audit.events}),
	'45|0', 'no PHI token in any event');

$node->stop;
done_testing();
