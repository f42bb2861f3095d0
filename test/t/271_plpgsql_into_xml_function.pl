# A core function that runs its own query through SPI under no frame of
# its own (query_to_xml), called by a domain's check as PL/pgSQL takes a
# value of plain, reads rec and then fails as it turns rec's rows into XML
# (an infinite timestamp).  The rows SPI returned it are SPI's latest, the
# frame innermost is PL/pgSQL's and the innermost context line PL/pgSQL's
# "at SQL statement"; but query_to_xml connected to SPI again, and its rows
# are under its own connection's memory, not under the PL/pgSQL function's
# (capture_failure_spi.c bh_rows_of_function): no FAILURE of rec for a
# SELECT ... INTO (or EXECUTE ... INTO) on plain.  The same check failing
# in the client's statement, in a PERFORM, in an assignment, and
# query_to_xml of rec failing in the client's own statement record none
# (controls).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('plpgsql_into_xml_function');
$node->safe_psql('postgres', bh_rec_and_plain() . q{
CREATE DOMAIN xml_inf AS int CHECK (VALUE IS NULL OR
  query_to_xml('SELECT ''infinity''::timestamp AS t FROM rec WHERE id = 1', true, false, '') IS NOT NULL);
});

sub failures_of
{
	my ($sql, $name, $ok) = @_;
	return bh_statement_failures($node, $sql, $name, ok => $ok);
}

# controls
is(failures_of('SELECT 3::xml_inf FROM plain LIMIT 1', 'client'),
	'', "the domain's check failing in the client's statement on plain: no FAILURE");
is(failures_of('DO $$BEGIN PERFORM 3::xml_inf FROM plain LIMIT 1; END $$', 'PERFORM'),
	'', "the domain's check failing in a PERFORM on plain: no FAILURE");
is(failures_of('DO $$DECLARE d xml_inf; BEGIN d := 3; END $$', 'assignment'),
	'', "the domain's check failing in an assignment: no FAILURE");
is(failures_of(q{SELECT query_to_xml('SELECT ''infinity''::timestamp AS t FROM rec WHERE id = 1', }
		  . q{true, false, '')}, 'query_to_xml, client'),
	'', "query_to_xml of rec failing on its rows in the client's statement: no FAILURE");

# PL/pgSQL taking a value of plain
is(failures_of('DO $$DECLARE d xml_inf; BEGIN SELECT 3 INTO d FROM plain LIMIT 1; END $$', 'INTO'),
	'', "SELECT ... INTO a domain whose check's query_to_xml fails on rec's rows, a value of plain: "
	  . 'no FAILURE');
is(failures_of(q{DO $$DECLARE d xml_inf; BEGIN EXECUTE 'SELECT 3 FROM plain LIMIT 1' INTO d; END $$},
		'EXECUTE INTO'),
	'', "EXECUTE ... INTO a domain whose check's query_to_xml fails on rec's rows, a value of plain: "
	  . 'no FAILURE');

bh_no_value_recorded($node);

done_testing();
