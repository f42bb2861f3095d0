# A domain that tagged table columns already are of is given a DEFAULT
# calling a function of the session's temporary schema (ALTER DOMAIN ...
# SET DEFAULT pg_temp.f()), by the domain's owner, who need not own the
# table nor be able to read it.  The default expression is a dependency of
# the domain itself: when the session ends, PostgreSQL drops the function
# with CASCADE, the domain with it, and every column of the domain:
#   - a plain column of the tagged table: gone with its values, no event;
#   - the tagged patient column: the guard refuses its drop there, outside
#     any statement, so the session's exit fails and leaves its temporary
#     schema behind, and the next session given it cannot create a
#     temporary table (t/286's failure, through another statement).
# No ALTER TABLE is involved: ALTER DOMAIN is not checked at all.  Right:
# refused (0A000) as a column's temporary type or collation is, naming the
# table and the column; the columns keep their values; other sessions'
# temporary tables work.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner LOGIN;
CREATE ROLE type_owner LOGIN;
CREATE ROLE clerk LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
GRANT USAGE ON SCHEMA clinic TO type_owner;
CREATE DOMAIN clinic.pid AS text;
CREATE DOMAIN clinic.note_text AS text;
ALTER DOMAIN clinic.pid OWNER TO type_owner;
ALTER DOMAIN clinic.note_text OWNER TO type_owner;
CREATE FUNCTION clinic.dflt() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id clinic.pid, body clinic.note_text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'first note'), (2, 'pat_2', 'second note');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
});

# $sql's output (none if it fails: a column gone)
sub query_out
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);

	return $out;
}

# type_owner runs $sql in a session of its own, which then ends.
sub type_owner_session
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-U', 'type_owner', '-v', 'ON_ERROR_STOP=1',
			'-v', 'VERBOSITY=verbose' ]);

	$node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'type_owner'});
	return $err;
}

# Control: a default calling a permanent function is no dependency on the
# temporary schema: allowed.
my $err = type_owner_session(q{
ALTER DOMAIN clinic.note_text SET DEFAULT clinic.dflt();
ALTER DOMAIN clinic.note_text DROP DEFAULT;
});
is($err, '', 'control: a default calling a permanent function is allowed');

# a plain column's domain
$err = type_owner_session(q{
CREATE FUNCTION pg_temp.dflt_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
ALTER DOMAIN clinic.note_text SET DEFAULT pg_temp.dflt_tmp();
});
like($err, qr/ERROR:  0A000: column "body" of tagged table "notes" cannot /,
	'a default calling a temporary function given to the domain of a tagged column: refused');
is(query_out(q{SELECT string_agg(body, ',' ORDER BY id) FROM clinic.notes}),
	'first note,second note', 'the column keeps its values after the session');

# the tagged patient column's domain
$err = type_owner_session(q{
CREATE FUNCTION pg_temp.dflt_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
ALTER DOMAIN clinic.pid SET DEFAULT pg_temp.dflt_tmp();
});
like($err, qr/ERROR:  0A000: column "patient_id" of tagged table "notes" cannot /,
	'a default calling a temporary function given to the domain of the tagged patient column: refused');
for my $i (1 .. 3)
{
	my ($r, $o, $e) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
		extra_params => [ '-U', 'clerk' ]);
	is($r, 0, "a later session ($i) of another role creates a temporary table")
	  or diag($e);
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_proc WHERE proname = 'dflt_tmp'}),
	'0', 'no temporary function left behind by the ended session');
is(query_out(q{SELECT string_agg(patient_id, ',' ORDER BY id) FROM clinic.notes}),
	'pat_1,pat_2', 'the patient column keeps its values');

done_testing();
