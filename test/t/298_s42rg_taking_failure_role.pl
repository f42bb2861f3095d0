# The READ FAILURE of a PL/pgSQL SELECT ... INTO (or EXECUTE ... INTO) on
# a tagged table whose target's domain CHECK calls a function that raises
# (capture_failure.c bh_taking) names, as its metadata.db_role, the role
# the statement ran as (noted with its rows: capture_failure_spi.c), as
# the statement's own READ of rec does, and the FAILURE of the same cast
# to the domain in the client's statement, and that of a SELECT ... INTO
# whose domain check is an expression.  Where the check function is
# SECURITY DEFINER, the role the error is raised as is the function's
# owner: the ledger named that role, one the statement never ran as (2 of
# 11 checks failed).  Guard: a SECURITY DEFINER function's SELECT ... INTO
# names that function's owner.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_rec_node('taking_failure_role');
bh_digits_function($node, 'digits_definer', definer => 1);
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
GRANT SELECT ON rec TO alice;
CREATE DOMAIN d_definer AS text CHECK (digits_definer(VALUE));
CREATE DOMAIN d_expr AS text CHECK (VALUE::int > 0);
});

# the non-SUCCESS events of alice's statement: action|error_type|table|db_role
# ('-': none, the session's role)|actor
sub failures_as_alice
{
	my ($sql, $name) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret) = $node->psql('postgres', $sql, extra_params => [ '-U', 'alice' ]);
	isnt($ret, 0, "$name: the statement fails");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, error_type, event -> 'metadata' ->> 'table',
                            coalesce(event -> 'metadata' ->> 'db_role', '-'),
                            event -> 'actor' ->> 'subject_id'), E'\\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

# controls
is(failures_as_alice('SELECT v::d_definer FROM rec WHERE id = 1', 'client cast'),
	'READ|raise_exception|public.rec|-|alice',
	"control: the client's cast to the domain whose SECURITY DEFINER check function raises: "
	  . "the FAILURE names the session's role");
is(failures_as_alice('DO $$DECLARE x d_expr; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, expression check'),
	'READ|invalid_text_representation|public.rec|-|alice',
	"control: SELECT ... INTO a domain whose check expression fails: the session's role");

# the findings
is(failures_as_alice('DO $$DECLARE x d_definer; BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$',
		'INTO, SECURITY DEFINER check function'),
	'READ|raise_exception|public.rec|-|alice',
	"SELECT ... INTO a domain whose SECURITY DEFINER check function raises: the FAILURE names "
	  . "the role the statement ran as, not the check function's owner");
is(failures_as_alice(
		q{DO $$DECLARE x d_definer; BEGIN EXECUTE 'SELECT v FROM rec WHERE id = 1' INTO x; END $$},
		'EXECUTE INTO, SECURITY DEFINER check function'),
	'READ|raise_exception|public.rec|-|alice',
	"EXECUTE ... INTO likewise: the role the statement ran as");

# guard: a SECURITY DEFINER function's SELECT ... INTO runs as its owner:
# the FAILURE names that owner, as the statement's READ does
$node->safe_psql('postgres', q{
CREATE ROLE bob;
GRANT SELECT ON rec TO bob;
CREATE FUNCTION into_as_bob() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE x d_definer;
BEGIN SELECT v INTO x FROM rec WHERE id = 1; END $$;
ALTER FUNCTION into_as_bob() OWNER TO bob;
});
is(failures_as_alice('SELECT into_as_bob()', 'INTO in a SECURITY DEFINER function'),
	'READ|raise_exception|public.rec|bob|alice',
	"guard: the SELECT ... INTO of bob's SECURITY DEFINER function: the FAILURE names bob, "
	  . "the role the statement ran as");

bh_no_value_recorded($node);
$node->stop;
done_testing();
