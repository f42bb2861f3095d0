# A column of a tagged table "cannot depend on an object of a temporary
# schema" (tagging.md, a8d6395): its type, a type it is built on, a
# collation.  But a permanent type can depend on a function of the
# session's temporary schema in ways the check does not follow, and
# PostgreSQL then drops the type with that function when the session ends
# (with CASCADE, outside any statement), and every column of the type with
# it:
#   - a range type whose subtype_diff is a function of pg_temp
#     (CREATE TYPE clinic.dose_range AS RANGE (subtype = float8,
#     subtype_diff = pg_temp.d)): pg_range's function is a dependency of
#     the type itself;
#   - a domain whose DEFAULT calls a function of pg_temp (the default
#     expression is a dependency of the domain itself, not of a separate
#     object as a column's default is);
#   - a range type whose multirange type was put in pg_temp
#     (multirange_type_name = pg_temp.span_multi): the multirange is an
#     internal part of the range, and PostgreSQL, reaching it from the
#     temporary schema, drops the range that owns it instead.  This link
#     goes the other way (the temporary object depends on the type): a
#     scan of what the type depends on does not find it.
# The table's owner (no superuser) adds a column of such a type to the
# tagged table (allowed), fills it (recorded), disconnects: the column and
# its values are gone, with no event.  tag_table() of a table with such a
# column is allowed too.  Right: refused (0A000) as a column of a temporary
# type or collation is, naming the table and the column; in any case no
# column's values vanish unseen at the session's end.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
bh_clinic_notes($node, analyze => 0);

# Is column $col of notes there (and, given $attr, its type's attribute
# $attr), or was its values' change recorded since $mark?
sub kept
{
	my ($col, $attr, $mark) = @_;

	$attr = defined $attr ? "'$attr'" : 'NULL';
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT EXISTS (SELECT 1 FROM pg_attribute a
 WHERE attrelid = 'clinic.notes'::regclass AND attname = '$col' AND NOT attisdropped
   AND ($attr IS NULL OR EXISTS (SELECT 1 FROM pg_attribute t
         WHERE t.attrelid = (SELECT typrelid FROM pg_type WHERE oid = a.atttypid)
           AND t.attname = $attr AND NOT t.attisdropped)))
    OR EXISTS (SELECT 1 FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE' AND resource_id IS NULL
   AND '$col' = ANY (string_to_array(concat_ws(',', event -> 'metadata' ->> 'dropped_columns',
                                               event -> 'metadata' ->> 'changed_columns'), ',')))});
}

# The owner runs $sql (ON_ERROR_STOP) in a session of its own; the session
# ends.  Returns whether the statements all ran, and psql's stderr.
sub owner_run
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1',
			'-v', 'VERBOSITY=verbose' ]);

	$node->poll_query_until('postgres', q{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = 'clinic_owner')
   AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname LIKE '%\_tmp')
   AND NOT EXISTS (SELECT 1 FROM pg_type WHERE typname LIKE '%\_tmp')})
	  or diag("the temporary schema was not emptied");
	return ($ret == 0, $err);
}

# $sql's statement adding column $col is to be refused; whatever happens,
# the column's values do not vanish unseen at the session's end (kept()).
sub owner_session
{
	my ($name, $col, $sql, $attr) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ran, $err) = owner_run($sql);

	like($err, qr/ERROR:  0A000: column "$col" of tagged table "notes" cannot /,
		"$name: refused");
	ok(!$ran || kept($col, $attr, $mark) eq 't',
		"$name: no values vanished unseen at the session's end");
	return;
}

# Control: a range with a permanent subtype_diff function is allowed, and
# found kept after the session.
my $mark = bh_seal_mark($node, 'postgres');
my ($ran, $err) = owner_run(q{
CREATE FUNCTION clinic.d(float8, float8) RETURNS float8 IMMUTABLE
  LANGUAGE sql AS 'SELECT $1 - $2';
CREATE TYPE clinic.ctl_range AS RANGE (subtype = float8, subtype_diff = clinic.d);
ALTER TABLE clinic.notes ADD COLUMN ctl clinic.ctl_range;
UPDATE clinic.notes SET ctl = '[1,2)';
});
ok($ran, 'control: a column of a range of a permanent subtype_diff') or diag($err);
is(kept('ctl', undef, $mark), 't', 'control: found kept after the session');

owner_session('a column of a range whose subtype_diff is a temporary function', 'dose', q{
CREATE FUNCTION pg_temp.d_tmp(float8, float8) RETURNS float8 IMMUTABLE
  LANGUAGE sql AS 'SELECT $1 - $2';
CREATE TYPE clinic.dose_range AS RANGE (subtype = float8, subtype_diff = pg_temp.d_tmp);
ALTER TABLE clinic.notes ADD COLUMN dose clinic.dose_range;
UPDATE clinic.notes SET dose = '[1,2)';
});

owner_session('a column of an array of a domain over such a range', 'doses', q{
CREATE FUNCTION pg_temp.d_tmp(float8, float8) RETURNS float8 IMMUTABLE
  LANGUAGE sql AS 'SELECT $1 - $2';
CREATE TYPE clinic.dose_range2 AS RANGE (subtype = float8, subtype_diff = pg_temp.d_tmp);
CREATE DOMAIN clinic.dose_d AS clinic.dose_range2;
ALTER TABLE clinic.notes ADD COLUMN doses clinic.dose_d[];
UPDATE clinic.notes SET doses = ARRAY['[1,2)'::clinic.dose_d];
});

owner_session('a column of a domain whose default calls a temporary function', 'code', q{
CREATE FUNCTION pg_temp.dflt_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
CREATE DOMAIN clinic.code_d AS text DEFAULT pg_temp.dflt_tmp();
ALTER TABLE clinic.notes ADD COLUMN code clinic.code_d;
UPDATE clinic.notes SET code = 'secret ' || id;
});

owner_session('a column of a composite type with an attribute of such a domain', 'visit', q{
CREATE FUNCTION pg_temp.dflt_tmp() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
CREATE DOMAIN clinic.site_d AS text DEFAULT pg_temp.dflt_tmp();
CREATE TYPE clinic.visit_t AS (site clinic.site_d, ward text);
ALTER TABLE clinic.notes ADD COLUMN visit clinic.visit_t;
UPDATE clinic.notes SET visit = ROW('north', 'w1');
}, 'site');

owner_session('a column of a range whose multirange type is temporary', 'span', q{
CREATE TYPE clinic.span AS RANGE (subtype = int4, multirange_type_name = pg_temp.span_multi_tmp);
ALTER TABLE clinic.notes ADD COLUMN span clinic.span;
UPDATE clinic.notes SET span = '[1,5)';
});

# tag_table() of a table with such a column (a superuser's session)
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.d_tmp(float8, float8) RETURNS float8 IMMUTABLE
  LANGUAGE sql AS 'SELECT $1 - $2';
CREATE TYPE clinic.dose_range3 AS RANGE (subtype = float8, subtype_diff = pg_temp.d_tmp);
CREATE TABLE clinic.other (id int, patient_id text, dose clinic.dose_range3);
SELECT bh_audit.tag_table('clinic.other', 'Other', 'id', 'patient_id');
}, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  0A000: column "dose" of tagged table "other" cannot /,
	'a table with a column of a range of a temporary subtype_diff cannot be tagged');
($ret, $out, $err) = $node->psql('postgres', q{
CREATE TYPE clinic.span3 AS RANGE (subtype = int4, multirange_type_name = pg_temp.span3_multi_tmp);
CREATE TABLE clinic.other3 (id int, patient_id text, span clinic.span3);
SELECT bh_audit.tag_table('clinic.other3', 'Other3', 'id', 'patient_id');
}, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  0A000: column "span" of tagged table "other3" cannot /,
	'a table with a column of a range whose multirange is temporary cannot be tagged');

done_testing();
