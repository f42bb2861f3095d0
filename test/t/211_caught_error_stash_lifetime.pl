# An error a PL/pgSQL exception block catches (the handler returns normally)
# stays stashed (bh_pending_stashed) until the client's own statement starts
# (bh_failure_statement_starts); it must never become a FAILURE of a
# statement that went on and succeeded.
#
# A deferred trigger whose inner exception block does not match the error
# and whose outer block catches it, fired by the commit at Sync of an
# extended-protocol statement (implicit transaction: no portal runs,
# debug_query_string is NULL): the inner block's rollback stashes the note
# (bh_pending.at_commit), and the outer block's rollback, also without
# portal or statement text, is taken by bh_failure_subxact_abort for
# PostgreSQL's recovery rolling back a client's savepoint and records the
# caught error as a FAILURE, although the transaction commits.
#
# Controls that hold: many caught errors in a loop then COMMIT; identical
# client statements; another error later in the transaction; a Bind failing
# in a savepoint after a caught error (untagged: nothing; tagged, handler
# re-raises: its one FAILURE); one Query message holding many statements;
# SQL-level EXECUTE; procedures and DO blocks that catch an error and end
# their transaction with their own ROLLBACK or COMMIT.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('caught_error_stash_lifetime');
bh_app_table($node, 211, 'SELECT, INSERT', elog => 1);
$node->safe_psql('postgres', q{
-- log the error and return: caught
CREATE FUNCTION c211.f_catch(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('caught'); RETURN 0; END $$;
GRANT EXECUTE ON FUNCTION c211.f_catch(int) TO app211;
CREATE FUNCTION c211.f_log(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('f'); RAISE; END $$;
CREATE TABLE c211.elog2 (msg text);
GRANT SELECT ON c211.elog2 TO app211;
INSERT INTO c211.elog2 VALUES ('x');
CREATE FUNCTION c211.f_loop(v int) RETURNS int LANGUAGE plpgsql
AS $$ DECLARE n int := 0; BEGIN
   FOR i IN 1..5 LOOP
     BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF;
     EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('loop'); n := n + 1; END;
     INSERT INTO c211.elog VALUES ('next');
   END LOOP; RETURN n; END $$;
CREATE FUNCTION c211.chk_log(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true;
   EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('chk'); RAISE; END $$;
CREATE DOMAIN c211.dlog AS int CHECK (c211.chk_log(VALUE));
GRANT USAGE ON TYPE c211.dlog TO app211;
CREATE TABLE c211.dtrg (id int PRIMARY KEY, v int);
GRANT SELECT, INSERT, DELETE ON c211.dtrg TO app211;
SELECT bh_audit.tag_table('c211.dtrg', 'Patient211b', 'id', 'id');
-- an inner block that does not match, an outer one that catches
CREATE FUNCTION c211.dtrg_nested() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN
   BEGIN
     BEGIN IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF;
     EXCEPTION WHEN division_by_zero THEN NULL; END;
   EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('trg'); END;
   RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER t AFTER INSERT ON c211.dtrg DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION c211.dtrg_nested();
CREATE TABLE c211.dtrg2 (id int PRIMARY KEY, v int);
GRANT SELECT, INSERT, DELETE ON c211.dtrg2 TO app211;
SELECT bh_audit.tag_table('c211.dtrg2', 'Patient211c', 'id', 'id');
-- the same, but the outer handler logs and re-raises
CREATE FUNCTION c211.dtrg2_nested() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN
   BEGIN
     BEGIN IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF;
     EXCEPTION WHEN division_by_zero THEN NULL; END;
   EXCEPTION WHEN others THEN INSERT INTO c211.elog VALUES ('trg2'); RAISE; END;
   RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER t AFTER INSERT ON c211.dtrg2 DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION c211.dtrg2_nested();
-- a caught error, more statements, then the procedure's own ROLLBACK / COMMIT
CREATE PROCEDURE c211.p_rollback() LANGUAGE plpgsql
AS $$ BEGIN PERFORM c211.f_catch(-1) FROM c211.pat WHERE id = 1;
   INSERT INTO c211.elog VALUES ('after');
   ROLLBACK; END $$;
-- a caught error, then the procedure's own ROLLBACK at once
CREATE PROCEDURE c211.p_rollback_now() LANGUAGE plpgsql
AS $$ BEGIN PERFORM c211.f_catch(-1) FROM c211.pat WHERE id = 1;
   ROLLBACK; END $$;
CREATE PROCEDURE c211.p_commit() LANGUAGE plpgsql
AS $$ BEGIN PERFORM c211.f_catch(-1) FROM c211.pat WHERE id = 1;
   INSERT INTO c211.elog VALUES ('after');
   COMMIT; END $$;
CREATE PROCEDURE c211.p_row(r c211.pat, how text) LANGUAGE plpgsql
AS $$ BEGIN PERFORM count(*) FROM c211.pat; PERFORM c211.f_catch(-1);
   INSERT INTO c211.elog VALUES ('after');
   IF how = 'rollback' THEN ROLLBACK; ELSIF how = 'commit' THEN COMMIT; END IF; END $$;
GRANT EXECUTE ON PROCEDURE c211.p_row(c211.pat, text) TO app211;
GRANT EXECUTE ON PROCEDURE c211.p_rollback(), c211.p_rollback_now(), c211.p_commit() TO app211;
});

my @cases = (
	[ 'procedure: caught, INSERT, its own ROLLBACK', "CALL c211.p_rollback();\n" ],
	[ 'procedure: caught, its own ROLLBACK', "CALL c211.p_rollback_now();\n" ],
	[ 'DO: caught, INSERT, its own ROLLBACK',
		"DO \$\$ BEGIN PERFORM c211.f_catch(-1) FROM c211.pat WHERE id = 1; "
		  . "INSERT INTO c211.elog VALUES ('do'); ROLLBACK; END \$\$;\n" ],
	[ 'procedure, text names the table (a type): caught, INSERT, its own ROLLBACK',
		"CALL c211.p_row(NULL::c211.pat, 'rollback');\n" ],
	[ 'procedure: caught, INSERT, its own COMMIT', "CALL c211.p_commit();\n" ],
	[ 'caught, client ROLLBACK',
		"BEGIN;\nSELECT c211.f_catch(-1) FROM c211.pat WHERE id = 1;\nROLLBACK;\n" ],
);
for my $case (@cases)
{
	my ($name, $sql) = @$case;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1,
		extra_params => [ '-U', 'app211' ]);
	is($ret, 0, "$name: succeeds");
	is(bh_failures_in_order($node, 'postgres', $mark), '', "$name: no FAILURE");
}

# client scripts: simple protocol (:v replaced by -1), extended, prepared
sub run_script
{
	my ($name, $script, $events, $fails) = @_;
	(my $simple = $script) =~ s/:v/-1/g;
	bh_run_protocols($node, 'postgres', simple => $simple, script => $script,
		user => 'app211', set => 'v=-1', transactions => 2, on_error_stop => 1,
		wait_gone => 1,
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			my $want = $events;
			if ($fails) { like($err, qr/ERROR/, "$protocol protocol, $name: fails"); }
			elsif ($protocol eq 'simple') { is($ret, 0, "simple protocol, $name: succeeds"); }
			else { unlike($err, qr/ERROR/, "$protocol protocol, $name: succeeds"); }
			# pgbench ends the client at its first error; else runs the script twice
			$want = "$events,$events"
			  if $protocol ne 'simple' && !$fails && $events ne '';
			is($got, $want, "$protocol protocol, $name: '$want'");
		});
}

run_script('deferred trigger, inner block does not match, outer catches (implicit commit)',
	"INSERT INTO c211.dtrg VALUES (3, :v);\nDELETE FROM c211.dtrg;\n", '', 0);
run_script('deferred trigger, inner block does not match, outer catches (COMMIT)',
	"BEGIN;\nINSERT INTO c211.dtrg VALUES (2, :v);\nCOMMIT;\nDELETE FROM c211.dtrg;\n", '', 0);
run_script('deferred trigger, inner block does not match, outer re-raises (implicit commit)',
	"INSERT INTO c211.dtrg2 VALUES (3, :v);\n", 'CREATE|FAILURE|c211.dtrg2', 1);
run_script('many caught errors in a loop, then success and COMMIT',
	"BEGIN;\nSELECT c211.f_loop(:v) FROM c211.pat WHERE id = 1;\nCOMMIT;\n", '', 0);
run_script('caught, then identical client statements, then ROLLBACK',
	"BEGIN;\nSELECT c211.f_catch(:v) FROM c211.pat WHERE id = 1;\n"
	  . "SELECT c211.f_catch(:v) FROM c211.pat WHERE id = 1;\nROLLBACK;\n", '', 0);
run_script('caught, then another error in an untagged statement, savepoint rolled back',
	"BEGIN;\nSAVEPOINT s;\nSELECT c211.f_catch(:v) FROM c211.pat WHERE id = 1;\n"
	  . "SAVEPOINT t;\nSELECT c211.f_log(:v) FROM c211.elog2;\nROLLBACK TO s;\nCOMMIT;\n",
	'', 1);
run_script('caught, then another error at Bind of an untagged statement in a savepoint',
	"BEGIN;\nSAVEPOINT s;\nSELECT c211.f_catch(:v) FROM c211.pat WHERE id = 1;\n"
	  . "INSERT INTO c211.elog SELECT x::text FROM (SELECT CAST(:v AS c211.dlog) x) s;\n"
	  . "ROLLBACK TO s;\nCOMMIT;\n",
	'', 1);
run_script('caught, then a Bind on the tagged table fails in a savepoint (re-raised)',
	"BEGIN;\nSAVEPOINT s;\nSELECT c211.f_catch(:v) FROM c211.pat WHERE id = 1;\n"
	  . "INSERT INTO c211.pat SELECT 20, x::text FROM (SELECT CAST(:v AS c211.dlog) x) s;\n"
	  . "ROLLBACK TO s;\nCOMMIT;\n",
	'CREATE|FAILURE|c211.pat', 1);

# one Query message holding many statements (debug_query_string is all of them)
for my $multi (
	[ "BEGIN; SELECT c211.f_catch(-1) FROM c211.pat WHERE id = 1; SELECT 1; ROLLBACK;", '' ],
	[ "BEGIN; SAVEPOINT s; SELECT c211.f_catch(-1) FROM c211.pat WHERE id = 1; ROLLBACK TO s; COMMIT;", '' ],
	[ "SELECT c211.f_catch(-1) FROM c211.pat WHERE id = 1; SELECT c211.f_catch(-1) FROM c211.pat WHERE id = 1;", '' ])
{
	my ($sql, $events) = @$multi;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = $node->psql('postgres', undef, extra_params => [ '-U', 'app211', '-c', $sql ]);
	is($ret, 0, "one Query message, $sql: succeeds");
	is(bh_failures_in_order($node, 'postgres', $mark), $events, "one Query message, $sql: '$events'");
}
# SQL-level PREPARE / EXECUTE
{
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = $node->psql('postgres',
		"PREPARE q(int) AS SELECT c211.f_catch(\$1) FROM c211.pat WHERE id = 1;\n"
		  . "BEGIN;\nEXECUTE q(-1);\nEXECUTE q(-1);\nROLLBACK;\n",
		on_error_stop => 1, extra_params => [ '-U', 'app211' ]);
	is($ret, 0, 'EXECUTE of a prepared statement, caught, ROLLBACK: succeeds');
	is(bh_failures_in_order($node, 'postgres', $mark), '', 'EXECUTE of a prepared statement, caught, ROLLBACK: no FAILURE');
}
done_testing();
