# An error that an exception block rolls back and that a handler re-raises
# (RAISE;) after running a statement of its own (the usual "log it, then
# re-raise" handler: INSERT INTO a log table, RAISE;) and that ends the
# client's statement is its FAILURE, once, as read-capture.md ("Errors a
# function catches") promises for a handler that re-raises — also where no
# PG_CATCH of the statement records it: raised as a statement with
# parameters is bound (a domain's CHECK) and by a deferred trigger at the
# commit (bh_failure_xact_end brings back the note bh_failure_subxact_abort
# stashed).  The handler's statement starting must not count as the
# client's statement going on (bh_error_watch_install, from ExecutorStart,
# forgets the stash).  The same handler in a function the executor runs is
# recorded (controls).
#
# A statement with parameters whose Bind fails so inside a client's
# savepoint is its FAILURE too: PostgreSQL's recovery rolls back only the
# savepoint's subtransaction (bh_failure_subxact_abort keeps the note
# stashed and records nothing), and what follows — ROLLBACK TO, or the
# session ending (pgbench ends the client), whose abort
# bh_failure_xact_end passes over (proc_exit_inprogress) — forgets it.  The
# same Bind failing without an exception block is recorded (control).
#
# A handler that logs the error and returns catches it: the client's
# ROLLBACK, or ROLLBACK TO its savepoint, that follows records no FAILURE
# (controls: only the client's own statement starting forgets the stash).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('reraise_after_handler_statement');
bh_app_table($node, 208, 'SELECT, INSERT', elog => 1);
$node->safe_psql('postgres', q{
-- log the error, then re-raise it
CREATE FUNCTION c208.chk_log(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true;
   EXCEPTION WHEN others THEN INSERT INTO c208.elog VALUES ('chk'); RAISE; END $$;
CREATE DOMAIN c208.dlog AS int CHECK (c208.chk_log(VALUE));
GRANT USAGE ON TYPE c208.dlog TO app208;
CREATE FUNCTION c208.f_log(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN others THEN INSERT INTO c208.elog VALUES ('f'); RAISE; END $$;
CREATE TABLE c208.dtrg (id int PRIMARY KEY, v int);
GRANT SELECT, INSERT ON c208.dtrg TO app208;
SELECT bh_audit.tag_table('c208.dtrg', 'Patient208b', 'id', 'id');
-- log the error and return: caught
CREATE FUNCTION c208.f_catch(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN others THEN INSERT INTO c208.elog VALUES ('caught'); RETURN 0; END $$;
CREATE FUNCTION c208.dtrg_log() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN NULL;
   EXCEPTION WHEN others THEN INSERT INTO c208.elog VALUES ('trg'); RAISE; END $$;
CREATE CONSTRAINT TRIGGER t AFTER INSERT ON c208.dtrg DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION c208.dtrg_log();
-- raises; its exception block catches another error only
CREATE FUNCTION c208.chk_nomatch(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true;
   EXCEPTION WHEN division_by_zero THEN RETURN false; END $$;
CREATE FUNCTION c208.chk_plain(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true; END $$;
CREATE DOMAIN c208.dnomatch AS int CHECK (c208.chk_nomatch(VALUE));
CREATE DOMAIN c208.dplain AS int CHECK (c208.chk_plain(VALUE));
GRANT USAGE ON TYPE c208.dnomatch, c208.dplain TO app208;
});

my @cases = (
	# name, simple SQL, extended SQL (pgbench, :v = -1), events
	[ 'domain check function logs and re-raises (Bind)',
		"INSERT INTO c208.pat VALUES (10, (-1)::c208.dlog::text);\n",
		"INSERT INTO c208.pat SELECT 10, x::text FROM (SELECT CAST(:v AS c208.dlog) x) s;\n",
		'CREATE|FAILURE|c208.pat' ],
	[ 'function logs and re-raises',
		"SELECT c208.f_log(-1) FROM c208.pat WHERE id = 1;\n",
		"SELECT c208.f_log(:v) FROM c208.pat WHERE id = 1;\n",
		'READ|FAILURE|c208.pat' ],
	[ 'deferred trigger logs and re-raises at the commit',
		"BEGIN;\nINSERT INTO c208.dtrg VALUES (1, -1);\nCOMMIT;\n",
		"INSERT INTO c208.dtrg VALUES (1, :v);\n",
		'CREATE|FAILURE|c208.dtrg' ],
);
for my $case (@cases)
{
	my ($name, $simple, $ext, $events) = @$case;
	bh_run_protocols($node, 'postgres', simple => $simple, script => $ext,
		user => 'app208', set => 'v=-1',
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			my $as = $protocol eq 'simple' ? '' : ', as with the simple protocol';
			like($err, qr/ERROR:  negative/, "$protocol protocol, $name: fails");
			is($got, $events, "$protocol protocol, $name: '$events'$as");
		});
}

# Bind fails inside a savepoint; pgbench ends the client on the error
for my $dom ('dnomatch', 'dplain')
{
	bh_run_protocols($node, 'postgres', protocols => [qw(extended prepared)],
		script => "BEGIN;\nSAVEPOINT s;\n"
		  . "INSERT INTO c208.pat SELECT 20, x::text FROM (SELECT CAST(:v AS c208.$dom) x) s;\n"
		  . "ROLLBACK TO s;\nCOMMIT;\n",
		user => 'app208', set => 'v=-1', wait_gone => 1,
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			like($err, qr/ERROR:  negative/, "$protocol protocol, Bind in a savepoint ($dom): fails");
			is($got, 'CREATE|FAILURE|c208.pat',
				"$protocol protocol, Bind in a savepoint ($dom): its FAILURE");
		});
}
# Controls: the handler logs the error and returns (caught); the client's
# ROLLBACK (of the transaction, to its savepoint) that follows is no
# FAILURE of it
for my $script ("BEGIN;\nSELECT c208.f_catch(:v) FROM c208.pat WHERE id = 1;\nROLLBACK;\n",
	"BEGIN;\nSAVEPOINT s;\nSELECT c208.f_catch(:v) FROM c208.pat WHERE id = 1;\n"
	  . "ROLLBACK TO s;\nROLLBACK;\n")
{
	(my $simple = $script) =~ s/:v/-1/;
	bh_run_protocols($node, 'postgres', simple => $simple, script => $script,
		user => 'app208', set => 'v=-1', on_error_stop => 1,
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			if ($protocol eq 'simple')
			{
				is($ret, 0, "simple protocol, caught, then ROLLBACK: succeeds");
			}
			else
			{
				unlike($err, qr/ERROR/, "$protocol protocol, caught, then ROLLBACK: succeeds");
			}
			is($got, '', "$protocol protocol, caught, then ROLLBACK: no FAILURE");
		});
}
done_testing();
