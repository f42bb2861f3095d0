# Routes by which a tagged table's column, or the whole table, comes to
# depend on an object of the session's temporary schema that the guard
# (column_guard.c, config_guard.c) does not check, and what the session's
# end then does (PostgreSQL drops the temporary objects with CASCADE,
# outside any statement):
#   - ALTER DOMAIN ... SET DEFAULT pg_temp.f() of a domain a generated
#     column's expression casts to: the column is dropped with its values;
#     a tagged patient column that is one cannot be, so the session's exit
#     fails (FATAL) and its temporary schema stays behind;
#   - ALTER TEXT SEARCH CONFIGURATION ... ALTER MAPPING ... WITH a
#     dictionary of pg_temp, of the configuration a generated tsvector
#     column uses: the column is dropped with its values;
#   - ALTER TABLE ... OF a composite type of pg_temp: the whole tagged
#     table is dropped with its rows.
# Right: each refused (0A000) when issued, as a generated column calling a
# pg_temp function is (sql/99_s43a_generated_temp_function), and nothing
# lost at the session's end.
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
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
SET ROLE clinic_owner;
CREATE DOMAIN clinic.code AS text;
CREATE DOMAIN clinic.pid AS text;
CREATE TEXT SEARCH CONFIGURATION clinic.cfg (COPY = simple);
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text,
  norm text GENERATED ALWAYS AS ((body::clinic.code)::text) STORED,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('clinic.cfg'::regconfig, body)) STORED);
INSERT INTO clinic.notes (id, patient_id, body) VALUES (1, 'pat_1', 'chest pain'), (2, 'pat_2', 'cough');
CREATE TABLE clinic.visits (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clinic.visits VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
CREATE TABLE clinic.gen (id int PRIMARY KEY, body text,
  patient_id text GENERATED ALWAYS AS ((body::clinic.pid)::text) STORED);
INSERT INTO clinic.gen (id, body) VALUES (1, 'pat_g');
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
SELECT bh_audit.tag_table('clinic.visits', 'Visit', 'id', 'patient_id');
SELECT bh_audit.tag_table('clinic.gen', 'Gen', 'id', 'patient_id');
});

# $sql run in a session of its own (as $user), which then ends; its stderr
# once the backend is gone (its temporary objects dropped, or not)
sub session
{
	my ($user, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-U', $user, '-v', 'VERBOSITY=terse' ]);

	$node->poll_query_until('postgres', qq{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = '$user' AND pid <> pg_backend_pid()
                   AND backend_type = 'client backend')});
	return $err;
}

# the events other than reads since $mark, of resource type $type
sub changes
{
	my ($mark, $type) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(concat_ws('|', action, event -> 'metadata' ->> 'change',
                                     event -> 'metadata' ->> 'statement',
                                     event -> 'metadata' ->> 'dropped_columns'), ';' ORDER BY seq), '')
  FROM bh_audit.events WHERE seq > $mark AND resource_type IN ('$type', 'AuditConfiguration')
   AND action <> 'READ'});
}

sub columns
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
 WHERE attrelid = to_regclass('clinic.$table') AND attnum > 0 AND NOT attisdropped});
}

# 1. ALTER DOMAIN ... SET DEFAULT of the domain a generated column casts to
my $mark = bh_seal_mark($node, 'postgres');
my $err = session('clinic_owner', q{
CREATE FUNCTION pg_temp.tmp_k() RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'k'$$;
ALTER DOMAIN clinic.code SET DEFAULT pg_temp.tmp_k();
});
like($err, qr/ERROR:  generated column "norm" of tagged table "notes" cannot depend on temporary/,
	'ALTER DOMAIN SET DEFAULT of a domain a generated column casts to: refused');
is(columns('notes'), 'id,patient_id,body,norm,tsv', 'the generated column is still there after the session');
is(changes($mark, 'Note'), '', 'nothing dropped at the session\'s end');

# 2. ALTER TEXT SEARCH CONFIGURATION of the configuration a generated
# tsvector column uses, mapping to a temporary dictionary
$mark = bh_seal_mark($node, 'postgres');
$err = session('clinic_owner', q{
CREATE TEXT SEARCH DICTIONARY pg_temp.tmp_dict (TEMPLATE = simple);
ALTER TEXT SEARCH CONFIGURATION clinic.cfg ALTER MAPPING FOR asciiword WITH pg_temp.tmp_dict;
});
like($err, qr/ERROR:  generated column "tsv" of tagged table "notes" cannot depend on temporary/,
	'ALTER TEXT SEARCH CONFIGURATION mapping to a temporary dictionary: refused');
is(columns('notes'), 'id,patient_id,body,norm,tsv', 'the tsvector column is still there after the session');
is($node->safe_psql('postgres', q{SELECT count(*) FROM clinic.notes n WHERE to_jsonb(n) ->> 'tsv' LIKE '%pain%'}),
	'1', 'and its values');
is(changes($mark, 'Note'), '', 'nothing dropped at the session\'s end');

# 3. ALTER TABLE ... OF a temporary composite type
$mark = bh_seal_mark($node, 'postgres');
$err = session('clinic_owner', q{
CREATE TYPE pg_temp.tmp_row AS (id int, patient_id text, body text);
ALTER TABLE clinic.visits OF pg_temp.tmp_row;
});
like($err, qr/ERROR: .*temporary/, 'ALTER TABLE tagged OF a temporary type: refused');
is(columns('visits'), 'id,patient_id,body', 'the tagged table is still there after the session');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.tagged_tables WHERE table_name = 'visits'}),
	'1', 'and tagged');
is(changes($mark, 'Visit'), '', 'nothing dropped at the session\'s end');

# 4. last (its exit may leave a temporary schema behind): the same
# ALTER DOMAIN, the generated column being the tagged patient column
$err = session('clinic_owner', q{
CREATE FUNCTION pg_temp.tmp_k() RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'k'$$;
ALTER DOMAIN clinic.pid SET DEFAULT pg_temp.tmp_k();
});
like($err, qr/ERROR:  generated column "patient_id" of tagged table "gen" cannot depend on temporary/,
	'ALTER DOMAIN SET DEFAULT of a domain a generated patient column casts to: refused');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname LIKE 'pg_temp%' AND p.proname LIKE 'tmp_%'}),
	'0', 'the session\'s exit emptied its temporary schema');
ok(!$node->log_contains('FATAL:  cannot drop column "patient_id" of table "gen"'),
	'the session\'s exit did not fail');
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
	extra_params => [ '-U', 'clinic_owner' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
