# Errors raised in functions while a client's statement with parameters
# (extended query protocol) on a tagged table runs give the same events as
# the same statement sent with the simple protocol (capture_failure.c,
# bh_note_failure's branch for a statement with parameters; in_function and
# bh_failure_subxact_abort).  An error raised at Bind in a function (a
# domain's CHECK calling a PL/pgSQL function, as the parameter is converted)
# whose exception block has no handler matching it is rolled back by that
# block and thrown on: it is still the statement's FAILURE, as with the simple
# protocol (there in the executor) and as without an exception block; so is
# one a deferred trigger raises so at the commit (bh_failure_xact_end: none of
# the statement's PG_CATCH blocks records these, and PostgreSQL's recovery
# has forgotten the statement's text as it aborts).  Once each: where the
# executor records it, the abort does not again.  A caught error is no
# FAILURE at the abort of a transaction the session then ends or rolls back.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('extended_protocol_function_errors');
bh_app_table($node, 203, 'SELECT, INSERT, UPDATE');
$node->safe_psql('postgres', q{
-- raises; its exception block catches another error only
CREATE FUNCTION c203.chk_nomatch(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true;
   EXCEPTION WHEN division_by_zero THEN RETURN false; END $$;
CREATE FUNCTION c203.chk_plain(v int) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true; END $$;
CREATE DOMAIN c203.dnomatch AS int CHECK (c203.chk_nomatch(VALUE));
CREATE DOMAIN c203.dplain AS int CHECK (c203.chk_plain(VALUE));
CREATE FUNCTION c203.f_nomatch(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN division_by_zero THEN RETURN -1; END $$;
CREATE FUNCTION c203.f_inner_catch(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN RETURN 1 / v; EXCEPTION WHEN division_by_zero THEN RETURN -1; END $$;
-- catches, with nothing parsed after the error (its handler, its end)
CREATE FUNCTION c203.f_catch_end(v int) RETURNS void LANGUAGE plpgsql
AS $$ BEGIN v := 1 / v; EXCEPTION WHEN division_by_zero THEN NULL; END $$;
CREATE FUNCTION c203.f_outer_raise(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN PERFORM c203.f_inner_catch(v); RAISE EXCEPTION 'outer'; END $$;
CREATE FUNCTION c203.f_reraise(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN RETURN 1 / v; EXCEPTION WHEN division_by_zero THEN RAISE; END $$;
CREATE FUNCTION c203.f_reraise_outer_catch(v int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN RETURN c203.f_reraise(v); EXCEPTION WHEN division_by_zero THEN RETURN -2; END $$;
CREATE FUNCTION c203.f_imm_nomatch(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN IF v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN v;
   EXCEPTION WHEN division_by_zero THEN RETURN -1; END $$;
CREATE TABLE c203.trg (id int PRIMARY KEY, v int);
GRANT SELECT, INSERT ON c203.trg TO app203;
SELECT bh_audit.tag_table('c203.trg', 'Patient203b', 'id', 'id');
CREATE FUNCTION c203.trg_nomatch() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN NEW;
   EXCEPTION WHEN division_by_zero THEN RETURN NULL; END $$;
CREATE TRIGGER t BEFORE INSERT ON c203.trg FOR EACH ROW EXECUTE FUNCTION c203.trg_nomatch();
CREATE TABLE c203.dtrg (id int PRIMARY KEY, v int);
GRANT SELECT, INSERT ON c203.dtrg TO app203;
SELECT bh_audit.tag_table('c203.dtrg', 'Patient203c', 'id', 'id');
CREATE FUNCTION c203.dtrg_nomatch() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN NULL;
   EXCEPTION WHEN division_by_zero THEN RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER t AFTER INSERT ON c203.dtrg DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION c203.dtrg_nomatch();
GRANT USAGE ON TYPE c203.dnomatch, c203.dplain TO app203;
});

my @cases = (
	# name, simple SQL, extended SQL (pgbench, :v = -1), events
	[ 'domain check function, no handler matching (Bind)',
		"INSERT INTO c203.pat VALUES (10, (-1)::c203.dnomatch::text);\n",
		"INSERT INTO c203.pat SELECT 10, x::text FROM (SELECT CAST(:v AS c203.dnomatch) x) s;\n",
		'CREATE|FAILURE|c203.pat' ],
	[ 'domain check function (Bind)',
		"INSERT INTO c203.pat VALUES (11, (-1)::c203.dplain::text);\n",
		"INSERT INTO c203.pat SELECT 11, x::text FROM (SELECT CAST(:v AS c203.dplain) x) s;\n",
		'CREATE|FAILURE|c203.pat' ],
	[ 'function, no handler matching',
		"SELECT c203.f_nomatch(-1) FROM c203.pat WHERE id = 1;\n",
		"SELECT c203.f_nomatch(:v) FROM c203.pat WHERE id = 1;\n",
		'READ|FAILURE|c203.pat' ],
	[ 'inner function catches, outer raises',
		"SELECT c203.f_outer_raise(0) FROM c203.pat WHERE id = 1;\n",
		"SELECT c203.f_outer_raise(:v + 1) FROM c203.pat WHERE id = 1;\n",
		'READ|FAILURE|c203.pat' ],
	[ 'inner re-raises, outer catches',
		"SELECT c203.f_reraise_outer_catch(0) FROM c203.pat WHERE id = 1;\n",
		"SELECT c203.f_reraise_outer_catch(:v + 1) FROM c203.pat WHERE id = 1;\n",
		'' ],
	[ 'function folded by the planning, no handler matching',
		"SELECT name FROM c203.pat WHERE id = c203.f_imm_nomatch(-1);\n",
		"SELECT name FROM c203.pat WHERE id = c203.f_imm_nomatch(:v);\n",
		'READ|FAILURE|c203.pat' ],
	[ 'trigger, no handler matching',
		"INSERT INTO c203.trg VALUES (1, -1);\n",
		"INSERT INTO c203.trg VALUES (1, :v);\n",
		'CREATE|FAILURE|c203.trg' ],
	[ 'deferred trigger at the commit, no handler matching',
		"BEGIN;\nINSERT INTO c203.dtrg VALUES (1, -1);\nCOMMIT;\n",
		"INSERT INTO c203.dtrg VALUES (1, :v);\n",
		'CREATE|FAILURE|c203.dtrg' ],
	[ 'inner re-raises, nobody catches',
		"SELECT c203.f_reraise(0) FROM c203.pat WHERE id = 1;\n",
		"SELECT c203.f_reraise(:v + 1) FROM c203.pat WHERE id = 1;\n",
		'READ|FAILURE|c203.pat' ],
);
for my $case (@cases)
{
	my ($name, $simple, $ext, $events) = @$case;
	bh_run_protocols($node, 'postgres', simple => $simple, script => $ext,
		user => 'app203', set => 'v=-1',
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			my $as = $protocol eq 'simple' ? '' : ', as with the simple protocol';
			like($err, qr/ERROR/, "$protocol protocol, $name: fails") if $events ne '';
			is($got, $events, "$protocol protocol, $name: '$events'$as");
		});
}

# An error a function catches, then the session ends inside its transaction
# block (idle: psql's input ends, pgbench's script ends with the transaction
# open) or rolls it back: no error ends that transaction, so the caught
# error rolled back by the exception block is no FAILURE at its abort.
for my $end ('', "ROLLBACK;\n")
{
	my $name = $end eq '' ? 'session ends in the transaction' : 'ROLLBACK';
	bh_run_protocols($node, 'postgres',
		simple => "BEGIN;\nSELECT c203.f_catch_end(0) FROM c203.pat WHERE id = 1;\n$end",
		script => "BEGIN;\nSELECT c203.f_catch_end(:v + 1) FROM c203.pat WHERE id = 1;\n$end",
		user => 'app203', set => 'v=-1', wait_gone => 1,
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			is($got, '', "$protocol protocol, caught error, $name: no FAILURE");
		});
}
done_testing();
